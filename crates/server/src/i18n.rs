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
        // `mismatch:78.00`: the message quotes the value in place of `{}`.
        let (code, value) = code.split_once(':').unwrap_or((code, ""));
        t(lang, &format!("err.{code}")).replace("{}", value)
    };
    let sep = if lang == Lang::Zh { "：" } else { ": " };
    format!("{}{sep}{code_text}", t(lang, &format!("field.{field}")))
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
}
