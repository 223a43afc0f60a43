//! Study files: the study report (学习情况统计) as a workbook — task completion, 学时 by category,
//! and every member below the year's minimum; no sheet ranks members or shows time online
//! (国办函〔2026〕12号) — and the question bank's import, template and export.

use domain::study::exam::{letter, QuestionKind, MAX_OPTIONS};
use domain::study::{hours_text, Category};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use store::study::questions::{ImportRow, Question, QuestionInput};
use store::study::reports::Report;

use super::members::{escape_cell, read_table, FileError};

/// The question bank's columns after the options: in the file, 选项A … 选项H sit between 题干 and 答案.
const QUESTION_HEAD: [&str; 2] = ["题型", "题干"];
const QUESTION_TAIL: [&str; 4] = ["答案", "分类", "难度", "解析"];

fn question_header() -> Vec<String> {
    let mut h: Vec<String> = QUESTION_HEAD.iter().map(|s| s.to_string()).collect();
    h.extend((0..MAX_OPTIONS).map(|i| format!("选项{}", letter(i))));
    h.extend(QUESTION_TAIL.iter().map(|s| s.to_string()));
    h
}

/// Reads a question file (XLSX, or CSV in UTF-8 or GB18030). Headers are found by name, so
/// columns may come in any order and unused option columns may be left out.
pub fn read_questions(bytes: &[u8]) -> Result<Vec<ImportRow>, FileError> {
    let mut rows = read_table(bytes)?.into_iter();
    let (_, header) = rows.next().ok_or(FileError::Empty)?;
    let header: Vec<String> = header
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    if !header.iter().any(|h| h == "题干" || h.eq_ignore_ascii_case("stem")) {
        return Err(FileError::NoHeader);
    }
    Ok(rows
        .map(|(line, cells)| {
            let mut input = QuestionInput::default();
            for (h, value) in header.iter().zip(cells) {
                let value = value.trim().to_string();
                if value.is_empty() {
                    continue;
                }
                match h.as_str() {
                    "题型" | "kind" => input.kind = Some(value),
                    "题干" | "stem" => input.stem = Some(value),
                    "答案" | "answer" => input.answer = Some(value),
                    "分类" | "categories" => {
                        input.categories = value
                            .split(['、', ',', '，', ';', '；', ' '])
                            .filter(|c| !c.is_empty())
                            .map(str::to_string)
                            .collect()
                    }
                    // A difficulty that is not a number is passed on as out of range, named by line.
                    "难度" | "difficulty" => input.difficulty = Some(value.parse().unwrap_or(0)),
                    "解析" | "explanation" => input.explanation = Some(value),
                    h if h.starts_with("选项") => {
                        let slot = h
                            .trim_start_matches("选项")
                            .chars()
                            .next()
                            .map(|c| c.to_ascii_uppercase());
                        if let Some(i) = slot
                            .filter(|c| c.is_ascii_uppercase())
                            .map(|c| (c as u8 - b'A') as usize)
                        {
                            if input.options.len() <= i {
                                input.options.resize(i + 1, String::new());
                            }
                            input.options[i] = value;
                        }
                    }
                    _ => {}
                }
            }
            // A gap between options (A, B, D) shows as an empty option, refused by its line.
            ImportRow { line, input }
        })
        .collect())
}

/// A question file to fill in, with one example of each kind.
pub fn questions_template() -> Result<Vec<u8>, XlsxError> {
    let examples: Vec<Question> = Vec::new();
    let mut book = write_questions_book(&examples)?;
    let sheet = book.worksheet_from_index(0)?;
    let rows: [(&str, &str, &[&str], &str, &str, i64, &str); 5] = [
        (
            "单选题",
            "党的最高领导机关是？",
            &["党的全国代表大会和它所产生的中央委员会", "中央纪律检查委员会", "国务院"],
            "A",
            "党章党规党纪",
            1,
            "见党章第十条。",
        ),
        (
            "多选题",
            "“三会一课”中的“三会”包括？",
            &["支部党员大会", "支部委员会", "党小组会", "民主生活会"],
            "ABC",
            "党章党规党纪",
            2,
            "",
        ),
        ("判断题", "预备党员的预备期为一年。", &[], "对", "党章党规党纪", 1, ""),
        (
            "填空题",
            "党的根本组织原则是______。",
            &[],
            "民主集中制",
            "党章党规党纪",
            2,
            "多个可接受的答案用 | 分隔。",
        ),
        (
            "简答题",
            "简述党员的八项义务中的任意三项。",
            &[],
            "要点：认真学习；贯彻执行；坚持党和人民的利益高于一切……",
            "党章党规党纪",
            3,
            "简答题由管理员阅卷。",
        ),
    ];
    for (r, (kind, stem, options, answer, category, difficulty, explanation)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, *kind)?;
        sheet.write_string(r, 1, *stem)?;
        for (i, o) in options.iter().enumerate() {
            sheet.write_string(r, 2 + i as u16, *o)?;
        }
        let tail = 2 + MAX_OPTIONS as u16;
        sheet.write_string(r, tail, *answer)?;
        sheet.write_string(r, tail + 1, *category)?;
        sheet.write_number(r, tail + 2, *difficulty as f64)?;
        sheet.write_string(r, tail + 3, *explanation)?;
    }
    book.save_to_buffer()
}

