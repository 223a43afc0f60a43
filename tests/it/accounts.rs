use crate::both;
use crate::support::App;
use reqwest::{Method, StatusCode};
use serde_json::json;
use store::db::Q;

both!(login_lockout_and_unlock, |app: App| async move {
    let (status, err) = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "member", "password": "wrong"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(err["error"]["code"], "auth.bad_credentials");
    for _ in 0..3 {
        app.call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "member", "password": "wrong"})),
        )
        .await;
    }
    let (status, err) = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "member", "password": "wrong"})),
        )
        .await;
    assert_eq!(status, StatusCode::LOCKED, "the fifth failure locks: {err}");
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "member", "password": crate::support::PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::LOCKED, "even the right password waits 15 minutes");
    let sec = app.login("secadmin").await;
    let (_, users) = app.get(&sec, "/api/v1/users").await;
    let member = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "member")
        .unwrap()
        .clone();
    assert!(member["locked_until"].is_string());
    let (status, _) = app
        .post(&sec, &format!("/api/v1/users/{}/unlock", member["id"]), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    app.login("member").await;
    // Unknown names fail and lock exactly as a known one does (the lockout does not tell which
    // accounts exist), and the failures are audited without the name or the password.
    let attempt = |name: &'static str| {
        let app = &app;
        async move {
            let (status, body) = app
                .call(
                    Method::POST,
                    "/api/v1/auth/login",
                    None,
                    Some(json!({"username": name, "password": "Secret-123"})),
                )
                .await;
            (status, body["error"]["code"].as_str().unwrap_or_default().to_string())
        }
    };
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..5 {
        known.push(attempt("member").await);
        unknown.push(attempt("nobody").await);
    }
    assert_eq!(known, unknown);
    assert_eq!(
        unknown[0],
        (StatusCode::UNAUTHORIZED, "auth.bad_credentials".to_string())
    );
    assert_eq!(
        unknown[4],
        (StatusCode::LOCKED, "auth.locked".to_string()),
        "{unknown:?}"
    );
    // A different unknown name has its own count.
    assert_eq!(attempt("nobody2").await.0, StatusCode::UNAUTHORIZED);
    let auditor = app.login("auditor").await;
    let (_, log) = app
        .get(&auditor, "/api/v1/audit?action=auth.login&result=failed&limit=50")
        .await;
    let text = log.to_string();
    assert!(
        text.contains("unknown#")
            && !text.contains("nobody")
            && !text.contains("Secret-123")
            && !text.contains("wrong"),
        "{text}"
    );
});

