//! The hand-written differential corpus: document suites, the cases run on
//! both stores, and the documented known server deviations.
//!
//! Every disagreement the generated cases ever found is kept here as fixed
//! cases: the `regressions`, `positional` and `booleans` suites, each naming
//! the seed that found it. A disagreement where the server contradicts the
//! manual goes in a suite's `deviations`, with the manual's rule, a reason,
//! and the answer our store must give.

use bson::{bson, doc, Bson, Decimal128, Document};

use super::{agg, find, Case, Deviation, Expected, Foreign, Suite};

fn dec(text: &str) -> Bson {
    Bson::Decimal128(text.parse::<Decimal128>().expect("decimal"))
}

fn re(pattern: &str) -> Bson {
    Bson::RegularExpression(bson::Regex {
        pattern: pattern.try_into().expect("pattern"),
        options: "".try_into().expect("options"),
    })
}

fn with_id(id: &str, mut d: Document) -> Document {
    let mut out = doc! { "_id": id };
    out.extend(std::mem::take(&mut d));
    out
}

pub fn suites() -> Vec<Suite> {
    let mut suites = vec![
        mixed(),
        nested(),
        runs(),
        regressions(),
        positional(),
        booleans(),
    ];
    suites.extend(super::corpus_window::suites());
    suites.extend(super::corpus_exprs_string::suites());
    suites.extend(super::corpus_exprs_array::suites());
    suites.extend(super::corpus_stages::suites());
    suites.push(super::corpus_regressions_pipelines::suite());
    suites
}

/// The foreign experiments the suites' `$lookup`/`$unionWith` cases read.
pub fn foreign_experiments() -> Vec<Foreign> {
    let mut foreign = Vec::new();
    foreign.extend(super::corpus_stages::foreign());
    foreign
}

/// Awkward values under one field `a`: every numeric type, NaN, null vs
/// missing, arrays (of arrays, of documents), documents, strings, booleans.
fn mixed_docs() -> Vec<Document> {
    vec![
        with_id("m01", doc! { "a": 1, "b": "x", "c": { "d": 1 } }),
        with_id("m02", doc! { "a": 1_i64, "b": "y", "c": { "d": 2 } }),
        with_id("m03", doc! { "a": 1.0, "b": null }),
        with_id("m04", doc! { "a": dec("1"), "b": [1, 2] }),
        with_id("m05", doc! { "a": 2.5, "b": [[1, 2], [3]] }),
        with_id("m06", doc! { "a": f64::NAN }),
        with_id("m07", doc! { "a": null }),
        with_id("m08", doc! { "z": 0 }),
        with_id("m09", doc! { "a": [1, 2, 3] }),
        with_id("m10", doc! { "a": [[1], 2] }),
        with_id("m11", doc! { "a": [] }),
        with_id("m12", doc! { "a": [null] }),
        with_id("m13", doc! { "a": "abc", "b": "ABC" }),
        with_id("m14", doc! { "a": true }),
        with_id(
            "m15",
            doc! { "a": [{ "b": 1, "c": 2 }, { "b": 2, "c": [1, 3] }] },
        ),
        with_id("m16", doc! { "a": { "b": 1 } }),
        with_id("m17", doc! { "a": { "b": [1, 2] } }),
        with_id("m18", doc! { "a": -3_i64, "n": 7 }),
        with_id("m19", doc! { "a": [3, "x", null, 1.5] }),
        with_id("m20", doc! { "a": { "b": null } }),
        with_id("m21", doc! { "a": 9_007_199_254_740_993_i64 }),
        with_id("m22", doc! { "a": dec("2.50"), "b": "x\ny" }),
        with_id("m23", doc! { "a": -0.0, "b": "ab" }),
        with_id("m24", doc! { "a": { "c": 1, "b": 1 } }),
        with_id("m25", doc! { "a": false, "b": 0 }),
        with_id("m26", doc! { "a": [1] }),
    ]
}

