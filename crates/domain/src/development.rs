//! Member development (发展党员工作细则 2014): 5 stages, 25 steps, and the timing and vote rules
//! between them. A step is checked against the dates of the steps before it: what the rules forbid
//! is refused with the rule's code, what is merely late comes back as a warning.

use chrono::{Months, NaiveDate};
use serde::Serialize;

/// The 25 steps in order, with the stage (1–5) each belongs to (细则 Arts. 4–38).
pub const STEPS: [(u8, &str); 25] = [
    (1, "递交入党申请书"),
    (1, "党组织派人谈话"),
    (2, "推荐和确定入党积极分子"),
    (2, "上级党委备案"),
    (2, "指定培养联系人"),
    (2, "培养教育考察"),
    (3, "确定发展对象"),
    (3, "报上级党委备案"),
    (3, "确定入党介绍人"),
    (3, "政治审查"),
    (3, "集中培训"),
    (4, "支部委员会审查"),
    (4, "上级党委预审"),
    (4, "填写入党志愿书"),
    (4, "支部大会讨论"),
    (4, "上级党委派人谈话"),
    (4, "上级党委审批"),
    (4, "再上一级党委组织部门备案"),
    (5, "编入党支部和党小组"),
    (5, "入党宣誓"),
    (5, "继续教育考察"),
    (5, "提出转正申请"),
    (5, "支部大会讨论"),
    (5, "上级党委审批"),
    (5, "材料归档"),
];

pub const APPLICATION: usize = 1;
pub const TALK: usize = 2;
pub const ACTIVIST: usize = 3;
pub const CONTACTS: usize = 5;
pub const TARGET: usize = 7;
pub const INTRODUCERS: usize = 9;
pub const ADMISSION_VOTE: usize = 15;
pub const ADMISSION_APPROVAL: usize = 17;
pub const CONVERSION_APPLICATION: usize = 22;
pub const CONVERSION_VOTE: usize = 23;
pub const CONVERSION_APPROVAL: usize = 24;

/// The name of a step (1–25).
pub fn step_name(step: usize) -> Option<&'static str> {
    STEPS.get(step.checked_sub(1)?).map(|(_, name)| *name)
}

/// What a file holds when a step is recorded: each earlier step's date, by step number.
#[derive(Debug, Clone, Default)]
pub struct File {
    pub birth_date: Option<NaiveDate>,
    /// `done[n - 1]` is step n's date.
    pub done: Vec<Option<NaiveDate>>,
    /// Months of probation added by an extension (6–12, at most once).
    pub extension_months: u32,
}

impl File {
    pub fn date(&self, step: usize) -> Option<NaiveDate> {
        self.done.get(step.checked_sub(1)?).copied().flatten()
    }

    /// The step to record next: the first not yet done.
    pub fn next_step(&self) -> usize {
        (1..=25).find(|s| self.date(*s).is_none()).unwrap_or(26)
    }

    /// When probation ends: one year from the branch meeting's admission vote, plus any extension
    /// (细则 Art. 28).
    pub fn probation_ends(&self) -> Option<NaiveDate> {
        let vote = self.date(ADMISSION_VOTE)?;
        vote.checked_add_months(Months::new(12 + self.extension_months))
    }
}

/// A rule that forbids recording the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// Steps are recorded in order.
    OutOfOrder,
    /// A step cannot be dated before the step it follows, nor in the future.
    BeforePrevious,
    InFuture,
    /// 18 or older when applying (党章 Art. 1).
    Under18,
    /// At least a year as an activist before becoming a development target (细则 Art. 13).
    ActivistUnderAYear,
    /// 1–2 training contacts (培养联系人), full members (细则 Art. 10).
    Contacts,
    /// Two introducers, full members (细则 Art. 17).
    Introducers,
    /// The higher committee approves within 6 months at most (细则 Art. 24).
    ApprovalTooLate,
    /// Conversion is discussed when probation ends (细则 Art. 30).
    ProbationNotOver,
    /// A step decided by a vote is recorded with the vote.
    NeedsVote,
}

