//! Persistence for Hongji: one query layer over SQLite (embedded default) and PostgreSQL, with scope,
//! encryption and audit applied here so that no handler can forget them.

/// SQL naming the person behind an account column (`created_by`, `actor`): the account's display
/// name, as pages and answers show people; `cli:…` (the command line) stays as it is. The account
/// itself is for the audit log.
macro_rules! person {
    ($col:literal) => {
        concat!(
            "COALESCE((SELECT u.display_name FROM users u WHERE u.username = ",
            $col,
            "), ",
            $col,
            ")"
        )
    };
}

pub mod accounts;
pub mod activities;
pub mod audit;
pub mod backup;
pub mod callers;
pub mod changes;
pub mod clock;
pub mod corrections;
pub mod crypto;
pub mod dashboard;
pub mod db;
pub mod development;
pub mod displays;
pub mod dues;
pub mod error;
pub mod figures;
pub mod files;
pub mod gate;
pub mod hashing;
pub mod import;
pub mod inbox;
pub mod jobs;
pub mod life;
pub mod marks;
pub mod members;
pub mod mobile;
pub mod notices;
pub mod orgs;
pub mod pick;
pub mod private;
pub mod quality;
pub mod reviews;
pub mod scope;
pub mod search;
pub mod security;
pub mod seed;
pub mod study;
pub mod subjects;
pub mod todo;
pub mod transfers;
pub mod warnings;

use std::path::{Path, PathBuf};

pub use crypto::Keys;
pub use db::Db;
pub use error::{Error, Result};
pub use scope::{Caller, Perm, Role};

/// The database and the keys that open its encrypted fields.
#[derive(Clone, Debug)]
pub struct Store {
    pub db: Db,
    pub keys: Keys,
}

impl Store {
    /// Loads the keys, connects (creating a SQLite file if needed), applies migrations and seals
    /// an audit log written before the key. `checkpoints` is the audit checkpoint file.
    pub async fn open(database_url: &str, key_file: &Path, checkpoints: &Path) -> anyhow::Result<Store> {
        let keys = Keys::load_or_create(key_file)?;
        let anchor = audit::Anchor::new(keys.audit_key(), checkpoints.to_path_buf());
        let db = Db::connect(database_url, anchor).await?;
        let applied = db::migrate(&db).await?;
        if applied.contains(&study::totals::SINCE_MIGRATION) {
            study::totals::recount_all(&db).await?;
        }
        audit::seal_unkeyed(&db).await?;
        Ok(Store { db, keys })
    }
}

/// The default SQLite URL, key file and audit checkpoint file for a data directory.
pub fn data_dir_defaults(data_dir: &Path) -> (String, PathBuf, PathBuf) {
    (
        format!("sqlite://{}", data_dir.join("hongji.db").display()),
        data_dir.join("hongji.keys"),
        data_dir.join("audit.checkpoints"),
    )
}

/// Form fields arrive as empty strings when left blank: read those as absent.
pub fn empty_as_none<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr + serde::Deserialize<'de>,
{
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Raw<T> {
        Value(T),
        Text(String),
    }
    match <Option<Raw<T>> as serde::Deserialize>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Value(v)) => Ok(Some(v)),
        // Blank is what a form sends for nothing; anything else must be the value itself.
        Some(Raw::Text(s)) if s.is_empty() => Ok(None),
        Some(Raw::Text(s)) => s.parse().map(Some).map_err(|_| {
            let expected = match std::any::type_name::<T>().rsplit("::").next().unwrap_or_default() {
                "i64" | "i32" | "u32" | "u64" => "an integer",
                "NaiveDate" => "a date (YYYY-MM-DD)",
                "bool" => "true or false",
                other => other,
            };
            serde::de::Error::invalid_value(serde::de::Unexpected::Str(&s), &expected)
        }),
    }
}
