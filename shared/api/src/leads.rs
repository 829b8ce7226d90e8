//! `/api/v1/leads` and `/api/v1/dnc`.

use axum::Json;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use soraaya_domain::{CampaignId, Lead, LeadId, LeadStatus, Priority, UserId};
use soraaya_store::Cursor;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use soraaya_accounts::Caller;
use soraaya_calling::privacy::{self, PersonalData};
use soraaya_calling::records::{Transcript, transcripts_of};
use soraaya_campaigns::matching::{self, PropertyMatches};
use soraaya_core::validation::Patch;
use soraaya_domain::moment::parse_moment;
use soraaya_leads::export::{Selection, export};
use soraaya_leads::import::{ImportReport, OnDuplicate, import};
use soraaya_leads::input::LeadInput;
use soraaya_leads::list::{LeadFilter, LeadPage, LeadQuery, SortField, list};
use soraaya_leads::record::{Actor, TimelineEvent};
use soraaya_leads::repo::{DncEntry, LeadsRepo};
use soraaya_leads::service::{self, BulkChangesInput, StatusChange};
use std::sync::atomic::AtomicBool;

use crate::permit::{Permitted, may};
use crate::{
    ApiError, ApiJson, ApiPath, ApiQuery, ApiState, ErrorBody, FieldErrors, etag, if_match,
};

/// Largest CSV file `POST /api/v1/leads/import` takes; larger files go
/// through an import job (`POST /api/v1/leads/imports`), whose file is
/// uploaded straight to storage. 2 MiB holds a 10,000-lead sheet (about
/// 1.1 MB) and, base64-encoded by API Gateway, stays well under Lambda's
/// 6 MB request payload.
pub const IMPORT_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// A multipart form carries a little more than its file.
const MULTIPART_OVERHEAD: usize = 64 * 1024;

fn import_too_large() -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the file is larger than the {IMPORT_BODY_LIMIT} bytes this endpoint takes; \
         import it through POST /api/v1/leads/imports"
    ))
}

/// The error a capped upload stream ends with.
#[derive(Debug, thiserror::Error)]
#[error("the upload is larger than the cap")]
struct OverCap;

/// Ends `stream` with an error once it has passed `cap` bytes.
fn capped<S, E>(stream: S, cap: usize) -> impl futures::Stream<Item = std::io::Result<bytes::Bytes>>
where
    S: futures::Stream<Item = Result<bytes::Bytes, E>>,
    E: std::error::Error + Send + Sync + 'static,
{
    let mut seen = 0usize;
    stream
        .map_err(std::io::Error::other)
        .and_then(move |chunk| {
            seen += chunk.len();
            futures::future::ready(if seen > cap {
                Err(std::io::Error::other(OverCap))
            } else {
                Ok(chunk)
            })
        })
}

/// The whole of a capped upload, read before anything is imported, so that
/// a file over the cap imports nothing.
async fn read_capped(
    stream: impl futures::Stream<Item = std::io::Result<bytes::Bytes>>,
) -> Result<Vec<u8>, ApiError> {
    let mut file = Vec::new();
    let mut stream = std::pin::pin!(stream);
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => file.extend_from_slice(&chunk),
            Err(err) if err.get_ref().is_some_and(|e| e.is::<OverCap>()) => {
                return Err(import_too_large());
            }
            Err(err) => return Err(ApiError::bad_request("unreadable_body", err.to_string())),
        }
    }
    Ok(file)
}
/// Most leads one bulk request may name.
pub const MAX_BULK: usize = 500;

pub fn routes() -> OpenApiRouter<ApiState> {
    let (schemas, paths, import_route) = routes!(import_leads);
    OpenApiRouter::new()
        .routes(routes!(list_leads, create_lead))
        .routes(routes!(get_lead, update_lead, delete_lead))
        .routes(routes!(change_status))
        .routes(routes!(timeline))
        .routes(routes!(transcripts))
        .routes(routes!(personal_data))
        .routes(routes!(property_matches))
        .routes(routes!(add_note))
        .routes(routes!(bulk_update))
        .routes(routes!(bulk_delete))
        .routes(routes!(export_leads))
        .routes((
            schemas,
            paths,
            import_route.layer(DefaultBodyLimit::max(
                IMPORT_BODY_LIMIT + MULTIPART_OVERHEAD,
            )),
        ))
        .routes(routes!(list_dnc, add_dnc))
        .routes(routes!(remove_dnc))
}

