//! `/api/v1/campaigns`, `/api/v1/agent-personas`, `/api/v1/properties` and
//! `/api/v1/calling`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use soraaya_domain::{
    AgentPersona, Campaign, CampaignAction, CampaignId, CampaignStatus, CampaignType, LeadId,
    Permission, PersonaId, Property, PropertyId, PropertyType,
};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use soraaya_accounts::Caller;
use soraaya_calling::call_now::{self, CallNow, CallNowRequest};
use soraaya_calling::control::{self, Preflight, QueueReport};
use soraaya_calling::membership::{self, Assignment};
use soraaya_calling::status::{CallingStatus, CampaignPerformance, calling_status, performance};
use soraaya_campaigns::matching::MatchingLeads;
use soraaya_campaigns::service::{
    self, CampaignFilter, CampaignInput, PersonaInput, PropertyFilter, PropertyInput, SettingsInput,
};
use soraaya_leads::record::Actor;

use crate::permit::{Permitted, may};
use crate::{
    ApiError, ApiJson, ApiPath, ApiQuery, ApiState, ErrorBody, FieldErrors, OptionalJson, Require,
    etag, if_match,
};

/// Most leads one request may assign or call.
pub const MAX_LEADS_PER_REQUEST: usize = 1000;

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_campaigns, create_campaign))
        .routes(routes!(get_campaign, update_campaign, delete_campaign))
        .routes(routes!(assign_leads))
        .routes(routes!(start_campaign))
        .routes(routes!(pause_campaign))
        .routes(routes!(resume_campaign))
        .routes(routes!(stop_campaign))
        .routes(routes!(archive_campaign))
        .routes(routes!(preflight))
        .routes(routes!(campaign_performance))
        .routes(routes!(list_personas, create_persona))
        .routes(routes!(get_persona, update_persona, delete_persona))
        .routes(routes!(list_properties, create_property))
        .routes(routes!(get_property, update_property, delete_property))
        .routes(routes!(matching_leads))
        .routes(routes!(start_calling))
        .routes(routes!(stop_calling))
        .routes(routes!(status))
        .routes(routes!(stats))
}

fn lead_ids(errors: &mut FieldErrors, ids: &[LeadId]) {
    if ids.len() > MAX_LEADS_PER_REQUEST {
        errors.add(
            "lead_ids",
            format!("names more than {MAX_LEADS_PER_REQUEST} leads; send them in parts"),
        );
    }
}

// ---------------------------------------------------------------- campaigns

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct CampaignParams {
    #[param(value_type = Option<soraaya_domain::CampaignStatus>)]
    pub status: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<soraaya_domain::CampaignType>)]
    pub campaign_type: Option<String>,
    /// Part of the name.
    pub search: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignList {
    pub items: Vec<Campaign>,
    pub total: usize,
}

