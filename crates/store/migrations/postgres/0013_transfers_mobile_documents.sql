-- Transfers' validity as an organization's setting, letters from outside the platform registered
-- on arrival, mobile members (流动党员) hosted at a second organization for organizational life, and
-- the documents of a development file and its last step. Kept equal to ../sqlite/0013_transfers_mobile_documents.sql.

CREATE TABLE transfer_settings (
    org_id BIGINT PRIMARY KEY REFERENCES orgs(id),
    days_in_city BIGINT NOT NULL,
    days_elsewhere BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- TRUE when the receiver is in the same city (the shorter validity applies).
ALTER TABLE transfers ADD COLUMN in_city BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE transfers_in (
    id BIGINT PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    from_name TEXT NOT NULL,
    letter_no TEXT NOT NULL,
    issued_on DATE NOT NULL,
    received_on DATE NOT NULL,
    -- Dues paid up to, as the letter states (yyyymm): the ledger here starts after it.
    paid_up_to BIGINT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX transfers_in_org ON transfers_in(org_path);
CREATE INDEX transfers_in_member ON transfers_in(member_id);

CREATE TABLE mobile_members (
    id BIGINT PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members(id),
    host_org_id BIGINT NOT NULL REFERENCES orgs(id),
    host_path TEXT NOT NULL,
    since DATE NOT NULL,
    until DATE,
    reason TEXT NOT NULL,
    ended_on DATE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX mobile_members_member ON mobile_members(member_id);
CREATE INDEX mobile_members_host ON mobile_members(host_path);
CREATE INDEX mobile_members_host_org ON mobile_members(host_org_id, since);

-- A mobile member at their host's meeting: expected and recorded, but not counted for its quorum.
ALTER TABLE meeting_attendance ADD COLUMN guest BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE development_documents (
    id BIGINT PRIMARY KEY,
    file_id BIGINT NOT NULL REFERENCES development_files(id),
    step BIGINT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    digest TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX development_documents_file ON development_documents(file_id);

-- The last step done, kept on the file so that a subtree is counted by stage without reading
-- every file's steps.
ALTER TABLE development_files ADD COLUMN last_step BIGINT NOT NULL DEFAULT 0;
UPDATE development_files SET last_step = COALESCE((SELECT MAX(s.step) FROM development_steps s WHERE s.file_id = development_files.id), 0);
DROP INDEX development_files_org;
CREATE INDEX development_files_org ON development_files(org_path, status, last_step);
