//! `$lookup`: a left outer join with another experiment, which adds to
//! each document the array of the foreign documents it joins.
//!
//! Three forms, as on the server:
//! - `localField`/`foreignField`: the foreign documents whose
//!   `foreignField` equals one of the values at `localField` (an array
//!   there joins on each element; a missing or empty one joins as null),
//!   matched exactly as a `$match` on the foreign side would;
//! - `let`/`pipeline`: a sub-pipeline over every foreign document, in
//!   which `$$<name>` reads the `let` expressions evaluated on the input
//!   document;
//! - both: the equality join first, then the pipeline over its matches.

use std::borrow::Cow;
use std::collections::BTreeSet;

use bson::{doc, Bson, Document};

use super::{map_each, set_path, sub_pipeline_specs, Docs, Env, ParseCtx, Pipeline, Stage};
use crate::expr::{path_segments, type_name, Expr};
use crate::filter::Filter;
use crate::path::array_index;
use crate::{QueryError, QueryResult};

/// `$lookup`.
#[derive(Debug)]
struct Lookup {
    /// The foreign experiment.
    from: String,
    /// Where the joined array goes.
    as_path: Vec<String>,
    /// The `localField`/`foreignField` equality, if given.
    equality: Option<Equality>,
    /// The `let` expressions, evaluated on the input document; their
    /// variables follow those already in scope.
    lets: Vec<Expr>,
    /// The sub-pipeline over the foreign documents, if given.
    pipeline: Option<Pipeline>,
}

/// The `localField`/`foreignField` join condition.
#[derive(Debug)]
struct Equality {
    /// The `localField` path.
    local: Vec<String>,
    /// The `foreignField` path, as the foreign-side query names it.
    foreign: String,
}

impl Stage for Lookup {
    fn apply<'a>(&'a self, input: Docs<'a>, env: &'a Env) -> Docs<'a> {
        map_each(input, move |mut doc| {
            let joined = self.join(&doc, env)?;
            set_path(&mut doc, &self.as_path, Bson::Array(joined));
            Ok(Some(doc))
        })
    }

    fn foreign(&self, experiments: &mut BTreeSet<String>) {
        experiments.insert(self.from.clone());
        if let Some(pipeline) = &self.pipeline {
            experiments.extend(pipeline.foreign());
        }
    }
}

impl Lookup {
    /// The foreign documents (or pipeline results) joined to `doc`.
    fn join(&self, doc: &Document, env: &Env) -> QueryResult<Vec<Bson>> {
        let foreign = env.experiment(&self.from);
        let mut matched = Vec::new();
        match &self.equality {
            Some(equality) => {
                let filter = equality.filter(doc)?;
                for candidate in foreign {
                    if filter.matches(candidate)? {
                        matched.push(candidate.clone());
                    }
                }
            }
            None => matched.extend(foreign.iter().cloned()),
        }
        let Some(pipeline) = &self.pipeline else {
            return Ok(matched.into_iter().map(Bson::Document).collect());
        };
        let ctx = env.ctx(doc);
        let values = self
            .lets
            .iter()
            .map(|expr| Ok(expr.eval(&ctx)?.map(Cow::into_owned)))
            .collect::<QueryResult<Vec<_>>>()?;
        let inner = env.with_vars(values);
        pipeline
            .stream(Box::new(matched.into_iter().map(Ok)), &inner)
            .map(|result| result.map(Bson::Document))
            .collect()
    }
}

impl Equality {
    /// The foreign-side query for one input document: `foreignField`
    /// equal to any value at `localField` (null when there is none). A
    /// `$or` of `$eq`s rather than `$in`, so a regular expression only
    /// equals a regular expression, as on the server.
    fn filter(&self, doc: &Document) -> QueryResult<Filter> {
        let mut values = Vec::new();
        values_at_path(doc, &self.local, &mut values);
        if values.is_empty() {
            values.push(Bson::Null);
        }
        let clauses: Vec<Bson> = values
            .into_iter()
            .map(|value| {
                let mut clause = Document::new();
                clause.insert(self.foreign.clone(), doc! {"$eq": value});
                Bson::Document(clause)
            })
            .collect();
        Filter::parse(&doc! {"$or": clauses})
    }
}

/// Collects every value at `path` in `doc` as the server's `$lookup` does:
/// numeric segments index arrays, arrays on the way are searched
/// element-wise (documents only; nested arrays are not entered), and an
/// array at the end contributes its elements.
fn values_at_path(doc: &Document, path: &[String], out: &mut Vec<Bson>) {
    let Some((first, mut rest)) = path.split_first() else {
        return;
    };
    // The first segment is a field name even when numeric.
    let Some(mut next) = doc.get(first) else {
        return;
    };
    while let (Bson::Array(items), Some((segment, after))) = (next, rest.split_first()) {
        let Some(index) = array_index(segment) else {
            break;
        };
        match items.get(index) {
            Some(item) => next = item,
            None => return,
        }
        rest = after;
    }
    if rest.is_empty() {
        match next {
            Bson::Array(items) => out.extend(items.iter().cloned()),
            value => out.push(value.clone()),
        }
        return;
    }
    match next {
        Bson::Array(items) => {
            for item in items {
                if let Bson::Document(sub) = item {
                    values_at_path(sub, rest, out);
                }
            }
        }
        Bson::Document(sub) => values_at_path(sub, rest, out),
        _ => {}
    }
}

