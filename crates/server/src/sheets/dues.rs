//! Dues files: reading the year's bases from a spreadsheet (年初核定) and writing an organization's
//! dues workbook (summary, the members' book, arrears, voluntary payments).

use domain::dues::{yuan, DuesCategory};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use store::dues::{
    bases::ProfileInput, bases_import::BaseRow, payments::Payment, reports::ArrearsItem, reports::BookLine,
    reports::OrgDues,
};

use crate::sheets::members::{escape_cell, read_table, FileError};

/// Bases file columns: (field, Chinese header, English header).
pub const BASE_COLUMNS: [(&str, &str, &str); 8] = [
    ("name", "姓名", "name"),
    ("id_number", "公民身份号码", "id_number"),
    ("category", "党费类别", "category"),
    ("base", "缴费基数（元）", "base_yuan"),
    ("effective_month", "起始月份", "effective_month"),
    ("decided_on", "支部决定日期", "decided_on"),
    ("approved_on", "上级批准日期", "approved_on"),
    ("approval_ref", "批准文号", "approval_ref"),
];

fn field_for_header(h: &str) -> Option<&'static str> {
    let h = h.trim().trim_start_matches('\u{feff}');
    BASE_COLUMNS
        .iter()
        .find(|(f, zh, en)| h == *zh || h.eq_ignore_ascii_case(en) || h == *f)
        .map(|(f, _, _)| *f)
        .or(match h {
            "身份证号" | "身份证号码" => Some("id_number"),
            "类别" | "缴费类别" => Some("category"),
            "基数" | "缴费基数" | "月工资" | "基本退休费" => Some("base"),
            "起始月" | "生效月份" => Some("effective_month"),
            _ => None,
        })
}

/// `5200`, `5,200.00` or `5200.5` yuan → fen, exactly; `None` if it is not an amount.
pub fn parse_yuan(s: &str) -> Option<i64> {
    let s: String = s.trim().chars().filter(|c| *c != ',' && *c != '，').collect();
    let s = s.trim_end_matches('元');
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) || whole.len() > 9 {
        return None;
    }
    if frac.len() > 2 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let cents = format!("{frac:0<2}");
    Some(whole.parse::<i64>().ok()? * 100 + cents.parse::<i64>().ok()?)
}

/// Reads a bases file. A cell that cannot be read (a base that is not an amount, a month that is not
/// 1–12) is passed on so that validation names it against its line.
pub fn read_bases(bytes: &[u8]) -> Result<Vec<BaseRow>, FileError> {
    let mut rows = read_table(bytes)?.into_iter();
    let (_, header) = rows.next().ok_or(FileError::Empty)?;
    let fields: Vec<Option<&str>> = header.iter().map(|h| field_for_header(h)).collect();
    if !fields.contains(&Some("id_number")) || !fields.contains(&Some("category")) {
        return Err(FileError::NoHeader);
    }
    Ok(rows
        .map(|(line, cells)| {
            let mut row = BaseRow {
                line,
                input: ProfileInput::default(),
                ..Default::default()
            };
            for (field, value) in fields.iter().zip(cells) {
                let value = value.trim().to_string();
                if value.is_empty() {
                    continue;
                }
                let i = &mut row.input;
                match field {
                    Some("name") => row.name = value,
                    Some("id_number") => row.id_number = value,
                    Some("category") => i.category = Some(value),
                    Some("base") => i.base_fen = Some(parse_yuan(&value).unwrap_or(-1)),
                    Some("effective_month") => {
                        i.effective_month = Some(value.trim_end_matches('月').parse().unwrap_or(0))
                    }
                    Some("decided_on") => i.decided_on = domain::member::parse_date(&value),
                    Some("approved_on") => i.approved_on = domain::member::parse_date(&value),
                    Some("approval_ref") => i.approval_ref = Some(value),
                    _ => {}
                }
            }
            row
        })
        .collect())
}

/// A bases file to fill in (CSV with a BOM, so that Excel reads it as UTF-8).
pub fn bases_template() -> Vec<u8> {
    let mut out = b"\xef\xbb\xbf".to_vec();
    let header: Vec<&str> = BASE_COLUMNS.iter().map(|(_, zh, _)| *zh).collect();
    out.extend(header.join(",").as_bytes());
    out.extend("\r\n张三,11010519491231002X,在职,\"5,200.00\",1,,,\r\n".as_bytes());
    out
}

fn category_zh(code: &str) -> &'static str {
    DuesCategory::parse(code).map(DuesCategory::zh).unwrap_or("")
}