fn mixed() -> Suite {
    let mut cases: Vec<Case> = Vec::new();
    // Equality and comparisons across types.
    for value in [
        bson!(1),
        bson!(1_i64),
        bson!(1.0),
        dec("1"),
        bson!(2.5),
        dec("2.5"),
        bson!(f64::NAN),
        bson!(null),
        bson!([]),
        bson!([1, 2, 3]),
        bson!([1]),
        bson!([[1], 2]),
        bson!([null]),
        bson!({ "b": 1 }),
        bson!({ "b": 1, "c": 1 }),
        bson!({ "c": 1, "b": 1 }),
        bson!("abc"),
        bson!(true),
        bson!(0),
        bson!(-0.0),
        bson!(9_007_199_254_740_992_i64),
        bson!(9_007_199_254_740_992.0),
    ] {
        cases.push(find(doc! { "a": value.clone() }));
        for op in ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"] {
            cases.push(find(doc! { "a": { op: value.clone() } }));
        }
        cases.push(find(doc! { "a": { "$not": { "$gt": value.clone() } } }));
    }
    for path in [
        "a.b", "a.c", "a.0", "a.1", "a.0.0", "b.0", "b.1.0", "c.d", "a.b.0",
    ] {
        for value in [bson!(1), bson!(null), bson!([1, 2]), bson!(2)] {
            cases.push(find(doc! { path: value.clone() }));
            cases.push(find(doc! { path: { "$ne": value.clone() } }));
            cases.push(find(doc! { path: { "$gte": value } }));
        }
        cases.push(find(doc! { path: { "$exists": true } }));
        cases.push(find(doc! { path: { "$exists": false } }));
    }
    cases.extend([
        // $in / $nin, with null (= missing too), arrays, regexes.
        find(doc! { "a": { "$in": [1, "abc"] } }),
        find(doc! { "a": { "$in": [null] } }),
        find(doc! { "a": { "$in": [[], [1]] } }),
        find(doc! { "a": { "$in": [f64::NAN] } }),
        find(doc! { "a": { "$in": [] } }),
        find(doc! { "a": { "$nin": [1, null] } }),
        find(doc! { "a": { "$nin": [] } }),
        find(doc! { "a.b": { "$in": [null, 2] } }),
        find(doc! { "a": { "$in": [re("^a"), 2.5] } }),
        find(doc! { "a": { "$in": 1 } }),
        find(doc! { "a": { "$nin": 1 } }),
        // Logical operators.
        find(doc! { "$and": [{ "a": { "$gte": 1 } }, { "a": { "$lt": 3 } }] }),
        find(doc! { "$or": [{ "a": null }, { "b": "x" }] }),
        find(doc! { "$nor": [{ "a": { "$type": "number" } }, { "a": null }] }),
        find(doc! { "$or": [{ "a.b": 1 }, { "$and": [{ "b": { "$exists": true } }, { "a": { "$lt": 2 } }] }] }),
        find(doc! { "$and": [] }),
        find(doc! { "$or": [] }),
        find(doc! { "$nor": [] }),
        find(doc! { "$and": {} }),
        find(doc! { "$or": [1] }),
        find(doc! { "a": { "$not": { "$eq": null } } }),
        find(doc! { "a": { "$not": { "$in": [1, 2] } } }),
        find(doc! { "a": { "$not": { "$size": 0 } } }),
        find(doc! { "a": { "$not": { "$regex": "^a" } } }),
        find(doc! { "a": { "$not": re("b") } }),
        find(doc! { "a": { "$not": 1 } }),
        find(doc! { "a": { "$not": {} } }),
        find(doc! { "a": { "$not": { "$not": { "$gt": 1 } } } }),
        // $exists.
        find(doc! { "a": { "$exists": true } }),
        find(doc! { "a": { "$exists": false } }),
        find(doc! { "a": { "$exists": 0 } }),
        find(doc! { "a": { "$exists": 1 } }),
        // $type.
        find(doc! { "a": { "$type": "number" } }),
        find(doc! { "a": { "$type": "array" } }),
        find(doc! { "a": { "$type": "null" } }),
        find(doc! { "a": { "$type": "double" } }),
        find(doc! { "a": { "$type": "int" } }),
        find(doc! { "a": { "$type": "long" } }),
        find(doc! { "a": { "$type": "decimal" } }),
        find(doc! { "a": { "$type": "object" } }),
        find(doc! { "a": { "$type": "string" } }),
        find(doc! { "a": { "$type": "bool" } }),
        find(doc! { "a": { "$type": ["string", "bool"] } }),
        find(doc! { "a": { "$type": 1 } }),
        find(doc! { "a": { "$type": 16 } }),
        find(doc! { "a": { "$type": 2.0 } }),
        find(doc! { "a": { "$type": 4 } }),
        find(doc! { "a.b": { "$type": "array" } }),
        find(doc! { "a": { "$type": "foo" } }),
        find(doc! { "a": { "$type": 99 } }),
        // $regex and $options.
        find(doc! { "a": { "$regex": "^a" } }),
        find(doc! { "a": { "$regex": "^A", "$options": "i" } }),
        find(doc! { "b": { "$regex": "^y", "$options": "m" } }),
        find(doc! { "b": { "$regex": "^y" } }),
        find(doc! { "b": { "$regex": "x.y", "$options": "s" } }),
        find(doc! { "b": { "$regex": "x . y", "$options": "x" } }),
        find(doc! { "a": { "$regex": "x" } }),
        find(doc! { "a": re("^ab") }),
        find(doc! { "b": { "$regex": "^a", "$options": "q" } }),
        find(doc! { "b": { "$regex": 5 } }),
        find(doc! { "b": { "$options": "i" } }),
        // $mod with integers (the float forms are server deviations).
        find(doc! { "a": { "$mod": [2, 1] }, "_id": { "$ne": "m21" } }),
        find(doc! { "a": { "$mod": [2, 0] }, "_id": { "$ne": "m21" } }),
        find(doc! { "a": { "$mod": [-2, -1] } }),
        find(doc! { "a": { "$mod": [3_i64, 0_i64] }, "_id": { "$ne": "m21" } }),
        find(doc! { "a": { "$mod": [0, 1] } }),
        find(doc! { "a": { "$mod": 1 } }),
        find(doc! { "a": { "$mod": [1] } }),
        find(doc! { "a": { "$mod": ["a", 1] } }),
        // $all on top-level fields.
        find(doc! { "a": { "$all": [1, 2] } }),
        find(doc! { "a": { "$all": [1] } }),
        find(doc! { "a": { "$all": [null] }, "_id": { "$ne": "m08" } }),
        find(doc! { "a": { "$all": [] } }),
        find(doc! { "a": { "$all": [{ "$elemMatch": { "b": 1 } }] } }),
        find(doc! { "a": { "$all": 1 } }),
        // $size.
        find(doc! { "a": { "$size": 0 } }),
        find(doc! { "a": { "$size": 1 } }),
        find(doc! { "a": { "$size": 2 } }),
        find(doc! { "a": { "$size": 4 } }),
        find(doc! { "a": { "$size": 2.0 } }),
        find(doc! { "a.b": { "$size": 2 } }),
        find(doc! { "a": { "$size": -1 } }),
        find(doc! { "a": { "$size": 1.5 } }),
        find(doc! { "a": { "$size": "1" } }),
        // $elemMatch, nested.
        find(doc! { "a": { "$elemMatch": { "$gt": 1, "$lt": 3 } } }),
        find(doc! { "a": { "$elemMatch": { "b": 2, "c": { "$gt": 2 } } } }),
        find(doc! { "a": { "$elemMatch": { "c": { "$elemMatch": { "$gt": 2 } } } } }),
        find(doc! { "a": { "$elemMatch": { "$elemMatch": { "$eq": 1 } } } }),
        find(doc! { "a": { "$elemMatch": { "$eq": null } } }),
        find(doc! { "a": { "$elemMatch": {} } }),
        find(doc! { "a": { "$elemMatch": { "$exists": true } } }),
        find(doc! { "a": { "$elemMatch": { "$type": "array" } } }),
        find(doc! { "a": { "$elemMatch": { "b": null } } }),
        find(doc! { "a.b": { "$elemMatch": { "$gte": 2 } } }),
        find(doc! { "a": { "$elemMatch": { "$expr": 1 } } }),
        find(doc! { "a": { "$elemMatch": 1 } }),
        // $expr.
        find(doc! { "$expr": { "$eq": ["$a", 1] } }),
        find(doc! { "$expr": { "$gt": ["$a", "$b"] } }),
        find(doc! { "$expr": { "$lt": ["$a", null] } }),
        find(doc! { "$expr": { "$eq": ["$a", null] } }),
        find(doc! { "$expr": { "$eq": ["$a", "$missing"] } }),
        find(doc! { "$expr": { "$isArray": "$a" } }),
        find(doc! { "$expr": { "$gt": [{ "$size": { "$ifNull": [{ "$cond": [{ "$isArray": "$a" }, "$a", null] }, []] } }, 1] } }),
        find(doc! { "$expr": "$a" }),
        find(doc! { "$expr": 1 }),
        find(doc! { "$expr": 0 }),
        find(doc! { "$expr": { "$bogus": 1 } }),
        find(doc! { "$or": [{ "$expr": { "$eq": ["$a", true] } }, { "a": "abc" }] }),
        // Mixed conditions, invalid operators.
        find(doc! { "a": { "$gt": 0, "$lt": 2 } }),
        find(doc! { "a": { "$bogus": 1 } }),
        find(doc! { "$bogus": 1 }),
        find(doc! { "a": { "$eq": 1, "$comment": 1 } }),
        find(doc! { "a": { "b": 1, "$gt": 1 } }),
        find(doc! { "_id": "m01" }),
        find(doc! { "_id": { "$in": ["m01", "m05", "zz"] } }),
        find(doc! { "_id": { "$gte": "m20" } }),
    ]);
    // Projections.
    let projections = [
        doc! { "a": 1 },
        doc! { "a": 0 },
        doc! { "a": 1, "_id": 0 },
        doc! { "_id": 0 },
        doc! { "_id": 1 },
        doc! { "a.b": 1 },
        doc! { "a.b": 0 },
        doc! { "a.b": 1, "c.d": 1 },
        doc! { "a": true, "b": true },
        doc! { "b": 0, "c": 0, "a.c": 0 },
        doc! { "missing": 1 },
        doc! { "a": { "$slice": 1 } },
        doc! { "a": { "$slice": -1 } },
        doc! { "a": { "$slice": [1, 2] } },
        doc! { "a": { "$slice": [-2, 1] } },
        doc! { "a": { "$slice": 0 } },
        doc! { "a": { "$slice": 1 }, "b": 1 },
        doc! { "a": { "$slice": 1 }, "b": 0 },
        doc! { "a": { "$elemMatch": { "b": 2 } } },
        doc! { "a": { "$elemMatch": { "$gte": 2 } }, "b": 1 },
        doc! { "a": { "$elemMatch": { "c": { "$elemMatch": { "$gt": 2 } } } } },
        doc! { "a": 1, "b": 0 },
        doc! { "a": { "$slice": "x" } },
        doc! { "a": { "$elemMatch": 1 } },
        doc! { "a.b": 1, "a": 1 },
    ];
    for projection in projections {
        cases.push(find(doc! {}).project(projection.clone()));
        cases.push(
            find(doc! { "a": { "$exists": true } })
                .project(projection)
                .sort(doc! { "_id": -1 }),
        );
    }
    // Sorts: several keys, array fields (min ascending / max descending),
    // missing and null, mixed types, NaN, skip and limit.
    for sort in [
        doc! { "a": 1, "_id": 1 },
        doc! { "a": -1, "_id": 1 },
        doc! { "a.b": 1, "_id": 1 },
        doc! { "a.b": -1, "_id": -1 },
        doc! { "b": 1, "a": -1, "_id": 1 },
        doc! { "b.0": 1, "_id": 1 },
        doc! { "a.0": -1, "_id": 1 },
        doc! { "c.d": -1, "a": 1, "_id": 1 },
        doc! { "missing": 1, "_id": -1 },
        doc! { "_id": -1 },
    ] {
        cases.push(find(doc! {}).sort(sort.clone()));
        cases.push(
            find(doc! { "a": { "$ne": null } })
                .sort(sort.clone())
                .skip(3)
                .limit(5),
        );
        cases.push(find(doc! {}).sort(sort).skip(20));
    }
    cases.extend([
        find(doc! {}).sort(doc! { "a": 2 }),
        find(doc! {}).sort(doc! { "a": 0 }),
        find(doc! {}).sort(doc! { "_id": 1 }).limit(0),
        find(doc! {}).sort(doc! { "_id": 1 }).skip(100),
    ]);
    let deviations = vec![
        Deviation {
            case: find(doc! { "_id": "m21", "a": { "$mod": [2, 1] } }),
            manual: "$mod: selects documents where the field's value divided by the divisor has the specified remainder (integer arithmetic on long values)",
            reason: "the server computes on doubles, so 9007199254740993 % 2 gives 0",
            expected: Expected::Ids(vec!["m21"]),
        },
        Deviation {
            case: find(doc! { "a": { "$all": [null] } }),
            manual: "$all: { tags: { $all: [ \"ssl\" , \"security\" ] } } is equivalent to { $and: [ { tags: \"ssl\" }, { tags: \"security\" } ] }, and { a: null } matches a missing a",
            reason: "the server's $all: [null] does not match documents without the field",
            expected: Expected::Ids(vec!["m07", "m08", "m12", "m19"]),
        },
        Deviation {
            case: find(doc! { "a": { "$all": [[1, 2, 3]] } }),
            manual: "$all with a nested array: { tags: { $all: [ [ \"ssl\", \"security\" ] ] } } also matches tags equal to [ \"ssl\", \"security\" ]",
            reason: "the server only matches arrays that contain the nested array",
            expected: Expected::Ids(vec!["m09"]),
        },
        Deviation {
            case: find(doc! { "a": { "$mod": [2.9, 1.9] } }),
            manual: "$mod: \"the divisor and remainder values are truncated toward zero\" when they are non-integers (since 5.1)",
            reason: "the server does not truncate float arguments and matches nothing",
            expected: Expected::Ids(vec!["m01", "m02", "m03", "m04", "m09", "m19", "m21", "m26"]),
        },
        Deviation {
            case: find(doc! { "a": { "$mod": [2, 1, 3] } }),
            manual: "$mod: \"passing an array with more than two elements\" errors (since 5.1)",
            reason: "the server ignores the extra element",
            expected: Expected::Error,
        },
        Deviation {
            case: find(doc! { "a": { "$mod": [2, f64::NAN] } }),
            manual: "$mod: the remainder must be a finite number",
            reason: "the server accepts NaN and matches nothing",
            expected: Expected::Error,
        },
        Deviation {
            case: find(doc! { "a": { "$mod": [2, "1"] } }),
            manual: "$mod: divisor and remainder must be numbers",
            reason: "the server accepts a string remainder",
            expected: Expected::Error,
        },
        Deviation {
            case: find(doc! { "a": { "$all": [[1]] } }),
            manual: "$all: { tags: { $all: [ [ \"ssl\", \"security\" ] ] } } matches an array field equal to the nested array, or containing it",
            reason: "the server only matches arrays containing [1], not arrays equal to it",
            expected: Expected::Ids(vec!["m10", "m26"]),
        },
        Deviation {
            case: find(doc! { "a.b": { "$all": [1, 2] } }),
            manual: "$all is equivalent to an $and of equality conditions, each of which may hold for a different element",
            reason: "the server requires one element to hold all values on dotted paths through arrays",
            expected: Expected::Ids(vec!["m15", "m17"]),
        },
        Deviation {
            case: find(doc! { "a": { "$elemMatch": { "$or": [{ "b": 2 }, { "c": 2 }] } } }),
            manual: "$elemMatch takes a query: a leading logical operator makes it a query on the elements' fields",
            reason: "the server refuses $or as an unknown operator",
            expected: Expected::Ids(vec!["m15"]),
        },
        Deviation {
            case: find(doc! { "a": { "$gt": 1, "b": 2 } }),
            manual: "an operator document cannot mix $-operators and field names (MongoDB parses by the first key: unknown operator b)",
            reason: "the server accepts the mix silently",
            expected: Expected::Error,
        },
    ];
    Suite {
        name: "mixed",
        docs: mixed_docs(),
        cases,
        deviations,
    }
}

