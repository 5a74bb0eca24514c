//! Type conversion: `$convert` and its shorthands `$toBool`, `$toDate`,
//! `$toDecimal`, `$toDouble`, `$toInt`, `$toLong`, `$toObjectId`,
//! `$toString`, with the server's rules: doubles and decimals truncate
//! toward zero and must fit the target, strings must be base-10 numerals
//! of the target's kind (`"1.5"` is no int), every non-numeric value is
//! `true`, and only an int64 (not an int32) counts as epoch milliseconds.

use std::sync::Arc;

use bson::oid::ObjectId;
use bson::{Bson, Decimal128};

use super::args::{integral, is_nullish, null, owned, required, NamedArgs, TWO_POW_63};
use super::date::date;
use super::date::format::{format_date, ISO_FORMAT_UTC};
use super::date::parse::parse_date;
use super::date::zone::Zone;
use super::decimal::Dec;
use super::numtext::{double_to_string, parse_decimal, parse_double, parse_integer};
use super::ops::{take, type_name};
use super::special::SpecialForm;
use super::{Ctx, Node, Scope, Value};
use crate::compare::decimal_to_f64;
use crate::{QueryError, QueryResult};

/// A conversion target: a BSON type, by its `$type` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Target(&'static str);

/// Every BSON type name with its numeric code, as `to` accepts them.
const TYPES: [(&str, i64); 21] = [
    ("double", 1),
    ("string", 2),
    ("object", 3),
    ("array", 4),
    ("binData", 5),
    ("undefined", 6),
    ("objectId", 7),
    ("bool", 8),
    ("date", 9),
    ("null", 10),
    ("regex", 11),
    ("dbPointer", 12),
    ("javascript", 13),
    ("symbol", 14),
    ("javascriptWithScope", 15),
    ("int", 16),
    ("timestamp", 17),
    ("long", 18),
    ("decimal", 19),
    ("minKey", -1),
    ("maxKey", 127),
];

impl Target {
    /// The target a `to` value names: a type name or a numeric type code.
    /// A bad `to` is an error `onError` does not catch.
    fn of(value: &Bson) -> QueryResult<Target> {
        match value {
            Bson::String(name) => TYPES
                .iter()
                .find(|(n, _)| n == name)
                .map(|(n, _)| Target(n))
                .ok_or_else(|| QueryError::new(format!("Unknown type name: {name}"))),
            Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_) => {
                let code = integral(value).ok_or_else(|| {
                    QueryError::new("In $convert, numeric 'to' argument is not an integer")
                })?;
                TYPES
                    .iter()
                    .find(|(_, c)| *c == code)
                    .map(|(n, _)| Target(n))
                    .ok_or_else(|| {
                        QueryError::new(format!(
                            "In $convert, numeric value for 'to' does not correspond to a BSON \
                             type: {code}"
                        ))
                    })
            }
            other => Err(QueryError::new(format!(
                "$convert's 'to' argument must be a string or number, but is {}",
                type_name(Some(other))
            ))),
        }
    }
}

/// A conversion failure, in the server's words.
fn failure(detail: &str) -> QueryError {
    QueryError::new(format!("{detail} in $convert with no onError value"))
}

/// The failure for a pair of types with no conversion.
fn unsupported(value: &Bson, target: Target) -> QueryError {
    failure(&format!(
        "Unsupported conversion from {} to {}",
        type_name(Some(value)),
        target.0
    ))
}

/// The failure for a number too large for the target.
fn overflow() -> QueryError {
    failure("Conversion would overflow target type")
}

/// The failure for a string that is not a numeral of the target's kind.
fn bad_number(text: &str, reason: &str) -> QueryError {
    QueryError::new(format!(
        "Failed to parse number '{text}' in $convert with no onError value: {reason}"
    ))
}

/// A double or decimal truncated toward zero into `[min, max]`.
fn truncate(value: &Bson, min: i64, max: i64) -> QueryResult<i64> {
    let n = match value {
        Bson::Double(f) if f.is_nan() => {
            return Err(failure("Attempt to convert NaN value to integer type"))
        }
        Bson::Double(f) if f.is_infinite() => {
            return Err(failure("Attempt to convert infinity value to integer type"))
        }
        // Doubles at or past ±2^63 do not fit any target here.
        Bson::Double(f) if f.abs() >= TWO_POW_63 => return Err(overflow()),
        Bson::Double(f) => f.trunc() as i64,
        Bson::Decimal128(d) => match Dec::from_decimal128(d) {
            Some(dec) => dec.trunc_to_i64().ok_or_else(overflow)?,
            None if decimal_to_f64(d).is_nan() => {
                return Err(failure("Attempt to convert NaN value to integer type"))
            }
            None => return Err(failure("Attempt to convert infinity value to integer type")),
        },
        _ => return Err(overflow()),
    };
    if (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(overflow())
    }
}

