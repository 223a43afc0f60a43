//! Member records (党员管理). ID numbers, phones and addresses are stored SM4-encrypted with a
//! blind index for exact search and a masked copy for display; the full values leave the store only
//! through `reveal`, which is audited. Every change is recorded field by field in `member_history`,
//! every organization a member belonged to in `member_orgs`.

use chrono::NaiveDate;
use domain::member::{Category, MemberInput, Status, ValidMember};
use domain::{IdNumber, Invalid, Phone};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Event};
use crate::clock::today;
use crate::crypto::Keys;
use crate::db::{new_id, now_text, Db, Tx, Q};
use crate::empty_as_none;
use crate::error::{Error, Result};
use crate::orgs::{self, adjust_counts, Org};
use crate::scope::{Caller, Own, Perm};

mod history;
mod list;
mod moves;

pub use history::*;
pub use list::*;
use moves::moved;
pub(crate) use moves::*;

/// A member as shown: sensitive fields masked.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Member {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    #[serde(skip_serializing)]
    pub org_path: String,
    pub group_id: Option<i64>,
    pub group_name: Option<String>,
    pub name: String,
    pub gender: String,
    pub ethnicity: String,
    pub birth_date: NaiveDate,
    pub education: Option<String>,
    pub id_number_masked: String,
    pub phone_masked: Option<String>,
    #[serde(deserialize_with = "crate::db::packed_bool")]
    pub has_address: bool,
    pub work_unit: Option<String>,
    pub post: Option<String>,
    pub joined_on: NaiveDate,
    pub full_member_on: Option<NaiveDate>,
    pub category: String,
    pub status: String,
    #[serde(deserialize_with = "crate::db::packed_bool")]
    pub offline: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// A member's shown fields, over `members m {MEMBER_JOINS}`.
const MEMBER_FIELDS: &crate::db::Fields = &[
    ("id", "m.id"),
    ("org_id", "m.org_id"),
    ("org_name", "o.name"),
    ("org_path", "m.org_path"),
    ("group_id", "m.group_id"),
    ("group_name", "g.name"),
    ("name", "m.name"),
    ("gender", "m.gender"),
    ("ethnicity", "m.ethnicity"),
    ("birth_date", "m.birth_date"),
    ("education", "m.education"),
    ("id_number_masked", "m.id_number_masked"),
    ("phone_masked", "m.phone_masked"),
    ("has_address", "m.address_enc IS NOT NULL"),
    ("work_unit", "m.work_unit"),
    ("post", "m.post"),
    ("joined_on", "m.joined_on"),
    ("full_member_on", "m.full_member_on"),
    ("category", "m.category"),
    ("status", "m.status"),
    ("offline", "m.offline"),
    ("created_at", "m.created_at"),
    ("updated_at", "m.updated_at"),
];

/// The tables behind `MEMBER_FIELDS` beside the member `m`: their branch and their party group.
const MEMBER_JOINS: &str = "JOIN orgs o ON o.id = m.org_id LEFT JOIN orgs g ON g.id = m.group_id";

/// The full values behind the masks.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Revealed {
    pub id: i64,
    pub id_number: String,
    pub phone: Option<String>,
    pub address: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Secrets {
    id_number_enc: Vec<u8>,
    phone_enc: Option<Vec<u8>>,
    address_enc: Option<Vec<u8>>,
}

fn ctx(field: &str, id: i64) -> String {
    crate::crypto::member_context(field, id)
}

impl Secrets {
    fn open(&self, keys: &Keys, id: i64) -> Result<Revealed> {
        let broken = || Error::Refused("member.decrypt_failed");
        Ok(Revealed {
            id,
            id_number: keys
                .decrypt(&ctx("id_number", id), &self.id_number_enc)
                .ok_or_else(broken)?,
            phone: self
                .phone_enc
                .as_ref()
                .map(|c| keys.decrypt(&ctx("phone", id), c).ok_or_else(broken))
                .transpose()?,
            address: self
                .address_enc
                .as_ref()
                .map(|c| keys.decrypt(&ctx("address", id), c).ok_or_else(broken))
                .transpose()?,
        })
    }
}

