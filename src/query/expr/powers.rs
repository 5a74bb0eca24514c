//! `$sqrt`, `$pow`, `$exp`, `$ln`, `$log` and `$log10`.
//!
//! Integers and doubles are computed in double precision (the result is a
//! double), except `$pow` of two integers, which stays an int or a long
//! while the exact result fits. A decimal argument makes a decimal result;
//! those need correctly rounded 34-digit transcendental functions, which
//! the engine does not have, so they are refused rather than answered
//! approximately — except where the server itself falls back to doubles
//! (a non-positive or NaN decimal argument of `$ln`, `$log`, `$log10`).

use std::borrow::Cow;

use bson::Bson;

use super::arith::Num;
use super::ops::{take, type_name};
use super::Value;
use crate::query::{QueryError, QueryResult};

/// Wraps a computed value.
fn some<'a>(value: Bson) -> QueryResult<Value<'a>> {
    Ok(Some(Cow::Owned(value)))
}

/// The refusal for a decimal result the engine cannot compute exactly.
fn decimal_unsupported() -> QueryError {
    QueryError::new("decimal arithmetic not supported yet")
}

/// One argument of a single-argument operator: `Ok(None)` for null or
/// missing (the result is then null), else its number or the server's error.
fn single_number(name: &str, mut args: Vec<Value<'_>>) -> QueryResult<Option<Num>> {
    let arg = take(&mut args, 0);
    match arg.as_deref() {
        None | Some(Bson::Null | Bson::Undefined) => Ok(None),
        Some(v) => Num::of(v).map(Some).ok_or_else(|| {
            QueryError::new(format!(
                "{name} only supports numeric types, not {}",
                type_name(Some(v))
            ))
        }),
    }
}

/// Whether a number is a decimal greater than zero (the decimal paths of
/// `$ln`, `$log` and `$log10`; anything else falls back to doubles).
fn positive_decimal(n: Num) -> bool {
    match n {
        Num::Decimal(_) => n.to_dec().is_ok_and(|d| !d.is_zero() && !d.is_negative()),
        _ => false,
    }
}

/// `$sqrt`: a double, or a decimal for a decimal; negative is an error
/// (NaN is not: it gives NaN).
pub(crate) fn sqrt(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let Some(n) = single_number("$sqrt", args)? else {
        return some(Bson::Null);
    };
    let f = n.to_f64();
    if f < 0.0 {
        return Err(QueryError::new(
            "$sqrt's argument must be greater than or equal to 0",
        ));
    }
    if let Num::Decimal(_) = n {
        return Err(decimal_unsupported());
    }
    some(Bson::Double(f.sqrt()))
}

/// `$exp`: e to the argument, a double (or a decimal for a decimal).
pub(crate) fn exp(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let Some(n) = single_number("$exp", args)? else {
        return some(Bson::Null);
    };
    if let Num::Decimal(_) = n {
        return Err(decimal_unsupported());
    }
    some(Bson::Double(n.to_f64().exp()))
}

/// A logarithm's argument as a double, refused unless positive (or NaN).
fn log_argument(name: &str, n: Num) -> QueryResult<f64> {
    let f = n.to_f64();
    if f > 0.0 || f.is_nan() {
        Ok(f)
    } else {
        Err(QueryError::new(format!(
            "{name}'s argument must be a positive number, but is {f}"
        )))
    }
}

/// `$ln`: the natural logarithm.
pub(crate) fn ln(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let Some(n) = single_number("$ln", args)? else {
        return some(Bson::Null);
    };
    if positive_decimal(n) {
        return Err(decimal_unsupported());
    }
    some(Bson::Double(log_argument("$ln", n)?.ln()))
}

/// `$log10`: the base-10 logarithm.
pub(crate) fn log10(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let Some(n) = single_number("$log10", args)? else {
        return some(Bson::Null);
    };
    if positive_decimal(n) {
        return Err(decimal_unsupported());
    }
    some(Bson::Double(log_argument("$log10", n)?.log10()))
}

