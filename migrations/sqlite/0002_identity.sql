-- Identity, access and audit: accounts, certifications, sessions, sign-in throttling,
-- care teams, emergency (break-glass) access and the append-only audit trail.
-- Kept in step with ../postgres/0002_identity.sql: same tables, same columns.

-- How a staff member signs in; one account per person. Whether it may be used follows
-- staff_member.active. username is stored in lower case. Hashes are argon2id PHC strings.
CREATE TABLE account (
    id                   INTEGER PRIMARY KEY,
    staff_member_id      INTEGER NOT NULL UNIQUE REFERENCES staff_member (id),
    username             TEXT    NOT NULL UNIQUE,
    password_hash        TEXT    NOT NULL,
    pin_hash             TEXT,
    created_at           TEXT    NOT NULL,
    password_changed_at  TEXT    NOT NULL
);

-- A qualification a person holds until it expires (the end of expires_on, facility time).
CREATE TABLE certification (
    staff_member_id  INTEGER NOT NULL REFERENCES staff_member (id) ON DELETE CASCADE,
    kind             TEXT    NOT NULL,
    expires_on       TEXT    NOT NULL,
    PRIMARY KEY (staff_member_id, kind)
);

-- Failed sign-ins per typed username, whether or not such an account exists, so that
-- the answer never tells an attacker which usernames are real.
CREATE TABLE sign_in_throttle (
    username          TEXT    PRIMARY KEY,
    failures          INTEGER NOT NULL,
    first_failure_at  TEXT    NOT NULL,
    locked_until      TEXT
);

-- A signed-in browser. Only the SHA-256 of the token is kept: a copy of the database
-- does not let anyone resume a session. locked_at: the screen was locked (idle or by
-- hand); the same person unlocks with their PIN. ended_reason: signed_out, revoked,
-- switched_user, pin_failures, deactivated.
CREATE TABLE session (
    id              INTEGER PRIMARY KEY,
    token_hash      TEXT    NOT NULL UNIQUE,
    account_id      INTEGER NOT NULL REFERENCES account (id),
    created_at      TEXT    NOT NULL,
    last_active_at  TEXT    NOT NULL,
    expires_at      TEXT    NOT NULL,
    locked_at       TEXT,
    pin_failures    INTEGER NOT NULL DEFAULT 0,
    ended_at        TEXT,
    ended_reason    TEXT,
    user_agent      TEXT    NOT NULL,
    address         TEXT    NOT NULL
);
CREATE INDEX session_by_account ON session (account_id, ended_at);

-- The staff caring for a visit: they may open that patient without breaking the glass.
CREATE TABLE care_assignment (
    visit_id         INTEGER NOT NULL REFERENCES visit (id),
    staff_member_id  INTEGER NOT NULL REFERENCES staff_member (id),
    assigned_at      TEXT    NOT NULL,
    PRIMARY KEY (visit_id, staff_member_id)
);

-- Emergency access to a patient outside one's assignments, with the reason given.
-- Supervisors review each one.
CREATE TABLE break_glass (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES account (id),
    patient_id   INTEGER NOT NULL REFERENCES patient (id),
    reason       TEXT    NOT NULL,
    opened_at    TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL,
    reviewed_by  INTEGER REFERENCES account (id),
    reviewed_at  TEXT
);
CREATE INDEX break_glass_by_account ON break_glass (account_id, patient_id, expires_at);

-- Who did what to which record, when, from where, and whether it was allowed.
-- Append-only: the triggers below refuse any UPDATE or DELETE.
CREATE TABLE audit_event (
    id           INTEGER PRIMARY KEY,
    at           TEXT    NOT NULL,
    account_id   INTEGER REFERENCES account (id),
    username     TEXT    NOT NULL,
    roles        TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    outcome      TEXT    NOT NULL CHECK (outcome IN ('allowed', 'refused')),
    patient_id   INTEGER REFERENCES patient (id),
    record       TEXT    NOT NULL,
    device       TEXT    NOT NULL,
    address      TEXT    NOT NULL,
    detail       TEXT    NOT NULL,
    break_glass  INTEGER NOT NULL DEFAULT 0 CHECK (break_glass IN (0, 1))
);
CREATE INDEX audit_by_time ON audit_event (at);
CREATE INDEX audit_by_account ON audit_event (account_id, at);
CREATE INDEX audit_by_patient ON audit_event (patient_id, at);

CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
BEGIN
    SELECT RAISE(ABORT, 'audit_event is append-only');
END;

CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
BEGIN
    SELECT RAISE(ABORT, 'audit_event is append-only');
END;
