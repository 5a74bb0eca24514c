//! Array access and construction: `$arrayElemAt`, `$first`, `$last`,
//! `$slice`, `$in`, `$indexOfArray`, `$concatArrays`, `$range`,
//! `$reverseArray`.
//!
//! Most return null for a null or missing array and refuse other
//! non-arrays; `$in`'s array must be there. Elements are found with
//! MongoDB equality (`1 == 1.0 == Long(1)`, NaN equal to NaN).

use std::borrow::Cow;

use bson::Bson;

use super::basic::compare_values;
use super::integral::integral_i32;
use super::ops::{take, type_name};
use super::Value;
use crate::{QueryError, QueryResult};

/// The most memory `$range` may build its array in, as the server counts
/// it (`internalQueryMaxRangeBytes`): a 24-byte vector plus 16 bytes per value.
const RANGE_MEMORY_LIMIT: i64 = 64 * 1024 * 1024;

/// Wraps a computed value.
fn some<'a>(value: Bson) -> QueryResult<Value<'a>> {
    Ok(Some(Cow::Owned(value)))
}

/// Whether a value is null, undefined or missing.
pub(crate) fn nullish(value: Option<&Bson>) -> bool {
    matches!(value, None | Some(Bson::Null | Bson::Undefined))
}

/// The elements of an array value.
fn items<'v>(value: &'v Value<'_>) -> &'v [Bson] {
    match value.as_deref() {
        Some(Bson::Array(items)) => items,
        _ => &[],
    }
}

/// The element at `i` of an array value, borrowed or moved out of it.
fn element_at(array: Value<'_>, i: usize) -> Value<'_> {
    match array? {
        Cow::Borrowed(Bson::Array(items)) => items.get(i).map(Cow::Borrowed),
        Cow::Owned(Bson::Array(items)) => items.into_iter().nth(i).map(Cow::Owned),
        _ => None,
    }
}

/// Elements `start..end` of an array value.
fn sub_array(array: &Value<'_>, start: usize, end: usize) -> Bson {
    Bson::Array(items(array).get(start..end).unwrap_or_default().to_vec())
}

/// An index counted from the end when negative: `None` when it falls
/// before the start.
fn from_end(index: i32, len: usize) -> Option<usize> {
    match usize::try_from(index) {
        Ok(i) => Some(i),
        Err(_) => len.checked_sub(index.unsigned_abs() as usize),
    }
}

/// `$arrayElemAt: [array, index]`: a negative index counts from the end;
/// an index out of range gives missing.
pub(crate) fn array_elem_at(mut args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let (array, index) = (take(&mut args, 0), take(&mut args, 1));
    if nullish(array.as_deref()) || nullish(index.as_deref()) {
        return some(Bson::Null);
    }
    let Some(Bson::Array(list)) = array.as_deref() else {
        return Err(QueryError::new(format!(
            "$arrayElemAt's first argument must be an array, but is {}",
            type_name(array.as_deref())
        )));
    };
    let len = list.len();
    let index = index.as_deref().unwrap_or(&Bson::Null);
    if !matches!(
        index,
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_)
    ) {
        return Err(QueryError::new(format!(
            "$arrayElemAt's second argument must be a numeric value, but is {}",
            type_name(Some(index))
        )));
    }
    let i = integral_i32(index).ok_or_else(|| {
        QueryError::new(format!(
            "$arrayElemAt's second argument must be representable as a 32-bit integer: {index}"
        ))
    })?;
    Ok(from_end(i, len).and_then(|i| element_at(array, i)))
}

/// `$first` (`last == false`) and `$last` of an array: null for null or
/// missing, missing for an empty array.
fn end_element<'a>(name: &str, mut args: Vec<Value<'a>>, last: bool) -> QueryResult<Value<'a>> {
    let array = take(&mut args, 0);
    match array.as_deref() {
        None | Some(Bson::Null | Bson::Undefined) => some(Bson::Null),
        Some(Bson::Array(list)) => {
            let i = if last {
                list.len().checked_sub(1)
            } else {
                Some(0)
            };
            Ok(i.and_then(|i| element_at(array, i)))
        }
        other => Err(QueryError::new(format!(
            "{name}'s argument must be an array, but is {}",
            type_name(other)
        ))),
    }
}

