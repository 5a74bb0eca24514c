//! `$fill`: null and missing fields filled with a value, the last value
//! seen (`locf`) or a linear interpolation (`linear`).
//!
//! The server (`document_source_fill.cpp`) rewrites the stage into a
//! `$setWindowFields` computing `{$locf: "$f"}` / `{$linearFill: "$f"}` for
//! every `method` output, partitioned and sorted as `$fill` says, followed
//! by an `$addFields` of `{$ifNull: ["$f", <value>]}` for every `value`
//! output. This stage has the same two parts: the value part *is* that
//! `$addFields`; the method part partitions and sorts the same way
//! `$setWindowFields` does (partitions in key order, then `sortBy`), and
//! only runs when some output has a method, so a `$fill` of values alone
//! keeps the input order.

use std::borrow::Cow;

use bson::{Bson, Document};

use super::partition::partitions;
use super::{blocking, project, set_path, Docs, Env, ParseCtx, Stage};
use crate::expr::{path_segments, type_name, Expr, Num};
use crate::sort::SortSpec;
use crate::{QueryError, QueryResult};

/// How a `method` output fills its gaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    /// Last observation carried forward.
    Locf,
    /// Linear interpolation between the neighbours in `sortBy` order.
    Linear,
}

/// One `method` output.
#[derive(Debug)]
struct MethodOutput {
    /// Where the result goes.
    path: Vec<String>,
    /// `"$<field>"`: the value filled.
    value: Expr,
    /// How.
    method: Method,
}

/// The `$setWindowFields` part of a `$fill`.
#[derive(Debug)]
struct Methods {
    /// `partitionBy`, or the document of `partitionByFields`.
    partition: Option<Expr>,
    /// `sortBy`, required here.
    sort: SortSpec,
    /// The single `sortBy` field as `"$<field>"`, which `linear` needs.
    sort_key: Option<Expr>,
    /// The outputs.
    outputs: Vec<MethodOutput>,
}

/// `$fill`.
#[derive(Debug)]
struct Fill {
    /// The method outputs, if any.
    methods: Option<Methods>,
    /// The `$addFields` of the value outputs, if any.
    values: Option<Box<dyn Stage>>,
}

impl Stage for Fill {
    fn apply<'a>(&'a self, input: Docs<'a>, env: &'a Env) -> Docs<'a> {
        let filled = match &self.methods {
            Some(methods) => blocking(input, move |input| methods.run(input, env)),
            None => input,
        };
        match &self.values {
            Some(values) => values.apply(filled, env),
            None => filled,
        }
    }
}

/// Whether a value is a gap to fill.
fn is_gap(value: Option<&Bson>) -> bool {
    matches!(value, None | Some(Bson::Null | Bson::Undefined))
}

impl Methods {
    /// Partitions, sorts and fills.
    fn run(&self, input: Docs<'_>, env: &Env) -> QueryResult<Vec<Document>> {
        let parts = partitions(input, |doc| {
            let Some(expr) = &self.partition else {
                return Ok(Bson::Null);
            };
            let key = expr
                .eval(&env.ctx(doc))?
                .map_or(Bson::Null, Cow::into_owned);
            if matches!(key, Bson::Array(_)) {
                return Err(QueryError::new(
                    "An expression used to partition cannot evaluate to value of type array",
                ));
            }
            Ok(key)
        })?;
        let mut out = Vec::new();
        for mut docs in parts {
            docs.sort_by(|a, b| self.sort.compare(a, b));
            let columns = self
                .outputs
                .iter()
                .map(|output| self.column(output, &docs, env))
                .collect::<QueryResult<Vec<_>>>()?;
            for (i, mut doc) in docs.into_iter().enumerate() {
                for (output, column) in self.outputs.iter().zip(&columns) {
                    if let Some(Some(value)) = column.get(i) {
                        set_path(&mut doc, &output.path, value.clone());
                    }
                }
                out.push(doc);
            }
        }
        Ok(out)
    }

    /// One output's values over a sorted partition (`None`: a gap left as
    /// it is).
    fn column(
        &self,
        output: &MethodOutput,
        docs: &[Document],
        env: &Env,
    ) -> QueryResult<Vec<Option<Bson>>> {
        let values = docs
            .iter()
            .map(|doc| Ok(output.value.eval(&env.ctx(doc))?.map(Cow::into_owned)))
            .collect::<QueryResult<Vec<Option<Bson>>>>()?;
        match output.method {
            Method::Locf => Ok(locf(values)),
            Method::Linear => {
                let Some(key) = &self.sort_key else {
                    return Err(linear_sort_error());
                };
                let xs = docs
                    .iter()
                    .map(|doc| Ok(key.eval(&env.ctx(doc))?.map(Cow::into_owned)))
                    .collect::<QueryResult<Vec<Option<Bson>>>>()?;
                linear(&xs, values)
            }
        }
    }
}

