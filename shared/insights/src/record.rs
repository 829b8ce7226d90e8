//! What one call adds to the insight aggregates: its result, timing and
//! length when it ends, and what its words showed once analysed. Written as
//! one update per scope (organisation, campaign, persona) of the call's day,
//! in the transaction that ends the call or stores its transcript; that
//! transaction happens once per call, so nothing is counted twice.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use soraaya_analytics::{ActionKind, Analysis, Criterion, SentimentLabel};
use soraaya_domain::{
    CallResult, CampaignId, Lead, LeadId, LeadStatus, OrgId, PersonaId, Property, TranscriptId,
};
use soraaya_store::{Key, Update, UpdateItem, WriteOp};

use soraaya_core::tables::LEADS;

/// The partition of an organisation's insight items (in the leads table,
/// beside its counters).
pub fn insights_pk(org: OrgId) -> String {
    format!("ORG#{org}#INSIGHTS")
}

/// Whose calls an insight item adds up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum InsightScope {
    Organisation,
    Campaign(CampaignId),
    Persona(PersonaId),
    /// One persona's calls in one campaign.
    CampaignPersona(CampaignId, PersonaId),
    /// Every call of one campaign, whatever the day (its A/B test reads it).
    CampaignAll(CampaignId),
}

impl InsightScope {
    /// The item of this scope for one day (the organisation's calendar day;
    /// a campaign's all-time item whatever the day).
    pub fn key(self, org: OrgId, day: Date) -> Key {
        let sk = match self {
            InsightScope::Organisation => format!("DAY#{day}"),
            InsightScope::Campaign(c) => format!("CAMPAIGN#{c}#DAY#{day}"),
            InsightScope::Persona(p) => format!("PERSONA#{p}#DAY#{day}"),
            InsightScope::CampaignPersona(c, p) => format!("CAMPAIGN#{c}#PERSONA#{p}#DAY#{day}"),
            InsightScope::CampaignAll(c) => format!("CAMPAIGN#{c}#ALL"),
        };
        Key::new(insights_pk(org), sk)
    }

    /// The scopes a call counts in.
    pub fn of_call(campaign: CampaignId, persona: Option<PersonaId>) -> Vec<InsightScope> {
        let mut scopes = vec![
            InsightScope::Organisation,
            InsightScope::Campaign(campaign),
            InsightScope::CampaignAll(campaign),
        ];
        if let Some(persona) = persona {
            scopes.push(InsightScope::Persona(persona));
            scopes.push(InsightScope::CampaignPersona(campaign, persona));
        }
        scopes
    }
}

