//! Arithmetic operators, with the server's numeric type rules: int32 widens
//! to int64 on overflow, int64 to double, any double makes a double, and any
//! decimal makes a decimal. A null or missing argument makes the result null.

use std::borrow::Cow;

use bson::{Bson, DateTime};

use super::decimal::Dec;
use super::ops::{take, type_name};
use super::Value;
use crate::{QueryError, QueryResult};

/// A number of one of the four BSON numeric types.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Num {
    /// int32.
    Int(i32),
    /// int64.
    Long(i64),
    /// double.
    Double(f64),
    /// decimal128 (finite), or NaN/±infinity kept as the raw value.
    Decimal(bson::Decimal128),
}

impl Num {
    /// The number a value holds, if it is one.
    pub(crate) fn of(value: &Bson) -> Option<Num> {
        match value {
            Bson::Int32(i) => Some(Num::Int(*i)),
            Bson::Int64(i) => Some(Num::Long(*i)),
            Bson::Double(f) => Some(Num::Double(*f)),
            Bson::Decimal128(d) => Some(Num::Decimal(*d)),
            _ => None,
        }
    }

    /// Back to BSON.
    pub(crate) fn into_bson(self) -> Bson {
        match self {
            Num::Int(i) => Bson::Int32(i),
            Num::Long(i) => Bson::Int64(i),
            Num::Double(f) => Bson::Double(f),
            Num::Decimal(d) => Bson::Decimal128(d),
        }
    }

    /// As a double (lossy for large int64 and for decimals).
    pub(crate) fn to_f64(self) -> f64 {
        match self {
            Num::Int(i) => f64::from(i),
            Num::Long(i) => i as f64,
            Num::Double(f) => f,
            Num::Decimal(d) => crate::compare::decimal_to_f64(&d),
        }
    }

    /// As an exact decimal (doubles rounded to 15 digits, as the server does).
    pub(crate) fn to_dec(self) -> QueryResult<Dec> {
        match self {
            Num::Int(i) => Ok(Dec::from_i64(i64::from(i))),
            Num::Long(i) => Ok(Dec::from_i64(i)),
            Num::Double(f) => Dec::from_f64(f),
            Num::Decimal(d) => Dec::from_decimal128(&d)
                .ok_or_else(|| QueryError::new("decimal arithmetic not supported yet")),
        }
    }

    /// As an int64 if this is an integer type.
    fn as_long(self) -> Option<i64> {
        match self {
            Num::Int(i) => Some(i64::from(i)),
            Num::Long(i) => Some(i),
            _ => None,
        }
    }

    /// Whether this is a decimal.
    fn is_decimal(self) -> bool {
        matches!(self, Num::Decimal(_))
    }

    /// Whether this is a double.
    fn is_double(self) -> bool {
        matches!(self, Num::Double(_))
    }

    /// Whether the sign bit is set: IEEE 754 decides the sign of a zero
    /// result from it, so -0.0 and a decimal -0 count as negative.
    fn sign_negative(self) -> bool {
        match self {
            Num::Int(i) => i < 0,
            Num::Long(i) => i < 0,
            Num::Double(f) => f.is_sign_negative(),
            Num::Decimal(d) => d.bytes()[15] & 0x80 != 0,
        }
    }
}

/// `d` with its sign bit set: [`Dec`] keeps no negative zero, so a zero
/// result gets the sign IEEE 754 gives it here.
fn negative_zero(d: bson::Decimal128) -> bson::Decimal128 {
    let mut bytes = d.bytes();
    bytes[15] |= 0x80;
    bson::Decimal128::from_bytes(bytes)
}

/// One binary operation on numbers, per width.
struct NumOp {
    /// On two int32s; `None` on overflow.
    int: fn(i32, i32) -> Option<i32>,
    /// On two int64s; `None` on overflow.
    long: fn(i64, i64) -> Option<i64>,
    /// On doubles.
    double: fn(f64, f64) -> f64,
    /// On decimals.
    decimal: fn(Dec, Dec) -> QueryResult<Dec>,
    /// Whether an exact zero result is -0, from the operands' sign bits
    /// (IEEE 754, rounding to nearest): `0 * -0.5` is -0, `-0 + 0` is +0.
    zero_negative: fn(bool, bool) -> bool,
}

/// Addition.
const ADD: NumOp = NumOp {
    int: i32::checked_add,
    long: i64::checked_add,
    double: |a, b| a + b,
    decimal: Dec::add,
    zero_negative: |a, b| a && b,
};
/// Subtraction.
const SUB: NumOp = NumOp {
    int: i32::checked_sub,
    long: i64::checked_sub,
    double: |a, b| a - b,
    decimal: Dec::sub,
    zero_negative: |a, b| a && !b,
};
/// Multiplication.
const MUL: NumOp = NumOp {
    int: i32::checked_mul,
    long: i64::checked_mul,
    double: |a, b| a * b,
    decimal: Dec::mul,
    zero_negative: |a, b| a != b,
};

