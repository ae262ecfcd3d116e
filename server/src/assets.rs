//! The client's files under `/pkg` (its WebAssembly, the script that starts it, the
//! stylesheet). A release build names each by its content (cargo-leptos `hash-files`,
//! which writes the names to `hash.txt` beside the server binary) and compresses each
//! once, with brotli and gzip (`cargo leptos build --release --precompress`). They are
//! sent as compressed at build, never compressed again per request, and a browser keeps
//! a file named by its content for good (`immutable`): a second page load downloads none
//! of them again. Anything else under `/pkg` (a development build's unhashed names) is
//! checked with the server on each use.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_http::services::ServeDir;

/// The hash file cargo-leptos writes beside the server binary, and Leptos reads there.
pub const HASH_FILE: &str = "hash.txt";

/// Where the hash file of the running binary is.
pub fn hash_file() -> Option<PathBuf> {
    Some(std::env::current_exe().ok()?.parent()?.join(HASH_FILE))
}

/// The files named by their content, as the hash file lists them: `plateau.<hash>.wasm`.
pub fn hashed_names(hash_file: &str, output_name: &str) -> HashSet<String> {
    hash_file
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(extension, hash)| (extension.trim(), hash.trim()))
        .filter(|(extension, _)| matches!(*extension, "js" | "wasm" | "css"))
        .map(|(extension, hash)| format!("{output_name}.{hash}.{extension}"))
        .collect()
}

/// How long a browser may keep a file of `/pkg`.
fn cache_for(name: &str, hashed: &HashSet<String>) -> HeaderValue {
    if hashed.contains(name) {
        HeaderValue::from_static("public, max-age=31536000, immutable")
    } else {
        HeaderValue::from_static("no-cache")
    }
}

/// The `/pkg` files of the site `options` name, those the build's hash file names kept
/// for good (no hash file, a development build: none). Read once, at start-up.
pub fn router<S: Clone + Send + Sync + 'static>(options: &leptos::config::LeptosOptions) -> Router<S> {
    let hashed = hash_file()
        .and_then(|file| std::fs::read_to_string(file).ok())
        .map(|text| hashed_names(&text, &options.output_name))
        .unwrap_or_default();
    let files = ServeDir::new(Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref()))
        .precompressed_br()
        .precompressed_gzip();
    let hashed = Arc::new(hashed);
    Router::new()
        .nest_service(&format!("/{}", options.site_pkg_dir), files)
        .layer(axum::middleware::from_fn(move |request: Request, next: Next| {
            let hashed = hashed.clone();
            async move {
                let name = request
                    .uri()
                    .path()
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let mut response: Response = next.run(request).await;
                if response.status().is_success() || response.status() == axum::http::StatusCode::NOT_MODIFIED
                {
                    response
                        .headers_mut()
                        .insert(header::CACHE_CONTROL, cache_for(&name, &hashed));
                }
                response
            }
        }))
        // Added after the layer above, which would call it unhashed.
        .route(
            plateau_app::shell::PRINT_SCRIPT_PATH,
            axum::routing::get(print_script),
        )
}

/// The print buttons' script: the same for every build, so kept a day.
async fn print_script() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        plateau_app::shell::PRINT_SCRIPT,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_file_names_the_files_kept_for_good() {
        let file = "js: AbC-dEf_0123456789abcd\nwasm: Zyx-wvu_9876543210zyxw\ncss: Q0RTU1NTU1NTU1NTU1NTU1\n";
        let hashed = hashed_names(file, "plateau");
        assert!(hashed.contains("plateau.AbC-dEf_0123456789abcd.js"));
        assert!(hashed.contains("plateau.Zyx-wvu_9876543210zyxw.wasm"));
        assert!(hashed.contains("plateau.Q0RTU1NTU1NTU1NTU1NTU1.css"));
        assert_eq!(hashed.len(), 3);
        assert_eq!(
            cache_for("plateau.Zyx-wvu_9876543210zyxw.wasm", &hashed),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(cache_for("plateau.wasm", &hashed), "no-cache");
        assert!(hashed_names("", "plateau").is_empty());
    }
}
