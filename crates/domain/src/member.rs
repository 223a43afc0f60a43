//! A member's record and its validation (党员管理). Input arrives as text from forms, the API and
//! import files; `MemberInput::validate` turns it into typed values or names every bad field.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::{check, FieldError, Invalid};
use crate::schema::{date, required_text, text};
use crate::{clean_text, IdNumber, Phone};

code_enum!(Gender { Male = "male" / "男", Female = "female" / "女" });

code_enum!(
    /// 预备党员 or 正式党员.
    Category { Probationary = "probationary" / "预备党员", Full = "full" / "正式党员" }
);

code_enum!(
    /// A member's standing. Only `active` members count in sizes and rosters by default.
    Status {
        Active = "active" / "正常",
        TransferredOut = "transferred_out" / "已转出",
        /// 停止党籍 (lost contact ≥ 6 months, 党员教育管理工作条例).
        Suspended = "suspended" / "停止党籍",
        Deceased = "deceased" / "已去世",
        Left = "left" / "已出党",
    }
);

code_enum!(Education {
    Doctorate = "doctorate" / "博士研究生",
    Master = "master" / "硕士研究生",
    Bachelor = "bachelor" / "大学本科",
    Associate = "associate" / "大学专科",
    SecondaryVocational = "secondary_vocational" / "中专",
    HighSchool = "high_school" / "高中",
    JuniorHighOrBelow = "junior_high_or_below" / "初中及以下",
});

/// The 56 ethnic groups of China (GB 3304-1991 names).
pub const ETHNICITIES: [&str; 56] = [
    "汉族",
    "蒙古族",
    "回族",
    "藏族",
    "维吾尔族",
    "苗族",
    "彝族",
    "壮族",
    "布依族",
    "朝鲜族",
    "满族",
    "侗族",
    "瑶族",
    "白族",
    "土家族",
    "哈尼族",
    "哈萨克族",
    "傣族",
    "黎族",
    "傈僳族",
    "佤族",
    "畲族",
    "高山族",
    "拉祜族",
    "水族",
    "东乡族",
    "纳西族",
    "景颇族",
    "柯尔克孜族",
    "土族",
    "达斡尔族",
    "仫佬族",
    "羌族",
    "布朗族",
    "撒拉族",
    "毛南族",
    "仡佬族",
    "锡伯族",
    "阿昌族",
    "普米族",
    "塔吉克族",
    "怒族",
    "乌孜别克族",
    "俄罗斯族",
    "鄂温克族",
    "德昂族",
    "保安族",
    "裕固族",
    "京族",
    "塔塔尔族",
    "独龙族",
    "鄂伦春族",
    "赫哲族",
    "门巴族",
    "珞巴族",
    "基诺族",
];

/// A member record as typed or imported: every field text, every field optional (a patch leaves
/// out what it keeps; what a create needs is required by its operation's schema).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct MemberInput {
    #[schema(schema_with = required_text::<50>)]
    pub name: Option<String>,
    #[schema(schema_with = Gender::schema)]
    pub gender: Option<String>,
    /// One of the 56 ethnic groups (GB 3304), `汉族` or `汉`.
    #[schema(schema_with = text::<10>)]
    pub ethnicity: Option<String>,
    /// Read from the ID number when absent; when given, it must agree with it.
    #[schema(schema_with = date)]
    pub birth_date: Option<String>,
    /// 18 characters with a valid check digit (GB 11643).
    #[schema(schema_with = IdNumber::schema)]
    pub id_number: Option<String>,
    #[schema(schema_with = Phone::schema)]
    pub phone: Option<String>,
    #[schema(schema_with = text::<200>)]
    pub address: Option<String>,
    #[schema(schema_with = Education::schema)]
    pub education: Option<String>,
    #[schema(schema_with = text::<100>)]
    pub work_unit: Option<String>,
    #[schema(schema_with = text::<50>)]
    pub post: Option<String>,
    #[schema(schema_with = date)]
    pub joined_on: Option<String>,
    /// Required for a full member, refused for a probationary one.
    #[schema(schema_with = date)]
    pub full_member_on: Option<String>,
    #[schema(schema_with = Category::schema)]
    pub category: Option<String>,
    #[schema(schema_with = Status::schema)]
    pub status: Option<String>,
    pub offline: Option<bool>,
}

/// A validated record, ready to store.
#[derive(Debug, Clone)]
pub struct ValidMember {
    pub name: String,
    pub gender: Gender,
    pub ethnicity: String,
    pub birth_date: NaiveDate,
    pub id_number: IdNumber,
    pub phone: Option<Phone>,
    pub address: Option<String>,
    pub education: Option<Education>,
    pub work_unit: Option<String>,
    pub post: Option<String>,
    pub joined_on: NaiveDate,
    pub full_member_on: Option<NaiveDate>,
    pub category: Category,
    pub status: Status,
    pub offline: bool,
}

