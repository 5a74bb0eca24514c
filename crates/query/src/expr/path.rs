//! Field paths (`"$a.b"`) and variables (`"$$ROOT.a"`) in expressions.

use std::borrow::Cow;

use bson::Bson;

use super::{corrupt, Binding, Ctx, Root, Scope, Value};
use crate::path::{RawDoc, Value as _};
use crate::{QueryError, QueryResult};

/// How deeply nested arrays a path walks through before giving up.
const MAX_ARRAY_DEPTH: usize = 200;

/// Which variable a path starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Var {
    /// `$$ROOT`, and `$$CURRENT` while no `$let` rebinds it.
    Root,
    /// `$$REMOVE`: always missing.
    Remove,
    /// A user variable, by its slot in [`Ctx::vars`].
    User(usize),
}

/// A compiled `"$a.b"` or `"$$var.a.b"`.
#[derive(Debug, Clone)]
pub(crate) struct FieldPath {
    /// The variable the path starts from.
    var: Var,
    /// The field names after it.
    segments: Vec<String>,
}

/// Checks one field name of a path or of an expression object.
pub(crate) fn validate_field_name(name: &str) -> QueryResult<()> {
    if name.is_empty() {
        return Err(QueryError::new(
            "FieldPath field names may not be empty strings.",
        ));
    }
    if name.starts_with('$') {
        return Err(QueryError::new(
            "FieldPath field names may not start with '$'. Consider using $getField or $setField.",
        ));
    }
    if name.contains('.') {
        return Err(QueryError::new(
            "FieldPath field names may not contain '.'. Consider using $getField or $setField.",
        ));
    }
    if name.contains('\0') {
        return Err(QueryError::new(
            "FieldPath field names may not contain '\\0'.",
        ));
    }
    Ok(())
}

/// Splits a dotted path (without its `$`) into validated segments.
pub(crate) fn split_path(path: &str) -> QueryResult<Vec<String>> {
    if path.is_empty() {
        return Err(QueryError::new(
            "FieldPath cannot be constructed with empty string",
        ));
    }
    if path.ends_with('.') {
        return Err(QueryError::new("FieldPath must not end with a '.'."));
    }
    if path.len() > 200 * 2 && path.split('.').count() > 200 {
        return Err(QueryError::new(
            "FieldPath is too long: more than 200 components",
        ));
    }
    path.split('.')
        .map(|segment| validate_field_name(segment).map(|()| segment.to_owned()))
        .collect()
}

/// What `$$CURRENT` (and so every `"$a.b"`) refers to: `$$ROOT`, unless a
/// `$let` or `$map` in scope rebinds `CURRENT`, as the server allows.
fn current(scope: &Scope) -> Var {
    scope.lookup("CURRENT").map_or(Var::Root, Var::User)
}

impl FieldPath {
    /// Parses a string that starts with `$`.
    pub(crate) fn parse(text: &str, scope: &Scope) -> QueryResult<FieldPath> {
        let Some(rest) = text.strip_prefix('$') else {
            return Err(QueryError::new(format!("'{text}' is not a field path")));
        };
        if rest.is_empty() {
            return Err(QueryError::new("'$' by itself is not a valid FieldPath"));
        }
        let Some(var_path) = rest.strip_prefix('$') else {
            return Ok(FieldPath {
                var: current(scope),
                segments: split_path(rest)?,
            });
        };
        let (name, tail) = match var_path.split_once('.') {
            Some((name, tail)) => (name, Some(tail)),
            None => (var_path, None),
        };
        super::vars::validate_read_name(name)?;
        let var =
            match name {
                "ROOT" => Var::Root,
                "CURRENT" => current(scope),
                "REMOVE" => Var::Remove,
                _ => Var::User(scope.lookup(name).ok_or_else(|| {
                    QueryError::new(format!("Use of undefined variable: {name}"))
                })?),
            };
        let segments = match tail {
            Some(tail) => split_path(tail)?,
            None => Vec::new(),
        };
        Ok(FieldPath { var, segments })
    }