/// Attribute names of an insight item. A name ending in `_` is a prefix,
/// completed by a value (`obj_price`); a `q` before the `_` counts the
/// qualified calls among them (`objq_price`).
pub mod names {
    /// Calls that ended, connected, and after which the lead was qualified.
    pub const CALLS: &str = "calls";
    pub const CONNECTED: &str = "connected";
    pub const QUALIFIED: &str = "qualified";
    /// Calls by the lead's local hour at dialling (`lh_calls_18`) and those connected.
    pub const LOCAL_HOUR_CALLS: &str = "lh_calls_";
    pub const LOCAL_HOUR_CONNECTED: &str = "lh_conn_";
    /// Connected calls by length bucket, and the qualified ones.
    pub const LENGTH: &str = "len_";
    pub const LENGTH_QUALIFIED: &str = "lenq_";
    /// Promised callbacks placed, by how late (bucket), and those answered.
    pub const CALLBACKS: &str = "cb_";
    pub const CALLBACKS_KEPT: &str = "cbk_";
    /// By persona id: calls, connected, qualified, sum of scores, scored calls.
    pub const PERSONA_CALLS: &str = "per_calls_";
    pub const PERSONA_CONNECTED: &str = "per_conn_";
    pub const PERSONA_QUALIFIED: &str = "per_qual_";
    pub const PERSONA_SCORE_SUM: &str = "per_score_";
    pub const PERSONA_SCORED: &str = "per_scored_";
    /// By A/B variant key: calls, connected, qualified, sum of scores,
    /// scored calls, cost in US cents.
    pub const VARIANT_CALLS: &str = "var_calls_";
    pub const VARIANT_CONNECTED: &str = "var_conn_";
    pub const VARIANT_QUALIFIED: &str = "var_qual_";
    pub const VARIANT_SCORE_SUM: &str = "var_score_";
    pub const VARIANT_SCORED: &str = "var_scored_";
    pub const VARIANT_COST_CENTS: &str = "var_cost_";
    /// Calls whose words were analysed, and the qualified ones.
    pub const ANALYSED: &str = "analysed";
    pub const ANALYSED_QUALIFIED: &str = "analysedq";
    /// Calls raising each objection kind; the first and the last quote of the day.
    pub const OBJECTION: &str = "obj_";
    pub const OBJECTION_QUALIFIED: &str = "objq_";
    pub const EXAMPLE_FIRST: &str = "exf_";
    pub const EXAMPLE_LAST: &str = "exl_";
    /// Calls showing each pattern ([`Pattern`]).
    pub const PATTERN: &str = "pat_";
    pub const PATTERN_QUALIFIED: &str = "patq_";
    /// Calls whose stated budget falls in each band against the pitched
    /// price, those qualified, and those with a price objection.
    pub const PRICE: &str = "price_";
    pub const PRICE_QUALIFIED: &str = "priceq_";
    pub const PRICE_OBJECTED: &str = "priceo_";
    /// Calls mentioning each purchase timeline, feature and place.
    pub const TIMELINE: &str = "tl_";
    pub const TIMELINE_QUALIFIED: &str = "tlq_";
    pub const FEATURE: &str = "ft_";
    pub const FEATURE_QUALIFIED: &str = "ftq_";
    pub const LOCATION: &str = "lc_";
    pub const LOCATION_QUALIFIED: &str = "lcq_";
    /// Sum of the customers' overall sentiment, in thousandths, and the calls summed.
    pub const SENTIMENT_MILLI: &str = "sent_milli";
    pub const SENTIMENT_CALLS: &str = "sent_calls";
    /// By question (`budget`, …, or `custom_{hash}`): asked, answered, asked in a qualified call.
    pub const ASKED: &str = "qa_";
    pub const ANSWERED: &str = "qn_";
    pub const ASKED_QUALIFIED: &str = "qaq_";
    /// A custom question's words, by its hash.
    pub const QUESTION_TEXT: &str = "qt_";
}

/// What a call showed that may tell qualified calls from the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pattern {
    BudgetStated,
    TimelineStated,
    LocationStated,
    DecisionMakerOnCall,
    FinancingDiscussed,
    EveryQuestionAsked,
    CustomerSpokeMost,
    LongConversation,
    PositiveEnd,
    NoObjection,
    SiteVisitAgreed,
    BrochureRequested,
}

