//! Who is calling: a Bearer token (API clients) or the session cookie (browsers). Cookie-borne
//! requests that change something must come from our own pages (Sec-Fetch-Site / Origin), which
//! together with SameSite=Strict cookies stops cross-site request forgery.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use std::net::SocketAddr;
use store::Caller;

use crate::error::Failure;
use crate::i18n::Lang;
use crate::AppState;

pub const SESSION_COOKIE: &str = "hj_session";

pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    cookie_in(&parts.headers, name)
}

pub fn cookie_in<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The client address the rate limits found (behind a trusted proxy, the forwarded one).
pub fn client_ip(parts: &Parts) -> String {
    if let Some(ip) = parts.extensions.get::<crate::limits::ClientIp>() {
        return ip.0.clone();
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Whether a state-changing request carried by a cookie comes from our own pages.
pub fn same_origin(parts: &Parts) -> bool {
    if parts.method == Method::GET || parts.method == Method::HEAD {
        return true;
    }
    if let Some(site) = parts.headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin" || site == "none";
    }
    let host = parts.headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (parts.headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()), host) {
        (Some(origin), Some(host)) => origin.split("://").nth(1) == Some(host),
        _ => false,
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The caller of an API request.
pub struct ApiCaller {
    pub caller: Caller,
    pub token: String,
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        let ip = client_ip(parts);
        let token = match bearer(parts) {
            Some(t) => t.to_string(),
            None => {
                let t = cookie(parts, SESSION_COOKIE).ok_or(Failure::new("auth.required"))?;
                if !same_origin(parts) {
                    return Err(Failure::new("auth.cross_site"));
                }
                t.to_string()
            }
        };
        let caller = store::accounts::authenticate(&state.store.db, &token, &ip).await?;
        state.limits.remember(&token, caller.user_id);
        // A temporary password set by the security administrator opens nothing but its own change.
        let allowed = ["/api/v1/me", "/api/v1/me/password", "/api/v1/auth/logout"];
        if caller.must_change_password && !allowed.contains(&parts.uri.path()) {
            return Err(Failure::new("auth.password_change_required"));
        }
        Ok(ApiCaller { caller, token })
    }
}

/// The preferences a page is drawn with: language and large-font mode (cookies, no account needed).
#[derive(Debug, Clone, Copy)]
pub struct Prefs {
    pub lang: Lang,
    pub large: bool,
}

impl Prefs {
    pub fn from_parts(parts: &Parts) -> Prefs {
        Prefs {
            lang: cookie(parts, "lang").map(Lang::parse).unwrap_or(Lang::Zh),
            large: cookie(parts, "font") == Some("large"),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Prefs {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Prefs::from_parts(parts))
    }
}

/// The caller of a page: signed in by cookie, or sent to the login page.
pub struct WebCaller {
    pub caller: Caller,
    pub token: String,
    pub prefs: Prefs,
    /// The page was reached by the redirect after a save (`?saved=1`): it says so.
    pub saved: bool,
}

impl FromRequestParts<AppState> for WebCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let prefs = Prefs::from_parts(parts);
        let to_login = || {
            let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let next = if parts.method == Method::GET { next } else { "/" };
            Redirect::to(&format!("/login?next={}", urlencode(next))).into_response()
        };
        let Some(token) = cookie(parts, SESSION_COOKIE).map(str::to_string) else {
            return Err(to_login());
        };
        if !same_origin(parts) {
            return Err((StatusCode::FORBIDDEN, "cross-site request refused").into_response());
        }
        let authenticated = store::accounts::authenticate(&state.store.db, &token, &client_ip(parts)).await;
        if let Ok(caller) = &authenticated {
            state.limits.remember(&token, caller.user_id);
        }
        match authenticated {
            Ok(caller)
                if caller.must_change_password
                    && !["/account", "/account/password", "/logout"].contains(&parts.uri.path()) =>
            {
                Err(Redirect::to("/account").into_response())
            }
            Ok(caller) => {
                let saved = parts
                    .uri
                    .query()
                    .is_some_and(|q| q.split('&').any(|kv| kv == "saved=1"));
                Ok(WebCaller {
                    caller,
                    token,
                    prefs,
                    saved,
                })
            }
            Err(store::Error::Unauthenticated) => Err(to_login()),
            Err(e) => Err(Failure::from(e).into_response()),
        }
    }
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn session_cookie(token: &str, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}