/// Applies `op` at the wider of the two types, widening further on overflow.
fn apply(op: &NumOp, a: Num, b: Num) -> QueryResult<Num> {
    if a.is_decimal() || b.is_decimal() {
        let result = (op.decimal)(a.to_dec()?, b.to_dec()?)?;
        let mut d = result.to_decimal128()?;
        if result.is_zero() && (op.zero_negative)(a.sign_negative(), b.sign_negative()) {
            d = negative_zero(d);
        }
        return Ok(Num::Decimal(d));
    }
    if a.is_double() || b.is_double() {
        return Ok(Num::Double((op.double)(a.to_f64(), b.to_f64())));
    }
    if let (Num::Int(x), Num::Int(y)) = (a, b) {
        if let Some(r) = (op.int)(x, y) {
            return Ok(Num::Int(r));
        }
    }
    let (x, y) = (a.as_long().unwrap_or(0), b.as_long().unwrap_or(0));
    Ok(match (op.long)(x, y) {
        Some(r) => Num::Long(r),
        None => Num::Double((op.double)(x as f64, y as f64)),
    })
}

/// Whether a value makes an arithmetic result null (wherever it stands in
/// the argument list: the server checks for null before types).
fn nullish(value: &Value<'_>) -> bool {
    matches!(value.as_deref(), None | Some(Bson::Null | Bson::Undefined))
}

/// Wraps a computed value.
fn some<'a>(value: Bson) -> QueryResult<Value<'a>> {
    Ok(Some(Cow::Owned(value)))
}

/// Milliseconds to add to a date for a number: doubles are truncated, as
/// the server does for `$add`.
fn millis_of(n: Num) -> QueryResult<i64> {
    match n {
        Num::Int(_) | Num::Long(_) => Ok(n.as_long().unwrap_or(0)),
        Num::Double(_) | Num::Decimal(_) => {
            let f = n.to_f64();
            if f.is_finite() && f.abs() < 9.2e18 {
                Ok(f.trunc() as i64)
            } else {
                Err(QueryError::new("date overflow"))
            }
        }
    }
}

/// Adds two numbers with the server's widening rules (for `$sum`/`$avg`).
pub(crate) fn add_numbers(a: Num, b: Num) -> QueryResult<Num> {
    apply(&ADD, a, b)
}

/// `$add`: numbers, and at most one date (the result is then a date).
pub(crate) fn add(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    if args.iter().any(nullish) {
        return some(Bson::Null);
    }
    let mut total = Num::Int(0);
    let mut date: Option<i64> = None;
    for arg in &args {
        let value = arg.as_deref();
        match value {
            Some(Bson::DateTime(d)) => {
                if date.is_some() {
                    return Err(QueryError::new(
                        "only one date allowed in an $add expression",
                    ));
                }
                date = Some(d.timestamp_millis());
            }
            Some(v) => match Num::of(v) {
                Some(n) => total = apply(&ADD, total, n)?,
                None => {
                    return Err(QueryError::new(format!(
                        "$add only supports numeric or date types, not {}",
                        type_name(value)
                    )))
                }
            },
            None => {}
        }
    }
    match date {
        None => some(total.into_bson()),
        Some(ms) => {
            let ms = ms
                .checked_add(millis_of(total)?)
                .ok_or_else(|| QueryError::new("date overflow in $add"))?;
            some(Bson::DateTime(DateTime::from_millis(ms)))
        }
    }
}

/// `$multiply`: numbers only.
pub(crate) fn multiply(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    if args.iter().any(nullish) {
        return some(Bson::Null);
    }
    let mut total = Num::Int(1);
    for arg in &args {
        let value = arg.as_deref();
        let n = value.and_then(Num::of).ok_or_else(|| {
            QueryError::new(format!(
                "$multiply only supports numeric types, not {}",
                type_name(value)
            ))
        })?;
        total = apply(&MUL, total, n)?;
    }
    some(total.into_bson())
}

/// The two arguments of a binary operator, or `None` when either is null.
fn binary<'a, 'b>(args: &'b [Value<'a>]) -> Option<(&'b Bson, &'b Bson)> {
    match args {
        [Some(a), Some(b)] if !matches!(**a, Bson::Null | Bson::Undefined) => {
            (!matches!(**b, Bson::Null | Bson::Undefined)).then_some((&**a, &**b))
        }
        _ => None,
    }
}

