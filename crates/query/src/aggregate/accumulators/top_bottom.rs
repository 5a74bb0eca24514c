//! `$top`, `$bottom`, `$topN` and `$bottomN`: `{n, sortBy, output}`.
//!
//! Each document contributes its `sortBy` key (with `$sort`'s rules: a
//! missing field sorts as null) and its `output` (missing becomes null;
//! null is kept). Per document the spec's input is `[[key…], output]`, so
//! windows can evaluate it once and reuse it.

use std::cmp::Ordering;
use std::sync::Arc;

use bson::Bson;

use super::n::validate_n;
use super::{eval_owned, object_argument, Accumulator, AccumulatorSpec};
use crate::aggregate::ParseCtx;
use crate::expr::{Ctx, Expr, Value};
use crate::sort::SortSpec;
use crate::{QueryError, QueryResult};

/// Which end of the order is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The first `n` in `sortBy` order.
    Top,
    /// The last `n`.
    Bottom,
}

/// A parsed top/bottom accumulator.
#[derive(Debug)]
struct TopBottom {
    /// Which end.
    end: End,
    /// `n`; `None` for `$top`/`$bottom`, whose result is one value.
    n: Option<Expr>,
    /// The order.
    sort: Arc<SortSpec>,
    /// The output expression.
    output: Expr,
}

impl AccumulatorSpec for TopBottom {
    fn input<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let root = ctx.root.document()?;
        let keys = self.sort.key_values(&root);
        let output = self
            .output
            .eval(ctx)?
            .map_or(Bson::Null, |v| v.into_owned());
        Ok(Some(std::borrow::Cow::Owned(Bson::Array(vec![
            Bson::Array(keys),
            output,
        ]))))
    }

    fn start(&self, init: &Ctx<'_>) -> QueryResult<Box<dyn Accumulator>> {
        let n = match &self.n {
            Some(n) => validate_n(eval_owned(n, init)?.as_ref())?,
            None => 1,
        };
        Ok(Box::new(Kept {
            end: self.end,
            n,
            single: self.n.is_none(),
            sort: Arc::clone(&self.sort),
            items: Vec::new(),
        }))
    }
}

/// Parses `$top`.
pub(super) fn parse_top(
    name: &'static str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    parse(name, arg, ctx, End::Top, false)
}

/// Parses `$bottom`.
pub(super) fn parse_bottom(
    name: &'static str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    parse(name, arg, ctx, End::Bottom, false)
}

/// Parses `$topN`.
pub(super) fn parse_top_n(
    name: &'static str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    parse(name, arg, ctx, End::Top, true)
}

/// Parses `$bottomN`.
pub(super) fn parse_bottom_n(
    name: &'static str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    parse(name, arg, ctx, End::Bottom, true)
}

/// Parses the argument document with the server's messages.
fn parse(
    name: &str,
    arg: &Bson,
    ctx: &ParseCtx,
    end: End,
    with_n: bool,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    let spec = object_argument(name, arg)?;
    let (mut n, mut sort, mut output) = (None, None, None);
    for (field, value) in spec {
        match (field.as_str(), value) {
            ("n", _) if with_n => n = Some(ctx.expr(value)?),
            ("output", _) => output = Some(ctx.expr(value)?),
            ("sortBy", Bson::Document(spec)) => sort = Some(SortSpec::parse(spec)?),
            ("sortBy", other) => {
                return Err(QueryError::new(format!(
                    "expected 'sortBy' to be an object, found {other}"
                )))
            }
            _ => {
                return Err(QueryError::new(format!(
                    "Unknown argument to {name} '{field}'"
                )))
            }
        }
    }
    if with_n && n.is_none() {
        return Err(QueryError::new("Missing value for 'n'"));
    }
    let output = output.ok_or_else(|| QueryError::new("Missing value for 'output'"))?;
    let sort = sort.ok_or_else(|| QueryError::new("Missing value for 'sortBy'"))?;
    Ok(Box::new(TopBottom {
        end,
        n,
        sort: Arc::new(sort),
        output,
    }))
}

/// The kept `(key, output)` pairs, in `sortBy` order, a new pair going after
/// the pairs whose keys equal its own (as the server's multimap does).
///
/// Once `n` are kept, a new pair replaces the kept one nearest the dropped
/// end only if it sorts strictly inside it: among tied keys the first seen
/// stay, for `$bottom` as for `$top` (the manual's `$bottom` example returns
/// the first of two tied players).
#[derive(Debug)]
struct Kept {
    /// Which end.
    end: End,
    /// How many to keep.
    n: usize,
    /// Whether the result is one value (`$top`/`$bottom`).
    single: bool,
    /// The order.
    sort: Arc<SortSpec>,
    /// The pairs kept, in order.
    items: Vec<(Vec<Bson>, Bson)>,
}

impl Accumulator for Kept {
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()> {
        // The input is always the `[[key…], output]` that `input` built.
        let Some(Bson::Array(pair)) = value else {
            return Ok(());
        };
        let (Some(Bson::Array(keys)), Some(output)) = (pair.first(), pair.get(1)) else {
            return Ok(());
        };
        let order = |a: &[Bson], b: &[Bson]| self.sort.compare_key_values(a, b);
        if self.items.len() >= self.n {
            match self.end {
                End::Top => match self.items.last() {
                    Some((last, _)) if order(last, keys) == Ordering::Greater => {
                        self.items.pop();
                    }
                    _ => return Ok(()),
                },
                End::Bottom => match self.items.first() {
                    Some((first, _)) if order(keys, first) == Ordering::Greater => {
                        self.items.remove(0);
                    }
                    _ => return Ok(()),
                },
            }
        }
        let at = self
            .items
            .partition_point(|(k, _)| order(k, keys) != Ordering::Greater);
        self.items.insert(at, (keys.clone(), output.clone()));
        Ok(())
    }

    fn result(&self) -> QueryResult<Bson> {
        let mut outputs = self.items.iter().map(|(_, output)| output.clone());
        if self.single {
            return Ok(outputs.next().unwrap_or(Bson::Null));
        }
        Ok(Bson::Array(outputs.collect()))
    }
}