/// Each gap takes the last value before it; gaps before any value stay
/// as they are (`None`), as for the test server (null stays null,
/// missing stays missing).
pub(crate) fn locf(values: Vec<Option<Bson>>) -> Vec<Option<Bson>> {
    let mut last: Option<Bson> = None;
    values
        .into_iter()
        .map(|value| {
            if !is_gap(value.as_ref()) {
                last = value;
            }
            last.clone()
        })
        .collect()
}

/// A number or a date as a point on the `sortBy` axis.
fn position(x: Option<&Bson>) -> QueryResult<Num> {
    match x {
        Some(Bson::DateTime(d)) => Ok(Num::Long(d.timestamp_millis())),
        Some(v) => Num::of(v).ok_or_else(|| {
            QueryError::new(format!(
                "$linearFill requires the sortBy field to be numeric or a date, found {}",
                type_name(x)
            ))
        }),
        None => Err(QueryError::new(
            "$linearFill requires the sortBy field to be numeric or a date, found missing",
        )),
    }
}

/// Each gap between two values takes the point on the line between them
/// at its `sortBy` position (`xs`); gaps before the first value or after
/// the last stay as they are (`None`). Values must be numbers.
pub(crate) fn linear(
    xs: &[Option<Bson>],
    values: Vec<Option<Bson>>,
) -> QueryResult<Vec<Option<Bson>>> {
    let known: Vec<usize> = (0..values.len())
        .filter(|&i| !is_gap(values[i].as_ref()))
        .collect();
    for &i in &known {
        if values[i].as_ref().and_then(Num::of).is_none() {
            return Err(QueryError::new(format!(
                "$linearFill only supports numeric types, found {}",
                type_name(values[i].as_ref())
            )));
        }
    }
    let mut out: Vec<Option<Bson>> = values
        .iter()
        .map(|v| v.clone().filter(|v| !is_gap(Some(v))))
        .collect();
    for pair in known.windows(2) {
        let (lo, hi) = (pair[0], pair[1]);
        if hi == lo + 1 {
            continue;
        }
        let (x0, x1) = (position(xs[lo].as_ref())?, position(xs[hi].as_ref())?);
        let (y0, y1) = (num(&values[lo]), num(&values[hi]));
        for (i, slot) in out.iter_mut().enumerate().take(hi).skip(lo + 1) {
            let x = position(xs[i].as_ref())?;
            *slot = Some(interpolate(x, (x0, y0), (x1, y1))?);
        }
    }
    Ok(out)
}

/// The number a known value holds (checked by [`linear`]).
fn num(value: &Option<Bson>) -> Num {
    value.as_ref().and_then(Num::of).unwrap_or(Num::Int(0))
}

/// `y0 + (x - x0) * (y1 - y0) / (x1 - x0)`: a decimal if any operand is
/// one, else a double.
fn interpolate(x: Num, (x0, y0): (Num, Num), (x1, y1): (Num, Num)) -> QueryResult<Bson> {
    let decimal = [x, x0, x1, y0, y1]
        .iter()
        .any(|n| matches!(n, Num::Decimal(_)));
    if decimal {
        let [x, x0, x1, y0, y1] = [x, x0, x1, y0, y1].map(Num::to_dec);
        let (x, x0, x1, y0, y1) = (x?, x0?, x1?, y0?, y1?);
        let y = y0.add(x.sub(x0)?.mul(y1.sub(y0)?)?.div(x1.sub(x0)?)?)?;
        return Ok(Bson::Decimal128(y.to_decimal128()?));
    }
    let [x, x0, x1, y0, y1] = [x, x0, x1, y0, y1].map(Num::to_f64);
    Ok(Bson::Double(y0 + (x - x0) * (y1 - y0) / (x1 - x0)))
}

/// The error for `linear` without a single `sortBy` field.
fn linear_sort_error() -> QueryError {
    QueryError::new("$linearFill requires a sortBy with exactly one field")
}

/// The IDL error for a field of the wrong type.
fn wrong_type(field: &str, value: &Bson, expected: &str) -> QueryError {
    QueryError::new(format!(
        "BSON field '$fill.{field}' is the wrong type '{}', expected type '{expected}'",
        type_name(Some(value))
    ))
}

