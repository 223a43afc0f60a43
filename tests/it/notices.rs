//! Notices to members (党务公开): drafted, approved through the review chain, published to a
//! subtree or chosen organizations, read receipts; nothing is seen before the last approval.

use crate::both;
use crate::support::{App, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;
use store::{Caller, Role};

both!(
    a_notice_is_seen_only_after_approval_and_reads_are_counted,
    |app: App| async move {
        let t = app.login("secretary").await;
        let c = app.login("committee").await;
        let m = app.login("member").await;
        let (_, me) = app.get(&t, "/api/v1/me").await;
        let branch = me["grants"][0]["org_id"].as_i64().unwrap();

        let (status, e) = app
            .post(&t, "/api/v1/notices", json!({"org_id": branch, "title": " "}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["error"]["fields"]["title"]["code"], "title.required");
        assert_eq!(e["error"]["fields"]["body"]["code"], "body.required");
        let other = app.org_id(&c, "法学院学生党支部").await;
        let (status, _) = app
            .post(
                &t,
                "/api/v1/notices",
                json!({"org_id": other, "title": "x", "body": "y"}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "not the secretary's organization"
        );

        let (status, n) = app
        .post(&t, "/api/v1/notices", json!({"org_id": branch, "title": "关于收缴 2026 年第四季度党费的通知", "body": "请各位党员于 12 月 10 日前交纳。<script>alert(1)</script>"}))
        .await;
        assert_eq!(status, StatusCode::CREATED, "{n}");
        assert_eq!(n["status"], "reviewing");
        let id = n["id"].as_i64().unwrap();
        let (_, mine) = app.get(&m, "/api/v1/notices").await;
        assert!(
            !mine["items"].as_array().unwrap().iter().any(|x| x["id"] == id),
            "not before approval"
        );
        assert_eq!(
            app.get(&m, &format!("/api/v1/notices/{id}")).await.0,
            StatusCode::NOT_FOUND
        );

        let (_, pending) = app.get(&c, "/api/v1/reviews/pending").await;
        let rid = pending["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == "notice" && r["subject_id"] == id)
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let (status, v) = app.post(&c, &format!("/api/v1/reviews/{rid}/approve"), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{v}");

        let (_, mine) = app.get(&m, "/api/v1/notices").await;
        let item = mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == id)
            .unwrap()
            .clone();
        assert_eq!(
            (item["status"].as_str(), item["read"].as_bool()),
            (Some("published"), Some(false))
        );
        let (_, before) = app.get(&t, &format!("/api/v1/notices/{id}")).await;
        assert_eq!(before["receipts"]["read"], 0);
        assert!(before["receipts"]["reached"].as_i64().unwrap() >= 2, "{before}");
        let (status, opened) = app.get(&m, &format!("/api/v1/notices/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(opened["notice"]["read"], true);
        assert_eq!(
            opened["receipts"],
            serde_json::Value::Null,
            "members do not see receipts"
        );
        let (_, after) = app.get(&t, &format!("/api/v1/notices/{id}")).await;
        assert_eq!(after["receipts"]["read"], 1);

        // A member of another branch is not reached.
        let sec = Caller::system_as("test", Role::SecurityAdmin);
        let outsider = app.some_member(&c, other).await["id"].as_i64().unwrap();
        store::accounts::create_user(
            &app.store.db,
            &app.store.keys,
            &sec,
            &store::accounts::NewUser {
                username: "faxue".into(),
                display_name: "法学院学生".into(),
                phone: None,
                password: PASSWORD.into(),
                member_id: Some(outsider),
            },
            false,
        )
        .await
        .unwrap();
        let o = app.login("faxue").await;
        let (_, theirs) = app.get(&o, "/api/v1/notices").await;
        assert!(!theirs["items"].as_array().unwrap().iter().any(|x| x["id"] == id));
        assert_eq!(
            app.get(&o, &format!("/api/v1/notices/{id}")).await.0,
            StatusCode::NOT_FOUND
        );

        // Returned with a comment: never published.
        let (_, n2) = app
            .post(
                &t,
                "/api/v1/notices",
                json!({"org_id": branch, "title": "草稿", "body": "待修改"}),
            )
            .await;
        let id2 = n2["id"].as_i64().unwrap();
        let (_, pending) = app.get(&c, "/api/v1/reviews/pending").await;
        let rid2 = pending["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["subject_id"] == id2)
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        app.post(
            &c,
            &format!("/api/v1/reviews/{rid2}/return"),
            json!({"comment": "请写明交纳方式"}),
        )
        .await;
        let (_, got) = app.get(&t, &format!("/api/v1/notices/{id2}")).await;
        assert_eq!(got["notice"]["status"], "returned");
        assert_eq!(got["review"]["decisions"][0]["comment"], "请写明交纳方式");
        let (_, mine) = app.get(&m, "/api/v1/notices").await;
        assert!(!mine["items"].as_array().unwrap().iter().any(|x| x["id"] == id2));
    }
);
