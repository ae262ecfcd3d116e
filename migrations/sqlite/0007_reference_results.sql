-- Results from reference labs held to the clinic's own rules: every result is read against
-- the catalog (range, plausible and critical limits, unit) whoever measured it, the sender's
-- own flag and range are kept beside Plateau's, and nothing a lab said is thrown away (codes
-- and their systems, comments, observation and collection times, corrections).
-- A lab is known by what it presents: its token over HTTP, its addresses and MSH-4 over MLLP.
-- Kept in step with ../postgres/0007_reference_results.sql: same tables, same columns.
--
-- SQLite cannot drop a CHECK constraint, so lab_quarantine (which nothing refers to) is
-- rebuilt: renamed aside, made anew under its name, filled from the old one, which is dropped.
-- hl7_message, which results refer to, keeps its table: its UNIQUE pair is repurposed (below).

-- How the lab names itself in MSH-4 (HD namespace or universal id); required to receive over
-- MLLP, and when set, every message it sends over HTTP must carry it.
ALTER TABLE reference_lab ADD COLUMN sending_facility TEXT NOT NULL DEFAULT '';

-- The addresses a reference lab's interface engine connects from over MLLP. A connection
-- from any other address is refused before a byte is read.
CREATE TABLE reference_lab_peer (
    id                INTEGER PRIMARY KEY,
    reference_lab_id  INTEGER NOT NULL REFERENCES reference_lab (id),
    address           TEXT    NOT NULL,
    UNIQUE (reference_lab_id, address)
);
CREATE INDEX reference_lab_peer_by_address ON reference_lab_peer (address);

-- A message is the same message only when the same authenticated lab sends the same control
-- id (MSH-10) with the same content (content_sha256: SHA-256 of its segments joined by CR);
-- the same id with other content is stored and flagged (control_id_reused) until a person
-- has reviewed it (reviewed_by, reviewed_at). reference_lab_id: the lab that presented its
-- token or connected from its address. The earlier UNIQUE (sending_facility, control_id)
-- becomes UNIQUE (receipt_key, control_id): receipt_key is `<reference_lab_id>/<content_sha256>`,
-- and for messages received before this migration (no lab, no digest) what MSH-4 said.
-- sending_facility is MSH-4 (else MSH-3) as each message says.
ALTER TABLE hl7_message RENAME COLUMN sending_facility TO receipt_key;
ALTER TABLE hl7_message ADD COLUMN sending_facility TEXT NOT NULL DEFAULT '';
UPDATE hl7_message SET sending_facility = receipt_key;
ALTER TABLE hl7_message ADD COLUMN reference_lab_id INTEGER REFERENCES reference_lab (id);
ALTER TABLE hl7_message ADD COLUMN content_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE hl7_message ADD COLUMN control_id_reused INTEGER NOT NULL DEFAULT 0 CHECK (control_id_reused IN (0, 1));
ALTER TABLE hl7_message ADD COLUMN reviewed_by INTEGER REFERENCES staff_member (id);
ALTER TABLE hl7_message ADD COLUMN reviewed_at TEXT;
CREATE INDEX hl7_message_by_lab ON hl7_message (reference_lab_id, control_id);
CREATE INDEX hl7_message_to_review ON hl7_message (control_id_reused, reviewed_at);

-- Held results, with more reasons to hold them: the order was not sent to the lab that
-- answers (not_sent_to_this_lab), it was already verified and this is not a correction
-- (already_verified), the message's test (OBR-4) is not the order's (test_mismatch), a value
-- fails the clinic's plausibility check (implausible) or comes in another unit than the
-- catalog's (unit_mismatch). A person attaching results to an order whose patient differs
-- from the message's asks a second person (attach_*); only another person confirms
-- (confirmed_by), and both are in the audit trail.
ALTER TABLE lab_quarantine RENAME TO lab_quarantine_before_0007;
CREATE TABLE lab_quarantine (
    id                   INTEGER PRIMARY KEY,
    hl7_message_id       INTEGER NOT NULL REFERENCES hl7_message (id),
    placer_number        TEXT    NOT NULL,
    group_index          INTEGER NOT NULL,
    reason               TEXT    NOT NULL CHECK (reason IN ('unknown_order', 'patient_mismatch', 'order_closed',
                             'not_sent_to_this_lab', 'already_verified', 'test_mismatch', 'implausible',
                             'unit_mismatch')),
    patient_text         TEXT    NOT NULL,
    observations         TEXT    NOT NULL,
    resolved_by          INTEGER REFERENCES staff_member (id),
    resolved_at          TEXT,
    resolution           TEXT CHECK (resolution IN ('attached', 'discarded')),
    lab_order_id         INTEGER REFERENCES lab_order (id),
    attach_order_id      INTEGER REFERENCES lab_order (id),
    attach_requested_by  INTEGER REFERENCES staff_member (id),
    attach_requested_at  TEXT,
    attach_reason        TEXT,
    confirmed_by         INTEGER REFERENCES staff_member (id)
);
INSERT INTO lab_quarantine (id, hl7_message_id, placer_number, group_index, reason, patient_text, observations,
                            resolved_by, resolved_at, resolution, lab_order_id)
    SELECT id, hl7_message_id, placer_number, group_index, reason, patient_text, observations, resolved_by,
           resolved_at, resolution, lab_order_id FROM lab_quarantine_before_0007;
