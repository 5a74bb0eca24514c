//! Property-based differential pipelines: random document sets of mixed
//! types and many random aggregation pipelines (1–4 deterministic stages,
//! expressions of depth ≤ 3) per set, run on both stores.
//!
//! A pipeline is drawn as a list of [`Draft`] stages, then [`build`] walks
//! them keeping track of what the stream guarantees ([`Flow`]): whether its
//! order is fixed, which sort key is unique, whether it may be empty. A
//! draft whose answer would depend on an unspecified order is adapted (a
//! unique `$sort` is put before `$limit`/`$skip`; `$first`, `$last`,
//! `$push`, `$min`, `$max` and group keys of several equal-but-differently
//! typed values only come after such a sort) or left out.
//!
//! Not generated, because the test server is known to contradict the
//! manual there (the `deviations` of the `corpus*.rs` suites):
//! - field paths through arrays (`$a.b`, `$$x.b`): expressions only name
//!   top-level fields and whole variables;
//! - doubles next to decimals: a document set and its literals hold one or
//!   the other (the server converts a double exactly, MongoDB to 15 digits),
//!   and among decimals no operator makes a double (`$divide`, `$sqrt` and
//!   `$avg` get decimals, conversions go to decimal);
//! - `$eq`/`$ne` of two computed values (the server finds `[false]` equal
//!   to `[0]`): one side is a scalar literal;
//! - `$not` of a literal array, `$first`/`$last` of an empty array (only
//!   inside `$ifNull`), `$zip`, `$sortArray` of mixed types, `$pow`,
//!   `$trunc`/`$round` with large places, `$getField`/`$unsetField`;
//! - `$count` on a stream that may be empty (the server answers `{n: 0}`);
//! - `$sum` of a constant other than the int 1 (the server narrows a sum of
//!   longs to an int);
//! - `$bucket` with a default that sorts before the boundaries (the default
//!   is always the string `"other"`), `$topN` in `$bucket`;
//! - `$setWindowFields` without `sortBy`, with dotted output names, `$rank`
//!   with several sort keys.
//!
//! Found by this generator (cases in `corpus_regressions_pipelines.rs`),
//! and likewise not generated:
//! - `$type` of a computed value that is missing (the server answers
//!   "null", MongoDB "missing"): only a plain path may be missing there;
//! - a literal array as the one argument of a unary operator (the server
//!   unwraps it, as in the `$not: [[…]]` deviation, and does not refuse
//!   `$first: [x, y]` or `$last: []`): it is wrapped;
//! - `$in`/`$indexOfArray` looking for a boolean, 0 or 1 (the server finds
//!   `false` equal to `0` and `true` to `1`): they look for other values;
//! - `$reverseArray: [x]` (the server reverses the one-element array
//!   instead of the argument list's `x`): its argument is given bare;
//! - set operators given null next to a non-array (the server fails on the
//!   type, MongoDB answers null first): their arguments default to `[]`;
//! - `$map`/`$filter`/`$reduce` of a missing input (the server fails when
//!   `$arrayElemAt` ran past the end): the input defaults to null;
//! - `includeArrayIndex` (the server's index is an int, MongoDB's a long):
//!   always followed by a `$toInt` of the index;
//! - `partitionBy` evaluating to an array (MongoDB refuses it, the server
//!   does not): the partition is the value's `$type`;
//! - group keys `{}` and `[]` (the server puts them in one group), also
//!   inside an array: keys are paired with their `$type`, an array key
//!   stands for its size and an object key for its type;
//! - an array operand of a `$group` accumulator (MongoDB: "is a unary
//!   operator"), a constant one of `$first`/`$last` (the server folds it as
//!   the array operator), `$count` in `$bucket` (the server does not know
//!   it), a `$bucket` `groupBy` that is neither a path nor an operator;
//! - `$arrayElemAt` past the end used by another operator (the server
//!   takes the missing value for an object): defaulted at once;
//! - `$in` of a missing value in `[null]` (the server finds it, MongoDB
//!   does not: missing is not null): only present values reach `$in`;
//! - `$first`/`$last` accumulators of an expression (MongoDB evaluates the
//!   argument on every document and fails on any error, the server only
//!   where it needs the value): their argument is a path;
//! - `$unset`/exclusion naming a field twice (MongoDB reports a path
//!   collision, the server accepts it), `$setWindowFields` with an empty
//!   `output` (the server refuses it);
//! - `$setUnion`/`$setIntersection` of equal numbers of different types or
//!   representations on both sides (which one the result keeps is not
//!   specified; MongoDB keeps the smaller set's, as our engine does, the
//!   server the first's): the second side's numbers are filtered out;
//! - `$subtract` of decimals with more than 28 digits (the server rounds
//!   the difference to 28, MongoDB to 34): among decimals its operands are
//!   rounded to 10 places;
//! - `$indexOfArray` looking for an int among decimals (the server finds
//!   no decimal equal to it, though `$in` does): there it looks for
//!   strings and null;
//! - `$convert` of a double with more than six digits to a string (the
//!   server prints six, as `%g`; `$toString`, which the manual calls its
//!   shorthand, prints them all): doubles are rounded to two places first.
//!
//! Errors of constant subexpressions are not compared either: MongoDB folds
//! them when it optimizes the pipeline and fails even when no document
//! reaches them, our engine evaluates per document. [`pin`] makes every
//! operator read a field.

use bson::{Bson, Document};
use proptest::prelude::*;

use super::generate::{dec, doc_of, fields_doc, filter, op_doc, run_batches, sets_per_part};
use super::generate::{seed, type_name, Tally, PARTS};
use super::{agg, Case};

/// Pipelines per document set (inserting is the slow part).
const PIPELINES_PER_SET: usize = 100;
/// Document sets per runner, unless `YAMLETT_DIFF_SETS` says otherwise.
const SETS_PER_PART: u32 = 12;

/// The documents' top-level fields, which stages also write.
const FIELDS: [&str; 3] = ["a", "b", "c"];
const KEYS: [&str; 2] = ["b", "c"];
/// Field paths an expression reads: top-level only (see the header).
const PATHS: [&str; 4] = ["$a", "$b", "$c", "$_id"];

/// Numbers of one flavour: doubles (with NaN and -0.0) or decimals, never
/// both in one document set (see the header).
fn number(decimals: bool) -> BoxedStrategy<Bson> {
    let fraction = if decimals {
        prop::sample::select(&["1", "2.5", "-0.5", "0"][..])
            .prop_map(dec)
            .boxed()
    } else {
        prop_oneof![
            4 => prop::sample::select(&[1.0, 1.5, -0.0, 2.5, -2.0][..]).prop_map(Bson::Double),
            1 => Just(Bson::Double(f64::NAN)),
        ]
        .boxed()
    };
    prop_oneof![
        5 => (-1i32..4).prop_map(Bson::Int32),
        2 => (1i64..3).prop_map(Bson::Int64),
        3 => fraction,
    ]
    .boxed()
}