impl Pattern {
    pub const ALL: [Pattern; 12] = [
        Pattern::BudgetStated,
        Pattern::TimelineStated,
        Pattern::LocationStated,
        Pattern::DecisionMakerOnCall,
        Pattern::FinancingDiscussed,
        Pattern::EveryQuestionAsked,
        Pattern::CustomerSpokeMost,
        Pattern::LongConversation,
        Pattern::PositiveEnd,
        Pattern::NoObjection,
        Pattern::SiteVisitAgreed,
        Pattern::BrochureRequested,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Pattern::BudgetStated => "budget_stated",
            Pattern::TimelineStated => "timeline_stated",
            Pattern::LocationStated => "location_stated",
            Pattern::DecisionMakerOnCall => "decision_maker_on_call",
            Pattern::FinancingDiscussed => "financing_discussed",
            Pattern::EveryQuestionAsked => "every_question_asked",
            Pattern::CustomerSpokeMost => "customer_spoke_most",
            Pattern::LongConversation => "long_conversation",
            Pattern::PositiveEnd => "positive_end",
            Pattern::NoObjection => "no_objection",
            Pattern::SiteVisitAgreed => "site_visit_agreed",
            Pattern::BrochureRequested => "brochure_requested",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Pattern::BudgetStated => "the customer stated a budget",
            Pattern::TimelineStated => "the customer said when they plan to buy",
            Pattern::LocationStated => "the customer named a place",
            Pattern::DecisionMakerOnCall => "the customer decides the purchase",
            Pattern::FinancingDiscussed => "the customer said how they will pay",
            Pattern::EveryQuestionAsked => "the agent asked every standard question",
            Pattern::CustomerSpokeMost => "the customer spoke at least half the words",
            Pattern::LongConversation => "the customer took six turns or more",
            Pattern::PositiveEnd => "the customer ended the call in a positive mood",
            Pattern::NoObjection => "the customer raised no objection",
            Pattern::SiteVisitAgreed => "a site visit was agreed",
            Pattern::BrochureRequested => "the customer asked for a brochure",
        }
    }

    /// Whether the analysis shows the pattern.
    fn shown_by(self, analysis: &Analysis) -> bool {
        let mentions = &analysis.mentions;
        let has_action = |kind| analysis.action_items.iter().any(|a| a.kind == kind);
        match self {
            Pattern::BudgetStated => !mentions.budgets.is_empty(),
            Pattern::TimelineStated => !mentions.timelines.is_empty(),
            Pattern::LocationStated => !mentions.locations.is_empty(),
            Pattern::DecisionMakerOnCall => {
                mentions.decision_maker.iter().any(|d| d.decision_maker)
            }
            Pattern::FinancingDiscussed => !mentions.financing.is_empty(),
            Pattern::EveryQuestionAsked => analysis
                .coverage
                .criteria
                .iter()
                .filter(|c| c.criterion != Criterion::CustomQuestion)
                .all(|c| c.asked),
            Pattern::CustomerSpokeMost => analysis.coverage.talk_ratio >= 0.5,
            Pattern::LongConversation => analysis.coverage.customer_turns >= 6,
            Pattern::PositiveEnd => {
                analysis.customer_sentiment.end.label == SentimentLabel::Positive
            }
            Pattern::NoObjection => analysis.objections.is_empty(),
            Pattern::SiteVisitAgreed => has_action(ActionKind::SiteVisit),
            Pattern::BrochureRequested => has_action(ActionKind::SendBrochure),
        }
    }
}

/// Bands of a connected call's length.
pub const LENGTH_BANDS: [(&str, &str); 5] = [
    ("under_1m", "under a minute"),
    ("1_3m", "1 to 3 minutes"),
    ("3_5m", "3 to 5 minutes"),
    ("5_10m", "5 to 10 minutes"),
    ("10m_plus", "10 minutes or more"),
];

fn length_band(seconds: f64) -> &'static str {
    let minutes = seconds.max(0.0) / 60.0;
    LENGTH_BANDS[match minutes {
        m if m < 1.0 => 0,
        m if m < 3.0 => 1,
        m if m < 5.0 => 2,
        m if m < 10.0 => 3,
        _ => 4,
    }]
    .0
}

/// Bands of how late a promised callback was placed.
pub const CALLBACK_BANDS: [(&str, &str); 4] = [
    ("on_time", "within 5 minutes of the promised time"),
    ("5_30m", "5 to 30 minutes late"),
    ("30_120m", "30 minutes to 2 hours late"),
    ("2h_plus", "more than 2 hours late"),
];

fn callback_band(late_seconds: i64) -> &'static str {
    CALLBACK_BANDS[match late_seconds / 60 {
        m if m <= 5 => 0,
        m if m <= 30 => 1,
        m if m <= 120 => 2,
        _ => 3,
    }]
    .0
}

