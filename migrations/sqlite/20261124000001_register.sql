-- The register: submissions, their documents, departments, assignments and the audit trail.
-- Times are RFC 3339 text in UTC with microseconds (they sort lexically in time order), so the
-- same queries run on SQLite and PostgreSQL. Keep postgres/ in step with this file.

-- One row per year: the last registration number given (gap-free: taken in the registering transaction).
CREATE TABLE reg_counters (
    year BIGINT PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE departments (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT ''
);

CREATE TABLE submissions (
    id TEXT PRIMARY KEY,
    -- Assigned in the same transaction as the insert; immutable afterwards.
    registration_number TEXT UNIQUE,
    reg_year BIGINT NOT NULL,
    reg_seq BIGINT,
    channel TEXT NOT NULL,
    -- Authoritative arrival time from the channel (never updated) and where it came from.
    received_at TEXT NOT NULL,
    arrival_source TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    sender TEXT,
    sender_name TEXT,
    recipients TEXT NOT NULL DEFAULT '[]',
    subject TEXT,
    body_text TEXT,
    message_id TEXT,
    raw_sha256 TEXT NOT NULL,
    raw_size BIGINT NOT NULL,
    -- Duplicate key for mail: raw SHA-256 and Message-ID; NULL for uploads (each upload is an act).
    dedup_key TEXT UNIQUE,
    -- Where it was taken from (a file path, an IMAP mailbox/folder/uidvalidity/uid).
    source TEXT,
    state TEXT NOT NULL,
    department TEXT REFERENCES departments(code),
    routing_rule TEXT,
    signed BIGINT,
    quarantine_reason TEXT,
    lease_owner TEXT,
    lease_until TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at TEXT NOT NULL,
    UNIQUE (reg_year, reg_seq)
);
CREATE INDEX submissions_work ON submissions (state, lease_until);
CREATE INDEX submissions_inbox ON submissions (department, received_at);
CREATE INDEX submissions_received ON submissions (received_at);

CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    submission_id TEXT NOT NULL REFERENCES submissions(id),
    seq BIGINT NOT NULL,
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    declared_type TEXT,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    container TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL,
    report TEXT,
    signed BIGINT,
    UNIQUE (submission_id, seq)
);

CREATE TABLE assignments (
    id TEXT PRIMARY KEY,
    submission_id TEXT NOT NULL REFERENCES submissions(id),
    department TEXT NOT NULL REFERENCES departments(code),
    assigned_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    rule TEXT,
    note TEXT
);
CREATE INDEX assignments_submission ON assignments (submission_id);

-- Append-only: who, what, when, why. Ids are UUIDv7 (time-ordered).
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    submission_id TEXT NOT NULL REFERENCES submissions(id),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    reason TEXT
);
CREATE INDEX audit_events_submission ON audit_events (submission_id, at);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;

-- Registration numbers are immutable once given.
CREATE TRIGGER submissions_number_immutable BEFORE UPDATE OF registration_number, received_at ON submissions
WHEN OLD.registration_number IS NOT NULL AND (NEW.registration_number IS NOT OLD.registration_number OR NEW.received_at IS NOT OLD.received_at)
BEGIN SELECT RAISE(ABORT, 'registration number and arrival time are immutable'); END;
