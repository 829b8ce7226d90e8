//! `/api/v1/auth`, `/api/v1/user/permissions` and `/api/v1/users`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use soraaya_domain::{Email, Password, Permission, PersonName, Role, User, UserId};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use soraaya_accounts::{self as accounts, Caller, NewUser, SignedIn, UserChanges};

use crate::extract::ClientAddress;
use crate::permit::{Permitted, may};
use crate::{ApiError, ApiJson, ApiPath, ApiQuery, ApiState, ErrorBody, FieldErrors};

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(change_password))
        .routes(routes!(forgot_password))
        .routes(routes!(reset_password))
        .routes(routes!(force_password_reset))
        .routes(routes!(me))
        .routes(routes!(permissions))
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(example = "admin@soraaya.local")]
    pub email: String,
    pub password: String,
    /// Keep me signed in: the session lasts 30 days; without it, it ends after 12 hours unused.
    #[serde(default)]
    pub remember: bool,
}

/// Tokens and the signed-in user.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Short-lived JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Single-use token for `/auth/refresh`; using one twice ends the session.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub user: User,
}

impl From<SignedIn> for TokenResponse {
    fn from(signed_in: SignedIn) -> Self {
        TokenResponse {
            access_token: signed_in.tokens.access_token,
            refresh_token: signed_in.tokens.refresh_token,
            token_type: "Bearer",
            expires_in: signed_in.tokens.expires_in,
            user: signed_in.user,
        }
    }
}

/// Sign in with email and password.
///
/// After 5 failed attempts for one email within 15 minutes, further attempts
/// get 429 with `Retry-After` until the oldest failure is 15 minutes old.
#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 403, description = "Account deactivated", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
        (status = 429, description = "Too many failed attempts", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all)]
