//! Insights from calls: what the organisation's conversations show
//! (objections, what qualified calls have, price sensitivity, preferences),
//! how calling performs over time (hours, lengths, sentiment, personas,
//! questions, callbacks), and recommendations with their evidence.
//!
//! Every figure comes from per-day insight items kept on write
//! ([`record`]): one per organisation, campaign and persona and day, added to
//! in the transaction that ends a call or stores its transcript. A period of
//! `n` days reads `n` items, `2n` where changes against the period before are
//! shown, whatever the number of calls.

pub mod ab;
pub mod record;
mod stats;
pub mod tally;

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Serialize;
use soraaya_analytics::ObjectionKind;
use soraaya_domain::{AgentPersona, Campaign, CampaignId, OrgId, PersonaId, PurchaseTimeline};
use soraaya_store::StoreError;
use utoipa::ToSchema;

use soraaya_core::App;
use soraaya_core::records::Records;

use record::{CALLBACK_BANDS, Example, InsightScope, LENGTH_BANDS, PRICE_BANDS, Pattern, names};
pub use stats::{Recommendation, RecommendationKind, Recommendations};
use tally::{DaySentiment as DaySums, InsightTally, read_period};

#[derive(Debug, thiserror::Error)]
pub enum InsightsError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Account(#[from] soraaya_accounts::AccountError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Most days an insight query covers.
pub const MAX_DAYS: u16 = 90;

/// Whose calls, over which days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InsightsQuery {
    /// Days, today included: 1 to [`MAX_DAYS`].
    pub days: u16,
    pub campaign: Option<CampaignId>,
    pub persona: Option<PersonaId>,
}

/// The days an answer covers, in the organisation's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct InsightPeriod {
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    pub days: u16,
    pub time_zone: String,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub campaign_id: Option<CampaignId>,
    #[schema(value_type = Option<uuid::Uuid>)]
    pub persona_id: Option<PersonaId>,
}

/// A period read: its days, their sum, and the sum of the period before.
struct Read {
    period: InsightPeriod,
    days: Vec<(Date, DaySums)>,
    current: InsightTally,
    previous: InsightTally,
}

/// Whether a read also sums the period before (for changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Before {
    Read,
    Skip,
}

async fn read(
    app: &App,
    org: OrgId,
    query: InsightsQuery,
    before: Before,
) -> Result<Read, InsightsError> {
    let records = Records::new(app.store.as_ref());
    if let Some(id) = query.campaign
        && records
            .get::<Campaign>(org, &id.to_string())
            .await?
            .is_none()
    {
        return Err(InsightsError::NotFound("campaign"));
    }
    if let Some(id) = query.persona
        && records
            .get::<AgentPersona>(org, &id.to_string())
            .await?
            .is_none()
    {
        return Err(InsightsError::NotFound("agent persona"));
    }
    let scope = match (query.campaign, query.persona) {
        (Some(c), Some(p)) => InsightScope::CampaignPersona(c, p),
        (Some(c), None) => InsightScope::Campaign(c),
        (None, Some(p)) => InsightScope::Persona(p),
        (None, None) => InsightScope::Organisation,
    };
    let organisation = soraaya_accounts::org(app, org).await?;
    let today = organisation
        .time_zone
        .zone()
        .to_datetime(app.clock.now())
        .date();
    let days = query.days.clamp(1, MAX_DAYS);
    let span = match before {
        Before::Read => i64::from(days) * 2,
        Before::Skip => i64::from(days),
    };
    let first_previous = today
        .checked_sub(jiff::Span::new().days(span - 1))
        .unwrap_or(today);
    let dates: Vec<Date> = first_previous
        .series(jiff::Span::new().days(1))
        .take_while(|d| *d <= today)
        .collect();
    let split = dates.len().saturating_sub(usize::from(days));
    let tally::PeriodTally {
        previous,
        current,
        sentiment,
    } = read_period(app.store.as_ref(), org, scope, &dates, split).await?;
    Ok(Read {
        period: InsightPeriod {
            from: sentiment.first().map_or(today, |(d, _)| *d),
            to: today,
            days,
            time_zone: organisation.time_zone.to_string(),
            campaign_id: query.campaign,
            persona_id: query.persona,
        },
        days: sentiment,
        current,
        previous,
    })
}

