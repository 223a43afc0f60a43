//! Accounts, sign-in and grants (等保 2.0 level 3, GB/T 22239-2019 §8.1.4.1): unique usernames,
//! argon2id password hashes, the complexity policy, locking after repeated failures, idle logout,
//! and the separation of the system, security and audit administrators (三员分立).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::Duration;
use domain::password::{check_policy, IDLE_MINUTES, LOCK_MINUTES, MAX_FAILED_LOGINS};
use domain::{FieldError, Invalid, Phone};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Event};
use crate::crypto::{new_token, token_hash, Keys};
use crate::db::{instant_text, new_id, now_text, parse_instant, Db, Tx, Q};
use crate::error::{Error, Result};
use crate::scope::{Caller, Grant, Perm, Role};

/// API tokens carry this prefix so they are recognizable in configuration files and secret scanners.
pub const API_TOKEN_PREFIX: &str = "hjt_";

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub phone_masked: Option<String>,
    pub member_id: Option<i64>,
    pub failed_logins: i64,
    pub locked_until: Option<String>,
    pub must_change_password: bool,
    pub disabled: bool,
    pub created_at: String,
}

const USER_COLUMNS: &str = "id, username, display_name, phone_masked, member_id, failed_logins, locked_until,
    must_change_password, disabled, created_at";

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub password: String,
    #[serde(deserialize_with = "crate::empty_as_none")]
    pub member_id: Option<i64>,
}

fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::thread_rng());
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing")
        .to_string()
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// Hashing is deliberately slow and large: it runs on the bounded hashing threads.
async fn verify_password_blocking(password: String, hash: String) -> Result<bool> {
    crate::hashing::run(move || verify_password(&password, &hash)).await
}

async fn hash_password_bounded(password: &str) -> Result<String> {
    let password = password.to_string();
    crate::hashing::run(move || hash_password(&password)).await
}

fn password_error(field: &'static str, password: &str) -> Option<FieldError> {
    check_policy(password).err().map(|p| FieldError::new(field, p.code()))
}

fn valid_username(u: &str) -> bool {
    (3..=32).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// Creates an account. Through the API only the security administrator may; `hongji admin
/// create-user` and the demo call it as the system caller to bootstrap.
pub async fn create_user(
    db: &Db,
    keys: &Keys,
    caller: &Caller,
    u: &NewUser,
    must_change_password: bool,
) -> Result<User> {
    if !caller.can(Perm::ManageAccounts) && caller.user_id != 0 {
        return caller.refuse(db, Error::Forbidden, "user.create", ("user", &"")).await;
    }
    let mut e = Vec::new();
    let username = u.username.trim().to_lowercase();
    if !valid_username(&username) {
        e.push(FieldError::new("username", "invalid"));
    }
    let display_name =
        domain::clean_text("display_name", &u.display_name, 50, &mut e).unwrap_or_else(|| username.clone());
    let phone = match u.phone.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(p) => Phone::parse(p).or_else(|| {
            e.push(FieldError::new("phone", "invalid"));
            None
        }),
    };
    e.extend(password_error("password", &u.password));
    if let Some(mid) = u.member_id {
        let found: Option<(i64,)> = db.opt(Q::new("SELECT id FROM members WHERE id = $1").bind(mid)).await?;
        if found.is_none() {
            e.push(FieldError::new("member_id", "not_found"));
        }
        let linked: Option<(i64,)> = db
            .opt(Q::new("SELECT id FROM users WHERE member_id = $1").bind(mid))
            .await?;
        if linked.is_some() {
            e.push(FieldError::new("member_id", "taken"));
        }
    }
    domain::error::check(e)?;
    let taken: Option<(i64,)> = db
        .opt(Q::new("SELECT id FROM users WHERE username = $1").bind(username.clone()))
        .await?;
    if taken.is_some() {
        return Err(Invalid::one("username", "taken").into());
    }
    let id = new_id();
    let hash = hash_password_bounded(&u.password).await?;
    let now = now_text();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO users (id, username, display_name, phone_enc, phone_bi, phone_masked, password_hash, member_id,
             password_changed_at, must_change_password, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $9)",
        )
        .bind(id)
        .bind(username)
        .bind(display_name)
        .bind(phone.as_ref().map(|p| keys.encrypt(&format!("users.phone:{id}"), p.as_str())))
        .bind(phone.as_ref().map(|p| keys.blind_index("user_phone", p.as_str())))
        .bind(phone.as_ref().map(Phone::masked))
        .bind(hash)
        .bind(u.member_id)
        .bind(now)
        .bind(must_change_password),
    )
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => Error::Invalid(Invalid::one("phone", "taken")),
        _ => e.into(),
    })?;
    // Linking an account to a member record gives it that record: the auditor must see the link.
    let detail = u.member_id.map(|m| format!("member={m}")).unwrap_or_default();
    audit::append(
        &mut tx,
        caller,
        Event::ok("user.create", "user", id).with_detail(detail),
    )
    .await?;
    tx.commit().await?;
    get_user(db, id).await
}

