//! Pickers (选择器): organizations and people found by part of a name or by number, each shown with
//! the organizations above it so that two of the same name can be told apart. Every form that
//! chooses an organization or a member asks here instead of listing them all (a select of a
//! province's 100,000 organizations is no choice) or asking for an exact name.
//!
//! Each search is scoped through the gate like any read; the form's submission is decided again by
//! the feature that receives it.

use domain::org::{path_ids, OrgKind};
use domain::Invalid;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Event};
use crate::db::{like_escaped, Db, Q};
use crate::error::Result;
use crate::orgs;
use crate::scope::{Caller, Own, Perm};

/// One organization or person a picker offers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Choice {
    /// Its number (编号): what a form or the API takes.
    pub id: i64,
    pub name: String,
    /// Where it sits: the organizations above it (for a person, down to their own), from the top of
    /// the tree, joined by " › ".
    pub within: String,
}

/// The most choices a search lists; a longer part of the name narrows it.
pub const SHOWN: usize = 20;

/// The longest key a search takes.
const KEY_CHARS: usize = 100;

/// The searched text, trimmed; `None` for an empty one (nothing is listed), an error for one
/// longer than any name.
fn key(key: &str) -> Result<Option<&str>> {
    let key = key.trim();
    if key.chars().count() > KEY_CHARS {
        return Err(Invalid::one("q", "too_long").into());
    }
    Ok(Some(key).filter(|k| !k.is_empty()))
}

/// `column` is the number typed, or contains the typed text (`%` and `_` taken literally).
fn push_match(q: &mut Q, id_col: &str, name_col: &str, key: &str) {
    match key.parse::<i64>() {
        Ok(id) => q.push(&format!("{id_col} = ")).push_bind(id),
        Err(_) => q
            .push(&format!("{name_col} LIKE "))
            .push_bind(format!("%{}%", like_escaped(key)))
            .push(" ESCAPE '\\'"),
    };
}

/// The path of the organization a search stays within, read through the gate (out of scope is
/// `NotFound`, audited).
async fn within_path(db: &Db, caller: &Caller, within: Option<i64>) -> Result<Option<String>> {
    Ok(match within {
        Some(id) => Some(orgs::get(db, caller, id).await?.path),
        None => None,
    })
}

/// What a chosen organization is for: the right the caller must hold there and the kinds that fit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Any organization the caller may read (a grant's scope, say).
    #[default]
    Read,
    /// One the caller manages (a new parent).
    Manage,
    /// One whose members the caller reads (a roster's filter).
    Roster,
    /// A branch the caller keeps members in (a member's branch).
    Enrol,
    /// A branch or party group whose meetings the caller keeps (三会一课).
    Meetings,
    /// A committee, general branch or branch that holds activities (主题党日 and the like).
    Activities,
    /// One the caller publishes notices for, or below it (a notice's audience).
    Publish,
    /// One where the caller manages study, or below it (a library item's or a task's audience).
    Study,
}

impl Purpose {
    /// Its name in the API (`for=`).
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Read => "read",
            Purpose::Manage => "manage",
            Purpose::Roster => "roster",
            Purpose::Enrol => "enrol",
            Purpose::Meetings => "meetings",
            Purpose::Activities => "activities",
            Purpose::Publish => "publish",
            Purpose::Study => "study",
        }
    }

    fn perm(self) -> Perm {
        match self {
            Purpose::Read => Perm::ReadOrgs,
            Purpose::Manage => Perm::ManageOrgs,
            Purpose::Roster => Perm::ReadMembers,
            Purpose::Enrol => Perm::WriteMembers,
            Purpose::Meetings | Purpose::Activities => Perm::ManageMeetings,
            Purpose::Publish => Perm::PublishNotices,
            Purpose::Study => Perm::ManageStudy,
        }
    }

    /// The kinds that fit; empty for any.
    fn kinds(self) -> &'static [&'static str] {
        match self {
            Purpose::Enrol => &["branch"],
            Purpose::Meetings => &["branch", "party_group"],
            Purpose::Activities => &["committee", "general_branch", "branch"],
            Purpose::Publish | Purpose::Study => &["committee", "general_branch", "branch"],
            Purpose::Read | Purpose::Manage | Purpose::Roster => &[],
        }
    }

    /// Live organizations of the fitting kinds where the caller holds the right, optionally
    /// within a subtree.
    fn select(self, caller: &Caller, within: Option<&str>) -> Q {
        let mut q = Q::new("SELECT id, name, path FROM orgs WHERE dissolved_on IS NULL AND ");
        caller.filter(&mut q, self.perm(), "path", Own::Nothing);
        if let Some(root) = within {
            q.push(" AND path >= ")
                .push_bind(root.to_string())
                .push(" AND path < ")
                .push_bind(domain::org::subtree_end(root));
        }
        if !self.kinds().is_empty() {
            q.push(" AND kind IN (");
            for (i, kind) in self.kinds().iter().enumerate() {
                q.push(if i == 0 { "" } else { ", " }).push_bind(kind.to_string());
            }
            q.push(")");
        }
        q
    }
}

