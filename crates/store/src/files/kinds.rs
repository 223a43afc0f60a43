//! What an uploaded file is, from its structure, never from its name: a PDF's header, cross-reference
//! pointer and end marker; a PNG's header chunk and end chunk; a JPEG's segments up to its frame
//! header; a DOCX or XLSX by the parts its ZIP holds, after the ZIP guard. Images are refused past
//! `MAX_PIXELS`, so a browser showing one cannot be made to inflate a bomb either.

use super::zip;

/// The types an upload may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Png,
    Jpeg,
    Docx,
    Xlsx,
}

/// Pixels an image may have (a 50-megapixel photo is the largest a phone takes).
pub const MAX_PIXELS: u64 = 60_000_000;

impl Kind {
    pub fn content_type(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
            Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Kind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    /// The extension a stored file is named with.
    pub fn extension(self) -> &'static str {
        match self {
            Kind::Pdf => "pdf",
            Kind::Png => "png",
            Kind::Jpeg => "jpg",
            Kind::Docx => "docx",
            Kind::Xlsx => "xlsx",
        }
    }

    fn also_named(self) -> &'static [&'static str] {
        match self {
            Kind::Jpeg => &["jpg", "jpeg"],
            _ => &[],
        }
    }

    /// The name with this kind's extension in place of whatever it had (`x.html` → `x.pdf`).
    pub fn rename(self, name: &str) -> String {
        let (stem, ext) = match name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => (stem, ext.to_ascii_lowercase()),
            _ => (name, String::new()),
        };
        if ext == self.extension() || self.also_named().contains(&ext.as_str()) {
            name.to_string()
        } else {
            format!("{stem}.{}", self.extension())
        }
    }
}

/// The kind of a file, or the field code saying why it is none of them.
pub fn detect(bytes: &[u8]) -> Result<Kind, &'static str> {
    if bytes.starts_with(b"%PDF-") {
        pdf(bytes).then_some(Kind::Pdf).ok_or("malformed")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        png(bytes).map(|()| Kind::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        jpeg(bytes).map(|()| Kind::Jpeg)
    } else if bytes.starts_with(b"PK\x03\x04") {
        office(bytes)
    } else {
        Err("type_not_allowed")
    }
}

/// `%PDF-n.n`, `%%EOF` near the end, and a `startxref` that points inside the file at a
/// cross-reference table (`xref`) or stream (`N G obj`).
fn pdf(bytes: &[u8]) -> bool {
    let version_ok = matches!(bytes.get(5..8), Some([a, b'.', b]) if a.is_ascii_digit() && b.is_ascii_digit());
    let tail = &bytes[bytes.len().saturating_sub(1024)..];
    let Some(eof) = find_last(tail, b"%%EOF") else {
        return false;
    };
    let Some(sx) = find_last(&tail[..eof], b"startxref") else {
        return false;
    };
    let offset: Option<usize> = std::str::from_utf8(&tail[sx + 9..eof])
        .ok()
        .and_then(|s| s.trim().parse().ok());
    let Some(at) = offset.filter(|o| *o < bytes.len()) else {
        return false;
    };
    let target = trim_start(&bytes[at..]);
    version_ok && (target.starts_with(b"xref") || is_object_header(target))
}

fn is_object_header(b: &[u8]) -> bool {
    let head = &b[..b.len().min(32)];
    let Ok(text) = std::str::from_utf8(head.split(|c| *c == b'<').next().unwrap_or(head)) else {
        return false;
    };
    let mut words = text.split_ascii_whitespace();
    matches!(
        (words.next(), words.next(), words.next()),
        (Some(n), Some(g), Some(o)) if n.bytes().all(|c| c.is_ascii_digit())
            && g.bytes().all(|c| c.is_ascii_digit())
            && o.starts_with("obj")
    )
}

fn find_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

fn trim_start(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The header chunk first with a plausible size, and the end chunk last.
fn png(bytes: &[u8]) -> Result<(), &'static str> {
    if be32(bytes, 8) != Some(13) || bytes.get(12..16) != Some(b"IHDR") {
        return Err("malformed");
    }
    let (w, h) = (be32(bytes, 16).unwrap_or(0), be32(bytes, 20).unwrap_or(0));
    if w == 0 || h == 0 || !bytes.ends_with(b"IEND\xaeB`\x82") {
        return Err("malformed");
    }
    pixels_ok(w, h)
}

fn pixels_ok(w: u32, h: u32) -> Result<(), &'static str> {
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        Err("too_many_pixels")
    } else {
        Ok(())
    }
}

