//! The `hongji` command: serve, demo, import, export, generate, audit, security report, backup,
//! restore, admin, bench.

use hongji::{bench, demo, generate};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use store::{Caller, Role, Store};

// glibc's allocator spent a fifth of the member list's time under load (perf, `hongji bench
// --only api`); mimalloc's per-thread pages serve the many small short-lived values of a request.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "hongji",
    version,
    about = "红基 Hongji — grassroots Party organization management"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the data lives; flags override `HONGJI_*` environment variables.
#[derive(Args, Clone)]
struct Data {
    /// Database, keys and files.
    #[arg(long, env = "HONGJI_DATA_DIR", default_value = "./hongji-data", global = true)]
    data_dir: PathBuf,
    /// `sqlite://FILE` or `postgres://…`; defaults to SQLite in the data directory.
    #[arg(long, env = "HONGJI_DATABASE_URL", global = true, hide_env_values = true)]
    database_url: Option<String>,
    /// The key file (default: DATA_DIR/hongji.keys). Keep it apart from database backups.
    #[arg(long, env = "HONGJI_KEY_FILE", global = true)]
    key_file: Option<PathBuf>,
    /// The audit checkpoint file, appended to daily and at shutdown (default:
    /// DATA_DIR/audit.checkpoints). Put it on another disk or host to anchor the log there.
    #[arg(long, env = "HONGJI_AUDIT_CHECKPOINTS", global = true)]
    audit_checkpoints: Option<PathBuf>,
}

impl Data {
    /// The database URL, the key file and the audit checkpoint file, each from its flag or the
    /// data directory.
    fn paths(&self) -> (String, PathBuf, PathBuf) {
        let (default_url, default_keys, default_checkpoints) = store::data_dir_defaults(&self.data_dir);
        (
            self.database_url.clone().unwrap_or(default_url),
            self.key_file.clone().unwrap_or(default_keys),
            self.audit_checkpoints.clone().unwrap_or(default_checkpoints),
        )
    }

    fn files_dir(&self) -> PathBuf {
        self.data_dir.join("files")
    }

    /// This server's search index (each server keeps its own).
    fn search_dir(&self) -> PathBuf {
        self.data_dir.join("search")
    }

    async fn open(&self) -> Result<Store> {
        // The data directory holds the database, the keys and the uploaded files: 0700.
        store::private::create_dir_all(&self.data_dir)
            .and_then(|()| store::private::restrict(&self.data_dir))
            .with_context(|| format!("creating {}", self.data_dir.display()))?;
        let (url, keys, checkpoints) = self.paths();
        Store::open(&url, &keys, &checkpoints)
            .await
            .context("opening the database")
    }
}

#[derive(Args, Clone)]
struct Listen {
    /// Address to listen on.
    #[arg(long, env = "HONGJI_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Mark the session cookie Secure (when served over HTTPS).
    #[arg(long, env = "HONGJI_SECURE_COOKIES")]
    secure_cookies: bool,
    /// How computed dues are rounded to the fen: `half_up` or `down` (there is no national rule).
    #[arg(long, env = "HONGJI_DUES_ROUNDING", default_value = "half_up", value_parser = parse_rounding)]
    dues_rounding: domain::dues::Rounding,
    /// Requests a minute from one client address (a campus behind one NAT shares it).
    #[arg(long, env = "HONGJI_RATE_PER_IP", default_value_t = 1200)]
    rate_per_ip: u32,
    /// Requests a minute from one signed-in account, all its sessions together.
    #[arg(long, env = "HONGJI_RATE_PER_ACCOUNT", default_value_t = 600)]
    rate_per_account: u32,
    /// Reveals, exports, imports, searches and check-in codes a minute, per address and per account.
    #[arg(long, env = "HONGJI_RATE_SENSITIVE", default_value_t = 60)]
    rate_sensitive: u32,
    /// Sign-in attempts a minute from one address.
    #[arg(long, env = "HONGJI_RATE_LOGIN", default_value_t = 20)]
    rate_login: u32,
    /// Remove audit entries older than this many days, daily (at least 184: network logs are
    /// kept six months, 网络安全法 Art. 21); left out, every entry is kept.
    #[arg(long, env = "HONGJI_AUDIT_RETENTION_DAYS")]
    audit_retention_days: Option<i64>,
    /// The bearer token that opens Prometheus metrics at `/metrics`; without it there are none.
    #[arg(long, env = "HONGJI_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// A reverse proxy whose X-Forwarded-For is believed (repeat, or comma-separated in the env).
    #[arg(long, env = "HONGJI_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxy: Vec<std::net::IpAddr>,
}

