//! Arrays as sets: `$setUnion`, `$setIntersection`, `$setDifference`,
//! `$setEquals`, `$setIsSubset`, `$allElementsTrue`, `$anyElementTrue`.
//!
//! Elements are the same under MongoDB equality (`1 == 1.0`, NaN == NaN).
//! The server keeps sets ordered by the MongoDB comparison order, so
//! `$setUnion` and `$setIntersection` return their elements sorted, each
//! represented by the first of its equals the server kept; `$setDifference`
//! keeps its first array's order.

use std::borrow::Cow;

use bson::Bson;

use super::ops::type_name;
use super::{is_truthy, Value};
use crate::compare::compare;
use crate::{QueryError, QueryResult};

/// Wraps a computed value.
fn some<'a>(value: Bson) -> QueryResult<Value<'a>> {
    Ok(Some(Cow::Owned(value)))
}

/// The distinct elements, sorted; of equal elements the earliest stays.
fn ordered_set<'v>(items: impl IntoIterator<Item = &'v Bson>) -> Vec<&'v Bson> {
    let mut set: Vec<&Bson> = items.into_iter().collect();
    // A stable sort keeps equal elements in their original order.
    set.sort_by(|a, b| compare(a, b));
    set.dedup_by(|later, earlier| compare(later, earlier).is_eq());
    set
}

/// Whether a sorted set holds a value.
fn contains(set: &[&Bson], value: &Bson) -> bool {
    set.binary_search_by(|probe| compare(probe, value)).is_ok()
}

/// The arrays of an operator taking any number of them: `Ok(None)` as soon
/// as one is null or missing, the server's error at the first non-array.
fn arrays<'v>(name: &str, args: &'v [Value<'_>]) -> QueryResult<Option<Vec<&'v [Bson]>>> {
    let mut out = Vec::with_capacity(args.len());
    for arg in args {
        match arg.as_deref() {
            None | Some(Bson::Null | Bson::Undefined) => return Ok(None),
            Some(Bson::Array(items)) => out.push(items.as_slice()),
            other => {
                return Err(QueryError::new(format!(
                    "All operands of {name} must be arrays. One argument is of type: {}",
                    type_name(other)
                )))
            }
        }
    }
    Ok(Some(out))
}

/// Owned copies of set elements.
fn to_array(set: Vec<&Bson>) -> Bson {
    Bson::Array(set.into_iter().cloned().collect())
}

/// `$setUnion`: every distinct element of the arrays; null if any is null.
pub(crate) fn set_union(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let Some(arrays) = arrays("$setUnion", &args)? else {
        return some(Bson::Null);
    };
    some(to_array(ordered_set(arrays.into_iter().flatten())))
}

/// `$setIntersection`: the distinct elements in every array (none for no
/// arrays); null if any is null. Like the server, each step keeps the
/// elements of the smaller of the two sets.
pub(crate) fn set_intersection(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let Some(arrays) = arrays("$setIntersection", &args)? else {
        return some(Bson::Null);
    };
    let mut iter = arrays.into_iter();
    let mut current = iter.next().map(ordered_set).unwrap_or_default();
    for next in iter {
        if current.is_empty() {
            break;
        }
        let mut next = ordered_set(next);
        if current.len() > next.len() {
            std::mem::swap(&mut current, &mut next);
        }
        current.retain(|v| contains(&next, v));
    }
    some(to_array(current))
}

/// `$setDifference: [a, b]`: the distinct elements of `a` not in `b`, in
/// `a`'s order; null if either is null.
pub(crate) fn set_difference(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let get = |i: usize| args.get(i).and_then(|v| v.as_deref());
    let nullish = |v: Option<&Bson>| matches!(v, None | Some(Bson::Null | Bson::Undefined));
    if nullish(get(0)) || nullish(get(1)) {
        return some(Bson::Null);
    }
    let (left, right) = two_arrays("$setDifference", get(0), get(1))?;
    let mut seen = ordered_set(right);
    let mut out = Vec::new();
    for item in left {
        // `seen` grows with each kept element, which also drops duplicates.
        if let Err(at) = seen.binary_search_by(|probe| compare(probe, item)) {
            seen.insert(at, item);
            out.push(item.clone());
        }
    }
    some(Bson::Array(out))
}

/// The two arrays of `$setDifference` and `$setIsSubset`, or the error
/// naming the one that is not.
fn two_arrays<'v>(
    name: &str,
    first: Option<&'v Bson>,
    second: Option<&'v Bson>,
) -> QueryResult<(&'v [Bson], &'v [Bson])> {
    let array = |v: Option<&'v Bson>, which: &str| match v {
        Some(Bson::Array(items)) => Ok(items.as_slice()),
        other => Err(QueryError::new(format!(
            "both operands of {name} must be arrays. {which} argument is of type: {}",
            type_name(other)
        ))),
    };
    Ok((array(first, "First")?, array(second, "Second")?))
}

/// `$setEquals`: whether all arrays (at least two, checked when parsed)
/// hold the same distinct elements. Null is not an array here.
pub(crate) fn set_equals(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let mut sets = Vec::with_capacity(args.len());
    for arg in &args {
        match arg.as_deref() {
            Some(Bson::Array(items)) => sets.push(ordered_set(items)),
            other => {
                return Err(QueryError::new(format!(
                    "All operands of $setEquals must be arrays. One argument is of type: {}",
                    type_name(other)
                )))
            }
        }
    }
    let equal = sets.windows(2).all(|pair| match pair {
        [a, b] => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| compare(x, y).is_eq()),
        _ => true,
    });
    some(Bson::Boolean(equal))
}

/// `$setIsSubset: [a, b]`: whether every element of `a` is in `b`. Null is
/// not an array here.
pub(crate) fn set_is_subset(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let get = |i: usize| args.get(i).and_then(|v| v.as_deref());
    let (left, right) = two_arrays("$setIsSubset", get(0), get(1))?;
    let right = ordered_set(right);
    some(Bson::Boolean(left.iter().all(|v| contains(&right, v))))
}

/// The array of `$allElementsTrue`/`$anyElementTrue` (null is an error).
fn truth_array<'v>(name: &str, args: &'v [Value<'_>]) -> QueryResult<&'v [Bson]> {
    match args.first().and_then(|v| v.as_deref()) {
        Some(Bson::Array(items)) => Ok(items),
        other => Err(QueryError::new(format!(
            "{name}'s argument must be an array, but is {}",
            type_name(other)
        ))),
    }
}

/// `$allElementsTrue`: whether no element is falsy (true for `[]`).
pub(crate) fn all_elements_true(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let items = truth_array("$allElementsTrue", &args)?;
    some(Bson::Boolean(items.iter().all(|v| is_truthy(Some(v)))))
}

/// `$anyElementTrue`: whether some element is truthy (false for `[]`).
pub(crate) fn any_element_true(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let items = truth_array("$anyElementTrue", &args)?;
    some(Bson::Boolean(items.iter().any(|v| is_truthy(Some(v)))))
}
