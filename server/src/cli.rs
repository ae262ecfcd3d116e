//! The `plateau` command line.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Plateau: the clinic back office on the procedure-room tablet.
#[derive(Debug, Parser)]
#[command(name = "plateau", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Options of `serve`, which runs when no command is given.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default command).
    Serve(ServeArgs),
    /// Apply the database migrations that are not yet applied, then exit.
    Migrate(DatabaseArgs),
    /// Load the demo clinic if the database is empty; running it again changes nothing.
    SeedDemo(DatabaseArgs),
    /// Manage sign-in accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Set up the reference labs that send results.
    #[command(subcommand)]
    ReferenceLab(ReferenceLabCommand),
    /// Set up the front office's system that sends ADT messages (arrivals, updates,
    /// departures, merges), with the same options as a reference lab.
    #[command(subcommand)]
    FrontOffice(ReferenceLabCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Import a clinic's patients or staff from a spreadsheet (CSV), all or nothing.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Write a consistent copy of the SQLite database to a new file, while the server
    /// serves; it is checked before it gets its name. (PostgreSQL: pg_dump, README.)
    Backup(BackupArgs),
    /// Replace the SQLite database by a backup, once the server has stopped; the replaced
    /// file is kept beside it.
    Restore(RestoreArgs),
}

#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    /// The backup file to write; it must not exist.
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,

    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RestoreArgs {
    /// The backup to restore.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,

    /// Replace an existing database (it is kept beside, renamed).
    #[arg(long)]
    pub replace: bool,

    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute every row's seal; name the first row that does not match (exit status 1)
    /// or print the chain's head, to be kept somewhere else and given later to
    /// --expect-head.
    Verify(AuditVerifyArgs),
}

#[derive(Debug, Clone, Args)]
pub struct AuditVerifyArgs {
    /// A head printed by an earlier verification (ID:SEAL): the row must still carry it.
    #[arg(long, value_name = "ID:SEAL")]
    pub expect_head: Option<String>,

    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Patients, one a line, with a header naming the columns (README): UTF-8 with or
    /// without a byte-order mark, comma or semicolon. Every rejected line is reported
    /// with its reason, and then nothing is imported.
    Patients(ImportArgs),
    /// Staff, one a line (README): username, family_name, given_name, roles. Each person
    /// gets an account and a password for their first sign-in, printed once on standard
    /// output; they choose their own then. All or nothing, as for patients.
    Staff(ImportArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The CSV file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Check every line and report, without importing anything.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Subcommand)]
