//! The forms that bind variables — `$let`, `$map`, `$filter`, `$reduce` —
//! and the server's rules for variable names.
//!
//! A binding form parses its body with its variables pushed on the
//! [`Scope`], which gives each a slot; when it runs, it pushes their values
//! at the same slots of a copy of the [`Ctx`] (cheap: values are borrowed or
//! shared) and evaluates the body against that copy.

use std::borrow::Cow;
use std::rc::Rc;
use std::sync::Arc;

use bson::Bson;

use super::integral::integral_i32;
use super::named::{named_args, required, Wording};
use super::ops::type_name;
use super::{is_truthy, Binding, Ctx, Node, Scope, Value};
use crate::{QueryError, QueryResult};

/// Checks a variable name being read (`"$$name"`): system variables are
/// upper case, so a capital first letter is allowed here.
pub(crate) fn validate_read_name(name: &str) -> QueryResult<()> {
    validate_name(name, |b| b.is_ascii_alphabetic(), "a variable name")
}

/// Checks a variable name being bound: user variables must start with a
/// lower-case letter (or a non-ASCII character); `CURRENT` is the one
/// system variable a user may rebind.
pub(crate) fn validate_write_name(name: &str) -> QueryResult<()> {
    if name == "CURRENT" {
        return Ok(());
    }
    validate_name(name, |b| b.is_ascii_lowercase(), "a user variable name")
}

/// The shared rule: a valid first byte, then letters, digits, `_` or
/// non-ASCII bytes.
fn validate_name(name: &str, first_ok: fn(&u8) -> bool, what: &str) -> QueryResult<()> {
    let Some((first, rest)) = name.as_bytes().split_first() else {
        return Err(QueryError::new("empty variable names are not allowed"));
    };
    if !first_ok(first) && first.is_ascii() {
        return Err(QueryError::new(format!(
            "'{name}' starts with an invalid character for {what}"
        )));
    }
    if let Some(bad) = rest
        .iter()
        .find(|b| !(b.is_ascii_alphanumeric() || **b == b'_' || !b.is_ascii()))
    {
        return Err(QueryError::new(format!(
            "'{name}' contains an invalid character for a variable name: '{}'",
            char::from(*bad)
        )));
    }
    Ok(())
}

/// Binds each element of an array value: borrowed when the array is
/// borrowed, moved into shared values when it was computed.
fn element_bindings(array: Cow<'_, Bson>) -> Vec<Binding<'_>> {
    match array {
        Cow::Borrowed(Bson::Array(items)) => items.iter().map(Binding::Borrowed).collect(),
        Cow::Owned(Bson::Array(items)) => items
            .into_iter()
            .map(|item| Binding::Shared(Rc::new(item)))
            .collect(),
        _ => Vec::new(),
    }
}

impl Binding<'_> {
    /// The bound value, cloned only if something else still shares it.
    fn into_bson(self) -> Bson {
        match self {
            Binding::Borrowed(b) => b.clone(),
            Binding::Shared(rc) => Rc::try_unwrap(rc).unwrap_or_else(|rc| (*rc).clone()),
        }
    }
}

/// The `input` array of `$map`, `$filter` and `$reduce`: `Ok(None)` when
/// it is null or missing (the form's result is then null), the form's
/// error when it is not an array.
fn input_array<'a>(
    value: Value<'a>,
    error: impl FnOnce(&Bson) -> String,
) -> QueryResult<Option<Cow<'a, Bson>>> {
    match value {
        None => Ok(None),
        Some(v) => match &*v {
            Bson::Null | Bson::Undefined => Ok(None),
            Bson::Array(_) => Ok(Some(v)),
            other => Err(QueryError::new(error(other))),
        },
    }
}

/// Null, the result of a binding form over a null or missing input.
fn null<'a>() -> QueryResult<Value<'a>> {
    Ok(Some(Cow::Owned(Bson::Null)))
}

/// The name given by `as` (default `this`), checked.
fn bound_name(as_: Option<&Bson>) -> QueryResult<String> {
    let name = match as_ {
        None => "this",
        Some(Bson::String(s)) => s.as_str(),
        // The server reads a non-string `as` as the empty name.
        Some(_) => "",
    };
    validate_write_name(name)?;
    Ok(name.to_owned())
}

