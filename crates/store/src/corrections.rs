//! Members' own corrections (党员信息更正): a member proposes a new phone or their education; the
//! proposal goes through the review chain (by default their branch decides) and reaches the record
//! only when approved. The proposal is kept encrypted until then.

use domain::member::Education;
use domain::{FieldError, Phone};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Event};
use crate::crypto::Keys;
use crate::db::{new_id, now_text, Db, Tx, Q};
use crate::error::{Error, Result};
use crate::scope::Caller;
use crate::{members, orgs, reviews};

/// A member's proposed correction of their own record: a new phone, an education (a code or its
/// Chinese name), or both.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct CorrectionInput {
    #[schema(schema_with = domain::Phone::schema)]
    pub phone: Option<String>,
    /// An education code (`bachelor`, …) or its Chinese name.
    #[schema(schema_with = domain::member::Education::schema)]
    pub education: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Correction {
    pub id: i64,
    pub member_id: i64,
    /// `reviewing`, `applied` or `returned`.
    pub status: String,
}

fn ctx(id: i64) -> String {
    format!("member_corrections.proposal:{id}")
}

/// The signed-in member proposes a correction of their own record.
pub async fn propose(db: &Db, keys: &Keys, caller: &Caller, input: &CorrectionInput) -> Result<Correction> {
    let member_id = caller.member_id.ok_or(Error::Forbidden)?;
    let mut e = Vec::new();
    let phone = input.phone.as_deref().map(str::trim).filter(|p| !p.is_empty());
    if phone.is_some_and(|p| Phone::parse(p).is_none()) {
        e.push(FieldError::new("phone", "invalid"));
    }
    let education = input.education.as_deref().map(str::trim).filter(|p| !p.is_empty());
    if education.is_some_and(|x| Education::parse(x).is_none()) {
        e.push(FieldError::new("education", "invalid"));
    }
    if phone.is_none() && education.is_none() {
        e.push(FieldError::new("phone", "required"));
    }
    domain::error::check(e)?;
    let member = members::get(db, caller, member_id).await?;
    // The branch is found without the member's grants: members do not read organizations.
    let org = orgs::get(db, &Caller::system("corrections"), member.org_id).await?;
    let proposal = CorrectionInput {
        phone: phone.map(str::to_string),
        education: education.and_then(Education::parse).map(|x| x.as_str().to_string()),
    };
    let id = new_id();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new("INSERT INTO member_corrections (id, member_id, proposal_enc, status, created_at) VALUES ($1, $2, $3, 'reviewing', $4)")
            .bind(id)
            .bind(member_id)
            .bind(keys.encrypt(&ctx(id), &serde_json::to_string(&proposal).expect("serializable")))
            .bind(now_text()),
    )
    .await?;
    // What the reviewer needs to decide, the phone masked as everywhere outside the record.
    let mut title = format!("党员信息更正：{}", member.name);
    if let Some(p) = phone.and_then(Phone::parse) {
        title.push_str(&format!(" · 手机号码 {}", p.masked()));
    }
    if let Some(e) = education.and_then(Education::parse) {
        title.push_str(&format!(" · 学历 {}", e.zh()));
    }
    reviews::submit(&mut tx, caller, "correction", id, &org, &title).await?;
    audit::append(&mut tx, caller, Event::ok("correction.propose", "member", member_id)).await?;
    tx.commit().await?;
    Ok(Correction {
        id,
        member_id,
        status: "reviewing".into(),
    })
}

/// The review chain's end: apply the proposal to the record, or mark it returned.
pub(crate) async fn on_review(tx: &mut Tx, keys: &Keys, caller: &Caller, id: i64, approved: bool) -> Result<()> {
    let (member_id, sealed): (i64, Vec<u8>) = tx
        .one(Q::new("SELECT member_id, proposal_enc FROM member_corrections WHERE id = $1").bind(id))
        .await?;
    if approved {
        let proposal: CorrectionInput = keys
            .decrypt(&ctx(id), &sealed)
            .and_then(|text| serde_json::from_str(&text).ok())
            .ok_or(Error::Refused("member.decrypt_failed"))?;
        let phone = proposal.phone.as_deref().and_then(Phone::parse);
        let education = proposal.education.as_deref().and_then(Education::parse);
        members::apply_correction(tx, keys, caller, member_id, phone.as_ref(), education).await?;
    }
    tx.exec(
        Q::new("UPDATE member_corrections SET status = $1 WHERE id = $2")
            .bind(if approved { "applied" } else { "returned" })
            .bind(id),
    )
    .await?;
    if !approved {
        return Ok(());
    }
    crate::marks::stale(tx, crate::marks::Of::Member(member_id)).await?;
    audit::append(tx, caller, Event::ok("correction.apply", "member", member_id)).await
}
