//! Forgotten passwords: a link by email that sets a new one, once, within
//! its time. Asking never says whether an account exists; asking is limited
//! per address and per account; setting ends every session of the user.
//! An admin can force a reset: the old password stops working at once and
//! the user gets a link to choose a new one.

use std::net::IpAddr;
use std::time::Duration;

use jiff::Timestamp;
use soraaya_core::App;
use soraaya_core::mail::{Mail, MailError, escape_html};
use soraaya_domain::{Email, OrgId, Password, PasswordError, User, UserId};
use soraaya_store::StoreError;
use tracing::{error, info, warn};

use crate::Caller;
use crate::audit::{self, AuditEntity, AuditEntry};
use crate::auth::{AuthError, same_hash};
use crate::repo::{AccountsRepo, ResetRecord};
use crate::throttle::{self, Scope};
use crate::tokens::ResetToken;

/// How long a link someone asked for works.
pub const RESET_LINK_LIFE: Duration = Duration::from_secs(30 * 60);
/// How long a link an admin's forced reset sent works (the user may not
/// read their mail within half an hour).
pub const FORCED_RESET_LINK_LIFE: Duration = Duration::from_secs(24 * 3600);

/// How long a reset record outlives its link (to tell a late click why).
const KEPT_AFTER_END: Duration = Duration::from_secs(7 * 86_400);

#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error("too many reset requests from this address")]
    Throttled { retry_after: Duration },
    #[error("this reset link is not valid")]
    InvalidToken,
    #[error("this reset link has expired")]
    Expired,
    #[error("this reset link was already used")]
    Used,
    #[error("the new password {0}")]
    Refused(PasswordError),
    #[error("the account changed meanwhile; try again")]
    ChangedConcurrently,
    #[error("user not found")]
    UserNotFound,
    #[error("this user is deactivated; reactivate them first")]
    Deactivated,
    #[error("the reset email could not be sent")]
    Mail(#[from] MailError),
    #[error(transparent)]
    Account(#[from] crate::users::AccountError),
    #[error(transparent)]
    Auth(#[from] AuthError),
}

impl From<StoreError> for ResetError {
    fn from(err: StoreError) -> Self {
        ResetError::Auth(AuthError::Store(err))
    }
}

impl From<soraaya_core::passwords::PasswordHashError> for ResetError {
    fn from(err: soraaya_core::passwords::PasswordHashError) -> Self {
        ResetError::Auth(AuthError::Hashing(err))
    }
}

/// Someone asked to reset the password of `email` from `client`. Answers
/// the same whether or not there is such an account (only a client over
/// its limit is told, and that says nothing of the account); the account's
/// own limit, once reached, sends nothing more for a while. A link that
/// could not be mailed is logged, not answered.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn forgot_password(
    app: &App,
    email: &Email,
    client: Option<IpAddr>,
) -> Result<(), ResetError> {
    let repo = AccountsRepo::new(app.store.as_ref());
    let now = app.clock.now().as_second();
    if let Some(ip) = client
        && let Some(retry_after) = throttle::reserve(&repo, Scope::ResetFromClient(ip), now).await?
    {
        warn!(client = %ip, "password reset requests throttled");
        return Err(ResetError::Throttled { retry_after });
    }
    if throttle::reserve(&repo, Scope::ResetFor(email), now)
        .await?
        .is_some()
    {
        info!(email = %email.masked(), "password reset not sent: this account asked too often");
        return Ok(());
    }
    let Some(identity) = repo.identity(email).await? else {
        info!(email = %email.masked(), "password reset asked for no account");
        return Ok(());
    };
    let Some(stored) = repo.user(identity.org_id, identity.user_id).await? else {
        return Ok(());
    };
    if !stored.user.is_active {
        info!(user_id = %stored.user.id, "password reset asked for a deactivated account");
        return Ok(());
    }
    if let Err(err) = send_link(app, &repo, &stored.user, None).await {
        error!(user_id = %stored.user.id, error = %err, "password reset link not sent");
    }
    Ok(())
}

/// Writes a new reset link for `user` (any earlier one stops working) and
/// mails it. `forced_by`: the admin who forced the reset.
async fn send_link(
    app: &App,
    repo: &AccountsRepo<'_>,
    user: &User,
    forced_by: Option<UserId>,
) -> Result<Timestamp, ResetError> {
    let now = app.clock.now();
    let life = if forced_by.is_some() {
        FORCED_RESET_LINK_LIFE
    } else {
        RESET_LINK_LIFE
    };
    let expires = now + jiff::SignedDuration::try_from(life).unwrap_or_default();
    let token = ResetToken::generate(user.org_id, user.id);
    let link = format!(
        "{}/reset-password?token={}",
        app.config
            .public_url()
            // Without a public URL there is no link to send.
            .map_err(|_| MailError::Unconfigured)?,
        token.expose()
    );
    let organisation = crate::users::org(app, user.org_id).await?;
    repo.save_reset(&ResetRecord {
        org_id: user.org_id,
        user_id: user.id,
        secret_hash: token.secret_hash(),
        created_at: now,
        valid_until: expires.as_second(),
        forced_by,
        used_at: None,
        expires_at: expires.as_second() + KEPT_AFTER_END.as_secs().cast_signed(),
    })
    .await?;
    app.mailer
        .send(&reset_mail(
            user,
            organisation.name.as_str(),
            &link,
            life,
            forced_by.is_some(),
        ))
        .await?;
    info!(user_id = %user.id, forced = forced_by.is_some(), "password reset link sent");
    Ok(expires)
}

fn reset_mail(user: &User, org: &str, link: &str, life: Duration, forced: bool) -> Mail {
    let within = if life.as_secs() >= 3600 {
        format!("{} hours", life.as_secs() / 3600)
    } else {
        format!("{} minutes", life.as_secs() / 60)
    };
    let name = user.full_name.as_str();
    let why = if forced {
        format!(
            "An administrator of {org} asked you to choose a new password for Soraaya. Your old password no longer works."
        )
    } else {
        format!("Someone, hopefully you, asked to reset your Soraaya password at {org}.")
    };
    let after = if forced {
        "If you did not expect this, ask your administrator."
    } else {
        "If you did not ask, ignore this email: your password stays as it is."
    };
    let text = format!(
        "Hello {name},\n\n{why}\n\nChoose a new password within {within} at:\n{link}\n\nThe link works once. {after}\n\n{org}, through Soraaya\n"
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\">\
         <p>Hello {name},</p><p>{why}</p>\
         <p><a href=\"{link}\" style=\"display:inline-block;padding:10px 16px;background:#1f3a5f;color:#fff;border-radius:6px;text-decoration:none\">Choose a new password</a></p>\
         <p>The link works once, within {within}. {after}</p>\
         <p style=\"color:#667\">{org}, through Soraaya</p></body></html>",
        name = escape_html(name),
        why = escape_html(&why),
        link = escape_html(link),
        after = escape_html(after),
        org = escape_html(org),
    );
    Mail {
        to: user.email.as_str().to_owned(),
        from_name: org.to_owned(),
        subject: if forced {
            format!("Choose a new password for {org}")
        } else {
            format!("Reset your password for {org}")
        },
        text,
        html,
    }
}

/// Sets a new password with a reset link's token: once, before the link
/// expires, for an active user. Every session of the user ends.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn reset_password(app: &App, token: &str, new: &str) -> Result<(), ResetError> {
    let token = ResetToken::parse(token).map_err(|_| ResetError::InvalidToken)?;
    let repo = AccountsRepo::new(app.store.as_ref());
    let now = app.clock.now();
    let Some(record) = repo.reset(token.org, token.user).await? else {
        return Err(ResetError::InvalidToken);
    };
    let hash = token.secret_hash();
    if !same_hash(&hash, &record.secret_hash) {
        return Err(ResetError::InvalidToken);
    }
    if record.used_at.is_some() {
        return Err(ResetError::Used);
    }
    if record.valid_until <= now.as_second() {
        return Err(ResetError::Expired);
    }
    let Some(stored) = repo.user(token.org, token.user).await? else {
        return Err(ResetError::InvalidToken);
    };
    if !stored.user.is_active {
        return Err(ResetError::InvalidToken);
    }
    let password = Password::for_account(new, &stored.user.email).map_err(ResetError::Refused)?;
    let password_hash = app.passwords.hash(&password).await?;
    match repo
        .use_reset(
            &token,
            stored.version,
            password_hash,
            now,
            audit::record(
                token.org,
                &AuditEntry {
                    at: now,
                    actor_id: token.user,
                    actor_name: stored.user.full_name.as_str().to_owned(),
                    entity: AuditEntity::User,
                    entity_id: token.user.to_string(),
                    action: "reset_password".into(),
                    changes: Vec::new(),
                },
            )?,
        )
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict { failed }) if failed.contains(&0) => {
            return Err(ResetError::Used);
        }
        Err(StoreError::Conflict { .. }) => return Err(ResetError::ChangedConcurrently),
        Err(err) => return Err(err.into()),
    }
    let ended = end_sessions(app, &repo, token.org, token.user, "password reset", now).await?;
    info!(user_id = %token.user, sessions_ended = ended, "password reset");
    Ok(())
}

