//! Importing the library from a workbook with its files: every problem by line, all or nothing,
//! only the good rows, each item submitted for review, the files kept with their items, scope.

use crate::both;
use crate::study::{approve, docx, totals_agree};
use crate::support::App;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// A workbook with the import's header and these rows (column name → cell).
fn workbook(rows: &[&[(&str, &str)]]) -> Vec<u8> {
    let header = [
        "标题",
        "类型",
        "分类",
        "学时",
        "摘要",
        "出处",
        "正文",
        "链接",
        "文件",
        "时长",
        "标签",
        "发送范围",
    ];
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (name, value) in row.iter() {
            let c = header.iter().position(|h| h == name).expect("a column of the template");
            sheet.write_string(r as u32 + 1, c as u16, *value).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

fn mp4() -> Vec<u8> {
    let mut bytes = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2mp41".to_vec();
    bytes.extend((0..4000u32).map(|i| (i % 251) as u8));
    bytes
}

async fn import(
    app: &App,
    token: &str,
    org: i64,
    mode: &str,
    book: &[u8],
    files: &[(&str, Vec<u8>)],
) -> (StatusCode, Value) {
    let mut form = Form::new().part("file", Part::bytes(book.to_vec()).file_name("资料.xlsx"));
    for (name, bytes) in files {
        form = form.part("attachments", Part::bytes(bytes.clone()).file_name(name.to_string()));
    }
    let res = app
        .http
        .post(format!(
            "{}/api/v1/study/items/import?org_id={org}&mode={mode}",
            app.base
        ))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap())
}

/// Every problem of a report: line → the fields named on it.
fn problems(report: &Value) -> BTreeMap<i64, BTreeSet<String>> {
    let mut out: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for p in report["problems"].as_array().unwrap() {
        out.entry(p["line"].as_i64().unwrap()).or_default().insert(format!(
            "{}.{}",
            p["field"].as_str().unwrap(),
            p["code"].as_str().unwrap()
        ));
    }
    out
}

/// What a manager's library holds, and the study files kept.
async fn counts(app: &App, token: &str) -> (i64, i64) {
    let (_, library) = app.get(token, "/api/v1/study/items").await;
    let (files,): (i64,) = app
        .store
        .db
        .one(store::db::Q::new("SELECT COUNT(*) FROM study_files"))
        .await
        .unwrap();
    (library["managed_total"].as_i64().unwrap(), files)
}

both!(
    a_workbook_of_items_imports_with_its_files_all_or_nothing_or_the_good_rows,
    |app: App| async move {
        let t = app.login("secretary").await;
        let c = app.login("committee").await;
        let m = app.login("member").await;
        let branch = app.get(&t, "/api/v1/me").await.1["grants"][0]["org_id"]
            .as_i64()
            .unwrap();
        let other = app.org_id(&c, "法学院学生党支部").await;

        // The template reads back as four examples: those naming files are refused until the
        // files come with it.
        let res = app
            .http
            .get(format!("{}/api/v1/study/items/template", app.base))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let template = res.bytes().await.unwrap().to_vec();
        let (status, report) = import(&app, &t, branch, "preview", &template, &[]).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(
            (report["rows"].as_i64(), report["good"].as_i64()),
            (Some(4), Some(2)),
            "{report}"
        );
        assert_eq!(
            problems(&report),
            BTreeMap::from([
                (3, BTreeSet::from(["file.not_uploaded".to_string()])),
                (4, BTreeSet::from(["file.not_uploaded".to_string()])),
            ]),
            "{report}"
        );

        let other_name = "法学院学生党支部";
        let book = workbook(&[
            // 2: an article whose script is removed.
            &[
                ("标题", "导入：学习党章第一章"),
                ("类型", "文章"),
                ("分类", "党章党规党纪、政治理论"),
                ("学时", "1"),
                ("正文", "<p>党员的条件。</p><script>alert(1)</script>"),
                ("标签", "党章、第一章"),
            ],
            // 3: a document, its kind told by its file (named in capitals), its text from the file.
            &[
                ("标题", "导入：辅导讲稿"),
                ("分类", "政治理论"),
                ("学时", "2"),
                ("文件", "讲稿.DOCX"),
            ],
            // 4: a video of 12 minutes 30 seconds.
            &[
                ("标题", "导入：党史微课"),
                ("类型", "视频"),
                ("分类", "党的宗旨和党史"),
                ("学时", "0.5"),
                ("文件", "微课.mp4"),
                ("时长", "12:30"),
            ],
            // 5: a video whose file is a document.
            &[
                ("标题", "导入：错配的视频"),
                ("类型", "视频"),
                ("分类", "党的宗旨和党史"),
                ("学时", "1"),
                ("文件", "讲稿.docx"),
                ("时长", "10"),
            ],
            // 6: no hours, a category that is none of the seven.
            &[("标题", "导入：缺学时"), ("分类", "娱乐"), ("正文", "x")],
            // 7: the title of line 2 again.
            &[
                ("标题", "导入：学习党章第一章"),
                ("分类", "政治理论"),
                ("学时", "1"),
                ("正文", "重复"),
            ],
            // 8: another branch, outside the publisher's subtree.
            &[
                ("标题", "导入：发给别的支部"),
                ("分类", "政治理论"),
                ("学时", "1"),
                ("正文", "x"),
                ("发送范围", other_name),
            ],
            // 9: a file that was not uploaded.
            &[
                ("标题", "导入：缺文件"),
                ("类型", "文档"),
                ("分类", "政治理论"),
                ("学时", "1"),
                ("文件", "没有.pdf"),
            ],
            // 10: a link that would run.
            &[
                ("标题", "导入：坏链接"),
                ("类型", "链接"),
                ("分类", "形势政策"),
                ("学时", "1"),
                ("链接", "javascript:alert(1)"),
            ],
            // 11: a program named as a document.
            &[
                ("标题", "导入：病毒"),
                ("类型", "文档"),
                ("分类", "政治理论"),
                ("学时", "1"),
                ("文件", "virus.pdf"),
            ],
        ]);
        let files = [
            ("讲稿.docx", docx(&["第一部分 学习党章", "第二部分 遵守纪律"])),
            ("微课.mp4", mp4()),
            ("virus.pdf", b"MZ\x90\x00 not a pdf".to_vec()),
        ];
        let (status, report) = import(&app, &t, branch, "preview", &book, &files).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(
            (report["rows"].as_i64(), report["good"].as_i64()),
            (Some(10), Some(3)),
            "{report}"
        );
        let want = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(
            problems(&report),
            BTreeMap::from([
                (5, want(&["file.wrong_kind"])),
                (6, want(&["hours.required", "categories.invalid_value"])),
                (7, want(&["title.duplicate_title"])),
                (8, want(&["to_org_ids.not_found"])),
                (9, want(&["file.not_uploaded"])),
                (10, want(&["link.invalid"])),
                (11, want(&["file.not_study_media"])),
            ]),
            "{report}"
        );
        assert!(
            report["problems"][0]["message"].as_str().unwrap().contains('：'),
            "in words: {report}"
        );

        // All or nothing: nothing is written, not even the files.
        let before = counts(&app, &t).await;
        let (status, report) = import(&app, &t, branch, "all", &book, &files).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
        assert_eq!(report["imported"], 0);
        assert_eq!(counts(&app, &t).await, before, "nothing written");

        // Members and another branch's publisher are refused before the file is read.
        let (status, _) = import(&app, &m, branch, "good_only", &book, &files).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, e) = import(&app, &t, other, "good_only", &book, &files).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert_eq!(e["error"]["fields"]["org_id"]["code"], "org_id.not_found", "{e}");
        assert_eq!(counts(&app, &t).await, before, "nothing written");

        // The good rows: three items under review, two files kept (the video's and the document's).
        let (status, report) = import(&app, &t, branch, "good_only", &book, &files).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["imported"], 3, "{report}");
        assert_eq!(counts(&app, &t).await, (before.0 + 3, before.1 + 2));
        let (_, library) = app.get(&t, "/api/v1/study/items").await;
        let find = |title: &str| {
            library["managed"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["title"] == title)
                .unwrap_or_else(|| panic!("{title} imported: {library}"))
                .clone()
        };
        let article = find("导入：学习党章第一章");
        assert_eq!(article["status"], "reviewing");
        assert_eq!(article["categories"], serde_json::json!(["constitution", "theory"]));
        assert_eq!(article["tags"], serde_json::json!(["党章", "第一章"]));
        assert!(!article["body"].as_str().unwrap().contains("script"), "{article}");
        let document = find("导入：辅导讲稿");
        assert_eq!(
            (document["kind"].as_str(), document["file_name"].as_str()),
            (Some("document"), Some("讲稿.docx"))
        );
        assert!(
            document["body"].as_str().unwrap().contains("第二部分 遵守纪律"),
            "{document}"
        );
        let video = find("导入：党史微课");
        assert_eq!(
            (video["kind"].as_str(), video["duration_seconds"].as_i64()),
            (Some("video"), Some(750))
        );

        // Each waits for review as one published by hand would; once approved the member reads it
        // and plays its file by range.
        for item in [&article, &document, &video] {
            approve(&app, &c, item["id"].as_i64().unwrap()).await;
        }
        let (status, seen) = app.get(&m, &format!("/api/v1/study/items/{}", video["id"])).await;
        assert_eq!(
            (status, seen["status"].as_str()),
            (StatusCode::OK, Some("published")),
            "{seen}"
        );
        let res = app
            .http
            .get(format!("{}/api/v1/study/items/{}/file", app.base, video["id"]))
            .bearer_auth(&m)
            .header("range", "bytes=4-11")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(res.bytes().await.unwrap().as_ref(), b"ftypisom");

        // The same workbook again writes nothing new: every good title is now in the library.
        let (_, report) = import(&app, &t, branch, "good_only", &book, &files).await;
        assert_eq!(report["imported"], 0, "{report}");
        let again = problems(&report);
        for line in [2, 3, 4] {
            assert!(again[&line].contains("title.duplicate_title"), "{line}: {report}");
        }

        // The committee sends an item to a branch by its name and another by its number.
        let root = app.get(&c, "/api/v1/me").await.1["grants"][0]["org_id"]
            .as_i64()
            .unwrap();
        let by_number = other.to_string();
        let book = workbook(&[
            &[
                ("标题", "导入：发给法学院"),
                ("分类", "政治理论"),
                ("学时", "1"),
                ("正文", "x"),
                ("发送范围", other_name),
            ],
            &[
                ("标题", "导入：按编号发送"),
                ("分类", "政治理论"),
                ("学时", "1"),
                ("正文", "x"),
                ("发送范围", &by_number),
            ],
        ]);
        let (status, report) = import(&app, &c, root, "all", &book, &[]).await;
        assert_eq!(
            (status, report["imported"].as_i64()),
            (StatusCode::OK, Some(2)),
            "{report}"
        );
        assert!(totals_agree(&app).await > 0, "something to count");
    }
);

