//! The study report (学习情况统计) as a workbook: task completion, 学时 by category, and every member
//! below the year's minimum. No sheet ranks members or shows time online (国办函〔2026〕12号).

use domain::study::{hours_text, Category};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use store::study::reports::Report;

use super::members::escape_cell;

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
