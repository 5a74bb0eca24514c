//! Time zones: the `timezone` argument of the date operators.
//!
//! A zone is UTC, a fixed UTC offset (`"+04:45"`, `"-0530"`, `"+03"`), or an
//! Olson identifier (`"America/New_York"`). Olson rules come from `jiff`'s
//! bundled copy of the IANA database, looked up case-sensitively as the
//! server does. jiff covers years -9999 to 9999; outside them we use the
//! offset in force at the nearer end of that range, a fixed offset in
//! practice.

use std::sync::OnceLock;

use bson::Bson;
use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone, TimeZoneDatabase};
use jiff::Timestamp;

use super::civil::Civil;
use crate::expr::ops::type_name;
use crate::{QueryError, QueryResult};

/// A resolved `timezone` argument.
#[derive(Debug, Clone)]
pub(crate) enum Zone {
    /// UTC: no argument, `"UTC"`, or a zero offset.
    Utc,
    /// A fixed offset from UTC, in seconds (never zero).
    Fixed(i64),
    /// An Olson zone.
    Named(TimeZone),
}

/// The IANA database compiled into the binary, so answers do not depend on
/// the machine's tz files.
fn database() -> &'static TimeZoneDatabase {
    static DB: OnceLock<TimeZoneDatabase> = OnceLock::new();
    DB.get_or_init(TimeZoneDatabase::bundled)
}

/// Two ASCII digits as a number.
fn two_digits(text: &[u8]) -> Option<i64> {
    match text {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
            Some(i64::from(a - b'0') * 10 + i64::from(b - b'0'))
        }
        _ => None,
    }
}

/// Parses `±hh`, `±hhmm` or `±hh:mm` into seconds east of UTC.
fn parse_offset(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let sign = match bytes.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hours, minutes) = match bytes.get(1..)? {
        rest if rest.len() == 2 => (two_digits(rest)?, 0),
        [h1, h2, m1, m2] => (two_digits(&[*h1, *h2])?, two_digits(&[*m1, *m2])?),
        [h1, h2, b':', m1, m2] => (two_digits(&[*h1, *h2])?, two_digits(&[*m1, *m2])?),
        _ => return None,
    };
    Some(sign * (hours * 3600 + minutes * 60))
}

impl Zone {
    /// Looks up a zone name or offset, with the server's error for
    /// anything else.
    pub(crate) fn parse(name: &str) -> QueryResult<Zone> {
        if name == "UTC" {
            return Ok(Zone::Utc);
        }
        if let Some(seconds) = parse_offset(name) {
            return Ok(if seconds == 0 {
                Zone::Utc
            } else {
                Zone::Fixed(seconds)
            });
        }
        match database().get(name) {
            // jiff matches names case-insensitively; the server does not.
            Ok(tz) if tz.iana_name() == Some(name) => Ok(Zone::Named(tz)),
            _ => Err(QueryError::new(format!(
                "unrecognized time zone identifier: \"{name}\""
            ))),
        }
    }

    /// The zone a `timezone` value names: `Ok(None)` when it is null or
    /// missing (the operator then returns null), an error when it is not a
    /// string.
    pub(crate) fn from_value(value: Option<&Bson>) -> QueryResult<Option<Zone>> {
        match value {
            None | Some(Bson::Null | Bson::Undefined) => Ok(None),
            Some(Bson::String(name)) => Zone::parse(name).map(Some),
            Some(other) => Err(QueryError::new(format!(
                "timezone must evaluate to a string, found {}",
                type_name(Some(other))
            ))),
        }
    }

    /// Whether this is UTC itself (the server then ends default date
    /// strings with `Z`). A named zone is never UTC, even `"GMT"`.
    pub(crate) fn is_utc(&self) -> bool {
        matches!(self, Zone::Utc)
    }

