//! The dial queue port: SQS on AWS, an in-process queue locally, both
//! at-least-once. A message asks the dialer to make one attempt on one lead.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use soraaya_domain::{CampaignId, LeadId, OrgId};

use crate::clock::Clock;

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

/// A queue in this process, scheduled on the service clock (so that tests
/// control time). Delivered messages that are neither done nor retried come
/// back after the visibility timeout, as with SQS.
/// A message waiting: when it may be delivered, order sent, id, body, receive count.
type Waiting = Reverse<(Timestamp, u64, String, String, u32)>;

pub struct LocalQueue {
    clock: Arc<dyn Clock>,
    pending: Mutex<BinaryHeap<Waiting>>,
    sequence: AtomicU64,
    sent: AtomicU64,
}

impl LocalQueue {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        LocalQueue {
            clock,
            pending: Mutex::new(BinaryHeap::new()),
            sequence: AtomicU64::new(0),
            sent: AtomicU64::new(0),
        }
    }

    fn push(&self, at: Timestamp, id: String, body: String, receive_count: u32) {
        let seq = self.sequence.fetch_add(1, Ordering::Relaxed);
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Reverse((at, seq, id, body, receive_count)));
    }

    /// Up to `max` messages whose delay is over, oldest first.
    pub fn receive(&self, max: usize) -> Vec<Delivery> {
        let now = self.clock.now();
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::new();
        while out.len() < max {
            match pending.peek() {
                Some(Reverse((at, ..))) if *at <= now => {}
                _ => break,
            }
            if let Some(Reverse((_, _, id, body, count))) = pending.pop() {
                out.push(Delivery {
                    id,
                    body,
                    receive_count: count + 1,
                });
            }
        }
        out
    }

    /// Puts a received message back, deliverable after `delay`.
    pub fn requeue(&self, delivery: Delivery, delay: Duration) {
        let at = self.clock.now() + SignedDuration::try_from(delay).unwrap_or(SignedDuration::ZERO);
        self.push(at, delivery.id, delivery.body, delivery.receive_count);
    }

    /// Messages waiting, deliverable or not.
    pub fn len(&self) -> usize {
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// When the next waiting message becomes deliverable.
    pub fn next_due(&self) -> Option<Timestamp> {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .peek()
            .map(|Reverse((at, ..))| *at)
    }

    /// Messages sent since the queue was made.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl DialQueue for LocalQueue {
    async fn send(&self, messages: &[(DialMessage, Duration)]) -> Result<(), QueueError> {
        for (message, delay) in messages {
            let body = serde_json::to_string(message).map_err(|e| QueueError::Send(Box::new(e)))?;
            let id = uuid::Uuid::new_v4().to_string();
            let at = self.clock.now()
                + SignedDuration::try_from((*delay).min(MAX_DELAY)).unwrap_or(SignedDuration::ZERO);
            self.push(at, id, body, 0);
            self.sent.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// Amazon SQS.
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        SqsQueue {
            client,
            url: url.into(),
        }
    }

    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.client
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

#[async_trait]
impl DialQueue for SqsQueue {
    async fn send(&self, messages: &[(DialMessage, Duration)]) -> Result<(), QueueError> {
        use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
        for chunk in messages.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, (message, delay))| {
                    let body = serde_json::to_string(message)
                        .map_err(|e| QueueError::Send(Box::new(e)))?;
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(body)
                        .delay_seconds(i32::try_from(delay.min(&MAX_DELAY).as_secs()).unwrap_or(0))
                        .build()
                        .map_err(|e| QueueError::Send(Box::new(e)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let output = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| QueueError::Send(Box::new(e)))?;
            if !output.failed().is_empty() {
                let ids: Vec<&str> = output.failed().iter().map(|f| f.id()).collect();
                return Err(QueueError::Send(
                    format!("SQS refused batch entries {ids:?}").into(),
                ));
            }
        }
        Ok(())
    }
}

/// A queue for functions that never dial.
pub struct NoQueue;

#[async_trait]
impl DialQueue for NoQueue {
    async fn send(&self, _: &[(DialMessage, Duration)]) -> Result<(), QueueError> {
        Err(QueueError::Unconfigured)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[tokio::test]
    async fn messages_wait_for_their_delay_and_come_back_when_retried() {
        let clock = Arc::new(ManualClock::at("2026-11-23T10:00:00Z".parse().unwrap()));
        let queue = LocalQueue::new(clock.clone());
        let message = DialMessage {
            org_id: OrgId::new(),
            lead_id: LeadId::new(),
            campaign_id: CampaignId::new(),
            attempt: 1,
        };
        queue
            .send(&[
                (message.clone(), Duration::ZERO),
                (message.clone(), Duration::from_secs(60)),
            ])
            .await
            .unwrap();
        let first = queue.receive(10);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].receive_count, 1);
        queue.requeue(first[0].clone(), Duration::from_secs(5));
        assert!(queue.receive(10).is_empty());
        clock.advance(SignedDuration::from_secs(5));
        assert_eq!(queue.receive(10)[0].receive_count, 2);
        clock.advance(SignedDuration::from_secs(60));
        let later = queue.receive(10);
        assert_eq!(
            serde_json::from_str::<DialMessage>(&later[0].body).unwrap(),
            message
        );
        assert!(queue.is_empty());
    }
}
