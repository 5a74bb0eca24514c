//! `$bucket`: documents grouped into the ranges between fixed boundaries
//! (plus an optional default bucket), each bucket accumulating `output`
//! as `$group` does, and the buckets sorted by their `_id`.
//!
//! The server rewrites `$bucket` into a `$group` whose key is a `$switch`
//! over `$gte`/`$lt` comparisons, then a `$sort` on `_id`; this is the
//! same with a direct search of the boundaries.

use std::cmp::Ordering;

use bson::{doc, Bson, Document};

use super::group::{self, Field};
use super::{blocking, Docs, Env, ParseCtx, Stage};
use crate::compare::{compare, type_bracket};
use crate::expr::{type_name, Expr};
use crate::sort::SortSpec;
use crate::{QueryError, QueryResult};

/// `$bucket`.
#[derive(Debug)]
struct Bucket {
    /// The value bucketed.
    group_by: Expr,
    /// At least two boundaries of one type bracket, strictly ascending.
    boundaries: Vec<Bson>,
    /// The `_id` of the bucket for values outside the boundaries.
    default: Option<Bson>,
    /// The accumulated output fields.
    fields: Vec<Field>,
    /// `{_id: 1}`, the order of the output.
    sort: SortSpec,
}

impl Stage for Bucket {
    fn apply<'a>(&'a self, input: Docs<'a>, env: &'a Env) -> Docs<'a> {
        blocking(input, move |input| {
            let mut buckets = group::group_by(input, env, &self.fields, |ctx| {
                let value = self.group_by.eval(ctx)?;
                self.bucket_of(value.as_deref())
            })?;
            buckets.sort_by(|a, b| self.sort.compare(a, b));
            Ok(buckets)
        })
    }
}

impl Bucket {
    /// The `_id` of the bucket holding `value`: the lower boundary of the
    /// range it falls in, else the default. Values compare in the total
    /// BSON order, a missing value as `undefined` (below null) as the
    /// server's `$gte`/`$lt` compare it.
    fn bucket_of(&self, value: Option<&Bson>) -> QueryResult<Bson> {
        let value = value.unwrap_or(&Bson::Undefined);
        let at_or_below = self
            .boundaries
            .partition_point(|b| compare(b, value) != Ordering::Greater);
        if at_or_below > 0 && at_or_below < self.boundaries.len() {
            if let Some(lower) = self.boundaries.get(at_or_below - 1) {
                return Ok(lower.clone());
            }
        }
        self.default.clone().ok_or_else(|| {
            QueryError::new(
                "$switch could not find a matching branch for an input, and no default was \
                 specified.",
            )
        })
    }
}

/// Whether a `groupBy` is a `$`-path or an operator expression, the only
/// forms `$bucket` and `$bucketAuto` take.
pub(super) fn is_group_by_expression(value: &Bson) -> bool {
    match value {
        Bson::String(s) => s.starts_with('$'),
        Bson::Document(d) => d.keys().next().is_some_and(|k| k.starts_with('$')),
        _ => false,
    }
}

/// The value of a constant expression (a literal, or operators over
/// literals), or `None` when it reads the document or a variable.
fn constant(value: &Bson, ctx: &ParseCtx) -> QueryResult<Option<Bson>> {
    match ctx.expr(value)?.constant() {
        Some(result) => Ok(Some(result?.unwrap_or(Bson::Undefined))),
        None => Ok(None),
    }
}

