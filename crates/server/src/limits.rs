//! Rate limits over every page and API call (the seed paper's IP and high-frequency limits), keyed
//! by client address and by account (a session counts on its own until its first request shows
//! whose it is; then all of an account's sessions share one allowance), with tighter classes for signing in and for what
//! reveals, exports or floods (reveal, export, import, search, check-in codes, exam attempts, big screens). Generous enough that
//! a secretary working fast never meets them; a refusal is `429` with `Retry-After` and code
//! `rate_limited` (a page for browsers, JSON for the API), audited at most once a minute per key.
//! Behind a reverse proxy, the client address is read from `X-Forwarded-For` only when the
//! connection comes from a configured trusted proxy.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::AppState;

/// Requests a minute for each class; every number is configurable (`hongji serve --help`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Any request, per client address (a campus behind one NAT shares it).
    pub per_ip: u32,
    /// Any request, per signed-in account.
    pub per_account: u32,
    /// Reveals, exports, imports, searches and check-in codes, per address and per account.
    pub sensitive: u32,
    /// Sign-in attempts, per address.
    pub login: u32,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            per_ip: 1_200,
            per_account: 600,
            sensitive: 60,
            login: 20,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Settings {
    /// No limit (for benchmarks and the API check, which are floods on purpose).
    pub fn unlimited() -> Settings {
        Settings {
            per_ip: u32::MAX,
            per_account: u32::MAX,
            sensitive: u32::MAX,
            login: u32::MAX,
            trusted_proxies: Vec::new(),
        }
    }
}

/// The client address, as the limits and the audit log see it.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    General,
    Sensitive,
    Login,
}

impl Class {
    fn of(req: &Request) -> Class {
        let path = req.uri().path();
        let post = req.method() == axum::http::Method::POST;
        if post && (path == "/login" || path == "/api/v1/auth/login") {
            return Class::Login;
        }
        let searching = req
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|kv| kv.starts_with("q=") && kv.len() > 2));
        // Starting and submitting exam attempts count here too: answering is rate-limited.
        // A display's token is a key: guessing one meets the tighter limit.
        let sensitive = ["/reveal", "/export", "/import", "/check-in", "/checkin", "/display/"]
            .iter()
            .any(|p| path.contains(p))
            || (post && path.contains("/attempts"));
        if sensitive || searching {
            Class::Sensitive
        } else {
            Class::General
        }
    }

    fn name(self) -> &'static str {
        match self {
            Class::General => "general",
            Class::Sensitive => "sensitive",
            Class::Login => "login",
        }
    }
}

type Limiter = DefaultKeyedRateLimiter<String>;

pub struct Limits {
    settings: Settings,
    per_ip: Limiter,
    per_account: Limiter,
    sensitive: Limiter,
    login: Limiter,
    /// One audit entry per key and minute, however long a flood lasts.
    audited: Limiter,
    /// Whose each session is (session key → account), learnt when a request is authenticated.
    accounts: std::sync::Mutex<std::collections::HashMap<String, i64>>,
}

fn per_minute(n: u32) -> Quota {
    let n = NonZeroU32::new(n.max(1)).expect("at least one");
    // The whole minute's allowance may come at once: a page with its assets, a quick succession.
    Quota::per_minute(n).allow_burst(n)
}

impl Limits {
    pub fn new(settings: Settings) -> Limits {
        Limits {
            per_ip: Limiter::keyed(per_minute(settings.per_ip)),
            per_account: Limiter::keyed(per_minute(settings.per_account)),
            sensitive: Limiter::keyed(per_minute(settings.sensitive)),
            login: Limiter::keyed(per_minute(settings.login)),
            audited: Limiter::keyed(per_minute(1)),
            accounts: Default::default(),
            settings,
        }
    }

