//! The home's to-do list (待办): what each user must act on, worst first, each item's count the
//! same as the list it opens, and every link one the user may open.

use crate::both;
use crate::support::App;
use chrono::Days;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn todo(app: &App, token: &str) -> Vec<Value> {
    let (status, list) = app.get(token, "/api/v1/me/todo").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["items"].as_array().unwrap().clone()
}

fn item<'a>(items: &'a [Value], what: &str) -> Option<&'a Value> {
    items.iter().find(|i| i["what"] == what)
}

/// Every link of a user's list opens for them, and the list runs from late to coming up.
async fn links_open(app: &App, user: &str, items: &[Value]) {
    let order = ["late", "due", "soon"];
    let ranks: Vec<usize> = items
        .iter()
        .map(|i| order.iter().position(|u| i["urgency"] == *u).unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "worst first: {items:?}");
    let web = app.browser(user).await;
    for i in items {
        let link = i["link"].as_str().unwrap();
        let res = web.get(format!("{}{link}", app.base)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{user}: {link}");
    }
}

both!(
    the_home_lists_what_each_user_must_do_with_counts_that_match_their_lists,
    |app: App| async move {
        let t = app.login("secretary").await;
        let c = app.login("committee").await;
        let m = app.login("member").await;
        let (_, me) = app.get(&t, "/api/v1/me").await;
        let branch = me["grants"][0]["org_id"].as_i64().unwrap();
        let today = store::clock::today();
        let at = |d: chrono::NaiveDate| format!("{d}T14:30");

        // A meeting whose time has passed while still planned is to be recorded; one to come is the
        // member's.
        let yesterday = today - Days::new(1);
        let (status, past) = app
        .post(&t, "/api/v1/meetings", json!({"org_id": branch, "kind": "party_lecture", "title": "待记录的党课", "starts_at": at(yesterday), "ends_at": format!("{yesterday}T16:00")}))
        .await;
        assert_eq!(status, StatusCode::CREATED, "{past}");
        let soon = today + Days::new(3);
        let (status, next) = app
        .post(&t, "/api/v1/meetings", json!({"org_id": branch, "kind": "theme_day", "title": "下周的主题党日", "starts_at": at(soon), "ends_at": format!("{soon}T16:00")}))
        .await;
        assert_eq!(status, StatusCode::CREATED, "{next}");

        let mine = todo(&app, &t).await;
        let record = item(&mine, "meetings_to_record").unwrap_or_else(|| panic!("{mine:?}"));
        assert!(record["examples"].to_string().contains("待记录的党课"), "{record}");
        assert_eq!(record["link"], format!("/orgs/{branch}/meetings"));
        links_open(&app, "secretary", &mine).await;

        let own = todo(&app, &m).await;
        assert!(
            own.iter().all(|i| i["what"].as_str().unwrap().starts_with("my_")),
            "a member's own only: {own:?}"
        );
        let coming = item(&own, "my_meetings").unwrap_or_else(|| panic!("{own:?}"));
        assert!(coming["examples"].to_string().contains("下周的主题党日"), "{coming}");
        assert!(
            !coming["examples"].to_string().contains("待记录的党课"),
            "past meetings are not to come"
        );
        links_open(&app, "member", &own).await;

        // Committee staff: counts over the tree, each the length of the list it opens.
        let tree = todo(&app, &c).await;
        let (_, pending) = app.get(&c, "/api/v1/reviews/pending").await;
        let waiting = pending["items"].as_array().unwrap().len() as i64;
        assert_eq!(
            item(&tree, "reviews")
                .map(|i| i["count"].as_i64().unwrap())
                .unwrap_or(0),
            waiting
        );
        let (_, roots) = app.get(&c, "/api/v1/orgs").await;
        let root = roots["items"][0]["id"].as_i64().unwrap();
        let (_, arrears) = app.get(&c, &format!("/api/v1/orgs/{root}/dues/arrears")).await;
        let flagged = arrears["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["level"] == "flag")
            .count() as i64;
        assert!(flagged > 0, "the demo has a member a year behind");
        assert_eq!(item(&tree, "dues_flag").unwrap()["count"], flagged);
        let (_, sent) = app.get(&c, "/api/v1/transfers?status=sent").await;
        let to_accept = sent["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| !l["to_org_id"].is_null())
            .count() as i64;
        assert_eq!(
            item(&tree, "letters_to_accept")
                .map(|i| i["count"].as_i64().unwrap())
                .unwrap_or(0),
            to_accept
        );
        let (_, expired) = app.get(&c, "/api/v1/transfers?status=expired").await;
        assert_eq!(
            item(&tree, "letters_expired")
                .map(|i| i["count"].as_i64().unwrap())
                .unwrap_or(0),
            expired["items"].as_array().unwrap().len() as i64
        );
        assert!(
            item(&tree, "development_late").is_some(),
            "the demo has a talk overdue: {tree:?}"
        );
        links_open(&app, "committee", &tree).await;

        // Done, it leaves the list.
        let id = past["id"].as_i64().unwrap();
        let (status, _) = app
            .patch(&t, &format!("/api/v1/meetings/{id}"), json!({"status": "cancelled"}))
            .await;
        assert_eq!(status, StatusCode::OK);
        let after = todo(&app, &t).await;
        assert!(
            !item(&after, "meetings_to_record").is_some_and(|i| i["examples"].to_string().contains("待记录的党课")),
            "{after:?}"
        );

        // The home page shows it in words.
        let web = app.browser("secretary").await;
        let home = app.page(&web, "/").await;
        assert!(home.contains("id=\"todo\"") && home.contains("待办"), "{home}");
    }
);

both!(a_grant_inside_another_is_not_counted_twice, |app: App| async move {
    let c = app.login("committee").await;
    let before = todo(&app, &c).await;
    // Committee staff also made secretary of a branch below: the branch is already in the tree.
    let (_, me) = app.get(&c, "/api/v1/me").await;
    let user = me["id"].as_i64().unwrap();
    let branch = app.org_id(&c, "信息学院教工党支部").await;
    let sec = store::Caller::system_as("test", store::Role::SecurityAdmin);
    store::accounts::grant(&app.store.db, &sec, user, store::Role::Secretary, Some(branch))
        .await
        .unwrap();
    let c = app.login("committee").await;
    let (_, me) = app.get(&c, "/api/v1/me").await;
    let grants = me["grants"].as_array().unwrap();
    assert!(
        grants.iter().any(|g| g["org_id"] == branch && g["pending"] == false),
        "the second grant is in force: {me}"
    );
    let after = todo(&app, &c).await;
    let counts = |items: &[Value]| {
        items
            .iter()
            .map(|i| (i["what"].clone(), i["count"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(counts(&after), counts(&before));
});

/// How many an item counts, none when it is not listed.
fn count(items: &[Value], what: &str) -> i64 {
    item(items, what).map_or(0, |i| i["count"].as_i64().unwrap())
}

both!(the_committees_counts_follow_the_records, |app: App| async move {
    let c = app.login("committee").await;
    let root = app.org_id(&c, "浙江开放大学委员会").await;
    let today = store::clock::today();
    let year = chrono::Datelike::year(&today);
    let tree = todo(&app, &c).await;

    // Each count is the length of the list it stands for.
    let (_, overdue) = app.get(&c, &format!("/api/v1/orgs/{root}/overdue?year={year}")).await;
    assert_eq!(
        count(&tree, "meetings_overdue"),
        overdue["total"].as_i64().unwrap(),
        "{tree:?}"
    );
    let (_, terms) = app.get(&c, &format!("/api/v1/orgs/{root}/terms")).await;
    let terms_in = |status: &str| {
        terms["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["status"] == status)
            .count() as i64
    };
    assert_eq!(count(&tree, "terms_overdue"), terms_in("overdue"));
    assert_eq!(count(&tree, "terms_due"), terms_in("due_in3_months"));
    // The compliance page lists the soonest of those due within six months, with how many there are.
    let system = store::Caller::system("test");
    let (soonest, total) = store::life::terms::due(&app.store.db, &system, root, 1).await.unwrap();
    let due = terms_in("overdue") + terms_in("due_in3_months") + terms_in("due_in6_months");
    assert!(due > 0, "the demo has terms to renew");
    assert_eq!((soonest.len(), total as i64), (1, due));
    let (_, board) = app.get(&c, &format!("/api/v1/development?org_id={root}")).await;
    let alerted = |alerts: &[&str]| {
        board["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                f["alerts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| alerts.contains(&a.as_str().unwrap()))
            })
            .count() as i64
    };
    assert!(count(&tree, "development_late") > 0, "the demo has a talk overdue");
    assert_eq!(
        count(&tree, "development_late"),
        alerted(&["talk_overdue", "approval_overdue"])
    );
    assert_eq!(
        count(&tree, "development_due"),
        alerted(&["conversion_due", "target_eligible"])
    );
    let (_, arrears) = app.get(&c, &format!("/api/v1/orgs/{root}/dues/arrears")).await;
    let arrears = arrears["items"].as_array().unwrap().clone();
    let at_level = |level: &str| arrears.iter().filter(|a| a["level"] == level).count() as i64;
    assert_eq!(count(&tree, "dues_flag"), at_level("flag"));
    assert_eq!(count(&tree, "dues_warning"), at_level("warning"));
    // A province's list (from the warnings) holds the same members three or more months behind,
    // with the same figures, in the same order.
    let org = store::orgs::get(&app.store.db, &system, root).await.unwrap();
    let warned = store::warnings::warned_arrears(&app.store.db, &org, 1000)
        .await
        .unwrap();
    let warned = serde_json::to_value(&warned).unwrap();
    let behind: Vec<&Value> = arrears
        .iter()
        .filter(|a| a["level"] == "flag" || a["level"] == "warning")
        .collect();
    assert!(!behind.is_empty());
    assert_eq!(warned.as_array().unwrap().iter().collect::<Vec<_>>(), behind);

    // A flagged member pays all they owe: the flag goes at once, on the committee's home and the branch's.
    let flagged = arrears
        .iter()
        .find(|a| a["level"] == "flag")
        .expect("the demo has a member a year behind");
    let (from, to) = (flagged["from"].as_str().unwrap(), flagged["to"].as_str().unwrap());
    let mut months = Vec::new();
    let mut m = chrono::NaiveDate::parse_from_str(&format!("{from}-01"), "%Y-%m-%d").unwrap();
    while m.format("%Y-%m").to_string().as_str() <= to {
        months.push(m.format("%Y-%m").to_string());
        m = m + chrono::Months::new(1);
    }
    let (status, paid) = app
        .post(
            &c,
            "/api/v1/dues/payments",
            json!({"member_id": flagged["member_id"], "months": months, "amount_fen": flagged["outstanding_fen"],
                   "method": "cash", "paid_on": today.to_string(), "reason": "补交欠缴党费"}),
        )
        .await;
    assert!(status.is_success(), "{paid}");
    let after = todo(&app, &c).await;
    assert_eq!(count(&after, "dues_flag"), count(&tree, "dues_flag") - 1, "{after:?}");

    // A branch holds a theme day it had missed this year: one overdue item fewer.
    let missed = overdue["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "theme_day" && i["period"].as_str().unwrap().len() == 7)
        .cloned();
    // The demo's lagging branch skipped last month's; in January that month is last year's.
    assert!(missed.is_some() || chrono::Datelike::month(&today) == 1, "{overdue}");
    let mut expected_overdue = count(&tree, "meetings_overdue");
    if let Some(missed) = missed {
        let day = format!("{}-15", missed["period"].as_str().unwrap());
        let (status, held) = app
            .post(
                &c,
                "/api/v1/meetings",
                json!({"org_id": missed["org_id"], "kind": "theme_day", "title": "补开的主题党日",
                       "starts_at": format!("{day}T09:00"), "ends_at": format!("{day}T11:00"), "status": "held"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{held}");
        expected_overdue -= 1;
        assert_eq!(count(&todo(&app, &c).await, "meetings_overdue"), expected_overdue);
    }

    // A new day evaluates every organization again, and finds the same.
    app.store
        .db
        .exec(store::db::Q::new(
            "UPDATE job_leases SET last_run_on = NULL WHERE name = 'warnings_day'",
        ))
        .await
        .unwrap();
    let again = todo(&app, &c).await;
    for what in [
        "meetings_overdue",
        "terms_overdue",
        "terms_due",
        "dues_flag",
        "dues_warning",
        "development_late",
        "development_due",
    ] {
        assert_eq!(count(&again, what), count(&todo(&app, &c).await, what), "{what}");
    }
    assert_eq!(count(&again, "meetings_overdue"), expected_overdue);
    let (resolved,): (i64,) = app
        .store
        .db
        .one(store::db::Q::new(
            "SELECT COUNT(*) FROM warnings WHERE resolved_on IS NOT NULL",
        ))
        .await
        .unwrap();
    assert!(resolved >= 1, "a resolved warning keeps its day");
});
