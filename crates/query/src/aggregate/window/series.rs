//! The window functions for series ordered by the `sortBy` field:
//! `$locf` and `$linearFill` (gap filling), `$expMovingAvg`, `$derivative`
//! and `$integral` (rates and areas, over numbers or over dates with a
//! `unit`), and `$covariancePop` / `$covarianceSamp`.
//!
//! Where the server computes with the expression operators (`$subtract`,
//! `$divide`, … for `$derivative`, `$integral`, `$linearFill`), so do we
//! ([`apply_operator`]), so result types follow the operators' rules;
//! `$integral` adds its trapezoids with the `$sum` accumulator, as the
//! server adds them with its window sum.

use std::borrow::Cow;
use std::ops::Range;

use bson::{Bson, Document};

use super::bounds::{self, Window};
use super::SortBy;
use crate::aggregate::accumulators::{self, AccumulatorSpec};
use crate::aggregate::{Env, ParseCtx};
use crate::compare::decimal_to_f64;
use crate::expr::{apply_operator, type_name, Dec, Expr, Num, TimeUnit};
use crate::{QueryError, QueryResult};

/// The functions of this module, by name.
pub(super) const NAMES: &[&str] = &[
    "$locf",
    "$linearFill",
    "$expMovingAvg",
    "$derivative",
    "$integral",
    "$covariancePop",
    "$covarianceSamp",
];

/// A parsed series function.
#[derive(Debug)]
pub(super) enum Series {
    /// `$locf`: the value, or the last non-null one before it.
    Locf(Expr),
    /// `$linearFill`: the value, or one interpolated between the nearest
    /// non-null values around it.
    LinearFill(Expr),
    /// `$expMovingAvg`: each number weighted `alpha`, the average so far
    /// `1 - alpha`.
    ExpMovingAvg {
        /// The input expression.
        input: Expr,
        /// The weight of each new number, in (0, 1).
        alpha: Dec,
    },
    /// `$derivative`: (last - first input) / (last - first time) over the
    /// window, per `unit` for dates.
    Derivative {
        /// The input expression.
        input: Expr,
        /// The unit's length in milliseconds (dates only).
        unit_ms: Option<i64>,
        /// The window.
        window: Window,
    },
    /// `$integral`: the trapezoidal area under the input over the window.
    Integral {
        /// The input expression.
        input: Expr,
        /// The unit's length in milliseconds (dates only).
        unit_ms: Option<i64>,
        /// The window.
        window: Window,
        /// The `$sum` that adds the trapezoids.
        sum: Box<dyn AccumulatorSpec>,
    },
    /// `$covariancePop` / `$covarianceSamp` of `[x, y]` pairs.
    Covariance {
        /// The expression giving the pair.
        pair: Expr,
        /// Whether this is the sample covariance.
        sample: bool,
        /// The window.
        window: Window,
    },
}

/// The function's argument and its `window`, refusing anything else.
fn split<'a>(name: &str, spec: &'a Document) -> QueryResult<(&'a Bson, Option<&'a Bson>)> {
    let (mut arg, mut window) = (None, None);
    for (field, value) in spec {
        if field == name && arg.is_none() {
            arg = Some(value);
        } else if field == "window" && window.is_none() {
            window = Some(value);
        } else {
            return Err(QueryError::new(format!(
                "{name} got unexpected argument: {field}"
            )));
        }
    }
    let arg = arg.ok_or_else(|| QueryError::new(format!("{name} requires an argument")))?;
    Ok((arg, window))
}

/// Refuses a `window` for the functions that take none.
fn no_window(name: &str, window: Option<&Bson>) -> QueryResult<()> {
    match window {
        Some(_) => Err(QueryError::new(format!(
            "{name} does not accept a 'window' field"
        ))),
        None => Ok(()),
    }
}

/// The single `sortBy` field the functions over a time axis need.
fn require_single_sort(name: &str, sort: Option<&SortBy>) -> QueryResult<()> {
    match sort.map(SortBy::fields) {
        Some([_]) => Ok(()),
        _ => Err(QueryError::new(format!(
            "{name} requires a sortBy that is exactly one field"
        ))),
    }
}

