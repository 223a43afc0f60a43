-- Development steps the higher committee decides (pre-review, approval of admission and of
-- conversion) wait here while the review chain runs. Kept equal to ../sqlite/0011_development_requests.sql.

CREATE TABLE development_requests (
    file_id BIGINT PRIMARY KEY REFERENCES development_files(id),
    step BIGINT NOT NULL,
    -- The date the branch gives for the decision (on the higher committee's document).
    done_on DATE NOT NULL,
    note TEXT,
    outcome TEXT NOT NULL,
    extension_months BIGINT,
    submitted_by TEXT NOT NULL,
    submitted_at TEXT NOT NULL
);
