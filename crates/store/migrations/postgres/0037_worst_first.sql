-- The compliance pages list the organizations with the most overdue meetings first: walking the
-- counts in that order reads a page's rows instead of sorting every organization's count (at a
-- million members the whole tree's list sorted 46,000 counts, 70 ms per list).
CREATE INDEX warning_counts_worst ON warning_counts(kind, n DESC, org_path);
-- Terms ended or ending soon are counted over a subtree from the index alone.
DROP INDEX orgs_term_end;
CREATE INDEX orgs_term_end ON orgs(term_end, path) WHERE dissolved_on IS NULL AND kind <> 'party_group';