/// `$let: {vars: {…}, in: …}`: the variables are evaluated in the outer
/// scope (they cannot see each other), the body with all of them.
#[derive(Debug)]
struct Let {
    /// The variables' expressions, in `vars` order.
    values: Vec<Node>,
    /// The slot of the first variable.
    slot: usize,
    /// The `in` expression.
    body: Node,
}

/// `$let`'s error wording.
const LET: Wording = Wording {
    not_object: |_| "$let only supports an object as its argument".to_owned(),
    unknown: |name| format!("Unrecognized parameter to $let: {name}"),
    missing: |name| format!("Missing '{name}' parameter to $let"),
};

/// Parses `$let`.
pub(crate) fn parse_let(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let [vars, body] = named_args(arg, ["vars", "in"], &LET)?;
    let vars = required(vars, "vars", &LET)?;
    let body = required(body, "in", &LET)?;
    let Bson::Document(vars) = vars else {
        return Err(QueryError::new(format!(
            "invalid parameter: expected an object (vars), found {}",
            type_name(Some(vars))
        )));
    };
    let mut values = Vec::with_capacity(vars.len());
    let mut names = Vec::with_capacity(vars.len());
    for (name, expr) in vars {
        values.push(Node::parse(expr, scope)?);
        validate_write_name(name)?;
        names.push(name.clone());
    }
    let (slot, body) =
        scope.with_vars(&names, |scope, slot| Ok((slot, Node::parse(body, scope)?)))?;
    Ok(Node::Special(Arc::new(Let { values, slot, body })))
}

impl super::special::SpecialForm for Let {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let mut inner = ctx.clone();
        inner.vars.resize(self.slot, None);
        for value in &self.values {
            inner.vars.push(Binding::of(value.eval(ctx)?));
        }
        self.body.eval(&inner)
    }
}

/// `$map: {input, as, in}`: `in` applied to every element, missing
/// results becoming null.
#[derive(Debug)]
struct Map {
    /// The array.
    input: Node,
    /// The slot of the element variable.
    slot: usize,
    /// The expression applied to each element.
    body: Node,
}

/// `$map`'s error wording.
const MAP: Wording = Wording {
    not_object: |_| "$map only supports an object as its argument".to_owned(),
    unknown: |name| format!("Unrecognized parameter to $map: {name}"),
    missing: |name| format!("Missing '{name}' parameter to $map"),
};

/// Parses `$map`.
pub(crate) fn parse_map(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let [input, as_, body] = named_args(arg, ["input", "as", "in"], &MAP)?;
    let input = Node::parse(required(input, "input", &MAP)?, scope)?;
    let body = required(body, "in", &MAP)?;
    let name = bound_name(as_)?;
    let (slot, body) =
        scope.with_vars(&[name], |scope, slot| Ok((slot, Node::parse(body, scope)?)))?;
    Ok(Node::Special(Arc::new(Map { input, slot, body })))
}

impl super::special::SpecialForm for Map {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let Some(input) = input_array(self.input.eval(ctx)?, |v| {
            format!("input to $map must be an array not {}", type_name(Some(v)))
        })?
        else {
            return null();
        };
        let elements = element_bindings(input);
        let mut inner = ctx.clone();
        let mut out = Vec::with_capacity(elements.len());
        for element in elements {
            inner.vars.resize(self.slot, None);
            inner.vars.push(Some(element));
            out.push(self.body.eval(&inner)?.map_or(Bson::Null, Cow::into_owned));
        }
        Ok(Some(Cow::Owned(Bson::Array(out))))
    }
}

/// `$filter: {input, as, cond, limit}`: the elements for which `cond` is
/// truthy, at most `limit` of them.
#[derive(Debug)]
struct Filter {
    /// The array.
    input: Node,
    /// The slot of the element variable.
    slot: usize,
    /// The condition, seeing the element variable.
    cond: Node,
    /// The optional limit, in the outer scope.
    limit: Option<Node>,
}

/// `$filter`'s error wording.
const FILTER: Wording = Wording {
    not_object: |_| "$filter only supports an object as its argument".to_owned(),
    unknown: |name| format!("Unrecognized parameter to $filter: {name}"),
    missing: |name| format!("Missing '{name}' parameter to $filter"),
};

