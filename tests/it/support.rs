//! The test harness: the real server on 127.0.0.1:0 over a fresh copy of the demo database, on
//! SQLite always and on PostgreSQL when HONGJI_TEST_PG_URL is set. The demo is built once per
//! backend and copied for each test (a file copy, or CREATE DATABASE … TEMPLATE).

use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::path::PathBuf;
use store::Store;
use tokio::sync::OnceCell;

pub const PASSWORD: &str = "Demo-Pass-2026";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct App {
    pub base: String,
    pub store: Store,
    pub http: reqwest::Client,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub key_file: PathBuf,
}

/// A test that passes leaves nothing behind: its data directory (a copy of the demo, files,
/// keys) and its PostgreSQL database go when it ends. A failed test's stay for inspection until a
/// later run clears them (see `remove_old_test_dirs`, `drop_old_test_databases`).
impl Drop for App {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if let Some(name) = self
            .database_url
            .strip_prefix("postgres")
            .and_then(|u| u.rsplit('/').next())
        {
            let name = name.split('?').next().unwrap_or(name).to_string();
            if name.starts_with("hongji_t_") {
                // Its own runtime: the test's may be ending; FORCE closes the server's connections.
                let _ = std::thread::spawn(move || {
                    tokio::runtime::Runtime::new()
                        .unwrap()
                        .block_on(pg_admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                })
                .join();
            }
        }
    }
}

fn unique() -> String {
    store::crypto::new_token()[..12].to_string()
}

fn pg_url() -> Option<String> {
    std::env::var("HONGJI_TEST_PG_URL").ok().filter(|u| !u.is_empty())
}

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let prefix = base.rsplit_once('/').map(|(p, _)| p).unwrap_or(base);
    format!("{prefix}/{db}{query}")
}

async fn pg_admin(sql: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&pg_url().expect("pg url"))
        .await
        .expect("connect to HONGJI_TEST_PG_URL");
    sqlx::raw_sql(sql)
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Databases left by earlier runs (a test that fails keeps its database for inspection until then).
async fn drop_old_test_databases() {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&pg_url().unwrap())
        .await
        .expect("connect to HONGJI_TEST_PG_URL");
    let names: Vec<(String,)> = sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'hongji\\_t%'")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    for (name,) in names {
        let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await;
    }
}

/// Data directories and browser profiles left by earlier runs, as their databases are: a failed
/// test's stays for inspection until a run an hour later or more (each run left gigabytes in /tmp).
fn remove_old_test_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let ours = name.starts_with("hongji-test-") || name.starts_with("hongji-chrome-");
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t < an_hour_ago);
        if ours && old {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The demo template for a backend: (database url or file, key file).
async fn template(backend: Backend) -> &'static (String, PathBuf) {
    static SQLITE: OnceCell<(String, PathBuf)> = OnceCell::const_new();
    static PG: OnceCell<(String, PathBuf)> = OnceCell::const_new();
    let cell = if backend == Backend::Sqlite { &SQLITE } else { &PG };
    cell.get_or_init(|| async move {
        if backend == Backend::Sqlite {
            remove_old_test_dirs();
        }
        let dir = std::env::temp_dir().join(format!("hongji-test-template-{}", unique()));
        std::fs::create_dir_all(&dir).unwrap();
        let keys = dir.join("hongji.keys");
        let (url, name) = match backend {
            Backend::Sqlite => {
                // Built in a work file and copied out whole (`VACUUM INTO`), so that no copy taken
                // from the template can catch a write-ahead log half checkpointed.
                let work = dir.join("work.db");
                (
                    format!("sqlite://{}", work.display()),
                    dir.join("hongji.db").display().to_string(),
                )
            }
            Backend::Postgres => {
                drop_old_test_databases().await;
                let name = format!("hongji_tpl_{}", unique());
                pg_admin(&format!("CREATE DATABASE {name}")).await;
                (with_database(&pg_url().unwrap(), &name), name)
            }
        };
        // Built on its own runtime: this runtime (the first test's) may end before others copy it.
        let (u, k, copy) = (
            url.clone(),
            keys.clone(),
            (backend == Backend::Sqlite).then(|| name.clone()),
        );
        std::thread::spawn(move || {
            tokio::runtime::Runtime::new().unwrap().block_on(async {
                let checkpoints = std::path::Path::new(&k).with_extension("checkpoints");
                let store = Store::open(&u, &k, &checkpoints).await.unwrap();
                hongji::demo::ensure(&store).await.unwrap();
                if let Some(file) = copy {
                    store.db.sqlite_copy_into(std::path::Path::new(&file)).await.unwrap();
                }
                store.db.close().await;
            })
        })
        .join()
        .unwrap();
        (name, keys)
    })
    .await
}

impl App {
    /// A server over a fresh copy of the demo. PostgreSQL tests are ignored at build time when
    /// HONGJI_TEST_PG_URL is unset (see build.rs), so reaching here without it is an error.
    pub async fn start(backend: Backend) -> App {
        Self::start_with(backend, |_| {}).await
    }

