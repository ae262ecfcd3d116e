-- The clinic's national identifier, which an administrator sets up with its name and
-- time zone (issue 17): in France its FINESS number (9 characters). Empty until set.
-- Kept in step with ../sqlite/0015_facility_identity.sql.
ALTER TABLE facility ADD COLUMN national_id TEXT NOT NULL DEFAULT '';
