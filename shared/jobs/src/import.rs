//! Imports of files too big for one request, as jobs. The request creates
//! the job and answers with a URL to upload the file to (a presigned S3
//! `PUT`; locally a URL of `soraaya serve`); the upload starts the runner
//! (S3 tells the job queue; locally the upload does), which streams the file
//! batch by batch from where the job stands.

use std::time::{Duration, Instant};

use soraaya_core::App;
use soraaya_core::blobs::{BlobError, BlobKey, BlobReader, SignedUrl};
use soraaya_core::jobs::JobMessage;
use soraaya_core::validation::FieldErrors;
use soraaya_domain::{JobId, OrgId};
use soraaya_store::{StoreError, WriteOp};
use tracing::info;

use soraaya_leads::import::{
    Batch, BatchResult, Engine, ImportError, OnDuplicate, Rows, Sink, read_header,
};
use soraaya_leads::record::Actor;
use soraaya_leads::service::LeadError;

use crate::repo::{COUNT_SHARDS, Job, JobKind, JobStatus, JobsRepo, Resume};
use crate::runner::{JobError, RunOutcome, finish};

/// How long an upload URL works.
pub const UPLOAD_EXPIRES: Duration = Duration::from_secs(30 * 60);

/// The largest file an import job takes.
pub const MAX_IMPORT_BYTES: u64 = 100 * 1024 * 1024;

/// Batches written at once (each to its own counts shard). Updates of
/// existing leads go one batch at a time, so that rows apply in file order.
const IN_FLIGHT: usize = 16;

/// Where an import job's file is uploaded.
pub fn upload_key(org: OrgId, job: JobId) -> Result<BlobKey, BlobError> {
    BlobKey::new(format!("imports/{org}/{job}.csv"))
}

/// The job an uploaded file is for, from its key (`imports/{org}/{job}.csv`).
pub fn job_of_upload(key: &str) -> Option<JobMessage> {
    let rest = key.strip_prefix("imports/")?.strip_suffix(".csv")?;
    let (org, job) = rest.split_once('/')?;
    Some(JobMessage {
        org_id: OrgId::parse(org).ok()?,
        job_id: JobId::parse(job).ok()?,
    })
}

/// A new import job and where to upload its file.
#[derive(Debug, Clone)]
pub struct CreatedImport {
    pub job: Job,
    pub upload: SignedUrl,
}

/// Creates an import job waiting for its file.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn create_import(
    app: &App,
    org: OrgId,
    actor: &Actor,
    file_name: &str,
    on_duplicate: OnDuplicate,
) -> Result<CreatedImport, JobError> {
    let mut errors = FieldErrors::new();
    let length = file_name.chars().count();
    let file_name = file_name.trim();
    if file_name.is_empty() {
        errors.add("file_name", "is required");
    } else if length > 200 {
        errors.add("file_name", "is longer than 200 characters");
    } else if file_name.chars().any(char::is_control) {
        errors.add("file_name", "has control characters");
    }
    errors.finish().map_err(JobError::Invalid)?;
    let now = app.clock.now();
    let job = Job {
        file_name: Some(file_name.to_owned()),
        on_duplicate: Some(on_duplicate),
        ..Job::queued(org, JobKind::Import, actor, now)
    };
    JobsRepo::new(app.store.as_ref()).create(&job).await?;
    let upload = app
        .blobs
        .upload_url(&upload_key(org, job.id)?, "text/csv", UPLOAD_EXPIRES)
        .await?;
    info!(org_id = %org, job_id = %job.id, "import job created");
    Ok(CreatedImport { job, upload })
}

/// A job's batches: their marker, counts and row errors go with them.
struct JobSink<'a> {
    job: &'a Job,
    shard: u64,
}

impl Sink for JobSink<'_> {
    fn ops(&self, batch: &Batch, result: &BatchResult) -> Result<Vec<WriteOp>, StoreError> {
        let mut ops = vec![
            JobsRepo::batch_marker(self.job, batch.start)?,
            JobsRepo::add_counts(self.job, self.shard, &result.counts),
        ];
        ops.extend(JobsRepo::row_errors(self.job, &result.errors)?);
        Ok(ops)
    }

    fn marks_batches(&self) -> bool {
        true
    }
}

