//! What a conversation established, from Soraaya's own analysis alone: the
//! answers a call's outcome is decided on when the voice provider gave no
//! structured data (its analysis plan failed, or the assistant was not
//! asked for one). The same fields the structured data would fill.

use jiff::civil::{DateTime, Time, Weekday};
use soraaya_domain::QualificationCriteria;
use soraaya_domain::outcome::Answers;

use crate::{ActionKind, Analysis, ObjectionKind, SentimentLabel, score};

/// Words of a customer asking never to be called again.
const NO_MORE_CALLS: &[&str] = &[
    "dont call",
    "do not call",
    "stop calling",
    "remove my number",
    "never call",
];

fn plain(text: &str) -> String {
    text.to_lowercase().replace(['\'', '’'], "")
}

/// The answers of a call, from its analysis; `now` is the lead's local time
/// (a callback said as `tomorrow 6 pm` becomes a time).
pub fn established(
    analysis: &Analysis,
    criteria: &QualificationCriteria,
    now: DateTime,
) -> Answers {
    let mentions = &analysis.mentions;
    let scoring = score::answers_from(mentions, criteria);
    let has_action = |kind| analysis.action_items.iter().any(|a| a.kind == kind);
    let raised = |kind| analysis.objections.iter().any(|o| o.kind == kind);
    let do_not_call = analysis.objections.iter().any(|o| {
        let said = plain(&o.quote.text);
        NO_MORE_CALLS.iter().any(|p| said.contains(p))
    });
    let callback = analysis
        .action_items
        .iter()
        .find(|a| a.kind == ActionKind::Callback);
    let declined = do_not_call
        || raised(ObjectionKind::AlreadyBought)
        || raised(ObjectionKind::JustBrowsing)
        || analysis
            .objections
            .iter()
            .any(|o| plain(&o.quote.text).contains("not interested"));
    let keen = has_action(ActionKind::SiteVisit)
        || has_action(ActionKind::SendBrochure)
        || (!mentions.budgets.is_empty()
            && analysis.customer_sentiment.overall.label == SentimentLabel::Positive);
    Answers {
        interested: if declined {
            Some(false)
        } else if keen {
            Some(true)
        } else {
            None
        },
        budget: soraaya_domain::BudgetRange {
            min: scoring.budget_min,
            max: scoring.budget_max,
        },
        timeline: scoring.timeline,
        property_type: scoring.property_type,
        location: scoring.location,
        bedrooms: mentions.bedrooms.last().map(|b| b.bedrooms),
        decision_maker: scoring.decision_maker,
        financing: scoring.financing,
        callback_requested: callback.is_some() && !declined,
        callback_time: callback
            .and_then(|c| c.due.as_deref())
            .and_then(|due| callback_at(due, now))
            .map(|at| at.strftime("%Y-%m-%d %H:%M").to_string()),
        do_not_call,
        needs_human: has_action(ActionKind::HandToHuman),
        objections: analysis
            .objections
            .iter()
            .map(|o| o.kind.label().to_owned())
            .collect(),
        sentiment: Some(
            match analysis.customer_sentiment.overall.label {
                SentimentLabel::Positive => "positive",
                SentimentLabel::Neutral => "neutral",
                SentimentLabel::Negative => "negative",
            }
            .to_owned(),
        ),
    }
}

fn weekday(name: &str) -> Option<Weekday> {
    Some(match name {
        "monday" => Weekday::Monday,
        "tuesday" => Weekday::Tuesday,
        "wednesday" => Weekday::Wednesday,
        "thursday" => Weekday::Thursday,
        "friday" => Weekday::Friday,
        "saturday" | "weekend" => Weekday::Saturday,
        "sunday" => Weekday::Sunday,
        _ => None?,
    })
}

/// A clock time said as `6 pm`, `6:30 pm` or `at 6` (1 to 7 without am/pm
/// is the evening: nobody asks for a callback at 6 in the morning).
fn clock(words: &[&str]) -> Option<Time> {
    for (i, word) in words.iter().enumerate() {
        let Some(first) = word.chars().next() else {
            continue;
        };
        if !first.is_ascii_digit() {
            continue;
        }
        let (h, m) = word.split_once([':', '.']).unwrap_or((word, "0"));
        let (Ok(mut hour), Ok(minute)) = (h.parse::<i8>(), m.parse::<i8>()) else {
            continue;
        };
        match words.get(i + 1).copied() {
            Some("pm") if hour < 12 => hour += 12,
            Some("am") if hour == 12 => hour = 0,
            Some("am" | "pm") => {}
            _ if i > 0 && words[i - 1] == "at" && (1..=7).contains(&hour) => hour += 12,
            _ if i > 0 && words[i - 1] == "at" => {}
            _ => continue,
        }
        if let Ok(time) = Time::new(hour, minute, 0, 0) {
            return Some(time);
        }
    }
    None
}

