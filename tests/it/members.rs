use crate::both;
use crate::support::{id_number, App};
use reqwest::StatusCode;
use serde_json::json;

both!(create_list_masked_reveal_and_history, |app: App| async move {
    let t = app.login("secretary").await;
    let branch = app.org_id(&t, "信息学院教工党支部").await;
    let before = app.get(&t, &format!("/api/v1/orgs/{branch}")).await.1["member_count"]
        .as_i64()
        .unwrap();
    let id_no = id_number("19880317", 7, true);
    let body = json!({
        "org_id": branch, "name": "林志远", "gender": "male", "birth_date": "1988-03-17", "ethnicity": "汉族",
        "education": "master", "id_number": id_no, "phone": "13912345678", "address": "杭州市西湖区文三路100号",
        "work_unit": "信息与工程学院", "post": "讲师", "category": "full", "joined_on": "2010-05-04",
        "full_member_on": "2011-05-04", "status": "active", "offline": false
    });
    let (status, m) = app.post(&t, "/api/v1/members", body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(
        m["id_number_masked"],
        format!("{}************{}", &id_no[..4], &id_no[16..])
    );
    assert_eq!(m["phone_masked"], "139****5678");
    assert!(
        m.get("id_number").is_none() && m.get("phone").is_none(),
        "no clear values in the record: {m}"
    );
    let id = m["id"].as_i64().unwrap();
    assert_eq!(
        app.get(&t, &format!("/api/v1/orgs/{branch}")).await.1["member_count"]
            .as_i64()
            .unwrap(),
        before + 1
    );

    // The same ID number again is refused.
    let (status, err) = app.post(&t, "/api/v1/members", body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["fields"]["id_number"]["code"], "id_number.duplicate");

    // Search: name prefix, ID number and phone by exact match.
    for q in ["林志", id_no.as_str(), "13912345678", "+86 139-1234-5678"] {
        let (status, list) = app
            .get(&t, &format!("/api/v1/members?org_id={branch}&q={}", urlencode(q)))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            list["items"].as_array().unwrap().iter().any(|x| x["id"] == id),
            "search {q}: {list}"
        );
    }
    let (_, list) = app.get(&t, &format!("/api/v1/members?q={}", &id_no[..17])).await;
    assert_eq!(list["total"], 0, "a partial ID number matches nothing");

    // Reveal is allowed to the secretary and audited.
    let (status, r) = app.post(&t, &format!("/api/v1/members/{id}/reveal"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(r["id_number"], id_no);
    assert_eq!(r["phone"], "13912345678");
    assert_eq!(r["address"], "杭州市西湖区文三路100号");
    let auditor = app.login("auditor").await;
    let (_, log) = app
        .get(&auditor, &format!("/api/v1/audit?action=member.reveal&target_id={id}"))
        .await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1);
    assert_eq!(log["items"][0]["actor"], "secretary");

    // Edit and history: sensitive values are never written into the history.
    let (status, edited) = app
        .patch(
            &t,
            &format!("/api/v1/members/{id}"),
            json!({"phone": "13800001111", "post": "副教授"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["phone_masked"], "138****1111");
    assert_eq!(edited["post"], "副教授");
    let (_, was) = app.get(&t, &format!("/api/v1/members/{id}")).await;
    let education = if was["education"] == "master" {
        "doctorate"
    } else {
        "master"
    };
    let (status, _) = app
        .patch(&t, &format!("/api/v1/members/{id}"), json!({"education": education}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, h) = app.get(&t, &format!("/api/v1/members/{id}/history")).await;
    let (_, me) = app.get(&t, "/api/v1/me").await;
    let secretary = me["display_name"].as_str().unwrap();
    assert_eq!(h["changes"][0]["actor"], secretary, "people by name: {h}");
    assert_eq!(h["changes"][0]["changes"][0]["field"], "education");
    assert_eq!(h["changes"][0]["changes"][0]["after"], education);
    let edit = h["changes"][1]["changes"].to_string();
    assert!(
        edit.contains("\"post\"") && edit.contains("\"phone\"") && !edit.contains("13800001111"),
        "{edit}"
    );
    let created = h["changes"].as_array().unwrap().last().unwrap();
    assert_eq!(created["changes"][0]["field"], "created");
    // The page says it in words: translated fields and values, never the stored codes.
    let web = app.browser("secretary").await;
    let page = app.page(&web, &format!("/members/{id}")).await;
    let changes = &page[page.find("id=\"changes\"").unwrap()..];
    let changes = &changes[..changes.find("</ul>").unwrap()];
    let education = if education == "master" {
        "硕士研究生"
    } else {
        "博士研究生"
    };
    for words in ["学历：", education, "手机号码已修改", "建立档案", secretary] {
        assert!(changes.contains(words), "{words}: {changes}");
    }
    for code in ["master", "doctorate", "{", "\"phone\"", ">secretary<"] {
        assert!(!changes.contains(code), "{code}: {changes}");
    }
    assert_eq!(h["organizations"][0]["org_id"], branch);
});

both!(bad_input_names_every_field, |app: App| async move {
    let t = app.login("secretary").await;
    let branch = app.org_id(&t, "信息学院教工党支部").await;
    let mut wrong_checksum = id_number("19900101", 3, true);
    let last = wrong_checksum.pop().unwrap();
    wrong_checksum.push(if last == '0' { '1' } else { '0' });
    let (status, err) = app
        .post(&t, "/api/v1/members", json!({"org_id": branch, "name": "", "gender": "x", "id_number": wrong_checksum, "phone": "12345", "joined_on": "2030-01-01"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["code"], "validation");
    let f = &err["error"]["fields"];
    assert_eq!(f["name"]["code"], "name.required");
    assert_eq!(f["gender"]["code"], "gender.invalid");
    assert_eq!(f["id_number"]["code"], "id_number.checksum");
    assert_eq!(f["phone"]["code"], "phone.invalid");
    assert_eq!(f["joined_on"]["code"], "joined_on.in_future");
    assert!(
        f["id_number"]["message"].as_str().unwrap().contains("校验位"),
        "Chinese message by default: {err}"
    );

    // The birth date and sex must agree with the ID number; English on request.
    let (status, err) = app
        .call(
            reqwest::Method::POST,
            "/api/v1/members",
            Some(&t),
            Some(json!({"org_id": branch, "name": "测试", "gender": "female", "birth_date": "1990-01-02", "id_number": id_number("19900101", 3, true), "joined_on": "2012-01-01", "full_member_on": "2013-01-01"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["fields"]["gender"]["code"], "gender.mismatch_id_number");
    assert_eq!(
        err["error"]["fields"]["birth_date"]["code"],
        "birth_date.mismatch_id_number"
    );

    // HTML and SQL are stored as text and returned as text.
    let evil = "<script>alert(1)</script>'; DROP TABLE members;--";
    let (status, m) = app
        .post(&t, "/api/v1/members", json!({"org_id": branch, "name": evil, "gender": "male", "id_number": id_number("19900101", 4, true), "joined_on": "2012-01-01", "full_member_on": "2013-01-01"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(m["name"], evil);
    let (status, _) = app.get(&t, &format!("/api/v1/members/{}", m["id"])).await;
    assert_eq!(status, StatusCode::OK);
    // A 10 MB name is refused, not stored.
    let huge = "王".repeat(3_500_000);
    let (status, _) = app
        .post(
            &t,
            "/api/v1/members",
            json!({"org_id": branch, "name": huge, "gender": "male"}),
        )
        .await;
    assert!(
        status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::PAYLOAD_TOO_LARGE,
        "{status}"
    );

    // Malformed JSON and wrong types answer in the error format, never 500.
    let res = app
        .http
        .post(format!("{}/api/v1/members", app.base))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "request.malformed");
    assert_eq!(body["error"]["fields"]["body"]["code"], "body.syntax");
    // A wrong type names the field and the type expected there.
    let (status, e) = app.post(&t, "/api/v1/members", json!({"org_id": "abc"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["fields"]["org_id"]["code"], "org_id.type", "{e}");
    let said = e["error"]["message"].as_str().unwrap();
    assert!(said.contains("所在党组织") && said.contains("应为"), "{said}");
    let (_, e) = app
        .post(
            &t,
            "/api/v1/meetings",
            json!({"org_id": 1, "kinds": ["theme_day", 7], "title": "x"}),
        )
        .await;
    assert_eq!(e["error"]["fields"]["kinds[1]"]["code"], "kinds[1].type", "{e}");
    // An education label that fits one value is taken; one that fits none lists the accepted values.
    let (status, e) = app
        .post(
            &t,
            "/api/v1/members",
            json!({"org_id": 0, "name": "王五", "education": "研究生"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let said = e["error"]["fields"]["education"]["message"].as_str().unwrap();
    assert!(
        said.contains("应为以下之一") && said.contains("大学本科（bachelor）"),
        "{said}"
    );
    // Members go into branches, not committees.
    let c = app.login("committee").await;
    let root = app.org_id(&c, "浙江开放大学委员会").await;
    let (status, err) = app
        .post(&c, "/api/v1/members", json!({"org_id": root, "name": "王五", "gender": "male", "id_number": id_number("19900101", 5, true), "joined_on": "2012-01-01", "full_member_on": "2013-01-01"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["fields"]["org_id"]["code"], "org_id.not_a_branch");
});

both!(filter_sort_page, |app: App| async move {
    let t = app.login("committee").await;
    let retired = app.org_id(&t, "离退休党总支").await;
    let (_, all) = app
        .get(&t, &format!("/api/v1/members?org_id={retired}&per_page=200"))
        .await;
    let total = all["total"].as_i64().unwrap();
    assert!(total > 700, "{total}");
    let (_, offline) = app
        .get(
            &t,
            &format!("/api/v1/members?org_id={retired}&offline=true&per_page=200"),
        )
        .await;
    assert!(offline["total"].as_i64().unwrap() > 20, "elderly offline members exist");
    assert!(offline["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["offline"] == true));
    let (_, women) = app
        .get(
            &t,
            &format!("/api/v1/members?org_id={retired}&gender=female&per_page=1"),
        )
        .await;
    let (_, men) = app
        .get(&t, &format!("/api/v1/members?org_id={retired}&gender=male&per_page=1"))
        .await;
    assert_eq!(women["total"].as_i64().unwrap() + men["total"].as_i64().unwrap(), total);
    // Pages do not overlap and cover the list.
    let mut seen = std::collections::HashSet::new();
    for page in 1..=3 {
        let (_, p) = app
            .get(
                &t,
                &format!("/api/v1/members?org_id={retired}&sort=joined_on&page={page}&per_page=50"),
            )
            .await;
        let items = p["items"].as_array().unwrap();
        assert_eq!(items.len(), 50);
        let dates: Vec<&str> = items.iter().map(|m| m["joined_on"].as_str().unwrap()).collect();
        assert!(dates.windows(2).all(|w| w[0] <= w[1]), "sorted by joined_on");
        for m in items {
            assert!(seen.insert(m["id"].as_i64().unwrap()));
        }
    }
    let (_, desc) = app
        .get(
            &t,
            &format!("/api/v1/members?org_id={retired}&sort=-birth_date&per_page=20"),
        )
        .await;
    let dates: Vec<&str> = desc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["birth_date"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]));
});

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

both!(
    the_member_form_places_a_member_in_a_party_group,
    |app: App| async move {
        let c = app.login("committee").await;
        let branch = app.org_id(&c, "信息学院教工党支部").await;
        let group = app.org_id(&c, "第一党小组").await;
        let (_, g) = app.get(&c, &format!("/api/v1/orgs/{group}")).await;
        let group = if g["parent_id"] == branch {
            group
        } else {
            let (_, kids) = app.get(&c, &format!("/api/v1/orgs?parent_id={branch}")).await;
            kids["items"][0]["id"].as_i64().unwrap()
        };
        let web = app.browser("secretary").await;
        let form = web
            .get(format!("{}/members/new", app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            form.contains(&format!("value=\"{group}\"")),
            "the branch's groups are offered"
        );
        let id_no = id_number("19870101", 61, true);
        let fields = [
            ("org_id", branch.to_string()),
            ("group_id", group.to_string()),
            ("name", "卫东".into()),
            ("gender", "male".into()),
            ("ethnicity", "汉族".into()),
            ("id_number", id_no.clone()),
            ("joined_on", "2010-07-01".into()),
            ("full_member_on", "2011-07-01".into()),
            ("category", "full".into()),
            ("status", "active".into()),
        ];
        let res = web
            .post(format!("{}/members", app.base))
            .header("sec-fetch-site", "same-origin")
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let (_, found) = app.get(&c, &format!("/api/v1/members?q={id_no}")).await;
        assert_eq!(found["items"][0]["group_id"], group);
        assert!(found["items"][0]["group_name"].is_string());
    }
);

both!(
    a_members_own_correction_reaches_the_record_when_the_branch_approves,
    |app: App| async move {
        let m = app.login("member").await;
        let t = app.login("secretary").await;
        let (_, me) = app.get(&m, "/api/v1/me").await;
        let own = me["member_id"].as_i64().unwrap();
        let (_, before) = app.get(&m, &format!("/api/v1/members/{own}")).await;
        let (status, e) = app.post(&m, "/api/v1/me/corrections", json!({"phone": "12345"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["error"]["fields"]["phone"]["code"], "phone.invalid");
        let (status, c) = app
            .post(
                &m,
                "/api/v1/me/corrections",
                json!({"phone": "13912341234", "education": "硕士研究生"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{c}");
        let (_, still) = app.get(&m, &format!("/api/v1/members/{own}")).await;
        assert_eq!(
            still["phone_masked"], before["phone_masked"],
            "nothing changes before review"
        );

        // The branch decides; the member's own grants decide nothing.
        let (_, none) = app.get(&m, "/api/v1/reviews/pending").await;
        assert!(none["items"].as_array().unwrap().is_empty());
        let (_, pending) = app.get(&t, "/api/v1/reviews/pending").await;
        let rid = pending["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == "correction" && r["subject_id"] == c["id"])
            .expect("the branch reviews its member's correction")["id"]
            .as_i64()
            .unwrap();
        let (status, v) = app.post(&t, &format!("/api/v1/reviews/{rid}/approve"), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let (_, after) = app.get(&m, &format!("/api/v1/members/{own}")).await;
        assert_eq!(after["phone_masked"], "139****1234");
        assert_eq!(after["education"], "master");
        let admin = app.login("admin").await;
        let (status, _) = app
            .post(&admin, "/api/v1/me/corrections", json!({"phone": "13912341234"}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "no member record of one's own");
    }
);

both!(
    the_default_roster_is_the_active_members_and_agrees_with_the_tree,
    |app: App| async move {
        let c = app.login("committee").await;
        let (_, roots) = app.get(&c, "/api/v1/orgs").await;
        let tree = roots["items"][0]["member_count"].as_i64().unwrap();
        let (_, roster) = app.get(&c, "/api/v1/members?per_page=1").await;
        assert_eq!(roster["total"].as_i64().unwrap(), tree, "{roster}");
        let (_, all) = app.get(&c, "/api/v1/members?per_page=1&status=all").await;
        let (_, deceased) = app.get(&c, "/api/v1/members?per_page=1&status=deceased").await;
        assert!(deceased["total"].as_i64().unwrap() > 0, "the demo has deceased members");
        assert!(all["total"].as_i64().unwrap() >= tree + deceased["total"].as_i64().unwrap());
        let web = app.browser("committee").await;
        let page = app.page(&web, "/members").await;
        assert!(
            page.contains(&format!("<small>{tree}</small>")),
            "the page's total is the tree's"
        );
    }
);

both!(
    deep_pages_of_the_default_roster_start_where_the_counts_say,
    |app: App| async move {
        // The default roster finds a deep page from the maintained counts; an explicit
        // `status=active` (the same rows, not the default filter) reads them by OFFSET. Every page
        // must agree, across organizations, to the last and past it.
        let c = app.login("committee").await;
        let ids = |v: &serde_json::Value| -> Vec<i64> {
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_i64().unwrap())
                .collect()
        };
        let (_, first) = app.get(&c, "/api/v1/members?per_page=1").await;
        let total = first["total"].as_i64().unwrap();
        let last_page = (total + 19) / 20;
        let gb = app.org_id(&c, "信息与工程学院党总支").await;
        for page in [51, 52, 53, 60, 66, last_page - 1, last_page, last_page + 1] {
            let (_, counted) = app.get(&c, &format!("/api/v1/members?per_page=20&page={page}")).await;
            let (_, offset) = app
                .get(&c, &format!("/api/v1/members?per_page=20&page={page}&status=active"))
                .await;
            assert_eq!(ids(&counted), ids(&offset), "page {page}");
            assert_eq!(counted["total"], offset["total"], "page {page}");
        }
        let (_, last) = app
            .get(&c, &format!("/api/v1/members?per_page=20&page={last_page}"))
            .await;
        assert_eq!(
            ids(&last).len() as i64,
            total - (last_page - 1) * 20,
            "the last page is partial"
        );
        // Within a subtree, by its own counts.
        let root = app.org_id(&c, "浙江开放大学委员会").await;
        for org in [root, gb] {
            let (_, o) = app.get(&c, &format!("/api/v1/orgs/{org}")).await;
            for per_page in [7, 200] {
                let pages = (o["member_count"].as_i64().unwrap() + per_page - 1) / per_page;
                for page in (1..=pages + 1).filter(|p| (p - 1) * per_page >= 500 || *p == pages) {
                    let q = format!("/api/v1/members?org_id={org}&per_page={per_page}&page={page}");
                    let (_, counted) = app.get(&c, &q).await;
                    let (_, offset) = app.get(&c, &format!("{q}&status=active")).await;
                    assert_eq!(ids(&counted), ids(&offset), "{q}");
                }
            }
        }
    }
);
