//! The VAPI webhook function: status updates and end-of-call reports.

use std::sync::Arc;

use axum::Router;
use soraaya_calling::sqs::SqsQueue;
use soraaya_core::config::{ConfigError, VapiWebhookFunctionConfig, Vars};
use soraaya_core::storage::deployed_store;
use soraaya_core::{App, AppState};

/// The function's dependencies, from exactly the variables it is given: it
/// refuses to start without the secret its callers authenticate with, or
/// without the dial queue the end of a call sends the next dial to.
pub async fn init(vars: &dyn Vars) -> Result<AppState, ConfigError> {
    let function = VapiWebhookFunctionConfig::from_vars(vars)?;
    let store = deployed_store(&function.config).await;
    // The end of a call sends the next dial in its campaign's line.
    let queue = SqsQueue::at(&function.dial_queue_url, &function.config.aws).await;
    Ok(Arc::new(
        App::new(function.config, store).with_queue(Arc::new(queue)),
    ))
}

/// The function's handler: the shared webhook router.
pub fn handler(app: AppState) -> Router {
    soraaya_api::router(app, soraaya_api::webhooks::vapi_routes())
}