/// Documents nested deeper: arrays of documents holding arrays of
/// documents, for $elemMatch inside $elemMatch and dotted paths.
fn nested() -> Suite {
    let docs = vec![
        with_id(
            "n1",
            doc! { "r": [{ "k": "x", "v": [{ "s": 1, "t": [1, 2] }, { "s": 5 }] }, { "k": "y", "v": [] }] },
        ),
        with_id(
            "n2",
            doc! { "r": [{ "k": "x", "v": [{ "s": 2, "t": [] }] }, { "k": "z", "v": [{ "s": 1 }] }] },
        ),
        with_id("n3", doc! { "r": { "k": "x", "v": { "s": 1 } } }),
        with_id("n4", doc! { "r": [[{ "k": "x" }], { "k": ["x", "y"] }] }),
        with_id("n5", doc! { "r": [{ "k": null }, {}] }),
        with_id("n6", doc! { "r": [] }),
        with_id("n7", doc! { "q": [1, [2, [3]]] }),
        with_id(
            "n8",
            doc! { "r": [{ "k": "y", "v": [{ "s": 1, "t": [3] }] }], "q": [[1, 2], [3, 4]] },
        ),
    ];
    let mut cases = vec![
        find(doc! { "r.k": "x" }),
        find(doc! { "r.k": null }),
        find(doc! { "r.k": { "$exists": false } }),
        find(doc! { "r.k": { "$ne": "x" } }),
        find(doc! { "r.v.s": 1 }),
        find(doc! { "r.v.s": { "$gt": 1 } }),
        find(doc! { "r.v.t": 2 }),
        find(doc! { "r.v.t": [] }),
        find(doc! { "r.v": { "$size": 0 } }),
        find(doc! { "r.0.k": "x" }),
        find(doc! { "r.0.v.0.s": 1 }),
        find(doc! { "r.1": { "$exists": true } }),
        find(doc! { "r": { "$elemMatch": { "k": "x", "v": { "$elemMatch": { "s": 1 } } } } }),
        find(
            doc! { "r": { "$elemMatch": { "k": "x", "v": { "$elemMatch": { "s": { "$gt": 1 }, "t": { "$size": 0 } } } } } },
        ),
        find(
            doc! { "r": { "$elemMatch": { "v": { "$elemMatch": { "t": { "$elemMatch": { "$gte": 2 } } } } } } },
        ),
        find(doc! { "r": { "$elemMatch": { "k": null } } }),
        find(doc! { "r": { "$elemMatch": { "k": { "$exists": false } } } }),
        find(doc! { "r": { "$elemMatch": { "k": { "$in": ["y", "z"] } } } }),
        find(doc! { "r": { "$elemMatch": { "$elemMatch": { "k": "x" } } } }),
        find(doc! { "r.k": { "$all": ["x"] } }),
        find(doc! { "q": [1, 2] }),
        find(doc! { "q": 1 }),
        find(doc! { "q": [3] }),
        find(doc! { "q.1": [3] }),
        find(doc! { "q.1.1": [3] }),
        find(doc! { "q": { "$elemMatch": { "$elemMatch": { "$gt": 3 } } } }),
        find(doc! { "q": { "$size": 2 } }),
        find(doc! { "q.0": { "$size": 2 } }),
        find(doc! { "r": { "$type": "object" } }),
        find(doc! { "r.v": { "$type": "array" } }),
        find(doc! {}).project(doc! { "r.k": 1 }),
        find(doc! {}).project(doc! { "r.v.s": 1, "_id": 0 }),
        find(doc! {}).project(doc! { "r.v": 0 }),
        find(doc! {}).project(doc! { "r": { "$elemMatch": { "k": "x" } } }),
        find(doc! {}).project(doc! { "r": { "$slice": -1 }, "q": { "$slice": 1 } }),
        find(doc! {}).sort(doc! { "r.k": 1, "_id": 1 }),
        find(doc! {}).sort(doc! { "r.k": -1, "_id": 1 }),
        find(doc! {}).sort(doc! { "r.v.s": 1, "_id": -1 }),
        find(doc! {}).sort(doc! { "q": 1, "_id": 1 }),
        find(doc! {}).sort(doc! { "q": -1, "_id": 1 }),
        find(doc! {}).sort(doc! { "r": 1, "_id": 1 }),
        // Unwind through nested arrays.
        agg(vec![
            doc! { "$unwind": "$r" },
            doc! { "$unwind": "$r.v" },
            doc! { "$sort": { "_id": 1, "r.v.s": 1 } },
        ])
        .ordered(),
        agg(vec![
            doc! { "$unwind": "$q" },
            doc! { "$group": { "_id": "$q", "n": { "$sum": 1 } } },
        ]),
        agg(vec![
            doc! { "$unwind": { "path": "$r", "includeArrayIndex": "i" } },
            doc! { "$match": { "r.k": "x", "r.0": { "$exists": false } } },
            doc! { "$project": { "k": "$r.k" } },
        ]),
    ];
    cases.push(find(doc! { "r.v.s": 1 }).sort(doc! { "_id": 1 }));
    Suite {
        name: "nested",
        docs,
        cases,
        deviations: vec![
            Deviation {
                case: find(doc! { "r.k": { "$all": ["x", "y"] } }).sort(doc! { "_id": 1 }),
                manual: "$all is equivalent to an $and of equality conditions on the field, each of which may hold for a different array element",
                reason: "the server requires a single element of r to hold both values",
                expected: Expected::Ids(vec!["n1", "n4"]),
            },
            Deviation {
                case: agg(vec![
                    doc! { "$unwind": { "path": "$r", "includeArrayIndex": "i" } },
                    doc! { "$match": { "r.k": "x" } },
                    doc! { "$project": { "k": "$r.k", "i": 1 } },
                ]),
                manual: "$unwind includeArrayIndex: the index is a NumberLong; \"$r.k\" on an array of documents is the array of their k values",
                reason: "the server gives an int32 index, and no value for a field path through an array",
                expected: Expected::Docs(vec![
                    doc! { "_id": "n1", "i": 0_i64, "k": "x" },
                    doc! { "_id": "n2", "i": 0_i64, "k": "x" },
                    doc! { "_id": "n3", "i": null, "k": "x" },
                    doc! { "_id": "n4", "i": 0_i64, "k": ["x"] },
                    doc! { "_id": "n4", "i": 1_i64, "k": ["x", "y"] },
                ]),
            },
        ],
    }
}

