//! What an organisation's admins decide for everyone in it: defaults of
//! new campaigns, the reports' format, how long conversations are kept,
//! and how many calls may be live at once.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::campaign::CallingSettings;

/// The format reports are made in unless one is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    #[default]
    Csv,
    Pdf,
}

/// How long conversations are kept after the call; `None`: as long as the
/// lead is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct DataRetention {
    /// Days a call's transcript and analysis are kept (30-3650).
    #[schema(minimum = 30, maximum = 3650)]
    pub transcript_days: Option<u32>,
    /// Days the reference to a call's recording is kept (30-3650).
    #[schema(minimum = 30, maximum = 3650)]
    pub recording_days: Option<u32>,
}

impl DataRetention {
    pub const DAYS: std::ops::RangeInclusive<u32> = 30..=3650;
}

/// An organisation's settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct OrgSettings {
    /// The calling settings a new campaign starts from.
    pub campaign_defaults: CallingSettings,
    pub export_format: ExportFormat,
    pub data_retention: DataRetention,
    /// Most live calls of the organisation across its campaigns; the
    /// deployment's own cap bounds it. `None`: the deployment's cap.
    #[schema(minimum = 1, maximum = 10000)]
    pub max_live_calls: Option<u32>,
}

impl OrgSettings {
    /// The organisation's cap on live calls under the deployment's.
    pub fn live_call_cap(&self, deployment: u32) -> u32 {
        self.max_live_calls
            .map_or(deployment, |cap| cap.min(deployment))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_stays_under_the_deployments() {
        let settings = OrgSettings {
            max_live_calls: Some(500),
            ..OrgSettings::default()
        };
        assert_eq!(settings.live_call_cap(100), 100);
        assert_eq!(OrgSettings::default().live_call_cap(100), 100);
        let low = OrgSettings {
            max_live_calls: Some(5),
            ..OrgSettings::default()
        };
        assert_eq!(low.live_call_cap(100), 5);
    }
}
