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

/// The SES identity `identity` (a domain or an address) verified on the
/// emulator, as an operator verifies it before deploying.
pub async fn emulator_ses_identity(endpoint: &str, identity: &str) {
    aws_sdk_sesv2::Client::new(&config(endpoint).await)
        .create_email_identity()
        .email_identity(identity)
        .send()
        .await
        .expect("verify the SES identity on the emulator");
}

/// A message SES on the emulator was asked to send.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SentEmail {
    pub source: String,
    pub destinations: std::collections::BTreeMap<String, Vec<String>>,
    pub subject: String,
    /// The HTML part when there is one (the emulator keeps one part).
    pub body: String,
}

/// Every message SES on the emulator was asked to send to `to`, oldest
/// first (`infra/moto_server.py` lists them).
pub async fn emulator_sent_email(endpoint: &str, to: &str) -> Vec<SentEmail> {
    let all: Vec<SentEmail> = reqwest::get(format!("{endpoint}/moto-api/ses/sent-messages"))
        .await
        .expect("reach the emulator")
        .json()
        .await
        .expect("the emulator's sent messages");
    all.into_iter()
        .filter(|m| {
            m.destinations
                .get("ToAddresses")
                .is_some_and(|a| a.iter().any(|a| a.eq_ignore_ascii_case(to)))
        })
        .collect()
}
