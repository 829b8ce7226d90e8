//! Campaigns: a group of leads called by one persona, within one window, with
//! one set of qualification criteria.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::calling::{ClockTime, DailyWindow};
use crate::{
    CampaignId, FinancingStatus, Inr, LeadId, OrgId, PersonaId, Priority, PropertyId, PropertyType,
    PurchaseTimeline, ScriptCustomizations, Timestamp, UserId,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignType {
    Outbound,
    FollowUp,
    ReEngagement,
}

impl CampaignType {
    pub const ALL: [CampaignType; 3] = [
        CampaignType::Outbound,
        CampaignType::FollowUp,
        CampaignType::ReEngagement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CampaignType::Outbound => "outbound",
            CampaignType::FollowUp => "follow_up",
            CampaignType::ReEngagement => "re_engagement",
        }
    }

    /// `outbound`, `follow_up` (or `follow-up`, `Follow up`), `re_engagement`.
    pub fn parse(text: &str) -> Option<CampaignType> {
        let text = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        let text = if text == "outbound_calling" {
            "outbound".to_owned()
        } else {
            text
        };
        CampaignType::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// `draft → active ⇄ paused → completed | archived`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    Draft,
    Active,
    Paused,
    Completed,
    Archived,
}

/// What a person asks a campaign to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignAction {
    Start,
    Pause,
    Resume,
    Stop,
    Archive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {status} campaign cannot be {action}")]
pub struct CampaignActionError {
    pub status: &'static str,
    pub action: &'static str,
}

impl CampaignStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Draft => "draft",
            CampaignStatus::Active => "active",
            CampaignStatus::Paused => "paused",
            CampaignStatus::Completed => "completed",
            CampaignStatus::Archived => "archived",
        }
    }

    pub fn parse(text: &str) -> Option<CampaignStatus> {
        [
            CampaignStatus::Draft,
            CampaignStatus::Active,
            CampaignStatus::Paused,
            CampaignStatus::Completed,
            CampaignStatus::Archived,
        ]
        .into_iter()
        .find(|s| s.as_str() == text.trim().to_ascii_lowercase())
    }

    /// The status an action leads to, if the action is allowed.
    pub fn after(self, action: CampaignAction) -> Result<CampaignStatus, CampaignActionError> {
        use CampaignAction as A;
        use CampaignStatus as S;
        let next = match (self, action) {
            (S::Draft, A::Start) => S::Active,
            (S::Active, A::Pause) => S::Paused,
            (S::Paused, A::Resume) => S::Active,
            (S::Active | S::Paused, A::Stop) => S::Completed,
            (S::Draft | S::Paused | S::Completed, A::Archive) => S::Archived,
            _ => {
                return Err(CampaignActionError {
                    status: self.as_str(),
                    action: match action {
                        A::Start => "started",
                        A::Pause => "paused",
                        A::Resume => "resumed",
                        A::Stop => "stopped",
                        A::Archive => "archived",
                    },
                });
            }
        };
        Ok(next)
    }
}

impl std::fmt::Display for CampaignStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What makes a lead qualified for this campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct QualificationCriteria {
    pub budget_min: Option<Inr>,
    pub budget_max: Option<Inr>,
    /// Acceptable purchase timelines (empty: any).
    pub timelines: Vec<PurchaseTimeline>,
    /// Property types the campaign sells (empty: any).
    pub property_types: Vec<PropertyType>,
    /// Areas the campaign sells (empty: any).
    pub locations: Vec<String>,
    /// Whether the person on the call must be the decision maker.
    pub decision_maker_required: bool,
    /// Acceptable financing (empty: any).
    pub financing: Vec<FinancingStatus>,
    /// Extra questions the agent asks.
    pub custom_questions: Vec<String>,
    /// Score (0-100) at which a lead counts as qualified.
    pub qualify_at: u8,
}

impl Default for QualificationCriteria {
    fn default() -> Self {
        QualificationCriteria {
            budget_min: None,
            budget_max: None,
            timelines: Vec::new(),
            property_types: Vec::new(),
            locations: Vec::new(),
            decision_maker_required: false,
            financing: Vec::new(),
            custom_questions: Vec::new(),
            qualify_at: 70,
        }
    }
}

/// What a call learnt about the lead, compared with the criteria.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QualificationAnswers {
    pub budget_min: Option<Inr>,
    pub budget_max: Option<Inr>,
    pub timeline: Option<PurchaseTimeline>,
    pub property_type: Option<PropertyType>,
    pub location: Option<String>,
    pub decision_maker: Option<bool>,
    pub financing: Option<FinancingStatus>,
}

impl QualificationCriteria {
    /// Most points each criterion earns; they sum to 100.
    pub const BUDGET_POINTS: u8 = 30;
    pub const TIMELINE_POINTS: u8 = 20;
    pub const PROPERTY_TYPE_POINTS: u8 = 15;
    pub const LOCATION_POINTS: u8 = 15;
    pub const DECISION_MAKER_POINTS: u8 = 10;
    pub const FINANCING_POINTS: u8 = 10;

