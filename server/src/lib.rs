//! The `plateau` server: command line, start-up, HTTP router and shutdown.

pub mod assets;
pub mod backup;
pub mod cli;
pub mod config;
pub mod import;
pub mod interfaces;
pub mod limits;
pub mod memory;
pub mod router;
pub mod security;
pub mod server_pages;
pub mod submissions;

use cli::{
    AuditCommand, AuditVerifyArgs, BackupArgs, Cli, Command, DatabaseArgs, ImportArgs, ImportCommand,
    ReferenceLabCommand, ReferenceLabSetArgs, RestoreArgs, ServeArgs, UserAddArgs, UserCommand,
};
use config::StartupError;
use plateau_app::demo::{self, SeedOutcome};
use plateau_app::facility::FacilityClock;
use plateau_app::lab::import::SenderRole;
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
        Some(Command::Backup(args)) => run_backup(&args).await,
        Some(Command::Restore(args)) => run_restore(&args).await,
        Some(Command::Audit(AuditCommand::Verify(args))) => {
            let store = open_store(&args.database).await?;
            let outcome = verify_audit(&store, &args).await;
            store.close().await;
            outcome
        }
        Some(Command::ReferenceLab(ReferenceLabCommand::Set(args))) => {
            let store = open_store(&args.database).await?;
            let outcome = set_up_reference_lab(&store, &args, SenderRole::Lab).await;
            store.close().await;
            outcome
        }
        Some(Command::Import(ImportCommand::Patients(args))) => {
            let store = open_store(&args.database).await?;
            let outcome = import_patients(&store, &args).await;
            store.close().await;
            outcome
        }
        Some(Command::Import(ImportCommand::Staff(args))) => {
            let store = open_store(&args.database).await?;
            let outcome = import_staff(&store, &args).await;
            store.close().await;
            outcome
        }
        Some(Command::FrontOffice(ReferenceLabCommand::Set(args))) => {
            let store = open_store(&args.database).await?;
            let outcome = set_up_reference_lab(&store, &args, SenderRole::FrontOffice).await;
            store.close().await;
            outcome
        }
    }
}

/// Sets a reference lab (or the front office's system) up from the command line, with the
/// same checks as any other way; a new token is printed on standard output, once.
async fn set_up_reference_lab(
    store: &Store,
    args: &ReferenceLabSetArgs,
    role: SenderRole,
) -> Result<(), StartupError> {
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
        role,
        args.new_token,
        Who::Interface(match role {
            SenderRole::Lab => "plateau reference-lab set",
            SenderRole::FrontOffice => "plateau front-office set",
        }),
    )
    .await
    .map_err(failed)?;
    tracing::info!(interface = %setup.code, %role, id, peers = setup.mllp_peers.len(), "interface set up");
    if let Some(token) = token {
        println!("{token}");
    }
    Ok(())
}

/// Reports every line that stops an import, which then imports nothing.
fn rejected_lines(rejected: &[import::Rejected]) -> StartupError {
    for line in rejected {
        eprintln!("line {}: {}", line.line, line.reason);
    }
    StartupError::Import(format!(
        "{} line(s) rejected, listed above; correct them and import again",
        rejected.len()
    ))
}

/// The file of an import, and the clinic it imports into.
async fn import_source(
    store: &Store,
    args: &ImportArgs,
) -> Result<(Vec<u8>, i64, FacilityClock), StartupError> {
    let failed = |reason: String| StartupError::Import(reason);
    let bytes =
        std::fs::read(&args.file).map_err(|e| failed(format!("cannot read {}: {e}", args.file.display())))?;
    let (facility_id, clock) = plateau_app::facility::current_clock(store)
        .await
        .map_err(|e| failed(describe(&e)))?;
    let facility_id = facility_id
        .ok_or_else(|| failed("the database holds no clinic yet: run `plateau user add` first".to_owned()))?;
    Ok((bytes, facility_id, clock))
}

