-- Where an agency is told that one of its cases needs its attention: a
-- contact address for e-mail and, set only by the provider's admins, a
-- webhook URL with its signing secret (`whsec_<base64>`). `since`: cases
-- and packages older than the contact settings are not announced.
CREATE TABLE agency_contacts (
    agency_id TEXT PRIMARY KEY,
    email TEXT,
    webhook_url TEXT,
    webhook_secret TEXT,
    since BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- One row per thing announced: `id` is `<case>:<kind>:<generation>`, so
-- that each is announced once. `state` is pending, sent or dead.
CREATE TABLE agency_notifications (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    generation BIGINT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX agency_notifications_due ON agency_notifications (state, next_attempt_at);
CREATE INDEX agency_notifications_case ON agency_notifications (case_id);
CREATE INDEX cases_updated ON cases (updated_at);
