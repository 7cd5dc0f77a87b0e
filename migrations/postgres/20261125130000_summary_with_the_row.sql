-- A registration that knows its documents (an upload with its steps worked out) writes their
-- names and signature summary with the submission's row; the triggers then leave the row alone
-- when nothing changes, instead of rewriting it, and every index holding these columns, for each
-- document (two rewrites per document, the costliest part of an upload's registration on
-- PostgreSQL). `doc_names_seq` is the last document (by seq: documents are numbered as they are
-- stored) whose name is in `doc_names`.
ALTER TABLE submissions ADD COLUMN doc_names_seq BIGINT NOT NULL DEFAULT 0;
UPDATE submissions SET doc_names_seq = COALESCE(
    (SELECT MAX(d.seq) FROM documents d WHERE d.submission_id = submissions.id), 0);

CREATE OR REPLACE FUNCTION podawcza_doc_names() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE submissions SET doc_names = doc_names || NEW.name || ' ', doc_names_seq = NEW.seq
    WHERE id = NEW.submission_id AND doc_names_seq < NEW.seq;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION podawcza_sig_summary() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    f BIGINT;
    i BIGINT;
    k TEXT;
BEGIN
SELECT
    CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"indication":"TOTAL_FAILED"%') THEN 1 ELSE 0 END,
    CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"indication":"INDETERMINATE"%') THEN 1 ELSE 0 END,
    ',' ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"kind":"qes"%') THEN 'qes,' ELSE '' END ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"kind":"qualified_seal"%') THEN 'qualified_seal,' ELSE '' END ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"kind":"trusted_profile"%') THEN 'trusted_profile,' ELSE '' END ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"kind":"personal"%') THEN 'personal,' ELSE '' END ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"kind":"advanced"%') THEN 'advanced,' ELSE '' END ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"kind":"unknown"%') THEN 'unknown,' ELSE '' END
INTO f, i, k;
UPDATE submissions SET sig_failed = f, sig_indeterminate = i, sig_kinds = k
WHERE id = NEW.submission_id
  AND (sig_failed, sig_indeterminate, sig_kinds) IS DISTINCT FROM (f, i, k);
RETURN NULL;
END
$$;