/// The organisation's campaigns, newest first.
#[utoipa::path(
    get, path = "/api/v1/campaigns", tag = "campaigns",
    params(CampaignParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Campaigns", body = CampaignList),
        (status = 422, description = "Invalid filters", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn list_campaigns(
    State(app): State<ApiState>,
    caller: Permitted<may::CampaignsRead>,
    ApiQuery(params): ApiQuery<CampaignParams>,
) -> Result<Json<CampaignList>, ApiError> {
    let mut errors = FieldErrors::new();
    let mut filter = CampaignFilter {
        search: params.search.filter(|s| !s.trim().is_empty()),
        ..CampaignFilter::default()
    };
    if let Some(status) = &params.status {
        filter.status = CampaignStatus::parse(status);
        if filter.status.is_none() {
            errors.add(
                "status",
                "must be draft, active, paused, completed or archived",
            );
        }
    }
    if let Some(kind) = &params.campaign_type {
        filter.campaign_type = CampaignType::parse(kind);
        if filter.campaign_type.is_none() {
            errors.add("type", "must be outbound, follow_up or re_engagement");
        }
    }
    errors.finish()?;
    let items = service::list_campaigns(&app, caller.org_id, &filter).await?;
    Ok(Json(CampaignList {
        total: items.len(),
        items,
    }))
}

/// Create a campaign (as a draft).
#[utoipa::path(
    post, path = "/api/v1/campaigns", tag = "campaigns",
    request_body = CampaignInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Campaign),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn create_campaign(
    State(app): State<ApiState>,
    caller: Permitted<may::CampaignsManage>,
    ApiJson(input): ApiJson<CampaignInput>,
) -> Result<Response, ApiError> {
    let campaign = service::create_campaign(
        &app,
        caller.org_id,
        Some(caller.user_id),
        soraaya_accounts::org(&app, caller.org_id)
            .await?
            .settings
            .campaign_defaults,
        &input,
    )
    .await?;
    Ok((StatusCode::CREATED, etag(campaign.version), Json(campaign)).into_response())
}

/// One campaign. The `ETag` is its version, for `If-Match` on updates.
#[utoipa::path(
    get, path = "/api/v1/campaigns/{id}", tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The campaign", body = Campaign),
        (status = 404, description = "No such campaign", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn get_campaign(
    State(app): State<ApiState>,
    caller: Permitted<may::CampaignsRead>,
    ApiPath(id): ApiPath<CampaignId>,
) -> Result<Response, ApiError> {
    let campaign = service::get_campaign(&app, caller.org_id, id).await?;
    Ok((etag(campaign.version), Json(campaign)).into_response())
}

/// Change a campaign: absent fields stay, `null` clears. Settings apply to
/// the next call placed. The status moves only through start, pause, resume,
/// stop and archive.
#[utoipa::path(
    put, path = "/api/v1/campaigns/{id}", tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    request_body = CampaignInput,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = Campaign),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "Name taken, or version mismatch", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn update_campaign(
    State(app): State<ApiState>,
    caller: Permitted<may::CampaignsManage>,
    ApiPath(id): ApiPath<CampaignId>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<CampaignInput>,
) -> Result<Response, ApiError> {
    let campaign =
        service::update_campaign(&app, caller.org_id, id, &input, if_match(&headers)?).await?;
    Ok((etag(campaign.version), Json(campaign)).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    /// Leads taken out of the campaign (they stay in the lead book).
    pub leads_released: usize,
}

/// Delete a campaign that is not calling. Its leads stay, outside any campaign.
#[utoipa::path(
    delete, path = "/api/v1/campaigns/{id}", tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "The campaign is calling", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn delete_campaign(
    State(app): State<ApiState>,
    caller: Permitted<may::CampaignsManage>,
    ApiPath(id): ApiPath<CampaignId>,
) -> Result<Json<Deleted>, ApiError> {
    let leads_released = membership::delete_campaign(&app, caller.org_id, id).await?;
    Ok(Json(Deleted { leads_released }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    pub lead_ids: Vec<LeadId>,
}

/// Put leads in the campaign (from any other). When the campaign is calling,
/// they are queued at once. One result per lead.
#[utoipa::path(
    post, path = "/api/v1/campaigns/{id}/assign-leads", tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    request_body = AssignRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Results per lead", body = Assignment),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "The campaign is over", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn assign_leads(
    State(app): State<ApiState>,
    caller: Permitted<may::CampaignsManage>,
    ApiPath(id): ApiPath<CampaignId>,
    ApiJson(body): ApiJson<AssignRequest>,
) -> Result<Json<Assignment>, ApiError> {
    let mut errors = FieldErrors::new();
    if body.lead_ids.is_empty() {
        errors.add("lead_ids", "must name at least one lead");
    }
    lead_ids(&mut errors, &body.lead_ids);
    errors.finish()?;
    let assignment = membership::assign_leads(
        &app,
        caller.org_id,
        &Actor::user(&caller),
        id,
        &body.lead_ids,
    )
    .await?;
    Ok(Json(assignment))
}

/// Optional calling parameters of a start.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct StartRequest {
    /// Most calls live at once, from now on.
    pub max_concurrent_calls: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignMoved {
    pub campaign: Campaign,
    /// On start and resume: leads queued now, deferred to their calling hours, and skipped with why.
    pub queue: Option<QueueReport>,
}

async fn move_campaign(
    app: &ApiState,
    caller: &Caller,
    id: CampaignId,
    action: CampaignAction,
) -> Result<Json<CampaignMoved>, ApiError> {
    let reason = (action == CampaignAction::Pause).then(|| format!("paused by {}", caller.name));
    let (campaign, queue) = control::act(app, caller.org_id, id, action, reason).await?;
    Ok(Json(CampaignMoved { campaign, queue }))
}

/// Start a draft campaign: its eligible leads are queued now; those outside
/// their calling hours wait for them.
#[utoipa::path(
    post, path = "/api/v1/campaigns/{id}/start", tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    request_body(content = Option<StartRequest>, description = "Optional calling parameters"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Started", body = CampaignMoved),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "Not a draft", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn start_campaign(
    State(app): State<ApiState>,
    caller: Permitted<may::CallingControl>,
    ApiPath(id): ApiPath<CampaignId>,
    OptionalJson(body): OptionalJson<StartRequest>,
) -> Result<Json<CampaignMoved>, ApiError> {
    if let Some(cap) = body.max_concurrent_calls {
        caller.require(Permission::CampaignsManage)?;
        let change = CampaignInput {
            settings: Some(SettingsInput {
                max_concurrent_calls: Some(cap),
                ..SettingsInput::default()
            }),
            ..CampaignInput::default()
        };
        service::update_campaign(&app, caller.org_id, id, &change, None).await?;
    }
    move_campaign(&app, &caller, id, CampaignAction::Start).await
}

/// Pause a calling campaign: nothing new is dialled; calls in progress finish.
#[utoipa::path(
    post, path = "/api/v1/campaigns/{id}/pause", tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Paused", body = CampaignMoved),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "Not active", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn pause_campaign(
    State(app): State<ApiState>,
    caller: Permitted<may::CallingControl>,
    ApiPath(id): ApiPath<CampaignId>,
) -> Result<Json<CampaignMoved>, ApiError> {
    move_campaign(&app, &caller, id, CampaignAction::Pause).await
}

/// Resume a paused campaign: its waiting leads are queued again.
#[utoipa::path(
    post, path = "/api/v1/campaigns/{id}/resume", tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Resumed", body = CampaignMoved),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "Not paused", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn resume_campaign(
    State(app): State<ApiState>,
    caller: Permitted<may::CallingControl>,
    ApiPath(id): ApiPath<CampaignId>,
) -> Result<Json<CampaignMoved>, ApiError> {
    move_campaign(&app, &caller, id, CampaignAction::Resume).await
}

/// Complete a campaign: queued and scheduled calls are dropped; calls in progress finish.
#[utoipa::path(
    post, path = "/api/v1/campaigns/{id}/stop", tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Completed", body = CampaignMoved),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "Not active or paused", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn stop_campaign(
    State(app): State<ApiState>,
    caller: Permitted<may::CallingControl>,
    ApiPath(id): ApiPath<CampaignId>,
) -> Result<Json<CampaignMoved>, ApiError> {
    move_campaign(&app, &caller, id, CampaignAction::Stop).await
}

