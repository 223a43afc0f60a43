-- Organizational life: meetings (one meeting may count for several kinds), attendance, and
-- per-organization settings. Kept column-for-column equal to ../postgres/0002_meetings.sql.

CREATE TABLE meetings (
    id BIGINT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    title TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    local_date DATE NOT NULL,
    location TEXT,
    topic TEXT,
    agenda TEXT,
    status TEXT NOT NULL,
    minutes TEXT,
    resolutions TEXT,
    checkin_code TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX meetings_org_path_date ON meetings(org_path, local_date);
CREATE INDEX meetings_org_date ON meetings(org_id, local_date);

CREATE TABLE meeting_kinds (
    meeting_id BIGINT NOT NULL REFERENCES meetings(id),
    kind TEXT NOT NULL,
    PRIMARY KEY (meeting_id, kind)
);

CREATE TABLE meeting_attendance (
    meeting_id BIGINT NOT NULL REFERENCES meetings(id),
    member_id BIGINT NOT NULL REFERENCES members(id),
    status TEXT NOT NULL,
    reason TEXT,
    proxy BOOLEAN NOT NULL DEFAULT FALSE,
    checked_in_at TEXT,
    PRIMARY KEY (meeting_id, member_id)
);
CREATE INDEX meeting_attendance_member ON meeting_attendance(member_id);

CREATE TABLE org_life_settings (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    kind TEXT NOT NULL,
    frequency TEXT NOT NULL,
    PRIMARY KEY (org_id, kind)
);

ALTER TABLE orgs ADD COLUMN checkin_enabled BOOLEAN NOT NULL DEFAULT FALSE;
