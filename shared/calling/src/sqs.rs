//! The dial queue on Amazon SQS: sending dials, and the Lambda event handler
//! that consumes them (retries move the message's visibility to when).

use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use soraaya_core::App;
use soraaya_core::config::{AwsService, AwsSettings, ProcessEnv};
use soraaya_core::queue::{Delivery, DialMessage, DialQueue, Disposition, MAX_DELAY, QueueError};
use soraaya_core::storage::service_config;
use tracing::warn;

use crate::dialer::handle_batch;

/// An SQS client for the local tools; `endpoint` (or the process's
/// `AWS_ENDPOINT_URL_SQS`) overrides AWS's.
pub async fn sqs_client(endpoint: Option<&str>) -> aws_sdk_sqs::Client {
    let mut settings = AwsSettings::from_vars(&ProcessEnv);
    if let Some(endpoint) = endpoint {
        settings.sqs_endpoint = Some(endpoint.to_owned());
    }
    aws_sdk_sqs::Client::new(&service_config(&settings, AwsService::Sqs).await)
}

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

    /// The queue at `url`, with a client from the standard AWS configuration.
    /// The queue at `url`, as a deployed function's settings reach SQS.
    pub async fn at(url: &str, settings: &AwsSettings) -> Self {
        let config = service_config(settings, AwsService::Sqs).await;
        SqsQueue::new(aws_sdk_sqs::Client::new(&config), url)
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
