//! The organization tree (组织管理): a materialized path per organization (`/1/45/9203/`) so that a
//! subtree is one index range, and member counts maintained on every write so that subtree totals
//! are read, never counted, per request.

use chrono::NaiveDate;
use domain::org::{
    child_path, path_ids, structure_warnings, subtree_end, term_years, BranchType, OrgKind, OrgSize, Sector,
};
use domain::{clean_text, FieldError, Invalid};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Event};
use crate::clock::today;
use crate::db::{new_id, now_text, Db, Tx, Q};
use crate::error::{Error, Result};
use crate::scope::{Caller, Own, Perm};

mod list;
mod moves;
use domain::schema::{date, id, text};
pub use list::{count_upto, list, page, top_levels, tree_order};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Org {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub path: String,
    pub depth: i64,
    pub name: String,
    pub kind: String,
    pub branch_type: String,
    pub sector: String,
    pub established_on: NaiveDate,
    pub dissolved_on: Option<NaiveDate>,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
    pub direct_members: i64,
    pub direct_full: i64,
    /// Active members in the whole subtree, maintained on every write.
    pub subtree_members: i64,
    pub committee_size: i64,
    pub has_child_committee: bool,
}

const ORG_COLUMNS: &str =
    "o.id, o.parent_id, o.path, o.depth, o.name, o.kind, o.branch_type, o.sector, o.established_on,
    o.dissolved_on, o.term_start, o.term_end, o.direct_members, o.direct_full, o.subtree_members,
    (SELECT COUNT(*) FROM org_officers f WHERE f.org_id = o.id) AS committee_size,
    EXISTS (SELECT 1 FROM orgs c WHERE c.parent_id = o.id AND c.kind = 'committee') AS has_child_committee";

impl Org {
    pub fn kind(&self) -> OrgKind {
        OrgKind::parse(&self.kind).unwrap_or(OrgKind::Branch)
    }

    /// The structure warnings of 支部工作条例 that apply now (none for dissolved organizations).
    fn structure(&self) -> Vec<domain::org::StructureWarning> {
        if self.dissolved_on.is_some() {
            return Vec::new();
        }
        let size = OrgSize {
            direct_full: self.direct_full,
            direct_members: self.direct_members,
            subtree_members: self.subtree_members,
            committee_size: self.committee_size,
        };
        let branch_type = BranchType::parse(&self.branch_type).unwrap_or(BranchType::Regular);
        structure_warnings(self.kind(), branch_type, size, !self.has_child_committee)
    }

