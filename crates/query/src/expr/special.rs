//! Special forms: operators that decide themselves which of their
//! arguments to evaluate (`$cond`, `$and`, `$or`, `$ifNull`, `$switch`),
//! that take their argument unparsed (`$literal`), that bind variables
//! (`$let`, `$map`, `$filter`, `$reduce`) or that take named parameters
//! checked when parsed (`$zip`, `$sortArray`, `$getField`, …). Each is a
//! struct implementing [`SpecialForm`] plus one entry in [`SPECIAL_FORMS`];
//! the longer ones live in their family's module.

use std::borrow::Cow;
use std::fmt::Debug;
use std::sync::Arc;

use bson::Bson;

use super::date::{arith as date_arith, format as date_format, parse as date_parse, parts, trunc};
use super::{
    accumulated, convert, fields, is_truthy, regex_ops, replace, sort_array, switch, trim, vars,
    zip, Ctx, Node, Scope, Value,
};
use crate::{QueryError, QueryResult};

/// A compiled special form.
pub(crate) trait SpecialForm: Debug + Send + Sync {
    /// Evaluates the form, evaluating only the arguments it needs.
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>>;
}

/// Parses a special form's argument (unparsed) into a node.
pub(crate) type ParseFn = fn(&Bson, &mut Scope) -> QueryResult<Node>;

/// The special forms, by operator name.
pub(crate) static SPECIAL_FORMS: &[(&str, ParseFn)] = &[
    ("$literal", parse_literal),
    ("$cond", parse_cond),
    ("$and", parse_and),
    ("$or", parse_or),
    ("$ifNull", parse_if_null),
    // Strings with named arguments.
    ("$trim", trim::parse_trim_both),
    ("$ltrim", trim::parse_ltrim),
    ("$rtrim", trim::parse_rtrim),
    ("$replaceOne", replace::parse_replace_one),
    ("$replaceAll", replace::parse_replace_all),
    ("$regexMatch", regex_ops::parse_regex_match),
    ("$regexFind", regex_ops::parse_regex_find),
    ("$regexFindAll", regex_ops::parse_regex_find_all),
    // Type conversion with onError/onNull.
    ("$convert", convert::parse_convert),
    // Dates: the extractors take `<date>` or `{date, timezone}`.
    ("$year", parts::parse_year),
    ("$month", parts::parse_month),
    ("$dayOfMonth", parts::parse_day_of_month),
    ("$hour", parts::parse_hour),
    ("$minute", parts::parse_minute),
    ("$second", parts::parse_second),
    ("$millisecond", parts::parse_millisecond),
    ("$dayOfYear", parts::parse_day_of_year),
    ("$dayOfWeek", parts::parse_day_of_week),
    ("$week", parts::parse_week),
    ("$isoWeekYear", parts::parse_iso_week_year),
    ("$isoWeek", parts::parse_iso_week),
    ("$isoDayOfWeek", parts::parse_iso_day_of_week),
    ("$dateToParts", parts::parse_date_to_parts),
    ("$dateFromParts", parts::parse_date_from_parts),
    ("$dateToString", date_format::parse_date_to_string),
    ("$dateFromString", date_parse::parse_date_from_string),
    ("$dateAdd", date_arith::parse_date_add),
    ("$dateSubtract", date_arith::parse_date_subtract),
    ("$dateDiff", date_arith::parse_date_diff),
    ("$dateTrunc", trunc::parse_date_trunc),
    ("$switch", switch::parse_switch),
    ("$let", vars::parse_let),
    ("$map", vars::parse_map),
    ("$filter", vars::parse_filter),
    ("$reduce", vars::parse_reduce),
    ("$zip", zip::parse_zip),
    ("$sortArray", sort_array::parse_sort_array),
    // Accumulators over one array (or number).
    ("$firstN", accumulated::parse_first_n),
    ("$lastN", accumulated::parse_last_n),
    ("$minN", accumulated::parse_min_n),
    ("$maxN", accumulated::parse_max_n),
    ("$median", accumulated::parse_median),
    ("$percentile", accumulated::parse_percentile),
    ("$getField", fields::parse_get_field),
    ("$setField", fields::parse_set_field),
    ("$unsetField", fields::parse_unset_field),
];

