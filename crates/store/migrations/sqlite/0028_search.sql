-- Search (store::search): every change to what is searchable — library items, notices, meeting
-- topics — in order. Each server's own index applies the changes past the last it saw, so several
-- servers on one database all stay right, and a new index starts from the first.
CREATE TABLE search_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    doc_id BIGINT NOT NULL
);
INSERT INTO search_changes (kind, doc_id) SELECT 'item', id FROM study_items;
INSERT INTO search_changes (kind, doc_id) SELECT 'notice', id FROM announcements;
INSERT INTO search_changes (kind, doc_id) SELECT 'meeting', id FROM meetings;
