//! Records as the JSON the API answers with, kept for the item last read.
//!
//! A page of 50 leads spent most of its CPU reading each lead's 40 fields from
//! the store's bytes and writing them out again as JSON. Here a record whose
//! stored bytes are the ones rendered before is written from the kept
//! rendering; only the store read and a hash of its bytes remain.
//!
//! A kept rendering is of the stored record or is not used: it is found by
//! the record's key and must carry the fingerprint (a 128-bit hash) of the
//! bytes just read, so no writer, versioned or not, can leave it stale.
//! Records read already decoded (DynamoDB) have no fingerprint and are
//! rendered every time. The cache is bounded by the bytes of JSON it holds,
//! least recently used out first.

use std::sync::{Arc, Mutex};

use lru::LruCache;
use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use soraaya_store::{Key, StoreError, StoredItem};

/// JSON kept by default: about 7,000 leads of some 1.2 KB, 140 pages of 50.
pub const DEFAULT_BUDGET_BYTES: usize = 8 << 20;

/// One record as JSON, written into a response as it is.
#[derive(Debug, Clone)]
pub struct Rendered(Arc<Box<RawValue>>);

impl Rendered {
    /// Renders a record now.
    pub fn of<T: Serialize>(record: &T) -> Result<Rendered, StoreError> {
        let json = serde_json::value::to_raw_value(record)
            .map_err(|err| StoreError::Invalid(format!("cannot render the record: {err}")))?;
        Ok(Rendered(Arc::new(json)))
    }

    pub fn json(&self) -> &str {
        self.0.get()
    }
}

impl Serialize for Rendered {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// Renderings of records by key, bounded by their bytes.
pub struct Renderings {
    kept: Mutex<Kept>,
    budget: usize,
}

struct Kept {
    entries: LruCache<Key, (u128, Rendered)>,
    bytes: usize,
}

impl Default for Renderings {
    fn default() -> Self {
        Renderings::with_budget(DEFAULT_BUDGET_BYTES)
    }
}

impl Renderings {
    /// At most `budget` bytes of JSON kept (0: none).
    pub fn with_budget(budget: usize) -> Renderings {
        Renderings {
            kept: Mutex::new(Kept {
                entries: LruCache::unbounded(),
                bytes: 0,
            }),
            budget,
        }
    }

    /// Renders stored records of type `T`, in their order: from the kept
    /// rendering where the record's bytes are the ones rendered, else by
    /// reading the record (then kept).
    pub fn render<T: DeserializeOwned + Serialize>(
        &self,
        stored: Vec<StoredItem>,
    ) -> Result<Vec<Rendered>, StoreError> {
        let fingerprints: Vec<Option<u128>> = stored.iter().map(StoredItem::fingerprint).collect();
        let mut rendered: Vec<Option<Rendered>> = vec![None; stored.len()];
        if self.budget > 0
            && let Ok(mut kept) = self.kept.lock()
        {
            for ((item, fingerprint), slot) in stored.iter().zip(&fingerprints).zip(&mut rendered) {
                if let Some(fingerprint) = fingerprint
                    && let Some((kept, json)) = kept.entries.get(item.key())
                    && kept == fingerprint
                {
                    *slot = Some(json.clone());
                }
            }
        }
        let mut fresh = Vec::new();
        for ((item, fingerprint), slot) in stored.into_iter().zip(fingerprints).zip(&mut rendered) {
            if slot.is_none() {
                let key = item.key().clone();
                let json = Rendered::of(&item.read::<T>()?)?;
                if let Some(fingerprint) = fingerprint {
                    fresh.push((key, fingerprint, json.clone()));
                }
                *slot = Some(json);
            }
        }
        self.keep(fresh);
        Ok(rendered.into_iter().flatten().collect())
    }

    fn keep(&self, fresh: Vec<(Key, u128, Rendered)>) {
        if fresh.is_empty() || self.budget == 0 {
            return;
        }
        let Ok(mut kept) = self.kept.lock() else {
            return;
        };
        for (key, fingerprint, json) in fresh {
            let size = json.json().len();
            if size > self.budget {
                continue;
            }
            if let Some((_, old)) = kept.entries.put(key, (fingerprint, json)) {
                kept.bytes -= old.json().len();
            }
            kept.bytes += size;
            while kept.bytes > self.budget {
                let Some((_, (_, old))) = kept.entries.pop_lru() else {
                    break;
                };
                kept.bytes -= old.json().len();
            }
        }
    }