/// Runs shaped like ML runs, for pipelines: groups, numbers of every type.
fn runs_docs() -> Vec<Document> {
    vec![
        with_id(
            "r1",
            doc! { "g": "x", "v": 1, "w": 2_i64, "arr": [1, 2], "s": "b", "p": { "lr": 0.1, "depth": 3 } },
        ),
        with_id(
            "r2",
            doc! { "g": "x", "v": 2.5, "w": dec("1.5"), "arr": [], "s": "a", "p": { "lr": 0.01 } },
        ),
        with_id("r3", doc! { "g": "y", "v": 3_i64, "arr": null, "w": -4 }),
        with_id(
            "r4",
            doc! { "g": "y", "v": null, "arr": [[1, 2], [3]], "w": 0.5 },
        ),
        with_id("r5", doc! { "g": null, "v": "str", "w": 7 }),
        with_id("r6", doc! { "v": f64::NAN, "arr": [4], "w": 2_147_483_647 }),
        with_id(
            "r7",
            doc! { "g": "z", "v": 4, "w": 5, "arr": "scalar", "t": true },
        ),
        with_id(
            "r8",
            doc! { "g": "x", "v": -2, "w": dec("-0.5"), "arr": [{ "m": 1 }, { "m": 2 }] },
        ),
    ]
}

