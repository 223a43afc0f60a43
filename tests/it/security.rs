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