/// Bands of a stated budget against the price of the property pitched.
pub const PRICE_BANDS: [(&str, &str); 4] = [
    ("far_below", "budget more than 25% below the price"),
    ("below", "budget up to 25% below the price"),
    ("meets", "budget meets the price"),
    ("above", "budget more than 25% above the price"),
];

/// The band of a budget (its upper end, or its only end) against a price range.
fn price_band(budget: u64, price_low: u64, price_high: u64) -> &'static str {
    let index = if budget.saturating_mul(4) < price_low.saturating_mul(3) {
        0
    } else if budget < price_low {
        1
    } else if budget.saturating_mul(4) <= price_high.saturating_mul(5) {
        2
    } else {
        3
    };
    PRICE_BANDS[index].0
}

/// A value as part of an attribute name: lower-case letters and digits, `_` between words.
pub fn name_part(value: &str) -> String {
    let mut part = String::new();
    for word in value
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !part.is_empty() {
            part.push('_');
        }
        part.push_str(&word.to_lowercase());
    }
    part.chars().take(48).collect()
}

/// A custom question's key: `custom_` and a hash of its words (FNV-1a, stable across builds).
pub fn question_key(question: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name_part(question).bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("custom_{:08x}", hash >> 32)
}

/// A quote kept as an example: whose call, where in it, the words.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Example {
    pub lead_id: LeadId,
    pub transcript_id: TranscriptId,
    pub seconds: f64,
    pub text: String,
}

/// Longest quote kept as an example.
const EXAMPLE_CHARS: usize = 300;

/// A call as it ended, for the aggregates.
pub struct EndedCall<'a> {
    /// The lead as it was during the call.
    pub lead: &'a Lead,
    pub status_after: LeadStatus,
    pub result: CallResult,
    pub persona: Option<PersonaId>,
    /// The campaign's A/B variant the lead is in.
    pub variant: Option<&'a str>,
    /// When the call was dialled.
    pub started_at: Timestamp,
    pub duration_seconds: Option<f64>,
    pub cost_cents: u64,
    pub score: Option<u8>,
}

/// An analysed call, for the aggregates.
pub struct AnalysedCall<'a> {
    pub analysis: &'a Analysis,
    pub qualified: bool,
    /// The property that fits the lead best among the campaign's, if any.
    pub pitched: Option<&'a Property>,
    pub lead_id: LeadId,
    pub transcript_id: TranscriptId,
}

/// What one call adds to its scopes' item of the day.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InsightDelta {
    counts: BTreeMap<String, i64>,
    /// Set only where absent (the day's first example).
    first: BTreeMap<String, String>,
    /// Set always (the day's last example, a question's words).
    last: BTreeMap<String, String>,
}

impl InsightDelta {
    fn add(&mut self, name: impl Into<String>, delta: i64) {
        *self.counts.entry(name.into()).or_default() += delta;
    }

    /// Adds `name` and, for a qualified call, its qualified twin.
    fn add_both(&mut self, prefix: &str, qualified_prefix: &str, value: &str, qualified: bool) {
        self.add(format!("{prefix}{value}"), 1);
        if qualified {
            self.add(format!("{qualified_prefix}{value}"), 1);
        }
    }

