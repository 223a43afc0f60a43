//! An article's body (文章): rich text kept to the few elements an article needs — paragraphs,
//! headings, emphasis, lists, quotes, tables and links — and nothing that runs, loads or styles
//! (no scripts, frames, images from elsewhere, event handlers, inline styles). Plain text typed into
//! the form (or sent by the API) becomes paragraphs. Sanitised when written and again when shown.

use std::collections::HashSet;

/// The elements an article may hold.
const TAGS: [&str; 20] = [
    "p",
    "br",
    "h2",
    "h3",
    "h4",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "ul",
    "ol",
    "li",
    "blockquote",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
];

/// The body as safe HTML: markup is cleaned to the allowed elements (links to `http`/`https` only,
/// opened without the page's referrer); text without markup becomes one paragraph per line.
pub fn sanitise(body: &str) -> String {
    let body = body.trim();
    if body.is_empty() {
        return String::new();
    }
    if !looks_like_markup(body) {
        return body
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| format!("<p>{}</p>", escape(l)))
            .collect();
    }
    let clean = ammonia::Builder::empty()
        .add_tags(TAGS)
        .add_tags(["a"])
        .add_tag_attributes("a", ["href"])
        .url_schemes(HashSet::from(["http", "https"]))
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean_content_tags(HashSet::from(["script", "style", "template"]))
        .clean(body)
        .to_string();
    headings_from_two(clean)
}

/// The body's headings moved up so the first level is `h2`, under the page's title: a body whose
/// headings start at `h3` would skip a level for screen readers. Sanitised tags carry no
/// attributes, so the tags are replaced as written.
fn headings_from_two(mut html: String) -> String {
    while !html.contains("<h2>") && (html.contains("<h3>") || html.contains("<h4>")) {
        html = html
            .replace("<h3>", "<h2>")
            .replace("</h3>", "</h2>")
            .replace("<h4>", "<h3>")
            .replace("</h4>", "</h3>");
    }
    html
}

/// Whether text holds a tag (`<p`, `</p`, `<!--`) and a closing `>`: "1 < 2" is text.
fn looks_like_markup(text: &str) -> bool {
    text.contains('>')
        && text
            .as_bytes()
            .windows(2)
            .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/' || w[1] == b'!'))
}

/// The words of a sanitised body, a line per block, for search and summaries.
pub fn plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            rest = "";
            break;
        };
        let tag = &rest[open + 1..open + close];
        let name = tag.trim_start_matches('/').split([' ', '/']).next().unwrap_or("");
        if matches!(name, "p" | "br" | "h2" | "h3" | "h4" | "li" | "tr" | "blockquote") && !out.ends_with('\n') {
            out.push('\n');
        } else if matches!(name, "td" | "th") && tag.starts_with('/') {
            out.push(' ');
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    unescape(out.trim())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn unescape(text: &str) -> String {
    text.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_becomes_paragraphs_escaped() {
        assert_eq!(
            sanitise("第一段。\n\n 第二段 1 < 2 > 0 \n"),
            "<p>第一段。</p><p>第二段 1 &lt; 2 &gt; 0</p>"
        );
        assert_eq!(sanitise("  "), "");
    }

    #[test]
    fn markup_keeps_only_what_an_article_needs() {
        let dirty = r#"<h2 style="color:red" onclick="x()">标题</h2><script>alert(1)</script><p>正文<img src="https://evil/x.png"><a href="javascript:alert(1)">坏</a> <a href="https://www.12371.cn/" target="_blank">好</a></p><iframe src="https://evil"></iframe><style>p{}</style>"#;
        let clean = sanitise(dirty);
        assert_eq!(
            clean,
            r#"<h2>标题</h2><p>正文<a rel="noopener noreferrer nofollow">坏</a> <a href="https://www.12371.cn/" rel="noopener noreferrer nofollow">好</a></p>"#
        );
        assert_eq!(sanitise(&clean), clean, "sanitising twice changes nothing");
        assert!(
            !sanitise("<a href=\"/admin\">相对</a>").contains("href"),
            "no relative links"
        );
    }

    #[test]
    fn plain_reads_the_words_a_block_per_line() {
        let html = sanitise("<h3>一、学习要求</h3><p>认真学习&amp;领会</p><ul><li>党章</li><li>准则</li></ul>");
        assert!(
            html.starts_with("<h2>一、学习要求</h2>"),
            "headings start at h2: {html}"
        );
        assert_eq!(sanitise("<h4>甲</h4><h4>乙</h4>"), "<h2>甲</h2><h2>乙</h2>");
        assert_eq!(
            sanitise("<h2>甲</h2><h4>乙</h4>"),
            "<h2>甲</h2><h4>乙</h4>",
            "an author's own levels below h2 stay"
        );
        assert_eq!(plain(&html), "一、学习要求\n认真学习&领会\n党章\n准则");
        assert_eq!(plain(&sanitise("甲 < 乙")), "甲 < 乙");
    }
}