    /// The codes of the structure warnings that apply now, advice included.
    pub fn warnings(&self) -> Vec<&'static str> {
        self.structure().into_iter().map(|w| w.code()).collect()
    }

    /// The structure warnings that need the organization to act (advice left out).
    pub fn structure_actions(&self) -> Vec<&'static str> {
        self.structure()
            .into_iter()
            .filter(|w| w.needs_action())
            .map(|w| w.code())
            .collect()
    }

    /// Whether its committee serves a term (as `figures::TERMED` says in SQL).
    pub fn has_term(&self) -> bool {
        matches!(self.kind(), OrgKind::Committee | OrgKind::GeneralBranch)
            || (self.kind() == OrgKind::Branch && self.direct_full >= 7)
    }

    /// The ancestors' ids, root first, without this organization.
    pub fn ancestor_ids(&self) -> Vec<i64> {
        let mut ids = path_ids(&self.path);
        ids.pop();
        ids
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct OrgInput {
    #[schema(schema_with = id)]
    pub parent_id: Option<i64>,
    #[schema(schema_with = text::<100>)]
    pub name: Option<String>,
    pub kind: Option<String>,
    pub branch_type: Option<String>,
    pub sector: Option<String>,
    #[schema(schema_with = date)]
    pub established_on: Option<String>,
    #[schema(schema_with = date)]
    pub term_start: Option<String>,
    #[schema(schema_with = date)]
    pub term_end: Option<String>,
}

struct ValidOrg {
    name: String,
    kind: OrgKind,
    branch_type: BranchType,
    sector: Sector,
    established_on: NaiveDate,
    term_start: Option<NaiveDate>,
    term_end: Option<NaiveDate>,
}

fn validate(input: &OrgInput) -> Result<ValidOrg, Invalid> {
    let mut e = Vec::new();
    let name = match input.name.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => clean_text("name", n, 100, &mut e),
        _ => {
            e.push(FieldError::new("name", "required"));
            None
        }
    };
    let kind = match input.kind.as_deref() {
        None => {
            e.push(FieldError::new("kind", "required"));
            None
        }
        Some(k) => OrgKind::parse(k).or_else(|| {
            e.push(FieldError::new("kind", "invalid"));
            None
        }),
    };
    let branch_type = match input.branch_type.as_deref().filter(|s| !s.is_empty()) {
        None => Some(BranchType::Regular),
        Some(b) => BranchType::parse(b).or_else(|| {
            e.push(FieldError::new("branch_type", "invalid"));
            None
        }),
    };
    let sector = match input.sector.as_deref().filter(|s| !s.is_empty()) {
        None => Some(Sector::General),
        Some(s) => Sector::parse(s).or_else(|| {
            e.push(FieldError::new("sector", "invalid"));
            None
        }),
    };
    let mut date = |field: &'static str, v: &Option<String>, required: bool| -> Option<NaiveDate> {
        match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                if required {
                    e.push(FieldError::new(field, "required"));
                }
                None
            }
            Some(s) => match domain::member::parse_date(s) {
                Some(d) if d > today() => {
                    if field == "established_on" {
                        e.push(FieldError::new(field, "in_future"));
                    }
                    Some(d)
                }
                Some(d) => Some(d),
                None => {
                    e.push(FieldError::new(field, domain::time::date_problem(s)));
                    None
                }
            },
        }
    };
    let established_on = date("established_on", &input.established_on, true);
    let term_start = date("term_start", &input.term_start, false);
    let mut term_end = date("term_end", &input.term_end, false);
    // 关于党的基层组织任期的意见 2018: the term follows from the kind and the sector.
    if let (None, Some(start), Some(k), Some(s)) = (term_end, term_start, kind, sector) {
        term_end = term_years(k, s).map(|y| start + chrono::Months::new(12 * y));
    }
    if let (Some(s), Some(end)) = (term_start, term_end) {
        if end <= s {
            e.push(FieldError::new("term_end", "before_start"));
        }
    }
    domain::error::check(e)?;
    Ok(ValidOrg {
        name: name.unwrap(),
        kind: kind.unwrap(),
        branch_type: branch_type.unwrap(),
        sector: sector.unwrap(),
        established_on: established_on.unwrap(),
        term_start,
        term_end,
    })
}

/// Whether the caller may change this organization (rename, move, dissolve, appoint): pages offer
/// the forms by it; the store decides again when they are sent.
pub fn may_manage(caller: &Caller, org: &Org) -> bool {
    caller.can_at(Perm::ManageOrgs, &org.path) && org.dissolved_on.is_none()
}

/// Most organizations one notice, item or task may name (a subtree reaches more at once).
pub const MAX_AUDIENCE: usize = 1_000;

/// Whom something an organization publishes reaches: the live organizations chosen below it (each
/// one the caller can see, else `field.not_found` in `errors`), or its whole subtree when none is
/// chosen; one inside another is dropped, as it reaches no one new.
pub async fn audience(
    db: &Db,
    caller: &Caller,
    publisher: &Org,
    field: &'static str,
    ids: &[i64],
    errors: &mut Vec<FieldError>,
) -> Result<Vec<(i64, String)>> {
    domain::error::list(field, ids, MAX_AUDIENCE)?;
    let mut chosen = Vec::new();
    for id in ids {
        match get(db, caller, *id).await {
            Ok(o) if o.path.starts_with(&publisher.path) && o.dissolved_on.is_none() => chosen.push((o.id, o.path)),
            _ => errors.push(FieldError::new(field, "not_found")),
        }
    }
    Ok(outermost(publisher, chosen))
}

/// An audience as kept: the publisher's subtree when none is chosen, and no organization beside
/// one it sits under (the subtree already holds it).
pub(crate) fn outermost(publisher: &Org, mut chosen: Vec<(i64, String)>) -> Vec<(i64, String)> {
    if chosen.is_empty() {
        chosen.push((publisher.id, publisher.path.clone()));
    }
    let all = chosen.clone();
    chosen.retain(|(_, p)| !all.iter().any(|(_, other)| other != p && p.starts_with(other.as_str())));
    chosen.sort();
    chosen.dedup();
    chosen
}

