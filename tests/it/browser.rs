//! A browser test in headless Chromium through chromedriver (Debian's packages), and the pages of
//! every role fetched as a browser would. The WebDriver calls are plain HTTP.

use crate::both;
use crate::support::{id_number, App, Backend, PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// axe-core's script, read once, when HONGJI_AXE names it.
fn axe_source() -> Option<&'static str> {
    static AXE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    AXE.get_or_init(|| std::fs::read_to_string(std::env::var("HONGJI_AXE").ok()?).ok())
        .as_deref()
}

struct Browser {
    driver: Child,
    http: reqwest::Client,
    session: String,
}

impl Browser {
    async fn start(width: u32) -> Browser {
        let chromedriver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        // Tests that start a browser are ignored at build time when it is missing (see build.rs).
        let chromedriver =
            chromedriver.expect("chromedriver was removed after the build (apt-get install chromium chromium-driver)");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if http.get(format!("{base}/status")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = std::env::temp_dir().join(format!("hongji-chrome-{}", store::crypto::new_token()));
        let mut options = json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--lang=zh-CN",
                     format!("--window-size={width},900"), format!("--user-data-dir={}", profile.display())]
        });
        // Chromium's windows are at least 500 px wide: a phone's width is emulated instead.
        if width < 500 {
            options["mobileEmulation"] = json!({"deviceMetrics": {"width": width, "height": 844, "pixelRatio": 1.0}});
        }
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}});
        let res: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = res["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {res}"))
            .to_string();
        let b = Browser {
            driver,
            http,
            session: format!("{base}/session/{session}"),
        };
        // Element lookups wait for the page that a click started loading.
        b.cmd(
            reqwest::Method::POST,
            "/timeouts",
            json!({"implicit": 10000, "pageLoad": 20000}),
        )
        .await;
        b
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let res = self
            .http
            .request(method, format!("{}{path}", self.session))
            .json(&body)
            .send()
            .await
            .unwrap();
        res.json::<Value>().await.unwrap()["value"].clone()
    }

    /// Opens a page; where axe-core is installed, the page must pass it (see `accessible`).
    async fn go(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", json!({"url": url})).await;
        self.accessible().await;
    }

    /// Runs axe-core (HONGJI_AXE names its `axe.min.js`) over the page shown and fails on any
    /// violation, naming the rule and the elements. Without it (a machine that did not install it)
    /// nothing is checked here; the walk below is then reported as ignored.
    async fn accessible(&self) {
        let Some(axe) = axe_source() else { return };
        self.script(axe).await;
        let found = self
            .cmd(
                reqwest::Method::POST,
                "/execute/async",
                json!({"script": "const done = arguments[arguments.length - 1];
                    axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map(v =>
                      v.id + ': ' + v.help + ' — ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')
                    ))).catch(e => done(['axe failed: ' + e]));", "args": []}),
            )
            .await;
        let url = self.url().await;
        let violations: Vec<String> = serde_json::from_value(found.clone()).unwrap_or_else(|_| vec![found.to_string()]);
        assert!(violations.is_empty(), "axe-core on {url}:\n{}", violations.join("\n"));
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_string()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd(reqwest::Method::POST, &format!("/element/{e}/clear"), json!({}))
            .await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            json!({"text": text}),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.cmd(reqwest::Method::POST, &format!("/element/{e}/click"), json!({}))
            .await;
    }

    async fn script(&self, js: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": js, "args": []}),
        )
        .await
    }

    async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.cmd(reqwest::Method::GET, &format!("/element/{e}/text"), json!({}))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", json!({}))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits up to ten seconds for the address to satisfy `ok` (a click's navigation may still
    /// run); the page arrived at is checked as `go` checks one.
    async fn wait_url(&self, ok: impl Fn(&str) -> bool) -> String {
        let mut url = self.url().await;
        for _ in 0..100 {
            if ok(&url) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            url = self.url().await;
        }
        self.accessible().await;
        url
    }

    /// Waits up to five seconds for an element's text to contain `needle` (a form's answer may still
    /// be loading); returns the text last read.
    async fn wait_text(&self, css: &str, needle: &str) -> String {
        let mut text = String::new();
        for _ in 0..50 {
            let found = self
                .script(&format!(
                    "const e = document.querySelector({css:?}); return e ? e.textContent : ''"
                ))
                .await;
            text = found.as_str().unwrap_or_default().to_string();
            if text.contains(needle) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        text
    }

    /// Saves a screenshot under target/screenshots for a person to look at.
    async fn screenshot(&self, name: &str) {
        use base64::Engine;
        let png = self.cmd(reqwest::Method::GET, "/screenshot", json!({})).await;
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(format!("{name}.png")),
            base64::engine::general_purpose::STANDARD
                .decode(png.as_str().unwrap_or_default())
                .unwrap_or_default(),
        )
        .unwrap();
    }

    async fn quit(mut self) {
        let _ = self.http.delete(&self.session).send().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

async fn login(b: &Browser, app: &App, user: &str) {
    b.go(&format!("{}/login", app.base)).await;
    b.type_into("#username", user).await;
    b.type_into("#password", PASSWORD).await;
    b.click("form[action='/login'] button").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(hongji_browser),
    ignore = "needs chromedriver: apt-get install chromium chromium-driver fonts-noto-cjk"
)]
async fn a_secretary_adds_a_member_in_the_browser() {
    let app = App::start(Backend::Sqlite).await;
    for (width, tag) in [(390, "phone"), (1280, "desktop")] {
        let b = Browser::start(width).await;
        login(&b, &app, "secretary").await;
        assert!(
            b.wait_url(|u| u.ends_with('/')).await.ends_with('/'),
            "signed in to my space"
        );
        b.screenshot(&format!("home-{tag}")).await;

        b.go(&format!("{}/members/new", app.base)).await;
        let name = if tag == "phone" { "郑小雨" } else { "郑大川" };
        let good = id_number("19950618", if tag == "phone" { 41 } else { 42 }, tag != "phone");
        let mut bad = good.clone();
        let last = bad.pop().unwrap();
        bad.push(if last == '1' { '2' } else { '1' });
        b.type_into("#name", name).await;
        b.type_into("#id_number", &bad).await;
        b.script(&format!(
            "document.getElementById('gender').value = '{}'",
            if tag == "phone" { "female" } else { "male" }
        ))
        .await;
        b.script("document.getElementById('joined_on').value = '2018-07-01'; document.getElementById('full_member_on').value = '2019-07-01';").await;
        b.click("form.grid button[type=submit]").await;
        let errors = b.text("#form-errors").await;
        assert!(
            errors.contains("公民身份号码") && errors.contains("校验位"),
            "a clear error: {errors}"
        );
        assert_eq!(
            b.script("return document.getElementById('name').value").await,
            name,
            "what was typed is kept"
        );
        b.screenshot(&format!("member-error-{tag}")).await;

        b.type_into("#id_number", &good).await;
        b.script("document.getElementById('joined_on').value = '2018-07-01'; document.getElementById('full_member_on').value = '2019-07-01';").await;
        b.click("form.grid button[type=submit]").await;
        let saved = b.wait_url(|u| u.contains("/members/") && !u.ends_with("/new")).await;
        assert!(
            saved.contains("/members/") && !saved.ends_with("/new"),
            "saved and shown: {saved}"
        );
        let said = b.wait_text("main", "已保存").await;
        assert!(said.contains("已保存"), "the page says it is saved");
        let shown = b.text("#id-number").await;
        assert_eq!(
            shown,
            format!("{}************{}", &good[..4], &good[16..]),
            "masked on the record"
        );

        b.go(&format!("{}/members?q={}", app.base, name)).await;
        let table = b.text("table.list").await;
        assert!(
            table.contains(name) && table.contains(&shown) && !table.contains(&good),
            "listed masked: {table}"
        );
        b.screenshot(&format!("members-{tag}")).await;
        b.quit().await;
    }
}

