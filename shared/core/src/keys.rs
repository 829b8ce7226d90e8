//! How records become items: a text form of instants that sorts, and a record
//! stored under its key.

use jiff::Timestamp;
use serde::Serialize;
use soraaya_store::{AttributeValue, Item, Key, PK, SK, StoreError, to_item};

/// A timestamp that sorts as text: `2026-11-23T10:00:00.000000Z`.
pub fn sortable(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// A record stored under a key: its fields plus `pk` and `sk`.
pub fn keyed_item<T: Serialize>(key: &Key, record: &T) -> Result<Item, StoreError> {
    let mut item = to_item(record)?;
    item.insert(PK.to_owned(), AttributeValue::S(key.pk.clone()));
    item.insert(SK.to_owned(), AttributeValue::S(key.sk.clone()));
    Ok(item)
}
