//! The array operators: `$push` (with `$each`, `$position`, `$sort`,
//! `$slice`), `$addToSet` (with `$each`), `$pop`, `$pull` and `$pullAll`.

use std::borrow::Cow;
use std::collections::HashSet;

use bson::{Bson, Document};

use super::display;
use crate::compare::{compare, equal, equality_key, Number};
use crate::filter::ElementMatcher;
use crate::sort::SortSpec;
use crate::{QueryError, QueryResult};

/// A compiled `$push` operand.
#[derive(Debug, Clone)]
pub(crate) struct PushSpec {
    /// The values to insert (`$each`, or the single operand).
    each: Vec<Bson>,
    /// `$position`: where to insert, negative counting from the end.
    position: Option<i64>,
    /// `$slice`: how many to keep, negative keeping the last ones.
    slice: Option<i64>,
    /// `$sort`: applied after inserting, before slicing.
    sort: Option<PushSort>,
}

/// How `$push … $sort` orders the array.
#[derive(Debug, Clone)]
enum PushSort {
    /// `$sort: 1 | -1`: whole values, ascending when true.
    Whole(bool),
    /// `$sort: {field: 1, …}`: by fields of the elements.
    Fields(SortSpec),
}

impl PushSpec {
    /// Parses a `$push` operand: a document holding `$each` carries
    /// modifiers, anything else is the single value to append.
    pub(crate) fn parse(operand: &Bson) -> QueryResult<PushSpec> {
        let mut spec = PushSpec {
            each: Vec::new(),
            position: None,
            slice: None,
            sort: None,
        };
        let modifiers = match operand {
            Bson::Document(d) if d.contains_key("$each") => d,
            single => {
                spec.each.push(single.clone());
                return Ok(spec);
            }
        };
        for (name, value) in modifiers {
            match name.as_str() {
                "$each" => spec.each = each_values(value, "$push", ": ")?,
                "$position" => {
                    spec.position = Some(integer_modifier(
                        value,
                        "$position must be an integer value, not of type: ",
                    )?)
                }
                "$slice" => {
                    spec.slice = Some(integer_modifier(
                        value,
                        "$slice must be an integer value but was given type: ",
                    )?)
                }
                "$sort" => spec.sort = Some(PushSort::parse(value)?),
                other => {
                    return Err(QueryError::new(format!(
                        "Unrecognized $push modifier: '{other}'"
                    )));
                }
            }
        }
        Ok(spec)
    }

    /// Pushes into an existing array: insert at the position, then sort,
    /// then slice, as the server does.
    pub(crate) fn apply(&self, items: &mut Vec<Bson>) {
        let len = items.len();
        let at = match self.position {
            None => len,
            Some(p) if p >= 0 => usize::try_from(p).map_or(len, |p| p.min(len)),
            Some(p) => usize::try_from(p.unsigned_abs()).map_or(0, |back| len.saturating_sub(back)),
        };
        if at == len {
            items.extend(self.each.iter().cloned());
        } else {
            items.splice(at..at, self.each.iter().cloned());
        }
        if let Some(sort) = &self.sort {
            sort.apply(items);
        }
        match self.slice {
            Some(n) if n >= 0 => items.truncate(usize::try_from(n).unwrap_or(usize::MAX)),
            Some(n) => {
                let keep = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
                let drop = items.len().saturating_sub(keep);
                items.drain(..drop);
            }
            None => {}
        }
    }

    /// The array a missing field gets.
    pub(crate) fn new_array(&self) -> Bson {
        let mut items = Vec::with_capacity(self.each.len());
        self.apply(&mut items);
        Bson::Array(items)
    }
}

impl PushSort {
    /// Parses the `$sort` modifier.
    fn parse(value: &Bson) -> QueryResult<PushSort> {
        match value {
            Bson::Document(pattern) => {
                check_sort_pattern(pattern)?;
                Ok(PushSort::Fields(SortSpec::parse(pattern)?))
            }
            other => match sort_direction(other) {
                Some(ascending) => Ok(PushSort::Whole(ascending)),
                None if Number::of(other).is_some() => Err(bad_sort_direction()),
                None => Err(QueryError::new(
                    "The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields",
                )),
            },
        }
    }

    /// A stable sort, so equal elements keep their order.
    fn apply(&self, items: &mut [Bson]) {
        match self {
            PushSort::Whole(true) => items.sort_by(compare),
            PushSort::Whole(false) => items.sort_by(|a, b| compare(b, a)),
            // Non-document elements sort as if wrapped as `{"": value}`,
            // i.e. as documents missing every sort field.
            PushSort::Fields(spec) => {
                items.sort_by(|a, b| spec.compare(&as_document(a), &as_document(b)))
            }
        }
    }
}

/// An element as the document a field sort looks into.
fn as_document(value: &Bson) -> Cow<'_, Document> {
    match value {
        Bson::Document(d) => Cow::Borrowed(d),
        other => {
            let mut wrapped = Document::new();
            wrapped.insert("", other.clone());
            Cow::Owned(wrapped)
        }
    }
}

/// The server's checks of a `$sort` pattern document.
fn check_sort_pattern(pattern: &Document) -> QueryResult<()> {
    if pattern.is_empty() {
        return Err(QueryError::new(
            "The $sort pattern is empty when it should be a set of fields.",
        ));
    }
    for (field, direction) in pattern {
        if sort_direction(direction).is_none() {
            return Err(bad_sort_direction());
        }
        if field.is_empty() {
            return Err(QueryError::new("The $sort field cannot be empty"));
        }
        if field.split('.').any(str::is_empty) {
            return Err(QueryError::new(format!(
                "The $sort field is a dotted field but has an empty part: {field}"
            )));
        }
    }
    Ok(())
}