/// Late but allowed: shown as a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lateness {
    /// The talk is due within a month of the application (细则 Art. 9).
    TalkAfterAMonth,
    /// The higher committee's approval is due within 3 months of the branch meeting (细则 Art. 24).
    ApprovalAfterThreeMonths,
}

/// Checks recording `step` on `on`, with `people` full members named (contacts or introducers).
pub fn check_step(
    file: &File,
    step: usize,
    on: NaiveDate,
    people_full_members: usize,
    today: NaiveDate,
) -> Result<Vec<Lateness>, Refusal> {
    if step != file.next_step() {
        return Err(Refusal::OutOfOrder);
    }
    if on > today {
        return Err(Refusal::InFuture);
    }
    if let Some(prev) = step.checked_sub(1).and_then(|p| file.date(p)) {
        if on < prev {
            return Err(Refusal::BeforePrevious);
        }
    }
    let mut late = Vec::new();
    match step {
        APPLICATION => {
            let adult = file
                .birth_date
                .and_then(|b| b.checked_add_months(Months::new(18 * 12)))
                .is_some_and(|eighteen| on >= eighteen);
            if !adult {
                return Err(Refusal::Under18);
            }
        }
        TALK => {
            let due = file
                .date(APPLICATION)
                .and_then(|a| a.checked_add_months(Months::new(1)));
            if due.is_some_and(|d| on > d) {
                late.push(Lateness::TalkAfterAMonth);
            }
        }
        CONTACTS if !(1..=2).contains(&people_full_members) => return Err(Refusal::Contacts),
        TARGET => {
            let year_on = file.date(ACTIVIST).and_then(|a| a.checked_add_months(Months::new(12)));
            if year_on.is_none_or(|y| on < y) {
                return Err(Refusal::ActivistUnderAYear);
            }
        }
        INTRODUCERS if people_full_members != 2 => return Err(Refusal::Introducers),
        ADMISSION_VOTE | CONVERSION_VOTE => return Err(Refusal::NeedsVote),
        ADMISSION_APPROVAL | CONVERSION_APPROVAL => {
            let vote = file.date(if step == ADMISSION_APPROVAL {
                ADMISSION_VOTE
            } else {
                CONVERSION_VOTE
            });
            let after = |months: u32| vote.and_then(|v| v.checked_add_months(Months::new(months)));
            if after(6).is_some_and(|limit| on > limit) {
                return Err(Refusal::ApprovalTooLate);
            }
            if after(3).is_some_and(|due| on > due) {
                late.push(Lateness::ApprovalAfterThreeMonths);
            }
        }
        CONVERSION_APPLICATION => {
            if file.probation_ends().is_none_or(|end| on < end) {
                return Err(Refusal::ProbationNotOver);
            }
        }
        _ => {}
    }
    Ok(late)
}

