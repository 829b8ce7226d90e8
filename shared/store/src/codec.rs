//! Byte formats of the embedded store: items (also inside cursors) and
//! order-preserving keys, so that redb's byte order is DynamoDB's key order.

mod read;

use std::collections::HashMap;
use std::ops::Bound;

use crate::StoreError;
use crate::item::{AttributeValue, Item};
use crate::request::SortKeyCondition;

const FORMAT_VERSION: u8 = 1;

pub(crate) use read::read_record;

pub(crate) fn encode_item(item: &Item) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.push(FORMAT_VERSION);
    encode_map(&mut out, item.inner());
    out
}

pub(crate) fn decode_item(bytes: &[u8]) -> Result<Item, StoreError> {
    let mut reader = Reader { bytes, at: 0 };
    match reader.byte()? {
        FORMAT_VERSION => {}
        other => return Err(StoreError::Corrupt(format!("unknown item format {other}"))),
    }
    let map = reader.map()?;
    if reader.at != bytes.len() {
        return Err(StoreError::Corrupt("trailing bytes after item".into()));
    }
    Ok(Item::from(map))
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    // Items are at most 400 KB, so a u32 always fits.
    out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_len(out, bytes.len());
    out.extend_from_slice(bytes);
}

fn encode_map(out: &mut Vec<u8>, map: &HashMap<String, AttributeValue>) {
    put_len(out, map.len());
    for (name, value) in map {
        put_bytes(out, name.as_bytes());
        encode_value(out, value);
    }
}

fn encode_value(out: &mut Vec<u8>, value: &AttributeValue) {
    match value {
        AttributeValue::N(n) => {
            out.push(0);
            put_bytes(out, n.as_bytes());
        }
        AttributeValue::S(s) => {
            out.push(1);
            put_bytes(out, s.as_bytes());
        }
        AttributeValue::Bool(b) => {
            out.push(2);
            out.push(u8::from(*b));
        }
        AttributeValue::B(b) => {
            out.push(3);
            put_bytes(out, b);
        }
        AttributeValue::Null(b) => {
            out.push(4);
            out.push(u8::from(*b));
        }
        AttributeValue::M(map) => {
            out.push(5);
            encode_map(out, map);
        }
        AttributeValue::L(list) => {
            out.push(6);
            put_len(out, list.len());
            for element in list {
                encode_value(out, element);
            }
        }
        AttributeValue::Ss(set) => {
            out.push(7);
            put_len(out, set.len());
            for s in set {
                put_bytes(out, s.as_bytes());
            }
        }
        AttributeValue::Ns(set) => {
            out.push(8);
            put_len(out, set.len());
            for n in set {
                put_bytes(out, n.as_bytes());
            }
        }
        AttributeValue::Bs(set) => {
            out.push(9);
            put_len(out, set.len());
            for b in set {
                put_bytes(out, b);
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn truncated() -> StoreError {
        StoreError::Corrupt("truncated item".into())
    }

    fn byte(&mut self) -> Result<u8, StoreError> {
        let byte = *self.bytes.get(self.at).ok_or_else(Self::truncated)?;
        self.at += 1;
        Ok(byte)
    }

    fn len(&mut self) -> Result<usize, StoreError> {
        let end = self.at.checked_add(4).ok_or_else(Self::truncated)?;
        let raw: [u8; 4] = self
            .bytes
            .get(self.at..end)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(Self::truncated)?;
        self.at = end;
        let len = u32::from_le_bytes(raw) as usize;
        // A length can never exceed what is left; this bounds allocations on bad input.
        if len > self.bytes.len() - self.at {
            return Err(Self::truncated());
        }
        Ok(len)
    }

    fn raw(&mut self) -> Result<&'a [u8], StoreError> {
        let len = self.len()?;
        let slice = &self.bytes[self.at..self.at + len];
        self.at += len;
        Ok(slice)
    }

    fn string(&mut self) -> Result<String, StoreError> {
        String::from_utf8(self.raw()?.to_vec())
            .map_err(|_| StoreError::Corrupt("string is not UTF-8".into()))
    }

    fn map(&mut self) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let count = self.len()?;
        let mut map = HashMap::with_capacity(count);
        for _ in 0..count {
            let name = self.string()?;
            let value = self.value()?;
            map.insert(name, value);
        }
        Ok(map)
    }

    fn value(&mut self) -> Result<AttributeValue, StoreError> {
        Ok(match self.byte()? {
            0 => AttributeValue::N(self.string()?),
            1 => AttributeValue::S(self.string()?),
            2 => AttributeValue::Bool(self.byte()? != 0),
            3 => AttributeValue::B(self.raw()?.to_vec()),
            4 => AttributeValue::Null(self.byte()? != 0),
            5 => AttributeValue::M(self.map()?),
            6 => {
                let count = self.len()?;
                let mut list = Vec::with_capacity(count);
                for _ in 0..count {
                    list.push(self.value()?);
                }
                AttributeValue::L(list)
            }
            7 => AttributeValue::Ss(self.strings()?),
            8 => AttributeValue::Ns(self.strings()?),
            9 => {
                let count = self.len()?;
                let mut set = Vec::with_capacity(count);
                for _ in 0..count {
                    set.push(self.raw()?.to_vec());
                }
                AttributeValue::Bs(set)
            }
            tag => return Err(StoreError::Corrupt(format!("unknown value tag {tag}"))),
        })
    }

    /// Steps over one value without building it.
    fn skip_value(&mut self) -> Result<(), StoreError> {
        let tag = self.byte()?;
        self.skip_body(tag)
    }

    /// Steps over the rest of a value whose tag has been read.
    fn skip_body(&mut self, tag: u8) -> Result<(), StoreError> {
        match tag {
            0 | 1 | 3 => {
                self.raw()?;
            }
            2 | 4 => {
                self.byte()?;
            }
            5 => {
                for _ in 0..self.len()? {
                    self.raw()?;
                    self.skip_value()?;
                }
            }
            6 => {
                for _ in 0..self.len()? {
                    self.skip_value()?;
                }
            }
            7..=9 => {
                for _ in 0..self.len()? {
                    self.raw()?;
                }
            }
            tag => return Err(StoreError::Corrupt(format!("unknown value tag {tag}"))),
        }
        Ok(())
    }

    fn strings(&mut self) -> Result<Vec<String>, StoreError> {
        let count = self.len()?;
        let mut set = Vec::with_capacity(count);
        for _ in 0..count {
            set.push(self.string()?);
        }
        Ok(set)
    }
}

/// An encoded item read lazily: only the attributes asked for are decoded, so
/// filters and projections over stored items allocate little.
pub(crate) struct EncodedItem<'a> {
    bytes: &'a [u8],
}

