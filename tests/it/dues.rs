//! Party dues: the official calculation, yearly bases, payments and reversals, arrears across the
//! year boundary, reports, the bases file, the statement, and scope — on both databases.

use crate::both;
use crate::support::{id_number, App};
use domain::dues::Month;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The organizations' month totals the reports add up are the sums of the ledger's lines, every
/// organization and month of them.
async fn totals_agree(app: &App) {
    use std::collections::BTreeMap;
    type Sums = BTreeMap<(i64, i64), (String, i64, i64, i64, i64, i64)>;
    let read = |sql: &'static str| async move {
        let rows: Vec<(i64, i64, String, i64, i64, i64, i64, i64)> =
            app.store.db.all(store::db::Q::new(sql)).await.unwrap();
        rows.into_iter()
            .map(|(o, m, p, d, pd, out, n, paying)| ((o, m), (p, d, pd, out, n, paying)))
            .collect::<Sums>()
    };
    let ledger = read(
        "SELECT org_id, month, MIN(org_path), CAST(SUM(due_fen) AS BIGINT), CAST(SUM(paid_fen) AS BIGINT),
         CAST(SUM(CASE WHEN due_fen > paid_fen THEN due_fen - paid_fen ELSE 0 END) AS BIGINT), COUNT(*),
         CAST(SUM(CASE WHEN paid_fen >= due_fen THEN 1 ELSE 0 END) AS BIGINT)
         FROM dues_ledger GROUP BY org_id, month",
    )
    .await;
    let totals = read(
        "SELECT org_id, month, org_path, due_fen, paid_fen, outstanding_fen, members, paying_members FROM dues_totals",
    )
    .await;
    assert!(!ledger.is_empty());
    assert_eq!(ledger, totals, "the totals are the ledger's sums");
}

both!(dues_are_calculated_by_the_official_bands, |app: App| async move {
    let t = app.login("secretary").await;
    let (status, d) = app
        .get(&t, "/api/v1/dues/calculate?category=employed&base_fen=520000")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(d["monthly_fen"], 7800);
    assert!(d["explanation"].as_str().unwrap().contains("1.5%"), "{d}");
    let res = app
        .http
        .get(format!(
            "{}/api/v1/dues/calculate?category=retired&base_fen=500001",
            app.base
        ))
        .bearer_auth(&t)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let d: Value = res.json().await.unwrap();
    assert_eq!(d["monthly_fen"], 5000);
    assert!(
        d["explanation"]
            .as_str()
            .unwrap()
            .starts_with("base 5,000.01 yuan, retired"),
        "{d}"
    );
    assert_eq!(
        app.get(&t, "/api/v1/dues/calculate?category=student").await.1["monthly_fen"],
        20
    );
    let (status, err) = app.get(&t, "/api/v1/dues/calculate?category=rural&base_fen=500").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["fields"]["base_fen"]["code"], "base_fen.rural_amount");
    let (status, _) = app.get(&t, "/api/v1/dues/calculate?category=boss&base_fen=1").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.call(Method::GET, "/api/v1/dues/calculate?category=student", None, None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
});

fn this_month() -> Month {
    Month::of(store::clock::today())
}

