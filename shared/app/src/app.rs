//! Everything a request handler needs, built once per process.

use std::sync::Arc;

use soraaya_store::ItemStore;

use crate::accounts::{OrgCache, Passwords, TokenKeys};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;

/// The shared dependencies of every service and handler.
pub struct App {
    pub store: Arc<dyn ItemStore>,
    pub clock: Arc<dyn Clock>,
    pub config: Config,
    pub tokens: TokenKeys,
    pub passwords: Passwords,
    pub organisations: OrgCache,
}

/// What axum handlers receive as state.
pub type AppState = Arc<App>;

impl App {
    pub fn new(config: Config, store: Arc<dyn ItemStore>) -> App {
        App::with_clock(config, store, Arc::new(SystemClock))
    }

    pub fn with_clock(config: Config, store: Arc<dyn ItemStore>, clock: Arc<dyn Clock>) -> App {
        App {
            tokens: TokenKeys::new(&config),
            passwords: Passwords::default(),
            organisations: OrgCache::default(),
            store,
            clock,
            config,
        }
    }
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl App {
    /// The dependencies of a deployed function: configuration from the
    /// environment and DynamoDB tables named with the configured prefix.
    pub async fn from_env() -> Result<AppState, crate::ConfigError> {
        let config = Config::from_env()?;
        let store = crate::storage::open(&crate::storage::StoreChoice::DynamoDb {
            table_prefix: config.table_prefix.clone(),
            endpoint: None,
        })
        .await
        .map_err(|err| crate::ConfigError::Invalid {
            name: "AWS_ENDPOINT_URL_DYNAMODB",
            reason: err.to_string(),
        })?;
        Ok(Arc::new(App::new(config, store)))
    }
}
