//! What to do (待办): the home page's list of what each user must act on, worst first, each item a
//! count with a link to the list or page where it is done. A secretary's and committee staff's items
//! come from the organizations they manage (over the whole subtree: committee staff see counts that
//! open the lists); a member's from their own record. Every figure is read through the same gate as
//! the list it links to, so a count never shows what its list would refuse.

use chrono::{Datelike, Days, NaiveDate};
use serde::Serialize;

use crate::clock::{now, today};
use crate::db::{Db, Q};
use crate::dues::reports::members_without_base;
use crate::error::Result;
use crate::orgs::{self, Org};
use crate::scope::{Caller, Own, Perm};
use crate::warnings;
use domain::org::subtree_end;

/// How pressing an item is; the list is sorted by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// Past a deadline the regulations set.
    Late,
    /// To do now.
    Due,
    /// Coming up.
    Soon,
}

impl Urgency {
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Late => "late",
            Urgency::Due => "due",
            Urgency::Soon => "soon",
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TodoItem {
    /// What is to be done: `meetings_overdue`, `meetings_to_record`, `dues_flag`, `dues_warning`,
    /// `without_base`, `letters_to_accept`, `letters_expired`, `letters_expiring`,
    /// `development_late`, `development_due`, `reviews`, `terms_overdue`, `terms_due`,
    /// `structure`, `quality`, `study_below`, `escalated`, `my_dues`, `my_meetings`, `my_notices`.
    pub what: &'static str,
    pub urgency: Urgency,
    /// The organization it concerns (none for the caller's own items and reviews).
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
    pub count: i64,
    /// Where it is done.
    pub link: String,
    /// The first few people, meetings or organizations concerned, by name.
    pub examples: Vec<String>,
}

/// How many names an item lists; the link opens the rest.
const EXAMPLES: usize = 3;
/// Letters about to expire within this many days are listed.
const EXPIRING_DAYS: u64 = 7;

/// Bounds for letters' expiry dates that both databases hold.
const LONG_AGO: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a date");
const NEVER: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a date");

/// Everything the caller must act on, worst first.
pub async fn for_caller(db: &Db, caller: &Caller) -> Result<Vec<TodoItem>> {
    let mut items = Vec::new();
    let mut seen = Vec::<String>::new();
    // Widest first, so that a grant inside another one's subtree is recognised as such.
    let mut grants: Vec<_> = caller.grants.iter().collect();
    grants.sort_by_key(|g| g.path.len());
    for grant in grants {
        let Some(org_id) = grant.org_id.filter(|_| !grant.pending) else {
            continue;
        };
        // A grant inside another one's subtree adds nothing the larger one does not count.
        if seen.iter().any(|p| grant.path.starts_with(p.as_str())) {
            continue;
        }
        let Some(org) = orgs::find(db, caller, org_id).await? else {
            continue;
        };
        seen.push(org.path.clone());
        of_org(db, caller, &org, &mut items).await?;
    }
    if caller.can(Perm::Review) {
        let waiting = crate::reviews::pending(db, caller).await?;
        if !waiting.is_empty() {
            items.push(TodoItem {
                what: "reviews",
                urgency: Urgency::Due,
                org_id: None,
                org_name: None,
                count: waiting.len() as i64,
                link: "/reviews".into(),
                examples: waiting.iter().take(EXAMPLES).map(|r| r.title.clone()).collect(),
            });
        }
    }
    if let Some(member_id) = caller.member_id {
        own(db, caller, member_id, &mut items).await?;
    }
    items.sort_by(|a, b| a.urgency.cmp(&b.urgency).then(b.count.cmp(&a.count)));
    Ok(items)
}

/// What an organization's subtree must act on, by the caller's permissions there.
async fn of_org(db: &Db, caller: &Caller, org: &Org, items: &mut Vec<TodoItem>) -> Result<()> {
    let item = |what, urgency, count: usize, link: String, examples: Vec<String>| TodoItem {
        what,
        urgency,
        org_id: Some(org.id),
        org_name: Some(org.name.clone()),
        count: count as i64,
        link,
        examples,
    };
    let mut push = |i: TodoItem| {
        if i.count > 0 {
            items.push(i);
        }
    };
    let today = today();
    // What the rules find in the subtree's records, kept by `warnings`: evaluated again here for
    // the organizations whose records changed since, so the counts are those of the lists.
    warnings::refresh(db, &org.path).await?;
    if caller.can_at(Perm::ManageMeetings, &org.path) {
        push(
            warned(
                db,
                org,
                warnings::MEETINGS_OVERDUE,
                Urgency::Late,
                format!("/orgs/{}/compliance", org.id),
            )
            .await?,
        );
        let (count, titles) = meetings_to_record(db, caller, org).await?;
        push(item(
            "meetings_to_record",
            Urgency::Due,
            count,
            format!("/orgs/{}/meetings", org.id),
            titles,
        ));
        let link = format!("/orgs/{}/compliance#terms", org.id);
        push(warned(db, org, warnings::TERMS_OVERDUE, Urgency::Late, link.clone()).await?);
        push(warned(db, org, warnings::TERMS_DUE, Urgency::Soon, link).await?);
    }
    if caller.can_at(Perm::ManageDues, &org.path) {
        // Arrears (党章 Art. 9): six months unpaid without a reason is for the branch to decide on;
        // three or more is a warning to talk to the member.
        let link = format!("/orgs/{}/dues#arrears", org.id);
        push(warned(db, org, warnings::DUES_FLAG, Urgency::Late, link.clone()).await?);
        push(warned(db, org, warnings::DUES_WARNING, Urgency::Due, link).await?);
        // Counted where the dues page counts them (a subtree up to a large county): reading a
        // province's members for it takes a second; its branches' homes show theirs.
        if org.subtree_members <= crate::dues::reports::WITHOUT_BASE_LIMIT {
            let without = members_without_base(db, caller, org.id, today.year()).await?;
            let link = format!("/orgs/{}/dues?show=no_base#book", org.id);
            push(item("without_base", Urgency::Due, without as usize, link, Vec::new()));
        }
    }
    if caller.can_at(Perm::ReadMembers, &org.path) {
        letters(db, org, &mut push).await?;
        // Warnings the organizations directly below left unacknowledged too long come up here.
        let (count, owners) = warnings::acks::escalated_to(db, caller, org).await?;
        push(item(
            "escalated",
            Urgency::Late,
            count as usize,
            format!("/orgs/{}/warnings", org.id),
            owners.into_iter().take(EXAMPLES).collect(),
        ));
    }
    if caller.can_at(Perm::WriteMembers, &org.path) {
        let link = format!("/orgs/{}/development", org.id);
        push(warned(db, org, warnings::DEVELOPMENT_LATE, Urgency::Late, link.clone()).await?);
        push(warned(db, org, warnings::DEVELOPMENT_DUE, Urgency::Due, link).await?);
        let link = format!("/orgs/{}/data-quality", org.id);
        push(warned(db, org, warnings::QUALITY, Urgency::Due, link).await?);
    }
    if caller.can_at(Perm::ManageOrgs, &org.path) {
        let link = format!("/orgs/{}/warnings?kind={}", org.id, warnings::STRUCTURE);
        push(warned(db, org, warnings::STRUCTURE, Urgency::Due, link).await?);
    }
    if caller.can_at(Perm::ManageStudy, &org.path) {
        let link = format!("/study/report?org_id={}", org.id);
        push(warned(db, org, warnings::STUDY_BELOW, Urgency::Soon, link).await?);
    }
    Ok(())
}

/// The subtree's open warnings of one kind as an item: the organizations concerned are named once
/// each (an organization may have several quarters overdue).
async fn warned(db: &Db, org: &Org, kind: &'static str, urgency: Urgency, link: String) -> Result<TodoItem> {
    let (count, labels) = warnings::open(db, kind, org.id, &org.path, 10 * EXAMPLES).await?;
    Ok(TodoItem {
        what: kind,
        urgency,
        org_id: Some(org.id),
        org_name: Some(org.name.clone()),
        count,
        link,
        examples: dedup(labels),
    })
}

/// Meetings of the subtree whose time has passed while they are still planned: their attendance
/// and minutes are to be recorded (or the meeting cancelled).
async fn meetings_to_record(db: &Db, caller: &Caller, org: &Org) -> Result<(usize, Vec<String>)> {
    let mut q =
        Q::new("SELECT m.title, COUNT(*) OVER () FROM meetings m WHERE m.status = 'planned' AND m.starts_at < ");
    q.push_bind(crate::db::instant_text(now()))
        .push(" AND m.org_path >= ")
        .push_bind(org.path.clone())
        .push(" AND m.org_path < ")
        .push_bind(subtree_end(&org.path))
        .push(" AND ");
    caller.filter(&mut q, Perm::ManageMeetings, "m.org_path", Own::Nothing);
    q.push(" ORDER BY m.starts_at LIMIT ").push_bind(EXAMPLES as i64);
    let titles: Vec<(String, i64)> = db.all(q).await?;
    let count = titles.first().map_or(0, |(_, n)| *n as usize);
    Ok((count, titles.into_iter().map(|(t, _)| t).collect()))
}

/// Transfer letters: those sent to the subtree wait for it to accept or reject them; those it sent
/// that expired unanswered, or soon will, are for it to follow up (reissue or call the receiver).
async fn letters(db: &Db, org: &Org, push: &mut impl FnMut(TodoItem)) -> Result<()> {
    let today = today();
    let soon = today + Days::new(EXPIRING_DAYS + 1);
    // Each kind is the letters still out whose expiry falls in [from, to).
    for (what, urgency, side, from, to, status) in [
        ("letters_to_accept", Urgency::Due, "to", today, NEVER, "sent"),
        ("letters_expired", Urgency::Late, "from", LONG_AGO, today, "expired"),
        ("letters_expiring", Urgency::Soon, "from", today, soon, "sent"),
    ] {
        let names: Vec<(String,)> = db
            .all(
                Q::new(&format!(
                    "SELECT m.name FROM transfers t JOIN members m ON m.id = t.member_id
                     WHERE t.status = 'sent' AND t.{side}_path >= $1 AND t.{side}_path < $2
                     AND t.expires_on >= $3 AND t.expires_on < $4 ORDER BY t.expires_on"
                ))
                .bind(org.path.clone())
                .bind(subtree_end(&org.path))
                .bind(from)
                .bind(to),
            )
            .await?;
        push(TodoItem {
            what,
            urgency,
            org_id: Some(org.id),
            org_name: Some(org.name.clone()),
            count: names.len() as i64,
            link: format!("/transfers?org_id={}&status={status}", org.id),
            examples: names.into_iter().take(EXAMPLES).map(|(n,)| n).collect(),
        });
    }
    Ok(())
}

/// A member's own: dues owed up to last month, their branch's meetings to come, notices unread.
async fn own(db: &Db, caller: &Caller, member_id: i64, items: &mut Vec<TodoItem>) -> Result<()> {
    let this_month = domain::dues::Month::of(today());
    let owed = crate::dues::member::unpaid_months(db, caller, member_id).await?;
    let months = owed.iter().filter(|(m, _)| *m < this_month).count();
    if months > 0 {
        items.push(TodoItem {
            what: "my_dues",
            urgency: if months >= 3 { Urgency::Late } else { Urgency::Due },
            org_id: None,
            org_name: None,
            count: months as i64,
            link: format!("/members/{member_id}/dues"),
            examples: owed.iter().take(EXAMPLES).map(|(m, _)| m.to_string()).collect(),
        });
    }
    // The meetings of their own branch still to come; a branch committee meeting is for its
    // officers, who are asked to it by the secretary.
    let coming: Vec<(i64, String)> = match &caller.member_org_path {
        Some(path) => {
            db.all(
                Q::new(
                    "SELECT m.id, m.title FROM meetings m WHERE m.org_path = $1 AND m.status = 'planned' AND m.starts_at >= $2
                     AND EXISTS (SELECT 1 FROM meeting_kinds k WHERE k.meeting_id = m.id AND k.kind <> 'branch_committee_meeting')
                     ORDER BY m.starts_at",
                )
                .bind(path.clone())
                .bind(crate::db::instant_text(now())),
            )
            .await?
        }
        None => Vec::new(),
    };
    if let Some((first, _)) = coming.first() {
        items.push(TodoItem {
            what: "my_meetings",
            urgency: Urgency::Soon,
            org_id: None,
            org_name: None,
            count: coming.len() as i64,
            link: if coming.len() == 1 {
                format!("/meetings/{first}")
            } else {
                "/life".into()
            },
            examples: coming.iter().take(EXAMPLES).map(|(_, t)| t.clone()).collect(),
        });
    }
    let unread = crate::notices::mine(db, caller)
        .await?
        .into_iter()
        .filter(|a| !a.read)
        .collect::<Vec<_>>();
    if !unread.is_empty() {
        items.push(TodoItem {
            what: "my_notices",
            urgency: Urgency::Soon,
            org_id: None,
            org_name: None,
            count: unread.len() as i64,
            link: "/notices".into(),
            examples: unread.iter().take(EXAMPLES).map(|a| a.title.clone()).collect(),
        });
    }
    Ok(())
}

/// The first few distinct names, in order.
fn dedup(names: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        if !out.contains(&n) && out.len() < EXAMPLES {
            out.push(n);
        }
    }
    out
}