/// Parses and checks `boundaries`: constants, at least two, of one type
/// bracket, strictly ascending.
fn parse_boundaries(arg: &Bson, ctx: &ParseCtx) -> QueryResult<Vec<Bson>> {
    let Bson::Array(items) = arg else {
        return Err(QueryError::new(format!(
            "The $bucket 'boundaries' field must be an array, but found type: {}.",
            type_name(Some(arg))
        )));
    };
    let mut boundaries = Vec::with_capacity(items.len());
    for item in items {
        let value = constant(item, ctx)?.ok_or_else(|| {
            QueryError::new(format!(
                "The $bucket 'boundaries' field must be an array of constant values, but found \
                 value: {item}."
            ))
        })?;
        boundaries.push(value);
    }
    if boundaries.len() < 2 {
        return Err(QueryError::new(format!(
            "The $bucket 'boundaries' field must have at least 2 values, but found {} value(s).",
            boundaries.len()
        )));
    }
    for (i, pair) in boundaries.windows(2).enumerate() {
        let [lower, upper] = pair else { continue };
        if type_bracket(lower) != type_bracket(upper) {
            return Err(QueryError::new(format!(
                "All values in the the 'boundaries' option to $bucket must have the same type. \
                 Found conflicting types {} and {}.",
                type_name(Some(lower)),
                type_name(Some(upper))
            )));
        }
        if compare(lower, upper) != Ordering::Less {
            return Err(QueryError::new(format!(
                "The 'boundaries' option to $bucket must be sorted, but elements {} and {} are \
                 not in ascending order ({lower} is not less than {upper}).",
                i,
                i + 1
            )));
        }
    }
    Ok(boundaries)
}

/// Parses `$bucket`.
pub(super) fn parse_bucket(arg: &Bson, ctx: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    let Bson::Document(spec) = arg else {
        return Err(QueryError::new(format!(
            "Argument to $bucket stage must be an object, but found type: {}.",
            type_name(Some(arg))
        )));
    };
    let mut group_by = None;
    let mut boundaries = None;
    let mut default = None;
    let mut output: Option<&Document> = None;
    for (key, value) in spec {
        match key.as_str() {
            "groupBy" => {
                if !is_group_by_expression(value) {
                    return Err(QueryError::new(format!(
                        "The $bucket 'groupBy' field must be defined as a $-prefixed path or an \
                         expression, but found: {value}."
                    )));
                }
                group_by = Some(ctx.expr(value)?);
            }
            "boundaries" => boundaries = Some(parse_boundaries(value, ctx)?),
            "default" => {
                default = Some(constant(value, ctx)?.ok_or_else(|| {
                    QueryError::new(format!(
                        "The $bucket 'default' field must be a constant expression, but found: \
                         {value}."
                    ))
                })?)
            }
            "output" => match value {
                Bson::Document(d) => output = Some(d),
                other => {
                    return Err(QueryError::new(format!(
                        "The $bucket 'output' field must be an object, but found type: {}.",
                        type_name(Some(other))
                    )))
                }
            },
            _ => {
                return Err(QueryError::new(format!(
                    "Unrecognized option to $bucket: {key}."
                )))
            }
        }
    }
    let (Some(group_by), Some(boundaries)) = (group_by, boundaries) else {
        return Err(QueryError::new(
            "$bucket requires 'groupBy' and 'boundaries' to be specified.",
        ));
    };
    check_default(default.as_ref(), &boundaries)?;
    if output.is_some_and(|o| o.contains_key("_id")) {
        // The server puts the output fields and the `_id` in one `$group`.
        return Err(QueryError::new("a group's _id may only be specified once"));
    }
    Ok(Box::new(Bucket {
        group_by,
        boundaries,
        default,
        fields: group::parse_output(output, ctx)?,
        sort: SortSpec::parse(&doc! {"_id": 1})?,
    }))
}

/// A default of the boundaries' type must lie outside them: below the
/// lowest or at or above the highest.
fn check_default(default: Option<&Bson>, boundaries: &[Bson]) -> QueryResult<()> {
    let (Some(default), Some(lowest), Some(highest)) =
        (default, boundaries.first(), boundaries.last())
    else {
        return Ok(());
    };
    if type_bracket(default) != type_bracket(lowest) {
        return Ok(());
    }
    if compare(default, lowest) == Ordering::Less || compare(default, highest) != Ordering::Less {
        return Ok(());
    }
    Err(QueryError::new(
        "The $bucket 'default' field must be less than the lowest boundary or greater than or \
         equal to the highest boundary.",
    ))
}
