//! The dial queue on SQS, consumed: the Lambda event handler, and a poller
//! that plays the Lambda event source against an emulator locally.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use jiff::{SignedDuration, Timestamp};
use tracing::warn;

use super::dialer::handle_batch;
use super::queue::{Delivery, Disposition};
use crate::App;

/// Handles an SQS event: messages to retry later get their visibility moved
/// to the time asked for and are reported as failures (so SQS keeps them).
pub async fn handle_event(
    app: &App,
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
    event: SqsEvent,
) -> SqsBatchResponse {
    let mut receipts = std::collections::HashMap::new();
    let deliveries: Vec<Delivery> = event
        .records
        .into_iter()
        .filter_map(|record| {
            let id = record.message_id?;
            if let Some(receipt) = record.receipt_handle {
                receipts.insert(id.clone(), receipt);
            }
            Some(Delivery {
                receive_count: record
                    .attributes
                    .get("ApproximateReceiveCount")
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1),
                id,
                body: record.body.unwrap_or_default(),
            })
        })
        .collect();
    let mut response = SqsBatchResponse::default();
    for (id, disposition) in handle_batch(app, deliveries).await {
        if let Disposition::RetryAfter(wait) = disposition {
            if let Some(receipt) = receipts.get(&id) {
                let seconds = i32::try_from(wait.as_secs().max(1))
                    .unwrap_or(i32::MAX)
                    .min(43_200);
                if let Err(err) = client
                    .change_message_visibility()
                    .queue_url(queue_url)
                    .receipt_handle(receipt)
                    .visibility_timeout(seconds)
                    .send()
                    .await
                {
                    warn!(message_id = %id, error = %err, "could not delay the message; the queue's own timeout applies");
                }
            }
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// Polls an SQS queue (an emulator, locally) as Lambda's event source would.
/// Retries are held on the service clock, so tests that move the clock move
/// them too; the queue's visibility timeout covers a poller that stops.
pub struct SqsPoller {
    client: aws_sdk_sqs::Client,
    url: String,
    held: Mutex<BinaryHeap<Reverse<(Timestamp, u64, String)>>>,
    sequence: AtomicU64,
}

/// How long a received message stays invisible to other consumers.
const VISIBILITY_SECONDS: i32 = 600;

impl SqsPoller {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        SqsPoller {
            client,
            url: url.into(),
            held: Mutex::new(BinaryHeap::new()),
            sequence: AtomicU64::new(0),
        }
    }

    /// Receives and handles one batch; returns how many messages it handled.
    pub async fn poll(&self, app: &App) -> Result<usize, aws_sdk_sqs::Error> {
        let output = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
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

    /// Makes the held messages whose time has come visible again.
    pub async fn release_due(&self, now: Timestamp) -> Result<usize, aws_sdk_sqs::Error> {
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
                .await?;
        }
        Ok(due.len())
    }

    pub fn next_due(&self) -> Option<Timestamp> {
        self.held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .peek()
            .map(|Reverse((at, ..))| *at)
    }
}
