//! Which of the campaign's criteria the agent asked about and the customer
//! answered, and how the talk was shared.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Quote;
use crate::words::has_any;

/// One qualification criterion of a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    Budget,
    Timeline,
    PropertyType,
    Location,
    DecisionMaker,
    Financing,
    CustomQuestion,
}

impl Criterion {
    pub const STANDARD: [Criterion; 6] = [
        Criterion::Budget,
        Criterion::Timeline,
        Criterion::PropertyType,
        Criterion::Location,
        Criterion::DecisionMaker,
        Criterion::Financing,
    ];

    /// As written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Criterion::Budget => "budget",
            Criterion::Timeline => "timeline",
            Criterion::PropertyType => "property_type",
            Criterion::Location => "location",
            Criterion::DecisionMaker => "decision_maker",
            Criterion::Financing => "financing",
            Criterion::CustomQuestion => "custom_question",
        }
    }

    /// Words of an agent's question about this criterion.
    pub(crate) fn question_words(self) -> &'static [&'static str] {
        match self {
            Criterion::Budget => &[
                "budget",
                "price range",
                "how much",
                "spend",
                "investment",
                "afford",
                "range",
            ],
            Criterion::Timeline => &[
                "when",
                "timeline",
                "how soon",
                "planning to buy",
                "planning to move",
                "move in",
                "time frame",
                "timeframe",
                "kab",
            ],
            Criterion::PropertyType => &[
                "type of property",
                "kind of property",
                "type of home",
                "apartment",
                "villa",
                "penthouse",
                "what are you looking for",
                "configuration",
                "bhk",
            ],
            Criterion::Location => &[
                "location",
                "locality",
                "which area",
                "which part",
                "where",
                "area",
                "neighbourhood",
                "kahan",
            ],
            Criterion::DecisionMaker => &[
                "decision",
                "decide",
                "decides",
                "anyone else",
                "who else",
                "decision maker",
            ],
            Criterion::Financing => &[
                "loan",
                "financing",
                "finance",
                "funding",
                "fund",
                "payment",
                "self funded",
                "cash",
                "pre approved",
            ],
            Criterion::CustomQuestion => &[],
        }
    }
}

/// Whether one criterion came up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CriterionCoverage {
    pub criterion: Criterion,
    /// The campaign's words, for a custom question.
    pub question: Option<String>,
    pub asked: bool,
    pub answered: bool,
    /// The agent's question.
    pub asked_in: Option<Quote>,
    /// The customer's answer.
    pub answer: Option<Quote>,
}

/// How the call went, as talk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Coverage {
    pub criteria: Vec<CriterionCoverage>,
    /// Customer words over all words (0 when nothing was said).
    pub talk_ratio: f64,
    pub customer_turns: u32,
    pub agent_turns: u32,
    /// The last line's second.
    pub duration_seconds: f64,
}

const STOPWORDS: &[&str] = &[
    "what", "when", "where", "which", "whom", "whose", "with", "have", "does", "your", "yours",
    "that", "this", "there", "their", "they", "them", "would", "could", "should", "about", "from",
    "into", "will", "shall", "been", "being", "were", "also", "like", "want", "need", "much",
    "many", "more", "some", "other", "than", "then", "very", "just", "only", "ever",
];

/// The words of a custom question that carry its meaning.
pub(crate) fn significant_words(question: &str) -> Vec<String> {
    let mut words: Vec<String> = crate::words::tokens(question)
        .into_iter()
        .filter(|w| w.chars().count() >= 4 && !STOPWORDS.contains(&w.as_str()))
        .collect();
    words.dedup();
    words
}

/// Whether an agent's line asks a custom question: half its significant
/// words (at least one) said, each matched on its first five letters so
/// plurals and tenses still count.
pub(crate) fn asks_custom(tokens: &[String], significant: &[String]) -> bool {
    if significant.is_empty() {
        return false;
    }
    let stem = |w: &str| w.chars().take(5).collect::<String>();
    let hits = significant
        .iter()
        .filter(|w| tokens.iter().any(|t| stem(t) == stem(w)))
        .count();
    hits * 2 >= significant.len() && hits > 0
}

/// Whether an agent's line asks about a standard criterion.
pub(crate) fn asks_about(criterion: Criterion, tokens: &[String], question: bool) -> bool {
    question && has_any(tokens, criterion.question_words())
}
