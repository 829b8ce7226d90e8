//! The campaigns API function: campaigns, personas, properties, calling
//! controls and notifications.

use std::sync::Arc;

use axum::Router;
use soraaya_calling::sqs::SqsQueue;
use soraaya_core::config::{CampaignsApiFunctionConfig, ConfigError, Vars};
use soraaya_core::storage::deployed_store;
use soraaya_core::{App, AppState};

/// The function's dependencies, from exactly the variables it is given.
pub async fn init(vars: &dyn Vars) -> Result<AppState, ConfigError> {
    let function = CampaignsApiFunctionConfig::from_vars(vars)?;
    let store = deployed_store(&function.config).await;
    let queue = SqsQueue::at(&function.dial_queue_url, &function.config.aws).await;
    Ok(Arc::new(
        App::new(function.config, store).with_queue(Arc::new(queue)),
    ))
}

/// The function's handler: the campaigns and notifications routes, as they
/// also run locally.
pub fn handler(app: AppState) -> Router {
    soraaya_api::router(
        app,
        soraaya_api::campaigns::routes().merge(soraaya_api::notifications::routes()),
    )
}
