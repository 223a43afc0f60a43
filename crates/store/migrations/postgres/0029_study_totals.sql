-- The totals the study report reads (store::study::totals), kept beside what they sum in the same
-- transaction as every write: a county's report reads a row per member year and per organization
-- instead of every completion line. The server counts them from the sources once after this
-- migration.

-- Each member's year from every source (credits, study meetings attended, training classes), their
-- minimum, and whether they count (active, not exempt that year). Only members with something
-- credited or a change of standing have a row: the others have nothing and are below the minimum.
CREATE TABLE study_years (
    member_id BIGINT NOT NULL REFERENCES members(id),
    year BIGINT NOT NULL,
    org_path TEXT COLLATE "C" NOT NULL,
    credited_tenths BIGINT NOT NULL,
    required_tenths BIGINT NOT NULL,
    counted BOOLEAN NOT NULL,
    PRIMARY KEY (member_id, year)
);
CREATE INDEX study_years_path ON study_years(year, org_path, counted, credited_tenths, required_tenths);

-- Each organization's 学时 from library items per year, by the items' categories (placed where the
-- member was when credited, as the credit is).
CREATE TABLE study_category_totals (
    year BIGINT NOT NULL,
    org_path TEXT COLLATE "C" NOT NULL,
    categories TEXT NOT NULL,
    hours_tenths BIGINT NOT NULL,
    PRIMARY KEY (year, org_path, categories)
);

-- The members who have completed a task (every item credited, its exam passed), where they are and
-- whether they count (active, not exempt the year it is due); and, for each organization, how many
-- counted in its subtree: a task's completions over a subtree is one row.
CREATE TABLE study_task_done (
    task_id BIGINT NOT NULL REFERENCES study_tasks(id),
    member_id BIGINT NOT NULL REFERENCES members(id),
    org_path TEXT COLLATE "C" NOT NULL,
    counted BOOLEAN NOT NULL,
    PRIMARY KEY (task_id, member_id)
);
CREATE INDEX study_task_done_member ON study_task_done(member_id);
CREATE TABLE study_task_counts (
    task_id BIGINT NOT NULL REFERENCES study_tasks(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    done BIGINT NOT NULL,
    PRIMARY KEY (task_id, org_id)
);
CREATE INDEX study_task_counts_org ON study_task_counts(org_id);
CREATE INDEX study_tasks_exam ON study_tasks(exam_id);
