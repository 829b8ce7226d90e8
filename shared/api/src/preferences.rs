//! `/api/v1/me/preferences` (a user's own), `/api/v1/org/settings` (the
//! organisation's, for admins) and `/api/v1/audit` (who changed what, for
//! admins).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use soraaya_accounts::audit::{self, AuditEntity, AuditEntry, AuditQuery};
use soraaya_accounts::{
    self as accounts, Caller, ChannelChange, PreferenceChanges, SettingsChanges,
};
use soraaya_core::Patch;
use soraaya_domain::{
    DashboardPreferences, DashboardView, DataRetention, ExportFormat, Language, NotificationKind,
    NotificationPreferences, OrgName, OrgSettings, Organisation, Priority, Region, Theme,
    TimeZoneName, User, UserId,
};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::permit::{Permitted, may};
use crate::{ApiError, ApiJson, ApiQuery, ApiState, ErrorBody, FieldErrors};

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(get_preferences, update_preferences))
        .routes(routes!(get_org_settings, update_org_settings))
        .routes(routes!(list_audit))
}

/// A user's preferences, as the console applies them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Preferences {
    /// Seconds between the dashboard's refreshes (15-600).
    pub dashboard_refresh_seconds: u32,
    pub default_dashboard_view: DashboardView,
    pub notifications: NotificationPreferences,
    /// The user's own zone, if they chose one.
    #[schema(value_type = Option<String>, example = "Asia/Kolkata")]
    pub time_zone: Option<TimeZoneName>,
    /// The zone times are shown in: the user's own, else the organisation's.
    #[schema(value_type = String, example = "Asia/Kolkata")]
    pub effective_time_zone: TimeZoneName,
    pub language: Language,
    pub theme: Theme,
    pub profile_picture_url: Option<String>,
}

async fn preferences_of(app: &ApiState, user: User) -> Result<Preferences, ApiError> {
    let effective_time_zone = match &user.time_zone {
        Some(zone) => zone.clone(),
        None => accounts::org(app, user.org_id).await?.time_zone.clone(),
    };
    Ok(Preferences {
        dashboard_refresh_seconds: user.dashboard_preferences.refresh_seconds,
        default_dashboard_view: user.dashboard_preferences.default_view,
        notifications: user.notification_preferences,
        time_zone: user.time_zone,
        effective_time_zone,
        language: user.language,
        theme: user.theme,
        profile_picture_url: user.profile_picture_url,
    })
}

/// The signed-in user's preferences.
#[utoipa::path(
    get, path = "/api/v1/me/preferences", tag = "preferences",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's preferences", body = Preferences),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn get_preferences(
    State(app): State<ApiState>,
    caller: Caller,
) -> Result<Json<Preferences>, ApiError> {
    let user = accounts::get_user(&app, caller.org_id, caller.user_id).await?;
    Ok(Json(preferences_of(&app, user).await?))
}

/// Changes to one notification channel; absent fields stay.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelRequest {
    pub enabled: Option<bool>,
    /// Notifications of this priority or higher come through.
    pub min_priority: Option<Priority>,
    /// The types that come through.
    pub types: Option<Vec<NotificationKind>>,
}

