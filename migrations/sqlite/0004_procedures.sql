-- Board and procedure room: the procedure catalog, orders and their lifecycle, staff on
-- shift, cleaning attestations, equipment, and patient positioning.
-- Kept in step with ../postgres/0004_procedures.sql: same tables, same columns.

-- What the back office does, per facility; administrators edit it. qualification: the
-- certification kind a performer must hold (NULL: any clinical staff); supervised: staff
-- without it may perform it while a qualified supervisor is present. default_position:
-- SNOMED CT body position code. Entries are retired (active = 0), never deleted, since
-- orders refer to them.
CREATE TABLE procedure_kind (
    id                INTEGER PRIMARY KEY,
    facility_id       INTEGER NOT NULL REFERENCES facility (id),
    code              TEXT    NOT NULL,
    name_fr           TEXT    NOT NULL,
    name_en           TEXT    NOT NULL,
    qualification     TEXT,
    supervised        INTEGER NOT NULL CHECK (supervised IN (0, 1)),
    default_position  TEXT    NOT NULL,
    typical_minutes   INTEGER NOT NULL CHECK (typical_minutes BETWEEN 1 AND 480),
    active            INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    UNIQUE (facility_id, code)
);

-- The kinds of equipment a procedure needs ('ultrasound', 'ecg', 'irrigation_kit'...).
CREATE TABLE procedure_kind_equipment (
    procedure_kind_id  INTEGER NOT NULL REFERENCES procedure_kind (id) ON DELETE CASCADE,
    equipment_kind     TEXT    NOT NULL,
    PRIMARY KEY (procedure_kind_id, equipment_kind)
);

-- One procedure ordered for a visit, from order to done or cancelled.
-- state: ordered, roomed (the patient is in its room), in_progress, done, cancelled.
-- version goes up with every change: an action names the version it saw, and loses to
-- whoever changed the procedure first.
CREATE TABLE procedure_order (
    id                 INTEGER PRIMARY KEY,
    visit_id           INTEGER NOT NULL REFERENCES visit (id),
    procedure_kind_id  INTEGER NOT NULL REFERENCES procedure_kind (id),
    priority           TEXT    NOT NULL CHECK (priority IN ('routine', 'urgent', 'stat')),
    note               TEXT    NOT NULL,
    state              TEXT    NOT NULL CHECK (state IN ('ordered', 'roomed', 'in_progress', 'done', 'cancelled')),
    version            INTEGER NOT NULL DEFAULT 1,
    ordered_by         INTEGER NOT NULL REFERENCES staff_member (id),
    ordered_at         TEXT    NOT NULL,
    room_id            INTEGER REFERENCES room (id),
    roomed_at          TEXT,
    started_at         TEXT,
    started_by         INTEGER REFERENCES staff_member (id),
    ended_at           TEXT,
    ended_by           INTEGER REFERENCES staff_member (id),
    cancel_reason      TEXT
);
CREATE INDEX procedure_order_by_state ON procedure_order (state, priority, ordered_at);
CREATE INDEX procedure_order_by_visit ON procedure_order (visit_id);

-- Who works on a procedure. role: performer (one), helper, supervisor (one). A supervisor
-- attests being present (present_at) before a supervised performer may start.
CREATE TABLE procedure_staff (
    procedure_order_id  INTEGER NOT NULL REFERENCES procedure_order (id),
    staff_member_id     INTEGER NOT NULL REFERENCES staff_member (id),
    role                TEXT    NOT NULL CHECK (role IN ('performer', 'helper', 'supervisor')),
    assigned_at         TEXT    NOT NULL,
    assigned_by         INTEGER NOT NULL REFERENCES staff_member (id),
    present_at          TEXT,
    PRIMARY KEY (procedure_order_id, staff_member_id)
);
CREATE UNIQUE INDEX procedure_one_performer ON procedure_staff (procedure_order_id) WHERE role = 'performer';
CREATE UNIQUE INDEX procedure_one_supervisor ON procedure_staff (procedure_order_id) WHERE role = 'supervisor';

-- Whether a staff member is working now: off (not on shift), on_shift, break. Being busy
-- in a room follows from the procedures they are assigned to.
CREATE TABLE staff_presence (
    staff_member_id  INTEGER PRIMARY KEY REFERENCES staff_member (id),
    state            TEXT    NOT NULL CHECK (state IN ('off', 'on_shift', 'break')),
    since            TEXT    NOT NULL
);

-- A room made ready again: who cleaned it, when, from which status (H housekeeping or
-- K contaminated), and each checklist item they ticked (all of the room kind's items).
CREATE TABLE cleaning_attestation (
    id           INTEGER PRIMARY KEY,
    room_id      INTEGER NOT NULL REFERENCES room (id),
    from_status  TEXT    NOT NULL CHECK (from_status IN ('H', 'K')),
    cleaned_by   INTEGER NOT NULL REFERENCES staff_member (id),
    attested_at  TEXT    NOT NULL,
    checklist    TEXT    NOT NULL
);
CREATE INDEX cleaning_by_room ON cleaning_attestation (room_id, attested_at);

-- An item of equipment, where it is and its state: available, in_use, sterilising,
-- out_of_service.
CREATE TABLE equipment (
    id           INTEGER PRIMARY KEY,
    facility_id  INTEGER NOT NULL REFERENCES facility (id),
    code         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    room_id      INTEGER REFERENCES room (id),
    state        TEXT    NOT NULL CHECK (state IN ('available', 'in_use', 'sterilising', 'out_of_service')),
    state_since  TEXT    NOT NULL,
    UNIQUE (facility_id, code)
);

-- An item held for a procedure until released. Two procedures cannot hold the same item.
CREATE TABLE equipment_reservation (
    id                  INTEGER PRIMARY KEY,
    equipment_id        INTEGER NOT NULL REFERENCES equipment (id),
    procedure_order_id  INTEGER NOT NULL REFERENCES procedure_order (id),
    reserved_at         TEXT    NOT NULL,
    reserved_by         INTEGER NOT NULL REFERENCES staff_member (id),
    released_at         TEXT
);
CREATE UNIQUE INDEX equipment_held_once ON equipment_reservation (equipment_id) WHERE released_at IS NULL;

-- Each time a patient is placed or repositioned for a procedure: the SNOMED CT position,
-- the supports and padding used and the pressure points checked (comma-separated codes).
CREATE TABLE patient_positioning (
    id                  INTEGER PRIMARY KEY,
    procedure_order_id  INTEGER NOT NULL REFERENCES procedure_order (id),
    position            TEXT    NOT NULL,
    supports            TEXT    NOT NULL,
    points_checked      TEXT    NOT NULL,
    placed_by           INTEGER NOT NULL REFERENCES staff_member (id),
    placed_at           TEXT    NOT NULL
);
CREATE INDEX positioning_by_procedure ON patient_positioning (procedure_order_id, placed_at);

-- How often a patient in one position is checked and repositioned, and whether wall
-- screens shorten patient identifiers (initials and year of birth).
CREATE TABLE facility_setting (
    facility_id                  INTEGER PRIMARY KEY REFERENCES facility (id),
    reposition_reminder_minutes  INTEGER NOT NULL CHECK (reposition_reminder_minutes BETWEEN 5 AND 480),
    board_short_identifiers      INTEGER NOT NULL CHECK (board_short_identifiers IN (0, 1))
);