    /// Counts a call that ended: its result, the lead's local hour, its
    /// length, whether a promised callback was answered, its persona.
    pub fn ended(&mut self, call: &EndedCall<'_>) {
        use names::*;
        let connected = call.result == CallResult::Connected;
        let qualified = call.status_after == LeadStatus::Qualified;
        self.add(CALLS, 1);
        if connected {
            self.add(CONNECTED, 1);
        }
        if qualified {
            self.add(QUALIFIED, 1);
        }
        let hour = call
            .lead
            .timezone
            .zone()
            .to_datetime(call.started_at)
            .hour();
        self.add_both(
            LOCAL_HOUR_CALLS,
            LOCAL_HOUR_CONNECTED,
            &hour.to_string(),
            connected,
        );
        if connected {
            let band = length_band(call.duration_seconds.unwrap_or(0.0));
            self.add_both(LENGTH, LENGTH_QUALIFIED, band, qualified);
        }
        if call.lead.status == LeadStatus::CallbackRequested
            && let Some(promised) = call.lead.callback_scheduled_at
        {
            let late = call.started_at.as_second() - promised.as_second();
            self.add_both(CALLBACKS, CALLBACKS_KEPT, callback_band(late), connected);
        }
        if let Some(persona) = call.persona {
            let id = persona.to_string();
            self.add(format!("{PERSONA_CALLS}{id}"), 1);
            if connected {
                self.add(format!("{PERSONA_CONNECTED}{id}"), 1);
            }
            if qualified {
                self.add(format!("{PERSONA_QUALIFIED}{id}"), 1);
            }
            if let Some(score) = call.score {
                self.add(format!("{PERSONA_SCORE_SUM}{id}"), i64::from(score));
                self.add(format!("{PERSONA_SCORED}{id}"), 1);
            }
        }
        if let Some(key) = call.variant {
            self.add(format!("{VARIANT_CALLS}{key}"), 1);
            if connected {
                self.add(format!("{VARIANT_CONNECTED}{key}"), 1);
            }
            if qualified {
                self.add(format!("{VARIANT_QUALIFIED}{key}"), 1);
            }
            if let Some(score) = call.score {
                self.add(format!("{VARIANT_SCORE_SUM}{key}"), i64::from(score));
                self.add(format!("{VARIANT_SCORED}{key}"), 1);
            }
            self.add(
                format!("{VARIANT_COST_CENTS}{key}"),
                i64::try_from(call.cost_cents).unwrap_or(i64::MAX),
            );
        }
    }

