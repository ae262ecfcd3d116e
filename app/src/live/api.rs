//! Server functions of the live link.

use super::Position;
use crate::error::AppError;
use leptos::prelude::*;

/// Where the event log ends now. A browser that lost its link asks before subscribing
/// again: a log that ends before what it last saw (a restored database) means its data
/// must be reloaded.
#[server(prefix = "/api", endpoint = "live_position", client = crate::shell::SubmissionClient)]
pub async fn live_position() -> Result<Position, AppError> {
    crate::auth::require_signed_in()?;
    let store = crate::store::from_context()?;
    let extent = super::store::extent(&store).await?;
    Ok(Position { head: extent.last_id })
}
