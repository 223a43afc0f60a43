-- An attempt's answers and their credits are kept on the attempt's own row, by position: a
-- submission writes one row instead of updating every question it drew (an exam day's writes stay
-- one per attempt). The questions drawn stay as they were copied at the start.
ALTER TABLE study_attempts ADD COLUMN answers TEXT;
UPDATE study_attempts SET answers = (
    SELECT json_group_array(json_array(q.given, q.credit_permille) ORDER BY q.position)
    FROM study_attempt_questions q WHERE q.attempt_id = study_attempts.id)
WHERE status <> 'open';
ALTER TABLE study_attempt_questions DROP COLUMN given;
ALTER TABLE study_attempt_questions DROP COLUMN credit_permille;