/// Where a member is recorded: a branch, and optionally one of its party groups.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct Placement {
    pub org_id: i64,
    pub group_id: Option<i64>,
}

/// A validated member ready for insertion, placed in a checked organization.
#[derive(Debug, Clone)]
pub struct NewRow {
    pub id: i64,
    pub org_id: i64,
    /// The organization's path as checked; [`add`] reads it again under a lock, the bulk loaders
    /// ([`insert_many`]) trust it.
    pub org_path: String,
    pub group_id: Option<i64>,
    pub member: ValidMember,
}

/// Whether a member counts in the maintained sizes, and as a full member.
fn contribution(status: &str, category: &str) -> (i64, i64) {
    if status == Status::Active.as_str() {
        (1, i64::from(category == Category::Full.as_str()))
    } else {
        (0, 0)
    }
}

/// Checks that the caller may record members in `placement` and that it can hold them.
async fn check_placement(db: &Db, caller: &Caller, placement: Placement, action: &'static str) -> Result<Org> {
    let org = orgs::get(db, caller, placement.org_id)
        .await
        .map_err(|_| Invalid::one("org_id", "not_found"))?;
    caller
        .require(db, Perm::WriteMembers, &org.path, action, ("org", &org.id))
        .await?;
    if !org.kind().holds_members() {
        return Err(Invalid::one("org_id", "not_a_branch").into());
    }
    if org.dissolved_on.is_some() {
        return Err(Invalid::one("org_id", "dissolved").into());
    }
    if let Some(g) = placement.group_id {
        let group: Option<(Option<i64>, String)> = db
            .opt(Q::new("SELECT parent_id, kind FROM orgs WHERE id = $1 AND dissolved_on IS NULL").bind(g))
            .await?;
        if group != Some((Some(org.id), "party_group".to_string())) {
            return Err(Invalid::one("group_id", "not_in_branch").into());
        }
    }
    Ok(org)
}

pub async fn create(
    db: &Db,
    keys: &Keys,
    caller: &Caller,
    placement: Placement,
    input: &MemberInput,
) -> Result<Member> {
    let row = checked_new(db, keys, caller, placement, input, "member.create").await?;
    let mut tx = db.begin().await?;
    let id = add(&mut tx, keys, caller, row).await?;
    tx.commit().await?;
    get(db, caller, id).await
}

/// A new member checked before it is written: the fields, the placement (reported together) and
/// that the person is not recorded yet.
pub(crate) async fn checked_new(
    db: &Db,
    keys: &Keys,
    caller: &Caller,
    placement: Placement,
    input: &MemberInput,
    action: &'static str,
) -> Result<NewRow> {
    let valid = input.validate(today());
    let org = check_placement(db, caller, placement, action).await;
    let (valid, org) = match (valid, org) {
        (Ok(v), Ok(o)) => (v, o),
        (Err(mut a), Err(Error::Invalid(b))) => {
            a.0.extend(b.0);
            return Err(a.into());
        }
        (Err(a), _) => return Err(a.into()),
        (_, Err(e)) => return Err(e),
    };
    if is_recorded(db, keys, &valid.id_number, None).await? {
        // The answer tells whether a person is recorded anywhere, also outside the caller's scope:
        // such lookups are recorded so that probing shows in the audit log.
        let event = Event {
            result: "duplicate",
            ..Event::ok(action, "org", org.id)
        };
        audit::append_alone(db, caller, event).await?;
        return Err(Invalid::one("id_number", "duplicate").into());
    }
    Ok(NewRow {
        id: new_id(),
        org_id: org.id,
        org_path: org.path,
        group_id: placement.group_id,
        member: valid,
    })
}