fn runs() -> Suite {
    let mut cases = vec![
        // $match / $project / $addFields / $set / $unset.
        agg(vec![doc! { "$match": { "v": { "$gte": 2 } } }]),
        agg(vec![doc! { "$match": { "g": null } }]),
        agg(vec![
            doc! { "$match": { "$expr": { "$gt": ["$v", "$w"] } } },
        ]),
        agg(vec![doc! { "$project": { "v": 1 } }]),
        agg(vec![doc! { "$project": { "v": 0, "arr": 0 } }]),
        agg(vec![
            doc! { "$project": { "_id": 0, "g": 1, "lr": "$p.lr" } },
        ]),
        agg(vec![doc! { "$project": { "p.lr": 1 } }]),
        agg(vec![doc! { "$project": { "p.lr": 0 } }]),
        agg(vec![
            doc! { "$project": { "x": { "$literal": 1 }, "y": true } },
        ]),
        agg(vec![doc! { "$project": { "v": 1, "w": 0 } }]),
        agg(vec![doc! { "$project": {} }]),
        agg(vec![doc! { "$project": { "arr.m": 1 } }]),
        agg(vec![
            doc! { "$match": { "g": { "$exists": true } } },
            doc! { "$addFields": { "two": 2, "vv": "$v", "p.extra": "$g" } },
        ]),
        agg(vec![
            doc! { "$set": { "v": "$w", "new": { "$add": [1, 1] } } },
        ]),
        agg(vec![doc! { "$set": { "g": "$$REMOVE" } }]),
        agg(vec![doc! { "$addFields": { "p": { "lr": 5 } } }]),
        agg(vec![doc! { "$unset": "v" }]),
        agg(vec![doc! { "$unset": ["v", "p.lr", "_id"] }]),
        agg(vec![doc! { "$unset": [] }]),
        agg(vec![doc! { "$bogus": {} }]),
        agg(vec![doc! { "$match": {}, "$limit": 1 }]),
        // $sort / $limit / $skip / $count.
        agg(vec![doc! { "$sort": { "v": 1, "_id": 1 } }]).ordered(),
        agg(vec![doc! { "$sort": { "v": -1, "_id": 1 } }]).ordered(),
        agg(vec![doc! { "$sort": { "arr": 1, "_id": 1 } }]).ordered(),
        agg(vec![doc! { "$sort": { "arr": -1, "_id": -1 } }]).ordered(),
        agg(vec![
            doc! { "$sort": { "g": 1, "w": -1, "_id": 1 } },
            doc! { "$skip": 2 },
            doc! { "$limit": 3 },
        ])
        .ordered(),
        agg(vec![doc! { "$sort": { "_id": 1 } }, doc! { "$limit": 100 }]).ordered(),
        agg(vec![doc! { "$limit": 0 }]),
        agg(vec![doc! { "$skip": -1 }]),
        agg(vec![doc! { "$count": "n" }]),
        agg(vec![
            doc! { "$match": { "g": "x" } },
            doc! { "$count": "n" },
        ]),
        agg(vec![doc! { "$count": "" }]),
        agg(vec![doc! { "$count": "$n" }]),
        // $unwind, both forms, index, preserve; missing, null, empty, scalar.
        agg(vec![doc! { "$unwind": "$arr" }]),
        agg(vec![doc! { "$unwind": { "path": "$arr" } }]),
        agg(vec![
            doc! { "$unwind": { "path": "$arr", "preserveNullAndEmptyArrays": true } },
        ]),
        agg(vec![
            doc! { "$unwind": { "path": "$arr", "preserveNullAndEmptyArrays": true } },
            doc! { "$project": { "arr": 1 } },
        ]),
        agg(vec![doc! { "$unwind": "$missing" }]),
        agg(vec![
            doc! { "$unwind": { "path": "$missing", "preserveNullAndEmptyArrays": true } },
        ]),
        agg(vec![doc! { "$unwind": "$arr" }, doc! { "$unwind": "$arr" }]),
        agg(vec![doc! { "$unwind": "$arr.m" }]),
        agg(vec![doc! { "$unwind": "arr" }]),
        agg(vec![doc! { "$unwind": { "path": "$arr", "bogus": 1 } }]),
        // $group with every accumulator.
        agg(vec![
            doc! { "$group": { "_id": "$g", "sum": { "$sum": "$v" }, "avg": { "$avg": "$v" }, "min": { "$min": "$v" }, "max": { "$max": "$v" } } },
        ]),
        agg(vec![
            doc! { "$group": { "_id": "$g", "sum": { "$sum": "$w" }, "avg": { "$avg": "$w" }, "min": { "$min": "$w" }, "max": { "$max": "$w" } } },
        ]),
        agg(vec![
            doc! { "$sort": { "_id": 1 } },
            doc! { "$group": { "_id": "$g", "first": { "$first": "$v" }, "last": { "$last": "$v" }, "push": { "$push": "$v" }, "n": { "$count": {} } } },
        ]),
        agg(vec![
            doc! { "$sort": { "_id": 1 } },
            doc! { "$group": { "_id": null, "set": { "$addToSet": "$g" }, "n": { "$sum": 1 }, "pushed": { "$push": "$p.lr" } } },
            doc! { "$project": { "n": 1, "pushed": 1, "k": { "$size": "$set" } } },
        ]),
        agg(vec![
            doc! { "$match": { "w": { "$not": { "$type": "double" } } } },
            doc! { "$group": { "_id": null, "sumw": { "$sum": "$w" }, "avgw": { "$avg": "$w" }, "s1": { "$sum": 1 }, "sd": { "$sum": 1.5 } } },
        ]),
        agg(vec![
            doc! { "$match": { "g": "x" } },
            doc! { "$group": { "_id": null, "sumv": { "$sum": "$v" }, "sumw": { "$sum": "$w" }, "avgw": { "$avg": "$w" } } },
        ]),
        agg(vec![
            doc! { "$match": { "g": "y" } },
            doc! { "$group": { "_id": 1, "sum": { "$sum": "$v" }, "avg": { "$avg": "$v" }, "first": { "$first": "$missing" }, "push": { "$push": "$missing" } } },
        ]),
        agg(vec![
            doc! { "$group": { "_id": { "g": "$g", "t": "$t" }, "n": { "$sum": 1 } } },
        ]),
        agg(vec![
            doc! { "$group": { "_id": { "$type": "$v" }, "n": { "$sum": 1 } } },
        ]),
        agg(vec![
            doc! { "$group": { "_id": "$arr", "n": { "$sum": 1 } } },
        ]),
        agg(vec![
            doc! { "$group": { "_id": "$g", "n": { "$sum": 1 } } },
            doc! { "$sort": { "_id": 1 } },
        ])
        .ordered(),
        agg(vec![
            doc! { "$group": { "_id": "$g", "n": { "$sum": 1 } } },
            doc! { "$sort": { "n": -1, "_id": -1 } },
        ])
        .ordered(),
        agg(vec![doc! { "$group": { "_id": "$v", "n": { "$sum": 1 } } }]),
        agg(vec![doc! { "$group": { "n": { "$sum": 1 } } }]),
        agg(vec![
            doc! { "$group": { "_id": null, "n": { "$sum": 1, "$avg": 1 } } },
        ]),
        agg(vec![doc! { "$group": { "_id": null, "n": 1 } }]),
        agg(vec![
            doc! { "$group": { "_id": null, "n": { "$bogus": 1 } } },
        ]),
        agg(vec![
            doc! { "$unwind": "$arr" },
            doc! { "$group": { "_id": "$_id", "total": { "$sum": "$arr" }, "set": { "$addToSet": { "$type": "$arr" } } } },
        ]),
        // Expressions.
        agg(vec![
            doc! { "$project": { "add": { "$add": ["$v", "$w"] }, "sub": { "$subtract": ["$v", "$w"] }, "mul": { "$multiply": ["$v", "$w", 2] } } },
        ]),
        agg(vec![
            doc! { "$project": { "div": { "$divide": ["$v", 2] }, "mod": { "$mod": ["$w", 3] }, "abs": { "$abs": "$w" } } },
        ]),
        agg(vec![
            doc! { "$match": { "v": { "$type": "number" }, "w": { "$ne": 0 }, "_id": { "$ne": "r2" } } },
            doc! { "$project": { "div": { "$divide": ["$v", "$w"] }, "mod": { "$mod": ["$v", "$w"] } } },
        ]),
        agg(vec![
            doc! { "$project": { "add": { "$add": [1, 2_i64] }, "add2": { "$add": [1, 2.0] }, "add3": { "$add": [1, dec("2")] }, "add4": { "$add": [2_147_483_647, 1] }, "add5": { "$add": [] } } },
        ]),
        agg(vec![
            doc! { "$project": { "m": { "$multiply": [3, 2_i64] }, "s": { "$subtract": [5_i64, 2.5] }, "d": { "$divide": [6, 3] }, "d2": { "$divide": [1, 4] }, "m2": { "$mod": [7, 2] }, "m3": { "$mod": [7.5, 2] }, "m4": { "$mod": [-7_i64, 2] } } },
        ]),
        agg(vec![
            doc! { "$project": { "a": { "$abs": -5 }, "b": { "$abs": -5_i64 }, "c": { "$abs": -2.5 }, "d": { "$abs": null }, "e": { "$abs": dec("-1.5") }, "f": { "$abs": -2_147_483_648_i32 } } },
        ]),
        agg(vec![
            doc! { "$project": { "x": { "$add": ["$v", null] }, "y": { "$add": ["$missing", 1] }, "z": { "$multiply": ["$v", "$missing"] } } },
        ]),
        agg(vec![doc! { "$project": { "x": { "$add": ["$g", 1] } } }]),
        agg(vec![doc! { "$project": { "x": { "$divide": [1, 0] } } }]),
        agg(vec![doc! { "$project": { "x": { "$mod": [1, 0] } } }]),
        agg(vec![doc! { "$project": { "x": { "$abs": "x" } } }]),
        agg(vec![
            doc! { "$project": { "eq": { "$eq": ["$v", 1] }, "ne": { "$ne": ["$v", "$w"] }, "gt": { "$gt": ["$v", "$w"] }, "gte": { "$gte": ["$v", null] }, "lt": { "$lt": ["$g", "$v"] }, "lte": { "$lte": ["$v", 2.5] }, "cmp": { "$cmp": ["$v", "$w"] } } },
        ]),
        agg(vec![
            doc! { "$project": { "c1": { "$cmp": ["$missing", null] }, "c2": { "$eq": ["$missing", null] }, "c3": { "$lt": ["$missing", null] }, "c4": { "$cmp": [[1, 2], [1]] }, "c5": { "$cmp": [{ "a": 1 }, { "a": 1_i64 }] }, "c6": { "$eq": [f64::NAN, f64::NAN] }, "c7": { "$lt": [f64::NAN, -1e308] } } },
        ]),
        agg(vec![
            doc! { "$project": { "and": { "$and": ["$v", "$w"] } } },
        ]),
        agg(vec![
            doc! { "$project": { "or": { "$or": ["$missing", "$t"] } } },
        ]),
        agg(vec![doc! { "$project": { "not": { "$not": ["$v"] } } }]),
        agg(vec![doc! { "$project": { "and0": { "$and": [] } } }]),
        agg(vec![doc! { "$project": { "or0": { "$or": [] } } }]),
        agg(vec![
            doc! { "$project": { "and1": { "$and": "$v" }, "or1": { "$or": [0, "$g"] }, "not3": { "$not": "$g" } } },
        ]),
        agg(vec![
            doc! { "$project": { "c": { "$cond": [{ "$gte": ["$v", 2] }, "big", "small"] }, "c2": { "$cond": { "if": "$t", "then": 1, "else": 0 } }, "n": { "$ifNull": ["$g", "none"] }, "n2": { "$ifNull": ["$missing", null, "$v"] } } },
        ]),
        agg(vec![
            doc! { "$project": { "size": { "$size": { "$ifNull": ["$arr", []] } } } },
        ]),
        agg(vec![doc! { "$project": { "size": { "$size": "$arr" } } }]),
        agg(vec![
            doc! { "$project": { "isArr": { "$isArray": "$arr" }, "isNum": { "$isNumber": "$v" }, "type": { "$type": "$v" }, "typeArr": { "$type": "$arr" }, "typeMissing": { "$type": "$missing" } } },
        ]),
        agg(vec![
            doc! { "$project": { "lit": { "$literal": "$v" }, "lit2": { "$literal": { "$add": [1] } }, "arrExpr": ["$v", "$g", 1], "docExpr": { "x": "$v", "y": { "z": "$g" } } } },
        ]),
        agg(vec![
            doc! { "$match": { "g": { "$exists": true } } },
            doc! { "$project": { "root": "$$ROOT", "cur": "$$CURRENT.g" } },
        ]),
        agg(vec![
            doc! { "$project": { "p": "$p" } },
            doc! { "$project": { "r": "$$ROOT" } },
        ]),
        agg(vec![
            doc! { "$project": { "lr": "$p.lr", "deep": "$p.lr.x" } },
        ]),
        agg(vec![
            doc! { "$addFields": { "cmp": { "$cmp": ["$arr", "$v"] } } },
            doc! { "$sort": { "cmp": 1, "_id": 1 } },
            doc! { "$project": { "cmp": 1 } },
        ])
        .ordered(),
        agg(vec![doc! { "$project": { "x": { "$bogus": 1 } } }]),
        agg(vec![doc! { "$project": { "x": "$$NOPE" } }]),
        agg(vec![doc! { "$project": { "x": { "$cond": [true, 1] } } }]),
        agg(vec![doc! { "$project": { "x": { "$add": 1 } } }]),
        agg(vec![doc! { "$project": { "x": { "$eq": [1] } } }]),
    ];
    cases.push(agg(vec![
        doc! { "$match": { "_id": "r1" } },
        doc! { "$project": { "x": "$$ROOT.p.lr" } },
    ]));
    // $sum/$avg of doubles and decimals mixed, as MongoDB 8.0 sums them
    // (accumulator_sum.cpp, util/summation.h): ints, longs and doubles in
    // one double-double total, converted to a decimal once and exactly (2.5
    // is 25E-1, not rounded to 15 digits) and added to the decimals' total:
    // 2L + Decimal128("1.5") + 0.5 is Decimal128("4.0").
    let mixed = || doc! { "$match": { "_id": { "$in": ["r1", "r2", "r4"] } } };
    cases.push(agg(vec![
        mixed(),
        doc! { "$group": { "_id": null, "sumw": { "$sum": "$w" }, "avgw": { "$avg": "$w" } } },
    ]));
    cases.push(agg(vec![
        doc! { "$match": { "_id": { "$in": ["r1", "r2", "r3", "r4", "r8"] } } },
        doc! { "$group": { "_id": null, "sumw": { "$sum": "$w" }, "avgw": { "$avg": "$w" } } },
    ]));
    cases.push(
        agg(vec![
            mixed(),
            doc! { "$setWindowFields": { "sortBy": { "_id": 1 }, "output": {
                "run": { "$sum": "$w", "window": { "documents": ["unbounded", "current"] } },
                "mean": { "$avg": "$w", "window": { "documents": ["unbounded", "current"] } },
            } } },
            doc! { "$project": { "run": 1, "mean": 1 } },
        ])
        .ordered(),
    );
    cases.push(agg(vec![
        doc! { "$match": { "_id": "r1" } },
        doc! { "$project": {
            "s": { "$sum": [2_i64, dec("1.5"), 0.5] },
            "a": { "$avg": [0.5, dec("1.5")] },
        } },
    ]));
    Suite {
        name: "runs",
        docs: runs_docs(),
        cases,
        deviations: runs_deviations(),
    }
}

