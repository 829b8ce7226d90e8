//! What every Soraaya service builds on: configuration read once, the clock,
//! the table definitions, the ports besides the store (voice, dial queue,
//! job queue, blobs, mail) and
//! their absent defaults, signing and password keys, and the small helpers
//! that several domains share (keys, validation errors, partial changes,
//! reading every page, versioned organisation records). No HTTP here.

mod app;
pub mod blobs;
pub mod clock;
pub mod config;
pub mod jobs;
pub mod keys;
pub mod mail;
mod org_cache;
pub mod paging;
pub mod passwords;
pub mod queue;
pub mod records;
pub mod renderings;
pub mod session_cache;
pub mod storage;
pub mod tables;
pub mod telemetry;
pub mod tokens;
pub mod validation;
pub mod voice;

pub use app::{App, AppState};
pub use clock::{Clock, ManualClock, ShiftedClock, SystemClock};
pub use config::{CallingConfig, Config, ConfigError};
pub use org_cache::OrgCache;
pub use secrecy::{ExposeSecret, SecretString};
pub use session_cache::SessionCache;
pub use validation::{Amount, FieldError, FieldErrors, Patch, Raw};
