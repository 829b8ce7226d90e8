//! The leads API function: the lead book, import and export, the do-not-call list.

use axum::Router;
use soraaya_app::AppState;
use soraaya_app::http::{Area, router};

/// The function's handler: the shared leads router, as it also runs locally.
pub fn handler(app: AppState) -> Router {
    router(app, &[Area::Leads])
}
