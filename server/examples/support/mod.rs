//! What both benchmark programs need: a real release server to start and stop, free
//! ports, a clock, percentiles. Included by each with `#[path]` (not an example itself).
#![allow(dead_code)]

use plateau_app::store::Store;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Microseconds since the Unix epoch: the clock the server stamps its events with.
pub fn now_micros() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros() as i64
}

/// The `p`th percentile of sorted microseconds, in milliseconds.
pub fn percentile(sorted: &[i64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `plateau serve --demo` process of the release build.
pub struct Server {
    pub child: Child,
    pub port: u16,
}

impl Drop for Server {
    /// Stops the server as an operator would (SIGTERM: it ends the subscriptions and shuts
    /// down gracefully), killing it only if it does not stop within ten seconds.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the release server on a free port with the demo clinic and waits until it is
/// healthy.
pub async fn start_server(binary: &str, database: &[String]) -> Server {
    let port = free_port();
    let child = Command::new(binary)
        .args([
            "serve",
            "--demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--site-root",
            "target/site",
        ])
        .args(database)
        .env("PLATEAU_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the release server (cargo leptos build --release)");
    // Held from here, so that it is killed and waited for if the panic below unwinds.
    let server = Server { child, port };
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
        {
            if r.status() == 200 {
                return server;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server on {port} did not start");
}

/// A fresh database for one part: its URL, and what to remove at the end.
pub enum Database {
    Sqlite {
        url: String,
        dir: std::path::PathBuf,
    },
    Postgres {
        url: String,
        admin: String,
        name: String,
    },
}

impl Database {
    pub async fn create(postgres: Option<&str>, part: &str) -> Database {
        let name = format!("plateau_bench_{part}_{}", std::process::id());
        match postgres {
            Some(admin) => {
                let store = Store::connect(admin).await.expect("PostgreSQL answers");
                plateau_app::execute!(store.read(), &format!("CREATE DATABASE {name}")).unwrap();
                store.close().await;
                Database::Postgres {
                    url: plateau_server::config::with_database(admin, &name),
                    admin: admin.to_owned(),
                    name,
                }
            }
            None => {
                let dir = std::env::temp_dir().join(name);
                std::fs::create_dir_all(&dir).unwrap();
                let url = format!("sqlite://{}", dir.join("plateau.db").display());
                Database::Sqlite { url, dir }
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Database::Sqlite { url, .. } | Database::Postgres { url, .. } => url,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Database::Sqlite { .. } => "SQLite",
            Database::Postgres { .. } => "PostgreSQL",
        }
    }

    pub async fn remove(self) {
        match self {
            Database::Sqlite { dir, .. } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Database::Postgres { admin, name, .. } => {
                let store = Store::connect(&admin).await.unwrap();
                let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                plateau_app::execute!(store.read(), &drop).unwrap();
                store.close().await;
            }
        }
    }
}
