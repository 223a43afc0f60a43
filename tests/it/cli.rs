//! The command line: import, export, audit verify and create-user, run as a user would.

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
