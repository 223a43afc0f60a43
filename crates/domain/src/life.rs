//! Organizational life (三会一课 and the rest): meeting kinds, how often each is due, periods,
//! compliance status, quorum, the six-month flag and committee terms (支部工作条例（试行）2018;
//! 党员教育管理工作条例 2019; 党章 Art. 9).

use chrono::{Datelike, Months, NaiveDate};
use serde::Serialize;

macro_rules! kinds {
    ($($variant:ident = $code:literal / $zh:literal),+ $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
        #[serde(rename_all = "snake_case")]
        pub enum MeetingKind { $($variant),+ }

        impl MeetingKind {
            pub const ALL: &'static [MeetingKind] = &[$(MeetingKind::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $(MeetingKind::$variant => $code),+ }
            }
            pub fn zh(self) -> &'static str {
                match self { $(MeetingKind::$variant => $zh),+ }
            }
            pub fn parse(s: &str) -> Option<MeetingKind> {
                Self::ALL.iter().copied().find(|k| k.as_str() == s.trim())
            }
            /// The codes, for the OpenAPI document.
            pub fn schema() -> utoipa::openapi::schema::Schema {
                crate::schema::one_of(&[$($code),+])
            }
        }
    };
}

kinds! {
    BranchGeneralMeeting = "branch_general_meeting" / "支部党员大会",
    BranchCommitteeMeeting = "branch_committee_meeting" / "支部委员会",
    GroupMeeting = "group_meeting" / "党小组会",
    PartyLecture = "party_lecture" / "党课",
    ThemeDay = "theme_day" / "主题党日",
    OrgLifeMeeting = "org_life_meeting" / "组织生活会",
    DemocraticAppraisal = "democratic_appraisal" / "民主评议党员",
    HeartToHeartTalk = "heart_to_heart_talk" / "谈心谈话",
    Election = "election" / "换届选举",
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Monthly,
    Quarterly,
    Yearly,
}

impl Frequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Monthly => "monthly",
            Frequency::Quarterly => "quarterly",
            Frequency::Yearly => "yearly",
        }
    }

    pub fn parse(s: &str) -> Option<Frequency> {
        [Frequency::Monthly, Frequency::Quarterly, Frequency::Yearly]
            .into_iter()
            .find(|f| f.as_str() == s)
    }

    fn months(self) -> u32 {
        match self {
            Frequency::Monthly => 1,
            Frequency::Quarterly => 3,
            Frequency::Yearly => 12,
        }
    }

    /// Days before a period ends when an item not yet held becomes "due soon".
    fn warning_days(self) -> i64 {
        match self {
            Frequency::Monthly => 7,
            Frequency::Quarterly => 15,
            Frequency::Yearly => 30,
        }
    }
}

/// How often a branch must hold each kind, by the regulations (RULES.md):
/// 支部党员大会 generally quarterly; 支部委员会 and 党小组会 generally monthly; 党课 quarterly
/// (*local practice*, a setting); 主题党日 one fixed day a month; 组织生活会, 民主评议党员 and
/// 谈心谈话 at least once a year. Elections follow the term instead.
pub fn default_frequency(kind: MeetingKind) -> Option<Frequency> {
    use MeetingKind::*;
    match kind {
        BranchGeneralMeeting | PartyLecture => Some(Frequency::Quarterly),
        BranchCommitteeMeeting | GroupMeeting | ThemeDay => Some(Frequency::Monthly),
        OrgLifeMeeting | DemocraticAppraisal | HeartToHeartTalk => Some(Frequency::Yearly),
        Election => None,
    }
}

/// The kinds an organization is expected to hold: a branch holds the branch items (the committee
/// meeting only when it has a committee); a party group holds group meetings.
pub fn expected_kinds(is_branch: bool, is_party_group: bool, has_committee: bool) -> Vec<MeetingKind> {
    use MeetingKind::*;
    if is_party_group {
        return vec![GroupMeeting];
    }
    if !is_branch {
        return Vec::new();
    }
    let mut kinds = vec![
        BranchGeneralMeeting,
        PartyLecture,
        ThemeDay,
        OrgLifeMeeting,
        DemocraticAppraisal,
        HeartToHeartTalk,
    ];
    if has_committee {
        kinds.insert(1, BranchCommitteeMeeting);
    }
    kinds
}