DROP TABLE lab_quarantine_before_0007;
CREATE INDEX lab_quarantine_open ON lab_quarantine (resolved_at);

-- What a result said, kept whole. observation_code/_system/_text: OBX-3 as sent (loinc keeps
-- the LOINC code only: OBX-3's own when its system is LN, else its alternate coding's, else
-- empty). value_code/_system/_text: a coded value (CWE OBX-5: code, system such as SCT, and
-- the original text). sender_flag / sender_range: OBX-8 and OBX-7 as sent, beside Plateau's
-- flag and range. status_as_sent: OBX-11 as sent (empty when missing). clinic_rules: applied
-- (the catalog's range, limits and unit were applied), not_applicable (no such test in the
-- catalog, or a value its rules cannot read such as "<5": the sender's flag and range are
-- shown as sent), unit_differs (attached by a person in another unit: no flag computed). observed_at: OBX-14, else OBR-7; collected_at: OBR-7,
-- else SPM-17. replaces_result_id: the earlier result of the same observation this one
-- supersedes (a correction, or a final after a preliminary).
ALTER TABLE lab_result ADD COLUMN observation_code TEXT NOT NULL DEFAULT '';
ALTER TABLE lab_result ADD COLUMN observation_system TEXT NOT NULL DEFAULT '';
ALTER TABLE lab_result ADD COLUMN observation_text TEXT NOT NULL DEFAULT '';
ALTER TABLE lab_result ADD COLUMN value_code TEXT NOT NULL DEFAULT '';
ALTER TABLE lab_result ADD COLUMN value_system TEXT NOT NULL DEFAULT '';
ALTER TABLE lab_result ADD COLUMN value_text TEXT NOT NULL DEFAULT '';
ALTER TABLE lab_result ADD COLUMN sender_flag TEXT NOT NULL DEFAULT '';
ALTER TABLE lab_result ADD COLUMN sender_range TEXT NOT NULL DEFAULT '';
ALTER TABLE lab_result ADD COLUMN status_as_sent TEXT NOT NULL DEFAULT '';
ALTER TABLE lab_result ADD COLUMN clinic_rules TEXT NOT NULL DEFAULT 'applied'
    CHECK (clinic_rules IN ('applied', 'not_applicable', 'unit_differs'));
ALTER TABLE lab_result ADD COLUMN observed_at TEXT;
ALTER TABLE lab_result ADD COLUMN collected_at TEXT;
ALTER TABLE lab_result ADD COLUMN replaces_result_id INTEGER REFERENCES lab_result (id);
CREATE INDEX lab_result_replaces ON lab_result (replaces_result_id);

-- Comments (NTE) a reference lab sent: about the report as a whole (filed with each of its
-- orders), an order, or one result.
CREATE TABLE lab_note (
    id              INTEGER PRIMARY KEY,
    hl7_message_id  INTEGER NOT NULL REFERENCES hl7_message (id),
    lab_order_id    INTEGER NOT NULL REFERENCES lab_order (id),
    lab_result_id   INTEGER REFERENCES lab_result (id),
    level           TEXT    NOT NULL CHECK (level IN ('report', 'order', 'result')),
    text            TEXT    NOT NULL
);
CREATE INDEX lab_note_by_order ON lab_note (lab_order_id);

-- Fails the migration (and rolls it back) if the swap left a dangling reference.
CREATE TEMP TABLE migration_check (ok INTEGER NOT NULL CHECK (ok = 1));
INSERT INTO migration_check SELECT CASE WHEN EXISTS (SELECT 1 FROM pragma_foreign_key_check) THEN 0 ELSE 1 END;
DROP TABLE migration_check;