/// Archive a draft, paused or completed campaign.
#[utoipa::path(
    post, path = "/api/v1/campaigns/{id}/archive", tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Archived", body = CampaignMoved),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "Active, or archived already", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn archive_campaign(
    State(app): State<ApiState>,
    caller: Permitted<may::CallingControl>,
    ApiPath(id): ApiPath<CampaignId>,
) -> Result<Json<CampaignMoved>, ApiError> {
    move_campaign(&app, &caller, id, CampaignAction::Archive).await
}

/// What starting the campaign now would do: leads dialled now, deferred to
/// their calling hours (with when), and skipped (with why).
#[utoipa::path(
    get, path = "/api/v1/campaigns/{id}/preflight", tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Preflight", body = Preflight),
        (status = 404, description = "No such campaign", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn preflight(
    State(app): State<ApiState>,
    caller: Permitted<may::CampaignsRead>,
    ApiPath(id): ApiPath<CampaignId>,
) -> Result<Json<Preflight>, ApiError> {
    let campaign = service::get_campaign(&app, caller.org_id, id).await?;
    Ok(Json(control::preflight(&app, &campaign).await?))
}

/// Leads by status, calls by result (in all and today), talk time, cost,
/// contact and qualification rates, live calls and the last calls.
#[utoipa::path(
    get, path = "/api/v1/campaigns/{id}/performance", tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Performance", body = CampaignPerformance),
        (status = 404, description = "No such campaign", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn campaign_performance(
    State(app): State<ApiState>,
    caller: Permitted<may::CampaignsRead>,
    ApiPath(id): ApiPath<CampaignId>,
) -> Result<Json<CampaignPerformance>, ApiError> {
    let campaign = service::get_campaign(&app, caller.org_id, id).await?;
    Ok(Json(performance(&app, &campaign).await?))
}

// ---------------------------------------------------------------- personas

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonaList {
    pub items: Vec<AgentPersona>,
    pub total: usize,
}

/// The organisation's AI agent personas.
#[utoipa::path(
    get, path = "/api/v1/agent-personas", tag = "campaigns",
    security(("bearer" = [])),
    responses((status = 200, description = "Personas", body = PersonaList))
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn list_personas(
    State(app): State<ApiState>,
    caller: Permitted<may::CampaignsRead>,
) -> Result<Json<PersonaList>, ApiError> {
    let items = service::list_personas(&app, caller.org_id).await?;
    Ok(Json(PersonaList {
        total: items.len(),
        items,
    }))
}

/// Create an agent persona.
#[utoipa::path(
    post, path = "/api/v1/agent-personas", tag = "campaigns",
    request_body = PersonaInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = AgentPersona),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn create_persona(
    State(app): State<ApiState>,
    caller: Permitted<may::CampaignsManage>,
    ApiJson(input): ApiJson<PersonaInput>,
) -> Result<Response, ApiError> {
    let persona = service::create_persona(&app, caller.org_id, &input).await?;
    Ok((StatusCode::CREATED, etag(persona.version), Json(persona)).into_response())
}

/// One agent persona.
#[utoipa::path(
    get, path = "/api/v1/agent-personas/{id}", tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Persona id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The persona", body = AgentPersona),
        (status = 404, description = "No such persona", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn get_persona(
    State(app): State<ApiState>,
    caller: Permitted<may::CampaignsRead>,
    ApiPath(id): ApiPath<PersonaId>,
) -> Result<Response, ApiError> {
    let persona = service::get_persona(&app, caller.org_id, id).await?;
    Ok((etag(persona.version), Json(persona)).into_response())
}

/// Change an agent persona; campaigns using it call with the new one from their next call.
#[utoipa::path(
    put, path = "/api/v1/agent-personas/{id}", tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Persona id")),
    request_body = PersonaInput,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = AgentPersona),
        (status = 404, description = "No such persona", body = ErrorBody),
        (status = 409, description = "Deactivating a persona in use, or version mismatch", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn update_persona(
    State(app): State<ApiState>,
    caller: Permitted<may::CampaignsManage>,
    ApiPath(id): ApiPath<PersonaId>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<PersonaInput>,
) -> Result<Response, ApiError> {
    let persona =
        service::update_persona(&app, caller.org_id, id, &input, if_match(&headers)?).await?;
    Ok((etag(persona.version), Json(persona)).into_response())
}

/// Delete an agent persona no running campaign uses.
#[utoipa::path(
    delete, path = "/api/v1/agent-personas/{id}", tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Persona id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such persona", body = ErrorBody),
        (status = 409, description = "In use by a campaign", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn delete_persona(
    State(app): State<ApiState>,
    caller: Permitted<may::CampaignsManage>,
    ApiPath(id): ApiPath<PersonaId>,
) -> Result<StatusCode, ApiError> {
    service::delete_persona(&app, caller.org_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- properties

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct PropertyParams {
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<PropertyType>)]
    pub property_type: Option<String>,
    /// Part of the location.
    pub location: Option<String>,
    /// A range such as `10-20 Cr`: properties whose prices meet it.
    pub price_range: Option<String>,
    #[param(value_type = Option<soraaya_domain::Availability>)]
    pub availability: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PropertyList {
    pub items: Vec<Property>,
    pub total: usize,
}

/// Properties the agents may present, oldest first.
#[utoipa::path(
    get, path = "/api/v1/properties", tag = "campaigns",
    params(PropertyParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Properties", body = PropertyList),
        (status = 422, description = "Invalid filters", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn list_properties(
    State(app): State<ApiState>,
    caller: Permitted<may::CampaignsRead>,
    ApiQuery(params): ApiQuery<PropertyParams>,
) -> Result<Json<PropertyList>, ApiError> {
    let mut errors = FieldErrors::new();
    let mut filter = PropertyFilter {
        location: params.location.filter(|l| !l.trim().is_empty()),
        ..PropertyFilter::default()
    };
    if let Some(kind) = &params.property_type {
        filter.property_type = errors.check("type", PropertyType::parse(kind));
    }
    if let Some(range) = &params.price_range
        && let Some(range) = errors.check("price_range", soraaya_domain::BudgetRange::parse(range))
    {
        filter.price_min = range.min;
        filter.price_max = range.max;
    }
    if let Some(availability) = &params.availability {
        filter.availability = match availability.trim().to_ascii_lowercase().as_str() {
            "available" => Some(soraaya_domain::Availability::Available),
            "reserved" => Some(soraaya_domain::Availability::Reserved),
            "sold" => Some(soraaya_domain::Availability::Sold),
            _ => {
                errors.add("availability", "must be available, reserved or sold");
                None
            }
        };
    }
    errors.finish()?;
    let items = service::list_properties(&app, caller.org_id, &filter).await?;
    Ok(Json(PropertyList {
        total: items.len(),
        items,
    }))
}

/// Add a property.
#[utoipa::path(
    post, path = "/api/v1/properties", tag = "campaigns",
    request_body = PropertyInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Property),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn create_property(
    State(app): State<ApiState>,
    caller: Permitted<may::CampaignsManage>,
    ApiJson(input): ApiJson<PropertyInput>,
) -> Result<Response, ApiError> {
    let property = service::create_property(&app, caller.org_id, &input).await?;
    Ok((StatusCode::CREATED, etag(property.version), Json(property)).into_response())
}

/// One property.
#[utoipa::path(
    get, path = "/api/v1/properties/{id}", tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Property id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The property", body = Property),
        (status = 404, description = "No such property", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn get_property(
    State(app): State<ApiState>,
    caller: Permitted<may::CampaignsRead>,
    ApiPath(id): ApiPath<PropertyId>,
) -> Result<Response, ApiError> {
    let property = service::get_property(&app, caller.org_id, id).await?;
    Ok((etag(property.version), Json(property)).into_response())
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct MatchingLeadsParams {
    /// Leads to return: 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u16>,
    /// The lowest fit to return, 0 to 100 (default 50).
    #[param(minimum = 0, maximum = 100)]
    pub min_score: Option<u8>,
}

/// The open leads this property suits best, each with its fit (0–100) and
/// the reasons: budget, location, type, size, amenities. Candidates are the
/// leads whose place names the property's area or city (the newest 2,000).
#[utoipa::path(
    get, path = "/api/v1/properties/{id}/matching-leads", tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Property id"), MatchingLeadsParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Leads, best fit first", body = MatchingLeads),
        (status = 404, description = "No such property", body = ErrorBody),
        (status = 422, description = "Invalid parameters", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn matching_leads(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsRead>,
    ApiPath(id): ApiPath<PropertyId>,
    ApiQuery(params): ApiQuery<MatchingLeadsParams>,
) -> Result<Json<MatchingLeads>, ApiError> {
    let mut errors = FieldErrors::new();
    let limit = params.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        errors.add("limit", "must be 1 to 100");
    }
    let min_score = params.min_score.unwrap_or(50);
    if min_score > 100 {
        errors.add("min_score", "must be 0 to 100");
    }
    errors.finish()?;
    let found = soraaya_campaigns::matching::matching_leads(
        &app,
        caller.org_id,
        id,
        usize::from(limit),
        min_score,
    )
    .await?;
    Ok(Json(found))
}

/// Change a property (absent fields stay, `null` clears).
#[utoipa::path(
    put, path = "/api/v1/properties/{id}", tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Property id")),
    request_body = PropertyInput,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = Property),
        (status = 404, description = "No such property", body = ErrorBody),
        (status = 409, description = "Version mismatch", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn update_property(
    State(app): State<ApiState>,
    caller: Permitted<may::CampaignsManage>,
    ApiPath(id): ApiPath<PropertyId>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<PropertyInput>,
) -> Result<Response, ApiError> {
    let property =
        service::update_property(&app, caller.org_id, id, &input, if_match(&headers)?).await?;
    Ok((etag(property.version), Json(property)).into_response())
}

/// Delete a property no running campaign presents.
#[utoipa::path(
    delete, path = "/api/v1/properties/{id}", tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Property id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such property", body = ErrorBody),
        (status = 409, description = "In use by a campaign", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn delete_property(
    State(app): State<ApiState>,
    caller: Permitted<may::CampaignsManage>,
    ApiPath(id): ApiPath<PropertyId>,
) -> Result<StatusCode, ApiError> {
    service::delete_property(&app, caller.org_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- calling

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CallingStartRequest {
    /// A campaign to start or resume (its leads, plus any named here).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub campaign_id: Option<CampaignId>,
    /// Leads to call now. Without a campaign they join the "Direct calls" campaign.
    pub lead_ids: Vec<LeadId>,
    /// The persona that calls (default: the campaign's, or the first active one).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub persona_id: Option<PersonaId>,
    /// Most calls live at once.
    pub max_concurrent_calls: Option<u32>,
}

/// Start calling: a campaign, or a set of leads (which join the "Direct
/// calls" campaign). Eligible leads are queued at once; leads outside their
/// calling hours wait for them.
#[utoipa::path(
    post, path = "/api/v1/calling/start", tag = "calling",
    request_body = CallingStartRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Calling", body = CallNow),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "The campaign is over", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn start_calling(
    State(app): State<ApiState>,
    caller: Permitted<may::CallingControl>,
    ApiJson(body): ApiJson<CallingStartRequest>,
) -> Result<Json<CallNow>, ApiError> {
    caller.require(Permission::CampaignsManage)?;
    let mut errors = FieldErrors::new();
    lead_ids(&mut errors, &body.lead_ids);
    errors.finish()?;
    let request = CallNowRequest {
        campaign_id: body.campaign_id,
        lead_ids: body.lead_ids,
        persona_id: body.persona_id,
        max_concurrent_calls: body.max_concurrent_calls,
    };
    let started = call_now::call_now(
        &app,
        caller.org_id,
        &Actor::user(&caller),
        Some(caller.user_id),
        &request,
    )
    .await?;
    Ok(Json(started))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CallingStopRequest {
    /// Only this campaign (default: every calling campaign).
    #[schema(value_type = Option<String>, format = Uuid)]
    pub campaign_id: Option<CampaignId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CallingStopped {
    /// Campaigns paused now. Calls in progress finish; resume a campaign to go on.
    pub paused: Vec<Campaign>,
}

/// Stop calling: pauses one campaign, or every calling one.
#[utoipa::path(
    post, path = "/api/v1/calling/stop", tag = "calling",
    request_body(content = Option<CallingStopRequest>, description = "Optional: one campaign"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Paused", body = CallingStopped),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 409, description = "That campaign is not calling", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn stop_calling(
    State(app): State<ApiState>,
    caller: Permitted<may::CallingControl>,
    OptionalJson(body): OptionalJson<CallingStopRequest>,
) -> Result<Json<CallingStopped>, ApiError> {
    let paused = call_now::stop_calling(&app, caller.org_id, body.campaign_id).await?;
    Ok(Json(CallingStopped { paused }))
}

/// Live calls now, the caps, queued dials, and calls completed today, per campaign.
#[utoipa::path(
    get, path = "/api/v1/calling/status", tag = "calling",
    security(("bearer" = [])),
    responses((status = 200, description = "Calling now", body = CallingStatus))
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn status(
    State(app): State<ApiState>,
    caller: Permitted<may::CampaignsRead>,
) -> Result<Json<CallingStatus>, ApiError> {
    Ok(Json(calling_status(&app, caller.org_id).await?))
}

/// The same as `/calling/status` (the POC's call statistics).
#[utoipa::path(
    get, path = "/api/v1/calling/stats", tag = "calling",
    security(("bearer" = [])),
    responses((status = 200, description = "Calling now", body = CallingStatus))
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn stats(
    state: State<ApiState>,
    caller: Permitted<may::CampaignsRead>,
) -> Result<Json<CallingStatus>, ApiError> {
    status(state, caller).await
}
