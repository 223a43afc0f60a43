//! The guard in front of every ZIP-based format (XLSX imports, DOCX and XLSX uploads): before any
//! reader parses an archive, every entry is inflated into a counting sink, so a zip bomb costs at
//! most `MAX_UNPACKED` bytes of work and no memory. The sizes an archive declares are not trusted:
//! the counts come from inflating.

use std::io::{Cursor, Read, Write};

/// Entries an archive may hold (an XLSX has about ten, a DOCX about twenty).
pub const MAX_ENTRIES: usize = 1_000;
/// Bytes all entries may unpack to together: a 200,000-row import in our template unpacks to
/// about 90 MiB.
pub const MAX_UNPACKED: u64 = 256 * 1024 * 1024;
/// How many times larger than its compressed bytes an entry may unpack, once it is over
/// `RATIO_FROM`: XML compresses 5–30 times, a bomb a thousand.
pub const MAX_RATIO: u64 = 200;
const RATIO_FROM: u64 = 1024 * 1024;

/// Why an archive was refused; each is a field code under `file` (and `file.<code>` for imports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ZipProblem {
    #[error("unreadable")]
    Unreadable,
    #[error("too_many_entries")]
    TooManyEntries,
    #[error("unpacks_too_large")]
    UnpacksTooLarge,
    #[error("compression_ratio")]
    CompressionRatio,
}

/// Stops counting once the budget is spent, so inflating never runs past it.
struct Budget {
    left: u64,
    written: u64,
    spent: bool,
}

impl Write for Budget {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len() as u64;
        if n > self.left {
            self.spent = true;
            return Err(std::io::Error::other("budget spent"));
        }
        self.left -= n;
        self.written += n;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Checks an archive by inflating it, and returns its entry names.
pub fn check(bytes: &[u8]) -> Result<Vec<String>, ZipProblem> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| ZipProblem::Unreadable)?;
    if archive.len() > MAX_ENTRIES {
        return Err(ZipProblem::TooManyEntries);
    }
    let mut left = MAX_UNPACKED;
    let mut names = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|_| ZipProblem::Unreadable)?;
        let compressed = entry.compressed_size().max(1);
        // The ratio bounds each entry before the total is reached: a small entry may not unpack
        // past the ratio either.
        let cap = left.min(compressed.saturating_mul(MAX_RATIO).max(RATIO_FROM));
        let mut sink = Budget {
            left: cap,
            written: 0,
            spent: false,
        };
        match std::io::copy(&mut entry, &mut sink) {
            Ok(_) => {}
            Err(_) if sink.spent => {
                return Err(if cap < left {
                    ZipProblem::CompressionRatio
                } else {
                    ZipProblem::UnpacksTooLarge
                });
            }
            Err(_) => return Err(ZipProblem::Unreadable),
        }
        left -= sink.written;
        names.push(entry.name().to_string());
    }
    Ok(names)
}

/// Reads one entry whole, for a format check that needs a small part (`[Content_Types].xml`).
pub fn small_entry(bytes: &[u8], name: &str, max: u64) -> Option<Vec<u8>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    let entry = archive.by_name(name).ok()?;
    let mut out = Vec::new();
    entry.take(max).read_to_end(&mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in entries {
            w.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn an_ordinary_archive_passes_with_its_names() {
        let bytes = archive(&[("a.xml", b"<a/>".to_vec()), ("b/c.xml", vec![b'x'; 10_000])]);
        assert_eq!(check(&bytes).unwrap(), vec!["a.xml", "b/c.xml"]);
    }

    #[test]
    fn a_bomb_is_refused_by_its_ratio_after_at_most_its_cap() {
        // 64 MiB of one byte compresses to about 64 KiB: a ratio near a thousand.
        let bytes = archive(&[("sheet.xml", vec![b'a'; 64 * 1024 * 1024])]);
        assert!(bytes.len() < 200_000);
        assert_eq!(check(&bytes), Err(ZipProblem::CompressionRatio));
    }

    #[test]
    fn garbage_and_truncations_are_unreadable_not_panics() {
        let bytes = archive(&[("a.xml", vec![b'q'; 50_000])]);
        assert_eq!(check(b"PK\x03\x04 not really"), Err(ZipProblem::Unreadable));
        for cut in [10, 100, bytes.len() / 2, bytes.len() - 1] {
            assert!(check(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}
