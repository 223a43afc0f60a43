-- Failed sign-ins under names no account has, counted and locked like an account's
-- (users.failed_logins, users.locked_until), so that lockout does not tell which names exist.
-- Keyed by the name's blind index: the names people mistype are not kept.
CREATE TABLE login_failures (
    login_bi BYTEA PRIMARY KEY,
    failed BIGINT NOT NULL,
    locked_until TEXT,
    last_at TEXT NOT NULL
);
