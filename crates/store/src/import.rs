//! Importing members (批量导入): every row is checked first and every problem reported with its
//! line; then either all good rows are committed in one transaction, or nothing.

use std::collections::{HashMap, HashSet};

use domain::member::MemberInput;
use serde::Serialize;

use crate::audit::{self, Event};
use crate::clock::today;
use crate::crypto::Keys;
use crate::db::{new_id, Db, Q};
use crate::error::{Error, Result};
use crate::members::{insert_many, NewRow};
use crate::orgs::{self, adjust_counts};
use crate::scope::{Caller, Perm};

/// One data row of an import file. `line` is the line (CSV) or row (XLSX) number a person sees.
#[derive(Debug, Clone, Default)]
pub struct ImportRow {
    pub line: usize,
    /// The branch, by exact name or id.
    pub org: String,
    pub fields: MemberInput,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RowProblem {
    pub line: usize,
    pub field: String,
    pub code: String,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub rows: usize,
    pub good: Vec<NewRow>,
    pub problems: Vec<RowProblem>,
}

impl Plan {
    /// Lines with at least one problem.
    pub fn bad_lines(&self) -> usize {
        self.problems.iter().map(|p| p.line).collect::<HashSet<_>>().len()
    }
}

/// Checks every row: the fields, the branch (one the caller may write to), and duplicates within
/// the file and against the records.
pub async fn plan(db: &Db, keys: &Keys, caller: &Caller, rows: Vec<ImportRow>) -> Result<Plan> {
    let branches: Vec<_> = orgs::list(db, caller, None)
        .await?
        .into_iter()
        .filter(|o| o.kind().holds_members() && o.dissolved_on.is_none() && caller.can_at(Perm::WriteMembers, &o.path))
        .collect();
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, b) in branches.iter().enumerate() {
        by_name.entry(b.name.as_str()).or_default().push(i);
    }
    let today = today();
    let mut plan = Plan {
        rows: rows.len(),
        ..Default::default()
    };
    let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut candidates = Vec::new();
    for row in rows {
        let problem = |field: &str, code: &str| RowProblem {
            line: row.line,
            field: field.into(),
            code: code.into(),
        };
        let mut problems = Vec::new();
        let org_key = row.org.trim();
        let branch = if org_key.is_empty() {
            problems.push(problem("org", "required"));
            None
        } else if let Some(b) = org_key
            .parse::<i64>()
            .ok()
            .and_then(|id| branches.iter().find(|b| b.id == id))
        {
            Some(b)
        } else {
            match by_name.get(org_key).map(Vec::as_slice) {
                Some([one]) => Some(&branches[*one]),
                Some(_) => {
                    problems.push(problem("org", "ambiguous"));
                    None
                }
                None => {
                    problems.push(problem("org", "not_found"));
                    None
                }
            }
        };
        let valid = match row.fields.validate(today) {
            Ok(v) => Some(v),
            Err(e) => {
                problems.extend(e.0.iter().map(|f| problem(f.field, &f.code)));
                None
            }
        };
        if let Some(v) = &valid {
            let bi = keys.blind_index("id_number", v.id_number.as_str());
            if let Some(first) = seen.get(&bi) {
                problems.push(RowProblem {
                    line: row.line,
                    field: "id_number".into(),
                    code: format!("duplicate_of_line_{first}"),
                });
            } else {
                seen.insert(bi, row.line);
            }
        }
        match (branch, valid, problems.is_empty()) {
            (Some(b), Some(v), true) => candidates.push((
                row.line,
                NewRow {
                    id: new_id(),
                    org_id: b.id,
                    org_path: b.path.clone(),
                    group_id: None,
                    member: v,
                },
            )),
            _ => plan.problems.extend(problems),
        }
    }
    // Against the records, in batches.
    let mut recorded = HashSet::new();
    for chunk in candidates.chunks(500) {
        let mut q = Q::new("SELECT id_number_bi FROM members WHERE id_number_bi IN (");
        for (i, (_, r)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push_bind(keys.blind_index("id_number", r.member.id_number.as_str()));
        }
        q.push(")");
        let found: Vec<(Vec<u8>,)> = db.all(q).await?;
        recorded.extend(found.into_iter().map(|(b,)| b));
    }
    for (line, row) in candidates {
        if recorded.contains(&keys.blind_index("id_number", row.member.id_number.as_str())) {
            plan.problems.push(RowProblem {
                line,
                field: "id_number".into(),
                code: "duplicate".into(),
            });
        } else {
            plan.good.push(row);
        }
    }
    plan.problems.sort_by_key(|p| p.line);
    Ok(plan)
}

/// Commits the good rows in one transaction, reporting progress as (done, total). A preview may
/// be an hour old: each branch is checked again inside the transaction — still there, still the
/// caller's to write to, at its current path — and a duplicate created meanwhile fails the whole
/// import, leaving nothing half-written.
pub async fn commit(
    db: &Db,
    keys: &Keys,
    caller: &Caller,
    rows: &[NewRow],
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<usize> {
    let mut tx = db.begin().await?;
    let share = if db.is_postgres() { " FOR SHARE" } else { "" };
    let mut paths: HashMap<i64, String> = HashMap::new();
    for org_id in rows.iter().map(|r| r.org_id).collect::<HashSet<_>>() {
        let found: Option<(String, String)> = tx
            .opt(
                Q::new(&format!(
                    "SELECT path, kind FROM orgs WHERE id = $1 AND dissolved_on IS NULL{share}"
                ))
                .bind(org_id),
            )
            .await?;
        match found {
            Some((path, kind)) if kind == "branch" && caller.can_at(Perm::WriteMembers, &path) => {
                paths.insert(org_id, path);
            }
            _ => return Err(Error::Refused("import.stale")),
        }
    }
    let rows: Vec<NewRow> = rows
        .iter()
        .map(|r| NewRow {
            org_path: paths[&r.org_id].clone(),
            ..r.clone()
        })
        .collect();
    let mut counts: HashMap<(i64, String), (i64, i64)> = HashMap::new();
    for (i, chunk) in rows.chunks(1000).enumerate() {
        insert_many(&mut tx, keys, chunk).await.map_err(|e| match e {
            Error::Db(sqlx::Error::Database(d)) if d.is_unique_violation() => Error::Refused("import.duplicate"),
            e => e,
        })?;
        progress((i * 1000 + chunk.len()).min(rows.len()), rows.len());
    }
    for r in &rows {
        if r.member.status == domain::member::Status::Active {
            let c = counts.entry((r.org_id, r.org_path.clone())).or_default();
            c.0 += 1;
            c.1 += i64::from(r.member.category == domain::member::Category::Full);
        }
    }
    for ((org_id, path), (members, full)) in counts {
        adjust_counts(&mut tx, org_id, &path, members, full).await?;
    }
    audit::append(
        &mut tx,
        caller,
        Event::ok("member.import", "members", "").with_detail(format!("rows={}", rows.len())),
    )
    .await?;
    tx.commit().await?;
    Ok(rows.len())
}