fn scalar(decimals: bool) -> BoxedStrategy<Bson> {
    prop_oneof![
        2 => Just(Bson::Null),
        8 => number(decimals),
        3 => prop::sample::select(&["x", "y", "xy", "X", "", " a "][..]).prop_map(|s| Bson::String(s.into())),
        2 => any::<bool>().prop_map(Bson::Boolean),
    ]
    .boxed()
}

/// What `$in` and `$indexOfArray` look for: never a boolean, 0 or 1, which
/// the server finds equal to each other (`false == 0`, a deviation).
fn needle() -> BoxedStrategy<Bson> {
    prop_oneof![
        Just(Bson::Null),
        prop::sample::select(&["x", "y", "xy", ""][..]).prop_map(|s| Bson::String(s.into())),
        prop::sample::select(&[-1, 2, 3][..]).prop_map(Bson::Int32),
    ]
    .boxed()
}

fn value(decimals: bool) -> BoxedStrategy<Bson> {
    scalar(decimals)
        .prop_recursive(2, 12, 3, |inner| {
            prop_oneof![
                3 => prop::collection::vec(inner.clone(), 0..4).prop_map(Bson::Array),
                1 => prop::collection::vec((prop::sample::select(&KEYS[..]), inner), 0..3)
                    .prop_map(|fields| Bson::Document(fields_doc(fields))),
            ]
        })
        .boxed()
}

/// A document set (`_id`s d0, d1, …) and the flavour of its numbers.
fn documents() -> impl Strategy<Value = (bool, Vec<Document>)> {
    any::<bool>().prop_flat_map(|decimals| {
        prop::collection::vec(
            prop::collection::vec((prop::sample::select(&FIELDS[..]), value(decimals)), 0..4),
            4..10,
        )
        .prop_map(move |docs| {
            let docs = docs
                .into_iter()
                .enumerate()
                .map(|(i, fields)| {
                    let mut d = Document::new();
                    d.insert("_id", format!("d{i}"));
                    d.extend(fields_doc(fields));
                    d
                })
                .collect();
            (decimals, docs)
        })
    })
}

fn path() -> BoxedStrategy<Bson> {
    prop::sample::select(&PATHS[..])
        .prop_map(|p| Bson::String(p.into()))
        .boxed()
}

fn field() -> BoxedStrategy<&'static str> {
    prop::sample::select(&FIELDS[..]).boxed()
}

fn arr(items: Vec<Bson>) -> Bson {
    Bson::Array(items)
}

fn s(text: &str) -> Bson {
    Bson::String(text.into())
}

/// `{op: [x, y]}`.
fn binary(op: &str, x: Bson, y: Bson) -> Bson {
    op_doc(op, arr(vec![x, y]))
}

/// A `$map`/`$filter`/`$reduce` over `input`: the body reads the element
/// variable whole (no path through it). Arithmetic on the elements (of
/// any type) only adds the numbers, and `n` is a number.
fn higher_order(input: Bson, kind: u8, n: Bson, literal: Bson) -> Bson {
    // A missing input becomes null: the server fails on some missing ones.
    let input = binary("$ifNull", input, Bson::Null);
    match kind % 4 {
        0 => op_doc(
            "$map",
            Bson::Document(
                bson::doc! { "input": input, "as": "x", "in": binary("$add", number_or(s("$$x"), Bson::Int32(0)), n) },
            ),
        ),
        1 => op_doc(
            "$filter",
            Bson::Document(
                bson::doc! { "input": input, "as": "x", "cond": binary("$gte", s("$$x"), literal) },
            ),
        ),
        2 => op_doc(
            "$reduce",
            Bson::Document(
                bson::doc! { "input": input, "initialValue": n, "in": binary("$add", s("$$value"), number_or(s("$$this"), Bson::Int32(0))) },
            ),
        ),
        _ => op_doc(
            "$map",
            Bson::Document(bson::doc! { "input": input, "in": op_doc("$type", s("$$this")) }),
        ),
    }
}

/// `x` if it is a number, else `z`.
fn number_or(x: Bson, z: Bson) -> Bson {
    op_doc(
        "$cond",
        arr(vec![op_doc("$isNumber", arr(vec![x.clone()])), x, z]),
    )
}

/// `x` if it is a string, else `z`.
fn string_or(x: Bson, z: Bson) -> Bson {
    let kind = op_doc("$type", arr(vec![x.clone()]));
    op_doc("$cond", arr(vec![binary("$eq", kind, s("string")), x, z]))
}

/// `x` if it is an array, else `z`.
fn array_or(x: Bson, z: Bson) -> Bson {
    op_doc(
        "$cond",
        arr(vec![op_doc("$isArray", arr(vec![x.clone()])), x, z]),
    )
}

/// `{op: [x]}`, avoiding two server deviations: a literal array argument
/// is wrapped (the server unwraps it), and `$type` of a computed value is
/// defaulted to `z` (the server takes a missing one for null).
fn unary_op(op: &str, x: Bson, z: Bson) -> Bson {
    if op == "$reverseArray" && !matches!(x, Bson::Array(_)) {
        // The server takes `[x]` for the one-element array (a deviation):
        // give $reverseArray its argument bare.
        return op_doc(op, x);
    }
    let x = match x {
        Bson::Array(items) => op_doc("$concatArrays", arr(vec![Bson::Array(items)])),
        x => x,
    };
    let x = match x {
        Bson::Document(d) if op == "$type" => binary("$ifNull", Bson::Document(d), z),
        x => x,
    };
    op_doc(op, arr(vec![x]))
}

/// Whether `value` reads the document (`"$a"`, `"$$ROOT"`); a variable
/// bound by `$let` or `$map` may be a constant, which MongoDB folds.
fn reads_input(value: &Bson) -> bool {
    match value {
        Bson::String(s) => {
            (s.starts_with('$') && !s.starts_with("$$")) || s == "$$ROOT" || s == "$$CURRENT"
        }
        Bson::Array(items) => items.iter().any(reads_input),
        Bson::Document(d) if d.contains_key("$literal") => false,
        Bson::Document(d) => d.values().any(reads_input),
        _ => false,
    }
}

/// A field no document and no stage has.
const ABSENT: &str = "$z";

/// `{$ifNull: [<absent field>, value]}`: the value, made to depend on a
/// document without changing it (a present field would often give the
/// operator an argument of a type it refuses).
fn tie(value: Bson) -> Bson {
    op_doc("$ifNull", arr(vec![s(ABSENT), value]))
}

