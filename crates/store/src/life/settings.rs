//! An organization's settings for organizational life: check-in and local frequencies.

use super::meetings::managed_org;
use crate::audit::{self, Event};
use crate::db::{Db, Q};
use crate::error::Result;
use crate::orgs::{self};
use crate::scope::Caller;
use domain::life::{Frequency, MeetingKind};
use domain::FieldError;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct LifeSettings {
    /// Members may check in with a code; never required (formalism at the fingertips is discouraged).
    pub checkin_enabled: Option<bool>,
    /// Overrides of how often each kind is due, e.g. `{"party_lecture": "monthly"}`.
    #[serde(default)]
    pub frequencies: BTreeMap<String, String>,
}

/// An organization's current settings.
pub async fn settings(db: &Db, caller: &Caller, org_id: i64) -> Result<LifeSettings> {
    orgs::get(db, caller, org_id).await?;
    let (checkin,): (bool,) = db
        .one(Q::new("SELECT checkin_enabled FROM orgs WHERE id = $1").bind(org_id))
        .await?;
    let rows: Vec<(String, String)> = db
        .all(Q::new("SELECT kind, frequency FROM org_life_settings WHERE org_id = $1").bind(org_id))
        .await?;
    Ok(LifeSettings {
        checkin_enabled: Some(checkin),
        frequencies: rows.into_iter().collect(),
    })
}

pub async fn set_settings(db: &Db, caller: &Caller, org_id: i64, s: &LifeSettings) -> Result<()> {
    managed_org(db, caller, org_id, "org.life_settings").await?;
    let mut e = Vec::new();
    for (k, f) in &s.frequencies {
        if MeetingKind::parse(k).is_none() || (Frequency::parse(f).is_none() && f != "default") {
            e.push(FieldError::new("frequencies", "invalid"));
        }
    }
    domain::error::check(e)?;
    let mut tx = db.begin().await?;
    if let Some(on) = s.checkin_enabled {
        tx.exec(
            Q::new("UPDATE orgs SET checkin_enabled = $1 WHERE id = $2")
                .bind(on)
                .bind(org_id),
        )
        .await?;
    }
    for (k, f) in &s.frequencies {
        tx.exec(
            Q::new("DELETE FROM org_life_settings WHERE org_id = $1 AND kind = $2")
                .bind(org_id)
                .bind(k.clone()),
        )
        .await?;
        if f != "default" {
            tx.exec(
                Q::new("INSERT INTO org_life_settings (org_id, kind, frequency) VALUES ($1, $2, $3)")
                    .bind(org_id)
                    .bind(k.clone())
                    .bind(f.clone()),
            )
            .await?;
        }
    }
    crate::marks::stale(&mut tx, crate::marks::Of::Org(org_id)).await?;
    audit::append(&mut tx, caller, Event::ok("org.life_settings", "org", org_id)).await?;
    tx.commit().await?;
    Ok(())
}
