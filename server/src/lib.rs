//! The `plateau` server: command line, start-up, HTTP router and shutdown.

pub mod cli;
pub mod config;
pub mod interfaces;
pub mod limits;
pub mod memory;
pub mod router;
pub mod security;

use cli::{
    Cli, Command, DatabaseArgs, ReferenceLabCommand, ReferenceLabSetArgs, ServeArgs, UserAddArgs, UserCommand,
};
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
        Some(Command::User(UserCommand::Add(args))) => {
            let password = read_password_line(std::io::stdin().lock())?;
            let store = open_store(&args.database).await?;
            let outcome = add_user(&store, &args, password).await;
            store.close().await;
            outcome
        }
        Some(Command::ReferenceLab(ReferenceLabCommand::Set(args))) => {
            let store = open_store(&args.database).await?;
            let outcome = set_up_reference_lab(&store, &args).await;
            store.close().await;
            outcome
        }
    }
}

/// Sets a reference lab up from the command line, with the same checks as any other way;
/// a new token is printed on standard output, once.
async fn set_up_reference_lab(store: &Store, args: &ReferenceLabSetArgs) -> Result<(), StartupError> {
    use plateau_app::lab::act::{ReferenceLabSetup, Who};
    let failed = |error: plateau_app::error::AppError| StartupError::ReferenceLab(describe(&error));
    let setup = ReferenceLabSetup::checked(&args.code, &args.name, &args.sending_facility, &args.mllp_peers)
        .map_err(failed)?;
    let mut tx = store.begin().await.map_err(|e| failed(e.into()))?;
    let facility_id = plateau_app::facility::store::first_id(&mut tx)
        .await
        .map_err(|e| failed(e.into()))?
        .ok_or_else(|| {
            StartupError::ReferenceLab(
                "the database holds no clinic yet: run `plateau user add` first".to_owned(),
            )
        })?;
    drop(tx);
    let (id, token) = plateau_app::lab::act::set_up_reference_lab(
        store,
        facility_id,
        &setup,
        args.new_token,
        Who::Interface("plateau reference-lab set"),
    )
    .await
    .map_err(failed)?;
    tracing::info!(reference_lab = %setup.code, id, peers = setup.mllp_peers.len(), "reference lab set up");
    if let Some(token) = token {
        println!("{token}");
    }
    Ok(())
}

/// The first line of `input`, without its line ending.
fn read_password_line(mut input: impl std::io::BufRead) -> Result<String, StartupError> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .map_err(|e| StartupError::User(format!("cannot read the password from standard input: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Creates an account from the command line, with the same checks as the admin screen.
async fn add_user(store: &Store, args: &UserAddArgs, password: String) -> Result<(), StartupError> {
    use plateau_app::error::AppError;
    let failed = |error: AppError| StartupError::User(describe(&error));
    let given = args.given_name.clone().unwrap_or_else(|| args.username.clone());
    let family = args.family_name.clone().unwrap_or_else(|| args.username.clone());
    let account =
        plateau_app::accounts::checked_new_account(&args.username, &family, &given, &args.roles, password)
            .await
            .map_err(failed)?;
    let now = chrono::Utc::now();
    let mut tx = store.begin().await.map_err(|e| failed(e.into()))?;
    let facility_id = match plateau_app::facility::store::first_id(&mut tx)
        .await
        .map_err(|e| failed(e.into()))?
    {
        Some(id) => id,
        None => {
            let name = args
                .facility
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| {
                    StartupError::User(
                        "the database holds no clinic yet: give its name with --facility".to_owned(),
                    )
                })?;
            if !plateau_app::facility::store::known_timezone(&args.timezone) {
                return Err(StartupError::User(format!(
                    "{:?} is not an IANA time zone",
                    args.timezone
                )));
            }
            plateau_app::facility::store::create(&mut tx, name, &args.timezone, now)
                .await
                .map_err(|e| failed(e.into()))?
        }
    };
    let account_id = plateau_app::accounts::store::create(&mut tx, facility_id, &account, now)
        .await
        .map_err(|e| failed(e.into()))?;
    let roles = plateau_app::staff::role_codes(&account.roles);
    let entry =
        plateau_app::audit::Entry::anonymous("", "account.create", plateau_app::audit::Outcome::Allowed)
            .record(format!("account/{account_id}"))
            .detail(format!("{} [{roles}] from the command line", account.username))
            .meta(plateau_app::auth::RequestMeta {
                address: "local".into(),
                device: "plateau user add".into(),
            });
    plateau_app::audit::record_in(&mut tx, entry)
        .await
        .map_err(|e| failed(e.into()))?;
    tx.commit().await.map_err(|e| failed(e.into()))?;
    tracing::info!(username = %account.username, roles = %roles, "account created");
    Ok(())
}

/// An application error as one line for the terminal.
fn describe(error: &plateau_app::error::AppError) -> String {
    use plateau_app::error::AppError;
    match error {
        AppError::Invalid(fields) => fields
            .iter()
            .map(|f| format!("{}: {:?}", f.field, f.problem))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
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
        SeedOutcome::Seeded => tracing::info!(
            "demo clinic loaded: sign in as j.morel (supervisor), c.lefevre (physician) or n.faure \
             (administrator), password {}; the README lists one account per role",
            demo::DEMO_PASSWORD
        ),
        SeedOutcome::AlreadyPresent => tracing::info!("database already holds a clinic; demo not loaded"),
    }
    Ok(outcome)
}

async fn serve(args: ServeArgs) -> Result<(), StartupError> {
    let addr = config::parse_listen(&args.listen)?;
    let auth = plateau_app::auth::AuthSettings {
        idle_lock: config::parse_idle_lock(&args.idle_lock)?,
        behind_tls: args.behind_tls,
        trusted_proxies: config::parse_trusted_proxies(&args.trusted_proxies)?,
        ..Default::default()
    };
    let store = open_store(&args.database).await?;
    plateau_app::auth::password::warm_up().await;
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
    let events = plateau_app::live::EventBus::start(store.clone(), Default::default())
        .await
        .map_err(|e| StartupError::Live(e.to_string()))?;
    if let Some(mllp) = &args.mllp_listen {
        let mllp_addr = config::parse_listen(mllp)?;
        let mllp_listener = TcpListener::bind(mllp_addr)
            .await
            .map_err(|e| StartupError::Listen {
                addr: mllp.to_owned(),
                reason: e.to_string(),
            })?;
        tracing::info!(address = %mllp_addr, "accepting HL7 results over MLLP");
        tokio::spawn(interfaces::serve_mllp(mllp_listener, store.clone()));
    }
    tokio::spawn(interfaces::escalate_critical_values(store.clone()));
    tokio::spawn(memory::return_memory_after_churn(events.clone()));
    let options = router::leptos_options(&site_root, local);
    let http_limits = limits::HttpLimits::default();
    let app = router::router_within(store.clone(), options, auth, events.clone(), http_limits.clone());
    tracing::info!(address = %format!("http://{local}"), "Plateau is listening");
    let served = limits::serve(listener, app, &http_limits, async move {
        shutdown_signal().await;
        // Live subscriptions never end by themselves: end them, and the browsers
        // reconnect to whichever server answers next, missing nothing.
        events.close();
    })
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