/// The two numbers of `$log` or `$pow`, `Ok(None)` when either is null or
/// missing; the errors name the first argument `first` and the second `second`.
fn two_numbers(
    name: &str,
    [first, second]: [&str; 2],
    args: &[Value<'_>],
) -> QueryResult<Option<(Num, Num)>> {
    let get = |i: usize| args.get(i).and_then(|v| v.as_deref());
    let nullish = |v: Option<&Bson>| matches!(v, None | Some(Bson::Null | Bson::Undefined));
    if nullish(get(0)) || nullish(get(1)) {
        return Ok(None);
    }
    let number = |v: Option<&Bson>, what: &str| {
        v.and_then(Num::of).ok_or_else(|| {
            QueryError::new(format!(
                "{name}'s {what} must be numeric, not {}",
                type_name(v)
            ))
        })
    };
    Ok(Some((number(get(0), first)?, number(get(1), second)?)))
}

/// `$log: [number, base]`.
pub(crate) fn log(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let Some((n, base)) = two_numbers("$log", ["argument", "base"], &args)? else {
        return some(Bson::Null);
    };
    let decimal = matches!(n, Num::Decimal(_)) || matches!(base, Num::Decimal(_));
    let b = base.to_f64();
    if decimal && positive_decimal_value(n) && positive_decimal_value(base) && b != 1.0 {
        return Err(decimal_unsupported());
    }
    let x = log_argument("$log", n)?;
    if !((b > 0.0 && b != 1.0) || b.is_nan()) {
        return Err(QueryError::new(format!(
            "$log's base must be a positive number not equal to 1, but is {b}"
        )));
    }
    some(Bson::Double(x.ln() / b.ln()))
}

/// Whether a number of any type is greater than zero.
fn positive_decimal_value(n: Num) -> bool {
    match n {
        Num::Decimal(_) => positive_decimal(n),
        _ => n.to_f64() > 0.0,
    }
}

/// `$pow: [base, exponent]`.
pub(crate) fn pow(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let Some((base, exponent)) = two_numbers("$pow", ["base", "exponent"], &args)? else {
        return some(Bson::Null);
    };
    let zero_to_negative =
        || QueryError::new("$pow cannot take a base of 0 and a negative exponent");
    if matches!(base, Num::Decimal(_)) || matches!(exponent, Num::Decimal(_)) {
        let (b, e) = (base.to_dec()?, exponent.to_dec()?);
        if b.is_zero() && e.is_negative() {
            return Err(zero_to_negative());
        }
        return Err(decimal_unsupported());
    }
    let (b, e) = (base.to_f64(), exponent.to_f64());
    if b == 0.0 && e < 0.0 {
        return Err(zero_to_negative());
    }
    match (base, exponent) {
        (Num::Int(_) | Num::Long(_), Num::Int(_) | Num::Long(_)) => {
            let long = matches!(base, Num::Long(_)) || matches!(exponent, Num::Long(_));
            some(pow_integers(as_long(base), as_long(exponent), long))
        }
        _ => some(Bson::Double(b.powf(e))),
    }
}

/// An integer number as an `i64` (only called on ints and longs).
fn as_long(n: Num) -> i64 {
    match n {
        Num::Int(i) => i64::from(i),
        Num::Long(i) => i,
        _ => 0,
    }
}

/// An integer power: exact as an int (or a long if either argument is one,
/// or the result needs it), else a double.
fn pow_integers(base: i64, exponent: i64, long: bool) -> Bson {
    let exact = |r: i64| {
        if long {
            Bson::Int64(r)
        } else {
            i32::try_from(r).map_or(Bson::Int64(r), Bson::Int32)
        }
    };
    match base {
        // 0 to a negative power was refused before; 0^0 is 1.
        0 => exact(i64::from(exponent == 0)),
        1 => exact(1),
        -1 => exact(if exponent % 2 == 0 { 1 } else { -1 }),
        _ => match u32::try_from(exponent)
            .ok()
            .and_then(|e| base.checked_pow(e))
        {
            Some(r) => exact(r),
            // A negative exponent or an overflow: the double result.
            None => Bson::Double((base as f64).powf(exponent as f64)),
        },
    }
}
