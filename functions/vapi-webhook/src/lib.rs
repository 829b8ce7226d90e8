//! The VAPI webhook function: status updates and end-of-call reports.

use std::sync::Arc;

use axum::Router;
use soraaya_core::config::{ConfigError, VapiWebhookFunctionConfig, Vars};
use soraaya_core::storage::deployed_store;
use soraaya_core::{App, AppState};

/// The function's dependencies, from exactly the variables it is given: it
/// refuses to start without the secret its callers authenticate with.
pub async fn init(vars: &dyn Vars) -> Result<AppState, ConfigError> {
    let config = VapiWebhookFunctionConfig::from_vars(vars)?.config;
    let store = deployed_store(&config).await;
    Ok(Arc::new(App::new(config, store)))
}

/// The function's handler: the shared webhook router.
pub fn handler(app: AppState) -> Router {
    soraaya_api::router(app, soraaya_api::webhooks::vapi_routes())
}
