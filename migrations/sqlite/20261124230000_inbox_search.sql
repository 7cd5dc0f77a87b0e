-- The inbox list at scale (issue 8); see postgres/ for the why. SQLite gets the document-names
-- column and its trigger, so the same search query runs on both backends; a trigram index is
-- PostgreSQL only (SQLite's LIKE '%...%' scans either way).

ALTER TABLE submissions ADD COLUMN doc_names TEXT NOT NULL DEFAULT '';

UPDATE submissions SET doc_names = COALESCE(
    (SELECT group_concat(name || ' ', '') FROM
        (SELECT d.name FROM documents d WHERE d.submission_id = submissions.id ORDER BY d.seq)), '');

CREATE TRIGGER documents_doc_names AFTER INSERT ON documents
BEGIN
    UPDATE submissions SET doc_names = doc_names || NEW.name || ' ' WHERE id = NEW.submission_id;
END;
