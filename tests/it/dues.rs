//! Party dues (issue 4, first part): the official calculation through the API.

use crate::both;
use crate::support::App;
use reqwest::{Method, StatusCode};

both!(dues_are_calculated_by_the_official_bands, |app: App| async move {
    let t = app.login("secretary").await;
    let (status, d) = app
        .get(&t, "/api/v1/dues/calculate?category=employed&base_fen=520000")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(d["monthly_fen"], 7800);
    assert!(d["explanation"].as_str().unwrap().contains("1.5%"), "{d}");
    let res = app
        .http
        .get(format!(
            "{}/api/v1/dues/calculate?category=retired&base_fen=500001",
            app.base
        ))
        .bearer_auth(&t)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let d: serde_json::Value = res.json().await.unwrap();
    assert_eq!(d["monthly_fen"], 5000);
    assert!(
        d["explanation"]
            .as_str()
            .unwrap()
            .starts_with("base 5,000.01 yuan, retired"),
        "{d}"
    );
    assert_eq!(
        app.get(&t, "/api/v1/dues/calculate?category=student").await.1["monthly_fen"],
        20
    );
    let (status, err) = app.get(&t, "/api/v1/dues/calculate?category=rural&base_fen=500").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["fields"]["base_fen"]["code"], "base_fen.rural_amount");
    let (status, _) = app.get(&t, "/api/v1/dues/calculate?category=boss&base_fen=1").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.call(Method::GET, "/api/v1/dues/calculate?category=student", None, None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
});
