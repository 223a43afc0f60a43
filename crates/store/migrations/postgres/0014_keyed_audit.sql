-- The audit chain becomes keyed (HMAC-SM3, the key outside the database): entries written before
-- are re-sealed once, at the first start after this migration, if their unkeyed chain holds.
ALTER TABLE audit_head ADD COLUMN keyed BOOLEAN NOT NULL DEFAULT FALSE;
