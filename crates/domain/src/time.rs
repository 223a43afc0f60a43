//! Beijing time. The regulations speak of local dates and months (China Standard Time, UTC+8,
//! no daylight saving); instants are kept in UTC. Pure conversions only: "now" comes from the
//! store's clock.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};

/// China Standard Time.
/// The years a report, a compliance year or a dues year can be asked for.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2200;

pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// The Beijing date of an instant.
pub fn local_date(instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&beijing()).date_naive()
}

/// The Beijing wall-clock time of an instant.
pub fn local_datetime(instant: DateTime<Utc>) -> NaiveDateTime {
    instant.with_timezone(&beijing()).naive_local()
}

/// The instant a Beijing date begins.
pub fn day_start(date: NaiveDate) -> DateTime<Utc> {
    from_local(date.and_hms_opt(0, 0, 0).expect("midnight exists"))
}

/// A Beijing wall-clock time as an instant (always unique: no daylight saving).
pub fn from_local(t: NaiveDateTime) -> DateTime<Utc> {
    (t - chrono::Duration::hours(8)).and_utc()
}

/// Parses an instant typed with an offset, or a local `YYYY-MM-DDTHH:MM[:SS]` (or with a space)
/// taken as Beijing time.
pub fn parse_local_instant(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(from_local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_dates_turn_at_sixteen_utc() {
        let before = "2026-12-31T15:59:59Z".parse::<DateTime<Utc>>().unwrap();
        let after = "2026-12-31T16:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(local_date(before).to_string(), "2026-12-31");
        assert_eq!(local_date(after).to_string(), "2027-01-01");
        assert_eq!(day_start(local_date(after)), after);
    }

    #[test]
    fn local_instants_are_read_as_beijing_time() {
        let t = parse_local_instant("2026-03-01T09:30").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-03-01T01:30:00+00:00");
        assert_eq!(parse_local_instant("2026-03-01 09:30"), Some(t));
        assert_eq!(parse_local_instant("2026-03-01T09:30:00+08:00"), Some(t));
        assert_eq!(parse_local_instant("yesterday"), None);
    }
}
