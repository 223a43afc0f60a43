//! Party dues (党费), exact to the fen: 关于中国共产党党费收缴、使用和管理的规定 (中组发〔2008〕3号)
//! and 组电明字〔2017〕5号. One rate applies to the whole base (not marginal); band upper bounds
//! are inclusive.

use crate::FieldError;
use chrono::{Datelike, NaiveDate};
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

/// The codes, for the OpenAPI document.
impl utoipa::PartialSchema for DuesCategory {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::schema::one_of(&Self::ALL.map(Self::as_str)).into()
    }
}

impl utoipa::ToSchema for DuesCategory {}

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

    /// The code or the Chinese name (as written in spreadsheets).
    pub fn parse(s: &str) -> Option<DuesCategory> {
        let s = s.trim();
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s || c.zh() == s)
            .or(match s {
                "离休" | "退休" => Some(Self::Retired),
                "减交" => Some(Self::Reduced),
                "免交" => Some(Self::Exempt),
                "低保" | "抚恤" | "救济" => Some(Self::Relief),
                "下岗" | "失业" => Some(Self::Unemployed),
                _ => None,
            })
    }

    /// Reduction and exemption need the branch's decision and the higher committee's approval.
    pub fn needs_approval(self) -> bool {
        matches!(self, Self::Reduced | Self::Exempt)
    }

    pub fn zh(self) -> &'static str {
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

impl Rounding {
    pub fn as_str(self) -> &'static str {
        match self {
            Rounding::HalfUp => "half_up",
            Rounding::Down => "down",
        }
    }

    pub fn parse(s: &str) -> Option<Rounding> {
        match s.trim() {
            "half_up" => Some(Rounding::HalfUp),
            "down" => Some(Rounding::Down),
            _ => None,
        }
    }
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

impl From<DuesError> for FieldError {
    fn from(e: DuesError) -> FieldError {
        match e {
            DuesError::Base => FieldError::new("base_fen", "invalid"),
            DuesError::RuralAmount => FieldError::new("base_fen", "rural_amount"),
        }
    }
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

/// The highest monthly base taken, in fen (a million yuan).
pub const MAX_BASE_FEN: i64 = 100_000_000;
/// The largest single payment (voluntary payments included), the same cap as a base: with it,
/// no sum over a province's payments can overflow `i64`.
pub const MAX_PAYMENT_FEN: i64 = MAX_BASE_FEN;

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
    // A negative base is a typing error whatever the category, even where the base is not used;
    // above a million yuan a month, the same (and `base * rate` stays far from overflowing).
    if !(0..=MAX_BASE_FEN).contains(&base_fen) {
        return Err(DuesError::Base);
    }
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
        Reduced => fixed(
            base_fen,
            format!("经批准减交：每月 {} 元", yuan(base_fen)),
            format!("reduced by approval: {} yuan a month", yuan(base_fen)),
        ),
        Employed | Retired | AnnualSalary | SelfEmployed => {
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

/// A calendar month, written `2026-01`; stored as the number `202601`, so months sort as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    /// 1–12.
    pub month: u32,
}

impl Month {
    pub fn new(year: i32, month: u32) -> Option<Month> {
        ((1..=12).contains(&month) && (1900..=9999).contains(&year)).then_some(Month { year, month })
    }

    pub fn of(date: NaiveDate) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    /// `2026-01` (also `2026-1` and `202601`).
    pub fn parse(s: &str) -> Option<Month> {
        let s = s.trim();
        let (y, m) = match s.split_once('-') {
            Some((y, m)) => (y, m),
            // Six ASCII digits: a split at byte 4 would panic inside a multi-byte character.
            None if s.len() == 6 && s.is_ascii() => s.split_at(4),
            None => return None,
        };
        Month::new(y.parse().ok()?, m.parse().ok()?)
    }

    pub fn key(self) -> i64 {
        self.year as i64 * 100 + self.month as i64
    }

    pub fn from_key(key: i64) -> Option<Month> {
        Month::new((key / 100) as i32, (key % 100) as u32)
    }

    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                month: self.month + 1,
                ..self
            }
        }
    }

    pub fn prev(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                month: self.month - 1,
                ..self
            }
        }
    }

    /// How many months `self` comes after `earlier` (negative when before).
    pub fn since(self, earlier: Month) -> i64 {
        (self.year as i64 * 12 + self.month as i64) - (earlier.year as i64 * 12 + earlier.month as i64)
    }

    /// The months from `self` to `last`, both included.
    pub fn through(self, last: Month) -> impl Iterator<Item = Month> {
        std::iter::successors(Some(self), |m| Some(m.next())).take_while(move |m| *m <= last)
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{:02}", self.year, self.month)
    }
}

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Month, D::Error> {
        let s = String::deserialize(d)?;
        Month::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("not a month (YYYY-MM): {s}")))
    }
}

