//! The operator table: every ordinary expression operator is one entry.

use std::collections::HashMap;
use std::sync::OnceLock;

use bson::Bson;

use super::{
    arith, array, basic, convert, object, powers, rounding, sets, stats, strings, substr, Value,
};
use crate::{QueryError, QueryResult};

/// An operator's implementation: a function of its evaluated arguments
/// (`None` = missing), which it may move out of.
pub(crate) type OpFn = for<'a> fn(Vec<Value<'a>>) -> QueryResult<Value<'a>>;

/// How many arguments an operator takes; checked once, at parse time.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Arity {
    /// Exactly this many.
    Exactly(usize),
    /// This many or more.
    AtLeast(usize),
    /// Between the two, inclusive.
    Range(usize, usize),
    /// Any number.
    Any,
}

impl Arity {
    /// Rejects a call with `n` arguments, in the server's words.
    pub(crate) fn check(self, name: &str, n: usize) -> QueryResult<()> {
        let message = match self {
            Arity::Exactly(k) if n != k => {
                format!("Expression {name} takes exactly {k} arguments. {n} were passed in.")
            }
            Arity::AtLeast(k) if n < k => {
                format!("Expression {name} takes at least {k} arguments, but {n} were passed in.")
            }
            Arity::Range(lo, hi) if !(lo..=hi).contains(&n) => format!(
                "Expression {name} takes at least {lo} arguments, and at most {hi}, but {n} were \
                 passed in."
            ),
            _ => return Ok(()),
        };
        Err(QueryError::new(message))
    }
}

/// One table entry.
#[derive(Debug)]
pub(crate) struct OpDef {
    /// The operator, with its `$`.
    pub(crate) name: &'static str,
    /// Its argument count rule.
    pub(crate) arity: Arity,
    /// Its implementation.
    pub(crate) eval: OpFn,
}

/// Shorthand for table entries.
const fn op(name: &'static str, arity: Arity, eval: OpFn) -> OpDef {
    OpDef { name, arity, eval }
}

/// Every ordinary operator. Add new operators here (and their functions in
/// the family module they belong to).
pub(crate) static OPERATORS: &[OpDef] = &[
    // Arithmetic.
    op("$add", Arity::Any, arith::add),
    op("$subtract", Arity::Exactly(2), arith::subtract),
    op("$multiply", Arity::Any, arith::multiply),
    op("$divide", Arity::Exactly(2), arith::divide),
    op("$mod", Arity::Exactly(2), arith::modulo),
    op("$abs", Arity::Exactly(1), arith::abs),
    op("$ceil", Arity::Exactly(1), rounding::ceil),
    op("$floor", Arity::Exactly(1), rounding::floor),
    op("$round", Arity::Range(1, 2), rounding::round),
    op("$trunc", Arity::Range(1, 2), rounding::trunc),
    op("$sqrt", Arity::Exactly(1), powers::sqrt),
    op("$pow", Arity::Exactly(2), powers::pow),
    op("$exp", Arity::Exactly(1), powers::exp),
    op("$ln", Arity::Exactly(1), powers::ln),
    op("$log", Arity::Exactly(2), powers::log),
    op("$log10", Arity::Exactly(1), powers::log10),
    // Accumulators as expressions.
    op("$sum", Arity::Any, stats::sum),
    op("$avg", Arity::Any, stats::avg),
    op("$min", Arity::Any, stats::min),
    op("$max", Arity::Any, stats::max),
    // Comparison.
    op("$eq", Arity::Exactly(2), basic::eq),
    op("$ne", Arity::Exactly(2), basic::ne),
    op("$gt", Arity::Exactly(2), basic::gt),
    op("$gte", Arity::Exactly(2), basic::gte),
    op("$lt", Arity::Exactly(2), basic::lt),
    op("$lte", Arity::Exactly(2), basic::lte),
    op("$cmp", Arity::Exactly(2), basic::cmp),
    // Boolean (the short-circuiting $and/$or are special forms).
    op("$not", Arity::Exactly(1), basic::not),
    // Arrays.
    op("$arrayElemAt", Arity::Exactly(2), array::array_elem_at),
    op("$first", Arity::Exactly(1), array::first),
    op("$last", Arity::Exactly(1), array::last),
    op("$slice", Arity::Range(2, 3), array::slice),
    op("$in", Arity::Exactly(2), array::in_array),
    op("$indexOfArray", Arity::Range(2, 4), array::index_of_array),
    op("$concatArrays", Arity::Any, array::concat_arrays),
    op("$range", Arity::Range(2, 3), array::range),
    op("$reverseArray", Arity::Exactly(1), array::reverse_array),
    // Sets.
    op("$setUnion", Arity::Any, sets::set_union),
    op("$setIntersection", Arity::Any, sets::set_intersection),
    op("$setDifference", Arity::Exactly(2), sets::set_difference),
    op("$setEquals", Arity::AtLeast(2), sets::set_equals),
    op("$setIsSubset", Arity::Exactly(2), sets::set_is_subset),
    op(
        "$allElementsTrue",
        Arity::Exactly(1),
        sets::all_elements_true,
    ),
    op("$anyElementTrue", Arity::Exactly(1), sets::any_element_true),
    // Objects.
    op("$mergeObjects", Arity::Any, object::merge_objects),
    op("$objectToArray", Arity::Exactly(1), object::object_to_array),
    op("$arrayToObject", Arity::Exactly(1), object::array_to_object),
    // Array size and types.
    op("$size", Arity::Exactly(1), basic::size),
    op("$isArray", Arity::Exactly(1), basic::is_array),
    op("$isNumber", Arity::Exactly(1), basic::is_number),
    op("$type", Arity::Exactly(1), basic::type_of),
    // Strings (the named-argument ones, $trim, $regexFind, $replaceOne, …,
    // are special forms).
    op("$concat", Arity::Any, strings::concat),
    op("$toLower", Arity::Exactly(1), strings::to_lower),
    op("$toUpper", Arity::Exactly(1), strings::to_upper),
    op("$strcasecmp", Arity::Exactly(2), strings::strcasecmp),
    op("$strLenBytes", Arity::Exactly(1), strings::str_len_bytes),
    op("$strLenCP", Arity::Exactly(1), strings::str_len_cp),
    op("$split", Arity::Exactly(2), strings::split),
    op("$substr", Arity::Exactly(3), substr::substr_bytes),
    op("$substrBytes", Arity::Exactly(3), substr::substr_bytes),
    op("$substrCP", Arity::Exactly(3), substr::substr_cp),
    op("$indexOfBytes", Arity::Range(2, 4), substr::index_of_bytes),
    op("$indexOfCP", Arity::Range(2, 4), substr::index_of_cp),
    // Type conversion ($convert itself is a special form).
    op("$toBool", Arity::Exactly(1), convert::to_bool),
    op("$toDate", Arity::Exactly(1), convert::to_date),
    op("$toDecimal", Arity::Exactly(1), convert::to_decimal),
    op("$toDouble", Arity::Exactly(1), convert::to_double),
    op("$toInt", Arity::Exactly(1), convert::to_int),
    op("$toLong", Arity::Exactly(1), convert::to_long),
    op("$toObjectId", Arity::Exactly(1), convert::to_object_id),
    op("$toString", Arity::Exactly(1), convert::to_string),
];

