//! Dates to calendar fields and back: the extractors (`$year` …
//! `$isoDayOfWeek`), `$dateToParts` and `$dateFromParts`.

use std::sync::Arc;

use bson::{doc, Bson};

use super::civil::{self, Civil, MS_PER_DAY};
use super::zone::Zone;
use super::{date_checked, require_instant};
use crate::expr::args::{eval_opt, integral, is_nullish, null, owned, NamedArgs};
use crate::expr::ops::type_name;
use crate::expr::special::SpecialForm;
use crate::expr::{Ctx, Node, Scope, Value};
use crate::{QueryError, QueryResult};

/// The field an extractor reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// `$year`.
    Year,
    /// `$month`.
    Month,
    /// `$dayOfMonth`.
    DayOfMonth,
    /// `$hour`.
    Hour,
    /// `$minute`.
    Minute,
    /// `$second`.
    Second,
    /// `$millisecond`.
    Millisecond,
    /// `$dayOfYear`.
    DayOfYear,
    /// `$dayOfWeek` (1 = Sunday).
    DayOfWeek,
    /// `$week` (0-53, weeks from Sunday).
    Week,
    /// `$isoWeekYear`.
    IsoWeekYear,
    /// `$isoWeek`.
    IsoWeek,
    /// `$isoDayOfWeek` (1 = Monday).
    IsoDayOfWeek,
}

/// An int32 result, or an int64 if it does not fit (only a year can fail
/// to, for dates hundreds of millions of years away).
fn int(value: i64) -> Bson {
    i32::try_from(value).map_or(Bson::Int64(value), Bson::Int32)
}

impl Part {
    /// The field's value for local calendar fields.
    fn read(self, c: &Civil) -> Bson {
        match self {
            Part::Year => int(c.year),
            Part::Month => Bson::Int32(c.month as i32),
            Part::DayOfMonth => Bson::Int32(c.day as i32),
            Part::Hour => Bson::Int32(c.hour as i32),
            Part::Minute => Bson::Int32(c.minute as i32),
            Part::Second => Bson::Int32(c.second as i32),
            Part::Millisecond => Bson::Int32(c.millisecond as i32),
            Part::DayOfYear => Bson::Int32(c.day_of_year() as i32),
            Part::DayOfWeek => Bson::Int32(civil::weekday(c.days) as i32 + 1),
            Part::Week => Bson::Int32(c.week() as i32),
            // The server computes the ISO year as a 64-bit integer and
            // returns it as one (every other field is an int).
            Part::IsoWeekYear => Bson::Int64(civil::iso_week(c.days).0),
            Part::IsoWeek => Bson::Int32(civil::iso_week(c.days).1 as i32),
            Part::IsoDayOfWeek => Bson::Int32(civil::iso_weekday(c.days) as i32),
        }
    }
}

/// An extractor: `{$year: <date>}` or `{$year: {date, timezone}}`.
#[derive(Debug)]
struct Extract {
    /// The field to read.
    part: Part,
    /// The date expression.
    date: Node,
    /// The `timezone` expression, if given.
    timezone: Option<Node>,
}

/// The zone of an optional `timezone` argument: UTC when absent,
/// `Ok(None)` when it evaluates to null.
pub(crate) fn zone_arg(node: &Option<Node>, value: Option<&Bson>) -> QueryResult<Option<Zone>> {
    match node {
        None => Ok(Some(Zone::Utc)),
        Some(_) => Zone::from_value(value),
    }
}

impl SpecialForm for Extract {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let date = self.date.eval(ctx)?;
        let Some(date) = date.filter(|d| !is_nullish(Some(d))) else {
            return null();
        };
        let timezone = eval_opt(&self.timezone, ctx)?;
        let Some(zone) = zone_arg(&self.timezone, timezone.as_deref())? else {
            return null();
        };
        let ms = require_instant(&date)?;
        owned(self.part.read(&zone.civil(ms)))
    }
}

/// Parses an extractor's argument in any of its three forms.
fn parse_extract(op: &str, part: Part, arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let (date, timezone) = match arg {
        Bson::Document(doc) if doc.keys().next().is_some_and(|k| !k.starts_with('$')) => {
            let mut date = None;
            let mut timezone = None;
            for (key, value) in doc {
                match key.as_str() {
                    "date" => date = Some(Node::parse(value, scope)?),
                    "timezone" => timezone = Some(Node::parse(value, scope)?),
                    _ => {
                        return Err(QueryError::new(format!(
                            "unrecognized option to {op}: \"{key}\""
                        )))
                    }
                }
            }
            let date = date.ok_or_else(|| {
                QueryError::new(format!("missing 'date' argument to {op}, provided: {doc}"))
            })?;
            (date, timezone)
        }
        Bson::Array(items) => match items.as_slice() {
            [only] => (Node::parse(only, scope)?, None),
            _ => {
                return Err(QueryError::new(format!(
                    "Expression {op} takes exactly 1 arguments. {} were passed in.",
                    items.len()
                )))
            }
        },
        other => (Node::parse(other, scope)?, None),
    };
    Ok(Node::Special(Arc::new(Extract {
        part,
        date,
        timezone,
    })))
}