/// Organizations that fit `purpose`, optionally within one organization's subtree, whose name
/// contains `key` or whose number it is; an exact name first, then in tree order.
pub async fn orgs(db: &Db, caller: &Caller, purpose: Purpose, within: Option<i64>, key: &str) -> Result<Vec<Choice>> {
    caller.require_any(db, purpose.perm(), "pick.orgs", ("org", &0)).await?;
    let Some(key) = self::key(key)? else {
        return Ok(Vec::new());
    };
    let within = within_path(db, caller, within).await?;
    let mut q = purpose.select(caller, within.as_deref());
    q.push(" AND ");
    push_match(&mut q, "id", "name", key);
    q.push(" ORDER BY CASE WHEN name = ")
        .push_bind(key.to_string())
        .push(&format!(" THEN 0 ELSE 1 END, path LIMIT {SHOWN}"));
    placed(db, db.all(q).await?, Place::Above).await
}

/// Organizations `org_id` may be moved under: those the caller manages, outside its own subtree,
/// other than its parent now, of a kind it may sit under (a branch under a committee or a general
/// branch, never under a party group).
pub async fn parents(db: &Db, caller: &Caller, org_id: i64, key: &str) -> Result<Vec<Choice>> {
    caller
        .require_any(db, Perm::ManageOrgs, "pick.orgs", ("org", &org_id))
        .await?;
    let org = orgs::get(db, caller, org_id).await?;
    let Some(key) = self::key(key)? else {
        return Ok(Vec::new());
    };
    let mut q = Purpose::Manage.select(caller, None);
    q.push(" AND NOT (path >= ")
        .push_bind(org.path.clone())
        .push(" AND path < ")
        .push_bind(domain::org::subtree_end(&org.path))
        .push(")");
    if let Some(parent) = org.parent_id {
        q.push(" AND id <> ").push_bind(parent);
    }
    q.push(" AND kind IN (");
    let fits = OrgKind::ALL.into_iter().filter(|k| org.kind().may_sit_under(Some(*k)));
    for (i, kind) in fits.enumerate() {
        q.push(if i == 0 { "" } else { ", " }).push_bind(kind.as_str());
    }
    q.push(") AND ");
    push_match(&mut q, "id", "name", key);
    q.push(&format!(" ORDER BY path LIMIT {SHOWN}"));
    placed(db, db.all(q).await?, Place::Above).await
}

/// Every organization that fits `purpose`, when there are at most `most` (a branch secretary's one
/// branch, a school's 34): a page offers them in a select instead of a search. `None` when more.
pub async fn few_orgs(db: &Db, caller: &Caller, purpose: Purpose, most: usize) -> Result<Option<Vec<Choice>>> {
    if !caller.can(purpose.perm()) {
        return Ok(Some(Vec::new()));
    }
    let mut q = purpose.select(caller, None);
    q.push(&format!(" ORDER BY path LIMIT {}", most + 1));
    let rows: Vec<(i64, String, String)> = db.all(q).await?;
    if rows.len() > most {
        return Ok(None);
    }
    placed(db, rows, Place::Above).await.map(Some)
}

