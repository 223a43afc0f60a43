//! Study and education (学习教育; 党员教育管理工作条例 2019): what the library files items under,
//! how 学时 are declared and credited, the yearly minimum, who is exempt, and what a task's
//! progress is. Credit comes from content and records, never from time online (国办函〔2026〕12号).

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

pub mod article;
pub mod exam;
pub mod media;

code_enum!(Category {
    // 条例 Arts. 9–15, in their order.
    Theory = "theory" / "政治理论",
    Constitution = "constitution" / "党章党规党纪",
    History = "history" / "党的宗旨和党史",
    Policy = "policy" / "路线方针政策",
    Skills = "skills" / "知识技能",
    Situation = "situation" / "形势政策",
    Traditions = "traditions" / "优良传统",
});

code_enum!(ItemKind {
    Article = "article" / "文章",
    Document = "document" / "文档",
    Video = "video" / "视频",
    Audio = "audio" / "音频",
    Link = "link" / "链接",
});

code_enum!(Form {
    // How a member studied: online by opening the item, or offline as the branch records it
    // (代录; Art. 23's 送学上门 counts the same).
    Online = "online" / "线上学习",
    Group = "group" / "集体学习",
    Paper = "paper" / "纸质材料",
    Home = "home" / "送学上门",
});

code_enum!(Exemption {
    // Art. 23: no rigid requirement for these members.
    Frail = "frail" / "年老体弱",
    Ill = "ill" / "患重病",
    Disabled = "disabled" / "残疾",
    Abroad = "abroad" / "出国（境）",
});

/// The yearly minimum of concentrated study in tenths of a 学时: 32 for every member (Art. 20),
/// 56 for basic-level secretaries and committee members (the national education and training plan).
pub fn required_tenths(holds_office: bool) -> i64 {
    if holds_office {
        560
    } else {
        320
    }
}

/// Declared 学时 as typed ("1", "1.5", "0.5"): tenths, from 0.1 up to 100.
pub fn parse_hours(text: &str) -> Option<i64> {
    let text = text.trim();
    let (whole, tenth) = match text.split_once('.') {
        Some((w, t)) if t.len() == 1 => (w, t),
        Some(_) => return None,
        None => (text, "0"),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !tenth.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let tenths = whole.parse::<i64>().ok()?.checked_mul(10)? + tenth.parse::<i64>().ok()?;
    (1..=1000).contains(&tenths).then_some(tenths)
}

/// Tenths of a 学时 as people write them: `15` → "1.5", `20` → "2".
pub fn hours_text(tenths: i64) -> String {
    if tenths % 10 == 0 {
        (tenths / 10).to_string()
    } else {
        format!("{}.{}", tenths / 10, (tenths % 10).abs())
    }
}

/// Where a member stands on a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    NotStarted,
    Started,
    Completed,
}

impl Progress {
    /// From the task's items: how many there are, how many the member has opened or completed, and
    /// how many completed. Opening counts as started; only completion counts as done.
    pub fn of(items: i64, touched: i64, completed: i64) -> Progress {
        if items > 0 && completed >= items {
            Progress::Completed
        } else if touched > 0 {
            Progress::Started
        } else {
            Progress::NotStarted
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Progress::NotStarted => "not_started",
            Progress::Started => "started",
            Progress::Completed => "completed",
        }
    }
}

/// A task's completion rate in whole percent over those it counts (exempt members are out):
/// `None` when it counts no one.
pub fn rate(completed: i64, counted: i64) -> Option<i64> {
    (counted > 0).then(|| completed * 100 / counted)
}

/// A training class's declared 学时 split by calendar year in proportion to its days, so that a
/// class spanning the new year counts in both (the parts add up to the whole: the last year takes
/// what rounding leaves). `None` when the dates are reversed.
pub fn split_by_year(starts_on: NaiveDate, ends_on: NaiveDate, tenths: i64) -> Option<Vec<(i32, i64)>> {
    if ends_on < starts_on {
        return None;
    }
    let total_days = (ends_on - starts_on).num_days() + 1;
    let mut out = Vec::new();
    let mut given = 0;
    for year in starts_on.year()..=ends_on.year() {
        let first = starts_on.max(NaiveDate::from_ymd_opt(year, 1, 1)?);
        let last = ends_on.min(NaiveDate::from_ymd_opt(year, 12, 31)?);
        let days = (last - first).num_days() + 1;
        let part = if year == ends_on.year() {
            tenths - given
        } else {
            tenths * days / total_days
        };
        given += part;
        out.push((year, part));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_are_tenths_within_bounds() {
        assert_eq!(parse_hours("1"), Some(10));
        assert_eq!(parse_hours(" 1.5 "), Some(15));
        assert_eq!(parse_hours("0.5"), Some(5));
        assert_eq!(parse_hours("100"), Some(1000));
        for bad in [
            "",
            "0",
            "0.0",
            "100.1",
            "1.25",
            "-1",
            "1,5",
            "abc",
            ".5",
            "99999999999999999999",
        ] {
            assert_eq!(parse_hours(bad), None, "{bad}");
        }
        assert_eq!(hours_text(15), "1.5");
        assert_eq!(hours_text(320), "32");
    }

    #[test]
    fn the_minimum_is_higher_for_officers() {
        assert_eq!(required_tenths(false), 320);
        assert_eq!(required_tenths(true), 560);
    }

    #[test]
    fn progress_needs_every_item_completed() {
        assert_eq!(Progress::of(3, 0, 0), Progress::NotStarted);
        assert_eq!(Progress::of(3, 1, 0), Progress::Started);
        assert_eq!(Progress::of(3, 3, 2), Progress::Started);
        assert_eq!(Progress::of(3, 3, 3), Progress::Completed);
        assert_eq!(Progress::of(0, 0, 0), Progress::NotStarted);
        assert_eq!(rate(1, 3), Some(33));
        assert_eq!(rate(0, 0), None);
    }

    #[test]
    fn codes_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(*c));
        }
        assert_eq!(Category::ALL.len(), 7, "条例 Arts. 9–15");
        assert_eq!(Exemption::parse("abroad"), Some(Exemption::Abroad));
        assert_eq!(Form::parse("nope"), None);
    }

    #[test]
    fn a_class_over_the_new_year_is_split_by_day() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(
            split_by_year(d(2026, 3, 1), d(2026, 3, 5), 400),
            Some(vec![(2026, 400)])
        );
        // 3 days in 2026, 2 in 2027: 40 学时 become 24 and 16.
        assert_eq!(
            split_by_year(d(2026, 12, 29), d(2027, 1, 2), 400),
            Some(vec![(2026, 240), (2027, 160)])
        );
        // Rounding never loses a tenth.
        let parts = split_by_year(d(2026, 12, 31), d(2027, 1, 2), 10).unwrap();
        assert_eq!(parts.iter().map(|p| p.1).sum::<i64>(), 10);
        assert_eq!(split_by_year(d(2026, 3, 5), d(2026, 3, 1), 10), None);
    }
}
