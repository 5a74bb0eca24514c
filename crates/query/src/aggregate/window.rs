//! `$setWindowFields`: each document gets fields computed over a window of
//! the documents of its partition.
//!
//! As on the server, the output comes partition by partition (partitions in
//! their key's order, missing keys with null), each in `sortBy` order, ties
//! in input order; without `sortBy`, a partition keeps the input order. The
//! stage blocks: it needs a partition whole before its first window.

mod bounds;
mod functions;
mod series;

use std::borrow::Cow;
use std::collections::HashMap;

use bson::{Bson, Document};

use super::{blocking, set_path, Docs, Env, ParseCtx, Stage};
use crate::compare::{compare, equality_key, Number};
use crate::expr::{path_segments, type_name, Ctx, Expr};
use crate::sort::SortSpec;
use crate::{QueryError, QueryResult};
use functions::Function;

/// The stage's `sortBy`: the order, and its fields for the functions that
/// need a single field (ranks, range windows).
#[derive(Debug)]
pub(super) struct SortBy {
    /// The order within a partition.
    spec: SortSpec,
    /// The fields and whether each is descending, in order.
    fields: Vec<(String, bool)>,
}

impl SortBy {
    /// The fields and whether each is descending.
    fn fields(&self) -> &[(String, bool)] {
        &self.fields
    }
}

/// One output field.
#[derive(Debug)]
struct Output {
    /// The (dotted) field, split.
    path: Vec<String>,
    /// What computes it.
    function: Function,
}

/// `$setWindowFields`.
#[derive(Debug)]
struct SetWindowFields {
    /// The partition key expression; `None` is one partition.
    partition: Option<Expr>,
    /// The order within a partition.
    sort: Option<SortBy>,
    /// The output fields, in specification order.
    outputs: Vec<Output>,
}

/// Parses `$setWindowFields`; `partitionBy` and the functions' expressions
/// may read the variables of `ctx` (inside `$lookup`'s pipeline).
pub(super) fn parse_set_window_fields(arg: &Bson, ctx: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    let Bson::Document(spec) = arg else {
        return Err(QueryError::new(format!(
            "the $setWindowFields stage specification must be an object, found {}",
            type_name(Some(arg))
        )));
    };
    let (mut partition, mut sort, mut output) = (None, None, None);
    for (field, value) in spec {
        match field.as_str() {
            "partitionBy" => partition = Some(ctx.expr(value)?),
            "sortBy" => sort = Some(parse_sort_by(value)?),
            "output" => output = Some(value),
            other => {
                return Err(QueryError::new(format!(
                    "BSON field '$setWindowFields.{other}' is an unknown field."
                )))
            }
        }
    }
    let output = match output {
        Some(Bson::Document(output)) => output,
        Some(other) => return Err(wrong_type("output", other)),
        None => {
            return Err(QueryError::new(
                "BSON field '$setWindowFields.output' is missing but a required field",
            ))
        }
    };
    let mut outputs: Vec<Output> = Vec::with_capacity(output.len());
    for (name, value) in output {
        let path = path_segments(name)?;
        if outputs.iter().any(|o| conflict(&o.path, &path)) {
            return Err(QueryError::new(
                "$setWindowFields 'output' specification contains two conflicting paths",
            ));
        }
        let Bson::Document(function) = value else {
            return Err(QueryError::new(format!(
                "The field '{name}' must be an object"
            )));
        };
        outputs.push(Output {
            path,
            function: functions::parse(function, sort.as_ref(), ctx)?,
        });
    }
    Ok(Box::new(SetWindowFields {
        partition,
        sort,
        outputs,
    }))
}

/// The IDL error for a stage field of the wrong type.
fn wrong_type(field: &str, value: &Bson) -> QueryError {
    QueryError::new(format!(
        "BSON field '$setWindowFields.{field}' is the wrong type '{}', expected type 'object'",
        type_name(Some(value))
    ))
}