/// The local moment a callback was asked for (`tomorrow 6 pm`, `Saturday
/// morning`, `in 2 hours`), if the words name one still to come.
pub fn callback_at(due: &str, now: DateTime) -> Option<DateTime> {
    let lower = due.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    if let Some(i) = words.iter().position(|w| *w == "in")
        && let Some(n) = words.get(i + 1).and_then(|n| n.parse::<i64>().ok())
    {
        let span = match words.get(i + 2).copied() {
            Some("hour" | "hours" | "hrs") => jiff::Span::new().hours(n),
            Some("day" | "days") => jiff::Span::new().days(n),
            Some("week" | "weeks") => jiff::Span::new().weeks(n),
            _ => return None,
        };
        return now.checked_add(span).ok();
    }
    let mut date = now.date();
    if lower.contains("day after tomorrow") {
        date = date.tomorrow().ok()?.tomorrow().ok()?;
    } else if words.contains(&"tomorrow") {
        date = date.tomorrow().ok()?;
    } else if lower.contains("next week") {
        date = date.checked_add(jiff::Span::new().weeks(1)).ok()?;
    } else if let Some(day) = words.iter().find_map(|w| weekday(w)) {
        let mut next = date.tomorrow().ok()?;
        while next.weekday() != day {
            next = next.tomorrow().ok()?;
        }
        // "next Saturday" said on a Thursday is the coming one, as most mean it.
        date = next;
    }
    let time = clock(&words).or_else(|| {
        let part = |p: &str| words.contains(&p);
        Some(if part("morning") {
            Time::constant(10, 0, 0, 0)
        } else if part("afternoon") {
            Time::constant(15, 0, 0, 0)
        } else if part("evening") {
            Time::constant(18, 0, 0, 0)
        } else if part("tonight") {
            Time::constant(20, 0, 0, 0)
        } else if date > now.date() {
            Time::constant(11, 0, 0, 0)
        } else {
            None?
        })
    })?;
    let at = date.to_datetime(time);
    (at > now).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    /// Thursday 26 November 2026, 11:30.
    fn now() -> DateTime {
        date(2026, 11, 26).at(11, 30, 0, 0)
    }

    fn analysis(lines: &[(&str, &str)]) -> Analysis {
        let lines: Vec<soraaya_domain::TranscriptLine> = lines
            .iter()
            .enumerate()
            .map(|(i, (role, text))| soraaya_domain::TranscriptLine {
                role: (*role).to_owned(),
                text: (*text).to_owned(),
                seconds: i as f64 * 10.0,
            })
            .collect();
        crate::analyse(&lines, &QualificationCriteria::default())
    }

    #[test]
    fn a_conversation_without_structured_data_still_yields_its_answers() {
        let keen = analysis(&[
            ("assistant", "What budget do you have in mind?"),
            (
                "customer",
                "Around four to five crore, in Worli. We want to buy within three months.",
            ),
            ("assistant", "Do you decide the purchase?"),
            ("customer", "Yes, I decide. We will pay from our own funds."),
            ("assistant", "Shall I book a site visit on Saturday?"),
            ("customer", "Yes, Saturday morning is great, thank you!"),
        ]);
        let answers = established(&keen, &QualificationCriteria::default(), now());
        assert_eq!(answers.interested, Some(true), "{answers:?}");
        assert_eq!(answers.budget.max.map(|b| b.as_rupees()), Some(50_000_000));
        assert_eq!(
            answers.timeline,
            Some(soraaya_domain::PurchaseTimeline::ThreeMonths)
        );
        assert_eq!(answers.decision_maker, Some(true));
        assert!(answers.financing.is_some());
        assert!(!answers.do_not_call && !answers.callback_requested);

        let later = analysis(&[
            ("assistant", "Is this a good time?"),
            (
                "customer",
                "I am driving. Call me tomorrow at 6 pm, please.",
            ),
        ]);
        let answers = established(&later, &QualificationCriteria::default(), now());
        assert!(answers.callback_requested, "{answers:?}");
        assert_eq!(answers.callback_time.as_deref(), Some("2026-11-27 18:00"));

        let gone = analysis(&[
            ("assistant", "Hello, am I speaking with Rohan?"),
            (
                "customer",
                "Not interested. Please don't call me again, remove my number.",
            ),
        ]);
        let answers = established(&gone, &QualificationCriteria::default(), now());
        assert!(answers.do_not_call);
        assert_eq!(answers.interested, Some(false));
        assert!(!answers.callback_requested);
    }

    #[test]
    fn callbacks_said_in_words_become_times() {
        let at = |due: &str| callback_at(due, now()).map(|d| d.to_string());
        assert_eq!(at("tomorrow 6 pm").as_deref(), Some("2026-11-27T18:00:00"));
        assert_eq!(
            at("tomorrow 6:30 pm").as_deref(),
            Some("2026-11-27T18:30:00")
        );
        assert_eq!(at("today at 5").as_deref(), Some("2026-11-26T17:00:00"));
        assert_eq!(
            at("Saturday morning").as_deref(),
            Some("2026-11-28T10:00:00")
        );
        assert_eq!(at("next Saturday").as_deref(), Some("2026-11-28T11:00:00"));
        assert_eq!(at("Thursday").as_deref(), Some("2026-12-03T11:00:00"));
        assert_eq!(
            at("day after tomorrow evening").as_deref(),
            Some("2026-11-28T18:00:00")
        );
        assert_eq!(at("in 2 hours").as_deref(), Some("2026-11-26T13:30:00"));
        assert_eq!(at("tonight").as_deref(), Some("2026-11-26T20:00:00"));
        assert_eq!(at("today 9 am"), None, "already past");
        assert_eq!(at("today"), None, "no time to call at");
    }
}
