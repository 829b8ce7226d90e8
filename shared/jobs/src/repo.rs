//! How a job and what it wrote about itself are stored: the job item, its
//! counts in shards, its batch markers, the leads it chose (in chunks), a
//! mark per lead done, and its row errors and lead failures.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use soraaya_core::keys::{keyed_item, sortable};
use soraaya_core::tables::JOBS;
use soraaya_domain::{JobId, OrgId};
use soraaya_store::{
    AttributeValue, Condition, Cursor, ItemStore, Key, Put, Query, StoreError, Update, UpdateItem,
    WriteOp, from_item,
};
use utoipa::ToSchema;

use soraaya_core::paging::collect_all;
use soraaya_domain::LeadId;
use soraaya_leads::import::{JobCounts, OnDuplicate, RowError};
use soraaya_leads::list::LeadFilter;
use soraaya_leads::record::Actor;
use soraaya_leads::service::BulkChangesInput;
use std::collections::HashMap;

/// How long a job and everything it wrote about itself are kept.
pub const JOB_KEPT: SignedDuration = SignedDuration::from_hours(30 * 24);

/// Count shards: batches in flight at once add to different items.
pub const COUNT_SHARDS: u64 = 16;

/// Lead ids kept per chunk item (about 40 KB of the 400 KB an item may hold).
pub const CHUNK_LEADS: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Import,
    BulkUpdate,
    BulkDelete,
    Export,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for its file, or for a runner.
    Queued,
    Running,
    Completed,
    Failed,
}

impl JobStatus {
    pub fn is_over(self) -> bool {
        matches!(self, JobStatus::Completed | JobStatus::Failed)
    }
}

/// Where a runner picks the work up: the next row's byte offset and line
/// (imports), or the next lead's position in the list (bulk jobs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Resume {
    pub offset: u64,
    pub line: u64,
}

/// Which leads a bulk job or an export goes through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobSelection {
    /// Leads named one by one (their ids are kept with the job).
    Chosen { leads: u64 },
    /// The leads these filters (those of `GET /api/v1/leads`) select when the job starts.
    Filtered { filter: LeadFilter },
}

/// A job, as stored and as the API shows it (its counts summed from their shards).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Job {
    pub id: JobId,
    pub org_id: OrgId,
    pub kind: JobKind,
    pub status: JobStatus,
    pub created_by: Actor,
    /// The file imported (imports), or the name an export downloads as.
    pub file_name: Option<String>,
    /// The leads gone through (bulk jobs, exports).
    #[serde(default)]
    pub selection: Option<JobSelection>,
    /// What a bulk update changes.
    #[serde(default)]
    pub changes: Option<BulkChangesInput>,
    /// Chunks of chosen lead ids, once known.
    #[serde(default)]
    pub chunks: Option<u64>,
    /// Where choosing the filtered leads goes on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    pub choose_cursor: Option<String>,
    pub on_duplicate: Option<OnDuplicate>,
    /// Columns of the file that match no lead field (imports).
    #[serde(default)]
    pub ignored_columns: Vec<String>,
    /// What was done so far.
    #[serde(default)]
    pub counts: JobCounts,
    /// Why it failed.
    pub failure: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub resume: Option<Resume>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<Timestamp>,
    pub version: u64,
}

impl Job {
    /// A new job of `kind`, queued, with nothing done yet.
    pub fn queued(org: OrgId, kind: JobKind, created_by: &Actor, now: Timestamp) -> Job {
        Job {
            id: JobId::new(),
            org_id: org,
            kind,
            status: JobStatus::Queued,
            created_by: created_by.clone(),
            file_name: None,
            on_duplicate: None,
            selection: None,
            changes: None,
            chunks: None,
            choose_cursor: None,
            ignored_columns: Vec::new(),
            counts: JobCounts::default(),
            failure: None,
            resume: None,
            created_at: now,
            updated_at: now,
            started_at: None,
            finished_at: None,
            version: 1,
        }
    }
}

fn job_pk(org: OrgId, job: JobId) -> String {
    format!("ORG#{org}#JOB#{job}")
}

fn job_key(org: OrgId, job: JobId) -> Key {
    Key::new(job_pk(org, job), "JOB")
}