    /// A server over a fresh copy of the demo, its settings changed first (limits, HTTPS).
    pub async fn start_with(backend: Backend, configure: impl FnOnce(&mut server::AppState)) -> App {
        if backend == Backend::Postgres && pg_url().is_none() {
            panic!("HONGJI_TEST_PG_URL was unset after the build (e.g. postgres://postgres@127.0.0.1:5432/postgres)");
        }
        let (source, template_keys) = template(backend).await;
        let dir = std::env::temp_dir().join(format!("hongji-test-{}", unique()));
        std::fs::create_dir_all(&dir).unwrap();
        let key_file = dir.join("hongji.keys");
        std::fs::copy(template_keys, &key_file).unwrap();
        let database_url = match backend {
            Backend::Sqlite => {
                let file = dir.join("hongji.db");
                std::fs::copy(source, &file).unwrap();
                format!("sqlite://{}", file.display())
            }
            Backend::Postgres => {
                let name = format!("hongji_t_{}", unique());
                pg_admin(&format!("CREATE DATABASE {name} TEMPLATE {source}")).await;
                with_database(&pg_url().unwrap(), &name)
            }
        };
        let store = Store::open(&database_url, &key_file, &dir.join("audit.checkpoints"))
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut state = server::AppState::new(store.clone(), true);
        // The reminders job is tested on its own, not left to race the tests.
        state.scheduled_jobs = false;
        state.files_dir = dir.join("files");
        configure(&mut state);
        tokio::spawn(server::serve(listener, state));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        App {
            base,
            store,
            http,
            data_dir: dir,
            database_url,
            key_file,
        }
    }

    /// A database URL with nothing in it yet, on the app's backend (a file in `dir` for SQLite).
    pub async fn empty_database(&self, dir: &std::path::Path) -> String {
        if self.database_url.starts_with("sqlite:") {
            format!("sqlite://{}", dir.join("hongji.db").display())
        } else {
            let name = format!("hongji_t_{}", unique());
            pg_admin(&format!("CREATE DATABASE {name}")).await;
            with_database(&pg_url().unwrap(), &name)
        }
    }

    pub async fn login(&self, username: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(serde_json::json!({"username": username, "password": PASSWORD})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login {username}: {body}");
        body["token"].as_str().unwrap().to_string()
    }

    /// The text of a page fetched with a browser-like client from `browser`.
    pub async fn page(&self, client: &reqwest::Client, path: &str) -> String {
        client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Submits a form as a browser would (same origin, redirects followed): where it ended, and
    /// the page there.
    pub async fn submit(
        &self,
        client: &reqwest::Client,
        path: &str,
        fields: &[(&str, String)],
    ) -> (reqwest::Url, String) {
        let res = client
            .post(format!("{}{path}", self.base))
            .header("sec-fetch-site", "same-origin")
            .form(fields)
            .send()
            .await
            .unwrap();
        (res.url().clone(), res.text().await.unwrap())
    }

    /// A client with a cookie jar, signed in through the login form as a browser would.
    pub async fn browser(&self, username: &str) -> reqwest::Client {
        let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
        let res = client
            .post(format!("{}/login", self.base))
            .header("sec-fetch-site", "same-origin")
            .form(&[("username", username), ("password", PASSWORD), ("next", "/")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{username} signs in");
        client
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PATCH, path, Some(token), Some(body)).await
    }

    /// The demo organization with this name.
    pub async fn org(&self, token: &str, name: &str) -> Value {
        let (_, orgs) = self.get(token, "/api/v1/orgs").await;
        orgs["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .unwrap_or_else(|| panic!("no org {name}"))
            .clone()
    }

    pub async fn org_id(&self, token: &str, name: &str) -> i64 {
        self.org(token, name).await["id"].as_i64().unwrap()
    }

    /// Some member of the organization (subtree).
    pub async fn some_member(&self, token: &str, org_id: i64) -> Value {
        let (status, list) = self
            .get(token, &format!("/api/v1/members?org_id={org_id}&per_page=1"))
            .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        list["items"][0].clone()
    }
}

/// A valid ID number for a person born on `birth` (YYYYMMDD), male when `male`.
pub fn id_number(birth: &str, seq: u32, male: bool) -> String {
    let d = chrono::NaiveDate::parse_from_str(birth, "%Y%m%d").unwrap();
    domain::IdNumber::compose(110105, d, seq * 2 + u32::from(male))
        .as_str()
        .to_string()
}

/// Runs a test body on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)($crate::support::App::start($crate::support::Backend::Sqlite).await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(not(hongji_pg), ignore = "PostgreSQL: set HONGJI_TEST_PG_URL")]
            async fn postgres() {
                ($body)($crate::support::App::start($crate::support::Backend::Postgres).await).await;
            }
        }
    };
}

/// The smallest well-formed PDF, carrying `note` in a comment: uploads are checked by structure.
pub fn pdf(note: &str) -> Vec<u8> {
    let mut out = format!("%PDF-1.4\n% {note}\n1 0 obj\n<< /Type /Catalog >>\nendobj\n").into_bytes();
    let xref_at = out.len();
    out.extend_from_slice(b"xref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer\n<< /Size 2 /Root 1 0 R >>\n");
    out.extend_from_slice(format!("startxref\n{xref_at}\n%%EOF\n").as_bytes());
    out
}