/// One organization, if the caller may see it; a refusal is audited.
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<Org> {
    let org = find(db, caller, id).await?;
    caller.found(db, org, "org.read", ("org", &id)).await
}

/// One organization if the caller may see it, else none, without an audit entry: for what a page
/// shows around the record that was asked for (the parent of a branch, say).
pub async fn find(db: &Db, caller: &Caller, id: i64) -> Result<Option<Org>> {
    // By its key: the scope only filters the one row found.
    let mut q = Q::new(&format!("SELECT {ORG_COLUMNS} FROM orgs o WHERE o.id = $1 AND "))
        .bind(id)
        .one_plan();
    caller.filter(&mut q, Perm::ReadOrgs, "o.path", Own::BranchPath("o.path"));
    Ok(db.opt(q).await?)
}

/// Organizations read unscoped by id: for the store's own evaluations.
pub(crate) async fn among(db: &Db, ids: &[i64]) -> Result<Vec<Org>> {
    let mut q = Q::new(&format!("SELECT {ORG_COLUMNS} FROM orgs o WHERE o.id IN ("));
    q.push_list(ids.iter().copied()).push(")");
    Ok(db.all(q).await?)
}

/// An organization read unscoped: for readers that hold no grant but a key to one organization
/// (a display's token).
pub(crate) async fn get_unscoped(db: &Db, id: i64) -> Result<Org> {
    db.opt(Q::new(&format!("SELECT {ORG_COLUMNS} FROM orgs o WHERE o.id = $1")).bind(id))
        .await?
        .ok_or(Error::NotFound)
}

/// An organization read inside a transaction, unscoped: for the store's own checks.
pub(crate) async fn get_in(tx: &mut Tx, id: i64) -> Result<Org> {
    tx.opt(Q::new(&format!("SELECT {ORG_COLUMNS} FROM orgs o WHERE o.id = $1")).bind(id))
        .await?
        .ok_or(Error::NotFound)
}

/// Creates an organization under `parent_id` (or a new top-level committee).
pub async fn create(db: &Db, caller: &Caller, input: &OrgInput) -> Result<Org> {
    let v = validate(input)?;
    let parent = match input.parent_id {
        Some(pid) => Some(
            get(db, caller, pid)
                .await
                .map_err(|_| Invalid::one("parent_id", "not_found"))?,
        ),
        None => None,
    };
    let parent_path = parent.as_ref().map(|p| p.path.as_str()).unwrap_or("/");
    caller
        .require(
            db,
            Perm::ManageOrgs,
            parent_path,
            "org.create",
            ("org", &input.parent_id.unwrap_or(0)),
        )
        .await?;
    if let Some(p) = &parent {
        if p.dissolved_on.is_some() {
            return Err(Invalid::one("parent_id", "dissolved").into());
        }
    }
    if !v.kind.may_sit_under(parent.as_ref().map(Org::kind)) {
        return Err(Invalid::one("kind", "not_allowed_under_parent").into());
    }
    let id = new_id();
    let path = child_path(parent.as_ref().map(|p| p.path.as_str()), id);
    let now = now_text();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO orgs (id, parent_id, path, depth, name, kind, branch_type, sector, established_on, term_start, term_end, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
        )
        .bind(id)
        .bind(input.parent_id)
        .bind(path.clone())
        .bind(parent.as_ref().map_or(0, |p| p.depth + 1))
        .bind(v.name.clone())
        .bind(v.kind.as_str())
        .bind(v.branch_type.as_str())
        .bind(v.sector.as_str())
        .bind(v.established_on)
        .bind(v.term_start)
        .bind(v.term_end)
        .bind(now),
    )
    .await?;
    record_event(
        &mut tx,
        caller,
        id,
        "created",
        &serde_json::json!({"name": v.name, "kind": v.kind.as_str()}),
    )
    .await?;
    crate::marks::stale(&mut tx, crate::marks::Of::Org(id)).await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("org.create", "org", id).with_detail(format!("kind={}", v.kind.as_str())),
    )
    .await?;
    let org = get_in(&mut tx, id).await?;
    tx.commit().await?;
    Ok(org)
}

