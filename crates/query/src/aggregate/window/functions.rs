//! Window functions: the accumulators run over windows, `$first` and
//! `$last` (read at the window's ends), the rank functions (`$rank`,
//! `$denseRank`, `$documentNumber`), `$shift`, and the series functions of
//! [`series`](super::series); parsed from an output field's
//! `{<function>: <arg>, window: {...}}`, and computed for every document of
//! one sorted partition at once.

use std::borrow::Cow;
use std::ops::Range;

use bson::{Bson, Document};

use super::bounds::{self, Window};
use super::series::{self, Series};
use super::SortBy;
use crate::aggregate::accumulators::{self, Accumulator, AccumulatorSpec};
use crate::aggregate::{Env, ParseCtx};
use crate::compare::equal;
use crate::expr::{Ctx, Expr};
use crate::{QueryError, QueryResult};

/// Which rank function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rank {
    /// `$rank`: tied documents share a rank, and the next rank skips.
    Gaps,
    /// `$denseRank`: tied documents share a rank, with no gaps.
    Dense,
    /// `$documentNumber`: the position, ties or not.
    Number,
}

/// A parsed window function.
#[derive(Debug)]
pub(super) enum Function {
    /// An accumulator over a window.
    Accumulate {
        /// The accumulator.
        spec: Box<dyn AccumulatorSpec>,
        /// Its window.
        window: Window,
    },
    /// `$first` (`last == false`) or `$last`: the input evaluated on the
    /// window's first (last) document only, null for an empty window.
    ///
    /// MongoDB 5.0 to 8.0 (`WindowFunctionExecFirst`/`Last` in
    /// `window_function_exec_first_last.h`) evaluate the argument on that
    /// one document, not on every document of the window as `$group`'s
    /// accumulator does: an argument that fails on another document does
    /// not fail the stage.
    Endpoint {
        /// The input expression.
        input: Expr,
        /// Whether this is `$last`.
        last: bool,
        /// Its window.
        window: Window,
    },
    /// A series function (`$locf`, `$derivative`, …).
    Series(Series),
    /// A rank function, over the single `sortBy` field's value.
    Rank {
        /// Which one.
        kind: Rank,
        /// The `sortBy` field, as a `$field` expression.
        key: Expr,
    },
    /// `$shift`: `output` evaluated `by` documents away, else `default`.
    Shift {
        /// The expression evaluated on the other document.
        output: Expr,
        /// How far away (negative: before).
        by: i64,
        /// The value when there is no such document.
        default: Bson,
    },
}

/// The window functions the server has that we do not compute:
/// `$minMaxScalar` is new in MongoDB 8.2, past the 8.0 we target.
const UNSUPPORTED: &[&str] = &["$minMaxScalar"];

/// The rank functions, by name.
const RANKS: &[(&str, Rank)] = &[
    ("$rank", Rank::Gaps),
    ("$denseRank", Rank::Dense),
    ("$documentNumber", Rank::Number),
];

/// Whether `name` is a window function the server knows.
fn is_function(name: &str) -> bool {
    name == "$shift"
        || series::NAMES.contains(&name)
        || RANKS.iter().any(|(n, _)| *n == name)
        || accumulators::lookup(name).is_some_and(|d| d.in_windows)
        || UNSUPPORTED.contains(&name)
}