fn expires_at(job: &Job) -> i64 {
    (job.created_at + JOB_KEPT).as_second()
}

/// A job's counts of one shard, as stored.
#[derive(Debug, Default, Deserialize)]
struct CountShard {
    #[serde(default)]
    rows: u64,
    #[serde(default)]
    imported: u64,
    #[serde(default)]
    updated: u64,
    #[serde(default)]
    skipped_duplicates: u64,
    #[serde(default)]
    rejected: u64,
    #[serde(default)]
    succeeded: u64,
    #[serde(default)]
    failed: u64,
}

fn chunk_key(job: &Job, n: u64) -> Key {
    Key::new(job_pk(job.org_id, job.id), format!("CHUNK#{n:06}"))
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredChunk {
    leads: Vec<LeadId>,
    expires_at: i64,
}

/// What a job did to one lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadMark {
    Done,
    Failed,
    /// Its erasure started (a deletion is several writes, not one).
    Erasing,
}

impl LeadMark {
    pub fn as_str(self) -> &'static str {
        match self {
            LeadMark::Done => "done",
            LeadMark::Failed => "failed",
            LeadMark::Erasing => "erasing",
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredMark {
    lead_id: LeadId,
    mark: LeadMark,
    expires_at: i64,
}

/// A lead a bulk job could not change, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LeadFailure {
    pub lead_id: LeadId,
    /// The code the single-lead endpoint answers with, such as `invalid_transition`.
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredFailure {
    #[serde(flatten)]
    failure: LeadFailure,
    expires_at: i64,
}

/// A row's errors, as stored.
#[derive(Debug, Serialize, Deserialize)]
struct StoredRowErrors {
    line: u64,
    errors: Vec<(String, String)>,
    expires_at: i64,
}

pub struct JobsRepo<'a> {
    store: &'a dyn ItemStore,
}

impl<'a> JobsRepo<'a> {
    pub fn new(store: &'a dyn ItemStore) -> Self {
        JobsRepo { store }
    }

    fn item(job: &Job) -> Result<soraaya_store::Item, StoreError> {
        let mut stored = job.clone();
        stored.counts = JobCounts::default();
        let mut item = keyed_item(&job_key(job.org_id, job.id), &stored)?;
        item.insert(
            "org_pk".into(),
            AttributeValue::S(format!("ORG#{}", job.org_id)),
        );
        item.insert(
            "org_sk".into(),
            AttributeValue::S(format!("{}#{}", sortable(job.created_at), job.id)),
        );
        item.insert(
            "expires_at".into(),
            AttributeValue::N(expires_at(job).to_string()),
        );
        Ok(item)
    }

    pub async fn create(&self, job: &Job) -> Result<(), StoreError> {
        self.store
            .put(Put::new(&JOBS, Self::item(job)?).if_absent())
            .await
    }

