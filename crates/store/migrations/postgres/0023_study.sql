-- Online study (学习教育, store::study): the library's items, study tasks and the 学时 ledger.

-- A library item as members see it now; earlier versions stay in study_item_versions, and each
-- credit names the version it was earned on.
CREATE TABLE study_items (
    id BIGINT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    source TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT,
    -- The categories of 条例 Arts. 9–15 and free tags, each as ",a,b," so one can be matched whole.
    categories TEXT NOT NULL,
    tags TEXT NOT NULL,
    hours_tenths BIGINT NOT NULL,
    version BIGINT NOT NULL,
    -- `reviewing`, `returned` or `published`.
    status TEXT NOT NULL,
    published_on DATE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX study_items_org ON study_items(org_path, status);

CREATE TABLE study_item_versions (
    item_id BIGINT NOT NULL REFERENCES study_items(id),
    version BIGINT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT,
    categories TEXT NOT NULL,
    tags TEXT NOT NULL,
    hours_tenths BIGINT NOT NULL,
    replaced_by TEXT NOT NULL,
    replaced_at TEXT NOT NULL,
    PRIMARY KEY (item_id, version)
);

-- Whose members an item reaches: each target's whole subtree.
CREATE TABLE study_item_targets (
    item_id BIGINT NOT NULL REFERENCES study_items(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (item_id, org_id)
);
CREATE INDEX study_item_targets_path ON study_item_targets(org_path, item_id);

-- An organization's study task to its subtree or chosen organizations below it.
CREATE TABLE study_tasks (
    id BIGINT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT COLLATE "C" NOT NULL,
    title TEXT NOT NULL,
    note TEXT NOT NULL,
    starts_on DATE NOT NULL,
    due_on DATE NOT NULL,
    required BOOLEAN NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    -- The daily job's one reminder before the due date.
    reminded_on DATE
);
CREATE INDEX study_tasks_org ON study_tasks(org_path, due_on);
CREATE INDEX study_tasks_due ON study_tasks(due_on);

CREATE TABLE study_task_items (
    task_id BIGINT NOT NULL REFERENCES study_tasks(id),
    item_id BIGINT NOT NULL REFERENCES study_items(id),
    position BIGINT NOT NULL,
    PRIMARY KEY (task_id, item_id)
);
CREATE INDEX study_task_items_item ON study_task_items(item_id);

CREATE TABLE study_task_targets (
    task_id BIGINT NOT NULL REFERENCES study_tasks(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (task_id, org_id)
);
CREATE INDEX study_task_targets_path ON study_task_targets(org_path, task_id);

-- A member opened an item: they may then mark it done (no timer), and a task counts as started.
CREATE TABLE study_opens (
    member_id BIGINT NOT NULL REFERENCES members(id),
    item_id BIGINT NOT NULL REFERENCES study_items(id),
    opened_at TEXT NOT NULL,
    PRIMARY KEY (member_id, item_id)
);

-- The 学时 ledger: one line per credit, whatever its source (`item`: an item completed online or
-- recorded offline; `offline`: study recorded by the branch without an item). An item is credited
-- once per member (the unique key), at the hours of the version completed.
CREATE TABLE study_credits (
    id BIGINT PRIMARY KEY,
    member_id BIGINT NOT NULL REFERENCES members(id),
    org_path TEXT COLLATE "C" NOT NULL,
    year BIGINT NOT NULL,
    credited_on DATE NOT NULL,
    hours_tenths BIGINT NOT NULL,
    source TEXT NOT NULL,
    source_id BIGINT NOT NULL,
    version BIGINT NOT NULL,
    label TEXT NOT NULL,
    form TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    UNIQUE (member_id, source, source_id)
);
CREATE INDEX study_credits_member ON study_credits(member_id, year);
CREATE INDEX study_credits_path ON study_credits(year, org_path, member_id, hours_tenths);
CREATE INDEX study_credits_source ON study_credits(source, source_id);

-- Art. 23: a member with no rigid requirement this year, and why.
CREATE TABLE study_exemptions (
    member_id BIGINT NOT NULL REFERENCES members(id),
    year BIGINT NOT NULL,
    org_path TEXT COLLATE "C" NOT NULL,
    reason TEXT NOT NULL,
    note TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (member_id, year)
);
CREATE INDEX study_exemptions_path ON study_exemptions(year, org_path);
