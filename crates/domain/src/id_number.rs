//! Resident identity card numbers (公民身份号码), GB 11643-1999: 17 digits and an ISO 7064
//! MOD 11-2 check character (`0`–`9` or `X`). Digits 7–14 are the birth date; digit 17 is odd for
//! men and even for women.

use chrono::NaiveDate;
use std::fmt;

use crate::member::Gender;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdNumberError {
    /// Not 17 digits followed by a digit or X.
    Format,
    /// The check character does not match (GB 11643 §4.2).
    Checksum,
    /// Digits 7–14 are not a real date.
    BirthDate,
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The check character for the first 17 digits (ISO 7064 MOD 11-2).
pub fn check_char(first17: &[u8]) -> char {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    CHECK_CHARS[(sum % 11) as usize]
}

impl IdNumber {
    /// Parses a number as typed: surrounding spaces ignored, a lower-case `x` accepted.
    /// Its shape, as the OpenAPI document describes it: the check digit and the birth date in it
    /// are checked by `parse`.
    pub fn schema() -> utoipa::openapi::schema::Object {
        crate::schema::shaped("^[0-9]{17}[0-9Xx]$")
    }

    pub fn parse(input: &str) -> Result<Self, IdNumberError> {
        let s = input.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(IdNumberError::Format);
        }
        if check_char(&b[..17]) != b[17] as char {
            return Err(IdNumberError::Checksum);
        }
        let id = IdNumber(s);
        id.birth_date().ok_or(IdNumberError::BirthDate)?;
        Ok(id)
    }

    /// Builds a valid number from a region code, birth date and sequence (used by the demo and
    /// generator). `sequence` is 0–999; its parity gives the sex.
    pub fn compose(region: u32, birth: NaiveDate, sequence: u32) -> Self {
        let mut s = format!(
            "{:06}{}{:03}",
            region % 1_000_000,
            birth.format("%Y%m%d"),
            sequence % 1000
        );
        let c = check_char(s.as_bytes());
        s.push(c);
        IdNumber(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").ok()
    }

    pub fn gender(&self) -> Gender {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        }
    }

    /// Province and city kept, the last two characters kept: `3301************3X`. The common
    /// "first six, last four" mask hides exactly the birth date, which rosters show beside it, so
    /// the whole number could be rebuilt from a masked list; this one leaves thousands of candidates.
    pub fn masked(&self) -> String {
        format!("{}************{}", &self.0[..4], &self.0[16..])
    }
}

impl fmt::Debug for IdNumber {
    // Never print a full ID number, even in debug logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_known_valid_numbers() {
        // The specimen number from GB 11643-1999.
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31));
        assert_eq!(id.gender(), Gender::Female);
        assert_eq!(id.masked(), "1101************2X");
        assert!(IdNumber::parse(" 11010519491231002x ").is_ok());
    }

    #[test]
    fn refuses_wrong_checksum_format_and_date() {
        assert_eq!(IdNumber::parse("110105194912310021"), Err(IdNumberError::Checksum));
        assert_eq!(IdNumber::parse("11010519491231002"), Err(IdNumberError::Format));
        assert_eq!(IdNumber::parse("1101051949123100ZX"), Err(IdNumberError::Format));
        assert_eq!(
            IdNumber::parse("１１０１０５１９４９１２３１００２Ｘ"),
            Err(IdNumberError::Format)
        );
        let mut bad_date = b"11010519490231002".to_vec();
        bad_date.push(check_char(&bad_date) as u8);
        assert_eq!(
            IdNumber::parse(std::str::from_utf8(&bad_date).unwrap()),
            Err(IdNumberError::BirthDate)
        );
    }

    #[test]
    fn debug_output_is_masked() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert!(!format!("{id:?}").contains("19491231"));
    }

    proptest! {
        #[test]
        fn composed_numbers_round_trip(region in 110000u32..660000, days in 0i64..36500, seq in 0u32..1000) {
            let birth = NaiveDate::from_ymd_opt(1920, 1, 1).unwrap() + chrono::Duration::days(days);
            let id = IdNumber::compose(region, birth, seq);
            let parsed = IdNumber::parse(id.as_str()).unwrap();
            prop_assert_eq!(parsed.birth_date(), Some(birth));
            prop_assert_eq!(parsed.gender() == Gender::Male, seq % 2 == 1);
        }

        #[test]
        fn any_single_digit_change_is_caught(region in 110000u32..660000, days in 0i64..36500, seq in 0u32..1000, pos in 0usize..17, delta in 1u8..10) {
            let birth = NaiveDate::from_ymd_opt(1920, 1, 1).unwrap() + chrono::Duration::days(days);
            let mut bytes = IdNumber::compose(region, birth, seq).as_str().as_bytes().to_vec();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(IdNumber::parse(&changed).is_err());
        }
    }
}
