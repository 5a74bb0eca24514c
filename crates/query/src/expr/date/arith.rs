//! `$dateAdd`, `$dateSubtract` and `$dateDiff`.
//!
//! Days and longer are calendar units: they move the local wall clock (so
//! adding a day across a DST change keeps the time of day), and months
//! clamp to the end of a shorter month (Jan 31 + 1 month = Feb 28/29).
//! Hours and shorter are elapsed time. `$dateDiff` counts unit boundaries
//! crossed in local time, as the server does.

use std::sync::Arc;

use bson::Bson;

use super::civil::{self, MS_PER_DAY};
use super::parts::zone_arg;
use super::zone::Zone;
use super::{date_checked, instant_of, parse_start_of_week, Unit};
use crate::expr::args::{eval_opt, integral, is_nullish, null, owned, required, NamedArgs};
use crate::expr::ops::type_name;
use crate::expr::special::SpecialForm;
use crate::expr::{Ctx, Node, Scope, Value};
use crate::{QueryError, QueryResult};

/// The largest `amount` the server accepts per unit (about the span of a
/// 64-bit millisecond date), exclusive.
fn max_amount(unit: Unit) -> i64 {
    let max_days: i64 = (u64::MAX / MS_PER_DAY as u64) as i64 + 1;
    let max_years = max_days / 365 + 1;
    match unit {
        Unit::Year => max_years,
        Unit::Quarter => max_years * 4,
        Unit::Month => max_years * 12,
        Unit::Week => max_days / 7,
        Unit::Day => max_days,
        Unit::Hour => max_days * 24,
        Unit::Minute => max_days * 24 * 60,
        Unit::Second => max_days * 24 * 60 * 60,
        Unit::Millisecond => i64::MAX,
    }
}

/// The name of a unit in messages.
fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Year => "year",
        Unit::Quarter => "quarter",
        Unit::Month => "month",
        Unit::Week => "week",
        Unit::Day => "day",
        Unit::Hour => "hour",
        Unit::Minute => "minute",
        Unit::Second => "second",
        Unit::Millisecond => "millisecond",
    }
}

/// Adds `amount` units to an instant in a zone; the result may be past
/// what a BSON date holds (the caller checks).
pub(crate) fn add(ms: i64, unit: Unit, amount: i64, zone: &Zone) -> QueryResult<i128> {
    if let Some(unit_ms) = unit.fixed_ms() {
        if unit != Unit::Millisecond && amount.checked_abs().is_none_or(|a| a >= max_amount(unit)) {
            return Err(invalid_amount(amount, unit));
        }
        return Ok(i128::from(ms) + i128::from(amount) * i128::from(unit_ms));
    }
    if amount.checked_abs().is_none_or(|a| a >= max_amount(unit)) {
        return Err(invalid_amount(amount, unit));
    }
    let local = zone.civil(ms);
    // A repeated wall-clock time is read with the daylight-time offset
    // when the start was in daylight time, as the server's library does.
    let prefer_dst = zone.is_dst_at(ms);
    let new_days = match unit {
        Unit::Day => i128::from(local.days) + i128::from(amount),
        Unit::Week => i128::from(local.days) + i128::from(amount) * 7,
        _ => {
            let months = match unit {
                Unit::Year => i128::from(amount) * 12,
                Unit::Quarter => i128::from(amount) * 3,
                _ => i128::from(amount),
            };
            let total = i128::from(local.year) * 12 + i128::from(local.month) - 1 + months;
            // |total| stays far below 2^63 given the amount bounds.
            let year = total.div_euclid(12) as i64;
            let month = total.rem_euclid(12) as u32 + 1;
            let day = local.day.min(civil::days_in_month(year, month));
            i128::from(civil::days_from_civil(year, month, day))
        }
    };
    let new_local = new_days * i128::from(MS_PER_DAY) + i128::from(local.ms_of_day());
    Ok(zone.to_utc(new_local, prefer_dst))
}

/// The server's error for an `amount` too large for any date.
fn invalid_amount(amount: i64, unit: Unit) -> QueryError {
    QueryError::new(format!(
        "invalid dateAdd 'amount' parameter value: {amount} {}",
        unit_name(unit)
    ))
}

/// `$dateAdd` (`sign` 1) and `$dateSubtract` (`sign` -1).
#[derive(Debug)]
struct DateArith {
    /// The operator name, for messages.
    op: &'static str,
    /// 1 to add, -1 to subtract.
    sign: i64,
    /// The start date.
    start: Node,
    /// The unit.
    unit: Node,
    /// How many units.
    amount: Node,
    /// The zone, if given.
    timezone: Option<Node>,
}

impl SpecialForm for DateArith {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let start = self.start.eval(ctx)?;
        let unit = self.unit.eval(ctx)?;
        let amount = self.amount.eval(ctx)?;
        let timezone = eval_opt(&self.timezone, ctx)?;
        let (Some(start), Some(unit), Some(amount)) = (start, unit, amount) else {
            return null();
        };
        if [&*start, &*unit, &*amount]
            .iter()
            .any(|v| is_nullish(Some(v)))
        {
            return null();
        }
        let Some(zone) = zone_arg(&self.timezone, timezone.as_deref())? else {
            return null();
        };
        let ms = instant_of(&start).ok_or_else(|| {
            QueryError::new(format!(
                "{} requires startDate to be convertible to a date",
                self.op
            ))
        })?;
        if !matches!(*unit, Bson::String(_)) {
            return Err(QueryError::new(format!(
                "{} expects string defining the time unit",
                self.op
            )));
        }
        let unit = Unit::parse(self.op, &unit)?;
        let amount = integral(&amount)
            .filter(|_| !matches!(*amount, Bson::Boolean(_)))
            .ok_or_else(|| {
                QueryError::new(format!("{} expects integer amount of time units", self.op))
            })?;
        let amount = if self.sign < 0 {
            amount
                .checked_neg()
                .ok_or_else(|| invalid_amount(amount, unit))?
        } else {
            amount
        };
        let result = add(ms, unit, amount, &zone)?;
        owned(date_checked(result, "dateAdd overflowed")?)
    }
}

