-- Audit entries older than the configured retention (at least 184 days) are removed by the daily
-- job. The chain then starts after the last removed entry: its number and seal are kept here,
-- themselves sealed with the audit key, so a database writer cannot pass a removal off as one.
ALTER TABLE audit_head ADD COLUMN pruned_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_head ADD COLUMN pruned_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_head ADD COLUMN pruned_seal TEXT NOT NULL DEFAULT '';
