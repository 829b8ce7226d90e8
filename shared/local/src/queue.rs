//! The dial queue in this process: at-least-once like SQS, scheduled on the
//! service clock so that tests control time, and durable: every message is
//! kept in the item store (the embedded file for `soraaya serve`) until it
//! is done, so a restart resumes the queue at once, with the messages that
//! were waiting or being handled when the process died.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use soraaya_core::Clock;
use soraaya_core::keys::keyed_item;
use soraaya_core::paging::collect_all;
use soraaya_core::queue::{Delivery, DialMessage, DialQueue, MAX_DELAY, QueueError};
use soraaya_core::tables::JOBS;
use soraaya_store::{Delete, ItemStore, Key, Put, Query, StoreError};

/// The partition of the jobs table that holds the queue's messages.
const PARTITION: &str = "LOCAL_DIAL_QUEUE";

/// A message waiting: when it may be delivered, order sent, id, body, receive count.
type Waiting = Reverse<(Timestamp, u64, String, String, u32)>;

/// A message as kept in the store.
#[derive(Debug, Serialize, Deserialize)]
struct StoredMessage {
    id: String,
    body: String,
    deliver_at: Timestamp,
    receive_count: u32,
}

fn key(id: &str) -> Key {
    Key::new(PARTITION, format!("MSG#{id}"))
}

/// A queue in this process. The waiting messages are held in memory, in
/// order of delivery, and each is also in the store from its send until it
/// is [`done`](LocalQueue::done): a message received but neither done nor
/// retried when the process dies is delivered again after a restart.
pub struct LocalQueue {
    clock: Arc<dyn Clock>,
    store: Arc<dyn ItemStore>,
    pending: Mutex<BinaryHeap<Waiting>>,
    sequence: AtomicU64,
    sent: AtomicU64,
}

impl LocalQueue {
    /// The queue kept in `store`, with every message a previous process left there.
    pub async fn open(
        clock: Arc<dyn Clock>,
        store: Arc<dyn ItemStore>,
    ) -> Result<Self, StoreError> {
        let queue = LocalQueue {
            clock,
            store,
            pending: Mutex::new(BinaryHeap::new()),
            sequence: AtomicU64::new(0),
            sent: AtomicU64::new(0),
        };
        let left: Vec<StoredMessage> =
            collect_all(queue.store.as_ref(), Query::new(&JOBS, PARTITION)).await?;
        if !left.is_empty() {
            tracing::info!(messages = left.len(), "dial queue resumed from the store");
        }
        for message in left {
            queue.push(
                message.deliver_at,
                message.id,
                message.body,
                message.receive_count,
            );
        }
        Ok(queue)
    }

    fn push(&self, at: Timestamp, id: String, body: String, receive_count: u32) {
        let seq = self.sequence.fetch_add(1, Ordering::Relaxed);
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Reverse((at, seq, id, body, receive_count)));
    }

    async fn keep(&self, message: &StoredMessage) -> Result<(), StoreError> {
        self.store
            .put(Put::new(&JOBS, keyed_item(&key(&message.id), message)?))
            .await
    }

    /// Up to `max` messages whose delay is over, oldest first. Each stays in
    /// the store until it is done or retried.
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

    /// A received message was handled: it leaves the store.
    pub async fn done(&self, delivery: &Delivery) -> Result<(), StoreError> {
        self.store
            .delete(Delete::new(&JOBS, key(&delivery.id)))
            .await
            .map(drop)
    }

    /// Puts a received message back, deliverable after `delay`.
    pub async fn requeue(&self, delivery: Delivery, delay: Duration) -> Result<(), StoreError> {
        let at = self.clock.now() + SignedDuration::try_from(delay).unwrap_or(SignedDuration::ZERO);
        let stored = StoredMessage {
            id: delivery.id,
            body: delivery.body,
            deliver_at: at,
            receive_count: delivery.receive_count,
        };
        self.keep(&stored).await?;
        self.push(at, stored.id, stored.body, stored.receive_count);
        Ok(())
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
    /// Each message is in the store before `send` returns.
    async fn send(&self, messages: &[(DialMessage, Duration)]) -> Result<(), QueueError> {
        for (message, delay) in messages {
            let body = serde_json::to_string(message).map_err(|e| QueueError::Send(Box::new(e)))?;
            let at = self.clock.now()
                + SignedDuration::try_from((*delay).min(MAX_DELAY)).unwrap_or(SignedDuration::ZERO);
            let stored = StoredMessage {
                id: uuid::Uuid::new_v4().to_string(),
                body,
                deliver_at: at,
                receive_count: 0,
            };
            self.keep(&stored)
                .await
                .map_err(|e| QueueError::Send(Box::new(e)))?;
            self.push(at, stored.id, stored.body, 0);
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
        let store: Arc<dyn ItemStore> =
            Arc::new(soraaya_store::EmbeddedStore::in_memory().unwrap());
        let queue = LocalQueue::open(clock.clone(), Arc::clone(&store))
            .await
            .unwrap();
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
        queue
            .requeue(first[0].clone(), Duration::from_secs(5))
            .await
            .unwrap();
        assert!(queue.receive(10).is_empty());
        clock.advance(SignedDuration::from_secs(5));
        assert_eq!(queue.receive(10)[0].receive_count, 2);
        clock.advance(SignedDuration::from_secs(60));
        let later = queue.receive(10);
        assert_eq!(later.len(), 1);
        assert_eq!(
            serde_json::from_str::<DialMessage>(&later[0].body).unwrap(),
            message
        );
        assert!(queue.is_empty());
        // Handled: gone from the store too.
        queue.done(&later[0]).await.unwrap();
        let reopened = LocalQueue::open(clock.clone(), Arc::clone(&store))
            .await
            .unwrap();
        assert_eq!(reopened.len(), 1, "the undone message survives a restart");
    }

    #[tokio::test]
    async fn a_restart_resumes_every_message_not_done() {
        let clock = Arc::new(ManualClock::at("2026-11-23T10:00:00Z".parse().unwrap()));
        let store: Arc<dyn ItemStore> =
            Arc::new(soraaya_store::EmbeddedStore::in_memory().unwrap());
        let message = |attempt| DialMessage {
            org_id: OrgId::new(),
            lead_id: LeadId::new(),
            campaign_id: CampaignId::new(),
            attempt,
        };
        let before = LocalQueue::open(clock.clone(), Arc::clone(&store))
            .await
            .unwrap();
        before
            .send(&[
                (message(1), Duration::ZERO),
                (message(2), Duration::ZERO),
                (message(3), Duration::from_secs(300)),
            ])
            .await
            .unwrap();
        // One handled, one being handled when the process dies, one waiting.
        let received = before.receive(2);
        before.done(&received[0]).await.unwrap();
        drop(before);
        let after = LocalQueue::open(clock.clone(), store).await.unwrap();
        assert_eq!(after.len(), 2);
        let again = after.receive(10);
        assert_eq!(again.len(), 1, "the one in hand is delivered at once");
        assert_eq!(again[0].body, received[1].body);
        clock.advance(SignedDuration::from_secs(300));
        assert_eq!(after.receive(10).len(), 1, "the waiting one when it is due");
    }
}
