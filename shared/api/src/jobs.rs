//! `/api/v1/leads/imports` and `/api/v1/leads/jobs`: work on the lead book
//! bigger than one request. Creating a job answers at once (for an import,
//! with the URL to upload the file to); the job's progress, counts, row
//! errors and failed leads are read back while it runs, and a finished
//! export's download URL with them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use soraaya_domain::{JobId, Permission};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use soraaya_accounts::Caller;
use soraaya_domain::LeadId;
use soraaya_jobs::bulk::{Choice, MAX_CHOSEN};
use soraaya_jobs::export::download;
use soraaya_jobs::import::{CreatedImport, MAX_IMPORT_BYTES, create_import};
use soraaya_jobs::repo::LeadFailure;
use soraaya_jobs::{Job, JobKind, JobsRepo};
use soraaya_leads::import::{OnDuplicate, RowError};
use soraaya_leads::list::LeadFilter;
use soraaya_leads::record::Actor;
use soraaya_leads::service::BulkChangesInput;

use crate::leads::PageParams;
use crate::permit::{Permitted, may};
use crate::{ApiError, ApiJson, ApiPath, ApiQuery, ApiState, ErrorBody, Require};

pub fn routes() -> OpenApiRouter<ApiState> {
    let (schemas, paths, jobs) = routes!(list_jobs, create_job);
    OpenApiRouter::new()
        .routes(routes!(create_import_job))
        .routes(routes!(get_import_job))
        .routes((
            schemas,
            paths,
            jobs.layer(DefaultBodyLimit::max(JOB_BODY_LIMIT)),
        ))
        .routes(routes!(get_job))
}

/// A request naming [`MAX_CHOSEN`] leads (about 3.9 MB) fits; Lambda takes 6 MB.
const JOB_BODY_LIMIT: usize = 5 * 1024 * 1024;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateImportRequest {
    /// The name of the file, as the user knows it (shown on the leads' timelines):
    /// not blank, up to 200 characters, no control characters.
    #[schema(
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub file_name: String,
    /// `skip` (default) or `update` leads whose number is already known.
    #[serde(default)]
    pub on_duplicate: OnDuplicate,
}

/// Where and how to upload the file.
#[derive(Debug, Serialize, ToSchema)]
pub struct Upload {
    pub url: String,
    /// `PUT`, with the file as the body.
    pub method: &'static str,
    /// Send `content-type: text/csv`.
    pub content_type: &'static str,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: soraaya_domain::Timestamp,
    /// The largest file taken.
    pub max_bytes: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedImportJob {
    pub job: Job,
    pub upload: Upload,
}

/// Starts an import of a file too big for `POST /api/v1/leads/import`: the
/// job waits for its file at `upload.url` and runs once it is there.
#[utoipa::path(
    post, path = "/api/v1/leads/imports", tag = "leads",
    request_body = CreateImportRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The job, waiting for its file", body = CreatedImportJob),
        (status = 403, description = "Not allowed to import", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn create_import_job(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsImport>,
    ApiJson(body): ApiJson<CreateImportRequest>,
) -> Result<(StatusCode, Json<CreatedImportJob>), ApiError> {
    let CreatedImport { job, upload } = create_import(
        &app,
        caller.org_id,
        &Actor::user(&caller),
        &body.file_name,
        body.on_duplicate,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedImportJob {
            job,
            upload: Upload {
                url: upload.url,
                method: upload.method,
                content_type: "text/csv",
                expires_at: upload.expires_at,
                max_bytes: MAX_IMPORT_BYTES,
            },
        }),
    ))
}

/// A job with a page of its row errors or failed leads.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobDetail {
    #[serde(flatten)]
    pub job: Job,
    /// Rows rejected (imports), in line order: a page, `cursor` and `limit` page it.
    pub errors: Vec<RowError>,
    /// Leads not changed (bulk jobs), in the order they were gone through: a page as well.
    pub failures: Vec<LeadFailure>,
    /// The cursor of the next page of `errors` or `failures`.
    pub next_errors_cursor: Option<String>,
    /// A completed export's file.
    pub download: Option<Download>,
}

/// Where to download an export's file (a fresh URL on every read).
#[derive(Debug, Serialize, ToSchema)]
pub struct Download {
    pub url: String,
    pub file_name: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: soraaya_domain::Timestamp,
}

async fn detail(
    app: &ApiState,
    caller: &Caller,
    id: JobId,
    page: &PageParams,
    kind: Option<JobKind>,
) -> Result<JobDetail, ApiError> {
    let (cursor, limit) = page.parse()?;
    let repo = JobsRepo::new(app.store.as_ref());
    let job = repo
        .get(caller.org_id, id)
        .await?
        .filter(|job| kind.is_none_or(|k| job.kind == k))
        .ok_or(ApiError::NotFound("job"))?;
    let (errors, failures, next) = if job.kind == JobKind::Import {
        let (errors, next) = repo.errors(caller.org_id, id, cursor, limit).await?;
        (errors, Vec::new(), next)
    } else {
        let (failures, next) = repo.failures(caller.org_id, id, cursor, limit).await?;
        (Vec::new(), failures, next)
    };
    let download = download(app, &job).await?.map(|url| Download {
        url: url.url,
        file_name: job.file_name.clone().unwrap_or_default(),
        expires_at: url.expires_at,
    });
    Ok(JobDetail {
        job,
        errors,
        failures,
        next_errors_cursor: next.map(|c| c.to_string()),
        download,
    })
}

