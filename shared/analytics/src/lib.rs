//! A deterministic analyser of one call's transcript: the sentiment of each
//! utterance and the customer's mood over the call, the objections raised,
//! what the customer said about the home they want, the follow-ups agreed,
//! which of the campaign's criteria were covered, and the qualification score
//! with the evidence behind each of its points. No clock, no randomness, no
//! network; any input, however odd, gives an analysis.

pub mod actions;
pub mod coverage;
pub mod established;
pub mod mentions;
pub mod objections;
pub mod score;
pub mod sentiment;
mod words;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use soraaya_domain::{QualificationCriteria, TranscriptLine};
use utoipa::ToSchema;

pub use actions::{ActionItem, ActionKind, ActionOwner};
pub use coverage::{Coverage, Criterion, CriterionCoverage};
pub use mentions::{KNOWN_LOCALITIES, Mentions};
pub use objections::{Objection, ObjectionKind};
pub use score::{QualificationBreakdown, ScoreFactor};
pub use sentiment::{CustomerSentiment, Sentiment, SentimentLabel, SentimentTrend};

/// Words from the call: which line, when, and what was said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Quote {
    /// The line's index in the transcript.
    pub line: usize,
    pub seconds: f64,
    pub text: String,
}

/// Who spoke a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    Agent,
    Customer,
}

/// The sentiment of one line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UtteranceSentiment {
    pub line: usize,
    pub seconds: f64,
    pub speaker: Speaker,
    pub sentiment: Sentiment,
}

/// Everything the analyser finds in one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Analysis {
    pub utterances: Vec<UtteranceSentiment>,
    pub customer_sentiment: CustomerSentiment,
    pub objections: Vec<Objection>,
    /// What the customer said (agent lines are not the lead's answers).
    pub mentions: Mentions,
    pub action_items: Vec<ActionItem>,
    pub coverage: Coverage,
    pub qualification: QualificationBreakdown,
}

/// A second that can be written as JSON: not finite is 0, negative is 0.
fn clean_seconds(seconds: f64) -> f64 {
    if seconds.is_finite() {
        seconds.max(0.0)
    } else {
        0.0
    }
}

/// Analyses one call's transcript against its campaign's criteria.
pub fn analyse(lines: &[TranscriptLine], criteria: &QualificationCriteria) -> Analysis {
    let tokens: Vec<Vec<String>> = lines.iter().map(|l| words::tokens(&l.text)).collect();
    let quotes: Vec<Quote> = lines
        .iter()
        .enumerate()
        .map(|(line, l)| Quote {
            line,
            seconds: clean_seconds(l.seconds),
            text: l.text.trim().to_owned(),
        })
        .collect();
    let speakers: Vec<Speaker> = lines
        .iter()
        .map(|l| {
            if l.role.trim().eq_ignore_ascii_case("customer")
                || l.role.trim().eq_ignore_ascii_case("user")
            {
                Speaker::Customer
            } else {
                Speaker::Agent
            }
        })
        .collect();

    let mut utterances = Vec::with_capacity(lines.len());
    let mut customer_scores = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let sentiment = sentiment::utterance_sentiment(&line.text);
        if speakers[i] == Speaker::Customer && !tokens[i].is_empty() {
            customer_scores.push(sentiment.score);
        }
        utterances.push(UtteranceSentiment {
            line: i,
            seconds: quotes[i].seconds,
            speaker: speakers[i],
            sentiment,
        });
    }

    let mut objections = Vec::new();
    let mut mentions = Mentions::default();
    let mut asked_decision_maker = false;
    for i in 0..lines.len() {
        let question = words::is_question(&lines[i].text, &tokens[i]);
        match speakers[i] {
            Speaker::Agent => {
                asked_decision_maker =
                    coverage::asks_about(Criterion::DecisionMaker, &tokens[i], question);
            }
            Speaker::Customer => {
                objections.extend(objections::objections_in(&tokens[i], &quotes[i]));
                mentions::collect(
                    &mut mentions,
                    &tokens[i],
                    &quotes[i],
                    &criteria.locations,
                    asked_decision_maker,
                );
                asked_decision_maker = false;
            }
        }
    }

    let said: Vec<actions::Said<'_>> = (0..lines.len())
        .map(|i| actions::Said {
            customer: speakers[i] == Speaker::Customer,
            tokens: &tokens[i],
            quote: &quotes[i],
        })
        .collect();
    let action_items = actions::action_items(&said);

    let coverage = coverage_of(&tokens, &quotes, &speakers, lines, &mentions, criteria);
    let answers = score::answers_from(&mentions, criteria);
    let qualification = score::breakdown(&mentions, &answers, criteria);

    Analysis {
        utterances,
        customer_sentiment: sentiment::customer_sentiment(&customer_scores),
        objections,
        mentions,
        action_items,
        coverage,
        qualification,
    }
}

