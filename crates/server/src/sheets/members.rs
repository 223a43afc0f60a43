//! Roster files: reading member imports (XLSX, or CSV in UTF-8 or GB18030) and writing exports
//! (XLSX with IDs and phones as text, CSV with a UTF-8 BOM), formula injection escaped in both.

use calamine::{Data, Reader};
use domain::member::{Category, Education, Gender, Status};
use std::io::Cursor;
use store::import::ImportRow;
use store::members::{Member, Revealed};

/// Columns in import and export order: (field, Chinese header, English header).
pub const COLUMNS: [(&str, &str, &str); 16] = [
    ("name", "姓名", "name"),
    ("gender", "性别", "gender"),
    ("ethnicity", "民族", "ethnicity"),
    ("birth_date", "出生日期", "birth_date"),
    ("id_number", "公民身份号码", "id_number"),
    ("phone", "手机号码", "phone"),
    ("address", "家庭住址", "address"),
    ("education", "学历", "education"),
    ("work_unit", "工作单位", "work_unit"),
    ("post", "职务", "post"),
    ("joined_on", "入党日期", "joined_on"),
    ("full_member_on", "转正日期", "full_member_on"),
    ("category", "人员类别", "category"),
    ("status", "党籍状态", "status"),
    ("offline", "无智能手机", "offline"),
    ("org", "所在党支部", "org"),
];

/// Header spellings seen in spreadsheets from other systems, mapped to our fields.
fn field_for_header(h: &str) -> Option<&'static str> {
    let h = h.trim().trim_start_matches('\u{feff}');
    COLUMNS
        .iter()
        .find(|(f, zh, en)| h == *zh || h.eq_ignore_ascii_case(en) || h == *f)
        .map(|(f, _, _)| *f)
        .or(match h {
            "身份证号" | "身份证号码" => Some("id_number"),
            "联系电话" | "手机" | "电话" => Some("phone"),
            "党员类别" | "类别" => Some("category"),
            "所在支部" | "支部" | "党组织" | "所在党组织" => Some("org"),
            "性别 " | "性 别" => Some("gender"),
            _ => None,
        })
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FileError {
    #[error("file.empty")]
    Empty,
    #[error("file.unreadable")]
    Unreadable,
    #[error("file.no_header")]
    NoHeader,
    #[error("file.too_many_rows")]
    TooManyRows,
    #[error("file.too_many_columns")]
    TooManyColumns,
    #[error("file.cell_too_long")]
    CellTooLong,
    #[error("file.too_many_entries")]
    TooManyEntries,
    #[error("file.unpacks_too_large")]
    UnpacksTooLarge,
    #[error("file.compression_ratio")]
    CompressionRatio,
}

impl From<store::files::zip::ZipProblem> for FileError {
    fn from(p: store::files::zip::ZipProblem) -> Self {
        use store::files::zip::ZipProblem;
        match p {
            ZipProblem::Unreadable => FileError::Unreadable,
            ZipProblem::TooManyEntries => FileError::TooManyEntries,
            ZipProblem::UnpacksTooLarge => FileError::UnpacksTooLarge,
            ZipProblem::CompressionRatio => FileError::CompressionRatio,
        }
    }
}

pub const MAX_ROWS: usize = 200_000;
/// Columns an import sheet may use: the templates have about fifteen.
pub const MAX_COLUMNS: usize = 64;
/// Characters a cell may hold: the longest field (an address) allows 200.
pub const MAX_CELL_CHARS: usize = 2_000;

/// Reads an import file, telling XLSX from CSV by content, and CSV encodings apart.
pub fn read(bytes: &[u8]) -> Result<Vec<ImportRow>, FileError> {
    rows_from_table(read_table(bytes)?)
}

/// The rows of an XLSX (first sheet) or CSV file, blank rows left out, each with its line number.
pub fn read_table(bytes: &[u8]) -> Result<Table, FileError> {
    read_table_of(bytes, MAX_CELL_CHARS)
}

