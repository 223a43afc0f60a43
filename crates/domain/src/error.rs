use serde::Serialize;
use std::borrow::Cow;

/// One field that failed validation, with a stable code such as `invalid` or `required`;
/// the full machine code is `<entity>.<field>.<code>`. A code may carry one value after a colon
/// (`mismatch:78.00`) for the message to quote; the machine code is the part before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub code: Cow<'static, str>,
}

impl FieldError {
    pub fn new(field: &'static str, code: impl Into<Cow<'static, str>>) -> Self {
        Self {
            field,
            code: code.into(),
        }
    }
}

/// Validation failed on one or more fields; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {}", .0.iter().map(|e| format!("{}.{}", e.field, e.code)).collect::<Vec<_>>().join(", "))]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    pub fn one(field: &'static str, code: &'static str) -> Self {
        Self(vec![FieldError::new(field, code)])
    }
}

/// Turns collected field errors into a result.
pub fn check(errors: Vec<FieldError>) -> Result<(), Invalid> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Invalid(errors))
    }
}