fn runs_deviations() -> Vec<Deviation> {
    vec![
        Deviation {
            case: agg(vec![
                doc! { "$match": { "_id": "r6" } },
                doc! { "$addFields": { "p.extra": "$g" } },
            ]),
            manual: "$addFields with a dotted path adds the field to the embedded document, creating it; a missing value adds no field (the manual is silent on the combination; MongoDB builds {p: {}})",
            reason: "the server drops the embedded document it should have created",
            expected: Expected::Docs(vec![
                doc! { "_id": "r6", "arr": [4], "v": f64::NAN, "w": 2_147_483_647, "p": {} },
            ]),
        },
        Deviation {
            case: agg(vec![doc! { "$match": { "g": "nope" } }, doc! { "$count": "n" }]),
            manual: "$count: if the input dataset is empty, $count doesn't return a result",
            reason: "the server returns { n: 0 }",
            expected: Expected::Docs(vec![]),
        },
        Deviation {
            case: agg(vec![doc! { "$group": { "_id": null, "sl": { "$sum": 1_i64 } } }]),
            manual: "$sum: the larger of the input types determines the result type (integer -> long -> double -> decimal)",
            reason: "the server narrows a sum of longs to an int",
            expected: Expected::Docs(vec![doc! { "_id": null, "sl": 8_i64 }]),
        },
        Deviation {
            case: agg(vec![
                doc! { "$match": { "_id": "r1" } },
                doc! { "$project": {
                    "d": { "$sum": [0.1, 0.2, 0.3] },
                    "tenth": { "$sum": [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1] },
                    "mean": { "$avg": [0.1, 0.2, 0.3] },
                } },
            ]),
            manual: "$sum/$avg (MongoDB 8.0, accumulator_sum.cpp and util/summation.h): doubles are added as a double-double (2Sum and Fast2Sum keep the rounding error), so the result is the double nearest the exact sum of the inputs",
            reason: "the server adds the doubles one by one, rounding each time (0.6000000000000001, 0.9999999999999999)",
            expected: Expected::Docs(vec![
                doc! { "_id": "r1", "d": 0.6, "tenth": 1.0, "mean": 0.6 / 3.0 },
            ]),
        },
        Deviation {
            case: agg(vec![
                doc! { "$match": { "_id": "r2" } },
                doc! { "$project": { "mod": { "$mod": ["$v", "$w"] } } },
            ]),
            manual: "$toDecimal / $convert: a double becomes a decimal with 15 significant digits ({$toDecimal: 2.5} is Decimal128(\"2.50000000000000\"))",
            reason: "the server converts 2.5 exactly, giving Decimal128(\"1.0\")",
            expected: Expected::Docs(vec![doc! { "_id": "r2", "mod": dec("1.00000000000000") }]),
        },
        Deviation {
            case: agg(vec![
                doc! { "$match": { "_id": "r1" } },
                doc! { "$project": { "not2": { "$not": [[]] } } },
            ]),
            manual: "$not: arrays (even empty ones) evaluate to true, so { $not: [ [] ] } is false",
            reason: "the server unwraps the inner array as the argument list and fails with an internal error",
            expected: Expected::Docs(vec![doc! { "_id": "r1", "not2": false }]),
        },
        Deviation {
            case: agg(vec![
                doc! { "$match": { "_id": "r1" } },
                doc! { "$project": { "x": { "$not": [[false]] } } },
            ]),
            manual: "$not: the manual's own example { $not: [ [ false ] ] } is false (arrays are true)",
            reason: "the server unwraps the inner array and returns true",
            expected: Expected::Docs(vec![doc! { "_id": "r1", "x": false }]),
        },
        Deviation {
            case: agg(vec![
                doc! { "$match": { "_id": "r6" } },
                doc! { "$project": { "cur": "$$CURRENT.g", "p": "$$CURRENT.p" } },
            ]),
            manual: "$<field> is equivalent to $$CURRENT.<field>; a missing value leaves the field out of $project's output",
            reason: "the server turns a missing $$CURRENT.<field> into null",
            expected: Expected::Docs(vec![doc! { "_id": "r6" }]),
        },
        Deviation {
            case: agg(vec![
                doc! { "$match": { "_id": { "$in": ["r1", "r4", "r8"] } } },
                doc! { "$project": { "ms": "$arr.m" } },
            ]),
            manual: "a field path through an array of documents yields the array of the documents' values; every element that is not a document is skipped, a nested array included (MongoDB 8.0, ExpressionFieldPath::evaluatePathArray)",
            reason: "the server returns no value for a field path through an array",
            expected: Expected::Docs(vec![
                doc! { "_id": "r1", "ms": [] },
                doc! { "_id": "r4", "ms": [] },
                doc! { "_id": "r8", "ms": [1, 2] },
            ]),
        },
    ]
}

