//! `$firstN`, `$lastN`, `$minN` and `$maxN`: `{n: <expr>, input: <expr>}`.
//!
//! `$firstN`/`$lastN` keep null and turn missing into null; `$minN`/`$maxN`
//! ignore null and missing. `n` is evaluated once per group (it may depend
//! on the group's `_id`) and must be a positive integer.
//!
//! The same four are array expressions (`{$project: {top: {$maxN: {n: 2,
//! input: "$scores"}}}}`): as the server's `ExpressionFromAccumulatorN`
//! does, the expression runs these accumulators over the array's elements
//! ([`NSpec::over_array`]), so both forms share one parser and one state.

use std::cmp::Ordering;
use std::collections::VecDeque;

use bson::Bson;

use super::{eval_owned, object_argument, shown, Accumulator, AccumulatorSpec, Compile};
use crate::aggregate::ParseCtx;
use crate::compare::compare;
use crate::expr::{Ctx, Expr, Num, Value};
use crate::{QueryError, QueryResult};

/// Which of the four accumulators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `$firstN`.
    First,
    /// `$lastN`.
    Last,
    /// `$minN`.
    Min,
    /// `$maxN`.
    Max,
}

/// A parsed `{n, input}`.
#[derive(Debug)]
pub(crate) struct NSpec {
    /// Which accumulator.
    kind: Kind,
    /// The `n` expression.
    n: Expr,
    /// The `input` expression.
    input: Expr,
}

impl AccumulatorSpec for NSpec {
    fn input<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        self.input.eval(ctx)
    }

    fn start(&self, init: &Ctx<'_>) -> QueryResult<Box<dyn Accumulator>> {
        let n = validate_n(eval_owned(&self.n, init)?.as_ref())?;
        Ok(match self.kind {
            Kind::First => Box::new(FirstN {
                n,
                values: Vec::new(),
            }),
            Kind::Last => Box::new(LastN {
                n,
                values: VecDeque::new(),
            }),
            Kind::Min | Kind::Max => Box::new(Extremes {
                n,
                max: self.kind == Kind::Max,
                values: Vec::new(),
            }),
        })
    }
}

/// Parses `$firstN`.
pub(super) fn parse_first_n(
    name: &'static str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    parse_n(name, arg, ctx, Kind::First)
}

/// Parses `$lastN`.
pub(super) fn parse_last_n(
    name: &'static str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    parse_n(name, arg, ctx, Kind::Last)
}

/// Parses `$minN`.
pub(super) fn parse_min_n(
    name: &'static str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    parse_n(name, arg, ctx, Kind::Min)
}

/// Parses `$maxN`.
pub(super) fn parse_max_n(
    name: &'static str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    parse_n(name, arg, ctx, Kind::Max)
}

/// Parses `{n, input}` with the server's messages.
fn parse_n(
    name: &str,
    arg: &Bson,
    ctx: &ParseCtx,
    kind: Kind,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    Ok(Box::new(parse_spec(name, arg, &mut |v| ctx.expr(v), kind)?))
}

/// Parses the expression `{$firstN | $lastN | $minN | $maxN: {n, input}}`
/// (`name` says which), compiling its expressions with `compile`.
pub(crate) fn parse_expression(
    name: &str,
    arg: &Bson,
    compile: &mut Compile<'_>,
) -> QueryResult<NSpec> {
    let kind = match name {
        "$firstN" => Kind::First,
        "$lastN" => Kind::Last,
        "$minN" => Kind::Min,
        "$maxN" => Kind::Max,
        other => {
            return Err(QueryError::new(format!(
                "Unrecognized expression '{other}'"
            )))
        }
    };
    parse_spec(name, arg, compile, kind)
}

/// Parses `{n, input}`, compiling each expression with `compile`.
fn parse_spec(name: &str, arg: &Bson, compile: &mut Compile<'_>, kind: Kind) -> QueryResult<NSpec> {
    let spec = object_argument(name, arg)?;
    let (mut n, mut input) = (None, None);
    for (field, value) in spec {
        match field.as_str() {
            "n" => n = Some(compile(value)?),
            "input" => input = Some(compile(value)?),
            other => {
                return Err(QueryError::new(format!(
                    "Unknown argument for 'n' operator: {other}"
                )))
            }
        }
    }
    let n = n.ok_or_else(|| QueryError::new("Missing value for 'n'"))?;
    let input = input.ok_or_else(|| QueryError::new("Missing value for 'input'"))?;
    Ok(NSpec { kind, n, input })
}

