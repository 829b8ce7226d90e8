//! Configuration, read once at start-up. A missing or bad variable fails fast
//! with a message that names it; secrets never print.

use std::fmt;
use std::time::Duration;

/// A value that must never reach logs or error messages.
#[derive(Clone)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Everything the services need to know about their deployment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Signs access tokens (HS256); at least 32 bytes.
    pub jwt_secret: Secret<String>,
    /// Lifetime of an access token.
    pub access_token_ttl: Duration,
    /// Lifetime of a session (its refresh tokens stop working after it).
    pub session_ttl: Duration,
    /// Physical DynamoDB table names are this prefix plus the logical name.
    pub table_prefix: String,
    pub calling: CallingConfig,
}

/// How calls are placed, checked and authenticated.
#[derive(Debug, Clone)]
pub struct CallingConfig {
    /// VAPI sends it back as `x-vapi-secret` on every webhook.
    pub vapi_webhook_secret: Option<Secret<String>>,
    /// When set, webhooks must also carry `x-signature`: HMAC-SHA256 over `{x-timestamp}.{body}`.
    pub vapi_webhook_hmac_secret: Option<Secret<String>>,
    /// Signs Twilio's status callbacks.
    pub twilio_auth_token: Option<Secret<String>>,
    /// The public base URL of the API (webhook URLs, Twilio signatures).
    pub public_url: Option<String>,
    /// After this long without a final word, a live call is checked with the provider.
    pub check_call_after: Duration,
    /// A live call never reported after this long is ended as failed.
    pub give_up_after: Duration,
    /// A queued dial nothing has picked up after this long is sent again.
    pub resend_queued_after: Duration,
    /// First wait before a dial that found no free slot is tried again.
    pub no_slot_retry: Duration,
    /// A call's expected length, until a campaign has an average of its own
    /// (it paces the dials waiting for a slot).
    pub typical_call: Duration,
    /// Most live calls of one organisation across its campaigns (the voice
    /// provider's concurrency for the account).
    pub org_max_live_calls: u32,
}

impl Default for CallingConfig {
    fn default() -> Self {
        CallingConfig {
            vapi_webhook_secret: None,
            vapi_webhook_hmac_secret: None,
            twilio_auth_token: None,
            public_url: None,
            check_call_after: Duration::from_secs(20 * 60),
            give_up_after: Duration::from_secs(2 * 3600),
            resend_queued_after: Duration::from_secs(15 * 60),
            no_slot_retry: Duration::from_secs(5),
            typical_call: Duration::from_secs(60),
            org_max_live_calls: 100,
        }
    }
}

fn secret_var(name: &str) -> Option<Secret<String>> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(Secret::new)
}

impl CallingConfig {
    pub fn from_env() -> Result<CallingConfig, ConfigError> {
        let defaults = CallingConfig::default();
        Ok(CallingConfig {
            vapi_webhook_secret: secret_var("SORAAYA_VAPI_WEBHOOK_SECRET"),
            vapi_webhook_hmac_secret: secret_var("SORAAYA_VAPI_WEBHOOK_HMAC_SECRET"),
            twilio_auth_token: secret_var("SORAAYA_TWILIO_AUTH_TOKEN"),
            public_url: std::env::var("SORAAYA_PUBLIC_URL")
                .ok()
                .map(|u| u.trim_end_matches('/').to_owned())
                .filter(|u| !u.is_empty()),
            check_call_after: Duration::from_secs(
                60 * number_var("SORAAYA_CHECK_CALL_MINUTES", 20, 1..=180)?,
            ),
            no_slot_retry: Duration::from_secs(number_var(
                "SORAAYA_NO_SLOT_RETRY_SECONDS",
                5,
                1..=300,
            )?),
            org_max_live_calls: u32::try_from(number_var(
                "SORAAYA_ORG_MAX_LIVE_CALLS",
                100,
                1..=10_000,
            )?)
            .unwrap_or(100),
            ..defaults
        })
    }
}

pub const JWT_SECRET_VAR: &str = "SORAAYA_JWT_SECRET";
pub const TABLE_PREFIX_VAR: &str = "SORAAYA_TABLE_PREFIX";
const ACCESS_MINUTES_VAR: &str = "SORAAYA_ACCESS_TOKEN_MINUTES";
const SESSION_DAYS_VAR: &str = "SORAAYA_SESSION_DAYS";

pub const MIN_JWT_SECRET_BYTES: usize = 32;

impl Config {
    /// Reads the configuration of a deployed function from its environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        let secret =
            std::env::var(JWT_SECRET_VAR).map_err(|_| ConfigError::Missing(JWT_SECRET_VAR))?;
        Config::with_secret(secret)
    }

    /// The configuration with an explicit secret and every other value from the
    /// environment or its default.
    pub fn with_secret(jwt_secret: String) -> Result<Config, ConfigError> {
        if jwt_secret.len() < MIN_JWT_SECRET_BYTES {
            return Err(ConfigError::Invalid {
                name: JWT_SECRET_VAR,
                reason: format!("must be at least {MIN_JWT_SECRET_BYTES} bytes"),
            });
        }
        Ok(Config {
            jwt_secret: Secret::new(jwt_secret),
            access_token_ttl: Duration::from_secs(60 * number_var(ACCESS_MINUTES_VAR, 15, 1..=60)?),
            session_ttl: Duration::from_secs(86_400 * number_var(SESSION_DAYS_VAR, 30, 1..=365)?),
            table_prefix: std::env::var(TABLE_PREFIX_VAR).unwrap_or_else(|_| "soraaya-".to_owned()),
            calling: CallingConfig::from_env()?,
        })
    }
}

fn number_var(
    name: &'static str,
    default: u64,
    allowed: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(value) if allowed.contains(&value) => Ok(value),
            _ => Err(ConfigError::Invalid {
                name,
                reason: format!(
                    "must be a whole number from {} to {}",
                    allowed.start(),
                    allowed.end()
                ),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secrets_are_refused_and_secrets_never_print() {
        assert!(matches!(
            Config::with_secret("short".into()),
            Err(ConfigError::Invalid {
                name: JWT_SECRET_VAR,
                ..
            })
        ));
        let config = Config::with_secret("x".repeat(40)).unwrap();
        assert!(!format!("{config:?}").contains("xxxx"));
    }
}