/// Document sets on which the generated cases once found a disagreement,
/// kept as fixed cases.
fn regressions() -> Suite {
    let docs = vec![
        with_id("g0", doc! { "a": [{ "b": 0 }, {}] }),
        with_id("g1", doc! {}),
        with_id("g2", doc! { "a": [{ "b": 0 }, { "c": 1 }] }),
        with_id("g3", doc! { "a": [{ "b": 1 }, []] }),
        with_id("g4", doc! { "a": [{ "b": 1 }, 5] }),
    ];
    let cases = vec![
        // Seed 18eb8aca3efba3ec: the null group, compared without a fully
        // missing path (see the deviation below).
        find(doc! { "a": { "$exists": true } }).sort(doc! { "a.b": 1, "_id": 1 }),
        find(doc! {}).sort(doc! { "a.b": -1, "_id": 1 }),
        find(doc! { "a.c": { "$not": { "$elemMatch": { "c": { "$nin": ["xy", [], { "b": { "b": "X" } }] } } } }, "a": { "$exists": true } })
            .project(doc! { "a": 1 })
            .sort(doc! { "a.b": 1, "_id": 1 }),
    ];
    let deviations = vec![Deviation {
        case: find(doc! {}).sort(doc! { "a.b": 1, "_id": 1 }),
        manual: "sort order: the comparison treats a non-existent field as if it were null, so a document missing a.b ties with one whose array elements lack b (both null) and the next sort key (_id) decides",
        reason: "the server sorts documents missing the whole path before those whose array elements lack the field",
        expected: Expected::Ids(vec!["g0", "g1", "g2", "g3", "g4"]),
    }, Deviation {
        // The case seed 18eb8aca3efba3ec found, on these documents.
        case: find(doc! { "a.c": { "$not": { "$elemMatch": { "c": { "$nin": ["xy", [], { "b": { "b": "X" } }] } } } } })
            .project(doc! { "a": 1 })
            .sort(doc! { "a.b": 1, "_id": 1 })
            .skip(1)
            .limit(1),
        manual: "sort order: the comparison treats a non-existent field as if it were null",
        reason: "the server sorts the document missing a.b before the one whose element {} lacks b",
        expected: Expected::Ids(vec!["g1"]),
    }];
    Suite {
        name: "regressions",
        docs,
        cases,
        deviations,
    }
}