    /// The instant as a jiff timestamp, clamped into jiff's range.
    fn timestamp(utc_ms: i64) -> Timestamp {
        let ms = utc_ms.clamp(
            Timestamp::MIN.as_millisecond(),
            Timestamp::MAX.as_millisecond(),
        );
        Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// The offset from UTC in force at an instant, in seconds.
    pub(crate) fn offset_at(&self, utc_ms: i64) -> i64 {
        match self {
            Zone::Utc => 0,
            Zone::Fixed(seconds) => *seconds,
            Zone::Named(tz) => i64::from(tz.to_offset(Zone::timestamp(utc_ms)).seconds()),
        }
    }

    /// Whether daylight saving time is in force at an instant.
    pub(crate) fn is_dst_at(&self, utc_ms: i64) -> bool {
        match self {
            Zone::Named(tz) => tz.to_offset_info(Zone::timestamp(utc_ms)).dst().is_dst(),
            _ => false,
        }
    }

    /// The local calendar fields of an instant.
    pub(crate) fn civil(&self, utc_ms: i64) -> Civil {
        Civil::from_local_ms(self.local_ms(utc_ms))
    }

    /// The local wall-clock milliseconds of an instant.
    pub(crate) fn local_ms(&self, utc_ms: i64) -> i128 {
        i128::from(utc_ms) + i128::from(self.offset_at(utc_ms)) * 1000
    }

    /// The instant a local wall-clock time names. Where the clock skipped
    /// (a gap) the time is read with the offset before the change, landing
    /// after the gap; where it repeated (a fold) the later instant is
    /// taken, unless `prefer_dst` asks for the daylight-time one. This is
    /// how the server's date library resolves them.
    pub(crate) fn to_utc(&self, local_ms: i128, prefer_dst: bool) -> i128 {
        let offset = match self {
            Zone::Utc => 0,
            Zone::Fixed(seconds) => *seconds,
            Zone::Named(tz) => named_offset_for_local(tz, local_ms, prefer_dst),
        };
        local_ms - i128::from(offset) * 1000
    }
}

/// The offset that applies to a local time in an Olson zone.
fn named_offset_for_local(tz: &TimeZone, local_ms: i128, prefer_dst: bool) -> i64 {
    // The offset at the nearer end of jiff's range, for times outside it.
    let near_end = || {
        let near =
            i64::try_from(local_ms).unwrap_or(if local_ms < 0 { i64::MIN } else { i64::MAX });
        Zone::Named(tz.clone()).offset_at(near)
    };
    // Past the range of a date the calendar fields are not even computed.
    let Ok(local_ms) = i64::try_from(local_ms) else {
        return near_end();
    };
    let civil = Civil::from_local_ms(i128::from(local_ms));
    let datetime = i16::try_from(civil.year).ok().and_then(|year| {
        DateTime::new(
            year,
            civil.month as i8,
            civil.day as i8,
            civil.hour as i8,
            civil.minute as i8,
            civil.second as i8,
            0,
        )
        .ok()
    });
    let Some(datetime) = datetime else {
        return near_end();
    };
    let seconds = match tz.to_ambiguous_timestamp(datetime).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset,
        AmbiguousOffset::Gap { before, .. } => before,
        AmbiguousOffset::Fold { before, after } => {
            if prefer_dst {
                before
            } else {
                after
            }
        }
    };
    i64::from(seconds.seconds())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn parses_offsets_and_names() {
        assert_eq!(parse_offset("+04:45"), Some(17_100));
        assert_eq!(parse_offset("-0530"), Some(-19_800));
        assert_eq!(parse_offset("+03"), Some(10_800));
        assert_eq!(parse_offset("+3"), None);
        assert_eq!(parse_offset("04:45"), None);
        assert!(Zone::parse("+00:00").unwrap().is_utc());
        assert!(Zone::parse("UTC").unwrap().is_utc());
        assert!(!Zone::parse("GMT").unwrap().is_utc());
        assert!(Zone::parse("America/New_York").is_ok());
        assert_eq!(
            Zone::parse("america/new_york").unwrap_err().message(),
            "unrecognized time zone identifier: \"america/new_york\""
        );
        assert!(Zone::parse("Mars/Base").is_err());
        assert!(Zone::from_value(Some(&Bson::Int32(1))).is_err());
        assert!(Zone::from_value(Some(&Bson::Null)).unwrap().is_none());
    }

    #[test]
    fn offsets_follow_dst() {
        let ny = Zone::parse("America/New_York").unwrap();
        assert_eq!(ny.offset_at(ms("2024-01-15T12:00:00Z")), -5 * 3600);
        assert_eq!(ny.offset_at(ms("2024-07-15T12:00:00Z")), -4 * 3600);
        assert!(ny.is_dst_at(ms("2024-07-15T12:00:00Z")));
        // Far outside jiff's range the zone keeps a fixed offset.
        let _ = ny.offset_at(i64::MIN);
        let _ = ny.civil(i64::MAX);
    }

    #[test]
    fn gaps_move_forward_and_folds_take_the_later_instant() {
        let ny = Zone::parse("America/New_York").unwrap();
        let local = |text: &str| i128::from(ms(text));
        // 2024-03-10 02:30 does not exist in New York: read as EST, 07:30Z.
        assert_eq!(
            ny.to_utc(local("2024-03-10T02:30:00Z"), false),
            i128::from(ms("2024-03-10T07:30:00Z"))
        );
        // 2024-11-03 01:30 happens twice: EST (06:30Z) unless DST is asked for.
        assert_eq!(
            ny.to_utc(local("2024-11-03T01:30:00Z"), false),
            i128::from(ms("2024-11-03T06:30:00Z"))
        );
        assert_eq!(
            ny.to_utc(local("2024-11-03T01:30:00Z"), true),
            i128::from(ms("2024-11-03T05:30:00Z"))
        );
    }
}
