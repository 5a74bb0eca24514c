//! `$dateToString` and the server's date format language (which is not
//! `strftime`: only the specifiers below exist, `%Z` is the offset in
//! minutes, and every number must fit in four digits).

use std::sync::Arc;

use bson::Bson;

use super::civil;
use super::parts::zone_arg;
use super::require_instant;
use super::zone::Zone;
use crate::expr::args::{eval_opt, is_nullish, null, owned, required, NamedArgs};
use crate::expr::ops::type_name;
use crate::expr::special::SpecialForm;
use crate::expr::{Ctx, Node, Scope, Value};
use crate::{QueryError, QueryResult};

/// The format of a date with no `format` argument, in UTC.
pub(crate) const ISO_FORMAT_UTC: &str = "%Y-%m-%dT%H:%M:%S.%LZ";
/// The same in any other zone: no `Z`, as the time is not UTC.
const ISO_FORMAT_LOCAL: &str = "%Y-%m-%dT%H:%M:%S.%L";

/// The specifiers `$dateToString` understands (besides `%%`).
pub(crate) const TO_STRING_SPECIFIERS: &str = "bBdGHjLmMSwuUVYzZ";

/// Month names for `%b` and `%B`.
pub(crate) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Checks that every `%` in `format` starts a specifier from `allowed`.
pub(crate) fn validate_format(format: &str, allowed: &str) -> QueryResult<()> {
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        match chars.next() {
            None => return Err(QueryError::new("Unmatched '%' at end of format string")),
            Some(s) if s == '%' || allowed.contains(s) => {}
            Some(s) => {
                return Err(QueryError::new(format!(
                    "Invalid format character '%{s}' in format string"
                )))
            }
        }
    }
    Ok(())
}

/// Appends `number` zero-padded to `width` digits, refusing what does not
/// fit in four digits as the server does.
fn push_padded(out: &mut String, number: i64, width: usize) -> QueryResult<()> {
    if !(0..=9999).contains(&number) {
        return Err(QueryError::new(format!(
            "Could not convert date to string: date component was outside the supported range \
             of 0-9999: {number}"
        )));
    }
    out.push_str(&format!("{number:0width$}"));
    Ok(())
}

/// Renders an instant in a zone with a validated format.
pub(crate) fn format_date(format: &str, ms: i64, zone: &Zone) -> QueryResult<String> {
    let c = zone.civil(ms);
    let offset_minutes = zone.offset_at(ms) / 60;
    let mut out = String::with_capacity(format.len() + 16);
    let mut chars = format.chars();
    while let Some(ch) = chars.next() {
        if ch != '%' {
            out.push(ch);
            continue;
        }
        let Some(spec) = chars.next() else { break };
        match spec {
            '%' => out.push('%'),
            'Y' => push_padded(&mut out, c.year, 4)?,
            'm' => push_padded(&mut out, i64::from(c.month), 2)?,
            'd' => push_padded(&mut out, i64::from(c.day), 2)?,
            'H' => push_padded(&mut out, i64::from(c.hour), 2)?,
            'M' => push_padded(&mut out, i64::from(c.minute), 2)?,
            'S' => push_padded(&mut out, i64::from(c.second), 2)?,
            'L' => push_padded(&mut out, i64::from(c.millisecond), 3)?,
            'j' => push_padded(&mut out, i64::from(c.day_of_year()), 3)?,
            'w' => push_padded(&mut out, i64::from(civil::weekday(c.days)) + 1, 1)?,
            'u' => push_padded(&mut out, i64::from(civil::iso_weekday(c.days)), 1)?,
            'U' => push_padded(&mut out, i64::from(c.week()), 2)?,
            'G' => push_padded(&mut out, civil::iso_week(c.days).0, 4)?,
            'V' => push_padded(&mut out, i64::from(civil::iso_week(c.days).1), 2)?,
            'b' | 'B' => {
                let name = MONTHS
                    .get(c.month as usize - 1)
                    .copied()
                    .unwrap_or_default();
                out.push_str(if spec == 'b' {
                    name.get(..3).unwrap_or(name)
                } else {
                    name
                });
            }
            'z' => {
                out.push(if offset_minutes < 0 { '-' } else { '+' });
                let minutes = offset_minutes.abs();
                push_padded(&mut out, minutes / 60, 2)?;
                push_padded(&mut out, minutes % 60, 2)?;
            }
            'Z' => out.push_str(&offset_minutes.to_string()),
            other => {
                return Err(QueryError::new(format!(
                    "Invalid format character '%{other}' in format string"
                )))
            }
        }
    }
    Ok(out)
}

/// `$dateToString: {date, format, timezone, onNull}`.
#[derive(Debug)]
struct DateToString {
    /// The date.
    date: Node,
    /// The format, if given.
    format: Option<Node>,
    /// The zone, if given.
    timezone: Option<Node>,
    /// The result for a null or missing date, if given.
    on_null: Option<Node>,
}

impl SpecialForm for DateToString {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let date = self.date.eval(ctx)?;
        let format = eval_opt(&self.format, ctx)?;
        match format.as_deref() {
            None | Some(Bson::Null | Bson::Undefined) => {}
            Some(Bson::String(text)) => validate_format(text, TO_STRING_SPECIFIERS)?,
            Some(other) => {
                return Err(QueryError::new(format!(
                    "$dateToString requires that 'format' be a string, found: {} with value \
                     {other}",
                    type_name(Some(other))
                )))
            }
        }
        let timezone = eval_opt(&self.timezone, ctx)?;
        let zone = zone_arg(&self.timezone, timezone.as_deref())?;
        let Some(date) = date.filter(|d| !is_nullish(Some(d))) else {
            return match &self.on_null {
                Some(node) => node.eval(ctx),
                None => null(),
            };
        };
        let Some(zone) = zone else { return null() };
        let format = match (&self.format, format.as_deref()) {
            (None, _) if zone.is_utc() => ISO_FORMAT_UTC,
            (None, _) => ISO_FORMAT_LOCAL,
            (Some(_), Some(Bson::String(text))) => text.as_str(),
            (Some(_), _) => return null(),
        };
        let ms = require_instant(&date)?;
        owned(Bson::String(format_date(format, ms, &zone)?))
    }
}

/// Parses `$dateToString`.
pub(crate) fn parse_date_to_string(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let mut args = NamedArgs::parse(
        "$dateToString",
        arg,
        &["date", "format", "timezone", "onNull"],
        &["date"],
        scope,
    )?;
    Ok(Node::Special(Arc::new(DateToString {
        date: required(&mut args, 0),
        format: args.take(1),
        timezone: args.take(2),
        on_null: args.take(3),
    })))
}
