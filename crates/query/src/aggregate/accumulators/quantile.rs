//! `$median` and `$percentile`, with `method: "approximate"`.
//!
//! The server's approximate method is a t-digest. Until a group holds
//! thousands of values every t-digest centroid is a single value, and the
//! digest then answers exactly the discrete (nearest-rank) percentile: the
//! value at rank `ceil(p * n) - 1` of the sorted numbers, the smallest for
//! `p = 0` and the largest for `p = 1`. That is what we compute, at every
//! size. Numbers of every type count as doubles, NaN is skipped, anything
//! else is ignored, and the results are doubles.
//!
//! Both are also expressions (MongoDB 7.0+), over an array or a single
//! number of the current document ([`Quantile::over_value`]): the same
//! parser and the same nearest-rank answer, as the server's
//! `ExpressionFromAccumulatorQuantile` uses the discrete percentile for the
//! approximate method.

use bson::{Bson, Document};

use super::{missing_field, object_argument, unknown_field, Accumulator, AccumulatorSpec, Compile};
use crate::aggregate::ParseCtx;
use crate::expr::{Ctx, Expr, Num, Value};
use crate::{QueryError, QueryResult};

/// A parsed `$median` (`ps` is `[0.5]`, and the result is one value) or
/// `$percentile`.
#[derive(Debug)]
pub(crate) struct Quantile {
    /// The input expression.
    input: Expr,
    /// The percentiles asked for, each in `[0, 1]`.
    ps: Vec<f64>,
    /// Whether this is `$median`, whose result is not an array.
    median: bool,
}

impl AccumulatorSpec for Quantile {
    fn input<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        self.input.eval(ctx)
    }

    fn start(&self, _: &Ctx<'_>) -> QueryResult<Box<dyn Accumulator>> {
        Ok(Box::new(self.sorted()))
    }
}

/// Parses `$median: {input, method}`.
pub(super) fn parse_median(
    name: &'static str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    Ok(Box::new(parse_quantile(
        name,
        arg,
        &mut |v| ctx.expr(v),
        true,
    )?))
}

/// Parses `$percentile: {input, p, method}`.
pub(super) fn parse_percentile(
    name: &'static str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    Ok(Box::new(parse_quantile(
        name,
        arg,
        &mut |v| ctx.expr(v),
        false,
    )?))
}

/// Parses the expression `{$median: {input, method}}` or `{$percentile:
/// {input, p, method}}` (`name` says which), compiling `input` with
/// `compile`.
pub(crate) fn parse_expression(
    name: &str,
    arg: &Bson,
    compile: &mut Compile<'_>,
) -> QueryResult<Quantile> {
    parse_quantile(name, arg, compile, name == "$median")
}

/// Parses either, checking the fields in the server's order: unknown
/// fields, then `input`, `p`, `method`.
fn parse_quantile(
    name: &str,
    arg: &Bson,
    compile: &mut Compile<'_>,
    median: bool,
) -> QueryResult<Quantile> {
    let spec = object_argument(name, arg)?;
    let known: &[&str] = if median {
        &["input", "method"]
    } else {
        &["input", "p", "method"]
    };
    if let Some(field) = spec.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(unknown_field(name, field));
    }
    let input = compile(
        spec.get("input")
            .ok_or_else(|| missing_field(name, "input"))?,
    )?;
    let ps = if median {
        vec![0.5]
    } else {
        parse_ps(spec.get("p").ok_or_else(|| missing_field(name, "p"))?)?
    };
    match spec.get("method") {
        None => return Err(missing_field(name, "method")),
        Some(Bson::String(m)) if m == "approximate" => {}
        Some(Bson::String(_)) => {
            return Err(QueryError::new(
                "Currently only 'approximate' can be used as percentile 'method'.",
            ))
        }
        Some(other) => {
            return Err(QueryError::new(format!(
                "BSON field '{name}.method' is the wrong type '{}', expected type 'string'",
                crate::expr::type_name(Some(other))
            )))
        }
    }
    Ok(Quantile { input, ps, median })
}