impl Listen {
    /// Settings that would break a rule are refused before anything is opened.
    fn check(&self) -> Result<()> {
        if let Some(days) = self
            .audit_retention_days
            .filter(|d| *d < store::audit::MIN_RETENTION_DAYS)
        {
            bail!(
                "--audit-retention-days {days} is too short: audit entries are kept at least {} days (网络安全法 Art. 21)",
                store::audit::MIN_RETENTION_DAYS
            );
        }
        Ok(())
    }
}

fn parse_rounding(s: &str) -> Result<domain::dues::Rounding, String> {
    domain::dues::Rounding::parse(s).ok_or_else(|| "expected half_up or down".into())
}

#[derive(Subcommand)]
enum Command {
    /// Serve the real data.
    Serve {
        #[command(flatten)]
        listen: Listen,
        #[command(flatten)]
        data: Data,
    },
    /// Create (if absent) and serve the demo: a university committee with ~1,500 members.
    Demo {
        #[command(flatten)]
        listen: Listen,
        #[command(flatten)]
        data: Data,
    },
    /// Import records from a file.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Export records to a file.
    Export {
        #[command(subcommand)]
        what: ExportWhat,
    },
    /// Fill the database with a national-shaped tree of generated members (for scale tests).
    Generate {
        #[arg(long)]
        members: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        data: Data,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        what: AuditWhat,
    },
    /// Copy the database (a consistent snapshot, while the server runs) and the uploaded files
    /// into a new folder, with a manifest of every table's rows. The key file is not copied:
    /// keep it apart.
    Backup {
        out: PathBuf,
        #[command(flatten)]
        data: Data,
    },
    /// Bring a backup back into the data directory (or --database-url) and verify it: the key
    /// file must be in place, then every table's rows and the audit chain are checked. Stop the
    /// server first.
    Restore {
        backup: PathBuf,
        /// Move a database and files already there aside instead of refusing.
        #[arg(long)]
        replace: bool,
        #[command(flatten)]
        data: Data,
    },
    /// The daily security watch.
    Security {
        #[command(subcommand)]
        what: SecurityWhat,
    },
    /// Accounts for a real deployment.
    Admin {
        #[command(subcommand)]
        what: AdminWhat,
    },
    /// Party dues.
    Dues {
        #[command(subcommand)]
        what: DuesWhat,
    },
    /// The search index.
    Search {
        #[command(subcommand)]
        what: SearchWhat,
    },
    /// Data quality (数据质量).
    Quality {
        #[command(subcommand)]
        what: QualityWhat,
    },
    /// Measure throughput and latency on generated data (see README).
    Bench(bench::BenchArgs),
}

#[derive(Subcommand)]
enum QualityWhat {
    /// Check every active member's stored record now (the server does this daily) and print what
    /// failed, by check; the reports and warnings follow at their next reading.
    Run {
        #[command(flatten)]
        data: Data,
    },
}

#[derive(Subcommand)]
enum SearchWhat {
    /// Rebuild this server's index from the database (stop the server first: it holds the index).
    Reindex {
        #[command(flatten)]
        data: Data,
    },
}

#[derive(Subcommand)]
enum DuesWhat {
    /// Write a month's ledger for every member with a base (the server does this on its own on
    /// the first day of each month).
    Generate {
        /// YYYY-MM; this month if left out.
        #[arg(long)]
        month: Option<String>,
        #[command(flatten)]
        data: Data,
    },
}

