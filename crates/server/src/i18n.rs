//! Translations: Chinese first, English second, one `key = text` per line in `i18n/zh.txt` and
//! `i18n/en.txt`; error codes with their HTTP status and both texts in one table, `i18n/errors.txt`.

use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The language an API client asks for (`Accept-Language`); Chinese by default.
    pub fn of_request(headers: &axum::http::HeaderMap) -> Lang {
        headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(Lang::parse)
            .unwrap_or(Lang::Zh)
    }

    pub fn parse(s: &str) -> Lang {
        if s.trim().to_ascii_lowercase().starts_with("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }
}

pub const ZH: &str = include_str!("../i18n/zh.txt");
pub const EN: &str = include_str!("../i18n/en.txt");
pub const ERRORS: &str = include_str!("../i18n/errors.txt");

/// One row of the error table.
pub struct ErrorRow {
    pub code: &'static str,
    /// The answer's HTTP status; `None` for a field code, which only appears inside a 422.
    pub status: Option<u16>,
    pub zh: &'static str,
    pub en: &'static str,
}

/// The error table's rows (`code | status | 中文 | English`); a malformed row is skipped here and
/// failed by a test.
pub fn error_rows() -> &'static [ErrorRow] {
    static ROWS: OnceLock<Vec<ErrorRow>> = OnceLock::new();
    ROWS.get_or_init(|| {
        ERRORS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let cells: Vec<&str> = l.split(" | ").map(str::trim).collect();
                let [code, status, zh, en] = cells[..] else {
                    return None;
                };
                let status = if status == "field" {
                    None
                } else {
                    Some(status.parse().ok()?)
                };
                Some(ErrorRow { code, status, zh, en })
            })
            .collect()
    })
}

/// The HTTP status an answer with this code carries (500 for a code the table lacks, which a test
/// keeps from happening).
pub fn error_status(code: &str) -> axum::http::StatusCode {
    error_rows()
        .iter()
        .find(|r| r.code == code)
        .and_then(|r| r.status)
        .and_then(|s| axum::http::StatusCode::from_u16(s).ok())
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR)
}

pub fn parse(text: &str) -> HashMap<&str, &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.trim(), v.trim())))
        .collect()
}

fn table(lang: Lang) -> &'static HashMap<String, &'static str> {
    static ZH_T: OnceLock<HashMap<String, &str>> = OnceLock::new();
    static EN_T: OnceLock<HashMap<String, &str>> = OnceLock::new();
    // The error texts are looked up as `err.<code>` like any other key.
    let with_errors = |text: &'static str, lang: Lang| {
        let mut t: HashMap<String, &str> = parse(text).into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        for row in error_rows() {
            t.insert(
                format!("err.{}", row.code),
                if lang == Lang::Zh { row.zh } else { row.en },
            );
        }
        t
    };
    match lang {
        Lang::Zh => ZH_T.get_or_init(|| with_errors(ZH, lang)),
        Lang::En => EN_T.get_or_init(|| with_errors(EN, lang)),
    }
}

/// The text for `key`, or the key itself when missing (a test keeps that from happening).
pub fn t(lang: Lang, key: &str) -> String {
    table(lang)
        .get(key)
        .map(|s| s.to_string())
        .unwrap_or_else(|| key.to_string())
}

pub fn has(lang: Lang, key: &str) -> bool {
    table(lang).contains_key(key)
}

