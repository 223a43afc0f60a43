//! Beijing time. The regulations speak of local dates and months (China Standard Time, UTC+8,
//! no daylight saving); instants are kept in UTC. Pure conversions only: "now" comes from the
//! store's clock.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};

/// The years a report, a compliance year or a dues year can be asked for, and the years an event
/// (a meeting, an activity) can be dated in.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2200;

/// The years any recorded date can carry (births, joining, an organization's founding): outside
/// them a date is a typing error (0001-01-01, 9999-12-31), refused as `out_of_range`.
pub const DATE_YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

/// The field code for a date that did not parse: `out_of_range` when it is a real date outside
/// the plausible years, `invalid` otherwise.
pub fn date_problem(s: &str) -> &'static str {
    let digits: String = s.trim().chars().take_while(char::is_ascii_digit).collect();
    match digits.parse::<i32>() {
        Ok(y) if digits.len() == 4 && !DATE_YEARS.contains(&y) => "out_of_range",
        Ok(y) if digits.len() == 4 && !YEARS.contains(&y) && looks_like_instant(s) => "out_of_range",
        _ if digits.len() > 4 => "out_of_range",
        _ => "invalid",
    }
}

/// A date that bounds a search (`from`, `to`): any calendar date in the format the schema names,
/// held to the plausible years. A bound outside them only widens or empties the search, so it
/// is not a typing error to refuse.
pub fn parse_bound(s: &str) -> Option<NaiveDate> {
    // `2024/5/1` and `2024.5.1` as Excel users write them, like the recorded dates.
    let d = NaiveDate::parse_from_str(&s.trim().replace(['/', '.'], "-"), "%Y-%m-%d").ok()?;
    let first = NaiveDate::from_ymd_opt(*DATE_YEARS.start(), 1, 1)?;
    let last = NaiveDate::from_ymd_opt(*DATE_YEARS.end(), 12, 31)?;
    Some(d.clamp(first, last))
}

fn looks_like_instant(s: &str) -> bool {
    s.contains(':')
}

/// China Standard Time.

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
/// Events are dated in `YEARS`; anything else is refused.
pub fn parse_local_instant(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let t = match DateTime::parse_from_rfc3339(s) {
        Ok(t) => t.with_timezone(&Utc),
        Err(_) => ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
            .map(from_local)?,
    };
    use chrono::Datelike;
    YEARS.contains(&local_date(t).year()).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_bounds_take_any_calendar_date_held_to_the_plausible_years() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(parse_bound("0560-04-26"), d(1900, 1, 1));
        assert_eq!(parse_bound("9999-12-31"), d(2200, 12, 31));
        assert_eq!(parse_bound("2026/5/1"), d(2026, 5, 1));
        assert_eq!(parse_bound("2026-02-30"), None);
        assert_eq!(parse_bound("yesterday"), None);
    }

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
        assert_eq!(parse_local_instant("0001-01-01T09:00"), None);
        assert_eq!(parse_local_instant("9999-12-31T09:00:00Z"), None);
        assert_eq!(date_problem("9999-12-31T09:00"), "out_of_range");
        assert_eq!(date_problem("1990-05-01T09:00"), "out_of_range");
        assert_eq!(date_problem("0001-01-01"), "out_of_range");
        assert_eq!(date_problem("1990-05-01"), "invalid");
        assert_eq!(date_problem("soon"), "invalid");
    }
}