// Every page of every role renders (no JavaScript), in Chinese and in English.
both!(pages_render_for_every_role, |app: App| async move {
    let pages: [(&str, &[&str]); 6] = [
        (
            "committee",
            &[
                "/",
                "/life",
                "/meetings/new",
                "/activities/new",
                "/orgs",
                "/members",
                "/members?org_id=&q=王&sort=-joined_on&page=2",
                "/members/new",
                "/orgs/new",
                "/import",
                "/account",
            ],
        ),
        (
            "secretary",
            &[
                "/",
                "/life",
                "/meetings/new",
                "/activities/new",
                "/orgs",
                "/members",
                "/members/new",
                "/import",
                "/account",
            ],
        ),
        ("member", &["/", "/life", "/account"]),
        ("admin", &["/", "/orgs", "/orgs/new", "/account"]),
        ("secadmin", &["/", "/accounts", "/account"]),
        ("auditor", &["/", "/audit", "/audit?action=auth.&result=ok", "/account"]),
    ];
    for (user, paths) in pages {
        let client = app.browser(user).await;
        for lang in ["zh", "en"] {
            client
                .get(format!("{}/prefs?lang={lang}&back=/", app.base))
                .send()
                .await
                .unwrap();
            for path in paths {
                let res = client.get(format!("{}{path}", app.base)).send().await.unwrap();
                let status = res.status();
                let html = res.text().await.unwrap();
                assert_eq!(status, StatusCode::OK, "{user} {lang} {path}: {html}");
                assert!(
                    html.contains(if lang == "zh" { "红基" } else { "Hongji" }),
                    "{user} {lang} {path}"
                );
                assert!(
                    !html.contains("err.") && !html.contains("field."),
                    "untranslated key on {path}: {html}"
                );
            }
        }
    }
    // A member's own record and an organization page.
    let c = app.login("committee").await;
    let org = app.org_id(&c, "信息学院教工党支部").await;
    let m = app.some_member(&c, org).await;
    let client = app.browser("committee").await;
    let (_, meetings) = app.get(&c, &format!("/api/v1/meetings?org_id={org}&limit=1")).await;
    let meeting = meetings["items"][0]["id"].clone();
    for path in [
        format!("/orgs/{org}"),
        format!("/members/{}", m["id"]),
        format!("/members/{}/edit", m["id"]),
        format!("/orgs/{org}/meetings"),
        format!("/orgs/{org}/meetings?month=2026-02"),
        format!("/orgs/{org}/meetings?month=garbage"),
        format!("/orgs/{org}/compliance"),
        format!("/meetings/{meeting}"),
        format!(
            "/activities/{}",
            app.get(&c, "/api/v1/activities").await.1["items"][0]["id"]
        ),
    ] {
        let res = client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
    let res = client
        .post(format!("{}/members/{}/reveal", app.base, m["id"]))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    let html = res.text().await.unwrap();
    assert!(!html.contains("************"), "revealed in full");
    // Without a session, pages send you to sign in.
    let res = app.http.get(format!("{}/members", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login?next=/members");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(hongji_browser),
    ignore = "needs chromedriver: apt-get install chromium chromium-driver fonts-noto-cjk"
)]
async fn a_secretary_takes_the_roll_of_a_whole_branch_on_a_phone_in_a_few_taps() {
    let app = App::start(Backend::Sqlite).await;
    let t = app.login("secretary").await;
    let (_, me) = app.get(&t, "/api/v1/me").await;
    let branch = me["grants"][0]["org_id"].as_i64().unwrap();
    let today = store::clock::today();
    let (status, m) = app
        .post(
            &t,
            "/api/v1/meetings",
            json!({"org_id": branch, "kind": "branch_general_meeting", "title": "支部党员大会", "status": "held",
                   "starts_at": format!("{today}T00:00"), "ends_at": format!("{today}T01:00")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    let id = m["id"].as_i64().unwrap();
    let b = Browser::start(390).await;
    let mut taps = 0;
    login(&b, &app, "secretary").await;
    taps += 1;
    b.wait_url(|u| u.ends_with('/')).await;
    // The phone's menu folds under one button: the header is one short band until opened.
    let header = "return document.querySelector('header.top').getBoundingClientRect().height";
    let folded = b.script(header).await.as_f64().unwrap();
    assert!(folded < 100.0, "the header takes {folded} px at 390");
    b.click("label.menu-button").await;
    let nav = b
        .script("return getComputedStyle(document.querySelector('header nav')).display")
        .await;
    assert_eq!(nav, "grid", "opened, the menu shows its links");
    b.go(&format!("{}/meetings/{id}", app.base)).await;
    let rows = b
        .script("return document.querySelectorAll('#attendance ul.roll li').length")
        .await
        .as_i64()
        .unwrap();
    assert!(rows >= 10, "the whole branch is on the roll: {rows}");
    // Everyone starts as present: one absent with a reason, one on leave, then save.
    b.click("#attendance ul.roll li:nth-child(2) label[for$='-absent']")
        .await;
    b.type_into("#attendance ul.roll li:nth-child(2) input.reason", "出差")
        .await;
    b.click("#attendance ul.roll li:nth-child(3) label[for$='-leave']")
        .await;
    b.click("#attendance button[type=submit]").await;
    taps += 4;
    let saved = b.wait_text("main", "出勤已保存").await;
    assert!(saved.contains("出勤已保存"), "the save is confirmed");
    let height = b
        .script("return document.getElementById('attendance').scrollHeight")
        .await
        .as_i64()
        .unwrap();
    assert!(
        height < rows * 80 + 400,
        "a compact row a person at 390 px: {height} px for {rows}"
    );
    b.screenshot("roll-call-phone").await;
    b.script("document.querySelector('#attendance ul.roll li:nth-child(2)').scrollIntoView()")
        .await;
    b.screenshot("roll-call-phone-rows").await;
    b.quit().await;
    assert!(taps <= 5, "{taps} taps for {rows} people");
    let (_, sheet) = app.get(&t, &format!("/api/v1/meetings/{id}/attendance")).await;
    let items = sheet["items"].as_array().unwrap();
    let count = |st: &str| items.iter().filter(|a| a["status"] == st).count();
    assert_eq!(
        (count("present"), count("absent"), count("leave"), count("expected")),
        (rows as usize - 2, 1, 1, 0),
        "{sheet}"
    );
    assert!(items.iter().any(|a| a["status"] == "absent" && a["reason"] == "出差"));
    assert!(
        items.iter().all(|a| a["status"] != "present" || a["reason"].is_null()),
        "no reason kept for the present"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(hongji_browser),
    ignore = "needs chromedriver: apt-get install chromium chromium-driver fonts-noto-cjk"
)]
async fn a_secretary_records_a_months_dues_for_the_branch_on_a_phone() {
    let app = App::start(Backend::Sqlite).await;
    let t = app.login("secretary").await;
    let (_, me) = app.get(&t, "/api/v1/me").await;
    let branch = me["grants"][0]["org_id"].as_i64().unwrap();
    // Five members admitted this month with a base, whatever the demo's day: each owes this month.
    let today = store::clock::today();
    let joined = format!(
        "{}-{:02}-01",
        chrono::Datelike::year(&today),
        chrono::Datelike::month(&today)
    );
    for seq in 81..86 {
        let (status, m) = app
            .post(
                &t,
                "/api/v1/members",
                json!({"org_id": branch, "name": format!("收缴测试{seq}"), "gender": "male", "birth_date": "1995-03-04",
                       "id_number": id_number("19950304", seq, true), "joined_on": joined, "category": "probationary"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{m}");
        let (status, p) = app
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/members/{}/dues-profile", m["id"]),
                Some(&t),
                Some(json!({"year": chrono::Datelike::year(&today), "category": "employed", "base_fen": 520000, "effective_month": 1})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{p}");
    }
    let b = Browser::start(390).await;
    let mut taps = 0;
    login(&b, &app, "secretary").await;
    taps += 1;
    b.wait_url(|u| u.ends_with('/')).await;
    b.go(&format!("{}/orgs/{branch}/dues", app.base)).await;
    b.click(&format!("a[href='/orgs/{branch}/dues/sheet']")).await;
    taps += 1;
    let owing = b
        .script("return document.querySelectorAll('#sheet input[name=paid]').length")
        .await
        .as_i64()
        .unwrap();
    assert!(owing >= 5, "{owing} members to tick");
    // Five paid: four in cash (the sheet's method), one online.
    let rows = "[...document.querySelectorAll('#sheet ul.roll li')].filter(li => li.textContent.includes('收缴测试'))";
    for n in 0..5 {
        b.script(&format!("{rows}[{n}].querySelector('input[name=paid]').click()"))
            .await;
        taps += 1;
    }
    b.script(&format!("{rows}[4].querySelector('select').value = 'online'"))
        .await;
    taps += 1;
    b.click("#sheet button[type=submit]").await;
    taps += 1;
    let saved = b.wait_text("main", "已记录").await;
    assert!(saved.contains("已记录 5 名同志的党费"), "{saved}");
    b.screenshot("dues-sheet-phone").await;
    b.quit().await;
    assert!(taps <= 9, "{taps} taps for five payments");
    let by_method: Vec<(String, i64)> = app
        .store
        .db
        .all(store::db::Q::new(
            "SELECT method, COUNT(*) FROM dues_payments WHERE recorded_by = 'secretary' GROUP BY method ORDER BY method",
        ))
        .await
        .unwrap();
    assert_eq!(
        by_method,
        [("cash".to_string(), 4), ("online".to_string(), 1)],
        "each its own payment, each its method"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(hongji_browser),
    ignore = "needs chromedriver: apt-get install chromium chromium-driver fonts-noto-cjk"
)]
async fn committee_staff_plan_a_meeting_record_attendance_and_see_compliance_change() {
    let app = App::start(Backend::Sqlite).await;
    let b = Browser::start(1280).await;
    let c = app.login("committee").await;
    let lagging = app.org_id(&c, "组织人事党支部").await;
    let month = format!(
        "{}-{:02}",
        chrono::Datelike::year(&store::clock::today()),
        chrono::Datelike::month(&store::clock::today())
    );
    let theme_row = "return [...document.querySelectorAll('.grid-table tr')].find(r => r.textContent.includes('主题党日')).textContent";
    login(&b, &app, "committee").await;
    b.wait_url(|u| u.ends_with('/')).await;
    b.go(&format!("{}/orgs/{lagging}/meetings", app.base)).await;
    let before = b.script(theme_row).await.as_str().unwrap_or_default().to_string();
    assert!(
        !before.contains(&format!("{month} ✓")),
        "not yet held this month: {before}"
    );

    b.click(&format!("a[href='/meetings/new?org_id={lagging}']")).await;
    b.type_into("#title", "主题党日：学习贯彻会议精神").await;
    b.click("input[name=kinds][value=theme_day]").await;
    b.type_into("#location", "行政楼 204").await;
    b.script("document.getElementById('status').value = 'held'").await;
    // Held this morning, so that the roll call starts everyone as present.
    b.script(&format!(
        "document.getElementById('starts_at').value = '{}T00:00'",
        store::clock::today()
    ))
    .await;
    b.click("form.grid button[type=submit]").await;
    let url = b.wait_url(|u| u.contains("/meetings/") && !u.contains("/new")).await;
    assert!(url.contains("/meetings/"), "{url}");
    // Everyone present but the first, who is on leave: one tap.
    b.click("#attendance ul.roll li:first-child label[for$='-leave']").await;
    b.click("#attendance button[type=submit]").await;
    let quorum = b.wait_text("#quorum", "达到法定人数").await;
    assert!(quorum.contains("达到法定人数"), "{quorum}");
    b.screenshot("meeting-desktop").await;

    b.go(&format!("{}/orgs/{lagging}/meetings", app.base)).await;
    let after = b.script(theme_row).await.as_str().unwrap_or_default().to_string();
    assert!(after.contains(&format!("{month} ✓")), "held now: {after}");
    b.screenshot("meetings-desktop").await;
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(hongji_browser),
    ignore = "needs chromedriver: apt-get install chromium chromium-driver fonts-noto-cjk"
)]
async fn a_secretary_sets_a_base_records_a_payment_and_arrears_clear() {
    let app = App::start(Backend::Sqlite).await;
    let t = app.login("secretary").await;
    let (_, me) = app.get(&t, "/api/v1/me").await;
    let branch = me["grants"][0]["org_id"].as_i64().unwrap();
    // Admitted on the first of the month before last: two complete months are owed.
    let today = store::clock::today();
    let admitted = chrono::Datelike::with_day(&today, 1).unwrap() - chrono::Months::new(2);
    let (status, m) = app
        .post(
            &t,
            "/api/v1/members",
            json!({"org_id": branch, "name": "缴费测试", "gender": "female", "birth_date": "1996-05-06",
                   "id_number": id_number("19960506", 44, false), "joined_on": admitted.to_string(), "category": "probationary"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    let id = m["id"].as_i64().unwrap();
    for (width, tag) in [(390, "phone"), (1280, "desktop")] {
        let b = Browser::start(width).await;
        login(&b, &app, "secretary").await;
        b.wait_url(|u| u.ends_with('/')).await;
        b.go(&format!("{}/members/{id}/dues", app.base)).await;
        if tag == "phone" {
            // A base that is not an amount is named, and what was typed stays.
            b.type_into("#base", "五千").await;
            b.click("#base-form button[type=submit]").await;
            let errors = b.text("#form-errors").await;
            assert!(errors.contains("党费基数"), "{errors}");
            assert_eq!(b.script("return document.getElementById('base').value").await, "五千");
            b.type_into("#base", "5,200.00").await;
            b.click("#base-form button[type=submit]").await;
            b.wait_url(|u| u.contains("done=base_saved")).await;
            let page = b.text("main").await;
            assert!(page.contains("1.5% = 78.00"), "the amount explains itself: {page}");
            b.go(&format!("{}/orgs/{branch}/dues", app.base)).await;
            let arrears = b.text("#arrears-list").await;
            assert!(arrears.contains("缴费测试"), "two months behind: {arrears}");
            b.screenshot("dues-org-phone").await;
            b.go(&format!("{}/members/{id}/dues", app.base)).await;
        }
        let owed_before = b
            .script("return [...document.querySelectorAll('#payment-form input[name=months]')].length")
            .await;
        // The phone sees the two complete months and this one; the desktop, once those are paid,
        // this month and the rest of the year (only this month in December).
        let at_least = if tag == "phone" { 3 } else { 1 };
        assert!(owed_before.as_i64().unwrap() >= at_least, "{owed_before}");
        if tag == "phone" {
            // The two complete months, paid by the spouse in cash.
            b.script("[...document.querySelectorAll('#payment-form input[name=months]')].slice(0, 2).forEach(x => x.checked = true)")
                .await;
            b.type_into("#payer", "配偶").await;
        } else {
            // The rest of the year ahead, with 10 yuan extra.
            b.script("document.querySelectorAll('#payment-form input[name=months]').forEach(x => x.checked = true)")
                .await;
            b.type_into("#extra", "10").await;
        }
        b.click("#payment-form button[type=submit]").await;
        let url = b.wait_url(|u| u.contains("done=payment_recorded")).await;
        assert!(url.contains("done=payment_recorded"), "{url}");
        let paid_up_to = b.text("#paid-up-to").await;
        let last_month = today - chrono::Months::new(1);
        assert!(
            paid_up_to
                >= format!(
                    "{}-{:02}",
                    chrono::Datelike::year(&last_month),
                    chrono::Datelike::month(&last_month)
                ),
            "{paid_up_to}"
        );
        assert_eq!(b.text("#member-arrears").await, "无");
        b.screenshot(&format!("dues-member-{tag}")).await;
        b.go(&format!("{}/orgs/{branch}/dues", app.base)).await;
        let arrears = b
            .script("const t = document.getElementById('arrears-list'); return t ? t.textContent : ''")
            .await;
        assert!(
            !arrears.as_str().unwrap().contains("缴费测试"),
            "arrears cleared: {arrears}"
        );
        b.quit().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(hongji_browser),
    ignore = "needs chromedriver: apt-get install chromium chromium-driver fonts-noto-cjk"
)]
async fn a_transfer_goes_from_one_branch_to_another_through_approval() {
    let app = App::start(Backend::Sqlite).await;
    let t = app.login("secretary").await;
    let (_, me) = app.get(&t, "/api/v1/me").await;
    let branch = me["grants"][0]["org_id"].as_i64().unwrap();
    let id = crate::transfers::free_members(&app, &t, branch).await[1];
    let (_, member) = app.get(&t, &format!("/api/v1/members/{id}")).await;
    let b = Browser::start(390).await;
    login(&b, &app, "secretary").await;
    b.wait_url(|u| u.ends_with('/')).await;
    b.go(&format!("{}/members/{id}", app.base)).await;
    let mut taps = 0;
    b.click("#transfer-out").await;
    taps += 1;
    b.wait_url(|u| u.contains("/transfers/new")).await;
    // A name nobody has finds nothing, and says so as one types.
    b.type_into("#to_org_q", "不存在的党支部").await;
    let none = b.wait_text("#to_org-pick .choices", "没有找到").await;
    assert!(none.contains("没有找到"), "{none}");
    // Part of the name finds the branch, with where it sits in the tree and its number.
    b.type_into("#to_org_q", "组织人事").await;
    let choices = b.wait_text("#to_org-pick .choices", "组织人事党支部").await;
    let committee = app.login("committee").await;
    let to = app.org_id(&committee, "组织人事党支部").await;
    assert!(choices.contains(&format!("编号 {to}")), "{choices}");
    b.click(&format!("#to_org-pick input[value='{to}']")).await;
    taps += 1;
    b.type_into("#reason", "工作调动").await;
    b.click("#transfer-form button[type=submit]:not([formaction])").await;
    taps += 1;
    let url = b.wait_url(|u| u.contains("/transfers/") && !u.contains("new")).await;
    assert!(b.text("#transfer-status").await.contains("审核中"), "{url}");
    assert!(taps <= 3, "{taps} taps for a letter");
    b.screenshot("transfer-letter-phone").await;
    b.quit().await;

    let b = Browser::start(1280).await;
    login(&b, &app, "committee").await;
    b.wait_url(|u| u.ends_with('/')).await;
    b.go(&format!("{}/reviews", app.base)).await;
    let page = b.text("main").await;
    assert!(page.contains(member["name"].as_str().unwrap()), "{page}");
    // The demo has other letters waiting: approve this one.
    b.script(&format!(
        "[...document.querySelectorAll('main .card')].find(c => c.textContent.includes('{}')).querySelector('button[value=approve]').click()",
        member["name"].as_str().unwrap()
    ))
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    b.go(&url).await;
    assert!(b.wait_text("#transfer-status", "待接收").await.contains("待接收"));
    b.click("#accept").await;
    let status = b.wait_text("#transfer-status", "已接收").await;
    assert!(status.contains("已接收"), "{status}");
    b.screenshot("transfer-accepted-desktop").await;
    b.quit().await;
    let c = app.login("committee").await;
    let to = app.org_id(&c, "组织人事党支部").await;
    let (_, m) = app.get(&c, &format!("/api/v1/members/{id}")).await;
    assert_eq!(m["org_id"], to, "the member moved on acceptance");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(hongji_browser),
    ignore = "needs chromedriver: apt-get install chromium chromium-driver fonts-noto-cjk"
)]
async fn an_applicant_is_filed_step_by_step_and_the_filing_goes_to_the_committee() {
    let app = App::start(Backend::Sqlite).await;
    let applied = store::clock::today() - chrono::Days::new(40);
    let talked = applied + chrono::Days::new(10);
    let tomorrow = store::clock::today() + chrono::Days::new(1);
    let id_no = id_number("20000214", 88, false);
    let b = Browser::start(390).await;
    login(&b, &app, "secretary").await;
    b.wait_url(|u| u.ends_with('/')).await;
    b.go(&format!("{}/development", app.base)).await;
    b.wait_url(|u| u.contains("/development")).await;
    // A wrong check digit is named, and what was typed is kept.
    let mut wrong = id_no.clone();
    wrong.replace_range(17.., if id_no.ends_with('1') { "2" } else { "1" });
    b.type_into("#name", "林<i>晓</i>").await;
    b.type_into("#id_number", &wrong).await;
    b.script(&format!("document.getElementById('gender').value = 'female'; document.getElementById('applied_on').value = '{applied}';"))
        .await;
    b.click("#apply-form button[type=submit]").await;
    assert!(b.wait_text("#form-errors", "校验位").await.contains("校验位"));
    assert_eq!(
        b.script("return document.getElementById('name').value").await,
        "林<i>晓</i>"
    );
    b.type_into("#id_number", &id_no).await;
    b.click("#apply-form button[type=submit]").await;
    let file_url = b
        .wait_url(|u| u.contains("/development/") && !u.contains("/orgs/"))
        .await;
    assert!(
        b.text("h1").await.contains("林<i>晓</i>"),
        "the name is shown as typed, not as markup"
    );

    // The talk: a date in the future is refused, then recorded.
    let record = |on: String| {
        let b = &b;
        async move {
            b.script(&format!("document.getElementById('done_on').removeAttribute('max'); document.getElementById('done_on').value = '{on}';"))
                .await;
            b.click("#step-form button[type=submit]").await;
        }
    };
    record(tomorrow.to_string()).await;
    assert!(b.wait_text("#form-errors", "今天").await.contains("今天"));
    record(talked.to_string()).await;
    assert!(b
        .wait_text("#steps", &talked.to_string())
        .await
        .contains(&talked.to_string()));
    record(talked.to_string()).await;
    // Step 4, the filing with the higher committee, waits for its review.
    b.wait_text("h2", "4").await;
    record(talked.to_string()).await;
    assert!(b.wait_text("main", "上级审核中").await.contains("上级审核中"));
    // A document for the application (step 1).
    let pdf = std::env::temp_dir().join(format!("application-{}.pdf", store::crypto::new_token()));
    std::fs::write(&pdf, crate::support::pdf("application")).unwrap();
    b.script("document.getElementById('doc-step').value = '1'").await;
    b.type_into("#doc-file", pdf.to_str().unwrap()).await;
    b.click("#document-form button[type=submit]").await;
    let name = pdf.file_name().unwrap().to_str().unwrap().to_string();
    assert!(b.wait_text("#steps", &name).await.contains(&name));
    b.screenshot("development-file-phone").await;
    b.quit().await;

    let b = Browser::start(1280).await;
    login(&b, &app, "committee").await;
    b.wait_url(|u| u.ends_with('/')).await;
    b.go(&format!("{}/reviews", app.base)).await;
    b.script("[...document.querySelectorAll('main .card')].find(c => c.textContent.includes('林<i>晓</i>')).querySelector('button[value=approve]').click()")
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    b.go(&file_url).await;
    let steps = b.wait_text("#steps", "上级党委备案").await;
    let filed = steps
        .lines()
        .find(|l| l.contains("上级党委备案"))
        .unwrap_or_default()
        .to_string();
    assert!(filed.contains(&talked.to_string()), "filed once approved: {steps}");
    b.screenshot("development-file-desktop").await;
    b.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_favicon_times_without_seconds_and_no_kind_ticked_for_the_reader() {
    let app = App::start(Backend::Sqlite).await;
    let res = app.http.get(format!("{}/favicon.ico", app.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    let b = app.browser("secretary").await;
    let t = app.login("secretary").await;
    let (_, me) = app.get(&t, "/api/v1/me").await;
    let branch = me["grants"][0]["org_id"].as_i64().unwrap();
    let form = app.page(&b, "/meetings/new?org_id={branch}").await;
    assert!(
        form.contains("value=\"theme_day\"") && !form.contains(" checked>"),
        "no kind starts ticked"
    );
    let linked = app.page(&b, "/meetings/new?org_id={branch}&kind=party_lecture").await;
    assert!(
        linked.contains("value=\"party_lecture\" checked"),
        "a kind asked for starts ticked"
    );
    let (_, list) = app.get(&t, &format!("/api/v1/meetings?org_id={branch}&limit=1")).await;
    let page = app.page(&b, &format!("/meetings/{}", list["items"][0]["id"])).await;
    let with_seconds = regex_like_seconds(&page);
    assert!(!with_seconds, "times are shown without seconds");
}

/// Whether the page shows a time of day with seconds (`12:34:56`).
fn regex_like_seconds(page: &str) -> bool {
    let b = page.as_bytes();
    b.windows(8).any(|w| {
        let d = |i: usize| w[i].is_ascii_digit();
        d(0) && d(1) && w[2] == b':' && d(3) && d(4) && w[5] == b':' && d(6) && d(7)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(all(hongji_browser, hongji_axe)),
    ignore = "needs chromedriver and axe-core: apt-get install chromium chromium-driver fonts-noto-cjk; npm install axe-core, HONGJI_AXE=…/axe.min.js"
)]
async fn every_page_passes_axe_core_on_a_phone_and_a_desktop() {
    let app = App::start(Backend::Sqlite).await;
    for (user, width, limit) in [("member", 390, 25), ("secretary", 390, 45), ("committee", 1280, 45)] {
        let b = Browser::start(width).await;
        login(&b, &app, user).await;
        b.wait_url(|u| u.ends_with('/')).await;
        // The pages the user reaches from their home, breadth first, a few of each kind.
        let mut seen = std::collections::HashSet::from(["/".to_string()]);
        let mut shapes = std::collections::HashMap::<String, usize>::new();
        let mut queue = std::collections::VecDeque::from(["/".to_string()]);
        let mut visited = 0;
        while let Some(path) = queue.pop_front() {
            if visited == limit {
                break;
            }
            visited += 1;
            b.go(&format!("{}{path}", app.base)).await;
            let html = b.script("return document.documentElement.outerHTML").await;
            for link in crate::links::links(html.as_str().unwrap_or_default()) {
                let shape: String = link.chars().map(|c| if c.is_ascii_digit() { '9' } else { c }).collect();
                let tried = shapes.entry(shape).or_default();
                if *tried < 2 && seen.insert(link.clone()) {
                    *tried += 1;
                    queue.push_back(link);
                }
            }
        }
        assert!(visited > 5, "{user} reached only {visited} pages");
        b.quit().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(hongji_browser),
    ignore = "needs chromedriver: apt-get install chromium chromium-driver fonts-noto-cjk"
)]
async fn on_a_phone_a_member_studies_and_takes_an_exam_and_a_secretary_records_offline_study() {
    let app = App::start(Backend::Sqlite).await;
    let t = app.login("secretary").await;
    let c = app.login("committee").await;
    let (_, me) = app.get(&t, "/api/v1/me").await;
    let branch = me["grants"][0]["org_id"].as_i64().unwrap();
    // A published item in a task, and a short exam from the branch's own bank.
    let (_, item) = app
        .post(
            &t,
            "/api/v1/study/items",
            json!({"org_id": branch, "title": "手机学习：党章总纲", "body": "党章是党的根本大法。", "categories": ["constitution"], "hours": "1"}),
        )
        .await;
    let item_id = item["id"].as_i64().unwrap();
    let (_, pending) = app.get(&c, "/api/v1/reviews/pending").await;
    let review = pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["subject_id"] == item_id)
        .unwrap()["id"]
        .clone();
    app.post(&c, &format!("/api/v1/reviews/{review}/approve"), json!({}))
        .await;
    let due = (store::clock::today() + chrono::Duration::days(7)).to_string();
    let (status, task) = app
        .post(&t, "/api/v1/study/tasks", json!({"org_id": branch, "title": "手机上的学习任务", "due_on": due, "required": true, "item_ids": [item_id]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    for i in 0..3 {
        app.post(
            &t,
            "/api/v1/study/questions",
            json!({"org_id": branch, "kind": "judge", "stem": format!("手机测验第{i}题：预备期为一年。"), "answer": "对", "categories": ["constitution"], "difficulty": 5}),
        )
        .await;
    }
    let (status, exam) = app
        .post(
            &t,
            "/api/v1/study/exams",
            json!({"org_id": branch, "title": "手机测验", "rules": [{"kind": "judge", "difficulty": 5, "count": 3}], "closes_on": due}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{exam}");

    let b = Browser::start(390).await;
    let mut taps = 0;
    login(&b, &app, "member").await;
    taps += 1;
    b.wait_url(|u| u.ends_with('/')).await;
    b.go(&format!("{}/study", app.base)).await;
    let tasks = b.text("#my-tasks").await;
    assert!(tasks.contains("手机上的学习任务"), "{tasks}");
    b.click(&format!("#my-tasks a[href='/study/items/{item_id}']")).await;
    b.click("#complete-form button").await;
    taps += 2;
    b.wait_text("main", "已保存").await;
    assert!(b.text("#completed").await.contains("✓"));
    b.accessible().await;
    // The exam: start, answer each question with one tap, submit once.
    b.go(&format!("{}/study/exams/{}", app.base, exam["id"])).await;
    b.click("#start-exam").await;
    taps += 2;
    b.wait_url(|u| u.contains("/study/attempts/")).await;
    let questions = b
        .script("return document.querySelectorAll('#attempt-form fieldset.question').length")
        .await
        .as_i64()
        .unwrap();
    assert_eq!(questions, 3);
    b.accessible().await;
    for i in 1..=3 {
        b.click(&format!(
            "#attempt-form fieldset.question:nth-of-type({i}) input[value='true']"
        ))
        .await;
    }
    b.click("#submit-attempt").await;
    taps += 4;
    let result = b.wait_text("#attempt-result", "100").await;
    assert!(result.contains("合格"), "{result}");
    b.screenshot("exam-result-phone").await;
    b.accessible().await;
    assert!(taps <= 10, "{taps} taps for a task and a three-question exam");
    b.quit().await;

    // The secretary records the others' offline study on the same phone width: tick all, submit.
    let b = Browser::start(390).await;
    login(&b, &app, "secretary").await;
    b.wait_url(|u| u.ends_with('/')).await;
    b.go(&format!("{}/study/tasks/{}", app.base, task["id"])).await;
    b.click("#tick-all").await;
    b.click("#offline-form button[type=submit]").await;
    let counts = b.wait_text("#task-counts", "已完成").await;
    b.screenshot("offline-phone").await;
    b.quit().await;
    let (_, progress) = app.get(&t, &format!("/api/v1/study/tasks/{}", task["id"])).await;
    assert!(
        progress["completed"].as_i64().unwrap() > 1,
        "recorded for the branch: {counts}"
    );
    assert_eq!(progress["not_started"], 0, "{progress}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(hongji_browser),
    ignore = "needs chromedriver: apt-get install chromium chromium-driver fonts-noto-cjk"
)]
async fn committee_staff_read_the_dashboard_on_a_desktop_and_a_secretary_on_a_phone() {
    let app = App::start(Backend::Sqlite).await;
    let c = app.login("committee").await;
    let root = app.org_id(&c, "浙江开放大学委员会").await;
    let b = Browser::start(1280).await;
    login(&b, &app, "committee").await;
    b.wait_url(|u| u.ends_with('/')).await;
    // From the home, one tap.
    b.click(&format!("a[href='/orgs/{root}/dashboard']")).await;
    b.wait_url(|u| u.ends_with("/dashboard")).await;
    b.accessible().await;
    let tiles = b
        .script("return document.querySelectorAll('section.tile svg.chart').length")
        .await;
    assert_eq!(tiles.as_i64(), Some(16), "every tile drawn");
    let as_of = b.text("#as-of").await;
    assert!(
        as_of.contains("数据截至") && as_of.contains(&store::clock::today().to_string()),
        "{as_of}"
    );
    // Sorting the units below by members, most first, takes two taps on the heading.
    b.click("#sort-members").await;
    b.click("#sort-members").await;
    b.wait_url(|u| u.contains("sort=-members")).await;
    let sizes = b
        .script("return [...document.querySelectorAll('#below-table tbody tr td:nth-of-type(1)')].map(td => Number(td.textContent))")
        .await;
    let sizes: Vec<i64> = sizes.as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert!(sizes.len() > 3 && sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
    b.screenshot("dashboard-desktop").await;
    // A day before any figures were kept is named, not answered with zeros.
    let yesterday = store::clock::today() - chrono::Duration::days(1);
    b.script(&format!("document.getElementById('as_of').removeAttribute('min'); document.getElementById('as_of').value = '{yesterday}'")).await;
    b.click("#as-of-form button[type=submit]").await;
    let error = b.wait_text("#form-errors", "尚无统计数据").await;
    assert!(error.contains("尚无统计数据"), "{error}");
    b.quit().await;

    let p = Browser::start(390).await;
    login(&p, &app, "secretary").await;
    p.wait_url(|u| u.ends_with('/')).await;
    p.click("a[href$='/dashboard']").await;
    p.wait_url(|u| u.ends_with("/dashboard")).await;
    p.accessible().await;
    let (wide, seen) = (
        p.script("return document.documentElement.scrollWidth")
            .await
            .as_i64()
            .unwrap(),
        p.script("return window.innerWidth").await.as_i64().unwrap(),
    );
    assert_eq!(seen, 390, "a phone's width (page {wide} px)");
    assert!(wide <= 390, "nothing wider than the phone: {wide} px");
    let drawn = p
        .script("return [...document.querySelectorAll('svg.chart')].every(s => s.getBoundingClientRect().width > 200)")
        .await;
    assert_eq!(drawn, Value::Bool(true), "charts fill the phone's width");
    p.screenshot("dashboard-phone").await;
    p.quit().await;
}
