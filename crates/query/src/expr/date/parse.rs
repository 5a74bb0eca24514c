//! `$dateFromString`, and reading a date from a string (also used by
//! `$toDate`/`$convert`).
//!
//! With a `format`, the string must follow it exactly (specifiers as in
//! `$dateToString`, less `%w` and `%U`). Without one the server accepts
//! whatever its date library can read; we accept the ISO 8601 shapes
//! (`2017-02-08`, `2017-02-08T12:10:40.787Z`, `2017-02-08 12:10 +0530`,
//! `/` as a date separator) and refuse anything else with a parse error,
//! which `onError` can catch, rather than guess.

use std::sync::Arc;

use bson::Bson;

use super::civil::{self, MS_PER_DAY};
use super::date_checked;
use super::format::{validate_format, MONTHS};
use super::zone::Zone;
use crate::expr::args::{eval_opt, is_nullish, null, owned, required, NamedArgs};
use crate::expr::ops::type_name;
use crate::expr::special::SpecialForm;
use crate::expr::{Ctx, Node, Scope, Value};
use crate::{QueryError, QueryResult};

/// The specifiers `$dateFromString` understands (besides `%%`).
const FROM_STRING_SPECIFIERS: &str = "bBdGHjLmMSuVYzZ";

/// What a date string said, before it is turned into an instant.
#[derive(Debug, Default)]
struct Fields {
    /// Calendar year.
    year: Option<i64>,
    /// Month, 1-12.
    month: Option<i64>,
    /// Day of month.
    day: Option<i64>,
    /// Day of year (`%j`).
    day_of_year: Option<i64>,
    /// ISO week-numbering year (`%G`).
    iso_year: Option<i64>,
    /// ISO week (`%V`).
    iso_week: Option<i64>,
    /// ISO day of week (`%u`).
    iso_day: Option<i64>,
    /// Hour.
    hour: Option<i64>,
    /// Minute.
    minute: Option<i64>,
    /// Second.
    second: Option<i64>,
    /// Microseconds into the second.
    micros: i64,
    /// The offset the string gave, in seconds east of UTC.
    offset: Option<i64>,
}

/// A cursor over the string being read.
struct Reader<'t> {
    /// The remaining text.
    rest: &'t str,
}

impl<'t> Reader<'t> {
    /// Reads 1 to `max` ASCII digits.
    fn number(&mut self, max: usize) -> Option<i64> {
        let len = self
            .rest
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if len == 0 {
            return None;
        }
        let (digits, rest) = self.rest.split_at(len);
        self.rest = rest;
        digits.parse().ok()
    }

