//! Positions in strings: `$substrBytes`, `$substrCP`, `$indexOfBytes` and
//! `$indexOfCP`. The `Bytes` forms count UTF-8 bytes (and refuse to cut a
//! character in two), the `CP` forms count code points.

use bson::Bson;

use super::args::{is_nullish, null, owned};
use super::ops::{take, type_name};
use super::strings::coerce_to_string;
use super::Value;
use crate::{QueryError, QueryResult};

/// Whether a byte continues a multi-byte UTF-8 character.
fn is_continuation(byte: u8) -> bool {
    byte & 0xC0 == 0x80
}

/// A `$substrBytes` index or length: a number, truncated to an integer.
fn byte_number(what: &str, value: Option<&Bson>) -> QueryResult<i64> {
    let n = match value {
        Some(Bson::Int32(i)) => i64::from(*i),
        Some(Bson::Int64(i)) => *i,
        // Saturating, as a C++ cast of an out-of-range double would clamp here.
        Some(Bson::Double(f)) => f.trunc() as i64,
        other => {
            return Err(QueryError::new(format!(
                "$substrBytes:  {what} must be a numeric type (is BSON type {})",
                type_name(other)
            )))
        }
    };
    Ok(n)
}

/// `$substrBytes: [string, start, length]`: a negative length means "to
/// the end"; null input is the empty string.
pub(crate) fn substr_bytes(mut args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let text = coerce_to_string(take(&mut args, 0).as_deref())?;
    let start = byte_number("starting index", take(&mut args, 1).as_deref())?;
    let length = byte_number("length", take(&mut args, 2).as_deref())?;
    let start = usize::try_from(start).map_err(|_| {
        QueryError::new(format!(
            "$substrBytes:  starting index must be non-negative (got: {start})"
        ))
    })?;
    let bytes = text.as_bytes();
    let length = usize::try_from(length).unwrap_or(bytes.len());
    if bytes.get(start).is_some_and(|b| is_continuation(*b)) {
        return Err(QueryError::new(
            "$substrBytes:  Invalid range, starting index is a UTF-8 continuation byte.",
        ));
    }
    let end = start.saturating_add(length);
    if bytes.get(end).is_some_and(|b| is_continuation(*b)) {
        return Err(QueryError::new(
            "$substrBytes:  Invalid range, ending index is in the middle of a UTF-8 character.",
        ));
    }
    let piece = text.get(start..end.min(bytes.len())).unwrap_or_default();
    owned(Bson::String(piece.to_owned()))
}

/// A `$substrCP` index or length: any number with an integral value that
/// fits in 32 bits.
fn code_point_number(what: &str, value: Option<&Bson>) -> QueryResult<i64> {
    let Some(v) = value.filter(|v| {
        matches!(
            v,
            Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_)
        )
    }) else {
        return Err(QueryError::new(format!(
            "$substrCP: {what} must be a numeric type (is BSON type {})",
            type_name(value)
        )));
    };
    super::args::integral(v)
        .filter(|n| i32::try_from(*n).is_ok())
        .ok_or_else(|| {
            QueryError::new(format!(
                "$substrCP: {what} cannot be represented as a 32-bit integral value: {v}"
            ))
        })
}

/// `$substrCP: [string, start, count]` in code points; null input is the
/// empty string.
pub(crate) fn substr_cp(mut args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let text = coerce_to_string(take(&mut args, 0).as_deref())?;
    let start = code_point_number("starting index", take(&mut args, 1).as_deref())?;
    let length = code_point_number("length", take(&mut args, 2).as_deref())?;
    if length < 0 {
        return Err(QueryError::new(
            "$substrCP: length must be a nonnegative integer.",
        ));
    }
    if start < 0 {
        return Err(QueryError::new(
            "$substrCP: the starting index must be nonnegative integer.",
        ));
    }
    // Both are below 2^31 now.
    let piece: String = text
        .chars()
        .skip(start as usize)
        .take(length as usize)
        .collect();
    owned(Bson::String(piece))
}

