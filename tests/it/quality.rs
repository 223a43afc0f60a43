//! Data quality (数据质量): the validators find what the forms would refuse in records that arrived
//! otherwise, count them per organization as figures, show a masked sample, warn the organization
//! below the threshold, and a correction through the normal edit clears the failure at once.

use crate::both;
use crate::support::App;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashMap;
use store::db::Q;

async fn report(app: &App, token: &str, org: i64) -> Value {
    let (status, r) = app.get(token, &format!("/api/v1/orgs/{org}/data-quality")).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    r
}

fn failed(r: &Value) -> HashMap<String, i64> {
    r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["check"].as_str().unwrap().to_string(), c["failed"].as_i64().unwrap()))
        .collect()
}

both!(
    stored_records_are_checked_counted_sampled_and_cleared_by_a_correction,
    |app: App| async move {
        let (db, keys) = (&app.store.db, &app.store.keys);
        let t = app.login("secretary").await;
        let c = app.login("committee").await;
        let root = app.org_id(&c, "浙江开放大学委员会").await;
        let branch = app.get(&t, "/api/v1/me").await.1["grants"][0]["org_id"]
            .as_i64()
            .unwrap();
        store::quality::run(db, keys).await.unwrap();
        let before = failed(&report(&app, &t, branch).await);
        assert_eq!(before.len(), 8, "{before:?}");

        // Records changed behind the forms' back, as a bulk load or a migration would leave them.
        let ids: Vec<(i64, String)> = db
            .all(
                Q::new("SELECT id, name FROM members WHERE org_id = $1 AND status = 'active' AND category = 'full' ORDER BY id LIMIT 5")
                    .bind(branch),
            )
            .await
            .unwrap();
        assert_eq!(ids.len(), 5);
        let set = |sql: &'static str, id: i64| Q::new(sql).bind(id);
        for (sql, (id, _)) in [
            ("UPDATE members SET birth_date = '1901-01-01' WHERE id = $1", &ids[0]),
            ("UPDATE members SET joined_on = birth_date WHERE id = $1", &ids[1]),
            ("UPDATE members SET full_member_on = NULL WHERE id = $1", &ids[2]),
            ("UPDATE members SET education = NULL WHERE id = $1", &ids[3]),
        ] {
            db.exec(set(sql, *id)).await.unwrap();
        }
        let (bad_id, _) = &ids[4];
        let mut number: String = keys
            .decrypt(
                &format!("members.id_number:{bad_id}"),
                &db.one::<(Vec<u8>,)>(Q::new("SELECT id_number_enc FROM members WHERE id = $1").bind(*bad_id))
                    .await
                    .unwrap()
                    .0,
            )
            .unwrap();
        let last = number.pop().unwrap();
        number.push(if last == '0' { '1' } else { '0' });
        db.exec(
            Q::new("UPDATE members SET id_number_enc = $1 WHERE id = $2")
                .bind(keys.encrypt(&format!("members.id_number:{bad_id}"), &number))
                .bind(*bad_id),
        )
        .await
        .unwrap();

        let run = store::quality::run(db, keys).await.unwrap();
        assert!(run.checked > 1000, "every active member: {run:?}");
        let r = report(&app, &t, branch).await;
        let after = failed(&r);
        for check in [
            "id_agrees",
            "joined_18",
            "full_after_year",
            "education_missing",
            "id_checksum",
        ] {
            assert!(after[check] > before[check], "{check}: {before:?} → {after:?}");
        }
        // joined_on = birth date also fails full_after_year? No: the full date is a year on. Each
        // corruption adds exactly its own failures.
        assert_eq!(after["education_missing"], before["education_missing"] + 1);
        assert_eq!(after["id_checksum"], before["id_checksum"] + 1);
        let check = |name: &str| {
            r["checks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["check"] == name)
                .unwrap()
                .clone()
        };
        let education = check("education_missing");
        let sample = education["sample"].as_array().unwrap();
        assert!(!sample.is_empty());
        let (missing_id, missing_name) = &ids[3];
        assert!(
            sample.iter().all(|s| s["name"].as_str().unwrap().ends_with('*')),
            "names masked: {sample:?}"
        );
        assert!(
            !r.to_string().contains(missing_name.as_str()) || missing_name.chars().count() < 2,
            "no full name"
        );
        assert!(
            sample
                .iter()
                .any(|s| s["link"] == format!("/members/{missing_id}/edit"))
                || sample.len() == 5,
            "{sample:?}"
        );
        // The branch is below the threshold (a failure among its members is over 1%): a warning.
        let (_, warnings) = app.get(&c, &format!("/api/v1/orgs/{root}/warnings?kind=quality")).await;
        assert!(
            warnings["rows"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w["owner_id"].as_i64() == Some(branch) && w["link"] == format!("/orgs/{branch}/data-quality")),
            "{warnings}"
        );
        // The committee sees the branch's failures in its subtree's counts.
        let whole = failed(&report(&app, &c, root).await);
        assert!(whole["education_missing"] >= after["education_missing"]);

        // A correction through the normal edit clears it at once, no run needed.
        let (status, m) = app
            .patch(
                &t,
                &format!("/api/v1/members/{missing_id}"),
                json!({"education": "bachelor"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{m}");
        let fixed = failed(&report(&app, &t, branch).await);
        assert_eq!(fixed["education_missing"], before["education_missing"]);

        // A person recorded twice (an applicant with a member's ID number) is shown to the
        // organization above both.
        let file: Option<(i64, String)> = db
            .opt(Q::new("SELECT id, org_path FROM development_files WHERE status = 'open' AND org_id <> $1 ORDER BY id LIMIT 1").bind(branch))
            .await
            .unwrap();
        let (file, _) = file.expect("the demo has applicants in another branch");
        db.exec(
            Q::new("UPDATE development_files SET id_number_bi = (SELECT id_number_bi FROM members WHERE id = $1) WHERE id = $2")
                .bind(ids[1].0)
                .bind(file),
        )
        .await
        .unwrap();
        store::quality::run(db, keys).await.unwrap();
        assert_eq!(
            failed(&report(&app, &c, root).await)["duplicate"],
            whole["duplicate"] + 1
        );
        assert_eq!(
            failed(&report(&app, &t, branch).await)["duplicate"],
            0,
            "not shown to one side"
        );

        // Members left in a dissolved organization (as a load from an older system leaves them):
        // each is found, and a save after the organization is restored clears it at once.
        let (active,): (i64,) = db
            .one(Q::new("SELECT COUNT(*) FROM members WHERE org_id = $1 AND status = 'active'").bind(branch))
            .await
            .unwrap();
        let dissolve = |on: Option<&'static str>| {
            Q::new("UPDATE orgs SET dissolved_on = $1 WHERE id = $2")
                .bind(on.map(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()))
                .bind(branch)
        };
        let whole = failed(&report(&app, &c, root).await);
        db.exec(dissolve(Some("2026-01-01"))).await.unwrap();
        store::quality::run(db, keys).await.unwrap();
        let dissolved = failed(&report(&app, &c, root).await);
        assert_eq!(
            dissolved["dissolved_org"],
            whole["dissolved_org"] + active,
            "{dissolved:?}"
        );
        db.exec(dissolve(None)).await.unwrap();
        let (status, m) = app
            .patch(
                &t,
                &format!("/api/v1/members/{missing_id}"),
                json!({"education": "master"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{m}");
        assert_eq!(
            failed(&report(&app, &c, root).await)["dissolved_org"],
            dissolved["dissolved_org"] - 1
        );

        // The page; a member has none.
        let browser = app.browser("secretary").await;
        let page = app.page(&browser, &format!("/orgs/{branch}/data-quality")).await;
        assert!(
            page.contains("数据质量") && page.contains("未达标") && page.contains("身份证号校验位"),
            "{page}"
        );
        let m = app.login("member").await;
        let (status, _) = app.get(&m, &format!("/api/v1/orgs/{branch}/data-quality")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);
