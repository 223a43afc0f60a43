//! Organizational transfers through the review chain: nothing moves before the last approval, the
//! receiver accepts or rejects, letters expire, letters outside the platform come back receipted,
//! and no branch answers for another.

use crate::both;
use crate::support::{App, PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use store::{Caller, Role};

/// A reviewer (审核员) granted on an organization, signed in.
async fn reviewer(app: &App, username: &str, org_id: i64) -> String {
    let sec = Caller::system_as("test", Role::SecurityAdmin);
    let u = store::accounts::create_user(
        &app.store.db,
        &app.store.keys,
        &sec,
        &store::accounts::NewUser {
            username: username.into(),
            display_name: format!("审核员{username}"),
            phone: None,
            password: PASSWORD.into(),
            member_id: None,
        },
        false,
    )
    .await
    .unwrap();
    store::accounts::grant(&app.store.db, &sec, u.id, Role::Reviewer, Some(org_id))
        .await
        .unwrap();
    app.login(username).await
}

/// The secretary's branch, a member of it, and another branch to send them to.
async fn setup(app: &App) -> (String, String, i64, i64, i64) {
    let t = app.login("secretary").await;
    let c = app.login("committee").await;
    let (_, me) = app.get(&t, "/api/v1/me").await;
    let branch = me["grants"][0]["org_id"].as_i64().unwrap();
    let member = free_members(app, &t, branch).await[0];
    let to = app.org_id(&c, "组织人事党支部").await;
    (t, c, branch, member, to)
}

/// Members of a branch with no letter under way (the demo has some in flight).
pub async fn free_members(app: &App, token: &str, branch: i64) -> Vec<i64> {
    let (_, open) = app.get(token, "/api/v1/transfers?status=open").await;
    let busy: Vec<i64> = open["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["member_id"].as_i64().unwrap())
        .collect();
    let (_, list) = app
        .get(token, &format!("/api/v1/members?org_id={branch}&per_page=40"))
        .await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .filter(|id| !busy.contains(id))
        .skip(5)
        .collect()
}

async fn pending_for(app: &App, token: &str, transfer: i64) -> Option<Value> {
    let (status, p) = app.get(token, "/api/v1/reviews/pending").await;
    assert_eq!(status, StatusCode::OK, "{p}");
    p["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "transfer" && r["subject_id"] == transfer)
        .cloned()
}

both!(a_transfer_moves_the_member_only_when_accepted, |app: App| async move {
    let (t, c, branch, member, to) = setup(&app).await;
    let (status, e) = app
        .post(&t, "/api/v1/transfers", json!({"member_id": member, "to_org_id": to}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["fields"]["reason"]["code"], "reason.required");
    let (status, e) = app
        .post(
            &t,
            "/api/v1/transfers",
            json!({"member_id": member, "to_org_id": branch, "reason": "调动"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["fields"]["to_org_id"]["code"], "to_org_id.same_org");

    let (status, tr) = app
        .post(
            &t,
            "/api/v1/transfers",
            json!({"member_id": member, "to_org_id": to, "reason": "工作调动到组织人事部"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{tr}");
    assert_eq!(tr["status"], "reviewing");
    assert_eq!(tr["valid_days"], 30);
    assert!(tr["paid_up_to"].is_string(), "dues paid up to goes on the letter: {tr}");
    assert!(tr["particulars"]["id_number_masked"].as_str().unwrap().contains('*'));
    let id = tr["id"].as_i64().unwrap();
    let (status, e) = app
        .post(
            &t,
            "/api/v1/transfers",
            json!({"member_id": member, "to_org_id": to, "reason": "再开一封"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(e["error"]["code"], "transfer.open");

    // Under review: the receiver cannot accept yet, the sender cannot answer for the receiver.
    let (status, _) = app.post(&c, &format!("/api/v1/transfers/{id}/accept"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "not approved yet");
    let (status, _) = app.post(&t, &format!("/api/v1/transfers/{id}/accept"), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a branch cannot accept for another");
    assert!(pending_for(&app, &t, id).await.is_none(), "a secretary reviews nothing");

    // The default chain is the sending branch's parent; committee staff reach it.
    let r = pending_for(&app, &c, id).await.expect("pending for committee staff");
    assert_eq!((r["levels"].as_i64(), r["level"].as_i64()), (Some(1), Some(1)));
    let rid = r["id"].as_i64().unwrap();
    let (status, e) = app.post(&c, &format!("/api/v1/reviews/{rid}/return"), json!({})).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "returning needs a comment: {e}"
    );
    let (status, v) = app
        .post(
            &c,
            &format!("/api/v1/reviews/{rid}/approve"),
            json!({"comment": "同意"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "approved");
    let (status, again) = app.post(&c, &format!("/api/v1/reviews/{rid}/approve"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");

    let (_, got) = app.get(&t, &format!("/api/v1/transfers/{id}")).await;
    assert_eq!(got["transfer"]["status"], "sent");
    assert_eq!(got["review"]["decisions"][0]["comment"], "同意");
    let issued = got["transfer"]["issued_on"].as_str().unwrap().to_string();
    assert_eq!(issued, store::clock::today().to_string());
    assert_eq!(
        got["transfer"]["expires_on"],
        (store::clock::today() + chrono::Days::new(30)).to_string()
    );
    let (_, m) = app.get(&t, &format!("/api/v1/members/{member}")).await;
    assert_eq!(m["org_id"], branch, "nothing moves before the receiver accepts");

    let (_, before) = app.get(&c, &format!("/api/v1/orgs/{to}")).await;
    let (status, done) = app.post(&c, &format!("/api/v1/transfers/{id}/accept"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "accepted");
    let (status, _) = app.get(&t, &format!("/api/v1/members/{member}")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the member has left the secretary's branch"
    );
    let (_, m) = app.get(&c, &format!("/api/v1/members/{member}")).await;
    assert_eq!(m["org_id"], to);
    let (_, after) = app.get(&c, &format!("/api/v1/orgs/{to}")).await;
    assert_eq!(
        after["member_count"].as_i64().unwrap(),
        before["member_count"].as_i64().unwrap() + 1
    );
    let (_, h) = app.get(&c, &format!("/api/v1/members/{member}/history")).await;
    assert_eq!(h["organizations"].as_array().unwrap().len(), 2, "history kept: {h}");
    // The sender still sees the letter it issued.
    let (_, list) = app.get(&t, &format!("/api/v1/transfers?org_id={branch}")).await;
    assert!(list["items"].as_array().unwrap().iter().any(|x| x["id"] == id));

    let auditor = app.login("auditor").await;
    let (_, log) = app.get(&auditor, &format!("/api/v1/audit?target_id={member}")).await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"transfer.create") && actions.contains(&"transfer.accept"),
        "{actions:?}"
    );
});

both!(
    chains_go_level_by_level_and_one_person_decides_one_level,
    |app: App| async move {
        let (t, c, branch, member, to) = setup(&app).await;
        let (_, org) = app.get(&c, &format!("/api/v1/orgs/{branch}")).await;
        let general = org["parent_id"].as_i64().unwrap();
        let (_, g) = app.get(&c, &format!("/api/v1/orgs/{general}")).await;
        let root = g["parent_id"].as_i64().unwrap();
        let (status, e) = app
            .call(
                Method::PUT,
                &format!("/api/v1/orgs/{general}/review-chains/transfer"),
                Some(&c),
                Some(json!({"levels": [to]})),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a reviewer must sit above: {e}"
        );
        let (status, chain) = app
            .call(
                Method::PUT,
                &format!("/api/v1/orgs/{general}/review-chains/transfer"),
                Some(&c),
                Some(json!({"levels": [general, root]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{chain}");
        assert_eq!(chain["items"].as_array().unwrap().len(), 2);
        let (status, _) = app
            .call(
                Method::PUT,
                &format!("/api/v1/orgs/{branch}/review-chains/transfer"),
                Some(&t),
                Some(json!({"levels": [branch]})),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "a secretary does not set chains");

        let first = reviewer(&app, "shenhe1", general).await;
        let (_, tr) = app
            .post(
                &t,
                "/api/v1/transfers",
                json!({"member_id": member, "to_org_id": to, "reason": "调动", "valid_days": 15}),
            )
            .await;
        let id = tr["id"].as_i64().unwrap();
        let r = pending_for(&app, &first, id)
            .await
            .expect("level 1 at the general branch");
        let rid = r["id"].as_i64().unwrap();
        assert_eq!(r["levels"], 2);
        // Returned at level 1: the letter goes back, nothing is issued.
        let (status, v) = app
            .post(
                &first,
                &format!("/api/v1/reviews/{rid}/return"),
                json!({"comment": "请补充调动文件"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "returned");
        let (_, got) = app.get(&t, &format!("/api/v1/transfers/{id}")).await;
        assert_eq!(got["transfer"]["status"], "returned");
        assert_eq!(got["review"]["decisions"][0]["comment"], "请补充调动文件");
        assert_eq!(got["transfer"]["issued_on"], Value::Null);

        // Again: committee staff (who reach the general branch too) approve level 1, and then may not
        // decide level 2 of the same review.
        let (status, tr) = app
            .post(
                &t,
                "/api/v1/transfers",
                json!({"member_id": member, "to_org_id": to, "reason": "调动（补充材料）", "valid_days": 15}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "a returned letter can be issued again: {tr}"
        );
        let id = tr["id"].as_i64().unwrap();
        let rid = pending_for(&app, &first, id).await.unwrap()["id"].as_i64().unwrap();
        assert!(pending_for(&app, &c, id).await.is_some(), "staff above see it too");
        let (status, v) = app.post(&c, &format!("/api/v1/reviews/{rid}/approve"), json!({})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!((v["status"].as_str(), v["level"].as_i64()), (Some("pending"), Some(2)));
        let (_, got) = app.get(&t, &format!("/api/v1/transfers/{id}")).await;
        assert_eq!(
            got["transfer"]["status"], "reviewing",
            "nothing applied before the last level"
        );
        assert!(
            pending_for(&app, &first, id).await.is_none(),
            "level 2 sits at the committee"
        );
        let (status, _) = app
            .post(&first, &format!("/api/v1/reviews/{rid}/approve"), json!({}))
            .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "out of the general branch reviewer's reach"
        );
        let (status, e) = app.post(&c, &format!("/api/v1/reviews/{rid}/approve"), json!({})).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(e["error"]["code"], "review.same_reviewer");
        let second = reviewer(&app, "shenhe2", root).await;
        let (status, v) = app
            .post(&second, &format!("/api/v1/reviews/{rid}/approve"), json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "approved");
        let (_, got) = app.get(&t, &format!("/api/v1/transfers/{id}")).await;
        assert_eq!(got["transfer"]["status"], "sent");
        assert_eq!(got["transfer"]["valid_days"], 15);

        // The receiver rejects with a reason; the member stays.
        let (status, e) = app.post(&c, &format!("/api/v1/transfers/{id}/reject"), json!({})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (status, done) = app
            .post(
                &c,
                &format!("/api/v1/transfers/{id}/reject"),
                json!({"reason": "接收单位不符"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["status"], "rejected");
        let (_, m) = app.get(&t, &format!("/api/v1/members/{member}")).await;
        assert_eq!(m["org_id"], branch);
    }
);

both!(
    letters_expire_and_letters_outside_come_back_receipted,
    |app: App| async move {
        let (t, c, _, member, to) = setup(&app).await;
        let (_, tr) = app
            .post(
                &t,
                "/api/v1/transfers",
                json!({"member_id": member, "to_org_id": to, "reason": "调动"}),
            )
            .await;
        let id = tr["id"].as_i64().unwrap();
        let rid = pending_for(&app, &c, id).await.unwrap()["id"].as_i64().unwrap();
        app.post(&c, &format!("/api/v1/reviews/{rid}/approve"), json!({})).await;
        app.store
            .db
            .exec(
                store::db::Q::new("UPDATE transfers SET expires_on = $1 WHERE id = $2")
                    .bind(store::clock::today() - chrono::Days::new(1))
                    .bind(id),
            )
            .await
            .unwrap();
        let (_, open) = app.get(&t, "/api/v1/transfers?status=open").await;
        let item = open["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == id)
            .unwrap()
            .clone();
        assert_eq!(item["status"], "expired", "both sides see it expired");
        let (status, e) = app.post(&c, &format!("/api/v1/transfers/{id}/accept"), json!({})).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(e["error"]["code"], "transfer.expired");
        // The daily job tells the sending branch (and the receiver's staff), once.
        for _ in 0..2 {
            store::jobs::reminders::send(&app.store.db, store::clock::today())
                .await
                .unwrap();
        }
        let (_, mine) = app.get(&t, "/api/v1/me/notices").await;
        let alerts = mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "transfer.expired" && n["link"] == format!("/transfers/{id}"))
            .count();
        assert_eq!(alerts, 1, "{mine}");

        // To an organization outside the platform: 90 days, printed, receipted.
        let branch = app.get(&t, "/api/v1/me").await.1["grants"][0]["org_id"]
            .as_i64()
            .unwrap();
        let other = free_members(&app, &t, branch).await[2];
        let (status, tr) = app
            .post(
                &t,
                "/api/v1/transfers",
                json!({"member_id": other, "to_name": "北京市海淀区学院路街道党工委", "reason": "迁居北京"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{tr}");
        assert_eq!(tr["valid_days"], 90);
        let id = tr["id"].as_i64().unwrap();
        let rid = pending_for(&app, &c, id).await.unwrap()["id"].as_i64().unwrap();
        app.post(&c, &format!("/api/v1/reviews/{rid}/approve"), json!({})).await;
        let (status, e) = app.post(&c, &format!("/api/v1/transfers/{id}/accept"), json!({})).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(e["error"]["code"], "transfer.outside");
        let (status, e) = app
            .post(
                &t,
                &format!("/api/v1/transfers/{id}/receipt"),
                json!({"receipt_on": "2999-01-01"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (status, done) = app
            .post(
                &t,
                &format!("/api/v1/transfers/{id}/receipt"),
                json!({"receipt_on": store::clock::today().to_string()}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["status"], "completed");
        let (_, m) = app.get(&t, &format!("/api/v1/members/{other}")).await;
        assert_eq!(m["status"], "transferred_out");
    }
);

both!(
    validity_is_a_setting_and_members_arrive_from_outside_with_their_letter,
    |app: App| async move {
        let (t, c, branch, member, to) = setup(&app).await;
        let (_, b) = app.get(&c, &format!("/api/v1/orgs/{branch}")).await;
        let parent = b["parent_id"].as_i64().unwrap();
        let (status, v) = app.get(&t, &format!("/api/v1/orgs/{branch}/transfer-validity")).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(
            (
                v["days_in_city"].as_i64(),
                v["days_elsewhere"].as_i64(),
                v["set_by_org_id"].is_null()
            ),
            (Some(30), Some(90), true)
        );
        let put = |token: &str, org: i64, body: Value| {
            let (app, token) = (&app, token.to_string());
            async move {
                app.call(
                    Method::PUT,
                    &format!("/api/v1/orgs/{org}/transfer-validity"),
                    Some(&token),
                    Some(body),
                )
                .await
            }
        };
        let (status, _) = put(&t, branch, json!({"days_in_city": 10, "days_elsewhere": 20})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "a secretary does not set it");
        let (status, e) = put(&c, parent, json!({"days_in_city": 0, "days_elsewhere": 91})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let fields = &e["error"]["fields"];
        assert!(
            fields.get("days_in_city").is_some() && fields.get("days_elsewhere").is_some(),
            "{e}"
        );
        let (status, v) = put(&c, parent, json!({"days_in_city": 15, "days_elsewhere": 60})).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let (_, v) = app.get(&t, &format!("/api/v1/orgs/{branch}/transfer-validity")).await;
        assert_eq!(
            (v["days_in_city"].as_i64(), v["set_by_org_id"].as_i64()),
            (Some(15), Some(parent)),
            "the nearest setting above applies"
        );

        let free = free_members(&app, &t, branch).await;
        let letter = |m: i64, extra: Value| {
            let (app, t) = (&app, &t);
            async move {
                let mut body = json!({"member_id": m, "reason": "调动"});
                body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
                app.post(t, "/api/v1/transfers", body).await
            }
        };
        let (status, tr) = letter(member, json!({"to_org_id": to})).await;
        assert_eq!(
            (status, tr["valid_days"].as_i64(), tr["in_city"].as_bool()),
            (StatusCode::CREATED, Some(15), Some(true)),
            "{tr}"
        );
        let (_, tr) = letter(free[1], json!({"to_org_id": to, "in_city": false})).await;
        assert_eq!(tr["valid_days"], 60, "elsewhere on the platform: {tr}");
        let (_, tr) = letter(free[2], json!({"to_name": "外省某党支部"})).await;
        assert_eq!(tr["valid_days"], 60, "outside the platform counts as elsewhere: {tr}");
        let (status, e) = letter(free[3], json!({"to_org_id": to, "valid_days": 91})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

        // A member arrives with a letter from outside: every problem of the record and the letter
        // is named at once, and nothing is written.
        let (_, before) = app.get(&t, &format!("/api/v1/orgs/{branch}")).await;
        let mut bad_id = crate::support::id_number("19880512", 71, true);
        bad_id.replace_range(17.., if bad_id.ends_with('0') { "1" } else { "0" });
        let (status, e) = app
            .post(
                &t,
                "/api/v1/transfers/incoming",
                json!({"org_id": branch, "name": "王<b>转入</b>", "gender": "male",
                "id_number": bad_id, "joined_on": "2010-07-01", "category": "full", "full_member_on": "2011-07-01",
                "issued_on": "2999-01-01", "paid_up_to": "2026-13"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let fields = &e["error"]["fields"];
        for f in ["id_number", "from_name", "letter_no", "issued_on", "paid_up_to"] {
            assert!(fields.get(f).is_some(), "{f} named: {e}");
        }
        let (status, _) = app
            .post(&t, "/api/v1/transfers/incoming", json!({"org_id": to, "name": "越权", "gender": "male",
                "id_number": crate::support::id_number("19880512", 72, true), "joined_on": "2010-07-01", "category": "full",
                "full_member_on": "2011-07-01", "from_name": "外省某党支部", "letter_no": "X-1", "issued_on": "2026-01-05"}))
            .await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::FORBIDDEN,
            "not into another branch"
        );

        let last_month = domain::dues::Month::of(store::clock::today()).prev();
        let (status, i) = app
            .post(&t, "/api/v1/transfers/incoming", json!({"org_id": branch, "name": "王<b>转入</b>", "gender": "male",
                "id_number": crate::support::id_number("19880512", 73, true), "joined_on": "2010-07-01", "category": "full",
                "full_member_on": "2011-07-01", "from_name": "外省某党支部", "letter_no": "第0012号",
                "issued_on": (store::clock::today() - chrono::Days::new(10)).to_string(), "paid_up_to": last_month.to_string()}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{i}");
        let arrived = i["member_id"].as_i64().unwrap();
        assert_eq!(i["paid_up_to"], last_month.to_string());
        assert_eq!(
            (i["member_name"].as_str(), i["received_on"].as_str()),
            (Some("王<b>转入</b>"), Some(store::clock::today().to_string().as_str()))
        );
        let (_, after) = app.get(&t, &format!("/api/v1/orgs/{branch}")).await;
        assert_eq!(
            after["member_count"].as_i64().unwrap(),
            before["member_count"].as_i64().unwrap() + 1
        );
        let (_, list) = app
            .get(&t, &format!("/api/v1/transfers/incoming?org_id={branch}"))
            .await;
        assert!(list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["member_id"] == arrived));
        let (_, theirs) = app.get(&c, &format!("/api/v1/transfers/incoming?org_id={to}")).await;
        assert!(!theirs["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["member_id"] == arrived));

        // Dues are owed here only after the months the letter states as paid.
        let (status, p) = app
            .call(
                Method::PUT,
                &format!("/api/v1/members/{arrived}/dues-profile"),
                Some(&t),
                Some(
                    json!({"year": last_month.year, "category": "employed", "base_fen": 520000, "effective_month": 1}),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{p}");
        let (_, d) = app
            .get(&t, &format!("/api/v1/members/{arrived}/dues?year={}", last_month.year))
            .await;
        let line = d["months"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["month"] == last_month.to_string())
            .unwrap()
            .clone();
        assert_eq!(line["status"], "not_owed", "paid before the transfer: {d}");
        let this_month = last_month.next();
        for l in d["months"].as_array().unwrap() {
            let month = domain::dues::Month::parse(l["month"].as_str().unwrap()).unwrap();
            let owed = l["status"] != "not_owed";
            assert_eq!(owed, month >= this_month, "{month}: {d}");
        }
        // Had the letter stated this month as paid too, the monthly job would leave it out.
        let db = &app.store.db;
        db.exec(
            store::db::Q::new("UPDATE transfers_in SET paid_up_to = $1 WHERE member_id = $2")
                .bind(this_month.key())
                .bind(arrived),
        )
        .await
        .unwrap();
        db.exec(store::db::Q::new("DELETE FROM dues_ledger WHERE member_id = $1").bind(arrived))
            .await
            .unwrap();
        store::dues::ledger::generate_month(db, this_month).await.unwrap();
        let (rows,): (i64,) = db
            .one(store::db::Q::new("SELECT COUNT(*) FROM dues_ledger WHERE member_id = $1").bind(arrived))
            .await
            .unwrap();
        assert_eq!(rows, 0, "nothing owed for a month paid before the transfer");
    }
);

both!(
    mobile_members_join_the_hosts_meetings_without_moving,
    |app: App| async move {
        let (t, c, branch, member, to) = setup(&app).await;
        let register = |body: Value| {
            let (app, t) = (&app, &t);
            async move { app.post(t, "/api/v1/mobile-members", body).await }
        };
        let since = (store::clock::today() - chrono::Days::new(200)).to_string();
        let (status, e) = register(json!({"member_id": member, "host_org_id": to, "since": "2999-01-01"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            e["error"]["fields"].get("reason").is_some() && e["error"]["fields"].get("since").is_some(),
            "{e}"
        );
        let (status, e) =
            register(json!({"member_id": member, "host_org_id": branch, "since": since, "reason": "外出务工"})).await;
        assert_eq!(
            (status, e["error"]["fields"]["host_org_id"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("host_org_id.own_branch"))
        );
        let (status, m) =
            register(json!({"member_id": member, "host_org_id": to, "since": since, "reason": "外出务工"})).await;
        assert_eq!(status, StatusCode::CREATED, "{m}");
        let id = m["id"].as_i64().unwrap();
        let (status, e) =
            register(json!({"member_id": member, "host_org_id": to, "since": since, "reason": "再登记"})).await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("mobile.open"))
        );
        // A secretary cannot register another branch's member.
        let theirs = app.some_member(&c, to).await["id"].as_i64().unwrap();
        let (status, _) =
            register(json!({"member_id": theirs, "host_org_id": branch, "since": since, "reason": "x"})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "another branch's member");

        // The host's general meeting expects the mobile member as a guest, outside its quorum.
        let (status, meeting) = app
            .post(
                &c,
                "/api/v1/meetings",
                json!({"org_id": to, "kind": "branch_general_meeting", "title": "支部党员大会",
            "starts_at": format!("{}T14:30", store::clock::today()), "ends_at": format!("{}T16:30", store::clock::today())}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{meeting}");
        let mid = meeting["id"].as_i64().unwrap();
        let (_, sheet) = app.get(&c, &format!("/api/v1/meetings/{mid}/attendance")).await;
        let items = sheet["items"].as_array().unwrap();
        let guest = items
            .iter()
            .find(|a| a["member_id"] == member)
            .expect("the mobile member is expected");
        assert_eq!(guest["guest"], true);
        let full_hosts = items
            .iter()
            .filter(|a| a["category"] == "full" && a["guest"] == false)
            .count();
        assert_eq!(
            sheet["entitled"].as_u64().unwrap() as usize,
            full_hosts,
            "guests are not entitled: {sheet}"
        );
        let (status, sheet) = app
            .call(
                Method::PUT,
                &format!("/api/v1/meetings/{mid}/attendance"),
                Some(&c),
                Some(json!([{"member_id": member, "status": "present"}])),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{sheet}");
        assert_eq!(
            sheet["present_entitled"], 0,
            "a guest's presence does not make the quorum"
        );
        let (_, me) = app.get(&t, &format!("/api/v1/members/{member}")).await;
        assert_eq!(me["org_id"], branch, "the member stays on the home roll");
        let (_, hosted) = app.get(&c, &format!("/api/v1/mobile-members?org_id={to}")).await;
        assert!(
            hosted["items"].as_array().unwrap().iter().any(|x| x["id"] == id),
            "the host sees them: {hosted}"
        );

        let (status, ended) = app
            .post(&t, &format!("/api/v1/mobile-members/{id}/end"), json!({}))
            .await;
        assert_eq!(
            (status, ended["ended_on"].as_str()),
            (StatusCode::OK, Some(store::clock::today().to_string().as_str()))
        );
        let (status, e) = app
            .post(&t, &format!("/api/v1/mobile-members/{id}/end"), json!({}))
            .await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("mobile.ended"))
        );
        let tomorrow = store::clock::today() + chrono::Days::new(1);
        let (_, later) = app
            .post(
                &c,
                "/api/v1/meetings",
                json!({"org_id": to, "kind": "party_lecture", "title": "党课",
            "starts_at": format!("{tomorrow}T14:30"), "ends_at": format!("{tomorrow}T16:30")}),
            )
            .await;
        let (_, sheet) = app
            .get(&c, &format!("/api/v1/meetings/{}/attendance", later["id"]))
            .await;
        assert!(
            !sheet["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["member_id"] == member),
            "no longer expected"
        );
        // Registered again, then moved into the host branch: the registration ends, and the host's
        // meetings expect the member once, as its own.
        let (status, again) =
            register(json!({"member_id": member, "host_org_id": to, "since": since, "reason": "外出务工"})).await;
        assert_eq!(status, StatusCode::CREATED, "{again}");
        let (status, moved) = app
            .patch(&c, &format!("/api/v1/members/{member}"), json!({"org_id": to}))
            .await;
        assert_eq!(status, StatusCode::OK, "{moved}");
        let (_, hosted) = app.get(&c, &format!("/api/v1/mobile-members?org_id={to}")).await;
        let x = hosted["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == again["id"])
            .unwrap()
            .clone();
        assert!(x["ended_on"].is_string(), "{x}");
        let (status, m) = app
            .post(
                &c,
                "/api/v1/meetings",
                json!({"org_id": to, "kind": "party_lecture", "title": "党课二",
                "starts_at": format!("{tomorrow}T19:00"), "ends_at": format!("{tomorrow}T20:00")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{m}");
        let (_, sheet) = app.get(&c, &format!("/api/v1/meetings/{}/attendance", m["id"])).await;
        let mine: Vec<&Value> = sheet["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["member_id"] == member)
            .collect();
        assert_eq!((mine.len(), mine[0]["guest"].as_bool()), (1, Some(false)));
    }
);

both!(
    the_settings_page_sets_chains_and_validity_and_the_printed_letter_is_audited,
    |app: App| async move {
        let (t, c, branch, member, to) = setup(&app).await;
        let (_, b) = app.get(&c, &format!("/api/v1/orgs/{branch}")).await;
        let parent = b["parent_id"].as_i64().unwrap();
        let (_, chain) = app
            .get(&c, &format!("/api/v1/orgs/{branch}/review-chains/transfer"))
            .await;
        assert_eq!(
            chain["items"][0]["org_id"], parent,
            "the parent reviews by default: {chain}"
        );
        let web = app.browser("committee").await;
        let post = |path: String, body: String| {
            web.post(format!("{}{path}", app.base))
                .header("sec-fetch-site", "same-origin")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
        };
        // Bad days are named on the page and nothing changes.
        let res = post(
            format!("/orgs/{branch}/review-settings"),
            format!("days_in_city=0&days_elsewhere=90&transfer_1={parent}"),
        )
        .await
        .unwrap();
        let page = res.text().await.unwrap();
        assert!(page.contains("form-errors") && page.contains("同城有效天数"), "{page}");
        let (_, v) = app.get(&c, &format!("/api/v1/orgs/{branch}/transfer-validity")).await;
        assert_eq!(v["days_in_city"], 30);
        // A good validity with a chain that names an organization not above: nothing is saved.
        let res = post(
            format!("/orgs/{branch}/review-settings"),
            format!("days_in_city=25&days_elsewhere=90&transfer_1={to}"),
        )
        .await
        .unwrap();
        assert!(res.text().await.unwrap().contains("form-errors"));
        let (_, v) = app.get(&c, &format!("/api/v1/orgs/{branch}/transfer-validity")).await;
        assert_eq!(v["days_in_city"], 30, "all or nothing");
        let res = post(
            format!("/orgs/{branch}/review-settings"),
            format!("days_in_city=20&days_elsewhere=90&transfer_1={branch}&transfer_2={parent}&notice_1={parent}&development_1={parent}&correction_1={branch}"),
        )
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "followed to the page");
        let (_, chain) = app
            .get(&c, &format!("/api/v1/orgs/{branch}/review-chains/transfer"))
            .await;
        let levels: Vec<i64> = chain["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["org_id"].as_i64().unwrap())
            .collect();
        assert_eq!(levels, vec![branch, parent]);
        let (_, v) = app.get(&c, &format!("/api/v1/orgs/{branch}/transfer-validity")).await;
        assert_eq!(
            (v["days_in_city"].as_i64(), v["set_by_org_id"].as_i64()),
            (Some(20), Some(branch))
        );
        let secretary_web = app.browser("secretary").await;
        let res = secretary_web
            .post(format!("{}/orgs/{branch}/review-settings", app.base))
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("days_in_city=5&days_elsewhere=5")
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::FORBIDDEN,
            "a secretary reads the settings but does not set them"
        );

        // A letter through the two-level chain, then printed with the full ID number.
        let (_, tr) = app
            .post(
                &t,
                "/api/v1/transfers",
                json!({"member_id": member, "to_org_id": to, "reason": "调动"}),
            )
            .await;
        assert_eq!(tr["valid_days"], 20);
        let id = tr["id"].as_i64().unwrap();
        for _ in 0..2 {
            let rid = pending_for(&app, &c, id).await.expect("waiting")["id"]
                .as_i64()
                .unwrap();
            let (status, r) = app.post(&c, &format!("/api/v1/reviews/{rid}/approve"), json!({})).await;
            if status == StatusCode::CONFLICT {
                // One person decides one level: a reviewer at the parent takes the second.
                let other = reviewer(&app, "printer-reviewer", parent).await;
                let (status, r) = app
                    .post(&other, &format!("/api/v1/reviews/{rid}/approve"), json!({}))
                    .await;
                assert_eq!(status, StatusCode::OK, "{r}");
            } else {
                assert_eq!(status, StatusCode::OK, "{r}");
            }
        }
        let (_, got) = app.get(&t, &format!("/api/v1/transfers/{id}")).await;
        assert_eq!(got["transfer"]["status"], "sent");
        let (_, revealed) = app
            .post(&t, &format!("/api/v1/members/{member}/reveal"), json!({}))
            .await;
        let full = revealed["id_number"].as_str().unwrap().to_string();
        let letter = secretary_web
            .get(format!("{}/transfers/{id}", app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            !letter.contains(&full) && letter.contains("print-full"),
            "masked until printed"
        );
        let printed = secretary_web
            .post(format!("{}/transfers/{id}/print", app.base))
            .header("sec-fetch-site", "same-origin")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(printed.contains(&full), "the printed letter states the ID number");
        let auditor = app.login("auditor").await;
        let (_, log) = app.get(&auditor, &format!("/api/v1/audit?target_id={member}")).await;
        let reveals = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "member.reveal")
            .count();
        assert!(reveals >= 2, "both reveals are audited: {log}");
        let (status, _) = app.post(&c, &format!("/api/v1/transfers/{id}/accept"), json!({})).await;
        assert_eq!(status, StatusCode::OK);
        for client in [&secretary_web, &web] {
            let res = client
                .post(format!("{}/transfers/{id}/print", app.base))
                .header("sec-fetch-site", "same-origin")
                .send()
                .await
                .unwrap();
            assert_eq!(
                res.status(),
                StatusCode::FORBIDDEN,
                "an answered letter is not printed again"
            );
        }
    }
);

both!(
    a_receiver_is_chosen_by_part_of_its_name_with_or_without_javascript,
    |app: App| async move {
        let (t, c, _, member, to) = setup(&app).await;
        let (_, root) = app.get(&c, "/api/v1/orgs").await;
        let top = root["items"][0]["name"].as_str().unwrap().to_string();
        let (status, found) = app.get(&t, "/api/v1/transfers/receivers?q=组织人事").await;
        assert_eq!(status, StatusCode::OK, "{found}");
        let hit = found["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == to)
            .unwrap_or_else(|| panic!("part of the name finds the branch: {found}"))
            .clone();
        assert_eq!(hit["name"], "组织人事党支部");
        assert!(
            hit["within"].as_str().unwrap().starts_with(&top),
            "the path from the top: {hit}"
        );
        let (_, by_number) = app.get(&t, &format!("/api/v1/transfers/receivers?q={to}")).await;
        assert_eq!(by_number["items"][0]["id"], to, "{by_number}");
        // `%` and `_` are letters here, not wildcards; only organizations that hold members are offered.
        for q in ["%25", "_", "党委"] {
            let (_, none) = app.get(&t, &format!("/api/v1/transfers/receivers?q={q}")).await;
            assert!(
                none["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|o| !o["name"].as_str().unwrap().ends_with("党委")),
                "{q}: {none}"
            );
            if q != "党委" {
                assert_eq!(none["items"].as_array().unwrap().len(), 0, "{q}: {none}");
            }
        }
        let m = app.login("member").await;
        let (status, _) = app.get(&m, "/api/v1/transfers/receivers?q=支部").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "members write no letters");

        // Without JavaScript: the search button reloads the form with the choices, the rest kept.
        let web = app.browser("secretary").await;
        let form = app
            .page(
                &web,
                &format!("/transfers/new?member_id={member}&to_org_q=组织人事&reason=工作调动"),
            )
            .await;
        assert!(form.contains(&format!("name=\"to_org\" value=\"{to}\"")), "{form}");
        assert!(
            form.contains(&format!("编号 {to}")) && form.contains("value=\"工作调动\""),
            "{form}"
        );
        let (_, before) = app.get(&t, "/api/v1/transfers?status=open").await;
        // Part of a name alone is not a choice: the form asks for one, and nothing is issued.
        let typed = vec![
            ("member_id", member.to_string()),
            ("to_org_q", "组织人事".to_string()),
            ("reason", "工作调动".to_string()),
        ];
        let (path, page) = app.submit(&web, "/transfers", &typed).await;
        assert!(page.contains("请从查找结果中选择一项"), "{path}: {page}");
        let (_, after) = app.get(&t, "/api/v1/transfers?status=open").await;
        assert_eq!(
            before["items"].as_array().unwrap().len(),
            after["items"].as_array().unwrap().len()
        );
        let mut chosen = typed;
        chosen.push(("to_org", to.to_string()));
        let (url, _) = app.submit(&web, "/transfers", &chosen).await;
        assert!(
            url.path().starts_with("/transfers/") && !url.path().ends_with("new"),
            "{url}"
        );
    }
);
