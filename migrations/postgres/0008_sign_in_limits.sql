-- Sign-in failures counted per typed username (as sign_in_throttle did), per address and
-- for the whole server, in one table; and the browsers people have signed in from
-- (OWASP's device cookies), on which a paused username may still sign in.
-- Kept in step with ../sqlite/0008_sign_in_limits.sql.

-- scope: username (the subject is the typed username, whether or not such an account
-- exists), address (the subject is the client's address), everyone (the subject is
-- empty).
-- A streak is forgotten an hour after its first failure once its pause is over.
CREATE TABLE sign_in_limit (
    scope             TEXT        NOT NULL CHECK (scope IN ('username', 'address', 'everyone')),
    subject           TEXT        NOT NULL,
    failures          BIGINT      NOT NULL,
    first_failure_at  TIMESTAMPTZ NOT NULL,
    locked_until      TIMESTAMPTZ,
    PRIMARY KEY (scope, subject)
);

-- Its counts were only ever an hour deep: nothing to carry over.
DROP TABLE sign_in_throttle;

-- A browser on which the account signed in successfully, by the SHA-256 of the random
-- token its device cookie carries (the token itself is never stored). Failures from it
-- are counted here, not against the username; five in a row pause this trust like a
-- username's. Trust lasts 90 days from the last successful sign-in.
CREATE TABLE trusted_device (
    token_hash    TEXT        NOT NULL,
    account_id    BIGINT      NOT NULL REFERENCES account (id),
    trusted_at    TIMESTAMPTZ NOT NULL,
    failures      BIGINT      NOT NULL DEFAULT 0,
    locked_until  TIMESTAMPTZ,
    PRIMARY KEY (token_hash, account_id)
);
CREATE INDEX trusted_device_by_account ON trusted_device (account_id);
