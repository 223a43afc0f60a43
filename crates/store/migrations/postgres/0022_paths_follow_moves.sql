-- Before an organization's move carried them along, a moved subtree's meetings, ledger, payments,
-- files, letters and notices kept the old path and fell out of their new ancestors' reports: each
-- takes its organization's path again.
UPDATE meetings SET org_path = o.path FROM orgs o WHERE o.id = meetings.org_id AND meetings.org_path <> o.path;
UPDATE activities SET org_path = o.path FROM orgs o WHERE o.id = activities.org_id AND activities.org_path <> o.path;
UPDATE dues_ledger SET org_path = o.path FROM orgs o WHERE o.id = dues_ledger.org_id AND dues_ledger.org_path <> o.path;
UPDATE dues_payments SET org_path = o.path FROM orgs o WHERE o.id = dues_payments.org_id AND dues_payments.org_path <> o.path;
UPDATE dues_totals SET org_path = o.path FROM orgs o WHERE o.id = dues_totals.org_id AND dues_totals.org_path <> o.path;
UPDATE reviews SET org_path = o.path FROM orgs o WHERE o.id = reviews.org_id AND reviews.org_path <> o.path;
UPDATE reviews SET reviewer_path = o.path FROM orgs o WHERE o.id = reviews.reviewer_org_id AND reviews.reviewer_path <> o.path;
UPDATE transfers SET from_path = o.path FROM orgs o WHERE o.id = transfers.from_org_id AND transfers.from_path <> o.path;
UPDATE transfers SET to_path = o.path FROM orgs o WHERE o.id = transfers.to_org_id AND transfers.to_path <> o.path;
UPDATE transfers_in SET org_path = o.path FROM orgs o WHERE o.id = transfers_in.org_id AND transfers_in.org_path <> o.path;
UPDATE announcements SET org_path = o.path FROM orgs o WHERE o.id = announcements.org_id AND announcements.org_path <> o.path;
UPDATE announcement_targets SET org_path = o.path FROM orgs o WHERE o.id = announcement_targets.org_id AND announcement_targets.org_path <> o.path;
UPDATE development_files SET org_path = o.path FROM orgs o WHERE o.id = development_files.org_id AND development_files.org_path <> o.path;
UPDATE mobile_members SET host_path = o.path FROM orgs o WHERE o.id = mobile_members.host_org_id AND mobile_members.host_path <> o.path;