/// Rewrites every operator whose arguments are all constant so that it
/// reads a field: MongoDB folds constant subexpressions when it optimizes
/// the pipeline and fails on their errors even if no document reaches
/// them; our engine (and the test server, not quite like MongoDB) only
/// evaluates per document. Children first, so every operator reads input.
fn pin(value: Bson) -> Bson {
    match value {
        Bson::Array(items) => Bson::Array(items.into_iter().map(pin).collect()),
        Bson::Document(d) if d.contains_key("$literal") => Bson::Document(d),
        Bson::Document(d) => {
            let is_operator = d.keys().next().is_some_and(|k| k.starts_with('$'));
            let mut d: Document = d.into_iter().map(|(k, v)| (k, pin(v))).collect();
            if is_operator && !reads_input(&Bson::Document(d.clone())) {
                if let Some((_, arg)) = d.iter_mut().next() {
                    let taken = std::mem::replace(arg, Bson::Null);
                    *arg = match taken {
                        Bson::Array(mut items) if !items.is_empty() => {
                            items[0] = tie(items[0].clone());
                            Bson::Array(items)
                        }
                        Bson::Document(mut spec) if spec.contains_key("input") => {
                            let input = spec.get("input").cloned().unwrap_or(Bson::Null);
                            spec.insert("input", tie(input));
                            Bson::Document(spec)
                        }
                        Bson::Array(items) => Bson::Array(items),
                        Bson::Document(spec) => Bson::Document(spec),
                        other => tie(other),
                    };
                }
            }
            Bson::Document(d)
        }
        other => other,
    }
}

/// An expression of depth ≤ 3 over the fields and literals of the flavour,
/// every operator reading the document (see [`pin`]).
fn expression(decimals: bool) -> BoxedStrategy<Bson> {
    raw_expression(decimals).prop_map(pin).boxed()
}

fn raw_expression(decimals: bool) -> BoxedStrategy<Bson> {
    let leaves = Typed::leaves(decimals);
    let mut level = leaves.clone();
    for _ in 0..DEPTH {
        level = Typed::above(decimals, &level, &leaves);
    }
    level.any
}

/// Operator nesting of an expression, at most.
const DEPTH: usize = 3;
/// Out of `RIGHT_TYPE + WRONG_TYPE` operands, `WRONG_TYPE` are of any type
/// instead of one the operator accepts: they keep the stores' refusals
/// compared (a minority of pipelines fail), while most pipelines compute.
const RIGHT_TYPE: u32 = 22;
const WRONG_TYPE: u32 = 3;

/// Expressions of one depth by what they evaluate to, so that operators
/// mostly get operands of a type they accept (a string operator given a
/// number fails the whole pipeline, on both stores alike).
#[derive(Clone)]
struct Typed {
    /// Numbers (or null).
    num: BoxedStrategy<Bson>,
    /// Strings (or null).
    text: BoxedStrategy<Bson>,
    /// Arrays (or null).
    array: BoxedStrategy<Bson>,
    /// Anything, booleans too.
    any: BoxedStrategy<Bson>,
}

fn text() -> BoxedStrategy<Bson> {
    prop::sample::select(&["x", "y", "xy", "X", "", " a "][..])
        .prop_map(s)
        .boxed()
}

fn scalars(decimals: bool) -> BoxedStrategy<Bson> {
    prop::collection::vec(scalar(decimals), 0..4)
        .prop_map(Bson::Array)
        .boxed()
}

/// A number other than zero, for a divisor.
fn nonzero(decimals: bool) -> BoxedStrategy<Bson> {
    number(decimals)
        .prop_filter("a divisor", |n| match n {
            Bson::Int32(i) => *i != 0,
            Bson::Int64(i) => *i != 0,
            Bson::Double(f) => *f != 0.0,
            Bson::Decimal128(d) => d.to_string().trim_start_matches('-') != "0",
            _ => true,
        })
        .boxed()
}

impl Typed {
    /// Literals and fields, a field guarded by a type test where a type is
    /// wanted (the documents' fields hold any type).
    fn leaves(decimals: bool) -> Typed {
        Typed {
            num: prop_oneof![
                1 => number(decimals),
                2 => (path(), number(decimals)).prop_map(|(p, z)| number_or(p, z)),
            ]
            .boxed(),
            text: prop_oneof![
                1 => text(),
                2 => (path(), text()).prop_map(|(p, z)| string_or(p, z)),
            ]
            .boxed(),
            array: prop_oneof![
                1 => scalars(decimals),
                2 => (path(), scalars(decimals)).prop_map(|(p, z)| array_or(p, z)),
            ]
            .boxed(),
            any: prop_oneof![
                3 => path(),
                2 => scalar(decimals),
            ]
            .boxed(),
        }
    }