impl From<ChannelRequest> for ChannelChange {
    fn from(request: ChannelRequest) -> Self {
        ChannelChange {
            enabled: request.enabled,
            min_priority: request.min_priority,
            types: request.types,
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationsRequest {
    pub in_app: Option<ChannelRequest>,
    pub email: Option<ChannelRequest>,
}

/// Changes to the caller's preferences; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesRequest {
    #[schema(minimum = 15, maximum = 600)]
    pub dashboard_refresh_seconds: Option<u32>,
    pub default_dashboard_view: Option<DashboardView>,
    pub notifications: Option<NotificationsRequest>,
    /// An IANA zone name, or `null` for the organisation's.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "Europe/London")]
    pub time_zone: Patch<String>,
    pub language: Option<Language>,
    pub theme: Option<Theme>,
}

/// Change the signed-in user's preferences. Every change is audited.
#[utoipa::path(
    patch, path = "/api/v1/me/preferences", tag = "preferences",
    request_body = PreferencesRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's preferences after the change", body = Preferences),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 409, description = "Changed concurrently; try again", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn update_preferences(
    State(app): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<PreferencesRequest>,
) -> Result<Json<Preferences>, ApiError> {
    let mut errors = FieldErrors::new();
    if let Some(seconds) = body.dashboard_refresh_seconds
        && !DashboardPreferences::REFRESH_SECONDS.contains(&seconds)
    {
        errors.add("dashboard_refresh_seconds", "must be from 15 to 600");
    }
    let time_zone = match &body.time_zone {
        Patch::Absent => None,
        Patch::Clear => Some(None),
        Patch::Set(name) => errors
            .check("time_zone", TimeZoneName::parse(name))
            .map(Some),
    };
    errors.finish()?;
    let notifications = body.notifications.unwrap_or_default();
    let changes = PreferenceChanges {
        dashboard_refresh_seconds: body.dashboard_refresh_seconds,
        default_dashboard_view: body.default_dashboard_view,
        in_app: notifications.in_app.map(Into::into),
        email: notifications.email.map(Into::into),
        time_zone,
        language: body.language,
        theme: body.theme,
    };
    let user = accounts::update_preferences(&app, &caller, &changes).await?;
    Ok(Json(preferences_of(&app, user).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct AuditParams {
    /// Only entries about this kind of thing.
    #[param(value_type = Option<AuditEntity>)]
    pub entity: Option<String>,
    /// Only changes this user made.
    #[param(value_type = Option<String>, format = Uuid)]
    pub actor: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    /// Present when older entries may follow.
    pub next_cursor: Option<String>,
}

/// Who changed what, newest first: preferences, users, password resets.
#[utoipa::path(
    get, path = "/api/v1/audit", tag = "audit",
    params(AuditParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of the audit", body = AuditPage),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "Invalid filters", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn list_audit(
    State(app): State<ApiState>,
    caller: Permitted<may::OrgSettings>,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    let mut errors = FieldErrors::new();
    let entity = params.entity.as_deref().and_then(|e| {
        errors.check(
            "entity",
            AuditEntity::parse(e).ok_or("must be preferences, org_settings, user or lead"),
        )
    });
    let actor = params
        .actor
        .as_deref()
        .and_then(|a| errors.check("actor", UserId::parse(a)));
    let (cursor, limit) =
        crate::leads::page_of(params.cursor.as_deref(), params.limit, &mut errors);
    errors.finish()?;
    let page = audit::list(
        app.store.as_ref(),
        caller.org_id,
        AuditQuery {
            entity,
            actor,
            limit: limit as usize,
            cursor,
        },
    )
    .await?;
    Ok(Json(AuditPage {
        items: page.entries,
        next_cursor: page.cursor.map(|c| c.to_string()),
    }))
}

/// The organisation's settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgSettingsView {
    #[schema(value_type = String)]
    pub name: OrgName,
    #[schema(value_type = String, example = "Asia/Kolkata")]
    pub time_zone: TimeZoneName,
    /// Country assumed for phone numbers written without a country code.
    #[schema(value_type = String, example = "IN")]
    pub default_region: Region,
    #[serde(flatten)]
    pub settings: OrgSettings,
    /// The cap on live calls in force: the organisation's under the deployment's.
    pub effective_max_live_calls: u32,
}

fn settings_view(app: &ApiState, org: Organisation) -> OrgSettingsView {
    OrgSettingsView {
        effective_max_live_calls: org
            .settings
            .live_call_cap(app.config.calling.org_max_live_calls),
        name: org.name,
        time_zone: org.time_zone,
        default_region: org.default_region,
        settings: org.settings,
    }
}

/// The organisation's settings (admins).
#[utoipa::path(
    get, path = "/api/v1/org/settings", tag = "organisation",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The organisation's settings", body = OrgSettingsView),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn get_org_settings(
    State(app): State<ApiState>,
    caller: Permitted<may::OrgSettings>,
) -> Result<Json<OrgSettingsView>, ApiError> {
    let org = accounts::organisation(&app, caller.org_id).await?;
    Ok(Json(settings_view(&app, org)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionRequest {
    /// Days (30-3650) a call's transcript and analysis are kept, or `null` to keep them.
    #[serde(default)]
    #[schema(value_type = Option<u32>, minimum = 30, maximum = 3650)]
    pub transcript_days: Patch<u32>,
    /// Days (30-3650) a call's recording reference is kept, or `null` to keep it.
    #[serde(default)]
    #[schema(value_type = Option<u32>, minimum = 30, maximum = 3650)]
    pub recording_days: Patch<u32>,
}

/// Changes to the organisation's settings; absent fields stay.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgSettingsRequest {
    #[schema(min_length = 1, max_length = 120)]
    pub name: Option<String>,
    #[schema(example = "Asia/Kolkata")]
    pub time_zone: Option<String>,
    #[schema(example = "IN")]
    pub default_region: Option<String>,
    /// New campaigns' calling settings (window, attempts, concurrency, retry delays).
    pub campaign_defaults: Option<soraaya_campaigns::service::SettingsInput>,
    pub export_format: Option<ExportFormat>,
    pub data_retention: Option<RetentionRequest>,
    /// Most live calls of the organisation at once (1-10,000; the
    /// deployment's cap still bounds it), or `null` for the deployment's.
    #[serde(default)]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 10000)]
    pub max_live_calls: Patch<u32>,
}

fn days(field: &str, patch: &Patch<u32>, errors: &mut FieldErrors) -> Option<Option<u32>> {
    match patch {
        Patch::Absent => None,
        Patch::Clear => Some(None),
        Patch::Set(days) if DataRetention::DAYS.contains(days) => Some(Some(*days)),
        Patch::Set(_) => {
            errors.add(field, "must be from 30 to 3650 days");
            None
        }
    }
}

/// Change the organisation's settings (admins). Every change is audited; a
/// new campaign starts from the defaults, reports from the export format,
/// the dialer keeps under the cap.
#[utoipa::path(
    patch, path = "/api/v1/org/settings", tag = "organisation",
    request_body = OrgSettingsRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The settings after the change", body = OrgSettingsView),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "Changed concurrently; try again", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn update_org_settings(
    State(app): State<ApiState>,
    caller: Permitted<may::OrgSettings>,
    ApiJson(body): ApiJson<OrgSettingsRequest>,
) -> Result<Json<OrgSettingsView>, ApiError> {
    let mut errors = FieldErrors::new();
    let name = body
        .name
        .as_deref()
        .and_then(|n| errors.check("name", OrgName::parse(n)));
    let time_zone = body
        .time_zone
        .as_deref()
        .and_then(|z| errors.check("time_zone", TimeZoneName::parse(z)));
    let default_region = body
        .default_region
        .as_deref()
        .and_then(|r| errors.check("default_region", Region::parse(r)));
    let campaign_defaults = match &body.campaign_defaults {
        Some(input) => {
            let mut settings = accounts::organisation(&app, caller.org_id)
                .await?
                .settings
                .campaign_defaults;
            input.apply(&mut settings, &mut errors, "campaign_defaults");
            Some(settings)
        }
        None => None,
    };
    let retention = body.data_retention.unwrap_or_default();
    let transcript_days = days(
        "data_retention.transcript_days",
        &retention.transcript_days,
        &mut errors,
    );
    let recording_days = days(
        "data_retention.recording_days",
        &retention.recording_days,
        &mut errors,
    );
    let max_live_calls = match body.max_live_calls {
        Patch::Absent => None,
        Patch::Clear => Some(None),
        Patch::Set(cap @ 1..=10_000) => Some(Some(cap)),
        Patch::Set(_) => {
            errors.add("max_live_calls", "must be from 1 to 10000");
            None
        }
    };
    errors.finish()?;
    let changes = SettingsChanges {
        name,
        time_zone,
        default_region,
        campaign_defaults,
        export_format: body.export_format,
        transcript_days,
        recording_days,
        max_live_calls,
    };
    let org = accounts::update_org_settings(&app, &caller, &changes).await?;
    Ok(Json(settings_view(&app, org)))
}
