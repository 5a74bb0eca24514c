//! Accumulators: the per-group reducers of `$group` (and `$bucket`), which
//! `$setWindowFields` also runs over windows.
//!
//! An accumulator is parsed once from its argument (`{$topN: {n, sortBy,
//! output}}`, `"$x"`, …) into an [`AccumulatorSpec`], which knows what to
//! evaluate for each document ([`AccumulatorSpec::input`]) and makes a fresh
//! [`Accumulator`] state for each group or window ([`AccumulatorSpec::start`]).
//! [`ACCUMULATORS`] is the table: adding an accumulator is one parser and one
//! entry. The families live in submodules.

mod basic;
pub(crate) mod n;
pub(crate) mod quantile;
mod stats;
mod top_bottom;

use std::borrow::Cow;

use bson::{Bson, Document};

use super::ParseCtx;
use crate::expr::{type_name, Ctx, Expr, Value};
use crate::{QueryError, QueryResult};

/// The running state of one accumulator for one group (or window).
pub(crate) trait Accumulator: std::fmt::Debug {
    /// Takes one document's input (see [`AccumulatorSpec::input`]; `None` =
    /// missing).
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()>;

    /// The result so far; the state stays usable, so a window that only
    /// grows can ask after every document.
    fn result(&self) -> QueryResult<Bson>;

    /// The final result, which may move out of the state.
    fn finish(&mut self) -> QueryResult<Bson> {
        self.result()
    }
}

/// A parsed accumulator: its argument expressions and parameters.
pub(crate) trait AccumulatorSpec: std::fmt::Debug + Send + Sync {
    /// What one document contributes, evaluated once per document.
    fn input<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>>;

    /// A fresh state. Parameters that are expressions (`n`) are evaluated
    /// in `init`, whose root is `{_id: <group key>}` in `$group`, `{}` in a
    /// window, and which carries the values of the enclosing `let`
    /// variables (see [`Env::ctx`](super::Env::ctx)).
    fn start(&self, init: &Ctx<'_>) -> QueryResult<Box<dyn Accumulator>>;

    /// The result over an empty window (`$setWindowFields`): 0 for `$sum`
    /// and `$count`, `[]` for `$push` and `$addToSet`, null otherwise.
    fn empty_window(&self) -> Bson {
        Bson::Null
    }
}

/// Compiles one expression of an accumulator's argument: in the variables
/// of a stage (`$group`, windows) or of an enclosing expression (the array
/// expressions built on accumulators, `{$maxN: {n, input}}`).
pub(crate) type Compile<'s> = dyn FnMut(&Bson) -> QueryResult<Expr> + 's;

/// Parses an accumulator's argument; gets the accumulator's name.
type Parser = fn(&'static str, &Bson, &ParseCtx) -> QueryResult<Box<dyn AccumulatorSpec>>;

/// One table entry.
pub(crate) struct AccumulatorDef {
    /// The accumulator, with its `$`.
    pub(crate) name: &'static str,
    /// Builds the spec from the argument.
    parse: Parser,
    /// Whether `$setWindowFields` accepts it as a window function.
    pub(crate) in_windows: bool,
}

/// Shorthand for a table entry.
const fn def(name: &'static str, parse: Parser, in_windows: bool) -> AccumulatorDef {
    AccumulatorDef {
        name,
        parse,
        in_windows,
    }
}

/// Every accumulator.
static ACCUMULATORS: &[AccumulatorDef] = &[
    def("$sum", basic::parse_sum, true),
    def("$avg", basic::parse_avg, true),
    def("$min", basic::parse_min, true),
    def("$max", basic::parse_max, true),
    def("$first", basic::parse_first, true),
    def("$last", basic::parse_last, true),
    def("$push", basic::parse_push, true),
    def("$addToSet", basic::parse_add_to_set, true),
    def("$count", basic::parse_count, true),
    // The server has no $mergeObjects window function.
    def("$mergeObjects", basic::parse_merge_objects, false),
    def("$stdDevPop", stats::parse_std_dev_pop, true),
    def("$stdDevSamp", stats::parse_std_dev_samp, true),
    def("$median", quantile::parse_median, true),
    def("$percentile", quantile::parse_percentile, true),
    def("$firstN", n::parse_first_n, true),
    def("$lastN", n::parse_last_n, true),
    def("$minN", n::parse_min_n, true),
    def("$maxN", n::parse_max_n, true),
    def("$top", top_bottom::parse_top, true),
    def("$bottom", top_bottom::parse_bottom, true),
    def("$topN", top_bottom::parse_top_n, true),
    def("$bottomN", top_bottom::parse_bottom_n, true),
];

/// Finds an accumulator by name.
pub(crate) fn lookup(name: &str) -> Option<&'static AccumulatorDef> {
    ACCUMULATORS.iter().find(|d| d.name == name)
}

/// Parses `{<name>: arg}`, whose expressions may read the variables of
/// `ctx`; an unknown name is the server's error.
pub(crate) fn parse(
    name: &str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    let def =
        lookup(name).ok_or_else(|| QueryError::new(format!("Unrecognized expression '{name}'")))?;
    def.parse_arg(arg, ctx)
}

impl AccumulatorDef {
    /// Parses this accumulator's argument.
    pub(crate) fn parse_arg(
        &self,
        arg: &Bson,
        ctx: &ParseCtx,
    ) -> QueryResult<Box<dyn AccumulatorSpec>> {
        (self.parse)(self.name, arg, ctx)
    }
}

/// The document argument of the accumulators that take named parameters
/// (`$topN`, `$median`, …), or the server's error naming the argument.
fn object_argument<'a>(name: &str, arg: &'a Bson) -> QueryResult<&'a Document> {
    match arg {
        Bson::Document(spec) => Ok(spec),
        other => Err(QueryError::new(format!(
            "specification must be an object; found {name}: {other}"
        ))),
    }
}

/// Evaluates a parameter expression (`n`) in the state's init context.
fn eval_owned(expr: &Expr, init: &Ctx<'_>) -> QueryResult<Option<Bson>> {
    Ok(expr.eval(init)?.map(Cow::into_owned))
}

/// The `{$name: {...}}` error when an IDL-style field is missing.
fn missing_field(name: &str, field: &str) -> QueryError {
    QueryError::new(format!(
        "BSON field '{name}.{field}' is missing but a required field"
    ))
}

/// The IDL-style error for an unknown field of an accumulator's document.
fn unknown_field(name: &str, field: &str) -> QueryError {
    QueryError::new(format!("BSON field '{name}.{field}' is an unknown field."))
}

/// The value a type-mismatch message shows: the value, or its type name
/// when it is missing.
fn shown(value: Option<&Bson>) -> String {
    value.map_or_else(|| type_name(None).to_owned(), ToString::to_string)
}