/// One period of a year at a frequency: `2026-03`, `2026-Q1` or `2026`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    pub label: String,
    pub start: NaiveDate,
    /// Exclusive.
    pub end: NaiveDate,
}

pub fn periods(year: i32, freq: Frequency) -> Vec<Period> {
    let count = 12 / freq.months();
    (0..count)
        .map(|i| {
            let start = NaiveDate::from_ymd_opt(year, 1 + i * freq.months(), 1).expect("valid month");
            let label = match freq {
                Frequency::Monthly => format!("{year}-{:02}", i + 1),
                Frequency::Quarterly => format!("{year}-Q{}", i + 1),
                Frequency::Yearly => format!("{year}"),
            };
            Period {
                label,
                start,
                end: start + Months::new(freq.months()),
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplianceStatus {
    /// Held as often as expected, or not yet due.
    OnTrack,
    /// Not yet held, and the period ends soon.
    DueSoon,
    /// The period ended without it.
    Overdue,
}

impl ComplianceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ComplianceStatus::OnTrack => "on_track",
            ComplianceStatus::DueSoon => "due_soon",
            ComplianceStatus::Overdue => "overdue",
        }
    }
}

/// The status of one item in one period; `today` is the local date.
pub fn status(held: u32, expected: u32, period: &Period, freq: Frequency, today: NaiveDate) -> ComplianceStatus {
    if held >= expected || today < period.start {
        ComplianceStatus::OnTrack
    } else if today >= period.end {
        ComplianceStatus::Overdue
    } else if (period.end - today).num_days() <= freq.warning_days() {
        ComplianceStatus::DueSoon
    } else {
        ComplianceStatus::OnTrack
    }
}

/// Quorum: more than half of those entitled (支部工作条例 Art. 13 and 15; for the general meeting
/// only full members are entitled to vote, not probationary members).
pub fn quorum(entitled: u32, present: u32) -> bool {
    entitled > 0 && 2 * present > entitled
}

/// How a member stood in one month of organizational life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonthAttendance {
    /// At least one meeting attended.
    Attended,
    /// Missed, but on leave or with a recorded reason.
    Excused,
    /// Expected at meetings and missed them all without reason.
    Missed,
    /// No meeting expected that month.
    NoMeeting,
}

/// 党章 Art. 9: six consecutive months without attending organizational life and without good
/// reason is handled as leaving the Party. This only flags it for the branch. Months without any
/// meeting neither count nor break the run; an attended or excused month breaks it.
pub fn six_month_flag(months: &[MonthAttendance]) -> bool {
    let mut run = 0;
    for m in months {
        match m {
            MonthAttendance::Missed => {
                run += 1;
                if run >= 6 {
                    return true;
                }
            }
            MonthAttendance::Attended | MonthAttendance::Excused => run = 0,
            MonthAttendance::NoMeeting => {}
        }
    }
    false
}

/// When a committee's term ends, and whether the reminders 6 and 3 months before (local practice,
/// RULES.md) or the overdue alert apply today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TermStatus {
    Current,
    DueIn6Months,
    DueIn3Months,
    Overdue,
}

pub fn term_status(term_end: NaiveDate, today: NaiveDate) -> TermStatus {
    if today >= term_end {
        TermStatus::Overdue
    } else if today >= term_end - Months::new(3) {
        TermStatus::DueIn3Months
    } else if today >= term_end - Months::new(6) {
        TermStatus::DueIn6Months
    } else {
        TermStatus::Current
    }
}

/// The latest term end that `term_status` shows as due (within six months) or overdue today: the
/// bound a database can select by (month arithmetic clamps to the month's end, so it is found by
/// the rule, not computed as today + 6 months).
pub fn latest_due_term_end(today: NaiveDate) -> NaiveDate {
    let six = today + Months::new(6);
    (0..=4)
        .map(|k| six + chrono::Days::new(k))
        .filter(|end| term_status(*end, today) != TermStatus::Current)
        .max()
        .unwrap_or(six)
}

