//! Organisations and their users: creation, listing, role changes, deactivation.

use std::sync::Arc;

use soraaya_domain::{
    Email, OrgId, OrgName, Organisation, Password, PersonName, Region, Role, TimeZoneName, User,
    UserId,
};
use soraaya_store::{StoreError, Update};
use tracing::info;

use crate::Caller;
use crate::audit::{self, AuditEntity, AuditEntry};
use crate::repo::{AccountsRepo, OrgSummary, StoredUser};
use soraaya_core::App;
use soraaya_core::passwords::PasswordHashError;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("a user with this email already exists")]
    EmailTaken,
    #[error("user not found")]
    UserNotFound,
    #[error("organisation not found")]
    OrganisationNotFound,
    #[error("the organisation must keep at least one active admin")]
    LastAdmin,
    #[error("the user was changed by someone else; reload and try again")]
    ChangedConcurrently,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hashing(#[from] PasswordHashError),
}

/// A user to add.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub full_name: PersonName,
    pub role: Role,
    pub password: Password,
}

/// An organisation to add, with its first admin.
#[derive(Debug, Clone)]
pub struct NewOrganisation {
    pub name: OrgName,
    pub default_region: Region,
    pub time_zone: TimeZoneName,
    pub admin_email: Email,
    pub admin_name: PersonName,
    pub admin_password: Password,
}

/// Changes an admin may make to a user; absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub role: Option<Role>,
    pub full_name: Option<PersonName>,
    pub is_active: Option<bool>,
}

async fn stored_user(app: &App, org: OrgId, new: NewUser) -> Result<StoredUser, AccountError> {
    let now = app.clock.now();
    Ok(StoredUser {
        password_hash: app.passwords.hash(&new.password).await?,
        version: 1,
        user: User {
            id: UserId::new(),
            org_id: org,
            email: new.email,
            full_name: new.full_name,
            role: new.role,
            is_active: true,
            time_zone: None,
            profile_picture_url: None,
            notification_preferences: Default::default(),
            dashboard_preferences: Default::default(),
            language: Default::default(),
            theme: Default::default(),
            last_login_at: None,
            created_at: now,
            updated_at: now,
        },
    })
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn create_organisation(
    app: &App,
    new: NewOrganisation,
) -> Result<(Organisation, User), AccountError> {
    let organisation = Organisation {
        id: OrgId::new(),
        name: new.name,
        default_region: new.default_region,
        time_zone: new.time_zone,
        settings: Default::default(),
        created_at: app.clock.now(),
    };
    let admin = stored_user(
        app,
        organisation.id,
        NewUser {
            email: new.admin_email,
            full_name: new.admin_name,
            role: Role::Admin,
            password: new.admin_password,
        },
    )
    .await?;
    match AccountsRepo::new(app.store.as_ref())
        .create_organisation(&organisation, &admin)
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict { failed }) if failed.contains(&3) => {
            return Err(AccountError::EmailTaken);
        }
        Err(err) => return Err(err.into()),
    }
    info!(org_id = %organisation.id, admin_id = %admin.user.id, "organisation created");
    Ok((organisation, admin.user))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_organisations(app: &App) -> Result<Vec<OrgSummary>, AccountError> {
    Ok(AccountsRepo::new(app.store.as_ref())
        .organisations()
        .await?)
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn organisation(app: &App, org: OrgId) -> Result<Organisation, AccountError> {
    AccountsRepo::new(app.store.as_ref())
        .organisation(org)
        .await?
        .ok_or(AccountError::OrganisationNotFound)
}

/// The organisation, kept for a minute by this process (its zone and region
/// are read by many writes and change rarely).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn org(app: &App, id: OrgId) -> Result<Arc<Organisation>, AccountError> {
    app.organisations
        .get_or_load(id, organisation(app, id))
        .await
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn create_user(app: &App, org: OrgId, new: NewUser) -> Result<User, AccountError> {
    let stored = stored_user(app, org, new).await?;
    match AccountsRepo::new(app.store.as_ref())
        .create_user(&stored)
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict { failed }) if failed.contains(&2) => {
            return Err(AccountError::OrganisationNotFound);
        }
        Err(StoreError::Conflict { .. }) => return Err(AccountError::EmailTaken),
        Err(err) => return Err(err.into()),
    }
    info!(org_id = %org, user_id = %stored.user.id, role = stored.user.role.as_str(), "user created");
    Ok(stored.user)
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn list_users(app: &App, org: OrgId) -> Result<Vec<User>, AccountError> {
    let mut users = AccountsRepo::new(app.store.as_ref()).users(org).await?;
    users.sort_by(|a, b| {
        a.full_name
            .as_str()
            .cmp(b.full_name.as_str())
            .then(a.id.cmp(&b.id))
    });
    Ok(users)
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn get_user(app: &App, org: OrgId, user: UserId) -> Result<User, AccountError> {
    AccountsRepo::new(app.store.as_ref())
        .user(org, user)
        .await?
        .map(|stored| stored.user)
        .ok_or(AccountError::UserNotFound)
}

/// Applies an admin's changes. A change of role or a deactivation ends the
/// user's sessions, so their next request signs in again with the new role.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %actor.org_id))]
pub async fn update_user(
    app: &App,
    actor: &Caller,
    user_id: UserId,
    changes: UserChanges,
) -> Result<User, AccountError> {
    let org = actor.org_id;
    let repo = AccountsRepo::new(app.store.as_ref());
    let stored = repo
        .user(org, user_id)
        .await?
        .ok_or(AccountError::UserNotFound)?;
    let before = &stored.user;
    let mut after = before.clone();
    if let Some(role) = changes.role {
        after.role = role;
    }
    if let Some(name) = changes.full_name {
        after.full_name = name;
    }
    if let Some(active) = changes.is_active {
        after.is_active = active;
    }
    if after == *before {
        return Ok(after);
    }
    let now = app.clock.now();
    after.updated_at = now;
    let was_admin = i64::from(before.is_active && before.role == Role::Admin);
    let is_admin = i64::from(after.is_active && after.role == Role::Admin);
    let update = Update::new()
        .set("role", after.role.as_str())
        .set("full_name", after.full_name.as_str())
        .set("is_active", after.is_active)
        .set("updated_at", now.to_string());
    let view = |user: &User| {
        serde_json::json!({
            "role": user.role,
            "full_name": user.full_name,
            "is_active": user.is_active,
        })
    };
    let entry = AuditEntry::by(
        actor,
        now,
        AuditEntity::User,
        user_id,
        "update",
        audit::changes(&view(before), &view(&after)),
    );
    match repo
        .update_user(
            org,
            user_id,
            stored.version,
            update,
            audit::record(org, &entry)?,
            is_admin - was_admin,
        )
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict { failed }) if failed.contains(&2) => {
            return Err(AccountError::LastAdmin);
        }
        Err(StoreError::Conflict { .. }) => return Err(AccountError::ChangedConcurrently),
        Err(err) => return Err(err.into()),
    }
    if after.role != before.role || (before.is_active && !after.is_active) {
        let reason = if after.is_active {
            "role changed"
        } else {
            "deactivated"
        };
        let ended = repo
            .revoke_user_sessions(org, user_id, reason, now, None)
            .await?;
        app.sessions.forget_user(org, user_id);
        info!(user_id = %user_id, sessions_ended = ended, reason, "user sessions ended");
    }
    info!(org_id = %org, user_id = %user_id, role = after.role.as_str(), active = after.is_active, "user updated");
    Ok(after)
}