    /// Consumes `c` if it comes next.
    fn eat(&mut self, c: char) -> bool {
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// Reads a UTC offset: `Z`, `±hh`, `±hhmm` or `±hh:mm`.
    fn offset(&mut self) -> Option<i64> {
        if self.eat('Z') || self.eat('z') {
            return Some(0);
        }
        let sign = if self.eat('+') {
            1
        } else if self.eat('-') {
            -1
        } else {
            return None;
        };
        let start = self.rest;
        let hours = self.number(2)?;
        let digits_read = start.len() - self.rest.len();
        let minutes = if digits_read == 2 {
            self.eat(':');
            self.number(2).unwrap_or(0)
        } else {
            0
        };
        Some(sign * (hours * 3600 + minutes * 60))
    }

    /// Reads a month name, full or abbreviated, in any case.
    fn month_name(&mut self, full: bool) -> Option<i64> {
        for (i, name) in MONTHS.iter().enumerate() {
            let name = if full {
                name
            } else {
                name.get(..3).unwrap_or(name)
            };
            let candidate = self.rest.get(..name.len())?;
            if candidate.eq_ignore_ascii_case(name) {
                self.rest = &self.rest[name.len()..];
                return Some(i as i64 + 1);
            }
        }
        None
    }
}

/// A parse failure, in the server's words.
fn parse_error(text: &str, detail: &str) -> QueryError {
    QueryError::new(format!("Error parsing date string '{text}'; {detail}"))
}

/// Reads `text` following `format`.
fn read_with_format(text: &str, format: &str) -> QueryResult<Fields> {
    let mut fields = Fields::default();
    let mut reader = Reader { rest: text };
    let mut spec = format.chars();
    let missing = |what: &str| parse_error(text, &format!("{what} could not be found"));
    while let Some(c) = spec.next() {
        if c != '%' {
            if !reader.eat(c) {
                return Err(parse_error(text, "The format separator does not match"));
            }
            continue;
        }
        let Some(s) = spec.next() else { break };
        match s {
            '%' => {
                if !reader.eat('%') {
                    return Err(parse_error(
                        text,
                        "The escaped character could not be found",
                    ));
                }
            }
            'Y' => {
                fields.year = Some(
                    reader
                        .number(4)
                        .ok_or_else(|| missing("A four digit year"))?,
                )
            }
            'm' => {
                fields.month = Some(
                    reader
                        .number(2)
                        .ok_or_else(|| missing("A two digit month"))?,
                )
            }
            'd' => fields.day = Some(reader.number(2).ok_or_else(|| missing("A two digit day"))?),
            'H' => {
                fields.hour = Some(
                    reader
                        .number(2)
                        .ok_or_else(|| missing("A two digit hour"))?,
                )
            }
            'M' => {
                fields.minute = Some(
                    reader
                        .number(2)
                        .ok_or_else(|| missing("A two digit minute"))?,
                )
            }
            'S' => {
                fields.second = Some(
                    reader
                        .number(2)
                        .ok_or_else(|| missing("A two digit second"))?,
                )
            }
            'L' => {
                let ms = reader
                    .number(3)
                    .ok_or_else(|| missing("A three digit millisecond"))?;
                fields.micros = ms * 1000;
            }
            'j' => {
                fields.day_of_year = Some(
                    reader
                        .number(3)
                        .ok_or_else(|| missing("A three digit day-of-year"))?,
                )
            }
            'G' => {
                fields.iso_year = Some(
                    reader
                        .number(4)
                        .ok_or_else(|| missing("A four digit ISO year"))?,
                )
            }
            'V' => {
                fields.iso_week = Some(
                    reader
                        .number(2)
                        .ok_or_else(|| missing("A two digit ISO week"))?,
                )
            }
            'u' => {
                fields.iso_day = Some(
                    reader
                        .number(1)
                        .ok_or_else(|| missing("A single digit day of week"))?,
                )
            }
            'b' | 'B' => {
                fields.month = Some(
                    reader
                        .month_name(s == 'B')
                        .ok_or_else(|| missing("A textual month"))?,
                )
            }
            'z' => {
                fields.offset = Some(
                    reader
                        .offset()
                        .ok_or_else(|| missing("A time zone offset"))?,
                )
            }
            'Z' => {
                let sign = if reader.eat('-') {
                    -1
                } else {
                    reader.eat('+');
                    1
                };
                let minutes = reader
                    .number(4)
                    .ok_or_else(|| missing("A time zone offset in minutes"))?;
                fields.offset = Some(sign * minutes * 60);
            }
            other => {
                return Err(QueryError::new(format!(
                    "Invalid format character '%{other}' in format string"
                )))
            }
        }
    }
    if !reader.rest.is_empty() {
        return Err(parse_error(text, "Trailing data"));
    }
    Ok(fields)
}

/// Reads an ISO 8601 date string: a date, optionally a time, optionally
/// an offset.
fn read_iso(text: &str) -> QueryResult<Fields> {
    let invalid = || parse_error(text, "The date string is not in a supported format");
    let mut fields = Fields::default();
    let mut reader = Reader { rest: text.trim() };
    let start = reader.rest;
    fields.year = Some(reader.number(4).ok_or_else(invalid)?);
    if start.len() - reader.rest.len() != 4 {
        return Err(invalid());
    }
    let separator = if reader.eat('-') {
        '-'
    } else if reader.eat('/') {
        '/'
    } else {
        return Err(invalid());
    };
    fields.month = Some(reader.number(2).ok_or_else(invalid)?);
    if !reader.eat(separator) {
        return Err(invalid());
    }
    fields.day = Some(reader.number(2).ok_or_else(invalid)?);
    let has_time = reader.eat('T') || reader.eat('t') || {
        let before = reader.rest;
        let spaced = reader.eat(' ');
        let digit_next = reader.rest.starts_with(|c: char| c.is_ascii_digit());
        if spaced && !digit_next {
            reader.rest = before;
        }
        spaced && digit_next
    };
    if has_time {
        fields.hour = Some(reader.number(2).ok_or_else(invalid)?);
        if !reader.eat(':') {
            return Err(invalid());
        }
        fields.minute = Some(reader.number(2).ok_or_else(invalid)?);
        if reader.eat(':') {
            fields.second = Some(reader.number(2).ok_or_else(invalid)?);
            if reader.eat('.') || reader.eat(',') {
                let digits: String = reader
                    .rest
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if digits.is_empty() {
                    return Err(invalid());
                }
                reader.rest = &reader.rest[digits.len()..];
                // Microseconds: the first six digits, zero-padded.
                let micros: String = digits
                    .chars()
                    .chain(std::iter::repeat('0'))
                    .take(6)
                    .collect();
                fields.micros = micros.parse().map_err(|_| invalid())?;
            }
        }
    }
    reader.rest = reader.rest.trim_start();
    if !reader.rest.is_empty() {
        let zone = if let Some(rest) = reader
            .rest
            .strip_prefix("GMT")
            .or_else(|| reader.rest.strip_prefix("UTC"))
        {
            reader.rest = rest;
            Some(reader.offset().unwrap_or(0))
        } else {
            reader.offset()
        };
        fields.offset = Some(zone.ok_or_else(invalid)?);
        if !reader.rest.is_empty() {
            return Err(invalid());
        }
    }
    Ok(fields)
}

/// The day number the fields name, or an error when they name none.
fn day_number(text: &str, fields: &Fields) -> QueryResult<i64> {
    let invalid = || parse_error(text, "The parsed date was invalid");
    if let (Some(y), Some(w), Some(d)) = (fields.iso_year, fields.iso_week, fields.iso_day) {
        if !(1..=53).contains(&w) || !(1..=7).contains(&d) {
            return Err(invalid());
        }
        return Ok(civil::days_from_iso(y, w, d));
    }
    let incomplete = || {
        QueryError::new(format!(
            "an incomplete date/time string has been found, with elements missing: \"{text}\""
        ))
    };
    let year = fields.year.ok_or_else(incomplete)?;
    if let Some(doy) = fields.day_of_year {
        let length = if civil::is_leap(year) { 366 } else { 365 };
        if !(1..=length).contains(&doy) {
            return Err(invalid());
        }
        return Ok(civil::days_from_civil(year, 1, 1) + doy - 1);
    }
    let (month, day) = match (fields.month, fields.day) {
        (Some(m), Some(d)) => (m, d),
        _ => return Err(incomplete()),
    };
    let month = u32::try_from(month)
        .ok()
        .filter(|m| (1..=12).contains(m))
        .ok_or_else(invalid)?;
    let day = u32::try_from(day)
        .ok()
        .filter(|d| (1..=civil::days_in_month(year, month)).contains(d))
        .ok_or_else(invalid)?;
    Ok(civil::days_from_civil(year, month, day))
}

/// Reads a date string (with an optional format) as an instant, reading
/// a time without an offset in `zone` (`None` for UTC).
pub(crate) fn parse_date(
    text: &str,
    format: Option<&str>,
    zone: Option<&Zone>,
) -> QueryResult<i64> {
    let fields = match format {
        Some(format) => read_with_format(text, format)?,
        None => read_iso(text)?,
    };
    if fields.offset.is_some() && zone.is_some_and(|z| !z.is_utc()) {
        return Err(QueryError::new(
            "you cannot pass in a date/time string with time zone information together with a \
             timezone argument",
        ));
    }
    let days = day_number(text, &fields)?;
    let (hour, minute, second) = (
        fields.hour.unwrap_or(0),
        fields.minute.unwrap_or(0),
        fields.second.unwrap_or(0),
    );
    if hour > 24 || minute > 59 || second > 59 {
        return Err(parse_error(text, "The parsed time was invalid"));
    }
    let local_us = (i128::from(days) * i128::from(MS_PER_DAY)
        + i128::from(hour) * 3_600_000
        + i128::from(minute) * 60_000
        + i128::from(second) * 1000)
        * 1000
        + i128::from(fields.micros);
    let utc_us = match (fields.offset, zone) {
        (Some(offset), _) => local_us - i128::from(offset) * 1_000_000,
        (None, Some(zone)) => {
            // The zone resolves whole milliseconds; the sub-millisecond rest rides along.
            let local_ms = local_us.div_euclid(1000);
            zone.to_utc(local_ms, false) * 1000 + local_us.rem_euclid(1000)
        }
        (None, None) => local_us,
    };
    // Microseconds to milliseconds truncate toward zero, as the server does.
    i64::try_from(utc_us / 1000).map_err(|_| parse_error(text, "The date is out of range"))
}

/// `$dateFromString: {dateString, format, timezone, onError, onNull}`.
#[derive(Debug)]
struct DateFromString {
    /// The string.
    date_string: Node,
    /// The format, if given.
    format: Option<Node>,
    /// The zone, if given.
    timezone: Option<Node>,
    /// The result when the string cannot be read, if given.
    on_error: Option<Node>,
    /// The result for a null or missing string, if given.
    on_null: Option<Node>,
}

impl DateFromString {
    /// The conversion itself: the errors `onError` catches.
    fn convert(
        &self,
        value: &Bson,
        format: Option<&str>,
        zone: Option<&Zone>,
    ) -> QueryResult<Bson> {
        let Bson::String(text) = value else {
            return Err(QueryError::new(format!(
                "$dateFromString requires that 'dateString' be a string, found: {} with value \
                 {value}",
                type_name(Some(value))
            )));
        };
        let ms = parse_date(text, format, zone)?;
        date_checked(i128::from(ms), "$dateFromString overflowed")
    }
}

impl SpecialForm for DateFromString {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let date_string = self.date_string.eval(ctx)?;
        let format = eval_opt(&self.format, ctx)?;
        match format.as_deref() {
            None | Some(Bson::Null | Bson::Undefined) => {}
            Some(Bson::String(text)) => validate_format(text, FROM_STRING_SPECIFIERS)?,
            Some(other) => {
                return Err(QueryError::new(format!(
                    "$dateFromString requires that 'format' be a string, found: {} with value \
                     {other}",
                    type_name(Some(other))
                )))
            }
        }
        let timezone = eval_opt(&self.timezone, ctx)?;
        let zone = match &self.timezone {
            None => Some(None),
            Some(_) => Zone::from_value(timezone.as_deref())?.map(Some),
        };
        let Some(value) = date_string.filter(|v| !is_nullish(Some(v))) else {
            return match &self.on_null {
                Some(node) => node.eval(ctx),
                None => null(),
            };
        };
        let format_text = match format.as_deref() {
            Some(Bson::String(text)) => Some(text.as_str()),
            _ => None,
        };
        let result = if !matches!(*value, Bson::String(_)) {
            // Not a string: the conversion fails (and onError may catch it).
            self.convert(&value, None, None)
        } else {
            // `zone` is `None` when the timezone evaluated to null.
            let Some(zone) = zone else { return null() };
            if self.format.is_some() && format_text.is_none() {
                return null();
            }
            self.convert(&value, format_text, zone.as_ref())
        };
        match (result, &self.on_error) {
            (Ok(date), _) => owned(date),
            (Err(_), Some(node)) => node.eval(ctx),
            (Err(err), None) => Err(err),
        }
    }
}

