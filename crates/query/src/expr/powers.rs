//! `$sqrt`, `$pow`, `$exp`, `$ln`, `$log` and `$log10`.
//!
//! Integers and doubles are computed in double precision (the result is a
//! double), except `$pow` of two integers, which stays an int or a long
//! while the exact result fits. A decimal argument makes a decimal result,
//! rounded to 34 digits (`decimal::math`), except where the server itself
//! falls back to doubles: a non-positive or NaN decimal argument of `$ln`,
//! `$log` and `$log10` takes the double path and its error.

use std::borrow::Cow;

use bson::{Bson, Decimal128};

use super::arith::Num;
use super::decimal::math::{self, classify, Class, Outcome};
use super::decimal::Dec;
use super::ops::{take, type_name};
use super::Value;
use crate::{QueryError, QueryResult};

/// Wraps a computed value.
fn some<'a>(value: Bson) -> QueryResult<Value<'a>> {
    Ok(Some(Cow::Owned(value)))
}

/// Wraps a decimal result.
fn decimal<'a>(outcome: Outcome) -> QueryResult<Value<'a>> {
    some(Bson::Decimal128(outcome.into_decimal128()?))
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

/// A number as the server coerces it to a decimal: integers exactly,
/// doubles to 15 digits, NaN and the infinities as themselves.
fn as_decimal(n: Num) -> Class {
    match n {
        Num::Decimal(d) => classify(&d),
        Num::Double(f) if f.is_nan() => Class::NaN,
        Num::Double(f) if f.is_infinite() => Class::Infinite(f < 0.0),
        _ => n.to_dec().map_or(Class::NaN, Class::Finite),
    }
}

/// Whether a decimal is greater than zero (where `$ln`, `$log` and
/// `$log10` take their decimal path).
fn positive(class: Class) -> bool {
    match class {
        Class::Finite(d) => !d.is_zero() && !d.is_negative(),
        Class::Infinite(neg) => !neg,
        Class::NaN => false,
    }
}

/// `$sqrt`: a double, or a decimal for a decimal; negative is an error
/// (NaN is not: it gives NaN).
pub(crate) fn sqrt(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let Some(n) = single_number("$sqrt", args)? else {
        return some(Bson::Null);
    };
    if n.to_f64() < 0.0 {
        return Err(QueryError::new(
            "$sqrt's argument must be greater than or equal to 0",
        ));
    }
    let Num::Decimal(d) = n else {
        return some(Bson::Double(n.to_f64().sqrt()));
    };
    match classify(&d) {
        // NaN, +Infinity and ±0 are their own square roots (a zero takes
        // the exponent floor(e/2)).
        Class::NaN | Class::Infinite(_) => some(Bson::Decimal128(d)),
        Class::Finite(value) if value.is_zero() => {
            let root = math::sqrt(value).into_decimal128()?;
            some(Bson::Decimal128(with_sign_of(root, &d)))
        }
        Class::Finite(value) => decimal(math::sqrt(value)),
    }
}

/// `value` with `source`'s sign bit (for a zero result).
fn with_sign_of(value: Decimal128, source: &Decimal128) -> Decimal128 {
    let mut bytes = value.bytes();
    bytes[15] = (bytes[15] & 0x7f) | (source.bytes()[15] & 0x80);
    Decimal128::from_bytes(bytes)
}

/// `$exp`: e to the argument, a double (or a decimal for a decimal).
pub(crate) fn exp(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let Some(n) = single_number("$exp", args)? else {
        return some(Bson::Null);
    };
    let Num::Decimal(d) = n else {
        return some(Bson::Double(n.to_f64().exp()));
    };
    match classify(&d) {
        Class::NaN | Class::Infinite(false) => some(Bson::Decimal128(d)),
        Class::Infinite(true) => decimal(Outcome::Finite(Dec::from_i64(0))),
        Class::Finite(value) => decimal(math::exp(value)),
    }
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

/// `$ln` and `$log10`: the decimal path for a positive decimal, else doubles.
fn logarithm<'a>(
    name: &str,
    args: Vec<Value<'a>>,
    on_decimal: fn(Dec) -> Outcome,
    on_double: fn(f64) -> f64,
) -> QueryResult<Value<'a>> {
    let Some(n) = single_number(name, args)? else {
        return some(Bson::Null);
    };
    if let Num::Decimal(d) = n {
        match classify(&d) {
            Class::Finite(value) if positive(Class::Finite(value)) => {
                return decimal(on_decimal(value))
            }
            Class::Infinite(false) => return some(Bson::Decimal128(d)),
            _ => {}
        }
    }
    some(Bson::Double(on_double(log_argument(name, n)?)))
}

/// `$ln`: the natural logarithm.
pub(crate) fn ln(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    logarithm("$ln", args, math::ln, f64::ln)
}

/// `$log10`: the base-10 logarithm.
pub(crate) fn log10(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    logarithm("$log10", args, math::log10, f64::log10)
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

/// Whether either number is a decimal (the result is then a decimal).
fn any_decimal(a: Num, b: Num) -> bool {
    matches!(a, Num::Decimal(_)) || matches!(b, Num::Decimal(_))
}

/// `$log: [number, base]`.
pub(crate) fn log(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let Some((n, base)) = two_numbers("$log", ["argument", "base"], &args)? else {
        return some(Bson::Null);
    };
    let b = base.to_f64();
    if any_decimal(n, base) {
        let (x, y) = (as_decimal(n), as_decimal(base));
        if positive(x) && positive(y) && b != 1.0 {
            let outcome = match (x, y) {
                (Class::Finite(x), Class::Finite(y)) => math::log(x, y),
                // ln(+inf) / ln(b) and ln(x) / ln(+inf), signed as doubles are.
                _ => {
                    let q = n.to_f64().ln() / b.ln();
                    if q.is_infinite() {
                        Outcome::Infinite(q < 0.0)
                    } else if q.is_nan() {
                        Outcome::NaN
                    } else {
                        Outcome::Finite(Dec::from_i64(0))
                    }
                }
            };
            return decimal(outcome);
        }
    }
    let x = log_argument("$log", n)?;
    if !((b > 0.0 && b != 1.0) || b.is_nan()) {
        return Err(QueryError::new(format!(
            "$log's base must be a positive number not equal to 1, but is {b}"
        )));
    }
    some(Bson::Double(x.ln() / b.ln()))
}

/// `$pow: [base, exponent]`.
pub(crate) fn pow(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let Some((base, exponent)) = two_numbers("$pow", ["base", "exponent"], &args)? else {
        return some(Bson::Null);
    };
    let zero_to_negative =
        || QueryError::new("$pow cannot take a base of 0 and a negative exponent");
    if any_decimal(base, exponent) {
        let (b, e) = (as_decimal(base), as_decimal(exponent));
        let negative = |c: Class| match c {
            Class::Finite(d) => d.is_negative(),
            Class::Infinite(neg) => neg,
            Class::NaN => false,
        };
        if matches!(b, Class::Finite(d) if d.is_zero()) && negative(e) {
            return Err(zero_to_negative());
        }
        let outcome = match (b, e) {
            (Class::Finite(b), Class::Finite(e)) => math::pow(b, e),
            // Infinities and NaN: as doubles behave, in decimal.
            _ => {
                let r = base.to_f64().powf(exponent.to_f64());
                if r.is_nan() {
                    Outcome::NaN
                } else if r.is_infinite() {
                    Outcome::Infinite(r < 0.0)
                } else {
                    Dec::from_f64(r).map_or(Outcome::NaN, Outcome::Finite)
                }
            }
        };
        return decimal(outcome);
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
