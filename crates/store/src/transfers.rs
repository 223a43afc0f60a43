//! Organizational transfers (组织关系转接; 党员教育管理工作条例 2019 Art. 25; 组通字〔2006〕45号), a
//! closed loop: the sending branch issues an introduction letter, the higher levels approve it
//! through the review chain, and the receiving organization accepts (the member moves, history
//! kept) or rejects with a reason. Until it accepts, the sender stays responsible. A letter is valid
//! for a number of days from its approval (*local practice*: 30 in the city, up to 90 elsewhere);
//! an unanswered letter past that is shown as expired to both sides. Letters to organizations
//! outside the platform are printed, and the receipt is recorded when it comes back.

use chrono::{Datelike, Days, NaiveDate};
use domain::dues::Month;
use domain::member::MemberInput;
use domain::org::{path_ids, subtree_end, OrgKind};
use domain::{clean_text, past_date, required_past_date, required_text, FieldError, Invalid};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Event};
use crate::clock::today;
use crate::crypto::Keys;
use crate::db::{new_id, now_text, Db, Tx, Q};
use crate::error::{Error, Result};
use crate::inbox;
use crate::members::{self, Placement};
use crate::orgs;
use crate::reviews;
use crate::scope::{Caller, Own, Perm};
use domain::schema::{date, id, month};

/// Validity where no organization above has set its own (*local practice*: 30 days in the city, up
/// to 90 elsewhere).
pub const DEFAULT_DAYS_IN_CITY: i64 = 30;
pub const DEFAULT_DAYS_ELSEWHERE: i64 = 90;
pub const MAX_DAYS: i64 = 90;

/// How long letters issued from an organization's subtree stay valid.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Validity {
    #[schema(minimum = 1, maximum = 90)]
    pub days_in_city: i64,
    #[schema(minimum = 1, maximum = 90)]
    pub days_elsewhere: i64,
    /// The organization whose setting applies; none when the defaults do.
    #[serde(default)]
    pub set_by_org_id: Option<i64>,
}

/// The setting of the organization itself or its nearest ancestor that has one.
pub(crate) async fn validity_at(tx: &mut Tx, path: &str) -> Result<Validity> {
    let ancestors = path_ids(path);
    let mut q = Q::new("SELECT org_id, days_in_city, days_elsewhere FROM transfer_settings WHERE org_id IN (");
    for (i, id) in ancestors.iter().enumerate() {
        q.push(if i == 0 { "" } else { ", " }).push_bind(*id);
    }
    q.push(")");
    let set: Vec<(i64, i64, i64)> = tx.all(q).await?;
    let nearest = ancestors
        .iter()
        .rev()
        .find_map(|a| set.iter().find(|(org, _, _)| org == a));
    Ok(match nearest {
        Some(&(org, days_in_city, days_elsewhere)) => Validity {
            days_in_city,
            days_elsewhere,
            set_by_org_id: Some(org),
        },
        None => Validity {
            days_in_city: DEFAULT_DAYS_IN_CITY,
            days_elsewhere: DEFAULT_DAYS_ELSEWHERE,
            set_by_org_id: None,
        },
    })
}

pub async fn validity(db: &Db, caller: &Caller, org_id: i64) -> Result<Validity> {
    let org = orgs::get(db, caller, org_id).await?;
    let mut tx = db.begin().await?;
    let v = validity_at(&mut tx, &org.path).await?;
    tx.commit().await?;
    Ok(v)
}

/// Sets the validity for letters from an organization's subtree (1–90 days each).
pub async fn set_validity(db: &Db, caller: &Caller, org_id: i64, v: &Validity) -> Result<Validity> {
    let org = reviews::managed(db, caller, org_id, "transfer.validity.set").await?;
    let mut tx = db.begin().await?;
    write_validity(&mut tx, caller, org_id, v).await?;
    let set = validity_at(&mut tx, &org.path).await?;
    tx.commit().await?;
    Ok(set)
}

