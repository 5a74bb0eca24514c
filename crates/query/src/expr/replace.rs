//! `$replaceOne` and `$replaceAll`: `{input, find, replacement}`, plain
//! (case- and diacritic-sensitive) substring replacement.

use std::sync::Arc;

use bson::Bson;

use super::args::{null, owned, required, NamedArgs};
use super::special::SpecialForm;
use super::{Ctx, Node, Scope, Value};
use crate::{QueryError, QueryResult};

/// A replace operator.
#[derive(Debug)]
struct Replace {
    /// The operator name, for messages.
    op: &'static str,
    /// Whether every occurrence is replaced.
    all: bool,
    /// `input`, `find` and `replacement`.
    fields: [Node; 3],
}

/// The field names, in evaluation order.
const FIELDS: [&str; 3] = ["input", "find", "replacement"];

impl SpecialForm for Replace {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let mut texts = Vec::with_capacity(3);
        let mut any_null = false;
        // Every argument must be a string or null, checked before nulls
        // decide the result.
        for (node, name) in self.fields.iter().zip(FIELDS) {
            match node.eval(ctx)?.as_deref() {
                None | Some(Bson::Null | Bson::Undefined) => any_null = true,
                Some(Bson::String(s)) => texts.push(s.clone()),
                Some(other) => {
                    return Err(QueryError::new(format!(
                        "{} requires that '{name}' be a string, found: {other}",
                        self.op
                    )))
                }
            }
        }
        if any_null {
            return null();
        }
        let [input, find, replacement] = texts.as_slice() else {
            return null();
        };
        let out = if self.all {
            input.replace(find.as_str(), replacement)
        } else {
            input.replacen(find.as_str(), replacement, 1)
        };
        owned(Bson::String(out))
    }
}

/// Parses one of the replace operators.
fn parse_replace(op: &'static str, all: bool, arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let mut args = NamedArgs::parse(op, arg, &FIELDS, &FIELDS, scope)?;
    let fields = [
        required(&mut args, 0),
        required(&mut args, 1),
        required(&mut args, 2),
    ];
    Ok(Node::Special(Arc::new(Replace { op, all, fields })))
}

/// Parses `$replaceOne`.
pub(crate) fn parse_replace_one(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    parse_replace("$replaceOne", false, arg, scope)
}

/// Parses `$replaceAll`.
pub(crate) fn parse_replace_all(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    parse_replace("$replaceAll", true, arg, scope)
}
