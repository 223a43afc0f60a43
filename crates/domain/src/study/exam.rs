//! Exams (题库与考试): the kinds of question, how an answer is normalised and graded, and how the
//! grade of several attempts is kept. Grading is the server's alone: whatever score or correctness
//! a client sends is never read. Scores are in permille of the full mark (each question weighs
//! the same), so that partial credit and averages stay exact integers.

code_enum!(QuestionKind {
    Single = "single" / "单选题",
    Multiple = "multiple" / "多选题",
    Judge = "judge" / "判断题",
    Fill = "fill" / "填空题",
    // Marked by a person (阅卷), never by the server.
    Short = "short" / "简答题",
});

code_enum!(GradePolicy {
    Highest = "highest" / "取最高",
    Last = "last" / "取最后一次",
    Average = "average" / "取平均",
});

code_enum!(Explain {
    // When a member sees the key and the explanations of their attempt.
    AfterSubmit = "after_submit" / "交卷后",
    AfterClose = "after_close" / "考试结束后",
});

/// The most options a choice question has (A–H).
pub const MAX_OPTIONS: usize = 8;

/// The letter of option `i` (0 → A).
pub fn letter(i: usize) -> char {
    (b'A' + i as u8) as char
}

/// Option letters as typed ("a, c", "CA", "A C") → sorted, deduplicated upper-case ("AC"), or
/// `None` when anything else is in it or a letter is past the options.
pub fn letters(text: &str, options: usize) -> Option<String> {
    let mut out: Vec<char> = Vec::new();
    for c in text.chars() {
        let c = c.to_ascii_uppercase();
        match c {
            'A'..='H' if ((c as u8 - b'A') as usize) < options => {
                if !out.contains(&c) {
                    out.push(c)
                }
            }
            ' ' | ',' | '，' | '、' | ';' | '；' => {}
            _ => return None,
        }
    }
    out.sort_unstable();
    (!out.is_empty()).then(|| out.into_iter().collect())
}

/// A judgement as typed: 对/正确/√/true/T/是 or 错/错误/×/false/F/否.
pub fn judgement(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "true" | "t" | "对" | "正确" | "√" | "是" | "yes" | "y" => Some(true),
        "false" | "f" | "错" | "错误" | "×" | "x" | "否" | "no" | "n" => Some(false),
        _ => None,
    }
}

/// A fill-in as compared: full-width forms folded to half-width, case folded, and spaces and
/// punctuation (Chinese or Latin) dropped — so "《党章》" matches "党章" and "ＡＢＣ" matches "abc".
pub fn normalise_fill(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// What one answer earns, in permille, by the key as the attempt stores it; `None` for a short
/// answer (a person marks it). Multiple choice earns all or nothing unless `partial`: then an
/// answer with no wrong letter earns its share of the right ones.
pub fn grade(kind: QuestionKind, key: &str, given: &str, partial: bool) -> Option<i64> {
    let full = |right: bool| if right { 1000 } else { 0 };
    Some(match kind {
        QuestionKind::Single => full(letters(given, MAX_OPTIONS).as_deref() == Some(key)),
        QuestionKind::Multiple => {
            let Some(given) = letters(given, MAX_OPTIONS) else {
                return Some(0);
            };
            if given == key {
                1000
            } else if partial && !key.is_empty() && given.chars().all(|c| key.contains(c)) {
                1000 * given.chars().count() as i64 / key.chars().count() as i64
            } else {
                0
            }
        }
        QuestionKind::Judge => full(judgement(given).is_some() && judgement(given) == judgement(key)),
        QuestionKind::Fill => {
            let given = normalise_fill(given);
            full(!given.is_empty() && key.split('|').any(|k| normalise_fill(k) == given))
        }
        QuestionKind::Short => return None,
    })
}

/// An attempt's score: the mean of its questions' credits, in permille.
pub fn score(credits: &[i64]) -> i64 {
    if credits.is_empty() {
        0
    } else {
        credits.iter().sum::<i64>() / credits.len() as i64
    }
}

/// The grade kept from the graded attempts' scores, oldest first.
pub fn keep(policy: GradePolicy, scores: &[i64]) -> Option<i64> {
    match policy {
        GradePolicy::Highest => scores.iter().copied().max(),
        GradePolicy::Last => scores.last().copied(),
        GradePolicy::Average => (!scores.is_empty()).then(|| scores.iter().sum::<i64>() / scores.len() as i64),
    }
}

/// Permille as a mark out of 100, as people read it: 867 → "86.7", 900 → "90".
pub fn mark_text(permille: i64) -> String {
    crate::study::hours_text(permille)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choice_answers_are_read_as_letters() {
        assert_eq!(letters("c, a", 4).as_deref(), Some("AC"));
        assert_eq!(letters("AAB", 4).as_deref(), Some("AB"));
        assert_eq!(letters("E", 4), None, "past the options");
        assert_eq!(letters("A1", 4), None);
        assert_eq!(letters("", 4), None);
        assert_eq!(grade(QuestionKind::Single, "B", "b", false), Some(1000));
        assert_eq!(grade(QuestionKind::Single, "B", "AB", false), Some(0));
    }

    #[test]
    fn partial_credit_only_when_set_and_only_without_a_wrong_letter() {
        assert_eq!(grade(QuestionKind::Multiple, "ACD", "ACD", false), Some(1000));
        assert_eq!(grade(QuestionKind::Multiple, "ACD", "AC", false), Some(0));
        assert_eq!(grade(QuestionKind::Multiple, "ACD", "AC", true), Some(666));
        assert_eq!(
            grade(QuestionKind::Multiple, "ACD", "AB", true),
            Some(0),
            "a wrong letter earns nothing"
        );
        assert_eq!(grade(QuestionKind::Multiple, "ACD", "", true), Some(0));
    }

    #[test]
    fn judgements_and_fill_ins_are_normalised() {
        assert_eq!(grade(QuestionKind::Judge, "true", "对", false), Some(1000));
        assert_eq!(grade(QuestionKind::Judge, "false", "√", false), Some(0));
        assert_eq!(grade(QuestionKind::Judge, "false", "maybe", false), Some(0));
        assert_eq!(
            grade(QuestionKind::Fill, "党章|中国共产党章程", " 《党章》 ", false),
            Some(1000)
        );
        assert_eq!(grade(QuestionKind::Fill, "ABC", "ａｂｃ", false), Some(1000));
        assert_eq!(grade(QuestionKind::Fill, "党章", "", false), Some(0));
        assert_eq!(grade(QuestionKind::Fill, "党章", "党纪", false), Some(0));
        assert_eq!(grade(QuestionKind::Short, "要点", "答案", false), None);
    }

    #[test]
    fn grades_are_kept_by_policy() {
        let scores = [600, 900, 700];
        assert_eq!(keep(GradePolicy::Highest, &scores), Some(900));
        assert_eq!(keep(GradePolicy::Last, &scores), Some(700));
        assert_eq!(keep(GradePolicy::Average, &scores), Some(733));
        assert_eq!(keep(GradePolicy::Average, &[]), None);
        assert_eq!(score(&[1000, 0, 666]), 555);
        assert_eq!(mark_text(867), "86.7");
    }
}
