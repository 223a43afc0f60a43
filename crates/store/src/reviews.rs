//! Review chains (数据审核): one mechanism for every kind of submission that needs the higher levels'
//! approval. A chain is 1–4 levels, each an organization whose reviewers decide; the nearest
//! organization at or above the submitter with a chain for the kind sets it, and without one the
//! submitter's parent organization (the higher committee) reviews alone. Each level approves or
//! returns with a comment; nothing reaches the records until the last level approves, and then the
//! kind's own module applies it in the same transaction. One person decides one level of a review.
//! A member's correction of their own record is the exception: by default their branch decides.

use domain::org::path_ids;
use domain::{clean_text, FieldError, Invalid};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Event};
use crate::db::{new_id, now_text, Db, Tx, Q};
use crate::error::{Error, Result};
use crate::inbox;
use crate::orgs::{self, Org};
use crate::scope::{Caller, Perm};

/// The kinds of submission that go through a chain, as stored and as the API names them.
pub const KINDS: [&str; 6] = ["transfer", "notice", "development", "correction", "grant", "study"];

/// A kind of submission that goes through a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewKind {
    /// A transfer letter (组织关系转接).
    Transfer,
    /// A notice to members (党务公开).
    Notice,
    /// A development step filed for approval (发展党员).
    Development,
    /// A member's request to correct their record.
    Correction,
    /// A grant that reaches personal data, confirmed by a second person (两人授权).
    Grant,
    /// A study library item, on publishing and on every edit after (学习资料).
    Study,
}

