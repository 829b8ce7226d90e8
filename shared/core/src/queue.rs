//! The dial queue port: SQS on AWS, an in-process queue locally, both
//! at-least-once. A message asks the dialer to make one attempt on one lead.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use soraaya_domain::{CampaignId, LeadId, OrgId};

/// Dial this lead, for this attempt, in this campaign.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DialMessage {
    pub org_id: OrgId,
    pub lead_id: LeadId,
    pub campaign_id: CampaignId,
    pub attempt: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("the dial queue refused the messages")]
    Send(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("no dial queue is configured (SORAAYA_DIAL_QUEUE_URL)")]
    Unconfigured,
}

#[async_trait]
pub trait DialQueue: Send + Sync + 'static {
    /// Sends messages, each deliverable after its delay (at most 15 minutes).
    async fn send(&self, messages: &[(DialMessage, Duration)]) -> Result<(), QueueError>;
}

/// Longest delay a message may carry (SQS's limit).
pub const MAX_DELAY: Duration = Duration::from_secs(900);

/// A message as the dialer receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    pub body: String,
    /// How many times it has been received, this time included.
    pub receive_count: u32,
}

/// What to do with a received message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Handled (or nothing to do): delete it.
    Done,
    /// Deliver it again after this long.
    RetryAfter(Duration),
}

/// A queue for functions that never dial.
pub struct NoQueue;

#[async_trait]
impl DialQueue for NoQueue {
    async fn send(&self, _: &[(DialMessage, Duration)]) -> Result<(), QueueError> {
        Err(QueueError::Unconfigured)
    }
}
