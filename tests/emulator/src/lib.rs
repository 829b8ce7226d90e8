//! The AWS emulator (moto) the README test command starts: where it is,
//! clients for it with dummy credentials, fresh queues on it, and (in
//! [`deployed`]) a deployment of `template.yaml` on it for one function.
//! Kept apart from the other test helpers so that a function's own tests can
//! use it without linking the local-only crates.

pub mod deployed;

/// The emulator the README test command started, if any.
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

async fn config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
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
        .await
}

/// A DynamoDB client for the emulator.
pub async fn emulator_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&config(endpoint).await)
}

/// A fresh SQS queue on the emulator, or `None` when none runs.
pub async fn emulator_queue() -> Option<(aws_sdk_sqs::Client, String)> {
    let endpoint = emulator_endpoint()?;
    let client = aws_sdk_sqs::Client::new(&config(&endpoint).await);
    let name = format!("q-{}", uuid::Uuid::new_v4().simple());
    let url = client
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("create the emulator queue")
        .queue_url
        .expect("queue url");
    Some((client, url))
}

/// An S3 client for the emulator (path-style: the emulator has no bucket host names).
pub async fn emulator_s3(endpoint: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(&config(endpoint).await)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// A fresh bucket on the emulator, or `None` when none runs.
pub async fn emulator_bucket() -> Option<String> {
    let endpoint = emulator_endpoint()?;
    let name = format!("b-{}", uuid::Uuid::new_v4().simple());
    emulator_s3(&endpoint)
        .await
        .create_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("create the emulator bucket");
    Some(name)
}
