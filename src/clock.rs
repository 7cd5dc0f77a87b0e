//! The one place that reads the wall clock: everything else takes a time as a parameter, so that
//! tests of certificates, deadlines and registration years are deterministic.

use chrono::{DateTime, Utc};

/// The current time in UTC, truncated to microseconds (the precision the database keeps).
#[allow(clippy::disallowed_methods)]
pub fn now() -> DateTime<Utc> {
    let t = Utc::now();
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}
