-- Dashboard figures (决策辅助): each organization's own counts by figure ('members',
-- 'category:full', 'joined:2026-03', 'warnings:dues_flag'…), counted from its records whenever its
-- warnings are evaluated (store::dashboard::figures), added up its ancestors' subtree totals, and
-- each change of a total kept by day, so that a dashboard reads one row per figure for any
-- organization and any past day instead of scanning the tree.
CREATE TABLE figure_counts (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    figure TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (org_id, figure)
);
CREATE TABLE figure_totals (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    figure TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (org_id, figure)
);
-- A subtree total as it stood at the end of each day it changed: a past day's figure is the last
-- row on or before it.
CREATE TABLE figure_history (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    figure TEXT NOT NULL,
    day DATE NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (org_id, figure, day)
);
-- The next reader evaluates every organization again, counting its figures the first time.
UPDATE job_leases SET last_run_on = NULL WHERE name = 'warnings_day';
