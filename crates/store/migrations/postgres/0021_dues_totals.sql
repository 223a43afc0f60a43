-- Each organization's dues for each month, summed from its ledger lines and kept beside them
-- (store::dues::totals): a province's report adds up its organizations' rows, not its members' lines.
CREATE TABLE dues_totals (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    month BIGINT NOT NULL,
    org_path TEXT COLLATE "C" NOT NULL,
    due_fen BIGINT NOT NULL,
    paid_fen BIGINT NOT NULL,
    outstanding_fen BIGINT NOT NULL,
    members BIGINT NOT NULL,
    paying_members BIGINT NOT NULL,
    PRIMARY KEY (org_id, month)
);
CREATE INDEX dues_totals_month_path ON dues_totals(month, org_path);
-- A month's lines in tree order with their organization and amounts: the totals are summed from
-- the index alone, in its order (no sort, no table read).
DROP INDEX dues_ledger_month_path;
CREATE INDEX dues_ledger_month_path ON dues_ledger(month, org_path, org_id, due_fen, paid_fen);
INSERT INTO dues_totals (org_id, month, org_path, due_fen, paid_fen, outstanding_fen, members, paying_members)
SELECT l.org_id, l.month, MIN(l.org_path), SUM(l.due_fen), SUM(l.paid_fen),
       SUM(CASE WHEN l.due_fen > l.paid_fen THEN l.due_fen - l.paid_fen ELSE 0 END), COUNT(*),
       SUM(CASE WHEN l.paid_fen >= l.due_fen THEN 1 ELSE 0 END)
FROM dues_ledger l GROUP BY l.org_id, l.month;