/// `Some(true)` for a number equal to 1, `Some(false)` for -1.
fn sort_direction(value: &Bson) -> Option<bool> {
    let n = Number::of(value)?.as_f64();
    if n == 1.0 {
        Some(true)
    } else if n == -1.0 {
        Some(false)
    } else {
        None
    }
}

/// The error for a `$sort` direction other than 1 or -1.
fn bad_sort_direction() -> QueryError {
    QueryError::new("The $sort element value must be either 1 or -1")
}

/// `$position` and `$slice` take int32 or int64 only (the server refuses
/// even integral doubles).
fn integer_modifier(value: &Bson, message: &str) -> QueryResult<i64> {
    match value {
        Bson::Int32(i) => Ok(i64::from(*i)),
        Bson::Int64(i) => Ok(*i),
        other => Err(QueryError::new(format!(
            "The value for {message}{}",
            display::type_name(other)
        ))),
    }
}

/// The array operand of `$each`.
fn each_values(value: &Bson, operator: &str, separator: &str) -> QueryResult<Vec<Bson>> {
    match value {
        Bson::Array(items) => Ok(items.clone()),
        other => Err(QueryError::new(format!(
            "The argument to $each in {operator} must be an array but it was of type{separator}{}",
            display::type_name(other)
        ))),
    }
}

/// Parses a `$addToSet` operand: `{$each: [..]}` (only when `$each` is the
/// first field, and then alone) or a single value.
pub(crate) fn parse_add_to_set(operand: &Bson) -> QueryResult<Vec<Bson>> {
    let Bson::Document(d) = operand else {
        return Ok(vec![operand.clone()]);
    };
    match d.iter().next() {
        Some((first, each)) if first == "$each" => {
            let values = each_values(each, "$addToSet", " ")?;
            if d.len() > 1 {
                return Err(QueryError::new(format!(
                    "Found unexpected fields after $each in $addToSet: {}",
                    display::value(operand)
                )));
            }
            Ok(values)
        }
        _ => Ok(vec![operand.clone()]),
    }
}

/// Appends the values not already present (MongoDB equality: numbers of
/// any width, documents field by field in order).
pub(crate) fn add_to_set(items: &mut Vec<Bson>, values: &[Bson]) {
    if let [single] = values {
        if !items.iter().any(|item| equal(item, single)) {
            items.push(single.clone());
        }
        return;
    }
    // Hash the equality keys so a long array is not scanned per value.
    let mut seen: HashSet<Vec<u8>> = items.iter().map(equality_key).collect();
    for value in values {
        if seen.insert(equality_key(value)) {
            items.push(value.clone());
        }
    }
}

/// Parses a `$pop` operand: a number equal to 1 (last) or -1 (first).
pub(crate) fn parse_pop(field: &str, operand: &Bson) -> QueryResult<bool> {
    let Some(n) = Number::of(operand) else {
        return Err(QueryError::new(format!(
            "Expected a number in: {field}: {}",
            display::value(operand)
        )));
    };
    let n = n.as_f64();
    if n.fract() != 0.0 {
        return Err(QueryError::new(format!(
            "Expected an integer: {field}: {}",
            display::value(operand)
        )));
    }
    if n == 1.0 {
        Ok(false)
    } else if n == -1.0 {
        Ok(true)
    } else {
        Err(QueryError::new(format!(
            "$pop expects 1 or -1, found: {}",
            display::value(operand)
        )))
    }
}

/// Parses a `$pullAll` operand.
pub(crate) fn parse_pull_all(operand: &Bson) -> QueryResult<Vec<Bson>> {
    match operand {
        Bson::Array(items) => Ok(items.clone()),
        _ => Err(QueryError::new("$pullAll requires an array argument")),
    }
}

/// Removes every element equal to one of `values`.
pub(crate) fn pull_all(items: &mut Vec<Bson>, values: &[Bson]) {
    // A handful of values are cheapest to compare directly.
    if values.len() <= 8 {
        items.retain(|item| !values.iter().any(|v| equal(item, v)));
        return;
    }
    let keys: HashSet<Vec<u8>> = values.iter().map(equality_key).collect();
    items.retain(|item| !keys.contains(&equality_key(item)));
}

/// Removes every element the condition matches. Matching errors were
/// surfaced by [`check_pull`] before anything was modified.
pub(crate) fn pull(items: &mut Vec<Bson>, matcher: &ElementMatcher) {
    items.retain(|item| !matcher.matches(item).unwrap_or(false));
}

/// Runs the `$pull` condition over the elements to surface its errors.
pub(crate) fn check_pull(items: &[Bson], matcher: &ElementMatcher) -> QueryResult<()> {
    for item in items {
        matcher.matches(item)?;
    }
    Ok(())
}

/// The error when an array operator meets a non-array value.
pub(crate) fn not_an_array(operator: &str, path: &str, value: &Bson, doc: &Document) -> QueryError {
    let kind = display::type_name(value);
    QueryError::new(match operator {
        "$push" => format!(
            "The field '{path}' must be an array but is of type {kind} in document {{{}}}",
            display::id_of(doc)
        ),
        "$addToSet" => format!(
            "Cannot apply $addToSet to non-array field. Field named '{path}' has non-array type {kind}"
        ),
        "$pop" => format!("Path '{path}' contains an element of non-array type '{kind}'"),
        _ => "Cannot apply $pull to a non-array value".to_string(),
    })
}
