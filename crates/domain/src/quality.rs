//! Data quality (数据质量): the platform's own validators, run over records as they are stored
//! (rows loaded in bulk, migrated from another system or written before a rule existed), so that
//! what the forms would refuse today is found and fixed through the normal edit and correction
//! flows. Nothing here changes a record.

use chrono::NaiveDate;

use crate::member::{years_between, Category, Gender};
use crate::IdNumber;

/// The checks, in the order reports list them.
pub const CHECKS: [&str; 8] = [
    "id_checksum",
    "id_agrees",
    "joined_18",
    "full_after_year",
    "education_missing",
    "dissolved_org",
    "duplicate",
    "terms_missing",
];

/// The share of records (in percent) that must pass a check for an organization to pass it.
pub const THRESHOLD_PERCENT: i64 = 99;

/// A member's record as stored, with the ID number opened in memory for the check.
pub struct StoredMember<'a> {
    pub id_number: &'a str,
    pub gender: &'a str,
    pub birth_date: NaiveDate,
    pub joined_on: NaiveDate,
    pub full_member_on: Option<NaiveDate>,
    pub category: &'a str,
    pub education: Option<&'a str>,
    /// The member's organization has been dissolved (撤销): the member must be moved.
    pub org_dissolved: bool,
}

/// The checks a stored record fails: the ID number's GB 11643 check digit; birth date and sex as
/// the number states them; 18 or older when joining (党章 Art. 1); full membership a year or more
/// after joining (党章 Art. 7), and a date for it when full; education recorded; an organization
/// that still exists (a dissolved one's members belong elsewhere: its records were moved before
/// the rule that refuses dissolving it with members, or came in by a bulk load).
pub fn member_failures(m: &StoredMember) -> Vec<&'static str> {
    let mut failed = Vec::new();
    match IdNumber::parse(m.id_number) {
        Ok(id) => {
            let sex_agrees = Gender::parse(m.gender) == Some(id.gender());
            if id.birth_date() != Some(m.birth_date) || !sex_agrees {
                failed.push("id_agrees");
            }
        }
        Err(_) => failed.push("id_checksum"),
    }
    if years_between(m.birth_date, m.joined_on) < 18 {
        failed.push("joined_18");
    }
    let full = Category::parse(m.category) == Some(Category::Full);
    match m.full_member_on {
        Some(on) if years_between(m.joined_on, on) < 1 => failed.push("full_after_year"),
        None if full => failed.push("full_after_year"),
        _ => {}
    }
    if m.education.is_none_or(|e| e.trim().is_empty()) {
        failed.push("education_missing");
    }
    if m.org_dissolved {
        failed.push("dissolved_org");
    }
    failed
}

/// Whether `passing` of `checked` records meet the threshold.
pub fn passes(failed: i64, checked: i64) -> bool {
    checked == 0 || (checked - failed) * 100 >= THRESHOLD_PERCENT * checked
}

/// The path both records sit under: a duplicate is shown only to the organization above both.
pub fn common_path<'a>(a: &'a str, b: &str) -> &'a str {
    let mut end = 0;
    for ((i, x), y) in a.char_indices().zip(b.chars()) {
        if x != y {
            break;
        }
        if x == '/' {
            end = i + 1;
        }
    }
    &a[..end.max(1).min(a.len())]
}

/// A person's name as a sample shows it: the family name, the rest hidden (`张**`).
pub fn masked_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => format!("{first}{}", "*".repeat(chars.count().max(1))),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn each_rule_is_found_and_a_good_record_passes() {
        let id = IdNumber::compose(330102, d(1990, 1, 1), 11);
        let good = StoredMember {
            id_number: id.as_str(),
            gender: "male",
            birth_date: d(1990, 1, 1),
            joined_on: d(2010, 7, 1),
            full_member_on: Some(d(2011, 7, 1)),
            category: "full",
            education: Some("bachelor"),
            org_dissolved: false,
        };
        assert!(member_failures(&good).is_empty());
        let mut wrong_digit = id.as_str().to_string();
        let last = wrong_digit.pop().unwrap();
        wrong_digit.push(if last == '0' { '1' } else { '0' });
        let cases: [(StoredMember, &str); 7] = [
            (
                StoredMember {
                    id_number: &wrong_digit,
                    ..good
                },
                "id_checksum",
            ),
            (
                StoredMember {
                    gender: "female",
                    ..good
                },
                "id_agrees",
            ),
            (
                StoredMember {
                    birth_date: d(1990, 1, 2),
                    joined_on: d(2010, 7, 1),
                    ..good
                },
                "id_agrees",
            ),
            (
                StoredMember {
                    joined_on: d(2007, 12, 31),
                    full_member_on: Some(d(2009, 1, 1)),
                    ..good
                },
                "joined_18",
            ),
            (
                StoredMember {
                    full_member_on: Some(d(2011, 6, 30)),
                    ..good
                },
                "full_after_year",
            ),
            (
                StoredMember {
                    education: None,
                    ..good
                },
                "education_missing",
            ),
            (
                StoredMember {
                    org_dissolved: true,
                    ..good
                },
                "dissolved_org",
            ),
        ];
        for (m, check) in cases {
            assert!(member_failures(&m).contains(&check), "{check}");
        }
        assert!(member_failures(&StoredMember {
            full_member_on: None,
            ..good
        })
        .contains(&"full_after_year"));
        assert!(member_failures(&StoredMember {
            full_member_on: None,
            category: "probationary",
            ..good
        })
        .is_empty());
    }

    #[test]
    fn thresholds_paths_and_masks() {
        assert!(passes(1, 100));
        assert!(!passes(2, 100));
        assert!(passes(0, 0));
        assert_eq!(common_path("/1/45/9/", "/1/45/12/"), "/1/45/");
        assert_eq!(common_path("/1/4/", "/1/45/"), "/1/");
        assert_eq!(common_path("/1/", "/2/"), "/");
        assert_eq!(masked_name("张三丰"), "张**");
        assert_eq!(masked_name("李"), "李*");
    }
}
