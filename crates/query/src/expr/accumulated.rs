//! The array expressions that are accumulators run over one value:
//! `$firstN`, `$lastN`, `$minN`, `$maxN` (`{n, input}`, over the elements
//! of an array) and `$median`, `$percentile` (over an array or a number).
//!
//! They parse and compute with the accumulators' own code (see
//! `aggregate::accumulators::{n, quantile}`), as the server builds them
//! from its accumulators: the two forms cannot drift apart.

use std::borrow::Cow;
use std::sync::Arc;

use bson::Bson;

use super::special::SpecialForm;
use super::{Ctx, Expr, Node, Scope, Value};
use crate::aggregate::accumulators::{n, quantile};
use crate::QueryResult;

/// A compiled expression built on an accumulator.
#[derive(Debug)]
enum FromAccumulator {
    /// `$firstN`, `$lastN`, `$minN` or `$maxN`.
    N(n::NSpec),
    /// `$median` or `$percentile`.
    Quantile(quantile::Quantile),
}

impl SpecialForm for FromAccumulator {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let value = match self {
            FromAccumulator::N(spec) => spec.over_array(ctx)?,
            FromAccumulator::Quantile(spec) => spec.over_value(spec.input(ctx)?.as_deref()),
        };
        Ok(Some(Cow::Owned(value)))
    }
}

/// Compiles an argument's expression in the enclosing expression's scope
/// (so `$$this` inside `$map` and `$let` variables are visible).
fn compiler(scope: &mut Scope) -> impl FnMut(&Bson) -> QueryResult<Expr> + '_ {
    |spec| {
        Ok(Expr {
            node: Node::parse(spec, scope)?,
        })
    }
}

/// Parses one of the `n` family, named `name`.
fn parse_n(name: &str, arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let spec = n::parse_expression(name, arg, &mut compiler(scope))?;
    Ok(Node::Special(Arc::new(FromAccumulator::N(spec))))
}

/// Parses `$median` or `$percentile`, named `name`.
fn parse_quantile(name: &str, arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let spec = quantile::parse_expression(name, arg, &mut compiler(scope))?;
    Ok(Node::Special(Arc::new(FromAccumulator::Quantile(spec))))
}

/// Parses `$firstN`.
pub(crate) fn parse_first_n(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    parse_n("$firstN", arg, scope)
}

/// Parses `$lastN`.
pub(crate) fn parse_last_n(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    parse_n("$lastN", arg, scope)
}

/// Parses `$minN`.
pub(crate) fn parse_min_n(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    parse_n("$minN", arg, scope)
}

/// Parses `$maxN`.
pub(crate) fn parse_max_n(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    parse_n("$maxN", arg, scope)
}

/// Parses `$median`.
pub(crate) fn parse_median(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    parse_quantile("$median", arg, scope)
}

/// Parses `$percentile`.
pub(crate) fn parse_percentile(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    parse_quantile("$percentile", arg, scope)
}
