//! The Twilio webhook function: signed call status callbacks.

use axum::Router;
use soraaya_app::AppState;
use soraaya_app::http::{Area, router};

/// The function's handler: the shared Twilio webhook router.
pub fn handler(app: AppState) -> Router {
    router(app, &[Area::TwilioWebhook])
}
