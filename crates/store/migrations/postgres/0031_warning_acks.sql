-- Acknowledging a warning (预警处置): who saw it, when and what they will do. A warning left
-- unacknowledged past the escalation days (the nearest organization's setting above the owner,
-- else seven) is shown to the owner's parent as escalated.
ALTER TABLE warnings ADD COLUMN acked_at TEXT;
ALTER TABLE warnings ADD COLUMN acked_by BIGINT REFERENCES users(id);
ALTER TABLE warnings ADD COLUMN ack_note TEXT;
CREATE TABLE warning_settings (
    org_id BIGINT PRIMARY KEY REFERENCES orgs(id),
    org_path TEXT COLLATE "C" NOT NULL,
    escalate_after_days BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX warning_settings_path ON warning_settings(org_path);
-- A subtree's open warnings, oldest first, a page at a time; resolved ones by path and day.
CREATE INDEX warnings_open_since ON warnings(since, id) WHERE resolved_on IS NULL;
CREATE INDEX warnings_resolved_path ON warnings(org_path, resolved_on) WHERE resolved_on IS NOT NULL;
