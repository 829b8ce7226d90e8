//! The auth API function: sign-in, tokens, the signed-in user, user admin,
//! and the API document with its page for people.

use std::sync::Arc;

use axum::Router;
use soraaya_aws::SesMailer;
use soraaya_core::config::{ApiFunctionConfig, ConfigError, MAIL_FROM_VAR, Vars};
use soraaya_core::storage::deployed_store;
use soraaya_core::{App, AppState};

/// The function's dependencies, from exactly the variables it is given:
/// password reset links go out through SES from `SORAAYA_MAIL_FROM` to
/// `SORAAYA_PUBLIC_URL`'s reset page; both are required.
pub async fn init(vars: &dyn Vars) -> Result<AppState, ConfigError> {
    let config = ApiFunctionConfig::from_vars(vars)?.config;
    config.public_url()?;
    let from = config
        .mail_from
        .clone()
        .ok_or(ConfigError::Missing(MAIL_FROM_VAR))?;
    let mailer = SesMailer::at(&from, &config.aws).await;
    let store = deployed_store(&config).await;
    Ok(Arc::new(
        App::new(config, store).with_mailer(Arc::new(mailer)),
    ))
}

/// The function's handler: the accounts routes, as they also run locally.
pub fn handler(app: AppState) -> Router {
    soraaya_api::router(
        app,
        soraaya_api::accounts::routes()
            .merge(soraaya_api::api_keys::routes())
            .merge(soraaya_api::preferences::routes())
            .merge(soraaya_api::docs::routes()),
    )
}