async fn login(
    State(app): State<ApiState>,
    ClientAddress(client): ClientAddress,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let mut errors = FieldErrors::new();
    let email = errors.check("email", Email::parse(&body.email));
    if body.password.is_empty() {
        errors.add("password", "is required");
    }
    errors.finish()?;
    let Some(email) = email else {
        return Err(ApiError::field("email", "is required"));
    };
    let signed_in = accounts::login(&app, &email, &body.password, client, body.remember).await?;
    Ok(Json(signed_in.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// At least 10 characters, not the email address, not a common password.
    #[schema(min_length = 10, max_length = 128)]
    pub new_password: String,
}

/// Change the caller's password. Every other session of the caller ends;
/// this one goes on. Wrong current passwords count against the account's
/// login limits.
#[utoipa::path(
    post, path = "/api/v1/auth/change-password", tag = "auth",
    request_body = ChangePasswordRequest,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Changed"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 409, description = "The account changed meanwhile", body = ErrorBody),
        (status = 422, description = "Wrong current password, or a refused new one", body = ErrorBody),
        (status = 429, description = "Too many wrong passwords", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn change_password(
    State(app): State<ApiState>,
    caller: Caller,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    use accounts::PasswordChangeError as E;
    match accounts::change_password(&app, &caller, &body.current_password, &body.new_password).await
    {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(E::WrongCurrentPassword) => Err(ApiError::field(
            "current_password",
            "is not your current password",
        )),
        Err(E::Refused(why)) => Err(ApiError::field("new_password", why)),
        Err(E::Unchanged) => Err(ApiError::field("new_password", "is the current password")),
        Err(E::Throttled { retry_after }) => Err(ApiError::TooManyRequests {
            retry_after_seconds: retry_after.as_secs().max(1),
            message: "too many wrong passwords for this account; try again later".into(),
        }),
        Err(E::ChangedConcurrently) => Err(ApiError::conflict(
            "changed_concurrently",
            "the account changed meanwhile; try again",
        )),
        Err(E::Auth(err)) => Err(err.into()),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotPasswordRequest {
    #[schema(example = "asha@skyline.in")]
    pub email: String,
}

/// What became of a reset request: always the same, account or not.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResetRequested {
    #[schema(
        example = "If an active account has this email, a link to choose a new password is on its way; it works once, within 30 minutes."
    )]
    pub message: String,
}

/// Ask for a link to choose a new password.
///
/// Always answered the same, whether an account has this email or not. The
/// link, `<public URL>/reset-password?token=…`, is emailed, works once and
/// for 30 minutes; a newer link replaces it. At most 3 links per account
/// and 10 requests per client address within 15 minutes (429 past the
/// latter, with `Retry-After`).
#[utoipa::path(
    post, path = "/api/v1/auth/forgot-password", tag = "auth",
    request_body = ForgotPasswordRequest,
    responses(
        (status = 202, description = "Asked (whether or not there is such an account)", body = ResetRequested),
        (status = 422, description = "Not an email address", body = ErrorBody),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all)]
async fn forgot_password(
    State(app): State<ApiState>,
    ClientAddress(client): ClientAddress,
    ApiJson(body): ApiJson<ForgotPasswordRequest>,
) -> Result<(StatusCode, Json<ResetRequested>), ApiError> {
    let email = Email::parse(&body.email).map_err(|err| ApiError::field("email", err))?;
    accounts::forgot_password(&app, &email, client).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ResetRequested {
            message: format!(
                "If an active account has this email, a link to choose a new password is on its way; it works once, within {} minutes.",
                accounts::RESET_LINK_LIFE.as_secs() / 60
            ),
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    /// The `token` of the emailed link.
    pub token: String,
    /// At least 10 characters, not the email address, not a common password.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
}

/// Choose a new password with an emailed reset link's token. Every session
/// of the user ends; sign in with the new password.
#[utoipa::path(
    post, path = "/api/v1/auth/reset-password", tag = "auth",
    request_body = ResetPasswordRequest,
    responses(
        (status = 204, description = "Set; every session of the user ended"),
        (status = 409, description = "The account changed meanwhile", body = ErrorBody),
        (status = 422, description = "The link is not valid, has expired or was used; or the password is refused", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all)]
async fn reset_password(
    State(app): State<ApiState>,
    ApiJson(body): ApiJson<ResetPasswordRequest>,
) -> Result<StatusCode, ApiError> {
    accounts::reset_password(&app, &body.token, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// When a forced reset's link stops working.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForcedReset {
    /// The user was emailed a link that works until then.
    #[schema(value_type = String, format = DateTime)]
    pub link_expires_at: jiff::Timestamp,
}

/// Force a user to choose a new password: they are emailed a link that
/// works for 24 hours, then their password stops working and every session
/// of theirs ends.
#[utoipa::path(
    post, path = "/api/v1/users/{id}/reset-password", tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Link sent; the old password no longer works", body = ForcedReset),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user in this organisation", body = ErrorBody),
        (status = 409, description = "The user is deactivated, or changed meanwhile", body = ErrorBody),
        (status = 503, description = "The email could not be sent; nothing changed", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn force_password_reset(
    State(app): State<ApiState>,
    caller: Permitted<may::UsersManage>,
    ApiPath(id): ApiPath<UserId>,
) -> Result<(StatusCode, Json<ForcedReset>), ApiError> {
    let link_expires_at = accounts::force_reset(&app, &caller, id).await?;
    Ok((StatusCode::ACCEPTED, Json(ForcedReset { link_expires_at })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Exchange a refresh token for new tokens (the old refresh token stops working).
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 401, description = "Invalid, expired or reused refresh token", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all)]
async fn refresh(
    State(app): State<ApiState>,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    Ok(Json(
        accounts::refresh(&app, &body.refresh_token).await?.into(),
    ))
}

#[derive(Debug, Default, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogoutQuery {
    /// End every session of this user, not only this one.
    #[serde(default)]
    pub everywhere: bool,
}

/// Sign out: ends this session (or all of the user's sessions).
#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    params(LogoutQuery),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn logout(
    State(app): State<ApiState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<LogoutQuery>,
) -> Result<StatusCode, ApiError> {
    accounts::logout(&app, &caller, query.everywhere).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(
    get, path = "/api/v1/auth/me", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = User),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn me(State(app): State<ApiState>, caller: Caller) -> Result<Json<User>, ApiError> {
    Ok(Json(
        accounts::get_user(&app, caller.org_id, caller.user_id).await?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionsResponse {
    pub role: Role,
    pub permissions: Vec<Permission>,
}

/// What the signed-in user's role may do.
#[utoipa::path(
    get, path = "/api/v1/user/permissions", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Role and permissions", body = PermissionsResponse),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
async fn permissions(caller: Caller) -> Json<PermissionsResponse> {
    Json(PermissionsResponse {
        role: caller.role,
        permissions: caller.role.permissions().to_vec(),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<User>,
    pub total: usize,
}

/// Users of the caller's organisation, by name.
#[utoipa::path(
    get, path = "/api/v1/users", tag = "users",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Users", body = UserList),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn list_users(
    State(app): State<ApiState>,
    caller: Permitted<may::UsersManage>,
) -> Result<Json<UserList>, ApiError> {
    let items = accounts::list_users(&app, caller.org_id).await?;
    Ok(Json(UserList {
        total: items.len(),
        items,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub email: String,
    pub full_name: String,
    pub role: Role,
    /// At least 10 characters, not the email address, not a common password.
    pub password: String,
}

/// Add a user to the caller's organisation.
#[utoipa::path(
    post, path = "/api/v1/users", tag = "users",
    request_body = CreateUserRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = User),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "Email already registered", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn create_user(
    State(app): State<ApiState>,
    caller: Permitted<may::UsersManage>,
    ApiJson(body): ApiJson<CreateUserRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let mut errors = FieldErrors::new();
    let email = errors.check("email", Email::parse(&body.email));
    let full_name = errors.check("full_name", PersonName::parse(&body.full_name));
    let password = errors.check(
        "password",
        match &email {
            Some(email) => Password::for_account(&body.password, email),
            None => Password::parse(&body.password),
        },
    );
    errors.finish()?;
    let (Some(email), Some(full_name), Some(password)) = (email, full_name, password) else {
        return Err(ApiError::bad_request("invalid_request", "invalid fields"));
    };
    let user = accounts::create_user(
        &app,
        caller.org_id,
        NewUser {
            email,
            full_name,
            role: body.role,
            password,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// One user of the caller's organisation.
#[utoipa::path(
    get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user in this organisation", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn get_user(
    State(app): State<ApiState>,
    caller: Permitted<may::UsersManage>,
    ApiPath(id): ApiPath<UserId>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(accounts::get_user(&app, caller.org_id, id).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    pub role: Option<Role>,
    pub full_name: Option<String>,
    /// `false` deactivates the user and ends their sessions.
    pub is_active: Option<bool>,
}

/// Change a user's role or name, or deactivate or reactivate them. A change of
/// role or a deactivation ends the user's sessions. The last active admin
/// cannot be demoted or deactivated.
#[utoipa::path(
    patch, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    request_body = UpdateUserRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = User),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such user in this organisation", body = ErrorBody),
        (status = 409, description = "Would leave no active admin, or changed concurrently", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn update_user(
    State(app): State<ApiState>,
    caller: Permitted<may::UsersManage>,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<UpdateUserRequest>,
) -> Result<Json<User>, ApiError> {
    let mut errors = FieldErrors::new();
    let full_name = match &body.full_name {
        Some(name) => errors.check("full_name", PersonName::parse(name)),
        None => None,
    };
    errors.finish()?;
    let changes = UserChanges {
        role: body.role,
        full_name,
        is_active: body.is_active,
    };
    Ok(Json(
        accounts::update_user(&app, &caller, id, changes).await?,
    ))
}
