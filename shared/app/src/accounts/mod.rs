//! Accounts: organisations, users, sign-in sessions and the auth API.

mod auth;
mod caller;
pub mod http;
mod org_cache;
mod passwords;
mod repo;
mod throttle;
mod tokens;
mod users;

pub use auth::{AuthError, IssuedTokens, SignedIn, authenticate, login, logout, refresh};
pub use caller::Caller;
pub use org_cache::OrgCache;
pub use passwords::{PasswordHashError, Passwords};
pub use tokens::{AccessClaims, RefreshToken, TokenError, TokenKeys};
pub use users::{
    AccountError, NewOrganisation, NewUser, UserChanges, create_organisation, create_user,
    get_user, list_organisations, list_users, organisation, update_user,
};
