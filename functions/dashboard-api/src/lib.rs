//! The dashboard API function: KPIs, trends and breakdowns, the insights
//! from calls, and reports, all read from the counters and aggregates other
//! functions keep on write and from the leads and calls; it writes nothing.

use std::sync::Arc;

use axum::Router;
use soraaya_core::config::{ApiFunctionConfig, ConfigError, Vars};
use soraaya_core::storage::deployed_store;
use soraaya_core::{App, AppState};

/// The function's dependencies, from exactly the variables it is given.
pub async fn init(vars: &dyn Vars) -> Result<AppState, ConfigError> {
    let config = ApiFunctionConfig::from_vars(vars)?.config;
    let store = deployed_store(&config).await;
    Ok(Arc::new(App::new(config, store)))
}

/// The function's handler: the dashboard and insights routes, as they also run locally.
pub fn handler(app: AppState) -> Router {
    soraaya_api::router(
        app,
        soraaya_api::dashboard::routes().merge(soraaya_api::insights::routes()),
    )
}