/// Checks and writes an organization's validity inside the caller's transaction, audited.
async fn write_validity(tx: &mut Tx, caller: &Caller, org_id: i64, v: &Validity) -> Result<()> {
    let mut e = Vec::new();
    for (field, days) in [("days_in_city", v.days_in_city), ("days_elsewhere", v.days_elsewhere)] {
        if !(1..=MAX_DAYS).contains(&days) {
            e.push(FieldError::new(field, "invalid"));
        }
    }
    domain::error::check(e)?;
    tx.exec(Q::new("DELETE FROM transfer_settings WHERE org_id = $1").bind(org_id))
        .await?;
    tx.exec(
        Q::new(
            "INSERT INTO transfer_settings (org_id, days_in_city, days_elsewhere, updated_by, updated_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(org_id)
        .bind(v.days_in_city)
        .bind(v.days_elsewhere)
        .bind(caller.display_name.clone())
        .bind(now_text()),
    )
    .await?;
    audit::append(
        tx,
        caller,
        Event::ok("transfer.validity.set", "org", org_id)
            .with_detail(format!("in_city={} elsewhere={}", v.days_in_city, v.days_elsewhere)),
    )
    .await?;
    Ok(())
}

/// The settings page of an organization (审核与转接设置) saved in one transaction: the validity
/// and each kind's chain, each written only when it differs from what applies now. Nothing is
/// saved if any part is refused.
pub async fn save_settings(
    db: &Db,
    caller: &Caller,
    org_id: i64,
    validity: &Validity,
    chains: &[(&str, Vec<i64>)],
) -> Result<()> {
    let org = reviews::managed(db, caller, org_id, "review.settings.set").await?;
    let mut tx = db.begin().await?;
    let current = validity_at(&mut tx, &org.path).await?;
    if (current.days_in_city, current.days_elsewhere) != (validity.days_in_city, validity.days_elsewhere) {
        write_validity(&mut tx, caller, org_id, validity).await?;
    }
    for (kind, levels) in chains {
        let applies: Vec<i64> = reviews::chain_for(&mut tx, &org, kind)
            .await?
            .iter()
            .map(|l| l.org_id)
            .collect();
        if &applies != levels {
            reviews::write_chain(&mut tx, caller, &org, kind, levels).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// A transfer letter: to `to_org_id`, a branch on the platform, or to `to_name`, an organization
/// outside it as the letter will state it; `reason` why (a new work unit, a move, study elsewhere).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct TransferInput {
    #[schema(schema_with = id, required = true)]
    pub member_id: Option<i64>,
    /// The receiving organization on the platform (a branch)…
    #[schema(minimum = 1)]
    pub to_org_id: Option<i64>,
    /// …or, for one outside it, its name as the letter will state it.
    #[schema(schema_with = domain::schema::text::<100>)]
    pub to_name: Option<String>,
    /// Why: a new work unit, a move, study elsewhere.
    #[schema(schema_with = domain::schema::required_text::<200>, required = true)]
    pub reason: Option<String>,
    /// Whether the receiver is in the same city; by default, yes when it is on the platform.
    pub in_city: Option<bool>,
    /// Days the letter is valid from its approval; by default the sending organization's setting
    /// for in the city or elsewhere.
    #[schema(minimum = 1, maximum = 90)]
    pub valid_days: Option<i64>,
}

/// What the letter states about the member, fixed when it is issued.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Particulars {
    pub name: String,
    pub gender: String,
    pub age: i64,
    pub ethnicity: String,
    /// `full` or `probationary`.
    pub category: String,
    pub id_number_masked: String,
    pub phone_masked: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Transfer {
    pub id: i64,
    pub letter_no: String,
    pub member_id: i64,
    pub from_org_id: i64,
    pub from_org_name: String,
    pub to_org_id: Option<i64>,
    pub to_name: String,
    pub reason: String,
    pub in_city: bool,
    pub valid_days: i64,
    pub issued_on: Option<NaiveDate>,
    pub expires_on: Option<NaiveDate>,
    /// Dues paid up to (`YYYY-MM`), as the letter states.
    pub paid_up_to: Option<String>,
    pub particulars: Particulars,
    /// `reviewing`, `returned`, `sent`, `expired` (sent, unanswered past its validity), `accepted`,
    /// `rejected`, or `completed` (a letter outside the platform whose receipt came back).
    pub status: String,
    pub reject_reason: Option<String>,
    pub receipt_on: Option<NaiveDate>,
    pub created_by: String,
    pub created_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    letter_no: String,
    member_id: i64,
    from_org_id: i64,
    from_org_name: String,
    from_path: String,
    to_org_id: Option<i64>,
    to_path: Option<String>,
    to_name: String,
    reason: String,
    in_city: bool,
    valid_days: i64,
    issued_on: Option<NaiveDate>,
    expires_on: Option<NaiveDate>,
    paid_up_to: Option<String>,
    particulars: String,
    status: String,
    reject_reason: Option<String>,
    receipt_on: Option<NaiveDate>,
    created_by: String,
    created_at: String,
    decided_by: Option<String>,
    decided_at: Option<String>,
}

const SELECT: &str = concat!(
    "SELECT t.id, t.letter_no, t.member_id, t.from_org_id, f.name AS from_org_name, t.from_path,
    t.to_org_id, t.to_path, t.to_name, t.reason, t.in_city, t.valid_days, t.issued_on, t.expires_on, t.paid_up_to, t.particulars,
    t.status, t.reject_reason, t.receipt_on, ",
    person!("t.created_by"),
    " AS created_by, t.created_at, ",
    person!("t.decided_by"),
    " AS decided_by, t.decided_at FROM transfers t JOIN orgs f ON f.id = t.from_org_id"
);

impl Row {
    fn shown(self, today: NaiveDate) -> Transfer {
        let expired = self.status == "sent" && self.expires_on.is_some_and(|e| e < today);
        Transfer {
            status: if expired { "expired".into() } else { self.status },
            particulars: serde_json::from_str(&self.particulars).unwrap_or_default(),
            id: self.id,
            letter_no: self.letter_no,
            member_id: self.member_id,
            from_org_id: self.from_org_id,
            from_org_name: self.from_org_name,
            to_org_id: self.to_org_id,
            to_name: self.to_name,
            reason: self.reason,
            in_city: self.in_city,
            valid_days: self.valid_days,
            issued_on: self.issued_on,
            expires_on: self.expires_on,
            paid_up_to: self.paid_up_to,
            reject_reason: self.reject_reason,
            receipt_on: self.receipt_on,
            created_by: self.created_by,
            created_at: self.created_at,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
        }
    }
}

/// A transfer the caller reaches: from or to an organization they may read the members of.
async fn row(db: &Db, caller: &Caller, id: i64) -> Result<Row> {
    let mut q = Q::new(&format!("{SELECT} WHERE t.id = $1 AND (")).bind(id);
    caller.filter(&mut q, Perm::ReadMembers, "t.from_path", Own::Nothing);
    q.push(" OR ");
    caller.filter(&mut q, Perm::ReadMembers, "t.to_path", Own::Nothing);
    q.push(")");
    caller
        .found(db, db.opt(q).await?, "transfer.read", ("transfer", &id))
        .await
}

/// What the caller may do with a letter, for the page to offer; the store decides again (and audits
/// a refusal) when the answer is sent.
#[derive(Debug, Clone, Copy)]
pub struct LetterActions {
    /// Accept or reject it: the receiving organization, while the letter is out.
    pub answer: bool,
    /// Record the receipt (回执) of an organization outside the platform: the sending side.
    pub receipt: bool,
    /// Print the full letter with the ID number (audited): the sending side, while it is out.
    pub print_full: bool,
}

/// `paths` are the letter's (from, to) organization paths (`paths`).
pub fn actions(caller: &Caller, t: &Transfer, paths: &(String, Option<String>)) -> LetterActions {
    let sent = t.status == "sent";
    LetterActions {
        answer: sent && paths.1.as_deref().is_some_and(|p| caller.can_at(Perm::WriteMembers, p)),
        receipt: sent && t.to_org_id.is_none() && caller.can_at(Perm::WriteMembers, &paths.0),
        print_full: matches!(t.status.as_str(), "sent" | "expired") && caller.can_at(Perm::RevealMembers, &paths.0),
    }
}

/// The sending and receiving organizations' paths, for deciding which answers a page offers.
pub async fn paths(db: &Db, id: i64) -> Result<(String, Option<String>)> {
    Ok(db
        .opt(Q::new("SELECT from_path, to_path FROM transfers WHERE id = $1").bind(id))
        .await?
        .ok_or(Error::NotFound)?)
}

pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<Transfer> {
    Ok(row(db, caller, id).await?.shown(today()))
}

/// The one receiver `key` names (see `pick::the_one`).
pub async fn receiver(db: &Db, caller: &Caller, field: &'static str, key: &str) -> Result<i64> {
    crate::pick::the_one(&crate::pick::receivers(db, caller, key).await?, field, key)
}

/// Issues a letter for a member of a branch the caller keeps; it goes to the review chain first.
pub async fn create(db: &Db, caller: &Caller, input: &TransferInput) -> Result<Transfer> {
    let mut e = Vec::new();
    let reason = match input.reason.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() => clean_text("reason", r, 200, &mut e),
        _ => {
            e.push(FieldError::new("reason", "required"));
            None
        }
    };
    let outside_name = input
        .to_name
        .as_deref()
        .and_then(|n| clean_text("to_name", n, 100, &mut e));
    // The receiving organization is looked up without scope: a branch sends to one it cannot read.
    let target: Option<(i64, String, String, String, Option<NaiveDate>)> = match input.to_org_id {
        Some(id) => {
            db.opt(Q::new("SELECT id, name, path, kind, dissolved_on FROM orgs WHERE id = $1").bind(id))
                .await?
        }
        None => None,
    };
    match (&target, input.to_org_id, &outside_name) {
        (None, Some(_), _) => e.push(FieldError::new("to_org_id", "not_found")),
        (Some((_, _, _, _, Some(_))), _, _) => e.push(FieldError::new("to_org_id", "dissolved")),
        (Some((_, _, _, kind, _)), _, _) if !OrgKind::parse(kind).is_some_and(OrgKind::holds_members) => {
            e.push(FieldError::new("to_org_id", "not_a_branch"))
        }
        (None, None, None) => e.push(FieldError::new("to_org_id", "required")),
        _ => {}
    }
    if input.valid_days.is_some_and(|d| !(1..=MAX_DAYS).contains(&d)) {
        e.push(FieldError::new("valid_days", "invalid"));
    }
    let Some(member_id) = input.member_id else {
        e.push(FieldError::new("member_id", "required"));
        return Err(Invalid(e).into());
    };
    domain::error::check(e)?;
    let member = members::get(db, caller, member_id).await?;
    caller
        .require(
            db,
            Perm::WriteMembers,
            &member.org_path,
            "transfer.create",
            ("member", &member_id),
        )
        .await?;
    if member.status != "active" {
        return Err(Error::Refused("transfer.member_inactive"));
    }
    if target.as_ref().is_some_and(|t| t.0 == member.org_id) {
        return Err(Invalid::one("to_org_id", "same_org").into());
    }
    let from = orgs::get(db, caller, member.org_id).await?;
    let in_city = input.in_city.unwrap_or(target.is_some());
    let today = today();
    let particulars = Particulars {
        name: member.name.clone(),
        gender: member.gender.clone(),
        age: age_on(member.birth_date, today),
        ethnicity: member.ethnicity.clone(),
        category: member.category.clone(),
        id_number_masked: member.id_number_masked.clone(),
        phone_masked: member.phone_masked.clone(),
    };
    let paid_up_to = crate::dues::member::paid_up_to(db, member_id)
        .await?
        .map(|m| m.to_string());
    let (to_org_id, to_path, to_name) = match &target {
        Some((id, name, path, _, _)) => (Some(*id), Some(path.clone()), name.clone()),
        None => (None, None, outside_name.unwrap_or_default()),
    };
    let id = new_id();
    let letter_no = format!("{}-{:06}", today.format("%Y%m%d"), id.rem_euclid(1_000_000));
    let mut tx = db.begin().await?;
    let valid_days = match input.valid_days {
        Some(days) => days,
        None => {
            let v = validity_at(&mut tx, &from.path).await?;
            if in_city {
                v.days_in_city
            } else {
                v.days_elsewhere
            }
        }
    };
    let open: Option<(i64,)> = tx
        .opt(
            Q::new("SELECT id FROM transfers WHERE member_id = $1 AND status IN ('reviewing', 'sent')").bind(member_id),
        )
        .await?;
    if open.is_some() {
        return Err(Error::Refused("transfer.open"));
    }
    tx.exec(
        Q::new(
            "INSERT INTO transfers (id, letter_no, member_id, from_org_id, from_path, to_org_id, to_path, to_name, reason, in_city,
             valid_days, paid_up_to, particulars, status, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 'reviewing', $14, $15)",
        )
        .bind(id)
        .bind(letter_no)
        .bind(member_id)
        .bind(from.id)
        .bind(from.path.clone())
        .bind(to_org_id)
        .bind(to_path)
        .bind(to_name.clone())
        .bind(reason)
        .bind(in_city)
        .bind(valid_days)
        .bind(paid_up_to)
        .bind(serde_json::to_string(&particulars).expect("serializable"))
        .bind(caller.display_name.clone())
        .bind(now_text()),
    )
    .await?;
    let title = format!("组织关系转接：{} · {} → {}", member.name, from.name, to_name);
    reviews::submit(&mut tx, caller, "transfer", id, &from, &title).await?;
    crate::marks::stale(&mut tx, crate::marks::Of::Member(member_id)).await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("transfer.create", "member", member_id).with_detail(format!("transfer {id}")),
    )
    .await?;
    tx.commit().await?;
    get(db, caller, id).await
}

