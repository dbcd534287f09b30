-- The agency portal's one-time sign-in challenges and its sessions, shared
-- by every server of a deployment.

-- A challenge is taken (deleted) by the first sign-in that presents it.
CREATE TABLE portal_challenges (
    challenge TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX portal_challenges_expiry ON portal_challenges (expires_at);

-- A session is named by the SHA-256 of the secret in the officer's cookie.
CREATE TABLE portal_sessions (
    secret_hash TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX portal_sessions_expiry ON portal_sessions (expires_at);
