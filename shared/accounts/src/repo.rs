//! Accounts items in the accounts table (layout in [`soraaya_core::tables::ACCOUNTS`]).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use soraaya_domain::{Email, OrgId, OrgName, Organisation, SessionId, User, UserId};
use soraaya_store::{
    Condition, Delete, ItemStore, Key, Put, Query, StoreError, Update, UpdateItem, WriteOp,
    from_item, to_item,
};

use soraaya_core::tables::ACCOUNTS;

use crate::throttle::Scope;

pub(super) fn org_pk(org: OrgId) -> String {
    format!("ORG#{org}")
}
const PROFILE: &str = "PROFILE";
const DIRECTORY: &str = "ORGS";
const IDENTITY: &str = "IDENTITY";
const THROTTLE: &str = "THROTTLE";

fn user_key(org: OrgId, user: UserId) -> Key {
    Key::new(org_pk(org), format!("USER#{user}"))
}

fn session_key(org: OrgId, user: UserId, session: SessionId) -> Key {
    Key::new(org_pk(org), format!("SESSION#{user}#{session}"))
}

fn reset_key(org: OrgId, user: UserId) -> Key {
    Key::new(org_pk(org), format!("RESET#{user}"))
}

fn login_pk(email: &Email) -> String {
    format!("LOGIN#{email}")
}

/// Stores a record under a key (the record's own fields plus `pk`/`sk`).
pub(super) fn keyed<T: Serialize>(
    key: &Key,
    record: &T,
) -> Result<soraaya_store::Item, StoreError> {
    let mut item = to_item(record)?;
    item.insert(
        "pk".into(),
        soraaya_store::AttributeValue::S(key.pk.clone()),
    );
    item.insert(
        "sk".into(),
        soraaya_store::AttributeValue::S(key.sk.clone()),
    );
    Ok(item)
}

#[derive(Serialize, Deserialize)]
struct OrgRecord {
    #[serde(flatten)]
    organisation: Organisation,
    /// Active admins, kept in step with users so the last one cannot be removed.
    active_admins: i64,
    /// Moves with each change of the organisation's name or settings
    /// (absent on records from before settings could change).
    #[serde(default)]
    version: u64,
}

/// One line of the organisation directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrgSummary {
    pub org_id: OrgId,
    pub name: OrgName,
}

/// A user as stored: the public record plus its credentials and version.
#[derive(Serialize, Deserialize)]
pub(super) struct StoredUser {
    #[serde(flatten)]
    pub user: User,
    pub password_hash: String,
    pub version: u64,
}

#[derive(Serialize, Deserialize)]
pub(super) struct Identity {
    pub org_id: OrgId,
    pub user_id: UserId,
}

fn remembered() -> bool {
    true
}

/// One sign-in session: the family of refresh tokens issued from one login.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct SessionRecord {
    pub session_id: SessionId,
    pub user_id: UserId,
    pub org_id: OrgId,
    /// SHA-256 of the only refresh token that may be used next.
    pub current_hash: String,
    /// Hashes of tokens already used; presenting one again revokes the session.
    #[serde(default)]
    pub previous_hashes: Vec<String>,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
    /// When the current token was issued by a refresh (absent until the
    /// first refresh): the previous token may be presented again until
    /// [`REFRESH_GRACE`] after it, and gets the same answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_at: Option<Timestamp>,
    /// TTL (epoch seconds).
    pub expires_at: i64,
    /// Signed in with "remember me": the session lasts its whole life;
    /// otherwise it ends after [`crate::auth::IDLE_SESSION`] unused.
    /// Sessions from before the choice existed were long ones.
    #[serde(default = "remembered")]
    pub remember: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_reason: Option<String>,
}

/// A user's password reset link: the hash of its token's secret, until when
/// it works, and whether it was used. A newer link replaces it. The item is
/// kept a week past the link's end, so that a late click is told the link
/// expired or was used rather than that it never was.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct ResetRecord {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub secret_hash: String,
    pub created_at: Timestamp,
    /// The link works until then (epoch seconds).
    pub valid_until: i64,
    /// The admin who forced the reset, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced_by: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_at: Option<Timestamp>,
    /// TTL (epoch seconds).
    pub expires_at: i64,
}

/// Recent failed (or in-flight) login attempts for one email address.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct ThrottleRecord {
    /// Epoch seconds of each counted attempt, oldest first.
    pub attempts: Vec<i64>,
    pub version: u64,
    pub expires_at: i64,
}

/// How many previous refresh-token hashes a session remembers.
const REMEMBERED_TOKENS: usize = 50;