/// An import job: its status (`queued`, `running`, `completed`, `failed`),
/// rows read so far, the counts (`imported`, `updated`, `skipped_duplicates`,
/// `rejected`), and a page of its row errors (`cursor`, `limit` page them).
#[utoipa::path(
    get, path = "/api/v1/leads/imports/{id}", tag = "leads",
    params(("id" = uuid::Uuid, Path, description = "Job id"), PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The job", body = JobDetail),
        (status = 404, description = "No such import job in this organisation", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn get_import_job(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsImport>,
    ApiPath(id): ApiPath<JobId>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<Json<JobDetail>, ApiError> {
    Ok(Json(
        detail(&app, &caller, id, &page, Some(JobKind::Import)).await?,
    ))
}

/// Any lead job (import, bulk change, export), with a page of its errors.
#[utoipa::path(
    get, path = "/api/v1/leads/jobs/{id}", tag = "leads",
    params(("id" = uuid::Uuid, Path, description = "Job id"), PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The job", body = JobDetail),
        (status = 404, description = "No such job in this organisation", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn get_job(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsRead>,
    ApiPath(id): ApiPath<JobId>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<Json<JobDetail>, ApiError> {
    Ok(Json(detail(&app, &caller, id, &page, None).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobList {
    pub items: Vec<Job>,
    pub next_cursor: Option<String>,
}

/// The organisation's lead jobs, newest first.
#[utoipa::path(
    get, path = "/api/v1/leads/jobs", tag = "leads",
    params(PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of jobs", body = JobList))
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn list_jobs(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsRead>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<Json<JobList>, ApiError> {
    let (cursor, limit) = page.parse()?;
    let (items, next) = JobsRepo::new(app.store.as_ref())
        .list(caller.org_id, cursor, limit)
        .await?;
    Ok(Json(JobList {
        items,
        next_cursor: next.map(|c| c.to_string()),
    }))
}

/// A bulk change, deletion or export of more leads than one request takes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateJobRequest {
    /// `bulk_update`, `bulk_delete` or `export` (imports start at `/api/v1/leads/imports`).
    pub kind: JobKind,
    /// The leads, by id (at most 100,000); or give `filter`.
    pub lead_ids: Option<Vec<LeadId>>,
    /// The leads these filters select (those of `GET /api/v1/leads`); `{}` is every lead.
    pub filter: Option<LeadFilter>,
    /// What a bulk update changes (the fields of `POST /api/v1/leads/bulk-update`).
    pub changes: Option<BulkChangesInput>,
}

/// Starts a bulk update, bulk deletion or export as a job: the answer comes
/// at once; `GET /api/v1/leads/jobs/{id}` (its `Location`) follows it, with
/// the leads that could not be changed and, for an export, the file's URL.
/// Needs `leads:write`, `leads:delete` or `leads:export`, by kind.
#[utoipa::path(
    post, path = "/api/v1/leads/jobs", tag = "leads",
    request_body = CreateJobRequest,
    security(("bearer" = [])),
    responses(
        (status = 202, description = "The job, queued", body = Job,
            headers(("location" = String, description = "The job's URL"))),
        (status = 403, description = "Not allowed to do this to leads", body = ErrorBody),
        (status = 413, description = "The request is over 5 MB", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn create_job(
    State(app): State<ApiState>,
    caller: Permitted<may::RunLeadJobs>,
    ApiJson(body): ApiJson<CreateJobRequest>,
) -> Result<Response, ApiError> {
    match body.kind {
        JobKind::BulkUpdate => caller.require(Permission::LeadsWrite)?,
        JobKind::BulkDelete => caller.require(Permission::LeadsDelete)?,
        JobKind::Export => caller.require(Permission::LeadsExport)?,
        JobKind::Import => {
            return Err(ApiError::field(
                "kind",
                "imports start at POST /api/v1/leads/imports",
            ));
        }
    }
    let choice = match (body.lead_ids, body.filter) {
        (Some(ids), None) => Choice::Chosen(ids),
        (None, Some(filter)) => Choice::Filtered(filter),
        (Some(_), Some(_)) => {
            return Err(ApiError::field(
                "filter",
                "give lead_ids or filter, not both",
            ));
        }
        (None, None) => {
            return Err(ApiError::field(
                "lead_ids",
                format!("name the leads (at most {MAX_CHOSEN}), or give a filter"),
            ));
        }
    };
    let job = soraaya_jobs::bulk::create(
        &app,
        caller.org_id,
        &Actor::user(&caller),
        body.kind,
        choice,
        body.changes,
    )
    .await?;
    let location = format!("/api/v1/leads/jobs/{}", job.id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(job),
    )
        .into_response())
}
