//! Organizational life: meetings, attendance and quorum, check-in, compliance, the six-month flag.

use crate::both;
use crate::support::{pdf, App};
use reqwest::{Method, StatusCode};
use serde_json::json;

fn local(offset_minutes: i64) -> String {
    (store::clock::now() + chrono::Duration::minutes(offset_minutes)).to_rfc3339()
}

both!(plan_hold_and_record_a_meeting_with_quorum, |app: App| async move {
    let t = app.login("secretary").await;
    let (_, me) = app.get(&t, "/api/v1/me").await;
    let branch = me["grants"][0]["org_id"].as_i64().unwrap();
    let (status, m) = app
        .post(&t, "/api/v1/meetings", json!({"org_id": branch, "kind": "branch_general_meeting", "title": "第四季度支部党员大会", "starts_at": "2026-11-24T14:30", "ends_at": "2026-11-24T16:30", "location": "信息楼 301"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(
        m["starts_at"], "2026-11-24T06:30:00.000000Z",
        "local times are Beijing time"
    );
    assert_eq!(m["kinds"], json!(["branch_general_meeting"]));
    let id = m["id"].as_i64().unwrap();
    let (_, sheet) = app.get(&t, &format!("/api/v1/meetings/{id}/attendance")).await;
    let items = sheet["items"].as_array().unwrap().clone();
    let full: Vec<i64> = items
        .iter()
        .filter(|a| a["category"] == "full")
        .map(|a| a["member_id"].as_i64().unwrap())
        .collect();
    let probationary: Vec<i64> = items
        .iter()
        .filter(|a| a["category"] == "probationary")
        .map(|a| a["member_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        sheet["entitled"].as_u64().unwrap() as usize,
        full.len(),
        "probationary members are not entitled to vote"
    );
    // Exactly half of the full members present, plus every probationary member: no quorum.
    let half = full.len() / 2;
    let mut marks: Vec<_> = full
        .iter()
        .take(half)
        .map(|m| json!({"member_id": m, "status": "present"}))
        .collect();
    marks.extend(
        probationary
            .iter()
            .map(|m| json!({"member_id": m, "status": "present"})),
    );
    marks.extend(
        full.iter()
            .skip(half)
            .map(|m| json!({"member_id": m, "status": "absent", "reason": "出差"})),
    );
    let (status, sheet) = app
        .call(
            Method::PUT,
            &format!("/api/v1/meetings/{id}/attendance"),
            Some(&t),
            Some(json!(marks)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sheet}");
    if full.len() % 2 == 0 {
        assert_eq!(sheet["quorum"], false, "half is not more than half: {sheet}");
    }
    let one_more = json!([{"member_id": full[half], "status": "present"}]);
    let (_, sheet) = app
        .call(
            Method::PUT,
            &format!("/api/v1/meetings/{id}/attendance"),
            Some(&t),
            Some(one_more),
        )
        .await;
    assert_eq!(sheet["quorum"], true, "{sheet}");
    assert_eq!(sheet["present_entitled"].as_u64().unwrap() as usize, half + 1);
    let all_plain = sheet["items"].as_array().unwrap().iter().all(|a| a["proxy"] == false);
    assert!(
        all_plain,
        "without check-in, recording attendance is not signing for someone"
    );
    // Hold and archive: an archived meeting is read-only.
    let (status, held) = app
        .patch(
            &t,
            &format!("/api/v1/meetings/{id}"),
            json!({"status": "archived", "minutes": "会议讨论了……\n一致通过。", "resolutions": "通过"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{held}");
    let (status, err) = app
        .patch(&t, &format!("/api/v1/meetings/{id}"), json!({"title": "改"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["error"]["code"], "meeting.archived");

    // Online meetings carry a link; anything but an http(s) address is refused.
    let (status, online) = app.post(&t, "/api/v1/meetings", json!({"org_id": branch, "kind": "party_lecture", "title": "线上党课", "starts_at": "2026-12-01T19:00", "ends_at": "2026-12-01T20:00", "online_link": "https://meeting.example.cn/j/123"})).await;
    assert_eq!(status, StatusCode::CREATED, "{online}");
    assert_eq!(online["online_link"], "https://meeting.example.cn/j/123");
    let (status, err) = app.post(&t, "/api/v1/meetings", json!({"org_id": branch, "kind": "party_lecture", "title": "x", "starts_at": "2026-12-01T19:00", "ends_at": "2026-12-01T20:00", "online_link": "javascript:alert(1)"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["fields"]["online_link"]["code"], "online_link.invalid");

    // Bad input names the fields; another branch is out of reach.
    let (status, err) = app.post(&t, "/api/v1/meetings", json!({"org_id": branch, "kind": "party", "title": "", "starts_at": "2026-11-24T16:00", "ends_at": "2026-11-24T15:00"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let f = &err["error"]["fields"];
    assert!(
        f.get("kind").is_some() && f.get("title").is_some() && f.get("ends_at").is_some(),
        "{err}"
    );
    let c = app.login("committee").await;
    let other = app.org_id(&c, "法学院学生党支部").await;
    let (status, err) = app.post(&t, "/api/v1/meetings", json!({"org_id": other, "kind": "theme_day", "title": "x", "starts_at": "2026-11-24T14:30", "ends_at": "2026-11-24T16:30"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["fields"]["org_id"]["code"], "org_id.not_found");
    let (_, theirs) = app.get(&c, &format!("/api/v1/meetings?org_id={other}&limit=1")).await;
    let their_meeting = theirs["items"][0]["id"].as_i64().unwrap();
    assert_eq!(
        app.get(&t, &format!("/api/v1/meetings/{their_meeting}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.patch(&t, &format!("/api/v1/meetings/{their_meeting}"), json!({"title": "x"}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // The ledger of the year, as a workbook.
    let range = ledger_sheet(&app, &t, branch, 2026).await;
    assert!(range.height() > 10, "a year of meetings");
});

both!(compliance_changes_when_a_meeting_is_held, |app: App| async move {
    let c = app.login("committee").await;
    let lagging = app.org_id(&c, "组织人事党支部").await;
    // Last month, which has ended whatever today is: the lagging branch skipped its theme day.
    let last_month = chrono::Datelike::with_day(&store::clock::today(), 15).unwrap() - chrono::Months::new(1);
    let year = chrono::Datelike::year(&last_month);
    let month = last_month.format("%Y-%m").to_string();
    let (_, before) = app
        .get(&c, &format!("/api/v1/orgs/{lagging}/compliance?year={year}"))
        .await;
    let item = |v: &serde_json::Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["kind"] == "theme_day" && i["period"] == month.as_str())
            .unwrap()
            .clone()
    };
    assert_eq!(item(&before)["held"], 0);
    assert_eq!(
        item(&before)["status"],
        "overdue",
        "the lagging branch has not held last month's theme day"
    );
    let root = app.org_id(&c, "浙江开放大学委员会").await;
    let (_, overdue) = app.get(&c, &format!("/api/v1/orgs/{root}/overdue?year={year}")).await;
    assert!(
        overdue["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["org_id"] == lagging),
        "listed in the subtree's overdue items"
    );
    assert!(overdue["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["status"] == "overdue"));

    let (status, _) = app
        .post(&c, "/api/v1/meetings", json!({"org_id": lagging, "kinds": ["theme_day", "party_lecture"], "title": "主题党日暨党课", "starts_at": format!("{last_month}T09:00"), "ends_at": format!("{last_month}T11:00"), "status": "held"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, after) = app
        .get(&c, &format!("/api/v1/orgs/{lagging}/compliance?year={year}"))
        .await;
    assert_eq!(item(&after)["held"], 1);
    assert_eq!(item(&after)["status"], "on_track");

    // A local setting: party lectures every month.
    let (status, _) = app
        .call(
            Method::PUT,
            &format!("/api/v1/orgs/{lagging}/life-settings"),
            Some(&c),
            Some(json!({"frequencies": {"party_lecture": "monthly"}})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, monthly) = app
        .get(&c, &format!("/api/v1/orgs/{lagging}/compliance?year={year}"))
        .await;
    assert_eq!(
        monthly["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == "party_lecture")
            .count(),
        12
    );
    let (status, _) = app
        .call(
            Method::PUT,
            &format!("/api/v1/orgs/{lagging}/life-settings"),
            Some(&c),
            Some(json!({"frequencies": {"party_lecture": "weekly"}})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get(&c, &format!("/api/v1/orgs/{lagging}/compliance?year=99999"))
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // Terms: the most urgent first, each with its status.
    let (_, terms) = app.get(&c, &format!("/api/v1/orgs/{root}/terms")).await;
    let items = terms["items"].as_array().unwrap();
    assert!(items.len() >= 20);
    let rank = |s: &str| {
        ["overdue", "due_in3_months", "due_in6_months", "unknown", "current"]
            .iter()
            .position(|x| *x == s)
            .unwrap()
    };
    let ranks: Vec<usize> = items.iter().map(|i| rank(i["status"].as_str().unwrap())).collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{terms}");
    for i in items.iter().filter(|i| !i["term_end"].is_null()) {
        let end = chrono::NaiveDate::parse_from_str(i["term_end"].as_str().unwrap(), "%Y-%m-%d").unwrap();
        assert_eq!(i["status"] == "overdue", end <= store::clock::today(), "{i}");
    }

    // Two retired members stopped coming without a reason: flagged, nothing else.
    let retired = app.org_id(&c, "离退休第二党支部").await;
    let (_, flags) = app.get(&c, &format!("/api/v1/orgs/{retired}/absence-flags")).await;
    let flagged = flags["items"].as_array().unwrap();
    assert_eq!(flagged.len(), 2, "{flags}");
    assert!(flagged[0]["months_missed"].as_array().unwrap().len() >= 6);
    let member = app
        .get(&c, &format!("/api/v1/members/{}", flagged[0]["member_id"]))
        .await
        .1;
    assert_eq!(member["status"], "active", "a flag, never an automatic action");

    // A member's year: meetings attended and lecture hours.
    let m = app.login("member").await;
    let own = app.get(&m, "/api/v1/me").await.1["member_id"].clone();
    let (status, record) = app.get(&m, &format!("/api/v1/members/{own}/life?year={year}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(record["meetings_attended"].as_i64().unwrap() > 5, "{record}");
    assert!(record["meetings_attended"].as_i64().unwrap() <= record["meetings_expected"].as_i64().unwrap());
    assert!(
        record["lecture_hours"].as_f64().unwrap() > 0.0
            && record["study_hours"].as_f64().unwrap() > record["lecture_hours"].as_f64().unwrap()
    );
    let other = app
        .get(&c, &format!("/api/v1/members?org_id={retired}&per_page=1"))
        .await
        .1["items"][0]["id"]
        .clone();
    assert_eq!(
        app.get(&m, &format!("/api/v1/members/{other}/life")).await.0,
        StatusCode::NOT_FOUND
    );
});

both!(check_in_is_optional_and_guarded, |app: App| async move {
    let t = app.login("secretary").await;
    let (_, me) = app.get(&t, "/api/v1/me").await;
    let branch = me["grants"][0]["org_id"].as_i64().unwrap();
    let member = app.login("member").await;
    let now_meeting = json!({"org_id": branch, "kind": "theme_day", "title": "现场主题党日", "starts_at": local(-10), "ends_at": local(110)});
    let (_, off) = app.post(&t, "/api/v1/meetings", now_meeting.clone()).await;
    let (status, err) = app
        .post(
            &member,
            &format!("/api/v1/meetings/{}/check-in", off["id"]),
            json!({"code": "000000"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        err["error"]["code"], "checkin.disabled",
        "never forced: off unless the organization turns it on"
    );

    let (status, _) = app
        .call(
            Method::PUT,
            &format!("/api/v1/orgs/{branch}/life-settings"),
            Some(&t),
            Some(json!({"checkin_enabled": true})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, m) = app.post(&t, "/api/v1/meetings", now_meeting).await;
    let id = m["id"].as_i64().unwrap();
    let (_, sheet) = app.get(&t, &format!("/api/v1/meetings/{id}/attendance")).await;
    let code = sheet["checkin_code"].as_str().unwrap().to_string();
    let wrong = if code == "123456" { "654321" } else { "123456" };
    let (status, err) = app
        .post(
            &member,
            &format!("/api/v1/meetings/{id}/check-in"),
            json!({"code": wrong}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str().unwrap()),
        (StatusCode::CONFLICT, "checkin.wrong_code")
    );
    let (status, _) = app
        .post(
            &member,
            &format!("/api/v1/meetings/{id}/check-in"),
            json!({"code": code}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, mine) = app.get(&member, &format!("/api/v1/meetings/{id}/attendance")).await;
    assert_eq!(
        mine["items"].as_array().unwrap().len(),
        1,
        "a member sees their own line only"
    );
    assert_eq!(mine["items"][0]["status"], "present");
    assert_eq!(mine["items"][0]["proxy"], false);
    assert!(mine["checkin_code"].is_null());
    // With check-in on, the secretary signing an offline member in is marked as such (代签).
    let own = me_member(&app, &member).await;
    let other_member = sheet["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["member_id"] != own)
        .unwrap()["member_id"]
        .clone();
    let (_, after) = app
        .call(
            Method::PUT,
            &format!("/api/v1/meetings/{id}/attendance"),
            Some(&t),
            Some(json!([{"member_id": other_member, "status": "present"}])),
        )
        .await;
    let line = after["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["member_id"] == other_member)
        .unwrap()
        .clone();
    assert_eq!(line["proxy"], true, "{line}");

    // Outside the window.
    let (_, later) = app.post(&t, "/api/v1/meetings", json!({"org_id": branch, "kind": "theme_day", "title": "明天", "starts_at": local(24 * 60), "ends_at": local(26 * 60)})).await;
    let (_, sheet) = app
        .get(&t, &format!("/api/v1/meetings/{}/attendance", later["id"]))
        .await;
    let (status, err) = app
        .post(
            &member,
            &format!("/api/v1/meetings/{}/check-in", later["id"]),
            json!({"code": sheet["checkin_code"]}),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str().unwrap()),
        (StatusCode::CONFLICT, "checkin.closed")
    );
    // Another branch's meeting is not even visible.
    let c = app.login("committee").await;
    let other = app.org_id(&c, "法学院学生党支部").await;
    let (_, theirs) = app.get(&c, &format!("/api/v1/meetings?org_id={other}&limit=1")).await;
    let (status, _) = app
        .post(
            &member,
            &format!("/api/v1/meetings/{}/check-in", theirs["items"][0]["id"]),
            json!({"code": "000000"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A member sees their branch's meetings.
    let (_, list) = app.get(&member, "/api/v1/meetings?limit=500").await;
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["org_id"] == branch || m["org_name"].as_str().unwrap().contains("党小组")));
});

/// The first sheet of an organization's meeting ledger (会议台账) for a year.
async fn ledger_sheet(app: &App, token: &str, org: i64, year: i32) -> calamine::Range<calamine::Data> {
    use calamine::Reader;
    let res = app
        .http
        .get(format!("{}/api/v1/orgs/{org}/meetings.xlsx?year={year}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(res.bytes().await.unwrap().to_vec())).unwrap();
    wb.worksheet_range_at(0).unwrap().unwrap()
}

async fn me_member(app: &App, token: &str) -> serde_json::Value {
    app.get(token, "/api/v1/me").await.1["member_id"].clone()
}

both!(reminders_run_once_a_day_and_never_twice, |app: App| async move {
    let today = store::clock::today();
    // Two servers racing for the same day: one runs.
    let (a, b) = tokio::join!(
        store::jobs::take_daily_lease(&app.store.db, "daily_reminders", "one", today),
        store::jobs::take_daily_lease(&app.store.db, "daily_reminders", "two", today)
    );
    assert!(a.unwrap() ^ b.unwrap(), "exactly one takes the lease");
    assert!(
        !store::jobs::take_daily_lease(&app.store.db, "daily_reminders", "one", today)
            .await
            .unwrap()
    );
    // The secretary also looks after the branch whose term has run out.
    let c = app.login("committee").await;
    let lagging = app.org_id(&c, "组织人事党支部").await;
    let sec = app.login("secadmin").await;
    let (_, users) = app.get(&sec, "/api/v1/users").await;
    let secretary = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "secretary")
        .unwrap()["id"]
        .clone();
    let (status, _) = app
        .post(
            &sec,
            &format!("/api/v1/users/{secretary}/grants"),
            json!({"role": "secretary", "org_id": lagging}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let first = store::jobs::reminders::send(&app.store.db, today).await.unwrap();
    assert!(first > 0);
    assert_eq!(
        store::jobs::reminders::send(&app.store.db, today).await.unwrap(),
        0,
        "each reminder once"
    );
    let t = app.login("secretary").await;
    let (_, notices) = app.get(&t, "/api/v1/me/notices").await;
    let items = notices["items"].as_array().unwrap();
    assert!(
        items.iter().any(|n| n["kind"] == "term"),
        "the branch's term has ended: {notices}"
    );
    let id = items[0]["id"].as_i64().unwrap();
    assert_eq!(
        app.post(&t, &format!("/api/v1/me/notices/{id}/read"), json!({}))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let m = app.login("member").await;
    assert_eq!(
        app.post(&m, &format!("/api/v1/me/notices/{id}/read"), json!({}))
            .await
            .0,
        StatusCode::NOT_FOUND,
        "not theirs"
    );

    // Planning a meeting tells the members expected at it.
    let branch = app.org_id(&c, "信息学院教工党支部").await;
    let (status, meeting) = app
        .post(&t, "/api/v1/meetings", json!({"org_id": branch, "kind": "party_lecture", "title": "专题党课", "starts_at": format!("{}T15:00", today + chrono::Duration::days(1)), "ends_at": format!("{}T17:00", today + chrono::Duration::days(1))}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, mine) = app.get(&m, "/api/v1/me/notices").await;
    assert!(
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "meeting.planned" && n["link"] == format!("/meetings/{}", meeting["id"])),
        "{mine}"
    );
});

both!(
    activities_sign_up_within_the_limit_and_credit_hours,
    |app: App| async move {
        let c = app.login("committee").await;
        let root = app.org_id(&c, "浙江开放大学委员会").await;
        let today = store::clock::today();
        let body = json!({"org_id": root, "kind": "volunteer_service", "title": "社区志愿服务", "starts_at": format!("{today}T09:00"), "ends_at": format!("{today}T12:00"), "capacity": 1, "credit_minutes": 180});
        let (status, act) = app.post(&c, "/api/v1/activities", body).await;
        assert_eq!(status, StatusCode::CREATED, "{act}");
        let id = act["id"].as_i64().unwrap();
        let (status, err) = app
            .post(
                &c,
                "/api/v1/activities",
                json!({"org_id": root, "kind": "party", "title": "", "capacity": 0}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(err["error"]["fields"].get("capacity").is_some() && err["error"]["fields"].get("kind").is_some());

        // Published to the whole tree: a member below sees it and signs up; the one place is then taken.
        let m = app.login("member").await;
        let (status, signed) = app
            .post(&m, &format!("/api/v1/activities/{id}/signup"), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{signed}");
        assert_eq!(signed["signed_up"], 1);
        assert_eq!(
            app.post(&m, &format!("/api/v1/activities/{id}/signup"), json!({}))
                .await
                .1["signed_up"],
            1,
            "twice is once"
        );
        let sec_member = app.login("secretary").await;
        let (status, err) = app
            .post(&sec_member, &format!("/api/v1/activities/{id}/signup"), json!({}))
            .await;
        assert_eq!(
            (status, err["error"]["code"].as_str().unwrap()),
            (StatusCode::CONFLICT, "activity.full")
        );
        // The member cannot record attendance; committee staff can, and hours are credited.
        let own = app.get(&m, "/api/v1/me").await.1["member_id"].clone();
        assert_eq!(
            app.call(
                Method::PUT,
                &format!("/api/v1/activities/{id}/attendance"),
                Some(&m),
                Some(json!([own]))
            )
            .await
            .0,
            StatusCode::FORBIDDEN
        );
        let year = chrono::Datelike::year(&today);
        let hours = |r: serde_json::Value| r["volunteer_hours"].as_f64().unwrap();
        let before = hours(app.get(&m, &format!("/api/v1/members/{own}/life?year={year}")).await.1);
        let (status, list) = app
            .call(
                Method::PUT,
                &format!("/api/v1/activities/{id}/attendance"),
                Some(&c),
                Some(json!([own])),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(list["items"][0]["credited_minutes"], 180);
        let after = hours(app.get(&m, &format!("/api/v1/members/{own}/life?year={year}")).await.1);
        assert_eq!(after - before, 3.0, "three hours credited");
        // Another branch's activity is out of the member's sight.
        let other = app.org_id(&c, "法学院学生党支部").await;
        let (_, theirs) = app.post(&c, "/api/v1/activities", json!({"org_id": other, "kind": "theme_activity", "title": "法学院活动", "starts_at": format!("{today}T09:00"), "ends_at": format!("{today}T10:00")})).await;
        assert_eq!(
            app.get(&m, &format!("/api/v1/activities/{}", theirs["id"])).await.0,
            StatusCode::NOT_FOUND
        );
    }
);

both!(attachments_are_checked_and_scoped, |app: App| async move {
    let t = app.login("secretary").await;
    let (_, me) = app.get(&t, "/api/v1/me").await;
    let branch = me["grants"][0]["org_id"].as_i64().unwrap();
    let (_, list) = app.get(&t, &format!("/api/v1/meetings?org_id={branch}&limit=1")).await;
    let id = list["items"][0]["id"].as_i64().unwrap();
    let upload = |body: Vec<u8>, name: &str| {
        app.http
            .post(format!("{}/api/v1/meetings/{id}/attachments?name={name}", app.base))
            .bearer_auth(&t)
            .body(body)
            .send()
    };
    let pdf = pdf("minutes");
    let res = upload(pdf.clone(), "minutes.pdf").await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let att: serde_json::Value = res.json().await.unwrap();
    let res = upload(b"MZ\x90\x00 not a document".to_vec(), "tool.exe").await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: serde_json::Value = res.json().await.unwrap();
    assert_eq!(err["error"]["fields"]["file"]["code"], "file.type_not_allowed");
    // Told by structure, not by the first bytes or the name: a PDF header over HTML is refused,
    // a real PDF named .html is kept and served as a PDF, a spreadsheet named .docx as a spreadsheet.
    let res = upload(
        b"%PDF-1.4\n<html><script>alert(1)</script></html>".to_vec(),
        "page.html",
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: serde_json::Value = res.json().await.unwrap();
    assert_eq!(err["error"]["fields"]["file"]["code"], "file.malformed");
    let res = upload(pdf.clone(), "page.html").await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let renamed: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        (renamed["name"].as_str(), renamed["content_type"].as_str()),
        (Some("page.pdf"), Some("application/pdf"))
    );
    let mut book = rust_xlsxwriter::Workbook::new();
    book.add_worksheet().write_string(0, 0, "x").unwrap();
    let res = upload(book.save_to_buffer().unwrap(), "letter.docx").await.unwrap();
    let sheet: serde_json::Value = res.json().await.unwrap();
    assert_eq!(sheet["name"], "letter.xlsx", "{sheet}");
    // At rest: sealed (the text is not in the file), readable by the server's user only.
    let stored = app
        .data_dir
        .join("files/attachments")
        .join(att["id"].as_i64().unwrap().to_string());
    let on_disk = std::fs::read(&stored).unwrap();
    assert!(!on_disk.windows(7).any(|w| w == b"minutes"), "stored in clear");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&stored).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(
        std::fs::metadata(stored.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    // The member of the branch downloads it; a member elsewhere cannot.
    let m = app.login("member").await;
    let res = app
        .http
        .get(format!("{}/api/v1/attachments/{}", app.base, att["id"]))
        .bearer_auth(&m)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().to_vec(), pdf);
    let res = app
        .http
        .get(format!("{}/api/v1/attachments/{}", app.base, renamed["id"]))
        .bearer_auth(&m)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("page.pdf"));
    let c = app.login("committee").await;
    let other = app.org_id(&c, "法学院学生党支部").await;
    let (_, theirs) = app.get(&c, &format!("/api/v1/meetings?org_id={other}&limit=1")).await;
    let res = app
        .http
        .post(format!(
            "{}/api/v1/meetings/{}/attachments?name=x.pdf",
            app.base, theirs["items"][0]["id"]
        ))
        .bearer_auth(&t)
        .body(pdf.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
});

both!(settings_from_the_browser_form, |app: App| async move {
    let c = app.login("committee").await;
    let branch = app.org_id(&c, "图书馆党支部").await;
    let web = app.browser("committee").await;
    let res = web
        .post(format!("{}/orgs/{branch}/life-settings", app.base))
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("checkin=true&freq_party_lecture=monthly&freq_theme_day=default")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "redirected back to the meetings page");
    let year = chrono::Datelike::year(&store::clock::today());
    let (_, items) = app
        .get(&c, &format!("/api/v1/orgs/{branch}/compliance?year={year}"))
        .await;
    assert_eq!(
        items["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == "party_lecture")
            .count(),
        12
    );
    let (_, m) = app
        .post(&c, "/api/v1/meetings", json!({"org_id": branch, "kind": "theme_day", "title": "签到测试", "starts_at": local(0), "ends_at": local(60)}))
        .await;
    let (_, sheet) = app.get(&c, &format!("/api/v1/meetings/{}/attendance", m["id"])).await;
    assert_eq!(
        sheet["checkin_code"].as_str().map(str::len),
        Some(6),
        "check-in turned on from the form"
    );
});

both!(
    the_check_in_qr_code_opens_the_meeting_with_the_code,
    |app: App| async move {
        let t = app.login("secretary").await;
        let (_, me) = app.get(&t, "/api/v1/me").await;
        let branch = me["grants"][0]["org_id"].as_i64().unwrap();
        app.call(
            Method::PUT,
            &format!("/api/v1/orgs/{branch}/life-settings"),
            Some(&t),
            Some(json!({"checkin_enabled": true})),
        )
        .await;
        let (_, m) = app.post(&t, "/api/v1/meetings", json!({"org_id": branch, "kind": "theme_day", "title": "扫码签到", "starts_at": local(-5), "ends_at": local(60)})).await;
        let web = app.browser("secretary").await;
        let html = web
            .get(format!("{}/meetings/{}", app.base, m["id"]))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("data:image/svg+xml;base64,"), "a QR code is drawn");
        let member = app.browser("member").await;
        let (_, sheet) = app.get(&t, &format!("/api/v1/meetings/{}/attendance", m["id"])).await;
        let code = sheet["checkin_code"].as_str().unwrap().to_string();
        let page = member
            .get(format!("{}/meetings/{}?code={code}", app.base, m["id"]))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(&format!("value=\"{code}\"")),
            "the form is filled from the address"
        );
        let done = member
            .post(format!("{}/meetings/{}/check-in", app.base, m["id"]))
            .header("sec-fetch-site", "same-origin")
            .form(&[("code", code.as_str())])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(done.contains("签到成功"), "{done}");
    }
);

both!(
    the_year_s_meetings_are_paged_with_their_total_never_cut,
    |app: App| async move {
        let c = app.login("committee").await;
        let (_, roots) = app.get(&c, "/api/v1/orgs").await;
        let root = roots["items"][0]["id"].as_i64().unwrap();
        let year = chrono::Datelike::year(&store::clock::today());
        let (_, all) = app
            .get(
                &c,
                &format!("/api/v1/meetings?org_id={root}&from={year}-01-01&to={year}-12-31&limit=2000"),
            )
            .await;
        let total = all["items"].as_array().unwrap().len();
        assert!(total > 100, "the demo's year has more than one page: {total}");
        let (_, second) = app
            .get(
                &c,
                &format!("/api/v1/meetings?org_id={root}&from={year}-01-01&to={year}-12-31&limit=100&offset=100"),
            )
            .await;
        assert_eq!(
            second["items"][0]["id"], all["items"][100]["id"],
            "offset skips the first page"
        );
        let web = app.browser("committee").await;
        let page = app.page(&web, &format!("/orgs/{root}/meetings?year={year}")).await;
        assert!(page.contains(&format!("共 {total}")), "the total, not a cut");
        let pages = total.div_ceil(100);
        assert!(
            page.contains(&format!("1 / {pages}")) && page.contains("rel=\"next\""),
            "a pager"
        );
        let last = app
            .page(&web, &format!("/orgs/{root}/meetings?year={year}&page={pages}"))
            .await;
        let rows = last.matches("href=\"/meetings/").count() - last.matches("href=\"/meetings/new").count();
        assert_eq!(rows, total - (pages - 1) * 100, "the last page holds the rest");
    }
);

both!(the_ledger_holds_every_meeting_of_the_year, |app: App| async move {
    // A year with more meetings than one read returns (2,000): the ledger used to stop there.
    let c = app.login("committee").await;
    let root = app.org_id(&c, "浙江开放大学委员会").await;
    let branch = app.org_id(&c, "组织人事党支部").await;
    let (path,): (String,) = app
        .store
        .db
        .one(store::db::Q::new("SELECT path FROM orgs WHERE id = $1").bind(branch))
        .await
        .unwrap();
    let start = chrono::DateTime::parse_from_rfc3339("2024-01-01T02:00:00Z")
        .unwrap()
        .to_utc();
    let past: Vec<_> = (0..2_050)
        .map(|i| store::seed::meetings::PastMeeting {
            org_id: branch,
            org_path: path.clone(),
            kinds: vec![domain::life::MeetingKind::GroupMeeting],
            title: format!("学习会 {i}"),
            starts: start + chrono::Duration::hours(4 * i),
            location: "会议室".into(),
            attendance: Vec::new(),
        })
        .collect();
    store::seed::meetings::insert_bulk(&app.store.db, &store::Caller::system("test"), &past)
        .await
        .unwrap();
    let range = ledger_sheet(&app, &c, root, 2024).await;
    let titled = range
        .rows()
        .filter(|r| r.iter().any(|c| c.to_string().starts_with("学习会 ")))
        .count();
    assert_eq!(titled, 2_050, "every meeting of the year, not the first 2,000");
});