fn age_on(birth: NaiveDate, day: NaiveDate) -> i64 {
    let mut age = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age as i64
}

/// The review chain's end: an approved letter is issued and valid from today; a returned one goes
/// back to the sender, who may issue a new one.
pub(crate) async fn on_review(tx: &mut Tx, caller: &Caller, id: i64, approved: bool) -> Result<()> {
    let today = today();
    if !approved {
        tx.exec(Q::new("UPDATE transfers SET status = 'returned' WHERE id = $1 AND status = 'reviewing'").bind(id))
            .await?;
        return Ok(());
    }
    let (valid_days, to_org_id, title): (i64, Option<i64>, String) = tx
        .one(
            Q::new(
                "SELECT t.valid_days, t.to_org_id, m.name FROM transfers t JOIN members m ON m.id = t.member_id WHERE t.id = $1",
            )
            .bind(id),
        )
        .await?;
    tx.exec(
        Q::new(
            "UPDATE transfers SET status = 'sent', issued_on = $1, expires_on = $2 WHERE id = $3 AND status = 'reviewing'",
        )
        .bind(today)
        .bind(today.checked_add_days(Days::new(valid_days as u64)))
        .bind(id),
    )
    .await?;
    if let Some(to) = to_org_id {
        let users: Vec<(i64,)> = tx
            .all(
                Q::new("SELECT DISTINCT user_id FROM grants WHERE org_id = $1 AND role IN ('secretary', 'org_admin')")
                    .bind(to),
            )
            .await?;
        for (user,) in users {
            inbox::notify(
                tx,
                user,
                "transfer",
                &format!("transfer:{id}:sent"),
                &format!("组织关系转入待接收：{title}"),
                &format!("/transfers/{id}"),
            )
            .await?;
        }
    }
    audit::append(tx, caller, Event::ok("transfer.issue", "transfer", id)).await?;
    Ok(())
}