impl<'a> EncodedItem<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        EncodedItem { bytes }
    }

    /// Visits each attribute name (as bytes: only the names wanted are
    /// checked as UTF-8); `wanted` says whether to decode its value.
    fn walk(
        &self,
        mut wanted: impl FnMut(&[u8]) -> bool,
        mut found: impl FnMut(String, AttributeValue) -> bool,
    ) -> Result<(), StoreError> {
        let mut reader = Reader {
            bytes: self.bytes,
            at: 0,
        };
        if reader.byte()? != FORMAT_VERSION {
            return Err(StoreError::Corrupt("unknown item format".into()));
        }
        for _ in 0..reader.len()? {
            let name = reader.raw()?;
            if wanted(name) {
                let name = std::str::from_utf8(name)
                    .map_err(|_| StoreError::Corrupt("attribute name is not UTF-8".into()))?
                    .to_owned();
                let value = reader.value()?;
                if !found(name, value) {
                    return Ok(());
                }
            } else {
                reader.skip_value()?;
            }
        }
        Ok(())
    }

    pub(crate) fn attribute(&self, name: &str) -> Result<Option<AttributeValue>, StoreError> {
        let mut result = None;
        self.walk(
            |n| n == name.as_bytes(),
            |_, value| {
                result = Some(value);
                false
            },
        )?;
        Ok(result)
    }

    /// The named attributes only.
    pub(crate) fn project(&self, names: &[String]) -> Result<Item, StoreError> {
        let mut map = HashMap::with_capacity(names.len());
        self.walk(
            |n| names.iter().any(|wanted| wanted.as_bytes() == n),
            |name, value| {
                map.insert(name, value);
                map.len() < names.len()
            },
        )?;
        Ok(Item::from(map))
    }
}

impl crate::expr::Attributes for EncodedItem<'_> {
    fn attribute(
        &self,
        name: &str,
    ) -> Result<Option<std::borrow::Cow<'_, AttributeValue>>, StoreError> {
        EncodedItem::attribute(self, name).map(|v| v.map(std::borrow::Cow::Owned))
    }
}

