//! The calling engine: campaign control (queueing, starting, pausing, calling
//! now), the dialer, VAPI (the voice adapter and its messages), webhooks,
//! the end of a call, the scheduler, live status, and the SQS dial queue.

pub mod assistant;
pub mod call_now;
pub mod control;
pub mod dialer;
pub mod ending;
pub mod follow_up;
pub mod line;
pub mod membership;
pub mod privacy;
pub mod records;
pub mod scheduler;
pub mod sqs;
pub mod status;
pub mod vapi;
pub mod webhooks;

use soraaya_campaigns::CampaignError;

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
    Queue(#[from] soraaya_core::queue::QueueError),
    #[error(transparent)]
    Campaign(#[from] CampaignError),
    #[error(transparent)]
    Lead(#[from] soraaya_leads::service::LeadError),
    #[error(transparent)]
    Account(#[from] soraaya_accounts::AccountError),
    #[error(transparent)]
    Notification(#[from] soraaya_notifications::NotificationError),
    #[error(transparent)]
    Store(#[from] soraaya_store::StoreError),
}

impl From<soraaya_core::records::RecordError> for CallingError {
    fn from(err: soraaya_core::records::RecordError) -> Self {
        match err {
            soraaya_core::records::RecordError::NotFound(_) => CallingError::CampaignNotFound,
            soraaya_core::records::RecordError::Store(err) => CallingError::Store(err),
            other => CallingError::Campaign(other.into()),
        }
    }
}
