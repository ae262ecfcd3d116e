-- An administrator opens no patient (issue 15): the roles that open patients, given by
-- an administrator, wait for a second person (another administrator or a supervisor)
-- before they take effect; and a password someone else set must be changed by its owner
-- at the next sign-in. Kept in step with ../postgres/0010_second_person_for_accounts.sql.

-- Set when an administrator creates the account or resets its password; cleared when
-- its owner chooses a new one.
ALTER TABLE account ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0
    CHECK (must_change_password IN (0, 1));

-- A role asked for an account by an administrator, waiting for a second person. Once
-- decided (confirmed: the role is added; declined: it is not) the row stays, for review.
CREATE TABLE role_grant (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES account (id),
    role          TEXT    NOT NULL CHECK (role IN ('medical_assistant', 'nurse', 'phlebotomist',
                      'lab_technician', 'physician', 'supervisor', 'front_desk', 'administrator')),
    requested_by  INTEGER NOT NULL REFERENCES account (id),
    requested_at  TEXT    NOT NULL,
    decision      TEXT    CHECK (decision IN ('confirmed', 'declined', 'withdrawn')),
    decided_by    INTEGER REFERENCES account (id),
    decided_at    TEXT,
    CHECK ((decision IS NULL) = (decided_at IS NULL)),
    -- Nobody confirms their own request (a withdrawal is by whoever changed the roles).
    CHECK (decision IS NOT 'confirmed' OR decided_by <> requested_by)
);
CREATE UNIQUE INDEX role_grant_one_waiting ON role_grant (account_id, role) WHERE decision IS NULL;
