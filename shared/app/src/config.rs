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