/// Converts to a 64-bit integer within `[min, max]` (int or long target).
fn to_integer(value: &Bson, target: Target, min: i64, max: i64) -> QueryResult<i64> {
    let n = match value {
        Bson::Boolean(b) => i64::from(*b),
        Bson::Int32(i) => i64::from(*i),
        Bson::Int64(i) => *i,
        Bson::Double(_) | Bson::Decimal128(_) => return truncate(value, min, max),
        Bson::String(text) => {
            let n = parse_integer(text).map_err(|reason| bad_number(text, reason))?;
            return if (min..=max).contains(&n) {
                Ok(n)
            } else {
                Err(bad_number(text, "Overflow"))
            };
        }
        Bson::DateTime(d) if target.0 == "long" => d.timestamp_millis(),
        _ => return Err(unsupported(value, target)),
    };
    if (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(overflow())
    }
}

/// A decimal from a double, rounded to 15 significant digits as the
/// server converts it.
fn decimal_of_double(f: f64) -> QueryResult<Decimal128> {
    if f.is_nan() {
        return "NaN".parse().map_err(|_| overflow());
    }
    if f.is_infinite() {
        let text = if f > 0.0 { "Infinity" } else { "-Infinity" };
        return text.parse().map_err(|_| overflow());
    }
    if f == 0.0 && f.is_sign_negative() {
        // The decimal keeps the sign of a negative zero.
        return "-0".parse().map_err(|_| overflow());
    }
    Dec::from_f64(f)?.to_decimal128()
}

/// Converts a non-null value to `target`; every error is a conversion
/// failure (which `onError` catches).
pub(crate) fn convert(value: &Bson, target: Target) -> QueryResult<Bson> {
    Ok(match target.0 {
        "double" => Bson::Double(match value {
            Bson::Double(f) => *f,
            Bson::Int32(i) => f64::from(*i),
            Bson::Int64(i) => *i as f64,
            Bson::Decimal128(d) => {
                let f = decimal_to_f64(d);
                if f.is_infinite() && Dec::from_decimal128(d).is_some() {
                    return Err(overflow());
                }
                f
            }
            Bson::Boolean(b) => f64::from(u8::from(*b)),
            Bson::String(text) => parse_double(text).map_err(|reason| bad_number(text, reason))?,
            Bson::DateTime(d) => d.timestamp_millis() as f64,
            _ => return Err(unsupported(value, target)),
        }),
        "int" => {
            let n = to_integer(value, target, i64::from(i32::MIN), i64::from(i32::MAX))?;
            Bson::Int32(i32::try_from(n).map_err(|_| overflow())?)
        }
        "long" => Bson::Int64(to_integer(value, target, i64::MIN, i64::MAX)?),
        "decimal" => Bson::Decimal128(match value {
            Bson::Decimal128(d) => *d,
            Bson::Int32(i) => Dec::from_i64(i64::from(*i)).to_decimal128()?,
            Bson::Int64(i) => Dec::from_i64(*i).to_decimal128()?,
            Bson::Double(f) => decimal_of_double(*f)?,
            Bson::Boolean(b) => Dec::from_i64(i64::from(*b)).to_decimal128()?,
            Bson::String(text) => parse_decimal(text).map_err(|reason| bad_number(text, reason))?,
            Bson::DateTime(d) => Dec::from_i64(d.timestamp_millis()).to_decimal128()?,
            _ => return Err(unsupported(value, target)),
        }),
        "bool" => Bson::Boolean(match value {
            Bson::Boolean(b) => *b,
            Bson::Int32(i) => *i != 0,
            Bson::Int64(i) => *i != 0,
            Bson::Double(f) => *f != 0.0,
            Bson::Decimal128(d) => Dec::from_decimal128(d).is_none_or(|dec| !dec.is_zero()),
            // Every other value, the empty string included, is true.
            _ => true,
        }),
        "string" => Bson::String(match value {
            Bson::String(s) => s.clone(),
            Bson::Boolean(b) => b.to_string(),
            Bson::Int32(i) => i.to_string(),
            Bson::Int64(i) => i.to_string(),
            Bson::Double(f) => double_to_string(*f),
            Bson::Decimal128(d) => d.to_string(),
            Bson::ObjectId(oid) => oid.to_hex(),
            Bson::DateTime(d) => format_date(ISO_FORMAT_UTC, d.timestamp_millis(), &Zone::Utc)?,
            _ => return Err(unsupported(value, target)),
        }),
        "objectId" => match value {
            Bson::ObjectId(oid) => Bson::ObjectId(*oid),
            Bson::String(text) => Bson::ObjectId(object_id(text)?),
            _ => return Err(unsupported(value, target)),
        },
        "date" => match value {
            Bson::DateTime(d) => Bson::DateTime(*d),
            Bson::Int64(ms) => date(*ms),
            Bson::Double(_) | Bson::Decimal128(_) => date(truncate(value, i64::MIN, i64::MAX)?),
            Bson::Timestamp(ts) => date(i64::from(ts.time) * 1000),
            Bson::ObjectId(oid) => Bson::DateTime(oid.timestamp()),
            Bson::String(text) => date(parse_date(text, None, None)?),
            _ => return Err(unsupported(value, target)),
        },
        _ => return Err(unsupported(value, target)),
    })
}

