-- The IMAP channel and the outbox (issue 6). Keep sqlite/ and postgres/ in step (identical here).

-- Every message the poller took from a folder, keyed by its IMAP coordinates. A row is written after
-- the message is registered (or recognised as oversized) and before it is marked on the server;
-- `marked_at` stays NULL until the mark (keyword + \Seen, or the move) has been done, so a crash
-- between the two redoes only the mark.
CREATE TABLE imap_messages (
    mailbox TEXT NOT NULL,
    folder TEXT NOT NULL,
    uidvalidity BIGINT NOT NULL,
    uid BIGINT NOT NULL,
    message_id TEXT,
    sha256 TEXT,
    size BIGINT NOT NULL,
    -- registered | oversized
    status TEXT NOT NULL,
    submission_id TEXT REFERENCES submissions(id),
    internal_date TEXT,
    -- Oversized messages: their header, kept so a clerk can see what was left on the server.
    headers TEXT,
    taken_at TEXT NOT NULL,
    marked_at TEXT,
    PRIMARY KEY (mailbox, folder, uidvalidity, uid)
);
CREATE INDEX imap_messages_unmarked ON imap_messages (mailbox, folder, uidvalidity, marked_at);
CREATE INDEX imap_messages_status ON imap_messages (mailbox, status);

-- The highest UID taken per folder and UIDVALIDITY: later searches start above it.
CREATE TABLE imap_folders (
    mailbox TEXT NOT NULL,
    folder TEXT NOT NULL,
    uidvalidity BIGINT NOT NULL,
    high_uid BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (mailbox, folder, uidvalidity)
);

-- One row per mailbox: the lease of the one process polling it, and its health.
CREATE TABLE mailbox_state (
    mailbox TEXT PRIMARY KEY,
    lease_owner TEXT,
    lease_until TEXT,
    last_poll_at TEXT,
    last_success_at TEXT,
    last_error TEXT,
    backlog BIGINT NOT NULL DEFAULT 0
);

-- Outgoing mail: acknowledgements to senders and notifications to departments. One row per
-- (kind, submission, recipient), so enqueueing twice records once; the complete message (with its
-- Message-ID) is built at enqueue time, so a resend after a crash is the same message.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    -- ack | notify
    kind TEXT NOT NULL,
    submission_id TEXT NOT NULL REFERENCES submissions(id),
    recipient TEXT NOT NULL,
    message TEXT NOT NULL,
    -- pending | sent | failed | suppressed
    state TEXT NOT NULL,
    reason TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    lease_owner TEXT,
    lease_until TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    UNIQUE (kind, submission_id, recipient)
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_recipient ON outbox (recipient, created_at);
