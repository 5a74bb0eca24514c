//! `$sum`, `$avg`, `$min` and `$max` as expressions.
//!
//! They work like the `$group` accumulators of the same names over a list
//! of values: the elements of their argument when they have exactly one
//! argument and it is an array (`{$sum: "$scores"}`), else their arguments
//! (`{$max: ["$a", "$b"]}`). Non-numbers are ignored by `$sum` and `$avg`;
//! null and missing by `$min` and `$max`.

use std::borrow::Cow;
use std::cmp::Ordering;

use bson::Bson;

use super::summation::Summation;
use super::Value;
use crate::compare::compare;
use crate::QueryResult;

/// Wraps a computed value.
fn some<'a>(value: Bson) -> QueryResult<Value<'a>> {
    Ok(Some(Cow::Owned(value)))
}

/// The values the accumulator runs over (`None` = missing).
fn operands<'v>(args: &'v [Value<'_>]) -> Vec<Option<&'v Bson>> {
    if let [single] = args {
        if let Some(Bson::Array(items)) = single.as_deref() {
            return items.iter().map(Some).collect();
        }
    }
    args.iter().map(|a| a.as_deref()).collect()
}

/// The operands summed as the `$sum` and `$avg` accumulators sum them.
fn summation(args: &[Value<'_>]) -> QueryResult<Summation> {
    let mut total = Summation::default();
    for value in operands(args).into_iter().flatten() {
        total.add(value)?;
    }
    Ok(total)
}

/// `$sum`: 0 (an int) when there are no numbers.
pub(crate) fn sum(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    some(summation(&args)?.sum()?)
}

/// `$avg`: a double (a decimal if any number is one), null without numbers.
pub(crate) fn avg(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    some(summation(&args)?.mean()?)
}

/// `$min` (`keep == Less`) and `$max` (`keep == Greater`) in the MongoDB
/// order, ignoring null and missing; null when nothing is left.
fn extreme(args: &[Value<'_>], keep: Ordering) -> Bson {
    operands(args)
        .into_iter()
        .flatten()
        .filter(|v| !matches!(v, Bson::Null | Bson::Undefined))
        .fold(None, |best: Option<&Bson>, v| match best {
            Some(b) if compare(v, b) != keep => Some(b),
            _ => Some(v),
        })
        .cloned()
        .unwrap_or(Bson::Null)
}

/// `$min`.
pub(crate) fn min(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    some(extreme(&args, Ordering::Less))
}

/// `$max`.
pub(crate) fn max(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    some(extreme(&args, Ordering::Greater))
}
