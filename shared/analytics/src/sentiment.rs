//! Sentiment of each utterance, from VADER (the `vader_sentiment` crate, MIT,
//! with VADER's own lexicon) extended with Indian English and Hinglish words,
//! and the customer's mood over the call.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use unicase::UniCase;
use utoipa::ToSchema;
use vader_sentiment::SentimentIntensityAnalyzer;

/// Words VADER's lexicon lacks, on its scale (-4 to 4). Multi-word phrases
/// are written with `_`: the text is rewritten to match before scoring.
const EXTRA_WORDS: &[(&str, f64)] = &[
    ("accha", 1.9),
    ("achha", 1.9),
    ("acha", 1.9),
    ("achchha", 1.9),
    ("badhiya", 2.5),
    ("badiya", 2.5),
    ("mast", 2.0),
    ("zabardast", 3.0),
    ("shandaar", 2.8),
    ("sundar", 2.2),
    ("khoobsurat", 2.5),
    ("pasand", 1.9),
    ("theek_hai", 0.9),
    ("thik_hai", 0.9),
    ("theek", 0.8),
    ("bilkul", 1.4),
    ("zaroor", 1.6),
    ("zarur", 1.6),
    ("jaroor", 1.6),
    ("shukriya", 1.5),
    ("dhanyavaad", 1.5),
    ("bekaar", -2.2),
    ("bekar", -2.2),
    ("bakwas", -2.5),
    ("bakwaas", -2.5),
    ("ghatiya", -2.8),
    ("mehenga", -1.6),
    ("mehnga", -1.6),
    ("mahanga", -1.6),
    ("mehanga", -1.6),
    ("mehengi", -1.6),
    ("mahangi", -1.6),
    ("pareshan", -1.8),
    ("pareshani", -1.8),
    ("dhokha", -2.8),
    ("nahi_chahiye", -1.6),
    ("accha_nahi", -1.9),
    ("achha_nahi", -1.9),
    ("pasand_nahi", -1.9),
    ("expensive", -1.3),
    ("overpriced", -2.0),
    ("pricey", -1.0),
    ("unaffordable", -1.8),
    ("cramped", -1.5),
    ("delayed", -1.2),
    ("value_for_money", 2.0),
];

/// Hinglish phrases joined into one lexicon entry, and words rewritten into
/// what VADER's rules already know (`bahut` boosts like `very`).
const PHRASES: &[(&str, &str)] = &[
    ("theek hai", "theek_hai"),
    ("thik hai", "thik_hai"),
    ("nahi chahiye", "nahi_chahiye"),
    ("nahin chahiye", "nahi_chahiye"),
    ("accha nahi", "accha_nahi"),
    ("achha nahi", "achha_nahi"),
    ("acha nahi", "accha_nahi"),
    ("pasand nahi", "pasand_nahi"),
    ("value for money", "value_for_money"),
];

const BOOSTERS: &[(&str, &str)] = &[
    ("bahut", "very"),
    ("bohot", "very"),
    ("bahot", "very"),
    ("bohut", "very"),
    ("ekdum", "very"),
    ("nahi", "not"),
    ("nahin", "not"),
];

static LEXICON: LazyLock<HashMap<UniCase<&'static str>, f64>> = LazyLock::new(|| {
    let mut lexicon = vader_sentiment::LEXICON.clone();
    for &(word, valence) in EXTRA_WORDS {
        lexicon.entry(UniCase::new(word)).or_insert(valence);
    }
    lexicon
});

/// Positive, neutral or negative, by VADER's usual thresholds (±0.05).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SentimentLabel {
    Positive,
    Neutral,
    Negative,
}

/// How a piece of talk feels: `score` from -1 (negative) to 1 (positive).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Sentiment {
    pub score: f64,
    pub label: SentimentLabel,
}

impl Sentiment {
    pub fn from_score(score: f64) -> Sentiment {
        let score = if score.is_finite() {
            score.clamp(-1.0, 1.0)
        } else {
            0.0
        };
        let label = if score >= 0.05 {
            SentimentLabel::Positive
        } else if score <= -0.05 {
            SentimentLabel::Negative
        } else {
            SentimentLabel::Neutral
        };
        Sentiment { score, label }
    }
}

/// Whether the customer warmed up or cooled down over the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SentimentTrend {
    Improving,
    Steady,
    Worsening,
}

/// The customer's side: overall, over the first and the last third of their
/// lines, and which way it went.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CustomerSentiment {
    pub overall: Sentiment,
    pub start: Sentiment,
    pub end: Sentiment,
    pub trend: SentimentTrend,
}

/// A change smaller than this between start and end is steady.
const TREND_MARGIN: f64 = 0.15;

