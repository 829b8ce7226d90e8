//! Search words: what a search finds a lead by, kept as one small item per
//! word of a lead in a partition sorted by word, so that a search reads the
//! leads whose words begin with what was typed instead of every lead.
//!
//! A new lead has some ten words and a transaction holds at most 100
//! operations, so word items are written around a change's transaction,
//! in an order that never leaves a committed state of a lead without one:
//!
//! 1. the words a change adds are written first, each item keyed by the
//!    word, the lead and a token of this write, and marked with the
//!    lead's new version;
//! 2. if the transaction then fails, the write deletes its own items;
//! 3. if it commits, the items of the words the change removed are deleted,
//!    those marked with this version or an earlier one only: a later writer
//!    that put the word back keeps its item.
//!
//! A reader may therefore meet items of a state that never committed, or
//! that is gone (after a crash between the steps), but never misses one; it
//! checks the leads it shows against their current words.

use std::collections::BTreeSet;

use soraaya_domain::{Lead, LeadId, OrgId};
use soraaya_store::{AttributeValue, BatchOp, Cursor, Item, ItemStore, Key, Query, StoreError};

use crate::record::{lead_key, listing_sort_key};
use crate::repo::LeadChange;
use soraaya_core::tables::LEADS;

/// Longest word kept; longer ones are cut (a search word is a prefix).
const MAX_WORD_CHARS: usize = 40;

/// Items read per store call while collecting a word's leads: a search of
/// several words starts small (the narrowest word often ends within its
/// first page) and doubles each round.
const WORD_PAGE: u32 = 4_000;
const FIRST_WORD_PAGE: u32 = 250;

/// The words of a text: runs of letters and digits, lower-cased, cut to
/// [`MAX_WORD_CHARS`].
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(cut)
}

fn cut(word: &str) -> String {
    word.to_lowercase().chars().take(MAX_WORD_CHARS).collect()
}

/// What search finds a lead by, each word once: the words of its name,
/// property and location, its email whole, and its number's international
/// and national digits.
pub fn search_words(lead: &Lead) -> BTreeSet<String> {
    let mut found: BTreeSet<String> = words(lead.contact_person.as_str()).collect();
    found.extend(lead.property_name.iter().flat_map(|p| words(p)));
    found.extend(lead.location.iter().flat_map(|l| words(l)));
    found.extend(lead.email.as_ref().map(|e| cut(e.as_str())));
    found.insert(
        lead.phone_number
            .as_str()
            .chars()
            .filter(char::is_ascii_digit)
            .collect(),
    );
    found.insert(lead.phone_number.national_digits());
    found.retain(|w| !w.is_empty());
    found
}

/// The words of a search, each of which must begin a word of a lead: a
/// number as its digits (`+91 98200-12345` is one word), an email whole,
/// other text split as [`words`] splits. Longest first (they narrow most).
pub fn query_words(search: &str) -> Vec<String> {
    let search = search.trim();
    let digits: String = search.chars().filter(char::is_ascii_digit).collect();
    let phone_like = digits.len() >= 4
        && search
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')' | '.'));
    let mut found: Vec<String> = if phone_like {
        vec![digits]
    } else {
        search
            .split_whitespace()
            .flat_map(|chunk| -> Vec<String> {
                if chunk.contains('@') {
                    vec![cut(chunk)]
                } else {
                    words(chunk).collect()
                }
            })
            .collect()
    };
    found.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    found.dedup();
    found
}

/// Whether every word of a search begins one of a lead's words.
pub fn matches(lead_words: &BTreeSet<String>, query: &[String]) -> bool {
    query.iter().all(|q| {
        lead_words
            .range::<str, _>((
                std::ops::Bound::Included(q.as_str()),
                std::ops::Bound::Unbounded,
            ))
            .next()
            .is_some_and(|w| w.starts_with(q.as_str()))
    })
}

/// The partition of the words beginning with `word`'s first letter.
fn partition(org: OrgId, word: &str) -> String {
    let first = word.chars().next().unwrap_or('_');
    format!("ORG#{org}#WORDS#{first}")
}

/// Where a lead's items for one word begin: `{word}#{created}#{lead}#`.
fn lead_word_prefix(word: &str, lead: &Lead) -> String {
    format!("{word}#{}#", listing_sort_key(lead))
}

