-- The department inbox (issue 8): accounts, server-side sessions, and the clerk-side state of a
-- submission (kept apart from the pipeline state). Keep postgres/ in step with this file.

-- People who log in. The password is an argon2id PHC string; never the password itself.
CREATE TABLE users (
    login TEXT PRIMARY KEY,
    department TEXT NOT NULL REFERENCES departments(code),
    -- clerk: one department's inbox; intake: the intake office (BP), sees and routes everything;
    -- admin: as intake, and manages users.
    role TEXT NOT NULL CHECK (role IN ('clerk', 'intake', 'admin')),
    password_hash TEXT NOT NULL,
    -- Failed logins in a row; at the configured limit the account is locked until `locked_until`.
    failed_attempts BIGINT NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL
);

-- Server-side sessions. The cookie holds a random id; only its SHA-256 is stored, so a copy of the
-- database does not let anyone log in. Each session has its own CSRF token.
CREATE TABLE sessions (
    id_sha256 TEXT PRIMARY KEY,
    login TEXT NOT NULL REFERENCES users(login),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_login ON sessions (login);

-- The clerk-side state: new -> in_progress -> waiting (for the party) -> done, and who took it.
ALTER TABLE submissions ADD COLUMN clerk_state TEXT NOT NULL DEFAULT 'new';
ALTER TABLE submissions ADD COLUMN assignee TEXT;
CREATE INDEX submissions_inbox_state ON submissions (department, clerk_state, received_at);
