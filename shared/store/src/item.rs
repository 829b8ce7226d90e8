//! Items are serde_dynamo's adapter-neutral maps; typed records convert with
//! [`to_item`] and [`from_item`].

use serde::{Serialize, de::DeserializeOwned};

pub use serde_dynamo::{AttributeValue, Item};

use crate::request::Key;
use crate::{StoreError, codec};

/// Serialises a record into an item.
pub fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(|err| StoreError::Invalid(err.to_string()))
}

/// Reads a record back from an item.
pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|err| StoreError::Corrupt(err.to_string()))
}

/// An item as [`crate::ItemStore::get_stored`] hands it back: its key, and
/// its attributes either decoded or still as the embedded store keeps them,
/// to be read straight into a record.
#[derive(Debug, Clone)]
pub struct StoredItem {
    key: Key,
    body: Body,
}

#[derive(Debug, Clone)]
enum Body {
    Decoded(Item),
    Encoded(Vec<u8>),
}

impl StoredItem {
    /// An item already decoded (the key is read from its `pk` and `sk`).
    pub fn decoded(item: Item) -> Result<Self, StoreError> {
        Ok(StoredItem {
            key: Key::of(&item)?,
            body: Body::Decoded(item),
        })
    }

    pub(crate) fn encoded(key: Key, bytes: Vec<u8>) -> Self {
        StoredItem {
            key,
            body: Body::Encoded(bytes),
        }
    }

    pub fn key(&self) -> &Key {
        &self.key
    }

    /// Reads the record, as [`from_item`] would from the decoded item.
    pub fn read<T: DeserializeOwned>(self) -> Result<T, StoreError> {
        match self.body {
            Body::Decoded(item) => from_item(item),
            Body::Encoded(bytes) => codec::read_record(&bytes),
        }
    }

    /// A 128-bit hash of the item as stored, where it is still as the
    /// embedded store keeps it (none for a decoded item): two reads of one
    /// key with the same fingerprint read the same item.
    pub fn fingerprint(&self) -> Option<u128> {
        match &self.body {
            Body::Decoded(_) => None,
            Body::Encoded(bytes) => Some(xxhash_rust::xxh3::xxh3_128(bytes)),
        }
    }

    pub fn into_item(self) -> Result<Item, StoreError> {
        match self.body {
            Body::Decoded(item) => Ok(item),
            Body::Encoded(bytes) => codec::decode_item(&bytes),
        }
    }
}

/// Serialises one value into an attribute value.
pub fn to_value<T: Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(value).map_err(|err| StoreError::Invalid(err.to_string()))
}

/// Values that conditions and updates accept directly.
pub trait IntoValue {
    fn into_value(self) -> AttributeValue;
}

impl IntoValue for AttributeValue {
    fn into_value(self) -> AttributeValue {
        self
    }
}

impl IntoValue for &str {
    fn into_value(self) -> AttributeValue {
        AttributeValue::S(self.to_owned())
    }
}

impl IntoValue for String {
    fn into_value(self) -> AttributeValue {
        AttributeValue::S(self)
    }
}

impl IntoValue for &String {
    fn into_value(self) -> AttributeValue {
        AttributeValue::S(self.clone())
    }
}

impl IntoValue for bool {
    fn into_value(self) -> AttributeValue {
        AttributeValue::Bool(self)
    }
}

macro_rules! number_into_value {
    ($($t:ty),*) => {$(
        impl IntoValue for $t {
            fn into_value(self) -> AttributeValue {
                AttributeValue::N(self.to_string())
            }
        }
    )*};
}
number_into_value!(i32, i64, u32, u64, usize);

/// The string value of an attribute, if it is a string.
pub(crate) fn string_attr<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(s)) => Some(s),
        _ => None,
    }
}