/// The member's full ID number and phone for printing the letter they carry (组通字〔2006〕45号 lists
/// both): only by the sending side, only while the letter is out; the reveal is audited.
pub async fn reveal_for_letter(db: &Db, keys: &Keys, caller: &Caller, id: i64) -> Result<members::Revealed> {
    let r = row(db, caller, id).await?;
    // An expired letter is still `sent` in the table.
    if r.status != "sent" || !caller.can_at(Perm::RevealMembers, &r.from_path) {
        return caller
            .refuse(db, Error::Forbidden, "transfer.print", ("transfer", &id))
            .await;
    }
    members::reveal(db, keys, caller, r.member_id).await
}

/// A letter the caller may answer for the receiving organization, still open and valid.
async fn answerable(db: &Db, caller: &Caller, id: i64, action: &'static str) -> Result<Row> {
    let r = row(db, caller, id).await?;
    let Some(to_path) = r.to_path.clone() else {
        return Err(Error::Refused("transfer.outside"));
    };
    caller
        .require(db, Perm::WriteMembers, &to_path, action, ("transfer", &id))
        .await?;
    match r.status.as_str() {
        "sent" if r.expires_on.is_some_and(|e| e < today()) => Err(Error::Refused("transfer.expired")),
        "sent" => Ok(r),
        _ => Err(Error::Refused("transfer.not_open")),
    }
}

