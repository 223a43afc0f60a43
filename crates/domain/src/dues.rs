//! Party dues (党费), exact to the fen: 关于中国共产党党费收缴、使用和管理的规定 (中组发〔2008〕3号)
//! and 组电明字〔2017〕5号. One rate applies to the whole base (not marginal); band upper bounds
//! are inclusive.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuesCategory {
    /// 在职: monthly after-tax regular pay.
    Employed,
    /// 离退休: the basic pension.
    Retired,
    /// 年薪制: the pay actually received that month (the employed bands).
    AnnualSalary,
    /// 个体经营: last quarter's average monthly net income (the employed bands).
    SelfEmployed,
    /// 农民: a set amount of 0.2–1 yuan a month.
    Rural,
    /// 学生: 0.2 yuan.
    Student,
    /// 下岗失业: 0.2 yuan.
    Unemployed,
    /// 享受抚恤、救济、低保: 0.2 yuan.
    Relief,
    /// Hardship reduction (branch decision and higher approval): the approved amount.
    Reduced,
    /// Hardship exemption: nothing.
    Exempt,
}

impl DuesCategory {
    pub const ALL: [DuesCategory; 10] = [
        Self::Employed,
        Self::Retired,
        Self::AnnualSalary,
        Self::SelfEmployed,
        Self::Rural,
        Self::Student,
        Self::Unemployed,
        Self::Relief,
        Self::Reduced,
        Self::Exempt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Employed => "employed",
            Self::Retired => "retired",
            Self::AnnualSalary => "annual_salary",
            Self::SelfEmployed => "self_employed",
            Self::Rural => "rural",
            Self::Student => "student",
            Self::Unemployed => "unemployed",
            Self::Relief => "relief",
            Self::Reduced => "reduced",
            Self::Exempt => "exempt",
        }
    }

    pub fn parse(s: &str) -> Option<DuesCategory> {
        Self::ALL.into_iter().find(|c| c.as_str() == s.trim())
    }

    fn zh(self) -> &'static str {
        match self {
            Self::Employed => "在职",
            Self::Retired => "离退休",
            Self::AnnualSalary => "年薪制",
            Self::SelfEmployed => "个体经营",
            Self::Rural => "农民",
            Self::Student => "学生",
            Self::Unemployed => "下岗失业",
            Self::Relief => "享受抚恤、救济或低保",
            Self::Reduced => "经批准减交",
            Self::Exempt => "经批准免交",
        }
    }
}