/// Parses `$dateFromString`.
pub(crate) fn parse_date_from_string(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let mut args = NamedArgs::parse(
        "$dateFromString",
        arg,
        &["dateString", "format", "timezone", "onError", "onNull"],
        &["dateString"],
        scope,
    )?;
    Ok(Node::Special(Arc::new(DateFromString {
        date_string: required(&mut args, 0),
        format: args.take(1),
        timezone: args.take(2),
        on_error: args.take(3),
        on_null: args.take(4),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> i64 {
        parse_date(text, None, None).unwrap()
    }

    #[test]
    fn iso_shapes() {
        assert_eq!(utc("1970-01-01"), 0);
        assert_eq!(utc("1970-01-01T00:00:01.5Z"), 1500);
        assert_eq!(utc("1970-01-01 01:00:00+01:00"), 0);
        assert_eq!(utc("1970-01-01T01:00:00 +0100"), 0);
        assert_eq!(utc("1970/01/02"), 86_400_000);
        assert_eq!(utc("1969-12-31T23:59:59.999Z"), -1);
        assert!(parse_date("Friday", None, None).is_err());
        assert!(parse_date("2017-02-30", None, None).is_err());
        assert!(parse_date("2017-02-08T25:00", None, None).is_err());
    }

    #[test]
    fn formats() {
        let f = |text: &str, format: &str| parse_date(text, Some(format), None);
        assert_eq!(f("08/02/1970", "%d/%m/%Y").unwrap(), 38 * 86_400_000);
        assert_eq!(f("1970-002", "%Y-%j").unwrap(), 86_400_000);
        assert!(f("1970-01-01x", "%Y-%m-%d").is_err());
        assert!(f("1970/01/01", "%Y-%m-%d").is_err());
        assert_eq!(f("1970-01-01 +0100", "%Y-%m-%d %z").unwrap(), -3_600_000);
        assert_eq!(f("1970-01-01 -60", "%Y-%m-%d %Z").unwrap(), 3_600_000);
    }
}