    /// Whether `place` names one of the areas the campaign lists.
    pub fn lists_location(&self, place: &str) -> bool {
        let place = place.to_lowercase();
        self.locations
            .iter()
            .any(|l| place.contains(&l.to_lowercase()))
    }

    /// A score from 0 to 100: budget 30, timeline 20, property type 15,
    /// location 15, decision maker 10, financing 10. A criterion the campaign
    /// leaves open earns its points once the lead answered; an unanswered one
    /// earns nothing.
    pub fn score(&self, answers: &QualificationAnswers) -> u8 {
        let mut score = 0u8;
        let lead_top = answers.budget_max.or(answers.budget_min);
        let lead_bottom = answers.budget_min.or(answers.budget_max);
        if let (Some(top), Some(bottom)) = (lead_top, lead_bottom) {
            let above_floor = self.budget_min.is_none_or(|min| top >= min);
            let below_ceiling = self.budget_max.is_none_or(|max| bottom <= max);
            if above_floor && below_ceiling {
                score += Self::BUDGET_POINTS;
            }
        }
        if let Some(timeline) = answers.timeline
            && (self.timelines.is_empty() || self.timelines.contains(&timeline))
        {
            score += Self::TIMELINE_POINTS;
        }
        if let Some(kind) = answers.property_type
            && (self.property_types.is_empty() || self.property_types.contains(&kind))
        {
            score += Self::PROPERTY_TYPE_POINTS;
        }
        if let Some(location) = &answers.location
            && (self.locations.is_empty() || self.lists_location(location))
        {
            score += Self::LOCATION_POINTS;
        }
        match answers.decision_maker {
            Some(true) => score += Self::DECISION_MAKER_POINTS,
            Some(false) if !self.decision_maker_required => {
                score += Self::DECISION_MAKER_POINTS / 2
            }
            _ => {}
        }
        if let Some(financing) = answers.financing
            && (self.financing.is_empty() || self.financing.contains(&financing))
        {
            score += Self::FINANCING_POINTS;
        }
        score
    }
}

/// Minutes to wait before calling again, by how the last call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct RetryDelays {
    pub no_answer_minutes: u32,
    pub busy_minutes: u32,
    pub voicemail_minutes: u32,
    pub failed_minutes: u32,
}

impl Default for RetryDelays {
    fn default() -> Self {
        RetryDelays {
            no_answer_minutes: 120,
            busy_minutes: 30,
            voicemail_minutes: 240,
            failed_minutes: 15,
        }
    }
}

/// How a campaign calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct CallingSettings {
    /// Most calls of this campaign live at once.
    pub max_concurrent_calls: u32,
    /// Local hours of the lead during which calls start (within the legal hours).
    pub window: DailyWindow,
    /// Most calls per lead, across every kind of retry.
    pub max_attempts: u32,
    pub retry_delays: RetryDelays,
}

impl Default for CallingSettings {
    fn default() -> Self {
        CallingSettings {
            max_concurrent_calls: 10,
            window: DailyWindow::new(ClockTime::hm(10, 0), ClockTime::hm(19, 0)),
            max_attempts: 3,
            retry_delays: RetryDelays::default(),
        }
    }
}

/// A calling campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Campaign {
    pub id: CampaignId,
    pub org_id: OrgId,
    pub name: String,
    pub description: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub start_date: Option<jiff::civil::Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub end_date: Option<jiff::civil::Date>,
    pub campaign_type: CampaignType,
    pub priority_level: Priority,
    pub status: CampaignStatus,
    pub persona_id: Option<PersonaId>,
    pub property_ids: Vec<PropertyId>,
    pub qualification_criteria: QualificationCriteria,
    pub settings: CallingSettings,
    /// Set when the campaign paused itself; why.
    pub paused_reason: Option<String>,
    /// An A/B test: the approaches its leads are split between (none, or 2 to 5).
    #[serde(default)]
    pub variants: Vec<Variant>,
    /// Speed to lead: new leads arriving by API from these sources (compared
    /// without regard to case) join this campaign and, while it is active,
    /// are called at once inside its window.
    #[serde(default)]
    pub auto_call_sources: Vec<String>,
    pub created_by: Option<UserId>,
    pub version: u64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// One approach of a campaign's A/B test: a persona and/or a script, tried
/// on a share of its leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Variant {
    /// Unique in the campaign: letters, digits, `-` and `_`, up to 20 (such as `a`, `warm-opening`).
    pub key: String,
    pub description: Option<String>,
    /// The persona of this variant's calls (the campaign's otherwise).
    pub persona_id: Option<PersonaId>,
    /// A greeting, pitch or closing set here replaces the persona's.
    #[serde(default)]
    pub script: ScriptCustomizations,
    /// The variant's share of the leads, against the others' weights (1 to 100).
    pub weight: u8,
}