/// `part` of `whole` in percent, one decimal; `None` of nothing.
pub(crate) fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// A name part as words: `sea_view` → `sea view`.
fn words_of(key: &str) -> String {
    key.replace('_', " ")
}

// ------------------------------------------------------------ conversation analysis

/// One objection kind over the period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ObjectionInsight {
    pub kind: ObjectionKind,
    pub label: String,
    /// Analysed calls that raised it.
    pub calls: u64,
    /// Percent of the analysed calls.
    pub share: Option<f64>,
    pub previous_calls: u64,
    pub previous_share: Option<f64>,
    /// Change of the share against the previous period, in percentage points.
    pub change: Option<f64>,
    /// Calls that raised it and still ended qualified.
    pub qualified_anyway: u64,
    /// Up to two quotes, newest first, each with its lead and transcript.
    pub examples: Vec<Example>,
}

/// What qualified calls have more (or less) often than the others.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PatternInsight {
    pub pattern: String,
    pub description: String,
    pub qualified_calls_with: u64,
    pub qualified_calls: u64,
    pub other_calls_with: u64,
    pub other_calls: u64,
    /// Percent of qualified calls showing it.
    pub share_of_qualified: Option<f64>,
    /// Percent of the other calls showing it.
    pub share_of_others: Option<f64>,
    /// The first share minus the second, in percentage points.
    pub difference: Option<f64>,
}

/// Calls whose stated budget falls in one band against the pitched price.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PriceBand {
    pub band: String,
    pub description: String,
    pub calls: u64,
    pub qualified: u64,
    pub qualification_rate: Option<f64>,
    /// Of them, calls with a price objection.
    pub price_objections: u64,
    pub price_objection_rate: Option<f64>,
}

/// The stated budget against the price of the property that fits the lead
/// best among the campaign's, and how the customers reacted.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PriceSensitivity {
    /// Analysed calls that raised the price.
    pub price_objections: u64,
    pub price_objection_share: Option<f64>,
    /// Calls with both a stated budget and a pitched price, by band.
    pub bands: Vec<PriceBand>,
}

/// How often something was wanted, and how those calls ended.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Preference {
    pub key: String,
    pub label: String,
    pub calls: u64,
    /// Percent of the analysed calls.
    pub share: Option<f64>,
    pub qualified: u64,
    pub qualification_rate: Option<f64>,
}

/// What the period's conversations show.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ConversationAnalysis {
    pub period: InsightPeriod,
    /// Calls whose words were analysed, and those after which the lead was qualified.
    pub calls_analysed: u64,
    pub qualified_calls: u64,
    pub previous_calls_analysed: u64,
    /// Most raised first.
    pub objections: Vec<ObjectionInsight>,
    /// Largest difference first.
    pub qualification_patterns: Vec<PatternInsight>,
    pub price_sensitivity: PriceSensitivity,
    /// Most said first, each purchase timeline.
    pub timelines: Vec<Preference>,
    pub features: Vec<Preference>,
    pub locations: Vec<Preference>,
}

fn preferences(
    tally: &InsightTally,
    prefix: &str,
    qualified_prefix: &str,
    label: impl Fn(&str) -> String,
) -> Vec<Preference> {
    let analysed = tally.get(names::ANALYSED);
    let mut list: Vec<Preference> = tally
        .with_prefix(prefix)
        .filter(|(_, calls)| *calls > 0)
        .map(|(key, calls)| {
            let qualified = tally.of(qualified_prefix, key);
            Preference {
                key: key.to_owned(),
                label: label(key),
                calls,
                share: percent(calls, analysed),
                qualified,
                qualification_rate: percent(qualified, calls),
            }
        })
        .collect();
    list.sort_by(|a, b| b.calls.cmp(&a.calls).then_with(|| a.key.cmp(&b.key)));
    list
}