/// Defines the parse function of one extractor.
macro_rules! extractor {
    ($fn_name:ident, $op:literal, $part:expr) => {
        #[doc = concat!("Parses `", $op, "`.")]
        pub(crate) fn $fn_name(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
            parse_extract($op, $part, arg, scope)
        }
    };
}

extractor!(parse_year, "$year", Part::Year);
extractor!(parse_month, "$month", Part::Month);
extractor!(parse_day_of_month, "$dayOfMonth", Part::DayOfMonth);
extractor!(parse_hour, "$hour", Part::Hour);
extractor!(parse_minute, "$minute", Part::Minute);
extractor!(parse_second, "$second", Part::Second);
extractor!(parse_millisecond, "$millisecond", Part::Millisecond);
extractor!(parse_day_of_year, "$dayOfYear", Part::DayOfYear);
extractor!(parse_day_of_week, "$dayOfWeek", Part::DayOfWeek);
extractor!(parse_week, "$week", Part::Week);
extractor!(parse_iso_week_year, "$isoWeekYear", Part::IsoWeekYear);
extractor!(parse_iso_week, "$isoWeek", Part::IsoWeek);
extractor!(parse_iso_day_of_week, "$isoDayOfWeek", Part::IsoDayOfWeek);

/// `$dateToParts: {date, timezone, iso8601}`.
#[derive(Debug)]
struct ToParts {
    /// The date.
    date: Node,
    /// The zone, if given.
    timezone: Option<Node>,
    /// Whether to give ISO week fields, if given.
    iso8601: Option<Node>,
}

impl SpecialForm for ToParts {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let date = self.date.eval(ctx)?;
        let timezone = eval_opt(&self.timezone, ctx)?;
        let Some(zone) = zone_arg(&self.timezone, timezone.as_deref())? else {
            return null();
        };
        let iso = match &self.iso8601 {
            None => false,
            Some(node) => match node.eval(ctx)?.as_deref() {
                None | Some(Bson::Null | Bson::Undefined) => return null(),
                Some(Bson::Boolean(b)) => *b,
                other => {
                    return Err(QueryError::new(format!(
                        "iso8601 must evaluate to a bool, found {}",
                        type_name(other)
                    )))
                }
            },
        };
        let Some(date) = date.filter(|d| !is_nullish(Some(d))) else {
            return null();
        };
        let c = zone.civil(require_instant(&date)?);
        let mut out = if iso {
            let (iso_year, iso_week) = civil::iso_week(c.days);
            doc! {
                "isoWeekYear": int(iso_year),
                "isoWeek": iso_week as i32,
                "isoDayOfWeek": civil::iso_weekday(c.days) as i32,
            }
        } else {
            doc! { "year": int(c.year), "month": c.month as i32, "day": c.day as i32 }
        };
        out.extend(doc! {
            "hour": c.hour as i32,
            "minute": c.minute as i32,
            "second": c.second as i32,
            "millisecond": c.millisecond as i32,
        });
        owned(Bson::Document(out))
    }
}

/// Parses `$dateToParts`.
pub(crate) fn parse_date_to_parts(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let mut args = NamedArgs::parse(
        "$dateToParts",
        arg,
        &["date", "timezone", "iso8601"],
        &["date"],
        scope,
    )?;
    Ok(Node::Special(Arc::new(ToParts {
        date: crate::expr::args::required(&mut args, 0),
        timezone: args.take(1),
        iso8601: args.take(2),
    })))
}

/// The fields `$dateFromParts` accepts, in its order of evaluation.
const FROM_PARTS_FIELDS: [&str; 11] = [
    "hour",
    "minute",
    "second",
    "millisecond",
    "timezone",
    "year",
    "month",
    "day",
    "isoWeekYear",
    "isoWeek",
    "isoDayOfWeek",
];

/// `$dateFromParts`, calendar or ISO week form.
#[derive(Debug)]
struct FromParts {
    /// One optional node per [`FROM_PARTS_FIELDS`] entry.
    fields: Vec<Option<Node>>,
    /// Whether the ISO week fields are used.
    iso: bool,
}

/// A numeric field's value: `Ok(None)` for null (the result is then
/// null). Values outside a field's range carry into the other fields, as
/// the manual says, however far outside they are.
fn part_value(name: &str, value: &Bson) -> QueryResult<Option<i64>> {
    if is_nullish(Some(value)) {
        return Ok(None);
    }
    integral(value)
        .filter(|_| !matches!(value, Bson::Boolean(_)))
        .map(Some)
        .ok_or_else(|| {
            QueryError::new(format!(
                "'{name}' must evaluate to an integer, found {} with value {value}",
                type_name(Some(value))
            ))
        })
}

