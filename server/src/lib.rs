//! The `plateau` server: command line, start-up, HTTP router and shutdown.

pub mod cli;
pub mod config;
pub mod router;

use cli::{Cli, Command, DatabaseArgs, ServeArgs};
use config::StartupError;
use plateau_app::demo::{self, SeedOutcome};
use plateau_app::store::{redact, Store};
use tokio::net::TcpListener;

/// Runs what the command line asks for.
pub async fn run(cli: Cli) -> Result<(), StartupError> {
    match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(args)) => serve(args).await,
        Some(Command::Migrate(args)) => {
            let store = open_store(&args).await?;
            store.close().await;
            tracing::info!("migrations applied");
            Ok(())
        }
        Some(Command::SeedDemo(args)) => {
            let store = open_store(&args).await?;
            let outcome = seed_demo(&store).await;
            store.close().await;
            outcome.map(|_| ())
        }
    }
}

/// Opens the database and brings its schema up to date.
pub async fn open_store(args: &DatabaseArgs) -> Result<Store, StartupError> {
    let url = config::database_url(args)?;
    let shown = redact(&url);
    let store = Store::connect(&url).await.map_err(|e| StartupError::Database {
        url: shown.clone(),
        reason: one_line(&e.to_string()),
    })?;
    store.migrate().await.map_err(|e| StartupError::Migrate {
        url: shown.clone(),
        reason: one_line(&e.to_string()),
    })?;
    tracing::info!(database = %shown, backend = ?store.backend(), "database ready");
    Ok(store)
}

async fn seed_demo(store: &Store) -> Result<SeedOutcome, StartupError> {
    let outcome = demo::seed(store, chrono::Utc::now())
        .await
        .map_err(|e| StartupError::Seed(one_line(&e.to_string())))?;
    match outcome {
        SeedOutcome::Seeded => tracing::info!("demo clinic loaded"),
        SeedOutcome::AlreadyPresent => tracing::info!("database already holds a clinic; demo not loaded"),
    }
    Ok(outcome)
}

async fn serve(args: ServeArgs) -> Result<(), StartupError> {
    let addr = config::parse_listen(&args.listen)?;
    let store = open_store(&args.database).await?;
    if args.demo {
        seed_demo(&store).await?;
    }
    let listener = TcpListener::bind(addr).await.map_err(|e| StartupError::Listen {
        addr: args.listen.clone(),
        reason: e.to_string(),
    })?;
    let local = listener
        .local_addr()
        .map_err(|e| StartupError::Serve(e.to_string()))?;
    let site_root = args.site_root.display().to_string();
    let app = router::router(store.clone(), router::leptos_options(&site_root, local));
    tracing::info!(address = %format!("http://{local}"), "Plateau is listening");
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await;
    // In-flight requests have finished; close the pools so SQLite checkpoints its WAL.
    store.close().await;
    tracing::info!("stopped; database closed");
    served.map_err(|e| StartupError::Serve(e.to_string()))
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
