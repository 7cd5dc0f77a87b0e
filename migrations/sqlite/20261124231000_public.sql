-- The public side (issue 7): receipts of uploads and API submissions, and the tokens of the
-- systems that use the API. Keep postgres/ in step with this file.

-- One receipt (urzędowe poświadczenie przedłożenia) per submission, made once and kept as issued:
-- the sealed XML and the printable PDF are blobs, so what the resident got can be shown again
-- byte for byte. The access code for the status lookup is stored only as its SHA-256, with the
-- registration (same transaction); the receipt itself is filled in once made (issued_at NULL
-- until then: made on the next opening of the result page if the first attempt failed).
CREATE TABLE receipts (
    submission_id TEXT PRIMARY KEY REFERENCES submissions(id),
    access_code_sha256 TEXT NOT NULL,
    issued_at TEXT,
    xml_sha256 TEXT,
    pdf_sha256 TEXT,
    sealed BIGINT
);

-- API tokens: only the SHA-256 of the token is stored; the token is shown once when made.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- Which token submitted what (a token sees only its own submissions).
ALTER TABLE submissions ADD COLUMN api_token TEXT;
CREATE INDEX submissions_api_token ON submissions (api_token);