/// Parses `$filter`.
pub(crate) fn parse_filter(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let [input, as_, cond, limit] = named_args(arg, ["input", "as", "cond", "limit"], &FILTER)?;
    let input = Node::parse(required(input, "input", &FILTER)?, scope)?;
    let cond = required(cond, "cond", &FILTER)?;
    let limit = limit.map(|l| Node::parse(l, scope)).transpose()?;
    let name = bound_name(as_)?;
    let (slot, cond) =
        scope.with_vars(&[name], |scope, slot| Ok((slot, Node::parse(cond, scope)?)))?;
    Ok(Node::Special(Arc::new(Filter {
        input,
        slot,
        cond,
        limit,
    })))
}

impl Filter {
    /// The limit: `None` when absent or null, else a positive `i32`.
    fn limit(&self, ctx: &Ctx<'_>) -> QueryResult<Option<usize>> {
        let Some(node) = &self.limit else {
            return Ok(None);
        };
        let value = node.eval(ctx)?;
        let Some(value) = value.as_deref() else {
            return Ok(None);
        };
        if matches!(value, Bson::Null | Bson::Undefined) {
            return Ok(None);
        }
        let n = integral_i32(value).ok_or_else(|| {
            QueryError::new(format!(
                "$filter: limit must be represented as a 32-bit integral value: {value}"
            ))
        })?;
        match usize::try_from(n) {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(QueryError::new(format!(
                "$filter: limit must be greater than 0: {n}"
            ))),
        }
    }
}

impl super::special::SpecialForm for Filter {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let Some(input) = input_array(self.input.eval(ctx)?, |v| {
            format!(
                "input to $filter must be an array not {}",
                type_name(Some(v))
            )
        })?
        else {
            return null();
        };
        // The server returns an empty input before it looks at the limit.
        if matches!(&*input, Bson::Array(items) if items.is_empty()) {
            return Ok(Some(input));
        }
        let limit = self.limit(ctx)?;
        let mut inner = ctx.clone();
        let mut out = Vec::new();
        for element in element_bindings(input) {
            if limit.is_some_and(|n| out.len() >= n) {
                break;
            }
            inner.vars.resize(self.slot, None);
            inner.vars.push(Some(element.clone()));
            let keep = is_truthy(self.cond.eval(&inner)?.as_deref());
            // Drop the context's copy so a shared element moves out unclonned.
            inner.vars.truncate(self.slot);
            if keep {
                out.push(element.into_bson());
            }
        }
        Ok(Some(Cow::Owned(Bson::Array(out))))
    }
}

/// `$reduce: {input, initialValue, in}`: folds `in` over the elements with
/// `$$value` (the accumulated value) and `$$this` (the element).
#[derive(Debug)]
struct Reduce {
    /// The array.
    input: Node,
    /// The starting `$$value`.
    initial: Node,
    /// The slot of `$$this`; `$$value` is the next one.
    slot: usize,
    /// The combining expression.
    body: Node,
}

/// `$reduce`'s error wording.
const REDUCE: Wording = Wording {
    not_object: |found| format!("$reduce requires an object as an argument, found: {found}"),
    unknown: |name| format!("$reduce found an unknown argument: {name}"),
    missing: |name| format!("$reduce requires '{name}' to be specified"),
};

/// Parses `$reduce`.
pub(crate) fn parse_reduce(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let [input, initial, body] = named_args(arg, ["input", "initialValue", "in"], &REDUCE)?;
    let input = Node::parse(required(input, "input", &REDUCE)?, scope)?;
    let initial = Node::parse(required(initial, "initialValue", &REDUCE)?, scope)?;
    let body = required(body, "in", &REDUCE)?;
    let names = ["this".to_owned(), "value".to_owned()];
    let (slot, body) =
        scope.with_vars(&names, |scope, slot| Ok((slot, Node::parse(body, scope)?)))?;
    Ok(Node::Special(Arc::new(Reduce {
        input,
        initial,
        slot,
        body,
    })))
}

impl super::special::SpecialForm for Reduce {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let Some(input) = input_array(self.input.eval(ctx)?, |v| {
            format!("$reduce requires that 'input' be an array, found: {v}")
        })?
        else {
            return null();
        };
        let mut value = self.initial.eval(ctx)?;
        let mut inner = ctx.clone();
        for element in element_bindings(input) {
            inner.vars.resize(self.slot, None);
            inner.vars.push(Some(element));
            inner.vars.push(Binding::of(value));
            value = self.body.eval(&inner)?;
        }
        Ok(value)
    }
}
