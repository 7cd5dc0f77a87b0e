-- Receipts made from now on keep their two documents in the row (a receipt is a few KB: written
-- with the row in one commit, instead of two files, two renames and their fsyncs). The SHA-256
-- columns stay; older receipts, without bytes here, are still read from the blob store.
ALTER TABLE receipts ADD COLUMN xml BYTEA;
ALTER TABLE receipts ADD COLUMN pdf BYTEA;
-- The PDF's streams are deflated already: TOAST need not try to compress it again.
ALTER TABLE receipts ALTER COLUMN pdf SET STORAGE EXTERNAL;
