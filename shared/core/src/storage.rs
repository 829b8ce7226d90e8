//! Choosing and opening the item store: the embedded file locally, DynamoDB on AWS.

use std::path::PathBuf;
use std::sync::Arc;

use soraaya_store::{DynamoDbStore, EmbeddedStore, ItemStore, StoreError};

use crate::config::{AwsService, AwsSettings, ProcessEnv};

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
        aws_sdk_dynamodb::Client::new(&service_config(&config.aws, AwsService::DynamoDb).await),
        config.table_prefix.clone(),
    ))
}

/// The AWS configuration for one service of a deployed function: the
/// standard chain (credentials, region) with what `settings` says. An
/// endpoint override without credentials (an emulator) gets dummy
/// credentials, and `us-east-1` when no region is set.
pub async fn service_config(settings: &AwsSettings, service: AwsService) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(region) = &settings.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(endpoint) = settings.endpoint_of(service) {
        loader = loader.endpoint_url(endpoint);
        if !settings.has_credentials {
            loader = loader.credentials_provider(emulator_credentials());
        }
        if settings.region.is_none() {
            loader = loader.region(aws_config::Region::new("us-east-1"));
        }
    }
    loader.load().await
}

fn emulator_credentials() -> aws_sdk_dynamodb::config::Credentials {
    aws_sdk_dynamodb::config::Credentials::new("local", "local", None, None, "soraaya-local")
}

/// The AWS configuration of the local tools (the CLI, tests): the process
/// environment, with an explicit endpoint first.
pub async fn aws_config(endpoint: Option<String>) -> aws_config::SdkConfig {
    let mut settings = AwsSettings::from_vars(&ProcessEnv);
    if endpoint.is_some() {
        settings.endpoint = endpoint;
        settings.dynamodb_endpoint = None;
        settings.sqs_endpoint = None;
        settings.s3_endpoint = None;
    }
    service_config(&settings, AwsService::DynamoDb).await
}

/// A DynamoDB client for the local tools: an explicit endpoint, or the
/// process environment's.
pub async fn dynamodb_client(endpoint: Option<&str>) -> aws_sdk_dynamodb::Client {
    let mut settings = AwsSettings::from_vars(&ProcessEnv);
    if let Some(endpoint) = endpoint {
        settings.dynamodb_endpoint = Some(endpoint.to_owned());
    }
    aws_sdk_dynamodb::Client::new(&service_config(&settings, AwsService::DynamoDb).await)
}
