//! Test support: a fresh database of either kind, and the real router served on port 0.
#![allow(dead_code, clippy::unwrap_used)]

use plateau_app::store::Store;
pub use plateau_server::config::with_database;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::sync::oneshot;

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A database made for one test, dropped by [`TestDb::cleanup`].
pub struct TestDb {
    pub store: Store,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(unique_name("plateau_test"));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("plateau.db").display());
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        TestDb {
            store,
            url,
            cleanup: Cleanup::File(dir),
        }
    }

    /// A fresh PostgreSQL database, or `None` when no server is configured
    /// (`PLATEAU_TEST_POSTGRES_URL`). A configured server that does not answer fails the test.
    pub async fn postgres() -> Option<TestDb> {
        let admin_url = std::env::var("PLATEAU_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        let name = unique_name("plateau_test");
        let admin = Store::connect(&admin_url).await.unwrap_or_else(|e| {
            panic!("PLATEAU_TEST_POSTGRES_URL is set but PostgreSQL does not answer: {e}")
        });
        plateau_app::execute!(admin.read(), &format!("CREATE DATABASE {name}")).unwrap();
        admin.close().await;
        let url = with_database(&admin_url, &name);
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        Some(TestDb {
            store,
            url,
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    pub async fn cleanup(self) {
        every_audit_action_is_named(&self.store).await;
        self.store.close().await;
        match self.cleanup {
            Cleanup::File(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                if let Ok(admin) = Store::connect(&admin_url).await {
                    let _ = plateau_app::execute!(
                        admin.read(),
                        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                    );
                    admin.close().await;
                }
            }
        }
    }
}

/// Whatever a test made the server write to the audit trail, the audit page names in
/// words in every language (checked as each test's database is dropped). A database the
/// test closed or emptied itself is not checked.
async fn every_audit_action_is_named(store: &Store) {
    let Ok(actions) =
        plateau_app::fetch_all!(store.read(), (String,), "SELECT DISTINCT action FROM audit_event")
    else {
        return;
    };
    // What tests write themselves ("test.write") is no action of Plateau's.
    for (action,) in actions.into_iter().filter(|(a,)| !a.starts_with("test.")) {
        for locale in plateau_app::i18n::Locale::ALL {
            assert!(
                locale.messages().audit_action(&action).is_some(),
                "the audit page cannot name {action:?} in {}",
                locale.tag()
            );
        }
    }
}

/// The password of accounts made by [`add_account`].
pub const TEST_PASSWORD: &str = "correct horse battery";

/// Gives the database an account (and a clinic, if it has none); returns the account id.
pub async fn add_account(store: &Store, username: &str, roles: &[&str]) -> i64 {
    let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
    let account = plateau_app::accounts::checked_new_account(
        username,
        "Test",
        username,
        &roles,
        TEST_PASSWORD.to_owned(),
    )
    .await
    .unwrap();
    let now = chrono::Utc::now();
    let mut tx = store.begin().await.unwrap();
    let facility_id = match plateau_app::facility::store::first_id(&mut tx).await.unwrap() {
        Some(id) => id,
        None => plateau_app::facility::store::create(&mut tx, "Test clinic", "Europe/Paris", now)
            .await
            .unwrap(),
    };
    let id = plateau_app::accounts::store::create(&mut tx, facility_id, &account, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

/// The real router, served on an ephemeral port until dropped. Requests carry the
/// session cookie of the last [`TestServer::sign_in`], like a browser would.
pub struct TestServer {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub token: std::sync::Mutex<Option<String>>,
    /// This server's live fan-out.
    pub events: plateau_app::live::EventBus,
    stop: Option<oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start(store: Store) -> TestServer {
        Self::start_with(store, plateau_app::auth::AuthSettings::default()).await
    }

    pub async fn start_with(store: Store, settings: plateau_app::auth::AuthSettings) -> TestServer {
        Self::start_live(store, settings, Default::default()).await
    }

    /// A server whose live link behaves as `live` says (short heartbeats, a small channel).
    pub async fn start_live(
        store: Store,
        settings: plateau_app::auth::AuthSettings,
        live: plateau_app::live::LiveSettings,
    ) -> TestServer {
        Self::start_within(store, settings, live, Default::default()).await
    }

    /// A server within `limits` (short timeouts, few connections, small bodies).
    pub async fn start_limited(store: Store, limits: plateau_server::limits::HttpLimits) -> TestServer {
        Self::start_within(store, Default::default(), Default::default(), limits).await
    }

    pub async fn start_within(
        store: Store,
        settings: plateau_app::auth::AuthSettings,
        live: plateau_app::live::LiveSettings,
        limits: plateau_server::limits::HttpLimits,
    ) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let events = plateau_app::live::EventBus::start(store.clone(), live)
            .await
            .unwrap();
        let app = plateau_server::router::router_within(
            store,
            plateau_server::router::leptos_options("target/site", addr),
            settings,
            events.clone(),
            limits.clone(),
        );
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            plateau_server::limits::serve(listener, app, &limits, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestServer {
            addr,
            client,
            token: std::sync::Mutex::new(None),
            events,
            stop: Some(stop),
        }
    }

    /// This server's origin, as a browser's `Origin` header names it.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn cookie(&self) -> Option<String> {
        self.token
            .lock()
            .unwrap()
            .as_ref()
            .map(|t| format!("{}={t}", plateau_app::auth::SESSION_COOKIE))
    }

    pub fn set_token(&self, token: Option<String>) {
        *self.token.lock().unwrap() = token;
    }

    pub fn token(&self) -> Option<String> {
        self.token.lock().unwrap().clone()
    }

    /// Signs in as our client does; on success the session is kept for later requests.
    pub async fn sign_in(&self, username: &str, password: &str) -> reqwest::Response {
        self.sign_in_form(&[("username", username), ("password", password)])
            .await
    }

    /// Signs in with the whole form given (a new password, say); keeps the session.
    pub async fn sign_in_form(&self, form: &[(&str, &str)]) -> reqwest::Response {
        let response = self
            .client
            .post(self.url("/api/sign_in"))
            .header("origin", self.origin())
            .header("accept", "application/json")
            .header(
                "user-agent",
                "Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Safari/537.36",
            )
            .form(form)
            .send()
            .await
            .unwrap();
        if response.status() == 200 {
            let token = session_token_in(&response).expect("sign-in sets the session cookie");
            self.set_token(Some(token));
        }
        response
    }

    /// Posts the sign-in form as our client does, with this browser's current cookie
    /// (signing in over an old session), without keeping the new one.
    pub async fn sign_in_over_cookie(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.with_cookie(self.client.post(self.url("/api/sign_in")))
            .header("origin", self.origin())
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Signs in as a demo account, which must succeed.
    pub async fn sign_in_demo(&self, username: &str) {
        let response = self.sign_in(username, plateau_app::demo::DEMO_PASSWORD).await;
        assert_eq!(response.status(), 200, "{username} could not sign in");
    }

    pub fn with_cookie(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self.cookie() {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.with_cookie(self.client.get(self.url(path)).header("accept", "text/html"))
            .send()
            .await
            .unwrap()
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get_html(&self, path: &str, accept_language: &str) -> (u16, String) {
        let response = self
            .with_cookie(self.client.get(self.url(path)))
            .header("accept", "text/html")
            .header("accept-language", accept_language)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// Posts a server page's form as a browser without JavaScript does: from this origin,
    /// asking for a page, with the session cookie.
    pub async fn post_page(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.with_cookie(self.client.post(self.url(path)))
            .header("origin", self.origin())
            .header("accept", "text/html")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Calls a server function the way our client does: a form post from this origin,
    /// asking for JSON, with the session cookie.
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.with_cookie(self.client.post(self.url(&format!("/api/{endpoint}"))))
            .header("origin", self.origin())
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap()
    }
}

/// The number one SQL query counts.
pub async fn count(store: &Store, sql: &str) -> i64 {
    plateau_app::fetch_scalar!(store.read(), i64, sql).unwrap()
}

/// Where a redirect sends the browser.
pub fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// Signs `username` in with the test password, which must succeed.
pub async fn signed_in(server: &TestServer, username: &str) {
    let answer = server.sign_in(username, TEST_PASSWORD).await;
    assert_eq!(answer.status(), 200, "{username}");
}

/// The demo clinic, served.
pub async fn demo_server(db: &TestDb) -> TestServer {
    plateau_app::demo::seed(&db.store, chrono::Utc::now())
        .await
        .unwrap();
    TestServer::start(db.store.clone()).await
}

pub async fn id_of(store: &Store, sql: &str, key: &str) -> i64 {
    plateau_app::fetch_scalar!(store.read(), i64, sql, key).unwrap()
}

pub async fn visit_of(store: &Store, family_name: &str) -> i64 {
    let sql = "SELECT v.id FROM visit v JOIN patient p ON p.id = v.patient_id WHERE p.family_name = $1";
    id_of(store, sql, family_name).await
}

pub async fn staff(store: &Store, username: &str) -> i64 {
    id_of(
        store,
        "SELECT staff_member_id FROM account WHERE username = $1",
        username,
    )
    .await
}

/// The refusal's code, from a 422 answer.
pub async fn refusal(response: reqwest::Response) -> String {
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 422, "{text}");
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    body["Refused"].as_str().unwrap_or_default().to_owned()
}

pub async fn ok(response: reqwest::Response) {
    let status = response.status();
    assert_eq!(status, 200, "{}", response.text().await.unwrap());
}

/// One Server-Sent Events message.
#[derive(Debug, Clone)]
pub struct SseMessage {
    pub event: String,
    pub id: Option<i64>,
    pub data: String,
}

impl SseMessage {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).unwrap()
    }
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A live subscription, read message by message, over either transport.
pub struct Sse {
    source: Source,
    buffer: String,
}

enum Source {
    EventStream(reqwest::Response),
    WebSocket(Box<Socket>),
}

impl Sse {
    /// The next message, or `None` if the stream ended or nothing came within `wait`.
    pub async fn next_within(&mut self, wait: std::time::Duration) -> Option<SseMessage> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut message = SseMessage {
                    event: "message".into(),
                    id: None,
                    data: String::new(),
                };
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        message.event = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("id: ") {
                        message.id = v.parse().ok();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        message.data.push_str(v);
                    }
                }
                return Some(message);
            }
            match &mut self.source {
                Source::EventStream(response) => {
                    let chunk = tokio::time::timeout_at(deadline, response.chunk()).await.ok()?;
                    match chunk.unwrap() {
                        Some(bytes) => self.buffer.push_str(std::str::from_utf8(&bytes).unwrap()),
                        None => return None,
                    }
                }
                Source::WebSocket(socket) => {
                    use futures::StreamExt;
                    use tokio_tungstenite::tungstenite::Message;
                    let message = tokio::time::timeout_at(deadline, socket.next()).await.ok()?;
                    match message {
                        Some(Ok(Message::Text(text))) => self.buffer.push_str(&text),
                        Some(Ok(Message::Close(_))) | None => return None,
                        Some(Ok(_)) => {}
                        Some(Err(error)) => panic!("the live WebSocket failed: {error}"),
                    }
                }
            }
        }
    }

    pub async fn next(&mut self) -> SseMessage {
        self.next_within(std::time::Duration::from_secs(10))
            .await
            .expect("a message within ten seconds")
    }

    /// The next message that is not a heartbeat.
    pub async fn next_news(&mut self) -> SseMessage {
        loop {
            let message = self.next().await;
            if message.event != "heartbeat" {
                return message;
            }
        }
    }
}

impl TestServer {
    /// `GET /api/live?{query}` with this browser's cookie and, if given, `Last-Event-ID`.
    pub async fn subscribe_raw(&self, query: &str, last_event_id: Option<&str>) -> reqwest::Response {
        let mut request = self
            .with_cookie(self.client.get(self.url(&format!("/api/live?{query}"))))
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        request.send().await.unwrap()
    }

    /// A subscription that must be accepted.
    pub async fn subscribe(&self, query: &str, last_event_id: Option<&str>) -> Sse {
        let response = self.subscribe_raw(query, last_event_id).await;
        assert_eq!(response.status(), 200, "subscribing with {query}");
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            "text/event-stream"
        );
        Sse {
            source: Source::EventStream(response),
            buffer: String::new(),
        }
    }

    /// Opens `ws://.../api/live?{query}` as this site's page would (its cookie and
    /// `Origin`), or with `origin` instead: the socket, or the HTTP status of the refusal.
    pub async fn open_websocket(&self, query: &str, origin: Option<&str>) -> Result<Sse, u16> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        use tokio_tungstenite::tungstenite::Error;
        let address = format!("ws://{}/api/live?{query}", self.addr);
        let mut request = address.into_client_request().unwrap();
        let origin = origin.map_or_else(|| self.origin(), str::to_owned);
        request.headers_mut().insert("origin", origin.parse().unwrap());
        if let Some(cookie) = self.cookie() {
            request.headers_mut().insert("cookie", cookie.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(Sse {
                source: Source::WebSocket(Box::new(socket)),
                buffer: String::new(),
            }),
            Err(Error::Http(response)) => Err(response.status().as_u16()),
            Err(error) => panic!("opening the live WebSocket: {error}"),
        }
    }

    /// A WebSocket subscription that must be accepted.
    pub async fn subscribe_websocket(&self, query: &str) -> Sse {
        self.open_websocket(query, None)
            .await
            .unwrap_or_else(|status| panic!("subscribing with {query}: refused with {status}"))
    }
}

/// Whether a response removes the session cookie.
pub fn clears_session(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.starts_with(plateau_app::auth::SESSION_COOKIE) && v.contains("Max-Age=0"))
}