/// Appends one key component so that byte order of the concatenation equals
/// the tuple order of the components: 0x00 is escaped as 0x00 0xFF and each
/// component ends with 0x00 0x01.
pub(crate) fn push_component(out: &mut Vec<u8>, component: &str) {
    push_escaped(out, component);
    out.extend_from_slice(&[0x00, 0x01]);
}

fn push_escaped(out: &mut Vec<u8>, component: &str) {
    for &byte in component.as_bytes() {
        out.push(byte);
        if byte == 0 {
            out.push(0xFF);
        }
    }
}

/// The first component of key bytes ([`push_component`] undone), and the
/// bytes after it.
pub(crate) fn read_component(bytes: &[u8]) -> Result<(String, &[u8]), StoreError> {
    let (escaped, rest) = split_component(bytes)?;
    let mut text = Vec::with_capacity(escaped.len());
    let mut parts = escaped.split(|&byte| byte == 0);
    if let Some(first) = parts.next() {
        text.extend_from_slice(first);
    }
    for part in parts {
        // Each zero of the component was written as `00 FF`.
        text.push(0);
        text.extend_from_slice(&part[1..]);
    }
    let text = String::from_utf8(text)
        .map_err(|_| StoreError::Corrupt("a key that is not UTF-8".into()))?;
    Ok((text, rest))
}

/// The first component of key bytes as written (its zeros escaped), and the
/// bytes after its end mark.
fn split_component(bytes: &[u8]) -> Result<(&[u8], &[u8]), StoreError> {
    let mut at = 0;
    while let Some(zero) = bytes[at..].iter().position(|&byte| byte == 0) {
        let zero = at + zero;
        match bytes.get(zero + 1) {
            Some(0xFF) => at = zero + 2,
            Some(0x01) => return Ok((&bytes[..zero], &bytes[zero + 2..])),
            _ => break,
        }
    }
    Err(StoreError::Corrupt(
        "a key component without its end".into(),
    ))
}

/// The components of key bytes whose position `wanted` keeps, each given to
/// `found` with its position; the others are stepped over unread.
pub(crate) fn read_components_where(
    mut bytes: &[u8],
    wanted: impl Fn(usize) -> bool,
    mut found: impl FnMut(usize, String),
) -> Result<(), StoreError> {
    let mut position = 0;
    while !bytes.is_empty() {
        bytes = if wanted(position) {
            let (component, rest) = read_component(bytes)?;
            found(position, component);
            rest
        } else {
            split_component(bytes)?.1
        };
        position += 1;
    }
    Ok(())
}

pub(crate) fn key_bytes(components: &[&str]) -> Vec<u8> {
    let mut out = Vec::with_capacity(components.iter().map(|c| c.len() + 2).sum());
    for component in components {
        push_component(&mut out, component);
    }
    out
}

/// The smallest byte string greater than every string that starts with `prefix`.
fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut successor = prefix.to_vec();
    while let Some(last) = successor.pop() {
        if last < 0xFF {
            successor.push(last + 1);
            return Some(successor);
        }
    }
    None
}

