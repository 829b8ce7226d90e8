//! Bulk changes, deletions and exports of more leads than one request can
//! take. The leads are chosen first (named ids are kept with the job when it
//! is created; filtered leads are read from the listing index by the runner,
//! chunk by chunk), so a change that moves leads out of the filter does not
//! make the job skip or repeat any. Each lead is then changed with its mark
//! in the same transaction (a deletion, several writes, is marked before and
//! after), so a resumed run passes over the leads already done.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use futures::{StreamExt, TryStreamExt};
use soraaya_core::App;
use soraaya_core::validation::{FieldError, FieldErrors};
use soraaya_domain::{LeadId, OrgId};
use soraaya_leads::import::JobCounts;
use soraaya_leads::list::{LeadFilter, LeadQuery, Walk, search_matches, walk_selected};
use soraaya_leads::record::{Actor, lead_id_of};
use soraaya_leads::repo::LeadsRepo;
use soraaya_leads::service::{self, BulkChangesInput, LeadError, PreparedBulkUpdate};
use soraaya_store::{Key, WriteOp};
use tracing::info;

use crate::repo::{
    CHUNK_LEADS, COUNT_SHARDS, Job, JobKind, JobSelection, JobStatus, JobsRepo, LeadFailure,
    LeadMark, Resume,
};
use crate::runner::{JobError, RunOutcome, begin, finish};

/// Most leads one job may name by id (a request of about 4 MB).
pub const MAX_CHOSEN: usize = 100_000;

/// Leads changed at once.
const IN_FLIGHT: usize = 8;

/// What a new bulk job or export works on.
#[derive(Debug, Clone)]
pub enum Choice {
    Chosen(Vec<LeadId>),
    Filtered(LeadFilter),
}

/// Creates a bulk update (`changes`), a bulk deletion or an export of the
/// chosen leads, and queues it.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org, kind = ?kind))]
pub async fn create(
    app: &App,
    org: OrgId,
    actor: &Actor,
    kind: JobKind,
    choice: Choice,
    changes: Option<BulkChangesInput>,
) -> Result<Job, JobError> {
    let organisation = soraaya_accounts::org(app, org)
        .await
        .map_err(LeadError::from)?;
    let mut errors = FieldErrors::new();
    match (kind, &changes) {
        (JobKind::Import, _) => errors.add("kind", "imports start at /api/v1/leads/imports"),
        (JobKind::BulkUpdate, None) => errors.add("changes", "is required for a bulk update"),
        (JobKind::BulkUpdate, Some(changes)) => {
            if let Err(fields) = changes.parse() {
                within("changes", fields, &mut errors);
            }
        }
        (_, Some(_)) => errors.add("changes", "is for bulk updates only"),
        (_, None) => {}
    }
    // The ids to keep with the job (named ones, each once), and what it goes through.
    let (chosen, selection) = match choice {
        Choice::Chosen(ids) => {
            if ids.is_empty() {
                errors.add("lead_ids", "name at least one lead");
            } else if ids.len() > MAX_CHOSEN {
                errors.add("lead_ids", format!("name at most {MAX_CHOSEN} leads"));
            }
            let mut seen = std::collections::HashSet::with_capacity(ids.len());
            let ids: Vec<LeadId> = ids.into_iter().filter(|id| seen.insert(*id)).collect();
            let selection = JobSelection::Chosen {
                leads: ids.len() as u64,
            };
            (Some(ids), selection)
        }
        Choice::Filtered(filter) => {
            let mut filter_errors = FieldErrors::new();
            filter.parse(&organisation, &mut filter_errors);
            if let Err(fields) = filter_errors.finish() {
                within("filter", fields, &mut errors);
            }
            (None, JobSelection::Filtered { filter })
        }
    };
    errors.finish().map_err(JobError::Invalid)?;
    if let Some(changes) = &changes {
        // Unknown campaigns and users are refused now, not once per lead.
        match service::prepare_bulk_update(app, org, changes).await {
            Ok(_) => {}
            Err(LeadError::Invalid(fields)) => {
                let mut errors = FieldErrors::new();
                within("changes", fields, &mut errors);
                errors.finish().map_err(JobError::Invalid)?;
            }
            Err(err) => return Err(err.into()),
        }
    }
    let now = app.clock.now();
    let job = Job {
        file_name: (kind == JobKind::Export)
            .then(|| format!("leads-{}.csv", now.strftime("%Y-%m-%d"))),
        selection: Some(selection),
        changes,
        chunks: chosen
            .as_ref()
            .map(|ids| ids.len().div_ceil(CHUNK_LEADS) as u64),
        ..Job::queued(org, kind, actor, now)
    };
    let repo = JobsRepo::new(app.store.as_ref());
    if let Some(ids) = &chosen {
        // The chunks first: a job never exists without its leads.
        let chunks = ids
            .chunks(CHUNK_LEADS)
            .enumerate()
            .map(|(n, leads)| JobsRepo::chunk_put(&job, n as u64, leads))
            .collect::<Result<Vec<_>, _>>()?;
        futures::stream::iter(chunks)
            .map(|op| app.store.transact_write(vec![op]))
            .buffer_unordered(IN_FLIGHT)
            .try_collect::<Vec<()>>()
            .await?;
    }
    repo.create(&job).await?;
    crate::runner::start(app, org, job.id).await?;
    info!(org_id = %org, job_id = %job.id, kind = ?kind, "lead job created");
    Ok(job)
}