/// Writes a checked new member inside the caller's transaction: the record, the sizes, the history
/// and the audit entry. The branch may have moved or been dissolved since the checks, so its path
/// is taken again under a lock.
pub(crate) async fn add(tx: &mut Tx, keys: &Keys, caller: &Caller, mut row: NewRow) -> Result<i64> {
    let share = if tx.is_postgres() { " FOR SHARE" } else { "" };
    let path: Option<(String,)> = tx
        .opt(
            Q::new(&format!(
                "SELECT path FROM orgs WHERE id = $1 AND dissolved_on IS NULL{share}"
            ))
            .bind(row.org_id),
        )
        .await?;
    row.org_path = path.ok_or_else(|| Invalid::one("org_id", "dissolved"))?.0;
    insert_many(tx, keys, std::slice::from_ref(&row))
        .await
        .map_err(duplicate_as_invalid)?;
    let (d, f) = contribution(row.member.status.as_str(), row.member.category.as_str());
    adjust_counts(tx, row.org_id, &row.org_path, d, f).await?;
    record_history(tx, caller, row.id, &serde_json::json!({"created": true})).await?;
    crate::marks::stale(tx, crate::marks::Of::Member(row.id)).await?;
    crate::marks::member_written(tx, row.id).await?;
    audit::append(tx, caller, Event::ok("member.create", "member", row.id)).await?;
    Ok(row.id)
}

/// A member's own correction, approved by the branch: a new phone and/or education, with history.
pub(crate) async fn apply_correction(
    tx: &mut Tx,
    keys: &Keys,
    caller: &Caller,
    id: i64,
    phone: Option<&Phone>,
    education: Option<domain::member::Education>,
) -> Result<()> {
    let mut changes = serde_json::Map::new();
    if let Some(p) = phone {
        tx.exec(
            Q::new(
                "UPDATE members SET phone_enc = $1, phone_bi = $2, phone_masked = $3, updated_at = $4 WHERE id = $5",
            )
            .bind(keys.encrypt(&ctx("phone", id), p.as_str()))
            .bind(keys.blind_index("phone", p.as_str()))
            .bind(p.masked())
            .bind(now_text())
            .bind(id),
        )
        .await?;
        changes.insert("phone".into(), "changed".into());
    }
    if let Some(e) = education {
        tx.exec(
            Q::new("UPDATE members SET education = $1, updated_at = $2 WHERE id = $3")
                .bind(e.as_str())
                .bind(now_text())
                .bind(id),
        )
        .await?;
        changes.insert("education".into(), e.as_str().into());
    }
    changes.insert("by".into(), "member's correction, reviewed".into());
    record_history(tx, caller, id, &serde_json::Value::Object(changes)).await
}

/// A probationary member becomes full (转正) from `on`; party age counts from then.
pub(crate) async fn make_full(tx: &mut Tx, caller: &Caller, id: i64, on: NaiveDate) -> Result<()> {
    let (org_id, path): (i64, String) = tx
        .one(Q::new("SELECT org_id, org_path FROM members WHERE id = $1 AND category = 'probationary'").bind(id))
        .await?;
    tx.exec(
        Q::new("UPDATE members SET category = 'full', full_member_on = $1, updated_at = $2 WHERE id = $3")
            .bind(on)
            .bind(now_text())
            .bind(id),
    )
    .await?;
    adjust_counts(tx, org_id, &path, 0, 1).await?;
    record_history(
        tx,
        caller,
        id,
        &serde_json::json!({"category": "full", "full_member_on": on}),
    )
    .await
}

