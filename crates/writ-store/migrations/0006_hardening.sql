-- State that must be shared by every server of a deployment so that a
-- restart or a second server does not reopen a door: used signature nonces
-- and redeemed portal challenges, and the last accepted TOTP step per user.

-- One row per used one-time value (an API signature's nonce, a redeemed
-- portal challenge), named by the SHA-256 of a domain-separated key so that
-- every row has the same small size whatever a client sent. A row is kept
-- until the value could no longer be accepted anyway, then pruned.
CREATE TABLE used_nonces (
    key_hash TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX used_nonces_expiry ON used_nonces (expires_at);

-- RFC 6238, section 5.2: a TOTP code is accepted once. The time step of the
-- last accepted code; a code of that step or an earlier one is refused.
CREATE TABLE totp_last_steps (
    user_name TEXT PRIMARY KEY,
    last_step BIGINT NOT NULL
);

-- Portal challenges are stateless now (MAC-protected, see the server's
-- portal page), so that an anonymous visitor writes nothing; only redeemed
-- ones are recorded, in used_nonces.
DROP TABLE portal_challenges;
