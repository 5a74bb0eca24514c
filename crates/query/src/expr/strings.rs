//! String operators with positional arguments: `$concat`, `$toLower`,
//! `$toUpper`, `$strcasecmp`, `$strLenBytes`, `$strLenCP`, `$split`, and
//! the string coercion several string operators share.
//!
//! Case mapping is ASCII-only, as the server's is: `$toUpper` leaves `é`
//! and `ß` alone.

use std::cmp::Ordering;

use bson::Bson;

use super::args::{is_nullish, null, owned};
use super::date::civil::Civil;
use super::date::format::{format_date, ISO_FORMAT_UTC, MONTHS};
use super::date::zone::Zone;
use super::numtext::double_to_g;
use super::ops::{take, type_name};
use super::Value;
use crate::{QueryError, QueryResult};

/// A value as text, as the server coerces it for the string operators
/// (`$toLower`, `$substrCP`, `$strcasecmp`, …): null and missing are the
/// empty string, numbers and dates print, booleans and containers refuse.
pub(crate) fn coerce_to_string(value: Option<&Bson>) -> QueryResult<String> {
    Ok(match value {
        None | Some(Bson::Null | Bson::Undefined) => String::new(),
        Some(Bson::String(s) | Bson::Symbol(s) | Bson::JavaScriptCode(s)) => s.clone(),
        Some(Bson::Int32(i)) => i.to_string(),
        Some(Bson::Int64(i)) => i.to_string(),
        Some(Bson::Double(f)) => double_to_g(*f),
        Some(Bson::Decimal128(d)) => d.to_string(),
        Some(Bson::DateTime(d)) => format_date(ISO_FORMAT_UTC, d.timestamp_millis(), &Zone::Utc)?,
        Some(Bson::Timestamp(ts)) => {
            // "Mon dd hh:mm:ss:increment", the day padded with a space.
            let c = Civil::from_local_ms(i128::from(ts.time) * 1000);
            let month = MONTHS
                .get(c.month as usize - 1)
                .copied()
                .unwrap_or_default();
            format!(
                "{} {:>2} {:02}:{:02}:{:02}:{}",
                month.get(..3).unwrap_or(month),
                c.day,
                c.hour,
                c.minute,
                c.second,
                ts.increment
            )
        }
        Some(other) => {
            return Err(QueryError::new(format!(
                "can't convert from BSON type {} to String",
                type_name(Some(other))
            )))
        }
    })
}

/// `$concat`: strings only; a null or missing argument makes the result
/// null, an argument of another type is an error (checked left to right).
pub(crate) fn concat(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let mut out = String::new();
    for arg in &args {
        match arg.as_deref() {
            None | Some(Bson::Null | Bson::Undefined) => return null(),
            Some(Bson::String(s)) => out.push_str(s),
            other => {
                return Err(QueryError::new(format!(
                    "$concat only supports strings, not {}",
                    type_name(other)
                )))
            }
        }
    }
    owned(Bson::String(out))
}

/// `$toLower`: the coerced string with ASCII letters lowered.
pub(crate) fn to_lower(mut args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let text = coerce_to_string(take(&mut args, 0).as_deref())?;
    owned(Bson::String(text.to_ascii_lowercase()))
}

/// `$toUpper`: the coerced string with ASCII letters raised.
pub(crate) fn to_upper(mut args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let text = coerce_to_string(take(&mut args, 0).as_deref())?;
    owned(Bson::String(text.to_ascii_uppercase()))
}

/// `$strcasecmp`: -1, 0 or 1 comparing the coerced strings with ASCII
/// letters upper-cased, byte by byte.
pub(crate) fn strcasecmp(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let text = |i: usize| -> QueryResult<String> {
        Ok(coerce_to_string(args.get(i).and_then(|v| v.as_deref()))?.to_ascii_uppercase())
    };
    let n = match text(0)?.as_bytes().cmp(text(1)?.as_bytes()) {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    };
    owned(Bson::Int32(n))
}

/// The string argument of `$strLenBytes`/`$strLenCP` (null is an error).
fn length_arg<'v>(op: &str, value: Option<&'v Bson>) -> QueryResult<&'v str> {
    match value {
        Some(Bson::String(s)) => Ok(s),
        other => Err(QueryError::new(format!(
            "{op} requires a string argument, found: {}",
            type_name(other)
        ))),
    }
}

/// A length as an int.
fn length(n: usize) -> QueryResult<Value<'static>> {
    owned(i32::try_from(n).map_or(Bson::Int64(n as i64), Bson::Int32))
}

/// `$strLenBytes`: the UTF-8 length.
pub(crate) fn str_len_bytes(mut args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let arg = take(&mut args, 0);
    length(length_arg("$strLenBytes", arg.as_deref())?.len())
}

/// `$strLenCP`: the number of code points.
pub(crate) fn str_len_cp(mut args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let arg = take(&mut args, 0);
    length(length_arg("$strLenCP", arg.as_deref())?.chars().count())
}

/// `$split: [string, delimiter]`: the pieces between delimiters, empty
/// ones included.
pub(crate) fn split(mut args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let input = take(&mut args, 0);
    let delimiter = take(&mut args, 1);
    if is_nullish(input.as_deref()) || is_nullish(delimiter.as_deref()) {
        return null();
    }
    let Some(Bson::String(input)) = input.as_deref() else {
        return Err(QueryError::new(format!(
            "$split requires an expression that evaluates to a string as a first argument, \
             found: {}",
            type_name(input.as_deref())
        )));
    };
    let Some(Bson::String(delimiter)) = delimiter.as_deref() else {
        return Err(QueryError::new(format!(
            "$split requires an expression that evaluates to a string as a second argument, \
             found: {}",
            type_name(delimiter.as_deref())
        )));
    };
    if delimiter.is_empty() {
        return Err(QueryError::new("$split requires a non-empty separator"));
    }
    let pieces = input
        .split(delimiter.as_str())
        .map(|piece| Bson::String(piece.to_owned()))
        .collect();
    owned(Bson::Array(pieces))
}
