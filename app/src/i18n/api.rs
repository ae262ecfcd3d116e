//! Remembering a person's language choice.

use super::Locale;
use crate::error::AppError;
use leptos::prelude::*;

/// Sets the interface language and remembers it in a cookie for a year. Works as a plain
/// form post without JavaScript (the server then sends the browser back to the page).
#[server(prefix = "/api", endpoint = "language", client = crate::shell::SubmissionClient)]
pub async fn set_language(lang: String) -> Result<Locale, AppError> {
    use crate::error::{validate::Checks, Problem};
    let mut checks = Checks::new();
    let locale = Locale::from_tag(&lang);
    if locale.is_none() || lang.len() > 16 {
        checks.fail("lang", Problem::NotAllowed);
    }
    checks.finish()?;
    let locale = locale.unwrap_or_default();
    let cookie = format!(
        "{}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly",
        super::LANGUAGE_COOKIE,
        locale.tag()
    );
    let response = expect_context::<leptos_axum::ResponseOptions>();
    if let Ok(value) = http::HeaderValue::from_str(&cookie) {
        response.append_header(http::header::SET_COOKIE, value);
    }
    Ok(locale)
}
