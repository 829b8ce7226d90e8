//! Follow-ups agreed on the call: site visits, brochures, callbacks and
//! hand-overs to a person, with when they are due as said.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Quote;
use crate::words::{BREAK, find, find_affirmed, number_at};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    SiteVisit,
    SendBrochure,
    Callback,
    HandToHuman,
}

/// Who must act: the voice agent, the customer, or the sales team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionOwner {
    Agent,
    Customer,
    HumanTeam,
}

/// One follow-up. The analyser knows no clock: `due` is the time as said
/// ("tomorrow 6 pm", "Saturday"), `due_in_hours` what relative words give.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ActionItem {
    pub kind: ActionKind,
    pub owner: ActionOwner,
    pub due: Option<String>,
    pub due_in_hours: Option<u32>,
    pub quote: Quote,
}

const SITE_VISIT: &[&str] = &[
    "site visit",
    "visit the site",
    "visit the project",
    "visit the property",
    "come and see",
    "see the property",
    "see the flat",
    "see the apartment",
    "see the sample flat",
    "sample flat",
    "show flat",
    "schedule a visit",
    "book a visit",
    "visit on",
    "come for a visit",
    "site pe",
    "dekhne aana",
    "dekhna hai",
];
const BROCHURE: &[&str] = &[
    "brochure",
    "floor plan",
    "floor plans",
    "price list",
    "send me the details",
    "send the details",
    "send me details",
    "share the details",
    "share details",
    "on whatsapp",
    "whatsapp me",
    "email me",
    "mail me",
    "send me photos",
    "send me pictures",
];
const CALLBACK: &[&str] = &[
    "call me",
    "call back",
    "callback",
    "call later",
    "ring me",
    "busy right now",
    "baad mein call",
    "call karna",
    "call karo",
    "talk later",
    "speak later",
];
const HUMAN: &[&str] = &[
    "speak to a person",
    "talk to a person",
    "speak to a human",
    "talk to a human",
    "real person",
    "sales manager",
    "speak to someone",
    "talk to someone",
    "your manager",
    "your senior",
    "relationship manager",
    "connect me",
    "transfer me",
    "speak to an executive",
    "human agent",
];
const AFFIRM: &[&str] = &[
    "yes",
    "yeah",
    "sure",
    "ok",
    "okay",
    "haan",
    "ha",
    "ji",
    "bilkul",
    "zaroor",
    "theek",
    "thik",
    "definitely",
    "please",
    "sounds good",
    "works",
    "perfect",
    "done",
    "great",
];

const DAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "weekend",
];

/// The time said in a line: its words and, for relative words, hours from now.
pub(crate) fn due_in(tokens: &[String]) -> (Option<String>, Option<u32>) {
    let mut parts: Vec<String> = Vec::new();
    let mut hours: Option<u32> = None;
    let word = |k: usize| tokens.get(k).map(String::as_str);
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i].as_str();
        if find(&tokens[i..], "day after tomorrow").first() == Some(&(0, 3)) {
            parts.push("day after tomorrow".into());
            hours = hours.or(Some(48));
            i += 3;
            continue;
        }
        match token {
            "tomorrow" | "kal" => {
                parts.push("tomorrow".into());
                hours = hours.or(Some(24));
            }
            "parso" | "parson" => {
                parts.push("day after tomorrow".into());
                hours = hours.or(Some(48));
            }
            "today" | "tonight" | "aaj" => parts.push(token.to_owned()),
            "next" if word(i + 1) == Some("week") => {
                parts.push("next week".into());
                hours = hours.or(Some(168));
                i += 1;
            }
            "next" if word(i + 1).is_some_and(|w| DAYS.contains(&w)) => {}
            "this" if word(i + 1).is_some_and(|w| DAYS.contains(&w)) => {}
            day if DAYS.contains(&day) => {
                let prefix = match i.checked_sub(1).and_then(word) {
                    Some(p @ ("next" | "this")) => format!("{p} "),
                    _ => String::new(),
                };
                let name = if day == "weekend" {
                    day.to_owned()
                } else {
                    capitalise(day)
                };
                parts.push(format!("{prefix}{name}"));
            }
            "morning" | "afternoon" | "evening" => parts.push(token.to_owned()),
            "in" | "after" => {
                if let Some((n, next)) = number_at(tokens, i + 1) {
                    let whole = u32::try_from(n / 100).ok();
                    let per = match word(next) {
                        Some("hour" | "hours" | "hrs") => Some(1),
                        Some("day" | "days" | "din") => Some(24),
                        Some("week" | "weeks") => Some(168),
                        _ => None,
                    };
                    if let (Some(whole), Some(per), Some(unit)) = (whole, per, word(next)) {
                        parts.push(format!("in {} {unit}", n / 100));
                        hours = hours.or(whole.checked_mul(per));
                        i = next + 1;
                        continue;
                    }
                }
            }
            _ => {
                if let Some(time) = clock_time(tokens, i) {
                    parts.push(time.0);
                    i = time.1;
                    continue;
                }
            }
        }
        i += 1;
    }
    parts.dedup();
    let due = (!parts.is_empty()).then(|| parts.join(" "));
    (due, hours)
}

