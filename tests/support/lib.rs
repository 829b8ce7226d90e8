//! Helpers shared by the integration tests: fresh stores of either kind.

use std::sync::Arc;

use soraaya_store::{DynamoDbStore, EmbeddedStore, ItemStore, TableDef};

pub use soraaya_emulator::{emulator_client, emulator_endpoint, emulator_queue};

/// A store on freshly created emulator tables (a unique prefix per call), or
/// `None` when no emulator runs.
pub async fn dynamodb_store(tables: &[&TableDef]) -> Option<Arc<dyn ItemStore>> {
    let endpoint = emulator_endpoint()?;
    let client = emulator_client(&endpoint).await;
    let prefix = format!("t{}-", uuid::Uuid::new_v4().simple());
    soraaya_store::create_tables(&client, &prefix, tables)
        .await
        .expect("create emulator tables");
    Some(Arc::new(DynamoDbStore::new(client, prefix)))
}

/// A fresh embedded store, in memory: the tests that use it test behaviour,
/// not durability (the store's own suite and the process tests do that).
pub fn embedded_store() -> Arc<dyn ItemStore> {
    Arc::new(EmbeddedStore::in_memory().expect("open embedded store"))
}

/// A fresh embedded store in a temporary file, durable as `soraaya serve`'s.
/// The file is unlinked at once; the open handle keeps it alive for the life
/// of the store.
pub fn embedded_file_store() -> Arc<dyn ItemStore> {
    let dir = tempfile::tempdir().expect("temp dir");
    Arc::new(EmbeddedStore::open(dir.path().join("store.redb")).expect("open embedded store"))
}

mod api;
pub mod calling;
pub mod events;
pub mod fake_vapi;
pub mod jobs;
pub use api::{PUBLIC_URL, TestApp, TestResponse, start_time};