/// The session token a response's `Set-Cookie` carries, if any.
pub fn session_token_in(response: &reqwest::Response) -> Option<String> {
    let prefix = format!("{}=", plateau_app::auth::SESSION_COOKIE);
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.strip_prefix(&prefix)
                .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
        })
        .filter(|t| !t.is_empty())
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Runs the body once on SQLite and once on PostgreSQL (when configured), each on a
/// fresh database: `on_both_databases!(name, |db| { ... })`.
#[macro_export]
macro_rules! on_both_databases {
    ($name:ident, |$db:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $db = common::TestDb::sqlite().await;
                $body
                $db.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($db) = common::TestDb::postgres().await else {
                    eprintln!("PLATEAU_TEST_POSTGRES_URL not set: PostgreSQL variant not run");
                    return;
                };
                $body
                $db.cleanup().await;
            }
        }
    };
}

/// The next framed reply on an MLLP connection (an ACK), within ten seconds; `None` when
/// the server closed the connection first.
pub async fn mllp_reply(stream: &mut tokio::net::TcpStream) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut decoder = plateau_app::lab::hl7::MllpDecoder::new(1 << 20);
    let mut buffer = vec![0_u8; 4096];
    loop {
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut buffer))
            .await
            .unwrap()
            .unwrap_or(0);
        if read == 0 {
            return None;
        }
        if let Some(frame) = decoder.push(&buffer[..read]).pop() {
            return Some(frame.unwrap());
        }
    }
}