/// A lead found by one of its words: the lead, and its listing sort key
/// (`{created}#{lead}`), by which results are ordered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The word item's sort key, `{word}#{created}#{lead}#{token}`, and
    /// where in it the listing sort key lies (the lead id is read only for
    /// the leads a listing reads).
    sk: String,
    listed: std::ops::Range<usize>,
}

/// Length of a lead id in a key (a hyphenated UUID).
const ID_LEN: usize = 36;

impl Found {
    /// Reads a word item's sort key.
    fn of(sk: String) -> Option<Found> {
        let (rest, _token) = sk.rsplit_once('#')?;
        let (before_lead, lead) = rest.rsplit_once('#')?;
        let (word, _created) = before_lead.rsplit_once('#')?;
        if lead.len() != ID_LEN {
            return None;
        }
        let listed = word.len() + 1..rest.len();
        Some(Found { sk, listed })
    }

    /// The lead's listing sort key, `{created}#{lead}`.
    pub fn listed(&self) -> &str {
        &self.sk[self.listed.clone()]
    }

    pub fn lead(&self) -> Option<LeadId> {
        let listed = self.listed();
        LeadId::parse(&listed[listed.len() - ID_LEN..]).ok()
    }

    /// The lead's item key (`None` for a key no lead can have).
    pub fn key(&self, org: OrgId) -> Option<Key> {
        self.lead().map(|lead| lead_key(org, lead))
    }
}

/// The word items one [`crate::repo::LeadsRepo::write`] adds and removes.
pub(crate) struct WordWrites {
    /// Items to write before the transaction (and to delete if it fails).
    added: Vec<Item>,
    /// Words whose items go after the transaction: where they begin, and
    /// the newest version whose items may go (`None`: every one, the lead
    /// is gone).
    removed: Vec<(String, String, Option<u64>)>,
}

impl WordWrites {
    pub(crate) fn plan(org: OrgId, changes: &[LeadChange]) -> WordWrites {
        let token = uuid::Uuid::now_v7().simple().to_string();
        let mut writes = WordWrites {
            added: Vec::new(),
            removed: Vec::new(),
        };
        for change in changes {
            // Keyed by word and listing key, so that a changed creation time
            // moves every word.
            let keyed = |lead: Option<&Lead>| -> BTreeSet<(String, String)> {
                lead.map(|l| {
                    search_words(l)
                        .into_iter()
                        .map(|w| {
                            let prefix = lead_word_prefix(&w, l);
                            (w, prefix)
                        })
                        .collect()
                })
                .unwrap_or_default()
            };
            let before = keyed(change.before.as_ref());
            let after = keyed(change.after.as_ref());
            if let Some(lead) = &change.after {
                for (word, prefix) in after.difference(&before) {
                    let mut item = Item::default();
                    item.insert("pk".into(), AttributeValue::S(partition(org, word)));
                    item.insert("sk".into(), AttributeValue::S(format!("{prefix}{token}")));
                    item.insert(
                        "version".into(),
                        AttributeValue::N(lead.version.to_string()),
                    );
                    writes.added.push(item);
                }
            }
            let newest = change.after.as_ref().map(|l| l.version);
            for (word, prefix) in before.difference(&after) {
                writes
                    .removed
                    .push((partition(org, word), prefix.clone(), newest));
            }
        }
        writes
    }

    /// Step 1: the added words' items.
    pub(crate) async fn write_added(&self, store: &dyn ItemStore) -> Result<(), StoreError> {
        self.each_added(store, |item| {
            Ok(BatchOp::Put {
                table: &LEADS,
                item: item.clone(),
            })
        })
        .await
    }

    /// Step 2, after a failed transaction: this write's own items again.
    pub(crate) async fn undo_added(&self, store: &dyn ItemStore) -> Result<(), StoreError> {
        self.each_added(store, |item| {
            Ok(BatchOp::Delete {
                table: &LEADS,
                key: Key::of(item)?,
            })
        })
        .await
    }

    /// One batch of `op` on each added item.
    async fn each_added(
        &self,
        store: &dyn ItemStore,
        op: impl Fn(&Item) -> Result<BatchOp, StoreError>,
    ) -> Result<(), StoreError> {
        if self.added.is_empty() {
            return Ok(());
        }
        let ops = self.added.iter().map(op).collect::<Result<_, _>>()?;
        store.batch_write(ops).await
    }

