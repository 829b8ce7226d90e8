//! Conditions and updates as data. The DynamoDB adapter renders them to
//! expressions; the embedded adapter evaluates them here, with DynamoDB's
//! semantics (a missing attribute fails every comparison except `<>`).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashSet;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::StoreError;
use crate::item::{AttributeValue, IntoValue, Item};
use crate::schema::{PK, SK};

/// Where a condition reads attributes from: a decoded item, or an encoded one
/// read lazily.
pub trait Attributes {
    fn attribute(&self, name: &str) -> Result<Option<Cow<'_, AttributeValue>>, StoreError>;
}

impl Attributes for Item {
    fn attribute(&self, name: &str) -> Result<Option<Cow<'_, AttributeValue>>, StoreError> {
        Ok(self.get(name).map(Cow::Borrowed))
    }
}

/// No item at all: every attribute is missing.
struct Absent;

impl Attributes for Absent {
    fn attribute(&self, _: &str) -> Result<Option<Cow<'_, AttributeValue>>, StoreError> {
        Ok(None)
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A condition on the attributes of one item (top-level attribute names only).
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Exists(String),
    NotExists(String),
    Compare(String, Cmp, AttributeValue),
    BeginsWith(String, String),
    /// Substring of a string, or member of a set or list.
    Contains(String, AttributeValue),
    In(String, Vec<AttributeValue>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
}

impl Condition {
    pub fn exists(attribute: &str) -> Self {
        Condition::Exists(attribute.to_owned())
    }

    pub fn not_exists(attribute: &str) -> Self {
        Condition::NotExists(attribute.to_owned())
    }

    pub fn eq(attribute: &str, value: impl IntoValue) -> Self {
        Condition::Compare(attribute.to_owned(), Cmp::Eq, value.into_value())
    }

    pub fn ne(attribute: &str, value: impl IntoValue) -> Self {
        Condition::Compare(attribute.to_owned(), Cmp::Ne, value.into_value())
    }

    pub fn lt(attribute: &str, value: impl IntoValue) -> Self {
        Condition::Compare(attribute.to_owned(), Cmp::Lt, value.into_value())
    }

    pub fn le(attribute: &str, value: impl IntoValue) -> Self {
        Condition::Compare(attribute.to_owned(), Cmp::Le, value.into_value())
    }

    pub fn gt(attribute: &str, value: impl IntoValue) -> Self {
        Condition::Compare(attribute.to_owned(), Cmp::Gt, value.into_value())
    }

    pub fn ge(attribute: &str, value: impl IntoValue) -> Self {
        Condition::Compare(attribute.to_owned(), Cmp::Ge, value.into_value())
    }

    pub fn begins_with(attribute: &str, prefix: impl Into<String>) -> Self {
        Condition::BeginsWith(attribute.to_owned(), prefix.into())
    }

    pub fn contains(attribute: &str, value: impl IntoValue) -> Self {
        Condition::Contains(attribute.to_owned(), value.into_value())
    }

    pub fn is_in<V: IntoValue>(attribute: &str, values: impl IntoIterator<Item = V>) -> Self {
        Condition::In(
            attribute.to_owned(),
            values.into_iter().map(IntoValue::into_value).collect(),
        )
    }

    pub fn and(self, other: Condition) -> Self {
        match self {
            Condition::And(mut all) => {
                all.push(other);
                Condition::And(all)
            }
            first => Condition::And(vec![first, other]),
        }
    }

    pub fn or(self, other: Condition) -> Self {
        match self {
            Condition::Or(mut any) => {
                any.push(other);
                Condition::Or(any)
            }
            first => Condition::Or(vec![first, other]),
        }
    }

    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Self {
        Condition::Not(Box::new(self))
    }

    /// Evaluates the condition against an item, or against a missing item.
    pub fn evaluate(&self, item: Option<&Item>) -> bool {
        let result = match item {
            Some(item) => self.evaluate_on(item),
            None => self.evaluate_on(&Absent),
        };
        // A decoded item cannot fail to give its attributes.
        result.unwrap_or(false)
    }