/// `6 pm`, `6:30 pm`, `at 6` (said with `at`).
fn clock_time(tokens: &[String], i: usize) -> Option<(String, usize)> {
    let token = tokens.get(i)?;
    let looks_like_time = token
        .chars()
        .all(|c| c.is_ascii_digit() || c == ':' || c == '.')
        && token.chars().next().is_some_and(|c| c.is_ascii_digit())
        && token.len() <= 5;
    if !looks_like_time {
        return None;
    }
    match tokens.get(i + 1).map(String::as_str) {
        Some(m @ ("pm" | "am")) => Some((format!("{token} {m}"), i + 2)),
        _ if i > 0 && tokens.get(i - 1).is_some_and(|t| t == "at") => {
            Some((format!("at {token}"), i + 1))
        }
        _ => None,
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn said(tokens: &[String], phrases: &[&str]) -> bool {
    phrases.iter().any(|p| find_affirmed(tokens, p).is_some())
}

fn affirms(tokens: &[String]) -> bool {
    tokens
        .iter()
        .take_while(|t| *t != BREAK)
        .take(4)
        .any(|t| AFFIRM.contains(&t.as_str()))
        || said(tokens, &["sounds good", "that works"])
}

/// One line of the call, as the action finder sees it.
pub(crate) struct Said<'a> {
    pub customer: bool,
    pub tokens: &'a [String],
    pub quote: &'a Quote,
}

/// The action items of a call: one per kind, from the first line that raises
/// it (the customer asking, or the agent offering and the customer agreeing
/// in their next line); the due time from either.
pub(crate) fn action_items(lines: &[Said<'_>]) -> Vec<ActionItem> {
    let kinds: [(ActionKind, ActionOwner, &[&str], bool); 4] = [
        (
            ActionKind::SiteVisit,
            ActionOwner::HumanTeam,
            SITE_VISIT,
            true,
        ),
        (ActionKind::SendBrochure, ActionOwner::Agent, BROCHURE, true),
        (ActionKind::Callback, ActionOwner::Agent, CALLBACK, false),
        (
            ActionKind::HandToHuman,
            ActionOwner::HumanTeam,
            HUMAN,
            false,
        ),
    ];
    let mut items = Vec::new();
    for (kind, owner, phrases, agent_may_offer) in kinds {
        for (i, line) in lines.iter().enumerate() {
            if !said(line.tokens, phrases) {
                continue;
            }
            let item = if line.customer {
                let (due, due_in_hours) = due_in(line.tokens);
                ActionItem {
                    kind,
                    owner,
                    due,
                    due_in_hours,
                    quote: line.quote.clone(),
                }
            } else if agent_may_offer {
                let Some(reply) = lines.iter().skip(i + 1).find(|l| l.customer) else {
                    continue;
                };
                if !affirms(reply.tokens) {
                    continue;
                }
                let (reply_due, reply_hours) = due_in(reply.tokens);
                let (offer_due, offer_hours) = due_in(line.tokens);
                ActionItem {
                    kind,
                    owner,
                    due: reply_due.or(offer_due),
                    due_in_hours: reply_hours.or(offer_hours),
                    quote: reply.quote.clone(),
                }
            } else {
                continue;
            };
            items.push(item);
            break;
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::tokens;

    #[test]
    fn due_times_as_said() {
        assert_eq!(
            due_in(&tokens("call me tomorrow at 6 pm")),
            (Some("tomorrow 6 pm".into()), Some(24))
        );
        assert_eq!(
            due_in(&tokens("Saturday works")),
            (Some("Saturday".into()), None)
        );
        assert_eq!(
            due_in(&tokens("next week please")),
            (Some("next week".into()), Some(168))
        );
        assert_eq!(
            due_in(&tokens("in two days")),
            (Some("in 2 days".into()), Some(48))
        );
        assert_eq!(
            due_in(&tokens("this Sunday evening")),
            (Some("this Sunday evening".into()), None)
        );
        assert_eq!(due_in(&tokens("I like it")), (None, None));
    }
}