/// Works on an import job from where it stands, until its file ends or
/// `deadline` passes.
pub(crate) async fn run(
    app: &App,
    mut job: Job,
    deadline: Option<Instant>,
) -> Result<RunOutcome, JobError> {
    let repo = JobsRepo::new(app.store.as_ref());
    let job = &mut job;
    let key = upload_key(job.org_id, job.id)?;
    let Some(size) = app.blobs.size(&key).await? else {
        // Not uploaded yet: the upload will start the job.
        return Ok(RunOutcome::Nothing);
    };
    if size > MAX_IMPORT_BYTES {
        return Err(ImportError::BadFile(format!(
            "the file has {size} bytes; an import takes at most {MAX_IMPORT_BYTES}"
        ))
        .into());
    }
    let header = read_header(app.blobs.read_from(&key, 0).await?).await?;
    if job.status == JobStatus::Queued {
        let mut running = job.clone();
        running.status = JobStatus::Running;
        running.started_at = Some(app.clock.now());
        running.updated_at = app.clock.now();
        running.ignored_columns = header.ignored_columns.clone();
        if !repo.save(job, &running).await? {
            return Err(ImportError::Superseded.into());
        }
        running.version = job.version + 1;
        *job = running;
    }
    let resume = job.resume.unwrap_or(Resume {
        offset: header.rows_offset,
        line: header.rows_line,
    });
    let organisation = soraaya_accounts::org(app, job.org_id)
        .await
        .map_err(LeadError::from)?;
    let on_duplicate = job.on_duplicate.unwrap_or_default();
    let in_flight = if on_duplicate == OnDuplicate::Update {
        1
    } else {
        IN_FLIGHT
    };
    let source = format!(
        "import of {}",
        job.file_name.as_deref().unwrap_or("a CSV file")
    );
    let actor = job.created_by.clone();
    // Reading keeps caches of what rows name (agents, campaigns); writing
    // needs none, so the next group of batches is read while one is written.
    let mut reader = Engine::new(app, &organisation, &actor, on_duplicate, source.clone());
    let writer = Engine::new(app, &organisation, &actor, on_duplicate, source);
    let mut rows = Rows::new(
        app.blobs.read_from(&key, resume.offset).await?,
        &header,
        resume.offset,
        resume.line,
    );
    let mut group = read_group(&mut reader, &mut rows, in_flight).await?;
    loop {
        writer.claim_numbers(&mut group);
        let Some(last) = group.last() else {
            break;
        };
        let next = Resume {
            offset: last.end,
            line: last.end_line,
        };
        let write = async {
            let done = futures::future::join_all(
                group.iter().map(|batch| repo.batch_done(job, batch.start)),
            )
            .await;
            let mut pending = Vec::with_capacity(group.len());
            for (shard, (batch, done)) in group.iter().zip(done).enumerate() {
                // A batch written before a crash is not written again.
                if !done? {
                    pending.push((shard as u64 % COUNT_SHARDS, batch));
                }
            }
            let written = futures::future::join_all(pending.into_iter().map(|(shard, batch)| {
                let sink = JobSink { job, shard };
                let writer = &writer;
                async move { writer.write_batch(batch, &sink).await }
            }))
            .await;
            for result in written {
                result?;
            }
            Ok::<(), JobError>(())
        };
        let (written, following) =
            futures::join!(write, read_group(&mut reader, &mut rows, in_flight));
        written?;
        // The next run starts after these batches.
        let mut progressed = repo
            .get(job.org_id, job.id)
            .await?
            .ok_or(JobError::NotFound)?;
        if progressed.status.is_over() {
            return Ok(RunOutcome::Nothing);
        }
        let before = progressed.clone();
        progressed.resume = Some(next);
        progressed.updated_at = app.clock.now();
        if !repo.save(&before, &progressed).await? {
            return Err(ImportError::Superseded.into());
        }
        progressed.version = before.version + 1;
        *job = progressed;
        if deadline.is_some_and(|at| Instant::now() >= at) {
            // The group read ahead is read again by the next run.
            info!(org_id = %job.org_id, job_id = %job.id, rows = job.counts.rows, "import paused: out of time");
            return Ok(RunOutcome::Continue);
        }
        group = following?;
    }
    finish(app, job).await
}

/// Up to `count` batches of the file, from where `rows` stands.
async fn read_group(
    reader: &mut Engine<'_>,
    rows: &mut Rows<BlobReader>,
    count: usize,
) -> Result<Vec<Batch>, ImportError> {
    let mut group: Vec<Batch> = Vec::with_capacity(count);
    while group.len() < count {
        match reader.next_batch(rows).await? {
            Some(batch) => group.push(batch),
            None => break,
        }
    }
    Ok(group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_name_their_job() {
        let org = OrgId::new();
        let job = JobId::new();
        let key = upload_key(org, job).unwrap();
        assert_eq!(
            job_of_upload(key.as_str()),
            Some(JobMessage {
                org_id: org,
                job_id: job
            })
        );
        assert_eq!(job_of_upload("exports/x/y.csv"), None);
        assert_eq!(job_of_upload("imports/not-an-id/also-not.csv"), None);
    }
}