/// The error for parts that add up to no representable date.
fn overflow() -> QueryError {
    QueryError::new("$dateFromParts overflowed")
}

impl FromParts {
    /// Evaluates field `i`, distinguishing a field not given (`None`).
    fn field<'a>(&'a self, i: usize, ctx: &Ctx<'a>) -> QueryResult<Option<Value<'a>>> {
        match self.fields.get(i).and_then(Option::as_ref) {
            Some(node) => Ok(Some(node.eval(ctx)?)),
            None => Ok(None),
        }
    }

    /// Evaluates numeric field `i` with its default.
    fn number(&self, i: usize, default: i64, ctx: &Ctx<'_>) -> QueryResult<Option<i64>> {
        let name = FROM_PARTS_FIELDS.get(i).copied().unwrap_or("?");
        match self.field(i, ctx)? {
            None => Ok(Some(default)),
            // A given field evaluating to missing counts as null.
            Some(value) => part_value(name, value.as_deref().unwrap_or(&Bson::Null)),
        }
    }

    /// The local day number of the date fields (in 128 bits: every field
    /// but the year may be any 64-bit integer).
    fn days(&self, year: i64, second_field: i64, third_field: i64) -> QueryResult<i128> {
        let (second_field, third_field) = (i128::from(second_field), i128::from(third_field));
        if self.iso {
            let week1 = i128::from(civil::days_from_iso(year, 1, 1));
            return Ok(week1 + (second_field - 1) * 7 + third_field - 1);
        }
        // Months past 12 (or below 1) carry into the year.
        let months = i128::from(year) * 12 + second_field - 1;
        let month = months.rem_euclid(12) as u32 + 1;
        let first = i64::try_from(months.div_euclid(12))
            .ok()
            .filter(|y| y.unsigned_abs() < 1 << 40)
            .map(|y| civil::days_from_civil(y, month, 1))
            .ok_or_else(overflow)?;
        Ok(i128::from(first) + third_field - 1)
    }
}

impl SpecialForm for FromParts {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let mut time = [0i64; 4];
        for (i, slot) in time.iter_mut().enumerate() {
            match self.number(i, 0, ctx)? {
                Some(n) => *slot = n,
                None => return null(),
            }
        }
        let zone = match self.field(4, ctx)? {
            None => Zone::Utc,
            Some(value) => match Zone::from_value(value.as_deref())? {
                Some(zone) => zone,
                None => return null(),
            },
        };
        let first = if self.iso { 8 } else { 5 };
        let mut date = [0i64; 3];
        for (k, slot) in date.iter_mut().enumerate() {
            let default = if k == 0 { 1970 } else { 1 };
            match self.number(first + k, default, ctx)? {
                Some(n) => *slot = n,
                None => return null(),
            }
        }
        let [year, second_field, third_field] = date;
        if !(1..=9999).contains(&year) {
            let name = if self.iso { "isoWeekYear" } else { "year" };
            return Err(QueryError::new(format!(
                "'{name}' must evaluate to an integer in the range 1 to 9999, found {year}"
            )));
        }
        let [hour, minute, second, millisecond] = time.map(i128::from);
        let local = self.days(year, second_field, third_field)? * i128::from(MS_PER_DAY)
            + hour * 3_600_000
            + minute * 60_000
            + second * 1000
            + millisecond;
        // Far past any date: refuse before the zone lookup sees it.
        if local.unsigned_abs() >= 1 << 100 {
            return Err(overflow());
        }
        owned(date_checked(
            zone.to_utc(local, false),
            "$dateFromParts overflowed",
        )?)
    }
}

/// Parses `$dateFromParts`, rejecting a mix of calendar and ISO fields.
pub(crate) fn parse_date_from_parts(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let mut args = NamedArgs::parse("$dateFromParts", arg, &FROM_PARTS_FIELDS, &[], scope)?;
    let fields: Vec<Option<Node>> = (0..FROM_PARTS_FIELDS.len()).map(|i| args.take(i)).collect();
    let given = |i: usize| fields.get(i).is_some_and(Option::is_some);
    let calendar = given(5) || given(6) || given(7);
    let iso = given(8) || given(9) || given(10);
    if calendar && iso {
        return Err(QueryError::new(
            "$dateFromParts does not allow mixing natural dates with ISO dates",
        ));
    }
    if !given(5) && !given(8) {
        return Err(QueryError::new(
            "$dateFromParts requires either 'year' or 'isoWeekYear' to be present",
        ));
    }
    Ok(Node::Special(Arc::new(FromParts { fields, iso })))
}
