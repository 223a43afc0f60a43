-- A meeting that is study (a 党课, a study session) declares the 学时 it credits to each member
-- present; the 学时 ledger (store::study::credits) reads them beside its own lines.
ALTER TABLE meetings ADD COLUMN study_tenths BIGINT;
