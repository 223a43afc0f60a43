//! Every link a page offers opens for the one it is offered to: each user's pages are walked from
//! their home, following every link to a page of ours, and none may answer 403, 404 or an error.

use std::collections::{BTreeSet, VecDeque};

use crate::both;
use crate::support::App;

/// The pages of ours a page links to (paths with their queries, without fragments), skipping
/// downloads, exports and the switches that only set a preference.
pub(crate) fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|href| href.replace("&amp;", "&").replace("&#38;", "&"))
        .map(|href| href.split('#').next().unwrap_or_default().to_string())
        .filter(|href| href.starts_with('/') && !href.starts_with("//"))
        .filter(|href| {
            !["/static/", "/favicon", "/prefs", "/logout", "/api/"]
                .iter()
                .any(|p| href.starts_with(p))
                && ![
                    ".csv",
                    ".xlsx",
                    "export",
                    "/download",
                    "/documents/",
                    "/attachments/",
                    "/print",
                ]
                .iter()
                .any(|p| href.contains(p))
        })
        .collect()
}

/// Walks a user's pages breadth first, at most `limit` of them, and returns those that failed.
async fn walk(app: &App, user: &str, limit: usize) -> (usize, Vec<String>) {
    let web = app.browser(user).await;
    let mut seen = BTreeSet::from(["/".to_string()]);
    let mut shapes = std::collections::HashMap::<String, usize>::new();
    let mut queue = VecDeque::from([("/".to_string(), "home".to_string())]);
    let mut failed = Vec::new();
    let mut visited = 0;
    while let Some((path, from)) = queue.pop_front() {
        if visited == limit {
            break;
        }
        visited += 1;
        let res = web.get(format!("{}{path}", app.base)).send().await.unwrap();
        let status = res.status();
        let html = res.text().await.unwrap();
        if !status.is_success() {
            failed.push(format!("{status} {path} (linked from {from})"));
            continue;
        }
        for link in links(&html) {
            // A few of each kind of page: `/members/12`, `/members/13` and `/members/14` stand for
            // every member's record (a member's own and the first others linked).
            let shape: String = link.chars().map(|c| if c.is_ascii_digit() { '9' } else { c }).collect();
            let tried = shapes.entry(shape).or_default();
            if *tried < 3 && seen.insert(link.clone()) {
                *tried += 1;
                queue.push_back((link, path.clone()));
            }
        }
    }
    (visited, failed)
}

both!(no_page_offers_a_link_its_reader_cannot_open, |app: App| async move {
    let users = [
        ("member", 80),
        ("secretary", 150),
        ("committee", 150),
        ("admin", 60),
        ("secadmin", 40),
        ("auditor", 40),
    ];
    for (user, limit) in users {
        let (visited, failed) = walk(&app, user, limit).await;
        assert!(visited > 3, "{user} walked only {visited} pages");
        assert!(failed.is_empty(), "{user}, {visited} pages: {failed:#?}");
    }
});

both!(every_save_says_so_once, |app: App| async move {
    let c = app.login("committee").await;
    let web = app.browser("committee").await;
    let branch = app.org_id(&c, "信息学院教工党支部").await;
    let (_, org) = app.get(&c, &format!("/api/v1/orgs/{branch}")).await;
    // An organization's edit and a meeting planned: each page says 已保存 once (a member's save
    // is the browser test's).
    let (url, page) = app
        .submit(
            &web,
            &format!("/orgs/{branch}"),
            &[
                ("name", org["name"].as_str().unwrap().to_string()),
                ("sector", "general".into()),
            ],
        )
        .await;
    assert_eq!(page.matches("id=\"saved\"").count(), 1, "{url}");
    let day = store::clock::today() + chrono::Days::new(5);
    let (url, page) = app
        .submit(
            &web,
            "/meetings",
            &[
                ("org_id", branch.to_string()),
                ("kinds", "party_lecture".into()),
                ("title", "确认测试党课".into()),
                ("starts_at", format!("{day}T14:30")),
                ("ends_at", format!("{day}T16:00")),
            ],
        )
        .await;
    assert!(url.path().starts_with("/meetings/"), "{url}: {page}");
    assert_eq!(page.matches("已保存").count(), 1, "{url}");
});
