//! Soraaya's services and HTTP routers, shared by every Lambda function and by
//! the local all-in-one server. Handlers never know which store adapter they use.

pub mod accounts;
mod app;
pub mod calling;
pub mod campaigns;
pub mod clock;
pub mod config;
pub mod demo;
pub mod http;
pub mod leads;
pub mod local;
pub mod notifications;
pub mod storage;
pub mod tables;
pub mod telemetry;

pub use app::{App, AppState, Needs};
pub use clock::{Clock, ManualClock, ShiftedClock, SystemClock};
pub use config::{CallingConfig, Config, ConfigError, Secret};
