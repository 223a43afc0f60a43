//! The roster: a filtered, sorted, paged list of members over the caller's scope, and the same
//! filter with full values for exports.

use domain::org::subtree_end;
use domain::{IdNumber, Phone};
use serde::Deserialize;

use super::{Member, Revealed, Secrets, MEMBER_FIELDS, MEMBER_JOINS};
use crate::audit::{self, Event};
use crate::crypto::Keys;
use crate::db::{columns, Db, Q};
use crate::empty_as_none;
use crate::error::{Error, Result};
use crate::orgs::{self, Org};
use crate::scope::{Caller, Own, Perm};

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct MemberFilter {
    #[serde(deserialize_with = "empty_as_none")]
    pub org_id: Option<i64>,
    /// A name prefix, or an exact ID number or phone.
    pub q: Option<String>,
    pub gender: Option<String>,
    pub category: Option<String>,
    /// `active` by default, so that the roster counts as the tree does; `transferred_out`,
    /// `suspended`, `deceased` or `left` for the others, `all` for everyone.
    pub status: Option<String>,
    pub education: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub offline: Option<bool>,
    /// `org` (default: by organization, then name), `name`, `joined_on`, `birth_date`, `updated_at`;
    /// a leading `-` sorts descending.
    pub sort: Option<String>,
    #[serde(deserialize_with = "empty_as_none")]
    pub page: Option<i64>,
    #[serde(deserialize_with = "empty_as_none")]
    pub per_page: Option<i64>,
}

impl MemberFilter {
    /// Pages beyond this are not useful to anyone and would overflow the offset.
    pub fn page(&self) -> i64 {
        self.page.unwrap_or(1).clamp(1, 1_000_000)
    }
    pub fn per_page(&self) -> i64 {
        self.per_page.unwrap_or(20).clamp(1, 200)
    }
}

pub struct MemberPage {
    pub items: Vec<Member>,
    pub total: i64,
}

/// The WHERE clause over `members m` shared by the list, its count and exports, appended to `q`.
/// With `path_off_index`, these conditions on the organization path are kept out of SQLite's
/// index choice (`+col`): so that a page of a large subtree sorted by name walks the name index
/// instead of sorting the whole subtree, and so that a deep page's range is the one its caller
/// adds (SQLite plans without the bound values, so it cannot tell which of two lower bounds on the
/// path is the higher; PostgreSQL's plans see the values and choose by themselves).
fn filter(q: &mut Q, db: &Db, keys: &Keys, caller: &Caller, f: &MemberFilter, org: Option<&Org>, path_off_index: bool) {
    let path_col = if path_off_index && !db.is_postgres() {
        "+m.org_path"
    } else {
        "m.org_path"
    };
    q.push(" WHERE ");
    match org {
        // A subtree wholly in scope needs no scope condition of its own; a second range on the same
        // column would also mislead PostgreSQL's row estimates.
        Some(o) if caller.can_at(Perm::ReadMembers, &o.path) => {
            q.push("1=1");
        }
        _ => caller.filter(q, Perm::ReadMembers, path_col, Own::MemberRow("m.id")),
    }
    if let Some(org) = org {
        q.push(&format!(" AND {path_col} >= ")).push_bind(org.path.clone());
        q.push(&format!(" AND {path_col} < ")).push_bind(subtree_end(&org.path));
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        if let Ok(id) = IdNumber::parse(text) {
            q.push(" AND m.id_number_bi = ")
                .push_bind(keys.blind_index("id_number", id.as_str()));
        } else if let Some(phone) = Phone::parse(text) {
            q.push(" AND m.phone_bi = ")
                .push_bind(keys.blind_index("phone", phone.as_str()));
        } else {
            q.push(" AND m.name >= ")
                .push_bind(text)
                .push(" AND m.name < ")
                .push_bind(format!("{text}\u{10ffff}"));
        }
    }
    match f.status.as_deref().map(str::trim) {
        // Written out, not bound, so that the planners may use the index of active members.
        None | Some("") => {
            q.push(" AND m.status = 'active'");
        }
        Some("all") => {}
        Some(s) => {
            q.push(" AND m.status = ").push_bind(s.to_string());
        }
    }
    for (col, value) in [
        ("gender", &f.gender),
        ("category", &f.category),
        ("education", &f.education),
    ] {
        if let Some(v) = value.as_deref().filter(|s| !s.is_empty()) {
            q.push(&format!(" AND m.{col} = ")).push_bind(v);
        }
    }
    if let Some(o) = f.offline {
        q.push(" AND m.offline = ").push_bind(o);
    }
}

