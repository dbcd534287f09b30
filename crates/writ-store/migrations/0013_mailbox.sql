-- The legal-process mailbox (`writ serve --imap`): one row per message read
-- from the mailbox, kept for staff to transcribe into an order. A message
-- is known by its mailbox address (`uidvalidity`, `uid`) and, when it has
-- one, by its Message-ID: a mailbox whose UIDVALIDITY changed is read
-- again, and a message already kept moves to its new address instead of
-- becoming a second row. `attachments` is a JSON array of what the message
-- carried (name, media type, SHA-256, size, whether it may be an order's
-- document); their bytes are objects under `attachments/mailbox/<id>/`,
-- written before the row. `state` is `new`, `transcribed` (with the case
-- recorded from it) or `dismissed`, with who and when.
CREATE TABLE mailbox (
    id TEXT PRIMARY KEY,
    uidvalidity BIGINT NOT NULL,
    uid BIGINT NOT NULL,
    message_id TEXT,
    sender TEXT NOT NULL,
    subject TEXT NOT NULL,
    sent_at BIGINT,
    body TEXT NOT NULL,
    note TEXT,
    attachments TEXT NOT NULL,
    state TEXT NOT NULL,
    case_id TEXT,
    actor TEXT,
    decided_at BIGINT,
    received_at BIGINT NOT NULL,
    UNIQUE (uidvalidity, uid)
);
CREATE UNIQUE INDEX mailbox_message_id ON mailbox (message_id);
CREATE INDEX mailbox_received ON mailbox (received_at);
