//! Signing in and out: login, refresh-token rotation, logout, and the check
//! behind every authenticated request.

use std::net::IpAddr;
use std::time::Duration;

use jiff::Timestamp;
use soraaya_domain::{Email, SessionId, User};
use soraaya_store::StoreError;
use subtle::ConstantTimeEq;
use tracing::{info, warn};

use crate::caller::Caller;
use crate::repo::{AccountsRepo, REFRESH_GRACE, SessionRecord};
use crate::throttle::{self, Attempt};
use crate::tokens::RefreshToken;
use soraaya_core::App;
use soraaya_core::passwords::PasswordHashError;
use soraaya_core::tokens::{TokenError, TokenKeys};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("email or password is wrong")]
    InvalidCredentials,
    #[error("too many failed logins")]
    Throttled { retry_after: Duration },
    #[error("this account is deactivated")]
    AccountDisabled,
    #[error("the token is missing, malformed or forged")]
    InvalidToken,
    #[error("the token has expired")]
    TokenExpired,
    #[error("the session has ended")]
    SessionEnded,
    #[error("this API key was revoked")]
    KeyRevoked,
    #[error("this refresh token was already used; the session has been revoked")]
    RefreshTokenReused,
    #[error("this function has no token signing key (SORAAYA_JWT_SECRET)")]
    NoSigningKey,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hashing(#[from] PasswordHashError),
}

impl From<TokenError> for AuthError {
    fn from(err: TokenError) -> Self {
        match err {
            TokenError::Invalid => AuthError::InvalidToken,
            TokenError::Expired => AuthError::TokenExpired,
        }
    }
}

/// Tokens handed to a client that signed in.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

#[derive(Debug, Clone)]
pub struct SignedIn {
    pub tokens: IssuedTokens,
    pub user: User,
}

/// A session signed in without "remember me" ends after this long unused.
pub const IDLE_SESSION: Duration = Duration::from_secs(12 * 3600);

/// The end of a session's life (epoch seconds).
fn session_end(app: &App, created: Timestamp) -> i64 {
    created.as_second() + i64::try_from(app.config.session_ttl.as_secs()).unwrap_or(i64::MAX / 4)
}

/// When a session used `now` ends: at the end of its life if remembered,
/// after [`IDLE_SESSION`] unused otherwise.
fn session_expiry(app: &App, created: Timestamp, now: Timestamp, remember: bool) -> i64 {
    let end = session_end(app, created);
    if remember {
        end
    } else {
        end.min(now.as_second() + i64::try_from(IDLE_SESSION.as_secs()).unwrap_or(0))
    }
}

/// The signing keys; only functions configured with a secret sign people in.
fn keys(app: &App) -> Result<&TokenKeys, AuthError> {
    app.tokens.as_ref().ok_or(AuthError::NoSigningKey)
}

fn issue(
    app: &App,
    user: &User,
    session: SessionId,
    refresh: &RefreshToken,
    now: Timestamp,
) -> Result<IssuedTokens, AuthError> {
    let keys = keys(app)?;
    Ok(IssuedTokens {
        access_token: keys.issue_access(user, session, now),
        refresh_token: refresh.expose(),
        expires_in: keys.access_ttl().as_secs(),
    })
}

/// Checks an email and password and opens a new session: one that lasts
/// its whole life with `remember`, one that ends after [`IDLE_SESSION`]
/// unused otherwise. `client` is the caller's address, when known: the
/// limits per address apply to it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn login(
    app: &App,
    email: &Email,
    password: &str,
    client: Option<IpAddr>,
    remember: bool,
) -> Result<SignedIn, AuthError> {
    let repo = AccountsRepo::new(app.store.as_ref());
    let now = app.clock.now();
    let reserved = match throttle::reserve_attempt(&repo, email, client, now).await? {
        Attempt::Allowed(reserved) => reserved,
        Attempt::Refused(retry_after) => {
            warn!(email = %email.masked(), "login throttled");
            return Err(AuthError::Throttled { retry_after });
        }
    };
    let Some(identity) = repo.identity(email).await? else {
        app.passwords.verify_decoy(password).await?;
        return Err(AuthError::InvalidCredentials);
    };
    let Some(stored) = repo.user(identity.org_id, identity.user_id).await? else {
        app.passwords.verify_decoy(password).await?;
        return Err(AuthError::InvalidCredentials);
    };
    if !app
        .passwords
        .verify(password, &stored.password_hash)
        .await?
    {
        info!(email = %email.masked(), "login failed: wrong password");
        return Err(AuthError::InvalidCredentials);
    }
    let mut user = stored.user;
    if !user.is_active {
        // Answered as a wrong password is, and counted as one.
        info!(email = %email.masked(), "login refused: account deactivated");
        return Err(AuthError::InvalidCredentials);
    }
    throttle::succeeded(&repo, email, client, reserved).await?;

    let session_id = SessionId::new();
    let refresh = RefreshToken::generate(user.org_id, user.id, session_id);
    repo.create_session(&SessionRecord {
        session_id,
        user_id: user.id,
        org_id: user.org_id,
        current_hash: refresh.secret_hash(),
        previous_hashes: Vec::new(),
        created_at: now,
        last_used_at: now,
        expires_at: session_expiry(app, now, now, remember),
        remember,
        rotated_at: None,
        revoked_at: None,
        revoked_reason: None,
    })
    .await?;
    repo.record_login(user.org_id, user.id, now).await?;
    user.last_login_at = Some(now);
    info!(user_id = %user.id, org_id = %user.org_id, session_id = %session_id, "signed in");
    Ok(SignedIn {
        tokens: issue(app, &user, session_id, &refresh, now)?,
        user,
    })
}

