//! The dashboards' figures (决策辅助): what is counted and in which bands. Every figure is a count
//! of records (people, organizations, meetings, warnings) or a sum of fen, named by a stable code
//! (`category:full`, `joined:2026-03`); nothing here counts logins, online time or likes, and no
//! figure names or ranks a person (国办函〔2026〕12号).

use chrono::NaiveDate;

use crate::dues::Month;
use crate::member::years_between;

/// How many months the flows by month cover, the current one included.
pub const WINDOW_MONTHS: usize = 12;

/// The months of the window that ends with `day`'s month, oldest first.
pub fn window(day: NaiveDate) -> Vec<Month> {
    let last = Month::of(day);
    let mut months = vec![last];
    while months.len() < WINDOW_MONTHS {
        let earlier = months[months.len() - 1].prev();
        months.push(earlier);
    }
    months.reverse();
    months
}

/// Age bands (years on the day counted): up to 30, 31–40, …, over 70.
pub const AGE_BANDS: [&str; 6] = ["u30", "31_40", "41_50", "51_60", "61_70", "o70"];

pub fn age_band(birth: NaiveDate, day: NaiveDate) -> &'static str {
    match years_between(birth, day) {
        ..=30 => AGE_BANDS[0],
        31..=40 => AGE_BANDS[1],
        41..=50 => AGE_BANDS[2],
        51..=60 => AGE_BANDS[3],
        61..=70 => AGE_BANDS[4],
        _ => AGE_BANDS[5],
    }
}

/// Party standing (党龄, whole years since joining): under 5, 5–9, 10–19, 20–29, 30–49, 50 and more
/// (the 50 years of the 光荣在党50年 medal).
pub const PARTY_AGE_BANDS: [&str; 6] = ["u5", "5_9", "10_19", "20_29", "30_49", "o50"];

pub fn party_age_band(joined: NaiveDate, day: NaiveDate) -> &'static str {
    match years_between(joined, day) {
        ..=4 => PARTY_AGE_BANDS[0],
        5..=9 => PARTY_AGE_BANDS[1],
        10..=19 => PARTY_AGE_BANDS[2],
        20..=29 => PARTY_AGE_BANDS[3],
        30..=49 => PARTY_AGE_BANDS[4],
        _ => PARTY_AGE_BANDS[5],
    }
}

/// The flows counted by month, each the month of a dated record: joining (入党), conversion to full
/// membership (转正), a transfer letter received or issued, a record marked deceased.
pub const FLOWS: [&str; 5] = ["joined", "converted", "transferred_in", "transferred_out", "died"];

/// The dues series by month, in fen: due, paid, outstanding (the ledger's lines summed).
pub const DUES_SERIES: [&str; 3] = ["dues_due", "dues_paid", "dues_outstanding"];

/// A figure counted by month: `joined:2026-03`.
pub fn monthly(series: &str, month: Month) -> String {
    format!("{series}:{month}")
}

/// Cells smaller than this are shown as "<5" where aggregates leave the room (the big screen): a
/// count of one or two people in a small unit names them.
pub const SMALL_CELL: i64 = 5;

/// A small cell as an aggregate-only answer carries it: its count withheld.
pub const HIDDEN: i64 = -1;

/// A count of people as an aggregate-only answer carries it: 1–4 become `HIDDEN`.
pub fn hide_small(n: i64) -> i64 {
    if n > 0 && n < SMALL_CELL {
        HIDDEN
    } else {
        n
    }
}

/// A count as an aggregate-only display shows it (withheld by `hide_small`, or as it is).
pub fn suppressed(n: i64) -> String {
    if n == HIDDEN {
        format!("<{SMALL_CELL}")
    } else {
        n.to_string()
    }
}

/// `part` of `whole` as a whole percentage, or none of nothing.
pub fn percent(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| (part * 100 + whole / 2) / whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_window_ends_with_the_days_month_and_crosses_the_year() {
        let w = window(d(2026, 3, 15));
        assert_eq!(w.len(), 12);
        assert_eq!(w[0].to_string(), "2025-04");
        assert_eq!(w[11].to_string(), "2026-03");
    }

    #[test]
    fn bands_turn_on_the_birthday() {
        assert_eq!(age_band(d(1996, 3, 15), d(2026, 3, 14)), "u30");
        assert_eq!(age_band(d(1995, 3, 15), d(2026, 3, 14)), "u30");
        assert_eq!(age_band(d(1995, 3, 15), d(2026, 3, 15)), "31_40");
        assert_eq!(age_band(d(1950, 1, 1), d(2026, 1, 1)), "o70");
        assert_eq!(party_age_band(d(2021, 7, 1), d(2026, 6, 30)), "u5");
        assert_eq!(party_age_band(d(2021, 7, 1), d(2026, 7, 1)), "5_9");
        assert_eq!(party_age_band(d(1976, 7, 1), d(2026, 7, 1)), "o50");
    }

    #[test]
    fn small_cells_are_hidden_but_zero_is_zero() {
        assert_eq!(suppressed(0), "0");
        assert_eq!(suppressed(HIDDEN), "<5");
        assert_eq!(suppressed(4), "4", "meetings and organizations are not people");
        assert_eq!(hide_small(3), HIDDEN);
        assert_eq!(suppressed(hide_small(3)), "<5");
        assert_eq!(hide_small(0), 0);
        assert_eq!(hide_small(12), 12);
        assert_eq!(percent(1, 3), Some(33));
        assert_eq!(percent(2, 3), Some(67));
        assert_eq!(percent(0, 0), None);
    }
}
