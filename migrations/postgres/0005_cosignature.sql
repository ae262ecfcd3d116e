-- Supervisors co-sign the work they supervised once it is done: when, and an optional
-- remark, on their own row of the team. A co-signature is final: nothing clears it.
-- Kept in step with ../sqlite/0005_cosignature.sql.
ALTER TABLE procedure_staff ADD COLUMN cosigned_at TIMESTAMPTZ;
ALTER TABLE procedure_staff ADD COLUMN cosign_note TEXT;
