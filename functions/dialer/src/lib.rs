//! The dialer function: SQS batches of dial messages; messages to retry later
//! are reported as batch item failures (their visibility moved to when).

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use soraaya_calling::sqs::{SqsQueue, handle_event};
use soraaya_calling::vapi::{VapiConfig, VapiVoice};
use soraaya_core::App;
use soraaya_core::config::{CallingFunctionConfig, ConfigError, Vars};
use soraaya_core::storage::deployed_store;

/// What the dialer works with: the services, and the queue it consumes.
pub struct Dialer {
    pub app: App,
    pub queue: Arc<SqsQueue>,
}

/// The function's dependencies, from exactly the variables it is given.
pub async fn init(vars: &dyn Vars) -> Result<Dialer, ConfigError> {
    let function = CallingFunctionConfig::from_vars(vars)?;
    let voice = VapiVoice::new(VapiConfig::new(&function.vapi, &function.config)?)?;
    let store = deployed_store(&function.config).await;
    let queue = Arc::new(SqsQueue::at(&function.dial_queue_url, &function.config.aws).await);
    let app = App::new(function.config, store)
        .with_voice(Arc::new(voice))
        .with_queue(queue.clone());
    Ok(Dialer { app, queue })
}

/// The function's handler.
pub async fn handler(app: &App, queue: &SqsQueue, event: SqsEvent) -> SqsBatchResponse {
    handle_event(app, queue.client(), queue.url(), event).await
}