/// Segments from the start marker to the first frame header, each with a length that fits.
fn jpeg(bytes: &[u8]) -> Result<(), &'static str> {
    let mut at = 2;
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return Err("malformed");
        }
        let marker = bytes[at + 1];
        if marker == 0xFF {
            at += 1; // fill byte
            continue;
        }
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        if len < 2 || at + 2 + len > bytes.len() {
            return Err("malformed");
        }
        // SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
            if len < 8 {
                return Err("malformed");
            }
            let h = u16::from_be_bytes([bytes[at + 5], bytes[at + 6]]);
            let w = u16::from_be_bytes([bytes[at + 7], bytes[at + 8]]);
            if w == 0 || h == 0 {
                return Err("malformed");
            }
            return pixels_ok(w.into(), h.into());
        }
        if marker == 0xDA || marker == 0xD9 {
            break; // scan data or the end before any frame header
        }
        at += 2 + len;
    }
    Err("malformed")
}

/// A DOCX or XLSX: a ZIP that passes the guard and holds the parts that make it one.
fn office(bytes: &[u8]) -> Result<Kind, &'static str> {
    let names = zip::check(bytes).map_err(|p| match p {
        zip::ZipProblem::Unreadable => "malformed",
        zip::ZipProblem::TooManyEntries => "too_many_entries",
        zip::ZipProblem::UnpacksTooLarge => "unpacks_too_large",
        zip::ZipProblem::CompressionRatio => "compression_ratio",
    })?;
    let has = |n: &str| names.iter().any(|e| e == n);
    if !has("[Content_Types].xml") {
        return Err("type_not_allowed");
    }
    if has("word/document.xml") {
        Ok(Kind::Docx)
    } else if has("xl/workbook.xml") {
        Ok(Kind::Xlsx)
    } else {
        Err("type_not_allowed")
    }
}

#[cfg(test)]
pub(crate) mod samples {
    //! Smallest well-formed files of each kind, for tests here and in the integration tests.

    pub fn pdf() -> Vec<u8> {
        let body = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n".to_vec();
        let xref_at = body.len();
        let mut out = body;
        out.extend_from_slice(
            b"xref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer\n<< /Size 2 /Root 1 0 R >>\n",
        );
        out.extend_from_slice(format!("startxref\n{xref_at}\n%%EOF\n").as_bytes());
        out
    }

    pub fn png(w: u32, h: u32) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        out.extend_from_slice(&w.to_be_bytes());
        out.extend_from_slice(&h.to_be_bytes());
        out.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(b"\0\0\0\0IEND\xaeB`\x82");
        out
    }

    pub fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
        out.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        out.extend_from_slice(&[0xFF, 0xC0, 0, 11, 8]);
        out.extend_from_slice(&h.to_be_bytes());
        out.extend_from_slice(&w.to_be_bytes());
        out.extend_from_slice(&[1, 1, 0x11, 0, 0xFF, 0xD9]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_told_by_its_structure() {
        assert_eq!(detect(&samples::pdf()), Ok(Kind::Pdf));
        assert_eq!(detect(&samples::png(800, 600)), Ok(Kind::Png));
        assert_eq!(detect(&samples::jpeg(800, 600)), Ok(Kind::Jpeg));
    }

    #[test]
    fn a_header_followed_by_something_else_is_refused() {
        let mut html = b"%PDF-1.4\n<html><script>alert(1)</script></html>".to_vec();
        assert_eq!(detect(&html), Err("malformed"));
        html.extend_from_slice(b"\nstartxref\n999999\n%%EOF");
        assert_eq!(detect(&html), Err("malformed"), "a pointer outside the file");
        let mut png = samples::png(10, 10);
        png.truncate(30);
        assert_eq!(detect(&png), Err("malformed"));
        assert_eq!(detect(&samples::jpeg(10, 10)[..8]), Err("malformed"));
        assert_eq!(detect(b"<html>"), Err("type_not_allowed"));
    }

    #[test]
    fn images_beyond_the_pixel_limit_are_refused() {
        assert_eq!(detect(&samples::png(100_000, 100_000)), Err("too_many_pixels"));
        assert_eq!(detect(&samples::jpeg(65_000, 65_000)), Err("too_many_pixels"));
    }

    #[test]
    fn names_take_the_detected_extension() {
        assert_eq!(Kind::Pdf.rename("入党志愿书.html"), "入党志愿书.pdf");
        assert_eq!(Kind::Pdf.rename("a.PDF"), "a.PDF");
        assert_eq!(Kind::Jpeg.rename("photo.jpeg"), "photo.jpeg");
        assert_eq!(Kind::Png.rename("noextension"), "noextension.png");
        assert_eq!(Kind::Docx.rename(".hidden"), ".hidden.docx");
    }

    #[test]
    fn random_truncations_of_every_kind_never_panic() {
        let files = [samples::pdf(), samples::png(64, 64), samples::jpeg(64, 64)];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for f in &files {
            for cut in 0..f.len() {
                let _ = detect(&f[..cut]);
                // And with one byte flipped at a pseudo-random place.
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let mut g = f.clone();
                let i = (seed as usize) % g.len();
                g[i] = g[i].wrapping_add(1 + (seed >> 32) as u8 % 250);
                let _ = detect(&g);
            }
        }
    }
}
