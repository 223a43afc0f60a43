-- Members chosen by name as a task's audience (学习任务 to named members), beside or instead of
-- organizations: a class of new members, those absent from a group study.
CREATE TABLE study_task_members (
    task_id BIGINT NOT NULL REFERENCES study_tasks(id),
    member_id BIGINT NOT NULL REFERENCES members(id),
    PRIMARY KEY (task_id, member_id)
);
CREATE INDEX study_task_members_member ON study_task_members(member_id);