    /// Evaluates: walks documents, and through arrays yields the array of
    /// the values found in their elements (missing ones left out).
    pub(crate) fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        match self.var {
            Var::Remove => Ok(None),
            Var::Root => match (ctx.root, self.segments.split_first()) {
                (root, None) => Ok(Some(Cow::Owned(Bson::Document(
                    root.document()?.into_owned(),
                )))),
                (Root::Doc(doc), Some((first, rest))) => match doc.get(first) {
                    None => Ok(None),
                    Some(v) => walk(v, rest, 0),
                },
                (Root::Raw(raw), Some(_)) => walk_raw(raw, &self.segments),
            },
            Var::User(slot) => {
                let Some(Some(value)) = ctx.vars.get(slot) else {
                    return Ok(None);
                };
                match value {
                    Binding::Borrowed(v) => walk(v, &self.segments, 0),
                    Binding::Shared(v) => {
                        Ok(walk(v, &self.segments, 0)?.map(|v| Cow::Owned(v.into_owned())))
                    }
                }
            }
        }
    }
}

/// Looks `segments` up inside `value`.
fn walk<'a>(value: &'a Bson, segments: &[String], depth: usize) -> QueryResult<Value<'a>> {
    let mut current = value;
    for (i, segment) in segments.iter().enumerate() {
        match current {
            Bson::Document(doc) => match doc.get(segment) {
                Some(next) => current = next,
                None => return Ok(None),
            },
            Bson::Array(items) => {
                return Ok(Some(Cow::Owned(Bson::Array(walk_array(
                    items,
                    &segments[i..],
                    depth,
                )?))))
            }
            _ => return Ok(None),
        }
    }
    Ok(Some(Cow::Borrowed(current)))
}

/// [`walk`] from a raw document: documents are looked into without being
/// decoded, and only the value the path ends on is decoded (or, when the
/// path meets an array, that array, which [`walk_array`] then fans out
/// over exactly as for a decoded document).
fn walk_raw<'a>(doc: RawDoc<'_>, segments: &[String]) -> QueryResult<Value<'a>> {
    let mut doc = doc;
    for (i, segment) in segments.iter().enumerate() {
        let Some(value) = doc.find(segment.as_bytes()).ok_or_else(corrupt)? else {
            return Ok(None);
        };
        let rest = &segments[i + 1..];
        if rest.is_empty() {
            return value
                .decode()
                .map(|v| Some(Cow::Owned(v)))
                .ok_or_else(corrupt);
        }
        if let Some(inner) = value.as_document() {
            doc = inner;
            continue;
        }
        if !value.is_array() {
            return Ok(None);
        }
        let Some(Bson::Array(items)) = value.decode() else {
            return Err(corrupt());
        };
        return Ok(Some(Cow::Owned(Bson::Array(walk_array(&items, rest, 0)?))));
    }
    // No segments: the caller reads the whole document instead.
    Ok(None)
}

/// A path applied to every element of an array: documents are looked into
/// and every other element is skipped, a nested array included, as the
/// server's `ExpressionFieldPath::evaluatePathArray` does (unlike a query
/// filter's path, which also looks into nested arrays' documents):
/// `"$arr.m"` of `[[{m: 1}], {m: 2}, 3, {m: [4, 5]}]` is `[2, [4, 5]]`.
fn walk_array(items: &[Bson], segments: &[String], depth: usize) -> QueryResult<Vec<Bson>> {
    if depth >= MAX_ARRAY_DEPTH {
        return Err(QueryError::new(
            "field path traverses too deeply nested arrays",
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if let Bson::Document(_) = item {
            if let Some(v) = walk(item, segments, depth + 1)? {
                out.push(v.into_owned());
            }
        }
    }
    Ok(out)
}