/// Parses `{input, unit}` of `$derivative` and `$integral`; `unit` must be
/// a fixed length (week or shorter: months and years vary).
fn parse_rate_args(name: &str, arg: &Bson, ctx: &ParseCtx) -> QueryResult<(Expr, Option<i64>)> {
    let Bson::Document(args) = arg else {
        return Err(QueryError::new(format!(
            "{name} expects an object, but got a {}",
            type_name(Some(arg))
        )));
    };
    let (mut input, mut unit_ms) = (None, None);
    for (field, value) in args {
        match field.as_str() {
            "input" => input = Some(ctx.expr(value)?),
            "unit" => {
                let unit = TimeUnit::parse(name, value)?;
                let ms = match unit {
                    TimeUnit::Week => 7 * 86_400_000,
                    TimeUnit::Day => 86_400_000,
                    other => other.fixed_ms().ok_or_else(|| {
                        QueryError::new(format!("{name} with unit must be 'week' or smaller"))
                    })?,
                };
                unit_ms = Some(ms);
            }
            other => {
                return Err(QueryError::new(format!(
                    "{name} got unexpected argument: {other}"
                )))
            }
        }
    }
    let input = input.ok_or_else(|| QueryError::new(format!("{name} requires an 'input'")))?;
    Ok((input, unit_ms))
}

/// Parses `$expMovingAvg: {input, N}` or `{input, alpha}`.
fn parse_exp_moving_avg(arg: &Bson, ctx: &ParseCtx) -> QueryResult<Series> {
    let shape = || {
        QueryError::new(
            "$expMovingAvg sub object must have exactly two fields: An 'input' field, and \
             either an 'N' field or an 'alpha' field",
        )
    };
    let Bson::Document(args) = arg else {
        return Err(QueryError::new(
            "$expMovingAvg must have exactly one argument that is an object",
        ));
    };
    if args.len() != 2 {
        return Err(shape());
    }
    let input = ctx.expr(args.get("input").ok_or_else(shape)?)?;
    let alpha = if let Some(n) = args.get("N") {
        let value = Num::of(n).ok_or_else(|| {
            QueryError::new(format!(
                "'N' field must be an integer, but found type {}",
                type_name(Some(n))
            ))
        })?;
        let x = value.to_f64();
        if x.fract() != 0.0 || !x.is_finite() {
            return Err(QueryError::new(format!(
                "'N' field must be an integer, but found  {n}. To use a non-integer, use the \
                 'alpha' argument instead"
            )));
        }
        if x < 1.0 {
            return Err(QueryError::new(format!(
                "'N' must be greater than zero. Got {}",
                x as i64
            )));
        }
        // alpha = 2 / (N + 1), in decimal as the server computes it.
        let n = x.min(i64::MAX as f64) as i64;
        Dec::from_i64(2).div(Dec::from_i64(n.saturating_add(1)))?
    } else if let Some(alpha) = args.get("alpha") {
        let value = Num::of(alpha).ok_or_else(|| QueryError::new("'alpha' must be a number"))?;
        let x = value.to_f64();
        if !(x > 0.0 && x < 1.0) {
            return Err(QueryError::new(format!(
                "'alpha' must be between 0 and 1 (exclusive), found alpha: {alpha}"
            )));
        }
        value.to_dec()?
    } else {
        return Err(shape());
    };
    Ok(Series::ExpMovingAvg { input, alpha })
}

