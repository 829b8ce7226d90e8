//! Everything a request handler needs, built once per process.

use std::sync::Arc;

use soraaya_store::ItemStore;

use crate::accounts::{OrgCache, Passwords, TokenKeys};
use crate::calling::queue::{DialQueue, NoQueue};
use crate::calling::voice::{NoVoice, Voice};
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
    /// Places calls (VAPI, or the simulator locally).
    pub voice: Arc<dyn Voice>,
    /// Carries dials to the dialer (SQS, or in-process locally).
    pub queue: Arc<dyn DialQueue>,
}

/// Which ports a function uses besides the store.
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    pub voice: bool,
    pub queue: bool,
}

impl Needs {
    pub const STORE_ONLY: Needs = Needs {
        voice: false,
        queue: false,
    };
    pub const QUEUE: Needs = Needs {
        voice: false,
        queue: true,
    };
    pub const VOICE_AND_QUEUE: Needs = Needs {
        voice: true,
        queue: true,
    };
}

/// What axum handlers receive as state.
pub type AppState = Arc<App>;

impl App {
    pub fn new(config: Config, store: Arc<dyn ItemStore>) -> App {
        App::with_clock(config, store, Arc::new(SystemClock))
    }

    /// Places calls through `voice`.
    pub fn with_voice(mut self, voice: Arc<dyn Voice>) -> App {
        self.voice = voice;
        self
    }

    /// Sends dials through `queue`.
    pub fn with_queue(mut self, queue: Arc<dyn DialQueue>) -> App {
        self.queue = queue;
        self
    }

    pub fn with_clock(config: Config, store: Arc<dyn ItemStore>, clock: Arc<dyn Clock>) -> App {
        App {
            tokens: TokenKeys::new(&config),
            passwords: Passwords::default(),
            organisations: OrgCache::default(),
            voice: Arc::new(NoVoice),
            queue: Arc::new(NoQueue),
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
    /// environment, DynamoDB tables named with the configured prefix, and, for
    /// functions that call, VAPI and the SQS dial queue.
    pub async fn from_env(needs: Needs) -> Result<AppState, crate::ConfigError> {
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
        let mut app = App::new(config, store);
        if needs.voice {
            let voice = crate::calling::vapi_from_env(&app.config.calling)?;
            app = app.with_voice(Arc::new(voice));
        }
        if needs.queue {
            app = app.with_queue(Arc::new(crate::calling::sqs_queue_from_env().await?));
        }
        Ok(Arc::new(app))
    }
}
