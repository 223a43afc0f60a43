//! Importing library items (批量导入学习资料): a workbook of items, one per row, with the files its
//! rows name uploaded beside it. Every row is checked first and every problem reported by line, as
//! for members; then the good rows (all of them, or only if every row is good) are written in one
//! transaction, each item submitted to the review chain as if published by hand. Files are written
//! before the rows that name them and removed again if the transaction fails.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use domain::study::ItemKind;
use domain::{FieldError, Invalid};

use super::items::{self, ItemInput};
use super::media;
use crate::audit::{self, Event};
use crate::db::{new_id, Db, Q};
use crate::error::{Error, Result};
use crate::import::RowProblem;
use crate::orgs;
use crate::scope::{Caller, Perm};

/// The most rows one import takes.
pub const IMPORT_LIMIT: usize = 2_000;

/// An item read from a workbook, with its line. `file` names an uploaded file; `to_orgs` are
/// organizations of the publisher's subtree by exact name or number.
#[derive(Debug, Clone, Default)]
pub struct ItemRow {
    pub line: usize,
    pub input: ItemInput,
    pub file: Option<String>,
    pub to_orgs: Vec<String>,
}

/// A file uploaded with the workbook.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// An import checked: the good rows and every problem by line.
#[derive(Default)]
pub struct ItemPlan {
    pub rows: usize,
    pub good: Vec<usize>,
    pub problems: Vec<RowProblem>,
    ready: Vec<Ready>,
}

/// A good row: the item as it will be written, its audience and the attachment it uses.
struct Ready {
    item: items::Checked,
    targets: Vec<(i64, String)>,
    attachment: Option<usize>,
}

impl ItemPlan {
    pub fn bad_lines(&self) -> usize {
        self.problems.iter().map(|p| p.line).collect::<HashSet<_>>().len()
    }
}

/// Checks every row for publishing at `org_id` (which the caller must manage). A title already in
/// the publisher's library, or repeated in the file, is a problem: importing the same workbook
/// twice is the usual mistake.
pub async fn plan_import(
    db: &Db,
    caller: &Caller,
    org_id: Option<i64>,
    rows: Vec<ItemRow>,
    attachments: &[Attachment],
) -> Result<ItemPlan> {
    let org = publisher(db, caller, org_id).await?;
    if rows.len() > IMPORT_LIMIT {
        return Err(Error::Refused("study.item.too_many_rows"));
    }
    let existing: Vec<(String,)> = db
        .all(Q::new("SELECT title FROM study_items WHERE org_id = $1").bind(org.id))
        .await?;
    let mut titles: HashSet<String> = existing.into_iter().map(|(t,)| t).collect();
    let audience = Audience::load(db, &org, &rows).await?;
    // Each attachment is checked once, however many rows name it.
    let files: Vec<std::result::Result<media::Checked, &'static str>> =
        attachments.iter().map(|a| media::check(&a.name, &a.bytes)).collect();
    let by_name: HashMap<String, usize> = attachments
        .iter()
        .enumerate()
        .map(|(i, a)| (file_key(&a.name), i))
        .collect();
    let mut plan = ItemPlan {
        rows: rows.len(),
        ..Default::default()
    };
    for row in rows {
        let mut e = Vec::new();
        let mut input = row.input;
        let named = row.file.as_deref().map(str::trim).filter(|f| !f.is_empty());
        let named_file = named.is_some();
        let attachment = match named {
            None => None,
            Some(name) => match by_name.get(&file_key(name)) {
                None => {
                    e.push(FieldError::new("file", "not_uploaded"));
                    None
                }
                Some(&i) => match &files[i] {
                    Err(code) => {
                        e.push(FieldError::new("file", *code));
                        None
                    }
                    Ok(file) => {
                        // The kind may be left out where the file tells it.
                        if input.kind.as_deref().is_none_or(|k| k.trim().is_empty()) {
                            input.kind = Some(file.kind.as_str().into());
                        }
                        Some((i, file))
                    }
                },
            },
        };
        if input.kind.as_deref().is_none_or(|k| k.trim().is_empty()) && input.link.is_some() {
            input.kind = Some(ItemKind::Link.as_str().into());
        }
        // The file is written at commit: its id stands in until then (and where the file named
        // was refused, that problem is reported, not a missing file as well).
        input.file_id = named_file.then_some(PENDING_FILE);
        let checked = match items::check(&input) {
            Ok(mut c) => {
                if let Some((_, file)) = attachment {
                    if c.file_id.is_some() && file.kind != c.kind {
                        e.push(FieldError::new("file", "wrong_kind"));
                    }
                    if c.body.is_empty() {
                        c.body = domain::study::article::sanitise(&file.text);
                    }
                }
                Some(c)
            }
            Err(Error::Invalid(Invalid(fields))) => {
                e.extend(fields.into_iter().map(|f| match f.field {
                    "file_id" => FieldError::new("file", f.code),
                    _ => f,
                }));
                None
            }
            Err(other) => return Err(other),
        };
        let targets = audience.targets(&org, &row.to_orgs, &mut e);
        if let Some(c) = &checked {
            if !titles.insert(c.title.clone()) {
                e.push(FieldError::new("title", "duplicate_title"));
            }
        }
        match checked {
            Some(item) if e.is_empty() => {
                plan.good.push(row.line);
                plan.ready.push(Ready {
                    attachment: attachment.filter(|_| item.file_id.is_some()).map(|(i, _)| i),
                    item,
                    targets,
                });
            }
            _ => plan.problems.extend(e.into_iter().map(|f| RowProblem {
                line: row.line,
                field: f.field.to_string(),
                code: f.code.into_owned(),
            })),
        }
    }
    Ok(plan)
}

