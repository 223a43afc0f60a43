//! Mainland mobile numbers: 11 digits starting 13–19, optionally written with +86 and spaces or dashes.

use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    pub fn parse(input: &str) -> Option<Self> {
        let digits: String = input
            .trim()
            .trim_start_matches("+86")
            .chars()
            .filter(|c| *c != ' ' && *c != '-')
            .collect();
        let b = digits.as_bytes();
        let ok = b.len() == 11 && b.iter().all(u8::is_ascii_digit) && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]);
        ok.then_some(Phone(digits))
    }

    /// A mainland mobile number, or blank for none, as the OpenAPI document describes it (`+86`,
    /// spaces and dashes are also read).
    pub fn schema() -> utoipa::openapi::schema::Object {
        crate::schema::shaped("^(1[3-9][0-9]{9})?$")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****5678`.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_and_masks() {
        let p = Phone::parse("+86 138-0013-8000").unwrap();
        assert_eq!(p.as_str(), "13800138000");
        assert_eq!(p.masked(), "138****8000");
        assert!(Phone::parse("12800138000").is_none());
        assert!(Phone::parse("1380013800").is_none());
        assert!(Phone::parse("138001380001").is_none());
        assert!(Phone::parse("1380013800a").is_none());
    }
}
