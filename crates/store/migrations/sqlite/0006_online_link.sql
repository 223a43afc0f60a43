-- Online meetings: a link instead of (or beside) a place.
ALTER TABLE meetings ADD COLUMN online_link TEXT;
