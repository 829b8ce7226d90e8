//! An organisation's API keys for integrations: created and revoked by
//! admins, the secret shown once and stored as a SHA-256, every use recorded
//! in the audit with the request it made.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use soraaya_core::App;
use soraaya_core::tables::ACCOUNTS;
use soraaya_core::validation::{FieldError, FieldErrors};
use soraaya_domain::{ApiKey, ApiKeyId, OrgId, Permission, Role, SessionId};
use soraaya_store::{Condition, Key, Put, Query, StoreError, Update, UpdateItem, from_item};
use tracing::info;

use crate::audit::{self, AuditEntity, AuditEntry, FieldChange};
use crate::repo::{keyed, org_pk};
use crate::tokens::ApiKeyToken;
use crate::{AuthError, Caller, KeyGrant};

/// Most keys an organisation holds (revoked ones included, which stay listed).
pub const MAX_KEYS: usize = 50;

fn key_of(org: OrgId, id: ApiKeyId) -> Key {
    Key::new(org_pk(org), format!("APIKEY#{id}"))
}

#[derive(Serialize, Deserialize)]
struct StoredKey {
    #[serde(flatten)]
    key: ApiKey,
    secret_hash: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error("invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("API key not found")]
    NotFound,
    #[error("the organisation holds {MAX_KEYS} keys; revoke one first")]
    TooMany,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new key, and the text to hand over once.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    pub key: ApiKey,
    pub secret: String,
}

/// Creates a key named `name` with `scopes` (of [`Permission::FOR_KEYS`]).
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %by.org_id))]
pub async fn create_api_key(
    app: &App,
    by: &Caller,
    name: &str,
    scopes: &[String],
) -> Result<IssuedKey, ApiKeyError> {
    let mut errors = FieldErrors::new();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        errors.add("name", "must be 1 to 100 characters");
    }
    let mut granted = Vec::new();
    if scopes.is_empty() {
        errors.add("scopes", "must name at least one scope");
    }
    for (i, scope) in scopes.iter().enumerate() {
        match Permission::parse(scope) {
            Some(p) if Permission::FOR_KEYS.contains(&p) => {
                if !granted.contains(&p) {
                    granted.push(p);
                }
            }
            _ => errors.add(
                format!("scopes[{i}]"),
                format!(
                    "must be one of {}",
                    Permission::FOR_KEYS
                        .iter()
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        }
    }
    errors.finish().map_err(ApiKeyError::Invalid)?;
    if list_api_keys(app, by.org_id).await?.len() >= MAX_KEYS {
        return Err(ApiKeyError::TooMany);
    }
    let id = ApiKeyId::new();
    let token = ApiKeyToken::generate(by.org_id, id);
    let now = app.clock.now();
    let key = ApiKey {
        id,
        org_id: by.org_id,
        name: name.to_owned(),
        scopes: granted,
        prefix: token.prefix(),
        created_by: by.user_id,
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    let stored = StoredKey {
        key: key.clone(),
        secret_hash: token.secret_hash(),
    };
    let entry = AuditEntry::by(
        by,
        now,
        AuditEntity::ApiKey,
        id,
        "create",
        vec![FieldChange {
            field: "scopes".into(),
            old: Value::Null,
            new: serde_json::to_value(&key.scopes).unwrap_or(Value::Null),
        }],
    );
    let mut item = keyed(&key_of(by.org_id, id), &stored)?;
    // Absent until set, so that a write can be conditioned on the key not
    // being revoked (`attribute_not_exists`).
    item.remove("revoked_at");
    item.remove("last_used_at");
    app.store
        .transact_write(vec![
            Put::new(&ACCOUNTS, item).if_absent().into(),
            audit::record(by.org_id, &entry)?.into(),
        ])
        .await?;
    info!(org_id = %by.org_id, api_key_id = %id, "API key created");
    Ok(IssuedKey {
        key,
        secret: token.expose(),
    })
}

/// The organisation's keys, newest first, revoked ones included.
pub async fn list_api_keys(app: &App, org: OrgId) -> Result<Vec<ApiKey>, ApiKeyError> {
    let stored: Vec<StoredKey> = soraaya_core::paging::collect_all(
        app.store.as_ref(),
        Query::new(&ACCOUNTS, org_pk(org)).begins_with("APIKEY#"),
    )
    .await?;
    let mut keys: Vec<ApiKey> = stored.into_iter().map(|s| s.key).collect();
    keys.sort_by_key(|k| std::cmp::Reverse(k.created_at));
    Ok(keys)
}

/// Revokes a key: the next request made with it gets 401. Revoking a
/// revoked key answers it as it is.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %by.org_id))]
pub async fn revoke_api_key(app: &App, by: &Caller, id: ApiKeyId) -> Result<ApiKey, ApiKeyError> {
    let stored = stored(app, by.org_id, id)
        .await?
        .ok_or(ApiKeyError::NotFound)?;
    if stored.key.revoked_at.is_some() {
        return Ok(stored.key);
    }
    let now = app.clock.now();
    let entry = AuditEntry::by(by, now, AuditEntity::ApiKey, id, "revoke", Vec::new());
    let mut key = stored.key;
    match app
        .store
        .transact_write(vec![
            UpdateItem::new(
                &ACCOUNTS,
                key_of(by.org_id, id),
                Update::new().set("revoked_at", now.to_string()),
            )
            .when(Condition::exists("pk").and(Condition::not_exists("revoked_at")))
            .into(),
            audit::record(by.org_id, &entry)?.into(),
        ])
        .await
    {
        // Revoked meanwhile: the same outcome.
        Ok(()) | Err(StoreError::Conflict { .. }) => {}
        Err(err) => return Err(err.into()),
    }
    key.revoked_at = Some(now);
    info!(org_id = %by.org_id, api_key_id = %id, "API key revoked");
    Ok(key)
}

async fn stored(app: &App, org: OrgId, id: ApiKeyId) -> Result<Option<StoredKey>, StoreError> {
    app.store
        .get(&ACCOUNTS, key_of(org, id))
        .await?
        .map(from_item)
        .transpose()
}

/// The caller an API key makes, for the request `operation` (such as
/// `POST /api/v1/leads/intake`), which is recorded with the key's last use.
/// A key acts with the scopes it was given, for the admin who made it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn authenticate_key(app: &App, text: &str, operation: &str) -> Result<Caller, AuthError> {
    let token = ApiKeyToken::parse(text)?;
    let Some(stored) = stored(app, token.org, token.key).await? else {
        return Err(AuthError::InvalidToken);
    };
    if !crate::auth::same_hash(&stored.secret_hash, &token.secret_hash()) {
        return Err(AuthError::InvalidToken);
    }
    if stored.key.revoked_at.is_some() {
        return Err(AuthError::KeyRevoked);
    }
    let key = stored.key;
    let caller = Caller {
        user_id: key.created_by,
        org_id: key.org_id,
        role: Role::Admin,
        name: format!("API key {}", key.name),
        session_id: SessionId::from(key.id.as_uuid()),
        api_key: Some(KeyGrant {
            id: key.id,
            scopes: key.scopes.clone(),
        }),
    };
    let now: Timestamp = app.clock.now();
    let entry = AuditEntry::by(
        &caller,
        now,
        AuditEntity::ApiKey,
        key.id,
        "use",
        vec![FieldChange {
            field: "request".into(),
            old: Value::Null,
            new: Value::String(operation.to_owned()),
        }],
    );
    match app
        .store
        .transact_write(vec![
            UpdateItem::new(
                &ACCOUNTS,
                key_of(key.org_id, key.id),
                Update::new().set("last_used_at", now.to_string()),
            )
            .when(Condition::not_exists("revoked_at"))
            .into(),
            audit::record(key.org_id, &entry)?.into(),
        ])
        .await
    {
        Ok(()) => Ok(caller),
        // Revoked between the read and the write.
        Err(StoreError::Conflict { .. }) => Err(AuthError::KeyRevoked),
        Err(err) => Err(err.into()),
    }
}
