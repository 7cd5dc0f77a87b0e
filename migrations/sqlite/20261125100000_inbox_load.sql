-- The inbox list under load (issue 8); see postgres/ for the why. SQLite has no INCLUDE, so the
-- filter columns are not added: the same keys replace the same indexes, and the queries run
-- unchanged on both backends.

DROP INDEX submissions_inbox;
DROP INDEX submissions_received;
DROP INDEX submissions_inbox_state;
DROP INDEX submissions_clerk_state;
DROP INDEX submissions_sig_problem;

CREATE INDEX submissions_list ON submissions (department, received_at, id);
CREATE INDEX submissions_list_state ON submissions (department, clerk_state, received_at, id);
CREATE INDEX submissions_list_all ON submissions (received_at, id);
CREATE INDEX submissions_list_all_state ON submissions (clerk_state, received_at, id);
CREATE INDEX submissions_sig_problem ON submissions (department, clerk_state, received_at, id)
    WHERE sig_failed = 1 OR sig_indeterminate = 1;
CREATE INDEX submissions_sig_problem_all ON submissions (clerk_state, received_at, id)
    WHERE sig_failed = 1 OR sig_indeterminate = 1;
CREATE INDEX submissions_signed ON submissions (department, clerk_state, received_at, id)
    WHERE signed = 1;
