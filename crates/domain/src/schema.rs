//! The validators' rules as they read in the OpenAPI document, so that a request built from the
//! schema passes the checks a schema can say (text without control characters and within its
//! length, a date that is a date). Rules that need the stored records or another field (an ID
//! number's check digit, a date not in the future, an end after its start) stay with the
//! validators and answer 422 naming the field. Used as `#[schema(schema_with = text::<100>)]`.
//!
//! Each also takes `null`, and a blank string where a blank is no value, as the `Option` fields
//! they describe do; the server's document takes both out of the fields an input requires (a
//! required field is never null or blank), and a required text is [`required_text`].

use utoipa::openapi::schema::{
    AnyOfBuilder, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};

/// A value of this type, or null.
fn or_null(t: Type) -> SchemaType {
    SchemaType::from_iter([t, Type::Null])
}

/// What [`crate::clean_text`] accepts: no control character (U+0000–U+001F, U+007F–U+009F).
const NO_CONTROL: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$";
/// As [`NO_CONTROL`], with one character that is not blank: what [`crate::required_text`] asks.
const NOT_BLANK: &str =
    "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$";
/// Text over several lines (minutes, a description): line breaks, no other control character.
const LINES: &str = "^[^\\u0000-\\u0009\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$";

fn string(pattern: &str, max_chars: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(or_null(Type::String))
        .pattern(Some(pattern))
        .max_length(Some(max_chars))
}

/// Free text of at most `MAX` characters; blank or absent is none.
pub fn text<const MAX: usize>() -> Object {
    string(NO_CONTROL, MAX).build()
}

/// Free text that must be given, at most `MAX` characters.
pub fn required_text<const MAX: usize>() -> Object {
    string(NOT_BLANK, MAX)
        .schema_type(Type::String)
        .min_length(Some(1))
        .build()
}

/// Text over several lines, at most `MAX` characters.
pub fn lines<const MAX: usize>() -> Object {
    string(LINES, MAX).build()
}

/// The value, or a blank string: a blank optional field is no value (as a form leaves it).
fn or_blank(value: Object) -> Schema {
    AnyOfBuilder::new()
        .item(value)
        .item(ObjectBuilder::new().schema_type(Type::String).max_length(Some(0)))
        .build()
        .into()
}

/// A calendar date, `YYYY-MM-DD` (`2024/5/1` is also read, as Excel users write it).
pub fn date() -> Schema {
    or_blank(
        ObjectBuilder::new()
            .schema_type(or_null(Type::String))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .build(),
    )
}

/// An instant, RFC 3339 (`YYYY-MM-DDTHH:MM` without an offset is also read, as Beijing time).
pub fn instant() -> Schema {
    or_blank(
        ObjectBuilder::new()
            .schema_type(or_null(Type::String))
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .build(),
    )
}

/// A month, `YYYY-MM`, as `domain::dues::Month` reads it.
pub const MONTH: &str = "^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$";

/// A month, `YYYY-MM`.
pub fn month() -> Schema {
    or_blank(
        ObjectBuilder::new()
            .schema_type(or_null(Type::String))
            .pattern(Some(MONTH))
            .build(),
    )
}

/// One of the given codes (an enumerated field also reads its Chinese label, see the validators).
pub fn one_of(codes: &[&str]) -> Schema {
    let values = codes.iter().map(|c| Some(*c)).chain([None]);
    or_blank(
        ObjectBuilder::new()
            .schema_type(or_null(Type::String))
            .enum_values(Some(values))
            .build(),
    )
}

/// Text of a fixed shape (an ID number, a phone), or null.
pub fn shaped(pattern: &'static str) -> Object {
    ObjectBuilder::new()
        .schema_type(or_null(Type::String))
        .pattern(Some(pattern))
        .build()
}

/// A record's id.
pub fn id() -> Object {
    ObjectBuilder::new()
        .schema_type(or_null(Type::Integer))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(1))
        .build()
}
