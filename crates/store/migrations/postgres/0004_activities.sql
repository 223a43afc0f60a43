-- Theme activities, volunteer services and three-linkage (三联) activities: published to an
-- organization's subtree, signed up for within a limit, attended, hours credited.
-- Kept equal to ../sqlite/0004_activities.sql.

CREATE TABLE activities (
    id BIGINT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    local_date DATE NOT NULL,
    location TEXT,
    capacity BIGINT,
    credit_minutes BIGINT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX activities_org_path_date ON activities(org_path, local_date);

CREATE TABLE activity_signups (
    activity_id BIGINT NOT NULL REFERENCES activities(id),
    member_id BIGINT NOT NULL REFERENCES members(id),
    signed_up_at TEXT NOT NULL,
    attended BOOLEAN NOT NULL DEFAULT FALSE,
    credited_minutes BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (activity_id, member_id)
);
CREATE INDEX activity_signups_member ON activity_signups(member_id);
