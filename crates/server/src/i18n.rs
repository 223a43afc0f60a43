//! Translations: Chinese first, English second, one `key = text` per line in `i18n/*.txt`.

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

pub fn parse(text: &str) -> HashMap<&str, &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.trim(), v.trim())))
        .collect()
}

fn table(lang: Lang) -> &'static HashMap<&'static str, &'static str> {
    static ZH_T: OnceLock<HashMap<&str, &str>> = OnceLock::new();
    static EN_T: OnceLock<HashMap<&str, &str>> = OnceLock::new();
    match lang {
        Lang::Zh => ZH_T.get_or_init(|| parse(ZH)),
        Lang::En => EN_T.get_or_init(|| parse(EN)),
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

    /// Every error code raised anywhere (a refusal, a failure, a field's code) has its text in
    /// both languages: found by reading the sources of the three crates.
    #[test]
    fn every_error_code_raised_has_both_texts() {
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
            ("Failure::new(", 1),
            ("FieldError::new(", 1),
            ("Invalid::one(", 1),
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
                    if is_code(code) {
                        codes.insert(code.to_string());
                    }
                }
            }
        }
        assert!(codes.len() > 50, "the scan found the codes: {codes:?}");
        let missing: Vec<String> = codes
            .iter()
            .flat_map(|c| [Lang::Zh, Lang::En].map(|l| (c, l)))
            .filter(|(c, l)| !has(*l, &format!("err.{c}")))
            .map(|(c, l)| format!("err.{c} ({})", l.code()))
            .collect();
        assert!(missing.is_empty(), "error codes without their text: {missing:?}");
    }
}