/// The organization a list is filtered by, if the caller may see it.
async fn filter_org(db: &Db, caller: &Caller, f: &MemberFilter) -> Result<Option<Org>> {
    match f.org_id {
        Some(id) => Ok(Some(orgs::get(db, caller, id).await?)),
        None => Ok(None),
    }
}

/// Above this many members, a page sorted by name is cheaper by walking the name index.
const WALK_NAMES_ABOVE: i64 = 5_000;

/// How many active members a list holds, from the maintained counts: exact for the default
/// filter (see `maintained_total`), an upper bound for planning otherwise.
async fn list_size(db: &Db, caller: &Caller, org: Option<&Org>) -> Result<i64> {
    if let Some(org) = org {
        return Ok(org.subtree_members);
    }
    if caller.roots(Perm::ReadMembers).is_empty() {
        return Ok(1);
    }
    let mut q = Q::new("");
    push_scope_size(&mut q, caller);
    Ok(db.one::<(i64,)>(q).await?.0)
}

/// `SELECT` the active members of the caller's readable subtrees from the maintained counts.
fn push_scope_size(q: &mut Q, caller: &Caller) {
    let roots = caller.roots(Perm::ReadMembers);
    q.push("SELECT CAST(COALESCE(SUM(subtree_members), 0) AS BIGINT) FROM orgs WHERE ");
    // The whole-system root "/" is no organization's path: everything, the top organizations'.
    if roots.contains(&"/") {
        q.push("parent_id IS NULL");
    } else {
        q.push("path IN (");
        for (i, r) in roots.iter().enumerate() {
            q.push(if i == 0 { "" } else { ", " }).push_bind(*r);
        }
        q.push(")");
    }
}

fn order_by(sort: Option<&str>) -> &'static str {
    match sort.unwrap_or("org") {
        "name" => " ORDER BY m.name, m.id",
        "-name" => " ORDER BY m.name DESC, m.id",
        "joined_on" => " ORDER BY m.joined_on, m.id",
        "-joined_on" => " ORDER BY m.joined_on DESC, m.id",
        "birth_date" => " ORDER BY m.birth_date, m.id",
        "-birth_date" => " ORDER BY m.birth_date DESC, m.id",
        "updated_at" => " ORDER BY m.updated_at, m.id",
        "-updated_at" => " ORDER BY m.updated_at DESC, m.id",
        // By organization, then name: the roster's natural order, read straight from an index.
        _ => " ORDER BY m.org_path, m.name, m.id",
    }
}