impl Campaign {
    /// The variant a lead is in: drawn from the campaign's and the lead's
    /// ids (FNV-1a), so it never changes and needs no write, in proportion
    /// to the weights. `None` when the campaign tests nothing.
    pub fn variant_for(&self, lead: LeadId) -> Option<&Variant> {
        let total: u64 = self
            .variants
            .iter()
            .map(|v| u64::from(v.weight.max(1)))
            .sum();
        if self.variants.len() < 2 || total == 0 {
            return None;
        }
        let hash = self
            .id
            .as_uuid()
            .as_bytes()
            .iter()
            .chain(lead.as_uuid().as_bytes())
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
            });
        let mut roll = hash % total;
        self.variants.iter().find(|v| {
            let weight = u64::from(v.weight.max(1));
            if roll < weight {
                true
            } else {
                roll -= weight;
                false
            }
        })
    }

    /// Whether the campaign or one of its variants calls with this persona.
    pub fn uses_persona(&self, persona: PersonaId) -> bool {
        self.persona_id == Some(persona)
            || self.variants.iter().any(|v| v.persona_id == Some(persona))
    }

    /// The persona that calls `lead`: its variant's, the campaign's, or the lead's own.
    pub fn persona_for(&self, lead: &crate::Lead) -> Option<PersonaId> {
        self.variant_for(lead.id)
            .and_then(|v| v.persona_id)
            .or(self.persona_id)
            .or(lead.agent_persona_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leads_split_between_variants_by_weight_and_always_alike() {
        let mut campaign: Campaign = serde_json::from_value(serde_json::json!({
            "id": "01936f3a-1111-7000-8000-000000000003", "org_id": "01936f3a-1111-7000-8000-000000000001",
            "name": "Split", "description": null, "start_date": null, "end_date": null,
            "campaign_type": "outbound", "priority_level": "high", "status": "active",
            "persona_id": null, "property_ids": [], "qualification_criteria": {}, "settings": {},
            "paused_reason": null, "created_by": null, "version": 1,
            "created_at": "2026-11-20T10:00:00Z", "updated_at": "2026-11-20T10:00:00Z"
        }))
        .unwrap();
        let lead = LeadId::new();
        assert!(campaign.variant_for(lead).is_none(), "no test, no variant");
        let variant = |key: &str, weight: u8| Variant {
            key: key.into(),
            description: None,
            persona_id: None,
            script: ScriptCustomizations::default(),
            weight,
        };
        campaign.variants = vec![variant("a", 3), variant("b", 1)];
        let mut counts = [0u32; 2];
        for _ in 0..4000 {
            let lead = LeadId::new();
            let first = campaign.variant_for(lead).unwrap().key.clone();
            assert_eq!(
                campaign.variant_for(lead).unwrap().key,
                first,
                "the same every time"
            );
            counts[usize::from(first == "b")] += 1;
        }
        // 3 : 1, within a few percent.
        assert!((2800..3200).contains(&counts[0]), "{counts:?}");
    }

    #[test]
    fn campaign_actions_follow_the_lifecycle() {
        use CampaignAction::*;
        use CampaignStatus::*;
        assert_eq!(Draft.after(Start), Ok(Active));
        assert_eq!(Active.after(Pause), Ok(Paused));
        assert_eq!(Paused.after(Resume), Ok(Active));
        assert_eq!(Paused.after(Stop), Ok(Completed));
        assert_eq!(Completed.after(Archive), Ok(Archived));
        assert!(Completed.after(Start).is_err());
        assert!(Active.after(Resume).is_err());
        assert!(Archived.after(Archive).is_err());
        assert_eq!(
            Active.after(Start).unwrap_err().to_string(),
            "a active campaign cannot be started"
        );
    }

    #[test]
    fn scores_weigh_the_criteria() {
        let criteria = QualificationCriteria {
            budget_min: Some(Inr::crore_hundredths(1000)),
            timelines: vec![PurchaseTimeline::Immediate, PurchaseTimeline::ThreeMonths],
            property_types: vec![PropertyType::Penthouse],
            locations: vec!["Worli".into()],
            ..QualificationCriteria::default()
        };
        let ideal = QualificationAnswers {
            budget_min: Some(Inr::crore_hundredths(1200)),
            budget_max: Some(Inr::crore_hundredths(1500)),
            timeline: Some(PurchaseTimeline::ThreeMonths),
            property_type: Some(PropertyType::Penthouse),
            location: Some("Worli Sea Face".into()),
            decision_maker: Some(true),
            financing: Some(FinancingStatus::CashBuyer),
        };
        assert_eq!(criteria.score(&ideal), 100);
        let under_budget = QualificationAnswers {
            budget_max: Some(Inr::crore_hundredths(500)),
            budget_min: None,
            ..ideal.clone()
        };
        assert_eq!(criteria.score(&under_budget), 70);
        assert_eq!(criteria.score(&QualificationAnswers::default()), 0);
    }
}