/// Positional paths ending at nested arrays (seed 18eb8b583f363f8f).
fn positional() -> Suite {
    let docs = vec![
        with_id("p5", doc! { "a": [2_i64, [0]] }),
        with_id("p6", doc! { "a": [2_i64, [1]] }),
        with_id("p7", doc! { "a": [2_i64, 0] }),
        with_id("p8", doc! { "a": [[4, 3], [[0]]] }),
    ];
    let mut cases = Vec::new();
    for condition in [
        bson!(0),
        bson!([0]),
        bson!({ "$gte": 0 }),
        bson!({ "$in": [0, 7] }),
        bson!({ "$not": { "$not": { "$gte": 0 } } }),
        bson!({ "$type": "int" }),
        bson!({ "$type": "array" }),
        bson!({ "$size": 1 }),
        bson!({ "$exists": true }),
        bson!({ "$all": [0] }),
        bson!({ "$elemMatch": { "$eq": 0 } }),
        bson!({ "$regex": "x" }),
    ] {
        for path in ["a.1", "a.0", "a.1.0"] {
            cases.push(find(doc! { path: condition.clone() }));
        }
    }
    // The server's $mod alone looks inside an array reached by a positional
    // path; $eq, $gte, $in... compare the array itself there, as MongoDB's
    // $mod does (it walks the path like every other leaf operator).
    let manual = "query on array elements: a positional path (a.1) names the element itself; like $eq or $gte, $mod then tests that element and does not traverse an array found there";
    let deviations = vec![
        Deviation {
            case: find(doc! { "a.1": { "$mod": [2, 0] } }),
            manual,
            reason: "the server's $mod matches [0] at a.1 through its element",
            expected: Expected::Ids(vec!["p7"]),
        },
        Deviation {
            case: find(doc! { "a.0": { "$mod": [2, 0] } }),
            manual,
            reason: "the server's $mod matches [4, 3] at a.0 through its element",
            expected: Expected::Ids(vec!["p5", "p6", "p7"]),
        },
        Deviation {
            case: find(doc! { "a.1": { "$not": { "$mod": [2, 0] } } }),
            manual,
            reason: "the complement of the above: the server leaves out [0] at a.1",
            expected: Expected::Ids(vec!["p5", "p6", "p8"]),
        },
    ];
    Suite {
        name: "positional",
        docs,
        cases,
        deviations,
    }
}

/// Booleans against numbers inside arrays (seed 18eb8b8f41094eb7).
fn booleans() -> Suite {
    let docs = vec![
        with_id("t0", doc! { "c": [false], "b": [0] }),
        with_id("t1", doc! { "c": false, "b": 0 }),
        with_id("t2", doc! { "c": [true, 2], "b": [1.0, 2] }),
        with_id("t3", doc! { "c": { "x": true }, "b": { "x": 1 } }),
    ];
    let cases = vec![
        find(doc! { "c": 0 }),
        find(doc! { "c": [0] }),
        find(doc! { "b": false }),
        find(doc! { "b": [false] }),
        find(doc! { "c": { "x": 1 } }),
        find(doc! { "c": { "$in": [0, [1, 2]] } }),
        find(doc! { "$expr": { "$eq": ["$c", "$b"] }, "_id": "t1" }),
        find(doc! { "$expr": { "$ne": [[1], [1.0]] } }),
        find(doc! { "$expr": { "$eq": [false, 0] } }),
        find(doc! { "$expr": { "$lt": ["$c", "$b"] } }),
        agg(vec![
            doc! { "$project": { "eq": { "$eq": ["$c", "$b"] }, "cmp": { "$cmp": ["$c", "$b"] } } },
            doc! { "$match": { "_id": "t1" } },
        ]),
        agg(vec![
            doc! { "$project": { "cmp": { "$cmp": ["$c", "$b"] }, "lt": { "$lt": ["$c", "$b"] } } },
        ]),
    ];
    let manual = "comparison order: booleans and numbers are different BSON types, never equal; arrays and documents compare element by element with that order";
    let deviations = vec![
        Deviation {
            case: find(doc! { "$expr": { "$eq": ["$c", "$b"] } }),
            manual,
            reason: "the server's $eq finds [false] equal to [0], [true, 2] to [1.0, 2] and {x: true} to {x: 1}",
            expected: Expected::Ids(vec![]),
        },
        Deviation {
            case: agg(vec![
                doc! { "$match": { "_id": { "$in": ["t0", "t2", "t3"] } } },
                doc! { "$project": { "eq": { "$eq": ["$c", "$b"] }, "ne": { "$ne": ["$c", "$b"] } } },
            ]),
            manual,
            reason: "the server's $eq and $ne treat a boolean inside an array or document as the number 0 or 1",
            expected: Expected::Docs(vec![
                doc! { "_id": "t0", "eq": false, "ne": true },
                doc! { "_id": "t2", "eq": false, "ne": true },
                doc! { "_id": "t3", "eq": false, "ne": true },
            ]),
        },
    ];
    Suite {
        name: "booleans",
        docs,
        cases,
        deviations,
    }
}