/// Works on a bulk job or an export from where it stands, until it is over
/// or `deadline` passes.
pub(crate) async fn run(
    app: &App,
    job: Job,
    deadline: Option<Instant>,
) -> Result<RunOutcome, JobError> {
    let repo = JobsRepo::new(app.store.as_ref());
    let mut job = begin(app, job).await?;
    if job.chunks.is_none()
        && let Some(outcome) = choose(app, &mut job, deadline).await?
    {
        return Ok(outcome);
    }
    if job.kind == JobKind::Export {
        crate::export::write(app, &job).await?;
        return finish(app, &job).await;
    }
    let prepared = match &job.changes {
        Some(changes) => Some(service::prepare_bulk_update(app, job.org_id, changes).await?),
        None => None,
    };
    let chunks = job.chunks.unwrap_or_default();
    let mut next = job.resume.map_or(0, |r| r.offset);
    while next < chunks {
        work_on_chunk(app, &job, next, prepared.as_ref()).await?;
        next += 1;
        let mut after = job.clone();
        after.resume = Some(Resume {
            offset: next,
            line: 0,
        });
        after.updated_at = app.clock.now();
        if !repo.save(&job, &after).await? {
            return Ok(RunOutcome::Nothing);
        }
        after.version = job.version + 1;
        job = after;
        if next < chunks && deadline.is_some_and(|at| Instant::now() >= at) {
            info!(org_id = %job.org_id, job_id = %job.id, chunk = next, "bulk job paused: out of time");
            return Ok(RunOutcome::Continue);
        }
    }
    finish(app, &job).await
}

/// Reads the leads the job's filter selects into chunks, page by page, each
/// chunk written with the job's place in one transaction. `Some` if the run
/// stops here.
async fn choose(
    app: &App,
    job: &mut Job,
    deadline: Option<Instant>,
) -> Result<Option<RunOutcome>, JobError> {
    let repo = JobsRepo::new(app.store.as_ref());
    let Some(JobSelection::Filtered { filter }) = &job.selection else {
        return Err(JobError::Store(soraaya_store::StoreError::Corrupt(
            format!("job {} has neither chosen leads nor a filter", job.id),
        )));
    };
    let organisation = soraaya_accounts::org(app, job.org_id)
        .await
        .map_err(LeadError::from)?;
    let mut errors = FieldErrors::new();
    let query: LeadQuery = filter.parse(&organisation, &mut errors);
    if let Err(fields) = errors.finish() {
        // The organisation's zone changed under a date filter, say.
        let why = describe(&fields);
        crate::runner::fail(app, job, format!("its filter no longer reads: {why}")).await?;
        return Ok(Some(RunOutcome::Over(JobStatus::Failed)));
    }
    let leads = LeadsRepo::new(app.store.as_ref());
    // A search's matches are found at once (from its words' index), then
    // written chunk after chunk; other listings are walked page by page.
    let searched = if query.searches() {
        Some(search_matches(&leads, job.org_id, &query).await?)
    } else {
        None
    };
    loop {
        let n = job.resume.map_or(0, |r| r.offset);
        let (keys, more): (Vec<Key>, Option<String>) = match &searched {
            Some(matches) => {
                let start = usize::try_from(n)
                    .unwrap_or(usize::MAX)
                    .saturating_mul(CHUNK_LEADS);
                let end = start.saturating_add(CHUNK_LEADS).min(matches.len());
                let keys = matches.get(start..end).unwrap_or_default().to_vec();
                (keys, (end < matches.len()).then(|| "search".to_owned()))
            }
            None => {
                let walk = job
                    .choose_cursor
                    .as_deref()
                    .map(Walk::parse)
                    .transpose()?
                    .unwrap_or_default();
                let (keys, next) =
                    walk_selected(&leads, job.org_id, &query, walk, CHUNK_LEADS as u32).await?;
                (keys, next.map(|w| w.to_string()))
            }
        };
        let ids: Vec<_> = keys.iter().filter_map(lead_id_of).collect();
        let mut after = job.clone();
        let mut ops = Vec::new();
        let mut written = n;
        if !ids.is_empty() {
            ops.push(JobsRepo::chunk_put(job, n, &ids)?);
            written += 1;
        }
        after.updated_at = app.clock.now();
        match more {
            Some(more) => {
                after.choose_cursor = Some(more);
                after.resume = Some(Resume {
                    offset: written,
                    line: 0,
                });
            }
            None => {
                after.choose_cursor = None;
                after.chunks = Some(written);
                after.resume = None;
                info!(org_id = %job.org_id, job_id = %job.id, chunks = written, "leads chosen");
            }
        }
        if !repo.save_with(job, &after, ops).await? {
            return Ok(Some(RunOutcome::Nothing));
        }
        after.version = job.version + 1;
        *job = after;
        if job.chunks.is_some() {
            return Ok(None);
        }
        if deadline.is_some_and(|at| Instant::now() >= at) {
            return Ok(Some(RunOutcome::Continue));
        }
    }
}

