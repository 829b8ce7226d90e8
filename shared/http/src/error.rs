//! The one API error type and the one place it becomes an HTTP response:
//! `{"error": {"code", "message", "details"}}` with the right status.
//! Internal errors are logged (inside the request's span, so with its id) and
//! never echoed.

use std::error::Error as StdError;
use std::fmt::Display;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use soraaya_domain::Permission;
use soraaya_store::StoreError;
use utoipa::ToSchema;

use soraaya_accounts::{AccountError, ApiKeyError, AuthError, Caller, ResetError};
use soraaya_calling::CallingError;
use soraaya_calling::webhooks::WebhookError;
use soraaya_campaigns::CampaignError;
use soraaya_core::passwords::PasswordHashError;
use soraaya_core::validation::{FieldError, FieldErrors};
use soraaya_dashboard::DashboardError;
use soraaya_insights::InsightsError;
use soraaya_jobs::JobError;
use soraaya_leads::import::ImportError;
use soraaya_leads::list::ListError;
use soraaya_leads::service::LeadError;
use soraaya_notifications::NotificationError;

/// The error envelope every 4xx and 5xx response carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable code such as `validation_failed`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// Structured detail: the failing fields (`validation_failed`), an
    /// object for some other codes, `null` when there is none.
    #[schema(schema_with = details_schema)]
    pub details: Option<Value>,
}

fn details_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
    Schema::OneOf(
        OneOfBuilder::new()
            .item(ArrayBuilder::new().items(utoipa::openapi::Ref::from_schema_name("FieldError")))
            .item(ObjectBuilder::new().schema_type(Type::Object))
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .build(),
    )
}

/// A bare error envelope, for responses that are not an [`ApiError`].
pub fn envelope(status: StatusCode, code: &str, message: String) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.to_owned(),
            message,
            details: None,
        },
    };
    (status, Json(body)).into_response()
}

