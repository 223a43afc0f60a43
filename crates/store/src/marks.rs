//! What a write tells the state derived from the records and kept apart from them, in the write's
//! own transaction: the warnings (`warnings`, which evaluates the marked organizations again before
//! anyone counts them) and the dashboards' figures counted with them (`figures`). Every
//! write that can change what the rules find marks its organization (`stale`); bulk loads mark many
//! at once; a move carries its subtree's totals.

use std::collections::BTreeMap;

use domain::org::path_ids;

use crate::db::{Tx, Q};
use crate::error::Result;

/// How many organizations are marked in one statement.
const CHUNK: usize = 500;

/// Whose records changed: the organization whose warnings are to be evaluated again.
pub enum Of {
    Org(i64),
    /// The member's branch. (A member who moved within the last month still has last month's
    /// ledger line at the old branch; that branch's warning about them is evaluated again with the
    /// next day's marks.)
    Member(i64),
    /// The meeting's organization.
    Meeting(i64),
    /// The development file's branch.
    File(i64),
}

/// Marks an organization's warnings to be evaluated again, in the transaction that changes the
/// records they come from.
pub async fn stale(tx: &mut Tx, of: Of) -> Result<()> {
    let (source, id) = match of {
        Of::Org(id) => ("SELECT id, path, 1 FROM orgs", id),
        Of::Member(id) => ("SELECT org_id, org_path, 1 FROM members", id),
        Of::Meeting(id) => ("SELECT org_id, org_path, 1 FROM meetings", id),
        Of::File(id) => ("SELECT org_id, org_path, 1 FROM development_files", id),
    };
    tx.exec(
        Q::new(&format!(
            "INSERT INTO warnings_stale (org_id, org_path, seq) {source} WHERE id = $1 {RENEW}"
        ))
        .bind(id),
    )
    .await?;
    Ok(())
}

/// A mark already there is renewed: an evaluation that started from the old one leaves it.
const RENEW: &str = "ON CONFLICT (org_id) DO UPDATE SET seq = warnings_stale.seq + 1";

/// Marks many organizations at once (bulk loads).
pub async fn stale_orgs(tx: &mut Tx, org_ids: impl IntoIterator<Item = i64>) -> Result<()> {
    let ids: Vec<i64> = org_ids
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for chunk in ids.chunks(CHUNK) {
        let mut q =
            Q::new("INSERT INTO warnings_stale (org_id, org_path, seq) SELECT id, path, 1 FROM orgs WHERE id IN (");
        q.push_list(chunk.iter().copied()).push(&format!(") {RENEW}"));
        tx.exec(q).await?;
    }
    Ok(())
}

/// Marks the organizations of these members (their study years were counted again).
pub async fn stale_members(tx: &mut Tx, member_ids: &[i64]) -> Result<()> {
    for chunk in member_ids.chunks(CHUNK) {
        let mut q = Q::new(
            "INSERT INTO warnings_stale (org_id, org_path, seq) SELECT DISTINCT org_id, org_path, 1 FROM members WHERE id IN (",
        );
        q.push_list(chunk.iter().copied()).push(&format!(") {RENEW}"));
        tx.exec(q).await?;
    }
    Ok(())
}

/// Marks every organization: a new day, a new month's ledger.
pub async fn all_stale(tx: &mut Tx) -> Result<()> {
    tx.exec(Q::new(&format!(
        "INSERT INTO warnings_stale (org_id, org_path, seq) SELECT id, path, 1 FROM orgs WHERE dissolved_on IS NULL {RENEW}"
    )))
    .await?;
    Ok(())
}

/// Adds to subtree totals, in (organization, kind) order so that concurrent writers lock alike.
pub(crate) async fn add_totals(tx: &mut Tx, totals: BTreeMap<(i64, String), i64>) -> Result<()> {
    let totals: Vec<_> = totals.into_iter().filter(|(_, d)| *d != 0).collect();
    for chunk in totals.chunks(CHUNK) {
        let mut q = Q::new("INSERT INTO warning_totals (org_id, kind, n) VALUES ");
        for (i, ((org, kind), n)) in chunk.iter().enumerate() {
            q.push_row(i == 0, [(*org).into(), kind.clone().into(), (*n).into()]);
        }
        q.push(" ON CONFLICT (org_id, kind) DO UPDATE SET n = warning_totals.n + excluded.n");
        tx.exec(q).await?;
    }
    Ok(())
}

/// An organization moved with its subtree: its subtree's open warnings leave the old ancestors'
/// totals for the new ones' (within the move's transaction).
pub(crate) async fn moved(tx: &mut Tx, org_id: i64, old_path: &str, new_path: &str) -> Result<()> {
    let own: Vec<(String, i64)> = tx
        .all(Q::new("SELECT kind, n FROM warning_totals WHERE org_id = $1").bind(org_id))
        .await?;
    let mut totals = BTreeMap::new();
    for (kind, n) in own {
        for id in path_ids(old_path).into_iter().filter(|id| *id != org_id) {
            *totals.entry((id, kind.clone())).or_default() -= n;
        }
        for id in path_ids(new_path).into_iter().filter(|id| *id != org_id) {
            *totals.entry((id, kind.clone())).or_default() += n;
        }
    }
    add_totals(tx, totals).await?;
    crate::figures::moved(tx, org_id, old_path, new_path, crate::clock::today()).await
}

/// A member was written through a form, the API or an import, all of which validate the record:
/// it now fails only the data-quality checks they leave optional (education; see `quality`) and
/// an organization dissolved under it.
pub(crate) async fn member_written(tx: &mut Tx, member_id: i64) -> Result<()> {
    tx.exec(Q::new("DELETE FROM quality_failures WHERE member_id = $1 AND check_name <> 'duplicate'").bind(member_id))
        .await?;
    tx.exec(
        Q::new(
            "INSERT INTO quality_failures (member_id, check_name, org_id)
             SELECT id, 'education_missing', org_id FROM members
             WHERE id = $1 AND status = 'active' AND (education IS NULL OR education = '')
             UNION ALL
             SELECT m.id, 'dissolved_org', m.org_id FROM members m JOIN orgs o ON o.id = m.org_id
             WHERE m.id = $1 AND m.status = 'active' AND o.dissolved_on IS NOT NULL",
        )
        .bind(member_id),
    )
    .await?;
    Ok(())
}