#[derive(Subcommand)]
enum ImportWhat {
    /// Members from XLSX or CSV (UTF-8 or GB18030). Checks every row first; imports all rows only
    /// if all are good, or with --good-only just the good ones.
    Members {
        file: PathBuf,
        #[arg(long)]
        good_only: bool,
        /// Check only; write nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        data: Data,
    },
}

#[derive(Subcommand)]
enum ExportWhat {
    /// The roster (all members, or a subtree) to XLSX or CSV, by the file's extension.
    Members {
        out: PathBuf,
        #[arg(long)]
        org_id: Option<i64>,
        #[command(flatten)]
        data: Data,
    },
}

#[derive(Subcommand)]
enum AuditWhat {
    /// Check the keyed chain against the checkpoint file; exits non-zero and names what is broken.
    Verify {
        #[command(flatten)]
        data: Data,
    },
    /// Append a checkpoint of the log now (the server does at start, daily and at shutdown).
    Checkpoint {
        #[command(flatten)]
        data: Data,
    },
}

#[derive(Subcommand)]
enum SecurityWhat {
    /// Write the security report for the 24 hours to 22:00 of a day (the server writes it at
    /// 22:00 Beijing time on its own); written again, a day's report is unacknowledged.
    Report {
        /// YYYY-MM-DD; the day whose report covers now if left out (after 22:00, tomorrow's).
        #[arg(long)]
        date: Option<String>,
        #[command(flatten)]
        data: Data,
    },
}

#[derive(Subcommand)]
enum AdminWhat {
    /// Create an account with one role. The password comes from HONGJI_NEW_PASSWORD or standard input.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "")]
        display_name: String,
        /// system_admin, security_admin, audit_admin, org_admin, secretary or viewer.
        #[arg(long)]
        role: String,
        /// The organization for org_admin, secretary and viewer.
        #[arg(long)]
        org_id: Option<i64>,
        #[command(flatten)]
        data: Data,
    },
}

fn lang() -> server::i18n::Lang {
    let l = std::env::var("HONGJI_LANG")
        .or_else(|_| std::env::var("LANG"))
        .unwrap_or_default();
    if l.starts_with("en") {
        server::i18n::Lang::En
    } else {
        server::i18n::Lang::Zh
    }
}

fn bar(len: u64) -> ProgressBar {
    let b = ProgressBar::new(len);
    b.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {per_sec} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    b
}

/// Settings from a file, below environment variables and flags: `HONGJI_CONFIG` names it, else
/// `./hongji.conf` is read if present. Lines are `HONGJI_NAME=value`; `#` starts a comment.
fn load_config_file() -> Result<()> {
    let (path, required) = match std::env::var_os("HONGJI_CONFIG") {
        Some(p) => (PathBuf::from(p), true),
        None => (PathBuf::from("hongji.conf"), false),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(_) if !required => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    for (n, line) in text.lines().enumerate().map(|(n, l)| (n + 1, l.trim())) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=').filter(|(k, _)| k.trim().starts_with("HONGJI_")) else {
            bail!("{}:{n}: expected HONGJI_NAME=value", path.display());
        };
        if std::env::var_os(key.trim()).is_none() {
            // Single-threaded here, before the runtime starts.
            unsafe { std::env::set_var(key.trim(), value.trim()) };
        }
    }
    Ok(())
}

fn main() -> Result<()> {
    load_config_file()?;
    tokio::runtime::Runtime::new()?.block_on(run())
}