/// Closes a letter still open (`sent`) with its outcome; refused if another answer came first.
async fn close(
    tx: &mut Tx,
    caller: &Caller,
    id: i64,
    status: &str,
    reject_reason: Option<String>,
    receipt_on: Option<NaiveDate>,
) -> Result<()> {
    let changed = tx
        .exec(
            Q::new(
                "UPDATE transfers SET status = $1, reject_reason = $2, receipt_on = $3, decided_by = $4, decided_at = $5
                 WHERE id = $6 AND status = 'sent'",
            )
            .bind(status)
            .bind(reject_reason)
            .bind(receipt_on)
            .bind(caller.display_name.clone())
            .bind(now_text())
            .bind(id),
        )
        .await?;
    if changed != 1 {
        return Err(Error::Refused("transfer.not_open"));
    }
    Ok(())
}

/// The receiving organization accepts: only now does the member move, with their history kept.
pub async fn accept(db: &Db, caller: &Caller, id: i64) -> Result<Transfer> {
    let r = answerable(db, caller, id, "transfer.accept").await?;
    let (to_org_id, to_path) = (
        r.to_org_id.expect("on the platform"),
        r.to_path.clone().expect("on the platform"),
    );
    let mut tx = db.begin().await?;
    close(&mut tx, caller, id, "accepted", None, None).await?;
    members::relocate(&mut tx, r.member_id, to_org_id, &to_path).await?;
    crate::marks::stale(&mut tx, crate::marks::Of::Member(r.member_id)).await?;
    crate::marks::stale(&mut tx, crate::marks::Of::Org(r.from_org_id)).await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("transfer.accept", "member", r.member_id).with_detail(format!("transfer {id}")),
    )
    .await?;
    tx.commit().await?;
    get(db, caller, id).await
}