/// Excel's own limit on a cell: what a sheet of long texts (an article's body) may hold.
pub const EXCEL_CELL_CHARS: usize = 32_767;

/// `read_table` with cells of up to `max_cell` characters.
pub fn read_table_of(bytes: &[u8], max_cell: usize) -> Result<Table, FileError> {
    if bytes.is_empty() {
        return Err(FileError::Empty);
    }
    let table = if bytes.starts_with(b"PK\x03\x04") {
        xlsx_table(bytes, max_cell)?
    } else {
        csv_table(&decode_text(bytes), max_cell)?
    };
    Ok(table
        .into_iter()
        .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()))
        .collect())
}

/// UTF-8 (with or without BOM) when it is valid UTF-8, otherwise GB18030 (a superset of GBK and
/// GB2312), which is what Excel on Chinese Windows writes.
pub fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

/// Rows with the line number a person sees in their editor or spreadsheet (header = 1).
pub type Table = Vec<(usize, Vec<String>)>;

fn csv_table(text: &str, max_cell: usize) -> Result<Table, FileError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    // Line numbers counted from byte offsets: the csv crate's own count skips blank lines.
    let (mut counted_to, mut line) = (0usize, 1usize);
    for rec in reader.records() {
        let rec = rec.map_err(|_| FileError::Unreadable)?;
        let mut start = rec
            .position()
            .map(|p| p.byte() as usize)
            .unwrap_or(counted_to)
            .min(text.len());
        // A record's position may point at the blank lines before it.
        while matches!(text.as_bytes().get(start), Some(b'\n' | b'\r')) {
            start += 1;
        }
        line += text.as_bytes()[counted_to..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        counted_to = start;
        if rec.len() > MAX_COLUMNS {
            return Err(FileError::TooManyColumns);
        }
        if rec.iter().any(|c| c.chars().count() > max_cell) {
            return Err(FileError::CellTooLong);
        }
        out.push((line, rec.iter().map(str::to_string).collect()));
        if out.len() > MAX_ROWS + 1 {
            return Err(FileError::TooManyRows);
        }
    }
    Ok(out)
}

fn xlsx_table(bytes: &[u8], max_cell: usize) -> Result<Table, FileError> {
    // calamine indexes into what a damaged sheet leaves out (0.31 panics on some truncated files):
    // a hostile file is unreadable, never a crashed request.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| xlsx_cells(bytes, max_cell)))
        .unwrap_or(Err(FileError::Unreadable))
}

fn xlsx_cells(bytes: &[u8], max_cell: usize) -> Result<Table, FileError> {
    // Inflated once into a counting sink first: calamine reads the shared strings whole, so a
    // bomb must be stopped before it gets there.
    store::files::zip::check(bytes)?;
    let mut book = calamine::Xlsx::new(Cursor::new(bytes)).map_err(|_| FileError::Unreadable)?;
    let sheet = book.sheet_names().first().cloned().ok_or(FileError::Empty)?;
    // Cell by cell, never by the sheet's declared dimensions: a two-cell file that declares
    // A1:XFD1048576 would otherwise be allocated whole (512 GiB) before a row is read.
    let mut cells = book.worksheet_cells_reader(&sheet).map_err(|_| FileError::Unreadable)?;
    let mut rows: std::collections::BTreeMap<u32, Vec<String>> = std::collections::BTreeMap::new();
    while let Some(cell) = cells.next_cell().map_err(|_| FileError::Unreadable)? {
        let (row, column) = cell.get_position();
        let column = column as usize;
        if column >= MAX_COLUMNS {
            return Err(FileError::TooManyColumns);
        }
        let text = cell_text(&Data::from(cell.get_value().clone()));
        if text.len() > max_cell * 4 || text.chars().count() > max_cell {
            return Err(FileError::CellTooLong);
        }
        if text.is_empty() && !rows.contains_key(&row) {
            continue;
        }
        if !rows.contains_key(&row) && rows.len() > MAX_ROWS {
            return Err(FileError::TooManyRows);
        }
        let cells_of_row = rows.entry(row).or_default();
        if cells_of_row.len() <= column {
            cells_of_row.resize(column + 1, String::new());
        }
        cells_of_row[column] = text;
    }
    let width = rows.values().map(Vec::len).max().unwrap_or(0);
    Ok(rows
        .into_iter()
        .map(|(row, mut cells)| {
            cells.resize(width, String::new());
            (row as usize + 1, cells)
        })
        .collect())
}