/// Every way an API request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        details: Option<Value>,
    },
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    #[error("{message}")]
    Forbidden {
        code: &'static str,
        message: String,
        details: Option<Value>,
    },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        details: Option<Value>,
    },
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{message}")]
    TooManyRequests {
        retry_after_seconds: u64,
        message: String,
    },
    #[error("the service is busy; retry shortly")]
    Unavailable(#[source] Option<Box<dyn StdError + Send + Sync>>),
    #[error("internal error")]
    Internal(#[source] Box<dyn StdError + Send + Sync>),
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn field(field: impl Into<String>, message: impl Display) -> Self {
        ApiError::Validation(FieldErrors::one(field, message))
    }

    pub fn internal(err: impl StdError + Send + Sync + 'static) -> Self {
        ApiError::Internal(Box::new(err))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code of the error, such as `validation_failed`.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Validation(_) => "validation_failed",
            ApiError::BadRequest { code, .. }
            | ApiError::Unauthorized { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::Conflict { code, .. } => code,
            ApiError::NotFound(_) => "not_found",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal_error",
        }
    }

    /// The envelope this error answers with.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message: self.to_string(),
                details: self.details(),
            },
        }
    }

    fn details(&self) -> Option<Value> {
        match self {
            ApiError::Validation(fields) => serde_json::to_value(fields).ok(),
            ApiError::BadRequest { details, .. }
            | ApiError::Forbidden { details, .. }
            | ApiError::Conflict { details, .. } => details.clone(),
            ApiError::TooManyRequests {
                retry_after_seconds,
                ..
            } => Some(serde_json::json!({ "retry_after_seconds": retry_after_seconds })),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            ApiError::Internal(source) => {
                tracing::error!(error = %source, cause = ?source.source(), "internal error");
            }
            ApiError::Unavailable(source) => {
                tracing::warn!(error = ?source, "unavailable for now");
            }
            _ => {}
        }
        let mut response = (status, Json(self.body())).into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::TooManyRequests {
                retry_after_seconds,
                ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_seconds));
            }
            ApiError::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::Unauthorized { .. } => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::BadCursor => {
                ApiError::bad_request("invalid_cursor", "the cursor is not one this API returned")
            }
            StoreError::Busy(source) => ApiError::Unavailable(source),
            StoreError::Conflict { .. } => ApiError::conflict(
                "conflict",
                "the record was changed by someone else; reload and try again",
            ),
            other => ApiError::internal(other),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        let unauthorized = |code| ApiError::Unauthorized {
            code,
            message: err.to_string(),
        };
        match &err {
            AuthError::InvalidCredentials => unauthorized("invalid_credentials"),
            AuthError::InvalidToken => unauthorized("invalid_token"),
            AuthError::TokenExpired => unauthorized("token_expired"),
            AuthError::SessionEnded => unauthorized("session_ended"),
            AuthError::KeyRevoked => unauthorized("api_key_revoked"),
            AuthError::RefreshTokenReused => unauthorized("refresh_token_reused"),
            AuthError::AccountDisabled => ApiError::Forbidden {
                code: "account_disabled",
                message: err.to_string(),
                details: None,
            },
            AuthError::Throttled { retry_after } => ApiError::TooManyRequests {
                retry_after_seconds: retry_after.as_secs().max(1),
                message: "too many failed logins for this account; try again later".into(),
            },
            AuthError::Store(_) | AuthError::Hashing(_) | AuthError::NoSigningKey => match err {
                AuthError::Store(store) => store.into(),
                AuthError::Hashing(hashing) => hashing.into(),
                other => ApiError::internal(other),
            },
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::EmailTaken => ApiError::Conflict {
                code: "email_taken",
                message: err.to_string(),
                details: Some(
                    serde_json::json!([{ "field": "email", "message": "is already registered" }]),
                ),
            },
            AccountError::UserNotFound => ApiError::NotFound("user"),
            AccountError::OrganisationNotFound => ApiError::NotFound("organisation"),
            AccountError::LastAdmin => ApiError::conflict("last_admin", err.to_string()),
            AccountError::ChangedConcurrently => {
                ApiError::conflict("changed_concurrently", err.to_string())
            }
            AccountError::Store(store) => store.into(),
            AccountError::Hashing(hashing) => hashing.into(),
        }
    }
}

impl From<ResetError> for ApiError {
    fn from(err: ResetError) -> Self {
        match err {
            ResetError::Throttled { retry_after } => ApiError::TooManyRequests {
                retry_after_seconds: retry_after.as_secs().max(1),
                message: "too many password reset requests from this address; try again later"
                    .into(),
            },
            ResetError::InvalidToken => ApiError::field("token", "is not a valid reset link"),
            ResetError::Expired => {
                ApiError::field("token", "has expired; ask for a new reset link")
            }
            ResetError::Used => ApiError::field(
                "token",
                "was already used or replaced by a newer link; ask for a new one",
            ),
            ResetError::Refused(why) => ApiError::field("password", why),
            ResetError::ChangedConcurrently => {
                ApiError::conflict("changed_concurrently", err.to_string())
            }
            ResetError::UserNotFound => ApiError::NotFound("user"),
            ResetError::Deactivated => ApiError::conflict("user_deactivated", err.to_string()),
            ResetError::Mail(mail) => ApiError::Unavailable(Some(Box::new(mail))),
            ResetError::Account(account) => account.into(),
            ResetError::Auth(auth) => auth.into(),
        }
    }
}

impl From<PasswordHashError> for ApiError {
    fn from(err: PasswordHashError) -> Self {
        match err {
            // Every hasher busy: a 503 with Retry-After, not a queue that grows.
            PasswordHashError::Busy { .. } => ApiError::Unavailable(Some(Box::new(err))),
            other => ApiError::internal(other),
        }
    }
}