/// How long after a refresh the token it replaced still answers, with the
/// same new pair: a client that timed out and retries is not signed out.
pub(super) const REFRESH_GRACE: jiff::SignedDuration = jiff::SignedDuration::from_secs(30);

pub(super) struct AccountsRepo<'a> {
    store: &'a dyn ItemStore,
}

impl<'a> AccountsRepo<'a> {
    pub fn new(store: &'a dyn ItemStore) -> Self {
        AccountsRepo { store }
    }

    /// Creates an organisation with its first admin, atomically. A conflict on
    /// operation 3 means the admin's email is taken.
    pub async fn create_organisation(
        &self,
        organisation: &Organisation,
        admin: &StoredUser,
    ) -> Result<(), StoreError> {
        let org = organisation.id;
        let profile = OrgRecord {
            organisation: organisation.clone(),
            active_admins: 1,
            version: 1,
        };
        let directory = OrgSummary {
            org_id: org,
            name: organisation.name.clone(),
        };
        let ops: Vec<WriteOp> = vec![
            Put::new(&ACCOUNTS, keyed(&Key::new(org_pk(org), PROFILE), &profile)?)
                .if_absent()
                .into(),
            Put::new(
                &ACCOUNTS,
                keyed(&Key::new(DIRECTORY, format!("ORG#{org}")), &directory)?,
            )
            .if_absent()
            .into(),
            Put::new(&ACCOUNTS, keyed(&user_key(org, admin.user.id), admin)?)
                .if_absent()
                .into(),
            self.identity_put(&admin.user)?.into(),
        ];
        self.store.transact_write(ops).await
    }

    fn identity_put(&self, user: &User) -> Result<Put, StoreError> {
        let identity = Identity {
            org_id: user.org_id,
            user_id: user.id,
        };
        Ok(Put::new(
            &ACCOUNTS,
            keyed(&Key::new(login_pk(&user.email), IDENTITY), &identity)?,
        )
        .if_absent())
    }