/// `$first`.
pub(crate) fn first(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    end_element("$first", args, false)
}

/// `$last`.
pub(crate) fn last(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    end_element("$last", args, true)
}

/// A numeric `$slice` argument as an `i32`, or the server's errors.
fn slice_int(value: &Bson, ordinal: &str) -> QueryResult<i32> {
    if !matches!(
        value,
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_)
    ) {
        let article = if ordinal == "Second" {
            "must be a numeric value, but is of type:"
        } else {
            "must be numeric, but is of type:"
        };
        return Err(QueryError::new(format!(
            "{ordinal} argument to $slice {article} {}",
            type_name(Some(value))
        )));
    }
    integral_i32(value).ok_or_else(|| {
        QueryError::new(format!(
            "{ordinal} argument to $slice can't be represented as a 32-bit integer: {value}"
        ))
    })
}

/// `$slice: [array, n]` (the first n, or the last -n) or
/// `$slice: [array, position, n]` (n > 0 elements from position, which
/// counts from the end when negative).
pub(crate) fn slice(mut args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let count_given = args.len() == 3;
    let (array, second) = (take(&mut args, 0), take(&mut args, 1));
    if nullish(array.as_deref()) || nullish(second.as_deref()) {
        return some(Bson::Null);
    }
    let Some(Bson::Array(list)) = array.as_deref() else {
        return Err(QueryError::new(format!(
            "First argument to $slice must be an array, but is of type: {}",
            type_name(array.as_deref())
        )));
    };
    let len = list.len();
    let second = slice_int(second.as_deref().unwrap_or(&Bson::Null), "Second")?;
    let (start, end) = if !count_given {
        match usize::try_from(second) {
            Ok(n) => (0, n.min(len)),
            // The last |n|, or everything when |n| exceeds the length.
            Err(_) => (from_end(second, len).unwrap_or(0), len),
        }
    } else {
        let start = match usize::try_from(second) {
            Ok(p) => p.min(len),
            Err(_) => from_end(second, len).unwrap_or(0),
        };
        let third = take(&mut args, 2);
        if nullish(third.as_deref()) {
            return some(Bson::Null);
        }
        let n = slice_int(third.as_deref().unwrap_or(&Bson::Null), "Third")?;
        let n = usize::try_from(n).ok().filter(|n| *n > 0).ok_or_else(|| {
            QueryError::new(format!("Third argument to $slice must be positive: {n}"))
        })?;
        (start, start.saturating_add(n).min(len))
    };
    some(sub_array(&array, start, end))
}

/// `$in: [value, array]`: whether the array holds the value.
pub(crate) fn in_array(mut args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let (value, array) = (take(&mut args, 0), take(&mut args, 1));
    let Some(Bson::Array(list)) = array.as_deref() else {
        return Err(QueryError::new(format!(
            "$in requires an array as a second argument, found: {}",
            type_name(array.as_deref())
        )));
    };
    let found = list
        .iter()
        .any(|item| compare_values(value.as_deref(), Some(item)).is_eq());
    some(Bson::Boolean(found))
}

/// A start or end index of `$indexOfArray`: a non-negative integer.
fn search_bound(value: Option<&Bson>, what: &str) -> QueryResult<usize> {
    let shown = value.map_or_else(|| "missing".to_owned(), ToString::to_string);
    let i = value.and_then(integral_i32).ok_or_else(|| {
        QueryError::new(format!(
            "$indexOfArray requires an integral {what}, found a value of type: {}, with value: \
             {shown}",
            type_name(value)
        ))
    })?;
    usize::try_from(i).map_err(|_| {
        QueryError::new(format!(
            "$indexOfArray requires a nonnegative {what}, found: {shown}"
        ))
    })
}

