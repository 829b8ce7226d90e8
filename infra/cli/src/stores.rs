//! Which store a command works on: the embedded file in the data directory, or
//! DynamoDB (chosen explicitly, or implied by `AWS_ENDPOINT_URL_DYNAMODB`).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, ValueEnum};
use soraaya_core::App;
use soraaya_core::config::{self, Config, ProcessEnv};
use soraaya_core::storage::{self, StoreChoice};
use soraaya_store::{EmbeddedStore, ItemStore};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    Embedded,
    Dynamodb,
}

#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory of the embedded store and the local signing secret.
    #[arg(long, default_value = ".soraaya", env = "SORAAYA_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Item store to use [default: dynamodb when AWS_ENDPOINT_URL_DYNAMODB is set, else embedded].
    #[arg(long, value_enum)]
    pub store: Option<StoreKind>,
    /// Page cache of the embedded store, in MB.
    #[arg(long, default_value_t = 256, env = "SORAAYA_CACHE_MB")]
    pub cache_mb: usize,
    /// Prefix of DynamoDB table names.
    #[arg(long, default_value = "soraaya-", env = "SORAAYA_TABLE_PREFIX")]
    pub table_prefix: String,
}

/// An opened store; the embedded one is kept concrete for its TTL sweeper.
pub struct OpenedStore {
    pub store: Arc<dyn ItemStore>,
    pub embedded: Option<EmbeddedStore>,
    pub description: String,
}

impl StoreArgs {
    pub fn kind(&self) -> StoreKind {
        self.store.unwrap_or_else(|| {
            if std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_ok_and(|e| !e.is_empty()) {
                StoreKind::Dynamodb
            } else {
                StoreKind::Embedded
            }
        })
    }

    pub async fn open(&self) -> anyhow::Result<OpenedStore> {
        match self.kind() {
            StoreKind::Embedded => {
                let path = self.data_dir.join("soraaya.redb");
                let store = EmbeddedStore::open_with_cache(&path, self.cache_mb << 20)
                    .with_context(|| {
                        format!(
                            "cannot open {} (is another soraaya process using it?)",
                            path.display()
                        )
                    })?;
                Ok(OpenedStore {
                    store: Arc::new(store.clone()),
                    embedded: Some(store),
                    description: format!("embedded store {}", path.display()),
                })
            }
            StoreKind::Dynamodb => {
                let choice = StoreChoice::DynamoDb {
                    table_prefix: self.table_prefix.clone(),
                    endpoint: None,
                };
                Ok(OpenedStore {
                    store: storage::open(&choice).await?,
                    embedded: None,
                    description: format!("DynamoDB tables {}*", self.table_prefix),
                })
            }
        }
    }

    /// The app on this store, configured from the environment, signing
    /// tokens with `SORAAYA_JWT_SECRET` or the secret kept in the data directory.
    pub async fn app(&self) -> anyhow::Result<(App, OpenedStore)> {
        let opened = self.open().await?;
        let mut config = Config::from_vars(&ProcessEnv)?;
        if config.jwt_secret.is_none() {
            let kept = soraaya_local::bootstrap::load_or_create_secret(&self.data_dir)
                .with_context(|| {
                    format!(
                        "cannot keep the signing secret in {}",
                        self.data_dir.display()
                    )
                })?;
            config.jwt_secret = Some(config::jwt_secret(kept)?);
        }
        config.table_prefix = self.table_prefix.clone();
        Ok((App::new(config, Arc::clone(&opened.store)), opened))
    }
}
