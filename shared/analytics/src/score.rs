//! The qualification score, explained: one factor per criterion, each worth
//! what `QualificationCriteria::score` gives for that answer alone (the
//! score adds its criteria up, so the factors sum to the score).

use serde::{Deserialize, Serialize};
use soraaya_domain::{QualificationAnswers, QualificationCriteria};
use utoipa::ToSchema;

use crate::coverage::Criterion;
use crate::mentions::Mentions;

/// One criterion's share of the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScoreFactor {
    pub criterion: Criterion,
    pub points: u8,
    pub max: u8,
    /// What the customer said, in short (`₹4 Cr - ₹5 Cr`), if anything.
    pub answer: Option<String>,
    /// The customer's words, or `not discussed`.
    pub evidence: String,
    /// When in the call, if discussed.
    pub seconds: Option<f64>,
}

/// The score, its factors, and whether it qualifies the lead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QualificationBreakdown {
    pub score: u8,
    pub qualify_at: u8,
    pub qualified: bool,
    pub factors: Vec<ScoreFactor>,
}

/// A factor before its evidence is written: criterion, most points, points,
/// the answer in short, the quote.
type Row<'a> = (Criterion, u8, u8, Option<String>, Option<&'a crate::Quote>);

pub const NOT_DISCUSSED: &str = "not discussed";

/// The answers a call gave, the last said of each kind winning (a customer
/// corrects themself); of the locations, the first the campaign sells.
pub fn answers_from(mentions: &Mentions, criteria: &QualificationCriteria) -> QualificationAnswers {
    let budget = mentions.budgets.last().map(|b| b.range);
    let location = mentions
        .locations
        .iter()
        .find(|l| criteria.lists_location(&l.location))
        .or(mentions.locations.last())
        .map(|l| l.location.clone());
    QualificationAnswers {
        budget_min: budget.and_then(|b| b.min),
        budget_max: budget.and_then(|b| b.max),
        timeline: mentions.timelines.iter().rev().find_map(|t| t.timeline),
        property_type: mentions.property_types.last().map(|p| p.property_type),
        location,
        decision_maker: mentions.decision_maker.last().map(|d| d.decision_maker),
        financing: mentions.financing.last().map(|f| f.financing),
    }
}

/// The breakdown of the score for these answers.
pub fn breakdown(
    mentions: &Mentions,
    answers: &QualificationAnswers,
    criteria: &QualificationCriteria,
) -> QualificationBreakdown {
    let only = |a: QualificationAnswers| criteria.score(&a);
    let none = QualificationAnswers::default;
    let evidence = |quote: Option<&crate::Quote>| match quote {
        Some(q) => (q.text.clone(), Some(q.seconds)),
        None => (NOT_DISCUSSED.to_owned(), None),
    };
    let budget_quote = mentions.budgets.last().map(|b| &b.quote);
    let timeline_quote = mentions
        .timelines
        .iter()
        .rev()
        .find(|t| t.timeline.is_some())
        .map(|t| &t.quote);
    let timeline_quote = timeline_quote.or(mentions.timelines.last().map(|t| &t.quote));
    let location_quote = mentions
        .locations
        .iter()
        .find(|l| answers.location.as_deref() == Some(l.location.as_str()))
        .map(|l| &l.quote);
    let rows: [Row<'_>; 6] = [
        (
            Criterion::Budget,
            QualificationCriteria::BUDGET_POINTS,
            only(QualificationAnswers {
                budget_min: answers.budget_min,
                budget_max: answers.budget_max,
                ..none()
            }),
            mentions.budgets.last().map(|b| b.range.describe()),
            budget_quote,
        ),
        (
            Criterion::Timeline,
            QualificationCriteria::TIMELINE_POINTS,
            only(QualificationAnswers {
                timeline: answers.timeline,
                ..none()
            }),
            answers.timeline.map(|t| t.as_str().to_owned()),
            timeline_quote,
        ),
        (
            Criterion::PropertyType,
            QualificationCriteria::PROPERTY_TYPE_POINTS,
            only(QualificationAnswers {
                property_type: answers.property_type,
                ..none()
            }),
            answers.property_type.map(|t| t.as_str().to_owned()),
            mentions.property_types.last().map(|p| &p.quote),
        ),
        (
            Criterion::Location,
            QualificationCriteria::LOCATION_POINTS,
            only(QualificationAnswers {
                location: answers.location.clone(),
                ..none()
            }),
            answers.location.clone(),
            location_quote,
        ),
        (
            Criterion::DecisionMaker,
            QualificationCriteria::DECISION_MAKER_POINTS,
            only(QualificationAnswers {
                decision_maker: answers.decision_maker,
                ..none()
            }),
            answers
                .decision_maker
                .map(|d| if d { "yes" } else { "no" }.to_owned()),
            mentions.decision_maker.last().map(|d| &d.quote),
        ),
        (
            Criterion::Financing,
            QualificationCriteria::FINANCING_POINTS,
            only(QualificationAnswers {
                financing: answers.financing,
                ..none()
            }),
            answers.financing.map(|f| f.as_str().to_owned()),
            mentions.financing.last().map(|f| &f.quote),
        ),
    ];
    let factors: Vec<ScoreFactor> = rows
        .into_iter()
        .map(|(criterion, max, points, answer, quote)| {
            let (evidence, seconds) = evidence(quote);
            ScoreFactor {
                criterion,
                points,
                max,
                answer,
                evidence,
                seconds,
            }
        })
        .collect();
    let score = criteria.score(answers);
    QualificationBreakdown {
        score,
        qualify_at: criteria.qualify_at,
        qualified: score >= criteria.qualify_at,
        factors,
    }
}