/// `$indexOfArray: [array, value, start?, end?]`: the first index (an
/// int) in `start..end` holding the value, or -1.
pub(crate) fn index_of_array(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let get = |i: usize| args.get(i).and_then(|v| v.as_deref());
    let list = match get(0) {
        None | Some(Bson::Null | Bson::Undefined) => return some(Bson::Null),
        Some(Bson::Array(list)) => list,
        other => {
            return Err(QueryError::new(format!(
                "$indexOfArray requires an array as a first argument, found: {}",
                type_name(other)
            )))
        }
    };
    let start = if args.len() > 2 {
        search_bound(get(2), "starting index")?
    } else {
        0
    };
    let end = if args.len() > 3 {
        search_bound(get(3), "ending index")?.min(list.len())
    } else {
        list.len()
    };
    let target = get(1);
    let found = list
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .position(|item| compare_values(Some(item), target).is_eq())
        .map_or(-1, |i| i64::try_from(start + i).unwrap_or(-1));
    some(i32::try_from(found).map_or(Bson::Int64(found), Bson::Int32))
}

/// `$concatArrays`: the arrays' elements in order; null if any is null or
/// missing (checked in order, so an earlier non-array is still an error).
pub(crate) fn concat_arrays(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let mut out = Vec::new();
    for arg in &args {
        match arg.as_deref() {
            None | Some(Bson::Null | Bson::Undefined) => return some(Bson::Null),
            Some(Bson::Array(list)) => out.extend(list.iter().cloned()),
            other => {
                return Err(QueryError::new(format!(
                    "$concatArrays only supports arrays, not {}",
                    type_name(other)
                )))
            }
        }
    }
    some(Bson::Array(out))
}

/// One bound of `$range` as an `i32`, or the server's errors.
fn range_bound(value: Option<&Bson>, what: &str) -> QueryResult<i64> {
    let numeric = matches!(
        value,
        Some(Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_))
    );
    if !numeric {
        return Err(QueryError::new(format!(
            "$range requires a numeric {what} value, found value of type: {}",
            type_name(value)
        )));
    }
    value.and_then(integral_i32).map(i64::from).ok_or_else(|| {
        let shown = value.map_or_else(String::new, ToString::to_string);
        QueryError::new(format!(
            "$range requires a {what} value that can be represented as a 32-bit integer, found \
             value: {shown}"
        ))
    })
}

/// `$range: [start, end, step?]`: ints from start towards end (excluded).
pub(crate) fn range(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let get = |i: usize| args.get(i).and_then(|v| v.as_deref());
    let start = range_bound(get(0), "starting")?;
    let end = range_bound(get(1), "ending")?;
    let step = if args.len() > 2 {
        range_bound(get(2), "step")?
    } else {
        1
    };
    if step == 0 {
        return Err(QueryError::new("$range requires a non-zero step value"));
    }
    // The server's memory estimate, which refuses ranges past ~4 million values.
    let steps = (end - start) / step;
    let length = if steps >= 0 { steps + 1 } else { 0 };
    let memory = 24 + length * 16;
    if memory >= RANGE_MEMORY_LIMIT {
        return Err(QueryError::new(format!(
            "$range would use too much memory ({memory} bytes) and cannot spill to disk. Memory \
             limit: {RANGE_MEMORY_LIMIT} bytes"
        )));
    }
    let mut out = Vec::new();
    let mut current = start;
    while (step > 0 && current < end) || (step < 0 && current > end) {
        // `current` stays within i32 here: it lies strictly between the bounds.
        out.push(i32::try_from(current).map_or(Bson::Int64(current), Bson::Int32));
        current += step;
    }
    some(Bson::Array(out))
}

/// `$reverseArray`.
pub(crate) fn reverse_array(mut args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let array = take(&mut args, 0);
    match array.as_deref() {
        None | Some(Bson::Null | Bson::Undefined) => some(Bson::Null),
        Some(Bson::Array(list)) => some(Bson::Array(list.iter().rev().cloned().collect())),
        other => Err(QueryError::new(format!(
            "The argument to $reverseArray must be an array, but was of type: {}",
            type_name(other)
        ))),
    }
}
