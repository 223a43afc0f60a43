use crate::both;
use crate::support::{id_number, App};
use reqwest::StatusCode;

fn csv(rows: &[String]) -> String {
    let mut s = String::from("姓名,性别,公民身份号码,手机号码,入党日期,转正日期,人员类别,所在党支部\n");
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s
}

async fn import(app: &App, token: &str, body: Vec<u8>, mode: &str) -> (StatusCode, serde_json::Value) {
    let res = app
        .http
        .post(format!("{}/api/v1/members/import?mode={mode}", app.base))
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

both!(import_previews_then_commits_all_or_good_only, |app: App| async move {
    let t = app.login("secretary").await;
    let good1 = format!(
        "陈思远,男,{},13600001111,2015-06-01,2016-06-01,正式党员,信息学院教工党支部",
        id_number("19900210", 11, true)
    );
    let good2 = format!(
        "赵雨晴,女,{},,2024-03-01,,预备党员,信息学院教工党支部",
        id_number("19980712", 12, false)
    );
    let dup_in_file = format!(
        "赵雨晴二,女,{},,2024-03-01,,预备党员,信息学院教工党支部",
        id_number("19980712", 12, false)
    );
    let bad_checksum = "钱多多,男,110105199002100110,,2015-06-01,2016-06-01,正式党员,信息学院教工党支部".to_string();
    let other_branch = format!(
        "孙悟,男,{},,2015-06-01,2016-06-01,正式党员,法学院学生党支部",
        id_number("19900210", 13, true)
    );
    let text = csv(&[good1, good2, dup_in_file, bad_checksum, other_branch]);
    let (gbk, _, _) = encoding_rs::GB18030.encode(&text);
    let before = app.get(&t, "/api/v1/members?per_page=1").await.1["total"]
        .as_i64()
        .unwrap();

    let (status, preview) = import(&app, &t, gbk.to_vec(), "preview").await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["rows"], 5);
    assert_eq!(preview["good"], 2);
    assert_eq!(preview["bad_lines"], 3);
    let problems: Vec<(i64, String)> = preview["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["line"].as_i64().unwrap(), p["code"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        problems,
        vec![
            (4, "duplicate_of_line_3".into()),
            (5, "checksum".into()),
            (6, "not_found".into())
        ],
        "{preview}"
    );
    assert!(preview["problems"][1]["message"].as_str().unwrap().contains("校验位"));

    let (status, refused) = import(&app, &t, gbk.to_vec(), "all").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["imported"], 0);
    assert_eq!(
        app.get(&t, "/api/v1/members?per_page=1").await.1["total"]
            .as_i64()
            .unwrap(),
        before,
        "nothing written"
    );

    let (status, done) = import(&app, &t, gbk.to_vec(), "good_only").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(done["imported"], 2);
    assert_eq!(
        app.get(&t, "/api/v1/members?per_page=1").await.1["total"]
            .as_i64()
            .unwrap(),
        before + 2
    );
    let (_, found) = app.get(&t, "/api/v1/members?q=13600001111").await;
    assert_eq!(found["items"][0]["name"], "陈思远");
    // Importing the same file again finds the records already there.
    let (_, again) = import(&app, &t, gbk.to_vec(), "preview").await;
    assert_eq!(again["good"], 0);

    // Garbage and empty files are explained, not crashed on.
    let (status, err) = import(&app, &t, b"\x00\x01\x02binary".to_vec(), "preview").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["code"], "file.no_header");
    let (status, err) = import(&app, &t, Vec::new(), "preview").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["code"], "file.empty");

    // A zip bomb (64 MiB of one letter in 64 KiB) through both imports: refused by its ratio,
    // the server still answering.
    let bomb = zip_bomb();
    let (status, err) = import(&app, &t, bomb.clone(), "preview").await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("file.compression_ratio"))
    );
    let c = app.login("committee").await;
    let res = app
        .http
        .post(format!("{}/api/v1/dues/bases/import?year=2026&mode=preview", app.base))
        .bearer_auth(&c)
        .body(bomb)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let err: serde_json::Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "file.compression_ratio");
    assert_eq!(app.get(&t, "/api/v1/me").await.0, StatusCode::OK);
});

fn zip_bomb() -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    w.start_file("[Content_Types].xml", opts).unwrap();
    w.write_all(b"<Types/>").unwrap();
    w.start_file("xl/sharedStrings.xml", opts).unwrap();
    for _ in 0..64 {
        w.write_all(&[b'a'; 1024 * 1024]).unwrap();
    }
    w.finish().unwrap().into_inner()
}

