//! Online study (学习教育), the second library: library items published through the review chain
//! (`items`, imported from a workbook by `item_import`) with their documents, video and audio (`media`), study tasks to a subtree or chosen organizations with each member's progress
//! (`tasks`), the question bank (`questions`) and exams drawn from it (`exams`), training classes and their rolls (`classes`), the 学时 ledger's lines and the
//! exemptions (`credits`), and what reads them together: a member's year and the report over a
//! subtree (`reports`), from the totals kept beside the sources (`totals`).
//!
//! Credit comes from content and records, never from time online or logins, and no member is
//! ranked against another (党员教育管理工作条例 2019 Art. 20; 国办函〔2026〕12号).

pub mod attempts;
pub mod classes;
pub mod credits;
pub mod exams;
pub mod item_import;
pub mod items;
pub mod media;
pub mod questions;
pub mod reports;
pub mod tasks;
pub mod totals;

use crate::scope::{Caller, Perm};
use domain::study::Category;
use domain::FieldError;

/// Whether the caller manages study at an organization (publishes, assigns, records offline).
pub fn manages(caller: &Caller, path: &str) -> bool {
    caller.can_at(Perm::ManageStudy, path)
}

/// The categories of 条例 Arts. 9–15 as given (codes or Chinese labels), at least one, stored
/// between commas.
pub(crate) fn categories(given: &[String], e: &mut Vec<FieldError>) -> String {
    let mut codes: Vec<String> = Vec::new();
    for c in given {
        match Category::parse(c) {
            Some(c) if !codes.iter().any(|k| k == c.as_str()) => codes.push(c.as_str().to_string()),
            Some(_) => {}
            None => e.push(FieldError::new("categories", "invalid_value")),
        }
    }
    if given.is_empty() {
        e.push(FieldError::new("categories", "required"));
    }
    join_codes(&codes)
}

/// A multi-line text field: trimmed, bounded, with no control characters but line breaks and tabs.
pub(crate) fn text_block(field: &'static str, value: Option<&str>, max: usize, e: &mut Vec<FieldError>) -> String {
    let v = value.unwrap_or("").trim();
    if v.chars().count() > max {
        e.push(FieldError::new(field, "too_long"));
    } else if v.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        e.push(FieldError::new(field, "invalid"));
    }
    v.replace("\r\n", "\n")
}

/// A date given as `YYYY-MM-DD` within the years study records take (2000–2100); `None` when
/// absent or refused (the refusal goes to `e`).
pub(crate) fn date(field: &'static str, text: Option<&str>, e: &mut Vec<FieldError>) -> Option<chrono::NaiveDate> {
    let text = text.map(str::trim).filter(|t| !t.is_empty())?;
    match chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(d) if (2000..=2100).contains(&chrono::Datelike::year(&d)) => Some(d),
        Ok(_) => {
            e.push(FieldError::new(field, "out_of_range"));
            None
        }
        Err(_) => {
            e.push(FieldError::new(field, "invalid"));
            None
        }
    }
}

/// `",theory,history,"` → `["theory", "history"]`.
pub(crate) fn split_codes(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `["theory", "history"]` → `",theory,history,"`, so that one code is matched whole with LIKE.
pub(crate) fn join_codes(codes: &[String]) -> String {
    if codes.is_empty() {
        String::new()
    } else {
        format!(",{},", codes.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stored_between_commas() {
        let codes = vec!["theory".to_string(), "history".to_string()];
        assert_eq!(join_codes(&codes), ",theory,history,");
        assert_eq!(split_codes(&join_codes(&codes)), codes);
        assert!(split_codes("").is_empty());
    }
}