    /// Operators over `below` (one level less deep), or `leaves`.
    fn above(decimals: bool, below: &Typed, leaves: &Typed) -> Typed {
        let operand = |typed: &BoxedStrategy<Bson>| -> BoxedStrategy<Bson> {
            prop_oneof![
                RIGHT_TYPE => typed.clone(),
                WRONG_TYPE => below.any.clone(),
            ]
            .boxed()
        };
        let (n, t, a, x) = (
            operand(&below.num),
            operand(&below.text),
            operand(&below.array),
            below.any.clone(),
        );
        let lit = move || scalar(decimals);
        let num_lit = move || number(decimals);
        // No doubles among decimals (see the header): conversions to a
        // fraction make decimals there.
        let (to_fraction, convert_fraction) = match decimals {
            true => ("$toDecimal", "decimal"),
            false => ("$toDouble", "double"),
        };

        let num = prop_oneof![
            3 => leaves.num.clone(),
            3 => (prop::sample::select(&["$abs", "$ceil", "$floor", "$round", "$trunc"][..]), n.clone(), lit())
                .prop_map(|(op, x, z)| unary_op(op, x, z)),
            // Negative numbers have no square root: of an $abs.
            1 => n.clone().prop_map(move |x| {
                let x = decimal(decimals, unary_op("$abs", x, Bson::Null));
                unary_op("$sqrt", x, Bson::Null)
            }),
            1 => (prop::sample::select(vec!["$toInt", "$toLong", to_fraction]), n.clone(), lit())
                .prop_map(|(op, x, z)| unary_op(op, x, z)),
            1 => (a.clone(), lit()).prop_map(|(x, z)| unary_op("$size", x, z)),
            1 => (t.clone(), lit()).prop_map(|(x, z)| unary_op("$strLenCP", x, z)),
            2 => (prop::sample::select(&["$add", "$multiply"][..]), n.clone(), n.clone())
                .prop_map(|(op, x, y)| binary(op, x, y)),
            // The server rounds a decimal difference to 28 digits (a
            // deviation): decimal operands are rounded to 10 places first.
            1 => (n.clone(), n.clone()).prop_map(move |(x, y)| {
                let short = |x: Bson| match decimals {
                    true => binary("$round", x, Bson::Int32(10)),
                    false => x,
                };
                binary("$subtract", short(x), short(y))
            }),
            // Mostly a literal divisor: a computed one is often zero.
            2 => (
                prop::sample::select(&["$divide", "$mod"][..]),
                n.clone(),
                prop_oneof![2 => nonzero(decimals), 1 => n.clone()],
            )
                .prop_map(move |(op, x, y)| match op {
                    "$divide" => binary(op, decimal(decimals, x), y),
                    _ => binary(op, x, y),
                }),
            2 => prop::collection::vec(n.clone(), 1..4).prop_map(|xs| op_doc("$add", arr(xs))),
            1 => (x.clone(), x.clone()).prop_map(|(x, y)| binary("$cmp", x, y)),
            1 => (t.clone(), t.clone()).prop_map(|(x, y)| binary("$strcasecmp", x, y)),
            // The server's $indexOfArray finds no int among decimals of the
            // same value (a deviation): there it looks for no number.
            1 => (a.clone(), needle().prop_filter("no number among decimals", move |v| {
                !decimals || !matches!(v, Bson::Int32(_))
            }))
                .prop_map(|(x, v)| binary("$indexOfArray", x, v)),
            1 => x.clone().prop_map(|x| op_doc("$sum", x)),
            // The average of integers is a double: of decimals instead, so
            // that no double meets a decimal (see the header).
            1 => match decimals {
                false => x.clone().prop_map(|x| op_doc("$avg", x)).boxed(),
                true => (n.clone(), n.clone())
                    .prop_map(|(x, y)| op_doc("$avg", arr(vec![decimal(true, x), decimal(true, y)])))
                    .boxed(),
            },
            1 => (a.clone(), num_lit()).prop_map(|(x, n)| higher_order(x, 2, n, Bson::Null)),
            1 => (n.clone(), prop::sample::select(vec!["int", "long", convert_fraction]))
                .prop_map(|(x, to)| convert(x, to)),
            4 => polymorphic(decimals, &n, &x, num_lit()),
        ]
        .boxed();

        let text = prop_oneof![
            3 => leaves.text.clone(),
            2 => (prop::sample::select(&["$toUpper", "$toLower"][..]), t.clone(), lit())
                .prop_map(|(op, x, z)| unary_op(op, x, z)),
            1 => (prop_oneof![n.clone(), t.clone()], lit()).prop_map(|(x, z)| unary_op("$toString", x, z)),
            1 => (x.clone(), lit()).prop_map(|(x, z)| unary_op("$type", x, z)),
            2 => prop::collection::vec(t.clone(), 1..3).prop_map(|xs| op_doc("$concat", arr(xs))),
            1 => (t.clone(), 0i32..2, 0i32..3).prop_map(|(x, from, n)| {
                op_doc("$substrCP", arr(vec![x, Bson::Int32(from), Bson::Int32(n)]))
            }),
            1 => t.clone().prop_map(|x| op_doc("$trim", Bson::Document(doc_of("input", x)))),
            // The server's $convert (not $toString) prints a double with six
            // digits (a deviation): doubles are rounded to two places first.
            1 => n.clone().prop_map(move |x| match decimals {
                true => convert(x, "string"),
                false => convert(binary("$round", x, Bson::Int32(2)), "string"),
            }),
            4 => polymorphic(decimals, &t, &x, text()),
        ]
        .boxed();

        let array = prop_oneof![
            3 => leaves.array.clone(),
            1 => (a.clone(), lit()).prop_map(|(x, z)| unary_op("$reverseArray", x, z)),
            2 => (a.clone(), -2i32..3).prop_map(|(x, n)| binary("$slice", x, Bson::Int32(n))),
            // Nulls become []: the server checks the types before the nulls.
            2 => (
                prop::sample::select(&["$setUnion", "$setIntersection", "$setDifference", "$concatArrays"][..]),
                a.clone(),
                a.clone(),
            )
                .prop_map(|(op, x, y)| {
                    let y = binary("$ifNull", y, arr(vec![]));
                    // Which of two equal numbers (1 and 1.0) a union or an
                    // intersection keeps is not specified: only one side
                    // brings numbers.
                    let y = match op {
                        "$setUnion" | "$setIntersection" => op_doc(
                            "$filter",
                            Bson::Document(bson::doc! {
                                "input": y,
                                "as": "e",
                                "cond": op_doc("$not", arr(vec![op_doc("$isNumber", arr(vec![s("$$e")]))])),
                            }),
                        ),
                        _ => y,
                    };
                    binary(op, binary("$ifNull", x, arr(vec![])), y)
                }),
            1 => (0i32..3, 1i32..4).prop_map(|(start, end)| {
                op_doc("$range", arr(vec![Bson::Int32(start), Bson::Int32(end)]))
            }),
            3 => (a.clone(), prop::sample::select(&[0u8, 1, 3][..]), num_lit(), lit())
                .prop_map(|(x, kind, n, v)| higher_order(x, kind, n, v)),
            1 => (t.clone(), prop::sample::select(&["x", "y", " "][..]))
                .prop_map(|(x, sep)| binary("$split", x, s(sep))),
            2 => prop::collection::vec(x.clone(), 0..3).prop_map(Bson::Array),
            4 => polymorphic(decimals, &a, &x, scalars(decimals)),
        ]
        .boxed();

        let any = prop_oneof![
            3 => leaves.any.clone(),
            4 => num.clone(),
            2 => text.clone(),
            3 => array.clone(),
            2 => (prop::sample::select(&["$not", "$isArray", "$isNumber", "$toBool"][..]), x.clone(), lit())
                .prop_map(|(op, x, z)| unary_op(op, x, z)),
            3 => (prop::sample::select(&["$gt", "$gte", "$lt", "$lte"][..]), x.clone(), x.clone())
                .prop_map(|(op, x, y)| binary(op, x, y)),
            3 => (prop::sample::select(&["$eq", "$ne"][..]), x.clone(), lit())
                .prop_map(|(op, x, y)| binary(op, x, y)),
            2 => (prop::sample::select(&["$and", "$or"][..]), prop::collection::vec(x.clone(), 1..3))
                .prop_map(|(op, xs)| op_doc(op, arr(xs))),
            2 => (x.clone(), prop::collection::vec(needle(), 0..3), needle()).prop_map(|(x, items, z)| {
                binary("$in", op_doc("$ifNull", arr(vec![x, z])), op_doc("$literal", arr(items)))
            }),
            1 => (prop::sample::select(&["$setEquals", "$setIsSubset"][..]), a.clone(), a.clone())
                .prop_map(|(op, x, y)| binary(op, binary("$ifNull", x, arr(vec![])), binary("$ifNull", y, arr(vec![])))),
            1 => x.clone().prop_map(|x| convert(x, "bool")),
            // Past the end the value is missing, which the server's other
            // operators take for an object: defaulted at once.
            2 => (a.clone(), -2i32..3, lit()).prop_map(|(x, i, z)| {
                binary("$ifNull", binary("$arrayElemAt", x, Bson::Int32(i)), z)
            }),
            2 => (prop::sample::select(&["$first", "$last"][..]), a.clone(), lit())
                .prop_map(|(op, x, z)| op_doc("$ifNull", arr(vec![unary_op(op, x, z), s("none")]))),
            1 => (prop::sample::select(&["$min", "$max"][..]), x.clone())
                .prop_map(|(op, x)| op_doc(op, x)),
            3 => polymorphic(decimals, &x, &x, lit()),
        ]
        .boxed();
        Typed {
            num,
            text,
            array,
            any,
        }
    }
}