impl Quantile {
    /// The expression form over the evaluated `input`: a number is every
    /// percentile of itself (NaN included, as on the server); an array
    /// gives the percentiles of its numbers (NaN skipped); anything else
    /// has no numbers, so null.
    pub(crate) fn over_value(&self, value: Option<&Bson>) -> Bson {
        let mut state = self.sorted();
        match value {
            Some(Bson::Array(items)) => {
                // Sorted once: an array can be long.
                state.values = items
                    .iter()
                    .filter_map(Num::of)
                    .map(Num::to_f64)
                    .filter(|x| !x.is_nan())
                    .collect();
                state.values.sort_by(f64::total_cmp);
            }
            Some(single) => {
                if let Some(x) = Num::of(single).map(Num::to_f64) {
                    state.values.push(x);
                }
            }
            None => {}
        }
        state.answer()
    }

    /// An empty state for these percentiles.
    fn sorted(&self) -> Sorted {
        Sorted {
            ps: self.ps.clone(),
            median: self.median,
            values: Vec::new(),
        }
    }

    /// Evaluates `input` (for the expression form).
    pub(crate) fn input<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        self.input.eval(ctx)
    }
}

/// Parses `p`: a constant, non-empty array of numbers in `[0, 1]`.
fn parse_ps(p: &Bson) -> QueryResult<Vec<f64>> {
    let complaint = |found: &dyn std::fmt::Display| {
        QueryError::new(format!(
            "The $percentile 'p' field must be an array of numbers from [0.0, 1.0], but found: \
             {found}"
        ))
    };
    // Elements may be constant expressions; a field path is not constant.
    let value = Expr::parse(p)?.evaluate(&Document::new())?.ok_or_else(|| {
        QueryError::new(format!(
            "The $percentile 'p' field must be an array of constant values, but found \
                 value: {p}."
        ))
    })?;
    let items = match &value {
        Bson::Array(items) if !items.is_empty() => items,
        other => return Err(complaint(other)),
    };
    items
        .iter()
        .map(|item| {
            let x = Num::of(item).ok_or_else(|| complaint(item))?.to_f64();
            if (0.0..=1.0).contains(&x) {
                Ok(x)
            } else {
                Err(complaint(&x))
            }
        })
        .collect()
}

/// The numbers seen, kept sorted so a growing window can ask cheaply.
#[derive(Debug)]
struct Sorted {
    /// The percentiles asked for.
    ps: Vec<f64>,
    /// Whether to answer one value rather than an array.
    median: bool,
    /// The numbers, ascending (NaN is never kept).
    values: Vec<f64>,
}

impl Sorted {
    /// Keeps a number (but not NaN); ignores anything else.
    fn take(&mut self, value: &Bson) {
        let Some(x) = Num::of(value).map(Num::to_f64) else {
            return;
        };
        if !x.is_nan() {
            let at = self.values.partition_point(|v| *v <= x);
            self.values.insert(at, x);
        }
    }

    /// The percentiles of the numbers kept: one double for `$median`, an
    /// array for `$percentile`, null where there are no numbers.
    fn answer(&self) -> Bson {
        let at = |p: f64| -> Bson {
            let n = self.values.len();
            // The nearest rank, 1-based: ceil(p * n), at least 1, at most n.
            let rank = (p * n as f64).ceil();
            let index = if rank <= 1.0 {
                0
            } else {
                (rank as usize - 1).min(n.saturating_sub(1))
            };
            self.values
                .get(index)
                .map_or(Bson::Null, |v| Bson::Double(*v))
        };
        if self.median {
            return at(0.5);
        }
        Bson::Array(self.ps.iter().map(|p| at(*p)).collect())
    }
}

impl Accumulator for Sorted {
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()> {
        if let Some(value) = value {
            self.take(value);
        }
        Ok(())
    }

    fn result(&self) -> QueryResult<Bson> {
        Ok(self.answer())
    }
}