impl From<LeadError> for ApiError {
    fn from(err: LeadError) -> Self {
        match err {
            LeadError::NotFound => ApiError::NotFound("lead"),
            LeadError::Invalid(fields) => ApiError::Validation(fields),
            LeadError::DuplicatePhone { existing } => ApiError::Conflict {
                code: "duplicate_phone",
                message: err.to_string(),
                details: Some(serde_json::json!({
                    "field": "phone_number",
                    "existing_lead_id": existing,
                })),
            },
            LeadError::Transition(transition) => {
                let (from, to) = match transition {
                    soraaya_domain::TransitionError::NotAllowed { from, to }
                    | soraaya_domain::TransitionError::SystemOnly { from, to } => (from, to),
                };
                let allowed: Vec<&str> = soraaya_domain::TRANSITIONS
                    .iter()
                    .filter(|(f, _, by)| *f == from && *by == soraaya_domain::MovedBy::Anyone)
                    .map(|(_, t, _)| t.as_str())
                    .collect();
                ApiError::Conflict {
                    code: "invalid_transition",
                    message: transition.to_string(),
                    details: Some(
                        serde_json::json!({ "from": from, "to": to, "allowed": allowed }),
                    ),
                }
            }
            LeadError::ChangedConcurrently => {
                ApiError::conflict("changed_concurrently", err.to_string())
            }
            LeadError::VersionMismatch { expected, actual } => ApiError::Conflict {
                code: "version_mismatch",
                message: err.to_string(),
                details: Some(serde_json::json!({ "expected": expected, "actual": actual })),
            },
            LeadError::NotOnDncList => ApiError::NotFound("do-not-call entry"),
            LeadError::Account(account) => account.into(),
            LeadError::Store(store) => store.into(),
        }
    }
}

impl From<CallingError> for ApiError {
    fn from(err: CallingError) -> Self {
        use CallingError as E;
        match err {
            E::CampaignNotFound => ApiError::NotFound("campaign"),
            E::CampaignAction(action) => {
                ApiError::conflict("invalid_campaign_transition", action.to_string())
            }
            E::Transition(transition) => LeadError::Transition(transition).into(),
            E::Queue(queue) => ApiError::Unavailable(Some(Box::new(queue))),
            E::Campaign(campaign) => campaign.into(),
            E::Lead(lead) => lead.into(),
            E::Account(account) => account.into(),
            E::Notification(notification) => notification.into(),
            E::Store(store) => store.into(),
        }
    }
}

impl From<ListError> for ApiError {
    fn from(err: ListError) -> Self {
        match err {
            ListError::WindowTooDeep => ApiError::field("page", err.to_string()),
            ListError::Store(store) => store.into(),
        }
    }
}

impl From<JobError> for ApiError {
    fn from(err: JobError) -> Self {
        match err {
            JobError::NotFound => ApiError::NotFound("job"),
            JobError::Invalid(fields) => ApiError::Validation(fields),
            JobError::Import(import) => import.into(),
            JobError::Lead(lead) => lead.into(),
            JobError::Store(store) => store.into(),
            JobError::Blob(blob) => ApiError::internal(blob),
            JobError::Queue(queue) => ApiError::internal(queue),
        }
    }
}

impl From<ImportError> for ApiError {
    fn from(err: ImportError) -> Self {
        match err {
            ImportError::BadFile(message) => ApiError::BadRequest {
                code: "invalid_csv",
                message,
                details: None,
            },
            ImportError::Lead(lead) => lead.into(),
            ImportError::Read(io) => ApiError::bad_request("unreadable_body", io.to_string()),
            ImportError::Superseded => ApiError::conflict("import_running", err.to_string()),
        }
    }
}

impl From<ApiKeyError> for ApiError {
    fn from(err: ApiKeyError) -> Self {
        match err {
            ApiKeyError::Invalid(fields) => ApiError::Validation(fields),
            ApiKeyError::NotFound => ApiError::NotFound("API key"),
            ApiKeyError::TooMany => ApiError::conflict("too_many_api_keys", err.to_string()),
            ApiKeyError::Store(store) => store.into(),
        }
    }
}