/// `x` made a decimal (if it is a number) among decimals, where no double
/// may meet a decimal (see the header): `$divide`, `$sqrt` and `$avg` of
/// integers would make one.
fn decimal(decimals: bool, x: Bson) -> Bson {
    match decimals {
        true => binary("$add", x, dec("0")),
        false => x,
    }
}

/// `$convert` of `x` to `to`, failing on a value it cannot convert.
fn convert(x: Bson, to: &str) -> Bson {
    op_doc(
        "$convert",
        Bson::Document(bson::doc! { "input": x, "to": to, "onError": "error", "onNull": "null" }),
    )
}

/// The operators that evaluate to one of their arguments (`$cond`,
/// `$ifNull`, `$switch`, `$let`), over `k` of one type, `x` of any type
/// (a condition), and `z` literals of `k`'s type.
fn polymorphic(
    decimals: bool,
    k: &BoxedStrategy<Bson>,
    x: &BoxedStrategy<Bson>,
    z: BoxedStrategy<Bson>,
) -> BoxedStrategy<Bson> {
    prop_oneof![
        3 => (x.clone(), k.clone(), k.clone())
            .prop_map(|(c, t, f)| op_doc("$cond", arr(vec![c, t, f]))),
        2 => (k.clone(), k.clone(), z.clone()).prop_map(|(x, y, z)| op_doc("$ifNull", arr(vec![x, y, z]))),
        1 => (x.clone(), scalar(decimals), k.clone(), z.clone()).prop_map(|(x, v, t, d)| {
            op_doc("$switch", Bson::Document(bson::doc! {
                "branches": [{ "case": binary("$eq", x, v), "then": t }],
                "default": d,
            }))
        }),
        1 => (k.clone(), k.clone(), z).prop_map(|(v, body, z)| {
            op_doc("$let", Bson::Document(bson::doc! {
                "vars": { "v": v },
                "in": op_doc("$ifNull", arr(vec![s("$$v"), body, z])),
            }))
        }),
    ]
    .boxed()
}

/// An accumulator of `$group`, `$bucket` or a window.
#[derive(Clone, Debug)]
struct Accumulator {
    op: &'static str,
    arg: Bson,
}

/// Which accumulators a stream allows.
#[derive(Clone, Copy, PartialEq)]
enum Allowed {
    /// The stream's order is not fixed: only order-free accumulators.
    Unordered,
    /// Fixed order: `$first`, `$push`… too.
    Ordered,
}

impl Accumulator {
    /// The accumulator, or an order-free stand-in when the order is not
    /// fixed (`$min`/`$max` keep the first of equal values, 1 vs 1.0).
    fn render(&self, allowed: Allowed) -> Bson {
        let order_free = matches!(self.op, "$sum" | "$avg" | "$count" | "$addToSet");
        let op = if order_free || allowed == Allowed::Ordered {
            self.op
        } else {
            "$sum"
        };
        match op {
            "$count" => op_doc("$count", Bson::Document(Document::new())),
            op => op_doc(op, self.arg.clone()),
        }
    }
}

fn accumulator(decimals: bool) -> BoxedStrategy<Accumulator> {
    (
        prop::sample::select(
            &[
                "$sum",
                "$avg",
                "$min",
                "$max",
                "$first",
                "$last",
                "$push",
                "$addToSet",
                "$count",
            ][..],
        ),
        prop_oneof![
            3 => path(),
            1 => Just(Bson::Int32(1)),
            2 => expression(decimals),
        ],
    )
        // An array operand is refused by MongoDB but not by the server; a
        // constant one of $first/$last the server folds as the array
        // operator; a sum of a constant long the server narrows to an int:
        // the only constant is $sum's count, 1.
        .prop_map(|(op, arg)| match arg {
            Bson::Array(_) => Accumulator { op, arg: s("$b") },
            arg if !reads_input(&arg) => Accumulator {
                op,
                arg: if op == "$sum" {
                    Bson::Int32(1)
                } else {
                    s("$c")
                },
            },
            // MongoDB evaluates an accumulator's argument on every document,
            // the server only where $first/$last need it: a path cannot fail.
            Bson::Document(_) if matches!(op, "$first" | "$last") => {
                Accumulator { op, arg: s("$a") }
            }
            arg => Accumulator { op, arg },
        })
        // The average of integers is a double, which must not meet a
        // decimal (see the header): of the numbers made decimals instead.
        .prop_map(move |acc| match acc.op {
            "$avg" if decimals => {
                let is_number = op_doc("$isNumber", arr(vec![acc.arg.clone()]));
                let arg = op_doc(
                    "$cond",
                    arr(vec![is_number, decimal(true, acc.arg), Bson::Null]),
                );
                Accumulator { op: acc.op, arg }
            }
            _ => acc,
        })
        .boxed()
}

