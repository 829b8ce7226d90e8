//! Validation shared by every domain: the invalid fields of a request,
//! collected before answering, and partial changes (a field left alone,
//! cleared with `null`, or set) with values as the client wrote them.

use std::fmt::Display;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// Path of the field, such as `email` or `leads[3].phone`.
    pub field: String,
    pub message: String,
}

/// Collects every invalid field of a request before answering.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        FieldErrors::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Display) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.to_string(),
        });
    }

    /// Keeps the value of a successful check, records the error of a failed one.
    pub fn check<T, E: Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                self.add(field, err);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }

    /// `Ok` if nothing was recorded, otherwise every invalid field.
    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }

    /// One invalid field.
    pub fn one(field: impl Into<String>, message: impl Display) -> Vec<FieldError> {
        let mut errors = FieldErrors::new();
        errors.add(field, message);
        errors.0
    }
}

/// A field of a partial change: left alone, cleared (`null`), or set.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Patch<T> {
    #[default]
    Absent,
    Clear,
    Set(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            None => Patch::Clear,
            Some(value) => Patch::Set(value),
        })
    }
}

/// `null` for absent and cleared (only schemas serialise input).
impl<T: Serialize> Serialize for Patch<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Patch::Set(value) => value.serialize(serializer),
            _ => serializer.serialize_none(),
        }
    }
}

impl<T> Patch<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Patch::Absent)
    }

    /// Applies to an optional field; returns whether it changed.
    pub fn apply_to(self, target: &mut Option<T>) -> bool
    where
        T: PartialEq,
    {
        let next = match self {
            Patch::Absent => return false,
            Patch::Clear => None,
            Patch::Set(value) => Some(value),
        };
        let changed = *target != next;
        *target = next;
        changed
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Patch<U> {
        match self {
            Patch::Absent => Patch::Absent,
            Patch::Clear => Patch::Clear,
            Patch::Set(value) => Patch::Set(f(value)),
        }
    }

    pub fn set(self) -> Option<T> {
        match self {
            Patch::Set(value) => Some(value),
            _ => None,
        }
    }
}

/// A JSON string and nothing else: a number or a boolean is refused, not
/// taken as its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Text(pub String);

impl From<Text> for Raw {
    fn from(text: Text) -> Raw {
        Raw::Text(text.0)
    }
}

/// An amount: a JSON number, or text that spells one (`₹3.2 Cr`, `85 lakh`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Amount {
    Number(serde_json::Number),
    Text(String),
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AmountVisitor;
        impl serde::de::Visitor<'_> for AmountVisitor {
            type Value = Amount;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number, or text such as \"3.2 Cr\"")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Amount, E> {
                Ok(Amount::Number(v.into()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Amount, E> {
                Ok(Amount::Number(v.into()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Amount, E> {
                serde_json::Number::from_f64(v)
                    .map(Amount::Number)
                    .ok_or_else(|| E::custom("is not a finite number"))
            }
            fn visit_str<E>(self, v: &str) -> Result<Amount, E> {
                Ok(Amount::Text(v.to_owned()))
            }
        }
        deserializer.deserialize_any(AmountVisitor)
    }
}

/// Inline, so that each field's own description and example stay with it.
impl utoipa::PartialSchema for Amount {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
        Schema::OneOf(
            OneOfBuilder::new()
                .description(Some(
                    "Rupees as a number, or text such as `3.2 Cr` or `85 lakh`",
                ))
                .item(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(0)),
                )
                .item(ObjectBuilder::new().schema_type(Type::String))
                .build(),
        )
        .into()
    }
}

impl ToSchema for Amount {}

impl From<Amount> for Raw {
    fn from(amount: Amount) -> Raw {
        match amount {
            Amount::Number(n) => Raw::Number(n),
            Amount::Text(t) => Raw::Text(t),
        }
    }
}

/// A JSON value as given: text, number, boolean or list of text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Raw {
    Bool(bool),
    Number(serde_json::Number),
    Text(String),
    List(Vec<String>),
}

impl Raw {
    pub fn text(&self) -> String {
        match self {
            Raw::Bool(b) => b.to_string(),
            Raw::Number(n) => n.to_string(),
            Raw::Text(t) => t.trim().to_owned(),
            Raw::List(items) => items.join("|"),
        }
    }
}