/// Probationary members owe dues from the month the branch meeting admitted them (中组发〔2008〕3号);
/// the ledger starts there for everyone.
pub fn first_month_owed(joined_on: NaiveDate) -> Month {
    Month::of(joined_on)
}

/// One month of a member's ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerMonth {
    pub month: Month,
    pub due_fen: i64,
    pub paid_fen: i64,
    /// The branch recorded a reason for not paying this month.
    pub excused: bool,
}

impl LedgerMonth {
    pub fn is_paid(&self) -> bool {
        self.paid_fen >= self.due_fen
    }
}

/// The last month up to which every month is paid, with nothing unpaid before it; `None` when the
/// first month owed is unpaid. Months must be sorted.
pub fn paid_up_to(months: &[LedgerMonth]) -> Option<Month> {
    let paid = months.iter().take_while(|m| m.is_paid()).last();
    paid.map(|m| m.month)
}

/// How far behind a member is. A warning at 3 consecutive unpaid months; at 6 consecutive months
/// unpaid without a recorded reason, a flag for the branch to decide under 党章 Art. 9 (自行脱党) —
/// the platform never acts on it by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArrearsLevel {
    Notice,
    Warning,
    Flag,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Arrears {
    /// Consecutive unpaid months ending at the last complete month.
    pub months: i64,
    pub from: Month,
    pub to: Month,
    pub outstanding_fen: i64,
    /// The longest run inside them with no reason recorded.
    pub unexcused_run: i64,
    pub level: ArrearsLevel,
}

pub const ARREARS_WARNING_MONTHS: i64 = 3;
pub const ARREARS_FLAG_MONTHS: i64 = 6;

/// The unpaid run ending at `last_complete` (the month before the current one: a month is not late
/// while it lasts). Months must be sorted; a month missing from the ledger ends the run, since
/// nothing was owed for it. Years do not break a run.
pub fn arrears(months: &[LedgerMonth], last_complete: Month) -> Option<Arrears> {
    let mut run: Vec<&LedgerMonth> = Vec::new();
    let mut expect = last_complete;
    for m in months.iter().rev().skip_while(|m| m.month > last_complete) {
        if m.month != expect || m.is_paid() {
            break;
        }
        run.push(m);
        expect = expect.prev();
    }
    let (latest, earliest) = (run.first()?, run.last()?);
    let mut unexcused_run = 0;
    let mut current = 0;
    for m in &run {
        current = if m.excused { 0 } else { current + 1 };
        unexcused_run = unexcused_run.max(current);
    }
    let count = run.len() as i64;
    Some(Arrears {
        months: count,
        from: earliest.month,
        to: latest.month,
        outstanding_fen: run.iter().map(|m| m.due_fen - m.paid_fen).sum(),
        unexcused_run,
        level: if unexcused_run >= ARREARS_FLAG_MONTHS {
            ArrearsLevel::Flag
        } else if count >= ARREARS_WARNING_MONTHS {
            ArrearsLevel::Warning
        } else {
            ArrearsLevel::Notice
        },
    })
}

/// A single voluntary payment of 1,000 yuan or more goes in full to the centre (中组发〔2008〕3号).
pub const REMIT_TO_CENTRE_FEN: i64 = 100_000;
/// Back-payment normally covers at most 6 months; more needs a recorded reason.
pub const BACK_PAYMENT_MONTHS: i64 = 6;

/// A payment checked against what the months owe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentSplit {
    pub dues_fen: i64,
    pub voluntary_fen: i64,
    pub remit_to_centre: bool,
}

