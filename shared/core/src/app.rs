//! Everything a service needs, built once per process: the store, the clock,
//! the configuration, the keys, and the ports besides the store.

use std::sync::Arc;

use soraaya_store::ItemStore;

use crate::blobs::{Blobs, NoBlobs};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::jobs::{JobQueue, NoJobQueue};
use crate::mail::{Mailer, NoMailer};
use crate::org_cache::OrgCache;
use crate::passwords::Passwords;
use crate::queue::{DialQueue, NoQueue};
use crate::renderings::Renderings;
use crate::session_cache::SessionCache;
use crate::tokens::TokenKeys;
use crate::voice::{NoVoice, Voice};

/// The shared dependencies of every service and handler.
pub struct App {
    pub store: Arc<dyn ItemStore>,
    pub clock: Arc<dyn Clock>,
    pub config: Config,
    /// Present where the configuration has a signing secret.
    pub tokens: Option<TokenKeys>,
    pub passwords: Passwords,
    pub organisations: OrgCache,
    /// Sessions lately found open (see [`SessionCache`]).
    pub sessions: SessionCache,
    /// Records lately rendered as JSON (see [`Renderings`]).
    pub renderings: Renderings,
    /// Places calls (VAPI, or the simulator locally).
    pub voice: Arc<dyn Voice>,
    /// Carries dials to the dialer (SQS, or in-process locally).
    pub queue: Arc<dyn DialQueue>,
    /// Carries jobs to their runner (SQS, or in-process locally).
    pub jobs: Arc<dyn JobQueue>,
    /// Files too big for a request (S3, or a directory locally).
    pub blobs: Arc<dyn Blobs>,
    /// Sends email (SES, or an outbox of files locally).
    pub mailer: Arc<dyn Mailer>,
}

/// What axum handlers receive as state.
pub type AppState = Arc<App>;

impl App {
    pub fn new(config: Config, store: Arc<dyn ItemStore>) -> App {
        App::with_clock(config, store, Arc::new(SystemClock))
    }

    pub fn with_clock(config: Config, store: Arc<dyn ItemStore>, clock: Arc<dyn Clock>) -> App {
        App {
            tokens: config
                .jwt_secret
                .as_ref()
                .map(|secret| TokenKeys::new(secret, config.access_token_ttl)),
            passwords: Passwords::default(),
            organisations: OrgCache::default(),
            sessions: SessionCache::default(),
            renderings: Renderings::with_budget(config.render_cache_bytes),
            voice: Arc::new(NoVoice),
            queue: Arc::new(NoQueue),
            jobs: Arc::new(NoJobQueue),
            blobs: Arc::new(NoBlobs),
            mailer: Arc::new(NoMailer),
            store,
            clock,
            config,
        }
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

    /// Sends jobs through `jobs`.
    pub fn with_jobs(mut self, jobs: Arc<dyn JobQueue>) -> App {
        self.jobs = jobs;
        self
    }

    /// Sends email through `mailer`.
    pub fn with_mailer(mut self, mailer: Arc<dyn Mailer>) -> App {
        self.mailer = mailer;
        self
    }

    /// Keeps files in `blobs`.
    pub fn with_blobs(mut self, blobs: Arc<dyn Blobs>) -> App {
        self.blobs = blobs;
        self
    }
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
