//! Comparison, boolean, array-size and type operators.

use std::borrow::Cow;
use std::cmp::Ordering;

use bson::Bson;

use super::ops::{take, type_name};
use super::{is_truthy, Value};
use crate::compare::compare;
use crate::{QueryError, QueryResult};

/// Compares two evaluated values in the aggregation order, where missing
/// sorts with undefined, below null (so `{$eq: ["$missing", null]}` is false).
pub(crate) fn compare_values(a: Option<&Bson>, b: Option<&Bson>) -> Ordering {
    compare(a.unwrap_or(&Bson::Undefined), b.unwrap_or(&Bson::Undefined))
}

/// The order of the first two arguments.
fn ordering(args: &[Value<'_>]) -> Ordering {
    let get = |i: usize| args.get(i).and_then(|v| v.as_deref());
    compare_values(get(0), get(1))
}

/// Wraps a boolean result.
fn boolean<'a>(b: bool) -> QueryResult<Value<'a>> {
    Ok(Some(Cow::Owned(Bson::Boolean(b))))
}

/// `$eq`.
pub(crate) fn eq(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    boolean(ordering(&args) == Ordering::Equal)
}

/// `$ne`.
pub(crate) fn ne(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    boolean(ordering(&args) != Ordering::Equal)
}

/// `$gt`.
pub(crate) fn gt(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    boolean(ordering(&args) == Ordering::Greater)
}

/// `$gte`.
pub(crate) fn gte(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    boolean(ordering(&args) != Ordering::Less)
}

/// `$lt`.
pub(crate) fn lt(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    boolean(ordering(&args) == Ordering::Less)
}

/// `$lte`.
pub(crate) fn lte(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    boolean(ordering(&args) != Ordering::Greater)
}

/// `$cmp`: -1, 0 or 1 as an int32.
pub(crate) fn cmp(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let n = match ordering(&args) {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    };
    Ok(Some(Cow::Owned(Bson::Int32(n))))
}

/// `$not`.
pub(crate) fn not(mut args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    boolean(!is_truthy(take(&mut args, 0).as_deref()))
}

/// `$size`: the length of an array, as an int32.
pub(crate) fn size(mut args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let arg = take(&mut args, 0);
    match arg.as_deref() {
        Some(Bson::Array(items)) => {
            let n = i32::try_from(items.len()).map_or(Bson::Int64(items.len() as i64), Bson::Int32);
            Ok(Some(Cow::Owned(n)))
        }
        other => Err(QueryError::new(format!(
            "The argument to $size must be an array. Type of argument is {}",
            type_name(other)
        ))),
    }
}

/// `$isArray`.
pub(crate) fn is_array(mut args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    boolean(matches!(
        take(&mut args, 0).as_deref(),
        Some(Bson::Array(_))
    ))
}

/// `$isNumber`.
pub(crate) fn is_number(mut args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let arg = take(&mut args, 0);
    boolean(matches!(
        arg.as_deref(),
        Some(Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_))
    ))
}

/// `$type`: the type's name, `"missing"` for a missing value.
pub(crate) fn type_of(mut args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let name = type_name(take(&mut args, 0).as_deref());
    Ok(Some(Cow::Owned(Bson::String(name.to_owned()))))
}
