use crate::both;
use crate::support::App;
use reqwest::StatusCode;
use serde_json::json;
use store::db::Q;

both!(
    writes_and_sensitive_reads_are_chained_and_verified,
    |app: App| async move {
        let t = app.login("secretary").await;
        let (_, me) = app.get(&t, "/api/v1/me").await;
        let branch = me["grants"][0]["org_id"].as_i64().unwrap();
        let m = app.some_member(&t, branch).await;
        app.patch(
            &t,
            &format!("/api/v1/members/{}", m["id"]),
            json!({"post": "审计测试职务"}),
        )
        .await;
        app.post(&t, &format!("/api/v1/members/{}/reveal", m["id"]), json!({}))
            .await;
        app.get(&t, "/api/v1/members/export.csv").await;
        let auditor = app.login("auditor").await;
        let (status, log) = app.get(&auditor, "/api/v1/audit?actor=secretary").await;
        assert_eq!(status, StatusCode::OK);
        let actions: Vec<&str> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            &actions[..4],
            ["member.export", "member.reveal", "member.update", "auth.login"],
            "{actions:?}"
        );
        let entry = &log["items"][0];
        assert_eq!(entry["ip"], "127.0.0.1");
        assert_eq!(entry["result"], "ok");
        assert!(entry["detail"].as_str().unwrap().contains("format=csv"));
        // Refusals are recorded too.
        let (status, _) = app.get(&t, "/api/v1/audit").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (_, denied) = app.get(&auditor, "/api/v1/audit?result=denied&actor=secretary").await;
        assert_eq!(denied["items"][0]["action"], "audit.read");

        assert!(store::audit::verify(&app.store.db).await.unwrap().is_ok());
        // Edit one entry: verification names it.
        let (seq,): (i64,) = app
            .store
            .db
            .one(Q::new("SELECT seq FROM audit_log WHERE action = 'member.reveal'"))
            .await
            .unwrap();
        app.store
            .db
            .exec(Q::new("UPDATE audit_log SET actor = 'someone' WHERE seq = $1").bind(seq))
            .await
            .unwrap();
        assert_eq!(
            store::audit::verify(&app.store.db).await.unwrap(),
            Err(store::audit::Broken::Edited(seq))
        );
    }
);

both!(removal_and_truncation_are_detected, |app: App| async move {
    let (last,): (i64,) = app
        .store
        .db
        .one(Q::new("SELECT MAX(seq) FROM audit_log"))
        .await
        .unwrap();
    assert!(last > 5);
    app.store
        .db
        .exec(Q::new("DELETE FROM audit_log WHERE seq = 3"))
        .await
        .unwrap();
    assert_eq!(
        store::audit::verify(&app.store.db).await.unwrap(),
        Err(store::audit::Broken::Gap { expected: 3, found: 4 })
    );
    let other = crate::support::App::start(if app.store.db.is_postgres() {
        crate::support::Backend::Postgres
    } else {
        crate::support::Backend::Sqlite
    })
    .await;
    let (last,): (i64,) = other
        .store
        .db
        .one(Q::new("SELECT MAX(seq) FROM audit_log"))
        .await
        .unwrap();
    other
        .store
        .db
        .exec(Q::new("DELETE FROM audit_log WHERE seq = $1").bind(last))
        .await
        .unwrap();
    assert_eq!(
        store::audit::verify(&other.store.db).await.unwrap(),
        Err(store::audit::Broken::Head {
            head_seq: last,
            last_seq: last - 1
        })
    );
});
