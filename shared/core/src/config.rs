//! Configuration, read once at start-up from the environment (or any other
//! source of variables, so that tests can hand a function exactly what its
//! template gives it). Each kind of deployed function has its own struct and
//! reads only what it needs; a missing or bad variable fails fast with a
//! message that names it. Secrets are `SecretString`s and never print.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::renderings::DEFAULT_BUDGET_BYTES;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Where variables come from: the process environment, or a map in tests.
pub trait Vars {
    /// The variable's value; empty counts as unset.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Vars for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl Vars for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty()).cloned()
    }
}

impl Vars for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty()).cloned()
    }
}

pub const JWT_SECRET_VAR: &str = "SORAAYA_JWT_SECRET";
pub const TABLE_PREFIX_VAR: &str = "SORAAYA_TABLE_PREFIX";
pub const ACCESS_MINUTES_VAR: &str = "SORAAYA_ACCESS_TOKEN_MINUTES";
pub const SESSION_DAYS_VAR: &str = "SORAAYA_SESSION_DAYS";
pub const RENDER_CACHE_MB_VAR: &str = "SORAAYA_RENDER_CACHE_MB";
pub const DIAL_QUEUE_URL_VAR: &str = "SORAAYA_DIAL_QUEUE_URL";
pub const JOB_QUEUE_URL_VAR: &str = "SORAAYA_JOB_QUEUE_URL";
pub const BUCKET_VAR: &str = "SORAAYA_BUCKET";
pub const PUBLIC_URL_VAR: &str = "SORAAYA_PUBLIC_URL";
pub const MAIL_FROM_VAR: &str = "SORAAYA_MAIL_FROM";
pub const VAPI_API_KEY_VAR: &str = "SORAAYA_VAPI_API_KEY";
pub const VAPI_PHONE_NUMBER_ID_VAR: &str = "SORAAYA_VAPI_PHONE_NUMBER_ID";
pub const VAPI_BASE_URL_VAR: &str = "SORAAYA_VAPI_BASE_URL";
pub const VAPI_WEBHOOK_SECRET_VAR: &str = "SORAAYA_VAPI_WEBHOOK_SECRET";
pub const VAPI_WEBHOOK_HMAC_SECRET_VAR: &str = "SORAAYA_VAPI_WEBHOOK_HMAC_SECRET";
pub const TWILIO_AUTH_TOKEN_VAR: &str = "SORAAYA_TWILIO_AUTH_TOKEN";
pub const ORG_MAX_LIVE_CALLS_VAR: &str = "SORAAYA_ORG_MAX_LIVE_CALLS";
pub const CHECK_CALL_MINUTES_VAR: &str = "SORAAYA_CHECK_CALL_MINUTES";
pub const NO_SLOT_RETRY_SECONDS_VAR: &str = "SORAAYA_NO_SLOT_RETRY_SECONDS";

pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// Everything the services need to know about their deployment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Signs access tokens (HS256); at least 32 bytes. Only functions that
    /// sign people in or check their tokens have one.
    pub jwt_secret: Option<SecretString>,
    /// Lifetime of an access token.
    pub access_token_ttl: Duration,
    /// Lifetime of a session (its refresh tokens stop working after it).
    pub session_ttl: Duration,
    /// Physical DynamoDB table names are this prefix plus the logical name.
    pub table_prefix: String,
    /// Bytes of records' JSON kept to answer again ([`crate::renderings`]; 0: none).
    pub render_cache_bytes: usize,
    pub calling: CallingConfig,
    /// The address email is sent from (a verified SES identity); functions
    /// that send none have none.
    pub mail_from: Option<String>,
    pub aws: AwsSettings,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            jwt_secret: None,
            access_token_ttl: Duration::from_secs(15 * 60),
            session_ttl: Duration::from_secs(30 * 86_400),
            table_prefix: "soraaya-".to_owned(),
            render_cache_bytes: DEFAULT_BUDGET_BYTES,
            calling: CallingConfig::default(),
            mail_from: None,
            aws: AwsSettings::default(),
        }
    }
}