pub async fn list(db: &Db, keys: &Keys, caller: &Caller, f: &MemberFilter) -> Result<MemberPage> {
    if !caller.can(Perm::ReadMembers) && caller.member_id.is_none() {
        return caller
            .refuse(db, Error::Forbidden, "member.list", ("org", &f.org_id.unwrap_or(0)))
            .await;
    }
    let by_name = matches!(f.sort.as_deref(), Some("name" | "-name"));
    let no_prefix = f.q.as_deref().is_none_or(|q| q.trim().is_empty());
    let org = filter_org(db, caller, f).await?;
    // Looking a person up by ID number or phone is a sensitive read (and repeated, a way to
    // complete a masked value): it is audited, without the value.
    if let Some(text) = f.q.as_deref().map(str::trim) {
        let by = if IdNumber::parse(text).is_ok() {
            Some("id_number")
        } else {
            Phone::parse(text).map(|_| "phone")
        };
        if let Some(by) = by {
            audit::append_alone(
                db,
                caller,
                Event::ok("member.search", "members", "").with_detail(format!("by={by}")),
            )
            .await?;
        }
    }
    let counted = default_filter(f) && maintained_total(caller, org.as_ref());
    let mut skip = (f.page() - 1) * f.per_page();
    let by_counts = counted && skip >= SKIP_BY_COUNTS_FROM && matches!(f.sort.as_deref(), None | Some("" | "org"));
    // The list's size plans the query: only read it first where the plan depends on it.
    let size = match org.as_ref() {
        Some(o) => Some(o.subtree_members),
        None if by_counts || (by_name && no_prefix) => Some(list_size(db, caller, None).await?),
        None => None,
    };
    let walk_names = by_name && no_prefix && size.is_some_and(|n| n > WALK_NAMES_ABOVE);
    // A deep page of the default roster starts where the maintained counts say, not after
    // reading every index entry before it.
    let mut start_path = None;
    if by_counts {
        match page_start(db, caller, org.as_ref(), skip).await? {
            Some((path, within)) => {
                start_path = Some(path);
                skip = within;
            }
            None => {
                return Ok(MemberPage {
                    items: Vec::new(),
                    total: size.unwrap_or_default(),
                })
            }
        }
    }
    // One statement: the page packed into one value, and its total. The page's ids come from the
    // index alone where it can, and their rows around them: skipping to a deep page then reads
    // index entries, not the rows (and organizations) of every page before. The ids are a derived
    // table, not `IN (…)`: PostgreSQL, which plans every execution, plans that in half the time.
    let order = order_by(f.sort.as_deref());
    let mut q = Q::new(&format!("{}, (", db.packing(MEMBER_FIELDS, order)));
    match size {
        Some(n) if counted => {
            q.push("SELECT ").push_bind(n);
        }
        None if counted => push_scope_size(&mut q, caller),
        _ => {
            q.push("SELECT COUNT(*) FROM members m");
            filter(&mut q, db, keys, caller, f, org.as_ref(), false);
        }
    }
    q.push(") FROM (SELECT m.id FROM members m");
    filter(
        &mut q,
        db,
        keys,
        caller,
        f,
        org.as_ref(),
        walk_names || start_path.is_some(),
    );
    if let Some(path) = start_path {
        // From the page's first organization to the end of the subtree that holds it.
        let end = subtree_end(match org.as_ref() {
            Some(o) => o.path.as_str(),
            None => caller
                .roots(Perm::ReadMembers)
                .into_iter()
                .find(|root| path.starts_with(root))
                .unwrap_or("/"),
        });
        q.push(" AND m.org_path >= ").push_bind(path);
        q.push(" AND m.org_path < ").push_bind(end);
    }
    q.push(order);
    q.push(" LIMIT ")
        .push_bind(f.per_page())
        .push(" OFFSET ")
        .push_bind(skip);
    q.push(&format!(") page JOIN members m ON m.id = page.id {MEMBER_JOINS}"));
    // The default roster of one subtree walks its index in order whatever the subtree, and its
    // total comes from the counts: one plan fits every value. (Several subtrees are an OR of
    // ranges, which PostgreSQL plans by their sizes.)
    let one_subtree = org.is_some() || caller.roots(Perm::ReadMembers).len() == 1;
    if counted && one_subtree && order_by(None) == order {
        q = q.one_plan();
    }
    let (items, total) = db.packed_page::<Member>(q).await?;
    Ok(MemberPage { items, total })
}

/// From this many rows before a page on, the default roster finds where the page starts from the
/// maintained counts (`page_start`).
const SKIP_BY_COUNTS_FROM: i64 = 500;

