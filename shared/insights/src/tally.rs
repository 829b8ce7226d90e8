//! Insight items read back: the days of a period of one scope, summed.

use std::collections::BTreeMap;

use jiff::civil::Date;
use soraaya_domain::OrgId;
use soraaya_store::{AttributeValue, Item, ItemStore, Key, StoreError};

use soraaya_core::tables::LEADS;

use crate::record::{Example, InsightScope, names};

/// The counts of one or more insight items. A count never written reads 0.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InsightTally {
    counts: BTreeMap<String, i64>,
    /// Examples by objection kind: day, whether the day's last, the quote;
    /// newest first.
    examples: BTreeMap<String, Vec<(Date, bool, Example)>>,
    questions: BTreeMap<String, String>,
}

impl InsightTally {
    /// Adds the counts and quotes of an item of `day`.
    pub fn add_item(&mut self, item: &Item, day: Date) {
        self.add_item_where(item, day, |_| true);
    }

    /// Adds the counts and quotes of an item of `day` whose names `keep` keeps.
    fn add_item_where(&mut self, item: &Item, day: Date, keep: impl Fn(&str) -> bool) {
        for (name, value) in item.iter() {
            if !keep(name) {
                continue;
            }
            match value {
                AttributeValue::N(n) => {
                    let n = n.parse::<i64>().unwrap_or(0);
                    match self.counts.get_mut(name.as_str()) {
                        Some(count) => *count += n,
                        None => {
                            self.counts.insert(name.clone(), n);
                        }
                    }
                }
                AttributeValue::S(text) => self.add_text(name, text, day),
                _ => {}
            }
        }
    }

    fn add_text(&mut self, name: &str, text: &str, day: Date) {
        if let Some(key) = name.strip_prefix(names::QUESTION_TEXT) {
            self.questions
                .entry(key.to_owned())
                .or_insert_with(|| text.to_owned());
            return;
        }
        let (kind, last) = match (
            name.strip_prefix(names::EXAMPLE_LAST),
            name.strip_prefix(names::EXAMPLE_FIRST),
        ) {
            (Some(kind), _) => (kind, true),
            (None, Some(kind)) => (kind, false),
            (None, None) => return,
        };
        let Ok(example) = serde_json::from_str::<Example>(text) else {
            return;
        };
        let list = self.examples.entry(kind.to_owned()).or_default();
        if list
            .iter()
            .any(|(_, _, e)| e.transcript_id == example.transcript_id)
        {
            return;
        }
        list.push((day, last, example));
        // Newest day first; within a day, its last quote before its first.
        list.sort_by_key(|(d, last, _)| (std::cmp::Reverse(*d), !*last));
    }

    /// A count (never below 0).
    pub fn get(&self, name: &str) -> u64 {
        self.counts
            .get(name)
            .copied()
            .unwrap_or(0)
            .max(0)
            .unsigned_abs()
    }

    /// The count of `prefix` + `value`.
    pub fn of(&self, prefix: &str, value: &str) -> u64 {
        self.get(&format!("{prefix}{value}"))
    }

    /// Every count whose name begins with `prefix`: the rest of its name, and the count.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, u64)> {
        self.counts
            .range(prefix.to_owned()..)
            .take_while(move |(name, _)| name.starts_with(prefix))
            .map(move |(name, count)| (&name[prefix.len()..], (*count).max(0).unsigned_abs()))
    }

    /// The kept quotes of an objection kind, newest first.
    pub fn examples(&self, kind: &str) -> impl Iterator<Item = &Example> {
        self.examples
            .get(kind)
            .into_iter()
            .flatten()
            .map(|(_, _, e)| e)
    }

    /// A custom question's words, by its key.
    pub fn question(&self, key: &str) -> Option<&str> {
        self.questions.get(key).map(String::as_str)
    }
}

/// One day's sentiment: the sum in thousandths, and the calls summed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DaySentiment {
    pub milli: i64,
    pub calls: u64,
}

/// A period of one scope read: the sum of its days before `split` (the
/// period before: its analysed calls and objections only), the sum of the
/// rest, and each of the rest's sentiment.
pub struct PeriodTally {
    pub previous: InsightTally,
    pub current: InsightTally,
    pub sentiment: Vec<(Date, DaySentiment)>,
}

/// Reads the items of `days` of one scope in as few reads as the store allows.
pub async fn read_period(
    store: &dyn ItemStore,
    org: OrgId,
    scope: InsightScope,
    days: &[Date],
    split: usize,
) -> Result<PeriodTally, StoreError> {
    let keys: Vec<Key> = days.iter().map(|day| scope.key(org, *day)).collect();
    let found: BTreeMap<String, Item> = store
        .get_many(&LEADS, keys.clone())
        .await?
        .into_iter()
        .filter_map(|item| Some((Key::of(&item).ok()?.sk, item)))
        .collect();
    let mut period = PeriodTally {
        previous: InsightTally::default(),
        current: InsightTally::default(),
        sentiment: Vec::with_capacity(days.len() - split.min(days.len())),
    };
    for (i, (key, day)) in keys.iter().zip(days).enumerate() {
        let item = found.get(&key.sk);
        if i < split {
            // The period before shows only in changes: of the analysed
            // calls and their objections.
            if let Some(item) = item {
                period.previous.add_item_where(item, *day, |name| {
                    name == names::ANALYSED || name.starts_with(names::OBJECTION)
                });
            }
            continue;
        }
        let mut sentiment = DaySentiment::default();
        if let Some(item) = item {
            period.current.add_item(item, *day);
            let number = |wanted: &str| {
                item.iter()
                    .find(|(name, _)| name.as_str() == wanted)
                    .and_then(|(_, value)| match value {
                        AttributeValue::N(n) => n.parse::<i64>().ok(),
                        _ => None,
                    })
                    .unwrap_or(0)
            };
            sentiment = DaySentiment {
                milli: number(names::SENTIMENT_MILLI),
                calls: number(names::SENTIMENT_CALLS).max(0).unsigned_abs(),
            };
        }
        period.sentiment.push((*day, sentiment));
    }
    Ok(period)
}
