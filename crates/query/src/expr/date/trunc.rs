//! `$dateTrunc`: the start of the bin of `binSize` units a date falls in.
//!
//! Bins are counted from a reference point, 2000-01-01T00:00 local time
//! (moved forward to the first `startOfWeek` day for weeks), as the server
//! does: units of an hour or less are fixed lengths of time from it, longer
//! units are calendar steps from it in the zone.

use std::sync::Arc;

use bson::Bson;

use super::arith::add;
use super::civil::{self, MS_PER_DAY};
use super::parts::zone_arg;
use super::zone::Zone;
use super::{date_checked, instant_of, parse_start_of_week, Unit};
use crate::expr::args::{eval_opt, integral, is_nullish, null, owned, required, NamedArgs};
use crate::expr::ops::type_name;
use crate::expr::special::SpecialForm;
use crate::expr::{Ctx, Node, Scope, Value};
use crate::{QueryError, QueryResult};

/// 2000-01-01T00:00:00Z in milliseconds.
const REFERENCE_UTC_MS: i64 = 946_684_800_000;
/// The largest `binSize` for calendar units the server supports.
const MAX_CALENDAR_BIN: i64 = 100_000_000_000;

/// The error for a result or step past the range of a date.
fn overflow() -> QueryError {
    QueryError::new("dateTrunc overflowed")
}

/// Truncates `ms` to a bin of `bin_size` units in `zone`.
pub(crate) fn truncate(
    ms: i64,
    unit: Unit,
    bin_size: i64,
    zone: &Zone,
    start_of_week: u32,
) -> QueryResult<i128> {
    let mut reference_ms = REFERENCE_UTC_MS - zone.offset_at(REFERENCE_UTC_MS) * 1000;
    let mut reference_day = civil::days_from_civil(2000, 1, 1);
    if unit == Unit::Week {
        // The first day on or after 2000-01-01 (a Saturday) starting a week.
        let saturday_in_week = (6 + 7 - start_of_week) % 7;
        let forward = i64::from((7 - saturday_in_week) % 7);
        reference_ms += forward * MS_PER_DAY;
        reference_day += forward;
    }
    if let Some(unit_ms) = unit.fixed_ms() {
        let bin_ms = bin_size.checked_mul(unit_ms).ok_or_else(overflow)?;
        let shifted = ms.checked_sub(reference_ms).ok_or_else(overflow)?;
        return Ok(i128::from(ms) - i128::from(shifted.rem_euclid(bin_ms)));
    }
    if bin_size > MAX_CALENDAR_BIN {
        return Err(QueryError::new("dateTrunc unsupported binSize value"));
    }
    let local = zone.civil(ms);
    let years = local.year - 2000;
    let distance = match unit {
        Unit::Year => years,
        Unit::Quarter => years * 4 + (i64::from(local.month) - 1) / 3,
        Unit::Month => years * 12 + i64::from(local.month) - 1,
        Unit::Week => {
            // Both days are counted from the week's first day.
            let in_week = |days: i64| i64::from((civil::iso_weekday(days) + 7 - start_of_week) % 7);
            (local.days - reference_day + in_week(reference_day) - in_week(local.days)) / 7
        }
        _ => local.days - reference_day,
    };
    let lower = distance - distance.rem_euclid(bin_size);
    add(reference_ms, unit, lower, zone)
}

/// `$dateTrunc: {date, unit, binSize, timezone, startOfWeek}`.
#[derive(Debug)]
struct DateTrunc {
    /// The date.
    date: Node,
    /// The unit.
    unit: Node,
    /// The bin size, if given (default 1).
    bin_size: Option<Node>,
    /// The zone, if given.
    timezone: Option<Node>,
    /// The first day of a week, if given.
    start_of_week: Option<Node>,
}

impl SpecialForm for DateTrunc {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let date = self.date.eval(ctx)?;
        let unit = self.unit.eval(ctx)?;
        let bin_size = match &self.bin_size {
            Some(node) => node.eval(ctx)?,
            None => Some(std::borrow::Cow::Owned(Bson::Int64(1))),
        };
        let timezone = eval_opt(&self.timezone, ctx)?;
        let start_of_week = eval_opt(&self.start_of_week, ctx)?;
        let (Some(date), Some(unit), Some(bin_size)) = (date, unit, bin_size) else {
            return null();
        };
        if [&*date, &*unit, &*bin_size]
            .iter()
            .any(|v| is_nullish(Some(v)))
        {
            return null();
        }
        let Some(zone) = zone_arg(&self.timezone, timezone.as_deref())? else {
            return null();
        };
        let ms = instant_of(&date).ok_or_else(|| {
            QueryError::new(format!(
                "$dateTrunc requires 'date' to be a date, but got {}",
                type_name(Some(&date))
            ))
        })?;
        let unit = Unit::parse("$dateTrunc", &unit)?;
        let size = integral(&bin_size)
            .filter(|_| !matches!(*bin_size, Bson::Boolean(_)))
            .ok_or_else(|| {
                QueryError::new(format!(
                    "$dateTrunc requires 'binSize' to be a 64-bit integer, but got value \
                     '{bin_size}' of type {}",
                    type_name(Some(&bin_size))
                ))
            })?;
        if size <= 0 {
            return Err(QueryError::new(format!(
                "$dateTrunc requires 'binSize' to be greater than 0, but got value {size}"
            )));
        }
        let mut week_start = 7;
        if unit == Unit::Week && self.start_of_week.is_some() {
            match start_of_week.as_deref() {
                Some(value) if !is_nullish(Some(value)) => {
                    week_start = parse_start_of_week("$dateTrunc", value)?
                }
                _ => return null(),
            }
        }
        owned(date_checked(
            truncate(ms, unit, size, &zone, week_start)?,
            "dateTrunc overflowed",
        )?)
    }
}

/// Parses `$dateTrunc`.
pub(crate) fn parse_date_trunc(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let mut args = NamedArgs::parse(
        "$dateTrunc",
        arg,
        &["date", "unit", "binSize", "timezone", "startOfWeek"],
        &["date", "unit"],
        scope,
    )?;
    Ok(Node::Special(Arc::new(DateTrunc {
        date: required(&mut args, 0),
        unit: required(&mut args, 1),
        bin_size: args.take(2),
        timezone: args.take(3),
        start_of_week: args.take(4),
    })))
}
