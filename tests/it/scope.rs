//! Every member and organization endpoint, tried with another branch's ids.

use crate::both;
use crate::support::{id_number, App};
use reqwest::{Method, StatusCode};
use serde_json::json;

both!(a_secretary_cannot_reach_another_branch, |app: App| async move {
    let c = app.login("committee").await;
    let mine = app.org_id(&c, "信息学院教工党支部").await;
    let other = app.org_id(&c, "法学院学生党支部").await;
    let other_member = app.some_member(&c, other).await["id"].as_i64().unwrap();
    let own_member = app.some_member(&c, mine).await["id"].as_i64().unwrap();

    let t = app.login("secretary").await;
    let not_found = [
        (Method::GET, format!("/api/v1/members/{other_member}"), None),
        (
            Method::PATCH,
            format!("/api/v1/members/{other_member}"),
            Some(json!({"name": "改名"})),
        ),
        (Method::POST, format!("/api/v1/members/{other_member}/reveal"), None),
        (Method::GET, format!("/api/v1/members/{other_member}/history"), None),
        (Method::GET, format!("/api/v1/members?org_id={other}"), None),
        (Method::GET, format!("/api/v1/members/export.csv?org_id={other}"), None),
        (Method::GET, format!("/api/v1/members/export.xlsx?org_id={other}"), None),
        (Method::GET, format!("/api/v1/orgs/{other}"), None),
        (
            Method::PATCH,
            format!("/api/v1/orgs/{other}"),
            Some(json!({"name": "改名"})),
        ),
        (Method::POST, format!("/api/v1/orgs/{other}/dissolve"), None),
        (Method::GET, format!("/api/v1/orgs/{other}/officers"), None),
        (
            Method::PUT,
            format!("/api/v1/orgs/{other}/officers/{other_member}"),
            Some(json!({"post": "secretary"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/orgs/{other}/officers/{other_member}"),
            None,
        ),
        (Method::GET, format!("/api/v1/orgs/{other}/history"), None),
    ];
    for (method, path, body) in not_found {
        let (status, res) = app.call(method.clone(), &path, Some(&t), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {res}");
    }
    // Creating into or moving to another branch names the field.
    let new = json!({"org_id": other, "name": "越权", "gender": "male", "id_number": id_number("19900101", 9, true), "joined_on": "2012-01-01", "full_member_on": "2013-01-01"});
    let (status, err) = app.post(&t, "/api/v1/members", new).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["fields"]["org_id"]["code"], "org_id.not_found");
    let (status, err) = app
        .patch(&t, &format!("/api/v1/members/{own_member}"), json!({"org_id": other}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let (status, _) = app
        .post(
            &t,
            "/api/v1/orgs",
            json!({"parent_id": other, "name": "x", "kind": "party_group", "established_on": "2020-01-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // A secretary reads but does not restructure their own branch.
    let (status, _) = app
        .patch(&t, &format!("/api/v1/orgs/{mine}"), json!({"name": "改名"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Lists hold only the branch's own members and organizations.
    let (_, list) = app.get(&t, "/api/v1/members?per_page=200").await;
    assert!(list["total"].as_i64().unwrap() > 0);
    assert!(
        list["items"].as_array().unwrap().iter().all(|m| m["org_id"] == mine),
        "{list}"
    );
    let (_, orgs) = app.get(&t, "/api/v1/orgs").await;
    assert!(orgs["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["id"] == mine || o["parent_id"] == mine));
    let (_, csv) = app
        .call(Method::GET, "/api/v1/members/export.csv", Some(&t), None)
        .await;
    let csv = csv.as_str().unwrap();
    assert_eq!(csv.lines().count() as i64, list["total"].as_i64().unwrap() + 1);
});

both!(a_member_reaches_only_their_own_record, |app: App| async move {
    let t = app.login("member").await;
    let (_, me) = app.get(&t, "/api/v1/me").await;
    let own = me["member_id"].as_i64().expect("the demo member is linked to a record");
    let (status, rec) = app.get(&t, &format!("/api/v1/members/{own}")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.post(&t, &format!("/api/v1/members/{own}/reveal"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "a member may see their own full record");
    let (status, _) = app
        .patch(&t, &format!("/api/v1/members/{own}"), json!({"name": "改名"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "corrections go through the branch");
    let (_, list) = app.get(&t, "/api/v1/members").await;
    assert_eq!(list["total"], 1);
    let c = app.login("committee").await;
    let colleague = app
        .get(&c, &format!("/api/v1/members?org_id={}&per_page=5", rec["org_id"]))
        .await
        .1["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] != own)
        .unwrap()["id"]
        .clone();
    let (status, _) = app.get(&t, &format!("/api/v1/members/{colleague}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, orgs) = app.get(&t, "/api/v1/orgs").await;
    assert_eq!(orgs["items"].as_array().unwrap().len(), 1, "their own branch only");
});

both!(the_three_administrators_are_separate, |app: App| async move {
    let admin = app.login("admin").await;
    let sec = app.login("secadmin").await;
    let auditor = app.login("auditor").await;
    // The system administrator sees the structure, not the people.
    let (status, orgs) = app.get(&admin, "/api/v1/orgs").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(orgs["items"].as_array().unwrap().len(), 34);
    for t in [&admin, &sec, &auditor] {
        let (status, _) = app.get(t, "/api/v1/members").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = app.get(t, "/api/v1/members/export.csv").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    // Only the audit administrator reads the log; only the security administrator manages accounts.
    for t in [&admin, &sec] {
        assert_eq!(app.get(t, "/api/v1/audit").await.0, StatusCode::FORBIDDEN);
    }
    assert_eq!(app.get(&auditor, "/api/v1/audit").await.0, StatusCode::OK);
    for t in [&admin, &auditor] {
        assert_eq!(app.get(t, "/api/v1/users").await.0, StatusCode::FORBIDDEN);
        let (status, _) = app
            .post(t, "/api/v1/users", json!({"username": "x1", "password": "Aa-12345678"}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (_, users) = app.get(&sec, "/api/v1/users").await;
    let id_of = |name: &str| {
        users["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    // No one holds two administrator roles, nor an administrator and an organization role.
    let (status, err) = app
        .post(
            &sec,
            &format!("/api/v1/users/{}/grants", id_of("auditor")),
            json!({"role": "system_admin"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["error"]["code"], "grant.separation_of_duties");
    let root = app.org_id(&admin, "浙江开放大学委员会").await;
    let (status, _) = app
        .post(
            &sec,
            &format!("/api/v1/users/{}/grants", id_of("admin")),
            json!({"role": "org_admin", "org_id": root}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = app
        .post(
            &sec,
            &format!("/api/v1/users/{}/grants", id_of("secadmin")),
            json!({"role": "audit_admin"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "not even to oneself");
});

both!(every_refusal_is_audited_as_denied, |app: App| async move {
    let c = app.login("committee").await;
    let mine = app.org_id(&c, "信息学院教工党支部").await;
    let other = app.org_id(&c, "法学院学生党支部").await;
    let other_member = app.some_member(&c, other).await["id"].as_i64().unwrap();
    let (_, meetings) = app.get(&c, &format!("/api/v1/meetings?org_id={other}")).await;
    let other_meeting = meetings["items"][0]["id"].as_i64().unwrap();
    let t = app.login("secretary").await;
    let absent = 987_654_321_i64;
    // One refused request of each feature: (request, the audited action, the record it names).
    let tries: Vec<(Method, String, Option<serde_json::Value>, &str, String)> = vec![
        (
            Method::GET,
            format!("/api/v1/members/{other_member}"),
            None,
            "member.read",
            other_member.to_string(),
        ),
        (
            Method::GET,
            format!("/api/v1/orgs/{other}"),
            None,
            "org.read",
            other.to_string(),
        ),
        (
            Method::GET,
            format!("/api/v1/meetings/{other_meeting}"),
            None,
            "meeting.read",
            other_meeting.to_string(),
        ),
        (
            Method::GET,
            format!("/api/v1/members/{other_member}/dues"),
            None,
            "dues.read",
            other_member.to_string(),
        ),
        (
            Method::GET,
            format!("/api/v1/transfers/{absent}"),
            None,
            "transfer.read",
            absent.to_string(),
        ),
        (
            Method::GET,
            format!("/api/v1/development/{absent}"),
            None,
            "development.read",
            absent.to_string(),
        ),
        (
            Method::GET,
            format!("/api/v1/activities/{absent}"),
            None,
            "activity.read",
            absent.to_string(),
        ),
        (
            Method::GET,
            format!("/api/v1/notices/{absent}"),
            None,
            "notice.read",
            absent.to_string(),
        ),
        (
            Method::GET,
            format!("/api/v1/reviews/{absent}"),
            None,
            "review.read",
            absent.to_string(),
        ),
        (
            Method::GET,
            "/api/v1/users".to_string(),
            None,
            "user.list",
            String::new(),
        ),
        (
            Method::GET,
            "/api/v1/audit".to_string(),
            None,
            "audit.read",
            String::new(),
        ),
        (
            Method::PATCH,
            format!("/api/v1/orgs/{mine}"),
            Some(json!({"name": "改名"})),
            "org.update",
            mine.to_string(),
        ),
    ];
    for (method, path, body, action, target) in tries {
        let (status, _) = app.call(method.clone(), &path, Some(&t), body).await;
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
            "{method} {path}: {status}"
        );
        let last: Option<(String, String, String)> = app
            .store
            .db
            .opt(store::db::Q::new(
                "SELECT action, target_id, result FROM audit_log WHERE actor = 'secretary' ORDER BY seq DESC LIMIT 1",
            ))
            .await
            .unwrap();
        assert_eq!(
            last,
            Some((action.to_string(), target, "denied".to_string())),
            "{method} {path} leaves a denied entry"
        );
    }
    // A page refuses through the same gate: a member opening the import form.
    let member = app.browser("member").await;
    let res = member.get(format!("{}/import", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let last: Option<(String, String)> = app
        .store
        .db
        .opt(store::db::Q::new(
            "SELECT action, result FROM audit_log WHERE actor = 'member' ORDER BY seq DESC LIMIT 1",
        ))
        .await
        .unwrap();
    assert_eq!(last, Some(("member.import".to_string(), "denied".to_string())));
});
