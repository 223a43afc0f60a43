-- The question bank and exams (题库与考试, store::study::{questions, exams}).

-- A question as it is now; each earlier version stays in study_question_versions. An attempt keeps
-- its own copy of every question it drew, so an edit never changes a past attempt.
CREATE TABLE study_questions (
    id BIGINT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT COLLATE "C" NOT NULL,
    -- `single`, `multiple`, `judge`, `fill` or `short`.
    kind TEXT NOT NULL,
    stem TEXT NOT NULL,
    -- The options of a choice question, a JSON array of texts ([] for the other kinds).
    options TEXT NOT NULL,
    -- The key: option letters ("AC"), "true"/"false", the accepted fill-ins joined by "|", or a
    -- short answer's reference for the person who marks it.
    answer TEXT NOT NULL,
    categories TEXT NOT NULL,
    difficulty BIGINT NOT NULL,
    explanation TEXT NOT NULL,
    version BIGINT NOT NULL,
    -- Taken out of future draws; past attempts keep their copies.
    retired BOOLEAN NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX study_questions_draw ON study_questions(org_path, difficulty, retired);

CREATE TABLE study_question_versions (
    question_id BIGINT NOT NULL REFERENCES study_questions(id),
    version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    stem TEXT NOT NULL,
    options TEXT NOT NULL,
    answer TEXT NOT NULL,
    categories TEXT NOT NULL,
    difficulty BIGINT NOT NULL,
    explanation TEXT NOT NULL,
    replaced_by TEXT NOT NULL,
    replaced_at TEXT NOT NULL,
    PRIMARY KEY (question_id, version)
);

-- An exam: rules that draw each attempt's questions, its time limit and how it is graded.
CREATE TABLE study_exams (
    id BIGINT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT COLLATE "C" NOT NULL,
    title TEXT NOT NULL,
    note TEXT NOT NULL,
    -- JSON: [{"category": "theory" or null, "difficulty": 1-5 or null, "count": n}, ...]
    rules TEXT NOT NULL,
    -- JSON array of question ids every attempt includes.
    fixed TEXT NOT NULL,
    minutes BIGINT NOT NULL,
    attempts_allowed BIGINT NOT NULL,
    -- `highest`, `last` or `average`.
    grade_policy TEXT NOT NULL,
    pass_percent BIGINT NOT NULL,
    partial_credit BOOLEAN NOT NULL,
    -- `after_submit` or `after_close`.
    explain TEXT NOT NULL,
    opens_on DATE NOT NULL,
    closes_on DATE NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX study_exams_org ON study_exams(org_path, closes_on);

-- `open` until submitted or timed out, `marking` while a short answer waits for a person,
-- then `graded`.
CREATE TABLE study_attempts (
    id BIGINT PRIMARY KEY,
    exam_id BIGINT NOT NULL REFERENCES study_exams(id),
    member_id BIGINT NOT NULL REFERENCES members(id),
    org_path TEXT COLLATE "C" NOT NULL,
    number BIGINT NOT NULL,
    started_at TEXT NOT NULL,
    deadline_at TEXT NOT NULL,
    submitted_at TEXT,
    status TEXT NOT NULL,
    score_permille BIGINT,
    UNIQUE (exam_id, member_id, number)
);
CREATE INDEX study_attempts_exam ON study_attempts(exam_id, status);
CREATE INDEX study_attempts_member ON study_attempts(member_id, exam_id);

-- The attempt's own copy of each question drawn, options in the order shown and the key in the
-- letters shown; `given` is the member's answer and `credit_permille` what it earned.
CREATE TABLE study_attempt_questions (
    attempt_id BIGINT NOT NULL REFERENCES study_attempts(id),
    position BIGINT NOT NULL,
    question_id BIGINT NOT NULL REFERENCES study_questions(id),
    version BIGINT NOT NULL,
    kind TEXT NOT NULL,
    stem TEXT NOT NULL,
    options TEXT NOT NULL,
    answer TEXT NOT NULL,
    explanation TEXT NOT NULL,
    given TEXT,
    credit_permille BIGINT,
    PRIMARY KEY (attempt_id, position)
);

-- A member's kept grade on an exam (by its policy), rewritten whenever an attempt is graded.
CREATE TABLE study_exam_results (
    exam_id BIGINT NOT NULL REFERENCES study_exams(id),
    member_id BIGINT NOT NULL REFERENCES members(id),
    org_path TEXT COLLATE "C" NOT NULL,
    attempts BIGINT NOT NULL,
    grade_permille BIGINT NOT NULL,
    passed BOOLEAN NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (exam_id, member_id)
);
CREATE INDEX study_exam_results_path ON study_exam_results(exam_id, org_path);

-- A task may include an exam, passed to complete the task.
ALTER TABLE study_tasks ADD COLUMN exam_id BIGINT REFERENCES study_exams(id);