    /// Counts what the call's words showed.
    pub fn analysed(&mut self, call: &AnalysedCall<'_>) {
        use names::*;
        let analysis = call.analysis;
        let qualified = call.qualified;
        self.add(ANALYSED, 1);
        if qualified {
            self.add(ANALYSED_QUALIFIED, 1);
        }
        // Each kind once per call; its first quote is the example.
        let mut raised = Vec::new();
        for objection in &analysis.objections {
            if raised.contains(&objection.kind) {
                continue;
            }
            raised.push(objection.kind);
            let kind = objection.kind.as_str();
            self.add_both(OBJECTION, OBJECTION_QUALIFIED, kind, qualified);
            let example = Example {
                lead_id: call.lead_id,
                transcript_id: call.transcript_id,
                seconds: objection.quote.seconds,
                text: objection.quote.text.chars().take(EXAMPLE_CHARS).collect(),
            };
            let json = serde_json::to_string(&example).unwrap_or_default();
            self.first
                .insert(format!("{EXAMPLE_FIRST}{kind}"), json.clone());
            self.last.insert(format!("{EXAMPLE_LAST}{kind}"), json);
        }
        for pattern in Pattern::ALL {
            if pattern.shown_by(analysis) {
                self.add_both(PATTERN, PATTERN_QUALIFIED, pattern.as_str(), qualified);
            }
        }
        let mentions = &analysis.mentions;
        let budget = mentions
            .budgets
            .first()
            .and_then(|b| b.range.max.or(b.range.min));
        let price = call.pitched.and_then(|p| {
            let low = p.price_min.or(p.price_max)?;
            Some((low, p.price_max.unwrap_or(low)))
        });
        if let (Some(budget), Some((low, high))) = (budget, price) {
            let band = price_band(budget.as_rupees(), low.as_rupees(), high.as_rupees());
            self.add_both(PRICE, PRICE_QUALIFIED, band, qualified);
            if raised.contains(&soraaya_analytics::ObjectionKind::Price) {
                self.add(format!("{PRICE_OBJECTED}{band}"), 1);
            }
        }
        if let Some(timeline) = mentions.timelines.iter().find_map(|t| t.timeline) {
            self.add_both(TIMELINE, TIMELINE_QUALIFIED, timeline.as_str(), qualified);
        }
        let mut seen = Vec::new();
        for feature in &mentions.features {
            let name = name_part(&feature.feature);
            if !name.is_empty() && !seen.contains(&name) {
                self.add_both(FEATURE, FEATURE_QUALIFIED, &name, qualified);
                seen.push(name);
            }
        }
        seen.clear();
        for place in &mentions.locations {
            let name = name_part(&place.location);
            if !name.is_empty() && !seen.contains(&name) {
                self.add_both(LOCATION, LOCATION_QUALIFIED, &name, qualified);
                seen.push(name);
            }
        }
        let overall = analysis.customer_sentiment.overall.score;
        if overall.is_finite() {
            self.add(
                SENTIMENT_MILLI,
                (overall.clamp(-1.0, 1.0) * 1000.0).round() as i64,
            );
            self.add(SENTIMENT_CALLS, 1);
        }
        for covered in &analysis.coverage.criteria {
            let key = match (&covered.question, covered.criterion) {
                (Some(question), Criterion::CustomQuestion) => {
                    let key = question_key(question);
                    self.last.insert(
                        format!("{QUESTION_TEXT}{key}"),
                        question.chars().take(EXAMPLE_CHARS).collect(),
                    );
                    key
                }
                (_, criterion) => criterion.as_str().to_owned(),
            };
            if covered.asked {
                self.add_both(ASKED, ASKED_QUALIFIED, &key, qualified);
                if covered.answered {
                    self.add(format!("{ANSWERED}{key}"), 1);
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.counts.values().all(|d| *d == 0) && self.first.is_empty() && self.last.is_empty()
    }

    /// One update per scope of `day`.
    pub fn into_ops(self, org: OrgId, scopes: &[InsightScope], day: Date) -> Vec<WriteOp> {
        if self.is_empty() {
            return Vec::new();
        }
        let mut update = Update::new();
        for (name, delta) in &self.counts {
            if *delta != 0 {
                update = update.add(name, *delta);
            }
        }
        for (name, value) in &self.first {
            update = update.set_if_absent(name, value.clone());
        }
        for (name, value) in &self.last {
            update = update.set(name, value.clone());
        }
        scopes
            .iter()
            .map(|scope| UpdateItem::new(&LEADS, scope.key(org, day), update.clone()).into())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_cut_where_they_say() {
        assert_eq!(length_band(59.0), "under_1m");
        assert_eq!(length_band(60.0), "1_3m");
        assert_eq!(length_band(600.0), "10m_plus");
        assert_eq!(callback_band(-120), "on_time");
        assert_eq!(callback_band(300), "on_time");
        assert_eq!(callback_band(301 + 60), "5_30m");
        assert_eq!(callback_band(3 * 3600), "2h_plus");
        // Price ₹10–12 Cr.
        let cr = 10_000_000;
        assert_eq!(price_band(7 * cr, 10 * cr, 12 * cr), "far_below");
        assert_eq!(price_band(8 * cr, 10 * cr, 12 * cr), "below");
        assert_eq!(price_band(15 * cr, 10 * cr, 12 * cr), "meets");
        assert_eq!(price_band(16 * cr, 10 * cr, 12 * cr), "above");
    }

    #[test]
    fn names_are_stable_and_plain() {
        assert_eq!(name_part("Sea-facing  Deck!"), "sea_facing_deck");
        assert_eq!(
            question_key("Do you need parking for three cars?"),
            question_key("do you need parking, for three cars")
        );
        assert!(question_key("x").starts_with("custom_"));
    }
}
