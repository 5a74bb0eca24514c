//! `$getField`, `$setField` and `$unsetField`: one field of a document by
//! its literal name, so names with `.` or a leading `$` are reachable. They
//! never traverse: `"a.b"` is a top-level field named `a.b`.

use std::borrow::Cow;
use std::sync::Arc;

use bson::Bson;

use super::named::{named_args, required, Wording};
use super::ops::type_name;
use super::path::FieldPath;
use super::special::SpecialForm;
use super::{Ctx, Node, Scope, Value};
use crate::{QueryError, QueryResult};

/// `$getField: {field, input}` or `$getField: field`.
#[derive(Debug)]
struct GetField {
    /// The field name (any expression giving a string, since MongoDB 7.2).
    field: Node,
    /// The document, `$$CURRENT` by default.
    input: Node,
}

/// `$getField`'s error wording.
const GET_FIELD: Wording = Wording {
    not_object: |_| "$getField only supports an object as its argument".to_owned(),
    unknown: |name| format!("$getField found an unknown argument: {name}"),
    missing: |name| format!("$getField requires '{name}' to be specified"),
};

/// Parses `$getField`: a document of `field`/`input`, or the field alone
/// (which may itself be an operator, such as `{$literal: "$a"}`).
pub(crate) fn parse_get_field(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let is_operator =
        matches!(arg, Bson::Document(d) if d.keys().next().is_some_and(|k| k.starts_with('$')));
    let (field, input) = match arg {
        Bson::Document(_) if !is_operator => {
            let [field, input] = named_args(arg, ["field", "input"], &GET_FIELD)?;
            let field = Node::parse(required(field, "field", &GET_FIELD)?, scope)?;
            let input = input.map(|i| Node::parse(i, scope)).transpose()?;
            (field, input)
        }
        _ => (Node::parse(arg, scope)?, None),
    };
    let input = match input {
        Some(input) => input,
        None => Node::Path(FieldPath::parse("$$CURRENT", scope)?),
    };
    Ok(Node::Special(Arc::new(GetField { field, input })))
}

/// A field name that must be a string, or the operator's error.
fn field_name<'v>(name: &str, value: &'v Value<'_>) -> QueryResult<&'v str> {
    match value.as_deref() {
        Some(Bson::String(s)) => Ok(s),
        other => Err(QueryError::new(format!(
            "{name} requires 'field' to evaluate to type String, but got {}",
            type_name(other)
        ))),
    }
}

/// The error for an `input` that is not a document.
fn not_a_document(name: &str, value: &Bson) -> QueryError {
    QueryError::new(format!(
        "{name} requires 'input' to evaluate to type Object, but got {}",
        type_name(Some(value))
    ))
}

impl SpecialForm for GetField {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let field = self.field.eval(ctx)?;
        let name = field_name("$getField", &field)?;
        let input = self.input.eval(ctx)?;
        match input {
            None => Ok(Some(Cow::Owned(Bson::Null))),
            Some(Cow::Borrowed(Bson::Document(doc))) => Ok(doc.get(name).map(Cow::Borrowed)),
            Some(Cow::Owned(Bson::Document(mut doc))) => Ok(doc.remove(name).map(Cow::Owned)),
            Some(v) if matches!(*v, Bson::Null | Bson::Undefined) => {
                Ok(Some(Cow::Owned(Bson::Null)))
            }
            Some(v) => Err(not_a_document("$getField", &v)),
        }
    }
}

/// `$setField: {field, input, value}`, and `$unsetField: {field, input}`
/// (`value` absent: the field is removed, as `value: "$$REMOVE"` does).
#[derive(Debug)]
struct SetField {
    /// The operator's name, for errors.
    name: &'static str,
    /// The field name, a constant.
    field: String,
    /// The document to change.
    input: Node,
    /// The new value; missing (or absent) removes the field.
    value: Option<Node>,
}

/// `$setField`'s error wording.
const SET_FIELD: Wording = Wording {
    not_object: |_| "$setField only supports an object as its argument".to_owned(),
    unknown: |name| format!("$setField found an unknown argument: {name}"),
    missing: |name| format!("$setField requires '{name}' to be specified"),
};

/// `$unsetField`'s error wording.
const UNSET_FIELD: Wording = Wording {
    not_object: |_| "$unsetField only supports an object as its argument".to_owned(),
    unknown: |name| format!("$unsetField found an unknown argument: {name}"),
    missing: |name| format!("$unsetField requires '{name}' to be specified"),
};

/// The constant field name of `$setField`/`$unsetField`.
fn constant_field(name: &str, spec: &Bson, scope: &mut Scope) -> QueryResult<String> {
    match Node::parse(spec, scope)? {
        Node::Literal(Bson::String(s)) => Ok(s),
        Node::Literal(other) => Err(QueryError::new(format!(
            "{name} requires 'field' to evaluate to type String, but got {}",
            type_name(Some(&other))
        ))),
        _ => Err(QueryError::new(format!(
            "{name} requires 'field' to evaluate to a constant, but got a non-constant argument"
        ))),
    }
}

/// Parses `$setField`.
pub(crate) fn parse_set_field(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let [field, input, value] = named_args(arg, ["field", "input", "value"], &SET_FIELD)?;
    let field = constant_field("$setField", required(field, "field", &SET_FIELD)?, scope)?;
    let input = Node::parse(required(input, "input", &SET_FIELD)?, scope)?;
    let value = Node::parse(required(value, "value", &SET_FIELD)?, scope)?;
    Ok(Node::Special(Arc::new(SetField {
        name: "$setField",
        field,
        input,
        value: Some(value),
    })))
}

/// Parses `$unsetField`.
pub(crate) fn parse_unset_field(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let [field, input] = named_args(arg, ["field", "input"], &UNSET_FIELD)?;
    let field = constant_field(
        "$unsetField",
        required(field, "field", &UNSET_FIELD)?,
        scope,
    )?;
    let input = Node::parse(required(input, "input", &UNSET_FIELD)?, scope)?;
    Ok(Node::Special(Arc::new(SetField {
        name: "$unsetField",
        field,
        input,
        value: None,
    })))
}

impl SpecialForm for SetField {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let input = self.input.eval(ctx)?;
        let mut doc = match input.map(Cow::into_owned) {
            None | Some(Bson::Null | Bson::Undefined) => return Ok(Some(Cow::Owned(Bson::Null))),
            Some(Bson::Document(doc)) => doc,
            Some(other) => return Err(not_a_document(self.name, &other)),
        };
        let value = match &self.value {
            Some(node) => node.eval(ctx)?,
            None => None,
        };
        match value {
            // Insert replaces an existing field in place, else appends.
            Some(v) => {
                doc.insert(self.field.clone(), v.into_owned());
            }
            None => {
                doc.remove(&self.field);
            }
        }
        Ok(Some(Cow::Owned(Bson::Document(doc))))
    }
}