    /// The address a request comes from: the connection's, or behind a trusted proxy the nearest
    /// address in `X-Forwarded-For` that is not itself a trusted proxy.
    fn client_ip(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> String {
        let Some(peer) = peer else {
            return "unknown".into();
        };
        if !self.settings.trusted_proxies.contains(&peer) {
            return peer.to_string();
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        forwarded
            .into_iter()
            .rev()
            .find(|a| !self.settings.trusted_proxies.contains(a))
            .unwrap_or(peer)
            .to_string()
    }

    /// Records whose session this is, so that its requests count against the account.
    pub fn remember(&self, token: &str, user_id: i64) {
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        if accounts.len() > 100_000 {
            accounts.clear(); // sessions then count on their own until they are seen again
        }
        accounts.insert(session_key_of(token), user_id);
    }

    /// The bucket a session's requests count in: its account's once known.
    fn holder(&self, session: &str) -> String {
        let accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        match accounts.get(session) {
            Some(user) => format!("account:{user}"),
            None => format!("session:{session}"),
        }
    }

    /// `Some(wait)` when the request must be refused.
    fn check(&self, class: Class, ip: &str, session: Option<&str>) -> Option<Duration> {
        let holder = session.map(|s| self.holder(s));
        let session = holder.as_deref();
        let mut checks: Vec<(&Limiter, String)> = vec![(&self.per_ip, format!("ip:{ip}"))];
        if let Some(s) = session {
            checks.push((&self.per_account, s.to_string()));
        }
        match class {
            Class::Login => checks.push((&self.login, format!("login:{ip}"))),
            Class::Sensitive => {
                checks.push((&self.sensitive, format!("ip:{ip}")));
                if let Some(s) = session {
                    checks.push((&self.sensitive, s.to_string()));
                }
            }
            Class::General => {}
        }
        for (limiter, key) in checks {
            if limiter.len() > 100_000 {
                limiter.retain_recent();
            }
            if let Err(not_until) = limiter.check_key(&key) {
                // A clock only for a refusal: making one calibrates it (a profile found it on
                // every request).
                return Some(not_until.wait_time_from(DefaultClock::default().now()));
            }
        }
        None
    }
}

/// The session a request carries (cookie or Bearer token), hashed so that no token is kept.
fn session_key(headers: &HeaderMap) -> Option<String> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let token = bearer.or_else(|| crate::auth::cookie_in(headers, crate::auth::SESSION_COOKIE))?;
    Some(session_key_of(token))
}

fn session_key_of(token: &str) -> String {
    store::crypto::sm3_hex(token.as_bytes())[..16].to_string()
}

/// The middleware: finds the client address, applies the limits, and refuses with 429.
pub async fn limit(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let ip = s.limits.client_ip(peer, req.headers());
    req.extensions_mut().insert(ClientIp(ip.clone()));
    let class = Class::of(&req);
    let session = session_key(req.headers());
    let Some(wait) = s.limits.check(class, &ip, session.as_deref()) else {
        return next.run(req).await;
    };
    let retry_after = wait.as_secs().max(1);
    if s.limits.audited.check_key(&format!("{}:{ip}", class.name())).is_ok() {
        let mut who = store::scope::Caller::system("anonymous");
        who.grants.clear();
        who.ip = ip.clone();
        let event = store::audit::Event::denied("rate_limited", "route", class.name())
            .with_detail(format!("path={}", req.uri().path()));
        if let Err(e) = store::audit::append_alone(&s.store.db, &who, event).await {
            tracing::error!(error = %e, "could not audit a rate-limit refusal");
        }
    }
    let path = req.uri().path().to_string();
    let (parts, _) = req.into_parts();
    let prefs = crate::auth::Prefs::from_parts(&parts);
    let failure = crate::error::Failure::new("rate_limited");
    let mut res = if path.starts_with("/api/") {
        axum::Json(failure.to_json(prefs.lang)).into_response()
    } else {
        crate::web::error_page_retry(
            crate::web::Chrome::new(prefs, None, &path, "error.title"),
            failure,
            Some(retry_after),
        )
    };
    *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    res
}

pub type Shared = Arc<Limits>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_is_believed_only_when_trusted() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let limits = Limits::new(Settings {
            trusted_proxies: vec![proxy],
            ..Settings::default()
        });
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("6.6.6.6, 203.0.113.9"));
        assert_eq!(
            limits.client_ip(Some(proxy), &h),
            "203.0.113.9",
            "the nearest hop the proxy saw"
        );
        assert_eq!(
            limits.client_ip(Some("198.51.100.7".parse().unwrap()), &h),
            "198.51.100.7",
            "a client cannot choose its address"
        );
    }

    #[test]
    fn an_accounts_sessions_share_one_allowance() {
        let limits = Limits::new(Settings {
            per_account: 3,
            ..Settings::default()
        });
        limits.remember("token-a", 7);
        limits.remember("token-b", 7);
        let (a, b, c) = (
            session_key_of("token-a"),
            session_key_of("token-b"),
            session_key_of("token-c"),
        );
        assert!(limits.check(Class::General, "1.1.1.1", Some(&a)).is_none());
        assert!(limits.check(Class::General, "1.1.1.2", Some(&b)).is_none());
        assert!(limits.check(Class::General, "1.1.1.3", Some(&a)).is_none());
        assert!(
            limits.check(Class::General, "1.1.1.4", Some(&b)).is_some(),
            "a second session, from another address, does not double the account's allowance"
        );
        assert!(
            limits.check(Class::General, "1.1.1.5", Some(&c)).is_none(),
            "another account's session"
        );
    }

    #[test]
    fn an_allowance_refills_as_the_minute_goes() {
        let limits = Limits::new(Settings {
            sensitive: 60,
            ..Settings::default()
        });
        for _ in 0..60 {
            assert!(limits.check(Class::Sensitive, "3.3.3.3", None).is_none());
        }
        let wait = limits
            .check(Class::Sensitive, "3.3.3.3", None)
            .expect("the 61st in a minute waits");
        assert!(wait <= Duration::from_secs(1), "one more each second: {wait:?}");
        std::thread::sleep(wait + Duration::from_millis(50));
        assert!(
            limits.check(Class::Sensitive, "3.3.3.3", None).is_none(),
            "after Retry-After it is let through"
        );
        assert!(
            limits.check(Class::Sensitive, "3.3.3.3", None).is_some(),
            "one at a time"
        );
    }

    #[test]
    fn each_class_has_its_own_allowance() {
        let limits = Limits::new(Settings {
            per_ip: 100,
            sensitive: 3,
            login: 2,
            ..Settings::default()
        });
        for _ in 0..3 {
            assert!(limits.check(Class::Sensitive, "1.1.1.1", Some("s")).is_none());
        }
        assert!(limits.check(Class::Sensitive, "1.1.1.1", Some("s")).is_some());
        assert!(limits.check(Class::General, "1.1.1.1", Some("s")).is_none());
        assert!(limits.check(Class::Login, "2.2.2.2", None).is_none());
        assert!(limits.check(Class::Login, "2.2.2.2", None).is_none());
        let wait = limits.check(Class::Login, "2.2.2.2", None).unwrap();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(30), "{wait:?}");
    }
}