/// Parses `$fill`.
pub(super) fn parse_fill(arg: &Bson, ctx: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    let Bson::Document(spec) = arg else {
        return Err(QueryError::new(format!(
            "The $fill stage specification must be an object, found {}",
            type_name(Some(arg))
        )));
    };
    let (mut sort_by, mut partition_by, mut partition_fields, mut output) =
        (None, None, None, None);
    for (field, value) in spec {
        match field.as_str() {
            "sortBy" => match value {
                Bson::Document(d) => sort_by = Some(d),
                other => return Err(wrong_type(field, other, "object")),
            },
            "partitionBy" => match value {
                Bson::String(_) | Bson::Document(_) => partition_by = Some(value),
                other => return Err(wrong_type(field, other, "string or object")),
            },
            "partitionByFields" => partition_fields = Some(field_list(value)?),
            "output" => match value {
                Bson::Document(d) => output = Some(d),
                other => return Err(wrong_type(field, other, "object")),
            },
            other => {
                return Err(QueryError::new(format!(
                    "BSON field '$fill.{other}' is an unknown field."
                )))
            }
        }
    }
    let output = output.ok_or_else(|| {
        QueryError::new("BSON field '$fill.output' is missing but a required field")
    })?;
    if output.is_empty() {
        return Err(QueryError::new(
            "The output field in '$fill' must contain an object with at least one element",
        ));
    }
    let mut methods = Vec::new();
    let mut values = Document::new();
    for (name, spec) in output {
        let (method, value) = parse_output(spec)?;
        if let Some(method) = method {
            methods.push(MethodOutput {
                path: path_segments(name)?,
                value: ctx.expr(&Bson::String(format!("${name}")))?,
                method,
            });
        }
        if let Some(value) = value {
            values.insert(
                name.clone(),
                bson::bson!({ "$ifNull": [format!("${name}"), value.clone()] }),
            );
        }
    }
    let partition =
        match (partition_by, partition_fields) {
            (Some(_), Some(_)) => return Err(QueryError::new(
                "Maximum one of 'partitionBy' and 'partitionByFields can be specified in '$fill'",
            )),
            (Some(expr), None) => Some(ctx.expr(expr)?),
            (None, Some(fields)) => {
                let mut key = Document::new();
                for field in fields {
                    key.insert(field.clone(), format!("${field}"));
                }
                Some(ctx.expr(&Bson::Document(key))?)
            }
            (None, None) => None,
        };
    let methods = if methods.is_empty() {
        None
    } else {
        let sort_spec = sort_by.ok_or_else(|| {
            QueryError::new("'sortBy' is required in $fill when an output uses a 'method'")
        })?;
        let sort = SortSpec::parse(sort_spec)?;
        let sort_key = match sort_spec.keys().collect::<Vec<_>>().as_slice() {
            [field] => Some(ctx.expr(&Bson::String(format!("${field}")))?),
            _ => None,
        };
        if sort_key.is_none() && methods.iter().any(|m| m.method == Method::Linear) {
            return Err(linear_sort_error());
        }
        Some(Methods {
            partition,
            sort,
            sort_key,
            outputs: methods,
        })
    };
    let values = if values.is_empty() {
        None
    } else {
        Some(project::parse_add_fields(&Bson::Document(values), ctx)?)
    };
    Ok(Box::new(Fill { methods, values }))
}

/// One `output` field: `{method: "locf" | "linear"}` or `{value: <expr>}`.
fn parse_output(spec: &Bson) -> QueryResult<(Option<Method>, Option<&Bson>)> {
    let Bson::Document(spec) = spec else {
        return Err(QueryError::new(
            "Each fill output specification must be an object with exactly one field",
        ));
    };
    let (mut method, mut value) = (None, None);
    for (field, arg) in spec {
        match field.as_str() {
            "method" => {
                method = Some(match arg {
                    Bson::String(s) if s == "locf" => Method::Locf,
                    Bson::String(s) if s == "linear" => Method::Linear,
                    Bson::String(_) => {
                        return Err(QueryError::new("Method must be either locf or linear"))
                    }
                    other => return Err(wrong_type("output.method", other, "string")),
                })
            }
            "value" => value = Some(arg),
            other => {
                return Err(QueryError::new(format!(
                    "BSON field '$fill.output.{other}' is an unknown field."
                )))
            }
        }
    }
    if method.is_some() && value.is_some() {
        return Err(QueryError::new(
            "Each fill output specification must have exactly one of 'method' or 'value' fields, \
             not both",
        ));
    }
    Ok((method, value))
}

/// `partitionByFields`: an array of field names.
pub(super) fn field_list(value: &Bson) -> QueryResult<Vec<String>> {
    let Bson::Array(items) = value else {
        return Err(QueryError::new(format!(
            "partitionByFields must be an array of strings, found {}",
            type_name(Some(value))
        )));
    };
    items
        .iter()
        .map(|item| match item {
            Bson::String(s) => {
                path_segments(s)?;
                Ok(s.clone())
            }
            other => Err(QueryError::new(format!(
                "partitionByFields must be an array of strings, found {}",
                type_name(Some(other))
            ))),
        })
        .collect()
}
