//! The SQS dial queue consumed in this process, as Lambda's event source
//! would consume it, for running against an emulator.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use soraaya_calling::dialer::handle_batch;
use soraaya_calling::sqs::SqsQueue;
use soraaya_core::queue::{Delivery, DialMessage, DialQueue, Disposition, QueueError};
use soraaya_core::{App, Clock};

/// Polls an SQS queue (an emulator, locally) as Lambda's event source would,
/// on the service clock: retries are held, and delayed sends kept, until the
/// clock (which tests move by hand) reaches them, so they move with it. It
/// is also the queue the app sends to, and so knows when a receive can find
/// anything: it asks the queue only then.
pub struct SqsPoller {
    client: aws_sdk_sqs::Client,
    url: String,
    sender: SqsQueue,
    clock: Arc<dyn Clock>,
    held: Mutex<BinaryHeap<Reverse<(Timestamp, u64, String)>>>,
    delayed: Mutex<BinaryHeap<Reverse<(Timestamp, u64, DialMessage)>>>,
    /// Messages may be visible in the queue.
    fresh: AtomicBool,
    sequence: AtomicU64,
}

#[async_trait]
impl DialQueue for SqsPoller {
    async fn send(&self, messages: &[(DialMessage, Duration)]) -> Result<(), QueueError> {
        let now = self.clock.now();
        let (due, later): (Vec<_>, Vec<_>) = messages.iter().partition(|(_, d)| d.is_zero());
        for (message, delay) in later {
            let at = now + SignedDuration::try_from(*delay).unwrap_or(SignedDuration::ZERO);
            let seq = self.sequence.fetch_add(1, Ordering::Relaxed);
            self.delayed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(Reverse((at, seq, message.clone())));
        }
        let due: Vec<(DialMessage, Duration)> = due.into_iter().cloned().collect();
        if !due.is_empty() {
            self.sender.send(&due).await?;
            self.fresh.store(true, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// How long a received message stays invisible to other consumers: SQS's
/// longest, since held messages wait on the service clock, which may run
/// slower than the wall clock (a test that moves it by hand for long).
const VISIBILITY_SECONDS: i32 = 43_200;

impl SqsPoller {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        let url = url.into();
        SqsPoller {
            sender: SqsQueue::new(client.clone(), url.clone()),
            client,
            url,
            clock,
            held: Mutex::new(BinaryHeap::new()),
            delayed: Mutex::new(BinaryHeap::new()),
            fresh: AtomicBool::new(false),
            sequence: AtomicU64::new(0),
        }
    }

    /// Messages asked for per receive.
    pub const BATCH: usize = 10;

    /// Whether a receive may find messages (and forgets it: a receive follows).
    pub fn take_fresh(&self) -> bool {
        self.fresh.swap(false, Ordering::Relaxed)
    }

    /// Receives and handles one batch; returns how many messages it handled.
    pub async fn poll(&self, app: &App) -> Result<usize, aws_sdk_sqs::Error> {
        let output = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(Self::BATCH as i32)
            .visibility_timeout(VISIBILITY_SECONDS)
            .message_system_attribute_names(
                aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount,
            )
            .send()
            .await?;
        let messages = output.messages.unwrap_or_default();
        if messages.is_empty() {
            return Ok(0);
        }
        let mut receipts = std::collections::HashMap::new();
        let deliveries: Vec<Delivery> = messages
            .into_iter()
            .filter_map(|m| {
                let id = m.message_id?;
                receipts.insert(id.clone(), m.receipt_handle?);
                let count = m
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1);
                Some(Delivery {
                    id,
                    body: m.body.unwrap_or_default(),
                    receive_count: count,
                })
            })
            .collect();
        let handled = deliveries.len();
        let now = app.clock.now();
        for (id, disposition) in handle_batch(app, deliveries).await {
            let Some(receipt) = receipts.remove(&id) else {
                continue;
            };
            match disposition {
                Disposition::Done => {
                    self.client
                        .delete_message()
                        .queue_url(&self.url)
                        .receipt_handle(receipt)
                        .send()
                        .await?;
                }
                Disposition::RetryAfter(wait) => {
                    let at = now
                        + SignedDuration::try_from(wait).unwrap_or(SignedDuration::from_secs(5));
                    let seq = self.sequence.fetch_add(1, Ordering::Relaxed);
                    self.held
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(Reverse((at, seq, receipt)));
                }
            }
        }
        Ok(handled)
    }

    /// Makes the held messages whose time has come visible again, and sends
    /// the delayed ones whose time has come.
    pub async fn release_due(&self, now: Timestamp) -> Result<usize, QueueError> {
        let mut sends = Vec::new();
        {
            let mut delayed = self.delayed.lock().unwrap_or_else(|p| p.into_inner());
            while let Some(Reverse((at, ..))) = delayed.peek() {
                if *at > now {
                    break;
                }
                if let Some(Reverse((_, _, message))) = delayed.pop() {
                    sends.push((message, Duration::ZERO));
                }
            }
        }
        if !sends.is_empty() {
            self.sender.send(&sends).await?;
        }
        let mut due = Vec::new();
        {
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            while let Some(Reverse((at, ..))) = held.peek() {
                if *at > now {
                    break;
                }
                if let Some(Reverse((_, _, receipt))) = held.pop() {
                    due.push(receipt);
                }
            }
        }
        for receipt in &due {
            self.client
                .change_message_visibility()
                .queue_url(&self.url)
                .receipt_handle(receipt)
                .visibility_timeout(0)
                .send()
                .await
                .map_err(|e| QueueError::Send(Box::new(aws_sdk_sqs::Error::from(e))))?;
        }
        let released = sends.len() + due.len();
        if released > 0 {
            self.fresh.store(true, Ordering::Relaxed);
        }
        Ok(released)
    }

    pub fn next_due(&self) -> Option<Timestamp> {
        let held = self
            .held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .peek()
            .map(|Reverse((at, ..))| *at);
        let delayed = self
            .delayed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .peek()
            .map(|Reverse((at, ..))| *at);
        held.into_iter().chain(delayed).min()
    }
}