/// The receiving organization rejects, with the reason; the member stays where they are.
pub async fn reject(db: &Db, caller: &Caller, id: i64, reason: Option<&str>) -> Result<Transfer> {
    let mut e = Vec::new();
    let reason = reason.and_then(|r| clean_text("reason", r, 500, &mut e));
    if reason.is_none() && e.is_empty() {
        e.push(FieldError::new("reason", "required"));
    }
    domain::error::check(e)?;
    answerable(db, caller, id, "transfer.reject").await?;
    let mut tx = db.begin().await?;
    close(&mut tx, caller, id, "rejected", reason, None).await?;
    audit::append(&mut tx, caller, Event::ok("transfer.reject", "transfer", id)).await?;
    tx.commit().await?;
    get(db, caller, id).await
}

/// A letter to an organization outside the platform came back with its receipt (the receiver
/// returns it within a month): the member leaves the roll as transferred out.
pub async fn record_receipt(db: &Db, caller: &Caller, id: i64, received_on: Option<NaiveDate>) -> Result<Transfer> {
    let r = row(db, caller, id).await?;
    if r.to_org_id.is_some() {
        return Err(Error::Refused("transfer.on_platform"));
    }
    caller
        .require(
            db,
            Perm::WriteMembers,
            &r.from_path,
            "transfer.receipt",
            ("transfer", &id),
        )
        .await?;
    if r.status != "sent" {
        return Err(Error::Refused("transfer.not_open"));
    }
    match received_on {
        None => return Err(Invalid::one("receipt_on", "required").into()),
        Some(d) if d > today() => return Err(Invalid::one("receipt_on", "in_future").into()),
        Some(d) if r.issued_on.is_some_and(|i| d < i) => return Err(Invalid::one("receipt_on", "before_start").into()),
        _ => {}
    }
    let mut tx = db.begin().await?;
    close(&mut tx, caller, id, "completed", None, received_on).await?;
    members::mark_transferred_out(&mut tx, r.member_id).await?;
    crate::marks::stale(&mut tx, crate::marks::Of::Member(r.member_id)).await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("transfer.receipt", "member", r.member_id).with_detail(format!("transfer {id}")),
    )
    .await?;
    tx.commit().await?;
    get(db, caller, id).await
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TransferFilter {
    /// Letters from or to this organization's subtree.
    #[serde(default, deserialize_with = "crate::empty_as_none")]
    pub org_id: Option<i64>,
    /// `reviewing`, `returned`, `sent`, `expired`, `accepted`, `rejected`, `completed`, or `open`
    /// (reviewing, sent or expired).
    pub status: Option<String>,
}

