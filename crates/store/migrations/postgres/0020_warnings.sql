-- Warnings (预警): what an organization must act on, found by the rules over its records. One row
-- per subject (a member's arrears, an organization's quarter without a meeting, a term, a
-- development file) while it holds; resolved_on is set when the data no longer shows it.
CREATE TABLE warnings (
    id BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    -- What it is about, unique per kind among the open ones ('m42', 'o7|branch_committee_meeting|2026Q3').
    subject TEXT NOT NULL,
    -- The owner: the organization that must act.
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT COLLATE "C" NOT NULL,
    -- The person or organization it names, as the lists name them.
    label TEXT NOT NULL,
    since DATE NOT NULL,
    resolved_on DATE
);
CREATE UNIQUE INDEX warnings_open_subject ON warnings(kind, subject) WHERE resolved_on IS NULL;
CREATE INDEX warnings_open_path ON warnings(kind, org_path, id) WHERE resolved_on IS NULL;
CREATE INDEX warnings_open_owner ON warnings(org_id) WHERE resolved_on IS NULL;
-- Organizations whose warnings are to be evaluated again: marked in the transaction that changed
-- their records; seq tells an evaluation that the mark it started from was renewed meanwhile.
CREATE TABLE warnings_stale (
    org_id BIGINT PRIMARY KEY,
    org_path TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL
);
CREATE INDEX warnings_stale_path ON warnings_stale(org_path);
-- How many warnings of each kind each organization has open: a subtree's count adds up its
-- organizations' rows instead of counting a province's warnings.
CREATE TABLE warning_counts (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    kind TEXT NOT NULL,
    org_path TEXT COLLATE "C" NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (org_id, kind)
);
CREATE INDEX warning_counts_path ON warning_counts(kind, org_path, n);
-- And in its whole subtree: each organization's counts added to it and every ancestor.
CREATE TABLE warning_totals (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    kind TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (org_id, kind)
);
-- The first reader of a day marks every organization (the rules speak of dates).
INSERT INTO job_leases (name, holder, leased_until, last_run_on) VALUES ('warnings_day', '', '1970-01-01T00:00:00.000000Z', NULL);
-- Meetings still planned are few: the homes count those whose time has passed from this index.
CREATE INDEX meetings_planned ON meetings(org_path, starts_at) WHERE status = 'planned';
-- Terms ended or ending within months are a few of a province's organizations.
CREATE INDEX orgs_term_end ON orgs(term_end) WHERE dissolved_on IS NULL;