/// Parses one of [`NAMES`] from its output field's specification.
pub(super) fn parse(
    name: &str,
    spec: &Document,
    sort: Option<&SortBy>,
    ctx: &ParseCtx,
) -> QueryResult<Series> {
    let (arg, window) = split(name, spec)?;
    let window_or_whole = |window: Option<&Bson>| match window {
        Some(w) => bounds::parse(w, sort),
        None => Ok(bounds::WHOLE),
    };
    match name {
        "$locf" => {
            no_window(name, window)?;
            Ok(Series::Locf(ctx.expr(arg)?))
        }
        "$linearFill" => {
            no_window(name, window)?;
            require_single_sort(name, sort)?;
            Ok(Series::LinearFill(ctx.expr(arg)?))
        }
        "$expMovingAvg" => {
            no_window(name, window)?;
            if sort.is_none() {
                return Err(QueryError::new(
                    "$expMovingAvg requires an explicit 'sortBy'",
                ));
            }
            parse_exp_moving_avg(arg, ctx)
        }
        "$derivative" => {
            require_single_sort(name, sort)?;
            let (input, unit_ms) = parse_rate_args(name, arg, ctx)?;
            let window = window
                .ok_or_else(|| QueryError::new("$derivative requires explicit window bounds"))?;
            Ok(Series::Derivative {
                input,
                unit_ms,
                window: bounds::parse(window, sort)?,
            })
        }
        "$integral" => {
            require_single_sort(name, sort)?;
            let (input, unit_ms) = parse_rate_args(name, arg, ctx)?;
            Ok(Series::Integral {
                input,
                unit_ms,
                window: window_or_whole(window)?,
                sum: accumulators::parse("$sum", &Bson::String("$area".into()), ctx)?,
            })
        }
        _ => Ok(Series::Covariance {
            pair: ctx.expr(arg)?,
            sample: name == "$covarianceSamp",
            window: window_or_whole(window)?,
        }),
    }
}

/// Whether a value counts as a gap for the fill functions.
fn is_gap(value: Option<&Bson>) -> bool {
    matches!(value, None | Some(Bson::Null | Bson::Undefined))
}

/// `$subtract`, `$divide`, … of evaluated values; missing becomes null.
fn op(name: &str, args: &[Bson]) -> QueryResult<Bson> {
    Ok(apply_operator(name, args)?.unwrap_or(Bson::Null))
}

/// Whether a number is zero (a zero run: no rate).
fn is_zero(value: &Bson) -> bool {
    Num::of(value).is_some_and(|n| n.to_f64() == 0.0)
}

/// Whether a value is a NaN number.
fn is_nan(value: &Bson) -> bool {
    Num::of(value).is_some_and(|n| n.to_f64().is_nan())
}