/// Parses an output field's `{<function>: <arg>, window: {...}}`; the first
/// `$`-prefixed field names the function, as for the server. Its
/// expressions may read the variables of `ctx`.
pub(super) fn parse(
    spec: &Document,
    sort: Option<&SortBy>,
    ctx: &ParseCtx,
) -> QueryResult<Function> {
    let Some((name, _)) = spec.iter().find(|(k, _)| k.starts_with('$')) else {
        let first = spec
            .keys()
            .next()
            .map_or(String::new(), |k| format!(", {k}"));
        return Err(QueryError::new(format!(
            "Expected a $-prefixed window function{first}"
        )));
    };
    if !is_function(name) {
        return Err(QueryError::new(format!(
            "Unrecognized window function, {name}"
        )));
    }
    if UNSUPPORTED.contains(&name.as_str()) {
        return Err(QueryError::new(format!(
            "$setWindowFields: the window function {name} is not supported"
        )));
    }
    if let Some((_, kind)) = RANKS.iter().find(|(n, _)| n == name) {
        return parse_rank(spec, name, *kind, sort);
    }
    if name == "$shift" {
        return parse_shift(spec, sort, ctx);
    }
    if series::NAMES.contains(&name.as_str()) {
        return series::parse(name, spec, sort, ctx).map(Function::Series);
    }
    if name == "$first" || name == "$last" {
        return parse_endpoint(spec, name, sort, ctx);
    }
    parse_accumulate(spec, sort, ctx)
}

/// Parses an accumulator window function.
fn parse_accumulate(
    spec: &Document,
    sort: Option<&SortBy>,
    ctx: &ParseCtx,
) -> QueryResult<Function> {
    let mut window = bounds::WHOLE;
    let mut parsed: Option<Box<dyn AccumulatorSpec>> = None;
    for (field, value) in spec {
        if field == "window" {
            window = bounds::parse(value, sort)?;
        } else if is_function(field) {
            if parsed.is_some() {
                return Err(QueryError::new(
                    "Cannot specify two functions in window function spec",
                ));
            }
            let def = accumulators::lookup(field)
                .filter(|d| d.in_windows)
                .ok_or_else(|| {
                    QueryError::new("Cannot specify two functions in window function spec")
                })?;
            parsed = Some(def.parse_arg(value, ctx)?);
        } else {
            return Err(QueryError::new(format!(
                "Window function found an unknown argument: {field}"
            )));
        }
    }
    let spec =
        parsed.ok_or_else(|| QueryError::new("Must specify a window function in output field"))?;
    Ok(Function::Accumulate { spec, window })
}

/// Parses `{$first: <expr>, window}` or `{$last: …}`.
fn parse_endpoint(
    spec: &Document,
    name: &str,
    sort: Option<&SortBy>,
    ctx: &ParseCtx,
) -> QueryResult<Function> {
    let (mut input, mut window) = (None, None);
    for (field, value) in spec {
        if field == name && input.is_none() {
            input = Some(ctx.expr(value)?);
        } else if field == "window" && window.is_none() {
            window = Some(bounds::parse(value, sort)?);
        } else if is_function(field) {
            return Err(QueryError::new(
                "Cannot specify two functions in window function spec",
            ));
        } else {
            return Err(QueryError::new(format!(
                "Window function found an unknown argument: {field}"
            )));
        }
    }
    Ok(Function::Endpoint {
        input: input.ok_or_else(|| QueryError::new("Must specify a window function"))?,
        last: name == "$last",
        window: window.unwrap_or(bounds::WHOLE),
    })
}

/// Parses `{$rank: {}}` & co, which take no window and need exactly one
/// `sortBy` field.
fn parse_rank(
    spec: &Document,
    name: &str,
    kind: Rank,
    sort: Option<&SortBy>,
) -> QueryResult<Function> {
    if spec.len() != 1 {
        return Err(QueryError::new(
            "Rank style window functions take no other arguments",
        ));
    }
    if !matches!(spec.get(name), Some(Bson::Document(d)) if d.is_empty()) {
        return Err(QueryError::new(format!(
            "{name} must be specified with '{{}}' as the value"
        )));
    }
    let Some([(field, _)]) = sort.map(SortBy::fields) else {
        return Err(QueryError::new(format!(
            "{name} must be specified with a top level sortBy expression with exactly one element"
        )));
    };
    let key = Expr::parse(&Bson::String(format!("${field}")))?;
    Ok(Function::Rank { kind, key })
}

