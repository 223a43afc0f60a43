-- Training classes (集中培训, store::study::classes): a class's dates and declared 学时, kept split
-- by the calendar years it spans (a class lasts a year at most), and the roll of who attended.
CREATE TABLE study_classes (
    id BIGINT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    title TEXT NOT NULL,
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    hours_tenths BIGINT NOT NULL,
    first_year BIGINT NOT NULL,
    first_tenths BIGINT NOT NULL,
    second_tenths BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX study_classes_org ON study_classes(org_path, starts_on);

CREATE TABLE study_class_attendance (
    class_id BIGINT NOT NULL REFERENCES study_classes(id),
    member_id BIGINT NOT NULL REFERENCES members(id),
    PRIMARY KEY (class_id, member_id)
);
CREATE INDEX study_class_attendance_member ON study_class_attendance(member_id);
