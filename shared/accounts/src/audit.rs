//! Who changed what and when: a user's preferences, the organisation's
//! settings, users, password resets, a person's data erased, API keys and
//! their uses. Entries are written in the same transaction as the change
//! they record, newest read first, by admins only.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use soraaya_core::keys::sortable;
use soraaya_core::tables::ACCOUNTS;
use soraaya_domain::{OrgId, UserId};
use soraaya_store::{Cursor, ItemStore, Key, Put, Query, StoreError, from_item};
use utoipa::ToSchema;

use crate::repo::{keyed, org_pk};

/// What an entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditEntity {
    /// A user's own preferences.
    Preferences,
    /// The organisation's settings.
    OrgSettings,
    /// A user's account (role, name, activity, password).
    User,
    /// A lead (its erasure).
    Lead,
    /// An API key: created, revoked, and each use.
    ApiKey,
}

impl AuditEntity {
    pub fn parse(text: &str) -> Option<AuditEntity> {
        serde_json::from_value(Value::String(text.trim().to_owned())).ok()
    }
}

/// One field's change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldChange {
    /// The field, dotted into nested objects (`notification_preferences.email.min_priority`).
    pub field: String,
    /// Any JSON value (`null` where there was none).
    pub old: Value,
    pub new: Value,
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// Who made it.
    pub actor_id: UserId,
    pub actor_name: String,
    pub entity: AuditEntity,
    /// The id of what changed (a user's, the organisation's, a lead's).
    pub entity_id: String,
    /// `update`, `erase`, `force_password_reset`…
    pub action: String,
    /// Field by field, old → new (empty where only the action is kept, as for an erasure).
    pub changes: Vec<FieldChange>,
}

impl AuditEntry {
    /// An entry of `actor`'s, now.
    pub fn by(
        actor: &crate::Caller,
        at: Timestamp,
        entity: AuditEntity,
        entity_id: impl ToString,
        action: &str,
        changes: Vec<FieldChange>,
    ) -> AuditEntry {
        AuditEntry {
            at,
            actor_id: actor.user_id,
            actor_name: actor.name.clone(),
            entity,
            entity_id: entity_id.to_string(),
            action: action.to_owned(),
            changes,
        }
    }
}

fn audit_pk(org: OrgId) -> String {
    format!("{}#AUDIT", org_pk(org))
}

/// The write that records `entry`, to put in the change's own transaction.
pub fn record(org: OrgId, entry: &AuditEntry) -> Result<Put, StoreError> {
    let key = Key::new(
        audit_pk(org),
        format!("{}#{}", sortable(entry.at), uuid::Uuid::now_v7().simple()),
    );
    Ok(Put::new(&ACCOUNTS, keyed(&key, entry)?).if_absent())
}

/// The fields that differ between two JSON forms of one record, with their
/// values before and after (objects compared field by field).
pub fn changes(before: &Value, after: &Value) -> Vec<FieldChange> {
    let mut found = Vec::new();
    diff("", before, after, &mut found);
    found
}

fn diff(path: &str, before: &Value, after: &Value, found: &mut Vec<FieldChange>) {
    match (before, after) {
        (Value::Object(old), Value::Object(new)) => {
            let mut fields: Vec<&String> = old.keys().chain(new.keys()).collect();
            fields.sort();
            fields.dedup();
            for field in fields {
                let nested = if path.is_empty() {
                    field.clone()
                } else {
                    format!("{path}.{field}")
                };
                diff(
                    &nested,
                    old.get(field).unwrap_or(&Value::Null),
                    new.get(field).unwrap_or(&Value::Null),
                    found,
                );
            }
        }
        (old, new) if old != new => found.push(FieldChange {
            field: path.to_owned(),
            old: old.clone(),
            new: new.clone(),
        }),
        _ => {}
    }
}

fn text(item: &soraaya_store::Item, name: &str) -> String {
    match item.get(name) {
        Some(soraaya_store::AttributeValue::S(text)) => text.clone(),
        _ => String::new(),
    }
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub entity: Option<AuditEntity>,
    pub actor: Option<UserId>,
    pub limit: usize,
    pub cursor: Option<Cursor>,
}

/// A page of entries, newest first, and where the next begins.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub cursor: Option<Cursor>,
}

/// At most this many entries are read to fill one filtered page; a page
/// that found fewer still carries the cursor to read on.
const READ_PER_PAGE: usize = 1_000;

/// The organisation's entries, newest first, those of `entity` and `actor`.
pub async fn list(
    store: &dyn ItemStore,
    org: OrgId,
    query: AuditQuery,
) -> Result<AuditPage, StoreError> {
    let limit = query.limit.clamp(1, 200);
    let mut entries = Vec::with_capacity(limit);
    let mut cursor = query.cursor;
    let mut read = 0;
    loop {
        let want = u32::try_from(limit - entries.len()).unwrap_or(200);
        let page = store
            .query(
                Query::new(&ACCOUNTS, audit_pk(org))
                    .backward()
                    .limit(if query.entity.is_some() || query.actor.is_some() {
                        100
                    } else {
                        want
                    })
                    .after(cursor.take()),
            )
            .await?;
        read += page.items.len();
        let mut last_taken = None;
        for item in page.items {
            let key = Key::new(text(&item, "pk"), text(&item, "sk"));
            let entry: AuditEntry = from_item(item)?;
            let wanted = query.entity.is_none_or(|e| e == entry.entity)
                && query.actor.is_none_or(|a| a == entry.actor_id);
            if wanted {
                entries.push(entry);
                if entries.len() == limit {
                    last_taken = Some(key);
                    break;
                }
            }
        }
        if let Some(key) = last_taken {
            return Ok(AuditPage {
                entries,
                cursor: Some(Cursor::after_key(&key)),
            });
        }
        cursor = page.cursor;
        if cursor.is_none() || read >= READ_PER_PAGE {
            return Ok(AuditPage { entries, cursor });
        }
    }
}