    pub async fn organisations(&self) -> Result<Vec<OrgSummary>, StoreError> {
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .store
                .query(Query::new(&ACCOUNTS, DIRECTORY).after(cursor.take()))
                .await?;
            for item in page.items {
                all.push(from_item(item)?);
            }
            cursor = page.cursor;
            if cursor.is_none() {
                return Ok(all);
            }
        }
    }

    pub async fn organisation(&self, org: OrgId) -> Result<Option<Organisation>, StoreError> {
        self.store
            .get(&ACCOUNTS, Key::new(org_pk(org), PROFILE))
            .await?
            .map(|item| from_item::<OrgRecord>(item).map(|r| r.organisation))
            .transpose()
    }

    /// The organisation and the version its changes are conditioned on.
    pub async fn organisation_versioned(
        &self,
        org: OrgId,
    ) -> Result<Option<(Organisation, u64)>, StoreError> {
        self.store
            .get(&ACCOUNTS, Key::new(org_pk(org), PROFILE))
            .await?
            .map(|item| from_item::<OrgRecord>(item).map(|r| (r.organisation, r.version)))
            .transpose()
    }

    /// Applies `update` to the organisation at `version`, its directory
    /// entry's name with it, and writes `audit`, in one transaction.
    /// Operation 0 failing means the organisation changed meanwhile.
    pub async fn update_organisation(
        &self,
        organisation: &Organisation,
        version: u64,
        update: Update,
        audit: Put,
    ) -> Result<(), StoreError> {
        let org = organisation.id;
        let condition = if version == 0 {
            Condition::not_exists("version")
        } else {
            Condition::eq("version", version)
        };
        self.store
            .transact_write(vec![
                UpdateItem::new(
                    &ACCOUNTS,
                    Key::new(org_pk(org), PROFILE),
                    update.add("version", 1),
                )
                .when(condition)
                .into(),
                UpdateItem::new(
                    &ACCOUNTS,
                    Key::new(DIRECTORY, format!("ORG#{org}")),
                    Update::new().set("name", organisation.name.as_str()),
                )
                .if_present()
                .into(),
                audit.into(),
            ])
            .await
    }

    /// Adds a user and its login identity. Operation 1 failing means the email is
    /// taken; operation 2 failing means the organisation does not exist.
    pub async fn create_user(&self, user: &StoredUser) -> Result<(), StoreError> {
        let org = user.user.org_id;
        let mut ops: Vec<WriteOp> = vec![
            Put::new(&ACCOUNTS, keyed(&user_key(org, user.user.id), user)?)
                .if_absent()
                .into(),
            self.identity_put(&user.user)?.into(),
        ];
        // Also proves the organisation exists; ADD 0 leaves the count as it is.
        let admins =
            i64::from(user.user.is_active && user.user.role == soraaya_domain::Role::Admin);
        let profile = UpdateItem::new(
            &ACCOUNTS,
            Key::new(org_pk(org), PROFILE),
            Update::new().add("active_admins", admins),
        )
        .if_present();
        ops.push(profile.into());
        self.store.transact_write(ops).await
    }

    pub async fn user(&self, org: OrgId, user: UserId) -> Result<Option<StoredUser>, StoreError> {
        self.store
            .get(&ACCOUNTS, user_key(org, user))
            .await?
            .map(from_item)
            .transpose()
    }

    pub async fn users(&self, org: OrgId) -> Result<Vec<User>, StoreError> {
        let mut users = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .store
                .query(
                    Query::new(&ACCOUNTS, org_pk(org))
                        .begins_with("USER#")
                        .after(cursor.take()),
                )
                .await?;
            for item in page.items {
                users.push(from_item::<StoredUser>(item)?.user);
            }
            cursor = page.cursor;
            if cursor.is_none() {
                return Ok(users);
            }
        }
    }

    pub async fn identity(&self, email: &Email) -> Result<Option<Identity>, StoreError> {
        self.store
            .get(&ACCOUNTS, Key::new(login_pk(email), IDENTITY))
            .await?
            .map(from_item)
            .transpose()
    }

    /// Applies `update` to a user at `version`, with the audit entry that
    /// records it, moving the organisation's active-admin count by
    /// `admin_delta` without letting it reach zero. Operation 0 failing
    /// means the user changed meanwhile; the last operation (when
    /// `admin_delta` is not 0), that the change would leave no active admin.
    pub async fn update_user(
        &self,
        org: OrgId,
        user: UserId,
        version: u64,
        update: Update,
        audit: Put,
        admin_delta: i64,
    ) -> Result<(), StoreError> {
        let mut ops: Vec<WriteOp> = vec![
            UpdateItem::new(&ACCOUNTS, user_key(org, user), update.add("version", 1))
                .when(Condition::eq("version", version))
                .into(),
            audit.into(),
        ];
        if admin_delta != 0 {
            let mut change = UpdateItem::new(
                &ACCOUNTS,
                Key::new(org_pk(org), PROFILE),
                Update::new().add("active_admins", admin_delta),
            )
            .if_present();
            if admin_delta < 0 {
                change = change.when(Condition::ge("active_admins", 1 - admin_delta));
            }
            ops.push(change.into());
        }
        self.store.transact_write(ops).await
    }

    pub async fn record_login(
        &self,
        org: OrgId,
        user: UserId,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.store
            .update(
                UpdateItem::new(
                    &ACCOUNTS,
                    user_key(org, user),
                    Update::new().set("last_login_at", at.to_string()),
                )
                .if_present(),
            )
            .await
            .map(drop)
    }

    pub async fn create_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        let key = session_key(session.org_id, session.user_id, session.session_id);
        self.store
            .put(Put::new(&ACCOUNTS, keyed(&key, session)?).if_absent())
            .await
    }

    pub async fn session(
        &self,
        org: OrgId,
        user: UserId,
        session: SessionId,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.store
            .get(&ACCOUNTS, session_key(org, user, session))
            .await?
            .map(from_item)
            .transpose()
    }

    /// Moves the session to its next refresh token, if `current_hash` is still
    /// the current one and the session is live.
    /// Replaces the session's refresh token; `expires_at`, when given, moves its end.
    pub async fn rotate_session(
        &self,
        session: &SessionRecord,
        next_hash: &str,
        now: Timestamp,
        expires_at: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut previous = session.previous_hashes.clone();
        previous.push(session.current_hash.clone());
        if previous.len() > REMEMBERED_TOKENS {
            previous.drain(..previous.len() - REMEMBERED_TOKENS);
        }
        let mut update = Update::new()
            .set("current_hash", next_hash)
            .set("previous_hashes", soraaya_store::to_value(&previous)?)
            .set("last_used_at", now.to_string())
            .set("rotated_at", now.to_string());
        if let Some(at) = expires_at {
            update = update.set("expires_at", at);
        }
        self.store
            .update(
                UpdateItem::new(
                    &ACCOUNTS,
                    session_key(session.org_id, session.user_id, session.session_id),
                    update,
                )
                .when(
                    Condition::eq("current_hash", session.current_hash.as_str())
                        .and(Condition::not_exists("revoked_at")),
                ),
            )
            .await
            .map(drop)
    }

    pub async fn revoke_session(
        &self,
        org: OrgId,
        user: UserId,
        session: SessionId,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let result = self
            .store
            .update(
                UpdateItem::new(
                    &ACCOUNTS,
                    session_key(org, user, session),
                    Update::new()
                        .set("revoked_at", now.to_string())
                        .set("revoked_reason", reason),
                )
                .when(Condition::exists("pk").and(Condition::not_exists("revoked_at"))),
            )
            .await;
        match result {
            // Already revoked, or gone: either way it is not usable.
            Err(StoreError::Conflict { .. }) => Ok(()),
            other => other.map(drop),
        }
    }

    /// Revokes every live session of a user but `keep`; returns how many were live.
    pub async fn revoke_user_sessions(
        &self,
        org: OrgId,
        user: UserId,
        reason: &str,
        now: Timestamp,
        keep: Option<SessionId>,
    ) -> Result<usize, StoreError> {
        let mut revoked = 0;
        let mut cursor = None;
        loop {
            let page = self
                .store
                .query(
                    Query::new(&ACCOUNTS, org_pk(org))
                        .begins_with(format!("SESSION#{user}#"))
                        .filter(Condition::not_exists("revoked_at"))
                        .after(cursor.take()),
                )
                .await?;
            for item in page.items {
                let session: SessionRecord = from_item(item)?;
                if Some(session.session_id) == keep {
                    continue;
                }
                self.revoke_session(org, user, session.session_id, reason, now)
                    .await?;
                revoked += 1;
            }
            cursor = page.cursor;
            if cursor.is_none() {
                return Ok(revoked);
            }
        }
    }

    /// Writes the user's reset link, replacing any earlier one.
    pub async fn save_reset(&self, reset: &ResetRecord) -> Result<(), StoreError> {
        let key = reset_key(reset.org_id, reset.user_id);
        self.store
            .put(Put::new(&ACCOUNTS, keyed(&key, reset)?))
            .await
    }

    pub async fn reset(&self, org: OrgId, user: UserId) -> Result<Option<ResetRecord>, StoreError> {
        self.store
            .get(&ACCOUNTS, reset_key(org, user))
            .await?
            .map(from_item)
            .transpose()
    }

    /// Uses the reset link of `token` (if its secret is the link's) and sets the
    /// user's password, in one transaction with its audit entry. Operation 0 failing means the
    /// link was used or replaced meanwhile; operation 1, that the user
    /// changed.
    pub async fn use_reset(
        &self,
        token: &crate::tokens::ResetToken,
        version: u64,
        password_hash: String,
        at: Timestamp,
        audit: Put,
    ) -> Result<(), StoreError> {
        let (org, user) = (token.org, token.user);
        self.store
            .transact_write(vec![
                UpdateItem::new(
                    &ACCOUNTS,
                    reset_key(org, user),
                    Update::new().set("used_at", at.to_string()),
                )
                .when(
                    Condition::eq("secret_hash", token.secret_hash())
                        .and(Condition::not_exists("used_at")),
                )
                .into(),
                UpdateItem::new(
                    &ACCOUNTS,
                    user_key(org, user),
                    Update::new()
                        .set("password_hash", password_hash)
                        .set("updated_at", at.to_string())
                        .add("version", 1),
                )
                .when(Condition::eq("version", version))
                .into(),
                audit.into(),
            ])
            .await
    }

    /// The user's reset link stops working (their password was set otherwise).
    pub async fn drop_reset(&self, org: OrgId, user: UserId) -> Result<(), StoreError> {
        self.store
            .delete(Delete::new(&ACCOUNTS, reset_key(org, user)))
            .await
            .map(drop)
    }

    pub async fn throttle(&self, scope: Scope<'_>) -> Result<Option<ThrottleRecord>, StoreError> {
        self.store
            .get(&ACCOUNTS, Key::new(scope.partition(), THROTTLE))
            .await?
            .map(from_item)
            .transpose()
    }

    /// Replaces the throttle record if it is still at `expected_version`
    /// (0: there is none yet).
    pub async fn save_throttle(
        &self,
        scope: Scope<'_>,
        record: &ThrottleRecord,
        expected_version: u64,
    ) -> Result<(), StoreError> {
        let key = Key::new(scope.partition(), THROTTLE);
        let condition = if expected_version == 0 {
            Condition::not_exists("pk")
        } else {
            Condition::eq("version", expected_version)
        };
        self.store
            .put(Put::new(&ACCOUNTS, keyed(&key, record)?).when(condition))
            .await
    }

    pub async fn clear_throttle(&self, scope: Scope<'_>) -> Result<(), StoreError> {
        self.store
            .delete(Delete::new(
                &ACCOUNTS,
                Key::new(scope.partition(), THROTTLE),
            ))
            .await
            .map(drop)
    }
}
