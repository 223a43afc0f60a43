-- Big screens (大屏): a meeting-room display opens an organization's aggregates with a token of its
-- own (kept only as its hash), never a user's session; revoking it closes the screen.
CREATE TABLE displays (
    id BIGINT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    token_hash BLOB NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_shown_at TEXT,
    revoked_at TEXT,
    revoked_by TEXT
);
CREATE UNIQUE INDEX displays_token ON displays(token_hash);
CREATE INDEX displays_org ON displays(org_id);