async fn end_sessions(
    app: &App,
    repo: &AccountsRepo<'_>,
    org: OrgId,
    user: UserId,
    reason: &str,
    now: Timestamp,
) -> Result<usize, ResetError> {
    let ended = repo
        .revoke_user_sessions(org, user, reason, now, None)
        .await?;
    app.sessions.forget_user(org, user);
    Ok(ended)
}

/// An admin forces `user` to choose a new password: a link valid for
/// [`FORCED_RESET_LINK_LIFE`] is mailed to them, then their password stops
/// working and their sessions end. Answers when the link expires.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %admin.org_id, user_id = %user_id))]
pub async fn force_reset(
    app: &App,
    admin: &Caller,
    user_id: UserId,
) -> Result<Timestamp, ResetError> {
    let org = admin.org_id;
    let repo = AccountsRepo::new(app.store.as_ref());
    let Some(stored) = repo.user(org, user_id).await? else {
        return Err(ResetError::UserNotFound);
    };
    if !stored.user.is_active {
        return Err(ResetError::Deactivated);
    }
    // Mailed first: a link that could not be sent changes nothing else.
    let expires = send_link(app, &repo, &stored.user, Some(admin.user_id)).await?;
    // A password nobody knows, hashed as any other so that signing in with
    // the old one is refused in the same time as any wrong password.
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let unknown: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let unknown = Password::parse(&unknown).map_err(ResetError::Refused)?;
    let password_hash = app.passwords.hash(&unknown).await?;
    let now = app.clock.now();
    match repo
        .update_user(
            org,
            user_id,
            stored.version,
            soraaya_store::Update::new()
                .set("password_hash", password_hash)
                .set("updated_at", now.to_string()),
            audit::record(
                org,
                &AuditEntry::by(
                    admin,
                    now,
                    AuditEntity::User,
                    user_id,
                    "force_password_reset",
                    Vec::new(),
                ),
            )?,
            0,
        )
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict { .. }) => return Err(ResetError::ChangedConcurrently),
        Err(err) => return Err(err.into()),
    }
    let ended = end_sessions(app, &repo, org, user_id, "password reset by an admin", now).await?;
    info!(admin_id = %admin.user_id, user_id = %user_id, sessions_ended = ended, "password reset forced");
    Ok(expires)
}
