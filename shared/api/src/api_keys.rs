//! An organisation's API keys (admins): create one (its secret answered
//! once), list them, revoke one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use soraaya_accounts as accounts;
use soraaya_domain::{ApiKey, ApiKeyId, Permission};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::permit::{Permitted, may};
use crate::{ApiError, ApiJson, ApiPath, ApiState, ErrorBody};

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_api_keys, create_api_key))
        .routes(routes!(revoke_api_key))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// What the key is for, 1 to 100 characters.
    #[schema(example = "Website enquiry form", min_length = 1, max_length = 100)]
    pub name: String,
    /// `leads:write` (create leads, the intake among them) and/or `leads:read`.
    #[schema(schema_with = scopes_schema)]
    pub scopes: Vec<String>,
}

/// The scopes a key may hold ([`Permission::FOR_KEYS`]), as the document states them.
fn scopes_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
    let scope = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(Permission::FOR_KEYS.iter().map(|p| p.as_str())));
    Schema::Array(
        ArrayBuilder::new()
            .items(scope)
            .min_items(Some(1))
            .examples([serde_json::json!(["leads:write"])])
            .build(),
    )
}

/// A new key with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub api_key: ApiKey,
    /// Send as `Authorization: Bearer <key>` or `X-Api-Key: <key>`. Only a
    /// hash is kept: it cannot be shown again.
    pub key: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyList {
    pub items: Vec<ApiKey>,
}

/// Create an API key for an integration.
#[utoipa::path(
    post, path = "/api/v1/api-keys", tag = "users",
    request_body = CreateApiKeyRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `key` is shown only now", body = CreatedApiKey),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "The organisation holds the most keys it may", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn create_api_key(
    State(app): State<ApiState>,
    caller: Permitted<may::UsersManage>,
    ApiJson(body): ApiJson<CreateApiKeyRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let issued = accounts::create_api_key(&app, &caller, &body.name, &body.scopes).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKey {
            api_key: issued.key,
            key: issued.secret,
        }),
    ))
}

/// The organisation's API keys, newest first (revoked ones too; never their secrets).
#[utoipa::path(
    get, path = "/api/v1/api-keys", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The keys", body = ApiKeyList),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn list_api_keys(
    State(app): State<ApiState>,
    caller: Permitted<may::UsersManage>,
) -> Result<Json<ApiKeyList>, ApiError> {
    Ok(Json(ApiKeyList {
        items: accounts::list_api_keys(&app, caller.org_id).await?,
    }))
}

/// Revoke an API key: requests made with it get 401 from now on.
#[utoipa::path(
    delete, path = "/api/v1/api-keys/{id}", tag = "users",
    params(("id" = uuid::Uuid, Path, description = "API key id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Revoked", body = ApiKey),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such key", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn revoke_api_key(
    State(app): State<ApiState>,
    caller: Permitted<may::UsersManage>,
    ApiPath(id): ApiPath<ApiKeyId>,
) -> Result<Json<ApiKey>, ApiError> {
    Ok(Json(accounts::revoke_api_key(&app, &caller, id).await?))
}
