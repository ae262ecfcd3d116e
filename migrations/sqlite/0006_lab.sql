-- The lab: its test catalog, orders from the room tablet, specimens labelled at the
-- bedside, results and their verification, critical-value alerts, send-outs to reference
-- labs, and the HL7 v2 messages their results come back in.
-- Kept in step with ../postgres/0006_lab.sql: same tables, same columns.

-- The tests the facility runs in house or sends out; administrators edit it. loinc: the
-- LOINC code of the test (for a panel, of the panel). specimen_type: HL7 table 0487
-- (BLD blood, SER serum, PLAS plasma, UR urine, CBLD capillary blood). unit: UCUM, empty
-- for coded results. A numeric entry outside plausible_low..plausible_high is an entry
-- error and refused; critical_low/critical_high raise an alert. Coded tests list their
-- allowed values and the normal ones (comma-separated). second_verifier: a different
-- technician must verify. Entries are retired (active = 0), never deleted.
CREATE TABLE lab_test (
    id                  INTEGER PRIMARY KEY,
    facility_id         INTEGER NOT NULL REFERENCES facility (id),
    loinc               TEXT    NOT NULL,
    name_fr             TEXT    NOT NULL,
    name_en             TEXT    NOT NULL,
    specimen_type       TEXT    NOT NULL,
    value_kind          TEXT    NOT NULL CHECK (value_kind IN ('numeric', 'coded', 'panel')),
    unit                TEXT    NOT NULL,
    decimals            INTEGER NOT NULL CHECK (decimals BETWEEN 0 AND 4),
    plausible_low       REAL,
    plausible_high      REAL,
    critical_low        REAL,
    critical_high       REAL,
    allowed_codes       TEXT    NOT NULL,
    normal_codes        TEXT    NOT NULL,
    performed           TEXT    NOT NULL CHECK (performed IN ('in_house', 'send_out')),
    turnaround_minutes  INTEGER NOT NULL CHECK (turnaround_minutes BETWEEN 1 AND 20160),
    second_verifier     INTEGER NOT NULL CHECK (second_verifier IN (0, 1)),
    active              INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    UNIQUE (facility_id, loinc)
);

-- Reference ranges by sex ('female', 'male' or 'any') and age band [min_age, max_age) in
-- years. The most specific band that matches the patient applies.
CREATE TABLE lab_reference_range (
    id           INTEGER PRIMARY KEY,
    lab_test_id  INTEGER NOT NULL REFERENCES lab_test (id) ON DELETE CASCADE,
    sex          TEXT    NOT NULL CHECK (sex IN ('female', 'male', 'any')),
    min_age      INTEGER NOT NULL CHECK (min_age >= 0),
    max_age      INTEGER NOT NULL CHECK (max_age > min_age),
    low          REAL,
    high         REAL
);
CREATE INDEX reference_range_by_test ON lab_reference_range (lab_test_id);

-- The full labs the facility sends specimens to. interface_token_sha256: the SHA-256 (hex)
-- of the bearer token the lab's interface presents when it posts results over HTTP.
CREATE TABLE reference_lab (
    id           INTEGER PRIMARY KEY,
    facility_id  INTEGER NOT NULL REFERENCES facility (id),
    code         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    interface_token_sha256  TEXT,
    UNIQUE (facility_id, code)
);

-- A box of specimens for a reference lab, with its manifest: packed, shipped, received
-- (by the reference lab), resulted (every result back).
CREATE TABLE shipment (
    id                INTEGER PRIMARY KEY,
    reference_lab_id  INTEGER NOT NULL REFERENCES reference_lab (id),
    state             TEXT    NOT NULL CHECK (state IN ('packed', 'shipped', 'received', 'resulted')),
    packed_by         INTEGER NOT NULL REFERENCES staff_member (id),
    packed_at         TEXT    NOT NULL,
    shipped_at        TEXT,
    received_at       TEXT,
    resulted_at       TEXT
);

-- A specimen collected in the patient's presence. Its label (and accession number) exists
-- only once the collector has confirmed two identifiers: identity_checks says which.
-- body_site: where it was taken when not blood. state: collected, received (by the lab),
-- rejected (with its reason, kept), shipped (to a reference lab).
CREATE TABLE specimen (
    id               INTEGER PRIMARY KEY,
    accession        TEXT    NOT NULL UNIQUE,
    visit_id         INTEGER NOT NULL REFERENCES visit (id),
    specimen_type    TEXT    NOT NULL,
    body_site        TEXT    NOT NULL,
    identity_checks  TEXT    NOT NULL,
    collected_by     INTEGER NOT NULL REFERENCES staff_member (id),
    collected_at     TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('collected', 'received', 'rejected', 'shipped')),
    received_by      INTEGER REFERENCES staff_member (id),
    received_at      TEXT,
    rejected_reason  TEXT,
    shipment_id      INTEGER REFERENCES shipment (id)
);
CREATE INDEX specimen_by_state ON specimen (state, collected_at);

