//! OpenAPI schemas the derive cannot state: lists of bounded texts and
//! bounded maps, so the document says the limits the services enforce.

use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{RefOr, schema::AdditionalProperties};

/// A string of at most `max` characters.
fn text(max: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(max))
}

/// A list of up to `count` texts of up to `each` characters, or `null`
/// where `nullable`.
fn texts(count: usize, each: usize, nullable: bool) -> Schema {
    let kind = if nullable {
        utoipa::openapi::schema::SchemaType::from_iter([Type::Array, Type::Null])
    } else {
        utoipa::openapi::schema::SchemaType::new(Type::Array)
    };
    ArrayBuilder::new()
        .schema_type(kind)
        .items(text(each))
        .max_items(Some(count))
        .into()
}

/// A persona's escalation triggers: up to 20 of up to 200 characters.
pub fn escalation_triggers() -> Schema {
    texts(20, 200, false)
}

/// A persona's personality traits: up to 20 of up to 60 characters.
pub fn personality_traits() -> Schema {
    texts(20, 60, true)
}

/// A property's amenities: up to 50 of up to 80 characters.
pub fn amenities() -> Schema {
    texts(50, 80, true)
}

/// A property's specifications: up to 50 names of 1-60 characters (not
/// blank), values of up to 300.
pub fn specifications() -> Schema {
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::Object,
            Type::Null,
        ]))
        .property_names(Some(text(60).min_length(Some(1)).pattern(Some(r"\S"))))
        .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(
            text(300).into(),
        ))))
        .max_properties(Some(50))
        .into()
}