impl From<CampaignError> for ApiError {
    fn from(err: CampaignError) -> Self {
        match err {
            CampaignError::NotFound(kind) => ApiError::NotFound(kind),
            CampaignError::Invalid(fields) => ApiError::Validation(fields),
            CampaignError::NameTaken(_) => ApiError::Conflict {
                code: "name_taken",
                message: err.to_string(),
                details: Some(
                    serde_json::json!([{ "field": "name", "message": "is taken by another campaign" }]),
                ),
            },
            CampaignError::InUse(message) => ApiError::conflict("in_use", message),
            CampaignError::VersionMismatch {
                expected, actual, ..
            } => ApiError::Conflict {
                code: "version_mismatch",
                message: err.to_string(),
                details: Some(serde_json::json!({ "expected": expected, "actual": actual })),
            },
            CampaignError::ChangedConcurrently => {
                ApiError::conflict("changed_concurrently", err.to_string())
            }
            CampaignError::Store(store) => store.into(),
        }
    }
}

impl From<DashboardError> for ApiError {
    fn from(err: DashboardError) -> Self {
        match err {
            DashboardError::Campaign(campaign) => campaign.into(),
            DashboardError::Account(account) => account.into(),
            DashboardError::Store(store) => store.into(),
        }
    }
}

impl From<InsightsError> for ApiError {
    fn from(err: InsightsError) -> Self {
        match err {
            InsightsError::NotFound(what) => ApiError::NotFound(what),
            InsightsError::Account(account) => account.into(),
            InsightsError::Store(store) => store.into(),
        }
    }
}

impl From<NotificationError> for ApiError {
    fn from(err: NotificationError) -> Self {
        match err {
            NotificationError::NotFound => ApiError::NotFound("notification"),
            NotificationError::Invalid(fields) => ApiError::Validation(fields),
            NotificationError::Resolved => ApiError::conflict(
                "notification_resolved",
                "the notification is resolved; reopen it (status pending) to act on it",
            ),
            NotificationError::Account(account) => account.into(),
            NotificationError::Store(store) => store.into(),
        }
    }
}

impl From<Vec<FieldError>> for ApiError {
    fn from(fields: Vec<FieldError>) -> Self {
        ApiError::Validation(fields)
    }
}

impl From<WebhookError> for ApiError {
    fn from(err: WebhookError) -> Self {
        match err {
            WebhookError::Unauthenticated(message) => ApiError::Unauthorized {
                code: "invalid_webhook_credentials",
                message: message.to_owned(),
            },
            WebhookError::BadSignature(message) => ApiError::Forbidden {
                code: "invalid_signature",
                message: message.to_owned(),
                details: None,
            },
            WebhookError::Malformed(message) => ApiError::BadRequest {
                code: "malformed_json",
                message,
                details: None,
            },
            WebhookError::MissingField { field, message } => ApiError::field(field, message),
            WebhookError::Calling(CallingError::Store(store)) => store.into(),
            WebhookError::Calling(other) => ApiError::internal(other),
        }
    }
}

/// Permission checks for handlers: `caller.require(Permission::LeadsImport)?`.
pub trait Require {
    fn require(&self, permission: Permission) -> Result<(), ApiError>;
}

impl Require for Caller {
    fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.can(permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden {
                code: "forbidden",
                message: match &self.api_key {
                    Some(_) => format!(
                        "this API key's scopes do not include {} ({})",
                        permission.as_str(),
                        permission.description()
                    ),
                    None => format!(
                        "your role ({}) may not {}",
                        self.role.as_str(),
                        permission.description()
                    ),
                },
                details: Some(serde_json::json!({ "required_permission": permission.as_str() })),
            })
        }
    }
}