fn cell_text(c: &Data) -> String {
    match c {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        // 18-digit ID numbers stored as numbers have already lost digits in Excel; print what is
        // there and let validation name the problem.
        Data::Float(f) if f.fract() == 0.0 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        // A time typed alone (`45:30`, a video's length) is a fraction of a day.
        Data::DateTime(d) if (0.0..1.0).contains(&d.as_f64()) => {
            let seconds = (d.as_f64() * 86_400.0).round() as i64;
            format!("{}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60)
        }
        Data::DateTime(d) => excel_date(d.as_f64()).map(|t| t.to_string()).unwrap_or_default(),
        Data::DateTimeIso(s) => s.chars().take(10).collect(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(_) => String::new(),
    }
}

/// Excel stores dates as days since 1899-12-30 (the 1900 leap-year bug folded in).
fn excel_date(serial: f64) -> Option<chrono::NaiveDate> {
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?;
    let days = chrono::TimeDelta::try_days(serial.floor() as i64)?;
    base.checked_add_signed(days)
}

fn rows_from_table(table: Table) -> Result<Vec<ImportRow>, FileError> {
    let mut rows = table.into_iter();
    let (_, header) = rows.next().ok_or(FileError::Empty)?;
    let fields: Vec<Option<&str>> = header.iter().map(|h| field_for_header(h)).collect();
    if !fields.contains(&Some("name")) || !fields.contains(&Some("id_number")) {
        return Err(FileError::NoHeader);
    }
    Ok(rows
        .map(|(line, cells)| {
            let mut row = ImportRow {
                line,
                ..Default::default()
            };
            for (field, value) in fields.iter().zip(cells) {
                let Some(field) = field else { continue };
                let value = value.trim().to_string();
                let v = (!value.is_empty()).then(|| value.clone());
                let f = &mut row.fields;
                match *field {
                    "name" => f.name = v,
                    "gender" => f.gender = v,
                    "ethnicity" => f.ethnicity = v,
                    "birth_date" => f.birth_date = v,
                    "id_number" => f.id_number = v,
                    "phone" => f.phone = v,
                    "address" => f.address = v,
                    "education" => f.education = v,
                    "work_unit" => f.work_unit = v,
                    "post" => f.post = v,
                    "joined_on" => f.joined_on = v,
                    "full_member_on" => f.full_member_on = v,
                    "category" => f.category = v,
                    "status" => f.status = v,
                    "offline" => f.offline = Some(matches!(value.as_str(), "是" | "true" | "1" | "yes" | "Y" | "y")),
                    "org" => row.org = value,
                    _ => {}
                }
            }
            row
        })
        .collect())
}

/// Spreadsheet programs run cells starting with these as formulas (CSV injection); a leading
/// apostrophe makes them text.
pub fn escape_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn label<T: Copy>(code: &str, parse: fn(&str) -> Option<T>, zh: fn(T) -> &'static str) -> String {
    parse(code).map(zh).unwrap_or(code).to_string()
}

fn export_cells(m: &Member, r: &Revealed) -> Vec<String> {
    vec![
        m.name.clone(),
        label(&m.gender, Gender::parse, Gender::zh),
        m.ethnicity.clone(),
        m.birth_date.to_string(),
        r.id_number.clone(),
        r.phone.clone().unwrap_or_default(),
        r.address.clone().unwrap_or_default(),
        m.education
            .as_deref()
            .map(|e| label(e, Education::parse, Education::zh))
            .unwrap_or_default(),
        m.work_unit.clone().unwrap_or_default(),
        m.post.clone().unwrap_or_default(),
        m.joined_on.to_string(),
        m.full_member_on.map(|d| d.to_string()).unwrap_or_default(),
        label(&m.category, Category::parse, Category::zh),
        label(&m.status, Status::parse, Status::zh),
        if m.offline { "是" } else { "否" }.to_string(),
        m.org_name.clone(),
    ]
}

/// CSV with a UTF-8 BOM so that Excel opens it in the right encoding.
pub fn write_csv(rows: &[(Member, Revealed)]) -> Vec<u8> {
    let mut out = b"\xef\xbb\xbf".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let _ = w.write_record(COLUMNS.iter().map(|(_, zh, _)| *zh));
        for (m, r) in rows {
            let _ = w.write_record(export_cells(m, r).iter().map(|c| escape_cell(c)));
        }
        let _ = w.flush();
    }
    out
}

pub fn write_xlsx(rows: &[(Member, Revealed)]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("党员名册")?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    for (c, (_, zh, _)) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *zh, &bold)?;
        // Whole columns as text, so that IDs and phones typed later stay text too.
        sheet.set_column_format(c as u16, &text)?;
    }
    for (i, (m, r)) in rows.iter().enumerate() {
        for (c, cell) in export_cells(m, r).iter().enumerate() {
            sheet.write_string_with_format(i as u32 + 1, c as u16, escape_cell(cell), &text)?;
        }
    }
    sheet.set_column_width(4, 22)?;
    sheet.set_column_width(15, 24)?;
    sheet.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

