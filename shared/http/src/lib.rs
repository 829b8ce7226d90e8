//! What every HTTP route stands on: the one API error type and the one place
//! errors become responses, the extractors that turn bad input into
//! field-level 4xx answers, who the caller is (a person or an API key) and
//! the permission checks that run before a request is read.

pub mod error;
pub mod extract;
pub mod permit;
mod strict;

pub use error::{ApiError, ErrorBody, Require};
pub use extract::{ApiJson, ApiPath, ApiQuery, OptionalJson, etag, if_match};
pub use permit::{Permitted, may};
use soraaya_core::{App, AppState};

/// Largest JSON body accepted by default.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// What handlers receive as state: the services of the process, shared.
#[derive(Debug, Clone)]
pub struct ApiState(pub AppState);

impl std::ops::Deref for ApiState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}