/// A probationary member whose probation is cancelled (取消预备党员资格) leaves the roll.
pub(crate) async fn cancel_probation(tx: &mut Tx, caller: &Caller, id: i64) -> Result<()> {
    let (org_id, path): (i64, String) = tx
        .one(Q::new("SELECT org_id, org_path FROM members WHERE id = $1").bind(id))
        .await?;
    tx.exec(
        Q::new("UPDATE members SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(Status::Left.as_str())
            .bind(now_text())
            .bind(id),
    )
    .await?;
    adjust_counts(tx, org_id, &path, -1, 0).await?;
    crate::study::totals::members_changed(tx, &[id], &[]).await?;
    record_history(
        tx,
        caller,
        id,
        &serde_json::json!({"status": "left", "reason": "probation cancelled"}),
    )
    .await
}

fn duplicate_as_invalid(e: Error) -> Error {
    match &e {
        Error::Db(sqlx::Error::Database(d)) if d.is_unique_violation() => Invalid::one("id_number", "duplicate").into(),
        _ => e,
    }
}

/// Whether an ID number is already recorded (other than for `except`).
pub async fn is_recorded(db: &Db, keys: &Keys, id: &IdNumber, except: Option<i64>) -> Result<bool> {
    let bi = keys.blind_index("id_number", id.as_str());
    let found: Option<(i64,)> = db
        .opt(Q::new("SELECT id FROM members WHERE id_number_bi = $1").bind(bi))
        .await?;
    Ok(matches!(found, Some((f,)) if Some(f) != except))
}

/// A member row with its personal data already sealed (SM4 and the blind indexes), and its first
/// organization membership: what `insert_sealed` writes. Sealing is most of a bulk load's work,
/// so a loader seals the next batch on another thread while this one is written.
pub struct SealedRow {
    member: Vec<crate::db::Arg>,
    membership: [crate::db::Arg; 3],
}

impl SealedRow {
    /// The member's columns in the members table's order (a benchmark's bare insert).
    pub fn member_values(&self) -> &[crate::db::Arg] {
        &self.member
    }
}

/// Seals rows for `insert_sealed`: pure computation, no database.
pub fn seal(keys: &Keys, rows: &[NewRow]) -> Vec<SealedRow> {
    let now = now_text();
    let today = today();
    rows.iter()
        .map(|r| {
            let m = &r.member;
            SealedRow {
                member: vec![
                    r.id.into(),
                    r.org_id.into(),
                    r.org_path.clone().into(),
                    r.group_id.into(),
                    m.name.clone().into(),
                    m.gender.as_str().into(),
                    m.ethnicity.clone().into(),
                    m.birth_date.into(),
                    m.education.map(|e| e.as_str()).into(),
                    keys.encrypt(&ctx("id_number", r.id), m.id_number.as_str()).into(),
                    keys.blind_index("id_number", m.id_number.as_str()).into(),
                    m.id_number.masked().into(),
                    m.phone
                        .as_ref()
                        .map(|p| keys.encrypt(&ctx("phone", r.id), p.as_str()))
                        .into(),
                    m.phone.as_ref().map(|p| keys.blind_index("phone", p.as_str())).into(),
                    m.phone.as_ref().map(Phone::masked).into(),
                    m.address
                        .as_ref()
                        .map(|a| keys.encrypt(&ctx("address", r.id), a))
                        .into(),
                    m.work_unit.clone().into(),
                    m.post.clone().into(),
                    m.joined_on.into(),
                    m.full_member_on.into(),
                    m.category.as_str().into(),
                    m.status.as_str().into(),
                    m.offline.into(),
                    now.clone().into(),
                    now.clone().into(),
                ],
                membership: [r.id.into(), r.org_id.into(), today.into()],
            }
        })
        .collect()
}

/// Inserts sealed members in multi-row batches, each with its first organization membership. The
/// caller adjusts counts and audits.
pub async fn insert_sealed(tx: &mut Tx, rows: Vec<SealedRow>) -> Result<()> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut q = Q::new(
            "INSERT INTO members (id, org_id, org_path, group_id, name, gender, ethnicity, birth_date, education,
             id_number_enc, id_number_bi, id_number_masked, phone_enc, phone_bi, phone_masked, address_enc,
             work_unit, post, joined_on, full_member_on, category, status, offline, created_at, updated_at) VALUES ",
        );
        let mut history = Q::new("INSERT INTO member_orgs (member_id, org_id, from_on) VALUES ");
        for (i, r) in rows.by_ref().take(400).enumerate() {
            q.push_row(i == 0, r.member);
            history.push_row(i == 0, r.membership);
        }
        tx.exec(q).await?;
        tx.exec(history).await?;
    }
    Ok(())
}

