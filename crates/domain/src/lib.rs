//! Hongji's rules and types: pure, no I/O. Everything here is checked by unit and property tests.

/// A closed set of codes with their Chinese labels (the API's words and the national system's):
/// `as_str`, `zh`, `parse` (code or label), `refused` and the OpenAPI `schema`.
macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $code:literal / $zh:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            /// Chinese label, as written in spreadsheets from the national member information system.
            pub fn zh(self) -> &'static str {
                match self { $($name::$variant => $zh),+ }
            }
            /// Accepts the API code or the Chinese label, or a shorter form of the label that
            /// only one label contains (`本科` for 大学本科; `研究生` fits two and is refused).
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                if let Some(v) = Self::ALL.iter().copied().find(|v| v.as_str() == s || v.zh() == s) {
                    return Some(v);
                }
                let mut fits = Self::ALL.iter().copied().filter(|v| s.chars().count() >= 2 && v.zh().contains(s));
                match (fits.next(), fits.next()) {
                    (Some(v), None) => Some(v),
                    _ => None,
                }
            }
            /// The error for a value that is none of these (`invalid`), carrying the accepted
            /// labels for the message to list.
            pub fn refused(field: &'static str) -> $crate::FieldError {
                let labels: Vec<String> = Self::ALL.iter().map(|v| format!("{}（{}）", v.zh(), v.as_str())).collect();
                $crate::FieldError::new(field, format!("invalid:{}", labels.join("、")))
            }
            /// The codes, for the OpenAPI document.
            pub fn schema() -> utoipa::openapi::schema::Schema {
                $crate::schema::one_of(&[$($code),+])
            }
        }
    };
}

pub mod dashboard;
pub mod development;
pub mod dues;
pub mod error;
pub mod id_number;
pub mod life;
pub mod member;
pub mod org;
pub mod password;
pub mod phone;
pub mod quality;
pub mod schema;
pub mod study;
pub mod time;

pub use error::{FieldError, Invalid};
pub use id_number::IdNumber;
pub use phone::Phone;

/// Trims a free-text field and refuses control characters and over-long values.
pub fn clean_text(field: &'static str, value: &str, max_chars: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    // Counted as sent, before trimming: the API's schema bounds the value given.
    if value.chars().count() > max_chars {
        errors.push(FieldError::new(field, "too_long"));
        return None;
    }
    let value = value.trim();
    if value.chars().any(|c| c.is_control()) {
        errors.push(FieldError::new(field, "invalid"));
        return None;
    }
    if value.is_empty() {
        None
    } else {
        Some(value.to_string())
    }
}

/// A required free-text field: as [`clean_text`], and `required` when blank or missing.
pub fn required_text(
    field: &'static str,
    value: Option<&str>,
    max_chars: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let before = errors.len();
    let cleaned = value.and_then(|v| clean_text(field, v, max_chars, errors));
    if cleaned.is_none() && errors.len() == before {
        errors.push(FieldError::new(field, "required"));
    }
    cleaned
}

/// A date that has happened (`YYYY-MM-DD`); blank is `None` without an error.
pub fn past_date(
    field: &'static str,
    value: Option<&str>,
    today: chrono::NaiveDate,
    errors: &mut Vec<FieldError>,
) -> Option<chrono::NaiveDate> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    match member::parse_date(value) {
        None => {
            errors.push(FieldError::new(field, time::date_problem(value)));
            None
        }
        Some(d) if d > today => {
            errors.push(FieldError::new(field, "in_future"));
            None
        }
        Some(d) => Some(d),
    }
}

/// A date that has happened and must be given: as [`past_date`], and `required` when blank.
pub fn required_past_date(
    field: &'static str,
    value: Option<&str>,
    today: chrono::NaiveDate,
    errors: &mut Vec<FieldError>,
) -> Option<chrono::NaiveDate> {
    if value.is_none_or(|v| v.trim().is_empty()) {
        errors.push(FieldError::new(field, "required"));
        return None;
    }
    past_date(field, value, today, errors)
}
