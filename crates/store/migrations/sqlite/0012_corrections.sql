-- Members' own corrections of their records (a new phone, their education), reviewed by the branch
-- through the review chain before they reach the record. The proposal is encrypted: it may hold a
-- phone number. Kept equal to ../postgres/0012_corrections.sql.

CREATE TABLE member_corrections (
    id BIGINT PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members(id),
    proposal_enc BLOB NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX member_corrections_member ON member_corrections(member_id);