/// `$literal`: the argument, unparsed.
fn parse_literal(arg: &Bson, _: &mut Scope) -> QueryResult<Node> {
    Ok(Node::Literal(arg.clone()))
}

/// `$cond`: `[if, then, else]` or `{if, then, else}`.
#[derive(Debug)]
struct Cond {
    /// The `if` expression.
    condition: Node,
    /// The value when `if` is truthy.
    then: Node,
    /// The value otherwise.
    otherwise: Node,
}

impl SpecialForm for Cond {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        if is_truthy(self.condition.eval(ctx)?.as_deref()) {
            self.then.eval(ctx)
        } else {
            self.otherwise.eval(ctx)
        }
    }
}

/// Parses `$cond` in its array or document form.
fn parse_cond(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let [condition, then, otherwise] = match arg {
        Bson::Document(doc) => {
            for key in doc.keys() {
                if !matches!(key.as_str(), "if" | "then" | "else") {
                    return Err(QueryError::new(format!(
                        "Unrecognized parameter to $cond: {key}"
                    )));
                }
            }
            let part = |name: &str| {
                doc.get(name)
                    .ok_or_else(|| QueryError::new(format!("Missing '{name}' parameter to $cond")))
            };
            [part("if")?, part("then")?, part("else")?]
        }
        Bson::Array(items) => match items.as_slice() {
            [a, b, c] => [a, b, c],
            _ => {
                return Err(QueryError::new(format!(
                    "Expression $cond takes exactly 3 arguments. {} were passed in.",
                    items.len()
                )))
            }
        },
        _ => {
            return Err(QueryError::new(
                "Expression $cond takes exactly 3 arguments. 1 were passed in.",
            ))
        }
    };
    Ok(Node::Special(Arc::new(Cond {
        condition: Node::parse(condition, scope)?,
        then: Node::parse(then, scope)?,
        otherwise: Node::parse(otherwise, scope)?,
    })))
}

/// `$and` (`all == true`) and `$or` (`all == false`), stopping at the
/// first argument that decides the result.
#[derive(Debug)]
struct Junction {
    /// `true` for `$and`, `false` for `$or`.
    all: bool,
    /// The operands, evaluated in order.
    args: Vec<Node>,
}

impl SpecialForm for Junction {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        for arg in &self.args {
            if is_truthy(arg.eval(ctx)?.as_deref()) != self.all {
                return Ok(Some(Cow::Owned(Bson::Boolean(!self.all))));
            }
        }
        Ok(Some(Cow::Owned(Bson::Boolean(self.all))))
    }
}

/// Parses `$and`.
fn parse_and(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let args = Node::parse_args(arg, scope)?;
    Ok(Node::Special(Arc::new(Junction { all: true, args })))
}

/// Parses `$or`.
fn parse_or(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let args = Node::parse_args(arg, scope)?;
    Ok(Node::Special(Arc::new(Junction { all: false, args })))
}

/// `$ifNull`: the first argument that is neither null nor missing, else
/// the last argument's value.
#[derive(Debug)]
struct IfNull {
    /// The candidates; the last is the replacement.
    args: Vec<Node>,
}

impl SpecialForm for IfNull {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        let Some((last, candidates)) = self.args.split_last() else {
            return Ok(None);
        };
        for arg in candidates {
            let value = arg.eval(ctx)?;
            if !matches!(value.as_deref(), None | Some(Bson::Null | Bson::Undefined)) {
                return Ok(value);
            }
        }
        last.eval(ctx)
    }
}

/// Parses `$ifNull`, which needs at least two arguments.
fn parse_if_null(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let args = Node::parse_args(arg, scope)?;
    if args.len() < 2 {
        return Err(QueryError::new(format!(
            "$ifNull needs at least two arguments, had: {}",
            args.len()
        )));
    }
    Ok(Node::Special(Arc::new(IfNull { args })))
}