/// The meeting ledger (会议台账) as a workbook: one row a meeting.
pub fn write_meeting_ledger(
    rows: &[(store::life::meetings::MeetingView, i64, i64)],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("会议台账")?;
    let bold = Format::new().set_bold();
    let headers = ["日期", "组织", "类型", "名称", "地点", "状态", "应到", "实到", "决议"];
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, (m, expected, present)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        let kinds: Vec<&str> = m
            .kinds
            .iter()
            .filter_map(|k| domain::life::MeetingKind::parse(k))
            .map(|k| k.zh())
            .collect();
        let status = match m.meeting.status.as_str() {
            "planned" => "计划",
            "held" => "已召开",
            "archived" => "已归档",
            _ => "已取消",
        };
        let texts = [
            m.meeting.local_date.to_string(),
            m.meeting.org_name.clone(),
            kinds.join("、"),
            m.meeting.title.clone(),
            m.meeting.location.clone().unwrap_or_default(),
            status.to_string(),
        ];
        for (c, t) in texts.iter().enumerate() {
            sheet.write_string(r, c as u16, escape_cell(t))?;
        }
        sheet.write_number(r, 6, *expected as f64)?;
        sheet.write_number(r, 7, *present as f64)?;
        sheet.write_string(r, 8, escape_cell(m.meeting.resolutions.as_deref().unwrap_or_default()))?;
    }
    sheet.set_column_width(1, 24)?;
    sheet.set_column_width(3, 30)?;
    sheet.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