/// Finds an operator by name.
pub(crate) fn lookup(name: &str) -> Option<&'static OpDef> {
    static INDEX: OnceLock<HashMap<&'static str, &'static OpDef>> = OnceLock::new();
    INDEX
        .get_or_init(|| OPERATORS.iter().map(|def| (def.name, def)).collect())
        .get(name)
        .copied()
}

/// The server's name of a value's type, as `$type` returns it and as
/// error messages print it.
pub fn type_name(value: Option<&Bson>) -> &'static str {
    let Some(value) = value else { return "missing" };
    match value {
        Bson::Double(_) => "double",
        Bson::String(_) => "string",
        Bson::Document(_) => "object",
        Bson::Array(_) => "array",
        Bson::Binary(_) => "binData",
        Bson::Undefined => "undefined",
        Bson::ObjectId(_) => "objectId",
        Bson::Boolean(_) => "bool",
        Bson::DateTime(_) => "date",
        Bson::Null => "null",
        Bson::RegularExpression(_) => "regex",
        Bson::DbPointer(_) => "dbPointer",
        Bson::JavaScriptCode(_) => "javascript",
        Bson::Symbol(_) => "symbol",
        Bson::JavaScriptCodeWithScope(_) => "javascriptWithScope",
        Bson::Int32(_) => "int",
        Bson::Timestamp(_) => "timestamp",
        Bson::Int64(_) => "long",
        Bson::Decimal128(_) => "decimal",
        Bson::MinKey => "minKey",
        Bson::MaxKey => "maxKey",
    }
}

/// Takes the argument at `i` out of the list (the arity check guarantees it).
pub(crate) fn take<'a>(args: &mut [Value<'a>], i: usize) -> Value<'a> {
    args.get_mut(i).and_then(Option::take)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_unique_and_dollar_prefixed() {
        let mut names: Vec<_> = OPERATORS.iter().map(|d| d.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
        assert!(names.iter().all(|n| n.starts_with('$')));
    }

    #[test]
    fn arity_messages_match_server() {
        // Server: {$size: [1, 2]} -> "Expression $size takes exactly 1 arguments. 2 were passed in."
        assert_eq!(
            Arity::Exactly(1).check("$size", 2).unwrap_err().message(),
            "Expression $size takes exactly 1 arguments. 2 were passed in."
        );
        assert!(Arity::Any.check("$add", 0).is_ok());
        assert!(Arity::Range(1, 2).check("$x", 3).is_err());
        assert!(Arity::AtLeast(2).check("$x", 1).is_err());
    }
}