/// Parses `{$shift: {output, by, default}}`, which takes no window.
fn parse_shift(spec: &Document, sort: Option<&SortBy>, ctx: &ParseCtx) -> QueryResult<Function> {
    let mut parsed = None;
    for (field, value) in spec {
        if field == "window" {
            return Err(QueryError::new("$shift does not accept a 'window' field"));
        } else if field == "$shift" {
            let Bson::Document(args) = value else {
                return Err(QueryError::new("Argument to $shift must be an object"));
            };
            parsed = Some(parse_shift_args(args, ctx)?);
        } else if is_function(field) {
            return Err(QueryError::new(
                "Cannot specify multiple functions in window function spec",
            ));
        } else {
            return Err(QueryError::new(format!(
                "Window function found an unknown argument: {field}"
            )));
        }
    }
    if sort.is_none() {
        return Err(QueryError::new("'$shift' requires a sortBy"));
    }
    parsed.ok_or_else(|| QueryError::new("$shift requires an 'output' expression."))
}

/// Parses `$shift`'s argument document.
fn parse_shift_args(args: &Document, ctx: &ParseCtx) -> QueryResult<Function> {
    let (mut output, mut by, mut default) = (None, None, Bson::Null);
    for (field, value) in args {
        match field.as_str() {
            "output" => output = Some(ctx.expr(value)?),
            "by" => by = Some(shift_offset(value)?),
            "default" => {
                default = constant(value).ok_or_else(|| {
                    QueryError::new("'$shift:default' expression must yield a constant value.")
                })??;
            }
            _ => return Err(QueryError::new("Unknown argument in $shift")),
        }
    }
    let output =
        output.ok_or_else(|| QueryError::new("$shift requires an 'output' expression."))?;
    let by = by.ok_or_else(|| QueryError::new("$shift requires 'by' as an integer value."))?;
    Ok(Function::Shift {
        output,
        by,
        default,
    })
}

/// `by`: an integer of any numeric type, within int32.
fn shift_offset(value: &Bson) -> QueryResult<i64> {
    let offset = match value {
        Bson::Int32(i) => Some(i64::from(*i)),
        Bson::Int64(i) => i32::try_from(*i).ok().map(i64::from),
        Bson::Double(f) if f.fract() == 0.0 && f.abs() <= f64::from(i32::MAX) => Some(*f as i64),
        _ => None,
    };
    offset.ok_or_else(|| {
        QueryError::new(format!(
            "'$shift:by' field must be an integer, but found  by: {value}"
        ))
    })
}

/// The value of a constant expression (one naming no field or variable),
/// or `None` if it is not constant.
fn constant(value: &Bson) -> Option<QueryResult<Bson>> {
    /// Whether a spec mentions a `$` path or variable anywhere.
    fn mentions_path(value: &Bson) -> bool {
        match value {
            Bson::String(s) => s.starts_with('$'),
            Bson::Array(items) => items.iter().any(mentions_path),
            Bson::Document(d) => d.values().any(mentions_path),
            _ => false,
        }
    }
    if mentions_path(value) {
        return None;
    }
    Some(Expr::parse(value).and_then(|e| Ok(e.evaluate(&Document::new())?.unwrap_or(Bson::Null))))
}

impl Function {
    /// The function's value for each document of one partition, in its
    /// `sortBy` order. `sort_values` are the documents' values of the single
    /// `sortBy` field, when a range window needs them. Expressions see the
    /// variables in `env`.
    pub(super) fn compute(
        &self,
        docs: &[Document],
        env: &Env,
        sort_values: &dyn Fn() -> QueryResult<Vec<Option<Bson>>>,
    ) -> QueryResult<Vec<Bson>> {
        match self {
            Function::Accumulate { spec, window } => {
                let spans = window.spans(docs.len(), sort_values)?;
                accumulate(spec.as_ref(), docs, env, &spans)
            }
            Function::Endpoint {
                input,
                last,
                window,
            } => window
                .spans(docs.len(), sort_values)?
                .into_iter()
                .map(|span| {
                    let at = if *last {
                        span.end.checked_sub(1)
                    } else {
                        Some(span.start)
                    };
                    match at.filter(|_| !span.is_empty()).and_then(|i| docs.get(i)) {
                        Some(doc) => Ok(input
                            .eval(&env.ctx(doc))?
                            .map_or(Bson::Null, Cow::into_owned)),
                        None => Ok(Bson::Null),
                    }
                })
                .collect(),
            Function::Series(function) => function.compute(docs, env, sort_values),
            Function::Rank { kind, key } => rank(*kind, key, docs),
            Function::Shift {
                output,
                by,
                default,
            } => (0..docs.len())
                .map(|i| {
                    let other = i64::try_from(i)
                        .ok()
                        .and_then(|i| i.checked_add(*by))
                        .and_then(|j| usize::try_from(j).ok())
                        .and_then(|j| docs.get(j));
                    match other {
                        Some(doc) => Ok(output
                            .eval(&env.ctx(doc))?
                            .map_or(Bson::Null, Cow::into_owned)),
                        None => Ok(default.clone()),
                    }
                })
                .collect(),
        }
    }
}