/// Trades a refresh token for new tokens. Every refresh token works once,
/// with a grace: presented again within [`REFRESH_GRACE`] of its refresh
/// (a client retrying after a timeout, or two tabs at once), it gets the
/// same new pair; after that, presenting a used token revokes the session.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn refresh(app: &App, token: &str) -> Result<SignedIn, AuthError> {
    let presented = RefreshToken::parse(token)?;
    let keys = keys(app)?;
    let repo = AccountsRepo::new(app.store.as_ref());
    let now = app.clock.now();
    let next = presented.successor(keys);
    let mut session = repo
        .session(presented.org, presented.user, presented.session)
        .await?
        .ok_or(AuthError::InvalidToken)?;
    let hash = presented.secret_hash();
    let mut issued_at = now;
    if same_hash(&hash, &session.current_hash) {
        if session.revoked_at.is_some() || session.expires_at <= now.as_second() {
            return Err(AuthError::SessionEnded);
        }
        let moved =
            (!session.remember).then(|| session_expiry(app, session.created_at, now, false));
        match repo
            .rotate_session(&session, &next.secret_hash(), now, moved)
            .await
        {
            Ok(()) => {}
            // A refresh with the same token got there first: answered below
            // as a repeat of it.
            Err(StoreError::Conflict { .. }) => {
                session = repo
                    .session(presented.org, presented.user, presented.session)
                    .await?
                    .ok_or(AuthError::InvalidToken)?;
                issued_at =
                    repeat_of(&session, &hash, &next, now).ok_or(AuthError::SessionEnded)?;
            }
            Err(err) => return Err(err.into()),
        }
    } else if let Some(at) = repeat_of(&session, &hash, &next, now) {
        issued_at = at;
    } else if session
        .previous_hashes
        .iter()
        .any(|old| same_hash(old, &hash))
    {
        warn!(session_id = %session.session_id, user_id = %session.user_id, "refresh token replayed; revoking session");
        repo.revoke_session(
            session.org_id,
            session.user_id,
            session.session_id,
            "refresh token reused",
            now,
        )
        .await?;
        app.sessions.forget(session.session_id);
        return Err(AuthError::RefreshTokenReused);
    } else {
        return Err(AuthError::InvalidToken);
    }
    let stored = repo
        .user(session.org_id, session.user_id)
        .await?
        .ok_or(AuthError::SessionEnded)?;
    if !stored.user.is_active {
        return Err(AuthError::AccountDisabled);
    }
    // A repeat is issued as of the first answer, so its tokens are the same.
    Ok(SignedIn {
        tokens: issue(app, &stored.user, session.session_id, &next, issued_at)?,
        user: stored.user,
    })
}

