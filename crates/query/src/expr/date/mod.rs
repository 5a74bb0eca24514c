//! The date expression operators.
//!
//! - [`parts`] has `$year` … `$isoDayOfWeek`, `$dateToParts`, `$dateFromParts`;
//! - [`format`] has `$dateToString`;
//! - [`parse`] has `$dateFromString` (and string-to-date conversion);
//! - [`arith`] has `$dateAdd`, `$dateSubtract`, `$dateDiff`;
//! - [`trunc`] has `$dateTrunc`;
//!
//! on top of [`civil`] (calendar arithmetic) and [`zone`] (time zones).
//! Dates are handled as milliseconds since the epoch (`i64`), broken into
//! local calendar fields only where an operator needs them.

pub(crate) mod arith;
pub(crate) mod civil;
pub(crate) mod format;
pub(crate) mod parse;
pub(crate) mod parts;
pub(crate) mod trunc;
pub(crate) mod zone;

use bson::{Bson, DateTime};

use crate::expr::ops::type_name;
use crate::{QueryError, QueryResult};

/// The instant a value stands for, for the operators that accept a date, a
/// timestamp or an ObjectId (whose creation second counts).
pub(crate) fn instant_of(value: &Bson) -> Option<i64> {
    match value {
        Bson::DateTime(d) => Some(d.timestamp_millis()),
        Bson::Timestamp(ts) => Some(i64::from(ts.time) * 1000),
        Bson::ObjectId(oid) => Some(oid.timestamp().timestamp_millis()),
        _ => None,
    }
}

/// [`instant_of`], or the server's error for a value that is no date.
pub(crate) fn require_instant(value: &Bson) -> QueryResult<i64> {
    instant_of(value).ok_or_else(|| {
        QueryError::new(format!(
            "can't convert from BSON type {} to Date",
            type_name(Some(value))
        ))
    })
}

/// A date value from milliseconds since the epoch.
pub(crate) fn date(ms: i64) -> Bson {
    Bson::DateTime(DateTime::from_millis(ms))
}

/// A date from a computed instant, or `error` when it is past what a BSON
/// date holds.
pub(crate) fn date_checked(ms: i128, error: &str) -> QueryResult<Bson> {
    i64::try_from(ms)
        .map(date)
        .map_err(|_| QueryError::new(error))
}

/// The time units of `$dateAdd`, `$dateDiff` and `$dateTrunc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// Calendar years.
    Year,
    /// Three calendar months.
    Quarter,
    /// Calendar months.
    Month,
    /// Seven days.
    Week,
    /// Calendar days.
    Day,
    /// Hours.
    Hour,
    /// Minutes.
    Minute,
    /// Seconds.
    Second,
    /// Milliseconds.
    Millisecond,
}

impl Unit {
    /// Parses a `unit` value (case-sensitive, as the server does).
    pub(crate) fn parse(op: &str, value: &Bson) -> QueryResult<Unit> {
        let Bson::String(name) = value else {
            return Err(QueryError::new(format!(
                "{op} requires 'unit' to be a string, but got {}",
                type_name(Some(value))
            )));
        };
        Ok(match name.as_str() {
            "year" => Unit::Year,
            "quarter" => Unit::Quarter,
            "month" => Unit::Month,
            "week" => Unit::Week,
            "day" => Unit::Day,
            "hour" => Unit::Hour,
            "minute" => Unit::Minute,
            "second" => Unit::Second,
            "millisecond" => Unit::Millisecond,
            _ => {
                return Err(QueryError::new(format!(
                    "{op} parameter 'unit' value parsing failed :: caused by :: unknown time \
                     unit value: {name}"
                )))
            }
        })
    }

    /// The length of a fixed-length unit in milliseconds (hour and below).
    pub(crate) fn fixed_ms(self) -> Option<i64> {
        match self {
            Unit::Hour => Some(3_600_000),
            Unit::Minute => Some(60_000),
            Unit::Second => Some(1000),
            Unit::Millisecond => Some(1),
            _ => None,
        }
    }
}

/// Parses a `startOfWeek` value: a day name, full or three letters, in any
/// case. Returns the ISO weekday (1 = Monday … 7 = Sunday).
pub(crate) fn parse_start_of_week(op: &str, value: &Bson) -> QueryResult<u32> {
    let Bson::String(name) = value else {
        return Err(QueryError::new(format!(
            "{op} requires 'startOfWeek' to be a string, but got {}",
            type_name(Some(value))
        )));
    };
    let day = match name.to_ascii_lowercase().as_str() {
        "monday" | "mon" => 1,
        "tuesday" | "tue" => 2,
        "wednesday" | "wed" => 3,
        "thursday" | "thu" => 4,
        "friday" | "fri" => 5,
        "saturday" | "sat" => 6,
        "sunday" | "sun" => 7,
        _ => {
            return Err(QueryError::new(format!(
                "{op} parameter 'startOfWeek' value parsing failed :: caused by :: unknown day \
                 of week value: {name}"
            )))
        }
    };
    Ok(day)
}
