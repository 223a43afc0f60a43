-- An exam's drawn questions are written when an attempt starts and updated once when it is
-- submitted (the answer given and its credit, neither indexed). Room left on each page lets
-- PostgreSQL update them in place (heap-only tuples) instead of writing every question a new
-- index entry on an exam day.
ALTER TABLE study_attempt_questions SET (fillfactor = 60);
