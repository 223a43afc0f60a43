//! Member development through the API: the timing and vote rules at their boundaries, admission
//! creating the probationary member, conversion making them full.

use crate::both;
use crate::support::{id_number, App};
use chrono::{Days, Months, NaiveDate};
use reqwest::StatusCode;
use serde_json::{json, Value};

both!(an_applicant_becomes_a_full_member_by_the_rules, |app: App| async move {
    let t = app.login("secretary").await;
    let (_, me) = app.get(&t, "/api/v1/me").await;
    let branch = me["grants"][0]["org_id"].as_i64().unwrap();
    let today = store::clock::today();
    let applied = today - Days::new(900);
    let minor = (applied - Days::new(17 * 365)).format("%Y%m%d").to_string();
    let (status, e) = app
        .post(&t, "/api/v1/development/applicants", json!({"org_id": branch, "name": "少年", "gender": "male", "id_number": id_number(&minor, 51, true), "applied_on": applied.to_string()}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["fields"]["applied_on"]["code"], "applied_on.under_18");

    let id_no = id_number("19990304", 52, false);
    let (status, f) = app
        .post(&t, "/api/v1/development/applicants", json!({"org_id": branch, "name": "申请人甲", "gender": "female", "id_number": id_no, "phone": "13900001111", "applied_on": applied.to_string()}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{f}");
    let id = f["id"].as_i64().unwrap();
    assert_eq!(
        (f["next_step"].as_i64(), f["alerts"][0].as_str()),
        (Some(2), Some("talk_overdue"))
    );
    assert_eq!(f["id_number_masked"].as_str().unwrap().len(), 18);
    let (status, e) = app
        .post(&t, "/api/v1/development/applicants", json!({"org_id": branch, "name": "申请人甲", "gender": "female", "id_number": id_no, "applied_on": applied.to_string()}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(e["error"]["code"], "development.duplicate");
    let (_, board) = app.get(&t, &format!("/api/v1/development?org_id={branch}")).await;
    assert!(board["items"].as_array().unwrap().iter().any(|x| x["id"] == id));
    let stages: Vec<i64> = board["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_i64().unwrap())
        .collect();
    assert_eq!(
        stages.iter().sum::<i64>() as usize,
        board["items"].as_array().unwrap().len(),
        "{board}"
    );
    assert!(stages[0] >= 1, "the new applicant is at the first stage: {stages:?}");

    let step = |n: u32, on: NaiveDate, people: Value| {
        let (app, t) = (&app, &t);
        async move {
            app.post(
                t,
                &format!("/api/v1/development/{id}/steps"),
                json!({"step": n, "done_on": on.to_string(), "people": people}),
            )
            .await
        }
    };
    let (_, list) = app
        .get(&t, &format!("/api/v1/members?org_id={branch}&category=full&per_page=3"))
        .await;
    let full: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    let c = app.login("committee").await;
    // The higher committee's steps wait for its review; the last approval records them.
    let approve = || {
        let (app, c) = (&app, &c);
        async move {
            let (_, pending) = app.get(c, "/api/v1/reviews/pending").await;
            let rid = pending["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["kind"] == "development" && r["subject_id"] == id)
                .expect("waiting for the higher committee")["id"]
                .as_i64()
                .unwrap();
            let (status, v) = app.post(c, &format!("/api/v1/reviews/{rid}/approve"), json!({})).await;
            assert_eq!(status, StatusCode::OK, "{v}");
        }
    };
    assert_eq!(
        step(3, applied + Days::new(5), json!([])).await.0,
        StatusCode::CONFLICT,
        "out of order"
    );
    assert_eq!(step(2, applied + Days::new(20), json!([])).await.0, StatusCode::OK);
    let activist = applied + Days::new(30);
    assert_eq!(step(3, activist, json!([])).await.0, StatusCode::OK);
    let (status, f) = step(4, activist, json!([])).await;
    assert_eq!(
        (status, f["next_step"].as_i64()),
        (StatusCode::OK, Some(4)),
        "a filing waits for the review"
    );
    approve().await;
    let (status, e) = step(5, activist, json!([])).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(e["error"]["code"], "development.contacts");
    assert_eq!(step(5, activist, json!([full[0], full[1]])).await.0, StatusCode::OK);
    assert_eq!(step(6, activist + Days::new(60), json!([])).await.0, StatusCode::OK);
    let a_year = activist + Months::new(12);
    let (status, e) = step(7, a_year - Days::new(1), json!([])).await;
    assert_eq!(status, StatusCode::CONFLICT, "the day before a year: {e}");
    assert_eq!(e["error"]["code"], "development.activist_under_a_year");
    assert_eq!(step(7, a_year, json!([])).await.0, StatusCode::OK, "exactly a year");
    assert_eq!(step(8, a_year, json!([])).await.0, StatusCode::OK);
    approve().await;
    let (status, e) = step(9, a_year, json!([full[0]])).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("development.introducers"))
    );
    assert_eq!(step(9, a_year, json!([full[0], full[2]])).await.0, StatusCode::OK);
    for n in 10..=14 {
        let (status, f) = step(n, a_year + Days::new(10), json!([])).await;
        assert_eq!(status, StatusCode::OK, "step {n}: {f}");
        if n == 13 {
            assert_eq!(f["next_step"], 13, "not recorded before the review");
            assert!(f["alerts"].as_array().unwrap().iter().any(|a| a == "awaiting_review"));
            let (status, e) = step(13, a_year + Days::new(10), json!([])).await;
            assert_eq!(
                (status, e["error"]["code"].as_str()),
                (StatusCode::CONFLICT, Some("development.awaiting_review"))
            );
            approve().await;
        }
    }
    let (status, e) = step(15, a_year + Days::new(20), json!([])).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("development.needs_vote"))
    );

    // The vote: half present is no quorum; half of those entitled in favour does not pass.
    let voted = today - Days::new(400);
    let vote = |present: u32, yes: u32, written: u32| {
        let (app, t) = (&app, &t);
        async move {
            app.post(t, &format!("/api/v1/development/{id}/votes"), json!({"step": 15, "held_on": voted.to_string(), "entitled": 10, "present": present, "yes": yes, "written_yes": written}))
                .await
                .1
        }
    };
    let r = vote(5, 5, 0).await;
    assert_eq!(
        (r["quorum"].as_bool(), r["passed"].as_bool()),
        (Some(false), Some(false)),
        "{r}"
    );
    let r = vote(6, 5, 0).await;
    assert_eq!(
        (r["quorum"].as_bool(), r["passed"].as_bool()),
        (Some(true), Some(false)),
        "{r}"
    );
    assert_eq!(r["file"]["next_step"], 15, "a failed vote completes nothing");
    let r = vote(6, 5, 1).await;
    assert_eq!(r["passed"], true, "{r}");
    assert!(r["explanation"].as_str().unwrap().contains("通过"));
    assert_eq!(r["file"]["next_step"], 16);

    assert_eq!(step(16, voted + Days::new(10), json!([])).await.0, StatusCode::OK);
    let (status, e) = step(17, voted + Months::new(6) + Days::new(1), json!([])).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("development.approval_too_late"))
    );
    let (status, f) = step(17, voted + Days::new(60), json!([])).await;
    assert_eq!(status, StatusCode::OK, "{f}");
    assert_eq!(f["status"], "open", "no member before the higher committee approves");
    approve().await;
    let (_, f) = app.get(&t, &format!("/api/v1/development/{id}")).await;
    assert_eq!(f["status"], "member");
    let member = f["member_id"].as_i64().unwrap();
    let (_, m) = app.get(&t, &format!("/api/v1/members/{member}")).await;
    assert_eq!(
        (m["category"].as_str(), m["joined_on"].as_str()),
        (Some("probationary"), Some(voted.to_string().as_str()))
    );
    assert_eq!(m["phone_masked"], "139****1111", "particulars carried over");

    for n in 18..=21 {
        assert_eq!(
            step(n, voted + Days::new(90), json!([])).await.0,
            StatusCode::OK,
            "step {n}"
        );
        if n == 18 {
            approve().await;
        }
    }
    let ends = voted + Months::new(12);
    let (status, e) = step(22, ends - Days::new(1), json!([])).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("development.probation_not_over"))
    );
    assert_eq!(step(22, ends, json!([])).await.0, StatusCode::OK);
    let (_, r) = app
        .post(
            &t,
            &format!("/api/v1/development/{id}/votes"),
            json!({"step": 23, "held_on": (ends + Days::new(3)).to_string(), "entitled": 8, "present": 7, "yes": 7}),
        )
        .await;
    assert_eq!(r["passed"], true, "{r}");
    let (status, f) = step(24, ends + Days::new(10), json!([])).await;
    assert_eq!(status, StatusCode::OK, "{f}");
    approve().await;
    let (_, f) = app.get(&t, &format!("/api/v1/development/{id}")).await;
    assert_eq!(f["status"], "full");
    let (_, m) = app.get(&t, &format!("/api/v1/members/{member}")).await;
    assert_eq!(
        (m["category"].as_str(), m["full_member_on"].as_str()),
        (Some("full"), Some(ends.to_string().as_str()))
    );
    assert_eq!(
        step(25, ends + Days::new(11), json!([])).await.0,
        StatusCode::OK,
        "materials archived"
    );
    let (status, _) = step(25, ends + Days::new(12), json!([])).await;
    assert_eq!(status, StatusCode::CONFLICT, "all 25 steps are done");
    let (_, board) = app.get(&t, &format!("/api/v1/development?org_id={branch}")).await;
    assert!(
        !board["items"].as_array().unwrap().iter().any(|x| x["id"] == id),
        "off the board when done"
    );

    // Another branch's file is out of reach; a member reaches none.
    let m = app.login("member").await;
    assert_eq!(
        app.get(&m, &format!("/api/v1/development/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
});

both!(
    development_documents_are_checked_filed_by_step_and_scoped,
    |app: App| async move {
        let c = app.login("committee").await;
        let t = app.login("secretary").await;
        let (_, me) = app.get(&c, "/api/v1/me").await;
        let root = me["grants"][0]["org_id"].as_i64().unwrap();
        let (_, me) = app.get(&t, "/api/v1/me").await;
        let branch = me["grants"][0]["org_id"].as_i64().unwrap();
        let (_, board) = app.get(&c, &format!("/api/v1/development?org_id={root}")).await;
        let files = board["items"].as_array().unwrap();
        let id = files
            .iter()
            .find(|f| f["org_id"] != branch)
            .expect("the demo has applicants")["id"]
            .as_i64()
            .unwrap();
        let upload = |token: &str, file: i64, step: i64, name: &str, body: Vec<u8>| {
            app.http
                .post(format!(
                    "{}/api/v1/development/{file}/documents?step={step}&name={name}",
                    app.base
                ))
                .bearer_auth(token)
                .body(body)
                .send()
        };
        let pdf = crate::support::pdf("application");
        let res = upload(&t, id, 1, "入党申请书.pdf", pdf.clone()).await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "another branch's file");
        let res = upload(&c, id, 1, "入党申请书.pdf", pdf.clone()).await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let doc: Value = res.json().await.unwrap();
        assert_eq!(
            (doc["step"].as_i64(), doc["name"].as_str()),
            (Some(1), Some("入党申请书.pdf"))
        );
        for (step, name, body, code) in [
            (1, "virus.exe", b"MZ\x90\x00".to_vec(), "file.type_not_allowed"),
            (
                1,
                "big.pdf",
                [b"%PDF-".to_vec(), vec![0; 20 * 1024 * 1024]].concat(),
                "",
            ),
            (26, "late.pdf", pdf.clone(), "step.invalid"),
        ] {
            let res = upload(&c, id, step, name, body).await.unwrap();
            let status = res.status();
            assert!(
                status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::PAYLOAD_TOO_LARGE,
                "{name}: {status}"
            );
            if !code.is_empty() {
                let e: Value = res.json().await.unwrap();
                let field = code.split('.').next().unwrap();
                assert_eq!(e["error"]["fields"][field]["code"], code, "{e}");
            }
        }
        let (_, docs) = app.get(&c, &format!("/api/v1/development/{id}/documents")).await;
        assert_eq!(
            docs["items"].as_array().unwrap().len(),
            1,
            "only the good one was kept: {docs}"
        );
        let res = app
            .http
            .get(format!("{}/api/v1/development/documents/{}", app.base, doc["id"]))
            .bearer_auth(&c)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.bytes().await.unwrap().to_vec(), pdf);

        // Another branch's secretary and a member reach neither the documents nor the bytes.
        for token in [&t, &app.login("member").await] {
            let res = app
                .http
                .get(format!("{}/api/v1/development/documents/{}", app.base, doc["id"]))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND);
            assert_eq!(
                app.get(token, &format!("/api/v1/development/{id}/documents")).await.0,
                StatusCode::NOT_FOUND
            );
        }
        let auditor = app.login("auditor").await;
        let (_, log) = app.get(&auditor, &format!("/api/v1/audit?target_id={id}")).await;
        let actions: Vec<&str> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert!(
            actions.contains(&"development.document") && actions.contains(&"development.document_read"),
            "{actions:?}"
        );
    }
);