/// Splits a payment into dues and voluntary extra. `owed` is what each chosen month still owes.
/// The amount must match the months exactly, unless the payment is voluntary, when the rest is the
/// voluntary part (a purely voluntary payment names no months).
pub fn split_payment(
    owed: &[(Month, i64)],
    amount_fen: i64,
    voluntary: bool,
    paid_on: NaiveDate,
    back_reason: Option<&str>,
) -> Result<PaymentSplit, Vec<FieldError>> {
    let mut e = Vec::new();
    if owed.is_empty() && !voluntary {
        e.push(FieldError::new("months", "required"));
    }
    if owed.iter().any(|(_, fen)| *fen <= 0) {
        let paid: Vec<String> = owed
            .iter()
            .filter(|(_, f)| *f <= 0)
            .map(|(m, _)| m.to_string())
            .collect();
        e.push(FieldError::new("months", format!("already_paid:{}", paid.join(", "))));
    }
    let dues_fen: i64 = owed.iter().map(|(_, fen)| (*fen).max(0)).sum();
    if amount_fen <= 0 {
        e.push(FieldError::new("amount_fen", "invalid"));
    } else if !voluntary && amount_fen != dues_fen {
        e.push(FieldError::new(
            "amount_fen",
            format!("amount_mismatch:{}", yuan(dues_fen)),
        ));
    } else if voluntary && amount_fen < dues_fen {
        e.push(FieldError::new("amount_fen", format!("below_owed:{}", yuan(dues_fen))));
    }
    let this_month = Month::of(paid_on);
    let back = owed.iter().filter(|(m, _)| *m < this_month).count() as i64;
    if back > BACK_PAYMENT_MONTHS && back_reason.is_none_or(|r| r.trim().is_empty()) {
        e.push(FieldError::new("reason", "back_payment_needs_reason"));
    }
    if !e.is_empty() {
        return Err(e);
    }
    let voluntary_fen = amount_fen - dues_fen;
    Ok(PaymentSplit {
        dues_fen,
        voluntary_fen,
        remit_to_centre: voluntary_fen >= REMIT_TO_CENTRE_FEN,
    })
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

    fn ledger(months: &[(&str, i64, i64)]) -> Vec<LedgerMonth> {
        months
            .iter()
            .map(|(m, due, paid)| LedgerMonth {
                month: Month::parse(m).unwrap(),
                due_fen: *due,
                paid_fen: *paid,
                excused: false,
            })
            .collect()
    }

    fn month(s: &str) -> Month {
        Month::parse(s).unwrap()
    }

    #[test]
    fn months_parse_print_and_step_across_years() {
        assert_eq!(month("2026-1").to_string(), "2026-01");
        assert_eq!(month("202612").next(), month("2027-01"));
        assert_eq!(month("2027-01").prev(), month("2026-12"));
        assert_eq!(month("2027-02").since(month("2026-11")), 3);
        assert_eq!(month("2026-11").through(month("2027-02")).count(), 4);
        assert_eq!(Month::from_key(202603), Some(month("2026-03")));
        assert!(Month::parse("2026-13").is_none() && Month::parse("2026").is_none() && Month::parse("x-1").is_none());
        assert_eq!(
            first_month_owed(NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()),
            month("2026-03")
        );
    }

    #[test]
    fn arrears_run_across_the_year_boundary() {
        let l = ledger(&[
            ("2025-09", 100, 100),
            ("2025-10", 100, 0),
            ("2025-11", 100, 0),
            ("2025-12", 100, 0),
            ("2026-01", 100, 50),
            ("2026-02", 100, 0),
        ]);
        let a = arrears(&l, month("2026-01")).unwrap();
        assert_eq!((a.months, a.from, a.to), (4, month("2025-10"), month("2026-01")));
        assert_eq!(a.outstanding_fen, 350, "a part-paid month still owes the rest");
        assert_eq!(a.level, ArrearsLevel::Warning);
        assert_eq!(paid_up_to(&l), Some(month("2025-09")));
        // The current month is not late yet.
        assert_eq!(arrears(&l, month("2025-09")), None);
    }

    #[test]
    fn six_unexcused_months_flag_and_a_reason_breaks_the_run() {
        let mut l = ledger(&[
            ("2026-01", 100, 0),
            ("2026-02", 100, 0),
            ("2026-03", 100, 0),
            ("2026-04", 100, 0),
            ("2026-05", 100, 0),
            ("2026-06", 100, 0),
        ]);
        assert_eq!(
            arrears(&l, month("2026-05")).unwrap().level,
            ArrearsLevel::Warning,
            "five months"
        );
        assert_eq!(
            arrears(&l, month("2026-06")).unwrap().level,
            ArrearsLevel::Flag,
            "six months"
        );
        l[2].excused = true;
        let a = arrears(&l, month("2026-06")).unwrap();
        assert_eq!((a.months, a.unexcused_run, a.level), (6, 3, ArrearsLevel::Warning));
        assert_eq!(paid_up_to(&l), None);
    }

    #[test]
    fn exempt_months_count_as_paid_and_gaps_end_a_run() {
        let l = ledger(&[("2026-01", 0, 0), ("2026-03", 100, 0), ("2026-04", 100, 0)]);
        assert_eq!(paid_up_to(&l), Some(month("2026-01")));
        assert_eq!(arrears(&l, month("2026-04")).unwrap().months, 2);
    }

    #[test]
    fn payments_must_match_the_months_owed() {
        let on = NaiveDate::from_ymd_opt(2026, 11, 10).unwrap();
        let owed = [(month("2026-10"), 7_800), (month("2026-11"), 7_800)];
        assert_eq!(split_payment(&owed, 15_600, false, on, None).unwrap().voluntary_fen, 0);
        let e = split_payment(&owed, 15_000, false, on, None).unwrap_err();
        assert_eq!(e, vec![FieldError::new("amount_fen", "amount_mismatch:156.00")]);
        let v = split_payment(&owed, 115_600, true, on, None).unwrap();
        assert_eq!(
            (v.dues_fen, v.voluntary_fen, v.remit_to_centre),
            (15_600, 100_000, true)
        );
        assert!(!split_payment(&[], 99_999, true, on, None).unwrap().remit_to_centre);
        assert!(split_payment(&[], 100, false, on, None).is_err());
        let e = split_payment(&[(month("2026-10"), 0)], 0, false, on, None).unwrap_err();
        assert!(e.contains(&FieldError::new("months", "already_paid:2026-10")));
    }

    #[test]
    fn more_than_six_months_back_needs_a_reason() {
        let on = NaiveDate::from_ymd_opt(2026, 11, 10).unwrap();
        let six: Vec<_> = month("2026-05").through(month("2026-10")).map(|m| (m, 100)).collect();
        assert!(split_payment(&six, 600, false, on, None).is_ok());
        let seven: Vec<_> = month("2026-04").through(month("2026-10")).map(|m| (m, 100)).collect();
        let e = split_payment(&seven, 700, false, on, None).unwrap_err();
        assert_eq!(e, vec![FieldError::new("reason", "back_payment_needs_reason")]);
        assert!(split_payment(&seven, 700, false, on, Some("在外地治病，支部同意补交")).is_ok());
    }

    #[test]
    fn a_base_out_of_range_is_refused_whatever_the_category() {
        for category in DuesCategory::ALL {
            assert_eq!(monthly(category, -1, Rounding::HalfUp).unwrap_err(), DuesError::Base);
            assert_eq!(
                monthly(category, MAX_BASE_FEN + 1, Rounding::HalfUp).unwrap_err(),
                DuesError::Base
            );
        }
    }

    #[test]
    fn six_bytes_that_are_not_six_digits_are_no_month() {
        assert_eq!(Month::parse("00𐀀"), None);
        assert_eq!(Month::parse("202605"), Month::new(2026, 5));
    }

    proptest! {
        /// Any text a client sends as a month is read or refused, never a panic (`00𐀀` once was).
        #[test]
        fn reading_a_month_never_panics(s in "\\PC{0,8}") {
            if let Some(m) = Month::parse(&s) {
                prop_assert!((1..=12).contains(&m.month));
            }
        }

        #[test]
        fn one_rate_on_the_whole_base(base in 0i64..5_000_000) {
            let d = monthly(Employed, base, Rounding::HalfUp).unwrap();
            let bp = d.rate_bp.unwrap();
            prop_assert!((d.monthly_fen * 10_000 - base * bp).abs() <= 5_000);
            // A higher base never pays less.
            prop_assert!(monthly(Employed, base + 1, Rounding::HalfUp).unwrap().monthly_fen >= d.monthly_fen);
        }

        #[test]
        fn arrears_and_paid_up_to_agree_with_a_plain_count(paid in proptest::collection::vec(any::<bool>(), 1..36), cut in 0usize..40) {
            let start = Month::new(2025, 11).unwrap();
            let l: Vec<LedgerMonth> = paid
                .iter()
                .enumerate()
                .map(|(i, p)| LedgerMonth {
                    month: start.through(Month::new(2030, 1).unwrap()).nth(i).unwrap(),
                    due_fen: 100,
                    paid_fen: if *p { 100 } else { 0 },
                    excused: false,
                })
                .collect();
            let cut_month = start.through(Month::new(2030, 1).unwrap()).nth(cut).unwrap();
            let upto: Vec<&LedgerMonth> = l.iter().filter(|m| m.month <= cut_month).collect();
            // A run ends at the cut month; with no row for it (no base yet), nothing is in arrears.
            let run = if upto.last().map(|m| m.month) == Some(cut_month) {
                upto.iter().rev().take_while(|m| !m.is_paid()).count() as i64
            } else {
                0
            };
            match arrears(&l, cut_month) {
                None => prop_assert_eq!(run, 0),
                Some(a) => {
                    prop_assert_eq!(a.months, run);
                    prop_assert_eq!(a.outstanding_fen, run * 100);
                    prop_assert_eq!(a.level == ArrearsLevel::Flag, run >= 6);
                }
            }
            let first_unpaid = l.iter().position(|m| !m.is_paid());
            prop_assert_eq!(
                paid_up_to(&l),
                match first_unpaid {
                    Some(0) => None,
                    Some(i) => Some(l[i - 1].month),
                    None => Some(l[l.len() - 1].month),
                }
            );
        }
    }
}