async fn record_event(
    tx: &mut Tx,
    caller: &Caller,
    org_id: i64,
    event: &str,
    detail: &serde_json::Value,
) -> Result<()> {
    tx.exec(
        Q::new("INSERT INTO org_events (org_id, at, actor, event, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(org_id)
            .bind(now_text())
            .bind(caller.username.clone())
            .bind(event)
            .bind(detail.to_string()),
    )
    .await?;
    Ok(())
}

/// The organization the caller may manage, or why not.
async fn managed(db: &Db, caller: &Caller, id: i64, action: &'static str) -> Result<Org> {
    let org = get(db, caller, id).await?;
    caller
        .require(db, Perm::ManageOrgs, &org.path, action, ("org", &id))
        .await?;
    Ok(org)
}

/// Renames and edits an organization's attributes; `parent_id`, when given and different, moves it.
pub async fn update(db: &Db, caller: &Caller, id: i64, patch: &OrgInput) -> Result<Org> {
    let org = managed(db, caller, id, "org.update").await?;
    if org.dissolved_on.is_some() {
        return Err(Error::Refused("org.dissolved"));
    }
    let merged = OrgInput {
        parent_id: org.parent_id,
        name: patch.name.clone().or(Some(org.name.clone())),
        kind: patch.kind.clone().or(Some(org.kind.clone())),
        branch_type: patch.branch_type.clone().or(Some(org.branch_type.clone())),
        sector: patch.sector.clone().or(Some(org.sector.clone())),
        established_on: patch.established_on.clone().or(Some(org.established_on.to_string())),
        term_start: patch.term_start.clone().or(org.term_start.map(|d| d.to_string())),
        term_end: match (&patch.term_end, &patch.term_start) {
            (Some(e), _) => Some(e.clone()),
            // A new term start recomputes the end unless one is given.
            (None, Some(_)) => None,
            (None, None) => org.term_end.map(|d| d.to_string()),
        },
    };
    let v = validate(&merged)?;
    if v.kind != org.kind() {
        return Err(Invalid::one("kind", "immutable").into());
    }
    let new_parent = match patch.parent_id.filter(|p| Some(*p) != org.parent_id) {
        Some(p) => Some(moves::check(db, caller, &org, p).await?),
        None => None,
    };
    // The move and the edits commit together, or neither does.
    let mut tx = db.begin().await?;
    if let Some(parent) = &new_parent {
        moves::apply(&mut tx, db.is_postgres(), caller, org.id, parent.id).await?;
    }
    let mut changes = serde_json::Map::new();
    if v.name != org.name {
        changes.insert("name".into(), serde_json::json!([org.name, v.name]));
    }
    for (field, old, new) in [
        ("branch_type", org.branch_type.as_str(), v.branch_type.as_str()),
        ("sector", org.sector.as_str(), v.sector.as_str()),
    ] {
        if old != new {
            changes.insert(field.into(), serde_json::json!([old, new]));
        }
    }
    for (field, old, new) in [
        ("established_on", Some(org.established_on), Some(v.established_on)),
        ("term_start", org.term_start, v.term_start),
        ("term_end", org.term_end, v.term_end),
    ] {
        if old != new {
            changes.insert(field.into(), serde_json::json!([old, new]));
        }
    }
    if !changes.is_empty() {
        tx.exec(
            Q::new(
                "UPDATE orgs SET name = $1, branch_type = $2, sector = $3, established_on = $4, term_start = $5, term_end = $6, updated_at = $7 WHERE id = $8",
            )
            .bind(v.name)
            .bind(v.branch_type.as_str())
            .bind(v.sector.as_str())
            .bind(v.established_on)
            .bind(v.term_start)
            .bind(v.term_end)
            .bind(now_text())
            .bind(id),
        )
        .await?;
        let event = if changes.contains_key("name") {
            "renamed"
        } else {
            "updated"
        };
        record_event(&mut tx, caller, id, event, &serde_json::Value::Object(changes.clone())).await?;
        let fields: Vec<&str> = changes.keys().map(String::as_str).collect();
        crate::marks::stale(&mut tx, crate::marks::Of::Org(id)).await?;
        audit::append(
            &mut tx,
            caller,
            Event::ok("org.update", "org", id).with_detail(fields.join(",")),
        )
        .await?;
    }
    let org = get_in(&mut tx, id).await?;
    tx.commit().await?;
    Ok(org)
}

/// Dissolves (撤销) an organization: it stays in the tree with its history, marked dissolved.
/// Members and live sub-organizations must be moved first.
pub async fn dissolve(db: &Db, caller: &Caller, id: i64, on: Option<NaiveDate>) -> Result<Org> {
    let org = managed(db, caller, id, "org.dissolve").await?;
    if org.dissolved_on.is_some() {
        return Err(Error::Refused("org.dissolved"));
    }
    let on = on.unwrap_or_else(today);
    if on < org.established_on {
        return Err(Invalid::one("dissolved_on", "before_established").into());
    }
    if on > today() {
        return Err(Invalid::one("dissolved_on", "in_future").into());
    }
    let mut tx = db.begin().await?;
    let (members,): (i64,) = tx
        .one(
            Q::new("SELECT COUNT(*) FROM members WHERE org_path >= $1 AND org_path < $2 AND status = 'active'")
                .bind(org.path.clone())
                .bind(subtree_end(&org.path)),
        )
        .await?;
    if members > 0 {
        return Err(Error::Refused("org.dissolve.has_members"));
    }
    let (children,): (i64,) = tx
        .one(Q::new("SELECT COUNT(*) FROM orgs WHERE parent_id = $1 AND dissolved_on IS NULL").bind(id))
        .await?;
    if children > 0 {
        return Err(Error::Refused("org.dissolve.has_children"));
    }
    tx.exec(
        Q::new("UPDATE orgs SET dissolved_on = $1, updated_at = $2 WHERE id = $3")
            .bind(on)
            .bind(now_text())
            .bind(id),
    )
    .await?;
    record_event(&mut tx, caller, id, "dissolved", &serde_json::json!({"on": on})).await?;
    crate::marks::stale(&mut tx, crate::marks::Of::Org(id)).await?;
    audit::append(&mut tx, caller, Event::ok("org.dissolve", "org", id)).await?;
    let org = get_in(&mut tx, id).await?;
    tx.commit().await?;
    Ok(org)
}

/// Adds `delta` active members to the subtree counts of the organization at `path` and all its ancestors.
pub(crate) async fn adjust_ancestors(tx: &mut Tx, path: &str, delta: i64) -> Result<()> {
    if delta == 0 {
        return Ok(());
    }
    let mut q = Q::new("UPDATE orgs SET subtree_members = subtree_members + ");
    q.push_bind(delta).push(" WHERE id IN (");
    for (i, id) in path_ids(path).into_iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.push_bind(id);
    }
    q.push(")");
    tx.exec(q).await?;
    Ok(())
}