async fn get_user(db: &Db, id: i64) -> Result<User> {
    db.opt(Q::new(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1")).bind(id))
        .await?
        .ok_or(Error::NotFound)
}

pub async fn list_users(db: &Db, caller: &Caller) -> Result<Vec<(User, Vec<Grant>)>> {
    caller
        .require_any(db, Perm::ManageAccounts, "user.list", ("user", &""))
        .await?;
    let users: Vec<User> = db
        .all(Q::new(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY username")))
        .await?;
    let all_grants = grants_of(db, None).await?;
    Ok(users
        .into_iter()
        .map(|u| {
            let g = all_grants
                .iter()
                .filter(|(uid, _)| *uid == u.id)
                .map(|(_, g)| g.clone())
                .collect();
            (u, g)
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct GrantRow {
    user_id: i64,
    id: i64,
    role: String,
    org_id: Option<i64>,
    path: Option<String>,
    org_name: Option<String>,
    status: String,
}

/// Grants of one user, or of everyone, pending ones included (they carry `pending`).
async fn grants_of(db: &Db, user_id: Option<i64>) -> Result<Vec<(i64, Grant)>> {
    let mut q = Q::new(
        "SELECT g.user_id, g.id, g.role, g.org_id, o.path, o.name AS org_name, g.status FROM grants g LEFT JOIN orgs o ON o.id = g.org_id",
    );
    if let Some(u) = user_id {
        q.push(" WHERE g.user_id = ").push_bind(u);
    }
    let rows: Vec<GrantRow> = db.all(q).await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let role = Role::parse(&r.role)?;
            let path = r.path.unwrap_or_else(|| "/".into());
            Some((
                r.user_id,
                Grant {
                    id: r.id,
                    role,
                    org_id: r.org_id,
                    path,
                    org_name: r.org_name,
                    pending: r.status == "pending",
                },
            ))
        })
        .collect())
}

/// Grants a role: the three administrators' roles are whole-system and exclusive (三员分立: no one
/// holds two of them, nor an administrator role together with an organization role); organization
/// roles name a subtree. No one changes their own grants.
pub async fn grant(db: &Db, caller: &Caller, user_id: i64, role: Role, org_id: Option<i64>) -> Result<Grant> {
    caller
        .require_any(db, Perm::ManageAccounts, "grant.create", ("user", &user_id))
        .await?;
    if user_id == caller.user_id {
        return Err(Error::Refused("grant.self"));
    }
    let grantee = get_user(db, user_id).await?;
    let org_id = if role.is_administrator() {
        None
    } else {
        let id = org_id.ok_or_else(|| Invalid::one("org_id", "required"))?;
        let found: Option<(i64,)> = db.opt(Q::new("SELECT id FROM orgs WHERE id = $1").bind(id)).await?;
        found.ok_or_else(|| Invalid::one("org_id", "not_found"))?;
        Some(id)
    };
    let existing = grants_of(db, Some(user_id)).await?;
    for (_, g) in &existing {
        if g.role == role && g.org_id == org_id {
            return Ok(g.clone());
        }
        if g.role.is_administrator() || role.is_administrator() {
            return Err(Error::Refused("grant.separation_of_duties"));
        }
    }
    // Two people for personal data: an organization role granted in the browser or the API
    // waits for staff of that organization or above to confirm it through the review chain. The
    // operator's own command line (the first accounts, the demo) is the one exception.
    let pending = org_id.is_some() && caller.user_id != 0;
    let id = new_id();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new("INSERT INTO grants (id, user_id, role, org_id, created_at, status) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(id)
            .bind(user_id)
            .bind(role.as_str())
            .bind(org_id)
            .bind(now_text())
            .bind(if pending { "pending" } else { "active" }),
    )
    .await?;
    if let (true, Some(org_id)) = (pending, org_id) {
        let org = crate::orgs::get_in(&mut tx, org_id).await?;
        let title = format!("权限授予：{}（{}）", grantee.display_name, role_zh(role));
        crate::reviews::submit(&mut tx, caller, "grant", id, &org, &title).await?;
    }
    audit::append(
        &mut tx,
        caller,
        Event::ok("grant.create", "user", user_id).with_detail(format!(
            "role={} org={}{}",
            role.as_str(),
            org_id.unwrap_or(0),
            if pending { " pending" } else { "" }
        )),
    )
    .await?;
    tx.changes_callers();
    tx.commit().await?;
    let granted = grants_of(db, Some(user_id))
        .await?
        .into_iter()
        .map(|(_, g)| g)
        .find(|g| g.id == id);
    granted.ok_or(Error::NotFound)
}

fn role_zh(role: Role) -> &'static str {
    match role {
        Role::OrgAdmin => "党委（总支）工作人员",
        Role::Secretary => "支部书记（支委）",
        Role::Viewer => "只读查看",
        Role::Reviewer => "审核员",
        Role::SystemAdmin => "系统管理员",
        Role::SecurityAdmin => "安全管理员",
        Role::AuditAdmin => "审计管理员",
    }
}

/// The end of a grant's review: confirmed, it takes effect; returned, it is void. The person it
/// grants cannot confirm it themselves (they may already be staff above).
pub(crate) async fn on_review(tx: &mut Tx, caller: &Caller, grant_id: i64, approved: bool) -> Result<()> {
    let (user_id,): (i64,) = tx
        .one(Q::new("SELECT user_id FROM grants WHERE id = $1").bind(grant_id))
        .await?;
    if user_id == caller.user_id {
        return Err(Error::Refused("grant.self"));
    }
    tx.changes_callers();
    if approved {
        tx.exec(Q::new("UPDATE grants SET status = 'active' WHERE id = $1 AND status = 'pending'").bind(grant_id))
            .await?;
    } else {
        tx.exec(Q::new("DELETE FROM grants WHERE id = $1 AND status = 'pending'").bind(grant_id))
            .await?;
    }
    let action = if approved { "grant.confirm" } else { "grant.return" };
    audit::append(
        tx,
        caller,
        Event::ok(action, "user", user_id).with_detail(format!("grant={grant_id}")),
    )
    .await
}

pub async fn revoke(db: &Db, caller: &Caller, grant_id: i64) -> Result<()> {
    caller
        .require_any(db, Perm::ManageAccounts, "grant.revoke", ("grant", &grant_id))
        .await?;
    let row: Option<(i64,)> = db
        .opt(Q::new("SELECT user_id FROM grants WHERE id = $1").bind(grant_id))
        .await?;
    let (user_id,) = row.ok_or(Error::NotFound)?;
    if user_id == caller.user_id {
        return Err(Error::Refused("grant.self"));
    }
    let mut tx = db.begin().await?;
    tx.exec(Q::new("DELETE FROM grants WHERE id = $1").bind(grant_id))
        .await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("grant.revoke", "user", user_id).with_detail(format!("grant={grant_id}")),
    )
    .await?;
    tx.changes_callers();
    tx.commit().await?;
    Ok(())
}

/// What an audit entry may say about a login name that matches no account: never the text itself
/// (people type passwords and ID numbers into that field), only a keyed digest, so that repeated
/// attempts with the same name can still be told apart.
fn unknown_login(keys: &Keys, login: &str) -> String {
    format!("unknown#{}", &hex::encode(keys.blind_index("login", login))[..10])
}

#[derive(sqlx::FromRow)]
struct LoginRow {
    id: i64,
    username: String,
    password_hash: String,
    disabled: bool,
}

/// Where failed sign-ins are counted: on the account, or, for a name no account has, in
/// `login_failures` under the name's blind index. Both count to MAX_FAILED_LOGINS and lock for
/// LOCK_MINUTES alike, so neither the answer nor the lockout tells which names exist.
enum Failures {
    Account(i64),
    Unknown(Vec<u8>),
}

impl Failures {
    async fn locked_until(&self, db: &Db) -> Result<Option<String>> {
        let q = match self {
            Failures::Account(id) => Q::new("SELECT locked_until FROM users WHERE id = $1").bind(*id),
            Failures::Unknown(bi) => {
                Q::new("SELECT locked_until FROM login_failures WHERE login_bi = $1").bind(bi.clone())
            }
        };
        let row: Option<(Option<String>,)> = db.opt(q).await?;
        Ok(row.and_then(|(t,)| t))
    }

    /// Counts one failure (in the database, so that parallel guesses cannot all read the same
    /// count); true when it locks.
    async fn count(&self, tx: &mut Tx, now: chrono::DateTime<chrono::Utc>) -> Result<bool> {
        let q = match self {
            Failures::Account(id) => {
                Q::new("UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins")
                    .bind(*id)
            }
            Failures::Unknown(bi) => Q::new(
                "INSERT INTO login_failures (login_bi, failed, last_at) VALUES ($1, 1, $2)
                 ON CONFLICT (login_bi) DO UPDATE SET failed = login_failures.failed + 1, last_at = $2
                 RETURNING failed",
            )
            .bind(bi.clone())
            .bind(instant_text(now)),
        };
        let (failed,): (i64,) = tx.one(q).await?;
        if failed < MAX_FAILED_LOGINS {
            return Ok(false);
        }
        let until = instant_text(now + Duration::minutes(LOCK_MINUTES));
        let q = match self {
            Failures::Account(id) => Q::new("UPDATE users SET failed_logins = 0, locked_until = $1 WHERE id = $2")
                .bind(until)
                .bind(*id),
            Failures::Unknown(bi) => {
                Q::new("UPDATE login_failures SET failed = 0, locked_until = $1 WHERE login_bi = $2")
                    .bind(until)
                    .bind(bi.clone())
            }
        };
        tx.exec(q).await?;
        Ok(true)
    }
}

/// Forgets failures under unknown names a day after the last one (the daily job).
pub async fn forget_unknown_failures(db: &Db) -> Result<u64> {
    let cutoff = instant_text(crate::clock::now() - Duration::days(1));
    Ok(db
        .exec(Q::new("DELETE FROM login_failures WHERE last_at < $1").bind(cutoff))
        .await?)
}

/// Signs in by username or phone. Returns a new session token (also usable as a Bearer token).
pub async fn login(db: &Db, keys: &Keys, login: &str, password: &str, ip: &str) -> Result<(String, Caller)> {
    let login = login.trim();
    let mut anonymous = Caller::system("anonymous");
    anonymous.username = unknown_login(keys, login);
    anonymous.ip = ip.to_string();
    anonymous.grants.clear();
    let phone = Phone::parse(login);
    let q = match &phone {
        Some(p) => Q::new("SELECT id, username, password_hash, disabled FROM users WHERE phone_bi = $1")
            .bind(keys.blind_index("user_phone", p.as_str())),
        None => Q::new("SELECT id, username, password_hash, disabled FROM users WHERE username = $1")
            .bind(login.to_lowercase()),
    };
    let row: Option<LoginRow> = db.opt(q).await?;
    let (failures, target, hash) = match &row {
        Some(row) => {
            anonymous.username = row.username.clone();
            anonymous.user_id = row.id;
            (Failures::Account(row.id), row.id.to_string(), row.password_hash.clone())
        }
        None => {
            let name = phone.map_or_else(|| login.to_lowercase(), |p| p.as_str().to_string());
            // An unknown name spends the same time on a check as a real one.
            (
                Failures::Unknown(keys.blind_index("login", &name)),
                String::new(),
                dummy_hash().to_string(),
            )
        }
    };
    let now = crate::clock::now();
    let attempt = Event::ok("auth.login", "user", target);
    if failures
        .locked_until(db)
        .await?
        .as_deref()
        .and_then(parse_instant)
        .is_some_and(|t| t > now)
    {
        audit::append_alone(
            db,
            &anonymous,
            Event {
                result: "locked",
                ..attempt
            },
        )
        .await?;
        return Err(Error::Locked);
    }
    let matches = verify_password_blocking(password.to_string(), hash).await?;
    let Some(row) = row.filter(|r| matches && !r.disabled) else {
        let mut tx = db.begin().await?;
        let locked = failures.count(&mut tx, now).await?;
        let event = Event {
            result: "failed",
            ..attempt
        };
        audit::append(
            &mut tx,
            &anonymous,
            event.with_detail(if locked { "locked" } else { "" }),
        )
        .await?;
        tx.commit().await?;
        return Err(if locked { Error::Locked } else { Error::BadCredentials });
    };
    let token = new_token();
    let mut tx = db.begin().await?;
    tx.exec(Q::new("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1").bind(row.id))
        .await?;
    tx.exec(
        Q::new("INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, ip) VALUES ($1, $2, $3, $3, $4)")
            .bind(token_hash(&token))
            .bind(row.id)
            .bind(now_text())
            .bind(ip),
    )
    .await?;
    audit::append(&mut tx, &anonymous, attempt).await?;
    tx.commit().await?;
    let caller = load_caller(db, row.id, ip).await?;
    Ok((token, caller))
}

fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password(&new_token()))
}

#[derive(sqlx::FromRow)]
struct CallerRow {
    id: i64,
    username: String,
    display_name: String,
    member_id: Option<i64>,
    must_change_password: bool,
    disabled: bool,
    member_org_path: Option<String>,
}

async fn load_caller(db: &Db, user_id: i64, ip: &str) -> Result<Caller> {
    let row: CallerRow = db
        .opt(
            Q::new(
                "SELECT u.id, u.username, u.display_name, u.member_id, u.must_change_password, u.disabled, m.org_path AS member_org_path
                 FROM users u LEFT JOIN members m ON m.id = u.member_id WHERE u.id = $1",
            )
            .bind(user_id),
        )
        .await?
        .ok_or(Error::Unauthenticated)?;
    if row.disabled {
        return Err(Error::Unauthenticated);
    }
    // A pending grant reaches nothing until it is confirmed.
    let grants = grants_of(db, Some(user_id))
        .await?
        .into_iter()
        .map(|(_, g)| g)
        .filter(|g| !g.pending)
        .collect();
    Ok(Caller {
        user_id: row.id,
        username: row.username,
        display_name: row.display_name,
        member_id: row.member_id,
        member_org_path: row.member_org_path,
        grants,
        ip: ip.to_string(),
        must_change_password: row.must_change_password,
    })
}

/// Resolves a session or API token to its caller (remembered for a few seconds: see `callers`).
/// Sessions idle for 30 minutes end.
pub async fn authenticate(db: &Db, token: &str, ip: &str) -> Result<Caller> {
    let hash = token_hash(token);
    if let Some(caller) = db.callers().get::<Caller>(&hash) {
        return Ok(Caller {
            ip: ip.to_string(),
            ..caller
        });
    }
    let epoch = db.callers().epoch();
    let caller = read_caller(db, token, hash.clone(), ip).await?;
    db.callers().put(hash, caller.clone(), epoch);
    Ok(caller)
}

async fn read_caller(db: &Db, token: &str, hash: Vec<u8>, ip: &str) -> Result<Caller> {
    if token.starts_with(API_TOKEN_PREFIX) {
        let row: Option<(i64, i64, Option<String>)> = db
            .opt(
                Q::new("SELECT id, user_id, last_used_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
                    .bind(hash),
            )
            .await?;
        let (token_id, user_id, last_used) = row.ok_or(Error::Unauthenticated)?;
        if stale(last_used.as_deref(), 60) {
            db.exec(
                Q::new("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                    .bind(now_text())
                    .bind(token_id),
            )
            .await?;
        }
        return load_caller(db, user_id, ip).await;
    }
    let row: Option<(i64, String)> = db
        .opt(Q::new("SELECT user_id, last_seen_at FROM sessions WHERE token_hash = $1").bind(hash.clone()))
        .await?;
    let (user_id, last_seen) = row.ok_or(Error::Unauthenticated)?;
    if stale(Some(&last_seen), IDLE_MINUTES * 60) {
        db.exec(Q::new("DELETE FROM sessions WHERE token_hash = $1").bind(hash))
            .await?;
        return Err(Error::Unauthenticated);
    }
    // Refresh at most once a minute: a write per request would serialize readers on SQLite.
    if stale(Some(&last_seen), 60) {
        db.exec(
            Q::new("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(now_text())
                .bind(hash),
        )
        .await?;
    }
    load_caller(db, user_id, ip).await
}

fn stale(at: Option<&str>, seconds: i64) -> bool {
    at.and_then(parse_instant)
        .is_none_or(|t| crate::clock::now() - t > Duration::seconds(seconds))
}

pub async fn logout(db: &Db, caller: &Caller, token: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    tx.exec(Q::new("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash(token)))
        .await?;
    audit::append(&mut tx, caller, Event::ok("auth.logout", "user", caller.user_id)).await?;
    tx.changes_callers();
    tx.commit().await?;
    Ok(())
}

/// Changes the caller's own password; other sessions end.
pub async fn change_password(
    db: &Db,
    caller: &Caller,
    current: &str,
    new: &str,
    keep_token: Option<&str>,
) -> Result<()> {
    let (hash,): (String,) = db
        .one(Q::new("SELECT password_hash FROM users WHERE id = $1").bind(caller.user_id))
        .await?;
    if !verify_password_blocking(current.to_string(), hash).await? {
        audit::append_alone(
            db,
            caller,
            Event {
                result: "failed",
                ..Event::ok("user.password", "user", caller.user_id)
            },
        )
        .await?;
        return Err(Invalid::one("current_password", "wrong").into());
    }
    if let Some(e) = password_error("new_password", new) {
        return Err(Invalid(vec![e]).into());
    }
    if new == current {
        return Err(Invalid::one("new_password", "unchanged").into());
    }
    let new_hash = hash_password_bounded(new).await?;
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "UPDATE users SET password_hash = $1, password_changed_at = $2, must_change_password = FALSE WHERE id = $3",
        )
        .bind(new_hash)
        .bind(now_text())
        .bind(caller.user_id),
    )
    .await?;
    let keep = keep_token.map(token_hash).unwrap_or_default();
    tx.exec(
        Q::new("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(caller.user_id)
            .bind(keep),
    )
    .await?;
    audit::append(&mut tx, caller, Event::ok("user.password", "user", caller.user_id)).await?;
    tx.changes_callers();
    tx.commit().await?;
    Ok(())
}

/// The security administrator sets a temporary password, to be changed at next sign-in; the
/// account is unlocked and its sessions end.
pub async fn reset_password(db: &Db, caller: &Caller, user_id: i64, temporary: &str) -> Result<()> {
    caller
        .require_any(db, Perm::ManageAccounts, "user.reset_password", ("user", &user_id))
        .await?;
    if let Some(e) = password_error("password", temporary) {
        return Err(Invalid(vec![e]).into());
    }
    get_user(db, user_id).await?;
    let new_hash = hash_password_bounded(temporary).await?;
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "UPDATE users SET password_hash = $1, password_changed_at = $2, must_change_password = TRUE, failed_logins = 0,
             locked_until = NULL WHERE id = $3",
        )
        .bind(new_hash)
        .bind(now_text())
        .bind(user_id),
    )
    .await?;
    tx.exec(Q::new("DELETE FROM sessions WHERE user_id = $1").bind(user_id))
        .await?;
    audit::append(&mut tx, caller, Event::ok("user.reset_password", "user", user_id)).await?;
    tx.changes_callers();
    tx.commit().await?;
    Ok(())
}

/// Unlocks, disables or enables an account (security administrator).
pub async fn set_account_state(db: &Db, caller: &Caller, user_id: i64, action: &str) -> Result<()> {
    let event = match action {
        "unlock" => "user.unlock",
        "disable" => "user.disable",
        "enable" => "user.enable",
        _ => return Err(Invalid::one("action", "invalid").into()),
    };
    caller
        .require_any(db, Perm::ManageAccounts, event, ("user", &user_id))
        .await?;
    if user_id == caller.user_id && action == "disable" {
        return Err(Error::Refused("user.disable_self"));
    }
    get_user(db, user_id).await?;
    let sql = match action {
        "unlock" => "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1",
        "disable" => "UPDATE users SET disabled = TRUE WHERE id = $1",
        _ => "UPDATE users SET disabled = FALSE WHERE id = $1",
    };
    let mut tx = db.begin().await?;
    tx.exec(Q::new(sql).bind(user_id)).await?;
    if action == "disable" {
        tx.exec(Q::new("DELETE FROM sessions WHERE user_id = $1").bind(user_id))
            .await?;
    }
    audit::append(&mut tx, caller, Event::ok(event, "user", user_id)).await?;
    tx.changes_callers();
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A new API token for the caller's own integrations; the secret is returned once and stored hashed.
pub async fn create_token(db: &Db, caller: &Caller, name: &str) -> Result<(ApiToken, String)> {
    let mut e = Vec::new();
    let name = domain::clean_text("name", name, 50, &mut e);
    domain::error::check(e)?;
    let name = name.ok_or_else(|| Invalid::one("name", "required"))?;
    let secret = format!("{API_TOKEN_PREFIX}{}", new_token());
    let id = new_id();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(caller.user_id)
            .bind(name)
            .bind(token_hash(&secret))
            .bind(now_text()),
    )
    .await?;
    audit::append(&mut tx, caller, Event::ok("token.create", "token", id)).await?;
    tx.commit().await?;
    let token = db
        .one(Q::new("SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE id = $1").bind(id))
        .await?;
    Ok((token, secret))
}

pub async fn list_tokens(db: &Db, caller: &Caller) -> Result<Vec<ApiToken>> {
    Ok(db
        .all(
            Q::new("SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC")
                .bind(caller.user_id),
        )
        .await?)
}

/// Revokes one of the caller's tokens (the security administrator may revoke anyone's).
pub async fn revoke_token(db: &Db, caller: &Caller, token_id: i64) -> Result<()> {
    let row: Option<(i64,)> = db
        .opt(Q::new("SELECT user_id FROM api_tokens WHERE id = $1").bind(token_id))
        .await?;
    match row {
        Some((owner,)) if owner == caller.user_id || caller.can(Perm::ManageAccounts) => {}
        _ => {
            return caller
                .refuse(db, Error::NotFound, "token.revoke", ("token", &token_id))
                .await
        }
    }
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_text())
            .bind(token_id),
    )
    .await?;
    audit::append(&mut tx, caller, Event::ok("token.revoke", "token", token_id)).await?;
    tx.changes_callers();
    tx.commit().await?;
    Ok(())
}