/// Field errors of a part of the request, named within it (`changes.priority`).
fn within(part: &str, fields: Vec<FieldError>, errors: &mut FieldErrors) {
    for field in fields {
        match field.field.as_str() {
            // "change at least one of…" is about the part as a whole.
            "body" => errors.add(part, field.message),
            name => errors.add(format!("{part}.{name}"), field.message),
        }
    }
}

fn describe(fields: &[FieldError]) -> String {
    fields
        .iter()
        .map(|f| format!("{} {}", f.field, f.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Changes (or erases) the leads of chunk `n` not marked yet.
async fn work_on_chunk(
    app: &App,
    job: &Job,
    n: u64,
    prepared: Option<&PreparedBulkUpdate>,
) -> Result<(), JobError> {
    let repo = JobsRepo::new(app.store.as_ref());
    let leads = repo.chunk(job, n).await?;
    let marks = repo.marks(job, n).await?;
    futures::stream::iter(leads.into_iter().enumerate())
        .map(|(position, lead)| {
            let shard = position as u64 % COUNT_SHARDS;
            let mark = marks.get(&lead).copied();
            async move {
                match (mark, prepared) {
                    (Some(LeadMark::Done | LeadMark::Failed), _) => Ok(()),
                    (_, Some(prepared)) => update_lead(app, job, n, shard, lead, prepared).await,
                    (mark, None) => erase_lead(app, job, n, shard, lead, mark).await,
                }
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

fn one(counts: impl FnOnce(&mut JobCounts)) -> JobCounts {
    let mut c = JobCounts {
        rows: 1,
        ..JobCounts::default()
    };
    counts(&mut c);
    c
}

async fn update_lead(
    app: &App,
    job: &Job,
    n: u64,
    shard: u64,
    lead: LeadId,
    prepared: &PreparedBulkUpdate,
) -> Result<(), JobError> {
    let done = vec![
        JobsRepo::mark(job, n, lead, LeadMark::Done, None)?,
        JobsRepo::add_counts(job, shard, &one(|c| c.succeeded = 1)),
    ];
    let wrote = AtomicBool::new(false);
    let result = service::apply_bulk_update(
        app,
        job.org_id,
        &job.created_by,
        lead,
        prepared,
        &done,
        &wrote,
    )
    .await;
    match result {
        Ok(_) if wrote.load(Ordering::Relaxed) => Ok(()),
        // Nothing to change: the lead is done all the same.
        Ok(_) => apply_marks(app, done).await,
        Err(err) => record_failure(app, job, n, shard, lead, err).await,
    }
}

async fn erase_lead(
    app: &App,
    job: &Job,
    n: u64,
    shard: u64,
    lead: LeadId,
    mark: Option<LeadMark>,
) -> Result<(), JobError> {
    if mark.is_none() {
        apply_marks(
            app,
            vec![JobsRepo::mark(job, n, lead, LeadMark::Erasing, None)?],
        )
        .await?;
    }
    let result = soraaya_calling::privacy::erase_lead(
        app,
        job.org_id,
        &job.created_by,
        lead,
        Some("bulk delete".into()),
    )
    .await;
    match result {
        Ok(()) => {}
        // Gone already: erased by this job in an earlier run.
        Err(LeadError::NotFound) if mark == Some(LeadMark::Erasing) => {}
        Err(err) => return record_failure(app, job, n, shard, lead, err).await,
    }
    apply_marks(
        app,
        vec![
            JobsRepo::mark(job, n, lead, LeadMark::Done, Some(LeadMark::Erasing))?,
            JobsRepo::add_counts(job, shard, &one(|c| c.succeeded = 1)),
        ],
    )
    .await
}

/// Writes marks and counts; a mark someone else wrote first means the lead
/// was counted already.
async fn apply_marks(app: &App, ops: Vec<WriteOp>) -> Result<(), JobError> {
    match app.store.transact_write(ops).await {
        Ok(()) | Err(soraaya_store::StoreError::Conflict { .. }) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// Marks the lead failed, with why, unless the failure is the store's (the
/// run then fails and is tried again from the lead).
async fn record_failure(
    app: &App,
    job: &Job,
    n: u64,
    shard: u64,
    lead: LeadId,
    err: LeadError,
) -> Result<(), JobError> {
    if let LeadError::Store(_) | LeadError::Account(_) = err {
        return Err(JobError::Lead(err));
    }
    let failure = LeadFailure {
        lead_id: lead,
        code: err.code().to_owned(),
        message: err.to_string(),
    };
    // A deletion's lead was marked `erasing` before it was tried.
    let from = (job.kind == JobKind::BulkDelete).then_some(LeadMark::Erasing);
    apply_marks(
        app,
        vec![
            JobsRepo::mark(job, n, lead, LeadMark::Failed, from)?,
            JobsRepo::add_counts(job, shard, &one(|c| c.failed = 1)),
            JobsRepo::failure(job, n, &failure)?,
        ],
    )
    .await
}
