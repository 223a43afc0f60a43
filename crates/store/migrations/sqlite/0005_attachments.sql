-- Files attached to meetings (minutes, photos, sign-in sheets); the bytes live in the data
-- directory, the database keeps what they are. Kept equal to ../postgres/0005_attachments.sql.

CREATE TABLE attachments (
    id BIGINT PRIMARY KEY,
    meeting_id BIGINT NOT NULL REFERENCES meetings(id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    digest TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX attachments_meeting ON attachments(meeting_id);
