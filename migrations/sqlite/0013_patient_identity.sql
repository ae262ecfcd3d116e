-- A real clinic's patients (issue 17): the identity a front desk records, and names
-- found as people type them. Kept in step with ../postgres/0013_patient_identity.sql.
--
-- record_number is Plateau's own (assigning_authority '') or the front office's, with
-- the authority that assigned it (HL7 PID-3.4), as the front office sends it.
ALTER TABLE patient ADD COLUMN assigning_authority TEXT NOT NULL DEFAULT '';
-- The name at birth (nom de naissance), when the family name used is another.
ALTER TABLE patient ADD COLUMN birth_name TEXT NOT NULL DEFAULT '';
ALTER TABLE patient ADD COLUMN interpreter_needed INTEGER NOT NULL DEFAULT 0 CHECK (interpreter_needed IN (0, 1));
-- The personne de confiance and whom to call in an emergency, as the patient gave them.
ALTER TABLE patient ADD COLUMN trusted_person TEXT NOT NULL DEFAULT '';
ALTER TABLE patient ADD COLUMN emergency_contact TEXT NOT NULL DEFAULT '';
ALTER TABLE patient ADD COLUMN weight_grams INTEGER CHECK (weight_grams BETWEEN 200 AND 500000);
ALTER TABLE patient ADD COLUMN weighed_on TEXT;
-- Whether allergies were asked: 'unasked', 'none_known' (an answer, not a blank), or
-- 'recorded' (the allergy rows say which).
ALTER TABLE patient ADD COLUMN allergies TEXT NOT NULL DEFAULT 'unasked'
    CHECK (allergies IN ('unasked', 'none_known', 'recorded'));
-- A record merged into another (a duplicate): everything of it now belongs to that one.
ALTER TABLE patient ADD COLUMN merged_into INTEGER REFERENCES patient (id);

-- The family and given names folded, the order search results are listed in (so that
-- "Oeuvray" and "Œuvray" sit together).
ALTER TABLE patient ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
CREATE INDEX patient_by_name ON patient (facility_id, name_key);

-- Each word of a patient's names, folded (no accents, capitals or ligatures: see
-- patients::matching), so a search as one types is an index range per word.
CREATE TABLE patient_name_token (
    token       TEXT    NOT NULL,
    patient_id  INTEGER NOT NULL REFERENCES patient (id),
    PRIMARY KEY (token, patient_id)
);
CREATE INDEX patient_by_birth_date ON patient (facility_id, birth_date);

CREATE TABLE allergy (
    id           INTEGER PRIMARY KEY,
    patient_id   INTEGER NOT NULL REFERENCES patient (id),
    substance    TEXT    NOT NULL,
    reaction     TEXT    NOT NULL,
    severity     TEXT    NOT NULL CHECK (severity IN ('mild', 'moderate', 'severe', 'unknown')),
    recorded_at  TEXT    NOT NULL,
    recorded_by  INTEGER REFERENCES account (id)
);
CREATE INDEX allergy_by_patient ON allergy (patient_id);
