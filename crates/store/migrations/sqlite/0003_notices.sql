-- In-app notices, an outbox for an SMS or mail gateway to drain, and leases so that a scheduled
-- job runs once a day even with several servers. Kept equal to ../postgres/0003_notices.sql.

CREATE TABLE notices (
    id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    link TEXT,
    created_at TEXT NOT NULL,
    read_at TEXT
);
CREATE INDEX notices_user ON notices(user_id, created_at);

CREATE TABLE outbox (
    id BIGINT PRIMARY KEY,
    notice_id BIGINT NOT NULL REFERENCES notices(id),
    channel TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX outbox_unsent ON outbox(sent_at, created_at);

CREATE TABLE job_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    leased_until TEXT NOT NULL,
    last_run_on DATE
);
INSERT INTO job_leases (name, holder, leased_until, last_run_on) VALUES ('daily_reminders', '', '1970-01-01T00:00:00.000000Z', NULL);