impl Series {
    /// The function's value for each document of one sorted partition;
    /// `sort_values` are the documents' values of the single `sortBy` field.
    pub(super) fn compute(
        &self,
        docs: &[Document],
        env: &Env,
        sort_values: &dyn Fn() -> QueryResult<Vec<Option<Bson>>>,
    ) -> QueryResult<Vec<Bson>> {
        let eval = |expr: &Expr, doc: &Document| -> QueryResult<Option<Bson>> {
            Ok(expr.eval(&env.ctx(doc))?.map(Cow::into_owned))
        };
        let spans = |window: &Window| window.spans(docs.len(), sort_values);
        match self {
            Series::Locf(input) => {
                let mut last = Bson::Null;
                docs.iter()
                    .map(|doc| {
                        if let Some(value) = eval(input, doc)?.filter(|v| !is_gap(Some(v))) {
                            last = value;
                        }
                        Ok(last.clone())
                    })
                    .collect()
            }
            Series::LinearFill(input) => {
                let ys = docs
                    .iter()
                    .map(|doc| eval(input, doc))
                    .collect::<QueryResult<Vec<_>>>()?;
                linear_fill(&ys, &sort_values()?)
            }
            Series::ExpMovingAvg { input, alpha } => {
                let mut average = Ema::new(*alpha);
                docs.iter()
                    .map(|doc| {
                        if let Some(x) = eval(input, doc)?.as_ref().and_then(Num::of) {
                            average.add(x)?;
                        }
                        average.value()
                    })
                    .collect()
            }
            Series::Derivative {
                input,
                unit_ms,
                window,
            } => {
                let times = sort_values()?;
                spans(window)?
                    .into_iter()
                    .map(|span| match (span.start, span.end.checked_sub(1)) {
                        (first, Some(last)) if first <= last => {
                            let y = |i: usize| {
                                docs.get(i)
                                    .map_or(Ok(None), |doc| eval(input, doc))
                                    .map(|v| v.unwrap_or(Bson::Null))
                            };
                            let t = |i: usize| times.get(i).cloned().flatten();
                            derivative((t(first), y(first)?), (t(last), y(last)?), *unit_ms)
                        }
                        _ => Ok(Bson::Null),
                    })
                    .collect()
            }
            Series::Integral {
                input,
                unit_ms,
                window,
                sum,
            } => {
                let times = sort_values()?;
                let points = docs
                    .iter()
                    .zip(&times)
                    .map(|(doc, t)| integral_point(t.as_ref(), eval(input, doc)?, *unit_ms))
                    .collect::<QueryResult<Vec<_>>>()?;
                let empty = Document::new();
                let init = env.ctx(&empty);
                // The state: the sum of the trapezoids so far, whether one
                // had a NaN, and the last point added.
                type Area = (Box<dyn accumulators::Accumulator>, bool, Option<usize>);
                fold_spans(
                    &spans(window)?,
                    || Ok((sum.start(&init)?, false, None)),
                    |(total, nan, last): &mut Area, i| {
                        let previous = last.replace(i);
                        let (Some(p), Some(q)) =
                            (previous.and_then(|p| points.get(p)), points.get(i))
                        else {
                            return Ok(());
                        };
                        let ((t0, y0), (t1, y1)) = (p, q);
                        if [t0, y0, t1, y1].into_iter().any(is_nan) {
                            *nan = true;
                            return Ok(());
                        }
                        let width = op("$subtract", &[t1.clone(), t0.clone()])?;
                        let height = op("$add", &[y1.clone(), y0.clone()])?;
                        let twice = op("$multiply", &[height, width])?;
                        total.add(Some(&op("$divide", &[twice, Bson::Double(2.0)])?))
                    },
                    |(total, nan, _): &Area| {
                        if *nan {
                            return Ok(Bson::Double(f64::NAN));
                        }
                        // One point has no trapezoid: an area of 0.0, as
                        // the test server answers.
                        let area = match total.result()? {
                            Bson::Int32(0) => Bson::Double(0.0),
                            area => area,
                        };
                        match unit_ms {
                            Some(ms) => op("$divide", &[area, Bson::Int64(*ms)]),
                            None => Ok(area),
                        }
                    },
                )
            }
            Series::Covariance {
                pair,
                sample,
                window,
            } => {
                let pairs = docs
                    .iter()
                    .map(|doc| Ok(numeric_pair(eval(pair, doc)?.as_ref())))
                    .collect::<QueryResult<Vec<_>>>()?;
                fold_spans(
                    &spans(window)?,
                    || Ok(Covariance::default()),
                    |state, i| {
                        if let Some(Some((x, y))) = pairs.get(i) {
                            state.add(*x, *y);
                        }
                        Ok(())
                    },
                    |state| Ok(state.value(*sample)),
                )
            }
        }
    }
}

/// `$linearFill` over the inputs `ys` at the sort values `xs`: a gap
/// between two numbers gets `y0 + (x - x0) * (y1 - y0) / (x1 - x0)`; a
/// gap at either end stays null.
fn linear_fill(ys: &[Option<Bson>], xs: &[Option<Bson>]) -> QueryResult<Vec<Bson>> {
    for y in ys.iter().flatten() {
        if !is_gap(Some(y)) && Num::of(y).is_none() {
            return Err(QueryError::new(format!(
                "Value to $linearFill must be numeric or nullish, but found {}",
                type_name(Some(y))
            )));
        }
    }
    for pair in xs.windows(2) {
        if let [Some(a), Some(b)] = pair {
            if crate::compare::equal(a, b) {
                return Err(QueryError::new(
                    "There can be no repeated values in the sort field",
                ));
            }
        }
    }
    let known: Vec<usize> = (0..ys.len())
        .filter(|i| !is_gap(ys.get(*i).and_then(Option::as_ref)))
        .collect();
    let x = |i: usize| xs.get(i).cloned().flatten().unwrap_or(Bson::Null);
    let y = |i: usize| ys.get(i).cloned().flatten().unwrap_or(Bson::Null);
    (0..ys.len())
        .map(|i| {
            let after = known.partition_point(|k| *k < i);
            if known.get(after) == Some(&i) {
                return Ok(y(i));
            }
            let (Some(before), Some(next)) = (
                after.checked_sub(1).and_then(|b| known.get(b)),
                known.get(after),
            ) else {
                return Ok(Bson::Null);
            };
            let rise = op("$subtract", &[y(*next), y(*before)])?;
            let run = op("$subtract", &[x(*next), x(*before)])?;
            let offset = op("$subtract", &[x(i), x(*before)])?;
            let scaled = op("$multiply", &[offset, rise])?;
            let step = op("$divide", &[scaled, run])?;
            op("$add", &[y(*before), step])
        })
        .collect()
}

