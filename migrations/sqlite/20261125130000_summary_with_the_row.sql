-- A registration that knows its documents (an upload with its steps worked out) writes their
-- names and signature summary with the submission's row; the triggers then leave the row alone
-- when nothing changes, instead of rewriting it, and every index holding these columns, for each
-- document (two rewrites per document, the costliest part of an upload's registration on
-- PostgreSQL). `doc_names_seq` is the last document (by seq: documents are numbered as they are
-- stored) whose name is in `doc_names`.
ALTER TABLE submissions ADD COLUMN doc_names_seq BIGINT NOT NULL DEFAULT 0;
UPDATE submissions SET doc_names_seq = COALESCE(
    (SELECT MAX(d.seq) FROM documents d WHERE d.submission_id = submissions.id), 0);

DROP TRIGGER documents_doc_names;
CREATE TRIGGER documents_doc_names AFTER INSERT ON documents
BEGIN
    UPDATE submissions SET doc_names = doc_names || NEW.name || ' ', doc_names_seq = NEW.seq
    WHERE id = NEW.submission_id AND doc_names_seq < NEW.seq;
END;

DROP TRIGGER documents_sig_summary_insert;
CREATE TRIGGER documents_sig_summary_insert AFTER INSERT ON documents
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
WHERE id = NEW.submission_id
  AND (sig_failed, sig_indeterminate, sig_kinds) <> (
    CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"indication":"TOTAL_FAILED"%') THEN 1 ELSE 0 END,
    CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"indication":"INDETERMINATE"%') THEN 1 ELSE 0 END,
    ',' ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"kind":"qes"%') THEN 'qes,' ELSE '' END ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"kind":"qualified_seal"%') THEN 'qualified_seal,' ELSE '' END ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"kind":"trusted_profile"%') THEN 'trusted_profile,' ELSE '' END ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"kind":"personal"%') THEN 'personal,' ELSE '' END ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"kind":"advanced"%') THEN 'advanced,' ELSE '' END ||
        CASE WHEN EXISTS (SELECT 1 FROM documents d WHERE d.submission_id = NEW.submission_id AND d.report LIKE '%"kind":"unknown"%') THEN 'unknown,' ELSE '' END);
END;