/// Parses `sortBy`, with `$sort`'s syntax.
fn parse_sort_by(value: &Bson) -> QueryResult<SortBy> {
    let Bson::Document(spec) = value else {
        return Err(wrong_type("sortBy", value));
    };
    let parsed = SortSpec::parse(spec)?;
    if parsed.is_empty() {
        return Err(QueryError::new(
            "$sort stage must have at least one sort key",
        ));
    }
    let fields = spec
        .iter()
        .map(|(field, direction)| {
            let descending = Number::of(direction).is_some_and(|n| n.as_f64() < 0.0);
            (field.clone(), descending)
        })
        .collect();
    Ok(SortBy {
        spec: parsed,
        fields,
    })
}

/// Whether two output paths are the same or one is inside the other.
fn conflict(a: &[String], b: &[String]) -> bool {
    a.iter().zip(b).all(|(x, y)| x == y)
}

impl Stage for SetWindowFields {
    fn apply<'a>(&'a self, input: Docs<'a>, env: &'a Env) -> Docs<'a> {
        blocking(input, move |input| self.run(input, env))
    }
}

impl SetWindowFields {
    /// Partitions, sorts and computes every output.
    fn run(&self, input: Docs<'_>, env: &Env) -> QueryResult<Vec<Document>> {
        let mut out = Vec::new();
        for partition in self.partitions(input, env)? {
            self.compute(partition, env, &mut out)?;
        }
        Ok(out)
    }

    /// The input split into partitions, in their keys' order, each in input
    /// order.
    fn partitions(&self, input: Docs<'_>, env: &Env) -> QueryResult<Vec<Vec<Document>>> {
        let Some(expr) = &self.partition else {
            return Ok(vec![input.collect::<QueryResult<Vec<_>>>()?]);
        };
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut partitions: Vec<(Bson, Vec<Document>)> = Vec::new();
        for doc in input {
            let doc = doc?;
            let key = expr
                .eval(&env.ctx(&doc))?
                .map_or(Bson::Null, Cow::into_owned);
            if matches!(key, Bson::Array(_)) {
                return Err(QueryError::new(
                    "An expression used to partition cannot evaluate to value of type array",
                ));
            }
            let slot = *index.entry(equality_key(&key)).or_insert_with(|| {
                partitions.push((key, Vec::new()));
                partitions.len() - 1
            });
            if let Some((_, docs)) = partitions.get_mut(slot) {
                docs.push(doc);
            }
        }
        // The server sorts by the key first; equal keys are one partition.
        partitions.sort_by(|(a, _), (b, _)| compare(a, b));
        Ok(partitions.into_iter().map(|(_, docs)| docs).collect())
    }

    /// Sorts one partition, computes its outputs and appends it to `out`.
    fn compute(
        &self,
        mut docs: Vec<Document>,
        env: &Env,
        out: &mut Vec<Document>,
    ) -> QueryResult<()> {
        if let Some(sort) = &self.sort {
            docs.sort_by(|a, b| sort.spec.compare(a, b));
        }
        // Range windows read the single sortBy field's values.
        let sort_values = || -> QueryResult<Vec<Option<Bson>>> {
            let Some([(field, _)]) = self.sort.as_ref().map(SortBy::fields) else {
                return Ok(Vec::new());
            };
            let key = Expr::parse(&Bson::String(format!("${field}")))?;
            docs.iter()
                .map(|doc| Ok(key.eval(&Ctx::new(doc))?.map(Cow::into_owned)))
                .collect()
        };
        let columns = self
            .outputs
            .iter()
            .map(|o| o.function.compute(&docs, env, &sort_values))
            .collect::<QueryResult<Vec<_>>>()?;
        let mut columns: Vec<_> = columns.into_iter().map(Vec::into_iter).collect();
        for mut doc in docs {
            for (output, column) in self.outputs.iter().zip(columns.iter_mut()) {
                set_path(&mut doc, &output.path, column.next().unwrap_or(Bson::Null));
            }
            out.push(doc);
        }
        Ok(())
    }
}