/// Filters, sort and page of a listing or export.
/// The last page a listing serves.
const MAX_PAGE: u32 = 10_000;

#[derive(Debug, Default, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct ListParams {
    /// One status or several, comma-separated.
    #[param(value_type = Option<Vec<LeadStatus>>, style = Form, explode = false)]
    pub status: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub campaign_id: Option<String>,
    /// One priority or several, comma-separated.
    #[param(value_type = Option<Vec<Priority>>, style = Form, explode = false)]
    pub priority: Option<String>,
    /// Part of the name, phone, email, property or location.
    #[param(max_length = 100)]
    pub search: Option<String>,
    /// Created on or after (date or date-time; dates in the organisation's zone).
    #[param(schema_with = moment_schema)]
    pub created_from: Option<String>,
    /// Created on or before (a date includes the whole day).
    #[param(schema_with = moment_schema)]
    pub created_to: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub assigned_agent_id: Option<String>,
    pub do_not_call: Option<bool>,
    pub tag: Option<String>,
    #[param(schema_with = sort_schema)]
    pub sort: Option<String>,
    /// Page number, from 1 (to 10,000; past that, narrow the filter).
    #[param(minimum = 1, maximum = 10000)]
    pub page: Option<u32>,
    /// Leads per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Export only (documented there): these lead ids, comma-separated.
    #[param(ignore)]
    pub ids: Option<String>,
}

/// A date (in the organisation's zone) or a date and time.
pub(crate) fn moment_schema() -> utoipa::openapi::Schema {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
    let string = |format| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(format)))
    };
    OneOfBuilder::new()
        .description(Some(
            "A date (the whole day, in the organisation's zone) or a date and time",
        ))
        .item(string(KnownFormat::Date))
        .item(string(KnownFormat::DateTime))
        .build()
        .into()
}

/// The sort keys the listing knows, each ascending or (`-`) descending.
fn sort_schema() -> utoipa::openapi::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let keys = SortField::NAMES
        .iter()
        .flat_map(|name| [name.to_string(), format!("-{name}")]);
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "The order (default created_at); `-` in front for descending",
        ))
        .enum_values(Some(keys))
        .build()
        .into()
}

fn comma_list(text: &Option<String>) -> Vec<&str> {
    text.as_deref()
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

impl ListParams {
    fn filter(&self) -> LeadFilter {
        LeadFilter {
            status: self.status.clone(),
            campaign_id: self.campaign_id.clone(),
            priority: self.priority.clone(),
            search: self.search.clone(),
            created_from: self.created_from.clone(),
            created_to: self.created_to.clone(),
            assigned_agent_id: self.assigned_agent_id.clone(),
            do_not_call: self.do_not_call,
            tag: self.tag.clone(),
        }
    }
}

async fn lead_query(
    app: &ApiState,
    caller: &Caller,
    params: &ListParams,
) -> Result<LeadQuery, ApiError> {
    let organisation = soraaya_accounts::org(app, caller.org_id).await?;
    let mut errors = FieldErrors::new();
    let mut query = params.filter().parse(&organisation, &mut errors);
    if let Some(sort) = &params.sort {
        let (descending, name) = match sort.trim().strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, sort.trim()),
        };
        match SortField::parse(name) {
            Some(field) => {
                query.sort = field;
                query.descending = descending;
            }
            None => errors.add(
                "sort",
                format!(
                    "must be {}, with - for descending",
                    SortField::NAMES.join(", ")
                ),
            ),
        }
    }
    query.page = params.page.unwrap_or(1);
    if !(1..=MAX_PAGE).contains(&query.page) {
        errors.add("page", format!("must be from 1 to {MAX_PAGE}"));
    }
    query.limit = params.limit.unwrap_or(50);
    if !(1..=200).contains(&query.limit) {
        errors.add("limit", "must be from 1 to 200");
    }
    errors.finish()?;
    Ok(query)
}

