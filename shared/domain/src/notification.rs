//! Notifications: what people must look at.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{CampaignId, LeadId, NotificationId, OrgId, Priority, Timestamp, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// A lead qualified and waits for a person.
    QualifiedLead,
    /// The AI could not proceed without a person.
    HumanInputNeeded,
    /// Calls fail for technical reasons.
    TechnicalIssue,
    /// A lead asked to be called back soon.
    UrgentCallback,
    /// A campaign paused itself.
    CampaignPaused,
    /// Something is wrong for the whole organisation (the voice provider
    /// refuses our key, a queue backs up).
    SystemAlert,
    /// A call a person should read before the lead moves on (a near miss of
    /// the campaign's qualification score).
    ReviewRequired,
    /// Data to fix: rows an import rejected, enquiries refused.
    DataValidation,
    /// A campaign connects or qualifies far below the organisation's rate.
    CampaignAdjustment,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 9] = [
        NotificationKind::QualifiedLead,
        NotificationKind::HumanInputNeeded,
        NotificationKind::TechnicalIssue,
        NotificationKind::UrgentCallback,
        NotificationKind::CampaignPaused,
        NotificationKind::SystemAlert,
        NotificationKind::ReviewRequired,
        NotificationKind::DataValidation,
        NotificationKind::CampaignAdjustment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::QualifiedLead => "qualified_lead",
            NotificationKind::HumanInputNeeded => "human_input_needed",
            NotificationKind::TechnicalIssue => "technical_issue",
            NotificationKind::UrgentCallback => "urgent_callback",
            NotificationKind::CampaignPaused => "campaign_paused",
            NotificationKind::SystemAlert => "system_alert",
            NotificationKind::ReviewRequired => "review_required",
            NotificationKind::DataValidation => "data_validation",
            NotificationKind::CampaignAdjustment => "campaign_adjustment",
        }
    }

    pub fn parse(text: &str) -> Option<NotificationKind> {
        NotificationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text.trim())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotificationStatus {
    Pending,
    InProgress,
    Resolved,
}

impl NotificationStatus {
    pub fn parse(text: &str) -> Option<NotificationStatus> {
        match text.trim() {
            "pending" => Some(NotificationStatus::Pending),
            "in_progress" => Some(NotificationStatus::InProgress),
            "resolved" => Some(NotificationStatus::Resolved),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationStatus::Pending => "pending",
            NotificationStatus::InProgress => "in_progress",
            NotificationStatus::Resolved => "resolved",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    pub id: NotificationId,
    pub org_id: OrgId,
    #[serde(rename = "type")]
    pub kind: NotificationKind,
    pub priority: Priority,
    pub title: String,
    pub message: String,
    pub lead_id: Option<LeadId>,
    pub campaign_id: Option<CampaignId>,
    pub assigned_to: Option<UserId>,
    pub status: NotificationStatus,
    pub required_action: String,
    pub resolution_note: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<Timestamp>,
    /// Who escalated it, why and when (the latest escalation).
    #[serde(default)]
    pub escalation: Option<Escalation>,
}

/// A person's escalation of a notification to a manager or an admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Escalation {
    #[schema(value_type = String, format = Uuid)]
    pub by: UserId,
    pub by_name: String,
    pub reason: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}
