//! Decides which optional parts of the integration tests run, so that a part that cannot run is
//! reported as ignored (with the reason) instead of passing without doing anything:
//! - `hongji_pg`: `HONGJI_TEST_PG_URL` is set, so the PostgreSQL variants run;
//! - `hongji_browser`: Debian's chromedriver is installed, so the browser tests run;
//! - `hongji_axe`: `HONGJI_AXE` names axe-core's `axe.min.js`, so every page the browser tests open
//!   is checked for accessibility.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(hongji_pg)");
    println!("cargo::rustc-check-cfg=cfg(hongji_browser)");
    println!("cargo::rustc-check-cfg=cfg(hongji_axe)");
    println!("cargo::rerun-if-env-changed=HONGJI_AXE");
    if std::env::var("HONGJI_AXE").is_ok_and(|p| std::path::Path::new(&p).is_file()) {
        println!("cargo::rustc-cfg=hongji_axe");
    }
    println!("cargo::rerun-if-env-changed=HONGJI_TEST_PG_URL");
    if std::env::var("HONGJI_TEST_PG_URL").is_ok_and(|u| !u.is_empty()) {
        println!("cargo::rustc-cfg=hongji_pg");
    }
    let drivers = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"];
    // A missing file would rerun this on every build: watch the folder the package installs into.
    println!("cargo::rerun-if-changed=/usr/bin");
    if drivers.iter().any(|d| std::path::Path::new(d).exists()) {
        println!("cargo::rustc-cfg=hongji_browser");
    }
}