/// A branch general meeting's vote on admission or conversion (细则 Arts. 21, 30).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Vote {
    /// Full members entitled to vote.
    pub entitled: u32,
    pub present: u32,
    pub yes: u32,
    pub no: u32,
    pub abstain: u32,
    /// Written opinions of absent voters in favour (they count towards passing, not the quorum).
    pub written_yes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoteOutcome {
    pub quorum: bool,
    pub passed: bool,
    pub explanation_zh: String,
    pub explanation_en: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VoteError {
    /// More present than entitled, more votes than present, or more written opinions than absent.
    Inconsistent,
    NoneEntitled,
}

/// Quorum: more than half of those entitled present. Passes only with yes-votes (written ones
/// included) from more than half of those ENTITLED, not of those present.
pub fn count(v: Vote) -> Result<VoteOutcome, VoteError> {
    if v.entitled == 0 {
        return Err(VoteError::NoneEntitled);
    }
    if v.present > v.entitled || v.yes + v.no + v.abstain > v.present || v.written_yes > v.entitled - v.present {
        return Err(VoteError::Inconsistent);
    }
    let quorum = v.present * 2 > v.entitled;
    let in_favour = v.yes + v.written_yes;
    let passed = quorum && in_favour * 2 > v.entitled;
    Ok(VoteOutcome {
        quorum,
        passed,
        explanation_zh: format!(
            "应到有表决权的正式党员 {} 人，实到 {} 人（{}过半数）；赞成 {} 票（含书面意见 {} 票），{}过应到人数的半数：{}",
            v.entitled,
            v.present,
            if quorum { "" } else { "未" },
            in_favour,
            v.written_yes,
            if in_favour * 2 > v.entitled { "超" } else { "未超" },
            if passed { "通过" } else { "未通过" }
        ),
        explanation_en: format!(
            "{} entitled, {} present ({}more than half); {} in favour ({} in writing), {}more than half of those entitled: {}",
            v.entitled,
            v.present,
            if quorum { "" } else { "not " },
            in_favour,
            v.written_yes,
            if in_favour * 2 > v.entitled { "" } else { "not " },
            if passed { "passed" } else { "not passed" }
        ),
    })
}

/// An extension of probation is 6–12 months, and granted once (细则 Art. 31).
pub fn extension_allowed(file: &File, months: u32) -> bool {
    file.extension_months == 0 && (6..=12).contains(&months)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn file(dates: &[&str]) -> File {
        File {
            birth_date: Some(d("2000-05-20")),
            done: dates.iter().map(|x| Some(d(x))).collect(),
            extension_months: 0,
        }
    }

    const TODAY: &str = "2030-01-01";

    #[test]
    fn the_steps_are_twenty_five_in_five_stages() {
        assert_eq!(STEPS.len(), 25);
        assert_eq!(step_name(15), Some("支部大会讨论"));
        assert_eq!(step_name(26), None);
        assert_eq!(STEPS.iter().filter(|(stage, _)| *stage == 4).count(), 7);
    }

    #[test]
    fn eighteen_on_the_day_of_application() {
        let f = File {
            birth_date: Some(d("2000-05-20")),
            ..Default::default()
        };
        assert_eq!(check_step(&f, 1, d("2018-05-19"), 0, d(TODAY)), Err(Refusal::Under18));
        assert_eq!(check_step(&f, 1, d("2018-05-20"), 0, d(TODAY)), Ok(vec![]));
    }

    #[test]
    fn the_talk_is_late_after_a_month() {
        let f = file(&["2024-03-15"]);
        assert_eq!(check_step(&f, 2, d("2024-04-15"), 0, d(TODAY)), Ok(vec![]));
        assert_eq!(
            check_step(&f, 2, d("2024-04-16"), 0, d(TODAY)),
            Ok(vec![Lateness::TalkAfterAMonth])
        );
        assert_eq!(
            check_step(&f, 2, d("2024-03-14"), 0, d(TODAY)),
            Err(Refusal::BeforePrevious)
        );
        assert_eq!(
            check_step(&f, 3, d("2024-04-01"), 0, d(TODAY)),
            Err(Refusal::OutOfOrder)
        );
    }

    #[test]
    fn a_year_as_activist_exactly() {
        let f = file(&[
            "2024-01-02",
            "2024-01-20",
            "2024-03-01",
            "2024-03-10",
            "2024-03-10",
            "2025-01-01",
        ]);
        assert_eq!(
            check_step(&f, 7, d("2025-02-28"), 0, d(TODAY)),
            Err(Refusal::ActivistUnderAYear)
        );
        assert_eq!(check_step(&f, 7, d("2025-03-01"), 0, d(TODAY)), Ok(vec![]));
    }

    #[test]
    fn contacts_and_introducers() {
        let f = file(&["2024-01-02", "2024-01-20", "2024-03-01", "2024-03-10"]);
        assert_eq!(check_step(&f, 5, d("2024-03-11"), 0, d(TODAY)), Err(Refusal::Contacts));
        assert_eq!(check_step(&f, 5, d("2024-03-11"), 3, d(TODAY)), Err(Refusal::Contacts));
        assert!(check_step(&f, 5, d("2024-03-11"), 2, d(TODAY)).is_ok());
        let mut f = file(&["2024-01-02"; 8]);
        f.done[6] = Some(d("2025-03-01"));
        f.done[7] = Some(d("2025-03-05"));
        assert_eq!(
            check_step(&f, 9, d("2025-03-06"), 1, d(TODAY)),
            Err(Refusal::Introducers)
        );
        assert!(check_step(&f, 9, d("2025-03-06"), 2, d(TODAY)).is_ok());
    }

    #[test]
    fn half_is_not_more_than_half() {
        let v = |entitled, present, yes, written_yes| Vote {
            entitled,
            present,
            yes,
            written_yes,
            ..Default::default()
        };
        // Exactly half present: no quorum.
        let o = count(v(10, 5, 5, 0)).unwrap();
        assert!(!o.quorum && !o.passed);
        // Quorum, but yes-votes are half of those entitled, not more.
        let o = count(v(10, 6, 5, 0)).unwrap();
        assert!(o.quorum && !o.passed, "{}", o.explanation_en);
        // Six of ten entitled in favour, one of them in writing.
        let o = count(v(10, 6, 5, 1)).unwrap();
        assert!(o.quorum && o.passed);
        // All present in favour is not enough when they are a bare majority of those present only.
        assert!(!count(v(20, 11, 10, 0)).unwrap().passed);
        assert_eq!(count(v(10, 11, 0, 0)), Err(VoteError::Inconsistent));
        assert_eq!(count(v(10, 6, 7, 0)), Err(VoteError::Inconsistent));
        assert_eq!(count(v(10, 6, 5, 5)), Err(VoteError::Inconsistent));
        assert_eq!(count(v(0, 0, 0, 0)), Err(VoteError::NoneEntitled));
    }

    proptest::proptest! {
        #[test]
        fn passing_needs_a_majority_of_those_entitled(entitled in 1u32..200, present_share in 0u32..=100, yes_share in 0u32..=100, written in 0u32..50) {
            let present = entitled * present_share / 100;
            let yes = present * yes_share / 100;
            let written_yes = written.min(entitled - present);
            let o = count(Vote { entitled, present, yes, written_yes, ..Default::default() }).unwrap();
            proptest::prop_assert_eq!(o.quorum, present * 2 > entitled);
            proptest::prop_assert_eq!(o.passed, o.quorum && (yes + written_yes) * 2 > entitled);
        }
    }

    #[test]
    fn approval_within_three_months_at_most_six() {
        let mut f = file(&["2024-01-02"; 16]);
        f.done[14] = Some(d("2025-06-10"));
        f.done[15] = Some(d("2025-06-20"));
        assert_eq!(check_step(&f, 17, d("2025-09-10"), 0, d(TODAY)), Ok(vec![]));
        assert_eq!(
            check_step(&f, 17, d("2025-09-11"), 0, d(TODAY)),
            Ok(vec![Lateness::ApprovalAfterThreeMonths])
        );
        assert!(check_step(&f, 17, d("2025-12-10"), 0, d(TODAY)).is_ok());
        assert_eq!(
            check_step(&f, 17, d("2025-12-11"), 0, d(TODAY)),
            Err(Refusal::ApprovalTooLate)
        );
    }

    #[test]
    fn conversion_waits_for_the_end_of_probation() {
        let mut f = file(&["2024-01-02"; 21]);
        f.done[14] = Some(d("2025-06-10"));
        for i in 15..21 {
            f.done[i] = Some(d("2025-07-01"));
        }
        assert_eq!(f.probation_ends(), Some(d("2026-06-10")));
        assert_eq!(
            check_step(&f, 22, d("2026-06-09"), 0, d(TODAY)),
            Err(Refusal::ProbationNotOver)
        );
        assert!(check_step(&f, 22, d("2026-06-10"), 0, d(TODAY)).is_ok());
        f.extension_months = 6;
        assert_eq!(f.probation_ends(), Some(d("2026-12-10")));
        assert!(!extension_allowed(&f, 6), "once only");
        assert!(extension_allowed(&File::default(), 12) && !extension_allowed(&File::default(), 5));
        assert_eq!(
            check_step(&f, 23, d("2026-12-10"), 0, d(TODAY)),
            Err(Refusal::OutOfOrder)
        );
    }
}
