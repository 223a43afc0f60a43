//! The command line: import, export, data quality, audit verify, create-user, backup and restore, run as a
//! user would.

use crate::support::{id_number, App, Backend};
use std::process::Command;
use store::db::Q;

fn hongji(app: &App, args: &[&str]) -> std::process::Output {
    hongji_with(app, args, &[])
}

/// Runs the command against the test's database, with extra environment variables.
fn hongji_with(app: &App, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hongji"))
        .args(args)
        .env("HONGJI_DATA_DIR", &app.data_dir)
        .env("HONGJI_DATABASE_URL", &app.database_url)
        .env("HONGJI_KEY_FILE", &app.key_file)
        .env("HONGJI_LANG", "en")
        .envs(env.iter().copied())
        .output()
        .expect("run hongji")
}

const CREATE_ADMIN: [&str; 6] = [
    "admin",
    "create-user",
    "--username",
    "firstadmin",
    "--role",
    "security_admin",
];

async fn cli_round_trip(backend: Backend) {
    let app = App::start(backend).await;
    let ok = hongji(&app, &["audit", "verify"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("intact"));

    let file = app.data_dir.join("new.csv");
    let good = id_number("19920303", 31, true);
    std::fs::write(&file, format!("姓名,性别,公民身份号码,入党日期,转正日期,所在党支部\n吴刚,男,{good},2015-01-01,2016-01-01,图书馆党支部\n坏行,男,123,2015-01-01,2016-01-01,图书馆党支部\n")).unwrap();
    let out = hongji(&app, &["import", "members", file.to_str().unwrap()]);
    assert!(!out.status.success(), "a bad row stops an all-or-nothing import");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("new.csv:3") && err.contains("ID number"), "{err}");
    let (n,): (i64,) = app
        .store
        .db
        .one(Q::new("SELECT COUNT(*) FROM members WHERE name = '吴刚'"))
        .await
        .unwrap();
    assert_eq!(n, 0);
    let out = hongji(&app, &["import", "members", file.to_str().unwrap(), "--good-only"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (n,): (i64,) = app
        .store
        .db
        .one(Q::new("SELECT COUNT(*) FROM members WHERE name = '吴刚'"))
        .await
        .unwrap();
    assert_eq!(n, 1);

    let xlsx = app.data_dir.join("roster.xlsx");
    let out = hongji(&app, &["export", "members", xlsx.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::metadata(&xlsx).unwrap().len() > 10_000);

    // Data quality by hand: a member without education is found, the run is on record.
    app.store
        .db
        .exec(Q::new("UPDATE members SET education = NULL WHERE name = '吴刚'"))
        .await
        .unwrap();
    let out = hongji(&app, &["quality", "run"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("active members") && !said.contains(" 0 failures"),
        "{said}"
    );
    let (found, runs): (i64, i64) = app
        .store
        .db
        .one(Q::new(
            "SELECT (SELECT COUNT(*) FROM quality_failures q JOIN members m ON m.id = q.member_id
                     WHERE m.name = '吴刚' AND q.check_name = 'education_missing'),
                    (SELECT COUNT(*) FROM audit_log WHERE action = 'quality.run')",
        ))
        .await
        .unwrap();
    assert_eq!((found, runs), (1, 1));

    let out = hongji_with(&app, &CREATE_ADMIN, &[("HONGJI_NEW_PASSWORD", "weak")]);
    assert!(!out.status.success(), "the password policy applies");
    let out = hongji_with(&app, &CREATE_ADMIN, &[("HONGJI_NEW_PASSWORD", "First-Admin-2026")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // Tamper with the log: verify fails and names the entry.
    let (seq,): (i64,) = app
        .store
        .db
        .one(Q::new("SELECT MAX(seq) - 2 FROM audit_log"))
        .await
        .unwrap();
    app.store
        .db
        .exec(Q::new("UPDATE audit_log SET detail = 'changed' WHERE seq = $1").bind(seq))
        .await
        .unwrap();
    let bad = hongji(&app, &["audit", "verify"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains(&format!("entry {seq}")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_on_sqlite() {
    cli_round_trip(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(hongji_pg), ignore = "PostgreSQL: set HONGJI_TEST_PG_URL")]
async fn cli_on_postgres() {
    cli_round_trip(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_builds_a_national_tree() {
    let app = App::start(Backend::Sqlite).await;
    let before: (i64,) = app.store.db.one(Q::new("SELECT COUNT(*) FROM members")).await.unwrap();
    hongji::generate::run(&app.store, 3_000, 9, |_| {}).await.unwrap();
    let (total,): (i64,) = app
        .store
        .db
        .one(Q::new("SELECT COUNT(*) FROM members WHERE status = 'active'"))
        .await
        .unwrap();
    let (root_count,): (i64,) = app
        .store
        .db
        .one(Q::new(
            "SELECT subtree_members FROM orgs WHERE kind = 'committee' AND parent_id IS NULL AND name = '省委'",
        ))
        .await
        .unwrap();
    let (new_active,): (i64,) = app.store.db.one(Q::new("SELECT COUNT(*) FROM members m JOIN orgs o ON o.id = m.org_id WHERE m.status = 'active' AND m.org_path LIKE (SELECT path FROM orgs WHERE name = '省委') || '%'")).await.unwrap();
    assert_eq!(root_count, new_active, "maintained count equals a recount");
    assert!(total > before.0);
    let (branches,): (i64,) = app
        .store
        .db
        .one(Q::new("SELECT COUNT(*) FROM orgs WHERE name LIKE '第%党支部'"))
        .await
        .unwrap();
    assert_eq!(branches, 138, "≈ 21.7 members a branch");
    assert!(store::audit::verify(&app.store.db).await.unwrap().is_ok());
}

/// A backup made while the server runs comes back whole into an empty database: every table's
/// rows, the uploaded files, an audit chain that verifies; what happened after it is named, and a
/// missing or wrong key file or an occupied target is refused before anything moves.
async fn backup_then_restore(backend: Backend) {
    let app = App::start(backend).await;
    let t = app.login("secretary").await;
    let (_, me) = app.get(&t, "/api/v1/me").await;
    let branch = me["grants"][0]["org_id"].as_i64().unwrap();
    let (_, list) = app.get(&t, &format!("/api/v1/meetings?org_id={branch}&limit=1")).await;
    let meeting = list["items"][0]["id"].as_i64().unwrap();
    let pdf = crate::support::pdf("minutes of the backup test");
    let res = app
        .http
        .post(format!("{}/api/v1/meetings/{meeting}/attachments?name=m.pdf", app.base))
        .bearer_auth(&t)
        .body(pdf.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::CREATED);
    let attachment: serde_json::Value = res.json().await.unwrap();

    let out = app.data_dir.join("backup-1");
    let made = hongji(&app, &["backup", out.to_str().unwrap()]);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    assert!(
        !out.join("hongji.keys").exists(),
        "the key file stays out of the backup"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["files"], 1);
    let (members,): (i64,) = app.store.db.one(Q::new("SELECT COUNT(*) FROM members")).await.unwrap();
    assert_eq!(manifest["tables"]["members"], members);
    let again = hongji(&app, &["backup", out.to_str().unwrap()]);
    assert!(!again.status.success(), "a backup never overwrites another");
    // After the backup: a change, anchored by a checkpoint.
    app.login("committee").await;
    assert!(hongji(&app, &["audit", "checkpoint"]).status.success());

    let target = app.data_dir.join("restored");
    std::fs::create_dir_all(&target).unwrap();
    let url = app.empty_database(&target).await;
    let key_file = target.join("hongji.keys");
    let checkpoints = target.join("audit.checkpoints");
    let restore = |args: &[&str]| {
        let mut all = vec!["restore", out.to_str().unwrap()];
        all.extend_from_slice(args);
        hongji_with(
            &app,
            &all,
            &[
                ("HONGJI_DATA_DIR", target.to_str().unwrap()),
                ("HONGJI_DATABASE_URL", &url),
                ("HONGJI_KEY_FILE", key_file.to_str().unwrap()),
                ("HONGJI_AUDIT_CHECKPOINTS", checkpoints.to_str().unwrap()),
            ],
        )
    };
    let refused = restore(&[]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("key file"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    store::Keys::load_or_create(&key_file).unwrap(); // a new key, not the backup's
    let refused = restore(&[]);
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("is not the one"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    std::fs::copy(&app.key_file, &key_file).unwrap();
    std::fs::copy(app.data_dir.join("audit.checkpoints"), &checkpoints).unwrap();
    let done = restore(&[]);
    let said = String::from_utf8_lossy(&done.stdout);
    assert!(done.status.success(), "{said}{}", String::from_utf8_lossy(&done.stderr));
    assert!(
        said.contains("agree with its manifest") && said.contains("made after the backup"),
        "{said}"
    );

    let restored = store::Store::open(&url, &key_file, &checkpoints).await.unwrap();
    let (n,): (i64,) = restored.db.one(Q::new("SELECT COUNT(*) FROM members")).await.unwrap();
    assert_eq!(n, members);
    assert!(store::audit::verify(&restored.db).await.unwrap().is_ok());
    let file = format!("files/attachments/{}", attachment["id"]);
    assert_eq!(
        std::fs::read(target.join(&file)).unwrap(),
        std::fs::read(app.data_dir.join(&file)).unwrap(),
        "the sealed file came back as it was"
    );
    let again = restore(&[]);
    assert!(
        !again.status.success(),
        "an occupied target is refused without --replace"
    );
    let replaced = restore(&["--replace"]);
    assert!(
        replaced.status.success(),
        "{}",
        String::from_utf8_lossy(&replaced.stderr)
    );
    assert!(String::from_utf8_lossy(&replaced.stdout).contains("moved aside"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_then_restore_on_sqlite() {
    backup_then_restore(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(hongji_pg), ignore = "PostgreSQL: set HONGJI_TEST_PG_URL")]
async fn backup_then_restore_on_postgres() {
    backup_then_restore(Backend::Postgres).await;
}

#[test]
fn a_short_audit_retention_is_refused_at_start() {
    let dir = std::env::temp_dir().join(format!("hongji-retention-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_hongji"))
        .args(["serve", "--audit-retention-days", "90", "--listen", "127.0.0.1:0"])
        .env("HONGJI_DATA_DIR", &dir)
        .output()
        .expect("run hongji");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 184 days"));
    assert!(!dir.exists(), "refused before anything is created");
}