both!(accounts_passwords_phones_and_tokens, |app: App| async move {
    let sec = app.login("secadmin").await;
    let (status, err) = app
        .post(
            &sec,
            "/api/v1/users",
            json!({"username": "zhang", "password": "simplepass"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["fields"]["password"]["code"], "password.too_simple");
    let (status, user) = app
        .post(
            &sec,
            "/api/v1/users",
            json!({"username": "zhang", "display_name": "张老师", "phone": "13700001234", "password": "Temp-Pass-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    assert_eq!(user["must_change_password"], true);
    assert_eq!(user["phone_masked"], "137****1234");
    let (status, _) = app
        .post(
            &sec,
            "/api/v1/users",
            json!({"username": "zhang", "password": "Temp-Pass-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "usernames are unique");
    let c = app.login("committee").await;
    let branch = app.org_id(&c, "法学院教工党支部").await;
    let (status, grant) = app
        .post(
            &sec,
            &format!("/api/v1/users/{}/grants", user["id"]),
            json!({"role": "viewer", "org_id": branch}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{grant}");

    // Two people for personal data: the grant waits, reaching nothing, until staff above confirm it.
    assert_eq!(grant["pending"], true, "{grant}");
    let (_, zhang) = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "zhang", "password": "Temp-Pass-01"})),
        )
        .await;
    let z = zhang["token"].as_str().unwrap().to_string();
    let (status, _) = app.get(&z, &format!("/api/v1/members?org_id={branch}")).await;
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
        "{status}"
    );
    let (_, waiting) = app.get(&c, "/api/v1/reviews/pending").await;
    let review = waiting["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "grant" && r["subject_id"] == grant["id"])
        .unwrap_or_else(|| panic!("the grant's review waits for the committee: {waiting}"))
        .clone();
    assert!(review["title"].as_str().unwrap().contains("只读查看"), "{review}");
    let (status, _) = app
        .post(&sec, &format!("/api/v1/reviews/{}/approve", review["id"]), json!({}))
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the security administrator cannot confirm it"
    );
    let (status, done) = app
        .post(&c, &format!("/api/v1/reviews/{}/approve", review["id"]), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let (_, users) = app.get(&sec, "/api/v1/users").await;
    assert!(users.to_string().contains("\"pending\":false"), "{users}");

    // Sign in by phone; change the password; old sessions end, this one stays.
    let (status, login) = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "137 0000 1234", "password": "Temp-Pass-01"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let other = login["token"].as_str().unwrap().to_string();
    let (_, login2) = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "zhang", "password": "Temp-Pass-01"})),
        )
        .await;
    let t = login2["token"].as_str().unwrap().to_string();
    let (status, err) = app
        .post(
            &t,
            "/api/v1/me/password",
            json!({"current_password": "Temp-Pass-01", "new_password": "short"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (status, _) = app
        .post(
            &t,
            "/api/v1/me/password",
            json!({"current_password": "Temp-Pass-01", "new_password": "New-Pass-2026"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&t, "/api/v1/me").await.1["must_change_password"], false);
    assert_eq!(app.get(&other, "/api/v1/me").await.0, StatusCode::UNAUTHORIZED);
    // The viewer reads the branch, masked, and cannot reveal or write.
    let m = app.some_member(&t, branch).await;
    assert_eq!(
        app.post(&t, &format!("/api/v1/members/{}/reveal", m["id"]), json!({}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.patch(&t, &format!("/api/v1/members/{}", m["id"]), json!({"post": "x"}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // API tokens: shown once, stored hashed, revocable.
    let (status, created) = app.post(&t, "/api/v1/tokens", json!({"name": "报表系统"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let secret = created["token"].as_str().unwrap().to_string();
    assert!(secret.starts_with("hjt_"));
    assert_eq!(
        app.get(&secret, &format!("/api/v1/orgs/{branch}")).await.0,
        StatusCode::OK
    );
    let stored: Vec<(Vec<u8>,)> = app
        .store
        .db
        .all(Q::new("SELECT token_hash FROM api_tokens"))
        .await
        .unwrap();
    assert!(stored
        .iter()
        .all(|(h,)| !String::from_utf8_lossy(h).contains(&secret[4..])));
    let (status, _) = app
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{}", created["item"]["id"]),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&secret, "/api/v1/me").await.0, StatusCode::UNAUTHORIZED);

    // The security administrator resets a password: the user must change it again.
    let (status, _) = app
        .post(
            &sec,
            &format!("/api/v1/users/{}/reset-password", user["id"]),
            json!({"password": "Reset-Pass-99"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&t, "/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED,
        "sessions end on reset"
    );
    let (_, again) = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "zhang", "password": "Reset-Pass-99"})),
        )
        .await;
    assert_eq!(again["user"]["must_change_password"], true);
});

both!(
    idle_sessions_end_and_cross_site_posts_are_refused,
    |app: App| async move {
        let t = app.login("committee").await;
        assert_eq!(app.get(&t, "/api/v1/me").await.0, StatusCode::OK);
        let stale = store::db::instant_text(store::clock::now() - chrono::Duration::minutes(31));
        app.store
            .db
            .exec(Q::new("UPDATE sessions SET last_seen_at = $1").bind(stale))
            .await
            .unwrap();
        // Thirty minutes on, the caller is no longer remembered (see store::callers).
        app.store.db.callers().forget();
        let (status, err) = app.get(&t, "/api/v1/me").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(err["error"]["code"], "auth.required");

        // A cookie-carried write from another site is refused; from our own pages it passes.
        let t = app.login("committee").await;
        let root = app.org_id(&t, "浙江开放大学委员会").await;
        let cookie = format!("hj_session={t}");
        let body = json!({"parent_id": root, "name": "跨站", "kind": "branch", "established_on": "2020-01-01"});
        let res = app
            .http
            .post(format!("{}/api/v1/orgs", app.base))
            .header("cookie", &cookie)
            .header("sec-fetch-site", "cross-site")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = app
            .http
            .post(format!("{}/api/v1/orgs", app.base))
            .header("cookie", &cookie)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::FORBIDDEN,
            "no Origin and no Sec-Fetch-Site: refused"
        );
        let res = app
            .http
            .post(format!("{}/api/v1/orgs", app.base))
            .header("cookie", &cookie)
            .header("sec-fetch-site", "same-origin")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        // Security headers on every answer.
        let res = app.http.get(format!("{}/login", app.base)).send().await.unwrap();
        assert!(res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'"));
        assert_eq!(res.headers()["x-frame-options"], "DENY");
    }
);

both!(openapi_document_is_served, |app: App| async move {
    let (status, doc) = app.call(Method::GET, "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/v1/auth/login",
        "/api/v1/orgs",
        "/api/v1/members",
        "/api/v1/members/{id}/reveal",
        "/api/v1/audit",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    assert_eq!(app.call(Method::GET, "/healthz", None, None).await.0, StatusCode::OK);
    let (status, err) = app.call(Method::GET, "/api/v1/nothing-here", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["error"]["code"], "not_found");
});
