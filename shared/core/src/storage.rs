//! Choosing and opening the item store: the embedded file locally, DynamoDB on AWS.

use std::path::PathBuf;
use std::sync::Arc;

use soraaya_store::{DynamoDbStore, EmbeddedStore, ItemStore, StoreError};

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_dynamodb::config::BehaviorVersion;
use aws_types::SdkConfig;
use aws_types::region::Region;

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

/// The AWS configuration for one service: the region and credentials of
/// `settings` (the environment's, as Lambda gives them), with its endpoint
/// override. An endpoint without credentials (an emulator) gets dummy
/// credentials, and `us-east-1` when no region is set.
///
/// Built here rather than by `aws-config`'s provider chain: on Lambda that
/// chain ends at its first link, the environment, and it brings STS, SSO,
/// IMDS and profile parsing into every function (about 1 MB each). The HTTP
/// client, retries, timeouts, sleep and identity cache are the SDK's
/// defaults for the latest behaviour version, as with `aws-config`.
pub async fn service_config(settings: &AwsSettings, service: AwsService) -> SdkConfig {
    use secrecy::ExposeSecret;
    let mut config = SdkConfig::builder().behavior_version(BehaviorVersion::latest());
    let endpoint = settings.endpoint_of(service);
    let region = settings
        .region
        .clone()
        .or_else(|| endpoint.map(|_| "us-east-1".to_owned()));
    if let Some(region) = region {
        config = config.region(Region::new(region));
    }
    if let Some(endpoint) = endpoint {
        config = config.endpoint_url(endpoint);
    }
    let credentials = match &settings.credentials {
        Some(keys) => Some(Credentials::new(
            keys.access_key_id.clone(),
            keys.secret_access_key.expose_secret().to_owned(),
            keys.session_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            None,
            "environment",
        )),
        None => endpoint.map(|_| emulator_credentials()),
    };
    if let Some(credentials) = credentials {
        config = config.credentials_provider(SharedCredentialsProvider::new(credentials));
    }
    config.build()
}

fn emulator_credentials() -> Credentials {
    Credentials::new("local", "local", None, None, "soraaya-local")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AwsCredentials;
    use aws_credential_types::provider::ProvideCredentials;

    #[tokio::test]
    async fn a_function_calls_aws_with_the_environments_region_and_credentials() {
        let settings = AwsSettings {
            region: Some("ap-south-1".into()),
            credentials: Some(AwsCredentials {
                access_key_id: "ASIAEXAMPLE".into(),
                secret_access_key: "secret".to_owned().into(),
                session_token: Some("token".to_owned().into()),
            }),
            ..AwsSettings::default()
        };
        let config = service_config(&settings, AwsService::DynamoDb).await;
        assert_eq!(config.region().map(|r| r.as_ref()), Some("ap-south-1"));
        assert_eq!(config.endpoint_url(), None);
        let credentials = config
            .credentials_provider()
            .expect("credentials")
            .provide_credentials()
            .await
            .expect("credentials");
        assert_eq!(credentials.access_key_id(), "ASIAEXAMPLE");
        assert_eq!(credentials.session_token(), Some("token"));

        let emulator = AwsSettings {
            endpoint: Some("http://127.0.0.1:5055".into()),
            ..AwsSettings::default()
        };
        let config = service_config(&emulator, AwsService::Sqs).await;
        assert_eq!(config.region().map(|r| r.as_ref()), Some("us-east-1"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:5055"));
        let credentials = config
            .credentials_provider()
            .expect("dummy credentials")
            .provide_credentials()
            .await
            .expect("credentials");
        assert_eq!(credentials.access_key_id(), "local");
    }
}
