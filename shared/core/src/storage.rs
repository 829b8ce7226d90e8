//! Choosing and opening the item store: the embedded file locally, DynamoDB on AWS.

use std::path::PathBuf;
use std::sync::Arc;

use soraaya_store::{DynamoDbStore, EmbeddedStore, ItemStore, StoreError};

/// Where items live.
#[derive(Debug, Clone)]
pub enum StoreChoice {
    /// One redb file.
    Embedded(PathBuf),
    /// DynamoDB tables named `{table_prefix}{table}`; the endpoint overrides AWS's
    /// (for an emulator), otherwise `AWS_ENDPOINT_URL_DYNAMODB` or AWS itself is used.
    DynamoDb {
        table_prefix: String,
        endpoint: Option<String>,
    },
}

pub async fn open(choice: &StoreChoice) -> Result<Arc<dyn ItemStore>, StoreError> {
    Ok(match choice {
        StoreChoice::Embedded(path) => Arc::new(EmbeddedStore::open(path)?),
        StoreChoice::DynamoDb {
            table_prefix,
            endpoint,
        } => Arc::new(DynamoDbStore::new(
            dynamodb_client(endpoint.as_deref()).await,
            table_prefix.clone(),
        )),
    })
}

/// The DynamoDB tables of a deployed function, named with its table prefix.
pub async fn deployed_store(config: &crate::Config) -> Arc<dyn ItemStore> {
    Arc::new(DynamoDbStore::new(
        dynamodb_client(None).await,
        config.table_prefix.clone(),
    ))
}

/// The shared AWS configuration, for any service's client; an explicit or
/// environment endpoint override without credentials (an emulator) gets dummy
/// credentials and `us-east-1`.
pub async fn aws_config(endpoint: Option<String>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(endpoint) = &endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    if endpoint.is_some() || std::env::var("AWS_ENDPOINT_URL").is_ok() {
        if std::env::var("AWS_ACCESS_KEY_ID").is_err() {
            loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "local",
                "local",
                None,
                None,
                "soraaya-local",
            ));
        }
        if std::env::var("AWS_REGION").is_err() && std::env::var("AWS_DEFAULT_REGION").is_err() {
            loader = loader.region(aws_config::Region::new("us-east-1"));
        }
    }
    loader.load().await
}

/// A DynamoDB client from the standard AWS configuration chain. For an explicit
/// or environment endpoint override without credentials (an emulator), dummy
/// credentials and `us-east-1` are filled in.
pub async fn dynamodb_client(endpoint: Option<&str>) -> aws_sdk_dynamodb::Client {
    let endpoint = endpoint
        .map(str::to_owned)
        .or_else(|| std::env::var("AWS_ENDPOINT_URL_DYNAMODB").ok())
        .filter(|e| !e.is_empty());
    aws_sdk_dynamodb::Client::new(&aws_config(endpoint).await)
}
