-- Party dues (党费): each member's yearly base (年初核定, with mid-year changes from the month
-- they apply), the monthly ledger, payments with reversing entries, and the yearly statements
-- branches publish. Money is integer fen. Kept equal to ../sqlite/0007_dues.sql.

CREATE TABLE dues_profiles (
    member_id BIGINT NOT NULL REFERENCES members(id),
    year BIGINT NOT NULL,
    from_month BIGINT NOT NULL,
    category TEXT NOT NULL,
    base_fen BIGINT NOT NULL,
    monthly_fen BIGINT NOT NULL,
    rounding TEXT NOT NULL,
    decided_on DATE,
    approved_on DATE,
    approval_ref TEXT,
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL,
    PRIMARY KEY (member_id, year, from_month)
);

-- One row per member and month owed (month = yyyymm). The organization is the one the member
-- belonged to that month, so a month stays with the branch responsible for it.
CREATE TABLE dues_ledger (
    member_id BIGINT NOT NULL REFERENCES members(id),
    month BIGINT NOT NULL,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    due_fen BIGINT NOT NULL,
    paid_fen BIGINT NOT NULL DEFAULT 0,
    unpaid_reason TEXT,
    PRIMARY KEY (member_id, month)
);
-- A month's report over a subtree reads this index alone.
CREATE INDEX dues_ledger_month_path ON dues_ledger(month, org_path, due_fen, paid_fen);

CREATE TABLE dues_payments (
    id BIGINT PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    paid_on DATE NOT NULL,
    amount_fen BIGINT NOT NULL,
    dues_fen BIGINT NOT NULL,
    voluntary_fen BIGINT NOT NULL,
    method TEXT NOT NULL,
    payer TEXT,
    reason TEXT,
    note TEXT,
    remit_to_centre BOOLEAN NOT NULL,
    reverses BIGINT REFERENCES dues_payments(id),
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX dues_payments_member ON dues_payments(member_id, paid_on);
CREATE INDEX dues_payments_path ON dues_payments(org_path, paid_on);
-- A payment can be reversed once.
CREATE UNIQUE INDEX dues_payments_reverses ON dues_payments(reverses);

CREATE TABLE dues_payment_months (
    payment_id BIGINT NOT NULL REFERENCES dues_payments(id),
    month BIGINT NOT NULL,
    amount_fen BIGINT NOT NULL,
    PRIMARY KEY (payment_id, month)
);

CREATE TABLE dues_statements (
    id BIGINT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    year BIGINT NOT NULL,
    body TEXT NOT NULL,
    note TEXT,
    published_by TEXT NOT NULL,
    published_at TEXT NOT NULL
);
CREATE INDEX dues_statements_org ON dues_statements(org_id, year);

-- Months whose ledger rows the monthly job has written for every member with a base.
CREATE TABLE dues_generated (
    month BIGINT PRIMARY KEY,
    rows_written BIGINT NOT NULL,
    at TEXT NOT NULL
);