/// Parses `$dateAdd` or `$dateSubtract`.
fn parse_arith(op: &'static str, sign: i64, arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let mut args = NamedArgs::parse(
        op,
        arg,
        &["startDate", "unit", "amount", "timezone"],
        &["startDate", "unit", "amount"],
        scope,
    )?;
    Ok(Node::Special(Arc::new(DateArith {
        op,
        sign,
        start: required(&mut args, 0),
        unit: required(&mut args, 1),
        amount: required(&mut args, 2),
        timezone: args.take(3),
    })))
}

/// Parses `$dateAdd`.
pub(crate) fn parse_date_add(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    parse_arith("$dateAdd", 1, arg, scope)
}

/// Parses `$dateSubtract`.
pub(crate) fn parse_date_subtract(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    parse_arith("$dateSubtract", -1, arg, scope)
}

/// The number of `unit` boundaries between two instants in a zone
/// (`start_of_week` is the ISO weekday weeks begin on).
pub(crate) fn diff(
    start: i64,
    end: i64,
    unit: Unit,
    zone: &Zone,
    start_of_week: u32,
) -> QueryResult<i64> {
    if unit == Unit::Millisecond {
        return end
            .checked_sub(start)
            .ok_or_else(|| QueryError::new("dateDiff overflowed"));
    }
    let (s, e) = (zone.civil(start), zone.civil(end));
    let years = e.year - s.year;
    let days = e.days - s.days;
    // Whole-hour and whole-minute parts of the change in UTC offset.
    let offset_change = zone.offset_at(start) - zone.offset_at(end);
    let hours = days * 24 + i64::from(e.hour) - i64::from(s.hour);
    let minutes = hours * 60 + i64::from(e.minute) - i64::from(s.minute);
    Ok(match unit {
        Unit::Year => years,
        Unit::Quarter => years * 4 + (i64::from(e.month) - 1) / 3 - (i64::from(s.month) - 1) / 3,
        Unit::Month => years * 12 + i64::from(e.month) - i64::from(s.month),
        Unit::Week => {
            let day_in_week =
                |days: i64| i64::from((civil::iso_weekday(days) + 7 - start_of_week) % 7);
            (days + day_in_week(s.days) - day_in_week(e.days)) / 7
        }
        Unit::Day => days,
        Unit::Hour => hours + offset_change / 3600,
        Unit::Minute => minutes + offset_change / 60,
        Unit::Second | Unit::Millisecond => {
            minutes * 60 + i64::from(e.second) - i64::from(s.second) + offset_change
        }
    })
}

/// `$dateDiff: {startDate, endDate, unit, timezone, startOfWeek}`.
#[derive(Debug)]
struct DateDiff {
    /// The first instant.
    start: Node,
    /// The second instant.
    end: Node,
    /// The unit.
    unit: Node,
    /// The zone, if given.
    timezone: Option<Node>,
    /// The first day of a week, if given.
    start_of_week: Option<Node>,
}

/// An instant argument of `$dateDiff`.
fn diff_instant(name: &str, value: &Bson) -> QueryResult<i64> {
    instant_of(value).ok_or_else(|| {
        QueryError::new(format!(
            "$dateDiff requires '{name}' to be a date, but got {}",
            type_name(Some(value))
        ))
    })
}

impl SpecialForm for DateDiff {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let start = self.start.eval(ctx)?;
        let end = self.end.eval(ctx)?;
        let unit = self.unit.eval(ctx)?;
        let timezone = eval_opt(&self.timezone, ctx)?;
        let start_of_week = eval_opt(&self.start_of_week, ctx)?;
        let (Some(start), Some(end), Some(unit)) = (start, end, unit) else {
            return null();
        };
        if [&*start, &*end, &*unit].iter().any(|v| is_nullish(Some(v))) {
            return null();
        }
        let Some(zone) = zone_arg(&self.timezone, timezone.as_deref())? else {
            return null();
        };
        let start = diff_instant("startDate", &start)?;
        let end = diff_instant("endDate", &end)?;
        let unit = Unit::parse("$dateDiff", &unit)?;
        let mut week_start = 7;
        if unit == Unit::Week && self.start_of_week.is_some() {
            match start_of_week.as_deref() {
                None | Some(Bson::Null | Bson::Undefined) => return null(),
                Some(value) => week_start = parse_start_of_week("$dateDiff", value)?,
            }
        }
        owned(Bson::Int64(diff(start, end, unit, &zone, week_start)?))
    }
}

/// Parses `$dateDiff`.
pub(crate) fn parse_date_diff(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let mut args = NamedArgs::parse(
        "$dateDiff",
        arg,
        &["startDate", "endDate", "unit", "timezone", "startOfWeek"],
        &["startDate", "endDate", "unit"],
        scope,
    )?;
    Ok(Node::Special(Arc::new(DateDiff {
        start: required(&mut args, 0),
        end: required(&mut args, 1),
        unit: required(&mut args, 2),
        timezone: args.take(3),
        start_of_week: args.take(4),
    })))
}
