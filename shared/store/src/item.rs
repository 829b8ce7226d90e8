//! Items are serde_dynamo's adapter-neutral maps; typed records convert with
//! [`to_item`] and [`from_item`].

use serde::{Serialize, de::DeserializeOwned};

pub use serde_dynamo::{AttributeValue, Item};

use crate::StoreError;

/// Serialises a record into an item.
pub fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(|err| StoreError::Invalid(err.to_string()))
}

/// Reads a record back from an item.
pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|err| StoreError::Corrupt(err.to_string()))
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
