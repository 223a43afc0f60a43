-- Member development (发展党员): a file per person from application to full membership, the dates
-- of the 25 steps, the people named at them (contacts, introducers), and the branch meetings' votes.
-- Kept equal to ../postgres/0010_development.sql.

CREATE TABLE development_files (
    id BIGINT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    name TEXT NOT NULL,
    gender TEXT NOT NULL,
    ethnicity TEXT NOT NULL,
    birth_date DATE NOT NULL,
    education TEXT,
    work_unit TEXT,
    id_number_enc BLOB NOT NULL,
    id_number_bi BLOB NOT NULL,
    id_number_masked TEXT NOT NULL,
    phone_enc BLOB,
    phone_masked TEXT,
    -- open, member (admitted: member_id set), full, cancelled
    status TEXT NOT NULL,
    member_id BIGINT REFERENCES members(id),
    extension_months BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX development_files_org ON development_files(org_path, status);
CREATE INDEX development_files_bi ON development_files(id_number_bi);

CREATE TABLE development_steps (
    file_id BIGINT NOT NULL REFERENCES development_files(id),
    step BIGINT NOT NULL,
    done_on DATE NOT NULL,
    note TEXT,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (file_id, step)
);

CREATE TABLE development_people (
    file_id BIGINT NOT NULL REFERENCES development_files(id),
    step BIGINT NOT NULL,
    member_id BIGINT NOT NULL REFERENCES members(id),
    PRIMARY KEY (file_id, step, member_id)
);

CREATE TABLE development_votes (
    id BIGINT PRIMARY KEY,
    file_id BIGINT NOT NULL REFERENCES development_files(id),
    step BIGINT NOT NULL,
    held_on DATE NOT NULL,
    entitled BIGINT NOT NULL,
    present BIGINT NOT NULL,
    yes BIGINT NOT NULL,
    no BIGINT NOT NULL,
    abstain BIGINT NOT NULL,
    written_yes BIGINT NOT NULL,
    passed BOOLEAN NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX development_votes_file ON development_votes(file_id, step);