/// A blank template with the headers, for users to fill in.
pub fn template_csv() -> Vec<u8> {
    write_csv(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_gb18030_csv_with_chinese_headers() {
        let text = "姓名,性别,公民身份号码,入党日期,转正日期,所在党支部\n王芳,女,11010519491231002X,1975-07-01,1976-07-01,第一党支部\n";
        let (gbk, _, _) = encoding_rs::GB18030.encode(text);
        let rows = read(&gbk).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].fields.name.as_deref(), Some("王芳"));
        assert_eq!(rows[0].org, "第一党支部");
    }

    #[test]
    fn reads_utf8_bom_and_reports_physical_lines() {
        let text = "\u{feff}name,id_number,org\n\n张三,110105194912310021,x\n李四,,y\n";
        let rows = read(text.as_bytes()).unwrap();
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![3, 4]);
    }

    #[test]
    fn refuses_files_without_the_key_headers() {
        assert_eq!(read(b"a,b\n1,2\n").unwrap_err(), FileError::NoHeader);
        assert_eq!(read(b"").unwrap_err(), FileError::Empty);
    }

    fn xlsx_with(cells: &[(u32, u16, &str)]) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (row, column, text) in cells {
            sheet.write_string(*row, *column, *text).unwrap();
        }
        book.save_to_buffer().unwrap()
    }

    /// Two cells at opposite corners declare the whole sheet (A1:XFD1048576): reading it whole
    /// once asked for 512 GiB and aborted the server. Read cell by cell, it is refused by its
    /// columns, and a far row costs one row.
    #[test]
    fn a_sheet_is_read_by_its_cells_not_its_declared_size() {
        let corners = xlsx_with(&[(0, 0, "姓名"), (1_048_575, 16_383, "x")]);
        assert_eq!(read_table(&corners).unwrap_err(), FileError::TooManyColumns);
        let far = xlsx_with(&[(0, 0, "姓名"), (0, 1, "公民身份号码"), (1_048_575, 0, "王芳")]);
        let table = read_table(&far).unwrap();
        assert_eq!(table.len(), 2);
        assert_eq!(table[1], (1_048_576, vec!["王芳".to_string(), String::new()]));
    }

    /// A zip bomb: 64 MiB of one letter as the shared strings, 64 KiB on the wire.
    fn bomb() -> Vec<u8> {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        w.start_file("[Content_Types].xml", opts).unwrap();
        w.write_all(b"<Types/>").unwrap();
        w.start_file("xl/sharedStrings.xml", opts).unwrap();
        for _ in 0..64 {
            w.write_all(&[b'a'; 1024 * 1024]).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn hostile_files_are_refused_by_the_limit_they_cross() {
        assert_eq!(read_table(&bomb()).unwrap_err(), FileError::CompressionRatio);
        let long = "王".repeat(MAX_CELL_CHARS + 1);
        assert_eq!(
            read_table(&xlsx_with(&[(0, 0, "姓名"), (1, 0, &long)])).unwrap_err(),
            FileError::CellTooLong
        );
        assert_eq!(
            read_table(format!("姓名\n{long}\n").as_bytes()).unwrap_err(),
            FileError::CellTooLong
        );
        let wide = vec!["x"; MAX_COLUMNS + 1].join(",");
        assert_eq!(read_table(wide.as_bytes()).unwrap_err(), FileError::TooManyColumns);
    }

    /// Random sheets (sizes, far cells, long strings), whole and cut at random places, through the
    /// reader: an answer or a named error every time, never a panic or a runaway allocation.
    #[test]
    fn random_sheets_and_truncations_never_break_the_reader() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n.max(1)
        };
        for _ in 0..40 {
            let cells: Vec<(u32, u16, String)> = (0..1 + next(30))
                .map(|_| {
                    let row = if next(4) == 0 { next(1_048_576) } else { next(50) } as u32;
                    let column = if next(8) == 0 { next(16_384) } else { next(20) } as u16;
                    (row, column, "党".repeat(next(3_000) as usize))
                })
                .collect();
            let refs: Vec<(u32, u16, &str)> = cells.iter().map(|(r, c, t)| (*r, *c, t.as_str())).collect();
            let bytes = xlsx_with(&refs);
            let _ = read_table(&bytes);
            for _ in 0..5 {
                let cut = next(bytes.len() as u64) as usize;
                let _ = read_table(&bytes[..cut]);
                let mut flipped = bytes.clone();
                let at = next(bytes.len() as u64) as usize;
                flipped[at] ^= 0x5A;
                let _ = read_table(&flipped);
            }
        }
    }

    #[test]
    fn escapes_formulas() {
        assert_eq!(escape_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(escape_cell("+86"), "'+86");
        assert_eq!(escape_cell("王芳"), "王芳");
    }

    #[test]
    fn xlsx_round_trip_keeps_ids_as_text() {
        let bytes = write_xlsx(&[]).unwrap();
        let mut book = calamine::Xlsx::new(Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range_at(0).unwrap().unwrap();
        assert_eq!(range.get((0, 4)), Some(&Data::String("公民身份号码".into())));
    }
}
