//! The campaigns API function: campaigns, agent personas, properties, calling
//! control and status, notifications.

use axum::Router;
use soraaya_app::AppState;
use soraaya_app::http::{Area, router};

/// The function's handler: the shared campaigns router, as it also runs locally.
pub fn handler(app: AppState) -> Router {
    router(app, &[Area::Campaigns])
}