/// Parses `2024-05-01`, also `2024/5/1` and `2024.5.1` as Excel users write them.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let parts: Vec<&str> = s.split(['-', '/', '.']).collect();
    if parts.len() != 3 || parts[0].len() != 4 {
        return None;
    }
    let nums: Vec<u32> = parts.iter().map(|p| p.parse().ok()).collect::<Option<_>>()?;
    NaiveDate::from_ymd_opt(nums[0] as i32, nums[1], nums[2]).filter(|d| crate::time::DATE_YEARS.contains(&d.year()))
}

/// Whole years from `from` to `to`.
pub fn years_between(from: NaiveDate, to: NaiveDate) -> i32 {
    let mut years = to.year() - from.year();
    if (to.month(), to.day()) < (from.month(), from.day()) {
        years -= 1;
    }
    years
}

fn required<'a>(field: &'static str, v: &'a Option<String>, errors: &mut Vec<FieldError>) -> Option<&'a str> {
    match v.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => Some(s),
        _ => {
            errors.push(FieldError::new(field, "required"));
            None
        }
    }
}

fn optional(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn date_field(field: &'static str, s: &str, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    let d = parse_date(s);
    if d.is_none() {
        errors.push(FieldError::new(field, crate::time::date_problem(s)));
    }
    d
}

impl MemberInput {
    /// Checks every field and the rules between them; `today` is the local date (Asia/Shanghai).
    pub fn validate(&self, today: NaiveDate) -> Result<ValidMember, Invalid> {
        let mut e = Vec::new();
        let name = required("name", &self.name, &mut e).and_then(|n| clean_text("name", n, 50, &mut e));
        let gender = required("gender", &self.gender, &mut e).and_then(|g| {
            Gender::parse(g).or_else(|| {
                e.push(Gender::refused("gender"));
                None
            })
        });
        let ethnicity = match optional(&self.ethnicity) {
            None => Some("汉族".to_string()),
            Some(s) if ETHNICITIES.contains(&s) => Some(s.to_string()),
            // "汉" for "汉族" is common in spreadsheets.
            Some(s) if ETHNICITIES.iter().any(|n| n.strip_suffix('族') == Some(s)) => Some(format!("{s}族")),
            Some(_) => {
                e.push(FieldError::new("ethnicity", "invalid"));
                None
            }
        };
        let id_number = required("id_number", &self.id_number, &mut e).and_then(|s| match IdNumber::parse(s) {
            Ok(id) => Some(id),
            Err(crate::id_number::IdNumberError::Checksum) => {
                e.push(FieldError::new("id_number", "checksum"));
                None
            }
            Err(_) => {
                e.push(FieldError::new("id_number", "invalid"));
                None
            }
        });
        // The birth date may be left out: the ID number carries it.
        let birth_date = match optional(&self.birth_date) {
            Some(s) => date_field("birth_date", s, &mut e),
            None => match &id_number {
                Some(id) => id.birth_date(),
                // A bad ID number is reported once, not again as a missing birth date.
                None if optional(&self.id_number).is_some() => None,
                None => {
                    e.push(FieldError::new("birth_date", "required"));
                    None
                }
            },
        };
        if let (Some(id), Some(b)) = (&id_number, birth_date) {
            if id.birth_date() != Some(b) {
                e.push(FieldError::new("birth_date", "mismatch_id_number"));
            }
        }
        if let (Some(id), Some(g)) = (&id_number, gender) {
            if id.gender() != g {
                e.push(FieldError::new("gender", "mismatch_id_number"));
            }
        }
        let phone = optional(&self.phone).and_then(|s| {
            Phone::parse(s).or_else(|| {
                e.push(FieldError::new("phone", "invalid"));
                None
            })
        });
        let address = optional(&self.address).and_then(|s| clean_text("address", s, 200, &mut e));
        let education = optional(&self.education).and_then(|s| {
            Education::parse(s).or_else(|| {
                e.push(Education::refused("education"));
                None
            })
        });
        let work_unit = optional(&self.work_unit).and_then(|s| clean_text("work_unit", s, 100, &mut e));
        let post = optional(&self.post).and_then(|s| clean_text("post", s, 50, &mut e));
        let joined_on = required("joined_on", &self.joined_on, &mut e).and_then(|s| date_field("joined_on", s, &mut e));
        let full_member_on = optional(&self.full_member_on).and_then(|s| date_field("full_member_on", s, &mut e));
        let category = match optional(&self.category) {
            None => Some(if full_member_on.is_some() {
                Category::Full
            } else {
                Category::Probationary
            }),
            Some(s) => Category::parse(s).or_else(|| {
                e.push(Category::refused("category"));
                None
            }),
        };
        let status = match optional(&self.status) {
            None => Some(Status::Active),
            Some(s) => Status::parse(s).or_else(|| {
                e.push(Status::refused("status"));
                None
            }),
        };

        if let Some(b) = birth_date {
            if b > today {
                e.push(FieldError::new("birth_date", "in_future"));
            }
            // 党章 Art. 1 and 发展党员工作细则 Art. 5: members are at least 18 when they apply.
            if let Some(j) = joined_on {
                if years_between(b, j) < 18 {
                    e.push(FieldError::new("joined_on", "under_18"));
                }
            }
        }
        if let Some(j) = joined_on {
            if j > today {
                e.push(FieldError::new("joined_on", "in_future"));
            }
        }
        match (category, full_member_on, joined_on) {
            (Some(Category::Full), None, _) => e.push(FieldError::new("full_member_on", "required")),
            (Some(Category::Probationary), Some(_), _) => e.push(FieldError::new("full_member_on", "not_probationary")),
            // 发展党员工作细则 Art. 29: probation lasts one year from admission (it may be extended).
            (_, Some(f), Some(j)) if f < j + chrono::Months::new(12) => {
                e.push(FieldError::new("full_member_on", "before_probation_ends"))
            }
            (_, Some(f), _) if f > today => e.push(FieldError::new("full_member_on", "in_future")),
            _ => {}
        }
        check(e)?;
        Ok(ValidMember {
            name: name.unwrap(),
            gender: gender.unwrap(),
            ethnicity: ethnicity.unwrap(),
            birth_date: birth_date.unwrap(),
            id_number: id_number.unwrap(),
            phone,
            address,
            education,
            work_unit,
            post,
            joined_on: joined_on.unwrap(),
            full_member_on,
            category: category.unwrap(),
            status: status.unwrap(),
            offline: self.offline.unwrap_or(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    fn input() -> MemberInput {
        MemberInput {
            name: Some("王芳".into()),
            gender: Some("female".into()),
            id_number: Some("11010519491231002X".into()),
            joined_on: Some("1975-07-01".into()),
            full_member_on: Some("1976-07-01".into()),
            ..Default::default()
        }
    }

    fn codes(r: Result<ValidMember, Invalid>) -> Vec<(&'static str, &'static str)> {
        r.err()
            .map(|e| {
                e.0.iter()
                    .map(|f| match f.code {
                        std::borrow::Cow::Borrowed(code) => (f.field, code),
                        std::borrow::Cow::Owned(_) => unreachable!("member validation codes are static"),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn valid_record_with_defaults() {
        let m = input().validate(today()).unwrap();
        assert_eq!(m.birth_date, NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        assert_eq!(m.category, Category::Full);
        assert_eq!(m.status, Status::Active);
        assert_eq!(m.ethnicity, "汉族");
    }

    #[test]
    fn names_every_bad_field() {
        let mut i = input();
        i.name = Some("  ".into());
        i.gender = Some("male".into());
        i.phone = Some("123".into());
        i.birth_date = Some("1950-01-01".into());
        let c = codes(i.validate(today()));
        assert!(c.contains(&("name", "required")));
        assert!(c.contains(&("gender", "mismatch_id_number")));
        assert!(c.contains(&("phone", "invalid")));
        assert!(c.contains(&("birth_date", "mismatch_id_number")));
    }

    #[test]
    fn checksum_is_its_own_error() {
        let mut i = input();
        i.id_number = Some("110105194912310021".into());
        assert_eq!(codes(i.validate(today())), vec![("id_number", "checksum")]);
    }

    #[test]
    fn probation_and_age_rules() {
        let mut i = input();
        i.full_member_on = Some("1976-06-30".into());
        assert_eq!(
            codes(i.validate(today())),
            vec![("full_member_on", "before_probation_ends")]
        );
        let mut i = input();
        i.joined_on = Some("1967-12-30".into());
        i.full_member_on = Some("1969-01-01".into());
        assert_eq!(codes(i.validate(today())), vec![("joined_on", "under_18")]);
        let mut i = input();
        i.joined_on = Some("1967-12-31".into());
        i.full_member_on = Some("1969-01-01".into());
        assert!(i.validate(today()).is_ok());
        let mut i = input();
        i.category = Some("probationary".into());
        assert_eq!(codes(i.validate(today())), vec![("full_member_on", "not_probationary")]);
    }

    #[test]
    fn accepts_chinese_labels_and_excel_dates() {
        let mut i = input();
        i.gender = Some("女".into());
        i.category = Some("正式党员".into());
        i.education = Some("本科".into());
        i.ethnicity = Some("回".into());
        i.joined_on = Some("1975/7/1".into());
        let m = i.validate(today()).unwrap();
        assert_eq!(m.education, Some(Education::Bachelor));
        assert_eq!(m.ethnicity, "回族");
        assert_eq!(m.joined_on, NaiveDate::from_ymd_opt(1975, 7, 1).unwrap());
    }

    #[test]
    fn an_unknown_or_ambiguous_label_is_refused_with_the_accepted_values() {
        assert_eq!(Education::parse("研究生"), None, "doctorate and master both fit");
        assert_eq!(Education::parse("专科"), Some(Education::Associate));
        let mut i = input();
        i.education = Some("研究生".into());
        let err = i.validate(today()).unwrap_err();
        let code = &err.0.iter().find(|f| f.field == "education").unwrap().code;
        assert!(
            code.starts_with("invalid:") && code.contains("大学本科（bachelor）"),
            "{code}"
        );
    }

    #[test]
    fn refuses_long_and_control_text() {
        let mut i = input();
        i.name = Some("王".repeat(51));
        i.work_unit = Some("a\u{0}b".into());
        let c = codes(i.validate(today()));
        assert_eq!(c, vec![("name", "too_long"), ("work_unit", "invalid")]);
    }
}
