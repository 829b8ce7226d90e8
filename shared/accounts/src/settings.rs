//! The organisation's settings: its name, zone and phone region, the
//! defaults of new campaigns, the reports' format, how long conversations
//! are kept, and its cap on live calls. Changed by admins, field by field,
//! every change audited.

use soraaya_domain::{CallingSettings, ExportFormat, OrgName, Organisation, Region, TimeZoneName};
use soraaya_store::{StoreError, Update, to_value};
use tracing::info;

use crate::Caller;
use crate::audit::{self, AuditEntity, AuditEntry};
use crate::repo::AccountsRepo;
use crate::users::AccountError;
use soraaya_core::App;

/// Changes to the organisation; absent fields stay. Values are already
/// checked (ranges, a window that ends after it starts).
#[derive(Debug, Clone, Default)]
pub struct SettingsChanges {
    pub name: Option<OrgName>,
    pub time_zone: Option<TimeZoneName>,
    pub default_region: Option<Region>,
    /// New campaigns' calling settings, whole (checked by the campaigns' rules).
    pub campaign_defaults: Option<CallingSettings>,
    pub export_format: Option<ExportFormat>,
    /// `Some(None)`: kept as long as the lead.
    pub transcript_days: Option<Option<u32>>,
    pub recording_days: Option<Option<u32>>,
    /// `Some(None)`: the deployment's cap.
    pub max_live_calls: Option<Option<u32>>,
}

impl SettingsChanges {
    fn apply(&self, org: &mut Organisation) {
        if let Some(name) = &self.name {
            org.name = name.clone();
        }
        if let Some(zone) = &self.time_zone {
            org.time_zone = zone.clone();
        }
        if let Some(region) = self.default_region {
            org.default_region = region;
        }
        let settings = &mut org.settings;
        if let Some(defaults) = &self.campaign_defaults {
            settings.campaign_defaults = *defaults;
        }
        if let Some(format) = self.export_format {
            settings.export_format = format;
        }
        if let Some(days) = self.transcript_days {
            settings.data_retention.transcript_days = days;
        }
        if let Some(days) = self.recording_days {
            settings.data_retention.recording_days = days;
        }
        if let Some(cap) = self.max_live_calls {
            settings.max_live_calls = cap;
        }
    }
}

const TRIES: usize = 3;

/// Applies an admin's changes to the organisation, with their audit entry;
/// this process sees them at once, others within the organisation cache's
/// minute.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %admin.org_id))]
pub async fn update_org_settings(
    app: &App,
    admin: &Caller,
    changes: &SettingsChanges,
) -> Result<Organisation, AccountError> {
    let repo = AccountsRepo::new(app.store.as_ref());
    for _ in 0..TRIES {
        let (before, version) = repo
            .organisation_versioned(admin.org_id)
            .await?
            .ok_or(AccountError::OrganisationNotFound)?;
        let mut after = before.clone();
        changes.apply(&mut after);
        if after == before {
            return Ok(after);
        }
        let view = |org: &Organisation| {
            serde_json::json!({
                "name": org.name,
                "time_zone": org.time_zone,
                "default_region": org.default_region,
                "settings": org.settings,
            })
        };
        let entry = AuditEntry::by(
            admin,
            app.clock.now(),
            AuditEntity::OrgSettings,
            admin.org_id,
            "update",
            audit::changes(&view(&before), &view(&after)),
        );
        let update = Update::new()
            .set("name", after.name.as_str())
            .set("time_zone", after.time_zone.as_str())
            .set("default_region", to_value(&after.default_region)?)
            .set("settings", to_value(&after.settings)?);
        match repo
            .update_organisation(
                &after,
                version,
                update,
                audit::record(admin.org_id, &entry)?,
            )
            .await
        {
            Ok(()) => {
                app.organisations.forget(admin.org_id);
                info!(
                    fields = entry.changes.len(),
                    "organisation settings changed"
                );
                return Ok(after);
            }
            Err(StoreError::Conflict { failed }) if failed.contains(&0) => continue,
            Err(err) => return Err(err.into()),
        }
    }
    Err(AccountError::ChangedConcurrently)
}
