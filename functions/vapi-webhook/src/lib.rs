//! The VAPI webhook function: status updates and end-of-call reports.

use axum::Router;
use soraaya_app::AppState;
use soraaya_app::http::{Area, router};

/// The function's handler: the shared VAPI webhook router.
pub fn handler(app: AppState) -> Router {
    router(app, &[Area::VapiWebhook])
}
