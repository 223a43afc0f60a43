//! Setting the year's bases from a spreadsheet: check every row, then write the good ones or all.

use super::bases::{write_profile, ProfileInput, ValidProfile};
use super::payers::{Payer, PAYER};
use crate::audit::{self, Event};
use crate::clock::today;
use crate::db::{Db, Q};
use crate::error::Result;
use crate::scope::{Caller, Own, Perm};
use domain::dues::Rounding;
use std::collections::HashMap;

/// One row of a bases file: who (name and ID number, which must agree) and their base.
#[derive(Debug, Clone, Default)]
pub struct BaseRow {
    pub line: usize,
    pub name: String,
    pub id_number: String,
    pub input: ProfileInput,
}

#[derive(Debug, Default)]
pub struct BasesPlan {
    pub rows: usize,
    pub good: Vec<(Payer, ValidProfile)>,
    pub problems: Vec<crate::import::RowProblem>,
}

impl BasesPlan {
    pub fn bad_lines(&self) -> usize {
        self.problems
            .iter()
            .map(|p| p.line)
            .collect::<std::collections::HashSet<_>>()
            .len()
    }
}

/// Checks every row of a bases file for `year`: the person (found by ID number in the caller's
/// scope, the name agreeing), the category and base, and a person listed twice.
pub async fn plan_bases(
    db: &Db,
    keys: &crate::Keys,
    caller: &Caller,
    year: i32,
    rows: Vec<BaseRow>,
    rounding: Rounding,
) -> Result<BasesPlan> {
    let today = today();
    let mut plan = BasesPlan {
        rows: rows.len(),
        ..Default::default()
    };
    let mut seen: HashMap<(i64, u32), usize> = HashMap::new();
    for row in rows {
        let mut problems: Vec<(&'static str, String)> = Vec::new();
        let mut input = row.input.clone();
        input.year = Some(year);
        let valid = input.validate(rounding, today).map_err(|e| {
            problems.extend(e.into_iter().map(|f| (f.field, f.code.into_owned())));
        });
        let member = match domain::IdNumber::parse(&row.id_number) {
            Err(domain::id_number::IdNumberError::Checksum) => {
                problems.push(("id_number", "checksum".into()));
                None
            }
            Err(_) => {
                problems.push(("id_number", "invalid".into()));
                None
            }
            Ok(id) => {
                let mut q = Q::new(&format!("{PAYER} WHERE m.id_number_bi = $1 AND "))
                    .bind(keys.blind_index("id_number", id.as_str()));
                caller.filter(&mut q, Perm::ReadMembers, "m.org_path", Own::Nothing);
                let found: Option<Payer> = db.opt(q).await?;
                let refused = match &found {
                    None => Some(("id_number", "not_found")),
                    Some(m) if m.name != row.name.trim() => Some(("name", "mismatch_record")),
                    Some(m) if !caller.can_at(Perm::ManageDues, &m.org_path) => Some(("id_number", "not_found")),
                    Some(m) if m.status != "active" => Some(("id_number", "inactive")),
                    Some(_) => None,
                };
                match (found, refused) {
                    (_, Some((field, code))) => {
                        problems.push((field, code.into()));
                        None
                    }
                    (None, None) => None,
                    (Some(m), None) => {
                        let key = (m.id, input.effective_month.unwrap_or(1));
                        if let Some(first) = seen.get(&key) {
                            problems.push(("id_number", format!("duplicate_of_line_{first}")));
                        } else {
                            seen.insert(key, row.line);
                        }
                        Some(m)
                    }
                }
            }
        };
        match (member, valid) {
            (Some(m), Ok(v)) if problems.is_empty() => plan.good.push((m, v)),
            _ => plan
                .problems
                .extend(problems.into_iter().map(|(field, code)| crate::import::RowProblem {
                    line: row.line,
                    field: field.into(),
                    code,
                })),
        }
    }
    Ok(plan)
}

/// Writes the checked bases in one transaction: all of them or, on any failure, none.
pub async fn commit_bases(db: &Db, caller: &Caller, good: &[(Payer, ValidProfile)]) -> Result<usize> {
    let mut tx = db.begin().await?;
    for (member, v) in good {
        write_profile(&mut tx, caller, member, v).await?;
    }
    audit::append(&mut tx, caller, Event::ok("dues.profile.import", "members", good.len())).await?;
    tx.commit().await?;
    Ok(good.len())
}
