-- Foundation: the clinic, its rooms, its staff, its patients and their visits.
-- Kept in step with ../postgres/0001_foundation.sql: same tables, same columns.
-- Migrations are never edited once landed; a change is a new file.

-- One clinic site. Times are stored in UTC and shown in the facility's IANA time zone.
CREATE TABLE facility (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    timezone    TEXT    NOT NULL,
    created_at  TEXT    NOT NULL
);

-- A room of the clinic. Status codes are HL7 v2 table 0116 (bed status):
-- C closed, H housekeeping, I isolated, K contaminated, O occupied, U unoccupied.
CREATE TABLE room (
    id            INTEGER PRIMARY KEY,
    facility_id   INTEGER NOT NULL REFERENCES facility (id),
    code          TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('exam', 'procedure', 'lab', 'imaging')),
    status        TEXT    NOT NULL CHECK (status IN ('C', 'H', 'I', 'K', 'O', 'U')),
    status_since  TEXT    NOT NULL,
    sort_order    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (facility_id, code)
);

-- A person who works in the clinic. Accounts and sign-in come with the identity module.
CREATE TABLE staff_member (
    id           INTEGER PRIMARY KEY,
    facility_id  INTEGER NOT NULL REFERENCES facility (id),
    family_name  TEXT    NOT NULL,
    given_name   TEXT    NOT NULL,
    active       INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
);

-- The roles a staff member holds; a person may hold several.
CREATE TABLE staff_role (
    staff_member_id  INTEGER NOT NULL REFERENCES staff_member (id) ON DELETE CASCADE,
    role             TEXT    NOT NULL CHECK (role IN ('medical_assistant', 'nurse', 'phlebotomist',
                         'lab_technician', 'physician', 'supervisor', 'front_desk', 'administrator')),
    PRIMARY KEY (staff_member_id, role)
);

-- A patient known to the facility. Sex follows FHIR administrative gender; the preferred
-- language is a BCP 47 tag.
CREATE TABLE patient (
    id                  INTEGER PRIMARY KEY,
    facility_id         INTEGER NOT NULL REFERENCES facility (id),
    record_number       TEXT    NOT NULL,
    family_name         TEXT    NOT NULL,
    given_name          TEXT    NOT NULL,
    birth_date          TEXT    NOT NULL,
    sex                 TEXT    NOT NULL CHECK (sex IN ('female', 'male', 'other', 'unknown')),
    preferred_language  TEXT    NOT NULL,
    UNIQUE (facility_id, record_number)
);

-- One stay of a patient in the clinic, from arrival to departure.
-- state: waiting (arrived, not yet seen), in_exam, queued (waiting for back-office work),
-- in_procedure, done. room_id is the room the patient is in now, if any.
CREATE TABLE visit (
    id          INTEGER PRIMARY KEY,
    patient_id  INTEGER NOT NULL REFERENCES patient (id),
    reason      TEXT    NOT NULL,
    arrived_at  TEXT    NOT NULL,
    room_id     INTEGER REFERENCES room (id),
    state       TEXT    NOT NULL CHECK (state IN ('waiting', 'in_exam', 'queued', 'in_procedure', 'done')),
    ended_at    TEXT
);

-- A room holds at most one patient at a time.
CREATE UNIQUE INDEX visit_one_patient_per_room ON visit (room_id) WHERE room_id IS NOT NULL;
CREATE INDEX visit_by_state ON visit (state, arrived_at);
CREATE INDEX room_by_facility ON room (facility_id, sort_order);