/// How a computed amount is rounded to the fen (no national rule: a setting, half-up by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rounding {
    #[default]
    HalfUp,
    Down,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dues {
    pub monthly_fen: i64,
    /// Rate in basis points (1.5% = 150), when a rate applies.
    pub rate_bp: Option<i64>,
    pub explanation_zh: String,
    pub explanation_en: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuesError {
    /// A base (or set amount) is missing or negative.
    Base,
    /// A rural member's set amount must be 20–100 fen.
    RuralAmount,
}

/// `520000` → `5,200.00`.
pub fn yuan(fen: i64) -> String {
    let (sign, fen) = if fen < 0 { ("-", -fen) } else { ("", fen) };
    let whole = (fen / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}{grouped}.{:02}", fen % 100)
}

fn percent(bp: i64) -> String {
    if bp % 100 == 0 {
        format!("{}%", bp / 100)
    } else {
        format!("{}.{}%", bp / 100, (bp % 100) / 10)
    }
}

/// The band of a base: (rate in basis points, lower bound in fen exclusive, upper bound inclusive).
fn band(category: DuesCategory, base_fen: i64) -> (i64, i64, Option<i64>) {
    match category {
        // 离退休: ≤ 5,000 → 0.5%; above → 1%.
        DuesCategory::Retired if base_fen <= 500_000 => (50, 0, Some(500_000)),
        DuesCategory::Retired => (100, 500_000, None),
        // 在职 (and annual salary, self-employed): ≤ 3,000 → 0.5%; ≤ 5,000 → 1%; ≤ 10,000 → 1.5%; above → 2%.
        _ if base_fen <= 300_000 => (50, 0, Some(300_000)),
        _ if base_fen <= 500_000 => (100, 300_000, Some(500_000)),
        _ if base_fen <= 1_000_000 => (150, 500_000, Some(1_000_000)),
        _ => (200, 1_000_000, None),
    }
}

/// The monthly dues for a category and base (for `rural` and `reduced`, the set amount).
pub fn monthly(category: DuesCategory, base_fen: i64, rounding: Rounding) -> Result<Dues, DuesError> {
    use DuesCategory::*;
    let fixed = |fen: i64, zh: String, en: String| {
        Ok(Dues {
            monthly_fen: fen,
            rate_bp: None,
            explanation_zh: zh,
            explanation_en: en,
        })
    };
    match category {
        Student | Unemployed | Relief => fixed(
            20,
            format!("{}：每月 0.20 元", category.zh()),
            format!("{}: 0.20 yuan a month", category.as_str()),
        ),
        Exempt => fixed(0, "经批准免交".into(), "exempt by approval: 0.00 yuan".into()),
        Rural => {
            if !(20..=100).contains(&base_fen) {
                return Err(DuesError::RuralAmount);
            }
            fixed(
                base_fen,
                format!("农民：每月 {} 元（0.2–1 元之间）", yuan(base_fen)),
                format!("rural: {} yuan a month (0.2–1 yuan)", yuan(base_fen)),
            )
        }
        Reduced => {
            if base_fen < 0 {
                return Err(DuesError::Base);
            }
            fixed(
                base_fen,
                format!("经批准减交：每月 {} 元", yuan(base_fen)),
                format!("reduced by approval: {} yuan a month", yuan(base_fen)),
            )
        }
        Employed | Retired | AnnualSalary | SelfEmployed => {
            if base_fen < 0 {
                return Err(DuesError::Base);
            }
            let (bp, low, high) = band(category, base_fen);
            let exact = base_fen * bp;
            let fen = match rounding {
                Rounding::HalfUp => (exact + 5_000) / 10_000,
                Rounding::Down => exact / 10_000,
            };
            let band_zh = match high {
                Some(h) if low == 0 => format!("{} 元以下（含）档", yuan(h)),
                Some(h) => format!("{}–{} 元档", yuan(low), yuan(h)),
                None => format!("{} 元以上档", yuan(low)),
            };
            let band_en = match high {
                Some(h) if low == 0 => format!("band up to {}", yuan(h)),
                Some(h) => format!("band {}–{}", yuan(low), yuan(h)),
                None => format!("band above {}", yuan(low)),
            };
            Ok(Dues {
                monthly_fen: fen,
                rate_bp: Some(bp),
                explanation_zh: format!(
                    "基数 {} 元，{}，{}：{} = {} 元",
                    yuan(base_fen),
                    category.zh(),
                    band_zh,
                    percent(bp),
                    yuan(fen)
                ),
                explanation_en: format!(
                    "base {} yuan, {}, {}: {} = {} yuan",
                    yuan(base_fen),
                    category.as_str(),
                    band_en,
                    percent(bp),
                    yuan(fen)
                ),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use DuesCategory::*;

    fn fen(c: DuesCategory, base: i64) -> i64 {
        monthly(c, base, Rounding::HalfUp).unwrap().monthly_fen
    }

    #[test]
    fn the_issue_example() {
        let d = monthly(Employed, 520_000, Rounding::HalfUp).unwrap();
        assert_eq!(d.monthly_fen, 7_800);
        assert_eq!(
            d.explanation_en,
            "base 5,200.00 yuan, employed, band 5,000.00–10,000.00: 1.5% = 78.00 yuan"
        );
    }

    #[test]
    fn employed_band_edges_are_inclusive_above() {
        assert_eq!(fen(Employed, 300_000), 1_500, "3,000 → 0.5%");
        assert_eq!(fen(Employed, 300_001), 3_000, "just above → 1% of the whole base");
        assert_eq!(fen(Employed, 500_000), 5_000);
        assert_eq!(fen(Employed, 500_001), 7_500);
        assert_eq!(fen(Employed, 1_000_000), 15_000);
        assert_eq!(fen(Employed, 1_000_001), 20_000);
        assert_eq!(fen(AnnualSalary, 1_000_000), 15_000);
        assert_eq!(fen(SelfEmployed, 250_000), 1_250);
    }

    #[test]
    fn retired_bands() {
        assert_eq!(fen(Retired, 500_000), 2_500);
        assert_eq!(fen(Retired, 500_001), 5_000);
    }

    #[test]
    fn fixed_amounts_and_hardship() {
        assert_eq!(fen(Student, 0), 20);
        assert_eq!(fen(Unemployed, 999_999), 20);
        assert_eq!(fen(Relief, 0), 20);
        assert_eq!(fen(Exempt, 500_000), 0);
        assert_eq!(fen(Reduced, 150), 150);
        assert_eq!(fen(Rural, 50), 50);
        assert_eq!(monthly(Rural, 19, Rounding::HalfUp), Err(DuesError::RuralAmount));
        assert_eq!(monthly(Rural, 101, Rounding::HalfUp), Err(DuesError::RuralAmount));
        assert_eq!(monthly(Employed, -1, Rounding::HalfUp), Err(DuesError::Base));
    }

    #[test]
    fn rounding_half_up_or_down() {
        // 2,345.67 yuan at 0.5% = 11.72835 yuan.
        assert_eq!(monthly(Employed, 234_567, Rounding::HalfUp).unwrap().monthly_fen, 1_173);
        assert_eq!(monthly(Employed, 234_567, Rounding::Down).unwrap().monthly_fen, 1_172);
        // Exactly half a fen rounds up: 1.00 yuan at 0.5% = 0.5 fen.
        assert_eq!(monthly(Employed, 100, Rounding::HalfUp).unwrap().monthly_fen, 1);
        assert_eq!(yuan(123_456_789), "1,234,567.89");
    }

    proptest! {
        #[test]
        fn one_rate_on_the_whole_base(base in 0i64..5_000_000) {
            let d = monthly(Employed, base, Rounding::HalfUp).unwrap();
            let bp = d.rate_bp.unwrap();
            prop_assert!((d.monthly_fen * 10_000 - base * bp).abs() <= 5_000);
            // A higher base never pays less.
            prop_assert!(monthly(Employed, base + 1, Rounding::HalfUp).unwrap().monthly_fen >= d.monthly_fen);
        }
    }
}
