//! The calling engine: dial queue, voice provider, dialer, webhooks, outcomes,
//! scheduler, and the local runtime that runs them in one process.

pub mod assistant;
pub mod control;
pub mod dialer;
pub mod ending;
pub mod local;
pub mod outcome;
pub mod queue;
pub mod records;
pub mod scheduler;
pub mod simulator;
pub mod sqs;
pub mod status;
pub mod vapi;
pub mod voice;
pub mod webhooks;

use crate::config::{CallingConfig, ConfigError, Secret};

fn required(name: &'static str) -> Result<String, ConfigError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or(ConfigError::Missing(name))
}

/// The VAPI client from `SORAAYA_VAPI_API_KEY`, `SORAAYA_VAPI_PHONE_NUMBER_ID`,
/// `SORAAYA_PUBLIC_URL` and `SORAAYA_VAPI_WEBHOOK_SECRET` (and
/// `SORAAYA_VAPI_BASE_URL`, default `https://api.vapi.ai`).
pub fn vapi_from_env(calling: &CallingConfig) -> Result<vapi::VapiVoice, ConfigError> {
    let public_url = calling
        .public_url
        .clone()
        .ok_or(ConfigError::Missing("SORAAYA_PUBLIC_URL"))?;
    let config = vapi::VapiConfig {
        base_url: std::env::var("SORAAYA_VAPI_BASE_URL")
            .unwrap_or_else(|_| "https://api.vapi.ai".to_owned()),
        api_key: Secret::new(required("SORAAYA_VAPI_API_KEY")?),
        phone_number_id: required("SORAAYA_VAPI_PHONE_NUMBER_ID")?,
        server_url: format!("{public_url}/api/v1/webhooks/vapi"),
        server_secret: calling
            .vapi_webhook_secret
            .clone()
            .ok_or(ConfigError::Missing("SORAAYA_VAPI_WEBHOOK_SECRET"))?,
    };
    vapi::VapiVoice::new(config).map_err(|err| ConfigError::Invalid {
        name: "SORAAYA_VAPI_BASE_URL",
        reason: err.to_string(),
    })
}

/// The SQS dial queue at `SORAAYA_DIAL_QUEUE_URL`.
pub async fn sqs_queue_from_env() -> Result<queue::SqsQueue, ConfigError> {
    let url = required("SORAAYA_DIAL_QUEUE_URL")?;
    Ok(queue::SqsQueue::new(
        crate::storage::sqs_client(None).await,
        url,
    ))
}

/// What can go wrong in the calling engine.
#[derive(Debug, thiserror::Error)]
pub enum CallingError {
    #[error("campaign not found")]
    CampaignNotFound,
    #[error(transparent)]
    CampaignAction(#[from] soraaya_domain::CampaignActionError),
    #[error(transparent)]
    Transition(#[from] soraaya_domain::TransitionError),
    #[error(transparent)]
    Queue(#[from] queue::QueueError),
    #[error(transparent)]
    Lead(#[from] crate::leads::service::LeadError),
    #[error(transparent)]
    Account(#[from] crate::accounts::AccountError),
    #[error(transparent)]
    Store(#[from] soraaya_store::StoreError),
}
