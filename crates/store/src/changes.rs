//! Recorded changes (a member's history, an organization's events) read back as lines a page can
//! say in words: each field with its value before and after, organizations and members named
//! rather than numbered. The stored form stays the JSON the writers record.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::db::{Db, Q};
use crate::error::Result;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Change {
    /// The field (`education`, `org_id`, …); `created` when the record was created; `note` for
    /// why a change was made (`correction`: a member's correction, reviewed; `probation_cancelled`).
    pub field: String,
    /// The value before, when the record keeps it (sensitive fields say only that they changed).
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Fields holding an organization's number, and those holding a member's.
const ORG_FIELDS: [&str; 4] = ["org_id", "group_id", "from", "to"];
const MEMBER_FIELDS: [&str; 1] = ["member_id"];

/// The lines of one stored change: `{"education": ["bachelor", "master"]}` is a before and an
/// after, `{"phone": "changed"}` a sensitive field changed, `{"category": "full"}` a new value,
/// `{"created": true}` the creation.
pub fn lines(json: &str) -> Vec<Change> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(json) else {
        return Vec::new();
    };
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) if s.is_empty() => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    };
    map.iter()
        .map(|(field, value)| match (field.as_str(), value) {
            ("created", _) => Change {
                field: "created".into(),
                before: None,
                after: None,
            },
            // The notes earlier versions wrote in English.
            ("by" | "reason", v) => Change {
                field: "note".into(),
                before: None,
                after: text(v).map(|n| match n.as_str() {
                    "member's correction, reviewed" => "correction".into(),
                    "probation cancelled" => "probation_cancelled".into(),
                    _ => n,
                }),
            },
            (_, serde_json::Value::Array(pair)) if pair.len() == 2 => Change {
                field: field.clone(),
                before: text(&pair[0]),
                after: text(&pair[1]),
            },
            (_, serde_json::Value::String(s)) if s == "changed" => Change {
                field: field.clone(),
                before: None,
                after: None,
            },
            (_, v) => Change {
                field: field.clone(),
                before: None,
                after: text(v),
            },
        })
        .collect()
}

/// Replaces the numbers of organizations by their names, and of members by theirs when
/// `people` (the reader may see the members concerned); numbers no longer found stay.
pub async fn name_ids(db: &Db, changes: &mut [Vec<Change>], people: bool) -> Result<()> {
    let wanted = |fields: &[&str]| -> Vec<i64> {
        let ids: HashSet<i64> = changes
            .iter()
            .flatten()
            .filter(|c| fields.contains(&c.field.as_str()))
            .flat_map(|c| [&c.before, &c.after])
            .filter_map(|v| v.as_deref()?.parse().ok())
            .collect();
        ids.into_iter().collect()
    };
    let orgs = names(db, "orgs", &wanted(&ORG_FIELDS)).await?;
    let members = if people {
        names(db, "members", &wanted(&MEMBER_FIELDS)).await?
    } else {
        HashMap::new()
    };
    for c in changes.iter_mut().flatten() {
        let table = if ORG_FIELDS.contains(&c.field.as_str()) {
            &orgs
        } else if MEMBER_FIELDS.contains(&c.field.as_str()) {
            &members
        } else {
            continue;
        };
        for v in [&mut c.before, &mut c.after].into_iter().flatten() {
            if let Some(name) = v.parse::<i64>().ok().and_then(|id| table.get(&id)) {
                *v = name.clone();
            }
        }
    }
    Ok(())
}

async fn names(db: &Db, table: &str, ids: &[i64]) -> Result<HashMap<i64, String>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let mut q = Q::new(&format!("SELECT id, name FROM {table} WHERE id IN ("));
        q.push_list(chunk.iter().copied());
        q.push(")");
        out.extend(db.all::<(i64, String)>(q).await?);
    }
    Ok(out)
}
