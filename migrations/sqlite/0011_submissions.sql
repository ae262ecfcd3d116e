-- A form acts once however often it is sent (issue 16): a double tap, or a request the
-- tablet sends again after a Wi-Fi drop. The browser gives each filled-in form a random
-- key; the first transaction the request commits claims it, so a change and its claim
-- commit together or not at all; the answer is kept, and a repeat gets the same answer
-- without acting again. Rows older than a day are removed as new ones are claimed.
-- Kept in step with ../postgres/0011_submissions.sql.
CREATE TABLE submission (
    account_id    INTEGER NOT NULL REFERENCES account (id),
    key           TEXT    NOT NULL CHECK (length(key) BETWEEN 16 AND 64),
    -- The address and body it was sent with (SHA-256, hex): the same key sent with
    -- something else is refused, never answered with another form's answer.
    request       TEXT    NOT NULL,
    claimed_at    TEXT    NOT NULL,
    -- The answer, once sent: its status, the headers that carry meaning (JSON) and body.
    status        INTEGER,
    headers       TEXT,
    body          BLOB,
    PRIMARY KEY (account_id, key)
);
CREATE INDEX submission_by_age ON submission (claimed_at);
