//! Accounts: organisations, users, sign-in sessions, API keys and the
//! checks behind every authenticated request.

mod api_keys;
pub mod audit;
mod auth;
mod caller;
mod preferences;
mod repo;
mod reset;
mod settings;
mod throttle;
mod tokens;
mod turns;
mod users;

pub use api_keys::{
    ApiKeyError, IssuedKey, MAX_KEYS, authenticate_key, create_api_key, list_api_keys,
    revoke_api_key,
};
pub use auth::{
    AuthError, IDLE_SESSION, IssuedTokens, PasswordChangeError, SignedIn, authenticate,
    change_password, login, logout, refresh,
};
pub use caller::{Caller, KeyGrant};
pub use preferences::{ChannelChange, PreferenceChanges, update_preferences};
pub use repo::OrgSummary;
pub use reset::{
    FORCED_RESET_LINK_LIFE, RESET_LINK_LIFE, ResetError, force_reset, forgot_password,
    reset_password,
};
pub use settings::{SettingsChanges, update_org_settings};
pub use soraaya_core::passwords::PasswordHashError;
pub use soraaya_core::tokens::{AccessClaims, TokenError};
pub use tokens::{ApiKeyToken, RefreshToken, ResetToken};
pub use turns::{Turn, next_in_turn};
pub use users::{
    AccountError, NewOrganisation, NewUser, UserChanges, create_organisation, create_user,
    get_user, list_organisations, list_users, org, organisation, update_user,
};
