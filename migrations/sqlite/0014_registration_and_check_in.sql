-- Patients registered and checked in by hand, and visits ended with what is still
-- pending (issue 17). Kept in step with ../postgres/0014_registration_and_check_in.sql.

-- A patient's words are replaced at each change of name, and records without any are
-- found at start-up: both look them up by patient.
CREATE INDEX patient_name_token_by_patient ON patient_name_token (patient_id);

-- An edit names the version of the record it was made on, so that of two desks
-- editing one patient the second is told, not silently overwritten.
ALTER TABLE patient ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
-- The next record number Plateau assigns in this facility (P000001, P000002...).
ALTER TABLE facility ADD COLUMN next_record_number INTEGER NOT NULL DEFAULT 1;

-- The physician the patient came to see, named at check-in.
ALTER TABLE visit ADD COLUMN attending_id INTEGER REFERENCES staff_member (id);
CREATE INDEX visit_by_patient ON visit (patient_id, arrived_at);

-- What was still pending when a visit ended (the discharge hold), with the reason the
-- person who ended it gave (no person: the front office's system sent the departure),
-- kept on a list until someone follows each item up.
-- kind: pending_result (a test ordered, no verified result), unacknowledged_critical,
-- open_procedure, specimen_not_received; item_id is that order, alert, procedure or
-- specimen, named as it was then in both languages (a specimen by its accession).
CREATE TABLE discharge_pending (
    id               INTEGER PRIMARY KEY,
    visit_id         INTEGER NOT NULL REFERENCES visit (id),
    kind             TEXT    NOT NULL CHECK (kind IN ('pending_result', 'unacknowledged_critical',
                         'open_procedure', 'specimen_not_received')),
    item_id          INTEGER NOT NULL,
    name_fr          TEXT    NOT NULL,
    name_en          TEXT    NOT NULL,
    reason           TEXT    NOT NULL,
    ended_by         INTEGER REFERENCES staff_member (id),
    ended_at         TEXT    NOT NULL,
    followed_up_by   INTEGER REFERENCES staff_member (id),
    followed_up_at   TEXT,
    UNIQUE (visit_id, kind, item_id)
);
CREATE INDEX discharge_pending_open ON discharge_pending (followed_up_at, ended_at);

-- Rooms and items of equipment an administrator sets up; once used they are retired
-- (no longer listed or usable), never deleted, so that what happened in them stays told.
ALTER TABLE room ADD COLUMN retired_at TEXT;
ALTER TABLE equipment ADD COLUMN retired_at TEXT;

-- The front office's system sends ADT messages (arrivals, updates, departures, merges)
-- through the interfaces reference labs send results through, authenticated the same
-- way (its token over HTTP, its addresses and MSH-4 over MLLP): it is kept beside them,
-- told apart by its role, and never offered as a lab to send specimens to.
ALTER TABLE reference_lab ADD COLUMN role TEXT NOT NULL DEFAULT 'lab' CHECK (role IN ('lab', 'front_office'));

-- A visit as the front office numbers it (PV1-19 and its authority), so that its
-- departure or cancellation ends the right one; cancelled: an arrival entered in error
-- (A11), ended before anything was done.
ALTER TABLE visit ADD COLUMN visit_number TEXT NOT NULL DEFAULT '';
ALTER TABLE visit ADD COLUMN visit_authority TEXT NOT NULL DEFAULT '';
ALTER TABLE visit ADD COLUMN cancelled INTEGER NOT NULL DEFAULT 0 CHECK (cancelled IN (0, 1));

-- Every ADT message received, once: the same control id (MSH-10) from the same sender is
-- acknowledged again without being applied again. outcome: applied; held (an identity
-- update contradicting the record's birth date or sex, waiting for a person: resolved_by,
-- resolved_at, resolution applied or dismissed); refused (AE/AR, with the reason).
CREATE TABLE adt_message (
    id              INTEGER PRIMARY KEY,
    sender_id       INTEGER NOT NULL REFERENCES reference_lab (id),
    control_id      TEXT NOT NULL,
    content_sha256  TEXT NOT NULL,
    event           TEXT NOT NULL,
    transport       TEXT NOT NULL CHECK (transport IN ('http', 'mllp')),
    received_at     TEXT NOT NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('applied', 'held', 'refused')),
    detail          TEXT NOT NULL,
    patient_id      INTEGER REFERENCES patient (id),
    raw             TEXT NOT NULL,
    resolved_by     INTEGER REFERENCES staff_member (id),
    resolved_at     TEXT,
    resolution      TEXT CHECK (resolution IN ('applied', 'dismissed')),
    UNIQUE (sender_id, control_id)
);
CREATE INDEX adt_message_held ON adt_message (outcome, resolved_at);
CREATE INDEX visit_by_number ON visit (visit_authority, visit_number);