/// Checks a `let` variable name as the server does for user variables:
/// a lowercase ASCII letter or non-ASCII character first, then letters,
/// digits, `_` or non-ASCII characters.
fn check_variable_name(name: &str) -> QueryResult<()> {
    let Some(first) = name.chars().next() else {
        return Err(QueryError::new("empty variable names are not allowed"));
    };
    if name == "CURRENT" {
        return Err(QueryError::new(
            "rebinding $$CURRENT in $lookup's 'let' is not supported",
        ));
    }
    if first.is_ascii() && !first.is_ascii_lowercase() {
        return Err(QueryError::new(format!(
            "'{name}' starts with an invalid character for a user variable name"
        )));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || !c.is_ascii()))
    {
        return Err(QueryError::new(format!(
            "'{name}' contains an invalid character for a variable name: '{bad}'"
        )));
    }
    Ok(())
}

/// The raw fields of a `$lookup` specification.
#[derive(Default)]
struct Spec<'a> {
    from: Option<&'a str>,
    as_field: Option<&'a str>,
    local: Option<&'a str>,
    foreign: Option<&'a str>,
    lets: Option<&'a Document>,
    pipeline: Option<&'a Bson>,
}

/// Reads the fields of a `$lookup` specification, checking their types.
fn read_spec(spec: &Document) -> QueryResult<Spec<'_>> {
    let mut out = Spec::default();
    for (key, value) in spec {
        match (key.as_str(), value) {
            ("pipeline", value) => out.pipeline = Some(value),
            ("let", Bson::Document(lets)) => out.lets = Some(lets),
            ("let", other) => {
                return Err(QueryError::new(format!(
                    "$lookup argument 'let: {other}' must be an object, is type {}",
                    type_name(Some(other))
                )))
            }
            ("from", Bson::String(s)) => out.from = Some(s),
            ("from", other) => {
                return Err(QueryError::new(format!(
                    "$lookup 'from' field must be a string, but found {}",
                    type_name(Some(other))
                )))
            }
            ("as" | "localField" | "foreignField", Bson::String(s)) => match key.as_str() {
                "as" => out.as_field = Some(s),
                "localField" => out.local = Some(s),
                _ => out.foreign = Some(s),
            },
            ("as" | "localField" | "foreignField", other) => {
                return Err(QueryError::new(format!(
                    "$lookup argument '{key}' must be a string, found {other}: {}",
                    type_name(Some(other))
                )))
            }
            _ => {
                return Err(QueryError::new(format!(
                    "unknown argument to $lookup: {key}"
                )))
            }
        }
    }
    Ok(out)
}

/// Parses `$lookup` in any of its forms.
pub(super) fn parse_lookup(arg: &Bson, ctx: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    let Bson::Document(spec) = arg else {
        return Err(QueryError::new(format!(
            "the $lookup stage specification must be an object, but found {}",
            type_name(Some(arg))
        )));
    };
    let fields = read_spec(spec)?;
    let from = fields.from.ok_or_else(|| {
        QueryError::new(format!(
            "missing 'from' option to $lookup stage specification: {spec}"
        ))
    })?;
    let as_field = fields
        .as_field
        .filter(|s| !s.is_empty())
        .ok_or_else(|| QueryError::new("must specify 'as' field for a $lookup"))?;
    // An empty localField/foreignField counts as not given, as on the server.
    let local = fields.local.filter(|s| !s.is_empty());
    let foreign = fields.foreign.filter(|s| !s.is_empty());
    let equality = match (local, foreign) {
        (Some(local), Some(foreign)) => Some(Equality {
            local: path_segments(local)?,
            foreign: {
                path_segments(foreign)?;
                foreign.to_owned()
            },
        }),
        (None, None) => None,
        _ => {
            return Err(QueryError::new(
                "$lookup requires both or neither of 'localField' and 'foreignField' to be \
                 specified",
            ))
        }
    };
    if equality.is_none() && fields.pipeline.is_none() {
        return Err(QueryError::new(
            "$lookup requires either 'pipeline' or both 'localField' and 'foreignField' to be \
             specified",
        ));
    }
    if fields.lets.is_some() && fields.pipeline.is_none() {
        return Err(QueryError::new(
            "$lookup with a 'let' argument must also specify 'pipeline'",
        ));
    }
    let mut names = Vec::new();
    let mut lets = Vec::new();
    for (name, value) in fields.lets.into_iter().flatten() {
        check_variable_name(name)?;
        // The `let` expressions see only the variables already in scope.
        lets.push(ctx.expr(value)?);
        names.push(name.clone());
    }
    let pipeline = match fields.pipeline {
        Some(arg) => {
            let specs = sub_pipeline_specs("$lookup's 'pipeline'", arg)?;
            Some(Pipeline::parse_in(&specs, &ctx.sub_pipeline(&names)?)?)
        }
        None => None,
    };
    Ok(Box::new(Lookup {
        from: from.to_owned(),
        as_path: path_segments(as_field)?,
        equality,
        lets,
        pipeline,
    }))
}
