//! Dashboards (决策辅助): every tile's figures equal the lists behind them for the same
//! organization and day, a write moves them, a past day reads the figures kept for it, and out of
//! scope answers 404.

use crate::both;
use crate::support::{id_number, App};
use reqwest::StatusCode;
use serde_json::{json, Value};
use store::db::Q;

async fn dashboard(app: &App, token: &str, org: i64, query: &str) -> Value {
    let (status, d) = app.get(token, &format!("/api/v1/orgs/{org}/dashboard?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{d}");
    d
}

/// A tile's value for a category in one of its series.
fn value(d: &Value, tile: &str, series: &str, category: &str) -> i64 {
    let t = d["tiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == tile)
        .unwrap_or_else(|| panic!("no tile {tile}: {d}"));
    let i = t["categories"].as_array().unwrap().iter().position(|c| c == category);
    let s = t["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == series)
        .unwrap_or_else(|| panic!("no series {series} in {t}"));
    i.map_or(0, |i| s["values"][i].as_i64().unwrap())
}

/// The required study tasks' tile of an organization's dashboard today: (done, not done).
pub async fn tasks_tile(app: &App, token: &str, org: i64) -> (i64, i64) {
    let d = dashboard(app, token, org, "").await;
    (
        value(&d, "study_tasks", "count", "done"),
        value(&d, "study_tasks", "count", "not_done"),
    )
}

/// The members reached and those done, summed over the required tasks of a study report (which
/// must list every task).
pub fn required_tasks(report: &Value) -> (i64, i64) {
    let tasks = report["tasks"].as_array().unwrap();
    assert_eq!(
        report["tasks_total"].as_u64(),
        Some(tasks.len() as u64),
        "every task listed"
    );
    tasks
        .iter()
        .filter(|t| t["required"] == true)
        .fold((0, 0), |(r, d), t| {
            (r + t["counted"].as_i64().unwrap(), d + t["completed"].as_i64().unwrap())
        })
}

async fn total(app: &App, token: &str, path: &str) -> i64 {
    let (status, page) = app.get(token, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {page}");
    page["total"].as_i64().unwrap()
}

both!(dashboard_figures_equal_the_lists_behind_them, |app: App| async move {
    let c = app.login("committee").await;
    let root = app.org_id(&c, "浙江开放大学委员会").await;
    let d = dashboard(&app, &c, root, "").await;
    let today = d["as_of"].as_str().unwrap().to_string();
    assert_eq!(
        d["kept_since"].as_str(),
        Some(today.as_str()),
        "counted from the first reading"
    );

    // Members: the roster's totals with the same filters.
    let roster = |filter: &str| format!("/api/v1/members?org_id={root}&per_page=1{filter}");
    let all = total(&app, &c, &roster("")).await;
    assert!(all > 1000, "the demo's committee: {all}");
    let full = value(&d, "members_category", "count", "full");
    let probationary = value(&d, "members_category", "count", "probationary");
    assert_eq!(full + probationary, all);
    assert_eq!(full, total(&app, &c, &roster("&category=full")).await);
    assert_eq!(probationary, total(&app, &c, &roster("&category=probationary")).await);
    assert!(probationary > 0);
    assert_eq!(
        value(&d, "members_gender", "count", "female"),
        total(&app, &c, &roster("&gender=female")).await
    );
    assert_eq!(
        value(&d, "members_education", "count", "bachelor"),
        total(&app, &c, &roster("&education=bachelor")).await
    );
    for tile in [
        "members_age",
        "members_party_age",
        "members_education",
        "members_ethnicity",
    ] {
        let t = d["tiles"].as_array().unwrap().iter().find(|t| t["id"] == tile).unwrap();
        let sum: i64 = t["series"][0]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .sum();
        assert_eq!(sum, all, "{tile} adds up to the members");
    }

    // Warnings: each kind's count is the warnings list's total.
    for kind in [
        "meetings_overdue",
        "meetings_due_soon",
        "terms_overdue",
        "terms_due",
        "dues_flag",
        "dues_warning",
        "development_late",
        "development_due",
    ] {
        let listed = total(&app, &c, &format!("/api/v1/orgs/{root}/warnings?kind={kind}")).await;
        assert_eq!(value(&d, "warnings", "count", kind), listed, "{kind}");
    }
    assert!(
        value(&d, "warnings", "count", "dues_flag") > 0,
        "the demo has a member a year behind"
    );

    // Dues: each month of the window is the dues report's month.
    let months: Vec<String> = d["tiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "dues_months")
        .unwrap()["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    assert_eq!(months.len(), 12);
    assert_eq!(months[11], today[..7]);
    let mut paid_any = false;
    for month in &months[8..] {
        let (y, m) = month.split_once('-').unwrap();
        let (status, report) = app
            .get(
                &c,
                &format!("/api/v1/orgs/{root}/dues?year={y}&month={}", m.trim_start_matches('0')),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(
            value(&d, "dues_months", "dues_due", month),
            report["due_fen"].as_i64().unwrap(),
            "{month}"
        );
        assert_eq!(
            value(&d, "dues_months", "dues_paid", month),
            report["paid_fen"].as_i64().unwrap(),
            "{month}"
        );
        assert_eq!(
            value(&d, "dues_months", "dues_outstanding", month),
            report["outstanding_fen"].as_i64().unwrap(),
            "{month}"
        );
        paid_any |= report["paid_fen"].as_i64().unwrap() > 0;
    }
    assert!(paid_any, "the demo's members pay");

    // Development: the board's count by stage.
    let (_, board) = app.get(&c, &format!("/api/v1/development?org_id={root}")).await;
    for stage in 1..=5 {
        assert_eq!(
            value(&d, "development_stages", "count", &stage.to_string()),
            board["stages"][stage - 1].as_i64().unwrap(),
            "stage {stage}"
        );
    }

    // Organizational life: by kind, the compliance list's periods of this year that have ended, and
    // those of them held; held and overdue add up to the periods ended.
    let (status, items) = app
        .get(&c, &format!("/api/v1/orgs/{root}/compliance?year={}", &today[..4]))
        .await;
    assert_eq!(status, StatusCode::OK, "{items}");
    let day = chrono::NaiveDate::parse_from_str(&today, "%Y-%m-%d").unwrap();
    let mut ended: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
    for item in items["items"].as_array().unwrap() {
        let label = item["period"].as_str().unwrap();
        let year: i32 = label[..4].parse().unwrap();
        let start_month = match &label[4..] {
            "" => 1,
            q if q.starts_with("-Q") => 1 + 3 * (q[2..].parse::<u32>().unwrap() - 1),
            m => m[1..].parse().unwrap(),
        };
        let months = match &label[4..] {
            "" => 12,
            q if q.starts_with("-Q") => 3,
            _ => 1,
        };
        let start = chrono::NaiveDate::from_ymd_opt(year, start_month, 1).unwrap();
        let end = start + chrono::Months::new(months);
        if end <= day {
            let e = ended.entry(item["kind"].as_str().unwrap().to_string()).or_default();
            e.0 += 1;
            e.1 += i64::from(item["held"].as_i64().unwrap() > 0);
        }
    }
    assert!(!ended.is_empty(), "the demo's year has periods ended");
    for kind in [
        "branch_general_meeting",
        "branch_committee_meeting",
        "party_lecture",
        "theme_day",
    ] {
        let (due, held) = ended.get(kind).copied().unwrap_or_default();
        assert_eq!(value(&d, "life_kinds", "due", kind), due, "{kind} periods ended");
        assert_eq!(value(&d, "life_kinds", "met", kind), held, "{kind} periods held");
        assert_eq!(
            value(&d, "life_kinds", "overdue", kind),
            due - held,
            "{kind}: the periods ended unheld are the overdue ones"
        );
    }
    assert!(
        ended.values().any(|(due, held)| held > &0 && held < due),
        "the demo holds some periods and misses others: {ended:?}"
    );

    // Structure and terms: the warnings list's counts, and the data-quality report's missing terms.
    for kind in ["structure", "terms_due", "terms_overdue"] {
        let listed = total(&app, &c, &format!("/api/v1/orgs/{root}/warnings?kind={kind}")).await;
        assert_eq!(value(&d, "orgs_attention", "count", kind), listed, "{kind}");
    }
    let (_, quality) = app.get(&c, &format!("/api/v1/orgs/{root}/data-quality")).await;
    let terms_missing = quality["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|ch| ch["check"] == "terms_missing")
        .map_or(0, |ch| ch["failed"].as_i64().unwrap());
    assert_eq!(value(&d, "orgs_attention", "count", "terms_missing"), terms_missing);

    // Required study tasks: the study report's rates of this year's required tasks, summed.
    let (_, study) = app.get(&c, &format!("/api/v1/orgs/{root}/study")).await;
    let (reached, done) = required_tasks(&study);
    assert!(
        reached > 0 && done >= 3,
        "the demo's year task and its offline completions: {study}"
    );
    assert_eq!(value(&d, "study_tasks", "count", "done"), done);
    assert_eq!(value(&d, "study_tasks", "count", "not_done"), reached - done);

    // The organizations below: each one's members are its own dashboard's, and they add up.
    let below = d["below"].as_array().unwrap();
    assert!(!below.is_empty());
    let mut sum = 0;
    for b in below {
        let id = b["org_id"].as_i64().unwrap();
        let (_, org) = app.get(&c, &format!("/api/v1/orgs/{id}")).await;
        assert_eq!(b["figures"]["members"], org["member_count"], "{b}");
        sum += b["figures"]["members"].as_i64().unwrap();
    }
    let (_, root_org) = app.get(&c, &format!("/api/v1/orgs/{root}")).await;
    assert_eq!(sum + root_org["direct_members"].as_i64().unwrap(), all);

    // A write moves the figures at once: a new probationary member in a branch.
    let t = app.login("secretary").await;
    let branch = app.get(&t, "/api/v1/me").await.1["grants"][0]["org_id"]
        .as_i64()
        .unwrap();
    let before = dashboard(&app, &t, branch, "").await;
    let (status, m) = app
        .post(
            &t,
            "/api/v1/members",
            json!({"org_id": branch, "name": "看板新党员", "gender": "female", "ethnicity": "汉族",
                       "id_number": id_number("19990101", 7, false), "joined_on": format!("{}-01", &today[..7]),
                       "education": "master"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    let after = dashboard(&app, &t, branch, "").await;
    for (tile, category, delta) in [
        ("members_category", "probationary", 1),
        ("members_gender", "female", 1),
        ("members_education", "master", 1),
        ("members_ethnicity", "汉族", 1),
    ] {
        assert_eq!(
            value(&after, tile, "count", category),
            value(&before, tile, "count", category) + delta,
            "{tile} {category}"
        );
    }
    assert_eq!(
        value(&after, "members_flows", "joined", &today[..7]),
        value(&before, "members_flows", "joined", &today[..7]) + 1
    );
    let root_after = dashboard(&app, &c, root, "").await;
    assert_eq!(
        value(&root_after, "members_category", "count", "probationary"),
        probationary + 1
    );

    // A past day reads what was kept for it; a day before anything was kept, or tomorrow, is refused.
    let yesterday = (day - chrono::Duration::days(1)).to_string();
    let (status, e) = app
        .get(&c, &format!("/api/v1/orgs/{root}/dashboard?as_of={yesterday}"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["fields"]["as_of"]["code"], "as_of.not_kept");
    assert!(
        e["error"]["fields"]["as_of"]["message"]
            .as_str()
            .unwrap()
            .contains(&today),
        "{e}"
    );
    let tomorrow = (day + chrono::Duration::days(1)).to_string();
    let (status, e) = app
        .get(&c, &format!("/api/v1/orgs/{root}/dashboard?as_of={tomorrow}"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["fields"]["as_of"]["code"], "as_of.in_future");
    for (figure, n) in [("orgs:committee", 1), ("category:full", 40)] {
        app.store
            .db
            .exec(
                Q::new("INSERT INTO figure_history (org_id, figure, day, n) VALUES ($1, $2, $3, $4)")
                    .bind(root)
                    .bind(figure)
                    .bind(day - chrono::Duration::days(1))
                    .bind(n as i64),
            )
            .await
            .unwrap();
    }
    let past = dashboard(&app, &c, root, &format!("as_of={yesterday}")).await;
    assert_eq!(past["as_of"], yesterday.as_str());
    assert_eq!(value(&past, "members_category", "count", "full"), 40);
    assert_eq!(
        value(&past, "members_category", "count", "probationary"),
        0,
        "nothing kept that day"
    );
    let same = dashboard(&app, &c, root, &format!("as_of={today}")).await;
    assert_eq!(value(&same, "members_category", "count", "full"), full);

    // Out of scope is absent: a member, and a secretary at the committee.
    let m = app.login("member").await;
    let (status, _) = app.get(&m, &format!("/api/v1/orgs/{branch}/dashboard")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get(&t, &format!("/api/v1/orgs/{root}/dashboard")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
});

both!(
    the_dashboard_page_draws_charts_tables_and_the_units_below,
    |app: App| async move {
        let c = app.login("committee").await;
        let root = app.org_id(&c, "浙江开放大学委员会").await;
        let d = dashboard(&app, &c, root, "").await;
        let browser = app.browser("committee").await;
        let page = app.page(&browser, &format!("/orgs/{root}/dashboard")).await;
        assert!(page.contains("数据看板") && page.contains("数据截至"), "{page}");
        assert_eq!(
            page.matches("<svg class=\"chart\"").count(),
            d["tiles"].as_array().unwrap().len()
        );
        assert!(page.contains("正式党员") && page.contains("查看明细") && page.contains("下级组织对比"));
        let full = value(&d, "members_category", "count", "full").to_string();
        assert!(
            page.contains(&format!("<td class=\"num\">{full}</td>")),
            "the table holds the figure"
        );
        // Sorted by members, most first, as the viewer asks.
        let sorted = app
            .page(&browser, &format!("/orgs/{root}/dashboard?sort=-members"))
            .await;
        let mut sizes: Vec<i64> = d["below"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["figures"]["members"].as_i64().unwrap())
            .collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        let first = d["below"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["figures"]["members"].as_i64() == Some(sizes[0]))
            .unwrap()["name"]
            .as_str()
            .unwrap()
            .to_string();
        let table = &sorted[sorted.find("id=\"below-table\"").unwrap()..];
        let first_row = &table[table.find("<tbody>").unwrap()..];
        assert!(
            first_row[..first_row.find("</tr>").unwrap()].contains(&first),
            "{first}"
        );
        // A date that is not one is named, and today's figures still shown.
        let bad = app
            .page(&browser, &format!("/orgs/{root}/dashboard?as_of=2026-02-30%3Cb%3E"))
            .await;
        assert!(bad.contains("不是有效的日期"), "{bad}");
        assert!(!bad.contains("<b>"));
        // A branch secretary's own dashboard; a member has none.
        let t = app.browser("secretary").await;
        let token = app.login("secretary").await;
        let branch = app.get(&token, "/api/v1/me").await.1["grants"][0]["org_id"]
            .as_i64()
            .unwrap();
        let page = app.page(&t, &format!("/orgs/{branch}/dashboard")).await;
        assert!(page.contains("<svg class=\"chart\""), "{page}");
        let m = app.browser("member").await;
        let res = m
            .get(format!("{}/orgs/{branch}/dashboard", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
);

both!(
    a_display_token_reaches_aggregates_only_and_is_revoked,
    |app: App| async move {
        let c = app.login("committee").await;
        let t = app.login("secretary").await;
        let branch = app.get(&t, "/api/v1/me").await.1["grants"][0]["org_id"]
            .as_i64()
            .unwrap();
        let d = dashboard(&app, &c, branch, "").await;

        // Only those who manage the organization create one; a secretary is refused, a member finds nothing.
        let (status, _) = app
            .post(
                &t,
                &format!("/api/v1/orgs/{branch}/displays"),
                json!({"name": "支部活动室"}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let m = app.login("member").await;
        let (status, _) = app.get(&m, &format!("/api/v1/orgs/{branch}/displays")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, e) = app
            .post(&c, &format!("/api/v1/orgs/{branch}/displays"), json!({"name": "  "}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (status, created) = app
            .post(
                &c,
                &format!("/api/v1/orgs/{branch}/displays"),
                json!({"name": "支部活动室<b>"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let token = created["token"].as_str().unwrap().to_string();
        let path = created["path"].as_str().unwrap().to_string();
        assert_eq!(path, format!("/display/{token}"));
        let (_, listed) = app.get(&c, &format!("/api/v1/orgs/{branch}/displays")).await;
        assert_eq!(listed.as_array().unwrap().len(), 1);
        assert!(
            !listed.to_string().contains(&token),
            "the token is shown once, never listed"
        );

        // The screen opens with the token alone, shows counts with small cells withheld, no names, no dues.
        let screen = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(screen.status(), StatusCode::OK);
        assert_eq!(screen.headers()["cache-control"], "no-store");
        let html = screen.text().await.unwrap();
        assert!(html.contains("http-equiv=\"refresh\""), "it reloads itself");
        assert!(
            html.contains("300;url=?page=1"),
            "one page of units below: the same again"
        );
        let small: Vec<i64> = d["tiles"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["unit"] != "fen")
            .flat_map(|t| t["series"].as_array().unwrap().iter())
            .flat_map(|s| s["values"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()))
            .filter(|v| (1..5).contains(v))
            .collect();
        assert!(!small.is_empty(), "a branch has small cells: {d}");
        assert!(html.contains("&lt;5"), "small cells show as <5");
        assert!(!html.contains("党费"), "no dues tile");
        let (_, roster) = app
            .get(&t, &format!("/api/v1/members?org_id={branch}&per_page=200"))
            .await;
        for member in roster["items"].as_array().unwrap() {
            assert!(!html.contains(member["name"].as_str().unwrap()), "no person's name");
        }
        let (shown,): (i64,) = app
            .store
            .db
            .one(Q::new(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'display.show' AND result = 'ok'",
            ))
            .await
            .unwrap();
        assert_eq!(shown, 1, "each showing is audited");

        // The token opens nothing else: not the API, not a page.
        let (status, _) = app.get(&token, &format!("/api/v1/orgs/{branch}/dashboard")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let last = if token.ends_with('0') { '1' } else { '0' };
        let wrong = app
            .http
            .get(format!("{}/display/{}{last}", app.base, &token[..63]))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::NOT_FOUND);

        // Revoked, the screen closes; revoking again changes nothing; another subtree's is absent.
        let id = created["display"]["id"].as_i64().unwrap();
        let (status, revoked) = app
            .call(
                reqwest::Method::DELETE,
                &format!("/api/v1/displays/{id}"),
                Some(&c),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{revoked}");
        assert!(revoked["revoked_at"].is_string());
        let closed = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(closed.status(), StatusCode::NOT_FOUND);
        let (status, _) = app
            .call(
                reqwest::Method::DELETE,
                &format!("/api/v1/displays/{id}"),
                Some(&t),
                None,
            )
            .await;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
            "{status}"
        );

        // The page: created with its address shown once, then listed and revoked.
        let browser = app.browser("committee").await;
        let (_, page) = app
            .submit(
                &browser,
                &format!("/orgs/{branch}/displays"),
                &[("name", "三楼会议室".to_string())],
            )
            .await;
        assert!(page.contains("id=\"created\"") && page.contains("/display/"), "{page}");
        assert!(
            page.contains("支部活动室") && !page.contains("支部活动室<b>"),
            "names escaped"
        );
    }
);
