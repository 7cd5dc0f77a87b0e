-- Receipts made from now on keep their two documents in the row (a receipt is a few KB: written
-- with the row in one commit, instead of two files, two renames and their fsyncs). The SHA-256
-- columns stay; older receipts, without bytes here, are still read from the blob store.
ALTER TABLE receipts ADD COLUMN xml BYTEA;
ALTER TABLE receipts ADD COLUMN pdf BYTEA;
-- The PDF's streams are deflated already: TOAST need not try to compress it again.
ALTER TABLE receipts ALTER COLUMN pdf SET STORAGE EXTERNAL;
-- Reports and receipt XML compress well, but pglz took a tenth of PostgreSQL's CPU in the upload
-- benchmark; lz4 (PostgreSQL 14+) compresses them at a fraction of the cost (values stored
-- before keep their compression until rewritten).
-- A server built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE documents ALTER COLUMN report SET COMPRESSION lz4;
    ALTER TABLE receipts ALTER COLUMN xml SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available: reports stay compressed with pglz';
END
$$;
