//! Insight items read back: one day of one scope, or many summed.

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
    /// Examples by objection kind, newest day first within each.
    examples: BTreeMap<String, Vec<(Date, Example)>>,
    questions: BTreeMap<String, String>,
}

impl InsightTally {
    /// Reads an item of `day`.
    pub fn from_item(item: &Item, day: Date) -> InsightTally {
        let mut tally = InsightTally::default();
        for (name, value) in item.iter() {
            match value {
                AttributeValue::N(n) => {
                    tally
                        .counts
                        .insert(name.clone(), n.parse::<i64>().unwrap_or(0));
                }
                AttributeValue::S(text) => {
                    if let Some(key) = name.strip_prefix(names::QUESTION_TEXT) {
                        tally.questions.insert(key.to_owned(), text.clone());
                    } else if let Some(kind) = name
                        .strip_prefix(names::EXAMPLE_LAST)
                        .or_else(|| name.strip_prefix(names::EXAMPLE_FIRST))
                        && let Ok(example) = serde_json::from_str::<Example>(text)
                    {
                        let list = tally.examples.entry(kind.to_owned()).or_default();
                        if !list
                            .iter()
                            .any(|(_, e)| e.transcript_id == example.transcript_id)
                        {
                            // The last of the day before its first.
                            if name.starts_with(names::EXAMPLE_LAST) {
                                list.insert(0, (day, example));
                            } else {
                                list.push((day, example));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        tally
    }

    /// Adds another tally (of another day) to this one.
    pub fn merge(&mut self, other: &InsightTally) {
        for (name, count) in &other.counts {
            *self.counts.entry(name.clone()).or_default() += count;
        }
        for (kind, list) in &other.examples {
            let mine = self.examples.entry(kind.clone()).or_default();
            for (day, example) in list {
                if !mine
                    .iter()
                    .any(|(_, e)| e.transcript_id == example.transcript_id)
                {
                    mine.push((*day, example.clone()));
                }
            }
            mine.sort_by_key(|e| std::cmp::Reverse(e.0));
        }
        for (key, text) in &other.questions {
            self.questions
                .entry(key.clone())
                .or_insert_with(|| text.clone());
        }
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

    /// A signed sum (the sentiment's).
    pub fn signed(&self, name: &str) -> i64 {
        self.counts.get(name).copied().unwrap_or(0)
    }

    /// The kept quotes of an objection kind, newest first.
    pub fn examples(&self, kind: &str) -> &[(Date, Example)] {
        self.examples.get(kind).map_or(&[], Vec::as_slice)
    }

    /// A custom question's words, by its key.
    pub fn question(&self, key: &str) -> Option<&str> {
        self.questions.get(key).map(String::as_str)
    }
}

/// The tallies of `days` of one scope, in order, in as few reads as the store allows.
pub async fn read_days(
    store: &dyn ItemStore,
    org: OrgId,
    scope: InsightScope,
    days: &[Date],
) -> Result<Vec<InsightTally>, StoreError> {
    let keys: Vec<Key> = days.iter().map(|day| scope.key(org, *day)).collect();
    let found: BTreeMap<String, Item> = store
        .get_many(&LEADS, keys.clone())
        .await?
        .into_iter()
        .filter_map(|item| Some((Key::of(&item).ok()?.sk, item)))
        .collect();
    Ok(keys
        .iter()
        .zip(days)
        .map(|(key, day)| {
            found
                .get(&key.sk)
                .map(|item| InsightTally::from_item(item, *day))
                .unwrap_or_default()
        })
        .collect())
}