/// The month a date falls in, as `YYYY-MM`.
pub fn month_label(d: NaiveDate) -> String {
    format!("{}-{:02}", d.year(), d.month())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_due_term_end_is_the_rules_bound() {
        // Month ends clamp: on 28 February a term ending 31 August is due (31 Aug − 6 months = 28 Feb).
        for today in [d(2027, 2, 28), d(2026, 8, 31), d(2026, 12, 6), d(2028, 2, 29)] {
            let latest = latest_due_term_end(today);
            assert_ne!(term_status(latest, today), TermStatus::Current, "{today}");
            for k in 1..40 {
                let later = latest + chrono::Days::new(k);
                assert_eq!(term_status(later, today), TermStatus::Current, "{today} {later}");
            }
        }
        assert_eq!(latest_due_term_end(d(2027, 2, 28)), d(2027, 8, 31));
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn periods_cover_the_year() {
        let q = periods(2026, Frequency::Quarterly);
        assert_eq!(q.len(), 4);
        assert_eq!(q[1].label, "2026-Q2");
        assert_eq!((q[1].start, q[1].end), (d(2026, 4, 1), d(2026, 7, 1)));
        let m = periods(2026, Frequency::Monthly);
        assert_eq!(m[11].label, "2026-12");
        assert_eq!(m[11].end, d(2027, 1, 1));
        assert_eq!(periods(2026, Frequency::Yearly)[0].end, d(2027, 1, 1));
    }

    #[test]
    fn status_by_period_edges() {
        let q2 = &periods(2026, Frequency::Quarterly)[1];
        let f = Frequency::Quarterly;
        assert_eq!(
            status(0, 1, q2, f, d(2026, 3, 31)),
            ComplianceStatus::OnTrack,
            "not started"
        );
        assert_eq!(status(0, 1, q2, f, d(2026, 6, 15)), ComplianceStatus::OnTrack);
        assert_eq!(
            status(0, 1, q2, f, d(2026, 6, 16)),
            ComplianceStatus::DueSoon,
            "15 days left"
        );
        assert_eq!(status(0, 1, q2, f, d(2026, 6, 30)), ComplianceStatus::DueSoon);
        assert_eq!(
            status(0, 1, q2, f, d(2026, 7, 1)),
            ComplianceStatus::Overdue,
            "the day after"
        );
        assert_eq!(status(1, 1, q2, f, d(2026, 7, 1)), ComplianceStatus::OnTrack);
        let jan = &periods(2026, Frequency::Monthly)[0];
        assert_eq!(
            status(0, 1, jan, Frequency::Monthly, d(2026, 1, 24)),
            ComplianceStatus::OnTrack
        );
        assert_eq!(
            status(0, 1, jan, Frequency::Monthly, d(2026, 1, 25)),
            ComplianceStatus::DueSoon
        );
    }

    #[test]
    fn quorum_is_more_than_half() {
        assert!(!quorum(10, 5), "half is not more than half");
        assert!(quorum(10, 6));
        assert!(quorum(7, 4));
        assert!(!quorum(7, 3));
        assert!(!quorum(0, 0));
    }

    #[test]
    fn six_months_without_reason() {
        use MonthAttendance::*;
        assert!(six_month_flag(&[Missed; 6]));
        assert!(!six_month_flag(&[Missed; 5]));
        assert!(!six_month_flag(&[
            Missed, Missed, Missed, Excused, Missed, Missed, Missed
        ]));
        assert!(six_month_flag(&[
            Missed, Missed, NoMeeting, Missed, Missed, Missed, Missed
        ]));
        assert!(!six_month_flag(&[
            Missed, Missed, Missed, Attended, Missed, Missed, Missed
        ]));
    }

    #[test]
    fn terms_and_reminders() {
        let end = d(2026, 10, 18);
        assert_eq!(term_status(end, d(2026, 4, 17)), TermStatus::Current);
        assert_eq!(term_status(end, d(2026, 4, 18)), TermStatus::DueIn6Months);
        assert_eq!(term_status(end, d(2026, 7, 18)), TermStatus::DueIn3Months);
        assert_eq!(term_status(end, d(2026, 10, 18)), TermStatus::Overdue);
    }

    #[test]
    fn expected_kinds_follow_the_structure() {
        assert!(expected_kinds(true, false, false)
            .iter()
            .all(|k| *k != MeetingKind::BranchCommitteeMeeting));
        assert!(expected_kinds(true, false, true).contains(&MeetingKind::BranchCommitteeMeeting));
        assert_eq!(expected_kinds(false, true, false), vec![MeetingKind::GroupMeeting]);
        assert!(expected_kinds(false, false, false).is_empty());
    }
}