/// Seals and inserts members (see `seal` and `insert_sealed`).
pub async fn insert_many(tx: &mut Tx, keys: &Keys, rows: &[NewRow]) -> Result<()> {
    insert_sealed(tx, seal(keys, rows)).await
}

async fn record_history(tx: &mut Tx, caller: &Caller, member_id: i64, changes: &serde_json::Value) -> Result<()> {
    tx.exec(
        Q::new("INSERT INTO member_history (member_id, at, actor, changes) VALUES ($1, $2, $3, $4)")
            .bind(member_id)
            .bind(now_text())
            .bind(caller.username.clone())
            .bind(changes.to_string()),
    )
    .await?;
    Ok(())
}

/// What the caller may do with a member's record, for pages to offer; the store decides again (and
/// audits a refusal) when the action is taken.
#[derive(Debug, Clone, Copy)]
pub struct MemberActions {
    pub edit: bool,
    /// See the full ID number, phone and address (each reveal audited); a member their own.
    pub reveal: bool,
}

pub fn actions(caller: &Caller, m: &Member) -> MemberActions {
    MemberActions {
        edit: caller.can_at(Perm::WriteMembers, &m.org_path),
        reveal: caller.can_at(Perm::RevealMembers, &m.org_path) || caller.member_id == Some(m.id),
    }
}

/// One member, if the caller may read it (their own record always).
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<Member> {
    let mut q = Q::new(&format!(
        "SELECT {} FROM members m {MEMBER_JOINS} WHERE m.id = $1 AND ",
        crate::db::columns(MEMBER_FIELDS)
    ))
    .bind(id);
    caller.filter(&mut q, Perm::ReadMembers, "m.org_path", Own::MemberRow("m.id"));
    caller.found(db, db.opt(q).await?, "member.read", ("member", &id)).await
}

/// The full ID number, phone and address: for the member themself and those allowed to reveal, audited.
pub async fn reveal(db: &Db, keys: &Keys, caller: &Caller, id: i64) -> Result<Revealed> {
    let member = get(db, caller, id).await?;
    if !caller.can_at(Perm::RevealMembers, &member.org_path) && caller.member_id != Some(id) {
        return caller
            .refuse(db, Error::Forbidden, "member.reveal", ("member", &id))
            .await;
    }
    let secrets: Secrets = db
        .one(Q::new("SELECT id_number_enc, phone_enc, address_enc FROM members WHERE id = $1").bind(id))
        .await?;
    let revealed = secrets.open(keys, id)?;
    audit::append_alone(db, caller, Event::ok("member.reveal", "member", id)).await?;
    Ok(revealed)
}

/// A partial update: fields left out keep their values; `org_id` moves the member.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct MemberPatch {
    #[serde(flatten)]
    pub fields: MemberInput,
    #[serde(deserialize_with = "empty_as_none")]
    pub org_id: Option<i64>,
    #[serde(deserialize_with = "empty_as_none")]
    pub group_id: Option<i64>,
}

