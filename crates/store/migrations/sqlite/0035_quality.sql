-- Data quality (数据质量): each record that fails one of the platform's own validators, one row per
-- record and check (the duplicate check's owner is the organization above both records). The
-- counts per organization are dashboard figures (`dq:{check}`), so they are kept by day too.
CREATE TABLE quality_failures (
    member_id BIGINT NOT NULL REFERENCES members(id),
    check_name TEXT NOT NULL,
    -- The organization the failure is shown to: the member's own, or for a duplicate the common ancestor.
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    PRIMARY KEY (member_id, check_name)
);
CREATE INDEX quality_failures_org ON quality_failures(org_id, check_name);
