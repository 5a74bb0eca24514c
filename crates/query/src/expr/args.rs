//! Argument handling shared by the string, conversion and date operators:
//! null tests, integral numbers, and operators whose argument is a document
//! of named fields (`{$trim: {input, chars}}`, `{$dateAdd: {startDate, …}}`).
//!
//! Named-argument operators are special forms: they keep their fields as
//! unevaluated nodes, because several of them (`$convert`'s `onError`,
//! `$dateToString`'s `onNull`, …) must evaluate a field only when needed.

use std::borrow::Cow;

use bson::Bson;

use super::decimal::Dec;
use super::{Ctx, Node, Scope, Value};
use crate::{QueryError, QueryResult};

/// 2^63 as a double: the first double past the `i64` range.
pub(crate) const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// Whether a value counts as null for an operator: null, undefined or missing.
pub(crate) fn is_nullish(value: Option<&Bson>) -> bool {
    matches!(value, None | Some(Bson::Null | Bson::Undefined))
}

/// Wraps a computed value.
pub(crate) fn owned<'a>(value: Bson) -> QueryResult<Value<'a>> {
    Ok(Some(Cow::Owned(value)))
}

/// The null result.
pub(crate) fn null<'a>() -> QueryResult<Value<'a>> {
    owned(Bson::Null)
}

/// The integer a number holds exactly: an int, a long, or a double or
/// decimal with no fractional part that fits in 64 bits. `None` for any
/// other value (the caller words the error).
pub(crate) fn integral(value: &Bson) -> Option<i64> {
    match value {
        Bson::Int32(i) => Some(i64::from(*i)),
        Bson::Int64(i) => Some(*i),
        // 2^63 itself is not an i64; every double below it with no fraction is.
        Bson::Double(f) if f.fract() == 0.0 && *f >= -TWO_POW_63 => {
            (*f < TWO_POW_63).then_some(*f as i64)
        }
        Bson::Decimal128(d) => {
            let dec = Dec::from_decimal128(d)?;
            if dec.is_integer() {
                dec.trunc_to_i64()
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The fields of a named-argument operator, parsed but not evaluated, in
/// the order the operator declared them.
#[derive(Debug)]
pub(crate) struct NamedArgs {
    /// One slot per declared field; `None` where the field was not given.
    fields: Vec<Option<Node>>,
}

impl NamedArgs {
    /// Parses `arg`, which must be a document whose keys are all in
    /// `declared`, and which must hold every field in `required`.
    pub(crate) fn parse(
        op: &str,
        arg: &Bson,
        declared: &[&'static str],
        required: &[&'static str],
        scope: &mut Scope,
    ) -> QueryResult<NamedArgs> {
        let Bson::Document(doc) = arg else {
            return Err(QueryError::new(format!(
                "{op} only supports an object as its argument"
            )));
        };
        let mut fields: Vec<Option<Node>> = declared.iter().map(|_| None).collect();
        for (key, value) in doc {
            let slot = declared
                .iter()
                .position(|name| name == key)
                .and_then(|i| fields.get_mut(i))
                .ok_or_else(|| QueryError::new(format!("Unrecognized argument to {op}: {key}")))?;
            *slot = Some(Node::parse(value, scope)?);
        }
        for name in required {
            if !doc.contains_key(name) {
                return Err(QueryError::new(format!(
                    "Missing '{name}' parameter to {op}"
                )));
            }
        }
        Ok(NamedArgs { fields })
    }

    /// Takes the node of the field at `index` (in declaration order).
    pub(crate) fn take(&mut self, index: usize) -> Option<Node> {
        self.fields.get_mut(index).and_then(Option::take)
    }
}

/// Evaluates an optional field: a field that was not given is missing.
pub(crate) fn eval_opt<'a>(node: &'a Option<Node>, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
    match node {
        Some(node) => node.eval(ctx),
        None => Ok(None),
    }
}

/// Takes a required field; [`NamedArgs::parse`] has checked it is there.
pub(crate) fn required(args: &mut NamedArgs, index: usize) -> Node {
    args.take(index).unwrap_or(Node::Literal(Bson::Null))
}
