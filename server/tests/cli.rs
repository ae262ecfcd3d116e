//! The `plateau` binary as an operator meets it: help, clear start-up errors, signals.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn plateau() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plateau"));
    command
        .env_remove("DATABASE_URL")
        .env_remove("PLATEAU_LISTEN")
        .env_remove("PLATEAU_DATA_DIR");
    command
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("plateau-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn every_command_has_help() {
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["seed-demo", "--help"],
        &["user", "add", "--help"],
        &["reference-lab", "set", "--help"],
        &["front-office", "set", "--help"],
        &["import", "patients", "--help"],
        &["audit", "verify", "--help"],
        &["backup", "--help"],
        &["restore", "--help"],
    ] {
        let output = plateau().args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stdout).contains("Usage"));
    }
}

/// A start-up failure prints exactly one line, prefixed with the program's name.
fn fails_with_one_line(args: &[&str], expected: &str) {
    let output = plateau().args(args).env("PLATEAU_LOG", "off").output().unwrap();
    assert!(!output.status.success(), "{args:?} should fail");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("plateau: ") && lines[0].contains(expected),
        "{stderr}"
    );
}

#[test]
fn bad_addresses_and_databases_end_start_up_in_one_line() {
    let dir = temp_dir("errors");
    let db = format!("sqlite://{}", dir.join("ok.db").display());
    fails_with_one_line(
        &["serve", "--listen", "localhost:http", "--database-url", &db],
        "cannot listen on",
    );
    fails_with_one_line(
        &["serve", "--database-url", "sqlite:///no/such/dir/x.db"],
        "cannot open database",
    );
    fails_with_one_line(
        &["migrate", "--database-url", "mysql://nope"],
        "cannot open database",
    );
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    fails_with_one_line(
        &["migrate", "--data-dir", file.to_str().unwrap()],
        "data directory",
    );
    // A port already taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    fails_with_one_line(
        &["serve", "--listen", &addr, "--database-url", &db],
        "cannot listen on",
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Runs `plateau ARGS --data-dir DIR` and insists that it succeeds.
fn run_with_data_dir(args: &[&str], data_dir: &std::path::Path) -> std::process::Output {
    let output = plateau()
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn migrate_and_seed_demo_are_idempotent() {
    let dir = temp_dir("seed");
    let data_dir = dir.join("data");
    for args in [&["migrate"][..], &["seed-demo"], &["seed-demo"], &["migrate"]] {
        run_with_data_dir(args, &data_dir);
    }
    // The data directory was created on first run, with the database inside.
    assert!(data_dir.join("plateau.db").is_file());
    let again = run_with_data_dir(&["seed-demo"], &data_dir);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a clinic"));
    // Characters that mean something in a URL are fine in a directory name.
    let odd = dir.join("odd ?#% name");
    run_with_data_dir(&["migrate"], &odd);
    assert!(odd.join("plateau.db").is_file());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn serves_then_stops_cleanly_on_sigterm() {
    let dir = temp_dir("serve");
    let db = format!("sqlite://{}", dir.join("serve.db").display());
    let mut child = plateau()
        .args([
            "serve",
            "--demo",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &db,
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut addr = None;
    while addr.is_none() && Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if line.contains("Plateau is listening") {
            addr = line
                .split("http://")
                .nth(1)
                .map(|rest| rest.split_whitespace().next().unwrap_or("").to_owned());
        }
    }
    let addr = addr.expect("the server announces its address");
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    use std::io::{Read, Write};
    write!(
        stream,
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status:?}; log: {rest:?}");
    assert!(rest.iter().any(|l| l.contains("database closed")), "{rest:?}");
    let _ = std::fs::remove_dir_all(dir);
}

/// A new clinic in `data_dir` with its first administrator, from the command line.
fn first_administrator(data_dir: &std::path::Path) {
    let admin = [
        "--username",
        "admin",
        "--role",
        "administrator",
        "--password-stdin",
        "--facility",
        "Clinique du Parc",
    ];
    let made = user_add(&admin, data_dir, "a long enough password\n");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
}

/// Runs `plateau user add ARGS --data-dir DIR` with `password` on standard input.
fn user_add(args: &[&str], data_dir: &std::path::Path, password: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = plateau()
        .args(["user", "add"])
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env("PLATEAU_LOG", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(password.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_first_administrator_is_made_from_the_command_line() {
    let dir = temp_dir("user-add");
    let data_dir = dir.join("data");
    let admin = [
        "--username",
        "Admin",
        "--role",
        "administrator",
        "--password-stdin",
    ];
    // An empty database has no clinic yet: its name is needed, once.
    let no_clinic = user_add(&admin, &data_dir, "a long enough password\n");
    assert!(!no_clinic.status.success());
    assert!(String::from_utf8_lossy(&no_clinic.stderr).contains("--facility"));
    let with_clinic = [
        &admin[..],
        &["--facility", "Clinique du Parc", "--given-name", "Alex"],
    ]
    .concat();
    let made = user_add(&with_clinic, &data_dir, "a long enough password\n");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    // Bad input: one line naming the problem, and nothing is created.
    for (args, password, expected) in [
        (&admin[..], "a long enough password\n", "username: AlreadyTaken"),
        (
            &["--username", "second", "--role", "wizard", "--password-stdin"][..],
            "a long enough password",
            "roles: NotAllowed",
        ),
        (
            &["--username", "third", "--role", "nurse", "--password-stdin"][..],
            "short\n",
            "password: TooShort",
        ),
        (
            &["--username", "no way", "--role", "nurse", "--password-stdin"][..],
            "a long enough password",
            "username: Malformed",
        ),
    ] {
        let output = user_add(args, &data_dir, password);
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("plateau: cannot create the account: ") && stderr.contains(expected),
            "{stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A clinic without the demo sets its reference lab up: the token is printed once, only its
/// SHA-256 is kept, and bad input is one line naming the field.
#[test]
fn a_reference_lab_is_set_up_from_the_command_line() {
    let dir = temp_dir("reference-lab");
    let data_dir = dir.join("data");
    first_administrator(&data_dir);
    let set = |args: &[&str]| {
        plateau()
            .args(["reference-lab", "set"])
            .args(args)
            .arg("--data-dir")
            .arg(&data_dir)
            .env("PLATEAU_LOG", "off")
            .output()
            .unwrap()
    };
    let lab = [
        "--code",
        "BIOREF",
        "--name",
        "Biologie de référence",
        "--sending-facility",
        "BIOREF",
        "--mllp-peer",
        "10.0.0.5",
    ];
    let made = set(&[&lab[..], &["--new-token"]].concat());
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let token = String::from_utf8_lossy(&made.stdout).trim().to_owned();
    assert_eq!(token.len(), 43, "256 bits, URL-safe: {token}");
    // Set up again without --new-token: the token stays, nothing printed.
    let again = set(&lab);
    assert!(again.status.success());
    assert!(again.stdout.is_empty());
    // The database and its write-ahead log, which holds what no checkpoint moved yet.
    let mut db = std::fs::read(data_dir.join("plateau.db")).unwrap();
    db.extend(std::fs::read(data_dir.join("plateau.db-wal")).unwrap_or_default());
    let digest = plateau_app::lab::import::token_digest(&token);
    assert!(
        db.windows(digest.len()).any(|w| w == digest.as_bytes()),
        "its SHA-256 is kept"
    );
    assert!(
        !db.windows(token.len()).any(|w| w == token.as_bytes()),
        "the token itself is not"
    );
    for (args, expected) in [
        (&["--code", "bio ref", "--name", "X"][..], "code: Malformed"),
        (
            &["--code", "BIO", "--name", "X", "--mllp-peer", "lab.example"][..],
            "mllp_peers: Malformed",
        ),
        (
            &["--code", "BIO", "--name", "X", "--mllp-peer", "10.0.0.9"][..],
            "sending_facility: Required",
        ),
    ] {
        let output = set(args);
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("plateau: cannot set up the reference lab: ") && stderr.contains(expected),
            "{stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_audit_trail_is_verified_from_the_command_line() {
    let dir = temp_dir("audit-verify");
    let data_dir = dir.join("data");
    first_administrator(&data_dir);
    let verify = |extra: &[&str]| {
        plateau()
            .args(["audit", "verify", "--data-dir"])
            .arg(&data_dir)
            .args(extra)
            .env("PLATEAU_LOG", "off")
            .output()
            .unwrap()
    };
    let intact = verify(&[]);
    assert!(
        intact.status.success(),
        "{}",
        String::from_utf8_lossy(&intact.stderr)
    );
    let said = String::from_utf8_lossy(&intact.stdout).to_string();
    assert!(said.starts_with("audit trail intact: 1 sealed rows"), "{said}");
    let head = said.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(verify(&["--expect-head", &head]).status.success());
    fails_with_one_line(
        &[
            "audit",
            "verify",
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--expect-head",
            "1:xyz",
        ],
        "is not ID:SEAL",
    );

    // A backup from the command line, restored into another data directory.
    let backup_file = dir.join("clinic.backup");
    let backup = plateau()
        .args(["backup", "--to"])
        .arg(&backup_file)
        .arg("--data-dir")
        .arg(&data_dir)
        .env("PLATEAU_LOG", "off")
        .output()
        .unwrap();
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    assert!(
        String::from_utf8_lossy(&backup.stdout).contains(&head),
        "the backup names the same head"
    );
    let elsewhere = dir.join("elsewhere");
    let restore = |extra: &[&str]| {
        plateau()
            .args(["restore", "--from"])
            .arg(&backup_file)
            .arg("--data-dir")
            .arg(&elsewhere)
            .args(extra)
            .env("PLATEAU_LOG", "off")
            .output()
            .unwrap()
    };
    let restored = restore(&[]);
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let again = restore(&[]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--replace"));
    assert!(restore(&["--replace"]).status.success());
    fails_with_one_line(
        &[
            "backup",
            "--to",
            backup_file.to_str().unwrap(),
            "--data-dir",
            data_dir.to_str().unwrap(),
        ],
        "already exists",
    );

    // The owner of the file drops a trigger and rewrites the row: verification names it.
    let url = format!("sqlite://{}", data_dir.join("plateau.db").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = plateau_app::store::Store::connect(&url).await.unwrap();
        let mut tx = store.begin().await.unwrap();
        plateau_app::execute!(tx.exec(), "DROP TRIGGER audit_event_no_update").unwrap();
        plateau_app::execute!(tx.exec(), "UPDATE audit_event SET detail = 'nothing happened'").unwrap();
        tx.commit().await.unwrap();
        store.close().await;
    });
    let broken = verify(&[]);
    assert_eq!(broken.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(
        stderr.contains("the audit trail is broken: row 1 does not match its seal"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// `plateau import KIND FILE` on the clinic in `data_dir`, and what it printed.
fn import(
    data_dir: &std::path::Path,
    kind: &str,
    file: &std::path::Path,
    dry_run: bool,
) -> std::process::Output {
    let mut command = plateau();
    command
        .args(["import", kind])
        .arg(file)
        .arg("--data-dir")
        .arg(data_dir);
    if dry_run {
        command.arg("--dry-run");
    }
    command.env("PLATEAU_LOG", "off").output().unwrap()
}

#[test]
fn a_clinics_patients_are_imported_from_a_spreadsheet_all_or_nothing() {
    let dir = temp_dir("import-patients");
    let data_dir = dir.join("data");
    first_administrator(&data_dir);
    let import = |file: &std::path::Path, dry_run: bool| import(&data_dir, "patients", file, dry_run);
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "\u{feff}family_name;given_name;birth_date;sex\nŒuvray;Hélène;02/06/1971;F\n;Paul;1980-05-05;M\nMartin;Léa;01/01/2099;F\n",
    )
    .unwrap();
    let refused = import(&bad, false);
    assert!(!refused.status.success());
    let report = String::from_utf8_lossy(&refused.stderr);
    assert!(
        report.contains("line 3: family_name") && report.contains("line 4: birth_date"),
        "{report}"
    );
    let good = dir.join("good.csv");
    std::fs::write(
        &good,
        "family_name,given_name,birth_date,sex\nŒuvray,Hélène,02/06/1971,F\nDurand,Paul,1980-05-05,M\n",
    )
    .unwrap();
    let dry = import(&good, true);
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    assert!(String::from_utf8_lossy(&dry.stdout).contains("2 patients would be imported"));
    let done = import(&good, false);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    assert!(String::from_utf8_lossy(&done.stdout).contains("2 patients imported"));
    // Nothing of the refused file, nothing of the dry run: two patients, numbered by Plateau.
    let count = |sql: &str| {
        let url = format!("sqlite://{}", data_dir.join("plateau.db").display());
        let sql = sql.to_owned();
        tokio::runtime::Runtime::new().unwrap().block_on(async move {
            let store = plateau_app::store::Store::connect(&url).await.unwrap();
            let n = plateau_app::fetch_scalar!(store.read(), i64, &sql).unwrap();
            store.close().await;
            n
        })
    };
    assert_eq!(count("SELECT COUNT(*) FROM patient"), 2);
    assert_eq!(
        count("SELECT COUNT(*) FROM patient WHERE record_number IN ('P000001', 'P000002')"),
        2
    );
}

#[test]
fn a_clinics_staff_is_imported_from_a_spreadsheet_each_with_a_first_password() {
    let dir = temp_dir("import-staff");
    let data_dir = dir.join("data");
    first_administrator(&data_dir);
    let import = |file: &std::path::Path, dry_run: bool| import(&data_dir, "staff", file, dry_run);
    let url = format!("sqlite://{}", data_dir.join("plateau.db").display());
    let query = |sql: &str| {
        let (url, sql) = (url.clone(), sql.to_owned());
        tokio::runtime::Runtime::new().unwrap().block_on(async move {
            let store = plateau_app::store::Store::connect(&url).await.unwrap();
            let rows = plateau_app::fetch_all!(store.read(), (String, String, bool), &sql).unwrap();
            store.close().await;
            rows
        })
    };
    let accounts =
        "SELECT a.username, a.password_hash, a.must_change_password FROM account a ORDER BY a.username";
    let before = query(accounts).len();
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "\u{feff}username;family_name;given_name;roles\nm.durand;Durand;Marie;médecin\np roux;Roux;Paul;nurse\n",
    )
    .unwrap();
    let refused = import(&bad, false);
    assert!(!refused.status.success());
    let report = String::from_utf8_lossy(&refused.stderr);
    assert!(report.contains("line 3: username"), "{report}");
    let good = dir.join("good.csv");
    std::fs::write(
        &good,
        "username,family_name,given_name,roles\nm.durand,Durand,Marie,physician\np.roux,Roux,Paul,infirmier+accueil\n",
    )
    .unwrap();
    let dry = import(&good, true);
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    assert!(String::from_utf8_lossy(&dry.stdout).contains("2 accounts would be created"));
    assert_eq!(
        query(accounts).len(),
        before,
        "nothing of the refused file or the dry run"
    );
    let done = import(&good, false);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let printed = String::from_utf8_lossy(&done.stdout).into_owned();
    let password_of = |username: &str| {
        printed
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{username}\t")))
            .unwrap_or_else(|| panic!("{printed}"))
            .to_owned()
    };
    let rows = query(accounts);
    assert_eq!(rows.len(), before + 2);
    for username in ["m.durand", "p.roux"] {
        let (_, hash, must_change) = rows.iter().find(|(u, _, _)| u == username).unwrap();
        assert!(
            *must_change,
            "{username} chooses their own password at the first sign-in"
        );
        assert!(!hash.contains(&password_of(username)), "only the hash is kept");
        let opens = tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(plateau_app::auth::password::verify(
                password_of(username),
                Some(hash.clone()),
            ))
            .unwrap();
        assert!(opens, "the printed password opens {username}'s account");
    }
    // The same file again: every username is taken, nothing is added.
    let again = import(&good, false);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("username"));
    assert_eq!(query(accounts).len(), before + 2);
    let _ = std::fs::remove_dir_all(dir);
}
