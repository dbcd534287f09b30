-- An agency's officers: people with accounts of their own in the portal.
-- `admin` marks the agency's officer-admins, who add and remove their
-- agency's officers. `totp_secret` is the fallback second factor; a
-- removed officer keeps its row (`removed_at`), so that the cases it
-- submitted still name it.
CREATE TABLE officers (
    id TEXT PRIMARY KEY,
    agency_id TEXT NOT NULL,
    name TEXT NOT NULL,
    title TEXT NOT NULL,
    badge TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT NOT NULL,
    admin BIGINT NOT NULL,
    totp_secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    removed_at BIGINT
);
CREATE INDEX officers_agency ON officers (agency_id);
CREATE UNIQUE INDEX officers_live_email ON officers (agency_id, email) WHERE removed_at IS NULL;
-- An officer's passkeys (WebAuthn credentials, as webauthn-rs serializes
-- them), named by their credential id (base64url).
CREATE TABLE officer_passkeys (
    credential_id TEXT PRIMARY KEY,
    officer_id TEXT NOT NULL,
    passkey TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX officer_passkeys_officer ON officer_passkeys (officer_id);
-- A portal session opened by an officer names it; one opened with the
-- agency's key does not.
ALTER TABLE portal_sessions ADD COLUMN officer_id TEXT;