/// One stage of a pipeline before [`build`] fits it to the stream.
#[derive(Clone, Debug)]
enum Draft {
    /// `$match` of a filter drawn from the inserted documents (`present`),
    /// or, once they are reshaped, of a random one (`generic`) or a field
    /// that the stream holds existing (the `pick`th, see [`present`]).
    Match {
        present: Document,
        generic: Document,
        pick: usize,
    },
    /// `$project` of computed fields and kept fields (`None`).
    Project(Vec<(&'static str, Option<Bson>)>),
    /// `$project` excluding fields.
    Exclude(Vec<&'static str>),
    /// `$addFields` (or its alias `$set`).
    AddFields(bool, Vec<(&'static str, Bson)>),
    Unset(Vec<&'static str>),
    Group(Bson, Vec<(&'static str, Accumulator)>),
    Sort(Vec<(&'static str, bool)>),
    Limit(i32),
    Skip(i32),
    /// `$unwind` of a field: the short form, or the long one with
    /// `preserveNullAndEmptyArrays` and `includeArrayIndex`.
    Unwind(&'static str, Option<(bool, bool)>),
    Count,
    SortByCount(Bson),
    Bucket(Bson, usize, Vec<(&'static str, Accumulator)>),
    /// `$replaceWith` of `{_id, fields…}`, or merged into `$$ROOT`.
    ReplaceWith(bool, Vec<(&'static str, Bson)>),
    Window(
        Option<Bson>,
        &'static str,
        bool,
        Vec<(&'static str, Accumulator, usize)>,
    ),
}

/// Valid `$bucket` boundaries (ascending, one numeric type each).
const BOUNDARIES: [&[i32]; 4] = [&[0, 1, 2], &[0, 2], &[-1, 1, 3], &[1, 2, 3, 10]];
/// Windows: `documents` bounds, or none (the whole partition).
const WINDOWS: [Option<(i32, i32)>; 4] = [None, Some((-1, 0)), Some((-1, 1)), Some((0, 2))];

/// A `$match` filter that the inserted documents mostly satisfy: a random
/// one finds nothing in most small document sets, and every stage after it
/// then tests nothing. Drawn from a field one of `docs` holds: its value,
/// its type, values on either side of it, or its mere presence; now and
/// then or'ed with a random filter, or a random filter alone.
fn present(docs: &[Document]) -> BoxedStrategy<Document> {
    let pairs: Vec<(String, Bson)> = docs
        .iter()
        .flat_map(|d| d.iter().map(|(k, v)| (k.clone(), v.clone())))
        .collect();
    let pair = move || prop::sample::select(pairs.clone());
    (pair(), pair(), 0u8..8, filter())
        .prop_map(|((name, value), (_, other), kind, generic)| {
            let condition = match kind {
                0 | 1 => value,
                2 => op_doc("$exists", Bson::Boolean(true)),
                3 => op_doc("$type", s(type_name(&value))),
                4 => op_doc("$gte", value),
                5 => op_doc("$lte", value),
                _ => op_doc("$in", arr(vec![value, other])),
            };
            let own = doc_of(&name, condition);
            match kind {
                1 => doc_of(
                    "$or",
                    arr(vec![Bson::Document(generic), Bson::Document(own)]),
                ),
                7 => generic,
                _ => own,
            }
        })
        .boxed()
}

/// Fields holding a non-empty array in some of `docs`: `$unwind` of any
/// other field finds nothing.
fn array_fields(docs: &[Document]) -> Vec<&'static str> {
    FIELDS
        .into_iter()
        .filter(|f| {
            docs.iter()
                .any(|d| matches!(d.get(*f), Some(Bson::Array(items)) if !items.is_empty()))
        })
        .collect()
}

fn draft(decimals: bool, docs: &[Document]) -> BoxedStrategy<Draft> {
    let e = move || expression(decimals);
    let computed = move || prop::collection::vec((field(), e()), 1..3);
    let accs = move || prop::collection::vec((field(), accumulator(decimals)), 0..3);
    let arrays = array_fields(docs);
    let unwound = if arrays.is_empty() {
        field()
    } else {
        prop_oneof![1 => field(), 3 => prop::sample::select(arrays)].boxed()
    };
    prop_oneof![
        4 => (present(docs), filter(), any::<usize>())
            .prop_map(|(present, generic, pick)| Draft::Match { present, generic, pick }),
        3 => prop::collection::vec((field(), prop::option::of(e())), 1..3).prop_map(Draft::Project),
        1 => prop::collection::vec(field(), 1..3).prop_map(Draft::Exclude),
        5 => (any::<bool>(), computed()).prop_map(|(set, fields)| Draft::AddFields(set, fields)),
        1 => prop::collection::vec(field(), 1..3).prop_map(Draft::Unset),
        4 => (prop_oneof![path(), e(), Just(Bson::Null)], accs()).prop_map(|(k, a)| Draft::Group(k, a)),
        3 => prop::collection::vec((field(), any::<bool>()), 0..3).prop_map(Draft::Sort),
        2 => (1i32..5).prop_map(Draft::Limit),
        1 => (0i32..4).prop_map(Draft::Skip),
        3 => (unwound, prop::option::of((any::<bool>(), any::<bool>())))
            .prop_map(|(f, long)| Draft::Unwind(f, long)),
        1 => Just(Draft::Count),
        2 => prop_oneof![path(), e()].prop_map(Draft::SortByCount),
        2 => (prop_oneof![path(), e()], 0..BOUNDARIES.len(), accs())
            .prop_map(|(g, b, a)| Draft::Bucket(g, b, a)),
        2 => (any::<bool>(), computed()).prop_map(|(merge, f)| Draft::ReplaceWith(merge, f)),
        2 => (
            prop::option::of(prop_oneof![path(), e()]),
            field(),
            any::<bool>(),
            prop::collection::vec((field(), accumulator(decimals), 0..WINDOWS.len()), 1..3),
        )
            .prop_map(|(p, k, up, out)| Draft::Window(p, k, up, out)),
    ]
    .boxed()
}

/// What the stream of documents between two stages guarantees.
#[derive(Clone, Debug)]
struct Flow {
    /// Its order is fixed (by a sort on a unique key).
    ordered: bool,
    /// A sort key unique among its documents, if one is known.
    unique: Option<Document>,
    /// It holds at least one document.
    nonempty: bool,
    /// Its documents are no longer the inserted ones, whole.
    reshaped: bool,
    /// Fields every document holds, as far as the stages tell.
    written: Vec<String>,
}

impl Flow {
    /// Notes that every document now holds `fields`.
    fn write<'a>(&mut self, fields: impl Iterator<Item = &'a str>) {
        for field in fields {
            if !self.written.iter().any(|w| w == field) {
                self.written.push(field.to_owned());
            }
        }
    }

    fn allowed(&self) -> Allowed {
        if self.ordered {
            Allowed::Ordered
        } else {
            Allowed::Unordered
        }
    }

    /// A group key: over a fixed order (the first of equal keys, 1 or 1.0,
    /// names the group) `[<type>, key]` (an array key by its size, an
    /// object key by its type), else the key's `$type`. The type keeps
    /// apart what the server wrongly groups together (`{}` and `[]`).
    fn group_key(&self, key: Bson) -> Bson {
        let kind = unary_op("$type", key.clone(), s("missing"));
        if matches!(key, Bson::Null) {
            key
        } else if self.ordered {
            // Inside an array the server still finds {} and [] equal: an
            // array is keyed by its size, an object by its type.
            let is_object = binary(
                "$eq",
                unary_op("$type", key.clone(), s("missing")),
                s("object"),
            );
            let key = pin(op_doc(
                "$switch",
                Bson::Document(bson::doc! {
                    "branches": [
                        { "case": unary_op("$isArray", key.clone(), Bson::Null), "then": unary_op("$size", key.clone(), Bson::Null) },
                        { "case": is_object, "then": "object" },
                    ],
                    "default": key,
                }),
            ));
            // An operator, not an array literal: $sortByCount wants one.
            op_doc("$concatArrays", arr(vec![arr(vec![kind]), arr(vec![key])]))
        } else {
            kind
        }
    }

    /// A `$sort` fixing the order, if a unique key is known.
    /// Directly before `$limit`/`$skip`: MongoDB moves them ahead of
    /// projections (so a projection never sees the documents they drop),
    /// the server does not.
    fn fix_order(&mut self, pipeline: &mut Vec<Document>) -> bool {
        let after_sort = pipeline.last().is_some_and(|s| s.contains_key("$sort"));
        if self.ordered && after_sort {
            return true;
        }
        match &self.unique {
            Some(key) => {
                pipeline.push(doc_of("$sort", Bson::Document(key.clone())));
                self.ordered = true;
                true
            }
            None => false,
        }
    }
}

/// Accumulator fields of `$group`/`$bucket`; `$addToSet` (whose order is
/// unspecified) is followed by a `$size` of the set.
fn accumulators(
    spec: &mut Document,
    accs: &[(&'static str, Accumulator)],
    allowed: Allowed,
    sizes: &mut Document,
) {
    for (name, acc) in accs {
        if *name == "_id" || spec.contains_key(*name) {
            continue;
        }
        let rendered = acc.render(allowed);
        if matches!(&rendered, Bson::Document(d) if d.contains_key("$addToSet")) {
            sizes.insert(*name, op_doc("$size", s(&format!("${name}"))));
        }
        spec.insert(*name, rendered);
    }
}

/// `{$literal: v}` for the values `$project` would read as inclusion flags.
fn projected(value: Bson) -> Bson {
    match value {
        v @ (Bson::Int32(_)
        | Bson::Int64(_)
        | Bson::Double(_)
        | Bson::Decimal128(_)
        | Bson::Boolean(_)
        | Bson::Null) => op_doc("$literal", v),
        v => v,
    }
}

/// Fits `drafts` to the stream, stage by stage, into a case.
fn build(drafts: Vec<Draft>) -> Case {
    let mut flow = Flow {
        ordered: false,
        unique: Some(doc_of("_id", Bson::Int32(1))),
        nonempty: true,
        reshaped: false,
        written: vec!["_id".to_owned()],
    };
    let mut pipeline: Vec<Document> = Vec::new();
    let id_key = || Some(doc_of("_id", Bson::Int32(1)));
    for draft in drafts {
        // Only these stages pass on the documents they get unchanged.
        let keeps = matches!(
            draft,
            Draft::Match { .. } | Draft::Sort(_) | Draft::Limit(_) | Draft::Skip(_)
        );
        match draft {
            Draft::Match {
                present,
                generic,
                pick,
            } => {
                // A filter drawn from the inserted documents rarely fits
                // reshaped ones: a random one, or'ed with a field existing.
                let filter = if flow.reshaped {
                    let held = flow.written.len().max(1);
                    let field = flow.written.get(pick % held).map_or("_id", |w| w.as_str());
                    let exists = doc_of(field, op_doc("$exists", Bson::Boolean(true)));
                    doc_of(
                        "$or",
                        arr(vec![Bson::Document(generic), Bson::Document(exists)]),
                    )
                } else {
                    present
                };
                pipeline.push(doc_of("$match", Bson::Document(filter)));
                flow.nonempty = false;
            }
            Draft::Project(fields) => {
                let mut spec = Document::new();
                flow.written = vec!["_id".to_owned()];
                for (name, value) in fields {
                    if value.is_some() {
                        flow.written.push(name.to_owned());
                    }
                    let v = value.map(projected).unwrap_or(Bson::Int32(1));
                    spec.insert(name, v);
                }
                pipeline.push(doc_of("$project", Bson::Document(spec)));
                if flow.unique != id_key() {
                    flow.unique = None;
                }
            }
            Draft::Exclude(mut fields) => {
                fields.sort_unstable();
                fields.dedup();
                flow.written.retain(|w| !fields.contains(&w.as_str()));
                let spec: Document = fields
                    .into_iter()
                    .map(|f| (f.to_owned(), Bson::Int32(0)))
                    .collect();
                pipeline.push(doc_of("$project", Bson::Document(spec)));
            }
            Draft::AddFields(set, fields) => {
                let stage = if set { "$set" } else { "$addFields" };
                flow.write(fields.iter().map(|(name, _)| *name));
                pipeline.push(doc_of(stage, Bson::Document(fields_doc(fields))));
            }
            Draft::Unset(mut fields) => {
                // A field named twice: MongoDB reports a path collision, the
                // server accepts it (not settled by the manual).
                fields.sort_unstable();
                fields.dedup();
                flow.written.retain(|w| !fields.contains(&w.as_str()));
                let names = fields.into_iter().map(|f| Bson::String(f.into())).collect();
                pipeline.push(doc_of("$unset", Bson::Array(names)));
            }
            Draft::Group(key, accs) => {
                let mut spec = doc_of("_id", flow.group_key(key));
                let mut sizes = Document::new();
                accumulators(&mut spec, &accs, flow.allowed(), &mut sizes);
                flow.written = spec.keys().cloned().collect();
                pipeline.push(doc_of("$group", Bson::Document(spec)));
                if !sizes.is_empty() {
                    pipeline.push(doc_of("$addFields", Bson::Document(sizes)));
                }
                flow.ordered = false;
                flow.unique = id_key();
            }
            Draft::Sort(keys) => {
                let mut spec = Document::new();
                for (name, up) in keys {
                    if !spec.contains_key(name) {
                        spec.insert(name, if up { 1 } else { -1 });
                    }
                }
                match &flow.unique {
                    Some(unique) => {
                        for (k, v) in unique {
                            if !spec.contains_key(k) {
                                spec.insert(k.clone(), v.clone());
                            }
                        }
                        flow.ordered = true;
                    }
                    None => {
                        if spec.is_empty() {
                            spec.insert("_id", 1);
                        }
                        flow.ordered = false;
                    }
                }
                pipeline.push(doc_of("$sort", Bson::Document(spec)));
            }
            Draft::Limit(n) => {
                if flow.fix_order(&mut pipeline) {
                    pipeline.push(doc_of("$limit", Bson::Int32(n)));
                }
            }
            Draft::Skip(n) => {
                if flow.fix_order(&mut pipeline) {
                    pipeline.push(doc_of("$skip", Bson::Int32(n)));
                    flow.nonempty = false;
                }
            }
            Draft::Unwind(name, long) => {
                // Once reshaped, a field the stream holds (a scalar is
                // unwound as itself), else every document is dropped.
                let name = match FIELDS.iter().find(|f| flow.written.iter().any(|w| w == *f)) {
                    Some(held) if flow.reshaped && !flow.written.iter().any(|w| w == name) => held,
                    _ => name,
                };
                let path = s(&format!("${name}"));
                match long {
                    None => {
                        pipeline.push(doc_of("$unwind", path));
                        flow.unique = None;
                        flow.nonempty = false;
                    }
                    Some((preserve, index)) => {
                        let mut spec = doc_of("path", path);
                        spec.insert("preserveNullAndEmptyArrays", preserve);
                        if index && flow.unique == id_key() {
                            spec.insert("includeArrayIndex", "i");
                            flow.unique = Some(bson::doc! { "_id": 1, "i": 1 });
                        } else {
                            flow.unique = None;
                        }
                        let indexed = spec.contains_key("includeArrayIndex");
                        pipeline.push(doc_of("$unwind", Bson::Document(spec)));
                        if indexed {
                            // The server's index is an int, MongoDB's a long.
                            pipeline.push(bson::doc! { "$addFields": { "i": { "$toInt": "$i" } } });
                        }
                        flow.nonempty &= preserve;
                    }
                }
            }
            Draft::Count => {
                if flow.nonempty {
                    pipeline.push(doc_of("$count", s("a")));
                    flow.written = vec!["a".to_owned()];
                    flow.ordered = true;
                    flow.unique = None;
                }
            }
            Draft::SortByCount(key) => {
                pipeline.push(doc_of("$sortByCount", flow.group_key(key)));
                flow.written = vec!["_id".to_owned(), "count".to_owned()];
                // Ties in the count leave the order unspecified.
                flow.ordered = false;
                flow.unique = id_key();
            }
            Draft::Bucket(group_by, boundaries, accs) => {
                let bounds = BOUNDARIES[boundaries % BOUNDARIES.len()]
                    .iter()
                    .map(|b| Bson::Int32(*b))
                    .collect();
                // MongoDB wants a path or an operator document (the server
                // takes any value).
                let group_by = match group_by {
                    Bson::Document(d) => Bson::Document(d),
                    Bson::String(p) if p.starts_with('$') => Bson::String(p),
                    other => binary("$ifNull", other, Bson::Null),
                };
                let mut spec = bson::doc! { "groupBy": group_by, "boundaries": Bson::Array(bounds), "default": "other" };
                let mut output = Document::new();
                let mut sizes = Document::new();
                accumulators(&mut output, &accs, flow.allowed(), &mut sizes);
                // The server's $bucket does not know the $count accumulator.
                for (_, acc) in output.iter_mut() {
                    if matches!(acc, Bson::Document(d) if d.contains_key("$count")) {
                        *acc = op_doc("$sum", Bson::Int32(1));
                    }
                }
                flow.written = vec!["_id".to_owned()];
                if output.is_empty() {
                    flow.written.push("count".to_owned());
                } else {
                    flow.written.extend(output.keys().cloned());
                    spec.insert("output", output);
                }
                pipeline.push(doc_of("$bucket", Bson::Document(spec)));
                if !sizes.is_empty() {
                    pipeline.push(doc_of("$addFields", Bson::Document(sizes)));
                }
                // Buckets come out sorted by their boundary, "other" last.
                flow.ordered = true;
                flow.unique = id_key();
            }
            Draft::ReplaceWith(merge, fields) => {
                if !merge {
                    flow.written = vec!["_id".to_owned()];
                }
                flow.write(fields.iter().map(|(name, _)| *name));
                let computed = Bson::Document(fields_doc(fields));
                let replacement = if merge {
                    op_doc("$mergeObjects", arr(vec![s("$$ROOT"), computed]))
                } else {
                    let mut d = doc_of("_id", s("$_id"));
                    if let Bson::Document(c) = computed {
                        d.extend(c);
                    }
                    if flow.unique != id_key() {
                        flow.unique = None;
                    }
                    Bson::Document(d)
                };
                pipeline.push(doc_of("$replaceWith", replacement));
            }
            Draft::Window(partition, key, up, outputs) => {
                // Without a unique sort the windows' contents are not fixed.
                let Some(unique) = flow.unique.clone() else {
                    continue;
                };
                let mut sort_by = doc_of(key, Bson::Int32(if up { 1 } else { -1 }));
                for (k, v) in &unique {
                    if !sort_by.contains_key(k) {
                        sort_by.insert(k.clone(), v.clone());
                    }
                }
                let mut output = Document::new();
                for (name, acc, window) in outputs {
                    if output.contains_key(name) || acc.op == "$addToSet" {
                        continue;
                    }
                    let mut spec = match acc.render(Allowed::Ordered) {
                        Bson::Document(d) => d,
                        _ => continue,
                    };
                    if let Some((lo, hi)) = WINDOWS[window % WINDOWS.len()] {
                        spec.insert("window", bson::doc! { "documents": [lo, hi] });
                    }
                    output.insert(name, spec);
                }
                if output.is_empty() {
                    continue;
                }
                let mut spec = Document::new();
                if let Some(p) = partition {
                    // MongoDB refuses an array partition, the server does not.
                    spec.insert("partitionBy", unary_op("$type", p, Bson::Null));
                }
                flow.write(FIELDS.into_iter().filter(|f| output.contains_key(f)));
                spec.insert("sortBy", sort_by);
                spec.insert("output", output);
                pipeline.push(doc_of("$setWindowFields", Bson::Document(spec)));
                flow.ordered = false;
            }
        }
        flow.reshaped |= !keeps;
    }
    if pipeline.is_empty() {
        pipeline.push(doc_of("$match", Bson::Document(Document::new())));
    }
    let case = agg(pipeline);
    if flow.ordered {
        case.ordered()
    } else {
        case
    }
}

fn batch() -> impl Strategy<Value = (Vec<Document>, Vec<Case>)> {
    documents().prop_flat_map(|(decimals, docs)| {
        let pipeline = prop::collection::vec(draft(decimals, &docs), 1..5).prop_map(build);
        (
            Just(docs),
            prop::collection::vec(pipeline, PIPELINES_PER_SET),
        )
    })
}

/// Runs every part, each in its own thread; panics with every failure.
pub fn run_all() {
    // `YAMLETT_DIFF_SETS` is read the same way as for the filters.
    let sets = match std::env::var("YAMLETT_DIFF_SETS") {
        Ok(_) => sets_per_part(),
        Err(_) => SETS_PER_PART,
    };
    eprintln!(
        "generated pipelines: YAMLETT_DIFF_SEED={:x}: {PARTS} x {sets} document sets x {PIPELINES_PER_SET} pipelines",
        seed(),
    );
    let tally = Tally::default();
    let failures: Vec<String> = std::thread::scope(|s| {
        let tally = &tally;
        let handles: Vec<_> = (0..PARTS)
            .map(|part| s.spawn(move || run_batches(part, batch(), sets, tally)))
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().expect("generator thread").err())
            .collect()
    });
    eprintln!("generated pipelines: {tally}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
