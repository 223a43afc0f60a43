//! Pickers: organizations and members found by part of a name or by number, scoped like any read,
//! over the API and on the forms that choose one (accounts, grants, officers, introducers,
//! a notice's audience) without JavaScript.

use crate::both;
use crate::support::App;
use reqwest::StatusCode;
use serde_json::Value;

fn ids(found: &Value) -> Vec<i64> {
    found["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {found}"))
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

/// Two characters of a name: enough to find it among others.
fn part(name: &str) -> String {
    name.chars().skip(1).take(2).collect()
}

both!(searches_find_by_part_of_a_name_within_scope, |app: App| async move {
    let s = app.login("secretary").await;
    let c = app.login("committee").await;
    let (_, me) = app.get(&s, "/api/v1/me").await;
    let branch = me["grants"][0]["org_id"].as_i64().unwrap();
    let other = app.org_id(&c, "组织人事党支部").await;

    // Organizations: committee staff find any by part of the name, with the path above it.
    let (status, found) = app.get(&c, "/api/v1/pick/orgs?q=组织人事").await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(ids(&found), vec![other], "{found}");
    assert!(
        found["items"][0]["within"].as_str().unwrap().contains("委员会"),
        "{found}"
    );
    let (_, by_number) = app.get(&c, &format!("/api/v1/pick/orgs?q={other}")).await;
    assert_eq!(ids(&by_number), vec![other]);
    // A secretary finds their own branch, never another.
    let (_, mine) = app.get(&s, "/api/v1/pick/orgs?q=党支部").await;
    assert_eq!(ids(&mine), vec![branch], "{mine}");
    let (_, theirs) = app.get(&s, &format!("/api/v1/pick/orgs?q={other}")).await;
    assert!(ids(&theirs).is_empty(), "{theirs}");
    let (status, _) = app.get(&s, &format!("/api/v1/pick/orgs?q=支部&within={other}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another's subtree is out of scope");
    // `%` and `_` are letters; an over-long key is refused; an empty one finds nothing.
    for q in ["%25", "_"] {
        let (_, none) = app.get(&c, &format!("/api/v1/pick/orgs?q={q}")).await;
        assert!(ids(&none).is_empty(), "{q}: {none}");
    }
    let (status, e) = app.get(&c, &format!("/api/v1/pick/orgs?q={}", "党".repeat(101))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["fields"]["q"]["code"], "q.too_long");
    let (_, empty) = app.get(&c, "/api/v1/pick/orgs?q=%20").await;
    assert!(ids(&empty).is_empty());
    // A new parent: never the organization itself, nor a party group under a branch.
    let (status, parents) = app
        .get(
            &c,
            &format!("/api/v1/pick/orgs?for=manage&parent_of={other}&q=组织人事"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{parents}");
    assert!(ids(&parents).is_empty(), "not itself: {parents}");
    let (_, groups) = app
        .get(&c, &format!("/api/v1/pick/orgs?parent_of={other}&q=党小组"))
        .await;
    assert!(ids(&groups).is_empty(), "a branch sits under no party group: {groups}");
    let (_, fits) = app
        .get(&c, &format!("/api/v1/pick/orgs?parent_of={other}&q=党总支"))
        .await;
    assert!(!ids(&fits).is_empty(), "general branches fit: {fits}");
    // The right asked for: a member manages nothing.
    let m = app.login("member").await;
    let (status, _) = app.get(&m, "/api/v1/pick/orgs?q=支部&for=manage").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Members: part of a name finds them in scope, with their branch; full=true leaves out
    // probationary members.
    let (_, roster) = app
        .get(&s, &format!("/api/v1/members?org_id={branch}&category=full&per_page=1"))
        .await;
    let someone = &roster["items"][0];
    let name = someone["name"].as_str().unwrap();
    let (status, found) = app
        .get(&s, &format!("/api/v1/pick/members?q={}&full=true", part(name)))
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert!(ids(&found).contains(&someone["id"].as_i64().unwrap()), "{found}");
    assert!(
        found["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["within"].as_str().unwrap().ends_with("党支部")),
        "each with their branch: {found}"
    );
    let (_, probationary) = app
        .get(
            &c,
            &format!("/api/v1/members?org_id={branch}&category=probationary&per_page=1"),
        )
        .await;
    if let Some(p) = probationary["items"].as_array().unwrap().first() {
        let (_, full_only) = app
            .get(&s, &format!("/api/v1/pick/members?q={}&full=true", p["id"]))
            .await;
        assert!(
            ids(&full_only).is_empty(),
            "a probationary member is no introducer: {full_only}"
        );
    }
    let (_, outsider) = app.get(&c, &format!("/api/v1/members?org_id={other}&per_page=1")).await;
    let outsider = outsider["items"][0]["id"].as_i64().unwrap();
    let (_, none) = app.get(&s, &format!("/api/v1/pick/members?q={outsider}")).await;
    assert!(ids(&none).is_empty(), "another branch's member is not found: {none}");
    let (_, found) = app
        .get(&c, &format!("/api/v1/pick/members?q={outsider}&within={other}"))
        .await;
    assert_eq!(ids(&found), vec![outsider]);
    let (status, _) = app.get(&m, "/api/v1/pick/members?q=张").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "members search no one");
    let (status, _) = app.get(&s, "/api/v1/pick/members?q=张&for=account").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "linking accounts is the security administrator's"
    );
});

both!(
    accounts_link_members_and_grant_organizations_by_picking,
    |app: App| async move {
        let c = app.login("committee").await;
        let sec = app.login("secadmin").await;
        let branch = app.org_id(&c, "组织人事党支部").await;
        let (_, roster) = app
            .get(&c, &format!("/api/v1/members?org_id={branch}&per_page=1"))
            .await;
        let member = roster["items"][0]["id"].as_i64().unwrap();
        let name = roster["items"][0]["name"].as_str().unwrap().to_string();

        // The security administrator finds members without an account (audited), by number or name.
        let (status, found) = app
            .get(&sec, &format!("/api/v1/pick/members?for=account&q={member}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{found}");
        assert_eq!(ids(&found), vec![member]);
        let (_, me) = app.get(&c, "/api/v1/me").await;
        let linked = me["member_id"].as_i64();
        if let Some(linked) = linked {
            let (_, none) = app
                .get(&sec, &format!("/api/v1/pick/members?for=account&q={linked}"))
                .await;
            assert!(ids(&none).is_empty(), "a linked member is not offered again");
        }
        let (_, audit) = app
            .get(&app.login("auditor").await, "/api/v1/audit?action=pick.members")
            .await;
        assert!(
            !audit["items"].as_array().unwrap().is_empty(),
            "the search is audited: {audit}"
        );

        // Without JavaScript: the search posts the form back with the choices, what was typed
        // kept (never the password) and nothing ticked for the user; the account is created with
        // the one chosen.
        let web = app.browser("secadmin").await;
        let search = [
            ("username", "picked.one".to_string()),
            ("password", "Picked-Account-2026".to_string()),
            ("member_id_q", part(&name)),
            ("pick", "member_id".to_string()),
        ];
        let (_, page) = app.submit(&web, "/accounts", &search).await;
        assert!(
            page.contains(&format!("name=\"member_id\" value=\"{member}\">")),
            "{page}"
        );
        assert!(page.contains("value=\"picked.one\""), "{page}");
        assert!(!page.contains("Picked-Account-2026"), "the password is not sent back");
        let (_, users) = app.get(&sec, "/api/v1/users").await;
        assert!(!users.to_string().contains("picked.one"), "a search creates nothing");
        assert!(!page.contains("inputmode=\"numeric\""), "no number to type");
        let new = [
            ("username", "picked.one".to_string()),
            ("display_name", name.clone()),
            ("member_id", member.to_string()),
            ("password", "Picked-Account-2026".to_string()),
        ];
        let (path, page) = app.submit(&web, "/accounts", &new).await;
        assert!(page.contains("已保存"), "{path}: {page}");
        let (_, users) = app.get(&sec, "/api/v1/users").await;
        let user = users["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == "picked.one")
            .unwrap_or_else(|| panic!("{users}"))
            .clone();
        assert_eq!(user["member_id"], member);
        let uid = user["id"].as_i64().unwrap();

        // A grant's organization: part of a name alone is not a choice, and nothing is granted.
        let typed = [("role", "viewer".to_string()), ("org_id_q", "党支部".to_string())];
        let (path, page) = app.submit(&web, &format!("/accounts/{uid}/grants"), &typed).await;
        assert!(page.contains("请从查找结果中选择一项"), "{path}: {page}");
        assert!(grants(&app, &sec, uid).await.is_empty());
        // The demo's 34 organizations fit a select in each row, each with the one it sits in; the
        // chosen one is granted.
        let page = app.page(&web, "/accounts").await;
        assert!(
            page.contains(&format!("<option value=\"{branch}\">组织人事党支部 · ")),
            "{page}"
        );
        let chosen = [("role", "viewer".to_string()), ("org_id", branch.to_string())];
        let (path, page) = app.submit(&web, &format!("/accounts/{uid}/grants"), &chosen).await;
        assert!(page.contains("已保存"), "{path}: {page}");
        let g = grants(&app, &sec, uid).await;
        assert_eq!(g.len(), 1, "{g:?}");
        assert_eq!(g[0]["org_id"], branch, "{g:?}");
    }
);

async fn grants(app: &App, sec: &str, uid: i64) -> Vec<Value> {
    let (_, users) = app.get(sec, "/api/v1/users").await;
    let user = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == uid)
        .unwrap();
    user["grants"].as_array().unwrap().clone()
}

both!(officers_introducers_and_audiences_are_picked, |app: App| async move {
    let s = app.login("secretary").await;
    let (_, me) = app.get(&s, "/api/v1/me").await;
    let branch = me["grants"][0]["org_id"].as_i64().unwrap();
    let (_, roster) = app
        .get(&s, &format!("/api/v1/members?org_id={branch}&category=full&per_page=2"))
        .await;
    let (a, b) = (&roster["items"][0], &roster["items"][1]);
    let web = app.browser("secretary").await;

    // An officer (appointed by committee staff): the organization's page searches its full
    // members; nothing chosen is refused.
    let committee = app.browser("committee").await;
    let page = app
        .page(
            &committee,
            &format!("/orgs/{branch}?member_id_q={}", part(a["name"].as_str().unwrap())),
        )
        .await;
    assert!(
        page.contains(&format!("name=\"member_id\" value=\"{}\"", a["id"])),
        "{page}"
    );
    let (path, page) = app
        .submit(
            &committee,
            &format!("/orgs/{branch}/officers"),
            &[("post", "propaganda".to_string())],
        )
        .await;
    assert!(page.contains("请从查找结果中选择一项"), "{path}: {page}");
    let appoint = [("member_id", a["id"].to_string()), ("post", "propaganda".to_string())];
    let (path, page) = app
        .submit(&committee, &format!("/orgs/{branch}/officers"), &appoint)
        .await;
    assert!(page.contains("已保存"), "{path}: {page}");
    let (_, officers) = app.get(&s, &format!("/api/v1/orgs/{branch}/officers")).await;
    assert!(
        officers["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["member_id"] == a["id"] && o["post"] == "propaganda"),
        "{officers}"
    );

    // A letter's receiver is never the member's own branch.
    let (_, own) = app.get(&s, &format!("/api/v1/orgs/{branch}")).await;
    let own_name = own["name"].as_str().unwrap();
    let form = app
        .page(
            &web,
            &format!("/transfers/new?member_id={}&to_org_q={own_name}", a["id"]),
        )
        .await;
    assert!(form.contains("没有找到"), "{form}");
    assert!(!form.contains(&format!("name=\"to_org\" value=\"{branch}\"")), "{form}");

    // A notice's audience: the search posts the draft back with what is ticked, and writes nothing.
    let c = app.login("committee").await;
    let gb = app.org_id(&c, "信息与工程学院党总支").await;
    let root = app.org_id(&c, "浙江开放大学委员会").await;
    let (_, before) = app.get(&c, "/api/v1/notices").await;
    let draft = [
        ("org_id", root.to_string()),
        ("title", "关于开展主题党日的通知".to_string()),
        ("body", "正文".repeat(3000)),
        ("to_org_ids", gb.to_string()),
        ("to_org_ids_q", "组织人事".to_string()),
        ("pick", "to_org_ids".to_string()),
    ];
    let (_, page) = app.submit(&committee, "/notices", &draft).await;
    let other = app.org_id(&c, "组织人事党支部").await;
    assert!(
        page.contains(&format!("name=\"to_org_ids\" value=\"{gb}\" checked")),
        "kept: {page}"
    );
    assert!(
        page.contains(&format!("name=\"to_org_ids\" value=\"{other}\">")),
        "found: {page}"
    );
    assert!(page.contains("关于开展主题党日的通知"), "the draft is kept");
    let (_, after) = app.get(&c, "/api/v1/notices").await;
    assert_eq!(before, after, "a search saves nothing");

    // Contacts: an applicant's file at step 5; its step form searches the branch's full members,
    // keeping those ticked, and records nothing.
    let applied = store::clock::today() - chrono::Days::new(100);
    let applicant = serde_json::json!({"org_id": branch, "name": "申请人乙", "gender": "male",
        "id_number": crate::support::id_number("20000101", 61, true), "applied_on": applied.to_string()});
    let (status, file) = app.post(&s, "/api/v1/development/applicants", applicant).await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let id = file["id"].as_i64().unwrap();
    for n in 2..=4 {
        let step = serde_json::json!({"step": n, "done_on": (applied + chrono::Days::new(20)).to_string()});
        let (status, f) = app.post(&s, &format!("/api/v1/development/{id}/steps"), step).await;
        assert_eq!(status, StatusCode::OK, "step {n}: {f}");
    }
    let (_, pending) = app.get(&c, "/api/v1/reviews/pending").await;
    let review = pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "development" && r["subject_id"] == id)
        .unwrap_or_else(|| panic!("{pending}"))["id"]
        .clone();
    let (status, v) = app
        .post(&c, &format!("/api/v1/reviews/{review}/approve"), serde_json::json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let search = [
        ("step", "5".to_string()),
        ("done_on", store::clock::today().to_string()),
        ("people", a["id"].to_string()),
        ("people_q", part(b["name"].as_str().unwrap())),
        ("pick", "people".to_string()),
    ];
    let (_, page) = app.submit(&web, &format!("/development/{id}/steps"), &search).await;
    assert!(
        page.contains(&format!("name=\"people\" value=\"{}\" checked", a["id"])),
        "{page}"
    );
    assert!(
        page.contains(&format!("name=\"people\" value=\"{}\"", b["id"])),
        "{page}"
    );
    let (_, again) = app.get(&s, &format!("/api/v1/development/{id}")).await;
    assert_eq!(again["next_step"], 5, "a search records no step");
    let chosen = [
        ("step", "5".to_string()),
        ("done_on", store::clock::today().to_string()),
        ("people", a["id"].to_string()),
        ("people", b["id"].to_string()),
    ];
    let (path, page) = app.submit(&web, &format!("/development/{id}/steps"), &chosen).await;
    assert!(page.contains("已保存"), "{path}: {page}");
    let (_, again) = app.get(&s, &format!("/api/v1/development/{id}")).await;
    assert_eq!(again["next_step"], 6, "{again}");
});

/// `n` more branches under one general branch: more than a select holds.
async fn many_branches(app: &App, under: &str, n: usize) -> Vec<i64> {
    use store::orgs::NewOrg;
    let c = app.login("committee").await;
    let parent = app.org(&c, under).await;
    let parent = NewOrg {
        id: parent["id"].as_i64().unwrap(),
        parent_id: parent["parent_id"].as_i64(),
        path: parent["path"].as_str().unwrap().to_string(),
        ..NewOrg::under(
            None,
            String::new(),
            domain::org::OrgKind::GeneralBranch,
            store::clock::today(),
        )
    };
    let established = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    let rows: Vec<NewOrg> = (0..n)
        .map(|i| {
            NewOrg::under(
                Some(&parent),
                format!("新建第{i:03}党支部"),
                domain::org::OrgKind::Branch,
                established,
            )
        })
        .collect();
    store::orgs::insert_bulk(&app.store.db, &store::Caller::system("test"), &rows)
        .await
        .unwrap();
    rows.iter().map(|o| o.id).collect()
}

both!(beyond_a_selects_worth_the_forms_search, |app: App| async move {
    let added = many_branches(&app, "信息与工程学院党总支", 210).await;
    let web = app.browser("committee").await;
    // The roster's filter, the member form, the meeting form and the activity form search instead
    // of listing 244 organizations.
    for page in ["/members", "/members/new", "/meetings/new", "/activities/new"] {
        let html = app.page(&web, page).await;
        assert!(html.contains("id=\"org_id-pick\""), "{page} searches: {html}");
        assert!(
            !html.contains(&format!("<option value=\"{}\"", added[0])),
            "{page} lists none"
        );
    }
    // The roster's search reloads the filter with the choices.
    let html = app.page(&web, "/members?org_id_q=新建第007").await;
    assert!(
        html.contains(&format!("name=\"org_id\" value=\"{}\">", added[7])),
        "found, and not ticked for the user: {html}"
    );
    // A meeting for part of a name alone is not saved: the form asks to choose.
    let c = app.login("committee").await;
    let meetings = |id: i64| {
        let (app, c) = (&app, &c);
        async move {
            app.get(c, &format!("/api/v1/meetings?org_id={id}")).await.1["items"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    let before = meetings(added[7]).await;
    let today = store::clock::today();
    let meeting = [
        ("org_id_q", "新建第00".to_string()),
        ("kinds", "branch_general_meeting".to_string()),
        ("title", "支部党员大会".to_string()),
        ("starts_at", format!("{today}T14:30")),
        ("ends_at", format!("{today}T16:30")),
        ("status", "planned".to_string()),
    ];
    let (path, html) = app.submit(&web, "/meetings", &meeting).await;
    assert!(html.contains("请从查找结果中选择一项"), "{path}: {html}");
    // The search button posts the form back with the choices, the rest kept.
    let mut search = meeting.to_vec();
    search.push(("pick", "org_id".to_string()));
    let (_, html) = app.submit(&web, "/meetings", &search).await;
    assert!(
        html.contains(&format!("name=\"org_id\" value=\"{}\"", added[3])),
        "{html}"
    );
    assert!(html.contains("value=\"支部党员大会\""), "{html}");
    assert_eq!(meetings(added[7]).await, before, "nothing saved");
    // The exact name is a choice.
    let mut exact = meeting.to_vec();
    exact[0] = ("org_id_q", "新建第007党支部".to_string());
    let (path, html) = app.submit(&web, "/meetings", &exact).await;
    assert!(html.contains("已保存"), "{path}: {html}");
    assert_eq!(meetings(added[7]).await, before + 1);
});