/// A range of encoded keys.
pub(crate) type KeyRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// Byte bounds covering one partition and an optional sort-key condition, for
/// keys laid out as partition, sort key, then possibly more components.
pub(crate) fn partition_range(partition: &str, sort: Option<&SortKeyCondition>) -> KeyRange {
    let base = key_bytes(&[partition]);
    let with_sort = |value: &str| {
        let mut key = base.clone();
        push_component(&mut key, value);
        key
    };
    // Everything whose key starts with these bytes, up to the next prefix.
    let above = |prefix: Vec<u8>| match prefix_successor(&prefix) {
        Some(next) => Bound::Excluded(next),
        None => Bound::Unbounded,
    };
    match sort {
        None => (Bound::Included(base.clone()), above(base.clone())),
        Some(SortKeyCondition::Eq(v)) => (Bound::Included(with_sort(v)), above(with_sort(v))),
        Some(SortKeyCondition::Lt(v)) => {
            (Bound::Included(base.clone()), Bound::Excluded(with_sort(v)))
        }
        Some(SortKeyCondition::Le(v)) => (Bound::Included(base.clone()), above(with_sort(v))),
        Some(SortKeyCondition::Gt(v)) => {
            let lower = match prefix_successor(&with_sort(v)) {
                Some(next) => Bound::Included(next),
                None => Bound::Excluded(with_sort(v)),
            };
            (lower, above(base.clone()))
        }
        Some(SortKeyCondition::Ge(v)) => (Bound::Included(with_sort(v)), above(base.clone())),
        Some(SortKeyCondition::Between(low, high)) => {
            (Bound::Included(with_sort(low)), above(with_sort(high)))
        }
        Some(SortKeyCondition::BeginsWith(prefix)) => {
            let mut start = base.clone();
            push_escaped(&mut start, prefix);
            (Bound::Included(start.clone()), above(start))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip() {
        let mut item = Item::default();
        item.insert("s".into(), AttributeValue::S("hé".into()));
        item.insert("n".into(), AttributeValue::N("-1.5".into()));
        item.insert("b".into(), AttributeValue::B(vec![0, 255]));
        item.insert(
            "m".into(),
            AttributeValue::M(HashMap::from([(
                "l".to_owned(),
                AttributeValue::L(vec![
                    AttributeValue::Null(true),
                    AttributeValue::Bool(false),
                ]),
            )])),
        );
        item.insert(
            "ss".into(),
            AttributeValue::Ss(vec!["a".into(), "b".into()]),
        );
        item.insert("ns".into(), AttributeValue::Ns(vec!["1".into()]));
        item.insert("bs".into(), AttributeValue::Bs(vec![vec![1]]));
        assert_eq!(decode_item(&encode_item(&item)).unwrap(), item);
    }

    #[test]
    fn encoded_items_read_lazily() {
        let mut item = Item::default();
        item.insert("a".into(), AttributeValue::S("x".into()));
        item.insert(
            "nested".into(),
            AttributeValue::M(HashMap::from([(
                "k".to_owned(),
                AttributeValue::L(vec![AttributeValue::N("1".into())]),
            )])),
        );
        item.insert("b".into(), AttributeValue::Ns(vec!["2".into()]));
        let bytes = encode_item(&item);
        let lazy = EncodedItem::new(&bytes);
        assert_eq!(lazy.attribute("b").unwrap(), item.get("b").cloned());
        assert_eq!(lazy.attribute("missing").unwrap(), None);
        let projected = lazy
            .project(&["a".to_owned(), "nested".to_owned()])
            .unwrap();
        assert_eq!(projected.len(), 2);
        assert_eq!(projected.get("nested"), item.get("nested"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [
            &[][..],
            &[1],
            &[1, 255, 255, 255, 255],
            &[9, 0, 0, 0, 0],
            &[1, 1, 0, 0, 0, 0],
        ] {
            assert!(decode_item(bytes).is_err());
        }
    }

    fn read_components(bytes: &[u8]) -> Result<Vec<String>, StoreError> {
        let mut components = Vec::new();
        read_components_where(bytes, |_| true, |_, component| components.push(component))?;
        Ok(components)
    }

    #[test]
    fn key_components_read_back() {
        for (pk, sk) in [
            ("p", "a\0b"),
            ("", ""),
            ("ORG#1", "word#2026#id#t"),
            ("\0", "\0\0x\0"),
        ] {
            let key = key_bytes(&[pk, sk, "x"]);
            let (first, rest) = read_component(&key).unwrap();
            assert_eq!(first, pk);
            assert_eq!(read_component(rest).unwrap().0, sk);
            assert_eq!(read_components(&key).unwrap(), [pk, sk, "x"]);
            let mut odd = Vec::new();
            read_components_where(&key, |at| at != 1, |at, part| odd.push((at, part))).unwrap();
            assert_eq!(odd, [(0, pk.to_owned()), (2, "x".to_owned())]);
        }
        assert!(read_component(b"no end").is_err());
        assert!(read_components(b"a\0\x01b").is_err());
    }

    #[test]
    fn key_bytes_order_like_tuples() {
        let mut keys = [
            ("a", "b"),
            ("a", ""),
            ("a\0", "a"),
            ("a", "b\0"),
            ("ab", "a"),
            ("a", "ba"),
        ];
        let mut encoded: Vec<_> = keys.iter().map(|(p, s)| key_bytes(&[p, s])).collect();
        keys.sort_by(|x, y| {
            (x.0.as_bytes(), x.1.as_bytes()).cmp(&(y.0.as_bytes(), y.1.as_bytes()))
        });
        encoded.sort();
        let expected: Vec<_> = keys.iter().map(|(p, s)| key_bytes(&[p, s])).collect();
        assert_eq!(encoded, expected);
    }
}