both!(xlsx_import_and_exports_keep_ids_as_text, |app: App| async move {
    let t = app.login("secretary").await;
    let id_no = id_number("19850505", 21, false);
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["姓名", "性别", "公民身份号码", "入党日期", "转正日期", "所在党支部"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in [
        "=HYPERLINK(\"http://x\")",
        "女",
        id_no.as_str(),
        "2010-01-01",
        "2011-01-01",
        "信息学院教工党支部",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(1, c as u16, *v).unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    let (status, done) = import(&app, &t, bytes, "all").await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["imported"], 1);

    let res = app
        .http
        .get(format!("{}/api/v1/members/export.csv?q={id_no}", app.base))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.bytes().await.unwrap();
    assert!(body.starts_with(b"\xef\xbb\xbf"), "UTF-8 BOM");
    let text = String::from_utf8(body[3..].to_vec()).unwrap();
    assert!(text.contains(&id_no), "full ID for the secretary: {text}");
    assert!(text.contains("'=HYPERLINK"), "formula escaped: {text}");

    let res = app
        .http
        .get(format!("{}/api/v1/members/export.xlsx?q={id_no}", app.base))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    let bytes = res.bytes().await.unwrap().to_vec();
    use calamine::Reader;
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(
        range.get((1, 4)),
        Some(&calamine::Data::String(id_no.clone())),
        "ID number is a text cell"
    );
    assert_eq!(
        range.get((1, 0)),
        Some(&calamine::Data::String("'=HYPERLINK(\"http://x\")".into()))
    );
});

both!(
    web_import_previews_then_shows_progress_until_done,
    |app: App| async move {
        let client = app.browser("secretary").await;
        let good = format!(
            "冯晓,女,{},,2016-09-01,2017-09-01,正式党员,信息学院教工党支部",
            id_number("19930909", 51, false)
        );
        let bad = "褚一,男,not-an-id,,2016-09-01,2017-09-01,正式党员,信息学院教工党支部".to_string();
        let file = reqwest::multipart::Part::bytes(csv(&[good, bad]).into_bytes()).file_name("members.csv");
        let res = client
            .post(format!("{}/import", app.base))
            .header("sec-fetch-site", "same-origin")
            .multipart(reqwest::multipart::Form::new().part("file", file))
            .send()
            .await
            .unwrap();
        let job_url = res.url().to_string();
        let html = res.text().await.unwrap();
        assert!(job_url.contains("/import/"), "redirected to the preview: {job_url}");
        assert!(
            html.contains("members.csv") && html.contains("格式不正确") && html.contains("good_only"),
            "{html}"
        );
        let res = client
            .post(&job_url)
            .header("sec-fetch-site", "same-origin")
            .form(&[("mode", "all")])
            .send()
            .await
            .unwrap();
        assert!(
            res.text().await.unwrap().contains("不能全部导入"),
            "all-or-nothing refused with a bad row"
        );
        client
            .post(&job_url)
            .header("sec-fetch-site", "same-origin")
            .form(&[("mode", "good_only")])
            .send()
            .await
            .unwrap();
        let mut done = String::new();
        for _ in 0..50 {
            let res = client.get(&job_url).send().await.unwrap();
            let refresh = res.headers().get("refresh").is_some();
            done = res.text().await.unwrap();
            if done.contains("导入完成") {
                assert!(!refresh, "the finished page stops refreshing");
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(done.contains("导入完成") && done.contains(" 1"), "{done}");
        // A preview whose branch is no longer the user's to write to commits nothing.
        let good2 = format!(
            "蒋晴,女,{},,2016-09-01,2017-09-01,正式党员,信息学院教工党支部",
            id_number("19930909", 52, false)
        );
        let file = reqwest::multipart::Part::bytes(csv(&[good2]).into_bytes()).file_name("later.csv");
        let res = client
            .post(format!("{}/import", app.base))
            .header("sec-fetch-site", "same-origin")
            .multipart(reqwest::multipart::Form::new().part("file", file))
            .send()
            .await
            .unwrap();
        let later = res.url().to_string();
        let sec = app.login("secadmin").await;
        let (_, users) = app.get(&sec, "/api/v1/users").await;
        let secretary = users["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == "secretary")
            .unwrap()
            .clone();
        let grant = secretary["grants"][0]["id"].as_i64().unwrap();
        assert_eq!(
            app.call(
                reqwest::Method::DELETE,
                &format!("/api/v1/grants/{grant}"),
                Some(&sec),
                None
            )
            .await
            .0,
            StatusCode::NO_CONTENT
        );
        client
            .post(&later)
            .header("sec-fetch-site", "same-origin")
            .form(&[("mode", "all")])
            .send()
            .await
            .unwrap();
        let mut page = String::new();
        for _ in 0..50 {
            page = client.get(&later).send().await.unwrap().text().await.unwrap();
            if page.contains("导入失败") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(page.contains("导入失败") && page.contains("权限"), "{page}");
        let c = app.login("committee").await;
        assert_eq!(app.get(&c, "/api/v1/members?q=蒋晴").await.1["total"], 0);

        // The job belongs to its owner only.
        let other = app.browser("committee").await;
        assert_eq!(
            other.get(&job_url).send().await.unwrap().status(),
            StatusCode::NOT_FOUND
        );
    }
);