/// Live organizations that hold members, anywhere in the tree, whose name contains `key` or whose
/// number it is: a letter's receiver or a mobile member's host, chosen by one who cannot otherwise
/// read it, so only names and numbers leave. For those who write letters or register mobile members.
pub async fn receivers(db: &Db, caller: &Caller, key: &str) -> Result<Vec<Choice>> {
    caller
        .require_any(db, Perm::WriteMembers, "transfer.receivers", ("org", &0))
        .await?;
    let Some(key) = self::key(key)? else {
        return Ok(Vec::new());
    };
    let mut q = Q::new("SELECT id, name, path, kind FROM orgs WHERE dissolved_on IS NULL AND ");
    push_match(&mut q, "id", "name", key);
    q.push(" ORDER BY CASE WHEN name = ")
        .push_bind(key.to_string())
        .push(" THEN 0 ELSE 1 END, path LIMIT 200");
    let rows: Vec<(i64, String, String, String)> = db.all(q).await?;
    let found = rows
        .into_iter()
        .filter(|(_, _, _, kind)| OrgKind::parse(kind).is_some_and(OrgKind::holds_members))
        .take(SHOWN)
        .map(|(id, name, path, _)| (id, name, path))
        .collect();
    placed(db, found, Place::Above).await
}

/// Which members a person search looks among.
#[derive(Debug, Clone, Copy)]
pub enum Among {
    /// Active members the caller may read, optionally within one organization's subtree and only
    /// full members (正式党员: officers, introducers and contacts must be full members).
    Readable { within: Option<i64>, full_only: bool },
    /// Active members with no account yet, for the security administrator linking an account to
    /// its owner (who reads no member records otherwise: each search is audited).
    Unlinked,
}

/// Members whose name contains `key`, or whose number it is, among `among`; by name.
pub async fn members(db: &Db, caller: &Caller, among: Among, key: &str) -> Result<Vec<Choice>> {
    let perm = match among {
        Among::Readable { .. } => Perm::ReadMembers,
        Among::Unlinked => Perm::ManageAccounts,
    };
    caller.require_any(db, perm, "pick.members", ("member", &0)).await?;
    let Some(key) = self::key(key)? else {
        return Ok(Vec::new());
    };
    let mut q = Q::new("SELECT m.id, m.name, m.org_path FROM members m WHERE m.status = 'active' AND ");
    match among {
        Among::Readable { within, full_only } => {
            let within = within_path(db, caller, within).await?;
            caller.filter(&mut q, perm, "m.org_path", Own::Nothing);
            if let Some(root) = &within {
                q.push(" AND m.org_path >= ")
                    .push_bind(root.clone())
                    .push(" AND m.org_path < ")
                    .push_bind(domain::org::subtree_end(root));
            }
            if full_only {
                q.push(" AND m.category = 'full'");
            }
        }
        Among::Unlinked => {
            q.push("NOT EXISTS (SELECT 1 FROM users u WHERE u.member_id = m.id)");
        }
    }
    q.push(" AND ");
    push_match(&mut q, "m.id", "m.name", key);
    q.push(&format!(" ORDER BY m.name, m.id LIMIT {SHOWN}"));
    let found: Vec<(i64, String, String)> = db.all(q).await?;
    if matches!(among, Among::Unlinked) {
        let event = Event::ok("pick.members", "member", 0).with_detail(format!("found={}", found.len()));
        audit::append_alone(db, caller, event).await?;
    }
    placed(db, found, Place::Along).await
}

/// Organizations by number, those that fit `purpose`, in the order asked: a form
/// shows again what was chosen before its search reloaded it.
pub async fn chosen_orgs(db: &Db, caller: &Caller, purpose: Purpose, ids: &[i64]) -> Result<Vec<Choice>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = purpose.select(caller, None);
    q.push(" AND id IN (").push_list(ids.iter().copied()).push(")");
    placed(db, in_order(db.all(q).await?, ids), Place::Above).await
}

/// Receivers by number (see `receivers`: names and numbers only), in the order asked.
pub async fn chosen_receivers(db: &Db, caller: &Caller, ids: &[i64]) -> Result<Vec<Choice>> {
    caller
        .require_any(db, Perm::WriteMembers, "transfer.receivers", ("org", &0))
        .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Q::new("SELECT id, name, path FROM orgs WHERE id IN (");
    q.push_list(ids.iter().copied()).push(")");
    placed(db, in_order(db.all(q).await?, ids), Place::Above).await
}