pub enum ReferenceLabCommand {
    /// Create or update a reference lab: how it names itself in MSH-4, the addresses its
    /// MLLP engine connects from, and (with --new-token) a new interface token for HTTP,
    /// printed once.
    Set(ReferenceLabSetArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ReferenceLabSetArgs {
    /// Short code: 2 to 20 of A-Z, 0-9, '-', '_'.
    #[arg(long, value_name = "CODE")]
    pub code: String,

    /// The lab's name, as the lab sees it.
    #[arg(long, value_name = "NAME")]
    pub name: String,

    /// How the lab names itself in MSH-4 (namespace or universal id); required for MLLP.
    #[arg(long, value_name = "ID", default_value = "")]
    pub sending_facility: String,

    /// An IP address the lab's MLLP engine connects from; repeat for several. The list
    /// given replaces the earlier one; none: the lab does not use MLLP.
    #[arg(long = "mllp-peer", value_name = "ADDRESS")]
    pub mllp_peers: Vec<String>,

    /// Give the lab a new interface token (the old one stops working), printed once.
    #[arg(long)]
    pub new_token: bool,

    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account, reading its password from standard input (how the first
    /// administrator of a clinic is made).
    Add(UserAddArgs),
}

#[derive(Debug, Clone, Args)]
pub struct UserAddArgs {
    /// Sign-in name: 3 to 32 of a-z, 0-9, '.', '-', '_'.
    #[arg(long, value_name = "NAME")]
    pub username: String,

    /// A role the person holds; repeat for several (administrator, physician, nurse,
    /// medical_assistant, phlebotomist, lab_technician, supervisor, front_desk).
    #[arg(long = "role", value_name = "ROLE", required = true)]
    pub roles: Vec<String>,

    /// Read the password from standard input (its first line). Required: passwords are
    /// never given as arguments, which other users of the machine could see.
    #[arg(long, required = true)]
    pub password_stdin: bool,

    /// Given name, as colleagues see it. Default: the username.
    #[arg(long, value_name = "NAME")]
    pub given_name: Option<String>,

    /// Family name, as colleagues see it. Default: the username.
    #[arg(long, value_name = "NAME")]
    pub family_name: Option<String>,

    /// The clinic's name, when the database holds none yet.
    #[arg(long, value_name = "NAME")]
    pub facility: Option<String>,

    /// The clinic's IANA time zone, when the database holds no clinic yet.
    #[arg(long, value_name = "ZONE", default_value = "Europe/Paris")]
    pub timezone: String,

    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB. Default: a SQLite file in
    /// the data directory.
    #[arg(long, env = "DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,

    /// PostgreSQL: the schema owner's URL. Migrations run as the owner, who then gives the
    /// role of --database-url what the application needs, and on the audit trail only
    /// SELECT and INSERT (the owner of a table can disable its triggers).
    #[arg(long, env = "PLATEAU_DATABASE_OWNER_URL", value_name = "URL")]
    pub owner_url: Option<String>,

    /// Directory for the default SQLite database; created on first run.
    /// Default: $XDG_DATA_HOME/plateau, else ~/.local/share/plateau.
    #[arg(long, env = "PLATEAU_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(
        long,
        env = "PLATEAU_LISTEN",
        value_name = "ADDR",
        default_value = "127.0.0.1:3000"
    )]
    pub listen: String,

    /// Load the demo clinic if the database is empty.
    #[arg(long)]
    pub demo: bool,

    /// Lock a screen after this long without a touch or a key: 90s, 5m, 1h.
    #[arg(
        long,
        env = "PLATEAU_IDLE_LOCK",
        value_name = "DURATION",
        default_value = "5m"
    )]
    pub idle_lock: String,

    /// Plateau is reached over HTTPS (through a TLS proxy): cookies get `Secure` and
    /// responses HSTS.
    #[arg(long, env = "PLATEAU_BEHIND_TLS")]
    pub behind_tls: bool,

    /// The address of a proxy in front of Plateau (the TLS proxy), whose X-Forwarded-For
    /// names the client for the audit trail and the sign-in limits; repeat for several
    /// (in the environment, separated by commas). From any other peer the header is ignored.
    #[arg(
        long = "trusted-proxy",
        env = "PLATEAU_TRUSTED_PROXY",
        value_name = "ADDR",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<String>,

    /// Directory of the built site (WASM, JS, CSS), as `cargo leptos build` leaves it.
    #[arg(
        long,
        env = "LEPTOS_SITE_ROOT",
        value_name = "DIR",
        default_value = "target/site"
    )]
    pub site_root: PathBuf,

    /// Also accept HL7 v2 results over MLLP on this address (e.g. 0.0.0.0:2575), from the
    /// addresses set up for a reference lab only (`plateau reference-lab set --mllp-peer`).
    #[arg(long, env = "PLATEAU_MLLP_LISTEN", value_name = "ADDR")]
    pub mllp_listen: Option<String>,

    #[command(flatten)]
    pub database: DatabaseArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_is_the_default() {
        let cli = Cli::try_parse_from(["plateau", "--demo", "--listen", "127.0.0.1:0"]);
        let cli = cli.map_err(|e| e.to_string());
        assert!(matches!(
            cli,
            Ok(Cli {
                command: None,
                serve: ServeArgs { demo: true, .. }
            })
        ));
    }

    #[test]
    fn subcommands_take_their_own_options() {
        let cli = Cli::try_parse_from(["plateau", "migrate", "--database-url", "sqlite://x.db"]);
        match cli.map(|c| c.command) {
            Ok(Some(Command::Migrate(db))) => assert_eq!(db.database_url.as_deref(), Some("sqlite://x.db")),
            other => panic!("unexpected: {other:?}"),
        }
        assert!(Cli::try_parse_from(["plateau", "migrate", "--demo"]).is_err());
    }

    #[test]
    fn trusted_proxies_repeat() {
        let cli = Cli::try_parse_from(["plateau", "--trusted-proxy", "10.0.0.1", "--trusted-proxy", "::1"]);
        match cli {
            Ok(cli) => assert_eq!(cli.serve.trusted_proxies, ["10.0.0.1", "::1"]),
            Err(error) => panic!("{error}"),
        }
    }

    #[test]
    fn reference_lab_set_takes_repeated_peers() {
        let cli = Cli::try_parse_from([
            "plateau",
            "reference-lab",
            "set",
            "--code",
            "BIOREF",
            "--name",
            "Biologie de référence",
            "--sending-facility",
            "BIOREF",
            "--mllp-peer",
            "10.0.0.5",
            "--mllp-peer",
            "10.0.0.6",
            "--new-token",
        ]);
        match cli.map(|c| c.command) {
            Ok(Some(Command::ReferenceLab(ReferenceLabCommand::Set(args)))) => {
                assert_eq!(args.mllp_peers, ["10.0.0.5", "10.0.0.6"]);
                assert!(args.new_token);
            }
            other => panic!("unexpected: {other:?}"),
        }
        assert!(Cli::try_parse_from(["plateau", "reference-lab", "set", "--code", "X"]).is_err());
    }

    #[test]
    fn user_add_needs_a_role_and_the_password_on_stdin() {
        let ok = Cli::try_parse_from([
            "plateau",
            "user",
            "add",
            "--username",
            "admin",
            "--role",
            "administrator",
            "--role",
            "supervisor",
            "--password-stdin",
        ]);
        match ok.map(|c| c.command) {
            Ok(Some(Command::User(UserCommand::Add(args)))) => {
                assert_eq!(args.roles, ["administrator", "supervisor"]);
            }
            other => panic!("unexpected: {other:?}"),
        }
        assert!(
            Cli::try_parse_from(["plateau", "user", "add", "--username", "a", "--password-stdin"]).is_err()
        );
        assert!(
            Cli::try_parse_from(["plateau", "user", "add", "--username", "a", "--role", "nurse"]).is_err()
        );
    }
}