/// Imports a patients file, or reports every line that stops it (then imports nothing).
async fn import_patients(store: &Store, args: &ImportArgs) -> Result<(), StartupError> {
    let (bytes, facility_id, clock) = import_source(store, args).await?;
    let reading = import::read_patients(&bytes, clock.today()).map_err(StartupError::Import)?;
    if !reading.rejected.is_empty() {
        return Err(rejected_lines(&reading.rejected));
    }
    if args.dry_run {
        println!(
            "{} patients would be imported (dry run: nothing imported)",
            reading.patients.len()
        );
        return Ok(());
    }
    let imported = import::import_patients(store, facility_id, &reading)
        .await
        .map_err(|rejected| rejected_lines(&rejected))?;
    println!("{imported} patients imported");
    Ok(())
}

/// Imports a staff file, or reports every line that stops it (then imports nothing);
/// prints each new account's first password, once.
async fn import_staff(store: &Store, args: &ImportArgs) -> Result<(), StartupError> {
    let (bytes, facility_id, _) = import_source(store, args).await?;
    let reading = import::read_staff(&bytes).await.map_err(StartupError::Import)?;
    if !reading.rejected.is_empty() {
        return Err(rejected_lines(&reading.rejected));
    }
    if args.dry_run {
        println!(
            "{} accounts would be created (dry run: nothing imported)",
            reading.colleagues.len()
        );
        return Ok(());
    }
    let imported = import::import_staff(store, facility_id, &reading)
        .await
        .map_err(|rejected| rejected_lines(&rejected))?;
    println!("{imported} accounts created. Give each person their first password; they choose their own at the first sign-in:");
    for colleague in &reading.colleagues {
        println!("{}\t{}", colleague.account.username, colleague.password);
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
pub(crate) fn describe(error: &plateau_app::error::AppError) -> String {
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

async fn run_backup(args: &BackupArgs) -> Result<(), StartupError> {
    let store = open_store(&args.database).await?;
    if store.backend() != plateau_app::store::Backend::Sqlite {
        store.close().await;
        return Err(StartupError::Backup(
            "plateau backup is for the SQLite database; back PostgreSQL up with pg_dump (README)".to_owned(),
        ));
    }
    let done = backup::backup(&store, &args.to).await;
    store.close().await;
    let checked = done?;
    println!(
        "backup written to {}: checked, {} audit rows, audit head {}",
        args.to.display(),
        checked.audit_rows,
        checked.head.as_deref().unwrap_or("none")
    );
    Ok(())
}

async fn run_restore(args: &RestoreArgs) -> Result<(), StartupError> {
    let url = config::database_url(&args.database)?;
    let (checked, kept) = backup::restore(&args.from, &url, args.replace).await?;
    // A backup from an earlier version is brought up to date like any database.
    open_store(&args.database).await?.close().await;
    println!(
        "restored {}: {} audit rows, audit head {}{}",
        args.from.display(),
        checked.audit_rows,
        checked.head.as_deref().unwrap_or("none"),
        kept.map(|k| format!("; the replaced database is kept as {}", k.display()))
            .unwrap_or_default()
    );
    Ok(())
}

/// Checks the audit trail's chain of seals, and a head kept from an earlier check.
async fn verify_audit(store: &Store, args: &AuditVerifyArgs) -> Result<(), StartupError> {
    use plateau_app::store::trail::{self, Break, Verdict};
    let failed = |e: plateau_app::store::StoreError| StartupError::Audit(one_line(&e.to_string()));
    let expected = match &args.expect_head {
        Some(text) => Some(
            text.split_once(':')
                .and_then(|(id, seal)| {
                    Some((id.trim().parse::<i64>().ok()?, seal.trim().to_ascii_lowercase()))
                })
                .filter(|(id, seal)| {
                    *id > 0 && seal.len() == 64 && seal.bytes().all(|b| b.is_ascii_hexdigit())
                })
                .ok_or_else(|| {
                    StartupError::Audit(format!(
                        "--expect-head {text:?} is not ID:SEAL (a row id, a colon, 64 hex digits)"
                    ))
                })?,
        ),
        None => None,
    };
    match trail::verify(store).await.map_err(failed)? {
        Verdict::Broken { row_id, why } => Err(StartupError::AuditBroken(match why {
            Break::SealMismatch => format!(
                "row {row_id} does not match its seal: it was changed, or a row before it was removed or changed"
            ),
            Break::Unsealed => format!("row {row_id} carries no seal: it was written around the server"),
            Break::RowsMissingAtTheEnd => format!(
                "rows after row {row_id} were removed (the chain's head records more than the trail holds)"
            ),
        })),
        Verdict::Intact { sealed, unsealed, head } => {
            if let Some((id, seal)) = &expected {
                let kept = trail::seal_of(store, *id).await.map_err(failed)?;
                if kept.as_deref() != Some(seal.as_str()) {
                    return Err(StartupError::AuditBroken(format!(
                        "row {id} no longer carries the seal kept earlier: the trail was rewritten from there on"
                    )));
                }
            }
            let head = head.map(|(id, seal)| format!("{id}:{seal}")).unwrap_or_else(|| "none".to_owned());
            println!("audit trail intact: {sealed} sealed rows, {unsealed} written before the chain began; head {head}");
            Ok(())
        }
    }
}

/// Opens the database and brings its schema up to date. On PostgreSQL with an owner's
/// URL, the owner migrates and grants the application's role what it may do.
pub async fn open_store(args: &DatabaseArgs) -> Result<Store, StartupError> {
    let url = config::database_url(args)?;
    let shown = redact(&url);
    let connect = |url: String| async move {
        Store::connect(&url).await.map_err(|e| StartupError::Database {
            url: redact(&url),
            reason: one_line(&e.to_string()),
        })
    };
    let store = connect(url.clone()).await?;
    let migrated = |e: plateau_app::store::StoreError| StartupError::Migrate {
        url: shown.clone(),
        reason: one_line(&e.to_string()),
    };
    match args.owner_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(owner_url) => {
            let owner = connect(owner_url.to_owned()).await?;
            if owner.backend() != plateau_app::store::Backend::Postgres
                || store.backend() != plateau_app::store::Backend::Postgres
            {
                return Err(StartupError::Migrate {
                    url: shown,
                    reason: "--owner-url is for PostgreSQL, with a PostgreSQL --database-url".to_owned(),
                });
            }
            let role = store.current_role().await.map_err(migrated)?;
            let done = async {
                owner.migrate().await?;
                owner.grant_application_role(&role).await
            }
            .await;
            owner.close().await;
            done.map_err(migrated)?;
        }
        None => store.migrate().await.map_err(migrated)?,
    }
    // Records made before names were indexed for search get their words now.
    let indexed = plateau_app::patients::store::index_unindexed_names(&store)
        .await
        .map_err(migrated)?;
    if indexed > 0 {
        tracing::info!(patients = indexed, "patients' names indexed for search");
    }
    if store.may_rewrite_audit().await.unwrap_or(false) {
        tracing::warn!(
            "the application's PostgreSQL role owns the audit trail or may change its rows: run it as a \
             role that may only add to it (README, \"An audit trail nobody can rewrite\")"
        );
    }
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
    // One server per SQLite file, and no restore under a running server.
    let url = config::database_url(&args.database)?;
    // (A directory that does not exist is reported when the database is opened.)
    let _serving = match plateau_app::store::sqlite_file(&url)
        .filter(|f| f.parent().is_none_or(|d| d.as_os_str().is_empty() || d.is_dir()))
    {
        Some(file) => Some(backup::lock_serving(&file)?.ok_or_else(|| StartupError::InUse(redact(&url)))?),
        None => None,
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
