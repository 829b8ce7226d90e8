//! Helpers shared by the integration tests: fresh stores of either kind.

use std::sync::Arc;

use soraaya_store::{DynamoDbStore, EmbeddedStore, ItemStore, TableDef};

/// The DynamoDB emulator the README test command started, if any.
///
/// With `SORAAYA_REQUIRE_EMULATOR=1` (set by that command) a missing emulator
/// fails the test instead of skipping it.
pub fn emulator_endpoint() -> Option<String> {
    match std::env::var("SORAAYA_TEST_DYNAMODB_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => Some(endpoint),
        _ => {
            assert!(
                std::env::var("SORAAYA_REQUIRE_EMULATOR").as_deref() != Ok("1"),
                "SORAAYA_REQUIRE_EMULATOR=1 but SORAAYA_TEST_DYNAMODB_ENDPOINT is not set"
            );
            eprintln!("skipped: no DynamoDB emulator (run the README test command)");
            None
        }
    }
}

/// A DynamoDB client for the emulator, with dummy credentials.
pub async fn emulator_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test",
            "test",
            None,
            None,
            "soraaya-tests",
        ))
        .load()
        .await;
    aws_sdk_dynamodb::Client::new(&config)
}

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
pub use api::{TestApp, TestResponse, start_time};