/// Letters from or to the organizations the caller reaches, newest first.
pub async fn list(db: &Db, caller: &Caller, f: &TransferFilter) -> Result<Vec<Transfer>> {
    let mut q = Q::new(&format!("{SELECT} WHERE ("));
    caller.filter(&mut q, Perm::ReadMembers, "t.from_path", Own::Nothing);
    q.push(" OR ");
    caller.filter(&mut q, Perm::ReadMembers, "t.to_path", Own::Nothing);
    q.push(")");
    if let Some(org_id) = f.org_id {
        let (path,): (String,) = db
            .opt(Q::new("SELECT path FROM orgs WHERE id = $1").bind(org_id))
            .await?
            .ok_or(Error::NotFound)?;
        let end = subtree_end(&path);
        q.push(" AND ((t.from_path >= ")
            .push_bind(path.clone())
            .push(" AND t.from_path < ")
            .push_bind(end.clone())
            .push(") OR (t.to_path >= ")
            .push_bind(path)
            .push(" AND t.to_path < ")
            .push_bind(end)
            .push("))");
    }
    q.push(" ORDER BY t.created_at DESC LIMIT 1000");
    let today = today();
    let all: Vec<Transfer> = db.all::<Row>(q).await?.into_iter().map(|r| r.shown(today)).collect();
    Ok(match f.status.as_deref().filter(|s| !s.is_empty()) {
        None => all,
        Some("open") => all
            .into_iter()
            .filter(|t| matches!(t.status.as_str(), "reviewing" | "sent" | "expired"))
            .collect(),
        Some(s) => all.into_iter().filter(|t| t.status == s).collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// Letters from organizations outside the platform

/// A member arriving with a letter from an organization outside the platform: their record as the
/// letter states it, and the letter.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct IncomingInput {
    #[serde(flatten)]
    pub member: MemberInput,
    /// The receiving branch, and optionally its party group.
    #[serde(deserialize_with = "crate::empty_as_none")]
    #[schema(schema_with = id, required = true)]
    pub org_id: Option<i64>,
    #[serde(deserialize_with = "crate::empty_as_none")]
    #[schema(schema_with = id)]
    pub group_id: Option<i64>,
    /// The sending organization, as the letter names it.
    #[schema(schema_with = domain::schema::required_text::<100>, required = true)]
    pub from_name: Option<String>,
    #[schema(schema_with = domain::schema::required_text::<50>, required = true)]
    pub letter_no: Option<String>,
    /// `YYYY-MM-DD`.
    #[schema(schema_with = date, required = true)]
    pub issued_on: Option<String>,
    /// `YYYY-MM-DD`; today when left out.
    #[schema(schema_with = date)]
    pub received_on: Option<String>,
    /// Dues paid up to (`YYYY-MM`), as the letter states: nothing is owed here for those months.
    #[schema(schema_with = month)]
    pub paid_up_to: Option<String>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Incoming {
    pub id: i64,
    pub member_id: i64,
    pub member_name: String,
    pub org_id: i64,
    pub org_name: String,
    pub from_name: String,
    pub letter_no: String,
    pub issued_on: NaiveDate,
    pub received_on: NaiveDate,
    /// Dues paid up to (`YYYY-MM`), as the letter states.
    #[serde(serialize_with = "as_month")]
    #[schema(value_type = Option<String>)]
    pub paid_up_to: Option<i64>,
    pub created_by: String,
    pub created_at: String,
}

/// A month kept as `yyyymm` is shown as `YYYY-MM`, like every month the API speaks of.
fn as_month<S: serde::Serializer>(key: &Option<i64>, s: S) -> std::result::Result<S::Ok, S::Error> {
    key.and_then(Month::from_key).map(|m| m.to_string()).serialize(s)
}

const SELECT_INCOMING: &str = concat!(
    "SELECT t.id, t.member_id, m.name AS member_name, t.org_id, o.name AS org_name,
    t.from_name, t.letter_no, t.issued_on, t.received_on, t.paid_up_to, ",
    person!("t.created_by"),
    " AS created_by, t.created_at FROM transfers_in t JOIN members m ON m.id = t.member_id JOIN orgs o ON o.id = t.org_id"
);

/// Registers a member from their letter: the record and the letter in one transaction. The
/// member's fields and the letter's are checked together, and every problem is reported at once.
pub async fn register_incoming(db: &Db, keys: &Keys, caller: &Caller, input: &IncomingInput) -> Result<Incoming> {
    let today = today();
    let mut e = Vec::new();
    let from_name = required_text("from_name", input.from_name.as_deref(), 100, &mut e);
    let letter_no = required_text("letter_no", input.letter_no.as_deref(), 50, &mut e);
    let issued_on = required_past_date("issued_on", input.issued_on.as_deref(), today, &mut e);
    let received_on = match input.received_on.as_deref().map(str::trim) {
        None | Some("") => Some(today),
        given => past_date("received_on", given, today, &mut e),
    };
    if let (Some(i), Some(r)) = (issued_on, received_on) {
        if r < i {
            e.push(FieldError::new("received_on", "before_start"));
        }
    }
    let paid_up_to = match input.paid_up_to.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => match Month::parse(v) {
            Some(m) if m <= Month::of(today).next() => Some(m.key()),
            _ => {
                e.push(FieldError::new("paid_up_to", "invalid"));
                None
            }
        },
    };
    let placement = Placement {
        org_id: input.org_id.unwrap_or_default(),
        group_id: input.group_id,
    };
    let row = members::checked_new(db, keys, caller, placement, &input.member, "transfer.register_incoming").await;
    let row = match (row, e.is_empty()) {
        (Ok(row), true) => row,
        (Ok(_), false) => return Err(Invalid(e).into()),
        (Err(Error::Invalid(mut member)), _) => {
            member.0.extend(e);
            return Err(member.into());
        }
        (Err(other), _) => return Err(other),
    };
    let id = new_id();
    let mut tx = db.begin().await?;
    let member_id = members::add(&mut tx, keys, caller, row).await?;
    let (org_id, org_path): (i64, String) = tx
        .one(Q::new("SELECT org_id, org_path FROM members WHERE id = $1").bind(member_id))
        .await?;
    tx.exec(
        Q::new(
            "INSERT INTO transfers_in (id, member_id, org_id, org_path, from_name, letter_no, issued_on, received_on,
             paid_up_to, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id)
        .bind(member_id)
        .bind(org_id)
        .bind(org_path)
        .bind(from_name)
        .bind(letter_no)
        .bind(issued_on)
        .bind(received_on)
        .bind(paid_up_to)
        .bind(caller.display_name.clone())
        .bind(now_text()),
    )
    .await?;
    crate::marks::stale(&mut tx, crate::marks::Of::Member(member_id)).await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("transfer.register_incoming", "member", member_id).with_detail(format!("transfer_in {id}")),
    )
    .await?;
    tx.commit().await?;
    Ok(db
        .one(Q::new(&format!("{SELECT_INCOMING} WHERE t.id = $1")).bind(id))
        .await?)
}

/// Letters from outside the platform registered in the organizations the caller reaches, newest first.
pub async fn incoming(db: &Db, caller: &Caller, org_id: Option<i64>) -> Result<Vec<Incoming>> {
    let mut q = Q::new(&format!("{SELECT_INCOMING} WHERE "));
    caller.filter(&mut q, Perm::ReadMembers, "t.org_path", Own::Nothing);
    if let Some(org_id) = org_id {
        let org = orgs::get(db, caller, org_id).await?;
        q.push(" AND t.org_path >= ")
            .push_bind(org.path.clone())
            .push(" AND t.org_path < ")
            .push_bind(subtree_end(&org.path));
    }
    q.push(" ORDER BY t.created_at DESC LIMIT 1000");
    Ok(db.all(q).await?)
}
