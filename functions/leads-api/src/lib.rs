//! The leads API function: the lead book, import (small files at once, large
//! ones as jobs), export, bulk jobs, the do-not-call list, and the intake of
//! leads arriving by API (queued for the campaign calling their source).

use std::sync::Arc;

use axum::Router;
use soraaya_aws::{S3Blobs, SqsJobQueue};
use soraaya_calling::sqs::SqsQueue;
use soraaya_core::config::{ConfigError, LeadsApiFunctionConfig, Vars};
use soraaya_core::storage::deployed_store;
use soraaya_core::{App, AppState};

/// The function's dependencies, from exactly the variables it is given.
pub async fn init(vars: &dyn Vars) -> Result<AppState, ConfigError> {
    let LeadsApiFunctionConfig {
        config,
        jobs,
        dial_queue_url,
    } = LeadsApiFunctionConfig::from_vars(vars)?;
    let store = deployed_store(&config).await;
    let blobs = S3Blobs::at(&jobs.bucket, &config.aws).await;
    let job_queue = SqsJobQueue::at(&jobs.job_queue_url, &config.aws).await;
    let dial_queue = SqsQueue::at(&dial_queue_url, &config.aws).await;
    Ok(Arc::new(
        App::new(config, store)
            .with_blobs(Arc::new(blobs))
            .with_jobs(Arc::new(job_queue))
            .with_queue(Arc::new(dial_queue)),
    ))
}

/// The function's handler: the leads and lead-job routes, as they also run locally.
pub fn handler(app: AppState) -> Router {
    soraaya_api::router(
        app,
        soraaya_api::leads::routes()
            .merge(soraaya_api::intake::routes())
            .merge(soraaya_api::jobs::routes()),
    )
}
