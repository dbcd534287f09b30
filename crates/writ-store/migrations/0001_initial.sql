-- Writ's case store. One schema for SQLite and PostgreSQL: times are integer
-- epoch seconds, JSON is text, booleans are 0/1 integers. `{{SERIAL}}` is the
-- dialect's auto-incrementing primary key.

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE agencies (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    country TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    verified_since BIGINT,
    powers TEXT NOT NULL,
    callback_numbers TEXT NOT NULL,
    age_recipient TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE agency_keys (
    key_id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    public_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX agency_keys_agency ON agency_keys (agency_id);

CREATE TABLE agency_history (
    seq {{SERIAL}},
    agency_id TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX agency_history_agency ON agency_history (agency_id);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL
);

-- Every identifier of an account, normalised as the engine compares it, and
-- the account's own id under the kind `account_id`.
CREATE TABLE account_identifiers (
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (kind, value)
);

CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    -- The agency whose key signed the order: it owns the case.
    agency_id TEXT NOT NULL,
    reference TEXT NOT NULL,
    order_json TEXT NOT NULL,
    order_sha256 TEXT NOT NULL,
    canonical_sha256 TEXT NOT NULL,
    instrument TEXT NOT NULL,
    emergency BIGINT NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT NOT NULL,
    decision TEXT NOT NULL,
    decided_now BIGINT NOT NULL,
    due_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (agency_id, reference)
);
CREATE INDEX cases_status ON cases (status, emergency, due_at);

-- Legal holds placed by preservation orders.
CREATE TABLE holds (
    agency_id TEXT NOT NULL,
    reference TEXT NOT NULL,
    case_id TEXT NOT NULL,
    instrument TEXT NOT NULL,
    accounts TEXT NOT NULL,
    preserve_until BIGINT NOT NULL,
    renewals BIGINT NOT NULL,
    PRIMARY KEY (agency_id, reference)
);

-- The event outbox: every state change is written here in the same
-- transaction as the change itself, then sequenced into the transparency
-- log. `state` is `pending` (to be appended), `deferred` (held back under
-- docs/formats.md, "Deferred entries") or `logged` (with its `log_index`).
CREATE TABLE events (
    seq {{SERIAL}},
    case_id TEXT,
    kind TEXT NOT NULL,
    entry TEXT NOT NULL,
    private TEXT NOT NULL,
    state TEXT NOT NULL,
    log_index BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_state ON events (state, seq);
CREATE INDEX events_case ON events (case_id);

CREATE TABLE console_users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    disabled BIGINT NOT NULL
);

-- Personal access tokens, stored as the SHA-256 of the token.
CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY,
    user_name TEXT NOT NULL REFERENCES console_users (name),
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX access_tokens_user ON access_tokens (user_name);

-- A reviewer's or approver's proposed action, waiting for a second approver.
CREATE TABLE proposals (
    seq {{SERIAL}},
    case_id TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    proposed_by TEXT NOT NULL,
    role TEXT NOT NULL,
    state TEXT NOT NULL,
    decided_by TEXT,
    created_at BIGINT NOT NULL,
    decided_at BIGINT
);
CREATE INDEX proposals_case ON proposals (case_id, state);
