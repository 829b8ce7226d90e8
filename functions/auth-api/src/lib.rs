//! The auth API function: sign-in, tokens, the signed-in user, and user admin.

use axum::Router;
use soraaya_app::AppState;
use soraaya_app::http::{Area, router};

/// The function's handler: the shared accounts router, as it also runs locally.
pub fn handler(app: AppState) -> Router {
    router(app, &[Area::Accounts])
}