impl NSpec {
    /// The expression form: `n` and `input` evaluated against the document,
    /// then the accumulator run over the elements of `input`, which must be
    /// an array (null and missing too are refused, as by the server).
    pub(crate) fn over_array(&self, ctx: &Ctx<'_>) -> QueryResult<Bson> {
        let mut state = self.start(ctx)?;
        match self.input.eval(ctx)?.as_deref() {
            Some(Bson::Array(items)) => {
                for item in items {
                    state.add(Some(item))?;
                }
                state.finish()
            }
            _ => Err(QueryError::new("Input must be an array")),
        }
    }
}

/// Checks an evaluated `n`: a number with an integral value, above zero.
pub(super) fn validate_n(value: Option<&Bson>) -> QueryResult<usize> {
    let not_integral = || {
        QueryError::new(format!(
            "Value for 'n' must be of integral type, but found {}",
            shown(value)
        ))
    };
    let x = value.and_then(Num::of).ok_or_else(not_integral)?.to_f64();
    if x.fract() != 0.0 || !x.is_finite() {
        return Err(not_integral());
    }
    if x < 1.0 {
        return Err(QueryError::new(format!(
            "'n' must be greater than 0, found {}",
            // In range after the check above, or saturated: fine to show.
            x as i64
        )));
    }
    // A count larger than memory can hold only means "all of them".
    Ok(if x >= usize::MAX as f64 {
        usize::MAX
    } else {
        x as usize
    })
}

/// `$firstN`: the first `n` inputs.
#[derive(Debug)]
struct FirstN {
    /// How many to keep.
    n: usize,
    /// The values kept.
    values: Vec<Bson>,
}

impl Accumulator for FirstN {
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()> {
        if self.values.len() < self.n {
            self.values.push(value.cloned().unwrap_or(Bson::Null));
        }
        Ok(())
    }

    fn result(&self) -> QueryResult<Bson> {
        Ok(Bson::Array(self.values.clone()))
    }

    fn finish(&mut self) -> QueryResult<Bson> {
        Ok(Bson::Array(std::mem::take(&mut self.values)))
    }
}

/// `$lastN`: the last `n` inputs.
#[derive(Debug)]
struct LastN {
    /// How many to keep.
    n: usize,
    /// The values kept, oldest first.
    values: VecDeque<Bson>,
}

impl Accumulator for LastN {
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()> {
        self.values.push_back(value.cloned().unwrap_or(Bson::Null));
        if self.values.len() > self.n {
            self.values.pop_front();
        }
        Ok(())
    }

    fn result(&self) -> QueryResult<Bson> {
        Ok(Bson::Array(self.values.iter().cloned().collect()))
    }
}

/// `$minN` (ascending result) and `$maxN` (descending result).
///
/// The values are kept ascending, a new value going after the values equal
/// to it, as the server's multiset does. When full, a new value replaces
/// the kept extreme only if it is strictly better, so among equal values
/// the first seen stay; `$maxN` lists its values by walking the set
/// backwards, so equal values come out latest first.
#[derive(Debug)]
struct Extremes {
    /// How many to keep.
    n: usize,
    /// Whether this is `$maxN`.
    max: bool,
    /// The values kept, ascending.
    values: Vec<Bson>,
}

impl Accumulator for Extremes {
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()> {
        let Some(v) = value.filter(|v| !matches!(v, Bson::Null | Bson::Undefined)) else {
            return Ok(());
        };
        if self.values.len() >= self.n {
            if self.max {
                match self.values.first() {
                    Some(smallest) if compare(v, smallest) == Ordering::Greater => {
                        self.values.remove(0);
                    }
                    _ => return Ok(()),
                }
            } else {
                match self.values.last() {
                    Some(largest) if compare(largest, v) == Ordering::Greater => {
                        self.values.pop();
                    }
                    _ => return Ok(()),
                }
            }
        }
        let at = self
            .values
            .partition_point(|x| compare(x, v) != Ordering::Greater);
        self.values.insert(at, v.clone());
        Ok(())
    }

    fn result(&self) -> QueryResult<Bson> {
        let values = if self.max {
            self.values.iter().rev().cloned().collect()
        } else {
            self.values.clone()
        };
        Ok(Bson::Array(values))
    }
}
