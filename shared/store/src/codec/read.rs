//! Reads a record straight from an encoded item, without building the
//! [`Item`](crate::Item) in between: no map of attribute names, no owned
//! strings for values the record does not keep, and attributes the record
//! does not know are stepped over. On a lead listing, building the item and
//! then reading the record from it was more than half of the CPU.
//!
//! It reads exactly what `serde_dynamo::from_item` reads from the decoded
//! item (its `de` module is the model: numbers parsed as `i64`, then `u64`,
//! then `f64` when the type does not say; `Null` as unit and `None`; enums as
//! a string or a one-entry map; structs from a map or a list), which the
//! tests below check value by value.

use std::fmt;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Visitor};

use super::{FORMAT_VERSION, Reader};
use crate::StoreError;

const NUMBER: u8 = 0;
const STRING: u8 = 1;
const BOOL: u8 = 2;
const BINARY: u8 = 3;
const NULL: u8 = 4;
const MAP: u8 = 5;
const LIST: u8 = 6;
const STRING_SET: u8 = 7;
const NUMBER_SET: u8 = 8;
const BINARY_SET: u8 = 9;

/// Reads a record from an item encoded by [`super::encode_item`].
pub(crate) fn read_record<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    let mut reader = Reader { bytes, at: 0 };
    if reader.byte()? != FORMAT_VERSION {
        return Err(StoreError::Corrupt("unknown item format".into()));
    }
    let record = T::deserialize(Value {
        reader: &mut reader,
        tag: MAP,
    })?;
    if reader.at != bytes.len() {
        return Err(StoreError::Corrupt("trailing bytes after item".into()));
    }
    Ok(record)
}

/// Reading a record from stored bytes fails only when they are not the
/// record: `Corrupt`, as when `from_item` fails on a decoded item.
impl de::Error for StoreError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        StoreError::Corrupt(msg.to_string())
    }
}

fn expected(what: &str, tag: u8) -> StoreError {
    let found = match tag {
        NUMBER => "a number",
        STRING => "a string",
        BOOL => "a boolean",
        BINARY => "binary",
        NULL => "null",
        MAP => "a map",
        LIST => "a list",
        STRING_SET | NUMBER_SET | BINARY_SET => "a set",
        _ => "an unknown value",
    };
    StoreError::Corrupt(format!("expected {what}, found {found}"))
}

impl<'de> Reader<'de> {
    fn text(&mut self) -> Result<&'de str, StoreError> {
        utf8(self.raw()?)
    }
}

/// Checks stored text (SIMD: on a lead listing the standard library's check
/// of every name and string was 7 % of the CPU).
fn utf8(bytes: &[u8]) -> Result<&str, StoreError> {
    simdutf8::basic::from_utf8(bytes).map_err(|_| StoreError::Corrupt("string is not UTF-8".into()))
}

/// An attribute name. A record's field names are matched as bytes, as serde's
/// derived field visitors allow, so they are not checked as UTF-8 first; a
/// name read as a string (a map's key) is checked.
struct Name<'de>(&'de [u8]);

impl<'de> de::Deserializer<'de> for Name<'de> {
    type Error = StoreError;

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, StoreError> {
        visitor.visit_borrowed_bytes(self.0)
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, StoreError> {
        visitor.visit_borrowed_str(utf8(self.0)?)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum ignored_any
    }
}

/// One value whose tag has been read; its body comes next in the reader.
struct Value<'r, 'de> {
    reader: &'r mut Reader<'de>,
    tag: u8,
}

impl<'de> Value<'_, 'de> {
    fn number(self) -> Result<&'de str, StoreError> {
        match self.tag {
            NUMBER => self.reader.text(),
            tag => Err(expected("a number", tag)),
        }
    }

    fn string(self) -> Result<&'de str, StoreError> {
        match self.tag {
            STRING => self.reader.text(),
            tag => Err(expected("a string", tag)),
        }
    }

    fn seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, StoreError> {
        let element = match self.tag {
            LIST => Element::Value,
            STRING_SET => Element::Tagged(STRING),
            NUMBER_SET => Element::Tagged(NUMBER),
            BINARY_SET => Element::Tagged(BINARY),
            tag => return Err(expected("a list", tag)),
        };
        let remaining = self.reader.len()?;
        let mut seq = Seq {
            reader: self.reader,
            element,
            remaining,
        };
        let value = visitor.visit_seq(&mut seq)?;
        seq.skip_rest()?;
        Ok(value)
    }

    fn map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, StoreError> {
        if self.tag != MAP {
            return Err(expected("a map", self.tag));
        }
        let remaining = self.reader.len()?;
        let mut map = Map {
            reader: self.reader,
            remaining,
            value_pending: false,
        };
        let value = visitor.visit_map(&mut map)?;
        map.skip_rest()?;
        Ok(value)
    }

    fn skip(self) -> Result<(), StoreError> {
        self.reader.skip_body(self.tag)
    }
}