impl ReviewKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewKind::Transfer => "transfer",
            ReviewKind::Notice => "notice",
            ReviewKind::Development => "development",
            ReviewKind::Correction => "correction",
            ReviewKind::Grant => "grant",
            ReviewKind::Study => "study",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewKind> {
        [
            ReviewKind::Transfer,
            ReviewKind::Notice,
            ReviewKind::Development,
            ReviewKind::Correction,
            ReviewKind::Grant,
            ReviewKind::Study,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// The work a subject's approval (or return) does, in the decision's transaction.
pub type Applied<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>>;

/// What the end of a review does to its subject. Each kind's module has its own `on_review`;
/// `store::subjects` puts them together, so that this module depends on none of them (they submit
/// through it).
pub trait OnReview: Sync {
    #[allow(clippy::too_many_arguments)]
    fn on_review<'a>(
        &'a self,
        tx: &'a mut Tx,
        keys: &'a crate::Keys,
        caller: &'a Caller,
        kind: ReviewKind,
        subject_id: i64,
        approved: bool,
    ) -> Applied<'a>;
}
pub const MAX_LEVELS: usize = 4;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Review {
    pub id: i64,
    pub kind: String,
    pub subject_id: i64,
    pub org_id: i64,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: String,
    pub title: String,
    pub levels: i64,
    /// The level now deciding (1-based); for a finished review, the last that decided.
    pub level: i64,
    pub reviewer_org_id: i64,
    pub reviewer_org_name: String,
    #[serde(skip)]
    pub reviewer_path: String,
    /// `pending`, `approved` or `returned`.
    pub status: String,
    pub submitted_name: String,
    pub created_at: String,
    pub updated_at: String,
}

const SELECT: &str = "SELECT r.id, r.kind, r.subject_id, r.org_id, o.name AS org_name, r.org_path, r.title, r.levels,
    r.level, r.reviewer_org_id, v.name AS reviewer_org_name, r.reviewer_path, r.status, r.submitted_name,
    r.created_at, r.updated_at
    FROM reviews r JOIN orgs o ON o.id = r.org_id JOIN orgs v ON v.id = r.reviewer_org_id";

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Decision {
    pub level: i64,
    /// `approve` or `return`.
    pub decision: String,
    pub comment: Option<String>,
    pub actor: String,
    pub at: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ChainLevel {
    pub level: i64,
    pub org_id: i64,
    pub org_name: String,
    #[serde(skip)]
    pub path: String,
}

/// A review with where it stands: every level and every decision so far.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewView {
    #[serde(flatten)]
    pub review: Review,
    pub chain: Vec<ChainLevel>,
    pub decisions: Vec<Decision>,
}

/// The reviewing organizations for a kind of submission from `org`, level 1 first.
pub async fn chain_for(tx: &mut Tx, org: &Org, kind: &str) -> Result<Vec<ChainLevel>> {
    let ancestors = path_ids(&org.path);
    for owner in ancestors.iter().rev() {
        let levels: Vec<ChainLevel> = tx
            .all(
                Q::new(
                    "SELECT c.level, c.reviewer_org_id AS org_id, o.name AS org_name, o.path FROM review_chains c
                     JOIN orgs o ON o.id = c.reviewer_org_id WHERE c.org_id = $1 AND c.kind = $2 ORDER BY c.level",
                )
                .bind(*owner)
                .bind(kind),
            )
            .await?;
        if !levels.is_empty() {
            return Ok(levels);
        }
    }
    // A member's own correction is the branch's to decide; everything else goes to the level above.
    let higher = if kind == "correction" {
        org.id
    } else {
        org.parent_id.unwrap_or(org.id)
    };
    let (name, path): (String, String) = tx
        .one(Q::new("SELECT name, path FROM orgs WHERE id = $1").bind(higher))
        .await?;
    Ok(vec![ChainLevel {
        level: 1,
        org_id: higher,
        org_name: name,
        path,
    }])
}

/// Starts a review inside the submitter's transaction and tells the first level's reviewers.
pub(crate) async fn submit(
    tx: &mut Tx,
    caller: &Caller,
    kind: &'static str,
    subject_id: i64,
    org: &Org,
    title: &str,
) -> Result<i64> {
    let chain = chain_for(tx, org, kind).await?;
    let first = &chain[0];
    let id = new_id();
    let now = now_text();
    tx.exec(
        Q::new(
            "INSERT INTO reviews (id, kind, subject_id, org_id, org_path, title, levels, level, reviewer_org_id, reviewer_path,
             status, submitted_by, submitted_name, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, 'pending', $10, $11, $12, $12)",
        )
        .bind(id)
        .bind(kind)
        .bind(subject_id)
        .bind(org.id)
        .bind(org.path.clone())
        .bind(title)
        .bind(chain.len() as i64)
        .bind(first.org_id)
        .bind(first.path.clone())
        .bind(caller.user_id)
        .bind(caller.display_name.clone())
        .bind(now),
    )
    .await?;
    for l in &chain {
        tx.exec(
            Q::new("INSERT INTO review_steps (review_id, level, reviewer_org_id) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(l.level)
                .bind(l.org_id),
        )
        .await?;
    }
    tell_reviewers(tx, id, 1, first.org_id, title).await?;
    audit::append(tx, caller, Event::ok("review.submit", "review", id).with_detail(kind)).await?;
    Ok(id)
}

async fn tell_reviewers(tx: &mut Tx, review_id: i64, level: i64, org_id: i64, title: &str) -> Result<()> {
    let users: Vec<(i64,)> = tx
        .all(
            Q::new("SELECT DISTINCT user_id FROM grants WHERE org_id = $1 AND role IN ('org_admin', 'reviewer')")
                .bind(org_id),
        )
        .await?;
    for (user,) in users {
        inbox::notify(
            tx,
            user,
            "review",
            &format!("review:{review_id}:{level}"),
            &format!("待审核：{title}"),
            "/reviews",
        )
        .await?;
    }
    Ok(())
}

/// Reviews waiting at a level the caller decides, oldest first.
pub async fn pending(db: &Db, caller: &Caller) -> Result<Vec<Review>> {
    let mut q = Q::new(&format!("{SELECT} WHERE r.status = 'pending' AND "));
    caller.filter(&mut q, Perm::Review, "r.reviewer_path", crate::scope::Own::Nothing);
    q.push(" ORDER BY r.created_at LIMIT 500");
    Ok(db.all(q).await?)
}

/// The review of a subject for its own page: the one under way, else the latest.
pub async fn of_subject(db: &Db, kind: &str, subject_id: i64) -> Result<Option<ReviewView>> {
    let found: Option<Review> = db
        .opt(
            Q::new(&format!(
                "{SELECT} WHERE r.kind = $1 AND r.subject_id = $2
                 ORDER BY CASE WHEN r.status = 'pending' THEN 0 ELSE 1 END, r.created_at DESC, r.id DESC LIMIT 1"
            ))
            .bind(kind)
            .bind(subject_id),
        )
        .await?;
    match found {
        Some(r) => Ok(Some(view(db, r).await?)),
        None => Ok(None),
    }
}

async fn view(db: &Db, review: Review) -> Result<ReviewView> {
    let chain: Vec<ChainLevel> = db
        .all(
            Q::new(
                "SELECT s.level, s.reviewer_org_id AS org_id, o.name AS org_name, o.path FROM review_steps s
                 JOIN orgs o ON o.id = s.reviewer_org_id WHERE s.review_id = $1 ORDER BY s.level",
            )
            .bind(review.id),
        )
        .await?;
    let decisions: Vec<Decision> = db
        .all(
            Q::new(concat!(
                "SELECT level, decision, comment, ",
                person!("actor"),
                " AS actor, at FROM review_decisions WHERE review_id = $1 ORDER BY at"
            ))
            .bind(review.id),
        )
        .await?;
    Ok(ReviewView {
        review,
        chain,
        decisions,
    })
}

/// One review, for the submitter's organization and for the reviewers of any of its levels.
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<ReviewView> {
    let review: Option<Review> = db.opt(Q::new(&format!("{SELECT} WHERE r.id = $1")).bind(id)).await?;
    let review = caller.found(db, review, "review.read", ("review", &id)).await?;
    let v = view(db, review).await?;
    let visible = caller.can_at(Perm::ReadMembers, &v.review.org_path)
        || v.chain.iter().any(|l| caller.can_at(Perm::Review, &l.path));
    if !visible {
        return caller.refuse(db, Error::NotFound, "review.read", ("review", &id)).await;
    }
    Ok(v)
}

/// A reviewer's decision: the comment is optional to approve (returning requires one, see
/// `ReturnBody`).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct DecisionInput {
    /// Required to return a submission: what to fix.
    #[schema(schema_with = domain::schema::text::<1000>)]
    pub comment: Option<String>,
}

