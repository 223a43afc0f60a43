//! Warnings (预警) over a subtree: the counts of the lists they stand for, acknowledged with a note
//! (all or none, by those who act at the owner), escalated when left unacknowledged, resolved by
//! the data and never by hand, and out of scope answering 404.

use crate::both;
use crate::support::App;
use reqwest::StatusCode;
use serde_json::{json, Value};
use store::db::Q;

async fn warnings(app: &App, token: &str, org: i64, query: &str) -> Value {
    let (status, page) = app.get(token, &format!("/api/v1/orgs/{org}/warnings?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page
}

/// The caller's to-do item of one kind (it must be there).
async fn todo_item(app: &App, token: &str, what: &str) -> Value {
    let (_, todo) = app.get(token, "/api/v1/me/todo").await;
    todo["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["what"] == what)
        .unwrap_or_else(|| panic!("no {what} in {todo}"))
        .clone()
}

fn rows(page: &Value) -> Vec<Value> {
    page["rows"].as_array().unwrap().clone()
}

both!(
    warnings_are_acknowledged_escalated_and_resolved_by_the_data,
    |app: App| async move {
        let c = app.login("committee").await;
        let t = app.login("secretary").await;
        let m = app.login("member").await;
        let root = app.org_id(&c, "浙江开放大学委员会").await;
        let branch = app.get(&t, "/api/v1/me").await.1["grants"][0]["org_id"]
            .as_i64()
            .unwrap();

        // The counts are those of the lists the warnings stand for.
        let (_, arrears) = app.get(&c, &format!("/api/v1/orgs/{root}/dues/arrears")).await;
        let at_level = |level: &str| {
            arrears["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["level"] == level)
                .count() as i64
        };
        let flags = warnings(&app, &c, root, "kind=dues_flag").await;
        assert_eq!(flags["total"].as_i64(), Some(at_level("flag")), "{flags}");
        assert!(at_level("flag") > 0, "the demo has a member a year behind");
        let behind = warnings(&app, &c, root, "kind=dues_warning&state=pending").await;
        assert_eq!(behind["total"].as_i64(), Some(at_level("warning")));
        let all = warnings(&app, &c, root, "").await;
        assert_eq!(
            all["total"].as_i64().unwrap(),
            all["pending"].as_i64().unwrap() + all["firing"].as_i64().unwrap()
        );
        assert!(rows(&all)
            .iter()
            .all(|r| r["state"] == "pending" || r["state"] == "firing"));
        let days: Vec<String> = rows(&all)
            .iter()
            .map(|r| r["since"].as_str().unwrap().to_string())
            .collect();
        assert!(days.windows(2).all(|w| w[0] <= w[1]), "oldest first: {days:?}");
        let arrears_row = rows(&flags)[0].clone();
        assert_eq!(
            arrears_row["link"],
            format!(
                "/members/{}/dues",
                arrears["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|a| a["level"] == "flag" && a["name"] == arrears_row["label"])
                    .unwrap()["member_id"]
            )
        );

        // Out of scope is not found; a member reads no warnings; bad filters are named.
        let (status, _) = app.get(&t, &format!("/api/v1/orgs/{root}/warnings")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = app.get(&m, &format!("/api/v1/orgs/{branch}/warnings")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, e) = app
            .get(&c, &format!("/api/v1/orgs/{root}/warnings?state=gone&kind=x"))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(
            e["error"]["fields"]["state"].is_object() && e["error"]["fields"]["kind"].is_object(),
            "{e}"
        );

        // The secretary acknowledges one of their branch's with a note; the note is required,
        // another branch's warning is not theirs, and acknowledging twice changes nothing.
        let mine = rows(&warnings(&app, &t, branch, "").await);
        let first = mine.first().expect("the demo's branch has a warning").clone();
        assert_eq!(first["can_ack"], true);
        let ack = |token: String, id: i64, note: &'static str| {
            let app = &app;
            async move {
                app.post(&token, &format!("/api/v1/warnings/{id}/ack"), json!({"note": note}))
                    .await
            }
        };
        let id = first["id"].as_i64().unwrap();
        let (status, e) = ack(t.clone(), id, " ").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let elsewhere = rows(&all)
            .into_iter()
            .find(|r| r["owner_id"] != branch)
            .expect("a warning of another organization");
        let (status, _) = ack(t.clone(), elsewhere["id"].as_i64().unwrap(), "不是我的").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, done) = ack(t.clone(), id, "已约谈，月底前处理").await;
        assert_eq!((status, done["acked"].as_i64()), (StatusCode::OK, Some(1)), "{done}");
        let (_, again) = ack(t.clone(), id, "再次确认").await;
        assert_eq!(again["acked"], 0);
        let acked = rows(&warnings(&app, &t, branch, "").await)
            .into_iter()
            .find(|r| r["id"] == id)
            .unwrap();
        assert_eq!(acked["ack_note"], "已约谈，月底前处理");
        assert!(
            acked["acked_by"].as_str().is_some_and(|n| n != "secretary"),
            "a name, not a login: {acked}"
        );
        assert_eq!(acked["state"], first["state"], "acknowledging resolves nothing");

        // Left unacknowledged past the days the committee sets, a warning is escalated.
        let (status, e) = app
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/orgs/{branch}/warning-settings"),
                Some(&t),
                Some(json!({"escalate_after_days": 1})),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "secretaries do not set it: {e}");
        let (status, _) = app
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/orgs/{root}/warning-settings"),
                Some(&t),
                Some(json!({"escalate_after_days": 1})),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "out of scope");
        let (status, e) = app
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/orgs/{root}/warning-settings"),
                Some(&c),
                Some(json!({"escalate_after_days": 500})),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (status, set) = app
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/orgs/{root}/warning-settings"),
                Some(&c),
                Some(json!({"escalate_after_days": 3})),
            )
            .await;
        assert_eq!(
            (status, set["escalate_after_days"].as_i64()),
            (StatusCode::OK, Some(3)),
            "{set}"
        );
        let four_days_ago = store::clock::today() - chrono::Days::new(4);
        app.store
            .db
            .exec(store::db::Q::new("UPDATE warnings SET since = $1 WHERE resolved_on IS NULL").bind(four_days_ago))
            .await
            .unwrap();
        let page = warnings(&app, &t, branch, "").await;
        assert_eq!(
            page["escalate_after_days"], 3,
            "the committee's setting reaches its branches"
        );
        for r in rows(&page) {
            assert_eq!(r["escalated"], r["ack_note"].is_null(), "{r}");
        }
        // The committee's home counts those escalated to it: its direct units' own, unacknowledged.
        let (expected,): (i64,) = app
            .store
            .db
            .one(
                store::db::Q::new(
                    "SELECT COUNT(*) FROM warnings w JOIN orgs o ON o.id = w.org_id
                     WHERE o.parent_id = $1 AND w.resolved_on IS NULL AND w.acked_at IS NULL",
                )
                .bind(root),
            )
            .await
            .unwrap();
        assert!(
            expected > 0,
            "the demo's units below the committee have warnings of their own"
        );
        let escalated = todo_item(&app, &c, "escalated").await;
        assert_eq!(escalated["count"].as_i64(), Some(expected), "{escalated}");
        assert_eq!(escalated["link"], format!("/orgs/{root}/warnings"));

        // The data resolves a warning: the flagged member pays all they owe.
        let flagged = arrears["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["level"] == "flag")
            .unwrap()
            .clone();
        let (from, to) = (flagged["from"].as_str().unwrap(), flagged["to"].as_str().unwrap());
        let mut months = Vec::new();
        let mut month = chrono::NaiveDate::parse_from_str(&format!("{from}-01"), "%Y-%m-%d").unwrap();
        while month.format("%Y-%m").to_string().as_str() <= to {
            months.push(month.format("%Y-%m").to_string());
            month = month + chrono::Months::new(1);
        }
        let (status, paid) = app
            .post(
                &c,
                "/api/v1/dues/payments",
                json!({"member_id": flagged["member_id"], "months": months, "amount_fen": flagged["outstanding_fen"],
                       "method": "cash", "paid_on": store::clock::today().to_string(), "reason": "补交欠缴党费"}),
            )
            .await;
        assert!(status.is_success(), "{paid}");
        let after = warnings(&app, &c, root, "kind=dues_flag").await;
        assert_eq!(after["total"].as_i64(), Some(at_level("flag") - 1));
        let resolved = warnings(&app, &c, root, "state=resolved&kind=dues_flag").await;
        assert!(
            rows(&resolved)
                .iter()
                .any(|r| r["label"] == flagged["name"] && r["state"] == "resolved" && r["resolved_on"].is_string()),
            "{resolved}"
        );

        // The page: the secretary ticks warnings and acknowledges them with one note.
        let browser = app.browser("secretary").await;
        let page = app.page(&browser, &format!("/orgs/{branch}/warnings")).await;
        assert!(
            page.contains("id=\"ack-form\"") && page.contains("超期未确认，已上报上级"),
            "{page}"
        );
        let open: Vec<i64> = rows(&warnings(&app, &t, branch, "").await)
            .iter()
            .filter(|r| r["acked_at"].is_null())
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        let mut fields: Vec<(&str, String)> = open.iter().map(|id| ("ids", id.to_string())).collect();
        fields.push(("note", "<script>x</script>支部会议研究".into()));
        let (url, page) = app
            .submit(&browser, &format!("/orgs/{branch}/warnings/ack"), &fields)
            .await;
        assert!(url.as_str().contains("saved="), "{url}");
        assert!(page.contains("id=\"saved\""), "the save is said");
        assert!(!page.contains("<script>x"), "escaped");
        assert!(rows(&warnings(&app, &t, branch, "").await)
            .iter()
            .all(|r| r["acked_at"].is_string()));
    }
);

both!(
    letters_bases_and_structures_are_warnings_too_advice_is_not,
    |app: App| async move {
        let c = app.login("committee").await;
        let root = app.org_id(&c, "浙江开放大学委员会").await;
        let db = &app.store.db;
        let mark = |org: i64| {
            let db = db.clone();
            async move {
                let mut tx = db.begin().await.unwrap();
                store::marks::stale(&mut tx, store::marks::Of::Org(org)).await.unwrap();
                tx.commit().await.unwrap();
            }
        };
        let listed = |kind: &'static str| {
            let app = &app;
            let c = c.clone();
            async move { rows(&warnings(app, &c, root, &format!("kind={kind}")).await) }
        };

        // Structures the regulations say must change are warnings; advice ("可考虑") is not.
        let (_, tree) = app.get(&c, "/api/v1/orgs").await;
        let must_change: Vec<i64> = tree["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| {
                o["warnings"].as_array().unwrap().iter().any(|w| {
                    [
                        "branch_below_three_full",
                        "branch_over_50",
                        "committee_required",
                        "committee_over_7",
                    ]
                    .contains(&w.as_str().unwrap())
                })
            })
            .map(|o| o["id"].as_i64().unwrap())
            .collect();
        assert!(
            !must_change.is_empty(),
            "the demo has a branch below three full members"
        );
        let structures = listed("structure").await;
        let mut owners: Vec<i64> = structures.iter().map(|r| r["owner_id"].as_i64().unwrap()).collect();
        owners.dedup();
        let mut expected = must_change.clone();
        expected.sort_unstable();
        owners.sort_unstable();
        owners.dedup();
        assert_eq!(owners, expected);
        assert!(structures
            .iter()
            .all(|r| r["state"] == "firing" && r["link"].as_str().unwrap().starts_with("/orgs/")));
        // The committee's home lists them, counted as the list counts them.
        let item = todo_item(&app, &c, "structure").await;
        assert_eq!(item["count"].as_i64(), Some(structures.len() as i64));

        // A letter sent and not received: expiring within seven days, then expired, the sender's.
        let letter: Option<(i64, i64)> = db
            .opt(Q::new(
                "SELECT id, from_org_id FROM transfers WHERE status = 'sent' ORDER BY id LIMIT 1",
            ))
            .await
            .unwrap();
        let (letter, sender) = letter.expect("the demo has a letter on its way");
        let today = store::clock::today();
        for (expires, kind) in [
            (today + chrono::Duration::days(3), "letters_expiring"),
            (today - chrono::Duration::days(1), "letters_expired"),
        ] {
            db.exec(
                Q::new("UPDATE transfers SET expires_on = $1 WHERE id = $2")
                    .bind(expires)
                    .bind(letter),
            )
            .await
            .unwrap();
            mark(sender).await;
            let found = listed(kind).await;
            assert!(
                found.iter().any(|r| r["owner_id"].as_i64() == Some(sender)),
                "{kind}: {found:?}"
            );
        }

        // A new member has no dues base yet: their branch is warned until one is set.
        let warned: Vec<i64> = listed("without_base")
            .await
            .iter()
            .map(|r| r["owner_id"].as_i64().unwrap())
            .collect();
        let branch = tree["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| {
                o["kind"] == "branch" && o["dissolved_on"].is_null() && !warned.contains(&o["id"].as_i64().unwrap())
            })
            .expect("a branch with every base set")["id"]
            .as_i64()
            .unwrap();
        let t = c.clone();
        let of_branch = |rows: Vec<Value>| rows.iter().filter(|r| r["owner_id"].as_i64() == Some(branch)).count();
        let (status, m) = app
            .post(
                &t,
                "/api/v1/members",
                json!({"org_id": branch, "name": "未核定基数", "gender": "male", "id_number": crate::support::id_number("19950101", 9, true),
                       "joined_on": "2020-01-01", "full_member_on": "2021-01-01"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{m}");
        assert_eq!(of_branch(listed("without_base").await), 1, "warned once for the branch");
        let (status, p) = app
            .call(
                reqwest::Method::PUT,
                &format!("/api/v1/members/{}/dues-profile", m["id"]),
                Some(&t),
                Some(json!({"year": chrono::Datelike::year(&today), "category": "retired", "base_fen": 300000, "effective_month": 1})),
            )
            .await;
        assert!(status.is_success(), "{p}");
        assert_eq!(of_branch(listed("without_base").await), 0, "resolved by the data");
    }
);

both!(
    what_writes_mark_is_settled_in_the_background_once_the_day_has_begun,
    |app: App| async move {
        let c = app.login("committee").await;
        let root = app.org_id(&c, "浙江开放大学委员会").await;
        let db = &app.store.db;
        let stale = || async {
            let (n,): (i64,) = db.one(Q::new("SELECT COUNT(*) FROM warnings_stale")).await.unwrap();
            n
        };
        let before = warnings(&app, &c, root, "").await;
        assert_eq!(stale().await, 0, "the reader evaluated its subtree");
        let mut tx = db.begin().await.unwrap();
        store::marks::all_stale(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        let marked = stale().await;
        assert!(marked > 30, "every organization of the demo is marked: {marked}");

        // Before the day's evaluation the background leaves the marks to it.
        db.exec(Q::new(
            "UPDATE job_leases SET last_run_on = NULL WHERE name = 'warnings_day'",
        ))
        .await
        .unwrap();
        assert_eq!(store::warnings::settle(db).await.unwrap(), 0);
        assert_eq!(stale().await, marked);

        // Once the day has begun, it evaluates every mark, and what it keeps is what a reader sees.
        assert_eq!(store::warnings::refresh(db, "/").await.unwrap() as i64, marked);
        let mut tx = db.begin().await.unwrap();
        store::marks::all_stale(&mut tx).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store::warnings::settle(db).await.unwrap() as i64, marked);
        assert_eq!(stale().await, 0);
        assert_eq!(store::warnings::settle(db).await.unwrap(), 0, "nothing left");
        let after = warnings(&app, &c, root, "").await;
        assert_eq!(after["total"], before["total"]);
        assert_eq!(rows(&after).len(), rows(&before).len());
    }
);