/// The organization's dues for a year as a workbook.
pub fn write_workbook(
    report: &OrgDues,
    book: &[BookLine],
    arrears: &[ArrearsItem],
    voluntary: &[Payment],
) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let yuan_of = |fen: i64| fen as f64 / 100.0;

    let sheet = wb.add_worksheet();
    sheet.set_name("汇总")?;
    sheet.write_string_with_format(
        0,
        0,
        escape_cell(&format!("{} {} 年党费收缴", report.org_name, report.year)),
        &bold,
    )?;
    let headers = [
        "月份",
        "应交（元）",
        "实交（元）",
        "未交（元）",
        "应交人数",
        "已交清人数",
    ];
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(2, c as u16, *h, &bold)?;
    }
    let mut r = 3;
    for m in &report.months {
        sheet.write_string(r, 0, &m.month)?;
        sheet.write_number_with_format(r, 1, yuan_of(m.due_fen), &money)?;
        sheet.write_number_with_format(r, 2, yuan_of(m.paid_fen), &money)?;
        sheet.write_number_with_format(r, 3, yuan_of(m.outstanding_fen), &money)?;
        sheet.write_number(r, 4, m.members as f64)?;
        sheet.write_number(r, 5, m.paying_members as f64)?;
        r += 1;
    }
    sheet.write_string_with_format(r, 0, "合计", &bold)?;
    sheet.write_number_with_format(r, 1, yuan_of(report.due_fen), &money)?;
    sheet.write_number_with_format(r, 2, yuan_of(report.paid_fen), &money)?;
    sheet.write_number_with_format(r, 3, yuan_of(report.outstanding_fen), &money)?;
    r += 2;
    for (label, fen) in [
        ("自愿多交党费（元）", report.voluntary_fen),
        ("其中单笔 1000 元以上、全额上缴中央（元）", report.remit_fen),
    ] {
        sheet.write_string(r, 0, label)?;
        sheet.write_number_with_format(r, 1, yuan_of(fen), &money)?;
        r += 1;
    }
    if let Some(n) = report.members_without_base {
        sheet.write_string(r, 0, "未核定基数的党员（人）")?;
        sheet.write_number(r, 1, n as f64)?;
    }
    sheet.set_column_width(0, 36)?;
    sheet.set_column_width(1, 14)?;

    let sheet = wb.add_worksheet();
    sheet.set_name("明细")?;
    let mut headers: Vec<String> = ["姓名", "所在支部", "党费类别", "缴费基数（元）", "月应交（元）"]
        .map(String::from)
        .to_vec();
    headers.extend((1..=12).map(|m| format!("{m}月实交")));
    headers.extend(["全年应交（元）", "全年实交（元）", "交至"].map(String::from));
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, h, &bold)?;
    }
    for (i, line) in book.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, escape_cell(&line.name))?;
        sheet.write_string(r, 1, escape_cell(&line.org_name))?;
        sheet.write_string(r, 2, line.category.as_deref().map(category_zh).unwrap_or("未核定"))?;
        if let Some(base) = line.base_fen {
            sheet.write_number_with_format(r, 3, yuan_of(base), &money)?;
        }
        if let Some(monthly) = line.monthly_fen {
            sheet.write_number_with_format(r, 4, yuan_of(monthly), &money)?;
        }
        for (m, cell) in line.months.iter().enumerate() {
            if let Some((due, paid)) = cell {
                let c = 5 + m as u16;
                if paid >= due {
                    sheet.write_number_with_format(r, c, yuan_of(*paid), &money)?;
                } else {
                    sheet.write_string(r, c, format!("欠 {}", yuan(due - paid)))?;
                }
            }
        }
        sheet.write_number_with_format(r, 17, yuan_of(line.due_fen), &money)?;
        sheet.write_number_with_format(r, 18, yuan_of(line.paid_fen), &money)?;
        sheet.write_string(r, 19, line.paid_up_to.map(|m| m.to_string()).unwrap_or_default())?;
    }
    sheet.set_freeze_panes(1, 1)?;
    sheet.set_column_width(1, 24)?;

    let sheet = wb.add_worksheet();
    sheet.set_name("欠缴")?;
    let headers = ["姓名", "所在支部", "连续未交（月）", "自", "至", "欠交（元）", "提示"];
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, a) in arrears.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, escape_cell(&a.name))?;
        sheet.write_string(r, 1, escape_cell(&a.org_name))?;
        sheet.write_number(r, 2, a.months as f64)?;
        sheet.write_string(r, 3, a.from.to_string())?;
        sheet.write_string(r, 4, a.to.to_string())?;
        sheet.write_number_with_format(r, 5, yuan_of(a.outstanding_fen), &money)?;
        sheet.write_string(
            r,
            6,
            match a.level.as_str() {
                "flag" => "连续 6 个月无正当理由未交，请支部研究处理（党章第九条）",
                "warning" => "已连续 3 个月以上未交",
                _ => "",
            },
        )?;
    }
    sheet.set_column_width(1, 24)?;
    sheet.set_column_width(6, 50)?;

    let sheet = wb.add_worksheet();
    sheet.set_name("自愿多交")?;
    let headers = [
        "日期",
        "姓名",
        "金额（元）",
        "其中自愿多交（元）",
        "全额上缴中央",
        "冲正",
    ];
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, p) in voluntary.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, p.paid_on.to_string())?;
        sheet.write_string(r, 1, escape_cell(&p.member_name))?;
        sheet.write_number_with_format(r, 2, yuan_of(p.amount_fen), &money)?;
        sheet.write_number_with_format(r, 3, yuan_of(p.voluntary_fen), &money)?;
        sheet.write_string(r, 4, if p.remit_to_centre { "是" } else { "" })?;
        sheet.write_string(
            r,
            5,
            if p.reverses.is_some() {
                "冲正记录"
            } else if p.reversed_by.is_some() {
                "已冲正"
            } else {
                ""
            },
        )?;
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_amounts_read_exactly() {
        assert_eq!(parse_yuan("5200"), Some(520_000));
        assert_eq!(parse_yuan("5,200.5"), Some(520_050));
        assert_eq!(parse_yuan("0.07元"), Some(7));
        assert_eq!(parse_yuan("5200.123"), None);
        assert_eq!(parse_yuan("-5"), None);
        assert_eq!(parse_yuan("1e5"), None);
    }

    #[test]
    fn bases_file_reads_chinese_headers_and_names_bad_cells() {
        let csv = "姓名,身份证号,类别,缴费基数（元）,起始月份\n张三,11010519491231002X,在职,\"5,200.00\",3月\n李四,1,学生,abc,13\n";
        let rows = read_bases(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].input.base_fen, Some(520_000));
        assert_eq!(rows[0].input.effective_month, Some(3));
        assert_eq!(rows[1].input.base_fen, Some(-1));
        assert_eq!(rows[1].line, 3);
        assert_eq!(read_bases("姓名\n张三\n".as_bytes()).unwrap_err(), FileError::NoHeader);
    }
}
