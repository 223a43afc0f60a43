-- Notices to members (党务公开/通知公告): drafted by an organization, approved through the review
-- chain, published to its subtree or to chosen organizations, with read receipts. Kept equal to
-- ../sqlite/0009_announcements.sql.

CREATE TABLE announcements (
    id BIGINT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    published_at TEXT
);
CREATE INDEX announcements_org ON announcements(org_path, created_at);

-- Whose members see it: each target's whole subtree.
CREATE TABLE announcement_targets (
    announcement_id BIGINT NOT NULL REFERENCES announcements(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    PRIMARY KEY (announcement_id, org_id)
);
CREATE INDEX announcement_targets_path ON announcement_targets(org_path);

CREATE TABLE announcement_reads (
    announcement_id BIGINT NOT NULL REFERENCES announcements(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    read_at TEXT NOT NULL,
    PRIMARY KEY (announcement_id, user_id)
);