/// An AWS service whose endpoint can be overridden.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsService {
    DynamoDb,
    Sqs,
    S3,
    /// Amazon SES (API v2).
    Ses,
}

/// Where the AWS services are and who calls them, from the variables the
/// AWS SDKs read (`AWS_REGION`, `AWS_ENDPOINT_URL`,
/// `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`), read with the rest of the configuration so that a
/// test can hand a function its whole environment. On Lambda the runtime
/// sets the region and the execution role's credentials; no endpoint.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub dynamodb_endpoint: Option<String>,
    pub sqs_endpoint: Option<String>,
    pub s3_endpoint: Option<String>,
    pub ses_endpoint: Option<String>,
    /// The environment's credentials (an emulator without them gets dummy ones).
    pub credentials: Option<AwsCredentials>,
}

/// AWS credentials as Lambda hands them to a function: the execution role's
/// temporary keys, in the environment for the life of the instance.
#[derive(Debug, Clone)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub session_token: Option<SecretString>,
}

impl AwsSettings {
    pub fn from_vars(vars: &dyn Vars) -> AwsSettings {
        AwsSettings {
            region: vars
                .var("AWS_REGION")
                .or_else(|| vars.var("AWS_DEFAULT_REGION")),
            endpoint: vars.var("AWS_ENDPOINT_URL"),
            dynamodb_endpoint: vars.var("AWS_ENDPOINT_URL_DYNAMODB"),
            sqs_endpoint: vars.var("AWS_ENDPOINT_URL_SQS"),
            s3_endpoint: vars.var("AWS_ENDPOINT_URL_S3"),
            // The SDK's variable for SES API v2 is named after its service id.
            ses_endpoint: vars.var("AWS_ENDPOINT_URL_SESV2"),
            credentials: vars.var("AWS_ACCESS_KEY_ID").and_then(|access_key_id| {
                Some(AwsCredentials {
                    access_key_id,
                    secret_access_key: vars.var("AWS_SECRET_ACCESS_KEY")?.into(),
                    session_token: vars.var("AWS_SESSION_TOKEN").map(Into::into),
                })
            }),
        }
    }

    /// The endpoint override for `service`, if any.
    pub fn endpoint_of(&self, service: AwsService) -> Option<&str> {
        match service {
            AwsService::DynamoDb => self.dynamodb_endpoint.as_deref(),
            AwsService::Sqs => self.sqs_endpoint.as_deref(),
            AwsService::S3 => self.s3_endpoint.as_deref(),
            AwsService::Ses => self.ses_endpoint.as_deref(),
        }
        .or(self.endpoint.as_deref())
    }
}