pub(super) fn same_hash(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// When `hash` is the token the live session's current one replaced, within
/// the grace, and `next` is that replacement: the time it was issued.
fn repeat_of(
    session: &SessionRecord,
    hash: &str,
    next: &RefreshToken,
    now: Timestamp,
) -> Option<Timestamp> {
    let rotated_at = session.rotated_at?;
    let replaced = session.previous_hashes.last()?;
    (session.revoked_at.is_none()
        && session.expires_at > now.as_second()
        && same_hash(replaced, hash)
        && same_hash(&session.current_hash, &next.secret_hash())
        && now.duration_since(rotated_at) <= REFRESH_GRACE)
        .then_some(rotated_at)
}

/// Ends the caller's session, or every session of the caller.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
pub async fn logout(app: &App, caller: &Caller, everywhere: bool) -> Result<(), AuthError> {
    let repo = AccountsRepo::new(app.store.as_ref());
    let now = app.clock.now();
    if everywhere {
        repo.revoke_user_sessions(
            caller.org_id,
            caller.user_id,
            "signed out everywhere",
            now,
            None,
        )
        .await?;
        app.sessions.forget_user(caller.org_id, caller.user_id);
    } else {
        repo.revoke_session(
            caller.org_id,
            caller.user_id,
            caller.session_id,
            "signed out",
            now,
        )
        .await?;
        app.sessions.forget(caller.session_id);
    }
    info!(user_id = %caller.user_id, everywhere, "signed out");
    Ok(())
}

/// Why a password could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordChangeError {
    #[error("the current password is wrong")]
    WrongCurrentPassword,
    #[error("the new password {0}")]
    Refused(soraaya_domain::PasswordError),
    #[error("the new password is the current one")]
    Unchanged,
    #[error("too many wrong passwords")]
    Throttled { retry_after: Duration },
    #[error("changed by someone else meanwhile; try again")]
    ChangedConcurrently,
    #[error(transparent)]
    Auth(#[from] AuthError),
}

impl From<StoreError> for PasswordChangeError {
    fn from(err: StoreError) -> Self {
        PasswordChangeError::Auth(AuthError::Store(err))
    }
}

/// Changes the caller's password, given the current one (wrong ones count
/// against the login limits of the account). Every other session of the
/// caller ends; this one goes on.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
pub async fn change_password(
    app: &App,
    caller: &Caller,
    current: &str,
    new: &str,
) -> Result<(), PasswordChangeError> {
    let repo = AccountsRepo::new(app.store.as_ref());
    let now = app.clock.now();
    let Some(stored) = repo.user(caller.org_id, caller.user_id).await? else {
        return Err(AuthError::SessionEnded.into());
    };
    let email = stored.user.email.clone();
    let reserved = match throttle::reserve_attempt(&repo, &email, None, now).await? {
        Attempt::Allowed(reserved) => reserved,
        Attempt::Refused(retry_after) => {
            return Err(PasswordChangeError::Throttled { retry_after });
        }
    };
    if !app
        .passwords
        .verify(current, &stored.password_hash)
        .await
        .map_err(AuthError::from)?
    {
        info!(user_id = %caller.user_id, "password change refused: wrong current password");
        return Err(PasswordChangeError::WrongCurrentPassword);
    }
    throttle::succeeded(&repo, &email, None, reserved).await?;
    let password =
        soraaya_domain::Password::for_account(new, &email).map_err(PasswordChangeError::Refused)?;
    if new == current {
        return Err(PasswordChangeError::Unchanged);
    }
    let hash = app
        .passwords
        .hash(&password)
        .await
        .map_err(AuthError::from)?;
    match repo
        .update_user(
            caller.org_id,
            caller.user_id,
            stored.version,
            soraaya_store::Update::new()
                .set("password_hash", hash)
                .set("updated_at", now.to_string()),
            crate::audit::record(
                caller.org_id,
                &crate::audit::AuditEntry::by(
                    caller,
                    now,
                    crate::audit::AuditEntity::User,
                    caller.user_id,
                    "change_password",
                    Vec::new(),
                ),
            )?,
            0,
        )
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict { .. }) => return Err(PasswordChangeError::ChangedConcurrently),
        Err(err) => return Err(err.into()),
    }
    let ended = repo
        .revoke_user_sessions(
            caller.org_id,
            caller.user_id,
            "password changed",
            now,
            Some(caller.session_id),
        )
        .await?;
    app.sessions.forget_user(caller.org_id, caller.user_id);
    // A reset link sent earlier no longer works: the password was chosen.
    repo.drop_reset(caller.org_id, caller.user_id).await?;
    info!(user_id = %caller.user_id, other_sessions_ended = ended, "password changed");
    Ok(())
}

/// Verifies a bearer access token and that its session is still open.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn authenticate(app: &App, bearer: &str) -> Result<Caller, AuthError> {
    let now = app.clock.now();
    let claims = keys(app)?.verify_access(bearer, now)?;
    let caller = Caller {
        user_id: claims.sub,
        org_id: claims.org,
        role: claims.role,
        name: claims.name,
        session_id: claims.sid,
        api_key: None,
    };
    if app
        .sessions
        .is_open(claims.org, claims.sub, claims.sid, now.as_second())
    {
        return Ok(caller);
    }
    let mark = app.sessions.mark();
    let session = AccountsRepo::new(app.store.as_ref())
        .session(claims.org, claims.sub, claims.sid)
        .await?;
    match session {
        Some(session) if session.revoked_at.is_none() && session.expires_at > now.as_second() => {
            app.sessions
                .remember(mark, claims.org, claims.sub, claims.sid, session.expires_at);
            Ok(caller)
        }
        _ => Err(AuthError::SessionEnded),
    }
}