/// A probationary member admitted on the first of a month `months_ago` months back, in the
/// secretary's branch. Returns (member id, branch id, the month admitted).
async fn new_member(app: &App, t: &str, months_ago: u32, seq: u32) -> (i64, i64, Month) {
    let (_, me) = app.get(t, "/api/v1/me").await;
    let branch = me["grants"][0]["org_id"].as_i64().unwrap();
    let mut joined = this_month();
    for _ in 0..months_ago {
        joined = joined.prev();
    }
    let (status, m) = app
        .post(
            t,
            "/api/v1/members",
            json!({"org_id": branch, "name": "党费测试", "gender": "male", "birth_date": "1995-03-04",
                   "id_number": id_number("19950304", seq, true), "joined_on": format!("{joined}-01"),
                   "category": "probationary"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    (m["id"].as_i64().unwrap(), branch, joined)
}

async fn pay(app: &App, t: &str, body: Value) -> (StatusCode, Value) {
    app.post(t, "/api/v1/dues/payments", body).await
}

fn months(from: Month, to: Month) -> Vec<String> {
    from.through(to).map(|m| m.to_string()).collect()
}

both!(
    a_base_sets_what_is_owed_and_payments_must_match_it,
    |app: App| async move {
        let t = app.login("secretary").await;
        let (id, branch, joined) = new_member(&app, &t, 9, 41).await;
        let now = this_month();
        let today = store::clock::today().to_string();

        // Nothing is owed before a base is set.
        let (status, d) = app
            .get(&t, &format!("/api/v1/members/{id}/dues?year={}", now.year))
            .await;
        assert_eq!(status, StatusCode::OK, "{d}");
        assert_eq!(d["paid_up_to"], Value::Null);
        assert!(d["profiles"].as_array().unwrap().is_empty());

        for year in [joined.year, now.year] {
            let (status, p) = app
                .call(
                    Method::PUT,
                    &format!("/api/v1/members/{id}/dues-profile"),
                    Some(&t),
                    Some(json!({"year": year, "category": "employed", "base_fen": 520000, "effective_month": 1})),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{p}");
            assert_eq!(p["monthly_fen"], 7800);
            assert!(p["explanation_zh"].as_str().unwrap().contains("1.5%"), "{p}");
        }
        let (_, d) = app
            .get(&t, &format!("/api/v1/members/{id}/dues?year={}", joined.year))
            .await;
        let line = |d: &Value, m: Month| {
            d["months"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["month"] == m.to_string())
                .unwrap()
                .clone()
        };
        assert_eq!(line(&d, joined)["status"], "unpaid", "owed from the month of admission");
        assert_eq!(line(&d, joined)["due_fen"], 7800);
        if joined.month > 1 {
            assert_eq!(line(&d, joined.prev())["status"], "not_owed");
        }

        // The branch's arrears list has them for every complete month since admission.
        let (_, a) = app.get(&t, &format!("/api/v1/orgs/{branch}/dues/arrears")).await;
        let mine = a["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["member_id"] == id)
            .unwrap()
            .clone();
        assert_eq!(mine["months"], 9);
        assert_eq!(mine["level"], "flag", "nine months without a reason");

        // An amount that does not match is refused, naming what is owed.
        let (status, e) = pay(&app, &t, json!({"member_id": id, "months": [joined.to_string()], "amount_fen": 7000, "method": "cash", "paid_on": today})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["error"]["fields"]["amount_fen"]["code"], "amount_fen.amount_mismatch");
        assert!(
            e["error"]["fields"]["amount_fen"]["message"]
                .as_str()
                .unwrap()
                .contains("78.00"),
            "{e}"
        );
        let (status, e) = pay(&app, &t, json!({"member_id": id, "months": [joined.prev().to_string()], "amount_fen": 7800, "method": "cash", "paid_on": today})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["error"]["fields"]["months"]["code"], "months.not_owed");
        let (status, e) = pay(&app, &t, json!({"member_id": id, "months": [joined.to_string()], "amount_fen": 7800, "method": "gold", "paid_on": "2999-01-01"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["error"]["fields"]["method"]["code"], "method.invalid");
        assert_eq!(e["error"]["fields"]["paid_on"]["code"], "paid_on.in_future");

        let (status, first) = pay(&app, &t, json!({"member_id": id, "months": [joined.to_string()], "amount_fen": 7800, "method": "cash", "paid_on": today, "payer": "<b>配偶</b>"})).await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        assert_eq!(first["payer"], "<b>配偶</b>", "stored as typed; pages escape it");
        let (status, e) = pay(&app, &t, json!({"member_id": id, "months": [joined.to_string()], "amount_fen": 7800, "method": "cash", "paid_on": today})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["error"]["fields"]["months"]["code"], "months.already_paid");

        // Eight more months back: more than six needs a reason.
        let back = months(joined.next(), now.prev());
        assert_eq!(back.len(), 8);
        let body = json!({"member_id": id, "months": back, "amount_fen": 7800 * 8, "method": "bank_transfer", "paid_on": today});
        let (status, e) = pay(&app, &t, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            e["error"]["fields"]["reason"]["code"],
            "reason.back_payment_needs_reason"
        );
        let mut with_reason = body.clone();
        with_reason["reason"] = json!("外出务工，回来后一次补交");
        let (status, back_paid) = pay(&app, &t, with_reason).await;
        assert_eq!(status, StatusCode::CREATED, "{back_paid}");

        let (_, d) = app
            .get(&t, &format!("/api/v1/members/{id}/dues?year={}", now.year))
            .await;
        assert_eq!(d["paid_up_to"], now.prev().to_string());
        assert_eq!(d["arrears"], Value::Null);
        let (_, a) = app.get(&t, &format!("/api/v1/orgs/{branch}/dues/arrears")).await;
        assert!(
            !a["items"].as_array().unwrap().iter().any(|i| i["member_id"] == id),
            "arrears cleared"
        );

        // A correction is a reversing entry; the months are owed again.
        let pid = back_paid["id"].as_i64().unwrap();
        let (status, e) = app
            .post(&t, &format!("/api/v1/dues/payments/{pid}/reverse"), json!({}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (status, rev) = app
            .post(
                &t,
                &format!("/api/v1/dues/payments/{pid}/reverse"),
                json!({"reason": "金额录错"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{rev}");
        assert_eq!(rev["amount_fen"], -7800 * 8);
        assert_eq!(rev["reverses"], pid);
        let (status, e) = app
            .post(
                &t,
                &format!("/api/v1/dues/payments/{pid}/reverse"),
                json!({"reason": "再来一次"}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(e["error"]["code"], "dues.payment.already_reversed");
        let rid = rev["id"].as_i64().unwrap();
        let (status, _) = app
            .post(
                &t,
                &format!("/api/v1/dues/payments/{rid}/reverse"),
                json!({"reason": "x"}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (_, d) = app
            .get(&t, &format!("/api/v1/members/{id}/dues?year={}", now.year))
            .await;
        assert_eq!(d["paid_up_to"], joined.to_string());
        let payments = d["payments"].as_array().unwrap();
        assert!(
            payments.iter().any(|p| p["id"] == pid && p["reversed_by"] == rid),
            "the original stays, marked"
        );

        // A voluntary payment of 1,000 yuan or more goes to the centre in full.
        let (status, v) = pay(&app, &t, json!({"member_id": id, "months": [], "amount_fen": 100000, "method": "online", "paid_on": today, "voluntary": true})).await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        assert_eq!(v["remit_to_centre"], true);
        assert_eq!(v["voluntary_fen"], 100000);
        let (status, v) = pay(&app, &t, json!({"member_id": id, "months": [now.to_string()], "amount_fen": 7800 + 99999, "method": "online", "paid_on": today, "voluntary": true})).await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        assert_eq!(
            (v["dues_fen"].as_i64(), v["remit_to_centre"].as_bool()),
            (Some(7800), Some(false))
        );

        // A pay rise applies from the month it is first received; earlier months keep their amount.
        let (status, p) = app
        .call(
            Method::PUT,
            &format!("/api/v1/members/{id}/dues-profile"),
            Some(&t),
            Some(json!({"year": now.year, "category": "employed", "base_fen": 1000001, "effective_month": now.month})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{p}");
        assert_eq!(p["monthly_fen"], 20000);
        let (_, d) = app
            .get(&t, &format!("/api/v1/members/{id}/dues?year={}", now.year))
            .await;
        assert_eq!(line(&d, now)["due_fen"], 20000);
        assert_eq!(
            line(&d, now)["status"],
            "part_paid",
            "the rise is owed on a month already paid"
        );
        if now.month > 1 {
            assert_eq!(line(&d, now.prev())["due_fen"], 7800);
        }

        // The month's report over the branch adds up.
        let (status, r) = app
            .get(
                &t,
                &format!("/api/v1/orgs/{branch}/dues?year={}&month={}", now.year, now.month),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{r}");
        let (due, paid, out) = (
            r["due_fen"].as_i64().unwrap(),
            r["paid_fen"].as_i64().unwrap(),
            r["outstanding_fen"].as_i64().unwrap(),
        );
        assert!(due >= 20000 && out >= 20000 - 7800 && paid <= due, "{r}");
        assert!(r["paying_members"].as_i64().unwrap() <= r["members"].as_i64().unwrap());
        let (_, year) = app
            .get(&t, &format!("/api/v1/orgs/{branch}/dues?year={}", now.year))
            .await;
        assert!(year["voluntary_fen"].as_i64().unwrap() >= 100000 + 99999, "{year}");
        assert!(year["remit_count"].as_i64().unwrap() >= 1);

        // Every write is in the audit log.
        let auditor = app.login("auditor").await;
        let (_, log) = app.get(&auditor, &format!("/api/v1/audit?target_id={id}")).await;
        let actions: Vec<&str> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for a in ["dues.profile.set", "dues.payment.record", "dues.payment.reverse"] {
            assert!(actions.contains(&a), "{a} in {actions:?}");
        }
        totals_agree(&app).await;
    }
);

both!(
    arrears_run_across_the_year_boundary_and_reasons_count,
    |app: App| async move {
        let t = app.login("secretary").await;
        let (id, branch, _) = new_member(&app, &t, 0, 42).await;
        // Years long past are written in full, so the run is the same whatever the date today.
        for year in [2020, 2021] {
            let (status, p) = app
                .call(
                    Method::PUT,
                    &format!("/api/v1/members/{id}/dues-profile"),
                    Some(&t),
                    Some(json!({"year": year, "category": "retired", "base_fen": 500000})),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{p}");
            assert_eq!(p["monthly_fen"], 2500);
        }
        // Joined this month: nothing in 2020 or 2021 is owed.
        let (status, e) = pay(&app, &t, json!({"member_id": id, "months": ["2020-01"], "amount_fen": 2500, "method": "cash", "paid_on": "2021-01-05"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["error"]["fields"]["months"]["code"], "months.not_owed");

        // An older member of the branch instead.
        let (_, list) = app
            .get(&t, &format!("/api/v1/members?org_id={branch}&per_page=50"))
            .await;
        let old = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["joined_on"].as_str().unwrap() < "2019-01-01")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        for year in [2020, 2021] {
            let (status, _) = app
                .call(
                    Method::PUT,
                    &format!("/api/v1/members/{old}/dues-profile"),
                    Some(&t),
                    Some(json!({"year": year, "category": "retired", "base_fen": 500000})),
                )
                .await;
            assert_eq!(status, StatusCode::OK);
        }
        let paid = months(Month::new(2020, 1).unwrap(), Month::new(2020, 9).unwrap());
        let (status, p) = pay(&app, &t, json!({"member_id": old, "months": paid, "amount_fen": 2500 * 9, "method": "cash", "paid_on": "2021-01-05", "reason": "长期外出"})).await;
        assert_eq!(status, StatusCode::CREATED, "{p}");
        let arrears = |as_of: &'static str| {
            let (app, t) = (&app, &t);
            async move {
                let (status, a) = app
                    .get(t, &format!("/api/v1/orgs/{branch}/dues/arrears?as_of={as_of}"))
                    .await;
                assert_eq!(status, StatusCode::OK, "{a}");
                a["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|i| i["member_id"] == old)
                    .cloned()
            }
        };
        let a = arrears("2021-02").await.unwrap();
        assert_eq!((a["months"].as_i64(), a["from"].as_str()), (Some(5), Some("2020-10")));
        assert_eq!(a["level"], "warning", "five months");
        let a = arrears("2021-03").await.unwrap();
        assert_eq!(a["months"], 6);
        assert_eq!(a["level"], "flag", "six months across the new year, no reason");
        assert_eq!(a["outstanding_fen"], 2500 * 6);

        let (status, r) = app
            .post(
                &t,
                &format!("/api/v1/members/{old}/dues/excuse"),
                json!({"months": ["2020-12"], "reason": "住院"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{r}");
        assert_eq!(r["changed"], 1);
        let a = arrears("2021-03").await.unwrap();
        assert_eq!(
            (a["level"].as_str(), a["unexcused_run"].as_i64()),
            (Some("warning"), Some(3))
        );
        assert!(arrears("2020-09").await.is_none(), "paid up then");
        let (status, _) = app
            .get(&t, &format!("/api/v1/orgs/{branch}/dues/arrears?as_of=2021-13"))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
);

both!(hardship_needs_approval_and_scope_holds, |app: App| async move {
    let t = app.login("secretary").await;
    let (id, branch, _) = new_member(&app, &t, 1, 43).await;
    let year = this_month().year;
    let put = |body: Value| {
        let (app, t) = (&app, &t);
        async move {
            app.call(
                Method::PUT,
                &format!("/api/v1/members/{id}/dues-profile"),
                Some(t),
                Some(body),
            )
            .await
        }
    };
    let (status, e) = put(json!({"year": year, "category": "reduced", "base_fen": 100})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["fields"]["decided_on"]["code"], "decided_on.required");
    assert_eq!(e["error"]["fields"]["approved_on"]["code"], "approved_on.required");
    let (status, e) = put(json!({"year": year, "category": "reduced", "base_fen": 100, "decided_on": "2026-01-10", "approved_on": "2026-01-05"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        e["error"]["fields"]["approved_on"]["code"],
        "approved_on.before_decision"
    );
    let (status, p) = put(json!({"year": year, "category": "exempt", "decided_on": "2026-01-05", "approved_on": "2026-01-20", "approval_ref": "校党委〔2026〕3号"})).await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(
        (p["monthly_fen"].as_i64(), p["approval_ref"].as_str()),
        (Some(0), Some("校党委〔2026〕3号"))
    );
    let (status, e) =
        put(json!({"year": year, "category": "employed", "base_fen": 500000, "effective_month": 13})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        e["error"]["fields"]["effective_month"]["code"],
        "effective_month.invalid"
    );
    let (status, _) = put(json!({"year": 1999, "category": "student"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Another branch's member is out of reach; so is another branch's report.
    let committee = app.login("committee").await;
    let other = app.org_id(&committee, "法学院学生党支部").await;
    let outsider = app.some_member(&committee, other).await["id"].as_i64().unwrap();
    let (status, _) = app
        .call(
            Method::PUT,
            &format!("/api/v1/members/{outsider}/dues-profile"),
            Some(&t),
            Some(json!({"year": year, "category": "student"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = pay(&app, &t, json!({"member_id": outsider, "months": [this_month().to_string()], "amount_fen": 20, "method": "cash", "paid_on": store::clock::today().to_string()})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&t, &format!("/api/v1/members/{outsider}/dues")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_ne!(
        app.get(&t, &format!("/api/v1/orgs/{other}/dues")).await.0,
        StatusCode::OK
    );
    assert_ne!(
        app.get(&t, &format!("/api/v1/orgs/{other}/dues/arrears")).await.0,
        StatusCode::OK
    );
    // Committee staff reach both.
    assert_eq!(
        app.get(&committee, &format!("/api/v1/orgs/{other}/dues")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&committee, &format!("/api/v1/members/{id}/dues")).await.0,
        StatusCode::OK
    );

    // A member sees their own year with the base, and cannot change it.
    let member = app.login("member").await;
    let (_, me) = app.get(&member, "/api/v1/me").await;
    let own = me["member_id"].as_i64().unwrap();
    let (status, d) = app.get(&member, &format!("/api/v1/members/{own}/dues")).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert!(d["profiles"][0]["base_fen"].is_i64(), "{d}");
    assert!(d["paid_up_to"].is_string(), "the demo member is paid up: {d}");
    assert_eq!(d["can_manage"], false);
    let (status, _) = app
        .call(
            Method::PUT,
            &format!("/api/v1/members/{own}/dues-profile"),
            Some(&member),
            Some(json!({"year": year, "category": "student"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&member, &format!("/api/v1/members/{id}/dues")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_ne!(
        app.get(&member, &format!("/api/v1/orgs/{branch}/dues")).await.0,
        StatusCode::OK
    );
});

both!(bases_file_is_checked_then_written, |app: App| async move {
    let t = app.login("secretary").await;
    let (_, me) = app.get(&t, "/api/v1/me").await;
    let branch = me["grants"][0]["org_id"].as_i64().unwrap();
    let (_, list) = app
        .get(&t, &format!("/api/v1/members?org_id={branch}&per_page=3"))
        .await;
    let mut people = Vec::new();
    for m in list["items"].as_array().unwrap() {
        let id = m["id"].as_i64().unwrap();
        let (_, r) = app.post(&t, &format!("/api/v1/members/{id}/reveal"), json!({})).await;
        people.push((
            id,
            m["name"].as_str().unwrap().to_string(),
            r["id_number"].as_str().unwrap().to_string(),
        ));
    }
    let committee = app.login("committee").await;
    let other = app.org_id(&committee, "法学院学生党支部").await;
    let outsider = app.some_member(&committee, other).await["id"].as_i64().unwrap();
    let (_, r) = app
        .post(&committee, &format!("/api/v1/members/{outsider}/reveal"), json!({}))
        .await;
    let outsider_id = r["id_number"].as_str().unwrap().to_string();
    let outsider_name = app.get(&committee, &format!("/api/v1/members/{outsider}")).await.1["name"].clone();
    let mut bad_check = people[1].2.clone();
    let last = bad_check.pop().unwrap();
    bad_check.push(if last == '0' { '1' } else { '0' });
    let year = this_month().year + 1;
    let csv = format!(
        "姓名,公民身份号码,党费类别,缴费基数（元）,起始月份\n{},{},在职,\"6,000.00\",1\n{},{},在职,5000,1\n{},{},农民,5.00,1\n{},{},学生,,1\n别人,{},在职,5000,1\n",
        people[0].1, people[0].2, people[1].1, bad_check, people[2].1, people[2].2, outsider_name.as_str().unwrap(), outsider_id, people[0].2
    );
    let upload = |mode: &'static str, body: String| {
        let (app, t) = (&app, &t);
        async move {
            let res = app
                .http
                .post(format!("{}/api/v1/dues/bases/import?year={year}&mode={mode}", app.base))
                .bearer_auth(t)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = res.status();
            (status, res.json::<Value>().await.unwrap())
        }
    };
    let (status, report) = upload("preview", csv.clone()).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (report["rows"].as_i64(), report["good"].as_i64()),
        (Some(5), Some(1)),
        "{report}"
    );
    let problems: Vec<(i64, String)> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["line"].as_i64().unwrap(), p["code"].as_str().unwrap().to_string()))
        .collect();
    assert!(problems.contains(&(3, "checksum".into())), "{problems:?}");
    assert!(problems.contains(&(4, "rural_amount".into())), "{problems:?}");
    assert!(
        problems.contains(&(5, "not_found".into())),
        "another branch's member: {problems:?}"
    );
    assert!(problems.contains(&(6, "mismatch_record".into())), "{problems:?}");
    let (status, report) = upload("all", csv.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(report["imported"], 0);
    let (_, d) = app
        .get(&t, &format!("/api/v1/members/{}/dues?year={year}", people[0].0))
        .await;
    assert!(d["profiles"].as_array().unwrap().is_empty(), "nothing written");
    let (status, report) = upload("good_only", csv).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["imported"], 1);
    let (_, d) = app
        .get(&t, &format!("/api/v1/members/{}/dues?year={year}", people[0].0))
        .await;
    assert_eq!(d["profiles"][0]["base_fen"], 600000);
    assert_eq!(d["profiles"][0]["monthly_fen"], 9000);
    let (status, e) = upload("preview", "a,b\n1,2\n".into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["code"], "file.no_header");

    // The monthly job writes next January for the member with a base, once.
    let january = Month::new(year, 1).unwrap();
    assert!(
        store::dues::ledger::generate_month(&app.store.db, january)
            .await
            .unwrap()
            >= 1
    );
    assert_eq!(
        store::dues::ledger::generate_month(&app.store.db, january)
            .await
            .unwrap(),
        0
    );
    let (_, d) = app
        .get(&t, &format!("/api/v1/members/{}/dues?year={year}", people[0].0))
        .await;
    assert_eq!(d["months"][0]["status"], "unpaid");
    assert_eq!(d["months"][1]["status"], "upcoming");
    totals_agree(&app).await;
});

both!(reports_workbook_and_the_published_statement, |app: App| async move {
    let t = app.login("secretary").await;
    let (_, me) = app.get(&t, "/api/v1/me").await;
    let branch = me["grants"][0]["org_id"].as_i64().unwrap();
    let year = this_month().year;
    let (_, report) = app.get(&t, &format!("/api/v1/orgs/{branch}/dues?year={year}")).await;
    let (_, book) = app
        .get(&t, &format!("/api/v1/orgs/{branch}/dues/book?year={year}"))
        .await;
    let items = book["items"].as_array().unwrap();
    let book_due: i64 = items.iter().map(|l| l["due_fen"].as_i64().unwrap()).sum();
    assert_eq!(
        book_due,
        report["due_fen"].as_i64().unwrap(),
        "the book adds up to the report"
    );

    let res = app
        .http
        .get(format!("{}/api/v1/orgs/{branch}/dues.xlsx?year={year}", app.base))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.unwrap();
    use calamine::Reader;
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(wb.sheet_names(), vec!["汇总", "明细", "欠缴", "自愿多交"]);
    let detail = wb.worksheet_range("明细").unwrap();
    assert_eq!(detail.height(), items.len() + 1);

    let (status, st) = app
        .post(
            &t,
            &format!("/api/v1/orgs/{branch}/dues/statements"),
            json!({"year": year, "note": "上缴党委 60%，支部留存用于走访慰问"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{st}");
    assert_eq!(st["report"]["due_fen"], report["due_fen"]);
    // The demo member of the branch sees it.
    let member = app.login("member").await;
    let (status, list) = app
        .get(&member, &format!("/api/v1/orgs/{branch}/dues/statements"))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["items"][0]["note"], "上缴党委 60%，支部留存用于走访慰问");
    let (status, _) = app
        .post(
            &member,
            &format!("/api/v1/orgs/{branch}/dues/statements"),
            json!({"year": year}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});

// The branch's dues sheet: who owes what up to a month; ticked members are recorded each as their
// own payment, all in one transaction; any refusal writes nothing and names the member.
both!(a_months_dues_for_the_branch_in_one_submit, |app: App| async move {
    let t = app.login("secretary").await;
    let (_, me) = app.get(&t, "/api/v1/me").await;
    let branch = me["grants"][0]["org_id"].as_i64().unwrap();
    let today = store::clock::today();
    let month = Month::of(today).to_string();
    // Three members admitted last month, each with a base: each owes last month and this one.
    let mut three = Vec::new();
    for seq in [71, 72, 73] {
        let (id, _, joined) = new_member(&app, &t, 1, seq).await;
        for year in [joined.year, Month::of(today).year] {
            let (status, p) = app
                .call(
                    Method::PUT,
                    &format!("/api/v1/members/{id}/dues-profile"),
                    Some(&t),
                    Some(json!({"year": year, "category": "employed", "base_fen": 520000, "effective_month": 1})),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{p}");
        }
        three.push(id);
    }
    let sheet_path = format!("/api/v1/orgs/{branch}/dues/sheet?month={month}");
    let (status, sheet) = app.get(&t, &sheet_path).await;
    assert_eq!(status, StatusCode::OK, "{sheet}");
    let lines: Vec<&Value> = sheet["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| three.contains(&l["member_id"].as_i64().unwrap()))
        .collect();
    assert_eq!(lines.len(), 3, "each is on the sheet: {sheet}");
    for l in &lines {
        assert_eq!(l["months"].as_array().unwrap().len(), 2, "last month and this: {l}");
        assert_eq!(
            (l["owed_fen"].as_i64(), &l["needs_reason"]),
            (Some(2 * 7800), &json!(false)),
            "{l}"
        );
    }
    let owed: i64 = 3 * 2 * 7800;
    let payments = |extra: Option<i64>| {
        let mut list: Vec<Value> = three
            .iter()
            .map(|id| json!({"member_id": id, "method": "cash"}))
            .collect();
        if let Some(id) = extra {
            list.push(json!({"member_id": id, "method": "online"}));
        }
        json!({"month": month, "paid_on": today.to_string(), "payments": list})
    };
    let count = || async {
        let (n,): (i64,) = app
            .store
            .db
            .one(store::db::Q::new("SELECT COUNT(*) FROM dues_payments"))
            .await
            .unwrap();
        n
    };
    let before = count().await;
    // A member who owes nothing here: refused, and nothing is written for the three either.
    let c = app.login("committee").await;
    let elsewhere = app.some_member(&c, app.org_id(&c, "法学院学生党支部").await).await["id"]
        .as_i64()
        .unwrap();
    let sheet_post = format!("/api/v1/orgs/{branch}/dues/sheet");
    let (status, err) = app.post(&t, &sheet_post, payments(Some(elsewhere))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(count().await, before, "all or nothing");
    let mut future = payments(None);
    future["paid_on"] = json!((today + chrono::Duration::days(3)).to_string());
    let (status, err) = app.post(&t, &sheet_post, future).await;
    assert_eq!(
        (status, err["error"]["fields"]["paid_on"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("paid_on.in_future"))
    );
    let (status, _) = app.post(&t, &sheet_post, json!({"month": month, "paid_on": today.to_string(), "payments": [{"member_id": three[0], "method": "cash"}, {"member_id": three[0], "method": "cash"}]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a member twice is refused");

    let (status, done) = app.post(&t, &sheet_post, payments(None)).await;
    assert_eq!((status, done["recorded"].as_i64()), (StatusCode::OK, Some(3)), "{done}");
    assert_eq!(count().await, before + 3, "each its own payment");
    let (sum,): (i64,) = app
        .store
        .db
        .one(store::db::Q::new(&format!(
            "SELECT CAST(SUM(amount_fen) AS BIGINT) FROM dues_payments WHERE member_id IN ({}, {}, {})",
            three[0], three[1], three[2]
        )))
        .await
        .unwrap();
    assert!(sum >= owed, "what they owed is paid: {sum} ≥ {owed}");
    let (_, after) = app.get(&t, &sheet_path).await;
    assert!(
        after["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| !three.contains(&l["member_id"].as_i64().unwrap())),
        "paid up, they leave the sheet"
    );
    // The headline's outstanding runs to last month; this month is shown apart.
    let now = Month::of(today);
    let (_, year) = app
        .get(&t, &format!("/api/v1/orgs/{branch}/dues?year={}", now.year))
        .await;
    let (out, overdue, this) = (
        year["outstanding_fen"].as_i64().unwrap(),
        year["overdue_fen"].as_i64().unwrap(),
        year["this_month_fen"].as_i64().unwrap(),
    );
    let this_row = year["months"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["month"] == now.to_string())
        .unwrap();
    assert_eq!(this, this_row["outstanding_fen"].as_i64().unwrap(), "{year}");
    assert_eq!(overdue + this, out, "nothing is ahead of this month: {year}");
    let (_, only_this) = app
        .get(
            &t,
            &format!("/api/v1/orgs/{branch}/dues?year={}&month={}", now.year, now.month),
        )
        .await;
    assert_eq!(
        only_this["overdue_fen"], 0,
        "a month that has just begun is not overdue"
    );
    // Another branch's sheet is out of the secretary's sight.
    let other = app.org_id(&c, "法学院学生党支部").await;
    assert_eq!(
        app.get(&t, &format!("/api/v1/orgs/{other}/dues/sheet")).await.0,
        StatusCode::NOT_FOUND
    );
    totals_agree(&app).await;
});

both!(
    the_branch_book_is_searched_by_name_and_filtered_by_who_owes,
    |app: App| async move {
        let t = app.login("secretary").await;
        let (_, me) = app.get(&t, "/api/v1/me").await;
        let branch = me["grants"][0]["org_id"].as_i64().unwrap();
        let year = chrono::Datelike::year(&store::clock::today());
        let (_, book) = app
            .get(&t, &format!("/api/v1/orgs/{branch}/dues/book?year={year}"))
            .await;
        let lines = book["items"].as_array().unwrap();
        // Behind means owing for a month that is over; the month under way is not late.
        let closed = chrono::Datelike::month0(&store::clock::today()) as usize;
        let owing = lines
            .iter()
            .filter(|l| {
                l["months"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .take(closed)
                    .any(|m| m.as_array().is_some_and(|dp| dp[0].as_i64() > dp[1].as_i64()))
            })
            .count();
        assert!(owing < lines.len(), "most members are not behind");
        let web = app.browser("secretary").await;
        let rows = |page: &str| {
            let book = &page[page.find("id=\"book\"").unwrap()..];
            book.matches(&format!("/dues?year={year}\">")).count()
        };
        let all = app.page(&web, &format!("/orgs/{branch}/dues?year={year}")).await;
        assert_eq!(rows(&all), lines.len());
        let behind = app
            .page(&web, &format!("/orgs/{branch}/dues?year={year}&show=owing"))
            .await;
        assert_eq!(rows(&behind), owing, "only those behind up to last month");
        let name = lines[0]["name"].as_str().unwrap();
        let part: String = name.chars().skip(1).collect();
        let found = app
            .page(&web, &format!("/orgs/{branch}/dues?year={year}&q={}", urlencode(&part)))
            .await;
        let expected = lines
            .iter()
            .filter(|l| l["name"].as_str().unwrap().contains(&part))
            .count();
        assert_eq!(rows(&found), expected, "{part}");
        assert!(found.contains(&format!("{expected} / {}", lines.len())) || expected == lines.len());
    }
);

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}
