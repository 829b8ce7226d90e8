//! What a user chooses for themselves: how the dashboard refreshes and
//! opens, which notifications reach them on which channel, their time zone,
//! language and theme.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{NotificationKind, Priority};

/// Which dashboard opens first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DashboardView {
    /// The organisation's figures.
    #[default]
    Overall,
    /// The campaigns side by side.
    Campaigns,
}

/// How a user's dashboard behaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct DashboardPreferences {
    /// Auto-refresh interval in seconds (15-600).
    #[schema(minimum = 15, maximum = 600)]
    pub refresh_seconds: u32,
    pub default_view: DashboardView,
}

impl DashboardPreferences {
    pub const REFRESH_SECONDS: std::ops::RangeInclusive<u32> = 15..=600;
}

impl Default for DashboardPreferences {
    fn default() -> Self {
        DashboardPreferences {
            refresh_seconds: 30,
            default_view: DashboardView::Overall,
        }
    }
}

/// One channel's choice: on or off, the least priority that comes through,
/// and the types that do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(from = "ChannelOnDisk")]
pub struct ChannelPreference {
    pub enabled: bool,
    /// Notifications of this priority or higher come through.
    pub min_priority: Priority,
    /// The types that come through (every type unless narrowed).
    pub types: Vec<NotificationKind>,
}

/// A channel as stored: an object, or (as written before types and
/// priorities could be chosen) only whether it is on.
#[derive(Deserialize)]
#[serde(untagged)]
enum ChannelOnDisk {
    Switch(bool),
    Choice {
        enabled: bool,
        min_priority: Priority,
        types: Vec<NotificationKind>,
    },
}

impl From<ChannelOnDisk> for ChannelPreference {
    fn from(stored: ChannelOnDisk) -> Self {
        match stored {
            ChannelOnDisk::Switch(enabled) => ChannelPreference {
                enabled,
                ..ChannelPreference::all(Priority::Low)
            },
            ChannelOnDisk::Choice {
                enabled,
                min_priority,
                types,
            } => ChannelPreference {
                enabled,
                min_priority,
                types,
            },
        }
    }
}

impl ChannelPreference {
    /// On, for every type from `min_priority` up.
    pub fn all(min_priority: Priority) -> Self {
        ChannelPreference {
            enabled: true,
            min_priority,
            types: NotificationKind::ALL.to_vec(),
        }
    }

    /// Whether a notification of `kind` and `priority` comes through.
    pub fn wants(&self, kind: NotificationKind, priority: Priority) -> bool {
        // `Priority` orders High first.
        self.enabled && priority <= self.min_priority && self.types.contains(&kind)
    }
}

/// Which notifications reach a user, in the app and by email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct NotificationPreferences {
    pub in_app: ChannelPreference,
    /// Email carries high-priority notifications unless chosen otherwise.
    pub email: ChannelPreference,
}

impl Default for NotificationPreferences {
    fn default() -> Self {
        NotificationPreferences {
            in_app: ChannelPreference::all(Priority::Low),
            email: ChannelPreference::all(Priority::High),
        }
    }
}

/// The console's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub enum Language {
    #[default]
    #[serde(rename = "en-IN")]
    EnIn,
    #[serde(rename = "en-GB")]
    EnGb,
    #[serde(rename = "en-US")]
    EnUs,
}

/// The console's colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    Light,
    Dark,
    /// As the device is set.
    #[default]
    System,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_stored_as_a_switch_reads_as_every_type() {
        let old: NotificationPreferences =
            serde_json::from_str(r#"{"in_app":true,"email":false,"sms":false}"#).unwrap();
        assert!(
            old.in_app
                .wants(NotificationKind::SystemAlert, Priority::Low)
        );
        assert!(!old.email.enabled);
        let round: NotificationPreferences =
            serde_json::from_value(serde_json::to_value(&old).unwrap()).unwrap();
        assert_eq!(round, old);
    }

    #[test]
    fn a_channel_lets_through_its_types_from_its_priority_up() {
        let email = NotificationPreferences::default().email;
        assert!(email.wants(NotificationKind::QualifiedLead, Priority::High));
        assert!(!email.wants(NotificationKind::QualifiedLead, Priority::Medium));
        let narrowed = ChannelPreference {
            types: vec![NotificationKind::UrgentCallback],
            ..ChannelPreference::all(Priority::Medium)
        };
        assert!(narrowed.wants(NotificationKind::UrgentCallback, Priority::Medium));
        assert!(!narrowed.wants(NotificationKind::QualifiedLead, Priority::High));
        assert!(!narrowed.wants(NotificationKind::UrgentCallback, Priority::Low));
    }
}