pub async fn update(db: &Db, keys: &Keys, caller: &Caller, id: i64, patch: &MemberPatch) -> Result<Member> {
    let current = get(db, caller, id).await?;
    caller
        .require(
            db,
            Perm::WriteMembers,
            &current.org_path,
            "member.update",
            ("member", &id),
        )
        .await?;
    let secrets: Secrets = db
        .one(Q::new("SELECT id_number_enc, phone_enc, address_enc FROM members WHERE id = $1").bind(id))
        .await?;
    let old = secrets.open(keys, id)?;
    let p = &patch.fields;
    let merged = MemberInput {
        name: p.name.clone().or(Some(current.name.clone())),
        gender: p.gender.clone().or(Some(current.gender.clone())),
        ethnicity: p.ethnicity.clone().or(Some(current.ethnicity.clone())),
        birth_date: p.birth_date.clone().or(Some(current.birth_date.to_string())),
        id_number: p.id_number.clone().or(Some(old.id_number.clone())),
        phone: p.phone.clone().or(old.phone.clone()),
        address: p.address.clone().or(old.address.clone()),
        education: p.education.clone().or(current.education.clone()),
        work_unit: p.work_unit.clone().or(current.work_unit.clone()),
        post: p.post.clone().or(current.post.clone()),
        joined_on: p.joined_on.clone().or(Some(current.joined_on.to_string())),
        full_member_on: p
            .full_member_on
            .clone()
            .or(current.full_member_on.map(|d| d.to_string())),
        category: p.category.clone().or(Some(current.category.clone())),
        status: p.status.clone().or(Some(current.status.clone())),
        offline: p.offline.or(Some(current.offline)),
    };
    let v = merged.validate(today())?;
    let new_org = match patch.org_id.filter(|o| *o != current.org_id) {
        Some(org_id) => Some(
            check_placement(
                db,
                caller,
                Placement {
                    org_id,
                    group_id: patch.group_id,
                },
                "member.move",
            )
            .await?,
        ),
        None => {
            if patch.group_id.is_some() && patch.group_id != current.group_id {
                check_placement(
                    db,
                    caller,
                    Placement {
                        org_id: current.org_id,
                        group_id: patch.group_id,
                    },
                    "member.update",
                )
                .await?;
            }
            None
        }
    };
    if v.id_number.as_str() != old.id_number && is_recorded(db, keys, &v.id_number, Some(id)).await? {
        return Err(Invalid::one("id_number", "duplicate").into());
    }

    let mut changes = serde_json::Map::new();
    let mut note = |field: &str, before: String, after: String, sensitive: bool| {
        if before != after {
            let value = if sensitive {
                serde_json::json!("changed")
            } else {
                serde_json::json!([before, after])
            };
            changes.insert(field.to_string(), value);
        }
    };
    let opt = |o: Option<String>| o.unwrap_or_default();
    note("name", current.name.clone(), v.name.clone(), false);
    note("gender", current.gender.clone(), v.gender.as_str().into(), false);
    note("ethnicity", current.ethnicity.clone(), v.ethnicity.clone(), false);
    note(
        "birth_date",
        current.birth_date.to_string(),
        v.birth_date.to_string(),
        false,
    );
    note(
        "education",
        opt(current.education.clone()),
        opt(v.education.map(|e| e.as_str().to_string())),
        false,
    );
    note(
        "work_unit",
        opt(current.work_unit.clone()),
        opt(v.work_unit.clone()),
        false,
    );
    note("post", opt(current.post.clone()), opt(v.post.clone()), false);
    note(
        "joined_on",
        current.joined_on.to_string(),
        v.joined_on.to_string(),
        false,
    );
    note(
        "full_member_on",
        opt(current.full_member_on.map(|d| d.to_string())),
        opt(v.full_member_on.map(|d| d.to_string())),
        false,
    );
    note("category", current.category.clone(), v.category.as_str().into(), false);
    note("status", current.status.clone(), v.status.as_str().into(), false);
    note("offline", current.offline.to_string(), v.offline.to_string(), false);
    note("id_number", old.id_number.clone(), v.id_number.as_str().into(), true);
    note(
        "phone",
        opt(old.phone.clone()),
        opt(v.phone.as_ref().map(|p| p.as_str().to_string())),
        true,
    );
    note("address", opt(old.address.clone()), opt(v.address.clone()), true);
    if let Some(o) = &new_org {
        changes.insert("org_id".into(), serde_json::json!([current.org_id, o.id]));
    }
    let group_id = if new_org.is_some() {
        patch.group_id
    } else {
        patch.group_id.or(current.group_id)
    };
    if group_id != current.group_id {
        changes.insert("group_id".into(), serde_json::json!([current.group_id, group_id]));
    }
    if changes.is_empty() {
        return Ok(current);
    }

    let mut tx = db.begin().await?;
    // What the counts and the path are adjusted from is read again under the write lock: an
    // organization move or another edit may have committed since the checks above.
    let lock = if db.is_postgres() { " FOR UPDATE" } else { "" };
    let (was_org_id, was_path, was_status, was_category): (i64, String, String, String) = tx
        .one(
            Q::new(&format!(
                "SELECT org_id, org_path, status, category FROM members WHERE id = $1{lock}"
            ))
            .bind(id),
        )
        .await?;
    let (org_id, org_path) = match &new_org {
        Some(o) => {
            let found: Option<(String,)> = tx
                .opt(
                    Q::new(&format!(
                        "SELECT path FROM orgs WHERE id = $1 AND dissolved_on IS NULL{lock}"
                    ))
                    .bind(o.id),
                )
                .await?;
            (o.id, found.ok_or_else(|| Invalid::one("org_id", "dissolved"))?.0)
        }
        None => (was_org_id, was_path.clone()),
    };
    tx.exec(
        Q::new(
            "UPDATE members SET org_id = $1, org_path = $2, group_id = $3, name = $4, gender = $5, ethnicity = $6,
             birth_date = $7, education = $8, id_number_enc = $9, id_number_bi = $10, id_number_masked = $11,
             phone_enc = $12, phone_bi = $13, phone_masked = $14, address_enc = $15, work_unit = $16, post = $17,
             joined_on = $18, full_member_on = $19, category = $20, status = $21, offline = $22, updated_at = $23
             WHERE id = $24",
        )
        .bind(org_id)
        .bind(org_path.clone())
        .bind(group_id)
        .bind(v.name.clone())
        .bind(v.gender.as_str())
        .bind(v.ethnicity.clone())
        .bind(v.birth_date)
        .bind(v.education.map(|e| e.as_str()))
        .bind(keys.encrypt(&ctx("id_number", id), v.id_number.as_str()))
        .bind(keys.blind_index("id_number", v.id_number.as_str()))
        .bind(v.id_number.masked())
        .bind(v.phone.as_ref().map(|p| keys.encrypt(&ctx("phone", id), p.as_str())))
        .bind(v.phone.as_ref().map(|p| keys.blind_index("phone", p.as_str())))
        .bind(v.phone.as_ref().map(Phone::masked))
        .bind(v.address.as_ref().map(|a| keys.encrypt(&ctx("address", id), a)))
        .bind(v.work_unit.clone())
        .bind(v.post.clone())
        .bind(v.joined_on)
        .bind(v.full_member_on)
        .bind(v.category.as_str())
        .bind(v.status.as_str())
        .bind(v.offline)
        .bind(now_text())
        .bind(id),
    )
    .await
    .map_err(|e| duplicate_as_invalid(e.into()))?;
    let (d0, f0) = contribution(&was_status, &was_category);
    let (d1, f1) = contribution(v.status.as_str(), v.category.as_str());
    if new_org.is_some() {
        moved(
            &mut tx,
            id,
            (was_org_id, &was_path, d0, f0),
            (org_id, &org_path, d1, f1),
        )
        .await?;
    } else {
        adjust_counts(&mut tx, org_id, &org_path, d1 - d0, f1 - f0).await?;
    }
    // Only active full members hold posts (选举工作条例 Art. 7).
    if v.status != Status::Active || v.category != Category::Full {
        tx.exec(Q::new("DELETE FROM org_officers WHERE member_id = $1").bind(id))
            .await?;
    }
    // Their organization, status or posts may have changed: so may their study year and tasks.
    crate::study::totals::members_changed(&mut tx, &[id], &[]).await?;
    let fields: Vec<String> = changes.keys().cloned().collect();
    record_history(&mut tx, caller, id, &serde_json::Value::Object(changes)).await?;
    crate::marks::stale(&mut tx, crate::marks::Of::Member(id)).await?;
    crate::marks::member_written(&mut tx, id).await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("member.update", "member", id).with_detail(fields.join(",")),
    )
    .await?;
    tx.commit().await?;
    get(db, caller, id).await
}
