-- The audit trail made tamper-evident (issue 15). From now on each row carries a seal:
-- the SHA-256 of the previous row's seal and its own fields, computed by the server
-- (app/src/store/trail.rs); `plateau audit verify` recomputes them and names the first
-- row that does not match. Rows written before this migration carry none (SQLite cannot
-- compute a SHA-256, and the triggers rightly refuse to update them): the chain starts
-- at the first sealed row, and an unsealed row after it is a break.
-- Kept in step with ../postgres/0009_audit_chain.sql.
ALTER TABLE audit_event ADD COLUMN chain_hash TEXT;

-- The chain's head, one row: the newest seal and how many rows are sealed, so that
-- removing the newest rows is found too. Writers on PostgreSQL lock it to append in
-- turn; on SQLite the one writer already does.
CREATE TABLE audit_chain (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    last_hash  TEXT    NOT NULL,
    sealed     INTEGER NOT NULL
);
INSERT INTO audit_chain (id, last_hash, sealed) VALUES (1, '', 0);

-- The head can move forward only: its count never falls and it is never removed.
CREATE TRIGGER audit_chain_forward_only BEFORE UPDATE ON audit_chain
WHEN NEW.sealed < OLD.sealed OR NEW.id <> OLD.id
BEGIN
    SELECT RAISE(ABORT, 'audit_chain only moves forward');
END;

CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
BEGIN
    SELECT RAISE(ABORT, 'audit_chain only moves forward');
END;