/// Objections, what qualified calls have, price sensitivity, and what
/// customers said they want.
pub async fn conversation_analysis(
    app: &App,
    org: OrgId,
    query: InsightsQuery,
) -> Result<ConversationAnalysis, InsightsError> {
    Ok(analysis_of(&read(app, org, query, Before::Read).await?))
}

fn timeline_label(key: &str) -> String {
    match PurchaseTimeline::parse(key) {
        Ok(PurchaseTimeline::Immediate) => "immediately".into(),
        Ok(PurchaseTimeline::ThreeMonths) => "within 3 months".into(),
        Ok(PurchaseTimeline::SixMonths) => "within 6 months".into(),
        Ok(PurchaseTimeline::OneYear) => "within a year".into(),
        Err(_) => words_of(key),
    }
}

fn place_label(key: &str) -> String {
    words_of(key)
        .split(' ')
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn analysis_of(read: &Read) -> ConversationAnalysis {
    let (current, previous) = (&read.current, &read.previous);
    let analysed = current.get(names::ANALYSED);
    let qualified = current.get(names::ANALYSED_QUALIFIED);
    let previous_analysed = previous.get(names::ANALYSED);

    let mut objections: Vec<ObjectionInsight> = ObjectionKind::ALL
        .into_iter()
        .filter_map(|kind| {
            let key = kind.as_str();
            let calls = current.of(names::OBJECTION, key);
            let previous_calls = previous.of(names::OBJECTION, key);
            if calls == 0 && previous_calls == 0 {
                return None;
            }
            let share = percent(calls, analysed);
            let previous_share = percent(previous_calls, previous_analysed);
            Some(ObjectionInsight {
                kind,
                label: kind.label().to_owned(),
                calls,
                share,
                previous_calls,
                previous_share,
                change: share
                    .zip(previous_share)
                    .map(|(now, then)| ((now - then) * 10.0).round() / 10.0),
                qualified_anyway: current.of(names::OBJECTION_QUALIFIED, key),
                examples: current.examples(key).take(2).cloned().collect(),
            })
        })
        .collect();
    objections.sort_by(|a, b| {
        b.calls
            .cmp(&a.calls)
            .then(b.previous_calls.cmp(&a.previous_calls))
    });

    let others = analysed.saturating_sub(qualified);
    let mut qualification_patterns: Vec<PatternInsight> = Pattern::ALL
        .into_iter()
        .map(|pattern| {
            let with = current.of(names::PATTERN, pattern.as_str());
            let qualified_with = current.of(names::PATTERN_QUALIFIED, pattern.as_str());
            let other_with = with.saturating_sub(qualified_with);
            let share_of_qualified = percent(qualified_with, qualified);
            let share_of_others = percent(other_with, others);
            PatternInsight {
                pattern: pattern.as_str().to_owned(),
                description: pattern.describe().to_owned(),
                qualified_calls_with: qualified_with,
                qualified_calls: qualified,
                other_calls_with: other_with,
                other_calls: others,
                share_of_qualified,
                share_of_others,
                difference: share_of_qualified
                    .zip(share_of_others)
                    .map(|(q, o)| ((q - o) * 10.0).round() / 10.0),
            }
        })
        .collect();
    qualification_patterns.sort_by(|a, b| {
        b.difference
            .unwrap_or(f64::MIN)
            .total_cmp(&a.difference.unwrap_or(f64::MIN))
    });

    let price_objections = current.of(names::OBJECTION, ObjectionKind::Price.as_str());
    let bands = PRICE_BANDS
        .iter()
        .map(|(band, description)| {
            let calls = current.of(names::PRICE, band);
            let qualified = current.of(names::PRICE_QUALIFIED, band);
            let objected = current.of(names::PRICE_OBJECTED, band);
            PriceBand {
                band: (*band).to_owned(),
                description: (*description).to_owned(),
                calls,
                qualified,
                qualification_rate: percent(qualified, calls),
                price_objections: objected,
                price_objection_rate: percent(objected, calls),
            }
        })
        .collect();

    ConversationAnalysis {
        period: read.period.clone(),
        calls_analysed: analysed,
        qualified_calls: qualified,
        previous_calls_analysed: previous_analysed,
        objections,
        qualification_patterns,
        price_sensitivity: PriceSensitivity {
            price_objections,
            price_objection_share: percent(price_objections, analysed),
            bands,
        },
        timelines: preferences(
            current,
            names::TIMELINE,
            names::TIMELINE_QUALIFIED,
            timeline_label,
        ),
        features: preferences(current, names::FEATURE, names::FEATURE_QUALIFIED, words_of),
        locations: preferences(
            current,
            names::LOCATION,
            names::LOCATION_QUALIFIED,
            place_label,
        ),
    }
}

// ------------------------------------------------------------------------ trends

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HourRate {
    /// The lead's local hour when dialled, 0–23.
    pub hour: u8,
    pub calls: u64,
    pub connected: u64,
    pub connect_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LengthBand {
    pub band: String,
    pub description: String,
    /// Connected calls of this length.
    pub calls: u64,
    pub qualified: u64,
    pub qualification_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DaySentiment {
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    pub calls: u64,
    /// The customers' average overall sentiment, -1 to 1.
    pub average: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PersonaPerformance {
    #[schema(value_type = uuid::Uuid)]
    pub persona_id: PersonaId,
    /// `None` for a persona since deleted.
    pub name: Option<String>,
    pub calls: u64,
    pub connected: u64,
    pub connect_rate: Option<f64>,
    pub qualified: u64,
    /// Percent of the connected calls.
    pub qualification_rate: Option<f64>,
    pub average_score: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct QuestionEffectiveness {
    /// `budget`, `timeline`, `property_type`, `location`, `decision_maker`, `financing`, or `custom_…`.
    pub key: String,
    /// A custom question's words.
    pub question: Option<String>,
    /// Analysed calls in which the agent asked it.
    pub asked: u64,
    pub answered: u64,
    pub answer_rate: Option<f64>,
    /// Percent of the calls that asked it, and of the analysed calls that did not, that qualified.
    pub qualification_rate_when_asked: Option<f64>,
    pub qualification_rate_otherwise: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CallbackBand {
    pub band: String,
    pub description: String,
    /// Promised callbacks placed this late.
    pub callbacks: u64,
    /// Of them, answered.
    pub kept: u64,
    pub kept_rate: Option<f64>,
}

/// How calling performs over the period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct InsightTrends {
    pub period: InsightPeriod,
    pub calls: u64,
    pub connected: u64,
    /// 24 hours of the leads' own clocks.
    pub connect_rate_by_local_hour: Vec<HourRate>,
    pub call_length: Vec<LengthBand>,
    /// One entry per day, oldest first.
    pub sentiment_by_day: Vec<DaySentiment>,
    /// Most calls first.
    pub personas: Vec<PersonaPerformance>,
    pub questions: Vec<QuestionEffectiveness>,
    pub callbacks: Vec<CallbackBand>,
}

fn average_sentiment(day: &DaySums) -> Option<f64> {
    (day.calls > 0).then(|| {
        let average = day.milli as f64 / 1000.0 / day.calls as f64;
        (average * 1000.0).round() / 1000.0
    })
}

/// Connect rate by the lead's hour, call length against outcome, sentiment
/// by day, personas, questions and callbacks.
pub async fn trends(
    app: &App,
    org: OrgId,
    query: InsightsQuery,
) -> Result<InsightTrends, InsightsError> {
    let read = read(app, org, query, Before::Skip).await?;
    Ok(trends_of(&read, &persona_names(app, org).await?))
}

async fn persona_names(app: &App, org: OrgId) -> Result<BTreeMap<PersonaId, String>, StoreError> {
    Ok(Records::new(app.store.as_ref())
        .list::<AgentPersona>(org)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect())
}

fn trends_of(read: &Read, personas: &BTreeMap<PersonaId, String>) -> InsightTrends {
    let (days, current) = (&read.days, &read.current);
    InsightTrends {
        calls: current.get(names::CALLS),
        connected: current.get(names::CONNECTED),
        connect_rate_by_local_hour: (0..24u8)
            .map(|hour| {
                let key = hour.to_string();
                let calls = current.of(names::LOCAL_HOUR_CALLS, &key);
                let connected = current.of(names::LOCAL_HOUR_CONNECTED, &key);
                HourRate {
                    hour,
                    calls,
                    connected,
                    connect_rate: percent(connected, calls),
                }
            })
            .collect(),
        call_length: LENGTH_BANDS
            .iter()
            .map(|(band, description)| {
                let calls = current.of(names::LENGTH, band);
                let qualified = current.of(names::LENGTH_QUALIFIED, band);
                LengthBand {
                    band: (*band).to_owned(),
                    description: (*description).to_owned(),
                    calls,
                    qualified,
                    qualification_rate: percent(qualified, calls),
                }
            })
            .collect(),
        sentiment_by_day: days
            .iter()
            .map(|(date, day)| DaySentiment {
                date: *date,
                calls: day.calls,
                average: average_sentiment(day),
            })
            .collect(),
        personas: persona_performance(current, personas),
        questions: questions(current),
        callbacks: CALLBACK_BANDS
            .iter()
            .map(|(band, description)| {
                let callbacks = current.of(names::CALLBACKS, band);
                let kept = current.of(names::CALLBACKS_KEPT, band);
                CallbackBand {
                    band: (*band).to_owned(),
                    description: (*description).to_owned(),
                    callbacks,
                    kept,
                    kept_rate: percent(kept, callbacks),
                }
            })
            .collect(),
        period: read.period.clone(),
    }
}

fn persona_performance(
    tally: &InsightTally,
    names_by_id: &BTreeMap<PersonaId, String>,
) -> Vec<PersonaPerformance> {
    let mut list: Vec<PersonaPerformance> = tally
        .with_prefix(names::PERSONA_CALLS)
        .filter_map(|(id, calls)| {
            let persona_id = PersonaId::parse(id).ok()?;
            let connected = tally.of(names::PERSONA_CONNECTED, id);
            let qualified = tally.of(names::PERSONA_QUALIFIED, id);
            let scored = tally.of(names::PERSONA_SCORED, id);
            let score_sum = tally.of(names::PERSONA_SCORE_SUM, id);
            Some(PersonaPerformance {
                persona_id,
                name: names_by_id.get(&persona_id).cloned(),
                calls,
                connected,
                connect_rate: percent(connected, calls),
                qualified,
                qualification_rate: percent(qualified, connected),
                average_score: (scored > 0)
                    .then(|| (score_sum as f64 * 10.0 / scored as f64).round() / 10.0),
            })
        })
        .filter(|p| p.calls > 0)
        .collect();
    list.sort_by_key(|p| std::cmp::Reverse(p.calls));
    list
}

fn questions(tally: &InsightTally) -> Vec<QuestionEffectiveness> {
    let analysed = tally.get(names::ANALYSED);
    let qualified = tally.get(names::ANALYSED_QUALIFIED);
    let mut keys: Vec<String> = soraaya_analytics::Criterion::STANDARD
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    keys.extend(
        tally
            .with_prefix(names::ASKED)
            .map(|(k, _)| k.to_owned())
            .filter(|k| k.starts_with("custom_")),
    );
    keys.into_iter()
        .map(|key| {
            let asked = tally.of(names::ASKED, &key);
            let answered = tally.of(names::ANSWERED, &key);
            let asked_qualified = tally.of(names::ASKED_QUALIFIED, &key);
            QuestionEffectiveness {
                question: tally.question(&key).map(str::to_owned),
                asked,
                answered,
                answer_rate: percent(answered, asked),
                qualification_rate_when_asked: percent(asked_qualified, asked),
                qualification_rate_otherwise: percent(
                    qualified.saturating_sub(asked_qualified),
                    analysed.saturating_sub(asked),
                ),
                key,
            }
        })
        .collect()
}

/// Recommendations for the period, each with its evidence.
pub async fn recommendations(
    app: &App,
    org: OrgId,
    query: InsightsQuery,
) -> Result<Recommendations, InsightsError> {
    let read = read(app, org, query, Before::Read).await?;
    let trends = trends_of(&read, &persona_names(app, org).await?);
    Ok(stats::recommend(analysis_of(&read), trends))
}