-- A test ordered for a visit. placer_number: the order number sent with a send-out
-- (HL7 OBR-2) and matched when its results come back. state: ordered, collected,
-- received, resulted (entered, not yet verified), verified, rejected (its specimen was),
-- cancelled. version goes up with every change.
CREATE TABLE lab_order (
    id             INTEGER PRIMARY KEY,
    visit_id       INTEGER NOT NULL REFERENCES visit (id),
    lab_test_id    INTEGER NOT NULL REFERENCES lab_test (id),
    placer_number  TEXT    NOT NULL UNIQUE,
    priority       TEXT    NOT NULL CHECK (priority IN ('routine', 'urgent', 'stat')),
    note           TEXT    NOT NULL,
    ordered_by     INTEGER NOT NULL REFERENCES staff_member (id),
    ordered_at     TEXT    NOT NULL,
    specimen_id    INTEGER REFERENCES specimen (id),
    state          TEXT    NOT NULL CHECK (state IN ('ordered', 'collected', 'received', 'resulted', 'verified', 'rejected', 'cancelled')),
    version        INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX lab_order_by_visit ON lab_order (visit_id);
CREATE INDEX lab_order_by_state ON lab_order (state, ordered_at);

-- An HL7 v2 message received from a reference lab, once per sender and control id (MSH-10):
-- a message sent again is acknowledged without being stored twice. outcome: filed
-- (results attached), quarantined (held for a person). raw: the message as received.
CREATE TABLE hl7_message (
    id                 INTEGER PRIMARY KEY,
    sending_facility   TEXT    NOT NULL,
    control_id         TEXT    NOT NULL,
    transport          TEXT    NOT NULL CHECK (transport IN ('http', 'mllp')),
    received_at        TEXT    NOT NULL,
    outcome            TEXT    NOT NULL CHECK (outcome IN ('filed', 'quarantined')),
    raw                TEXT    NOT NULL,
    UNIQUE (sending_facility, control_id)
);

-- One observation: entered at the bench or received by HL7. loinc/name as reported
-- (unknown codes kept). flag: HL7 table 0078 (N, L, H, LL, HH, A, AA; empty when not
-- computed). status: preliminary, final, corrected. A result counts once verified.
CREATE TABLE lab_result (
    id               INTEGER PRIMARY KEY,
    lab_order_id     INTEGER NOT NULL REFERENCES lab_order (id),
    loinc            TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    value            TEXT    NOT NULL,
    numeric_value    REAL,
    unit             TEXT    NOT NULL,
    reference_range  TEXT    NOT NULL,
    flag             TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('preliminary', 'final', 'corrected')),
    source           TEXT    NOT NULL CHECK (source IN ('bench', 'hl7')),
    entered_by       INTEGER REFERENCES staff_member (id),
    entered_at       TEXT    NOT NULL,
    verified_by      INTEGER REFERENCES staff_member (id),
    verified_at      TEXT,
    hl7_message_id   INTEGER REFERENCES hl7_message (id)
);
CREATE INDEX lab_result_by_order ON lab_result (lab_order_id);
CREATE INDEX lab_result_by_code ON lab_result (loinc, verified_at);

-- A critical result told to a person: raised when verified; acknowledged by whoever was
-- reached (who, when, outcome: read_back, no_read_back, unable_to_reach, and the value as
-- they read it back); escalated to supervisors when nobody acknowledged by due_at.
CREATE TABLE critical_alert (
    id               INTEGER PRIMARY KEY,
    lab_result_id    INTEGER NOT NULL UNIQUE REFERENCES lab_result (id),
    visit_id         INTEGER NOT NULL REFERENCES visit (id),
    raised_at        TEXT    NOT NULL,
    due_at           TEXT    NOT NULL,
    escalated_at     TEXT,
    acknowledged_by  INTEGER REFERENCES staff_member (id),
    acknowledged_at  TEXT,
    outcome          TEXT CHECK (outcome IN ('read_back', 'no_read_back', 'unable_to_reach')),
    notified_person  TEXT,
    read_back_value  TEXT
);
CREATE INDEX critical_alert_open ON critical_alert (acknowledged_at, due_at);

-- Results that came back and could not be filed safely: no order matches, or the patient
-- in the message is not the order's. Kept whole until a person attaches or discards them.
CREATE TABLE lab_quarantine (
    id              INTEGER PRIMARY KEY,
    hl7_message_id  INTEGER NOT NULL REFERENCES hl7_message (id),
    placer_number   TEXT    NOT NULL,
    group_index     INTEGER NOT NULL,
    reason          TEXT    NOT NULL CHECK (reason IN ('unknown_order', 'patient_mismatch', 'order_closed')),
    patient_text    TEXT    NOT NULL,
    observations    TEXT    NOT NULL,
    resolved_by     INTEGER REFERENCES staff_member (id),
    resolved_at     TEXT,
    resolution      TEXT CHECK (resolution IN ('attached', 'discarded')),
    lab_order_id    INTEGER REFERENCES lab_order (id)
);

-- How long a critical value may wait for acknowledgement before it escalates.
ALTER TABLE facility_setting ADD COLUMN critical_escalation_minutes INTEGER NOT NULL DEFAULT 15
    CHECK (critical_escalation_minutes BETWEEN 1 AND 120);