/// Where the default roster's page starts after `skip` rows (in its order: organization path,
/// then name): the organization whose own active members hold the page's first row, and how many
/// of them come before it. It walks down the tree by the maintained counts — an organization's own
/// members come first in path order, then each child's subtree in path order — reading a few
/// rows per level instead of `skip` index entries (474 ms at page 25,000 of a million members).
/// `None` when the roster has fewer rows than `skip`.
async fn page_start(db: &Db, caller: &Caller, org: Option<&Org>, mut skip: i64) -> Result<Option<(String, i64)>> {
    const COLUMNS: &str = "SELECT id, path, direct_members, subtree_members FROM orgs";
    let mut level: Vec<(i64, String, i64, i64)> = match org {
        Some(o) => vec![(o.id, o.path.clone(), o.direct_members, o.subtree_members)],
        None => {
            let roots = caller.roots(Perm::ReadMembers);
            let mut q = Q::new(COLUMNS);
            if roots.contains(&"/") {
                q.push(" WHERE parent_id IS NULL");
            } else {
                q.push(" WHERE path IN (");
                for (i, r) in roots.iter().enumerate() {
                    q.push(if i == 0 { "" } else { ", " }).push_bind(*r);
                }
                q.push(")");
            }
            q.push(" ORDER BY path");
            db.all(q.one_plan()).await?
        }
    };
    'down: loop {
        for (id, path, direct, subtree) in level {
            if skip < direct {
                return Ok(Some((path, skip)));
            }
            skip -= direct;
            let below = subtree - direct;
            if skip < below {
                level = db
                    .all(
                        Q::new(&format!("{COLUMNS} WHERE parent_id = $1 ORDER BY path"))
                            .bind(id)
                            .one_plan(),
                    )
                    .await?;
                continue 'down;
            }
            skip -= below;
        }
        return Ok(None);
    }
}

/// Whether the filter is the roster's default: a subtree (or the caller's scope), active members,
/// nothing else — what the maintained counts count.
fn default_filter(f: &MemberFilter) -> bool {
    f.status.as_deref().is_none_or(|s| s.trim().is_empty())
        && [&f.q, &f.gender, &f.category, &f.education]
            .iter()
            .all(|v| v.as_deref().is_none_or(|s| s.trim().is_empty()))
        && f.offline.is_none()
}

/// Whether the maintained counts give the list's total: an organization in scope, or a scope of
/// subtrees that holds the caller's own record too (else it is counted apart).
fn maintained_total(caller: &Caller, org: Option<&Org>) -> bool {
    match org {
        Some(o) => caller.can_at(Perm::ReadMembers, &o.path),
        None => {
            let roots = caller.roots(Perm::ReadMembers);
            !roots.is_empty()
                && caller
                    .member_org_path
                    .as_deref()
                    .is_none_or(|own| caller.can_at(Perm::ReadMembers, own))
        }
    }
}

/// Every member matching the filter with full values, for exports; audited as a sensitive read.
pub async fn export(
    db: &Db,
    keys: &Keys,
    caller: &Caller,
    f: &MemberFilter,
    format: &str,
) -> Result<Vec<(Member, Revealed)>> {
    caller
        .require_any(db, Perm::ReadMembers, "member.export", ("org", &f.org_id.unwrap_or(0)))
        .await?;
    let select = format!(
        "SELECT {}, m.id_number_enc, m.phone_enc, m.address_enc FROM members m {MEMBER_JOINS}",
        columns(MEMBER_FIELDS)
    );
    let org = filter_org(db, caller, f).await?;
    let mut q = Q::new(&select);
    filter(&mut q, db, keys, caller, f, org.as_ref(), false);
    q.push(" ORDER BY m.org_path, m.name, m.id");
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        member: Member,
        #[sqlx(flatten)]
        secrets: Secrets,
    }
    let rows: Vec<Row> = db.all(q).await?;
    // Only those allowed to reveal get the full values; others export the masked roster.
    let out = rows
        .into_iter()
        .map(|r| {
            let full = caller.can_at(Perm::RevealMembers, &r.member.org_path);
            let revealed = if full {
                r.secrets.open(keys, r.member.id)?
            } else {
                Revealed {
                    id: r.member.id,
                    id_number: r.member.id_number_masked.clone(),
                    phone: r.member.phone_masked.clone(),
                    address: None,
                }
            };
            Ok((r.member, revealed))
        })
        .collect::<Result<Vec<_>>>()?;
    audit::append_alone(
        db,
        caller,
        Event::ok(
            "member.export",
            "org",
            f.org_id.map(|i| i.to_string()).unwrap_or_default(),
        )
        .with_detail(format!("format={format} rows={}", out.len())),
    )
    .await?;
    Ok(out)
}
