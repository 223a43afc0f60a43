-- Review chains (数据审核) and organizational transfers (组织关系转接). Kept equal to
-- ../sqlite/0008_reviews_transfers.sql.

-- The levels (1–4) that review a kind of submission from an organization's subtree; the nearest
-- organization above a submitter with a chain for the kind decides.
CREATE TABLE review_chains (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    kind TEXT NOT NULL,
    level BIGINT NOT NULL,
    reviewer_org_id BIGINT NOT NULL REFERENCES orgs(id),
    PRIMARY KEY (org_id, kind, level)
);

CREATE TABLE reviews (
    id BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    title TEXT NOT NULL,
    levels BIGINT NOT NULL,
    level BIGINT NOT NULL,
    -- The organization whose reviewers act at the current level.
    reviewer_org_id BIGINT NOT NULL REFERENCES orgs(id),
    reviewer_path TEXT NOT NULL,
    status TEXT NOT NULL,
    submitted_by BIGINT NOT NULL,
    submitted_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX reviews_pending ON reviews(status, reviewer_path);
CREATE INDEX reviews_subject ON reviews(kind, subject_id);

CREATE TABLE review_steps (
    review_id BIGINT NOT NULL REFERENCES reviews(id),
    level BIGINT NOT NULL,
    reviewer_org_id BIGINT NOT NULL REFERENCES orgs(id),
    PRIMARY KEY (review_id, level)
);

CREATE TABLE review_decisions (
    review_id BIGINT NOT NULL REFERENCES reviews(id),
    level BIGINT NOT NULL,
    decision TEXT NOT NULL,
    comment TEXT,
    user_id BIGINT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (review_id, level, at)
);

CREATE TABLE transfers (
    id BIGINT PRIMARY KEY,
    letter_no TEXT NOT NULL UNIQUE,
    member_id BIGINT NOT NULL REFERENCES members(id),
    from_org_id BIGINT NOT NULL REFERENCES orgs(id),
    from_path TEXT NOT NULL,
    to_org_id BIGINT REFERENCES orgs(id),
    to_path TEXT,
    -- For a letter to an organization outside the platform: its name as written on the letter.
    to_name TEXT NOT NULL,
    reason TEXT NOT NULL,
    valid_days BIGINT NOT NULL,
    issued_on DATE,
    expires_on DATE,
    paid_up_to TEXT,
    -- The member's particulars as the letter states them, at the time it was issued.
    particulars TEXT NOT NULL,
    status TEXT NOT NULL,
    reject_reason TEXT,
    receipt_on DATE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT
);
CREATE INDEX transfers_from ON transfers(from_path, status);
CREATE INDEX transfers_to ON transfers(to_path, status);
CREATE INDEX transfers_member ON transfers(member_id);