    /// Evaluates the condition, reading only the attributes it names.
    pub fn evaluate_on(&self, item: &dyn Attributes) -> Result<bool, StoreError> {
        Ok(match self {
            Condition::Exists(name) => item.attribute(name)?.is_some(),
            Condition::NotExists(name) => item.attribute(name)?.is_none(),
            Condition::Compare(name, op, value) => match item.attribute(name)? {
                None => *op == Cmp::Ne,
                Some(actual) => compare(&actual, *op, value),
            },
            Condition::BeginsWith(name, prefix) => {
                matches!(item.attribute(name)?.as_deref(), Some(AttributeValue::S(s)) if s.starts_with(prefix.as_str()))
            }
            Condition::Contains(name, needle) => match (item.attribute(name)?.as_deref(), needle) {
                (Some(AttributeValue::S(s)), AttributeValue::S(part)) => s.contains(part.as_str()),
                (Some(AttributeValue::Ss(set)), AttributeValue::S(member)) => set.contains(member),
                (Some(AttributeValue::Ns(set)), AttributeValue::N(member)) => set
                    .iter()
                    .any(|n| number_cmp(n, member) == Some(Ordering::Equal)),
                (Some(AttributeValue::L(list)), needle) => {
                    list.iter().any(|element| values_equal(element, needle))
                }
                _ => false,
            },
            Condition::In(name, values) => match item.attribute(name)? {
                None => false,
                Some(actual) => values.iter().any(|value| values_equal(&actual, value)),
            },
            Condition::And(all) => {
                for condition in all {
                    if !condition.evaluate_on(item)? {
                        return Ok(false);
                    }
                }
                true
            }
            Condition::Or(any) => {
                for condition in any {
                    if condition.evaluate_on(item)? {
                        return Ok(true);
                    }
                }
                false
            }
            Condition::Not(inner) => !inner.evaluate_on(item)?,
        })
    }
}

fn compare(actual: &AttributeValue, op: Cmp, value: &AttributeValue) -> bool {
    match op {
        Cmp::Eq => values_equal(actual, value),
        Cmp::Ne => !values_equal(actual, value),
        _ => {
            let ordering = match (actual, value) {
                (AttributeValue::N(a), AttributeValue::N(b)) => number_cmp(a, b),
                (AttributeValue::S(a), AttributeValue::S(b)) => {
                    Some(a.as_bytes().cmp(b.as_bytes()))
                }
                (AttributeValue::B(a), AttributeValue::B(b)) => Some(a.cmp(b)),
                _ => None,
            };
            match ordering {
                None => false,
                Some(ordering) => match op {
                    Cmp::Lt => ordering == Ordering::Less,
                    Cmp::Le => ordering != Ordering::Greater,
                    Cmp::Gt => ordering == Ordering::Greater,
                    Cmp::Ge => ordering != Ordering::Less,
                    Cmp::Eq | Cmp::Ne => unreachable!("handled above"),
                },
            }
        }
    }
}

pub(crate) fn parse_number(text: &str) -> Option<Decimal> {
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
}

fn number_cmp(a: &str, b: &str) -> Option<Ordering> {
    Some(parse_number(a)?.cmp(&parse_number(b)?))
}

/// Equality as DynamoDB sees it: numbers by value, sets regardless of order.
fn values_equal(a: &AttributeValue, b: &AttributeValue) -> bool {
    use AttributeValue as V;
    match (a, b) {
        (V::N(a), V::N(b)) => number_cmp(a, b) == Some(Ordering::Equal),
        (V::S(a), V::S(b)) => a == b,
        (V::B(a), V::B(b)) => a == b,
        (V::Bool(a), V::Bool(b)) => a == b,
        (V::Null(_), V::Null(_)) => true,
        (V::Ss(a), V::Ss(b)) => {
            a.iter().collect::<HashSet<_>>() == b.iter().collect::<HashSet<_>>()
        }
        (V::Bs(a), V::Bs(b)) => {
            a.iter().collect::<HashSet<_>>() == b.iter().collect::<HashSet<_>>()
        }
        (V::Ns(a), V::Ns(b)) => {
            let norm = |set: &Vec<String>| -> Option<HashSet<Decimal>> {
                set.iter()
                    .map(|n| parse_number(n).map(|d| d.normalize()))
                    .collect()
            };
            norm(a).is_some() && norm(a) == norm(b)
        }
        (V::L(a), V::L(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| values_equal(x, y))
        }
        (V::M(a), V::M(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, x)| b.get(k).is_some_and(|y| values_equal(x, y)))
        }
        _ => false,
    }
}

/// One action of an update.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateAction {
    Set(String, AttributeValue),
    /// Set only if the attribute is absent (`if_not_exists`).
    SetIfAbsent(String, AttributeValue),
    Remove(String),
    /// Add to a number, starting from zero when absent.
    Add(String, i64),
}

impl UpdateAction {
    pub fn attribute(&self) -> &str {
        match self {
            UpdateAction::Set(name, _)
            | UpdateAction::SetIfAbsent(name, _)
            | UpdateAction::Remove(name)
            | UpdateAction::Add(name, _) => name,
        }
    }
}

/// Changes to some attributes of one item.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    pub actions: Vec<UpdateAction>,
}

impl Update {
    pub fn new() -> Self {
        Update::default()
    }

    pub fn set(mut self, attribute: &str, value: impl IntoValue) -> Self {
        self.actions
            .push(UpdateAction::Set(attribute.to_owned(), value.into_value()));
        self
    }

    /// Sets the attribute, or removes it when the value is `None`.
    pub fn set_or_remove<V: IntoValue>(self, attribute: &str, value: Option<V>) -> Self {
        match value {
            Some(value) => self.set(attribute, value),
            None => self.remove(attribute),
        }
    }

