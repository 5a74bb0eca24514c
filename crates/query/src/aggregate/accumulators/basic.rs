//! The unary accumulators (`$sum`, `$avg`, `$min`, `$max`, `$first`,
//! `$last`, `$push`, `$addToSet`, `$mergeObjects`) and `$count`.

use std::collections::HashSet;

use bson::{Bson, Document};

use super::{Accumulator, AccumulatorSpec};
use crate::aggregate::ParseCtx;
use crate::compare::{compare, equality_key};
use crate::expr::{type_name, Ctx, Expr, Summation, Value};
use crate::{QueryError, QueryResult};

/// An accumulator of one expression: `{$sum: <expr>}`.
#[derive(Debug)]
struct Unary {
    /// The argument expression.
    arg: Expr,
    /// Makes a fresh state.
    make: fn() -> Box<dyn Accumulator>,
    /// The result over an empty window.
    empty: fn() -> Bson,
}

impl AccumulatorSpec for Unary {
    fn input<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        self.arg.eval(ctx)
    }

    fn start(&self, _: &Ctx<'_>) -> QueryResult<Box<dyn Accumulator>> {
        Ok((self.make)())
    }

    fn empty_window(&self) -> Bson {
        (self.empty)()
    }
}

/// Parses a unary accumulator's argument: one expression, not a list.
pub(super) fn parse_unary(
    name: &str,
    arg: &Bson,
    ctx: &ParseCtx,
    make: fn() -> Box<dyn Accumulator>,
    empty: fn() -> Bson,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    if matches!(arg, Bson::Array(_)) {
        return Err(QueryError::new(format!(
            "The {name} accumulator is a unary operator"
        )));
    }
    Ok(Box::new(Unary {
        arg: ctx.expr(arg)?,
        make,
        empty,
    }))
}

/// Null, the result of most accumulators over an empty window.
fn null() -> Bson {
    Bson::Null
}

/// Int32 zero, `$sum`'s and `$count`'s result over an empty window.
fn zero() -> Bson {
    Bson::Int32(0)
}

/// The empty array, `$push`'s and `$addToSet`'s result over an empty window.
fn empty_array() -> Bson {
    Bson::Array(Vec::new())
}

/// Parses `$sum`.
pub(super) fn parse_sum(
    name: &'static str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    parse_unary(name, arg, ctx, || Box::new(Sum::default()), zero)
}

/// Parses `$avg`.
pub(super) fn parse_avg(
    name: &'static str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    parse_unary(name, arg, ctx, || Box::new(Avg::default()), null)
}

/// Parses `$min`.
pub(super) fn parse_min(
    name: &'static str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    parse_unary(
        name,
        arg,
        ctx,
        || {
            Box::new(Extreme {
                value: None,
                keep: std::cmp::Ordering::Less,
            })
        },
        null,
    )
}

/// Parses `$max`.
pub(super) fn parse_max(
    name: &'static str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    parse_unary(
        name,
        arg,
        ctx,
        || {
            Box::new(Extreme {
                value: None,
                keep: std::cmp::Ordering::Greater,
            })
        },
        null,
    )
}

/// Parses `$first`.
pub(super) fn parse_first(
    name: &'static str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    parse_unary(name, arg, ctx, || Box::new(First(None)), null)
}

/// Parses `$last`.
pub(super) fn parse_last(
    name: &'static str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    parse_unary(name, arg, ctx, || Box::new(Last(Bson::Null)), null)
}

/// Parses `$push`.
pub(super) fn parse_push(
    name: &'static str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    parse_unary(name, arg, ctx, || Box::new(Push(Vec::new())), empty_array)
}

/// Parses `$addToSet`.
pub(super) fn parse_add_to_set(
    name: &'static str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    parse_unary(
        name,
        arg,
        ctx,
        || Box::new(AddToSet::default()),
        empty_array,
    )
}

/// Parses `$mergeObjects`.
pub(super) fn parse_merge_objects(
    name: &'static str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    parse_unary(name, arg, ctx, || Box::new(MergeObjects::default()), null)
}

/// `$count`: takes only `{}`, and counts documents.
#[derive(Debug)]
struct CountSpec;

impl AccumulatorSpec for CountSpec {
    fn input<'a>(&'a self, _: &Ctx<'a>) -> QueryResult<Value<'a>> {
        Ok(None)
    }

    fn start(&self, _: &Ctx<'_>) -> QueryResult<Box<dyn Accumulator>> {
        Ok(Box::new(Count(0)))
    }

    fn empty_window(&self) -> Bson {
        zero()
    }
}

/// Parses `$count`, whose only argument is `{}`.
pub(super) fn parse_count(
    _: &'static str,
    arg: &Bson,
    _: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    match arg {
        Bson::Document(d) if d.is_empty() => Ok(Box::new(CountSpec)),
        _ => Err(QueryError::new("$count takes no arguments, i.e. $count:{}")),
    }
}

