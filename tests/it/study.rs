//! Online study (学习教育): items published through review, completion after opening without a
//! timer, versions that keep earned credit, tasks with progress, offline records for many members
//! at once (all or nothing), exemptions out of the rates, the ledger and the report, and scope.

use crate::both;
use crate::support::App;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The secretary drafts an item for their branch and the committee approves it: its id.
async fn published_item(app: &App, secretary: &str, committee: &str, branch: i64, title: &str, hours: &str) -> i64 {
    let (status, item) = app
        .post(
            secretary,
            "/api/v1/study/items",
            json!({"org_id": branch, "title": title, "body": "第一段。\n第二段。", "categories": ["theory", "history"], "hours": hours}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{item}");
    assert_eq!(item["status"], "reviewing");
    let id = item["id"].as_i64().unwrap();
    approve(app, committee, id).await;
    id
}

pub(crate) async fn approve(app: &App, committee: &str, item: i64) {
    let (_, pending) = app.get(committee, "/api/v1/reviews/pending").await;
    let rid = pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "study" && r["subject_id"] == item)
        .expect("the item waits for review")["id"]
        .as_i64()
        .unwrap();
    let (status, v) = app
        .post(committee, &format!("/api/v1/reviews/{rid}/approve"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

/// The 学时 a ledger credits from library items (the demo's 党课 add their own lines).
fn item_tenths(ledger: &Value) -> i64 {
    ledger["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["source"] == "item")
        .map(|l| l["hours_tenths"].as_i64().unwrap())
        .sum()
}

/// The study totals kept beside every write equal the totals counted again from the sources: the
/// members' years, hours by category, who completed each task and the counts up the tree.
pub(crate) async fn totals_agree(app: &App) -> usize {
    async fn snapshot(app: &App) -> Vec<String> {
        let db = &app.store.db;
        let mut out = Vec::new();
        let years: Vec<(i64, i64, String, i64, i64, i64)> = db
            .all(store::db::Q::new(
                "SELECT member_id, year, org_path, credited_tenths, required_tenths, CAST(CASE WHEN counted THEN 1 ELSE 0 END AS BIGINT)
                 FROM study_years WHERE credited_tenths > 0 ORDER BY member_id, year",
            ))
            .await
            .unwrap();
        out.extend(years.iter().map(|r| format!("year {r:?}")));
        let categories: Vec<(i64, String, String, i64)> = db
            .all(store::db::Q::new(
                "SELECT year, org_path, categories, hours_tenths FROM study_category_totals
                 WHERE hours_tenths <> 0 ORDER BY year, org_path, categories",
            ))
            .await
            .unwrap();
        out.extend(categories.iter().map(|r| format!("category {r:?}")));
        let done: Vec<(i64, i64, String, i64)> = db
            .all(store::db::Q::new(
                "SELECT task_id, member_id, org_path, CAST(CASE WHEN counted THEN 1 ELSE 0 END AS BIGINT) FROM study_task_done
                 ORDER BY task_id, member_id",
            ))
            .await
            .unwrap();
        out.extend(done.iter().map(|r| format!("done {r:?}")));
        let counts: Vec<(i64, i64, i64)> = db
            .all(store::db::Q::new(
                "SELECT task_id, org_id, done FROM study_task_counts WHERE done <> 0 ORDER BY task_id, org_id",
            ))
            .await
            .unwrap();
        out.extend(counts.iter().map(|r| format!("count {r:?}")));
        out
    }
    let kept = snapshot(app).await;
    store::study::totals::recount_all(&app.store.db).await.unwrap();
    let counted = snapshot(app).await;
    assert_eq!(
        kept, counted,
        "the kept study totals equal those counted from the sources"
    );
    counted.len()
}

async fn me(app: &App, token: &str) -> Value {
    app.get(token, "/api/v1/me").await.1
}

both!(
    an_item_is_credited_once_after_opening_and_an_edit_keeps_the_credit,
    |app: App| async move {
        let t = app.login("secretary").await;
        let c = app.login("committee").await;
        let m = app.login("member").await;
        let branch = me(&app, &t).await["grants"][0]["org_id"].as_i64().unwrap();
        let member_id = me(&app, &m).await["member_id"].as_i64().unwrap();

        // Bad input is named field by field; nothing is drafted.
        let (status, e) = app
            .post(
                &t,
                "/api/v1/study/items",
                json!({"org_id": branch, "kind": "podcast", "title": " ", "categories": ["nope"], "hours": "1.25"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        for field in ["kind", "title", "categories", "hours"] {
            assert!(e["error"]["fields"][field].is_object(), "{field}: {e}");
        }
        let other = app.org_id(&c, "法学院学生党支部").await;
        let (status, _) = app
            .post(
                &t,
                "/api/v1/study/items",
                json!({"org_id": other, "title": "x", "body": "y", "categories": ["theory"], "hours": "1"}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "not the secretary's organization"
        );

        let (status, item) = app
            .post(
                &t,
                "/api/v1/study/items",
                json!({"org_id": branch, "title": "学习党章第一章<script>", "body": "党员的义务。", "categories": ["constitution"], "hours": "1.5"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{item}");
        let id = item["id"].as_i64().unwrap();
        assert_eq!(
            app.get(&m, &format!("/api/v1/study/items/{id}")).await.0,
            StatusCode::NOT_FOUND,
            "not before approval"
        );
        approve(&app, &c, id).await;

        // Marking it done before opening it is refused: completion follows the content.
        let (status, e) = app
            .post(&m, &format!("/api/v1/study/items/{id}/complete"), json!({}))
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(e["error"]["code"], "study.item.not_opened");
        let (_, library) = app.get(&m, "/api/v1/study/items?category=constitution").await;
        assert!(library["items"].as_array().unwrap().iter().any(|i| i["id"] == id));
        let (_, library) = app.get(&m, "/api/v1/study/items?category=skills").await;
        assert!(
            !library["items"].as_array().unwrap().iter().any(|i| i["id"] == id),
            "filtered by category"
        );

        let (status, opened) = app.get(&m, &format!("/api/v1/study/items/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(opened["opened"], true);
        // No timer: marked done at once, it counts.
        let (status, done) = app
            .post(
                &m,
                &format!("/api/v1/study/items/{id}/complete"),
                json!({"hours": "99"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["credited"], true);
        let (_, again) = app
            .post(&m, &format!("/api/v1/study/items/{id}/complete"), json!({}))
            .await;
        assert_eq!(again["credited"], false, "an item counts once");
        let (_, ledger) = app.get(&m, &format!("/api/v1/members/{member_id}/study")).await;
        assert_eq!(item_tenths(&ledger), 15, "{ledger}");
        let items: Vec<&Value> = ledger["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["source"] == "item")
            .collect();
        assert_eq!(items.len(), 1);
        assert_eq!(
            (items[0]["form"].as_str(), items[0]["source_id"].as_i64()),
            (Some("online"), Some(id))
        );

        // An edit of the published item is a new version, reviewed again; the credit stays.
        let (status, edited) = app
            .patch(
                &t,
                &format!("/api/v1/study/items/{id}"),
                json!({"title": "学习党章第一章（修订）", "body": "党员的义务和权利。", "categories": ["constitution"], "hours": "3"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{edited}");
        assert_eq!(
            (edited["version"].as_i64(), edited["status"].as_str()),
            (Some(2), Some("reviewing"))
        );
        assert_eq!(
            app.get(&m, &format!("/api/v1/study/items/{id}")).await.0,
            StatusCode::NOT_FOUND,
            "the new version waits for review"
        );
        let (_, ledger) = app.get(&m, &format!("/api/v1/members/{member_id}/study")).await;
        assert_eq!(item_tenths(&ledger), 15, "credit earned on version 1 stays");
        approve(&app, &c, id).await;
        let (_, v2) = app.get(&m, &format!("/api/v1/study/items/{id}")).await;
        assert_eq!(
            (v2["version"].as_i64(), v2["completed"].as_bool()),
            (Some(2), Some(true))
        );

        // Another branch's secretary-less member (the committee has no member record) cannot complete.
        let (status, _) = app
            .post(&c, &format!("/api/v1/study/items/{id}/complete"), json!({}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(totals_agree(&app).await > 0, "something to count");
    }
);

both!(
    an_article_keeps_its_headings_lists_and_links_and_nothing_that_runs,
    |app: App| async move {
        let t = app.login("secretary").await;
        let c = app.login("committee").await;
        let branch = me(&app, &t).await["grants"][0]["org_id"].as_i64().unwrap();
        let dirty = r#"<h3 onclick="steal()">一、学习要求</h3><script>alert(1)</script><p style="color:red">认真学习<strong>党章</strong></p><ul><li>逐条对照</li></ul><a href="javascript:alert(2)">点我</a><a href="https://www.12371.cn/">共产党员网</a><iframe src="https://evil.example/"></iframe><img src=x onerror=alert(3)>"#;
        let (status, item) = app
            .post(
                &t,
                "/api/v1/study/items",
                json!({"org_id": branch, "title": "富文本文章", "body": dirty, "categories": ["constitution"], "hours": "1"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{item}");
        let body = item["body"].as_str().unwrap();
        assert_eq!(
            body,
            r#"<h2>一、学习要求</h2><p>认真学习<strong>党章</strong></p><ul><li>逐条对照</li></ul><a rel="noopener noreferrer nofollow">点我</a><a href="https://www.12371.cn/" rel="noopener noreferrer nofollow">共产党员网</a>"#
        );
        let id = item["id"].as_i64().unwrap();
        approve(&app, &c, id).await;
        let m = app.browser("member").await;
        let page = app.page(&m, &format!("/study/items/{id}")).await;
        assert!(
            page.contains("<h2>一、学习要求</h2>"),
            "the heading is shown as a heading"
        );
        for bad in [
            "alert(",
            "onclick",
            "onerror",
            "<iframe",
            "javascript:",
            "style=\"color",
        ] {
            assert!(!page.contains(bad), "{bad} is not on the page");
        }
        // Plain text typed into the form becomes paragraphs, its markup-like text escaped.
        let (_, plain) = app
            .post(
                &t,
                "/api/v1/study/items",
                json!({"org_id": branch, "title": "纯文本", "body": "第一段\n第二段", "categories": ["theory"], "hours": "1"}),
            )
            .await;
        assert_eq!(plain["body"], "<p>第一段</p><p>第二段</p>");
        // Search reads the words, not the markup.
        let (_, found) = app
            .get(&t, "/api/v1/search?q=%E9%80%90%E6%9D%A1%E5%AF%B9%E7%85%A7")
            .await;
        let hit = found["hits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["id"] == id && h["kind"] == "item")
            .unwrap_or_else(|| panic!("the article is found by its words: {found}"))
            .clone();
        assert!(!hit.to_string().contains("<li>"), "{hit}");
    }
);

both!(a_task_to_members_by_name_reaches_them_alone, |app: App| async move {
    let t = app.login("secretary").await;
    let c = app.login("committee").await;
    let m = app.login("member").await;
    let branch = me(&app, &t).await["grants"][0]["org_id"].as_i64().unwrap();
    let member_id = me(&app, &m).await["member_id"].as_i64().unwrap();
    let item = published_item(&app, &t, &c, branch, "点名学习：入党誓词", "1").await;
    let law = app.org_id(&c, "法学院学生党支部").await;
    let stranger = app.some_member(&c, law).await["id"].as_i64().unwrap();
    let year = chrono::Datelike::year(&store::clock::today());
    let due = format!("{year}-12-31");
    let (_, roster) = app
        .get(&t, &format!("/api/v1/members?org_id={branch}&per_page=5"))
        .await;
    let other = roster["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .find(|id| *id != member_id)
        .unwrap();

    let (status, e) = app
            .post(
                &t,
                "/api/v1/study/tasks",
                json!({"org_id": branch, "title": "点名", "item_ids": [item], "due_on": due, "to_member_ids": [other, stranger]}),
            )
            .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "another branch's member: {e}");
    assert_eq!(e["error"]["fields"]["to_member_ids"]["code"], "to_member_ids.not_found");
    let (status, task) = app
        .post(
            &t,
            "/api/v1/study/tasks",
            json!({"org_id": branch, "title": "点名学习", "item_ids": [item], "due_on": due, "to_member_ids": [other]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    assert_eq!(task["chosen_members"], 1);
    let task_id = task["id"].as_i64().unwrap();
    // The member not named neither sees it nor reads it.
    let (_, tasks) = app.get(&m, "/api/v1/study/tasks").await;
    assert!(tasks["mine"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["task"]["id"] != task_id));
    assert_eq!(
        app.get(&m, &format!("/api/v1/study/tasks/{task_id}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, p) = app.get(&t, &format!("/api/v1/study/tasks/{task_id}")).await;
    assert_eq!(p["members"], 1, "the one named: {p}");
    let (status, _) = app
        .post(
            &t,
            &format!("/api/v1/study/tasks/{task_id}/offline"),
            json!({"member_ids": [member_id], "form": "group"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "not in its audience");
    let (status, r) = app
        .post(
            &t,
            &format!("/api/v1/study/tasks/{task_id}/offline"),
            json!({"member_ids": [other], "form": "group"}),
        )
        .await;
    assert_eq!((status, r["credited"].as_i64()), (StatusCode::OK, Some(1)), "{r}");
    let (_, report) = app.get(&t, &format!("/api/v1/orgs/{branch}/study")).await;
    let rate = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["task_id"] == task_id)
        .unwrap()
        .clone();
    assert_eq!(
        (rate["counted"].as_i64(), rate["completed"].as_i64()),
        (Some(1), Some(1)),
        "{rate}"
    );

    // Named beside an organization: the committee's required task to the law branch and one member here.
    let committee_org = me(&app, &c).await["grants"][0]["org_id"].as_i64().unwrap();
    let tile = |org: i64| crate::dashboard::tasks_tile(&app, &c, org);
    let (done_before, not_done_before) = tile(committee_org).await;
    let (branch_done, branch_not_done) = tile(branch).await;
    let (status, both) = app
            .post(
                &c,
                "/api/v1/study/tasks",
                json!({"org_id": committee_org, "title": "法学院与一名党员", "item_ids": [item], "due_on": due, "to_org_ids": [law], "to_member_ids": [member_id], "required": true}),
            )
            .await;
    assert_eq!(status, StatusCode::CREATED, "{both}");
    // The dashboards count it at once (its part added on assignment, not counted again).
    let (_, law_org) = app.get(&c, &format!("/api/v1/orgs/{law}")).await;
    let law_members = law_org["member_count"].as_i64().unwrap();
    assert_eq!(
        tile(committee_org).await,
        (done_before, not_done_before + law_members + 1),
        "the law branch and the one named, none done yet"
    );
    assert_eq!(
        tile(branch).await,
        (branch_done, branch_not_done + 1),
        "the one named here"
    );
    let (_, law_study) = app.get(&c, &format!("/api/v1/orgs/{law}/study")).await;
    let (reached, done) = crate::dashboard::required_tasks(&law_study);
    assert_eq!(tile(law).await, (done, reached - done), "the law branch's report");
    let both_id = both["id"].as_i64().unwrap();
    let (_, tasks) = app.get(&m, "/api/v1/study/tasks").await;
    assert!(
        tasks["mine"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["task"]["id"] == both_id),
        "named, they see it"
    );
    let (_, p) = app.get(&c, &format!("/api/v1/study/tasks/{both_id}")).await;
    let (_, law_roster) = app.get(&c, &format!("/api/v1/orgs/{law}")).await;
    assert_eq!(
        p["members"].as_i64().unwrap(),
        law_roster["member_count"].as_i64().unwrap() + 1,
        "the law branch and the one named: {p}"
    );
    let (_, report) = app.get(&c, &format!("/api/v1/orgs/{committee_org}/study")).await;
    let rate = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["task_id"] == both_id)
        .unwrap()
        .clone();
    assert_eq!(
        rate["counted"], p["members"],
        "the report counts whom the task reaches: {rate}"
    );
    // Completed offline, it moves the dashboards of their branch and of the committee alike.
    let (status, r) = app
        .post(
            &c,
            &format!("/api/v1/study/tasks/{both_id}/offline"),
            json!({"member_ids": [member_id], "form": "group"}),
        )
        .await;
    assert_eq!((status, r["credited"].as_i64()), (StatusCode::OK, Some(1)), "{r}");
    assert_eq!(tile(branch).await, (branch_done + 1, branch_not_done));
    let (_, report) = app.get(&c, &format!("/api/v1/orgs/{committee_org}/study")).await;
    let (reached, done) = crate::dashboard::required_tasks(&report);
    assert_eq!(
        tile(committee_org).await,
        (done, reached - done),
        "the committee's report"
    );
    assert_eq!(
        tile(committee_org).await,
        (done_before + 1, not_done_before + law_members)
    );
    // The browser form offers the members' picker.
    let sb = app.browser("secretary").await;
    let form = app.page(&sb, "/study/tasks/new").await;
    assert!(
        form.contains("name=\"to_member_ids_q\""),
        "a search for members by name"
    );
    assert!(totals_agree(&app).await > 0, "something to count");
});

both!(
    a_task_counts_offline_study_all_or_nothing_and_exempt_members_leave_the_rate,
    |app: App| async move {
        let t = app.login("secretary").await;
        let c = app.login("committee").await;
        let m = app.login("member").await;
        let branch = me(&app, &t).await["grants"][0]["org_id"].as_i64().unwrap();
        let member_id = me(&app, &m).await["member_id"].as_i64().unwrap();
        let a = published_item(&app, &t, &c, branch, "习近平新时代中国特色社会主义思想学习纲要", "2").await;
        let b = published_item(&app, &t, &c, branch, "党史学习：遵义会议", "1").await;
        // The year's last day: the task, the exemption and the report fall in one year.
        let today = store::clock::today();
        let year = chrono::Datelike::year(&today);
        let due = chrono::NaiveDate::from_ymd_opt(year, 12, 31).unwrap().to_string();

        let (status, e) = app
            .post(
                &t,
                "/api/v1/study/tasks",
                json!({"org_id": branch, "title": "十二月学习", "item_ids": [], "due_on": "2020-13-01"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["error"]["fields"]["item_ids"]["code"], "item_ids.required");
        assert_eq!(e["error"]["fields"]["due_on"]["code"], "due_on.invalid");
        let (status, task) = app
            .post(
                &t,
                "/api/v1/study/tasks",
                json!({"org_id": branch, "title": "十二月集中学习", "item_ids": [a, b], "due_on": due, "required": true}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{task}");
        let task_id = task["id"].as_i64().unwrap();

        // The member sees it, not started; opening one item starts it.
        let (_, tasks) = app.get(&m, "/api/v1/study/tasks").await;
        let mine = tasks["mine"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["task"]["id"] == task_id)
            .unwrap()
            .clone();
        assert_eq!(mine["progress"], "not_started");
        app.get(&m, &format!("/api/v1/study/items/{a}")).await;
        let (_, tasks) = app.get(&m, "/api/v1/study/tasks").await;
        let mine = tasks["mine"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["task"]["id"] == task_id)
            .unwrap()
            .clone();
        assert_eq!(mine["progress"], "started");
        assert_eq!(
            app.get(&m, &format!("/api/v1/study/tasks/{task_id}")).await.0,
            StatusCode::FORBIDDEN,
            "a member does not see the others' progress"
        );

        let (status, p) = app.get(&t, &format!("/api/v1/study/tasks/{task_id}")).await;
        assert_eq!(status, StatusCode::OK, "{p}");
        let members = p["members"].as_i64().unwrap();
        assert!(members >= 5, "{p}");
        assert_eq!((p["completed"].as_i64(), p["started"].as_i64()), (Some(0), Some(1)));
        let others: Vec<i64> = p["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["member_id"].as_i64().unwrap())
            .filter(|id| *id != member_id)
            .take(3)
            .collect();

        // The committee's task to one chosen branch reaches that branch only.
        let (status, chosen) = app
            .post(
                &c,
                "/api/v1/study/tasks",
                json!({"org_id": me(&app, &c).await["grants"][0]["org_id"], "title": "一个支部", "item_ids": [a], "due_on": due, "to_org_ids": [branch]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{chosen}");
        let (_, cp) = app.get(&c, &format!("/api/v1/study/tasks/{}", chosen["id"])).await;
        assert_eq!(
            cp["members"].as_i64(),
            Some(members),
            "the chosen branch's members only: {cp}"
        );

        // Another branch's member in the same submission: refused, and nobody is recorded.
        let law = app.org_id(&c, "法学院学生党支部").await;
        let stranger = app.some_member(&c, law).await["id"].as_i64().unwrap();
        let (status, e) = app
            .post(
                &t,
                &format!("/api/v1/study/tasks/{task_id}/offline"),
                json!({"member_ids": [others[0], stranger], "form": "home"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["error"]["fields"]["member_ids"]["code"], "member_ids.not_found");
        let (status, _) = app
            .post(
                &t,
                &format!("/api/v1/study/tasks/{task_id}/offline"),
                json!({"member_ids": [others[0]], "form": "online"}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "online is not an offline form"
        );
        let (_, p) = app.get(&t, &format!("/api/v1/study/tasks/{task_id}")).await;
        assert_eq!(p["completed"], 0, "nothing half-written");

        let (status, r) = app
            .post(
                &t,
                &format!("/api/v1/study/tasks/{task_id}/offline"),
                json!({"member_ids": [others[0], others[1]], "form": "home"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{r}");
        assert_eq!((r["credited"].as_i64(), r["already"].as_i64()), (Some(2), Some(0)));
        let (_, ledger) = app.get(&t, &format!("/api/v1/members/{}/study", others[0])).await;
        assert_eq!(item_tenths(&ledger), 30, "both items' hours: {ledger}");
        assert!(ledger["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["source"] == "item")
            .all(|l| l["form"] == "home"));

        // An exempt member leaves the rate.
        let (status, e) = app
            .post(
                &t,
                "/api/v1/study/exemptions",
                json!({"member_id": others[2], "reason": "sleepy"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (status, _) = app
            .post(
                &t,
                "/api/v1/study/exemptions",
                json!({"member_id": stranger, "reason": "frail"}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "another branch's member");
        let (status, _) = app
            .post(
                &t,
                "/api/v1/study/exemptions",
                json!({"member_id": others[2], "year": year, "reason": "frail", "note": "卧床"}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, p) = app.get(&t, &format!("/api/v1/study/tasks/{task_id}")).await;
        assert_eq!((p["completed"].as_i64(), p["exempt"].as_i64()), (Some(2), Some(1)));
        assert_eq!(p["rate"].as_i64(), Some(2 * 100 / (members - 1)));
        assert_eq!(
            p["completed"].as_i64().unwrap() + p["started"].as_i64().unwrap() + p["not_started"].as_i64().unwrap(),
            members - 1
        );

        // The report over the branch agrees with the task's progress.
        let (status, report) = app.get(&t, &format!("/api/v1/orgs/{branch}/study")).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        let rate = report["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["task_id"] == task_id)
            .unwrap()
            .clone();
        assert_eq!(
            (rate["counted"].as_i64(), rate["completed"].as_i64()),
            (Some(members - 1), Some(2))
        );
        assert_eq!(report["exempt"], 1);
        assert_eq!(
            report["below_total"].as_i64(),
            Some(members - 1),
            "3 学时 are below 32 for everyone"
        );
        let theory = report["categories"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["category"] == "theory")
            .unwrap()
            .clone();
        assert_eq!(theory["hours_tenths"], 60, "two members × 3 学时 filed under theory");
        // The workbook lists every member below the minimum (audited), tasks and categories.
        let res = app
            .http
            .get(format!("{}/api/v1/orgs/{branch}/study.xlsx", app.base))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let mut wb = calamine::Xlsx::new(std::io::Cursor::new(res.bytes().await.unwrap().to_vec())).unwrap();
        use calamine::Reader;
        let below = wb.worksheet_range("未达最低学时").unwrap();
        assert_eq!(
            below.height() as i64,
            members - 1 + 1,
            "a header and every member below the minimum"
        );
        let tasks_sheet = wb.worksheet_range("学习任务").unwrap();
        assert!(tasks_sheet
            .rows()
            .any(|r| r.iter().any(|c| c.to_string() == "十二月集中学习")));
        assert_eq!(
            app.get(&t, &format!("/api/v1/orgs/{law}/study")).await.0,
            StatusCode::NOT_FOUND,
            "another branch's report"
        );
        let (status, _) = app.get(&c, &format!("/api/v1/orgs/{law}/study")).await;
        assert_eq!(status, StatusCode::OK, "the committee reads any branch below it");
        let (status, _) = app.get(&m, &format!("/api/v1/members/{}/study", others[0])).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "a member reads only their own ledger");
        assert!(totals_agree(&app).await > 0, "something to count");

        // A member who completed it moves to another branch: the branch's rate and minimum follow.
        let (status, moved) = app
            .patch(&c, &format!("/api/v1/members/{}", others[0]), json!({"org_id": law}))
            .await;
        assert_eq!(status, StatusCode::OK, "{moved}");
        let (_, report) = app.get(&t, &format!("/api/v1/orgs/{branch}/study")).await;
        let rate = report["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["task_id"] == task_id)
            .unwrap()
            .clone();
        assert_eq!(
            (rate["counted"].as_i64(), rate["completed"].as_i64()),
            (Some(members - 2), Some(1)),
            "{rate}"
        );
        assert_eq!(report["below_total"].as_i64(), Some(members - 2));
        let (_, law_report) = app.get(&c, &format!("/api/v1/orgs/{law}/study")).await;
        assert!(
            law_report["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|x| x["task_id"] != task_id),
            "the task reaches the branch only: {law_report}"
        );
        assert!(totals_agree(&app).await > 0, "something to count");
    }
);

both!(
    a_member_completes_and_a_secretary_records_offline_in_the_browser,
    |app: App| async move {
        let t = app.login("secretary").await;
        let c = app.login("committee").await;
        let branch = me(&app, &t).await["grants"][0]["org_id"].as_i64().unwrap();
        let a = published_item(&app, &t, &c, branch, "形势与政策：二〇二六年", "1").await;
        let due = (store::clock::today() + chrono::Duration::days(10)).to_string();

        let sb = app.browser("secretary").await;
        let (url, page) = app
            .submit(
                &sb,
                "/study/tasks/new",
                &[
                    ("org_id", branch.to_string()),
                    ("title", "本月学习".into()),
                    ("due_on", due),
                    ("required", "1".into()),
                    ("item_ids", a.to_string()),
                ],
            )
            .await;
        assert!(url.path().starts_with("/study/tasks/"), "{url}");
        assert!(page.contains("id=\"saved\""), "the save is confirmed");
        let task_id: i64 = url.path().rsplit('/').next().unwrap().parse().unwrap();

        let mb = app.browser("member").await;
        let hub = app.page(&mb, "/study").await;
        assert!(hub.contains("本月学习") && hub.contains("未开始"), "the member's task");
        let item = app.page(&mb, &format!("/study/items/{a}")).await;
        assert!(item.contains("complete-form"));
        let (_, done) = app.submit(&mb, &format!("/study/items/{a}/complete"), &[]).await;
        assert!(
            done.contains("id=\"completed\"") && done.contains("id=\"saved\""),
            "{done}"
        );
        let ledger = app.page(&mb, "/study/ledger").await;
        assert!(ledger.contains("形势与政策：二〇二六年") && ledger.contains("线上学习"));

        // Offline for several members in one submission. "Tick everyone not done" starts every
        // box ticked, so a group study is its absentees' taps and one submit.
        let ticked = app.page(&sb, &format!("/study/tasks/{task_id}?tick=all")).await;
        let boxes = ticked.matches("name=\"member_ids\"").count();
        assert!(boxes > 3, "{boxes} boxes");
        assert_eq!(
            ticked.matches(" checked> ").count(),
            boxes,
            "every box not done starts ticked"
        );
        let progress = app.page(&sb, &format!("/study/tasks/{task_id}")).await;
        assert_eq!(progress.matches(" checked> ").count(), 0, "and none without asking");
        let ids: Vec<String> = progress
            .split("name=\"member_ids\" value=\"")
            .skip(1)
            .take(3)
            .map(|s| s.split('"').next().unwrap().to_string())
            .collect();
        assert_eq!(ids.len(), 3, "members not yet done can be ticked");
        let mut fields: Vec<(&str, String)> = ids.iter().map(|i| ("member_ids", i.clone())).collect();
        fields.push(("form", "group".into()));
        let (_, after) = app
            .submit(&sb, &format!("/study/tasks/{task_id}/offline"), &fields)
            .await;
        assert!(after.contains("id=\"saved\""));
        let (_, p) = app.get(&t, &format!("/api/v1/study/tasks/{task_id}")).await;
        assert_eq!(p["completed"], 4, "the member online and three offline: {p}");
    }
);

both!(
    members_who_have_not_finished_a_task_are_reminded_once_before_it_is_due,
    |app: App| async move {
        let t = app.login("secretary").await;
        let c = app.login("committee").await;
        let m = app.login("member").await;
        let branch = me(&app, &t).await["grants"][0]["org_id"].as_i64().unwrap();
        let a = published_item(&app, &t, &c, branch, "党章第二章：党员的权利", "1").await;
        let today = store::clock::today();
        let due = (today + chrono::Duration::days(2)).to_string();
        let (status, task) = app
            .post(
                &t,
                "/api/v1/study/tasks",
                json!({"org_id": branch, "title": "限期学习", "item_ids": [a], "due_on": due, "required": true}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{task}");
        // The member finishes before the reminder: they are not told.
        app.get(&m, &format!("/api/v1/study/items/{a}")).await;
        app.post(&m, &format!("/api/v1/study/items/{a}/complete"), json!({}))
            .await;

        let study_notices = |v: &Value| {
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| n["kind"] == "study.due" && n["title"].as_str().unwrap_or("").contains("限期学习"))
                .count()
        };
        store::jobs::reminders::send(&app.store.db, today).await.unwrap();
        store::jobs::reminders::send(&app.store.db, today).await.unwrap();
        let (_, mine) = app.get(&t, "/api/v1/me/notices").await;
        assert_eq!(
            study_notices(&mine),
            1,
            "the secretary, who has not studied it, once: {mine}"
        );
        let (_, theirs) = app.get(&m, "/api/v1/me/notices").await;
        assert_eq!(study_notices(&theirs), 0, "the member who finished is not told");
    }
);

both!(
    a_study_meeting_attended_counts_its_hours_in_the_ledger_and_the_report,
    |app: App| async move {
        let t = app.login("secretary").await;
        let m = app.login("member").await;
        let branch = me(&app, &t).await["grants"][0]["org_id"].as_i64().unwrap();
        let member_id = me(&app, &m).await["member_id"].as_i64().unwrap();
        let year = chrono::Datelike::year(&store::clock::today());
        let day = format!("{year}-01-15");
        let (status, e) = app
            .post(
                &t,
                "/api/v1/meetings",
                json!({"org_id": branch, "kind": "party_lecture", "title": "x", "starts_at": format!("{day}T14:00"), "ends_at": format!("{day}T16:00"), "study_hours": "two"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["error"]["fields"]["study_hours"]["code"], "study_hours.invalid");
        let (status, lecture) = app
            .post(
                &t,
                "/api/v1/meetings",
                json!({"org_id": branch, "kind": "party_lecture", "title": "书记讲党课：党章学习", "starts_at": format!("{day}T14:00"), "ends_at": format!("{day}T16:00"), "study_hours": "2"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{lecture}");
        assert_eq!(lecture["study_tenths"], 20);
        let id = lecture["id"].as_i64().unwrap();
        let marks = json!([{"member_id": member_id, "status": "present"}]);
        let (status, _) = app
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/meetings/{id}/attendance"),
                Some(&t),
                Some(marks),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (_, before) = app
            .get(&m, &format!("/api/v1/members/{member_id}/study?year={year}"))
            .await;
        assert!(
            !before["lines"].as_array().unwrap().iter().any(|l| l["source_id"] == id),
            "a planned meeting credits nothing yet"
        );
        let (status, _) = app
            .patch(&t, &format!("/api/v1/meetings/{id}"), json!({"status": "held"}))
            .await;
        assert_eq!(status, StatusCode::OK);
        let (_, after) = app
            .get(&m, &format!("/api/v1/members/{member_id}/study?year={year}"))
            .await;
        let line = after["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["source"] == "meeting" && l["source_id"] == id)
            .cloned()
            .expect("the lecture's line");
        assert_eq!(
            (line["hours_tenths"].as_i64(), line["source_id"].as_i64()),
            (Some(20), Some(id))
        );
        assert_eq!(
            after["credited_tenths"].as_i64().unwrap(),
            before["credited_tenths"].as_i64().unwrap() + 20
        );
        let (_, report) = app.get(&t, &format!("/api/v1/orgs/{branch}/study?year={year}")).await;
        let mine = report["below"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["member_id"] == member_id)
            .cloned();
        assert_eq!(
            mine.map(|b| b["credited_tenths"].as_i64()),
            Some(after["credited_tenths"].as_i64()),
            "the report counts the same hours: {report}"
        );
        assert!(totals_agree(&app).await > 0, "something to count");
    }
);

both!(
    a_training_class_credits_those_present_split_between_the_years_it_spans,
    |app: App| async move {
        let t = app.login("secretary").await;
        let c = app.login("committee").await;
        let m = app.login("member").await;
        let branch = me(&app, &t).await["grants"][0]["org_id"].as_i64().unwrap();
        let member_id = me(&app, &m).await["member_id"].as_i64().unwrap();
        let (status, e) = app
            .post(&t, "/api/v1/study/classes", json!({"org_id": branch, "title": "x", "starts_on": "2026-12-30", "ends_on": "2026-12-29", "hours": "40"}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["error"]["fields"]["ends_on"]["code"], "ends_on.before_start");
        // Five days over the new year: three in 2026, two in 2027.
        let (status, class) = app
            .post(
                &t,
                "/api/v1/study/classes",
                json!({"org_id": branch, "title": "党员冬训班", "starts_on": "2026-12-29", "ends_on": "2027-01-02", "hours": "40"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{class}");
        let id = class["id"].as_i64().unwrap();
        let (_, roll) = app.get(&t, &format!("/api/v1/study/classes/{id}")).await;
        let others: Vec<i64> = roll["roll"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["member_id"].as_i64().unwrap())
            .filter(|i| *i != member_id)
            .take(2)
            .collect();
        let law = app.org_id(&c, "法学院学生党支部").await;
        let stranger = app.some_member(&c, law).await["id"].as_i64().unwrap();
        let (status, _) = app
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/study/classes/{id}/attendance"),
                Some(&t),
                Some(json!({"member_ids": [member_id, stranger]})),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "another branch's member: nothing recorded"
        );
        let (status, saved) = app
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/study/classes/{id}/attendance"),
                Some(&t),
                Some(json!({"member_ids": [member_id, others[0], others[1]]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{saved}");
        assert_eq!(saved["attended"], 3);
        let class_line = |ledger: &Value| {
            ledger["lines"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["source"] == "class" && l["source_id"] == id)
                .map(|l| l["hours_tenths"].as_i64().unwrap())
        };
        let (_, y2026) = app
            .get(&m, &format!("/api/v1/members/{member_id}/study?year=2026"))
            .await;
        let (_, y2027) = app
            .get(&m, &format!("/api/v1/members/{member_id}/study?year=2027"))
            .await;
        assert_eq!(
            (class_line(&y2026), class_line(&y2027)),
            (Some(240), Some(160)),
            "{y2026} {y2027}"
        );
        let (_, report) = app.get(&t, &format!("/api/v1/orgs/{branch}/study?year=2027")).await;
        let row = report["below"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["member_id"] == member_id)
            .cloned()
            .unwrap();
        assert_eq!(
            row["credited_tenths"], y2027["credited_tenths"],
            "the report counts the same part"
        );
        // Taking a member off the roll takes the credit away.
        app.call(
            reqwest::Method::PUT,
            &format!("/api/v1/study/classes/{id}/attendance"),
            Some(&t),
            Some(json!({"member_ids": [others[0]]})),
        )
        .await;
        let (_, y2026) = app
            .get(&m, &format!("/api/v1/members/{member_id}/study?year=2026"))
            .await;
        assert_eq!(class_line(&y2026), None);
        assert_eq!(
            app.get(&m, &format!("/api/v1/study/classes/{id}")).await.0,
            StatusCode::NOT_FOUND,
            "a member does not manage classes"
        );
        assert!(totals_agree(&app).await > 0, "something to count");
    }
);

/// A Word document with these paragraphs.
pub(crate) fn docx(paragraphs: &[&str]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default();
        w.start_file("[Content_Types].xml", options).unwrap();
        std::io::Write::write_all(&mut w, br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#).unwrap();
        w.start_file("word/document.xml", options).unwrap();
        let body: String = paragraphs
            .iter()
            .map(|p| format!("<w:p><w:r><w:t>{p}</w:t></w:r></w:p>"))
            .collect();
        std::io::Write::write_all(
            &mut w,
            format!("<w:document><w:body>{body}</w:body></w:document>").as_bytes(),
        )
        .unwrap();
        w.finish().unwrap();
    }
    buf.into_inner()
}

async fn upload_study_file(app: &App, token: &str, name: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let res = app
        .http
        .post(format!("{}/api/v1/study/files?name={name}", app.base))
        .bearer_auth(token)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap())
}

both!(
    a_video_completes_at_95_percent_of_what_was_played_and_a_document_shows_its_text,
    |app: App| async move {
        let t = app.login("secretary").await;
        let c = app.login("committee").await;
        let m = app.login("member").await;
        let branch = me(&app, &t).await["grants"][0]["org_id"].as_i64().unwrap();
        let member_id = me(&app, &m).await["member_id"].as_i64().unwrap();

        // A file's type comes from its bytes: a page named .mp4 is refused.
        let (status, e) = upload_study_file(&app, &t, "x.mp4", b"<html><script>alert(1)</script>".to_vec()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (status, e) = upload_study_file(&app, &m, "x.mp4", b"\0\0\0\x18ftypisom".to_vec()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "members do not upload: {e}");
        let mut mp4 = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2mp41".to_vec();
        mp4.extend((0..4000u32).map(|i| (i % 251) as u8));
        let (status, video) = upload_study_file(&app, &t, "lecture.mov", mp4.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{video}");
        assert_eq!(
            (video["kind"].as_str(), video["name"].as_str()),
            (Some("video"), Some("lecture.mp4"))
        );
        let (status, e) = app
            .post(
                &t,
                "/api/v1/study/items",
                json!({"org_id": branch, "kind": "document", "title": "错配", "file_id": video["id"], "categories": ["theory"], "hours": "1"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a video is no document: {e}");
        let (status, e) = app
            .post(
                &t,
                "/api/v1/study/items",
                json!({"org_id": branch, "kind": "video", "title": "无时长", "file_id": video["id"], "categories": ["theory"], "hours": "1"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e["error"]["fields"]["duration_seconds"].is_object(), "{e}");
        let (status, item) = app
            .post(
                &t,
                "/api/v1/study/items",
                json!({"org_id": branch, "kind": "video", "title": "党课视频：遵义会议", "file_id": video["id"], "duration_seconds": 600, "categories": ["history"], "hours": "1"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{item}");
        let id = item["id"].as_i64().unwrap();
        approve(&app, &c, id).await;

        // The member opens it; the player fetches the file by range.
        assert_eq!(
            app.get(&m, &format!("/api/v1/study/items/{id}")).await.0,
            StatusCode::OK
        );
        let res = app
            .http
            .get(format!("{}/api/v1/study/items/{id}/file", app.base))
            .bearer_auth(&m)
            .header("range", "bytes=100-199")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(res.headers()["content-type"], "video/mp4");
        assert_eq!(res.bytes().await.unwrap().to_vec(), mp4[100..200].to_vec());

        // Saying it is done, or jumping to the end, is not watching.
        let (status, e) = app
            .post(&m, &format!("/api/v1/study/items/{id}/complete"), json!({}))
            .await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("study.item.not_watched"))
        );
        let progress = format!("/api/v1/study/items/{id}/progress");
        let (status, w) = app.post(&m, &progress, json!({"ranges": [[0, 5], [590, 600]]})).await;
        assert_eq!(status, StatusCode::OK, "{w}");
        assert_eq!(
            (w["watched_seconds"].as_i64(), w["completed"].as_bool()),
            (Some(15), Some(false)),
            "{w}"
        );
        // A forged report of the whole length at once gains no more than double speed allows.
        let (_, w) = app
            .post(&m, &progress, json!({"ranges": [[0, 600]], "completed": true}))
            .await;
        assert!(w["watched_seconds"].as_i64().unwrap() < 100, "{w}");
        assert_eq!(w["completed"], false);
        let (status, _) = app.post(&m, &progress, json!({"ranges": [["a", 5]]})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

        // Ten minutes later the player reports it all: 95% played completes it, once.
        app.store
            .db
            .exec(
                store::db::Q::new("UPDATE study_watch SET reported_at = $1 WHERE item_id = $2")
                    .bind(store::db::instant_text(
                        store::clock::now() - chrono::Duration::minutes(10),
                    ))
                    .bind(id),
            )
            .await
            .unwrap();
        let (_, w) = app.post(&m, &progress, json!({"ranges": [[0, 580]]})).await;
        assert_eq!(
            (w["percent"].as_i64(), w["completed"].as_bool()),
            (Some(98), Some(true)),
            "{w}"
        );
        app.post(&m, &progress, json!({"ranges": [[0, 600]]})).await;
        let (_, ledger) = app.get(&m, &format!("/api/v1/members/{member_id}/study")).await;
        let lines: Vec<&Value> = ledger["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["source_id"] == id)
            .collect();
        assert_eq!(lines.len(), 1, "credited once: {ledger}");
        assert_eq!(lines[0]["hours_tenths"], 10);

        // A DOCX document shows its paragraphs as the item's text.
        let (status, doc) = upload_study_file(
            &app,
            &t,
            "讲稿.docx",
            docx(&["第一部分 学习党章", "第二部分 <遵守纪律> & 作风"]),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{doc}");
        let (status, item) = app
            .post(
                &t,
                "/api/v1/study/items",
                json!({"org_id": branch, "kind": "document", "title": "党课讲稿", "file_id": doc["id"], "categories": ["constitution"], "hours": "0.5"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{item}");
        assert_eq!(
            item["body"], "<p>第一部分 学习党章</p><p>第二部分 &lt;遵守纪律&gt; &amp; 作风</p>",
            "a paragraph each, the text escaped"
        );
        let page = app
            .page(&app.browser("secretary").await, &format!("/study/items/{}", item["id"]))
            .await;
        assert!(
            page.contains("<p>第二部分 &lt;遵守纪律&gt; &amp; 作风</p>"),
            "shown as text, escaped"
        );
        assert!(totals_agree(&app).await > 0, "something to count");
    }
);

both!(
    search_finds_one_and_two_characters_ranked_and_marked_and_only_what_the_reader_may_open,
    |app: App| async move {
        let t = app.login("secretary").await;
        let c = app.login("committee").await;
        let m = app.login("member").await;
        let branch = me(&app, &t).await["grants"][0]["org_id"].as_i64().unwrap();
        let other = app.org_id(&c, "法学院学生党支部").await;
        let published = published_item(&app, &t, &c, branch, "关于按时交纳党费的学习提示", "1").await;
        // A draft still under review, and an item only another branch's members read.
        let (_, draft) = app
            .post(
                &t,
                "/api/v1/study/items",
                json!({"org_id": branch, "title": "党费草稿（待审核）", "body": "党费", "categories": ["skills"], "hours": "1"}),
            )
            .await;
        let (status, elsewhere) = app
            .post(
                &c,
                "/api/v1/study/items",
                json!({"org_id": other, "title": "法学院党费收缴细则", "body": "细则。", "categories": ["skills"], "hours": "1"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{elsewhere}");
        let elsewhere = elsewhere["id"].as_i64().unwrap();
        app.store
            .db
            .exec(store::db::Q::new("UPDATE study_items SET status = 'published' WHERE id = $1").bind(elsewhere))
            .await
            .unwrap();
        let hits = |body: &Value| -> Vec<(String, i64)> {
            body["hits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| (h["kind"].as_str().unwrap().to_string(), h["id"].as_i64().unwrap()))
                .collect()
        };
        let this_year = chrono::Datelike::year(&store::clock::today());
        for q in [
            "%E5%85%9A",
            "%E5%85%9A%E8%B4%B9",
            "%E4%BA%A4%E7%BA%B3%E5%85%9A%E8%B4%B9",
        ] {
            // 党, 党费, 交纳党费 — among this year's items (the demo's library holds a year before
            // it, and one character is in nearly every title).
            let (status, r) = app
                .get(&m, &format!("/api/v1/search?q={q}&kind=item&from={this_year}-01-01"))
                .await;
            assert_eq!(status, StatusCode::OK, "{r}");
            let found = hits(&r);
            assert!(found.contains(&("item".into(), published)), "{q}: {r}");
            assert!(
                !found.iter().any(|h| h.1 == draft["id"].as_i64().unwrap()),
                "a draft is not found by members"
            );
            assert!(
                !found.iter().any(|h| h.1 == elsewhere),
                "another branch's item is never found"
            );
        }
        let (_, r) = app
            .get(
                &m,
                &format!("/api/v1/search?q=%E5%85%9A%E8%B4%B9&kind=item&from={this_year}-01-01"),
            )
            .await;
        let hit = r["hits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["id"] == published)
            .unwrap();
        let marked: Vec<&str> = hit["title"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["mark"] == true)
            .map(|p| p["text"].as_str().unwrap())
            .collect();
        assert_eq!(marked, vec!["党费"], "{hit}");
        // Those who publish find their draft; the committee finds the other branch's item too.
        let (_, r) = app
            .get(
                &t,
                &format!("/api/v1/search?q=%E5%85%9A%E8%B4%B9&from={this_year}-01-01"),
            )
            .await;
        assert!(
            hits(&r).contains(&("item".into(), draft["id"].as_i64().unwrap())),
            "{r}"
        );
        let (_, r) = app
            .get(
                &c,
                &format!("/api/v1/search?q=%E5%85%9A%E8%B4%B9&org_id={other}&from={this_year}-01-01"),
            )
            .await;
        assert_eq!(
            hits(&r),
            vec![("item".to_string(), elsewhere)],
            "within an organization: {r}"
        );
        // Filters that name nothing real are refused.
        assert_eq!(
            app.get(&m, "/api/v1/search?q=%E5%85%9A&kind=people").await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(app.get(&m, "/api/v1/search").await.0, StatusCode::UNPROCESSABLE_ENTITY);
        // An edit is found at once (the index follows the change log), the old title no more.
        let (status, _) = app
            .patch(
                &t,
                &format!("/api/v1/study/items/{published}"),
                json!({"title": "遵义会议的历史意义", "body": "转折。", "categories": ["history"], "hours": "1"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let (_, r) = app
            .get(
                &t,
                &format!("/api/v1/search?q=%E9%81%B5%E4%B9%89&from={this_year}-01-01"),
            )
            .await;
        assert!(hits(&r).contains(&("item".into(), published)), "{r}");
        // A second server on the same database, with its own index, finds the same.
        let second = store::search::SearchIndex::in_memory();
        let caller = store::Caller::system("search-test");
        let q = store::search::SearchQuery {
            q: "遵义".into(),
            from: Some(format!("{this_year}-01-01")),
            ..Default::default()
        };
        let r = store::search::search(&app.store.db, &second, &caller, &q)
            .await
            .unwrap();
        assert!(r.hits.iter().any(|h| h.kind == "item" && h.id == published));
        // The page marks the words and escapes the rest.
        let page = app
            .page(&app.browser("member").await, "/search?q=%E5%85%9A%E8%B4%B9")
            .await;
        assert!(page.contains("<mark>党费</mark>"), "marked on the page");
    }
);