    pub fn set_if_absent(mut self, attribute: &str, value: impl IntoValue) -> Self {
        self.actions.push(UpdateAction::SetIfAbsent(
            attribute.to_owned(),
            value.into_value(),
        ));
        self
    }

    pub fn remove(mut self, attribute: &str) -> Self {
        self.actions
            .push(UpdateAction::Remove(attribute.to_owned()));
        self
    }

    pub fn add(mut self, attribute: &str, delta: i64) -> Self {
        self.actions
            .push(UpdateAction::Add(attribute.to_owned(), delta));
        self
    }

    /// Sets every attribute of a record (except the key), as a partial overwrite.
    pub fn set_all(mut self, item: Item) -> Self {
        for (name, value) in item.into_inner() {
            if name != PK && name != SK {
                self.actions.push(UpdateAction::Set(name, value));
            }
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    pub(crate) fn validate(&self) -> Result<(), StoreError> {
        if self.actions.is_empty() {
            return Err(StoreError::Invalid(
                "an update needs at least one action".into(),
            ));
        }
        let mut seen = HashSet::new();
        for action in &self.actions {
            let name = action.attribute();
            if name == PK || name == SK {
                return Err(StoreError::Invalid(format!(
                    "cannot update key attribute {name}"
                )));
            }
            if !seen.insert(name) {
                return Err(StoreError::Invalid(format!(
                    "attribute {name} appears in two update actions"
                )));
            }
        }
        Ok(())
    }

    /// Applies the actions to an item in place.
    pub(crate) fn apply(&self, item: &mut Item) -> Result<(), StoreError> {
        for action in &self.actions {
            match action {
                UpdateAction::Set(name, value) => {
                    item.insert(name.clone(), value.clone());
                }
                UpdateAction::SetIfAbsent(name, value) => {
                    item.entry(name.clone()).or_insert_with(|| value.clone());
                }
                UpdateAction::Remove(name) => {
                    item.remove(name);
                }
                UpdateAction::Add(name, delta) => {
                    let current = match item.get(name) {
                        None => Decimal::ZERO,
                        Some(AttributeValue::N(n)) => parse_number(n).ok_or_else(|| {
                            StoreError::Corrupt(format!("attribute {name} is not a number"))
                        })?,
                        Some(_) => {
                            return Err(StoreError::Invalid(format!(
                                "ADD needs a number, attribute {name} is not one"
                            )));
                        }
                    };
                    let sum = current.checked_add(Decimal::from(*delta)).ok_or_else(|| {
                        StoreError::Invalid(format!("attribute {name} overflows"))
                    })?;
                    item.insert(name.clone(), AttributeValue::N(sum.normalize().to_string()));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(pairs: &[(&str, AttributeValue)]) -> Item {
        let mut item = Item::default();
        for (k, v) in pairs {
            item.insert((*k).to_owned(), v.clone());
        }
        item
    }

    #[test]
    fn missing_attribute_fails_all_but_not_equal() {
        let it = item(&[("a", "x".into_value())]);
        assert!(Condition::ne("b", "x").evaluate(Some(&it)));
        assert!(!Condition::eq("b", "x").evaluate(Some(&it)));
        assert!(!Condition::lt("b", "x").evaluate(Some(&it)));
        assert!(!Condition::ge("b", "x").evaluate(Some(&it)));
        assert!(Condition::ne("a", "y").evaluate(Some(&it)));
        assert!(
            Condition::ne("a", 5).evaluate(Some(&it)),
            "different types are unequal"
        );
        assert!(
            !Condition::lt("a", 5).evaluate(Some(&it)),
            "different types do not order"
        );
    }

    #[test]
    fn numbers_compare_by_value() {
        let it = item(&[("n", AttributeValue::N("10".into()))]);
        assert!(Condition::gt("n", 9).evaluate(Some(&it)));
        assert!(Condition::eq("n", AttributeValue::N("10.0".into())).evaluate(Some(&it)));
        assert!(Condition::lt("n", AttributeValue::N("1e2".into())).evaluate(Some(&it)));
    }

    #[test]
    fn add_counts_from_zero_and_rejects_non_numbers() {
        let mut it = item(&[("s", "x".into_value())]);
        Update::new().add("c", 2).apply(&mut it).unwrap();
        Update::new().add("c", -5).apply(&mut it).unwrap();
        assert_eq!(it.get("c"), Some(&AttributeValue::N("-3".into())));
        assert!(Update::new().add("s", 1).apply(&mut it).is_err());
    }

    #[test]
    fn update_rejects_keys_and_overlaps() {
        assert!(Update::new().set("pk", "x").validate().is_err());
        assert!(Update::new().set("a", 1).remove("a").validate().is_err());
        assert!(Update::new().validate().is_err());
    }
}
