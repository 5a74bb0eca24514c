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
//!   the other (the server converts a double exactly, MongoDB to 15 digits);
//! - `$eq`/`$ne` of two computed values (the server finds `[false]` equal
//!   to `[0]`): one side is a scalar literal;
//! - `$not` of a literal array, `$first`/`$last` of an empty array (only
//!   inside `$ifNull`), `$zip`, `$sortArray` of mixed types, `$pow`,
//!   `$trunc`/`$round` with large places, `$getField`/`$unsetField`;
//! - `$count` on a stream that may be empty (the server answers `{n: 0}`);
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
//! - group keys `{}` and `[]` (the server puts them in one group): keys
//!   are paired with their `$type`;
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
//!   `output` (the server refuses it).
//!
//! Errors of constant subexpressions are not compared either: MongoDB folds
//! them when it optimizes the pipeline and fails even when no document
//! reaches them, our engine evaluates per document. [`pin`] makes every
//! operator read a field.

use bson::{Bson, Document};
use proptest::prelude::*;

use super::generate::{dec, doc_of, fields_doc, filter, op_doc, run_batches, sets_per_part};
use super::generate::{seed, Tally, PARTS};
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
/// variable whole (no path through it).
fn higher_order(input: Bson, kind: u8, literal: Bson) -> Bson {
    // A missing input becomes null: the server fails on some missing ones.
    let input = binary("$ifNull", input, Bson::Null);
    match kind % 4 {
        0 => op_doc(
            "$map",
            Bson::Document(
                bson::doc! { "input": input, "as": "x", "in": binary("$add", s("$$x"), literal) },
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
                bson::doc! { "input": input, "initialValue": literal, "in": binary("$add", s("$$value"), s("$$this")) },
            ),
        ),
        _ => op_doc(
            "$map",
            Bson::Document(bson::doc! { "input": input, "in": op_doc("$type", s("$$this")) }),
        ),
    }
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

/// `{$ifNull: [<field>, value]}`: the value, made to depend on a document.
fn tie(value: Bson) -> Bson {
    op_doc("$ifNull", arr(vec![s("$a"), value]))
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
    let leaf = prop_oneof![
        3 => path(),
        2 => scalar(decimals),
    ];
    leaf.prop_recursive(3, 24, 3, move |e| {
        let lit = move || scalar(decimals);
        let unary = prop::sample::select(
            &[
                "$abs", "$ceil", "$floor", "$sqrt", "$not", "$size", "$isArray", "$reverseArray",
                "$toUpper", "$toLower", "$strLenCP", "$type", "$isNumber", "$toString", "$toInt",
                "$toLong", "$toDouble", "$toBool", "$round", "$trunc",
            ][..],
        );
        let numeric2 = prop::sample::select(&["$add", "$subtract", "$multiply", "$divide", "$mod"][..]);
        let order = prop::sample::select(&["$gt", "$gte", "$lt", "$lte", "$cmp"][..]);
        let equality = prop::sample::select(&["$eq", "$ne"][..]);
        let sets = prop::sample::select(
            &["$setUnion", "$setIntersection", "$setDifference", "$setEquals", "$setIsSubset", "$concatArrays"][..],
        );
        prop_oneof![
            4 => (unary, e.clone(), lit()).prop_map(|(op, x, z)| unary_op(op, x, z)),
            4 => (numeric2, e.clone(), e.clone()).prop_map(|(op, x, y)| binary(op, x, y)),
            2 => prop::collection::vec(e.clone(), 1..4).prop_map(|xs| op_doc("$add", arr(xs))),
            3 => (order, e.clone(), e.clone()).prop_map(|(op, x, y)| binary(op, x, y)),
            3 => (equality, e.clone(), lit()).prop_map(|(op, x, y)| binary(op, x, y)),
            2 => (prop::sample::select(&["$and", "$or"][..]), prop::collection::vec(e.clone(), 1..3))
                .prop_map(|(op, xs)| op_doc(op, arr(xs))),
            3 => (e.clone(), e.clone(), e.clone())
                .prop_map(|(c, t, f)| op_doc("$cond", arr(vec![c, t, f]))),
            2 => (e.clone(), e.clone(), lit()).prop_map(|(x, y, z)| op_doc("$ifNull", arr(vec![x, y, z]))),
            1 => (e.clone(), lit(), e.clone(), lit()).prop_map(|(x, v, t, d)| {
                op_doc("$switch", Bson::Document(bson::doc! {
                    "branches": [{ "case": binary("$eq", x, v), "then": t }],
                    "default": d,
                }))
            }),
            1 => (e.clone(), e.clone(), lit()).prop_map(|(v, body, z)| {
                op_doc("$let", Bson::Document(bson::doc! {
                    "vars": { "v": v },
                    "in": op_doc("$ifNull", arr(vec![s("$$v"), body, z])),
                }))
            }),
            // Past the end the value is missing, which the server's other
            // operators take for an object: defaulted at once.
            2 => (e.clone(), -2i32..3, lit()).prop_map(|(x, i, z)| {
                binary("$ifNull", binary("$arrayElemAt", x, Bson::Int32(i)), z)
            }),
            2 => (prop::sample::select(&["$first", "$last"][..]), e.clone(), lit())
                .prop_map(|(op, x, z)| op_doc("$ifNull", arr(vec![unary_op(op, x, z), s("none")]))),
            2 => (e.clone(), -2i32..3).prop_map(|(x, n)| binary("$slice", x, Bson::Int32(n))),
            2 => (e.clone(), prop::collection::vec(needle(), 0..3), needle()).prop_map(|(x, items, z)| {
                binary("$in", op_doc("$ifNull", arr(vec![x, z])), op_doc("$literal", arr(items)))
            }),
            1 => (e.clone(), needle()).prop_map(|(x, v)| binary("$indexOfArray", x, v)),
            // Nulls become []: the server checks the types before the nulls.
            2 => (sets, e.clone(), e.clone()).prop_map(|(op, x, y)| {
                binary(op, binary("$ifNull", x, arr(vec![])), binary("$ifNull", y, arr(vec![])))
            }),
            1 => (0i32..3, 1i32..4).prop_map(|(start, end)| {
                op_doc("$range", arr(vec![Bson::Int32(start), Bson::Int32(end)]))
            }),
            3 => (e.clone(), any::<u8>(), lit()).prop_map(|(x, kind, v)| higher_order(x, kind, v)),
            2 => prop::collection::vec(e.clone(), 1..3).prop_map(|xs| op_doc("$concat", arr(xs))),
            1 => (e.clone(), 0i32..2, 0i32..3).prop_map(|(x, from, n)| {
                op_doc("$substrCP", arr(vec![x, Bson::Int32(from), Bson::Int32(n)]))
            }),
            1 => (e.clone(), prop::sample::select(&["x", "y", " "][..]))
                .prop_map(|(x, sep)| binary("$split", x, s(sep))),
            1 => e.clone().prop_map(|x| op_doc("$trim", Bson::Document(doc_of("input", x)))),
            1 => (e.clone(), e.clone()).prop_map(|(x, y)| binary("$strcasecmp", x, y)),
            2 => (e.clone(), prop::sample::select(&["int", "long", "double", "bool", "string"][..]))
                .prop_map(|(x, to)| {
                    op_doc("$convert", Bson::Document(bson::doc! {
                        "input": x, "to": to, "onError": "error", "onNull": "null",
                    }))
                }),
            2 => prop::collection::vec(e.clone(), 0..3).prop_map(Bson::Array),
            1 => (prop::sample::select(&["$sum", "$avg", "$min", "$max"][..]), e.clone())
                .prop_map(|(op, x)| op_doc(op, x)),
        ]
    })
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
        // constant one of $first/$last the server folds as the array operator.
        .prop_map(|(op, arg)| match arg {
            Bson::Array(_) => Accumulator { op, arg: s("$b") },
            arg if op != "$sum" && !reads_input(&arg) => Accumulator { op, arg: s("$c") },
            // MongoDB evaluates an accumulator's argument on every document,
            // the server only where $first/$last need it: a path cannot fail.
            Bson::Document(_) if matches!(op, "$first" | "$last") => {
                Accumulator { op, arg: s("$a") }
            }
            arg => Accumulator { op, arg },
        })
        .boxed()
}

/// One stage of a pipeline before [`build`] fits it to the stream.
#[derive(Clone, Debug)]
enum Draft {
    Match(Document),
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

fn draft(decimals: bool) -> BoxedStrategy<Draft> {
    let e = move || expression(decimals);
    let computed = move || prop::collection::vec((field(), e()), 1..3);
    let accs = move || prop::collection::vec((field(), accumulator(decimals)), 0..3);
    prop_oneof![
        4 => filter().prop_map(Draft::Match),
        3 => prop::collection::vec((field(), prop::option::of(e())), 1..3).prop_map(Draft::Project),
        1 => prop::collection::vec(field(), 1..3).prop_map(Draft::Exclude),
        5 => (any::<bool>(), computed()).prop_map(|(set, fields)| Draft::AddFields(set, fields)),
        1 => prop::collection::vec(field(), 1..3).prop_map(Draft::Unset),
        4 => (prop_oneof![path(), e(), Just(Bson::Null)], accs()).prop_map(|(k, a)| Draft::Group(k, a)),
        3 => prop::collection::vec((field(), any::<bool>()), 0..3).prop_map(Draft::Sort),
        2 => (1i32..5).prop_map(Draft::Limit),
        1 => (0i32..4).prop_map(Draft::Skip),
        3 => (field(), prop::option::of((any::<bool>(), any::<bool>())))
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
}

impl Flow {
    fn allowed(&self) -> Allowed {
        if self.ordered {
            Allowed::Ordered
        } else {
            Allowed::Unordered
        }
    }

    /// A group key: over a fixed order (the first of equal keys, 1 or 1.0,
    /// names the group) `[<type>, key]`, else the key's `$type`. The type
    /// keeps apart what the server wrongly groups together (`{}` and `[]`).
    fn group_key(&self, key: Bson) -> Bson {
        let kind = unary_op("$type", key.clone(), s("missing"));
        if matches!(key, Bson::Null) {
            key
        } else if self.ordered {
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
    };
    let mut pipeline: Vec<Document> = Vec::new();
    let id_key = || Some(doc_of("_id", Bson::Int32(1)));
    for draft in drafts {
        match draft {
            Draft::Match(filter) => {
                pipeline.push(doc_of("$match", Bson::Document(filter)));
                flow.nonempty = false;
            }
            Draft::Project(fields) => {
                let mut spec = Document::new();
                for (name, value) in fields {
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
                let spec: Document = fields
                    .into_iter()
                    .map(|f| (f.to_owned(), Bson::Int32(0)))
                    .collect();
                pipeline.push(doc_of("$project", Bson::Document(spec)));
            }
            Draft::AddFields(set, fields) => {
                let stage = if set { "$set" } else { "$addFields" };
                pipeline.push(doc_of(stage, Bson::Document(fields_doc(fields))));
            }
            Draft::Unset(mut fields) => {
                // A field named twice: MongoDB reports a path collision, the
                // server accepts it (not settled by the manual).
                fields.sort_unstable();
                fields.dedup();
                let names = fields.into_iter().map(|f| Bson::String(f.into())).collect();
                pipeline.push(doc_of("$unset", Bson::Array(names)));
            }
            Draft::Group(key, accs) => {
                let mut spec = doc_of("_id", flow.group_key(key));
                let mut sizes = Document::new();
                accumulators(&mut spec, &accs, flow.allowed(), &mut sizes);
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
                    flow.ordered = true;
                    flow.unique = None;
                }
            }
            Draft::SortByCount(key) => {
                pipeline.push(doc_of("$sortByCount", flow.group_key(key)));
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
                if !output.is_empty() {
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
                spec.insert("sortBy", sort_by);
                spec.insert("output", output);
                pipeline.push(doc_of("$setWindowFields", Bson::Document(spec)));
                flow.ordered = false;
            }
        }
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
        let pipeline = prop::collection::vec(draft(decimals), 1..5).prop_map(build);
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