/// A number whose type the record did not say, read as serde_dynamo does.
fn any_number<'de, V: Visitor<'de>>(text: &str, visitor: V) -> Result<V::Value, StoreError> {
    if let Ok(i) = text.parse::<i64>() {
        visitor.visit_i64(i)
    } else if let Ok(u) = text.parse::<u64>() {
        visitor.visit_u64(u)
    } else {
        match text.parse::<f64>() {
            Ok(f) => visitor.visit_f64(f),
            Err(err) => Err(StoreError::Corrupt(format!(
                "{text:?} is not a number: {err}"
            ))),
        }
    }
}

macro_rules! typed_number {
    ($($method:ident => $ty:ty, $visit:ident;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, StoreError> {
            let text = self.number()?;
            let n = text
                .parse::<$ty>()
                .map_err(|err| StoreError::Corrupt(format!("{text:?} is not a {}: {err}", stringify!($ty))))?;
            visitor.$visit(n)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Value<'_, 'de> {
    type Error = StoreError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, StoreError> {
        match self.tag {
            NUMBER => any_number(self.reader.text()?, visitor),
            STRING => visitor.visit_borrowed_str(self.reader.text()?),
            BOOL => self.deserialize_bool(visitor),
            BINARY => self.deserialize_bytes(visitor),
            NULL => self.deserialize_unit(visitor),
            MAP => self.map(visitor),
            LIST | STRING_SET | NUMBER_SET | BINARY_SET => self.seq(visitor),
            tag => Err(StoreError::Corrupt(format!("unknown value tag {tag}"))),
        }
    }

    typed_number! {
        deserialize_i8 => i8, visit_i8;
        deserialize_i16 => i16, visit_i16;
        deserialize_i32 => i32, visit_i32;
        deserialize_i64 => i64, visit_i64;
        deserialize_i128 => i128, visit_i128;
        deserialize_u8 => u8, visit_u8;
        deserialize_u16 => u16, visit_u16;
        deserialize_u32 => u32, visit_u32;
        deserialize_u64 => u64, visit_u64;
        deserialize_u128 => u128, visit_u128;
        deserialize_f32 => f32, visit_f32;
        deserialize_f64 => f64, visit_f64;
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, StoreError> {
        match self.tag {
            BOOL => visitor.visit_bool(self.reader.byte()? != 0),
            tag => Err(expected("a boolean", tag)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, StoreError> {
        let text = self.string()?;
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => visitor.visit_char(c),
            _ => Err(StoreError::Corrupt(format!(
                "expected one character, found {text:?}"
            ))),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, StoreError> {
        visitor.visit_borrowed_str(self.string()?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, StoreError> {
        visitor.visit_borrowed_str(self.string()?)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, StoreError> {
        match self.tag {
            BINARY => visitor.visit_borrowed_bytes(self.reader.raw()?),
            tag => Err(expected("binary", tag)),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, StoreError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, StoreError> {
        if self.tag == NULL {
            self.reader.byte()?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, StoreError> {
        match self.tag {
            NULL if self.reader.byte()? != 0 => visitor.visit_unit(),
            tag => Err(expected("null", tag)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, StoreError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, StoreError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, StoreError> {
        self.seq(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, StoreError> {
        self.seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, StoreError> {
        self.seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, StoreError> {
        self.map(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, StoreError> {
        if self.tag == LIST {
            self.seq(visitor)
        } else {
            self.map(visitor)
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, StoreError> {
        match self.tag {
            STRING => visitor.visit_enum(BorrowedStrDeserializer::<StoreError>::new(
                self.reader.text()?,
            )),
            MAP => {
                if self.reader.len()? != 1 {
                    return Err(StoreError::Corrupt(
                        "expected a map with a single key".into(),
                    ));
                }
                visitor.visit_enum(Variant {
                    reader: self.reader,
                })
            }
            tag => Err(expected("an enum", tag)),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, StoreError> {
        visitor.visit_borrowed_str(self.string()?)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, StoreError> {
        self.skip()?;
        visitor.visit_unit()
    }
}

/// How the elements of a sequence are written: each with its tag (a list),
/// or all of one type without tags (a set).
#[derive(Clone, Copy)]
enum Element {
    Value,
    Tagged(u8),
}

struct Seq<'r, 'de> {
    reader: &'r mut Reader<'de>,
    element: Element,
    remaining: usize,
}

impl<'de> Seq<'_, 'de> {
    fn next(&mut self) -> Result<Option<Value<'_, 'de>>, StoreError> {
        if self.remaining == 0 {
            return Ok(None);
        }
        self.remaining -= 1;
        let tag = match self.element {
            Element::Value => self.reader.byte()?,
            Element::Tagged(tag) => tag,
        };
        Ok(Some(Value {
            reader: self.reader,
            tag,
        }))
    }

    fn skip_rest(&mut self) -> Result<(), StoreError> {
        while let Some(value) = self.next()? {
            value.skip()?;
        }
        Ok(())
    }
}

impl<'de> de::SeqAccess<'de> for &mut Seq<'_, 'de> {
    type Error = StoreError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, StoreError> {
        match self.next()? {
            Some(value) => seed.deserialize(value).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.remaining)
    }
}

struct Map<'r, 'de> {
    reader: &'r mut Reader<'de>,
    remaining: usize,
    /// A key was read and its value not yet.
    value_pending: bool,
}

impl Map<'_, '_> {
    fn skip_rest(&mut self) -> Result<(), StoreError> {
        if self.value_pending {
            self.value_pending = false;
            let tag = self.reader.byte()?;
            self.reader.skip_body(tag)?;
        }
        while self.remaining > 0 {
            self.remaining -= 1;
            self.reader.raw()?;
            let tag = self.reader.byte()?;
            self.reader.skip_body(tag)?;
        }
        Ok(())
    }
}

impl<'de> de::MapAccess<'de> for &mut Map<'_, 'de> {
    type Error = StoreError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, StoreError> {
        if self.remaining == 0 {
            return Ok(None);
        }
        self.remaining -= 1;
        let name = self.reader.raw()?;
        self.value_pending = true;
        seed.deserialize(Name(name)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, StoreError> {
        if !self.value_pending {
            return Err(StoreError::Corrupt(
                "a map value was asked for before its key".into(),
            ));
        }
        self.value_pending = false;
        let tag = self.reader.byte()?;
        seed.deserialize(Value {
            reader: self.reader,
            tag,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.remaining)
    }
}

/// An enum written as a map with one entry: the variant's name, its content.
struct Variant<'r, 'de> {
    reader: &'r mut Reader<'de>,
}

impl<'r, 'de> de::EnumAccess<'de> for Variant<'r, 'de> {
    type Error = StoreError;
    type Variant = Value<'r, 'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), StoreError> {
        let name = self.reader.text()?;
        let variant = seed.deserialize(BorrowedStrDeserializer::<StoreError>::new(name))?;
        let tag = self.reader.byte()?;
        Ok((
            variant,
            Value {
                reader: self.reader,
                tag,
            },
        ))
    }
}

impl<'de> de::VariantAccess<'de> for Value<'_, 'de> {
    type Error = StoreError;

    fn unit_variant(self) -> Result<(), StoreError> {
        // serde_dynamo accepts any content for a unit variant.
        self.skip()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, StoreError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, StoreError> {
        self.seq(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, StoreError> {
        self.map(visitor)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::codec::encode_item;
    use crate::item::{AttributeValue, Item, from_item, to_item};

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Stage {
        New,
        Called { attempts: u32 },
        Moved(String),
        Pair(u8, bool),
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Extra {
        note: Option<String>,
        #[serde(default)]
        labels: Vec<String>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Record {
        pk: String,
        sk: String,
        name: String,
        count: u64,
        delta: i32,
        score: f64,
        ratio: Option<f32>,
        active: bool,
        initial: char,
        stages: Vec<Stage>,
        #[serde(with = "serde_bytes_like")]
        blob: Vec<u8>,
        tags: BTreeMap<String, i64>,
        pair: (u16, String),
        nothing: (),
        missing: Option<String>,
        #[serde(flatten)]
        extra: Extra,
        any: serde_json::Value,
    }

    /// Bytes as DynamoDB binary, as `serde_bytes` would.
    mod serde_bytes_like {
        use serde::{Deserializer, Serializer};

        pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(bytes)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
            struct Bytes;
            impl<'de> serde::de::Visitor<'de> for Bytes {
                type Value = Vec<u8>;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_bytes<E>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                    Ok(v.to_vec())
                }
                fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                    Ok(v)
                }
            }
            d.deserialize_bytes(Bytes)
        }
    }

    fn record() -> Record {
        Record {
            pk: "ORG#1".into(),
            sk: "LEAD#2".into(),
            name: "Aarav \u{2014} \"Sea Face\"".into(),
            count: u64::MAX,
            delta: -7,
            score: 0.125,
            ratio: Some(1.5),
            active: true,
            initial: 'é',
            stages: vec![
                Stage::New,
                Stage::Called { attempts: 3 },
                Stage::Moved("Pune".into()),
                Stage::Pair(9, false),
            ],
            blob: vec![0, 1, 255],
            tags: BTreeMap::from([("a".into(), -1), ("b".into(), 2)]),
            pair: (65535, "x".into()),
            nothing: (),
            missing: None,
            extra: Extra {
                note: Some("flattened".into()),
                labels: vec!["vip".into()],
            },
            any: serde_json::json!({"n": 1, "f": 2.5, "big": u64::MAX, "list": [true, null, "s"]}),
        }
    }

    /// Reads the record both ways: through the decoded item (serde_dynamo)
    /// and straight from the bytes.
    fn both<T: DeserializeOwned>(item: &Item) -> (Result<T, StoreError>, Result<T, StoreError>) {
        let bytes = encode_item(item);
        (from_item(item.clone()), read_record(&bytes))
    }

    #[test]
    fn reads_what_serde_dynamo_reads() {
        let original = record();
        let item = to_item(&original).unwrap();
        let (dynamo, direct) = both::<Record>(&item);
        assert_eq!(dynamo.unwrap(), original);
        assert_eq!(direct.unwrap(), original);
    }

    #[test]
    fn unknown_attributes_are_stepped_over() {
        #[derive(Debug, PartialEq, Deserialize)]
        struct Narrow {
            name: String,
            count: u64,
        }
        let item = to_item(&record()).unwrap();
        let (dynamo, direct) = both::<Narrow>(&item);
        assert_eq!(direct.unwrap(), dynamo.unwrap());
    }

    #[test]
    fn sets_and_untyped_numbers_read_alike() {
        // The binary set is stepped over: serde_dynamo reads no record field from one.
        #[derive(Debug, PartialEq, Deserialize)]
        struct Sets {
            ss: Vec<String>,
            ns: Vec<f64>,
            any: Vec<serde_json::Value>,
        }
        let mut item = Item::default();
        item.insert(
            "ss".into(),
            AttributeValue::Ss(vec!["a".into(), "b".into()]),
        );
        item.insert(
            "ns".into(),
            AttributeValue::Ns(vec!["1".into(), "-2.5".into()]),
        );
        item.insert("bs".into(), AttributeValue::Bs(vec![vec![1, 2]]));
        item.insert(
            "any".into(),
            AttributeValue::L(vec![
                AttributeValue::N("-3".into()),
                AttributeValue::N("18446744073709551615".into()),
                AttributeValue::N("1e3".into()),
                AttributeValue::M(HashMap::from([("k".into(), AttributeValue::Null(true))])),
            ]),
        );
        let (dynamo, direct) = both::<Sets>(&item);
        assert_eq!(direct.unwrap(), dynamo.unwrap());
    }

    #[test]
    fn wrong_types_are_errors_as_with_serde_dynamo() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Strict {
            count: u8,
            name: String,
        }
        let cases = [
            ("count", AttributeValue::N("300".into())),
            ("count", AttributeValue::S("3".into())),
            ("name", AttributeValue::N("3".into())),
            ("name", AttributeValue::Null(true)),
        ];
        for (name, value) in cases {
            let mut item = Item::default();
            item.insert("count".into(), AttributeValue::N("3".into()));
            item.insert("name".into(), AttributeValue::S("x".into()));
            item.insert(name.into(), value.clone());
            let (dynamo, direct) = both::<Strict>(&item);
            assert!(dynamo.is_err(), "{name} = {value:?}");
            assert!(
                matches!(direct, Err(StoreError::Corrupt(_))),
                "{name} = {value:?}: {direct:?}"
            );
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let good = encode_item(&to_item(&record()).unwrap());
        for cut in 0..good.len() {
            assert!(read_record::<Record>(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(read_record::<Record>(&trailing).is_err());
        assert!(read_record::<serde_json::Value>(&[1, 1, 0, 0, 0, 1, 0, 0, 0, b'k', 42]).is_err());
    }
}