/// A field error in words: "身份证号码：校验位不正确".
pub fn field_error(lang: Lang, field: &str, code: &str) -> String {
    let code_text = if code.starts_with("duplicate_of_line_") {
        format!(
            "{} {}",
            t(lang, "err.duplicate_of_line"),
            code.trim_start_matches("duplicate_of_line_")
        )
    } else {
        // `mismatch:78.00`: the message quotes the value in place of `{}`; `invalid` with a value
        // carries the accepted values.
        let (code, value) = code.split_once(':').unwrap_or((code, ""));
        let key = if code == "invalid" && !value.is_empty() {
            "err.one_of".to_string()
        } else {
            format!("err.{code}")
        };
        t(lang, &key).replace("{}", value)
    };
    let sep = if lang == Lang::Zh { "：" } else { ": " };
    // A field without a translation (a JSON path such as `kinds[1]`) is shown as it is.
    let key = format!("field.{field}");
    let name = if has(lang, &key) {
        t(lang, &key)
    } else {
        field.to_string()
    };
    format!("{name}{sep}{code_text}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn no_key_is_defined_twice() {
        for text in [ZH, EN] {
            let mut seen = BTreeSet::new();
            for line in text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
            {
                let key = line.split_once('=').map(|(k, _)| k.trim()).unwrap_or(line);
                assert!(seen.insert(key), "{key} is defined twice: the later one would win");
            }
        }
    }

    #[test]
    fn both_languages_have_the_same_keys() {
        let zh: BTreeSet<_> = parse(ZH).into_keys().collect();
        let en: BTreeSet<_> = parse(EN).into_keys().collect();
        assert_eq!(
            zh.difference(&en).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "missing in en.txt"
        );
        assert_eq!(
            en.difference(&zh).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "missing in zh.txt"
        );
    }

    #[test]
    fn every_key_used_in_templates_and_code_exists() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut sources: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        for src in [include_str!("web/mod.rs"), include_str!("error.rs")] {
            sources.push(src.to_string());
        }
        let mut missing = BTreeSet::new();
        for src in &sources {
            for part in src.split(".t(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                if !key.is_empty() && !key.ends_with('.') && !has(Lang::Zh, key) {
                    missing.insert(key.to_string());
                }
            }
        }
        assert!(missing.is_empty(), "keys used but not translated: {missing:?}");
    }

    /// The error table is whole: every line is a row, no code twice, every status an error
    /// status, and no error text left in the translation files (it would hide the table's).
    #[test]
    fn the_error_table_is_well_formed() {
        let lines = ERRORS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .count();
        assert_eq!(
            error_rows().len(),
            lines,
            "a row of errors.txt is not `code | status | 中文 | English`"
        );
        let mut seen = BTreeSet::new();
        for row in error_rows() {
            assert!(seen.insert(row.code), "{} is in the error table twice", row.code);
            assert!(!row.zh.is_empty() && !row.en.is_empty(), "{} lacks a text", row.code);
            if let Some(status) = row.status {
                assert!(
                    (400..600).contains(&status),
                    "{}: {status} is not an error status",
                    row.code
                );
            }
        }
        for text in [ZH, EN] {
            let stray: Vec<_> = parse(text).into_keys().filter(|k| k.starts_with("err.")).collect();
            assert!(stray.is_empty(), "error texts belong in errors.txt: {stray:?}");
        }
    }

    /// Every error code raised anywhere (a refusal, a failure, a field's code, a file's error)
    /// is in the error table: found by reading the sources of the three crates.
    #[test]
    fn every_error_code_raised_is_in_the_error_table() {
        fn sources(dir: &std::path::Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let path = e.unwrap().path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|x| x == "rs") {
                    out.push(std::fs::read_to_string(path).unwrap());
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut texts = Vec::new();
        for krate in ["domain", "store", "server"] {
            sources(&root.join(krate).join("src"), &mut texts);
        }
        // Each opening; the code is the string literal given as its first or second argument.
        let raises = [
            ("Refused(", 0),
            ("Failure::new(", 0),
            ("FieldError::new(", 1),
            ("Invalid::one(", 1),
            ("#[error(", 0),
        ];
        let is_code = |c: &str| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.".contains(&b))
        };
        let mut codes = BTreeSet::new();
        for text in &texts {
            for (opening, argument) in raises {
                for part in text.split(opening).skip(1) {
                    let args = part.split(')').next().unwrap_or_default();
                    let Some(arg) = args.split(',').nth(argument) else {
                        continue;
                    };
                    let Some(literal) = arg.trim().strip_prefix('"').and_then(|a| a.split('"').next()) else {
                        continue;
                    };
                    let code = literal.split(':').next().unwrap_or_default();
                    // A `#[error]` text is a code only when namespaced (`file.no_header`); the
                    // store's own texts ("database: …") are for logs.
                    if is_code(code) && (opening != "#[error(" || code.contains('.')) {
                        codes.insert(code.to_string());
                    }
                }
            }
        }
        assert!(codes.len() > 50, "the scan found the codes: {codes:?}");
        let table: BTreeSet<&str> = error_rows().iter().map(|r| r.code).collect();
        let missing: Vec<&String> = codes.iter().filter(|c| !table.contains(c.as_str())).collect();
        assert!(missing.is_empty(), "error codes not in errors.txt: {missing:?}");
    }
}
