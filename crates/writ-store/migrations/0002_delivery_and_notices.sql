-- Delivery: what the delivery worker has done for each case, the sealed
-- packages, and when a legal hold's lapse was logged.

-- The case version the worker last fulfilled (holds placed, package
-- sealed). A case whose version is ahead of this row has work waiting.
CREATE TABLE fulfilment (
    case_id TEXT PRIMARY KEY,
    case_version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A case's current package. `generation` counts the packages of the case:
-- a later release of more pairs seals a new one that replaces the old.
-- `state` is `sealed` (waiting for `available_at`), `ready` (served until
-- `expires_at`) or `expired` (deleted).
CREATE TABLE packages (
    case_id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL,
    generation BIGINT NOT NULL,
    object TEXT NOT NULL,
    pairs TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    state TEXT NOT NULL,
    available_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX packages_state ON packages (state, available_at, expires_at);

ALTER TABLE holds ADD COLUMN released_at BIGINT;

-- User notices, one row per case: `sending` once claimed (a crash resends
-- it with the same `notice_id`), `sent` with its `notified` event.
CREATE TABLE notices (
    case_id TEXT PRIMARY KEY,
    notice_id TEXT NOT NULL,
    state TEXT NOT NULL,
    summary TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
