//! The dialer function: SQS batches of dial messages; messages to retry later
//! are reported as batch item failures (their visibility moved to when).

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use soraaya_app::App;
use soraaya_app::calling::queue::SqsQueue;

/// The function's handler.
pub async fn handler(app: &App, queue: &SqsQueue, event: SqsEvent) -> SqsBatchResponse {
    soraaya_app::calling::sqs::handle_event(app, queue.client(), queue.url(), event).await
}
