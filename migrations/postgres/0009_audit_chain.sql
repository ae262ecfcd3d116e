-- The audit trail made tamper-evident (issue 15). From now on each row carries a seal:
-- the SHA-256 of the previous row's seal and its own fields, computed by the server
-- (app/src/store/trail.rs); `plateau audit verify` recomputes them and names the first
-- row that does not match. Rows written before this migration carry none: the chain
-- starts at the first sealed row, and an unsealed row after it is a break.
-- Kept in step with ../sqlite/0009_audit_chain.sql.
ALTER TABLE audit_event ADD COLUMN chain_hash TEXT;

-- The chain's head, one row: the newest seal and how many rows are sealed, so that
-- removing the newest rows is found too. Writers lock it to append in turn, as the last
-- statement before their commit.
CREATE TABLE audit_chain (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    last_hash  TEXT   NOT NULL,
    sealed     BIGINT NOT NULL
);
INSERT INTO audit_chain (id, last_hash, sealed) VALUES (1, '', 0);

-- The head can move forward only: its count never falls and it is never removed.
CREATE FUNCTION audit_chain_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR NEW.sealed < OLD.sealed OR NEW.id <> OLD.id THEN
        RAISE EXCEPTION 'audit_chain only moves forward';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER audit_chain_forward_only BEFORE UPDATE OR DELETE ON audit_chain
    FOR EACH ROW EXECUTE FUNCTION audit_chain_forward_only();
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_forward_only();
