//! The dial queue in this process: at-least-once like SQS, scheduled on the
//! service clock so that tests control time.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use soraaya_core::Clock;
use soraaya_core::queue::{Delivery, DialMessage, DialQueue, MAX_DELAY, QueueError};

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

#[cfg(test)]
mod tests {
    use super::*;
    use soraaya_core::ManualClock;
    use soraaya_domain::{CampaignId, LeadId, OrgId};

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
