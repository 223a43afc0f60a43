use crate::both;
use crate::support::App;
use reqwest::StatusCode;
use serde_json::json;

both!(demo_tree_counts_and_warnings, |app: App| async move {
    let t = app.login("committee").await;
    let (status, orgs) = app.get(&t, "/api/v1/orgs").await;
    assert_eq!(status, StatusCode::OK);
    let items = orgs["items"].as_array().unwrap();
    assert_eq!(items.len(), 34, "the demo has 34 organizations");
    let root = items.iter().find(|o| o["parent_id"].is_null()).unwrap();
    let (_, all) = app.get(&t, "/api/v1/members?status=active&per_page=1").await;
    assert_eq!(root["member_count"], all["total"], "root counts every active member");
    assert_eq!(root["kind"], "committee");
    // Subtree counts add up: a general branch counts its branches.
    let gb = app.org(&t, "信息与工程学院党总支").await;
    let kids: i64 = items
        .iter()
        .filter(|o| o["parent_id"] == gb["id"])
        .map(|o| o["member_count"].as_i64().unwrap())
        .sum();
    assert_eq!(gb["member_count"].as_i64().unwrap(), kids);
    let joint = app.org(&t, "后勤服务联合党支部").await;
    assert_eq!(joint["warnings"], json!(["branch_below_three_full"]));
    let big = app.org(&t, "离退休第一党支部").await;
    assert!(big["warnings"].as_array().unwrap().contains(&json!("branch_over_50")));
    let no_committee = app.org(&t, "组织人事党支部").await;
    assert!(
        no_committee["warnings"]
            .as_array()
            .unwrap()
            .contains(&json!("committee_required")),
        "{no_committee}"
    );
    let with_committee = app.org(&t, "教务科研党支部").await;
    assert!(!with_committee["warnings"]
        .as_array()
        .unwrap()
        .contains(&json!("committee_required")));
});

