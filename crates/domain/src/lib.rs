//! Hongji's rules and types: pure, no I/O. Everything here is checked by unit and property tests.

pub mod development;
pub mod dues;
pub mod error;
pub mod id_number;
pub mod life;
pub mod member;
pub mod org;
pub mod password;
pub mod phone;

pub use error::{FieldError, Invalid};
pub use id_number::IdNumber;
pub use phone::Phone;

/// Trims a free-text field and refuses control characters and over-long values.
pub fn clean_text(field: &'static str, value: &str, max_chars: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    let value = value.trim();
    if value.chars().count() > max_chars {
        errors.push(FieldError::new(field, "too_long"));
        return None;
    }
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
