//! Watching and listening (video and audio items): the ranges a player reports, merged on the
//! server, and the rule that completes an item — at least 95% of its length played. Jumping to the
//! end plays nothing in between, so scrubbing is not watching. The time between reports only caps
//! how much new ground one report may claim (no faster than double speed); it is never credited
//! or shown (国办函〔2026〕12号).

/// Played ranges in whole seconds, `[from, to)`, sorted and disjoint.
pub type Ranges = Vec<(i64, i64)>;

/// The longest video or audio an item may declare: ten hours.
pub const MAX_SECONDS: i64 = 36_000;

/// The share of its length a member must have played, in percent.
pub const COMPLETE_PERCENT: i64 = 95;

/// The fastest playback a report may claim (seconds of content per second elapsed), and the
/// ground any report may claim whatever the time (a report is sent every few seconds).
pub const MAX_SPEED: i64 = 2;
pub const SLACK_SECONDS: i64 = 30;

/// Reported ranges made whole seconds inside `[0, length]`: a start rounded up and an end rounded
/// down, so a report never gains by rounding; empty and reversed ranges dropped.
pub fn clip(reported: &[(f64, f64)], length: i64) -> Ranges {
    reported
        .iter()
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(a, b)| ((a.ceil() as i64).max(0), (b.floor() as i64).min(length)))
        .filter(|(a, b)| a < b)
        .collect()
}

/// Ranges merged: sorted, overlapping and touching ones joined.
pub fn merge(mut ranges: Ranges) -> Ranges {
    ranges.sort_unstable();
    let mut out: Ranges = Vec::with_capacity(ranges.len());
    for (a, b) in ranges {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Seconds covered by merged ranges.
pub fn covered(ranges: &Ranges) -> i64 {
    ranges.iter().map(|(a, b)| b - a).sum()
}

/// The new stored ranges after a report: what was kept, plus the report, where the report may add
/// at most `allowance` seconds of new ground (the rest of a report that claims more is dropped
/// from its end, so an honest player loses nothing and a forged one gains little).
pub fn add(kept: &Ranges, report: Ranges, allowance: i64) -> Ranges {
    let before = covered(kept);
    let mut out = kept.clone();
    let mut left = allowance.max(0);
    for (a, b) in merge(report) {
        if left == 0 {
            break;
        }
        // The new ground of this range: its length less what is already covered within it.
        let trial = merge([out.clone(), vec![(a, b)]].concat());
        let gain = covered(&trial) - covered(&out);
        if gain <= left {
            out = trial;
            left -= gain;
        } else {
            // Take the range up to where its gain reaches what is left.
            let mut end = a;
            let mut cut = out.clone();
            while end < b && covered(&merge([cut.clone(), vec![(a, end + 1)]].concat())) - covered(&out) <= left {
                end += 1;
                cut = merge([out.clone(), vec![(a, end)]].concat());
            }
            out = cut;
            left = 0;
        }
    }
    debug_assert!(covered(&out) >= before);
    out
}

/// What one report may add: double speed over the time since the last report, plus a little.
pub fn allowance(elapsed_seconds: i64) -> i64 {
    elapsed_seconds
        .max(0)
        .saturating_mul(MAX_SPEED)
        .saturating_add(SLACK_SECONDS)
}

/// Whether ranges covering `watched` seconds complete an item `length` seconds long.
pub fn complete(watched: i64, length: i64) -> bool {
    length > 0 && watched * 100 >= length * COMPLETE_PERCENT
}

/// The item kind a study file serves, from its content type.
pub fn kind_of(content_type: &str) -> super::ItemKind {
    if content_type.starts_with("video/") {
        super::ItemKind::Video
    } else if content_type.starts_with("audio/") {
        super::ItemKind::Audio
    } else {
        super::ItemKind::Document
    }
}

/// A length as people type it: `45:30`, `1:02:03` or plain seconds; `None` if it is none of these.
pub fn parse_length(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() || text.split(':').count() > 3 {
        return None;
    }
    let mut seconds: i64 = 0;
    for part in text.split(':') {
        if part.is_empty() || part.len() > 5 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        seconds = seconds.checked_mul(60)?.checked_add(part.parse().ok()?)?;
    }
    Some(seconds)
}

/// Seconds as a length: 2730 → "45:30", 3723 → "1:02:03".
pub fn length_text(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lengths_read_and_write_as_clock_times() {
        assert_eq!(parse_length("45:30"), Some(2730));
        assert_eq!(parse_length("1:02:03"), Some(3723));
        assert_eq!(parse_length("90"), Some(90));
        for bad in ["", "1::2", "a:b", "1:2:3:4", "-5"] {
            assert_eq!(parse_length(bad), None, "{bad}");
        }
        assert_eq!(length_text(2730), "45:30");
        assert_eq!(length_text(3723), "1:02:03");
    }

    use super::*;

    #[test]
    fn ranges_merge_and_clip() {
        assert_eq!(merge(vec![(10, 20), (0, 5), (5, 8), (15, 30)]), vec![(0, 8), (10, 30)]);
        assert_eq!(
            clip(
                &[(0.4, 10.9), (-5.0, 2.0), (590.0, 700.0), (8.0, 3.0), (f64::NAN, 1.0)],
                600
            ),
            vec![(1, 10), (0, 2), (590, 600)]
        );
        assert_eq!(covered(&merge(vec![(0, 10), (5, 15)])), 15);
    }

    #[test]
    fn scrubbing_to_the_end_is_not_watching() {
        // Five seconds at the start, a jump, the last ten seconds: 15 of 600.
        let r = merge(clip(&[(0.0, 5.0), (590.0, 600.0)], 600));
        assert!(!complete(covered(&r), 600));
        assert!(complete(570, 600));
        assert!(!complete(569, 600));
        assert!(!complete(0, 0));
    }

    #[test]
    fn a_report_adds_no_more_than_its_allowance() {
        let kept = vec![(0, 100)];
        // Replaying what was watched costs nothing; new ground is capped.
        assert_eq!(add(&kept, vec![(0, 100)], 0), kept);
        assert_eq!(add(&kept, vec![(50, 400)], 60), vec![(0, 160)]);
        assert_eq!(
            add(&kept, vec![(200, 210), (300, 400)], 15),
            vec![(0, 100), (200, 210), (300, 305)]
        );
        assert_eq!(allowance(10), 50);
    }
}
