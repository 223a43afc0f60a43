//! The two migration folders describe the same tables and columns.

use crate::support::{App, Backend};
use store::db::Q;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(not(hongji_pg), ignore = "PostgreSQL: set HONGJI_TEST_PG_URL")]
async fn sqlite_and_postgres_schemas_match() {
    let pg = App::start(Backend::Postgres).await;
    let lite = App::start(Backend::Sqlite).await;
    let pg_cols: Vec<(String, String)> = pg
        .store
        .db
        .all(Q::new("SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2"))
        .await
        .unwrap();
    let lite_cols: Vec<(String, String)> = lite
        .store
        .db
        .all(Q::new("SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY 1, 2"))
        .await
        .unwrap();
    let (mut pg_cols, mut lite_cols) = (pg_cols, lite_cols);
    pg_cols.sort();
    lite_cols.sort();
    assert_eq!(pg_cols, lite_cols);
}
