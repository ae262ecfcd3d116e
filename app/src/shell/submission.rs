//! Each filled-in form is sent with a random key, so that a double tap or a retry after
//! a Wi-Fi drop acts once (the server keeps the key with the change, see
//! `store::submission`). [`super::submit_with`] gives each form its key and names it
//! here before dispatching; the client every server function uses ([`SubmissionClient`])
//! puts it on that function's request.

use bytes::Bytes;
use futures::{Sink, Stream};
use leptos::server_fn::client::browser::BrowserClient;
use leptos::server_fn::client::Client;
use leptos::server_fn::error::FromServerFnError;
use leptos::server_fn::request::browser::BrowserRequest;
use leptos::server_fn::response::browser::BrowserResponse;
use std::future::Future;

/// The header the key travels in (the server's `store::submission::HEADER`).
pub const SUBMISSION_HEADER: &str = "plateau-submission";

/// The browser's client, adding the submission key a form named for this request.
pub struct SubmissionClient;

impl<E, IS, OS> Client<E, IS, OS> for SubmissionClient
where
    E: FromServerFnError,
    IS: FromServerFnError,
    OS: FromServerFnError,
{
    type Request = BrowserRequest;
    type Response = BrowserResponse;

    fn send(request: BrowserRequest) -> impl Future<Output = Result<BrowserResponse, E>> + Send {
        #[cfg(feature = "hydrate")]
        if let Some(key) = browser::take_key_for(&request.url()) {
            request.headers().set(SUBMISSION_HEADER, &key);
        }
        <BrowserClient as Client<E, IS, OS>>::send(request)
    }

    #[allow(clippy::type_complexity)]
    fn open_websocket(
        path: &str,
    ) -> impl Future<
        Output = Result<
            (
                impl Stream<Item = Result<Bytes, Bytes>> + Send + 'static,
                impl Sink<Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        <BrowserClient as Client<E, IS, OS>>::open_websocket(path)
    }

    fn spawn(future: impl Future<Output = ()> + Send + 'static) {
        <BrowserClient as Client<E, IS, OS>>::spawn(future)
    }
}

/// A new random key: a UUID in the browser; on the server, for the `submission` field of
/// a form a browser without JavaScript posts, 128 random bits.
pub fn new_submission_key() -> String {
    #[cfg(feature = "hydrate")]
    let key = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|crypto| crypto.random_uuid())
        .unwrap_or_default();
    #[cfg(all(feature = "ssr", not(feature = "hydrate")))]
    let key = {
        use base64::Engine;
        let mut bytes = [0u8; 16];
        crate::auth::session::random_bytes(&mut bytes);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    };
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    let key = String::new();
    key
}

/// Names `key` for the next request to the server function at `path`.
pub fn send_key_with(path: &'static str, key: String) {
    #[cfg(feature = "hydrate")]
    browser::name_key(path, key);
    #[cfg(not(feature = "hydrate"))]
    let _ = (path, key);
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::RefCell;

    thread_local! {
        /// Keys named for server functions, until their request is sent.
        static NAMED: RefCell<Vec<(&'static str, String)>> = const { RefCell::new(Vec::new()) };
    }

    pub fn name_key(path: &'static str, key: String) {
        if key.is_empty() {
            return;
        }
        NAMED.with(|named| {
            let mut named = named.borrow_mut();
            named.retain(|(p, _)| *p != path);
            named.push((path, key));
        });
    }

    /// The key named for the request to `url`, taken once.
    pub fn take_key_for(url: &str) -> Option<String> {
        let path = url.split('?').next().unwrap_or(url);
        NAMED.with(|named| {
            let mut named = named.borrow_mut();
            let at = named.iter().position(|(p, _)| path.ends_with(p))?;
            Some(named.remove(at).1)
        })
    }
}