/// `$subtract`: numbers, a date minus a date (milliseconds, int64), or a
/// date minus a number (a date).
pub(crate) fn subtract(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let Some((a, b)) = binary(&args) else {
        return some(Bson::Null);
    };
    let result = match (a, b) {
        (Bson::DateTime(x), Bson::DateTime(y)) => x
            .timestamp_millis()
            .checked_sub(y.timestamp_millis())
            .map(Bson::Int64)
            .ok_or_else(|| QueryError::new("date overflow in $subtract"))?,
        (Bson::DateTime(x), _) if Num::of(b).is_some() => {
            let n = Num::of(b).unwrap_or(Num::Int(0));
            let ms = match n {
                // The server rounds a fractional number of milliseconds here.
                Num::Double(f) if f.is_finite() && f.abs() < 9.2e18 => f.round() as i64,
                _ => millis_of(n)?,
            };
            let ms = x
                .timestamp_millis()
                .checked_sub(ms)
                .ok_or_else(|| QueryError::new("date overflow in $subtract"))?;
            Bson::DateTime(DateTime::from_millis(ms))
        }
        _ => match (Num::of(a), Num::of(b)) {
            (Some(x), Some(y)) => apply(&SUB, x, y)?.into_bson(),
            _ => {
                return Err(QueryError::new(format!(
                    "can't $subtract {} from {}",
                    type_name(Some(b)),
                    type_name(Some(a))
                )))
            }
        },
    };
    some(result)
}

/// The two numeric arguments of `$divide`/`$mod`, or the server's error.
fn two_numbers(name: &str, a: &Bson, b: &Bson) -> QueryResult<(Num, Num)> {
    match (Num::of(a), Num::of(b)) {
        (Some(x), Some(y)) => Ok((x, y)),
        _ => Err(QueryError::new(format!(
            "{name} only supports numeric types, not {} and {}",
            type_name(Some(a)),
            type_name(Some(b))
        ))),
    }
}

/// Whether a divisor is zero (of any width).
fn is_zero(n: Num) -> QueryResult<bool> {
    Ok(match n {
        Num::Decimal(_) => n.to_dec()?.is_zero(),
        _ => n.to_f64() == 0.0,
    })
}

/// `$divide`: always a double, or a decimal if either side is one.
pub(crate) fn divide(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let Some((a, b)) = binary(&args) else {
        return some(Bson::Null);
    };
    let (x, y) = two_numbers("$divide", a, b)?;
    if is_zero(y)? {
        return Err(QueryError::new("can't $divide by zero"));
    }
    if x.is_decimal() || y.is_decimal() {
        let q = x.to_dec()?.div(y.to_dec()?)?;
        let mut d = q.to_decimal128()?;
        // The sign of a zero quotient is the operands' signs combined.
        if q.is_zero() && x.sign_negative() != y.sign_negative() {
            d = negative_zero(d);
        }
        return some(Bson::Decimal128(d));
    }
    some(Bson::Double(x.to_f64() / y.to_f64()))
}

/// `$mod`: the remainder with the dividend's sign, in the wider type.
pub(crate) fn modulo(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let Some((a, b)) = binary(&args) else {
        return some(Bson::Null);
    };
    let (x, y) = two_numbers("$mod", a, b)?;
    if is_zero(y)? {
        return Err(QueryError::new("can't $mod by zero"));
    }
    let result = match (x, y) {
        (Num::Decimal(_), _) | (_, Num::Decimal(_)) => {
            let dividend = x.to_dec()?;
            let remainder = dividend.rem(y.to_dec()?)?;
            let mut result = remainder.to_decimal128()?;
            // A zero remainder keeps the dividend's sign too (IEEE fmod):
            // {$mod: [-2, Decimal128("-0.5")]} is Decimal128("-0.0"), and so
            // is the remainder of a -0 dividend (whose sign Dec drops).
            if remainder.is_zero() && x.sign_negative() {
                result = negative_zero(result);
            }
            Bson::Decimal128(result)
        }
        (Num::Double(_), _) | (_, Num::Double(_)) => Bson::Double(x.to_f64() % y.to_f64()),
        (Num::Int(p), Num::Int(q)) => Bson::Int32(p.wrapping_rem(q)),
        _ => Bson::Int64(
            x.as_long()
                .unwrap_or(0)
                .wrapping_rem(y.as_long().unwrap_or(1)),
        ),
    };
    some(result)
}

/// `$abs`: int32's minimum widens to int64; int64's minimum has no absolute value.
pub(crate) fn abs(mut args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let arg = take(&mut args, 0);
    if nullish(&arg) {
        return some(Bson::Null);
    }
    let value = arg.as_deref();
    let n = value.and_then(Num::of).ok_or_else(|| {
        QueryError::new(format!(
            "$abs only supports numeric types, not {}",
            type_name(value)
        ))
    })?;
    let result = match n {
        Num::Int(i) => i
            .checked_abs()
            .map_or(Bson::Int64(-i64::from(i)), Bson::Int32),
        Num::Long(i) => Bson::Int64(
            i.checked_abs()
                .ok_or_else(|| QueryError::new("can't take $abs of long long min"))?,
        ),
        Num::Double(f) => Bson::Double(f.abs()),
        Num::Decimal(d) => match super::decimal::Dec::from_decimal128(&d) {
            Some(dec) => Bson::Decimal128(dec.abs().to_decimal128()?),
            None => Bson::Decimal128(d),
        },
    };
    some(result)
}