/// Rewrites Hinglish so VADER's tokens meet the extended lexicon.
fn prepare(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let bare = |w: &str| {
        w.trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase()
    };
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        if let (Some(a), Some(b)) = (words.get(i), words.get(i + 1)) {
            let pair = format!("{} {}", bare(a), bare(b));
            if let Some((_, joined)) = PHRASES.iter().find(|(p, _)| *p == pair) {
                // Keep the second word's trailing punctuation (`!` matters to VADER).
                let tail: String = b
                    .chars()
                    .rev()
                    .take_while(|c| !c.is_alphanumeric())
                    .collect();
                out.push(format!(
                    "{joined}{}",
                    tail.chars().rev().collect::<String>()
                ));
                i += 2;
                continue;
            }
        }
        if let (Some(a), Some(b), Some(c)) = (words.get(i), words.get(i + 1), words.get(i + 2)) {
            let triple = format!("{} {} {}", bare(a), bare(b), bare(c));
            if let Some((_, joined)) = PHRASES.iter().find(|(p, _)| *p == triple) {
                out.push((*joined).to_owned());
                i += 3;
                continue;
            }
        }
        let word = words.get(i).copied().unwrap_or_default();
        match BOOSTERS.iter().find(|(b, _)| *b == bare(word)) {
            Some((_, english)) => out.push((*english).to_owned()),
            None => out.push(word.to_owned()),
        }
        i += 1;
    }
    out.join(" ")
}

/// The sentiment of one utterance.
pub fn utterance_sentiment(text: &str) -> Sentiment {
    let analyzer = SentimentIntensityAnalyzer::from_lexicon(&LEXICON);
    let prepared = prepare(text);
    let scores = analyzer.polarity_scores(&prepared);
    Sentiment::from_score(scores.get("compound").copied().unwrap_or(0.0))
}

fn mean(scores: &[f64]) -> f64 {
    if scores.is_empty() {
        return 0.0;
    }
    scores.iter().sum::<f64>() / scores.len() as f64
}

/// The customer's mood from the scores of their lines, in order.
pub fn customer_sentiment(scores: &[f64]) -> CustomerSentiment {
    let third = scores.len().div_ceil(3);
    let start = mean(scores.get(..third).unwrap_or_default());
    let end = mean(scores.get(scores.len() - third..).unwrap_or_default());
    let trend = if end - start > TREND_MARGIN {
        SentimentTrend::Improving
    } else if start - end > TREND_MARGIN {
        SentimentTrend::Worsening
    } else {
        SentimentTrend::Steady
    };
    CustomerSentiment {
        overall: Sentiment::from_score(mean(scores)),
        start: Sentiment::from_score(start),
        end: Sentiment::from_score(end),
        trend,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(text: &str) -> SentimentLabel {
        utterance_sentiment(text).label
    }

    #[test]
    fn single_utterances_have_the_right_sign() {
        assert_eq!(
            label("This looks wonderful, I love the sea view"),
            SentimentLabel::Positive
        );
        assert_eq!(
            label("This is terrible and a waste of time"),
            SentimentLabel::Negative
        );
        assert_eq!(label("I am calling from Worli"), SentimentLabel::Neutral);
        assert_eq!(label("Accha"), SentimentLabel::Positive);
        assert_eq!(label("Theek hai"), SentimentLabel::Positive);
        assert_eq!(label("Zaroor, bilkul"), SentimentLabel::Positive);
        assert_eq!(label("Bahut mehenga hai"), SentimentLabel::Negative);
        assert_eq!(label("Bakwas project, bekaar"), SentimentLabel::Negative);
        assert_eq!(label("Nahi chahiye"), SentimentLabel::Negative);
        assert_eq!(label("It is too expensive"), SentimentLabel::Negative);
        assert_eq!(label(""), SentimentLabel::Neutral);
    }

    #[test]
    fn bahut_strengthens_accha() {
        let plain = utterance_sentiment("accha").score;
        let strong = utterance_sentiment("bahut accha").score;
        assert!(strong > plain, "{strong} > {plain}");
        assert!(utterance_sentiment("accha nahi hai").score < 0.0);
    }

    #[test]
    fn trajectory_follows_the_customer() {
        let worse = customer_sentiment(&[0.6, 0.5, 0.0, -0.2, -0.6, -0.7]);
        assert_eq!(worse.trend, SentimentTrend::Worsening);
        assert_eq!(worse.end.label, SentimentLabel::Negative);
        let better = customer_sentiment(&[-0.5, 0.1, 0.7]);
        assert_eq!(better.trend, SentimentTrend::Improving);
        let none = customer_sentiment(&[]);
        assert_eq!(none.trend, SentimentTrend::Steady);
        assert_eq!(none.overall.score, 0.0);
    }
}