/// Whether the caller decides the level now waiting (pages offer the decision by it).
pub fn may_decide(caller: &Caller, review: &Review) -> bool {
    review.status == "pending" && caller.can_at(Perm::Review, &review.reviewer_path)
}

/// Approves or returns the level now deciding. The last decision applies the submission (or
/// sends it back) through `subjects`, in the same transaction.
pub async fn decide(
    db: &Db,
    keys: &crate::Keys,
    subjects: &dyn OnReview,
    caller: &Caller,
    id: i64,
    approve: bool,
    input: &DecisionInput,
) -> Result<ReviewView> {
    let action = if approve { "review.approve" } else { "review.return" };
    let review: Option<Review> = db.opt(Q::new(&format!("{SELECT} WHERE r.id = $1")).bind(id)).await?;
    let review = caller.found(db, review, action, ("review", &id)).await?;
    if !caller.can_at(Perm::Review, &review.reviewer_path) {
        // Only those who may see the review learn that it is not theirs to decide; to anyone
        // else it does not exist, as everywhere.
        let v = view(db, review).await?;
        let in_view = caller.can_at(Perm::ReadMembers, &v.review.org_path)
            || v.chain.iter().any(|l| caller.can_at(Perm::Review, &l.path));
        let refusal = if in_view { Error::Forbidden } else { Error::NotFound };
        return caller.refuse(db, refusal, action, ("review", &id)).await;
    }
    let mut e: Vec<FieldError> = Vec::new();
    let comment = input
        .comment
        .as_deref()
        .and_then(|c| clean_text("comment", c, 1000, &mut e));
    if !approve && comment.is_none() && e.is_empty() {
        e.push(FieldError::new("comment", "required"));
    }
    domain::error::check(e)?;
    if review.status != "pending" {
        return Err(Error::Refused("review.decided"));
    }
    let mut tx = db.begin().await?;
    // A submitter never decides any level of their own submission (a secretary approving the
    // correction they asked for, a staff member passing their own letter). The operator's command
    // line (user 0: the demo, scripted seeding) is not a person and is exempt.
    let (submitted_by,): (i64,) = tx
        .one(Q::new("SELECT submitted_by FROM reviews WHERE id = $1").bind(id))
        .await?;
    if submitted_by == caller.user_id && caller.user_id != 0 {
        drop(tx);
        return caller
            .refuse(db, Error::Refused("review.own_submission"), action, ("review", &id))
            .await;
    }
    let (earlier,): (i64,) = tx
        .one(
            Q::new(
                "SELECT COUNT(*) FROM review_decisions WHERE review_id = $1 AND user_id = $2 AND decision = 'approve'",
            )
            .bind(id)
            .bind(caller.user_id),
        )
        .await?;
    if earlier > 0 {
        return Err(Error::Refused("review.same_reviewer"));
    }
    let now = now_text();
    tx.exec(
        Q::new(
            "INSERT INTO review_decisions (review_id, level, decision, comment, user_id, actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(review.level)
        .bind(if approve { "approve" } else { "return" })
        .bind(comment)
        .bind(caller.user_id)
        .bind(caller.display_name.clone())
        .bind(now.clone()),
    )
    .await?;
    let last = review.level >= review.levels;
    let next: Option<(i64, String)> = if approve && !last {
        tx.opt(
            Q::new(
                "SELECT s.reviewer_org_id, o.path FROM review_steps s JOIN orgs o ON o.id = s.reviewer_org_id
                 WHERE s.review_id = $1 AND s.level = $2",
            )
            .bind(id)
            .bind(review.level + 1),
        )
        .await?
    } else {
        None
    };
    let changed = match &next {
        Some((org_id, path)) => {
            tx.exec(
                Q::new(
                    "UPDATE reviews SET level = level + 1, reviewer_org_id = $1, reviewer_path = $2, updated_at = $3
                     WHERE id = $4 AND level = $5 AND status = 'pending'",
                )
                .bind(*org_id)
                .bind(path.clone())
                .bind(now.clone())
                .bind(id)
                .bind(review.level),
            )
            .await?
        }
        None => {
            tx.exec(
                Q::new("UPDATE reviews SET status = $1, updated_at = $2 WHERE id = $3 AND level = $4 AND status = 'pending'")
                    .bind(if approve { "approved" } else { "returned" })
                    .bind(now.clone())
                    .bind(id)
                    .bind(review.level),
            )
            .await?
        }
    };
    if changed != 1 {
        return Err(Error::Refused("review.decided"));
    }
    match &next {
        Some((org_id, _)) => tell_reviewers(&mut tx, id, review.level + 1, *org_id, &review.title).await?,
        None => {
            if let Some(kind) = ReviewKind::parse(&review.kind) {
                subjects
                    .on_review(&mut tx, keys, caller, kind, review.subject_id, approve)
                    .await?
            }
        }
    }
    audit::append(
        &mut tx,
        caller,
        Event::ok(action, "review", id).with_detail(format!("level {}", review.level)),
    )
    .await?;
    tx.commit().await?;
    get(db, caller, id).await
}

/// Sets the chain for a kind of submission from an organization's subtree: 1–4 reviewing
/// organizations, each the organization itself or one above it, level 1 first. An empty list
/// removes it (the next chain above, or the parent organization, applies again).
pub async fn set_chain(db: &Db, caller: &Caller, org_id: i64, kind: &str, levels: &[i64]) -> Result<Vec<ChainLevel>> {
    let org = managed(db, caller, org_id, "review.chain.set").await?;
    let mut tx = db.begin().await?;
    let kind = write_chain(&mut tx, caller, &org, kind, levels).await?;
    let chain = chain_for(&mut tx, &org, kind).await?;
    tx.commit().await?;
    Ok(chain)
}

/// An organization whose settings the caller may change (`Forbidden`, audited, otherwise).
pub(crate) async fn managed(db: &Db, caller: &Caller, org_id: i64, action: &'static str) -> Result<Org> {
    let org = orgs::get(db, caller, org_id).await?;
    caller
        .require(db, Perm::ManageOrgs, &org.path, action, ("org", &org_id))
        .await?;
    Ok(org)
}

/// Checks and writes one kind's chain inside the caller's transaction, audited.
pub(crate) async fn write_chain(
    tx: &mut Tx,
    caller: &Caller,
    org: &Org,
    kind: &str,
    levels: &[i64],
) -> Result<&'static str> {
    let mut e = Vec::new();
    let Some(kind) = KINDS.iter().find(|k| **k == kind) else {
        return Err(Invalid::one("kind", "invalid").into());
    };
    if levels.len() > MAX_LEVELS {
        e.push(FieldError::new("levels", "too_many"));
    }
    let ancestors = path_ids(&org.path);
    if levels.iter().any(|l| !ancestors.contains(l)) {
        e.push(FieldError::new("levels", "not_above"));
    }
    domain::error::check(e)?;
    tx.exec(
        Q::new("DELETE FROM review_chains WHERE org_id = $1 AND kind = $2")
            .bind(org.id)
            .bind(*kind),
    )
    .await?;
    for (i, reviewer) in levels.iter().enumerate() {
        tx.exec(
            Q::new("INSERT INTO review_chains (org_id, kind, level, reviewer_org_id) VALUES ($1, $2, $3, $4)")
                .bind(org.id)
                .bind(*kind)
                .bind(i as i64 + 1)
                .bind(*reviewer),
        )
        .await?;
    }
    audit::append(
        tx,
        caller,
        Event::ok("review.chain.set", "org", org.id).with_detail(*kind),
    )
    .await?;
    Ok(kind)
}

/// The chain that applies to a kind of submission from an organization.
pub async fn chain(db: &Db, caller: &Caller, org_id: i64, kind: &str) -> Result<Vec<ChainLevel>> {
    let org = orgs::get(db, caller, org_id).await?;
    if !KINDS.contains(&kind) {
        return Err(Invalid::one("kind", "invalid").into());
    }
    let mut tx = db.begin().await?;
    let chain = chain_for(&mut tx, &org, kind).await?;
    tx.commit().await?;
    Ok(chain)
}
