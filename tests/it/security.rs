//! Issue 11's walls: bounded request work (lists, dates, money), at rest, headers. The hostile
//! files are in `import_export` (imports) and `life` (uploads).

use crate::both;
use crate::support::App;
use reqwest::{Method, StatusCode};
use serde_json::json;

both!(lists_dates_and_money_have_bounds, |app: App| async move {
    let t = app.login("secretary").await;
    let (_, me) = app.get(&t, "/api/v1/me").await;
    let branch = me["grants"][0]["org_id"].as_i64().unwrap();
    for (starts, ends) in [
        ("0001-01-01T09:00", "0001-01-01T10:00"),
        ("9999-12-31T09:00", "9999-12-31T10:00"),
    ] {
        let (status, err) = app
            .post(
                &t,
                "/api/v1/meetings",
                json!({"org_id": branch, "kind": "party_lecture", "title": "x", "starts_at": starts, "ends_at": ends}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{starts}: {err}");
        assert_eq!(
            err["error"]["fields"]["starts_at"]["code"], "starts_at.out_of_range",
            "{err}"
        );
    }
    let (status, m) = app
        .post(&t, "/api/v1/meetings", json!({"org_id": branch, "kind": "party_lecture", "title": "党课", "starts_at": "2026-11-24T14:30", "ends_at": "2026-11-24T16:30"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    let id = m["id"].as_i64().unwrap();
    let (_, sheet) = app.get(&t, &format!("/api/v1/meetings/{id}/attendance")).await;
    let member = sheet["items"][0]["member_id"].as_i64().unwrap();
    let mark = json!({"member_id": member, "status": "present"});
    let path = format!("/api/v1/meetings/{id}/attendance");
    let (status, err) = app
        .call(Method::PUT, &path, Some(&t), Some(json!([mark, mark, mark])))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert!(
        err["error"]["fields"]["member_id"]["code"]
            .as_str()
            .unwrap()
            .ends_with("repeated"),
        "{err}"
    );
    let flood: Vec<_> = (1..=20_001)
        .map(|i| json!({"member_id": i, "status": "present"}))
        .collect();
    let started = std::time::Instant::now();
    let (status, err) = app.call(Method::PUT, &path, Some(&t), Some(json!(flood))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert!(
        err["error"]["fields"]["member_id"]["code"]
            .as_str()
            .unwrap()
            .contains("too_many_items"),
        "{err}"
    );
    eprintln!("20,001 marks refused in {:?}", started.elapsed());
    let (_, after) = app.get(&t, &path).await;
    assert_eq!(after["items"], sheet["items"], "nothing was written");

    let (status, err) = app
        .get(
            &t,
            "/api/v1/dues/calculate?category=employed&base_fen=46116860184273880",
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
});

/// Limits answer 429 with Retry-After and `rate_limited` (JSON for the API, a page for browsers),
/// are audited once, and are per session and per address; HTTPS deployments send HSTS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_meet_the_limits_and_https_gets_hsts() {
    use crate::support::Backend;
    let app = App::start_with(Backend::Sqlite, |state| {
        state.secure_cookies = true;
        state.limits = std::sync::Arc::new(server::limits::Limits::new(server::limits::Settings {
            per_ip: 1_000,
            per_account: 40,
            sensitive: 5,
            login: 6,
            trusted_proxies: Vec::new(),
        }));
    })
    .await;
    let t = app.login("secretary").await;
    let res = app.http.get(format!("{}/login", app.base)).send().await.unwrap();
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    // Searching is sensitive: the sixth search in a minute is refused, browsing is not.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(app.get(&t, "/api/v1/members?q=王").await.0);
    }
    assert_eq!(statuses[..5], [StatusCode::OK; 5], "{statuses:?}");
    let res = app
        .http
        .get(format!("{}/api/v1/members?q=王", app.base))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(app.get(&t, "/api/v1/me").await.0, StatusCode::OK);
    // The account's whole allowance.
    let mut last = StatusCode::OK;
    for _ in 0..40 {
        last = app.get(&t, "/api/v1/me").await.0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    // A new session of the same account counts on its own only until it is seen to be theirs.
    let again = app.login("secretary").await;
    assert_eq!(app.get(&again, "/api/v1/me").await.0, StatusCode::OK);
    assert_eq!(
        app.get(&again, "/api/v1/me").await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "the account's sessions share one allowance"
    );
    let other = app.login("committee").await;
    assert_eq!(
        app.get(&other, "/api/v1/me").await.0,
        StatusCode::OK,
        "another account is not slowed"
    );
    // Sign-in attempts from one address.
    let mut codes = Vec::new();
    for _ in 0..6 {
        let (status, _) = app
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": "nobody", "password": "wrong"})),
            )
            .await;
        codes.push(status);
    }
    assert!(codes.contains(&StatusCode::TOO_MANY_REQUESTS), "{codes:?}");
    let res = app
        .http
        .post(format!("{}/login", app.base))
        .header("sec-fetch-site", "same-origin")
        .form(&[("username", "nobody"), ("password", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("操作过于频繁") && page.contains("秒后再试"),
        "the page says when: {page}"
    );
    // Audited, once per class and address however long the flood.
    let (n,): (i64,) = app
        .store
        .db
        .one(store::db::Q::new(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'rate_limited'",
        ))
        .await
        .unwrap();
    assert_eq!(n, 3, "sensitive, general and login, once each");
}

// A submitter never decides their own submission: committee staff's notice from the top committee
// (which reviews itself, having no parent) waits for someone else. Reviews outside one's scope
// answer 404, not 403.
both!(no_one_decides_their_own_submission, |app: App| async move {
    let c = app.login("committee").await;
    let (_, me) = app.get(&c, "/api/v1/me").await;
    let root = me["grants"][0]["org_id"].as_i64().unwrap();
    let (status, notice) = app
        .post(
            &c,
            "/api/v1/notices",
            json!({"org_id": root, "title": "自审测试", "body": "正文", "to_org_ids": []}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{notice}");
    let (_, waiting) = app.get(&c, "/api/v1/reviews/pending").await;
    let review = waiting["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "notice" && r["subject_id"] == notice["id"])
        .unwrap_or_else(|| panic!("{waiting}"))
        .clone();
    let (status, err) = app
        .post(&c, &format!("/api/v1/reviews/{}/approve", review["id"]), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert_eq!(err["error"]["code"], "review.own_submission");
    let t = app.login("secretary").await;
    let (status, _) = app
        .post(&t, &format!("/api/v1/reviews/{}/approve", review["id"]), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "outside the secretary's scope");
});

// The daily security watch: the report's figures are what happened, the security administrator
// alone reads and acknowledges it, a backup and a broken chain show in the next one.
both!(the_daily_security_report, |app: App| async move {
    use store::security;
    let db = &app.store.db;
    let on = security::report_day(store::clock::now());
    let sec = app.login("secadmin").await;
    let c = app.login("committee").await;
    for n in 0..12 {
        let (status, _) = app
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": format!("guess{n}"), "password": "Wrong-Pass-1"})),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (_, user) = app
        .post(
            &sec,
            "/api/v1/users",
            json!({"username": "li.watch", "display_name": "李监", "password": "Temp-Pass-01"}),
        )
        .await;
    let branch = app.org_id(&c, "法学院教工党支部").await;
    let (status, grant) = app
        .post(
            &sec,
            &format!("/api/v1/users/{}/grants", user["id"]),
            json!({"role": "viewer", "org_id": branch}),
        )
        .await;
    assert_eq!(
        (status, grant["pending"].as_bool()),
        (StatusCode::CREATED, Some(true)),
        "{grant}"
    );

    let report = security::write(db, &store::Caller::system("test"), on).await.unwrap();
    let f = report.figures.clone().unwrap();
    assert!(f.chain.intact, "{:?}", f.chain);
    let failed = f.counts.iter().find(|n| n.what == "failed_logins").unwrap();
    assert_eq!((failed.count, failed.unusual), (12, true), "{failed:?}");
    let kinds: Vec<(&str, Option<&str>)> = f
        .incidents
        .iter()
        .map(|i| (i.kind.as_str(), i.what.as_deref()))
        .collect();
    assert!(kinds.contains(&("unusual", Some("failed_logins"))), "{kinds:?}");
    assert!(kinds.contains(&("no_backup", None)), "{kinds:?}");
    assert!(f
        .pending_grants
        .iter()
        .any(|g| g.username == "li.watch" && g.role == "viewer"));
    assert!(f.grant_changes.iter().any(|l| l.action == "grant.create"));
    assert!(f.new_accounts.iter().any(|l| l.target_id == user["id"].to_string()));
    assert_eq!(report.incidents, f.incidents.len() as i64);

    // Through the API: listed unacknowledged, read with figures, for the security administrator only.
    let (_, list) = app.get(&sec, "/api/v1/security/reports?unacknowledged=true").await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == report.id && r["figures"].is_null()),
        "{list}"
    );
    let path = format!("/api/v1/security/reports/{}", report.id);
    let (status, full) = app.get(&sec, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(full["figures"]["counts"][0]["what"], "failed_logins");
    assert_eq!(app.get(&c, &path).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&sec, "/api/v1/security/reports/1").await.0,
        StatusCode::NOT_FOUND
    );

    // In the browser: on the home page until acknowledged, with a note that is escaped.
    let b = app.browser("secadmin").await;
    let home = app.page(&b, "/").await;
    assert!(
        home.contains(&format!("/security/{}", report.id)),
        "the home page lists it"
    );
    let page = app.page(&b, &format!("/security/{}", report.id)).await;
    assert!(page.contains("登录失败") && page.contains("李监 (li.watch)") && page.contains("7 天内没有备份"));
    assert!(
        page.contains("只读查看") && page.contains("法学院教工党支部"),
        "the grant in words: role and organization"
    );
    assert!(
        !page.contains("grant.create") && !page.contains("role=viewer"),
        "no codes"
    );
    // Acknowledged in the browser: the form answers with a redirect to the page, which says so.
    let res = b
        .post(format!("{}/security/{}/ack", app.base, report.id))
        .header("sec-fetch-site", "same-origin")
        .form(&[("note", "<b>checked</b> the guesses: one address, blocked")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.url().path(),
        format!("/security/{}", report.id),
        "redirected back to the report"
    );
    assert_eq!(res.url().query(), Some("acked=1"));
    assert!(res.text().await.unwrap().contains("已确认这份安全报告"));
    let (_, acked) = app.get(&sec, &path).await;
    assert_eq!(acked["acked_by"], "安全管理员");
    let (status, again) = app.post(&sec, &format!("{path}/ack"), json!({})).await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("security.report.acknowledged"))
    );
    let page = app.page(&b, &format!("/security/{}", report.id)).await;
    assert!(
        page.contains("&#60;b&#62;checked") && !page.contains("<b>checked"),
        "the note is escaped"
    );
    let home = app.page(&b, "/").await;
    assert!(
        !home.contains(&format!("/security/{}", report.id)),
        "acknowledged, it leaves the home page"
    );

    // A backup today is listed and ends that incident; a broken chain is the first incident.
    let out = app.data_dir.join("backup-today");
    store::backup::make(&app.store, &app.database_url, &app.data_dir.join("files"), &out)
        .await
        .unwrap();
    let report = security::write(db, &store::Caller::system("test"), on).await.unwrap();
    let f = report.figures.unwrap();
    assert_eq!(f.backups.len(), 1);
    assert!(
        f.last_backup.is_some() && !f.incidents.iter().any(|i| i.kind == "no_backup"),
        "{:?}",
        f.incidents
    );
    assert!(report.acked_at.is_none(), "written again, it is to be read again");
    db.exec(store::db::Q::new(
        "UPDATE audit_log SET detail = 'edited' WHERE seq = 3",
    ))
    .await
    .unwrap();
    let f = security::write(db, &store::Caller::system("test"), on)
        .await
        .unwrap()
        .figures
        .unwrap();
    assert!(!f.chain.intact);
    assert_eq!(f.incidents[0].kind, "chain_broken");
    assert!(f.incidents[0].detail.contains("entry 3"), "{:?}", f.incidents[0]);
});

both!(the_nightly_report_waits_for_22_and_runs_once, |app: App| async move {
    use store::security;
    let db = &app.store.db;
    let today = store::clock::today();
    let (_, ten_pm) = security::window(today);
    let before = security::run_nightly(db, "a", ten_pm - chrono::Duration::minutes(1))
        .await
        .unwrap();
    assert!(before.is_none(), "not before 22:00");
    let first = security::run_nightly(db, "a", ten_pm)
        .await
        .unwrap()
        .expect("at 22:00 one server writes it");
    assert_eq!((first.report_on, first.made_by.as_str()), (today, "cli:job"));
    assert!(
        security::run_nightly(db, "b", ten_pm + chrono::Duration::minutes(10))
            .await
            .unwrap()
            .is_none(),
        "once a day"
    );
    let sec = app.login("secadmin").await;
    let (_, list) = app.get(&sec, "/api/v1/security/reports").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
});

/// Operators' metrics open only with the configured token, count routes by their template (no
/// record's id, no person), and do not exist where no token is configured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_the_token_and_name_no_record() {
    use crate::support::Backend;
    let app = App::start_with(Backend::Sqlite, |state| {
        state.metrics_token = Some("metrics-secret-2026".into());
    })
    .await;
    let t = app.login("secretary").await;
    let branch = app.get(&t, "/api/v1/me").await.1["grants"][0]["org_id"]
        .as_i64()
        .unwrap();
    let member = app.some_member(&t, branch).await;
    let id = member["id"].as_i64().unwrap();
    let (status, _) = app.get(&t, &format!("/api/v1/members/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let metrics = |token: Option<&str>| {
        let mut req = app.http.get(format!("{}/metrics", app.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send()
    };
    assert_eq!(metrics(None).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        metrics(Some("metrics-secret-2025")).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let res = metrics(Some("metrics-secret-2026")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert!(
        text.contains(r#"hongji_requests_total{method="GET",route="/api/v1/members/{id}",status="2xx"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"hongji_request_seconds_count{route="/api/v1/members/{id}"} 1"#));
    assert!(text.contains("hongji_db_connections_max"));
    assert!(!text.contains(&id.to_string()), "no record's id");
    assert!(!text.contains(member["name"].as_str().unwrap()), "no person");

    let plain = App::start(Backend::Sqlite).await;
    let res = plain.http.get(format!("{}/metrics", plain.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "no token, no metrics");
}