/// Changes the maintained counts for members joining (`delta` > 0) or leaving an organization.
pub(crate) async fn adjust_counts(tx: &mut Tx, org_id: i64, path: &str, delta: i64, full_delta: i64) -> Result<()> {
    if delta == 0 && full_delta == 0 {
        return Ok(());
    }
    tx.exec(
        Q::new("UPDATE orgs SET direct_members = direct_members + $1, direct_full = direct_full + $2 WHERE id = $3")
            .bind(delta)
            .bind(full_delta)
            .bind(org_id),
    )
    .await?;
    adjust_ancestors(tx, path, delta).await
}

/// Recomputes every maintained count from the members table (after bulk loads): one grouped pass
/// over the members, the roll-up along the paths in memory, and batched updates.
pub async fn recount_all(db: &Db) -> Result<()> {
    use std::collections::HashMap;
    let direct: Vec<(String, i64, i64)> = db
        .all(Q::new(
            "SELECT org_path, COUNT(*), SUM(CASE WHEN category = 'full' THEN 1 ELSE 0 END) FROM members
             WHERE status = 'active' GROUP BY org_path",
        ))
        .await?;
    let mut counts: HashMap<i64, (i64, i64, i64)> = HashMap::new();
    for (path, members, full) in direct {
        let ids = path_ids(&path);
        if let Some(own) = ids.last() {
            let c = counts.entry(*own).or_default();
            c.0 += members;
            c.1 += full;
        }
        for id in ids {
            counts.entry(id).or_default().2 += members;
        }
    }
    let mut tx = db.begin().await?;
    tx.exec(Q::new(
        "UPDATE orgs SET direct_members = 0, direct_full = 0, subtree_members = 0",
    ))
    .await?;
    let rows: Vec<(i64, (i64, i64, i64))> = counts.into_iter().collect();
    for chunk in rows.chunks(500) {
        let mut q = Q::new("UPDATE orgs SET direct_members = v.column2, direct_full = v.column3, subtree_members = v.column4 FROM (VALUES ");
        for (i, (id, (d, f, s))) in chunk.iter().enumerate() {
            q.push_row(i == 0, [(*id).into(), (*d).into(), (*f).into(), (*s).into()]);
        }
        q.push(") AS v WHERE orgs.id = v.column1");
        tx.exec(q).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Officer {
    pub member_id: i64,
    pub name: String,
    pub post: String,
    pub since: NaiveDate,
}

/// Posts on a branch committee (支部工作条例 Art. 15).
pub const POSTS: [&str; 6] = [
    "secretary",
    "deputy_secretary",
    "organization",
    "propaganda",
    "discipline",
    "committee_member",
];

pub async fn officers(db: &Db, caller: &Caller, org_id: i64) -> Result<Vec<Officer>> {
    get(db, caller, org_id).await?;
    Ok(db
        .all(
            Q::new(
                "SELECT f.member_id, m.name, f.post, f.since FROM org_officers f JOIN members m ON m.id = f.member_id
                 WHERE f.org_id = $1 ORDER BY CASE f.post WHEN 'secretary' THEN 0 WHEN 'deputy_secretary' THEN 1 ELSE 2 END, m.name",
            )
            .bind(org_id),
        )
        .await?)
}

/// Appoints a member to a post on the organization's committee (replacing their previous post
/// there), or with `post` = None removes them. Only full members may serve (选举工作条例 Art. 7).
pub async fn set_officer(db: &Db, caller: &Caller, org_id: i64, member_id: i64, post: Option<&str>) -> Result<()> {
    let org = managed(db, caller, org_id, "org.officer").await?;
    let mut tx = db.begin().await?;
    // Whose posts change (the one appointed, a secretary replaced): their study minimum follows.
    let mut changed = vec![member_id];
    tx.exec(
        Q::new("DELETE FROM org_officers WHERE org_id = $1 AND member_id = $2")
            .bind(org_id)
            .bind(member_id),
    )
    .await?;
    if let Some(post) = post {
        if !POSTS.contains(&post) {
            return Err(Invalid::one("post", "invalid").into());
        }
        let member: Option<(String, String, String)> = tx
            .opt(Q::new("SELECT org_path, category, status FROM members WHERE id = $1").bind(member_id))
            .await?;
        match member {
            Some((path, category, status)) if path.starts_with(&org.path) => {
                if category != "full" || status != "active" {
                    return Err(Invalid::one("member_id", "not_full_member").into());
                }
            }
            _ => return Err(Invalid::one("member_id", "not_found").into()),
        }
        if post == "secretary" {
            let before: Vec<(i64,)> = tx
                .all(Q::new("SELECT member_id FROM org_officers WHERE org_id = $1 AND post = 'secretary'").bind(org_id))
                .await?;
            changed.extend(before.into_iter().map(|(m,)| m));
            tx.exec(Q::new("DELETE FROM org_officers WHERE org_id = $1 AND post = 'secretary'").bind(org_id))
                .await?;
        }
        tx.exec(
            Q::new("INSERT INTO org_officers (org_id, member_id, post, since) VALUES ($1, $2, $3, $4)")
                .bind(org_id)
                .bind(member_id)
                .bind(post)
                .bind(today()),
        )
        .await?;
    }
    record_event(
        &mut tx,
        caller,
        org_id,
        "officer",
        &serde_json::json!({"member_id": member_id, "post": post}),
    )
    .await?;
    crate::marks::stale(&mut tx, crate::marks::Of::Org(org_id)).await?;
    crate::study::totals::members_changed(&mut tx, &changed, &[]).await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("org.officer", "org", org_id).with_detail(format!("member={member_id} post={}", post.unwrap_or("-"))),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrgEvent {
    pub at: String,
    /// Who made the change, by name.
    pub actor: String,
    pub event: String,
    pub changes: Vec<crate::changes::Change>,
}

pub async fn history(db: &Db, caller: &Caller, org_id: i64) -> Result<Vec<OrgEvent>> {
    let org = get(db, caller, org_id).await?;
    let rows: Vec<(String, String, String, String)> = db
        .all(
            Q::new(concat!(
                "SELECT at, ",
                person!("actor"),
                " AS actor, event, detail FROM org_events WHERE org_id = $1 ORDER BY id DESC LIMIT 200"
            ))
            .bind(org_id),
        )
        .await?;
    let mut lines: Vec<_> = rows.iter().map(|(_, _, _, json)| crate::changes::lines(json)).collect();
    // Officers are named to those who may read the organization's members.
    crate::changes::name_ids(db, &mut lines, caller.can_at(Perm::ReadMembers, &org.path)).await?;
    Ok(rows
        .into_iter()
        .zip(lines)
        .map(|((at, actor, event, _), changes)| OrgEvent {
            at,
            actor,
            event,
            changes,
        })
        .collect())
}

/// An organization for bulk loading (the demo and the generator); the caller picks ids and paths.
#[derive(Debug, Clone)]
pub struct NewOrg {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub path: String,
    pub name: String,
    pub kind: OrgKind,
    pub branch_type: BranchType,
    pub sector: Sector,
    pub established_on: NaiveDate,
    pub term_start: Option<NaiveDate>,
}

impl NewOrg {
    pub fn under(parent: Option<&NewOrg>, name: String, kind: OrgKind, established_on: NaiveDate) -> NewOrg {
        let id = new_id();
        NewOrg {
            id,
            parent_id: parent.map(|p| p.id),
            path: child_path(parent.map(|p| p.path.as_str()), id),
            name,
            kind,
            branch_type: BranchType::Regular,
            sector: Sector::General,
            established_on,
            term_start: None,
        }
    }
}

/// Inserts organizations in multi-row batches, parents before children, with one audit entry.
/// Counts start at zero: run `recount_all` after loading members.
pub async fn insert_bulk(db: &Db, caller: &Caller, orgs: &[NewOrg]) -> Result<()> {
    let now = now_text();
    let mut tx = db.begin().await?;
    for chunk in orgs.chunks(500) {
        let mut q = Q::new(
            "INSERT INTO orgs (id, parent_id, path, depth, name, kind, branch_type, sector, established_on, term_start, term_end, created_at, updated_at) VALUES ",
        );
        for (i, o) in chunk.iter().enumerate() {
            let term_end = o
                .term_start
                .zip(term_years(o.kind, o.sector))
                .map(|(s, y)| s + chrono::Months::new(12 * y));
            let args: [crate::db::Arg; 13] = [
                o.id.into(),
                o.parent_id.into(),
                o.path.clone().into(),
                (path_ids(&o.path).len() as i64 - 1).into(),
                o.name.clone().into(),
                o.kind.as_str().into(),
                o.branch_type.as_str().into(),
                o.sector.as_str().into(),
                o.established_on.into(),
                o.term_start.into(),
                term_end.into(),
                now.clone().into(),
                now.clone().into(),
            ];
            q.push_row(i == 0, args);
        }
        tx.exec(q).await?;
        let mut events = Q::new("INSERT INTO org_events (org_id, at, actor, event, detail) VALUES ");
        for (i, o) in chunk.iter().enumerate() {
            let detail = serde_json::json!({"name": o.name, "kind": o.kind.as_str()}).to_string();
            let values = [
                o.id.into(),
                now.clone().into(),
                caller.username.clone().into(),
                "created".into(),
                detail.into(),
            ];
            events.push_row(i == 0, values);
        }
        tx.exec(events).await?;
    }
    crate::marks::stale_orgs(&mut tx, orgs.iter().map(|o| o.id)).await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("org.bulk_create", "org", "").with_detail(format!("rows={}", orgs.len())),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Appoints officers without the per-call checks (bulk loading).
pub async fn insert_officers(db: &Db, rows: &[(i64, i64, &str, NaiveDate)]) -> Result<()> {
    let mut tx = db.begin().await?;
    for (org_id, member_id, post, since) in rows {
        tx.exec(
            Q::new("INSERT INTO org_officers (org_id, member_id, post, since) VALUES ($1, $2, $3, $4)")
                .bind(*org_id)
                .bind(*member_id)
                .bind(*post)
                .bind(*since),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