/// Members by number, those the caller may read, in the order asked (see `chosen_orgs`).
pub async fn chosen_members(db: &Db, caller: &Caller, ids: &[i64]) -> Result<Vec<Choice>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Q::new("SELECT m.id, m.name, m.org_path FROM members m WHERE m.id IN (");
    q.push_list(ids.iter().copied()).push(") AND ");
    caller.filter(&mut q, Perm::ReadMembers, "m.org_path", Own::MemberRow("m.id"));
    placed(db, in_order(db.all(q).await?, ids), Place::Along).await
}

fn in_order(mut rows: Vec<(i64, String, String)>, ids: &[i64]) -> Vec<(i64, String, String)> {
    rows.sort_by_key(|(id, _, _)| ids.iter().position(|i| i == id));
    rows
}

/// Whether a choice's place names the organizations above its path (an organization) or along it,
/// its own included (a person, whose path is their branch's).
enum Place {
    Above,
    Along,
}

async fn placed(db: &Db, rows: Vec<(i64, String, String)>, place: Place) -> Result<Vec<Choice>> {
    let names = NamesAbove::of(db, rows.iter().map(|(_, _, path)| path.as_str())).await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, path)| Choice {
            within: match place {
                Place::Above => names.above(&path),
                Place::Along => names.along(&path),
            },
            id,
            name,
        })
        .collect())
}

/// The one choice `key` names among those a search for it found: its number, or its exact name;
/// else the field's error: `not_found`, `choose` when the key is only part of some names,
/// `ambiguous` when several share the name.
pub fn the_one(found: &[Choice], field: &'static str, key: &str) -> Result<i64> {
    let key = key.trim();
    let exact: Vec<&Choice> = found
        .iter()
        .filter(|c| c.name == key || c.id.to_string() == key)
        .collect();
    match exact[..] {
        [one] => Ok(one.id),
        [] if found.is_empty() => Err(Invalid::one(field, "not_found").into()),
        [] => Err(Invalid::one(field, "choose").into()),
        _ => Err(Invalid::one(field, "ambiguous").into()),
    }
}

/// The numbers a form field sent (`field=1&field=2`), ignoring what is not a number: a picker's
/// chosen values.
pub fn ids(values: &[String]) -> Vec<i64> {
    let mut ids: Vec<i64> = Vec::new();
    for id in values.iter().filter_map(|v| v.trim().parse().ok()) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// The names of the organizations above some others, read in one query: pickers show them so that
/// two branches of the same name can be told apart (names of organizations are not personal data).
struct NamesAbove(std::collections::HashMap<i64, String>);

impl NamesAbove {
    async fn of<'a>(db: &Db, paths: impl Iterator<Item = &'a str>) -> Result<NamesAbove> {
        let mut ids: Vec<i64> = paths.flat_map(path_ids).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut names = std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            let mut q = Q::new("SELECT id, name FROM orgs WHERE id IN (");
            q.push_list(chunk.iter().copied()).push(")");
            names.extend(db.all::<(i64, String)>(q).await?);
        }
        Ok(NamesAbove(names))
    }

    /// The organizations above the one at `path`, from the top of the tree, joined by " › ".
    fn above(&self, path: &str) -> String {
        let ids = path_ids(path);
        self.join(&ids[..ids.len().saturating_sub(1)])
    }

    /// The organizations along `path`, the last (a person's own branch) included.
    fn along(&self, path: &str) -> String {
        self.join(&path_ids(path))
    }

    fn join(&self, ids: &[i64]) -> String {
        ids.iter()
            .filter_map(|id| self.0.get(id).map(String::as_str))
            .collect::<Vec<_>>()
            .join(" › ")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_skip_what_is_not_a_number() {
        let sent = ["3", " 5 ", "x", "", "3"].map(String::from);
        assert_eq!(super::ids(&sent), vec![3, 5]);
    }

    #[test]
    fn a_key_longer_than_any_name_is_refused() {
        assert!(super::key(&"党".repeat(101)).is_err());
        assert_eq!(super::key("  信息  ").unwrap(), Some("信息"));
        assert_eq!(super::key("   ").unwrap(), None);
    }
}
