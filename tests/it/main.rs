//! The one integration-test binary: the real server over SQLite (always) and PostgreSQL (when
//! HONGJI_TEST_PG_URL is set), the command line, and a browser.

mod support;

mod accounts;
mod audit;
mod browser;
mod cli;
mod dashboard;
mod development;
mod dues;
mod import_export;
mod life;
mod links;
mod members;
mod notices;
mod orgs;
mod pick;
mod quality;
mod schema;
mod scope;
mod security;
mod study;
mod study_exams;
mod study_import;
mod todo;
mod transfers;
mod warnings;
