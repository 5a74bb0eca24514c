//! `$ceil`, `$floor`, `$round` and `$trunc`.
//!
//! The result keeps the argument's type. Doubles are rounded the way the
//! server does it: converted to a 34-digit decimal and quantized, so
//! `{$round: [2.675, 2]}` is `2.67` (the double is just below 2.675) and
//! ties go to the even digit (`$round`). Integers only change for a
//! negative place, and an int widens to a long when the result needs it.

use std::borrow::Cow;

use bson::{Bson, Decimal128};

use super::decimal::{Dec, Rounding};
use super::integral::integral_i32;
use super::ops::{take, type_name};
use super::Value;
use crate::{QueryError, QueryResult};

/// The places `$round` and `$trunc` accept, inclusive (the server's range).
const PLACES: std::ops::RangeInclusive<i64> = -20..=100;

/// Wraps a computed value.
fn some<'a>(value: Bson) -> QueryResult<Value<'a>> {
    Ok(Some(Cow::Owned(value)))
}

/// Whether a value is null, undefined or missing.
fn nullish(value: Option<&Bson>) -> bool {
    matches!(value, None | Some(Bson::Null | Bson::Undefined))
}

/// The numeric argument of a rounding operator, or its error.
fn numeric<'b>(name: &str, value: Option<&'b Bson>) -> QueryResult<&'b Bson> {
    value
        .filter(|v| {
            matches!(
                v,
                Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_)
            )
        })
        .ok_or_else(|| {
            QueryError::new(format!(
                "{name} only supports numeric types, not {}",
                type_name(value)
            ))
        })
}

/// The decimal128 quiet NaN (combination field 11111, all else zero).
fn decimal_nan() -> Decimal128 {
    let mut bytes = [0u8; 16];
    bytes[15] = 0x7c;
    Decimal128::from_bytes(bytes)
}

/// Whether a decimal's sign bit is set (also for -0 and -NaN).
fn sign_bit(d: &Decimal128) -> bool {
    d.bytes()[15] & 0x80 != 0
}

/// What rounding a decimal to a place does when the result would need
/// more than the 34 digits decimal128 holds (the value then has no digits
/// past the place, so only its representation is at stake).
#[derive(Debug, Clone, Copy)]
enum Overflow {
    /// NaN, IEEE's invalid-operation result (`$ceil`, `$floor`, as the server).
    NaN,
    /// The value with as many digits as fit (`$round`, `$trunc`, as the server).
    Widen,
}

/// A decimal quantized to `10^exponent`, keeping the sign of a zero result.
/// NaN and the infinities come back unchanged.
fn quantize_decimal(
    d: Decimal128,
    exponent: i32,
    mode: Rounding,
    overflow: Overflow,
) -> QueryResult<Decimal128> {
    let Some(value) = Dec::from_decimal128(&d) else {
        return Ok(d);
    };
    let q = match (value.quantize(exponent, mode), overflow) {
        (Some(q), _) => q,
        (None, Overflow::Widen) => value.widened_towards(exponent),
        (None, Overflow::NaN) => return Ok(decimal_nan()),
    };
    let mut out = q.to_decimal128()?;
    if q.is_zero() && sign_bit(&d) {
        let mut bytes = out.bytes();
        bytes[15] |= 0x80;
        out = Decimal128::from_bytes(bytes);
    }
    Ok(out)
}

/// A double rounded at `place` decimal places through a 34-digit decimal.
fn round_double(f: f64, place: i64, mode: Rounding) -> QueryResult<f64> {
    if !f.is_finite() {
        return Ok(f);
    }
    let exponent = i32::try_from(-place).unwrap_or(0);
    Ok(match Dec::from_f64_34(f)?.quantize(exponent, mode) {
        // A zero keeps the argument's sign, as IEEE quantize does.
        Some(q) => q.to_f64().copysign(f),
        None => f,
    })
}

/// `$ceil` and `$floor` of one argument.
fn to_integer<'a>(name: &str, mut args: Vec<Value<'a>>, mode: Rounding) -> QueryResult<Value<'a>> {
    let arg = take(&mut args, 0);
    if nullish(arg.as_deref()) {
        return some(Bson::Null);
    }
    let result = match numeric(name, arg.as_deref())? {
        Bson::Double(f) => Bson::Double(if mode == Rounding::Ceiling {
            f.ceil()
        } else {
            f.floor()
        }),
        Bson::Decimal128(d) => Bson::Decimal128(quantize_decimal(*d, 0, mode, Overflow::NaN)?),
        // Integers are already whole.
        _ => return Ok(arg),
    };
    some(result)
}

/// `$ceil`: the smallest integer not below the argument.
pub(crate) fn ceil(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    to_integer("$ceil", args, Rounding::Ceiling)
}

/// `$floor`: the largest integer not above the argument.
pub(crate) fn floor(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    to_integer("$floor", args, Rounding::Floor)
}

/// `$round` and `$trunc`: `[number, place]`, place defaulting to 0.
fn round_at<'a>(name: &str, mut args: Vec<Value<'a>>, mode: Rounding) -> QueryResult<Value<'a>> {
    let arg = take(&mut args, 0);
    if nullish(arg.as_deref()) {
        return some(Bson::Null);
    }
    let number = numeric(name, arg.as_deref())?;
    let place = match args.get(1) {
        None => 0,
        Some(p) if nullish(p.as_deref()) => return some(Bson::Null),
        Some(p) => {
            let p = p.as_deref().and_then(integral_i32).ok_or_else(|| {
                QueryError::new(format!(
                    "precision argument to  {name} must be a integral value"
                ))
            })?;
            let p = i64::from(p);
            if !PLACES.contains(&p) {
                return Err(QueryError::new(format!(
                    "cannot apply {name} with precision value {p} value must be in [-20, 100]"
                )));
            }
            p
        }
    };
    let exponent = i32::try_from(-place).unwrap_or(0);
    let result = match number {
        Bson::Double(f) => Bson::Double(round_double(*f, place, mode)?),
        Bson::Decimal128(d) => {
            Bson::Decimal128(quantize_decimal(*d, exponent, mode, Overflow::Widen)?)
        }
        Bson::Int32(_) | Bson::Int64(_) if place >= 0 => return Ok(arg),
        Bson::Int32(i) => round_integer(name, i64::from(*i), place, mode)
            .map(|r| i32::try_from(r).map_or(Bson::Int64(r), Bson::Int32))?,
        Bson::Int64(i) => Bson::Int64(round_integer(name, *i, place, mode)?),
        _ => return Ok(arg),
    };
    some(result)
}

/// An integer rounded at a negative place; an error when the result leaves
/// the int64 range (`{$round: [Long.MAX, -1]}`).
fn round_integer(name: &str, value: i64, place: i64, mode: Rounding) -> QueryResult<i64> {
    let exponent = i32::try_from(-place).unwrap_or(0);
    Dec::from_i64(value)
        .quantize(exponent, mode)
        .and_then(Dec::to_i64_exact)
        .ok_or_else(|| {
            QueryError::new(format!(
                "invalid conversion from Decimal128 result in {name} resulting from arguments: \
                 [{value}, {place}]"
            ))
        })
}

/// `$round`: to the nearest multiple of `10^-place`, ties to even.
pub(crate) fn round(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    round_at("$round", args, Rounding::HalfEven)
}

/// `$trunc`: towards zero at `place` decimal places.
pub(crate) fn trunc(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    round_at("$trunc", args, Rounding::TowardZero)
}