/// Runs an accumulator over each document's span.
///
/// Each document's input is evaluated once. Windows that start at the
/// partition's first document (the default window, `["unbounded", …]`
/// running totals and best-so-far values) share one state that only grows:
/// O(n) for the partition. Other windows are accumulated afresh, O(width)
/// each: exact, since the states cannot undo an input (a double sum minus
/// a value is not the sum of the rest).
fn accumulate(
    spec: &dyn AccumulatorSpec,
    docs: &[Document],
    env: &Env,
    spans: &[Range<usize>],
) -> QueryResult<Vec<Bson>> {
    let inputs = docs
        .iter()
        .map(|doc| Ok(spec.input(&env.ctx(doc))?.map(Cow::into_owned)))
        .collect::<QueryResult<Vec<Option<Bson>>>>()?;
    let empty = Document::new();
    let init = env.ctx(&empty);
    let growing =
        spans.iter().all(|s| s.start == 0) && spans.windows(2).all(|w| w[0].end <= w[1].end);
    if growing {
        let mut state: Option<Box<dyn Accumulator>> = None;
        let mut added = 0;
        let mut last: Option<Bson> = None;
        return spans
            .iter()
            .map(|span| {
                if span.is_empty() {
                    return Ok(spec.empty_window());
                }
                let state = match &mut state {
                    Some(state) => state,
                    None => state.insert(spec.start(&init)?),
                };
                if span.end > added || last.is_none() {
                    for input in inputs.get(added..span.end).unwrap_or_default() {
                        state.add(input.as_ref())?;
                    }
                    added = span.end;
                    last = Some(state.result()?);
                }
                Ok(last.clone().unwrap_or(Bson::Null))
            })
            .collect();
    }
    spans
        .iter()
        .map(|span| {
            if span.is_empty() {
                return Ok(spec.empty_window());
            }
            let mut state = spec.start(&init)?;
            for input in inputs.get(span.clone()).unwrap_or_default() {
                state.add(input.as_ref())?;
            }
            state.finish()
        })
        .collect()
}

/// The rank of each document: ties are consecutive documents whose `sortBy`
/// values are equal (null and missing alike, as the manual's example shows).
fn rank(kind: Rank, key: &Expr, docs: &[Document]) -> QueryResult<Vec<Bson>> {
    let mut out = Vec::with_capacity(docs.len());
    let (mut rank, mut dense) = (0usize, 0usize);
    let mut previous: Option<Bson> = None;
    for (i, doc) in docs.iter().enumerate() {
        let value = key
            .eval(&Ctx::new(doc))?
            .map_or(Bson::Null, Cow::into_owned);
        let tied = previous.as_ref().is_some_and(|p| equal(p, &value));
        if !tied {
            rank = i + 1;
            dense += 1;
        }
        let n = match kind {
            Rank::Gaps => rank,
            Rank::Dense => dense,
            Rank::Number => i + 1,
        };
        out.push(i32::try_from(n).map_or(Bson::Int64(n as i64), Bson::Int32));
        previous = Some(value);
    }
    Ok(out)
}
