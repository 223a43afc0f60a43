//! Study files: the study report (学习情况统计) as a workbook — task completion, 学时 by category,
//! and every member below the year's minimum; no sheet ranks members or shows time online
//! (国办函〔2026〕12号) — the question bank's import, template and export, and the library's import
//! and template.

use domain::study::exam::{letter, QuestionKind, MAX_OPTIONS};
use domain::study::{hours_text, Category};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use store::study::item_import::ItemRow;
use store::study::questions::{ImportRow, Question, QuestionInput};
use store::study::reports::Report;

use super::members::{escape_cell, read_table, read_table_of, FileError, EXCEL_CELL_CHARS};

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

/// The library import's columns, in the template's order.
const ITEM_COLUMNS: [&str; 12] = [
    "标题",
    "类型",
    "分类",
    "学时",
    "摘要",
    "出处",
    "正文",
    "链接",
    "文件",
    "时长",
    "标签",
    "发送范围",
];

/// Several values in one cell: 、 as the template shows, or commas and semicolons.
fn list_cell(value: &str) -> Vec<String> {
    value
        .split(['、', ',', '，', ';', '；', '\n'])
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

/// A video's or audio's length as written: `1:05:00`, `45:30` (minutes and seconds), or minutes
/// alone (`45`, `45分钟`). Anything else is passed on as 0, refused by its line as out of range.
fn duration_cell(value: &str) -> i64 {
    let value = value.trim().trim_end_matches("分钟").trim();
    let parts: Option<Vec<i64>> = value.split([':', '：']).map(|p| p.trim().parse().ok()).collect();
    match parts.as_deref() {
        Some([minutes]) => minutes * 60,
        Some([minutes, seconds]) if *seconds < 60 => minutes * 60 + seconds,
        Some([hours, minutes, seconds]) if *minutes < 60 && *seconds < 60 => hours * 3600 + minutes * 60 + seconds,
        _ => 0,
    }
    .clamp(0, i64::from(i32::MAX))
}

/// Reads a library workbook (XLSX, or CSV in UTF-8 or GB18030), headers found by name. Cells may
/// be as long as Excel allows: an article's text fits in one.
pub fn read_items(bytes: &[u8]) -> Result<Vec<ItemRow>, FileError> {
    let mut rows = read_table_of(bytes, EXCEL_CELL_CHARS)?.into_iter();
    let (_, header) = rows.next().ok_or(FileError::Empty)?;
    let header: Vec<String> = header
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    if !header.iter().any(|h| h == "标题" || h.eq_ignore_ascii_case("title")) {
        return Err(FileError::NoHeader);
    }
    Ok(rows
        .map(|(line, cells)| {
            let mut row = ItemRow {
                line,
                ..Default::default()
            };
            let input = &mut row.input;
            for (h, value) in header.iter().zip(cells) {
                let value = value.trim().to_string();
                if value.is_empty() {
                    continue;
                }
                match h.as_str() {
                    "标题" | "title" => input.title = Some(value),
                    "类型" | "kind" => input.kind = Some(value),
                    "分类" | "内容分类" | "categories" => input.categories = list_cell(&value),
                    "学时" | "hours" => input.hours = Some(value),
                    "摘要" | "summary" => input.summary = Some(value),
                    "出处" | "来源" | "source" => input.source = Some(value),
                    "正文" | "body" => input.body = Some(value),
                    "链接" | "link" => input.link = Some(value),
                    "文件" | "file" => row.file = Some(value),
                    "时长" | "duration" => input.duration_seconds = Some(duration_cell(&value)),
                    "标签" | "tags" => input.tags = list_cell(&value),
                    "发送范围" | "to_orgs" => row.to_orgs = list_cell(&value),
                    _ => {}
                }
            }
            row
        })
        .collect())
}

/// A library workbook to fill in, with one example of each kind and a sheet that says how.
pub fn items_template() -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("学习资料")?;
    for (c, h) in ITEM_COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    let examples: [[&str; 12]; 4] = [
        [
            "学习党章第一章：党员",
            "文章",
            "党章党规党纪",
            "1",
            "党员的条件、义务和权利。",
            "中国共产党章程",
            "党章第一章规定了党员的条件、义务和权利。\n\n每名党员都要认真学习。",
            "",
            "",
            "",
            "党章",
            "",
        ],
        [
            "二十大报告辅导讲稿",
            "文档",
            "政治理论、路线方针政策",
            "2",
            "",
            "",
            "",
            "",
            "讲稿.pdf",
            "",
            "",
            "",
        ],
        [
            "党史微课：红船精神",
            "视频",
            "党的宗旨和党史",
            "0.5",
            "",
            "",
            "",
            "",
            "红船精神.mp4",
            "12:30",
            "党史、微课",
            "",
        ],
        [
            "学习强国：每日金句",
            "链接",
            "形势政策",
            "0.5",
            "",
            "学习强国",
            "",
            "https://www.xuexi.cn/",
            "",
            "",
            "",
            "",
        ],
    ];
    for (r, row) in examples.iter().enumerate() {
        for (c, value) in row.iter().enumerate() {
            sheet.write_string(r as u32 + 1, c as u16, *value)?;
        }
    }
    sheet.set_column_width(0, 28)?;
    sheet.set_column_width(6, 40)?;
    sheet.set_freeze_panes(1, 0)?;
    let help = book.add_worksheet();
    help.set_name("填写说明")?;
    let notes = [
        "每行一条资料，导入后逐条进入审核流程，审核通过后发布。",
        "类型：文章、文档、视频、音频、链接；留空时按文件或链接判断，都没有则为文章。",
        "分类：政治理论、党章党规党纪、党的宗旨和党史、路线方针政策、知识技能、形势政策、优良传统，可填多个，用顿号分隔。",
        "学时：0.1 至 100，如 1 或 0.5。",
        "正文：文章的内容，可分段；文档的内容来自文件。",
        "文件：文档（PDF、DOCX）、视频（MP4、WebM）或音频（MP3、M4A、OGG、WAV）的文件名，文件与本表一起上传。",
        "时长：视频、音频的长度，如 12:30（分:秒）、1:05:00 或 45（分钟）；播放满 95% 记为完成。",
        "发送范围：本组织下级组织的名称或编号，用顿号分隔；留空为本组织全体。",
        "同一组织的资料库中标题不能重复；一次最多导入 2000 条。",
    ];
    for (r, note) in notes.iter().enumerate() {
        help.write_string(r as u32, 0, *note)?;
    }
    help.set_column_width(0, 100)?;
    book.save_to_buffer()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_length_reads_as_minutes_and_seconds_hours_or_minutes_alone() {
        assert_eq!(duration_cell("12:30"), 750);
        assert_eq!(duration_cell("1:05:00"), 3900);
        assert_eq!(duration_cell("45"), 2700);
        assert_eq!(duration_cell("45分钟"), 2700);
        assert_eq!(duration_cell("12:75"), 0, "refused by its line as out of range");
        assert_eq!(duration_cell("long"), 0);
    }

    #[test]
    fn the_items_template_reads_back_as_its_examples() {
        let rows = read_items(&items_template().unwrap()).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].input.categories, vec!["党章党规党纪"]);
        assert_eq!(rows[1].file.as_deref(), Some("讲稿.pdf"));
        assert_eq!(rows[2].input.duration_seconds, Some(750));
        assert_eq!(rows[2].input.tags, vec!["党史", "微课"]);
        assert_eq!(rows[3].input.link.as_deref(), Some("https://www.xuexi.cn/"));
    }
}
