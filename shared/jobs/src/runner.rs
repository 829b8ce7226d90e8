//! Runs a lead job from its message, whatever its kind: the one entry point
//! of the job runner (the `lead-jobs` function, or the local runtime), and
//! the steps every kind shares (start, finish, fail, give up).

use std::time::Instant;

use soraaya_core::App;
use soraaya_core::blobs::BlobError;
use soraaya_core::jobs::{JobMessage, JobQueueError};
use soraaya_domain::{JobId, OrgId};
use soraaya_leads::import::ImportError;
use soraaya_leads::service::LeadError;
use soraaya_store::StoreError;
use tracing::{info, warn};

use crate::repo::{Job, JobKind, JobStatus, JobsRepo};

/// A job whose message came back this often is given up as failed.
pub const MAX_TRIES: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("no such job")]
    NotFound,
    #[error("invalid fields")]
    Invalid(Vec<soraaya_core::FieldError>),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Queue(#[from] JobQueueError),
    #[error(transparent)]
    Lead(#[from] LeadError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a run of a job came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// The job is over (completed or failed).
    Over(JobStatus),
    /// Out of time: the job stands where the run stopped; send its message again.
    Continue,
    /// Nothing to do (over already, superseded, or its file not there yet).
    Nothing,
}

/// Works on the job `message` names until it is over or `deadline` passes.
/// `tries` counts the deliveries of its message: past [`MAX_TRIES`] an error
/// fails the job instead of waiting for another try.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %message.org_id, job_id = %message.job_id))]
pub async fn run(
    app: &App,
    message: &JobMessage,
    deadline: Option<Instant>,
    tries: u32,
) -> Result<RunOutcome, JobError> {
    let repo = JobsRepo::new(app.store.as_ref());
    let Some(job) = repo.get(message.org_id, message.job_id).await? else {
        return Ok(RunOutcome::Nothing);
    };
    if job.status.is_over() {
        return Ok(RunOutcome::Nothing);
    }
    let result = match job.kind {
        JobKind::Import => crate::import::run(app, job.clone(), deadline).await,
        JobKind::BulkUpdate | JobKind::BulkDelete | JobKind::Export => {
            crate::bulk::run(app, job.clone(), deadline).await
        }
    };
    match result {
        Ok(outcome) => Ok(outcome),
        Err(JobError::Import(ImportError::Superseded)) => Ok(RunOutcome::Nothing),
        Err(JobError::Import(ImportError::BadFile(why))) => {
            let latest = repo.get(job.org_id, job.id).await?.unwrap_or(job);
            fail(app, &latest, why).await
        }
        Err(err) if tries >= MAX_TRIES => {
            let latest = repo.get(job.org_id, job.id).await?.unwrap_or(job);
            fail(app, &latest, format!("gave up after {tries} tries: {err}")).await
        }
        Err(err) => Err(err),
    }
}

/// The job, running: a queued job is marked started.
pub(crate) async fn begin(app: &App, job: Job) -> Result<Job, JobError> {
    if job.status != JobStatus::Queued {
        return Ok(job);
    }
    let mut running = job.clone();
    running.status = JobStatus::Running;
    running.started_at = Some(app.clock.now());
    running.updated_at = app.clock.now();
    if !JobsRepo::new(app.store.as_ref())
        .save(&job, &running)
        .await?
    {
        return Err(ImportError::Superseded.into());
    }
    running.version = job.version + 1;
    Ok(running)
}

/// Ends a job as completed, with its counts in the log.
pub(crate) async fn finish(app: &App, job: &Job) -> Result<RunOutcome, JobError> {
    let repo = JobsRepo::new(app.store.as_ref());
    let before = repo
        .get(job.org_id, job.id)
        .await?
        .ok_or(JobError::NotFound)?;
    if before.status.is_over() {
        return Ok(RunOutcome::Nothing);
    }
    let mut done = before.clone();
    done.status = JobStatus::Completed;
    done.finished_at = Some(app.clock.now());
    done.updated_at = app.clock.now();
    if !repo.save(&before, &done).await? {
        return Ok(RunOutcome::Nothing);
    }
    let c = &done.counts;
    info!(
        org_id = %done.org_id,
        job_id = %done.id,
        kind = ?done.kind,
        rows = c.rows,
        imported = c.imported,
        updated = c.updated,
        skipped = c.skipped_duplicates,
        rejected = c.rejected,
        succeeded = c.succeeded,
        failed = c.failed,
        "job completed"
    );
    if done.kind == JobKind::Import && c.rejected > 0 {
        let detail = format!(
            "The import of {} rejected {} of {} rows; the job lists them.",
            done.file_name.as_deref().unwrap_or("a CSV file"),
            c.rejected,
            c.rows
        );
        soraaya_notifications::data_to_fix(
            app,
            done.org_id,
            done.created_by.user_id,
            &detail,
            &format!("job:{}", done.id),
        )
        .await?;
    }
    Ok(RunOutcome::Over(JobStatus::Completed))
}

/// Ends a job as failed, saying why.
pub(crate) async fn fail(app: &App, job: &Job, why: String) -> Result<RunOutcome, JobError> {
    warn!(org_id = %job.org_id, job_id = %job.id, reason = %why, "job failed");
    let mut after = job.clone();
    after.status = JobStatus::Failed;
    after.failure = Some(why);
    after.finished_at = Some(app.clock.now());
    after.updated_at = app.clock.now();
    JobsRepo::new(app.store.as_ref()).save(job, &after).await?;
    Ok(RunOutcome::Over(JobStatus::Failed))
}

/// Starts (or resumes) a job: sends its message.
pub async fn start(app: &App, org: OrgId, job: JobId) -> Result<(), JobError> {
    app.jobs
        .send(&JobMessage {
            org_id: org,
            job_id: job,
        })
        .await?;
    Ok(())
}