    /// Bytes of JSON kept now.
    pub fn bytes(&self) -> usize {
        self.kept.lock().map_or(0, |kept| kept.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use soraaya_store::{EmbeddedStore, ItemStore, Put, TableDef, to_item};

    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Note {
        pk: String,
        sk: String,
        version: u64,
        text: String,
    }

    static NOTES: TableDef = TableDef {
        name: "notes",
        indexes: &[],
        ttl_attribute: None,
    };

    fn note(sk: &str, version: u64, text: &str) -> Note {
        Note {
            pk: "P".into(),
            sk: sk.into(),
            version,
            text: text.into(),
        }
    }

    /// Writes the notes, then reads them.
    async fn stored(store: &EmbeddedStore, notes: &[&Note]) -> Vec<StoredItem> {
        for n in notes {
            store
                .put(Put::new(&NOTES, to_item(n).unwrap()))
                .await
                .unwrap();
        }
        read(store, notes).await
    }

    /// Reads the notes as stored.
    async fn read(store: &EmbeddedStore, notes: &[&Note]) -> Vec<StoredItem> {
        let keys = notes
            .iter()
            .map(|n| Key::new(n.pk.clone(), n.sk.clone()))
            .collect();
        store.get_stored(&NOTES, keys).await.unwrap()
    }

    fn texts(rendered: &[Rendered]) -> Vec<String> {
        rendered
            .iter()
            .map(|r| serde_json::from_str::<Note>(r.json()).unwrap().text)
            .collect()
    }

    #[tokio::test]
    async fn a_record_is_rendered_again_once_its_stored_bytes_change() {
        let store = EmbeddedStore::in_memory().unwrap();
        let renderings = Renderings::default();
        let (a, b) = (note("a", 1, "first"), note("b", 1, "other"));
        let first = renderings
            .render::<Note>(stored(&store, &[&a, &b]).await)
            .unwrap();
        assert_eq!(texts(&first), ["first", "other"]);
        let kept = renderings.bytes();
        assert_eq!(kept, first.iter().map(|r| r.json().len()).sum::<usize>());

        let again = renderings
            .render::<Note>(read(&store, &[&a, &b]).await)
            .unwrap();
        assert!(
            Arc::ptr_eq(&again[0].0, &first[0].0),
            "kept rendering reused"
        );

        let changed = note("a", 2, "second");
        let after = renderings
            .render::<Note>(stored(&store, &[&changed, &b]).await)
            .unwrap();
        assert_eq!(texts(&after), ["second", "other"]);
        assert!(!Arc::ptr_eq(&after[0].0, &first[0].0));
        assert!(renderings.bytes() > kept, "one entry per key, the new one");

        // A write that keeps the version (no writer should) is seen too.
        let unversioned = note("a", 2, "third");
        let after = renderings
            .render::<Note>(stored(&store, &[&unversioned]).await)
            .unwrap();
        assert_eq!(texts(&after), ["third"]);
    }

    #[tokio::test]
    async fn the_kept_json_stays_within_its_budget() {
        let store = EmbeddedStore::in_memory().unwrap();
        let notes: Vec<Note> = (0..20)
            .map(|i| note(&format!("n{i:02}"), 1, &"x".repeat(100)))
            .collect();
        let one = Rendered::of(&notes[0]).unwrap().json().len();
        let renderings = Renderings::with_budget(one * 5);
        let all: Vec<&Note> = notes.iter().collect();
        let rendered = renderings
            .render::<Note>(stored(&store, &all).await)
            .unwrap();
        assert_eq!(rendered.len(), 20);
        assert!(renderings.bytes() <= one * 5);
        assert!(renderings.bytes() >= one * 4);

        let none = Renderings::with_budget(0);
        let rendered = none
            .render::<Note>(stored(&store, &all[..3]).await)
            .unwrap();
        assert_eq!(rendered.len(), 3);
        assert_eq!(none.bytes(), 0);
    }
}
