-- Study documents, video and audio (store::study::media): the files (public learning content, kept
-- unsealed so that video can be served by range), an item's file and its declared length, and the
-- ranges each member has watched or listened to.
CREATE TABLE study_files (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    -- A DOCX's paragraphs as text, shown in the browser; empty for other files.
    text TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL
);

ALTER TABLE study_items ADD COLUMN file_id BIGINT REFERENCES study_files(id);
ALTER TABLE study_items ADD COLUMN duration_seconds BIGINT;
ALTER TABLE study_item_versions ADD COLUMN file_id BIGINT;
ALTER TABLE study_item_versions ADD COLUMN duration_seconds BIGINT;

-- What a member has played of a video or audio item, merged: completion at 95% of its length.
CREATE TABLE study_watch (
    member_id BIGINT NOT NULL REFERENCES members(id),
    item_id BIGINT NOT NULL REFERENCES study_items(id),
    -- JSON [[from_s, to_s], ...], merged and within the item's length.
    ranges TEXT NOT NULL,
    watched_seconds BIGINT NOT NULL,
    reported_at TEXT NOT NULL,
    PRIMARY KEY (member_id, item_id)
);
