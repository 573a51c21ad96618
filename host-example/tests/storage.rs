//! The storage conformance suite on SQLite (the PostgreSQL run is in
//! `postgres.rs`).

mod common;

use std::sync::Arc;

use tessera_host::db::Db;

#[test]
fn sqlite_passes_the_storage_conformance_suite() {
    let dir = common::temp_dir("conformance");
    let db = Db::connect(&common::sqlite(&dir)).expect("SQLite");
    common::conformance::run(Arc::new(db));
}

#[test]
fn an_in_memory_sqlite_passes_too() {
    common::conformance::run(Arc::new(Db::in_memory().expect("SQLite")));
}