/// Stands in for the id of a file uploaded with the workbook until it is written.
const PENDING_FILE: i64 = 0;

/// Files are matched by name without the folder and case: a spreadsheet says `讲话.PDF`, the
/// browser uploads `讲话.pdf`.
fn file_key(name: &str) -> String {
    name.rsplit(['/', '\\']).next().unwrap_or(name).trim().to_lowercase()
}

/// Writes an import's good rows in one transaction, all of them or none, with the files they name.
pub async fn commit_import(
    db: &Db,
    dir: &Path,
    caller: &Caller,
    org_id: Option<i64>,
    plan: ItemPlan,
    attachments: Vec<Attachment>,
) -> Result<usize> {
    let org = publisher(db, caller, org_id).await?;
    let used: Vec<usize> = plan
        .ready
        .iter()
        .filter_map(|r| r.attachment)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut file_ids: HashMap<usize, i64> = HashMap::new();
    let mut kept: Vec<(i64, media::Checked, usize)> = Vec::new();
    let mut attachments: Vec<Option<Attachment>> = attachments.into_iter().map(Some).collect();
    for i in used {
        let Some(a) = attachments.get_mut(i).and_then(Option::take) else {
            continue;
        };
        let file = media::check(&a.name, &a.bytes).map_err(|code| Invalid::one("file", code))?;
        let id = new_id();
        let size = a.bytes.len();
        if let Err(e) = media::keep(dir, id, a.bytes).await {
            media::forget(dir, &kept.iter().map(|k| k.0).collect::<Vec<_>>()).await;
            return Err(e);
        }
        file_ids.insert(i, id);
        kept.push((id, file, size));
    }
    let written = write_rows(db, caller, &org, plan, &file_ids, &kept).await;
    if written.is_err() {
        media::forget(dir, &kept.iter().map(|k| k.0).collect::<Vec<_>>()).await;
    }
    written
}

