-- Failed console sign-ins, shared by every server of a deployment, so that
-- the throttle counts the same failures whichever server is asked. A row is
-- named by the SHA-256 of the user name tried (names that exist or not), so
-- that a copy of the database does not show what people typed.
CREATE TABLE sign_in_failures (
    seq {{SERIAL}},
    name_hash TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_name ON sign_in_failures (name_hash, at);
CREATE INDEX sign_in_failures_at ON sign_in_failures (at);
