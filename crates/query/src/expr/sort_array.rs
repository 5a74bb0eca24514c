//! `$sortArray: {input, sortBy}`: an array sorted by whole values
//! (`sortBy: 1` or `-1`) or by fields of its documents
//! (`sortBy: {a: 1, "b.c": -1}`).
//!
//! Values compare in the MongoDB order. A sort field is looked up through
//! documents only — no array traversal, no positions — and an element
//! without it (a scalar, or a document lacking it) sorts as null.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

use bson::Bson;

use super::named::{named_args, required, Wording};
use super::ops::type_name;
use super::path::split_path;
use super::special::SpecialForm;
use super::{Ctx, Node, Scope, Value};
use crate::compare::compare;
use crate::{QueryError, QueryResult};

/// How elements are ordered.
#[derive(Debug)]
enum SortBy {
    /// By the whole value; `true` for descending.
    Value(bool),
    /// By these fields in turn, each ascending or (`true`) descending.
    Fields(Vec<(Vec<String>, bool)>),
}

/// A compiled `$sortArray`.
#[derive(Debug)]
struct SortArray {
    /// The array.
    input: Node,
    /// The order.
    sort_by: SortBy,
}

/// `$sortArray`'s error wording.
const SORT_ARRAY: Wording = Wording {
    not_object: |found| format!("$sortArray requires an object as an argument, found: {found}"),
    unknown: |name| format!("$sortArray found an unknown argument: {name}"),
    missing: |name| format!("$sortArray requires '{name}' to be specified"),
};

/// A sort direction: `Some(descending)` for 1 or -1 of any numeric type.
fn direction(value: &Bson) -> Option<bool> {
    let n = match value {
        Bson::Int32(i) => f64::from(*i),
        Bson::Int64(i) => *i as f64,
        Bson::Double(f) => *f,
        Bson::Decimal128(d) => crate::compare::decimal_to_f64(d),
        _ => return None,
    };
    if n == 1.0 {
        Some(false)
    } else if n == -1.0 {
        Some(true)
    } else {
        None
    }
}

/// The error for a sort direction that is not 1 or -1.
fn bad_direction() -> QueryError {
    QueryError::new("$sortArray sort order must be either 1 or -1")
}

/// Parses `sortBy`.
fn parse_sort_by(spec: &Bson) -> QueryResult<SortBy> {
    let Bson::Document(fields) = spec else {
        return direction(spec).map(SortBy::Value).ok_or_else(|| {
            QueryError::new(format!(
                "$sortArray requires sortBy to be 1, -1 or a document, found: {}",
                type_name(Some(spec))
            ))
        });
    };
    if fields.is_empty() {
        return Err(QueryError::new(
            "$sortArray sortBy document must not be empty",
        ));
    }
    fields
        .iter()
        .map(|(path, dir)| Ok((split_path(path)?, direction(dir).ok_or_else(bad_direction)?)))
        .collect::<QueryResult<_>>()
        .map(SortBy::Fields)
}

/// Parses `$sortArray`.
pub(crate) fn parse_sort_array(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let [input, sort_by] = named_args(arg, ["input", "sortBy"], &SORT_ARRAY)?;
    let input = Node::parse(required(input, "input", &SORT_ARRAY)?, scope)?;
    let sort_by = parse_sort_by(required(sort_by, "sortBy", &SORT_ARRAY)?)?;
    Ok(Node::Special(Arc::new(SortArray { input, sort_by })))
}

/// A sort key: the value at `path` through documents only, null if absent.
fn key<'v>(value: &'v Bson, path: &[String]) -> &'v Bson {
    let mut current = value;
    for segment in path {
        match current {
            Bson::Document(doc) => match doc.get(segment) {
                Some(next) => current = next,
                None => return &Bson::Null,
            },
            _ => return &Bson::Null,
        }
    }
    current
}

/// Reverses an order when descending.
fn directed(order: Ordering, descending: bool) -> Ordering {
    if descending {
        order.reverse()
    } else {
        order
    }
}

impl SortBy {
    /// Compares two elements.
    fn compare(&self, a: &Bson, b: &Bson) -> Ordering {
        match self {
            SortBy::Value(descending) => directed(compare(a, b), *descending),
            SortBy::Fields(fields) => fields
                .iter()
                .map(|(path, descending)| {
                    directed(compare(key(a, path), key(b, path)), *descending)
                })
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal),
        }
    }
}

impl SpecialForm for SortArray {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let input = self.input.eval(ctx)?;
        let mut items = match input.map(Cow::into_owned) {
            None | Some(Bson::Null | Bson::Undefined) => return Ok(Some(Cow::Owned(Bson::Null))),
            Some(Bson::Array(items)) => items,
            Some(other) => {
                return Err(QueryError::new(format!(
                    "The input argument to $sortArray must be an array, but was of type: {}",
                    type_name(Some(&other))
                )))
            }
        };
        // Stable, so elements that compare equal keep their order.
        items.sort_by(|a, b| self.sort_by.compare(a, b));
        Ok(Some(Cow::Owned(Bson::Array(items))))
    }
}