fn write_questions_book(questions: &[Question]) -> Result<Workbook, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("题库")?;
    for (c, h) in question_header().iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, h, &bold)?;
    }
    let tail = 2 + MAX_OPTIONS as u16;
    for (r, q) in questions.iter().enumerate() {
        let r = r as u32 + 1;
        let kind = QuestionKind::parse(&q.kind).map(QuestionKind::zh).unwrap_or_default();
        sheet.write_string(r, 0, kind)?;
        sheet.write_string(r, 1, escape_cell(&q.stem))?;
        for (i, o) in q.options.iter().take(MAX_OPTIONS).enumerate() {
            sheet.write_string(r, 2 + i as u16, escape_cell(o))?;
        }
        let answer = match QuestionKind::parse(&q.kind) {
            Some(QuestionKind::Judge) => if q.answer == "true" { "对" } else { "错" }.to_string(),
            _ => escape_cell(&q.answer),
        };
        sheet.write_string(r, tail, answer)?;
        let categories: Vec<&str> = q
            .categories
            .iter()
            .filter_map(|c| Category::parse(c))
            .map(Category::zh)
            .collect();
        sheet.write_string(r, tail + 1, categories.join("、"))?;
        sheet.write_number(r, tail + 2, q.difficulty as f64)?;
        sheet.write_string(r, tail + 3, escape_cell(&q.explanation))?;
    }
    Ok(book)
}

/// The bank as a workbook in the import's own columns, so that it can be edited and imported again.
pub fn write_questions(questions: &[Question]) -> Result<Vec<u8>, XlsxError> {
    write_questions_book(questions)?.save_to_buffer()
}

pub fn write_report(r: &Report) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let title = escape_cell(&format!("{} {} 年学习情况", r.org_name, r.year));

    let tasks = book.add_worksheet();
    tasks.set_name("学习任务")?;
    tasks.write_string_with_format(0, 0, &title, &bold)?;
    tasks.write_string(
        1,
        0,
        format!(
            "党员 {} 人，免于要求 {} 人，未达最低学时 {} 人",
            r.members, r.exempt, r.below_total
        ),
    )?;
    for (c, h) in [
        "任务",
        "布置组织",
        "截止日期",
        "必学",
        "应学人数",
        "已完成",
        "完成率（%）",
    ]
    .iter()
    .enumerate()
    {
        tasks.write_string_with_format(3, c as u16, *h, &bold)?;
    }
    for (i, t) in r.tasks.iter().enumerate() {
        let row = i as u32 + 4;
        tasks.write_string(row, 0, escape_cell(&t.title))?;
        tasks.write_string(row, 1, escape_cell(&t.org_name))?;
        tasks.write_string(row, 2, t.due_on.to_string())?;
        tasks.write_string(row, 3, if t.required { "必学" } else { "选学" })?;
        tasks.write_number(row, 4, t.counted as f64)?;
        tasks.write_number(row, 5, t.completed as f64)?;
        if let Some(rate) = t.rate {
            tasks.write_number(row, 6, rate as f64)?;
        }
    }
    tasks.set_column_width(0, 36)?;
    tasks.set_column_width(1, 24)?;

    let categories = book.add_worksheet();
    categories.set_name("各类内容学时")?;
    categories.write_string_with_format(0, 0, "内容分类", &bold)?;
    categories.write_string_with_format(0, 1, "学时", &bold)?;
    for (i, k) in r.categories.iter().enumerate() {
        let label = Category::parse(&k.category).map(Category::zh).unwrap_or_default();
        categories.write_string(i as u32 + 1, 0, label)?;
        categories.write_number(i as u32 + 1, 1, k.hours_tenths as f64 / 10.0)?;
    }
    categories.set_column_width(0, 20)?;

    let below = book.add_worksheet();
    below.set_name("未达最低学时")?;
    for (c, h) in ["姓名", "所在组织", "已认定学时", "应完成学时"].iter().enumerate() {
        below.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, b) in r.below.iter().enumerate() {
        let row = i as u32 + 1;
        below.write_string(row, 0, escape_cell(&b.name))?;
        below.write_string(row, 1, escape_cell(&b.org_name))?;
        below.write_string(row, 2, hours_text(b.credited_tenths))?;
        below.write_string(row, 3, hours_text(b.required_tenths))?;
    }
    below.set_column_width(1, 24)?;
    below.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}