async fn run() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HONGJI_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Serve { listen, data } => {
            listen.check()?;
            serve(listen, data.open().await?, false, &data).await
        }
        Command::Demo { listen, data } => {
            listen.check()?;
            let store = data.open().await?;
            if demo::ensure(&store).await? {
                println!("Created the demo in {}.", data.data_dir.display());
            }
            println!(
                "Demo accounts (password {}): admin, secadmin, auditor, committee, secretary, member",
                demo::DEMO_PASSWORD
            );
            serve(listen, store, true, &data).await
        }
        Command::Import {
            what:
                ImportWhat::Members {
                    file,
                    good_only,
                    dry_run,
                    data,
                },
        } => import_members(file, good_only, dry_run, data).await,
        Command::Export {
            what: ExportWhat::Members { out, org_id, data },
        } => export_members(out, org_id, data).await,
        Command::Generate { members, seed, data } => {
            let store = data.open().await?;
            let b = bar(members as u64);
            let start = std::time::Instant::now();
            generate::run(&store, members, seed, |n| b.set_position(n as u64)).await?;
            b.finish();
            let secs = start.elapsed().as_secs_f64();
            println!(
                "Generated {members} members in {secs:.1} s ({:.0} members/s).",
                members as f64 / secs
            );
            Ok(())
        }
        Command::Audit {
            what: AuditWhat::Verify { data },
        } => {
            let store = data.open().await?;
            match store::audit::verify(&store.db).await? {
                Ok(intact) => {
                    println!(
                        "audit log intact: {} entries, agreeing with {} checkpoints",
                        intact.entries - intact.pruned_through,
                        intact.checkpoints
                    );
                    if intact.pruned_through > 0 {
                        println!("entries 1–{} were removed by the retention", intact.pruned_through);
                    }
                    match intact.last_checkpoint {
                        Some(c) => println!(
                            "last checkpoint {} at entry {}: the {} entries after it are protected by the key alone",
                            c.at,
                            c.seq,
                            intact.entries - c.seq
                        ),
                        None => println!("no checkpoint yet: a log cut back at its end could not be told apart"),
                    }
                    Ok(())
                }
                Err(broken) => {
                    eprintln!("audit log BROKEN: {broken}");
                    std::process::exit(2);
                }
            }
        }
        Command::Audit {
            what: AuditWhat::Checkpoint { data },
        } => {
            let store = data.open().await?;
            let c = store::audit::checkpoint(&store.db).await?;
            println!("checkpoint written: {} entries at {}", c.seq, c.at);
            Ok(())
        }
        Command::Security {
            what: SecurityWhat::Report { date, data },
        } => security_report(date, data).await,
        Command::Backup { out, data } => {
            let store = data.open().await?;
            let (url, _, _) = data.paths();
            let m = store::backup::make(&store, &url, &data.files_dir(), &out).await?;
            println!(
                "backup written to {}: {} ({} rows in {} tables, {} audit entries, {} files of {} bytes)",
                out.display(),
                m.backend,
                m.tables.values().sum::<i64>(),
                m.tables.len(),
                m.audit_seq,
                m.files,
                m.file_bytes
            );
            println!("the key file is not in it: keep a copy of it apart from the backups");
            Ok(())
        }
        Command::Restore { backup, replace, data } => {
            store::private::create_dir_all(&data.data_dir)?;
            let (url, key_file, checkpoints) = data.paths();
            let files_dir = data.files_dir();
            let target = store::backup::Target {
                database_url: &url,
                key_file: &key_file,
                checkpoints: &checkpoints,
                files_dir: &files_dir,
                replace,
            };
            let r = store::backup::restore(&backup, target).await?;
            println!(
                "restored the backup of {}: {} rows in {} tables agree with its manifest; audit log intact ({} entries)",
                r.manifest.made_at,
                r.manifest.tables.values().sum::<i64>(),
                r.manifest.tables.len(),
                r.audit_entries
            );
            if let Some(c) = r.after_backup {
                println!(
                    "the log had reached entry {} by {}: entries {}–{} were made after the backup and are not in it",
                    c.seq,
                    c.at,
                    r.manifest.audit_seq + 1,
                    c.seq
                );
            }
            for p in r.moved_aside {
                println!("moved aside: {}", p.display());
            }
            Ok(())
        }
        Command::Admin {
            what:
                AdminWhat::CreateUser {
                    username,
                    display_name,
                    role,
                    org_id,
                    data,
                },
        } => create_user(username, display_name, role, org_id, data).await,
        Command::Dues {
            what: DuesWhat::Generate { month, data },
        } => {
            let month = match month {
                Some(m) => domain::dues::Month::parse(&m).with_context(|| format!("not a month (YYYY-MM): {m}"))?,
                None => domain::dues::Month::of(store::clock::today()),
            };
            let store = data.open().await?;
            let start = std::time::Instant::now();
            let rows = store::dues::ledger::generate_month(&store.db, month).await?;
            println!(
                "Wrote {rows} ledger rows for {month} in {:.1} s.",
                start.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Search {
            what: SearchWhat::Reindex { data },
        } => {
            let store = data.open().await?;
            let index = store::search::SearchIndex::at(&data.search_dir())
                .map_err(|e| anyhow::anyhow!("opening the search index (is the server running? stop it first): {e}"))?;
            let start = std::time::Instant::now();
            index.clear()?;
            let n = index.catch_up(&store.db).await?;
            println!(
                "Search index rebuilt from {n} changes in {:.1} s.",
                start.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Quality {
            what: QualityWhat::Run { data },
        } => {
            let store = data.open().await?;
            let start = std::time::Instant::now();
            let run = store::quality::run(&store.db, &store.keys).await?;
            // Every member's ID number was opened (in memory only): the run by hand is on record.
            store::audit::append_alone(
                &store.db,
                &store::Caller::system("quality"),
                store::audit::Event::ok("quality.run", "members", "")
                    .with_detail(format!("checked={} failures={}", run.checked, run.failures)),
            )
            .await?;
            println!(
                "Checked {} active members in {:.1} s: {} failures, {} people recorded twice.",
                run.checked,
                start.elapsed().as_secs_f64(),
                run.failures,
                run.duplicates
            );
            Ok(())
        }
        Command::Bench(args) => bench::run(args).await,
    }
}

async fn serve(listen: Listen, store: Store, demo: bool, data: &Data) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(&listen.listen)
        .await
        .with_context(|| format!("listening on {}", listen.listen))?;
    let mut state = server::AppState::new(store, demo);
    state.secure_cookies = listen.secure_cookies;
    state.dues_rounding = listen.dues_rounding;
    state.files_dir = data.files_dir();
    state.search = std::sync::Arc::new(
        store::search::SearchIndex::at(&data.search_dir())
            .map_err(|e| anyhow::anyhow!("opening the search index: {e}"))?,
    );
    // The index catches up with the database's changes in the background (a new index: all of them).
    let (search, db) = (state.search.clone(), state.store.db.clone());
    tokio::spawn(async move {
        match search.catch_up(&db).await {
            Ok(n) if n > 0 => tracing::info!(changes = n, "search index caught up"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "search index could not catch up"),
        }
    });
    state.audit_retention_days = listen.audit_retention_days;
    state.metrics_token = listen.metrics_token.clone().filter(|t| !t.trim().is_empty());
    state.limits = std::sync::Arc::new(server::limits::Limits::new(server::limits::Settings {
        per_ip: listen.rate_per_ip,
        per_account: listen.rate_per_account,
        sensitive: listen.rate_sensitive,
        login: listen.rate_login,
        trusted_proxies: listen.trusted_proxy,
    }));
    println!("Hongji is serving on http://{}", listener.local_addr()?);
    server::serve(listener, state).await?;
    Ok(())
}

async fn import_members(file: PathBuf, good_only: bool, dry_run: bool, data: Data) -> Result<()> {
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let lang = lang();
    let rows = server::sheets::members::read(&bytes)
        .map_err(|e| anyhow::anyhow!(server::i18n::t(lang, &format!("err.{e}"))))?;
    let store = data.open().await?;
    let caller = Caller::system("import");
    let plan = store::import::plan(&store.db, &store.keys, &caller, rows).await?;
    for p in &plan.problems {
        eprintln!(
            "{}:{}: {}",
            file.display(),
            p.line,
            server::i18n::field_error(lang, &p.field, &p.code)
        );
    }
    println!(
        "{} rows: {} good, {} with problems",
        plan.rows,
        plan.good.len(),
        plan.bad_lines()
    );
    if dry_run {
        return Ok(());
    }
    if !plan.problems.is_empty() && !good_only {
        bail!("nothing imported: fix the rows above, or pass --good-only to import only the good rows");
    }
    let b = bar(plan.good.len() as u64);
    let n = store::import::commit(&store.db, &store.keys, &caller, &plan.good, &|done, _| {
        b.set_position(done as u64)
    })
    .await?;
    b.finish();
    println!("imported {n} members");
    Ok(())
}

async fn export_members(out: PathBuf, org_id: Option<i64>, data: Data) -> Result<()> {
    let store = data.open().await?;
    let caller = Caller::system("export");
    let filter = store::members::MemberFilter {
        org_id,
        ..Default::default()
    };
    let xlsx = out.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    let rows = store::members::export(
        &store.db,
        &store.keys,
        &caller,
        &filter,
        if xlsx { "xlsx" } else { "csv" },
    )
    .await?;
    let bytes = if xlsx {
        server::sheets::members::write_xlsx(&rows)?
    } else {
        server::sheets::members::write_csv(&rows)
    };
    std::fs::write(&out, bytes).with_context(|| format!("writing {}", out.display()))?;
    println!("exported {} members to {}", rows.len(), out.display());
    Ok(())
}

async fn create_user(
    username: String,
    display_name: String,
    role: String,
    org_id: Option<i64>,
    data: Data,
) -> Result<()> {
    let role = Role::parse(&role).with_context(|| format!("unknown role {role}"))?;
    let password = match std::env::var("HONGJI_NEW_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            eprintln!("Password for {username} (then Enter):");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    let store = data.open().await?;
    let caller = Caller::system("admin");
    let new = store::accounts::NewUser {
        username: username.clone(),
        display_name,
        phone: None,
        password,
        member_id: None,
    };
    let user = store::accounts::create_user(&store.db, &store.keys, &caller, &new, false)
        .await
        .map_err(|e| describe(e, lang()))?;
    let grantor = Caller::system_as("admin", Role::SecurityAdmin);
    store::accounts::grant(&store.db, &grantor, user.id, role, org_id)
        .await
        .map_err(|e| describe(e, lang()))?;
    println!("created {username} ({})", role.as_str());
    Ok(())
}

fn describe(e: store::Error, lang: server::i18n::Lang) -> anyhow::Error {
    anyhow::anyhow!(server::error::Failure::from(e).message(lang))
}

async fn security_report(date: Option<String>, data: Data) -> Result<()> {
    let on = match date {
        Some(d) => domain::member::parse_date(&d).with_context(|| format!("{d}: expected YYYY-MM-DD"))?,
        None => store::security::report_day(store::clock::now()),
    };
    let store = data.open().await?;
    let report = store::security::write(&store.db, &Caller::system("security"), on).await?;
    let figures = report.figures.as_ref().context("the report has its figures")?;
    println!(
        "security report {} ({} – {}), id {}",
        report.report_on, report.window_from, report.window_to, report.id
    );
    match &figures.chain.problem {
        None => println!("audit chain: intact, {} entries", figures.chain.entries),
        Some(p) => println!("audit chain: BROKEN: {p}"),
    }
    for c in &figures.counts {
        let mark = if c.unusual { "  UNUSUAL" } else { "" };
        println!(
            "{:>16}: {:>6}  (30-day daily average {:.1}){mark}",
            c.what, c.count, c.daily_average
        );
    }
    println!(
        "grant changes: {}, pending grants: {}, new accounts: {}, backups: {}",
        figures.grant_changes.len(),
        figures.pending_grants.len(),
        figures.new_accounts.len(),
        figures.backups.len()
    );
    match &figures.last_backup {
        Some(b) => println!("last backup: {} {}", b.at, b.detail),
        None => println!("last backup: never"),
    }
    if figures.incidents.is_empty() {
        println!("no incidents");
    }
    for i in &figures.incidents {
        println!(
            "INCIDENT {}{}: {}",
            i.kind,
            i.what.as_deref().map(|w| format!(" ({w})")).unwrap_or_default(),
            i.detail
        );
    }
    Ok(())
}
