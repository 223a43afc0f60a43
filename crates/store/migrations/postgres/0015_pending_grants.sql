-- A grant that reaches personal data takes effect only when a second person confirms it through
-- the review chain (kind `grant`): until then it is `pending` and reaches nothing.
ALTER TABLE grants ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