/// `$derivative` between the window's first and last `(time, input)`.
fn derivative(
    first: (Option<Bson>, Bson),
    last: (Option<Bson>, Bson),
    unit_ms: Option<i64>,
) -> QueryResult<Bson> {
    let (t0, y0) = first;
    let (t1, y1) = last;
    let (t0, t1) = (t0.unwrap_or(Bson::Null), t1.unwrap_or(Bson::Null));
    let dates = matches!((&t0, &t1), (Bson::DateTime(_), Bson::DateTime(_)));
    if unit_ms.is_some() && !dates {
        return Err(QueryError::new(
            "$derivative with 'unit' expects the sortBy field to be a Date",
        ));
    }
    if unit_ms.is_none() {
        if matches!(t0, Bson::DateTime(_)) || matches!(t1, Bson::DateTime(_)) {
            return Err(QueryError::new(
                "$derivative where the sortBy is a Date requires an 'unit'",
            ));
        }
        if Num::of(&t0).is_none() || Num::of(&t1).is_none() {
            return Err(QueryError::new(
                "$derivative (with no 'unit') expects the sortBy field to be numeric",
            ));
        }
    }
    let run = op("$subtract", &[t1, t0])?;
    let rise = op("$subtract", &[y1, y0])?;
    if is_gap(Some(&rise)) {
        return Err(QueryError::new(
            "$derivative input must not be null or missing",
        ));
    }
    // A one-document window (the partition's first with [-1, 0]) has no run.
    if is_zero(&run) {
        return Ok(Bson::Null);
    }
    let rate = op("$divide", &[rise, run])?;
    match unit_ms {
        Some(ms) => op("$multiply", &[rate, Bson::Int64(ms)]),
        None => Ok(rate),
    }
}

/// Checks one `$integral` point: a numeric input at a number (or, with a
/// unit, a date).
fn integral_point(
    time: Option<&Bson>,
    input: Option<Bson>,
    unit_ms: Option<i64>,
) -> QueryResult<(Bson, Bson)> {
    let time = time.cloned().unwrap_or(Bson::Null);
    let input = input.unwrap_or(Bson::Null);
    let time_ok = Num::of(&time).is_some() || matches!(time, Bson::DateTime(_));
    if Num::of(&input).is_none() || !time_ok {
        return Err(QueryError::new(
            "The input value of $integral window function must be a vector of 2 value, the \
             first value must be numeric or date type and the second must be numeric.",
        ));
    }
    match (unit_ms, &time) {
        (Some(_), Bson::DateTime(_)) | (None, Bson::Int32(_) | Bson::Int64(_)) => {}
        (None, Bson::Double(_) | Bson::Decimal128(_)) => {}
        (Some(_), _) => {
            return Err(QueryError::new(
                "$integral with 'unit' expects the sortBy field to be a Date",
            ))
        }
        (None, _) => {
            return Err(QueryError::new(
                "$integral (with no 'unit') expects the sortBy field to be numeric",
            ))
        }
    }
    Ok((time, input))
}

/// The `[x, y]` of a covariance input when both are numbers.
fn numeric_pair(value: Option<&Bson>) -> Option<(f64, f64)> {
    match value {
        Some(Bson::Array(items)) => match items.as_slice() {
            [x, y] => Some((Num::of(x)?.to_f64(), Num::of(y)?.to_f64())),
            _ => None,
        },
        _ => None,
    }
}

/// A running covariance of numeric pairs, with the running means (one
/// pass, no cancellation from summing products).
#[derive(Debug, Default)]
struct Covariance {
    /// How many pairs.
    n: f64,
    /// The mean of the x's.
    mean_x: f64,
    /// The mean of the y's.
    mean_y: f64,
    /// The sum of the co-moments.
    c: f64,
}