both!(
    the_import_page_previews_a_workbook_and_writes_the_good_rows,
    |app: App| async move {
        let browser = app.browser("secretary").await;
        let page = app.page(&browser, "/study").await;
        assert!(
            page.contains("href=\"/study/items/import\""),
            "the hub links the import"
        );
        let page = app.page(&browser, "/study/items/import").await;
        assert!(page.contains("name=\"attachments\""), "{page}");
        let t = app.login("secretary").await;
        let branch = app.get(&t, "/api/v1/me").await.1["grants"][0]["org_id"]
            .as_i64()
            .unwrap();
        let book = workbook(&[
            &[
                ("标题", "导入：网页导入的文章"),
                ("分类", "政治理论"),
                ("学时", "1"),
                ("正文", "<b>加粗</b>"),
            ],
            &[
                ("标题", "<img src=x onerror=alert(1)>"),
                ("分类", "政治理论"),
                ("正文", "x"),
            ],
        ]);
        let post = |mode: &'static str| {
            let form = Form::new()
                .text("org_id", branch.to_string())
                .text("mode", mode)
                .part("file", Part::bytes(book.clone()).file_name("资料.xlsx"))
                .part("attachments", Part::bytes(Vec::new()).file_name(""));
            browser
                .post(format!("{}/study/items/import", app.base))
                .header("sec-fetch-site", "same-origin")
                .multipart(form)
                .send()
        };
        let page = post("preview").await.unwrap().text().await.unwrap();
        assert!(page.contains("id=\"import-report\""), "{page}");
        assert!(page.contains("学时：必须填写"), "the problem in words: {page}");
        assert!(!page.contains("<img src=x"), "escaped");
        let page = post("good_only").await.unwrap().text().await.unwrap();
        assert!(page.contains("已提交审核的资料 1"), "{page}");
        let (_, library) = app.get(&t, "/api/v1/study/items").await;
        assert!(
            library["managed"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["title"] == "导入：网页导入的文章"),
            "{library}"
        );
    }
);