fn coverage_of(
    tokens: &[Vec<String>],
    quotes: &[Quote],
    speakers: &[Speaker],
    lines: &[TranscriptLine],
    mentions: &Mentions,
    criteria: &QualificationCriteria,
) -> Coverage {
    let first_asking = |asks: &dyn Fn(usize) -> bool| {
        (0..lines.len()).find(|&i| speakers[i] == Speaker::Agent && asks(i))
    };
    let mut criteria_coverage = Vec::new();
    for criterion in Criterion::STANDARD {
        let asked = first_asking(&|i| {
            coverage::asks_about(
                criterion,
                &tokens[i],
                words::is_question(&lines[i].text, &tokens[i]),
            )
        });
        let answer = match criterion {
            Criterion::Budget => mentions.budgets.first().map(|m| &m.quote),
            Criterion::Timeline => mentions.timelines.first().map(|m| &m.quote),
            Criterion::PropertyType => mentions.property_types.first().map(|m| &m.quote),
            Criterion::Location => mentions.locations.first().map(|m| &m.quote),
            Criterion::DecisionMaker => mentions.decision_maker.first().map(|m| &m.quote),
            Criterion::Financing => mentions.financing.first().map(|m| &m.quote),
            Criterion::CustomQuestion => None,
        };
        criteria_coverage.push(CriterionCoverage {
            criterion,
            question: None,
            asked: asked.is_some(),
            answered: answer.is_some(),
            asked_in: asked.map(|i| quotes[i].clone()),
            answer: answer.cloned(),
        });
    }
    for question in &criteria.custom_questions {
        let significant = coverage::significant_words(question);
        let asked = first_asking(&|i| coverage::asks_custom(&tokens[i], &significant));
        // The answer is the customer's next line that says anything.
        let answer = asked.and_then(|at| {
            (at + 1..lines.len())
                .find(|&j| speakers[j] == Speaker::Customer && !tokens[j].is_empty())
        });
        criteria_coverage.push(CriterionCoverage {
            criterion: Criterion::CustomQuestion,
            question: Some(question.clone()),
            asked: asked.is_some(),
            answered: answer.is_some(),
            asked_in: asked.map(|i| quotes[i].clone()),
            answer: answer.map(|j| quotes[j].clone()),
        });
    }
    let count_words = |who: Speaker| -> usize {
        (0..lines.len())
            .filter(|&i| speakers[i] == who)
            .map(|i| lines[i].text.split_whitespace().count())
            .sum()
    };
    let customer_words = count_words(Speaker::Customer);
    let all_words = customer_words + count_words(Speaker::Agent);
    let turns = |who: Speaker| {
        u32::try_from(speakers.iter().filter(|s| **s == who).count()).unwrap_or(u32::MAX)
    };
    Coverage {
        criteria: criteria_coverage,
        talk_ratio: if all_words == 0 {
            0.0
        } else {
            customer_words as f64 / all_words as f64
        },
        customer_turns: turns(Speaker::Customer),
        agent_turns: turns(Speaker::Agent),
        duration_seconds: quotes.last().map_or(0.0, |q| q.seconds),
    }
}
