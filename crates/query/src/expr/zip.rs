//! `$zip: {inputs, useLongestLength, defaults}`: arrays transposed, as long
//! as the shortest input, or as the longest one with the gaps filled from
//! `defaults` (null where none is given).

use std::borrow::Cow;
use std::sync::Arc;

use bson::Bson;

use super::named::{named_args, Wording};
use super::ops::type_name;
use super::special::SpecialForm;
use super::{Ctx, Node, Scope, Value};
use crate::{QueryError, QueryResult};

/// A compiled `$zip`.
#[derive(Debug)]
struct Zip {
    /// The input arrays' expressions.
    inputs: Vec<Node>,
    /// Whether the result is as long as the longest input.
    longest: bool,
    /// Fill values per input (empty: null).
    defaults: Vec<Node>,
}

/// `$zip`'s error wording.
const ZIP: Wording = Wording {
    not_object: |found| format!("$zip only supports an object as an argument, found {found}"),
    unknown: |name| format!("$zip found an unknown argument: {name}"),
    missing: |_| "$zip requires at least one input array".to_owned(),
};

/// An array of expressions (`inputs`, `defaults`).
fn expressions(spec: Option<&Bson>, what: &str, scope: &mut Scope) -> QueryResult<Vec<Node>> {
    match spec {
        None => Ok(Vec::new()),
        Some(Bson::Array(items)) => items.iter().map(|i| Node::parse(i, scope)).collect(),
        Some(other) => Err(QueryError::new(format!(
            "{what} must be an array of expressions, found {}",
            type_name(Some(other))
        ))),
    }
}

/// Parses `$zip`.
pub(crate) fn parse_zip(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let [inputs, longest, defaults] =
        named_args(arg, ["inputs", "useLongestLength", "defaults"], &ZIP)?;
    let longest = match longest {
        None => false,
        Some(Bson::Boolean(b)) => *b,
        Some(other) => {
            return Err(QueryError::new(format!(
                "useLongestLength must be a bool, found {}",
                type_name(Some(other))
            )))
        }
    };
    let inputs = expressions(inputs, "inputs", scope)?;
    let defaults = expressions(defaults, "defaults", scope)?;
    if inputs.is_empty() {
        return Err(QueryError::new((ZIP.missing)("inputs")));
    }
    if !longest && !defaults.is_empty() {
        return Err(QueryError::new(
            "cannot specify defaults unless useLongestLength is true",
        ));
    }
    if !defaults.is_empty() && defaults.len() != inputs.len() {
        return Err(QueryError::new(
            "defaults and inputs must have the same length",
        ));
    }
    Ok(Node::Special(Arc::new(Zip {
        inputs,
        longest,
        defaults,
    })))
}

impl SpecialForm for Zip {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let mut arrays = Vec::with_capacity(self.inputs.len());
        for input in &self.inputs {
            let value = input.eval(ctx)?;
            match value.as_deref() {
                None | Some(Bson::Null | Bson::Undefined) => {
                    return Ok(Some(Cow::Owned(Bson::Null)))
                }
                Some(Bson::Array(_)) => arrays.push(value),
                Some(other) => {
                    return Err(QueryError::new(format!(
                        "$zip found a non-array expression in input: {other}"
                    )))
                }
            }
        }
        let lengths = arrays.iter().map(|a| match a.as_deref() {
            Some(Bson::Array(items)) => items.len(),
            _ => 0,
        });
        let (shortest, longest) =
            lengths.fold((usize::MAX, 0), |(lo, hi), n| (lo.min(n), hi.max(n)));
        // The defaults are only evaluated when some input is short.
        let mut fill = vec![Bson::Null; arrays.len()];
        if shortest != longest {
            for (slot, default) in fill.iter_mut().zip(&self.defaults) {
                *slot = default.eval(ctx)?.map_or(Bson::Null, Cow::into_owned);
            }
        }
        let rows = if self.longest { longest } else { shortest };
        let out = (0..rows)
            .map(|row| {
                let cells =
                    arrays
                        .iter()
                        .zip(&fill)
                        .map(|(array, default)| match array.as_deref() {
                            Some(Bson::Array(items)) => items.get(row).unwrap_or(default).clone(),
                            _ => default.clone(),
                        });
                Bson::Array(cells.collect())
            })
            .collect();
        Ok(Some(Cow::Owned(Bson::Array(out))))
    }
}