/// A start or end index of `$indexOfBytes`/`$indexOfCP`.
fn index_arg(op: &str, what: &str, value: Option<&Bson>) -> QueryResult<usize> {
    let n = value
        .filter(|v| !matches!(v, Bson::Boolean(_)))
        .and_then(super::args::integral)
        .filter(|n| i32::try_from(*n).is_ok())
        .ok_or_else(|| {
            let shown = value.map_or_else(|| "missing".to_owned(), ToString::to_string);
            QueryError::new(format!(
                "{op} requires an integral {what}, found a value of type: {}, with value: {shown}",
                type_name(value)
            ))
        })?;
    usize::try_from(n)
        .map_err(|_| QueryError::new(format!("{op} requires a nonnegative {what}, found: {n}")))
}

/// The evaluated arguments of an `$indexOf…` call, or `None` for a null
/// string (the result is then null).
struct IndexOfArgs {
    /// The string searched.
    input: String,
    /// The string sought.
    token: String,
    /// Where the search starts, if given.
    start: Option<usize>,
    /// Where the search ends, if given.
    end: Option<usize>,
}

/// Checks and unpacks the arguments of `$indexOfBytes`/`$indexOfCP`.
fn index_of_args(op: &str, mut args: Vec<Value<'_>>) -> QueryResult<Option<IndexOfArgs>> {
    let input = take(&mut args, 0);
    if is_nullish(input.as_deref()) {
        return Ok(None);
    }
    let Some(Bson::String(input)) = input.as_deref() else {
        return Err(QueryError::new(format!(
            "{op} requires a string as the first argument, found: {}",
            type_name(input.as_deref())
        )));
    };
    let token = take(&mut args, 1);
    let Some(Bson::String(token)) = token.as_deref() else {
        return Err(QueryError::new(format!(
            "{op} requires a string as the second argument, found: {}",
            type_name(token.as_deref())
        )));
    };
    let start = match args.len() > 2 {
        true => Some(index_arg(
            op,
            "starting index",
            take(&mut args, 2).as_deref(),
        )?),
        false => None,
    };
    let end = match args.len() > 3 {
        true => Some(index_arg(
            op,
            "ending index",
            take(&mut args, 3).as_deref(),
        )?),
        false => None,
    };
    Ok(Some(IndexOfArgs {
        input: input.clone(),
        token: token.clone(),
        start,
        end,
    }))
}

/// The first position of `token` in `units[start..end]`, searching whole
/// units (bytes or code points).
fn find_units<T: PartialEq>(units: &[T], token: &[T], start: usize, end: Option<usize>) -> i64 {
    let end = end.map_or(units.len(), |e| e.min(units.len()));
    if start > units.len() || end < start {
        return -1;
    }
    let Some(last) = end.checked_sub(token.len()) else {
        return -1;
    };
    (start..=last)
        .find(|&i| units.get(i..i + token.len()) == Some(token))
        .map_or(-1, |i| i as i64)
}

/// An index result as an int.
fn index_result<'a>(position: i64) -> QueryResult<Value<'a>> {
    owned(i32::try_from(position).map_or(Bson::Int64(position), Bson::Int32))
}

/// `$indexOfBytes: [string, token, start?, end?]`: the UTF-8 byte index of
/// the first occurrence, or -1.
pub(crate) fn index_of_bytes(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let Some(a) = index_of_args("$indexOfBytes", args)? else {
        return null();
    };
    let position = find_units(
        a.input.as_bytes(),
        a.token.as_bytes(),
        a.start.unwrap_or(0),
        a.end,
    );
    index_result(position)
}

/// `$indexOfCP: [string, token, start?, end?]`: the code point index of the
/// first occurrence, or -1.
pub(crate) fn index_of_cp(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let Some(a) = index_of_args("$indexOfCP", args)? else {
        return null();
    };
    let input: Vec<char> = a.input.chars().collect();
    let token: Vec<char> = a.token.chars().collect();
    index_result(find_units(&input, &token, a.start.unwrap_or(0), a.end))
}
