-- The department inbox (issue 8): accounts, server-side sessions, and the clerk-side state of a
-- submission (kept apart from the pipeline state). Keep sqlite/ in step with this file.

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

-- A summary of the signature reports of each submission's documents, kept by triggers on
-- `documents` (the pipeline writes reports; the inbox filters on these columns instead of
-- searching report JSON row by row). Reports are compact JSON (serde_json), so a field reads
-- `"name":"value"`. sig_kinds lists the kinds found, comma-wrapped: ',qes,trusted_profile,'.
ALTER TABLE submissions ADD COLUMN sig_failed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE submissions ADD COLUMN sig_indeterminate BIGINT NOT NULL DEFAULT 0;
ALTER TABLE submissions ADD COLUMN sig_kinds TEXT NOT NULL DEFAULT ',';
-- Counting per clerk state across all departments (the intake office's view).
CREATE INDEX submissions_clerk_state ON submissions (clerk_state, received_at);
-- The few submissions whose signatures need a look, so filtering and counting them does not
-- walk a whole inbox.
CREATE INDEX submissions_sig_problem ON submissions (department, clerk_state, received_at)
    WHERE sig_failed = 1 OR sig_indeterminate = 1;

UPDATE submissions SET
    sig_failed = CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = submissions.id AND d.report LIKE '%"indication":"TOTAL_FAILED"%') THEN 1 ELSE 0 END,
    sig_indeterminate = CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = submissions.id AND d.report LIKE '%"indication":"INDETERMINATE"%') THEN 1 ELSE 0 END,
    sig_kinds = ',' ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = submissions.id AND d.report LIKE '%"kind":"qes"%') THEN 'qes,' ELSE '' END ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = submissions.id AND d.report LIKE '%"kind":"qualified_seal"%') THEN 'qualified_seal,' ELSE '' END ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = submissions.id AND d.report LIKE '%"kind":"trusted_profile"%') THEN 'trusted_profile,' ELSE '' END ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = submissions.id AND d.report LIKE '%"kind":"personal"%') THEN 'personal,' ELSE '' END ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = submissions.id AND d.report LIKE '%"kind":"advanced"%') THEN 'advanced,' ELSE '' END ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = submissions.id AND d.report LIKE '%"kind":"unknown"%') THEN 'unknown,' ELSE '' END;

CREATE FUNCTION podawcza_sig_summary() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
UPDATE submissions SET
    sig_failed = CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"indication":"TOTAL_FAILED"%') THEN 1 ELSE 0 END,
    sig_indeterminate = CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"indication":"INDETERMINATE"%') THEN 1 ELSE 0 END,
    sig_kinds = ',' ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"kind":"qes"%') THEN 'qes,' ELSE '' END ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"kind":"qualified_seal"%') THEN 'qualified_seal,' ELSE '' END ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"kind":"trusted_profile"%') THEN 'trusted_profile,' ELSE '' END ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"kind":"personal"%') THEN 'personal,' ELSE '' END ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"kind":"advanced"%') THEN 'advanced,' ELSE '' END ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"kind":"unknown"%') THEN 'unknown,' ELSE '' END
WHERE id = NEW.submission_id;
RETURN NULL;
END
$$;
CREATE TRIGGER documents_sig_summary AFTER INSERT OR UPDATE OF report ON documents
FOR EACH ROW EXECUTE FUNCTION podawcza_sig_summary();
