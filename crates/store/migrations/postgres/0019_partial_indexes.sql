-- The roster lists the active members unless asked otherwise: this index answers its pages (and
-- the ids of a deep page) in roster order without reading the table.
CREATE INDEX members_active ON members(org_path, name, id) WHERE status = 'active';
-- The six-month absence flags start from the absences (a few in a hundred of the roll calls), not
-- from every line of every meeting.
CREATE INDEX meeting_attendance_absent ON meeting_attendance(meeting_id, member_id) WHERE status = 'absent';
