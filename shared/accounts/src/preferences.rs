//! A user's own preferences: read, and changed field by field with every
//! change audited.

use soraaya_domain::{
    ChannelPreference, DashboardView, Language, NotificationKind, Priority, Theme, TimeZoneName,
    User,
};
use soraaya_store::{StoreError, Update, to_value};
use tracing::info;

use crate::audit::{self, AuditEntity, AuditEntry};
use crate::caller::Caller;
use crate::repo::AccountsRepo;
use crate::users::AccountError;
use soraaya_core::App;

/// Changes to one notification channel; absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct ChannelChange {
    pub enabled: Option<bool>,
    pub min_priority: Option<Priority>,
    pub types: Option<Vec<NotificationKind>>,
}

impl ChannelChange {
    fn apply(&self, channel: &mut ChannelPreference) {
        if let Some(enabled) = self.enabled {
            channel.enabled = enabled;
        }
        if let Some(priority) = self.min_priority {
            channel.min_priority = priority;
        }
        if let Some(types) = &self.types {
            // In the taxonomy's order, each once.
            channel.types = NotificationKind::ALL
                .into_iter()
                .filter(|kind| types.contains(kind))
                .collect();
        }
    }
}

/// Changes a user makes to their preferences; absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct PreferenceChanges {
    /// Already checked against [`soraaya_domain::DashboardPreferences::REFRESH_SECONDS`].
    pub dashboard_refresh_seconds: Option<u32>,
    pub default_dashboard_view: Option<DashboardView>,
    pub in_app: Option<ChannelChange>,
    pub email: Option<ChannelChange>,
    /// `Some(None)`: back to the organisation's zone.
    pub time_zone: Option<Option<TimeZoneName>>,
    pub language: Option<Language>,
    pub theme: Option<Theme>,
}

/// Tries of a change that met another change of the same user.
const TRIES: usize = 3;

/// Applies the caller's changes to their own preferences and records them
/// in the audit; answers the user as they are after.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
pub async fn update_preferences(
    app: &App,
    caller: &Caller,
    changes: &PreferenceChanges,
) -> Result<User, AccountError> {
    let repo = AccountsRepo::new(app.store.as_ref());
    for _ in 0..TRIES {
        let stored = repo
            .user(caller.org_id, caller.user_id)
            .await?
            .ok_or(AccountError::UserNotFound)?;
        let before = stored.user;
        let mut after = before.clone();
        if let Some(seconds) = changes.dashboard_refresh_seconds {
            after.dashboard_preferences.refresh_seconds = seconds;
        }
        if let Some(view) = changes.default_dashboard_view {
            after.dashboard_preferences.default_view = view;
        }
        if let Some(change) = &changes.in_app {
            change.apply(&mut after.notification_preferences.in_app);
        }
        if let Some(change) = &changes.email {
            change.apply(&mut after.notification_preferences.email);
        }
        if let Some(zone) = &changes.time_zone {
            after.time_zone.clone_from(zone);
        }
        if let Some(language) = changes.language {
            after.language = language;
        }
        if let Some(theme) = changes.theme {
            after.theme = theme;
        }
        if after == before {
            return Ok(after);
        }
        let now = app.clock.now();
        after.updated_at = now;
        let view = |user: &User| {
            serde_json::json!({
                "dashboard_preferences": user.dashboard_preferences,
                "notification_preferences": user.notification_preferences,
                "time_zone": user.time_zone,
                "language": user.language,
                "theme": user.theme,
            })
        };
        let entry = AuditEntry::by(
            caller,
            now,
            AuditEntity::Preferences,
            caller.user_id,
            "update",
            audit::changes(&view(&before), &view(&after)),
        );
        let update = Update::new()
            .set(
                "dashboard_preferences",
                to_value(&after.dashboard_preferences)?,
            )
            .set(
                "notification_preferences",
                to_value(&after.notification_preferences)?,
            )
            .set_or_remove(
                "time_zone",
                after.time_zone.as_ref().map(|z| z.as_str().to_owned()),
            )
            .set("language", to_value(&after.language)?)
            .set("theme", to_value(&after.theme)?)
            .set("updated_at", now.to_string());
        match repo
            .update_user(
                caller.org_id,
                caller.user_id,
                stored.version,
                update,
                audit::record(caller.org_id, &entry)?,
                0,
            )
            .await
        {
            Ok(()) => {
                info!(fields = entry.changes.len(), "preferences changed");
                return Ok(after);
            }
            Err(StoreError::Conflict { .. }) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(AccountError::ChangedConcurrently)
}