    /// Step 3, after the commit: the removed words' items of this version or
    /// an earlier one.
    pub(crate) async fn delete_removed(&self, store: &dyn ItemStore) -> Result<(), StoreError> {
        let mut ops = Vec::new();
        for (partition, prefix, newest) in &self.removed {
            let mut cursor: Option<Cursor> = None;
            loop {
                let page = store
                    .query(
                        Query::new(&LEADS, partition.clone())
                            .begins_with(prefix.clone())
                            .project(["pk", "sk", "version"])
                            .limit(WORD_PAGE)
                            .after(cursor.take()),
                    )
                    .await?;
                for item in &page.items {
                    let version = match item.get("version") {
                        Some(AttributeValue::N(n)) => n.parse::<u64>().unwrap_or(u64::MAX),
                        _ => u64::MAX,
                    };
                    if newest.is_none_or(|newest| version <= newest) {
                        ops.push(BatchOp::Delete {
                            table: &LEADS,
                            key: Key::of(item)?,
                        });
                    }
                }
                cursor = page.cursor;
                if cursor.is_none() {
                    break;
                }
            }
        }
        if ops.is_empty() {
            return Ok(());
        }
        store.batch_write(ops).await
    }
}

/// One word being read: its query and what it found so far.
struct WordScan {
    query: Query,
    cursor: Option<Cursor>,
    found: Vec<Found>,
}

/// The leads found by the narrowest of a search's words (the first whose
/// items are read to the end, the words read in turn a page at a time),
/// each once, in listing order (oldest first). The caller checks the other
/// words, and every lead it keeps, against the leads themselves.
pub async fn candidates(
    store: &dyn ItemStore,
    org: OrgId,
    query: &[String],
) -> Result<Vec<Found>, StoreError> {
    let mut scans: Vec<WordScan> = query
        .iter()
        .map(|word| WordScan {
            query: Query::new(&LEADS, partition(org, word)).begins_with(word.clone()),
            cursor: None,
            found: Vec::new(),
        })
        .collect();
    if scans.is_empty() {
        return Ok(Vec::new());
    }
    let mut limit = if scans.len() == 1 {
        WORD_PAGE
    } else {
        FIRST_WORD_PAGE
    };
    loop {
        for scan in &mut scans {
            let page = store
                .query_sort_keys(scan.query.clone().limit(limit).after(scan.cursor.take()))
                .await?;
            scan.found
                .extend(page.keys.into_iter().filter_map(Found::of));
            scan.cursor = page.cursor;
            if scan.cursor.is_none() {
                let mut found = std::mem::take(&mut scan.found);
                // In order already when the prefix covers one word.
                if !found.is_sorted_by(|a, b| a.listed() <= b.listed()) {
                    found.sort_by(|a, b| a.listed().cmp(b.listed()));
                }
                found.dedup_by(|a, b| a.listed() == b.listed());
                return Ok(found);
            }
        }
        limit = (limit * 2).min(WORD_PAGE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(words: &[&str]) -> BTreeSet<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn searches_split_into_words_numbers_and_emails() {
        assert_eq!(query_words("+91 98200-12345"), vec!["919820012345"]);
        assert_eq!(query_words("Malabar  hill"), vec!["malabar", "hill"]);
        assert_eq!(query_words("Flat 12"), vec!["flat", "12"]);
        assert_eq!(query_words("Raj@Example.in"), vec!["raj@example.in"]);
        assert_eq!(query_words("O'Brien"), vec!["brien", "o"]);
        assert!(query_words("  -- ").is_empty());
    }

    #[test]
    fn every_search_word_must_begin_a_word_of_the_lead() {
        let lead = set(&["anaya", "mehta", "worli", "919820012345", "9820012345"]);
        assert!(matches(&lead, &query_words("Anaya")));
        assert!(matches(&lead, &query_words("meh wor")));
        assert!(matches(&lead, &query_words("98200")));
        assert!(matches(&lead, &query_words("+91 98200 12345")));
        assert!(!matches(&lead, &query_words("anaya juhu")));
        assert!(
            !matches(&lead, &query_words("orli")),
            "words match from their start"
        );
    }

    #[test]
    fn word_items_name_their_lead_and_listing_key() {
        let lead = LeadId::new();
        let sk = format!("a#b@c.in#2026-01-02T03:04:05.000000Z#{lead}#tok");
        let found = Found::of(sk).unwrap();
        assert_eq!(found.lead(), Some(lead));
        assert_eq!(
            found.listed(),
            format!("2026-01-02T03:04:05.000000Z#{lead}")
        );
        assert!(Found::of("nonsense".into()).is_none());
    }
}