/// How calls are placed, checked and authenticated.
#[derive(Debug, Clone)]
pub struct CallingConfig {
    /// VAPI sends it back as `x-vapi-secret` on every webhook.
    pub vapi_webhook_secret: Option<SecretString>,
    /// When set, webhooks must also carry `x-signature`: HMAC-SHA256 over `{x-timestamp}.{body}`.
    pub vapi_webhook_hmac_secret: Option<SecretString>,
    /// Signs Twilio's status callbacks.
    pub twilio_auth_token: Option<SecretString>,
    /// The public base URL of the API (webhook URLs, Twilio signatures).
    pub public_url: Option<String>,
    /// After this long without a final word, a live call is checked with the provider.
    pub check_call_after: Duration,
    /// A live call never reported after this long is ended as failed.
    pub give_up_after: Duration,
    /// A queued dial nothing has picked up after this long is sent again.
    pub resend_queued_after: Duration,
    /// First wait before a due callback that found no free slot looks again.
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

/// The VAPI account calls are placed through.
#[derive(Debug, Clone)]
pub struct VapiAccount {
    pub api_key: SecretString,
    /// The VAPI phone number (imported from Twilio) calls are placed from.
    pub phone_number_id: String,
    pub base_url: String,
}

impl VapiAccount {
    pub fn from_vars(vars: &dyn Vars) -> Result<Self, ConfigError> {
        Ok(VapiAccount {
            api_key: SecretString::from(required(vars, VAPI_API_KEY_VAR)?),
            phone_number_id: required(vars, VAPI_PHONE_NUMBER_ID_VAR)?,
            base_url: vars
                .var(VAPI_BASE_URL_VAR)
                .unwrap_or_else(|| "https://api.vapi.ai".to_owned()),
        })
    }
}

fn required(vars: &dyn Vars, name: &'static str) -> Result<String, ConfigError> {
    vars.var(name).ok_or(ConfigError::Missing(name))
}

fn secret(vars: &dyn Vars, name: &str) -> Option<SecretString> {
    vars.var(name).map(SecretString::from)
}

fn number(
    vars: &dyn Vars,
    name: &'static str,
    default: u64,
    allowed: std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    match vars.var(name) {
        None => Ok(default),
        Some(text) => match text.trim().parse::<u64>() {
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

/// Checks a signing secret's length.
pub fn jwt_secret(value: String) -> Result<SecretString, ConfigError> {
    if value.len() < MIN_JWT_SECRET_BYTES {
        return Err(ConfigError::Invalid {
            name: JWT_SECRET_VAR,
            reason: format!("must be at least {MIN_JWT_SECRET_BYTES} bytes"),
        });
    }
    Ok(SecretString::from(value))
}

impl Config {
    /// The defaults with this signing secret (tests, and the local server
    /// which keeps its secret in the data directory).
    pub fn with_secret(secret: String) -> Result<Config, ConfigError> {
        Ok(Config {
            jwt_secret: Some(jwt_secret(secret)?),
            ..Config::default()
        })
    }

    /// What every function reads: the table prefix, and, when set, token
    /// lifetimes, calling tunables and webhook secrets. Nothing here is required.
    pub fn from_vars(vars: &dyn Vars) -> Result<Config, ConfigError> {
        let defaults = CallingConfig::default();
        let calling = CallingConfig {
            vapi_webhook_secret: secret(vars, VAPI_WEBHOOK_SECRET_VAR),
            vapi_webhook_hmac_secret: secret(vars, VAPI_WEBHOOK_HMAC_SECRET_VAR),
            twilio_auth_token: secret(vars, TWILIO_AUTH_TOKEN_VAR),
            public_url: vars
                .var(PUBLIC_URL_VAR)
                .map(|u| u.trim_end_matches('/').to_owned())
                .filter(|u| !u.is_empty()),
            check_call_after: Duration::from_secs(
                60 * number(vars, CHECK_CALL_MINUTES_VAR, 20, 1..=180)?,
            ),
            no_slot_retry: Duration::from_secs(number(
                vars,
                NO_SLOT_RETRY_SECONDS_VAR,
                5,
                1..=300,
            )?),
            org_max_live_calls: u32::try_from(number(
                vars,
                ORG_MAX_LIVE_CALLS_VAR,
                100,
                1..=10_000,
            )?)
            .unwrap_or(100),
            ..defaults
        };
        Ok(Config {
            jwt_secret: vars.var(JWT_SECRET_VAR).map(jwt_secret).transpose()?,
            access_token_ttl: Duration::from_secs(
                60 * number(vars, ACCESS_MINUTES_VAR, 15, 1..=60)?,
            ),
            session_ttl: Duration::from_secs(86_400 * number(vars, SESSION_DAYS_VAR, 30, 1..=365)?),
            table_prefix: vars
                .var(TABLE_PREFIX_VAR)
                .unwrap_or_else(|| "soraaya-".to_owned()),
            render_cache_bytes: usize::try_from(
                number(
                    vars,
                    RENDER_CACHE_MB_VAR,
                    (DEFAULT_BUDGET_BYTES >> 20) as u64,
                    0..=1024,
                )? << 20,
            )
            .unwrap_or(DEFAULT_BUDGET_BYTES),
            calling,
            mail_from: vars
                .var(MAIL_FROM_VAR)
                .map(|address| address.trim().to_owned())
                .filter(|address| !address.is_empty())
                .map(|address| match soraaya_domain::Email::parse(&address) {
                    Ok(_) => Ok(address),
                    Err(_) => Err(ConfigError::Invalid {
                        name: MAIL_FROM_VAR,
                        reason: "must be an email address".into(),
                    }),
                })
                .transpose()?,
            aws: AwsSettings::from_vars(vars),
        })
    }

    /// The public URL, required.
    pub fn public_url(&self) -> Result<&str, ConfigError> {
        self.calling
            .public_url
            .as_deref()
            .ok_or(ConfigError::Missing(PUBLIC_URL_VAR))
    }
}

/// An API function (auth, leads): it signs people in or checks their tokens.
#[derive(Debug, Clone)]
pub struct ApiFunctionConfig {
    pub config: Config,
}

impl ApiFunctionConfig {
    pub fn from_vars(vars: &dyn Vars) -> Result<Self, ConfigError> {
        let config = Config::from_vars(vars)?;
        if config.jwt_secret.is_none() {
            return Err(ConfigError::Missing(JWT_SECRET_VAR));
        }
        Ok(ApiFunctionConfig { config })
    }
}

/// The campaigns API: an API function that also sends dials.
#[derive(Debug, Clone)]
pub struct CampaignsApiFunctionConfig {
    pub config: Config,
    pub dial_queue_url: String,
}

impl CampaignsApiFunctionConfig {
    pub fn from_vars(vars: &dyn Vars) -> Result<Self, ConfigError> {
        Ok(CampaignsApiFunctionConfig {
            config: ApiFunctionConfig::from_vars(vars)?.config,
            dial_queue_url: required(vars, DIAL_QUEUE_URL_VAR)?,
        })
    }
}

/// Where lead jobs go: the bucket of their files and the queue of their runner.
#[derive(Debug, Clone)]
pub struct JobsConfig {
    pub bucket: String,
    pub job_queue_url: String,
}

impl JobsConfig {
    pub fn from_vars(vars: &dyn Vars) -> Result<Self, ConfigError> {
        Ok(JobsConfig {
            bucket: required(vars, BUCKET_VAR)?,
            job_queue_url: required(vars, JOB_QUEUE_URL_VAR)?,
        })
    }
}

/// The leads API: an API function that also starts jobs (large imports,
/// bulk changes, exports), signs their upload and download URLs, and
/// queues new leads arriving by API for the campaign calling their source.
#[derive(Debug, Clone)]
pub struct LeadsApiFunctionConfig {
    pub config: Config,
    pub jobs: JobsConfig,
    pub dial_queue_url: String,
}

impl LeadsApiFunctionConfig {
    pub fn from_vars(vars: &dyn Vars) -> Result<Self, ConfigError> {
        Ok(LeadsApiFunctionConfig {
            config: ApiFunctionConfig::from_vars(vars)?.config,
            jobs: JobsConfig::from_vars(vars)?,
            dial_queue_url: required(vars, DIAL_QUEUE_URL_VAR)?,
        })
    }
}

/// The job runner: it reads uploaded files and writes exports.
#[derive(Debug, Clone)]
pub struct JobRunnerFunctionConfig {
    pub config: Config,
    pub jobs: JobsConfig,
}

impl JobRunnerFunctionConfig {
    pub fn from_vars(vars: &dyn Vars) -> Result<Self, ConfigError> {
        Ok(JobRunnerFunctionConfig {
            config: Config::from_vars(vars)?,
            jobs: JobsConfig::from_vars(vars)?,
        })
    }
}

/// The dialer and the scheduler: they place and check calls through VAPI
/// and send dials.
#[derive(Debug, Clone)]
pub struct CallingFunctionConfig {
    pub config: Config,
    pub vapi: VapiAccount,
    pub dial_queue_url: String,
}

impl CallingFunctionConfig {
    pub fn from_vars(vars: &dyn Vars) -> Result<Self, ConfigError> {
        let config = Config::from_vars(vars)?;
        config.public_url()?;
        if config.calling.vapi_webhook_secret.is_none() {
            return Err(ConfigError::Missing(VAPI_WEBHOOK_SECRET_VAR));
        }
        Ok(CallingFunctionConfig {
            vapi: VapiAccount::from_vars(vars)?,
            dial_queue_url: required(vars, DIAL_QUEUE_URL_VAR)?,
            config,
        })
    }
}

/// The scheduler: a calling function that also emails notification digests
/// (from `SORAAYA_MAIL_FROM`, required).
#[derive(Debug, Clone)]
pub struct SchedulerFunctionConfig {
    pub calling: CallingFunctionConfig,
    pub mail_from: String,
}

impl SchedulerFunctionConfig {
    pub fn from_vars(vars: &dyn Vars) -> Result<Self, ConfigError> {
        let calling = CallingFunctionConfig::from_vars(vars)?;
        let mail_from = calling
            .config
            .mail_from
            .clone()
            .ok_or(ConfigError::Missing(MAIL_FROM_VAR))?;
        Ok(SchedulerFunctionConfig { calling, mail_from })
    }
}

/// The VAPI webhook: it refuses to start without the secret VAPI sends
/// back, and sends the next dial in line when a call ends.
#[derive(Debug, Clone)]
pub struct VapiWebhookFunctionConfig {
    pub config: Config,
    pub dial_queue_url: String,
}

impl VapiWebhookFunctionConfig {
    pub fn from_vars(vars: &dyn Vars) -> Result<Self, ConfigError> {
        let config = Config::from_vars(vars)?;
        if config.calling.vapi_webhook_secret.is_none() {
            return Err(ConfigError::Missing(VAPI_WEBHOOK_SECRET_VAR));
        }
        Ok(VapiWebhookFunctionConfig {
            dial_queue_url: required(vars, DIAL_QUEUE_URL_VAR)?,
            config,
        })
    }
}

/// The Twilio webhook: it refuses to start without the auth token and the
/// public URL its signatures cover, and sends the next dial in line when a
/// call ends.
#[derive(Debug, Clone)]
pub struct TwilioWebhookFunctionConfig {
    pub config: Config,
    pub dial_queue_url: String,
}

impl TwilioWebhookFunctionConfig {
    pub fn from_vars(vars: &dyn Vars) -> Result<Self, ConfigError> {
        let config = Config::from_vars(vars)?;
        if config.calling.twilio_auth_token.is_none() {
            return Err(ConfigError::Missing(TWILIO_AUTH_TOKEN_VAR));
        }
        config.public_url()?;
        Ok(TwilioWebhookFunctionConfig {
            dial_queue_url: required(vars, DIAL_QUEUE_URL_VAR)?,
            config,
        })
    }
}

/// A secret's text, for the one place that must send or compare it.
pub fn expose(secret: &SecretString) -> &str {
    secret.expose_secret()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

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

    #[test]
    fn each_function_kind_names_what_it_misses() {
        let missing = |result: Result<(), ConfigError>| match result {
            Err(ConfigError::Missing(name)) => name,
            other => panic!("expected a missing variable, got {other:?}"),
        };
        assert_eq!(
            missing(ApiFunctionConfig::from_vars(&vars(&[])).map(drop)),
            JWT_SECRET_VAR
        );
        let jwt = ("SORAAYA_JWT_SECRET", "j".repeat(40));
        let jwt = [(jwt.0, jwt.1.as_str())];
        assert!(ApiFunctionConfig::from_vars(&vars(&jwt)).is_ok());
        assert_eq!(
            missing(CampaignsApiFunctionConfig::from_vars(&vars(&jwt)).map(drop)),
            DIAL_QUEUE_URL_VAR
        );
        let jobs = [
            jwt[0],
            (BUCKET_VAR, "bucket"),
            (JOB_QUEUE_URL_VAR, "http://queue/jobs"),
        ];
        assert_eq!(
            missing(LeadsApiFunctionConfig::from_vars(&vars(&jobs)).map(drop)),
            DIAL_QUEUE_URL_VAR
        );
        assert_eq!(
            missing(VapiWebhookFunctionConfig::from_vars(&vars(&[])).map(drop)),
            VAPI_WEBHOOK_SECRET_VAR
        );
        assert_eq!(
            missing(
                TwilioWebhookFunctionConfig::from_vars(&vars(&[(TWILIO_AUTH_TOKEN_VAR, "t")]))
                    .map(drop)
            ),
            PUBLIC_URL_VAR
        );
        assert_eq!(
            missing(
                TwilioWebhookFunctionConfig::from_vars(&vars(&[
                    (TWILIO_AUTH_TOKEN_VAR, "t"),
                    (PUBLIC_URL_VAR, "https://api.example.com/")
                ]))
                .map(drop)
            ),
            DIAL_QUEUE_URL_VAR
        );
        assert_eq!(
            missing(
                VapiWebhookFunctionConfig::from_vars(&vars(&[(VAPI_WEBHOOK_SECRET_VAR, "s")]))
                    .map(drop)
            ),
            DIAL_QUEUE_URL_VAR
        );
        let calling = vars(&[
            (PUBLIC_URL_VAR, "https://api.example.com/"),
            (VAPI_WEBHOOK_SECRET_VAR, "s"),
            (VAPI_API_KEY_VAR, "k"),
            (VAPI_PHONE_NUMBER_ID_VAR, "p"),
        ]);
        assert_eq!(
            missing(CallingFunctionConfig::from_vars(&calling).map(drop)),
            DIAL_QUEUE_URL_VAR
        );
        let scheduler = vars(&[
            (PUBLIC_URL_VAR, "https://api.example.com/"),
            (VAPI_WEBHOOK_SECRET_VAR, "s"),
            (VAPI_API_KEY_VAR, "k"),
            (VAPI_PHONE_NUMBER_ID_VAR, "p"),
            (DIAL_QUEUE_URL_VAR, "http://queue/dials"),
        ]);
        assert!(CallingFunctionConfig::from_vars(&scheduler).is_ok());
        assert_eq!(
            missing(SchedulerFunctionConfig::from_vars(&scheduler).map(drop)),
            MAIL_FROM_VAR
        );
        let bad = vars(&[(ORG_MAX_LIVE_CALLS_VAR, "lots")]);
        assert!(matches!(
            Config::from_vars(&bad),
            Err(ConfigError::Invalid {
                name: ORG_MAX_LIVE_CALLS_VAR,
                ..
            })
        ));
    }

    #[test]
    fn the_render_cache_is_sized_in_megabytes() {
        let size = |value: &str| Config::from_vars(&vars(&[(RENDER_CACHE_MB_VAR, value)]));
        assert_eq!(size("0").unwrap().render_cache_bytes, 0);
        assert_eq!(size("64").unwrap().render_cache_bytes, 64 << 20);
        assert_eq!(
            Config::from_vars(&vars(&[])).unwrap().render_cache_bytes,
            DEFAULT_BUDGET_BYTES
        );
        assert!(matches!(
            size("2048"),
            Err(ConfigError::Invalid {
                name: RENDER_CACHE_MB_VAR,
                ..
            })
        ));
    }
}
