-- The daily security watch: one report per Beijing date, for the 24 hours to 22:00, written by
-- the server holding the `security_report` lease (or by `hongji security report`), acknowledged
-- by the security administrator with a note.
CREATE TABLE security_reports (
    id BIGINT PRIMARY KEY,
    report_on DATE NOT NULL UNIQUE,
    window_from TEXT NOT NULL,
    window_to TEXT NOT NULL,
    incidents BIGINT NOT NULL,
    figures TEXT NOT NULL,
    made_by TEXT NOT NULL,
    made_at TEXT NOT NULL,
    acked_at TEXT,
    acked_by BIGINT REFERENCES users(id),
    ack_note TEXT
);
CREATE INDEX security_reports_unacked ON security_reports(acked_at);
INSERT INTO job_leases (name, holder, leased_until, last_run_on) VALUES ('security_report', '', '1970-01-01T00:00:00.000000Z', NULL);
