//! The question bank and exams: every question checked, versions kept, the import with row errors
//! (all, good rows only, nothing), draws that differ between attempts with no key before grading,
//! a client's score ignored, partial credit, the kept grade, the time limit, marking, an exam in a
//! task, and scope.

use crate::both;
use crate::support::App;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashSet;
use store::db::Q;

async fn me(app: &App, token: &str) -> Value {
    app.get(token, "/api/v1/me").await.1
}

/// A committee bank of `n` single-choice questions of history at difficulty 5 (the demo's bank has
/// none that hard): "题 {tag}-{i}" with the right option "正确{i}" among four.
async fn bank(app: &App, committee: &str, root: i64, tag: &str, n: usize) {
    for i in 0..n {
        let (status, q) = app
            .post(
                committee,
                "/api/v1/study/questions",
                json!({"org_id": root, "kind": "single", "stem": format!("题 {tag}-{i}"),
                       "options": [format!("错误甲{i}"), format!("正确{i}"), format!("错误乙{i}"), format!("错误丙{i}")],
                       "answer": "B", "categories": ["history"], "difficulty": 5, "explanation": format!("解析{i}")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{q}");
    }
}

/// The right letter of a drawn single-choice question of `bank`: where "正确…" was shuffled to.
fn right_letter(q: &Value) -> String {
    let at = q["options"]
        .as_array()
        .unwrap()
        .iter()
        .position(|o| o.as_str().unwrap().starts_with("正确"))
        .expect("the right option is shown");
    ((b'A' + at as u8) as char).to_string()
}

/// A member's standing on an exam, as their exam list shows it.
async fn standing_on(app: &App, member: &str, exam: i64) -> Value {
    let (_, mine) = app.get(member, "/api/v1/study/exams").await;
    mine["mine"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["exam"]["id"] == exam)
        .unwrap_or_else(|| panic!("{mine}"))["standing"]
        .clone()
}

async fn exam(app: &App, token: &str, body: Value) -> i64 {
    let (status, e) = app.post(token, "/api/v1/study/exams", body).await;
    assert_eq!(status, StatusCode::CREATED, "{e}");
    e["id"].as_i64().unwrap()
}

both!(
    a_bank_checks_every_question_keeps_versions_and_imports_by_row,
    |app: App| async move {
        let c = app.login("committee").await;
        let t = app.login("secretary").await;
        let m = app.login("member").await;
        let root = me(&app, &c).await["grants"][0]["org_id"].as_i64().unwrap();

        let (status, e) = app
        .post(
            &c,
            "/api/v1/study/questions",
            json!({"org_id": root, "kind": "single", "stem": "党的最高领导机关是？", "options": ["只有一个"], "answer": "E"}),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        for field in ["options", "answer", "categories"] {
            assert!(e["error"]["fields"][field].is_object(), "{field}: {e}");
        }
        let (status, e) = app
        .post(
            &c,
            "/api/v1/study/questions",
            json!({"org_id": root, "kind": "multiple", "stem": "多选只有一个答案", "options": ["甲", "乙", "丙"], "answer": "A", "categories": ["theory"]}),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a multiple choice has two right options at least: {e}"
        );
        let (status, e) = app
            .post(
                &c,
                "/api/v1/study/questions",
                json!({"org_id": root, "kind": "essay", "stem": "x", "answer": "y", "categories": ["theory"]}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e["error"]["fields"]["kind"].is_object(), "{e}");

        let (status, q) = app
            .post(
                &c,
                "/api/v1/study/questions",
                json!({"org_id": root, "kind": "single", "stem": "党的最高领导机关是？<script>",
                   "options": ["党的全国代表大会和它所产生的中央委员会", "中央纪律检查委员会", "国务院"],
                   "answer": "a", "categories": ["constitution"], "difficulty": 1}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{q}");
        assert_eq!(q["answer"], "A");
        assert_eq!(q["version"], 1);
        let id = q["id"].as_i64().unwrap();

        // The bank and its keys are for those who manage study: a member finds nothing.
        let (_, page) = app.get(&m, "/api/v1/study/questions").await;
        assert_eq!(page["total"], 0, "{page}");
        assert_eq!(
            app.get(&m, &format!("/api/v1/study/questions/{id}")).await.0,
            StatusCode::NOT_FOUND
        );
        // A branch secretary sees the committee's bank (their exams draw from it) but cannot edit it.
        assert_eq!(
            app.get(&t, &format!("/api/v1/study/questions/{id}")).await.0,
            StatusCode::OK
        );
        let (status, _) = app
        .patch(
            &t,
            &format!("/api/v1/study/questions/{id}"),
            json!({"kind": "single", "stem": "改", "options": ["甲", "乙"], "answer": "A", "categories": ["theory"]}),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, v2) = app
        .patch(
            &c,
            &format!("/api/v1/study/questions/{id}"),
            json!({"kind": "judge", "stem": "党的最高领导机关是党的全国代表大会和它所产生的中央委员会。", "answer": "对", "categories": ["constitution"]}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v2}");
        assert_eq!((v2["version"].as_i64(), v2["answer"].as_str()), (Some(2), Some("true")));
        let (versions,): (i64,) = app
            .store
            .db
            .one(
                store::db::Q::new(
                    "SELECT COUNT(*) FROM study_question_versions WHERE question_id = $1 AND version = 1",
                )
                .bind(id),
            )
            .await
            .unwrap();
        assert_eq!(versions, 1, "the old version is kept");

        // Import: every bad row named by its line; `all` writes nothing while a row is bad.
        let csv = "题型,题干,选项A,选项B,选项C,答案,分类,难度,解析\n\
        单选题,（测）遵义会议召开于哪一年？,1934,1935,1936,B,党的宗旨和党史,2,1935 年 1 月\n\
        多选题,（测）三会一课的三会包括？,支部党员大会,支部委员会,党小组会,ABC,党章党规党纪,2,\n\
        判断题,（测）预备党员的预备期为一年。,,,,对,党章党规党纪,1,\n\
        填空题,（测）党的根本组织原则是______。,,,,民主集中制|民主集中制原则,党章党规党纪,2,\n\
        单选题,（测）答案越界的题,甲,乙,,D,党章党规党纪,2,\n\
        论述题,（测）不认识的题型,,,,x,党章党规党纪,2,\n\
        判断题,（测）预备党员的预备期为一年。,,,,对,党章党规党纪,1,\n";
        let upload = |mode: &'static str| {
            let (app, c) = (&app, &c);
            async move {
                let res = app
                    .http
                    .post(format!(
                        "{}/api/v1/study/questions/import?org_id={root}&mode={mode}",
                        app.base
                    ))
                    .bearer_auth(c)
                    .body(csv)
                    .send()
                    .await
                    .unwrap();
                let status = res.status();
                (status, res.json::<Value>().await.unwrap())
            }
        };
        let (status, report) = upload("preview").await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(
            (report["rows"].as_i64(), report["good"].as_i64()),
            (Some(7), Some(4)),
            "{report}"
        );
        let lines: HashSet<i64> = report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["line"].as_i64().unwrap())
            .collect();
        assert_eq!(lines, HashSet::from([6, 7, 8]), "{report}");
        let (_, before) = app.get(&c, "/api/v1/study/questions").await;
        let (status, _) = upload("all").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (_, after) = app.get(&c, "/api/v1/study/questions").await;
        assert_eq!(before["total"], after["total"], "nothing written");
        let (status, report) = upload("good_only").await;
        assert_eq!(
            (status, report["imported"].as_i64()),
            (StatusCode::OK, Some(4)),
            "{report}"
        );
        let (_, after) = app
            .get(&c, "/api/v1/study/questions?kind=fill&q=%EF%BC%88%E6%B5%8B%EF%BC%89")
            .await;
        assert_eq!(after["total"], 1, "{after}");
        assert_eq!(after["questions"][0]["answer"], "民主集中制|民主集中制原则", "{after}");
        // The export reads back in the import's own columns.
        let res = app
            .http
            .get(format!("{}/api/v1/study/questions/export", app.base))
            .bearer_auth(&c)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let bytes = res.bytes().await.unwrap();
        assert!(bytes.starts_with(b"PK"), "an XLSX workbook");
        let res = app
            .http
            .get(format!("{}/api/v1/study/questions/export", app.base))
            .bearer_auth(&m)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "not for members");
    }
);

both!(
    attempts_draw_their_own_questions_and_the_server_alone_grades,
    |app: App| async move {
        let c = app.login("committee").await;
        let m = app.login("member").await;
        let root = me(&app, &c).await["grants"][0]["org_id"].as_i64().unwrap();
        bank(&app, &c, root, "史", 30).await;

        // A rule the banks cannot satisfy is refused with how many there are.
        let (status, e) = app
        .post(
            &c,
            "/api/v1/study/exams",
            json!({"org_id": root, "title": "太多", "rules": [{"category": "history", "difficulty": 5, "count": 31}], "closes_on": "2100-01-01"}),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let today = store::clock::today();
        let id = exam(
        &app,
        &c,
        json!({"org_id": root, "title": "党史知识测试", "rules": [{"category": "history", "kind": "single", "difficulty": 5, "count": 10}],
               "attempts_allowed": 2, "grade_policy": "highest", "pass_percent": 80, "closes_on": today.to_string()}),
    )
    .await;

        let (status, first) = app
            .post(&m, &format!("/api/v1/study/exams/{id}/attempts"), json!({}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        let questions = first["questions"].as_array().unwrap();
        assert_eq!(questions.len(), 10);
        let stems: HashSet<&str> = questions.iter().map(|q| q["stem"].as_str().unwrap()).collect();
        assert_eq!(stems.len(), 10, "no question twice");
        assert!(
            questions
                .iter()
                .all(|q| q["answer"].is_null() && q["explanation"].is_null()),
            "no key before submission: {first}"
        );
        let raw = serde_json::to_string(&first).unwrap();
        assert!(!raw.contains("解析"), "no explanation leaves the server before grading");
        // Starting again returns the attempt still open rather than a second one.
        let (_, same) = app
            .post(&m, &format!("/api/v1/study/exams/{id}/attempts"), json!({}))
            .await;
        assert_eq!(same["id"], first["id"]);

        // Half right, with a client's score and correctness that the server ignores.
        let attempt = first["id"].as_i64().unwrap();
        let mut answers = serde_json::Map::new();
        for (i, q) in questions.iter().enumerate() {
            let right = right_letter(q);
            let answer = if i % 2 == 0 {
                right
            } else if right == "A" {
                "C".into()
            } else {
                "A".into()
            };
            answers.insert(q["position"].to_string(), json!(answer));
        }
        let (status, graded) = app
            .post(
                &m,
                &format!("/api/v1/study/attempts/{attempt}/submit"),
                json!({"answers": answers, "score_permille": 1000, "passed": true, "correct": [1, 2, 3]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{graded}");
        assert_eq!(graded["score_permille"], 500, "graded on the server: {graded}");
        assert_eq!(graded["passed"], false);
        assert!(
            graded["questions"]
                .as_array()
                .unwrap()
                .iter()
                .all(|q| q["answer"].is_string()),
            "the key after grading"
        );
        let (status, e) = app
            .post(
                &m,
                &format!("/api/v1/study/attempts/{attempt}/submit"),
                json!({"answers": answers}),
            )
            .await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("study.attempt.submitted"))
        );
        let (refused,): (String,) = app
            .store
            .db
            .one(
                Q::new("SELECT detail FROM audit_log WHERE action = 'study.attempt.submit' AND result = 'denied' AND target_id = $1")
                    .bind(attempt.to_string()),
            )
            .await
            .unwrap();
        assert_eq!(
            refused, "study.attempt.submitted",
            "the second submission is audited as refused"
        );
        // In the browser, a stale tab's form lands on the result, saying why the answers were not taken.
        let browser = app.browser("member").await;
        let res = browser
            .post(format!("{}/study/attempts/{attempt}/submit", app.base))
            .header("sec-fetch-site", "same-origin")
            .form(&[("q1", "A")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CONFLICT);
        let page = res.text().await.unwrap();
        assert!(
            page.contains("id=\"form-errors\"") && page.contains("该试卷已交卷") && page.contains("id=\"score\""),
            "{page}"
        );

        // The second attempt draws differently; all right this time, the highest grade is kept.
        let (_, second) = app
            .post(&m, &format!("/api/v1/study/exams/{id}/attempts"), json!({}))
            .await;
        assert_ne!(second["id"], first["id"]);
        let stems2: HashSet<&str> = second["questions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["stem"].as_str().unwrap())
            .collect();
        let order = |a: &Value| -> Vec<String> {
            a["questions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|q| q["stem"].as_str().unwrap().to_string())
                .collect()
        };
        assert!(
            stems != stems2 || order(&first) != order(&second),
            "each attempt draws its own paper"
        );
        let answers: serde_json::Map<String, Value> = second["questions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| (q["position"].to_string(), json!(right_letter(q))))
            .collect();
        let (_, graded) = app
            .post(
                &m,
                &format!("/api/v1/study/attempts/{}/submit", second["id"]),
                json!({"answers": answers}),
            )
            .await;
        assert_eq!(
            (graded["score_permille"].as_i64(), graded["passed"].as_bool()),
            (Some(1000), Some(true)),
            "{graded}"
        );
        let (status, e) = app
            .post(&m, &format!("/api/v1/study/exams/{id}/attempts"), json!({}))
            .await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("study.exam.no_attempts_left"))
        );
        let standing = standing_on(&app, &m, id).await;
        assert_eq!(
            (
                standing["attempts"].as_i64(),
                standing["grade_permille"].as_i64(),
                standing["passed"].as_bool()
            ),
            (Some(2), Some(1000), Some(true))
        );

        // Managers see each member in tree order, never ranked; others' attempts are out of reach.
        let (_, view) = app.get(&c, &format!("/api/v1/study/exams/{id}")).await;
        let r = &view["results"];
        assert_eq!((r["took"].as_i64(), r["passed"].as_i64()), (Some(1), Some(1)), "{r}");
        let other = app.login("secretary").await;
        assert_eq!(
            app.post(
                &other,
                &format!("/api/v1/study/attempts/{attempt}/submit"),
                json!({"answers": {}})
            )
            .await
            .0,
            StatusCode::NOT_FOUND,
            "only its member submits an attempt"
        );
        let (_, as_member) = app.get(&m, &format!("/api/v1/study/exams/{id}")).await;
        assert!(as_member["results"].is_null(), "a member sees no one else's results");

        // An edit of the bank never changes a past attempt.
        let (_, page) = app.get(&c, "/api/v1/study/questions?q=%E9%A2%98%20%E5%8F%B2-0").await;
        let qid = page["questions"][0]["id"].as_i64().unwrap();
        app.patch(
        &c,
        &format!("/api/v1/study/questions/{qid}"),
        json!({"kind": "single", "stem": "题 史-0（修订）", "options": ["甲", "乙"], "answer": "A", "categories": ["history"]}),
    )
    .await;
        let (_, again) = app.get(&m, &format!("/api/v1/study/attempts/{attempt}")).await;
        assert_eq!(again["score_permille"], 500);
        assert!(
            !serde_json::to_string(&again).unwrap().contains("修订"),
            "the attempt keeps its copy"
        );
        assert_eq!(
            again["questions"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|q| q["credit_permille"] == 1000 && q["given"].is_string())
                .count(),
            5,
            "each answer and its credit are kept: {again}"
        );

        // The average of the graded attempts, rounded down: all right, then four of ten.
        let id = exam(
            &app,
            &c,
            json!({"org_id": root, "title": "党史平均分测试", "rules": [{"category": "history", "kind": "single", "difficulty": 5, "count": 10}],
                   "attempts_allowed": 2, "grade_policy": "average", "pass_percent": 70, "closes_on": today.to_string()}),
        )
        .await;
        for right in [10, 4] {
            let (_, a) = app
                .post(&m, &format!("/api/v1/study/exams/{id}/attempts"), json!({}))
                .await;
            let answers: serde_json::Map<String, Value> = a["questions"]
                .as_array()
                .unwrap()
                .iter()
                .enumerate()
                .map(|(i, q)| {
                    let letter = right_letter(q);
                    let wrong = if letter == "A" { "B" } else { "A" };
                    (
                        q["position"].to_string(),
                        json!(if i < right { letter.as_str() } else { wrong }),
                    )
                })
                .collect();
            let (status, graded) = app
                .post(
                    &m,
                    &format!("/api/v1/study/attempts/{}/submit", a["id"]),
                    json!({"answers": answers}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{graded}");
        }
        let standing = standing_on(&app, &m, id).await;
        assert_eq!(
            (standing["grade_permille"].as_i64(), standing["passed"].as_bool()),
            (Some(700), Some(true)),
            "(1000 + 400) / 2 against a pass mark of 70: {standing}"
        );
    }
);

both!(
    partial_credit_time_limits_marking_and_an_exam_in_a_task,
    |app: App| async move {
        let c = app.login("committee").await;
        let t = app.login("secretary").await;
        let m = app.login("member").await;
        let root = me(&app, &c).await["grants"][0]["org_id"].as_i64().unwrap();
        let branch = me(&app, &t).await["grants"][0]["org_id"].as_i64().unwrap();
        let member_id = me(&app, &m).await["member_id"].as_i64().unwrap();
        let today = store::clock::today().to_string();
        let mut fixed = Vec::new();
        for (kind, stem, options, answer) in [
            (
                "multiple",
                "三会一课的三会包括？",
                json!(["支部党员大会", "支部委员会", "党小组会", "民主生活会"]),
                "ABC",
            ),
            (
                "short",
                "简述开好组织生活会的要点。",
                json!([]),
                "会前准备、谈心谈话、批评与自我批评、整改",
            ),
        ] {
            let (status, q) = app
            .post(
                &t,
                "/api/v1/study/questions",
                json!({"org_id": branch, "kind": kind, "stem": stem, "options": options, "answer": answer, "categories": ["skills"]}),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{q}");
            fixed.push(q["id"].as_i64().unwrap());
        }
        // A branch's exam may not use what is not in its banks or above them.
        let (status, _) = app
            .post(
                &c,
                "/api/v1/study/exams",
                json!({"org_id": root, "title": "x", "fixed_ids": fixed, "closes_on": today}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a branch's questions are not in the committee's banks"
        );
        let id = exam(
        &app,
        &t,
        json!({"org_id": branch, "title": "支部实务测验", "fixed_ids": fixed, "partial_credit": true, "pass_percent": 60,
               "minutes": 5, "attempts_allowed": 2, "grade_policy": "last", "explain": "after_close", "closes_on": today}),
    )
    .await;
        let (status, task) = app
            .post(
                &t,
                "/api/v1/study/tasks",
                json!({"org_id": branch, "title": "实务测验", "due_on": today, "required": true, "exam_id": id}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "a task may be an exam alone: {task}");
        let task_id = task["id"].as_i64().unwrap();
        let (done, not_done) = crate::dashboard::tasks_tile(&app, &t, branch).await;

        let (_, a) = app
            .post(&m, &format!("/api/v1/study/exams/{id}/attempts"), json!({}))
            .await;
        let position = |kind: &str| {
            a["questions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|q| q["kind"] == kind)
                .unwrap()["position"]
                .to_string()
        };
        let multiple = a["questions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["kind"] == "multiple")
            .unwrap();
        // Two of the three right options, no wrong one: two thirds with partial credit.
        let shown = |text: &str| {
            let at = multiple["options"]
                .as_array()
                .unwrap()
                .iter()
                .position(|o| o == text)
                .unwrap();
            ((b'A' + at as u8) as char).to_string()
        };
        let mut two = vec![shown("支部党员大会"), shown("党小组会")];
        two.sort();
        let (status, sent) = app
        .post(
            &m,
            &format!("/api/v1/study/attempts/{}/submit", a["id"]),
            json!({"answers": {position("multiple"): two, position("short"): "会前充分准备，会上开展批评与自我批评，会后抓好整改。"}}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        assert_eq!(sent["status"], "marking", "a short answer waits for a person");
        assert!(sent["score_permille"].is_null());
        assert!(
            sent["questions"]
                .as_array()
                .unwrap()
                .iter()
                .all(|q| q["answer"].is_null()),
            "explanations after the exam closes: none yet"
        );
        let multiple_credit = |attempt: &serde_json::Value| {
            attempt["questions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|q| q["kind"] == "multiple")
                .unwrap()["credit_permille"]
                .clone()
        };
        assert!(
            multiple_credit(&sent).is_null(),
            "nor which answers were right, while the exam is open: {sent}"
        );

        // The secretary sees the partial credit, and finds the attempt among those to mark.
        let attempt = a["id"].as_i64().unwrap();
        let (_, seen) = app.get(&t, &format!("/api/v1/study/attempts/{attempt}")).await;
        assert_eq!(multiple_credit(&seen), 666);
        let (_, view) = app.get(&t, &format!("/api/v1/study/exams/{id}?show=marking")).await;
        let rows = view["results"]["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{view}");
        let (_, took) = app.get(&t, &format!("/api/v1/study/exams/{id}?show=took")).await;
        let r = &took["results"];
        assert_eq!(
            (r["took"].as_i64(), r["shown"].as_i64(), r["pass_rate"].as_i64()),
            (Some(1), Some(1), None),
            "waiting to be marked, the exam has been taken, with no grade yet: {r}"
        );
        assert_eq!(
            (rows[0]["member_id"].as_i64(), rows[0]["marking_attempt"].as_i64()),
            (Some(member_id), Some(attempt))
        );
        assert_eq!(
            app.get(&t, &format!("/api/v1/study/exams/{id}?show=best")).await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        // The member cannot mark their own; the secretary marks it, and the attempt is graded.
        let marks = json!({"marks": {position("short"): 80}});
        assert_eq!(
            app.post(&m, &format!("/api/v1/study/attempts/{attempt}/mark"), marks.clone())
                .await
                .0,
            StatusCode::NOT_FOUND
        );
        let (status, e) = app
            .post(
                &t,
                &format!("/api/v1/study/attempts/{attempt}/mark"),
                json!({"marks": {position("short"): 120}}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (status, marked) = app
            .post(&t, &format!("/api/v1/study/attempts/{attempt}/mark"), marks)
            .await;
        assert_eq!(status, StatusCode::OK, "{marked}");
        assert_eq!(
            (marked["status"].as_str(), marked["score_permille"].as_i64()),
            (Some("graded"), Some(733)),
            "(666 + 800) / 2"
        );
        let (_, progress) = app.get(&t, &format!("/api/v1/study/tasks/{task_id}")).await;
        let line = progress["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["member_id"] == member_id)
            .unwrap();
        assert_eq!(
            line["progress"], "completed",
            "passing the exam completes the task: {line}"
        );
        assert!(
            crate::study::totals_agree(&app).await > 0,
            "the task's completion is kept"
        );
        assert_eq!(
            crate::dashboard::tasks_tile(&app, &t, branch).await,
            (done + 1, not_done - 1),
            "the branch's dashboard counts it"
        );

        // Past the time limit (and its grace) answers are refused and the attempt closes with nothing.
        let (_, late) = app
            .post(&m, &format!("/api/v1/study/exams/{id}/attempts"), json!({}))
            .await;
        let late_id = late["id"].as_i64().unwrap();
        app.store
            .db
            .exec(
                store::db::Q::new("UPDATE study_attempts SET deadline_at = $2 WHERE id = $1")
                    .bind(late_id)
                    .bind(store::db::instant_text(
                        store::clock::now() - chrono::Duration::minutes(2),
                    )),
            )
            .await
            .unwrap();
        let (status, e) = app
            .post(
                &m,
                &format!("/api/v1/study/attempts/{late_id}/submit"),
                json!({"answers": {"1": "A"}}),
            )
            .await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("study.attempt.time_up"))
        );
        let (_, closed) = app.get(&m, &format!("/api/v1/study/attempts/{late_id}")).await;
        assert_eq!(
            (closed["status"].as_str(), closed["score_permille"].as_i64()),
            (Some("graded"), Some(0)),
            "{closed}"
        );
        // The exam keeps the last grade: failed now, so the task is no longer complete.
        let (_, progress) = app.get(&t, &format!("/api/v1/study/tasks/{task_id}")).await;
        let line = progress["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["member_id"] == member_id)
            .unwrap();
        assert_eq!(line["progress"], "started", "{line}");
        crate::study::totals_agree(&app).await;
        assert_eq!(crate::dashboard::tasks_tile(&app, &t, branch).await, (done, not_done));
    }
);
