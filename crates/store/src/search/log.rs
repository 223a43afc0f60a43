//! The change log search follows: every write of a library item, a notice or a meeting records
//! a row in its transaction, in order (`search_changes`). Its own room, so that the writers need
//! nothing of the index, and the index reads the records back by their own rules.

use crate::db::{Tx, Q};
use crate::error::Result;

/// Records that a searchable record changed, in the writer's transaction.
pub(crate) async fn changed(tx: &mut Tx, kind: &'static str, id: i64) -> Result<()> {
    tx.exec(
        Q::new("INSERT INTO search_changes (kind, doc_id) VALUES ($1, $2)")
            .bind(kind)
            .bind(id),
    )
    .await?;
    Ok(())
}