/// Leads of the organisation, filtered, searched, sorted and paged.
#[utoipa::path(
    get, path = "/api/v1/leads", tag = "leads",
    params(ListParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of leads", body = LeadPage),
        (status = 422, description = "Invalid filters", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn list_leads(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsRead>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<LeadPage>, ApiError> {
    if params.ids.is_some() {
        return Err(ApiError::field("ids", "is for export only"));
    }
    let query = lead_query(&app, &caller, &params).await?;
    let repo = LeadsRepo::new(app.store.as_ref());
    let page = list(&repo, caller.org_id, &query, &app.renderings).await?;
    Ok(Json(page))
}

/// Add a lead. Its number must not belong to another lead of the organisation.
#[utoipa::path(
    post, path = "/api/v1/leads", tag = "leads",
    request_body = LeadInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Lead),
        (status = 409, description = "Another lead has this number", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn create_lead(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsWrite>,
    ApiJson(input): ApiJson<LeadInput>,
) -> Result<Response, ApiError> {
    let lead = service::create(&app, caller.org_id, &Actor::user(&caller), input).await?;
    Ok((StatusCode::CREATED, etag(lead.version), Json(lead)).into_response())
}

/// One lead. The `ETag` is its version, for `If-Match` on updates.
#[utoipa::path(
    get, path = "/api/v1/leads/{id}", tag = "leads",
    params(("id" = uuid::Uuid, Path, description = "Lead id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The lead", body = Lead),
        (status = 404, description = "No such lead in this organisation", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn get_lead(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsRead>,
    ApiPath(id): ApiPath<LeadId>,
) -> Result<Response, ApiError> {
    let lead = service::get(&app, caller.org_id, id).await?;
    Ok((etag(lead.version), Json(lead)).into_response())
}

/// Change fields of a lead: absent fields stay, `null` clears. With
/// `If-Match: "<version>"` the change applies only to that version.
#[utoipa::path(
    put, path = "/api/v1/leads/{id}", tag = "leads",
    params(("id" = uuid::Uuid, Path, description = "Lead id")),
    request_body = LeadInput,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = Lead),
        (status = 404, description = "No such lead", body = ErrorBody),
        (status = 409, description = "Number taken, or version mismatch", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn update_lead(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsWrite>,
    ApiPath(id): ApiPath<LeadId>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<LeadInput>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?;
    let lead = service::update(
        &app,
        caller.org_id,
        &Actor::user(&caller),
        id,
        input,
        version,
    )
    .await?;
    Ok((etag(lead.version), Json(lead)).into_response())
}

/// Erase a lead and everything about it (a real erase; the audit trail keeps
/// only that it happened, by whom and when).
#[utoipa::path(
    delete, path = "/api/v1/leads/{id}", tag = "leads",
    params(("id" = uuid::Uuid, Path, description = "Lead id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Erased"),
        (status = 404, description = "No such lead", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn delete_lead(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsDelete>,
    ApiPath(id): ApiPath<LeadId>,
) -> Result<StatusCode, ApiError> {
    privacy::erase_lead(&app, caller.org_id, &Actor::user(&caller), id, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    #[schema(example = "qualified")]
    pub status: String,
    /// Why, for the timeline.
    pub reason: Option<String>,
    /// With `callback_requested`: when to call (RFC 3339, or local time in the lead's zone).
    pub callback_at: Option<String>,
}

/// Move a lead to another status. Transitions the state machine does not
/// allow answer 409 with the reason and the allowed next statuses. With
/// `If-Match: "<version>"` the move applies only to that version.
#[utoipa::path(
    put, path = "/api/v1/leads/{id}/status", tag = "leads",
    params(("id" = uuid::Uuid, Path, description = "Lead id")),
    request_body = StatusRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Moved", body = Lead),
        (status = 404, description = "No such lead", body = ErrorBody),
        (status = 409, description = "Transition not allowed, or changed concurrently", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn change_status(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsStatus>,
    ApiPath(id): ApiPath<LeadId>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<StatusRequest>,
) -> Result<Response, ApiError> {
    let version = if_match(&headers)?;
    let change = status_change(
        &app,
        &caller,
        id,
        &body.status,
        body.reason,
        body.callback_at.as_deref(),
    )
    .await?;
    let lead = service::change_status(
        &app,
        caller.org_id,
        &Actor::user(&caller),
        id,
        change,
        soraaya_domain::Mover::Person,
        version,
    )
    .await?;
    Ok((etag(lead.version), Json(lead)).into_response())
}

async fn status_change(
    app: &ApiState,
    caller: &Caller,
    id: LeadId,
    status: &str,
    reason: Option<String>,
    callback_at: Option<&str>,
) -> Result<StatusChange, ApiError> {
    let mut errors = FieldErrors::new();
    let to = LeadStatus::parse(status);
    if to.is_none() {
        errors.add("status", format!("{status:?} is not a lead status"));
    }
    let callback_at = match callback_at {
        None => None,
        Some(text) => {
            let zone = service::get(app, caller.org_id, id).await?.timezone;
            errors.check("callback_at", parse_moment(text, &zone))
        }
    };
    errors.finish()?;
    let to = to.ok_or_else(|| ApiError::field("status", "is required"))?;
    Ok(StatusChange {
        to,
        reason: reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty()),
        callback_at,
    })
}

#[derive(Debug, Default, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct PageParams {
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

impl PageParams {
    pub(crate) fn parse(&self) -> Result<(Option<Cursor>, u32), ApiError> {
        let mut errors = FieldErrors::new();
        let page = page_of(self.cursor.as_deref(), self.limit, &mut errors);
        errors.finish()?;
        Ok(page)
    }
}

/// A page's `cursor` (one this API returned) and `limit` (1 to 200, 50 by
/// default), each wrong one an error on its field.
pub(crate) fn page_of(
    cursor: Option<&str>,
    limit: Option<u32>,
    errors: &mut FieldErrors,
) -> (Option<Cursor>, u32) {
    let cursor = cursor.and_then(|text| {
        errors.check(
            "cursor",
            Cursor::parse(text).map_err(|_| "is not a cursor this API returned"),
        )
    });
    let limit = limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        errors.add("limit", "must be from 1 to 200");
    }
    (cursor, limit)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelinePage {
    pub items: Vec<TimelineEvent>,
    pub next_cursor: Option<String>,
}

/// What happened to a lead, newest first: who or what, when, from, to, why.
#[utoipa::path(
    get, path = "/api/v1/leads/{id}/timeline", tag = "leads",
    params(("id" = uuid::Uuid, Path, description = "Lead id"), PageParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Timeline page", body = TimelinePage),
        (status = 404, description = "No such lead", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn timeline(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsRead>,
    ApiPath(id): ApiPath<LeadId>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<Json<TimelinePage>, ApiError> {
    let (cursor, limit) = page.parse()?;
    let (items, next) = service::timeline(&app, caller.org_id, id, cursor, limit).await?;
    Ok(Json(TimelinePage {
        items,
        next_cursor: next.map(|c| c.to_string()),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TranscriptList {
    pub items: Vec<Transcript>,
    pub total: usize,
}

/// The lead's call transcripts, newest first: messages with timestamps,
/// summary, structured data, score, recording, duration, cost, ended reason.
#[utoipa::path(
    get, path = "/api/v1/leads/{id}/transcripts", tag = "leads",
    params(("id" = uuid::Uuid, Path, description = "Lead id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Transcripts", body = TranscriptList),
        (status = 404, description = "No such lead", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn transcripts(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsRead>,
    ApiPath(id): ApiPath<LeadId>,
) -> Result<Json<TranscriptList>, ApiError> {
    service::get(&app, caller.org_id, id).await?;
    let retention = soraaya_accounts::org(&app, caller.org_id)
        .await?
        .settings
        .data_retention;
    let items = soraaya_calling::records::retained(
        transcripts_of(app.store.as_ref(), caller.org_id, id).await?,
        retention,
        app.clock.now(),
    );
    Ok(Json(TranscriptList {
        total: items.len(),
        items,
    }))
}

/// Everything held about the person, as one document, for an access
/// request: the lead (contact, preferences, consent, do-not-call, notes),
/// its do-not-call entry, its whole timeline, its transcripts with their
/// analysis and recording references, and the notifications about them.
/// Erasing the lead (`DELETE /api/v1/leads/{id}`) removes all of it but the
/// do-not-call entry (the number alone, so that it is never called again).
/// Each export is audited (`entity=lead`, action `export_personal_data`).
#[utoipa::path(
    get, path = "/api/v1/leads/{id}/personal-data", tag = "leads",
    params(("id" = uuid::Uuid, Path, description = "Lead id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The person's data", body = PersonalData),
        (status = 404, description = "No such lead", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn personal_data(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsExport>,
    ApiPath(id): ApiPath<LeadId>,
) -> Result<Response, ApiError> {
    let data = privacy::personal_data(&app, &caller, id).await?;
    tracing::info!(org_id = %caller.org_id, lead_id = %id, user_id = %caller.user_id, "personal data exported");
    let disposition = format!("attachment; filename=\"personal-data-{id}.json\"");
    Ok(([(header::CONTENT_DISPOSITION, disposition)], Json(data)).into_response())
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct PropertyMatchParams {
    /// Properties to return: 1 to 50 (default 10).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u16>,
}

/// The organisation's available properties ranked for this lead, best fit
/// first: each with its fit (0–100) and the points and reason of each factor
/// (budget, location, type, size, amenities), and whether the lead's
/// campaign presents it. Sold and reserved properties are left out.
#[utoipa::path(
    get, path = "/api/v1/leads/{id}/property-matches", tag = "leads",
    params(("id" = uuid::Uuid, Path, description = "Lead id"), PropertyMatchParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Properties, best fit first", body = PropertyMatches),
        (status = 404, description = "No such lead", body = ErrorBody),
        (status = 422, description = "Invalid parameters", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn property_matches(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsRead>,
    ApiPath(id): ApiPath<LeadId>,
    ApiQuery(params): ApiQuery<PropertyMatchParams>,
) -> Result<Json<PropertyMatches>, ApiError> {
    let mut errors = FieldErrors::new();
    let limit = params.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        errors.add("limit", "must be 1 to 50");
    }
    errors.finish()?;
    Ok(Json(
        matching::property_matches(&app, caller.org_id, id, usize::from(limit)).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// Not blank; up to 5,000 characters.
    #[schema(min_length = 1, max_length = 5000, pattern = r"\S")]
    pub text: String,
}

/// Add a note to a lead's timeline.
#[utoipa::path(
    post, path = "/api/v1/leads/{id}/notes", tag = "leads",
    params(("id" = uuid::Uuid, Path, description = "Lead id")),
    request_body = NoteRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Added", body = TimelineEvent),
        (status = 404, description = "No such lead", body = ErrorBody),
        (status = 422, description = "Empty or too long", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn add_note(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsNotes>,
    ApiPath(id): ApiPath<LeadId>,
    ApiJson(body): ApiJson<NoteRequest>,
) -> Result<(StatusCode, Json<TimelineEvent>), ApiError> {
    let event =
        service::add_note(&app, caller.org_id, &Actor::user(&caller), id, &body.text).await?;
    Ok((StatusCode::CREATED, Json(event)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkUpdateRequest {
    pub lead_ids: Vec<LeadId>,
    pub status: Option<String>,
    /// Why, for the status change.
    pub reason: Option<String>,
    pub priority: Option<String>,
    /// A campaign id, or `null` to take the leads out of their campaign.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub campaign_id: Patch<CampaignId>,
    /// A user id, or `null` to unassign.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assigned_agent_id: Patch<UserId>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkDeleteRequest {
    /// 1 to 500 leads.
    #[schema(min_items = 1, max_items = 500)]
    pub lead_ids: Vec<LeadId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkFailure {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    pub lead_id: LeadId,
    pub ok: bool,
    pub error: Option<BulkFailure>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResponse {
    pub succeeded: usize,
    pub failed: usize,
    pub results: Vec<BulkResult>,
}

fn check_ids(ids: &[LeadId]) -> Result<Vec<LeadId>, ApiError> {
    if ids.is_empty() {
        return Err(ApiError::field("lead_ids", "name at least one lead"));
    }
    if ids.len() > MAX_BULK {
        return Err(ApiError::field(
            "lead_ids",
            format!("name at most {MAX_BULK} leads"),
        ));
    }
    let mut unique = Vec::with_capacity(ids.len());
    for id in ids {
        if !unique.contains(id) {
            unique.push(*id);
        }
    }
    Ok(unique)
}

fn bulk_response(results: Vec<(LeadId, Result<(), ApiError>)>) -> BulkResponse {
    let results: Vec<BulkResult> = results
        .into_iter()
        .map(|(lead_id, result)| match result {
            Ok(()) => BulkResult {
                lead_id,
                ok: true,
                error: None,
            },
            Err(err) => BulkResult {
                lead_id,
                ok: false,
                error: Some(BulkFailure {
                    code: err.code().to_owned(),
                    message: err.to_string(),
                }),
            },
        })
        .collect();
    let succeeded = results.iter().filter(|r| r.ok).count();
    BulkResponse {
        failed: results.len() - succeeded,
        succeeded,
        results,
    }
}

/// Change the status, priority, campaign or assignee of many leads; each lead
/// succeeds or fails on its own, with a result per lead.
#[utoipa::path(
    post, path = "/api/v1/leads/bulk-update", tag = "leads",
    request_body = BulkUpdateRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A result per lead", body = BulkResponse),
        (status = 422, description = "Invalid request", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn bulk_update(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsWrite>,
    ApiJson(body): ApiJson<BulkUpdateRequest>,
) -> Result<Json<BulkResponse>, ApiError> {
    let ids = check_ids(&body.lead_ids)?;
    let input = BulkChangesInput {
        status: body.status,
        reason: body.reason,
        priority: body.priority,
        campaign_id: body.campaign_id,
        assigned_agent_id: body.assigned_agent_id,
    };
    let prepared = service::prepare_bulk_update(&app, caller.org_id, &input).await?;
    let actor = Actor::user(&caller);
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        let result = service::apply_bulk_update(
            &app,
            caller.org_id,
            &actor,
            id,
            &prepared,
            &[],
            &AtomicBool::new(false),
        )
        .await;
        results.push((id, result.map(drop).map_err(ApiError::from)));
    }
    Ok(Json(bulk_response(results)))
}

/// Erase many leads; a result per lead.
#[utoipa::path(
    post, path = "/api/v1/leads/bulk-delete", tag = "leads",
    request_body = BulkDeleteRequest,
    security(("bearer" = [])),
    responses((status = 200, description = "A result per lead", body = BulkResponse))
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn bulk_delete(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsDelete>,
    ApiJson(body): ApiJson<BulkDeleteRequest>,
) -> Result<Json<BulkResponse>, ApiError> {
    let ids = check_ids(&body.lead_ids)?;
    let actor = Actor::user(&caller);
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        let result =
            privacy::erase_lead(&app, caller.org_id, &actor, id, Some("bulk delete".into())).await;
        results.push((id, result.map_err(ApiError::from)));
    }
    Ok(Json(bulk_response(results)))
}

/// The filtered (or chosen) leads as CSV, in the columns import reads.
#[utoipa::path(
    get, path = "/api/v1/leads/export", tag = "leads",
    params(
        ListParams,
        ("ids" = Option<Vec<uuid::Uuid>>, Query, style = Form, explode = false,
            description = "These leads (up to 10,000), comma-separated; the other filters are then checked but not applied"),
    ),
    security(("bearer" = [])),
    responses((status = 200, description = "CSV file", content_type = "text/csv"))
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn export_leads(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsExport>,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Response, ApiError> {
    // The filters are checked even when ids choose the leads.
    let query = lead_query(&app, &caller, &params).await?;
    let selection = match &params.ids {
        Some(ids) => {
            let mut errors = FieldErrors::new();
            let ids: Vec<LeadId> = comma_list(&Some(ids.clone()))
                .into_iter()
                .filter_map(|id| {
                    errors.check(
                        "ids",
                        LeadId::parse(id).map_err(|_| format!("{id:?} is not a lead id")),
                    )
                })
                .collect();
            if ids.len() > 10_000 {
                errors.add("ids", "name at most 10000 leads");
            }
            errors.finish()?;
            Selection::Chosen(ids)
        }
        None => Selection::Filtered(query),
    };
    let today = app.clock.now().strftime("%Y-%m-%d").to_string();
    let body = Body::from_stream(export(app.0.clone(), caller.org_id, selection));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"leads-{today}.csv\""),
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct ImportParams {
    /// `skip` (default) or `update` leads whose number is already known.
    pub on_duplicate: OnDuplicate,
}

/// Import leads from CSV: multipart field `file`, or a `text/csv` body.
/// `,` or `;` separated, UTF-8 with or without BOM; header names are matched
/// case-insensitively with common aliases; phones and budgets are normalised;
/// duplicates (in the file or already known) are skipped or update the known
/// lead; every rejected row is reported with its line and reason.
#[utoipa::path(
    post, path = "/api/v1/leads/import", tag = "leads",
    params(ImportParams),
    request_body(content = String, content_type = "text/csv"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What was imported", body = ImportReport),
        (status = 400, description = "Not a usable CSV file", body = ErrorBody),
        (status = 413, description = "Larger than 2 MiB: use an import job", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn import_leads(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsImport>,
    ApiQuery(params): ApiQuery<ImportParams>,
    request: Request,
) -> Result<Json<ImportReport>, ApiError> {
    let actor = Actor::user(&caller);
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > IMPORT_BODY_LIMIT + MULTIPART_OVERHEAD) {
        return Err(import_too_large());
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let report = if content_type.starts_with("multipart/form-data") {
        let multipart_error = |e: axum::extract::multipart::MultipartError| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                import_too_large()
            } else {
                ApiError::bad_request("invalid_multipart", e.body_text())
            }
        };
        let mut multipart = Multipart::from_request(request, &app)
            .await
            .map_err(|e| ApiError::bad_request("invalid_multipart", e.body_text()))?;
        loop {
            let field = multipart.next_field().await.map_err(multipart_error)?;
            let Some(field) = field else {
                return Err(ApiError::field(
                    "file",
                    "is required (multipart field \"file\")",
                ));
            };
            if field.name() != Some("file") {
                continue;
            }
            let source = field.file_name().map(|name| format!("import of {name}"));
            let file = read_capped(capped(field, IMPORT_BODY_LIMIT)).await?;
            break import(
                &app,
                caller.org_id,
                &actor,
                file.as_slice(),
                params.on_duplicate,
                source,
            )
            .await?;
        }
    } else if content_type.starts_with("text/csv")
        || content_type.starts_with("application/csv")
        || content_type.starts_with("text/plain")
    {
        let file = read_capped(capped(
            request.into_body().into_data_stream(),
            IMPORT_BODY_LIMIT,
        ))
        .await?;
        import(
            &app,
            caller.org_id,
            &actor,
            file.as_slice(),
            params.on_duplicate,
            None,
        )
        .await?
    } else {
        return Err(ApiError::UnsupportedMediaType(
            "send a multipart form with a file field, or a text/csv body".into(),
        ));
    };
    if report.rejected > 0 {
        let first = report
            .errors
            .first()
            .map(|e| format!(" (line {}: {} {})", e.line, e.field, e.message))
            .unwrap_or_default();
        let detail = format!(
            "An import rejected {} of {} rows{first}.",
            report.rejected, report.rows
        );
        let source = format!("import:{}", uuid::Uuid::now_v7());
        soraaya_notifications::data_to_fix(
            &app,
            caller.org_id,
            Some(caller.user_id),
            &detail,
            &source,
        )
        .await?;
    }
    Ok(Json(report))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DncPage {
    pub items: Vec<DncEntry>,
    pub next_cursor: Option<String>,
}

/// Numbers the organisation must never call.
#[utoipa::path(
    get, path = "/api/v1/dnc", tag = "dnc",
    params(PageParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of the list", body = DncPage))
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn list_dnc(
    State(app): State<ApiState>,
    caller: Permitted<may::DncManage>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> Result<Json<DncPage>, ApiError> {
    let (cursor, limit) = page.parse()?;
    let (items, next) = LeadsRepo::new(app.store.as_ref())
        .dnc_page(caller.org_id, cursor, limit)
        .await?;
    Ok(Json(DncPage {
        items,
        next_cursor: next.map(|c| c.to_string()),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DncRequest {
    #[schema(example = "+91 98200 12345")]
    pub phone_number: String,
    pub reason: Option<String>,
}

/// Put a number on the do-not-call list; its lead, if any, is marked too.
#[utoipa::path(
    post, path = "/api/v1/dnc", tag = "dnc",
    request_body = DncRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Listed", body = DncEntry),
        (status = 422, description = "Not a phone number", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn add_dnc(
    State(app): State<ApiState>,
    caller: Permitted<may::DncManage>,
    ApiJson(body): ApiJson<DncRequest>,
) -> Result<(StatusCode, Json<DncEntry>), ApiError> {
    let entry = service::dnc_add(
        &app,
        caller.org_id,
        &Actor::user(&caller),
        &body.phone_number,
        body.reason,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

/// Take a number off the do-not-call list; its lead, if any, may be called again.
#[utoipa::path(
    delete, path = "/api/v1/dnc/{phone}", tag = "dnc",
    params(("phone" = String, Path, description = "The number, as E.164 (+919820012345)")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "Not on the list", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn remove_dnc(
    State(app): State<ApiState>,
    caller: Permitted<may::DncManage>,
    ApiPath(phone): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    service::dnc_remove(&app, caller.org_id, &Actor::user(&caller), &phone).await?;
    Ok(StatusCode::NO_CONTENT)
}
