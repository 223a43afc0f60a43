-- An attempt's answers and their credits are kept on the attempt's own row, by position: a
-- submission writes one row instead of updating every question it drew (an exam day's writes stay
-- one per attempt). The questions drawn are no longer updated: their pages are filled again.
ALTER TABLE study_attempts ADD COLUMN answers TEXT;
UPDATE study_attempts a SET answers = (
    SELECT json_agg(json_build_array(q.given, q.credit_permille) ORDER BY q.position)::text
    FROM study_attempt_questions q WHERE q.attempt_id = a.id)
WHERE a.status <> 'open';
ALTER TABLE study_attempt_questions DROP COLUMN given, DROP COLUMN credit_permille;
ALTER TABLE study_attempt_questions SET (fillfactor = 100);
