-- The inbox list under load (issue 8, 100,000 submissions, 20 clients): every list and count
-- that filters on anything but text is answered from an index alone. The list first picks the
-- ids of a page from an index (an index-only scan: the filter columns are INCLUDEd, so a filter
-- on signatures, kind, stage or channel is checked in the index, not in the table), then reads
-- those rows; the counts per clerk state are index-only walks of the same indexes. These replace
-- the plain (department, received_at), (received_at), (department, clerk_state, received_at) and
-- (clerk_state, received_at) indexes, which are prefixes of their keys. Keep sqlite/ in step.

DROP INDEX submissions_inbox;
DROP INDEX submissions_received;
DROP INDEX submissions_inbox_state;
DROP INDEX submissions_clerk_state;
DROP INDEX submissions_sig_problem;

-- A department's list, newest first (a clerk; intake filtering on a department).
CREATE INDEX submissions_list ON submissions (department, received_at, id)
    INCLUDE (clerk_state, state, channel, signed, sig_failed, sig_indeterminate, sig_kinds);
-- A department's list in one clerk state, and its counts per state.
CREATE INDEX submissions_list_state ON submissions (department, clerk_state, received_at, id)
    INCLUDE (state, channel, signed, sig_failed, sig_indeterminate, sig_kinds);
-- All departments (intake, admin), newest first; also any range of arrival times.
CREATE INDEX submissions_list_all ON submissions (received_at, id)
    INCLUDE (department, clerk_state, state, channel, signed, sig_failed, sig_indeterminate,
             sig_kinds);
-- All departments in one clerk state, and their counts per state.
CREATE INDEX submissions_list_all_state ON submissions (clerk_state, received_at, id)
    INCLUDE (department, state, channel, signed, sig_failed, sig_indeterminate, sig_kinds);
-- Signatures needing a look are few: their lists and counts walk only them.
CREATE INDEX submissions_sig_problem ON submissions (department, clerk_state, received_at, id)
    INCLUDE (state, channel, signed, sig_failed, sig_indeterminate, sig_kinds)
    WHERE sig_failed = 1 OR sig_indeterminate = 1;
CREATE INDEX submissions_sig_problem_all ON submissions (clerk_state, received_at, id)
    INCLUDE (department, state, channel, signed, sig_failed, sig_indeterminate, sig_kinds)
    WHERE sig_failed = 1 OR sig_indeterminate = 1;
-- Signed submissions (a signed or signature-kind filter) of a department: their lists and
-- counts per state walk only them.
CREATE INDEX submissions_signed ON submissions (department, clerk_state, received_at, id)
    INCLUDE (state, channel, sig_failed, sig_indeterminate, sig_kinds)
    WHERE signed = 1;

-- A text search together with a signature problem (e.g. failed signatures mentioning "odpis")
-- looks only among the few problem submissions, through a trigram index of just them. The
-- expression must stay identical to SEARCH_TEXT in src/storage/inbox.rs.
CREATE INDEX submissions_search_problem ON submissions USING gin ((LOWER(
    COALESCE(sender, '') || ' ' || COALESCE(sender_name, '') || ' ' || COALESCE(subject, '')
    || ' ' || COALESCE(registration_number, '') || ' ' || doc_names)) gin_trgm_ops)
    WHERE sig_failed = 1 OR sig_indeterminate = 1;