both!(create_rename_move_dissolve_with_history, |app: App| async move {
    let t = app.login("committee").await;
    let root = app.org_id(&t, "浙江开放大学委员会").await;
    let gb = app.org_id(&t, "人文学院党总支").await;
    let (status, created) =
        app.post(&t, "/api/v1/orgs", json!({"parent_id": gb, "name": "人文学院研究生党支部", "kind": "branch", "established_on": "2015-09-01", "term_start": "2024-09-01"})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["term_end"], "2027-09-01", "branch terms are 3 years");
    assert_eq!(created["member_count"], 0);
    assert!(created["path"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/{}/", created["id"])));
    let id = created["id"].as_i64().unwrap();

    // Bad input names the fields.
    let (status, err) = app
        .post(
            &t,
            "/api/v1/orgs",
            json!({"parent_id": gb, "name": "", "kind": "club", "established_on": "2099-01-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = err["error"]["fields"].as_object().unwrap();
    assert!(
        fields.contains_key("name") && fields.contains_key("kind") && fields.contains_key("established_on"),
        "{err}"
    );
    let (status, err) = app
        .post(
            &t,
            "/api/v1/orgs",
            json!({"parent_id": id, "name": "x", "kind": "committee", "established_on": "2020-01-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["fields"]["kind"]["code"], "kind.not_allowed_under_parent");

    // Rename, then add a member, then move the branch directly under the committee: counts follow.
    let (status, renamed) = app
        .patch(
            &t,
            &format!("/api/v1/orgs/{id}"),
            json!({"name": "人文学院研究生第一党支部"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    let (status, m) = app
        .post(&t, "/api/v1/members", json!({"org_id": id, "name": "周敏", "gender": "female", "id_number": crate::support::id_number("19990512", 1, false), "joined_on": "2020-06-01", "full_member_on": "2021-06-01"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    let before_gb = app.get(&t, &format!("/api/v1/orgs/{gb}")).await.1["member_count"]
        .as_i64()
        .unwrap();
    let before_root = app.get(&t, &format!("/api/v1/orgs/{root}")).await.1["member_count"]
        .as_i64()
        .unwrap();
    let (status, moved) = app
        .patch(&t, &format!("/api/v1/orgs/{id}"), json!({"parent_id": root}))
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["parent_id"], root);
    assert_eq!(
        moved["path"].as_str().unwrap().matches('/').count(),
        3,
        "one level below the root"
    );
    assert_eq!(
        app.get(&t, &format!("/api/v1/orgs/{gb}")).await.1["member_count"]
            .as_i64()
            .unwrap(),
        before_gb - 1
    );
    assert_eq!(
        app.get(&t, &format!("/api/v1/orgs/{root}")).await.1["member_count"]
            .as_i64()
            .unwrap(),
        before_root
    );
    let (_, list) = app.get(&t, &format!("/api/v1/members?org_id={root}&q=周敏")).await;
    assert!(
        list["items"].as_array().unwrap().iter().any(|x| x["id"] == m["id"]),
        "member moved with the branch"
    );
    // Cannot move under itself.
    let (status, _) = app
        .patch(&t, &format!("/api/v1/orgs/{root}"), json!({"parent_id": id}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Dissolving is refused while members remain, then allowed; history is kept.
    let (status, err) = app.post(&t, &format!("/api/v1/orgs/{id}/dissolve"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["error"]["code"], "org.dissolve.has_members");
    let (status, _) = app
        .patch(
            &t,
            &format!("/api/v1/members/{}", m["id"]),
            json!({"status": "transferred_out"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, dissolved) = app
        .post(
            &t,
            &format!("/api/v1/orgs/{id}/dissolve"),
            json!({"dissolved_on": "2026-01-31"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{dissolved}");
    assert_eq!(dissolved["dissolved_on"], "2026-01-31");
    let (_, history) = app.get(&t, &format!("/api/v1/orgs/{id}/history")).await;
    let events: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(events, vec!["dissolved", "moved", "renamed", "created"]);
    // A move names the organizations, not their numbers.
    let moved = history["items"][1]["changes"].as_array().unwrap();
    assert!(
        moved
            .iter()
            .all(|c| c["after"].as_str().is_some_and(|v| v.parse::<i64>().is_err())),
        "{moved:?}"
    );
    let (status, _) = app
        .patch(&t, &format!("/api/v1/orgs/{id}"), json!({"name": "again"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "a dissolved organization is read-only");
});

both!(officers_make_the_committee_warning_go, |app: App| async move {
    let t = app.login("committee").await;
    let branch = app.org(&t, "组织人事党支部").await;
    let id = branch["id"].as_i64().unwrap();
    assert!(branch["warnings"]
        .as_array()
        .unwrap()
        .contains(&json!("committee_required")));
    let (_, full) = app
        .get(
            &t,
            &format!("/api/v1/members?org_id={id}&category=full&status=active&per_page=3"),
        )
        .await;
    for (m, post) in full["items"]
        .as_array()
        .unwrap()
        .iter()
        .zip(["secretary", "organization", "propaganda"])
    {
        let (status, body) = app
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/orgs/{id}/officers/{}", m["id"]),
                Some(&t),
                Some(json!({"post": post})),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    let after = app.get(&t, &format!("/api/v1/orgs/{id}")).await.1;
    assert_eq!(after["committee_size"], 3);
    assert!(
        !after["warnings"]
            .as_array()
            .unwrap()
            .contains(&json!("committee_required")),
        "{after}"
    );
    // A probationary member cannot serve.
    let (_, prob) = app
        .get(&t, &format!("/api/v1/members?category=probationary&per_page=1"))
        .await;
    let p = &prob["items"][0];
    let (status, _) = app
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/orgs/{}/officers/{}", p["org_id"], p["id"]),
            Some(&t),
            Some(json!({"post": "secretary"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
});

both!(a_moved_branch_takes_its_records_along, |app: App| async move {
    let c = app.login("committee").await;
    let branch = app.org_id(&c, "法学院学生党支部").await;
    let old_parent = app.org_id(&c, "法学院党总支").await;
    let new_parent = app.org_id(&c, "人文学院党总支").await;
    let year = chrono::Datelike::year(&store::clock::today());
    // What the branch holds, as its parent's pages show it.
    let held = |parent: i64| {
        let app = &app;
        let c = &c;
        async move {
            let (_, items) = app
                .get(c, &format!("/api/v1/orgs/{parent}/compliance?year={year}"))
                .await;
            let items = items["items"].as_array().unwrap().clone();
            items
                .iter()
                .filter(|i| i["org_id"] == branch)
                .map(|i| i["held"].as_i64().unwrap())
                .sum::<i64>()
        }
    };
    let paid = |parent: i64| {
        let app = &app;
        let c = &c;
        async move {
            let (_, report) = app.get(c, &format!("/api/v1/orgs/{parent}/dues?year={year}")).await;
            report["paid_fen"].as_i64().unwrap_or_default()
        }
    };
    // The overdue meetings counted in each subtree (this year's, from the warnings).
    let overdue = |org: i64| {
        let app = &app;
        let c = &c;
        async move {
            let (_, list) = app.get(c, &format!("/api/v1/orgs/{org}/overdue?year={year}")).await;
            list["total"].as_i64().unwrap()
        }
    };
    let branch_overdue = overdue(branch).await;
    assert!(branch_overdue > 0, "the demo's branch has overdue meetings to carry");
    let (held_before, paid_before) = (held(old_parent).await, paid(old_parent).await);
    let paid_new_before = paid(new_parent).await;
    assert!(held_before > 0, "the demo's branch held meetings this year");
    let (status, moved) = app
        .patch(&c, &format!("/api/v1/orgs/{branch}"), json!({"parent_id": new_parent}))
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(
        held(new_parent).await,
        held_before,
        "its meetings count under the new parent"
    );
    assert_eq!(held(old_parent).await, 0, "and no longer under the old one");
    let moved_paid = paid_before - paid(old_parent).await;
    assert!(moved_paid > 0, "the branch's dues left the old parent's report");
    assert_eq!(
        paid(new_parent).await - paid_new_before,
        moved_paid,
        "and arrived in the new one's"
    );

    // A database from before moves carried records: a meeting left at an old path takes its
    // organization's path again when the server migrates.
    let db = &app.store.db;
    db.exec(store::db::Q::new("UPDATE meetings SET org_path = '/1/' WHERE org_id = $1").bind(branch))
        .await
        .unwrap();
    assert_eq!(held(new_parent).await, 0);
    db.exec(store::db::Q::new("DELETE FROM schema_migrations WHERE version = 22"))
        .await
        .unwrap();
    store::db::migrate(db).await.unwrap();
    assert_eq!(held(new_parent).await, held_before, "repaired by the migration");
});