/// `$sum`: numbers only, summed as the server sums them (see
/// [`Summation`]).
#[derive(Debug, Default)]
struct Sum(Summation);

impl Accumulator for Sum {
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()> {
        value.map_or(Ok(()), |v| self.0.add(v))
    }

    fn result(&self) -> QueryResult<Bson> {
        self.0.sum()
    }
}

/// `$avg`: a double, or a decimal if any input was one; null without numbers.
#[derive(Debug, Default)]
struct Avg(Summation);

impl Accumulator for Avg {
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()> {
        value.map_or(Ok(()), |v| self.0.add(v))
    }

    fn result(&self) -> QueryResult<Bson> {
        self.0.mean()
    }
}

/// `$min` (`keep == Less`) and `$max` (`keep == Greater`), ignoring null and missing.
#[derive(Debug)]
struct Extreme {
    /// The best value so far.
    value: Option<Bson>,
    /// Which comparison result replaces the best value.
    keep: std::cmp::Ordering,
}

impl Accumulator for Extreme {
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()> {
        let Some(v) = value.filter(|v| !matches!(v, Bson::Null | Bson::Undefined)) else {
            return Ok(());
        };
        if self
            .value
            .as_ref()
            .is_none_or(|best| compare(v, best) == self.keep)
        {
            self.value = Some(v.clone());
        }
        Ok(())
    }

    fn result(&self) -> QueryResult<Bson> {
        Ok(self.value.clone().unwrap_or(Bson::Null))
    }

    fn finish(&mut self) -> QueryResult<Bson> {
        Ok(self.value.take().unwrap_or(Bson::Null))
    }
}

/// `$first`: the first document's value, null if it was missing.
#[derive(Debug)]
struct First(Option<Bson>);

impl Accumulator for First {
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()> {
        if self.0.is_none() {
            self.0 = Some(value.cloned().unwrap_or(Bson::Null));
        }
        Ok(())
    }

    fn result(&self) -> QueryResult<Bson> {
        Ok(self.0.clone().unwrap_or(Bson::Null))
    }
}

/// `$last`: the last document's value, null if it was missing.
#[derive(Debug)]
struct Last(Bson);

impl Accumulator for Last {
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()> {
        self.0 = value.cloned().unwrap_or(Bson::Null);
        Ok(())
    }

    fn result(&self) -> QueryResult<Bson> {
        Ok(self.0.clone())
    }
}

/// `$push`: every value, missing ones left out.
#[derive(Debug)]
struct Push(Vec<Bson>);

impl Accumulator for Push {
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()> {
        if let Some(v) = value {
            self.0.push(v.clone());
        }
        Ok(())
    }

    fn result(&self) -> QueryResult<Bson> {
        Ok(Bson::Array(self.0.clone()))
    }

    fn finish(&mut self) -> QueryResult<Bson> {
        Ok(Bson::Array(std::mem::take(&mut self.0)))
    }
}

/// `$addToSet`: distinct values (by MongoDB equality) in first-seen order.
#[derive(Debug, Default)]
struct AddToSet {
    /// Equality keys of the values kept.
    seen: HashSet<Vec<u8>>,
    /// The values kept, in first-seen order.
    values: Vec<Bson>,
}

impl Accumulator for AddToSet {
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()> {
        if let Some(v) = value {
            if self.seen.insert(equality_key(v)) {
                self.values.push(v.clone());
            }
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

/// `$count`: the number of documents, as an int32 while it fits.
#[derive(Debug)]
struct Count(i64);

impl Accumulator for Count {
    fn add(&mut self, _: Option<&Bson>) -> QueryResult<()> {
        self.0 = self.0.saturating_add(1);
        Ok(())
    }

    fn result(&self) -> QueryResult<Bson> {
        Ok(i32::try_from(self.0).map_or(Bson::Int64(self.0), Bson::Int32))
    }
}

/// `$mergeObjects`: the documents merged in order (a later field wins but
/// keeps the position it first had); null and missing are skipped.
#[derive(Debug, Default)]
struct MergeObjects(Document);

impl Accumulator for MergeObjects {
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()> {
        match value {
            None | Some(Bson::Null | Bson::Undefined) => Ok(()),
            Some(Bson::Document(d)) => {
                for (k, v) in d {
                    self.0.insert(k.clone(), v.clone());
                }
                Ok(())
            }
            Some(other) => Err(QueryError::new(format!(
                "$mergeObjects requires object inputs, but input {other} is of type {}",
                type_name(Some(other))
            ))),
        }
    }

    fn result(&self) -> QueryResult<Bson> {
        Ok(Bson::Document(self.0.clone()))
    }

    fn finish(&mut self) -> QueryResult<Bson> {
        Ok(Bson::Document(std::mem::take(&mut self.0)))
    }
}