/// An ObjectId from 24 hex digits.
fn object_id(text: &str) -> QueryResult<ObjectId> {
    let fail = |reason: String| {
        QueryError::new(format!(
            "Failed to parse objectId '{text}' in $convert with no onError value: {reason}"
        ))
    };
    if text.len() != 24 {
        return Err(fail(format!(
            "Invalid string length for parsing to OID, expected 24 but found {}",
            text.len()
        )));
    }
    if let Some(bad) = text.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(fail(format!(
            "Invalid character found in hex string: {bad}"
        )));
    }
    ObjectId::parse_str(text).map_err(|e| fail(e.to_string()))
}

/// `$convert: {input, to, onError, onNull}`.
#[derive(Debug)]
struct Convert {
    /// The value to convert.
    input: Node,
    /// The target type.
    to: Node,
    /// The result when the conversion fails, if given.
    on_error: Option<Node>,
    /// The result for a null or missing input, if given.
    on_null: Option<Node>,
}

impl SpecialForm for Convert {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let to = self.to.eval(ctx)?;
        let input = self.input.eval(ctx)?;
        let target = match to.as_deref() {
            None | Some(Bson::Null | Bson::Undefined) => None,
            Some(value) => Some(Target::of(value)?),
        };
        let Some(input) = input.filter(|v| !is_nullish(Some(v))) else {
            return match &self.on_null {
                Some(node) => node.eval(ctx),
                None => null(),
            };
        };
        let Some(target) = target else { return null() };
        match (convert(&input, target), &self.on_error) {
            (Ok(value), _) => owned(value),
            (Err(_), Some(node)) => node.eval(ctx),
            (Err(err), None) => Err(err),
        }
    }
}

/// Parses `$convert`.
pub(crate) fn parse_convert(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let mut args = NamedArgs::parse(
        "$convert",
        arg,
        &["input", "to", "onError", "onNull"],
        &["input", "to"],
        scope,
    )?;
    Ok(Node::Special(Arc::new(Convert {
        input: required(&mut args, 0),
        to: required(&mut args, 1),
        on_error: args.take(2),
        on_null: args.take(3),
    })))
}

/// A `$to…` shorthand: `$convert` to `target` with null for null.
fn shorthand<'a>(mut args: Vec<Value<'a>>, target: &'static str) -> QueryResult<Value<'a>> {
    let arg = take(&mut args, 0);
    match arg.as_deref() {
        Some(value) if !is_nullish(Some(value)) => owned(convert(value, Target(target))?),
        _ => null(),
    }
}

/// `$toBool`.
pub(crate) fn to_bool(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    shorthand(args, "bool")
}

/// `$toDate`.
pub(crate) fn to_date(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    shorthand(args, "date")
}

/// `$toDecimal`.
pub(crate) fn to_decimal(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    shorthand(args, "decimal")
}

/// `$toDouble`.
pub(crate) fn to_double(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    shorthand(args, "double")
}

/// `$toInt`.
pub(crate) fn to_int(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    shorthand(args, "int")
}

/// `$toLong`.
pub(crate) fn to_long(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    shorthand(args, "long")
}

/// `$toObjectId`.
pub(crate) fn to_object_id(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    shorthand(args, "objectId")
}

/// `$toString`.
pub(crate) fn to_string(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    shorthand(args, "string")
}
