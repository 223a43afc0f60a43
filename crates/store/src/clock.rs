//! The one clock. Every "today" and "now" of the server, the daily jobs, the demo and the command
//! line is read here, so a deployment, a test run or CI can pin the calendar with `HONGJI_TODAY`
//! (`YYYY-MM-DD`, a Beijing date): the clock then runs from that day on, at the real pace, and
//! everything that depends on the date (compliance periods, dues months, development deadlines,
//! the demo's history) follows.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use std::sync::OnceLock;

/// The variable that pins the calendar.
pub const PIN_VARIABLE: &str = "HONGJI_TODAY";

/// How far the clock runs from the system's, fixed at its first reading.
fn shift() -> Duration {
    static SHIFT: OnceLock<Duration> = OnceLock::new();
    *SHIFT.get_or_init(|| match std::env::var(PIN_VARIABLE) {
        Ok(v) if !v.trim().is_empty() => {
            let pinned = domain::member::parse_date(v.trim())
                .unwrap_or_else(|| panic!("{PIN_VARIABLE}={v:?} is not a date (YYYY-MM-DD)"));
            pinned - domain::time::local_date(Utc::now())
        }
        _ => Duration::zero(),
    })
}

/// The current instant.
pub fn now() -> DateTime<Utc> {
    Utc::now() + shift()
}

/// Today's Beijing date: the rules speak of local dates.
pub fn today() -> NaiveDate {
    domain::time::local_date(now())
}