    /// Writes `after` as the next version of `before`; `false` if another
    /// writer changed the job meanwhile.
    pub async fn save(&self, before: &Job, after: &Job) -> Result<bool, StoreError> {
        let mut after = after.clone();
        after.version = before.version + 1;
        match self
            .store
            .put(
                Put::new(&JOBS, Self::item(&after)?).when(Condition::eq("version", before.version)),
            )
            .await
        {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict { .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Writes `after` as the next version of `before` together with `ops`;
    /// `false` (and nothing written) if another writer changed the job meanwhile.
    pub async fn save_with(
        &self,
        before: &Job,
        after: &Job,
        mut ops: Vec<WriteOp>,
    ) -> Result<bool, StoreError> {
        let mut after = after.clone();
        after.version = before.version + 1;
        ops.insert(
            0,
            Put::new(&JOBS, Self::item(&after)?)
                .when(Condition::eq("version", before.version))
                .into(),
        );
        match self.store.transact_write(ops).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict { failed }) if failed.contains(&0) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// The job with its counts so far.
    pub async fn get(&self, org: OrgId, id: JobId) -> Result<Option<Job>, StoreError> {
        let Some(item) = self.store.get(&JOBS, job_key(org, id)).await? else {
            return Ok(None);
        };
        let mut job: Job = from_item(item)?;
        job.counts = self.counts(org, id).await?;
        Ok(Some(job))
    }

    async fn counts(&self, org: OrgId, id: JobId) -> Result<JobCounts, StoreError> {
        let page = self
            .store
            .query(Query::new(&JOBS, job_pk(org, id)).begins_with("COUNT#"))
            .await?;
        let mut counts = JobCounts::default();
        for item in page.items {
            let shard: CountShard = from_item(item)?;
            counts.add(&JobCounts {
                rows: shard.rows,
                imported: shard.imported,
                updated: shard.updated,
                skipped_duplicates: shard.skipped_duplicates,
                rejected: shard.rejected,
                succeeded: shard.succeeded,
                failed: shard.failed,
            });
        }
        Ok(counts)
    }

    /// The organisation's jobs, newest first.
    pub async fn list(
        &self,
        org: OrgId,
        cursor: Option<Cursor>,
        limit: u32,
    ) -> Result<(Vec<Job>, Option<Cursor>), StoreError> {
        let page = self
            .store
            .query(
                Query::new(&JOBS, format!("ORG#{org}"))
                    .index("by_org")
                    .backward()
                    .limit(limit)
                    .after(cursor),
            )
            .await?;
        let mut jobs = Vec::with_capacity(page.items.len());
        for item in page.items {
            let mut job: Job = from_item(item)?;
            job.counts = self.counts(org, job.id).await?;
            jobs.push(job);
        }
        Ok((jobs, page.cursor))
    }

    /// The marker of the batch that starts at `offset`: written once, with the batch.
    pub fn batch_marker(job: &Job, offset: u64) -> Result<WriteOp, StoreError> {
        #[derive(Serialize)]
        struct Marker {
            expires_at: i64,
        }
        let key = Key::new(job_pk(job.org_id, job.id), format!("BATCH#{offset:016}"));
        let marker = Marker {
            expires_at: expires_at(job),
        };
        Ok(Put::new(&JOBS, keyed_item(&key, &marker)?)
            .if_absent()
            .into())
    }

    /// Whether the batch that starts at `offset` was written.
    pub async fn batch_done(&self, job: &Job, offset: u64) -> Result<bool, StoreError> {
        let key = Key::new(job_pk(job.org_id, job.id), format!("BATCH#{offset:016}"));
        Ok(self.store.get(&JOBS, key).await?.is_some())
    }

    /// Adds a batch's counts to one shard.
    pub fn add_counts(job: &Job, shard: u64, counts: &JobCounts) -> WriteOp {
        let key = Key::new(
            job_pk(job.org_id, job.id),
            format!("COUNT#{}", shard % COUNT_SHARDS),
        );
        let signed = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let update = Update::new()
            .add("rows", signed(counts.rows))
            .add("imported", signed(counts.imported))
            .add("updated", signed(counts.updated))
            .add("skipped_duplicates", signed(counts.skipped_duplicates))
            .add("rejected", signed(counts.rejected))
            .add("succeeded", signed(counts.succeeded))
            .add("failed", signed(counts.failed))
            .set("expires_at", expires_at(job));
        UpdateItem::new(&JOBS, key, update).into()
    }

    /// The items that record rows' errors, one per row.
    pub fn row_errors(job: &Job, errors: &[RowError]) -> Result<Vec<WriteOp>, StoreError> {
        let mut by_line: Vec<(u64, Vec<(String, String)>)> = Vec::new();
        for error in errors {
            match by_line.last_mut() {
                Some((line, list)) if *line == error.line => {
                    list.push((error.field.clone(), error.message.clone()));
                }
                _ => by_line.push((
                    error.line,
                    vec![(error.field.clone(), error.message.clone())],
                )),
            }
        }
        by_line
            .into_iter()
            .map(|(line, errors)| {
                let key = Key::new(job_pk(job.org_id, job.id), format!("ERROR#{line:012}"));
                let record = StoredRowErrors {
                    line,
                    errors,
                    expires_at: expires_at(job),
                };
                Ok(Put::new(&JOBS, keyed_item(&key, &record)?).into())
            })
            .collect()
    }

    /// The item holding chunk `n` of the leads the job goes through.
    pub fn chunk_put(job: &Job, n: u64, leads: &[LeadId]) -> Result<WriteOp, StoreError> {
        let record = StoredChunk {
            leads: leads.to_vec(),
            expires_at: expires_at(job),
        };
        Ok(Put::new(&JOBS, keyed_item(&chunk_key(job, n), &record)?).into())
    }

    /// Chunk `n` of the leads the job goes through.
    pub async fn chunk(&self, job: &Job, n: u64) -> Result<Vec<LeadId>, StoreError> {
        match self.store.get(&JOBS, chunk_key(job, n)).await? {
            Some(item) => Ok(from_item::<StoredChunk>(item)?.leads),
            None => Err(StoreError::Corrupt(format!(
                "job {} has no chunk {n} of leads",
                job.id
            ))),
        }
    }

    /// What the job did so far to the leads of chunk `n`.
    pub async fn marks(&self, job: &Job, n: u64) -> Result<HashMap<LeadId, LeadMark>, StoreError> {
        let query =
            Query::new(&JOBS, job_pk(job.org_id, job.id)).begins_with(format!("MARK#{n:06}#"));
        let marks: Vec<StoredMark> = collect_all(self.store, query).await?;
        Ok(marks.into_iter().map(|m| (m.lead_id, m.mark)).collect())
    }

    /// Marks a lead of chunk `n`: written once (`if_absent`), or moved on
    /// from `from` (a deletion started and now done).
    pub fn mark(
        job: &Job,
        n: u64,
        lead: LeadId,
        mark: LeadMark,
        from: Option<LeadMark>,
    ) -> Result<WriteOp, StoreError> {
        let key = Key::new(job_pk(job.org_id, job.id), format!("MARK#{n:06}#{lead}"));
        let record = StoredMark {
            lead_id: lead,
            mark,
            expires_at: expires_at(job),
        };
        let put = Put::new(&JOBS, keyed_item(&key, &record)?);
        Ok(match from {
            None => put.if_absent(),
            Some(from) => put.when(Condition::eq("mark", from.as_str())),
        }
        .into())
    }

    /// Records why a lead could not be changed.
    pub fn failure(job: &Job, n: u64, failure: &LeadFailure) -> Result<WriteOp, StoreError> {
        let key = Key::new(
            job_pk(job.org_id, job.id),
            format!("FAIL#{n:06}#{}", failure.lead_id),
        );
        let record = StoredFailure {
            failure: failure.clone(),
            expires_at: expires_at(job),
        };
        Ok(Put::new(&JOBS, keyed_item(&key, &record)?).into())
    }

    /// A page of the leads the job could not change, in the order it went through them.
    pub async fn failures(
        &self,
        org: OrgId,
        id: JobId,
        cursor: Option<Cursor>,
        limit: u32,
    ) -> Result<(Vec<LeadFailure>, Option<Cursor>), StoreError> {
        let page = self
            .store
            .query(
                Query::new(&JOBS, job_pk(org, id))
                    .begins_with("FAIL#")
                    .limit(limit)
                    .after(cursor),
            )
            .await?;
        let failures = page
            .items
            .into_iter()
            .map(|item| from_item::<StoredFailure>(item).map(|s| s.failure))
            .collect::<Result<_, _>>()?;
        Ok((failures, page.cursor))
    }

    /// A page of the job's row errors, in line order.
    pub async fn errors(
        &self,
        org: OrgId,
        id: JobId,
        cursor: Option<Cursor>,
        limit: u32,
    ) -> Result<(Vec<RowError>, Option<Cursor>), StoreError> {
        let page = self
            .store
            .query(
                Query::new(&JOBS, job_pk(org, id))
                    .begins_with("ERROR#")
                    .limit(limit)
                    .after(cursor),
            )
            .await?;
        let mut errors = Vec::new();
        for item in page.items {
            let stored: StoredRowErrors = from_item(item)?;
            errors.extend(stored.errors.into_iter().map(|(field, message)| RowError {
                line: stored.line,
                field,
                message,
            }));
        }
        Ok((errors, page.cursor))
    }
}