impl Covariance {
    /// Takes one pair.
    fn add(&mut self, x: f64, y: f64) {
        self.n += 1.0;
        let dx = x - self.mean_x;
        self.mean_x += dx / self.n;
        self.mean_y += (y - self.mean_y) / self.n;
        self.c += dx * (y - self.mean_y);
    }

    /// The population (sample) covariance, a double; null without pairs
    /// (or, for the sample covariance, with one).
    fn value(&self, sample: bool) -> Bson {
        let divisor = if sample { self.n - 1.0 } else { self.n };
        if divisor <= 0.0 {
            return Bson::Null;
        }
        Bson::Double(self.c / divisor)
    }
}

/// Runs a state over each span: null for an empty span; the state of the
/// previous span grows when this span starts at the same place and ends no
/// earlier (the whole partition, running windows: O(n) in all), and is
/// made afresh otherwise (O(width): states cannot take a point back out).
fn fold_spans<S>(
    spans: &[Range<usize>],
    mut fresh: impl FnMut() -> QueryResult<S>,
    mut add: impl FnMut(&mut S, usize) -> QueryResult<()>,
    mut answer: impl FnMut(&S) -> QueryResult<Bson>,
) -> QueryResult<Vec<Bson>> {
    let mut current: Option<(S, Range<usize>, Bson)> = None;
    spans
        .iter()
        .map(|span| {
            if span.is_empty() {
                return Ok(Bson::Null);
            }
            match &mut current {
                Some((_, seen, last)) if seen == span => Ok(last.clone()),
                Some((state, seen, last)) if seen.start == span.start && seen.end <= span.end => {
                    for i in seen.end..span.end {
                        add(state, i)?;
                    }
                    *seen = span.clone();
                    *last = answer(state)?;
                    Ok(last.clone())
                }
                _ => {
                    let mut state = fresh()?;
                    for i in span.clone() {
                        add(&mut state, i)?;
                    }
                    let value = answer(&state)?;
                    current = Some((state, span.clone(), value.clone()));
                    Ok(value)
                }
            }
        })
        .collect()
}

/// The running `$expMovingAvg`, in decimal as the server keeps it (a
/// double input counts with 15 digits); doubles out unless an input was a
/// decimal. NaN and the infinities have no decimal here: from one on, the
/// average is kept as a double.
#[derive(Debug)]
struct Ema {
    /// The weight of a new number.
    alpha: Dec,
    /// The average so far: none yet, in decimal, or (after a non-finite
    /// input) as a double.
    current: Option<Result<Dec, f64>>,
    /// Whether an input was a decimal.
    decimal: bool,
}

impl Ema {
    /// An empty average.
    fn new(alpha: Dec) -> Ema {
        Ema {
            alpha,
            current: None,
            decimal: false,
        }
    }

    /// Takes one number.
    fn add(&mut self, x: Num) -> QueryResult<()> {
        self.decimal |= matches!(x, Num::Decimal(_));
        let exact = x.to_dec().ok();
        self.current = Some(match (self.current.take(), exact) {
            (None, Some(x)) => Ok(x),
            (Some(Ok(prev)), Some(x)) => {
                let keep = Dec::from_i64(1).sub(self.alpha)?;
                Ok(x.mul(self.alpha)?.add(prev.mul(keep)?)?)
            }
            (previous, _) => {
                let alpha = dec_to_f64(self.alpha)?;
                let prev = match previous {
                    None => None,
                    Some(Ok(d)) => Some(dec_to_f64(d)?),
                    Some(Err(f)) => Some(f),
                };
                let x = x.to_f64();
                Err(prev.map_or(x, |p| x * alpha + p * (1.0 - alpha)))
            }
        });
        Ok(())
    }

    /// The average so far: null before the first number.
    fn value(&self) -> QueryResult<Bson> {
        Ok(match &self.current {
            None => Bson::Null,
            Some(Err(f)) => Bson::Double(*f),
            Some(Ok(d)) if self.decimal => Bson::Decimal128(d.to_decimal128()?),
            Some(Ok(d)) => Bson::Double(dec_to_f64(*d)?),
        })
    }
}

/// A decimal's nearest double.
fn dec_to_f64(d: Dec) -> QueryResult<f64> {
    Ok(decimal_to_f64(&d.to_decimal128()?))
}