async fn write_rows(
    db: &Db,
    caller: &Caller,
    org: &orgs::Org,
    plan: ItemPlan,
    file_ids: &HashMap<usize, i64>,
    kept: &[(i64, media::Checked, usize)],
) -> Result<usize> {
    let count = plan.ready.len();
    let mut tx = db.begin().await?;
    for (id, file, size) in kept {
        media::record(&mut tx, caller, *id, file, *size).await?;
    }
    for ready in plan.ready {
        let mut item = ready.item;
        item.file_id = ready.attachment.and_then(|i| file_ids.get(&i).copied());
        let id = items::insert(&mut tx, caller, org, item, &ready.targets).await?;
        audit::append(&mut tx, caller, Event::ok("study.item.import", "study_item", id)).await?;
    }
    audit::append(
        &mut tx,
        caller,
        Event::ok("study.item.import", "org", org.id).with_detail(format!("rows={count}")),
    )
    .await?;
    tx.commit().await?;
    Ok(count)
}

/// The publishing organization, which the caller must manage study at.
async fn publisher(db: &Db, caller: &Caller, org_id: Option<i64>) -> Result<orgs::Org> {
    let Some(org_id) = org_id else {
        caller
            .require_any(db, Perm::ManageStudy, "study.item.import", ("org", &""))
            .await?;
        return Err(Invalid::one("org_id", "required").into());
    };
    let org = orgs::get(db, caller, org_id)
        .await
        .map_err(|_| Invalid::one("org_id", "not_found"))?;
    caller
        .require(db, Perm::ManageStudy, &org.path, "study.item.import", ("org", &org_id))
        .await?;
    Ok(org)
}

/// The live organizations of the publisher's subtree that the rows name, read in one statement.
struct Audience {
    by_name: HashMap<String, Vec<(i64, String)>>,
    by_id: HashMap<i64, String>,
}

impl Audience {
    async fn load(db: &Db, publisher: &orgs::Org, rows: &[ItemRow]) -> Result<Audience> {
        let named: HashSet<&str> = rows.iter().flat_map(|r| r.to_orgs.iter().map(|o| o.trim())).collect();
        let mut audience = Audience {
            by_name: HashMap::new(),
            by_id: HashMap::new(),
        };
        if named.is_empty() {
            return Ok(audience);
        }
        let ids: Vec<i64> = named.iter().filter_map(|n| n.parse().ok()).collect();
        let mut q = Q::new("SELECT id, name, path FROM orgs WHERE dissolved_on IS NULL AND path >= ");
        q.push_bind(publisher.path.clone())
            .push(" AND path < ")
            .push_bind(domain::org::subtree_end(&publisher.path))
            .push(" AND (name IN (")
            .push_list(named.iter().map(|n| n.to_string()))
            .push(")");
        if !ids.is_empty() {
            q.push(" OR id IN (").push_list(ids).push(")");
        }
        q.push(")");
        let found: Vec<(i64, String, String)> = db.all(q).await?;
        for (id, name, path) in found {
            audience.by_id.insert(id, path.clone());
            audience.by_name.entry(name).or_default().push((id, path));
        }
        Ok(audience)
    }

    /// The row's audience as `orgs::audience` keeps it (the publisher's subtree when none is named).
    fn targets(&self, publisher: &orgs::Org, named: &[String], e: &mut Vec<FieldError>) -> Vec<(i64, String)> {
        let mut chosen = Vec::new();
        for name in named.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            match self.by_name.get(name).map(Vec::as_slice) {
                Some([one]) => chosen.push(one.clone()),
                Some(_) => e.push(FieldError::new("to_org_ids", "ambiguous")),
                None => match name
                    .parse()
                    .ok()
                    .and_then(|id: i64| self.by_id.get(&id).map(|p| (id, p.clone())))
                {
                    Some(found) => chosen.push(found),
                    None => e.push(FieldError::new("to_org_ids", "not_found")),
                },
            }
        }
        if chosen.len() > orgs::MAX_AUDIENCE {
            e.push(FieldError::new(
                "to_org_ids",
                format!("too_many_items:{}", orgs::MAX_AUDIENCE),
            ));
        }
        orgs::outermost(publisher, chosen)
    }
}
