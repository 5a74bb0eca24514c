//! Hand-written cases for the accumulators (`$group`) and `$setWindowFields`:
//! the `accumulators` and `window` suites.

use bson::{bson, doc, Bson, Decimal128, Document};

use super::{agg, Case, Deviation, Expected, Suite};

fn dec(text: &str) -> Bson {
    Bson::Decimal128(text.parse::<Decimal128>().expect("decimal"))
}

fn with_id(id: &str, mut d: Document) -> Document {
    let mut out = doc! { "_id": id };
    out.extend(std::mem::take(&mut d));
    out
}

pub fn suites() -> Vec<Suite> {
    vec![accumulators(), window(), window_series()]
}

/// Groups `x` (int, long, double, null, missing), `y` (decimal, string,
/// NaN), `z` (a tie and an array), `w` (one document, infinities).
fn accumulator_docs() -> Vec<Document> {
    vec![
        with_id("a01", doc! { "g": "x", "v": 1, "w": 10, "o": { "a": 1 } }),
        with_id(
            "a02",
            doc! { "g": "x", "v": 2_i64, "w": 30, "o": { "b": 2 } },
        ),
        with_id("a03", doc! { "g": "x", "v": 3.0, "w": 20, "o": { "a": 3 } }),
        with_id("a04", doc! { "g": "x", "v": null, "w": 40, "o": null }),
        with_id("a05", doc! { "g": "x", "w": 50 }),
        with_id(
            "a06",
            doc! { "g": "y", "v": dec("2.5"), "w": 5, "o": { "c": 1 } },
        ),
        with_id("a07", doc! { "g": "y", "v": "str", "w": 6 }),
        with_id("a08", doc! { "g": "y", "v": f64::NAN, "w": 7 }),
        with_id("a09", doc! { "g": "z", "v": 4, "w": 8 }),
        with_id("a10", doc! { "g": "z", "v": 4.0, "w": 9 }),
        with_id("a11", doc! { "g": "z", "v": [1, 2], "w": 1 }),
        with_id("a12", doc! { "g": "w", "v": f64::INFINITY, "w": 0 }),
    ]
}

/// `{$group: {_id: "$g", r: <acc>}}`.
fn group(acc: Bson) -> Case {
    agg(vec![doc! { "$group": { "_id": "$g", "r": acc } }])
}

/// The same over one group of everything.
fn group_all(acc: Bson) -> Case {
    agg(vec![doc! { "$group": { "_id": null, "r": acc } }])
}

fn accumulators() -> Suite {
    let mut cases = Vec::new();
    for acc in [
        // Standard deviations: doubles; null without numbers or (sample) with one.
        bson!({ "$stdDevPop": "$v" }),
        bson!({ "$stdDevSamp": "$v" }),
        bson!({ "$stdDevPop": "$w" }),
        bson!({ "$stdDevSamp": "$w" }),
        bson!({ "$stdDevPop": "$nope" }),
        bson!({ "$stdDevPop": 3 }),
        // Quantiles: doubles from the data (nearest rank); NaN and non-numbers skipped.
        bson!({ "$median": { "input": "$v", "method": "approximate" } }),
        bson!({ "$median": { "input": "$w", "method": "approximate" } }),
        bson!({ "$median": { "input": "$nope", "method": "approximate" } }),
        bson!({ "$percentile": { "input": "$w", "p": [0, 0.25, 0.5, 0.75, 0.9, 1], "method": "approximate" } }),
        bson!({ "$percentile": { "input": "$v", "p": [0.1, 1.0], "method": "approximate" } }),
        bson!({ "$percentile": { "input": "$nope", "p": [0.5, 0.9], "method": "approximate" } }),
        bson!({ "$percentile": { "input": "$w", "p": [1, 0], "method": "approximate" } }),
        // firstN / lastN keep null (missing becomes null); minN / maxN skip both.
        bson!({ "$firstN": { "input": "$v", "n": 2 } }),
        bson!({ "$firstN": { "input": "$v", "n": 10 } }),
        bson!({ "$lastN": { "input": "$v", "n": 2 } }),
        bson!({ "$lastN": { "input": "$v", "n": 10_i64 } }),
        bson!({ "$minN": { "input": "$v", "n": 2 } }),
        bson!({ "$minN": { "input": "$w", "n": 3.0 } }),
        bson!({ "$maxN": { "input": "$w", "n": 2 } }),
        bson!({ "$maxN": { "input": "$w", "n": 10 } }),
        bson!({ "$minN": { "input": "$nope", "n": 2 } }),
        // top / bottom: sortBy order, missing output becomes null.
        bson!({ "$top": { "sortBy": { "w": 1 }, "output": "$v" } }),
        bson!({ "$top": { "sortBy": { "w": -1 }, "output": ["$_id", "$v"] } }),
        bson!({ "$bottom": { "sortBy": { "w": 1 }, "output": "$v" } }),
        bson!({ "$topN": { "n": 2, "sortBy": { "w": 1 }, "output": "$_id" } }),
        bson!({ "$topN": { "n": 10, "sortBy": { "w": -1 }, "output": "$v" } }),
        bson!({ "$bottomN": { "n": 2, "sortBy": { "w": 1 }, "output": "$_id" } }),
        bson!({ "$bottomN": { "n": 10, "sortBy": { "w": -1 }, "output": "$v" } }),
        // mergeObjects: later fields win, null and missing are skipped.
        bson!({ "$mergeObjects": "$o" }),
        bson!({ "$mergeObjects": "$nope" }),
    ] {
        cases.push(group(acc));
    }
    cases.extend([
        group_all(bson!({ "$stdDevPop": "$w" })),
        // No input: no groups.
        agg(vec![
            doc! { "$match": { "g": "none" } },
            doc! { "$group": { "_id": null, "r": { "$topN": { "n": 2, "sortBy": { "w": 1 }, "output": "$w" } }, "m": { "$median": { "input": "$w", "method": "approximate" } } } },
        ]),
        group_all(bson!({ "$median": { "input": "$w", "method": "approximate" } })),
        group_all(bson!({ "$topN": { "n": 4, "sortBy": { "w": 1 }, "output": "$_id" } })),
        group_all(bson!({ "$bottomN": { "n": 4, "sortBy": { "w": 1 }, "output": "$_id" } })),
        group_all(bson!({ "$maxN": { "input": "$w", "n": 3 } })),
        group_all(bson!({ "$lastN": { "input": "$_id", "n": 3 } })),
        // maxN of equal numbers of two types: their order is the server's
        // multiset order (latest first), which the test server does not
        // share, so the tie (group z) is left out.
        agg(vec![
            doc! { "$match": { "g": { "$ne": "z" } } },
            doc! { "$group": { "_id": "$g", "r": { "$maxN": { "input": "$v", "n": 10 } } } },
        ]),
        agg(vec![
            doc! { "$match": { "g": { "$ne": "z" } } },
            doc! { "$group": { "_id": "$g", "r": { "$topN": { "n": 3, "sortBy": { "v": 1, "w": 1 }, "output": "$_id" } } } },
        ]),
        agg(vec![
            doc! { "$match": { "g": { "$ne": "z" } } },
            doc! { "$group": { "_id": "$g", "r": { "$bottomN": { "n": 3, "sortBy": { "v": -1, "w": -1 }, "output": "$_id" } } } },
        ]),
        // Several accumulators at once, in one $group.
        agg(vec![doc! { "$group": {
            "_id": "$g",
            "sd": { "$stdDevSamp": "$w" },
            "med": { "$median": { "input": "$w", "method": "approximate" } },
            "top": { "$top": { "sortBy": { "w": 1 }, "output": "$w" } },
            "firsts": { "$firstN": { "input": "$_id", "n": 1 } },
        } }]),
        // Errors: bad n, missing or unknown fields, bad p and method.
        group(bson!({ "$firstN": { "input": "$v", "n": 0 } })),
        group(bson!({ "$firstN": { "input": "$v", "n": -1 } })),
        group(bson!({ "$lastN": { "input": "$v", "n": 1.5 } })),
        group(bson!({ "$minN": { "input": "$v", "n": "2" } })),
        group(bson!({ "$maxN": { "input": "$v" } })),
        group(bson!({ "$maxN": { "n": 2 } })),
        group(bson!({ "$maxN": { "n": 2, "input": "$v", "x": 1 } })),
        group(bson!({ "$firstN": [1, 2] })),
        group(bson!({ "$topN": { "sortBy": { "w": 1 }, "output": "$v" } })),
        group(bson!({ "$topN": { "n": 1, "output": "$v" } })),
        group(bson!({ "$top": { "n": 1, "sortBy": { "w": 1 }, "output": "$v" } })),
        group(bson!({ "$bottom": { "sortBy": { "w": 1 } } })),
        group(bson!({ "$topN": { "n": 0, "sortBy": { "w": 1 }, "output": "$v" } })),
        group(bson!({ "$median": { "input": "$v" } })),
        group(bson!({ "$median": { "input": "$v", "method": "exact" } })),
        group(bson!({ "$median": "$v" })),
        group(bson!({ "$percentile": { "input": "$v", "method": "approximate" } })),
        group(bson!({ "$percentile": { "input": "$v", "p": [1.5], "method": "approximate" } })),
        group(bson!({ "$percentile": { "input": "$v", "p": [], "method": "approximate" } })),
        group(bson!({ "$percentile": { "input": "$v", "p": 0.5, "method": "approximate" } })),
        group(bson!({ "$percentile": { "input": "$v", "p": ["a"], "method": "approximate" } })),
        group(bson!({ "$mergeObjects": "$v" })),
    ]);
    let array_sort = "$topN/$bottomN: sortBy has the syntax of $sort, where an array sorts by its smallest element ascending and by its largest descending";
    let deviations = vec![
        Deviation {
            case: agg(vec![
                doc! { "$match": { "g": "z" } },
                doc! { "$group": { "_id": "$g", "r": { "$bottom": { "sortBy": { "g": 1 }, "output": "$_id" } } } },
            ]),
            manual: "$bottom: \"PlayerD and PlayerE tied for the bottom element. PlayerD is returned as the bottom score\" (of tied documents, the first seen is kept)",
            reason: "the server returns the last of the tied documents",
            expected: Expected::Docs(vec![doc! { "_id": "z", "r": "a09" }]),
        },
        Deviation {
            case: group(bson!({ "$firstN": { "input": "$w", "n": { "$cond": [{ "$eq": ["$_id", "x"] }, 1, 3] } } })),
            manual: "$firstN: n has to be a positive integral expression that is either a constant or depends on the _id value for $group",
            reason: "the server evaluates n against each document instead of the group key",
            expected: Expected::Docs(vec![
                doc! { "_id": "w", "r": [0] },
                doc! { "_id": "x", "r": [10] },
                doc! { "_id": "y", "r": [5, 6, 7] },
                doc! { "_id": "z", "r": [8, 9, 1] },
            ]),
        },
        Deviation {
            case: agg(vec![
                doc! { "$match": { "g": "z" } },
                doc! { "$group": { "_id": "$g", "r": { "$topN": { "n": 3, "sortBy": { "v": 1, "w": 1 }, "output": "$_id" } } } },
            ]),
            manual: array_sort,
            reason: "the server sorts the array [1, 2] after the numbers",
            expected: Expected::Docs(vec![doc! { "_id": "z", "r": ["a11", "a09", "a10"] }]),
        },
        Deviation {
            case: agg(vec![
                doc! { "$match": { "g": "z" } },
                doc! { "$group": { "_id": "$g", "r": { "$bottomN": { "n": 3, "sortBy": { "v": -1, "w": -1 }, "output": "$_id" } } } },
            ]),
            manual: array_sort,
            reason: "the server sorts the array [1, 2] before the numbers",
            expected: Expected::Docs(vec![doc! { "_id": "z", "r": ["a10", "a09", "a11"] }]),
        },
        Deviation {
            case: group(bson!({ "$stdDevPop": ["$v", "$w"] })),
            manual: "$stdDevPop: when used in the $group stage, $stdDevPop has one specified expression as its operand (the list form is for $project)",
            reason: "the server accepts the list and answers null",
            expected: Expected::Error,
        },
    ];
    Suite {
        name: "accumulators",
        docs: accumulator_docs(),
        cases,
        deviations,
    }
}

/// Partition `a` (int, double, long, null, missing), `b` (ties on `v`),
/// `c` (decimals, double `t`), `d` (NaN) and the null partition (a null and
/// a missing `p`). `t` orders each partition without ties. Doubles and
/// decimals never meet in one sum: the server converts a double to decimal
/// differently from the manual (see the `runs` suite's deviations).
fn window_docs() -> Vec<Document> {
    vec![
        with_id("w01", doc! { "p": "a", "t": 1, "v": 1 }),
        with_id("w02", doc! { "p": "a", "t": 2, "v": 2.5 }),
        with_id("w03", doc! { "p": "a", "t": 3 }),
        with_id("w04", doc! { "p": "a", "t": 4, "v": null }),
        with_id("w05", doc! { "p": "a", "t": 5, "v": 3_i64 }),
        with_id("w06", doc! { "p": "a", "t": 6, "v": 4 }),
        with_id("w07", doc! { "p": "b", "t": 1, "v": 10 }),
        with_id("w08", doc! { "p": "b", "t": 2_i64, "v": 10 }),
        with_id("w09", doc! { "p": "b", "t": 3, "v": 20 }),
        with_id("w10", doc! { "p": "b", "t": 4, "v": 5 }),
        with_id("w11", doc! { "t": 1, "v": 7 }),
        with_id("w12", doc! { "p": null, "t": 2, "v": 8 }),
        with_id("w13", doc! { "p": "c", "t": 1.5, "v": dec("1.5") }),
        with_id("w14", doc! { "p": "c", "t": 2.5, "v": dec("2.25") }),
        with_id("w15", doc! { "p": "c", "t": 3.5, "v": 1 }),
        with_id("w16", doc! { "p": "d", "t": 1, "v": f64::NAN }),
        with_id("w17", doc! { "p": "d", "t": 2, "v": 2 }),
    ]
}

/// `$setWindowFields` partitioned by `p`, sorted by `t`, with one output.
fn swf(output: Document) -> Case {
    agg(vec![
        doc! { "$setWindowFields": { "partitionBy": "$p", "sortBy": { "t": 1 }, "output": output } },
    ])
}

/// One accumulator over one documents window.
fn over(function: Document, bounds: Bson) -> Case {
    let mut out = function;
    out.insert("window", doc! { "documents": bounds });
    swf(doc! { "r": out })
}

fn window() -> Suite {
    let mut cases = Vec::new();
    let windows = [
        bson!(["unbounded", "current"]),
        bson!(["unbounded", "unbounded"]),
        bson!([-1, 0]),
        bson!([-2, 0]),
        bson!([-1, 1]),
        bson!([0, 1]),
        bson!(["current", "unbounded"]),
        bson!([-2, -1]),
        bson!([1, 2]),
        bson!([5, 6]),
        bson!(["unbounded", -1]),
        bson!([1, "unbounded"]),
        bson!(["current", "current"]),
    ];
    for bounds in &windows {
        for function in [
            doc! { "$sum": "$v" },
            doc! { "$avg": "$v" },
            doc! { "$max": "$v" },
            doc! { "$min": "$v" },
            doc! { "$push": "$v" },
            doc! { "$count": {} },
        ] {
            cases.push(over(function, bounds.clone()));
        }
    }
    for bounds in [
        bson!(["unbounded", "current"]),
        bson!([-1, 1]),
        bson!([2, 3]),
    ] {
        for function in [
            doc! { "$addToSet": "$v" },
            doc! { "$first": "$v" },
            doc! { "$last": "$v" },
            doc! { "$stdDevPop": "$t" },
            doc! { "$stdDevSamp": "$t" },
            doc! { "$median": { "input": "$t", "method": "approximate" } },
            doc! { "$percentile": { "input": "$v", "p": [0.5, 1], "method": "approximate" } },
            doc! { "$firstN": { "input": "$v", "n": 2 } },
            doc! { "$lastN": { "input": "$v", "n": 2 } },
            doc! { "$minN": { "input": "$v", "n": 2 } },
            doc! { "$maxN": { "input": "$v", "n": 2 } },
            doc! { "$topN": { "n": 2, "sortBy": { "v": -1 }, "output": "$_id" } },
            doc! { "$bottomN": { "n": 2, "sortBy": { "t": 1 }, "output": "$v" } },
            doc! { "$top": { "sortBy": { "t": -1 }, "output": "$v" } },
            doc! { "$bottom": { "sortBy": { "t": -1 }, "output": "$_id" } },
        ] {
            cases.push(over(function, bounds.clone()));
        }
    }
    // The default window is the whole partition, sorted or not.
    cases.extend([
        swf(doc! { "r": { "$sum": "$v" }, "n": { "$count": {} } }),
        swf(doc! { "r": { "$push": "$_id" } }),
        swf(doc! { "r": { "$stdDevPop": "$t" }, "m": { "$median": { "input": "$t", "method": "approximate" } } }),
        agg(vec![doc! { "$setWindowFields": { "partitionBy": "$p", "output": { "r": { "$max": "$t" }, "s": { "$avg": "$t" } } } }]),
        agg(vec![doc! { "$setWindowFields": { "output": { "r": { "$sum": "$t" }, "c": { "$count": {} } } } }]),
        agg(vec![doc! { "$setWindowFields": { "partitionBy": { "$mod": ["$t", 2] }, "output": { "r": { "$sum": "$v" } } } }]),
        agg(vec![doc! { "$setWindowFields": { "partitionBy": "$p", "sortBy": { "t": -1 }, "output": { "r": { "$push": "$_id", "window": { "documents": ["unbounded", "current"] } } } } }]),
        // No input: no partitions, no output.
        agg(vec![
            doc! { "$match": { "_id": "none" } },
            doc! { "$setWindowFields": { "partitionBy": "$p", "sortBy": { "t": 1 }, "output": { "r": { "$rank": {} }, "s": { "$sum": "$v" } } } },
        ]),
        // Windows over a computed field, and a window stage feeding $group.
        agg(vec![
            doc! { "$set": { "neg": { "$multiply": ["$t", -1] } } },
            doc! { "$setWindowFields": { "partitionBy": "$p", "sortBy": { "neg": 1 }, "output": { "r": { "$sum": "$t", "window": { "documents": ["unbounded", "current"] } } } } },
            doc! { "$group": { "_id": "$p", "best": { "$max": "$r" }, "all": { "$push": "$r" } } },
        ]),
        // Replacing an existing field.
        swf(doc! { "v": { "$max": "$v", "window": { "documents": ["unbounded", "current"] } } }),
    ]);
    // Ranks over the single sortBy field: ties share, null and missing tie.
    for sort in [doc! { "v": 1 }, doc! { "v": -1 }, doc! { "t": 1 }] {
        cases.push(agg(vec![doc! { "$setWindowFields": {
            "partitionBy": "$p",
            "sortBy": sort,
            "output": {
                "rank": { "$rank": {} },
                "dense": { "$denseRank": {} },
            },
        } }]));
    }
    cases.push(swf(doc! { "n": { "$documentNumber": {} } }));
    // $shift: before, after, out of the partition, with a default.
    for shift in [
        doc! { "output": "$v", "by": 1 },
        doc! { "output": "$v", "by": -1 },
        doc! { "output": "$_id", "by": 2, "default": "none" },
        doc! { "output": "$_id", "by": -10, "default": 0 },
        doc! { "output": "$_id", "by": 0 },
        doc! { "output": { "$add": ["$t", 1] }, "by": 1_i64, "default": { "$add": [1, 2] } },
    ] {
        cases.push(swf(doc! { "r": { "$shift": shift } }));
    }
    // Range windows over the numeric sortBy.
    for bounds in [
        bson!([-1, 0]),
        bson!([-1, 1]),
        bson!([0, 2.5]),
        bson!(["unbounded", 0]),
        bson!([-1.5, "unbounded"]),
        bson!([10, 20]),
    ] {
        for function in [doc! { "$sum": "$v" }, doc! { "$push": "$_id" }] {
            let mut out = function;
            out.insert("window", doc! { "range": bounds.clone() });
            cases.push(swf(doc! { "r": out }));
        }
    }
    // Errors, which both refuse.
    cases.extend([
        agg(vec![doc! { "$setWindowFields": { "partitionBy": "$p", "output": { "r": { "$rank": {} } } } }]),
        swf(doc! { "r": { "$rank": {}, "window": { "documents": [-1, 0] } } }),
        swf(doc! { "r": { "$rank": 1 } }),
        swf(doc! { "r": { "$denseRank": { "a": 1 } } }),
        swf(doc! { "r": { "$bogus": "$v" } }),
        swf(doc! { "r": { "$mergeObjects": "$v" } }),
        swf(doc! { "r": { "sum": "$v" } }),
        swf(doc! { "r": 1 }),
        swf(doc! { "r": { "$sum": "$v", "window": { "documents": ["unbounded", "foo"] } } }),
        swf(doc! { "r": { "$sum": "$v", "window": { "documents": [0.5, 1] } } }),
        swf(doc! { "r": { "$sum": "$v", "window": { "documents": [1] } } }),
        swf(doc! { "r": { "$sum": "$v", "window": 5 } }),
        swf(doc! { "r": { "$shift": { "output": "$v" } } }),
        swf(doc! { "r": { "$shift": { "by": 1 } } }),
        swf(doc! { "r": { "$shift": { "output": "$v", "by": 1.5 } } }),
        swf(doc! { "r": { "$shift": { "output": "$v", "by": "1" } } }),
        swf(doc! { "r": { "$shift": 1 } }),
        swf(doc! { "r": { "$shift": { "output": "$v", "by": 1 }, "window": { "documents": [0, 1] } } }),
        agg(vec![doc! { "$setWindowFields": { "output": { "r": { "$shift": { "output": "$v", "by": 1 } } } } }]),
        swf(doc! { "r": { "$firstN": { "input": "$v", "n": 0 } } }),
        swf(doc! { "r": { "$median": { "input": "$v" } } }),
        agg(vec![doc! { "$setWindowFields": { "partitionBy": "$p", "sortBy": { "t": -1 }, "output": { "r": { "$sum": "$v", "window": { "range": [-1, 0] } } } } }]),
        agg(vec![doc! { "$setWindowFields": { "sortBy": { "t": 1, "v": 1 }, "output": { "r": { "$sum": "$v", "window": { "range": [-1, 0] } } } } }]),
        agg(vec![doc! { "$setWindowFields": { "partitionBy": "$p", "sortBy": { "v": 1 }, "output": { "r": { "$sum": "$v", "window": { "range": [-1, 0] } } } } }]),
        agg(vec![doc! { "$setWindowFields": { "output": 1 } }]),
        agg(vec![doc! { "$setWindowFields": { "sortBy": { "t": 1 } } }]),
        agg(vec![doc! { "$setWindowFields": { "sortBy": { "t": 1 }, "output": {}, "bogus": 1 } }]),
        agg(vec![doc! { "$setWindowFields": 1 }]),
    ]);
    let manual_bounded = "$setWindowFields restrictions: sortBy is required for bounded windows (either a documents window or a range window)";
    let deviations = vec![
        Deviation {
            case: agg(vec![doc! { "$setWindowFields": { "output": { "r": { "$sum": "$v", "window": { "documents": [-1, 0] } } } } }]),
            manual: manual_bounded,
            reason: "the server runs a bounded window over the input order",
            expected: Expected::Error,
        },
        Deviation {
            case: agg(vec![doc! { "$setWindowFields": { "partitionBy": "$p", "output": { "r": { "$sum": "$v", "window": { "documents": ["unbounded", "current"] } } } } }]),
            manual: manual_bounded,
            reason: "the server runs a bounded window over the input order",
            expected: Expected::Error,
        },
        Deviation {
            case: swf(doc! { "r": { "$sum": "$v", "window": { "documents": [1, -1] } } }),
            manual: "$setWindowFields window: the lower bound must be less than or equal to the upper bound",
            reason: "the server accepts the window and answers empty windows",
            expected: Expected::Error,
        },
        Deviation {
            case: swf(doc! { "r": { "$sum": "$v", "window": { "documents": ["current", -1] } } }),
            manual: "$setWindowFields window: the lower bound must be less than or equal to the upper bound (\"current\" is position 0)",
            reason: "the server accepts the window and answers empty windows",
            expected: Expected::Error,
        },
        Deviation {
            case: agg(vec![doc! { "$setWindowFields": { "partitionBy": "$p", "output": { "n": { "$documentNumber": {} } } } }]),
            manual: "$setWindowFields restrictions: sortBy is required for rank window operators ($denseRank, $documentNumber, $rank)",
            reason: "the server numbers the documents in input order",
            expected: Expected::Error,
        },
        Deviation {
            case: agg(vec![doc! { "$setWindowFields": { "sortBy": { "t": 1, "v": 1 }, "output": { "r": { "$rank": {} } } } }]),
            manual: "$rank: when used with the $rank operator, sortBy can only take one field as its value",
            reason: "the server ranks by both fields",
            expected: Expected::Error,
        },
        Deviation {
            case: swf(doc! { "r": { "$sum": "$v", "window": { "documents": [-1, 1], "range": [-1, 1] } } }),
            manual: "$setWindowFields restrictions: you cannot specify both a documents window and a range window",
            reason: "the server uses the documents window",
            expected: Expected::Error,
        },
        Deviation {
            case: swf(doc! { "r": { "$sum": "$v", "window": { "documents": [-1, 1] }, "extra": 1 } }),
            manual: "$setWindowFields syntax: each output field is { <window operator>: <parameters>, window: { ... } } and nothing else",
            reason: "the server ignores the unknown field",
            expected: Expected::Error,
        },
        Deviation {
            case: agg(vec![
                doc! { "$match": { "p": "b" } },
                doc! { "$setWindowFields": { "sortBy": { "t": 1 }, "output": { "out.sum": { "$sum": "$v", "window": { "documents": ["unbounded", "current"] } }, "out.n": { "$documentNumber": {} } } } },
                doc! { "$project": { "out": 1 } },
            ]),
            manual: "$setWindowFields output: a field can contain dots to specify embedded document fields, with the semantics of $addFields",
            reason: "the server adds a top-level field named \"out.sum\"",
            expected: Expected::Docs(vec![
                doc! { "_id": "w07", "out": { "sum": 10, "n": 1 } },
                doc! { "_id": "w08", "out": { "sum": 20, "n": 2 } },
                doc! { "_id": "w09", "out": { "sum": 40, "n": 3 } },
                doc! { "_id": "w10", "out": { "sum": 45, "n": 4 } },
            ]),
        },
    ];
    Suite {
        name: "window",
        docs: window_docs(),
        cases,
        deviations,
    }
}

/// A date `hours` after 2024-01-01T00:00Z.
fn at_hour(hours: i64) -> Bson {
    Bson::DateTime(bson::DateTime::from_millis(
        1_704_067_200_000 + hours * 3_600_000,
    ))
}

/// Series `s` (dates a day or more apart, gaps in `v`) and `u` (hours
/// apart, a month boundary, a decimal); `n` is a numeric time axis.
fn series_docs() -> Vec<Document> {
    vec![
        with_id("s1", doc! { "p": "s", "d": at_hour(0), "n": 0, "v": 1 }),
        with_id("s2", doc! { "p": "s", "d": at_hour(24), "n": 1, "v": 2.5 }),
        with_id("s3", doc! { "p": "s", "d": at_hour(72), "n": 3 }),
        with_id("s4", doc! { "p": "s", "d": at_hour(84), "n": 4, "v": null }),
        with_id("s5", doc! { "p": "s", "d": at_hour(168), "n": 7, "v": 4 }),
        with_id(
            "s6",
            doc! { "p": "s", "d": at_hour(24 * 40), "n": 9, "v": 6_i64 },
        ),
        with_id("u1", doc! { "p": "u", "d": at_hour(743), "n": 1, "v": 3 }),
        with_id("u2", doc! { "p": "u", "d": at_hour(745), "n": 2, "v": 5 }),
        with_id("u3", doc! { "p": "u", "d": at_hour(746), "n": 4, "v": 11 }),
    ]
}

/// `$setWindowFields` partitioned by `p`, sorted by `sort`, one output.
fn series_swf(sort: &str, output: Document) -> Case {
    agg(vec![
        doc! { "$setWindowFields": { "partitionBy": "$p", "sortBy": { sort: 1 }, "output": { "r": output } } },
    ])
}

fn window_series() -> Suite {
    let mut cases = Vec::new();
    // Time ranges: calendar units added to each document's date.
    for (bounds, unit) in [
        (bson!([-1, 0]), "day"),
        (bson!([-2, 0]), "day"),
        (bson!([0, 1]), "week"),
        (bson!([-36, 0]), "hour"),
        (bson!(["unbounded", -1]), "day"),
        (bson!([-90, 0]), "minute"),
    ] {
        cases.push(series_swf(
            "d",
            doc! { "$push": "$_id", "window": { "range": bounds.clone(), "unit": unit } },
        ));
    }
    cases.push(series_swf(
        "d",
        doc! { "$sum": "$v", "window": { "range": [-3, 0], "unit": "day" } },
    ));
    // Gap filling.
    cases.extend([
        series_swf("n", doc! { "$locf": "$v" }),
        series_swf("d", doc! { "$locf": { "$multiply": ["$v", 2] } }),
        series_swf("n", doc! { "$linearFill": "$v" }),
        agg(vec![doc! { "$setWindowFields": { "sortBy": { "n": 1 }, "output": { "r": { "$locf": "$v" } } } }]),
    ]);
    // Rates and areas.
    // (With a unit over dates the test server rounds differently: see the
    // deviations.)
    for (sort, unit) in [("n", None::<&str>)] {
        for window in [
            bson!([-1, 0]),
            bson!(["unbounded", "current"]),
            bson!([-1, 1]),
        ] {
            let mut args = doc! { "input": "$n" };
            if let Some(unit) = unit {
                args.insert("unit", unit);
            }
            cases.push(series_swf(
                sort,
                doc! { "$derivative": args.clone(), "window": { "documents": window.clone() } },
            ));
            cases.push(series_swf(
                sort,
                doc! { "$integral": args.clone(), "window": { "documents": window } },
            ));
        }
    }
    cases.push(series_swf("n", doc! { "$integral": { "input": "$n" } }));
    cases.push(series_swf("d", doc! { "$integral": { "input": "$n", "unit": "hour" }, "window": { "range": [-1, 0], "unit": "day" } }));
    // Exponential moving average of numbers only; $first of an expression.
    cases.push(agg(vec![
        doc! { "$match": { "p": "u" } },
        doc! { "$setWindowFields": { "sortBy": { "n": 1 }, "output": { "r": { "$expMovingAvg": { "input": "$v", "alpha": 0.25 } } } } },
        doc! { "$project": { "r": 1 } },
    ]));
    // $first reads only the window's first document (s1's n = 0 is never
    // an end of a [1, 1] window, so 1 / n does not fail).
    cases.push(agg(vec![
        doc! { "$match": { "p": "s" } },
        doc! { "$setWindowFields": { "sortBy": { "n": 1 }, "output": { "r": { "$first": { "$divide": [1, "$n"] }, "window": { "documents": [1, 1] } } } } },
        doc! { "$project": { "r": 1 } },
    ]));
    // Errors that both refuse.
    cases.extend([
        series_swf("d", doc! { "$derivative": { "input": "$n" }, "window": { "documents": [-1, 0] } }),
        series_swf("n", doc! { "$derivative": { "input": "$n", "unit": "day" }, "window": { "documents": [-1, 0] } }),
        series_swf("n", doc! { "$derivative": { "input": "$v" }, "window": { "documents": [-1, 0] } }),
        series_swf("n", doc! { "$sum": "$v", "window": { "range": [-1, 0], "unit": "day" } }),
        series_swf("d", doc! { "$sum": "$v", "window": { "range": [-1, 0] } }),
        series_swf("d", doc! { "$sum": "$v", "window": { "range": [-1, 0], "unit": "days" } }),
        series_swf("d", doc! { "$sum": "$v", "window": { "range": [-1, 0], "unit": 1 } }),
        series_swf("n", doc! { "$expMovingAvg": { "input": "$v", "N": 0 } }),
        series_swf("n", doc! { "$expMovingAvg": { "input": "$v", "alpha": 1.5 } }),
        series_swf("n", doc! { "$expMovingAvg": { "input": "$v" } }),
        agg(vec![doc! { "$setWindowFields": { "output": { "r": { "$expMovingAvg": { "input": "$v", "N": 2 } } } } }]),
    ]);
    let only_r = |partition: &str, sort: &str, output: Document| {
        agg(vec![
            doc! { "$match": { "p": partition } },
            doc! { "$setWindowFields": { "sortBy": { sort: 1 }, "output": { "r": output } } },
            doc! { "$project": { "r": 1 } },
        ])
    };
    let rs = |ids: &[&str], values: Vec<Bson>| {
        Expected::Docs(
            ids.iter()
                .zip(values)
                .map(|(id, r)| doc! { "_id": *id, "r": r })
                .collect(),
        )
    };
    let s_ids = ["s1", "s2", "s3", "s4", "s5", "s6"];
    let u_ids = ["u1", "u2", "u3"];
    let time_range = "$setWindowFields range windows with a unit (MongoDB 5.0-8.0, window_bounds.cpp): each bound is the current date plus that many units, as $dateAdd adds them (calendar months, quarters and years included)";
    let unit_rule = "$derivative/$integral with a unit (MongoDB 5.0-8.0, window_function_exec_derivative.cpp, window_function_integral.cpp): computed in milliseconds with $subtract/$divide, then the rate multiplied (the area divided) by the unit's milliseconds";
    let deviations = vec![
        Deviation {
            case: only_r("s", "n", doc! { "$expMovingAvg": { "input": "$v", "N": 3 } }),
            manual: "$expMovingAvg: \"$expMovingAvg ignores non-numeric values, null values, and missing fields\" (MongoDB 5.0-8.0, AccumulatorExpMovingAvg: a non-numeric input leaves the average as it was)",
            reason: "the server refuses a missing or null input (\"$expMovingAvg input must be numeric\")",
            expected: rs(&s_ids, vec![bson!(1.0), bson!(1.75), bson!(1.75), bson!(1.75), bson!(2.875), bson!(4.4375)]),
        },
        Deviation {
            case: agg(vec![
                doc! { "$match": { "_id": { "$in": ["u1", "u2"] } } },
                doc! { "$setWindowFields": { "sortBy": { "n": 1 }, "output": {
                    "pop": { "$covariancePop": ["$n", "$v"] },
                    "samp": { "$covarianceSamp": ["$n", "$v"], "window": { "documents": ["unbounded", "current"] } },
                } } },
                doc! { "$project": { "pop": 1, "samp": 1 } },
            ]),
            manual: "$covariancePop/$covarianceSamp (MongoDB 5.0-8.0): the population (sample) covariance of the numeric [x, y] pairs in the window, a double; null without pairs (or, for the sample, with one)",
            reason: "the server does not implement $covariancePop/$covarianceSamp",
            // (1, 3) and (2, 5): means 1.5 and 4, co-moment 1.
            expected: Expected::Docs(vec![
                doc! { "_id": "u1", "pop": 0.5, "samp": null },
                doc! { "_id": "u2", "pop": 0.5, "samp": 1.0 },
            ]),
        },
        Deviation {
            case: only_r("s", "d", doc! { "$push": "$_id", "window": { "range": [-1, "unbounded"], "unit": "month" } }),
            manual: time_range,
            reason: "the server refuses month, quarter and year units",
            expected: rs(&s_ids, vec![
                bson!(["s1", "s2", "s3", "s4", "s5", "s6"]), bson!(["s1", "s2", "s3", "s4", "s5", "s6"]),
                bson!(["s1", "s2", "s3", "s4", "s5", "s6"]), bson!(["s1", "s2", "s3", "s4", "s5", "s6"]),
                bson!(["s1", "s2", "s3", "s4", "s5", "s6"]), bson!(["s6"]),
            ]),
        },
        Deviation {
            case: only_r("u", "d", doc! { "$push": "$_id", "window": { "range": [0, 0], "unit": "quarter" } }),
            manual: time_range,
            reason: "the server refuses month, quarter and year units",
            expected: rs(&u_ids, vec![bson!(["u1"]), bson!(["u2"]), bson!(["u3"])]),
        },
        Deviation {
            case: only_r("s", "d", doc! { "$linearFill": "$v" }),
            manual: "$linearFill (MongoDB 5.3-8.0): the sortBy field may be numeric or a date; gaps are filled by $subtract/$multiply/$divide/$add over the sortBy values (milliseconds for dates)",
            reason: "the server refuses a date sortBy",
            expected: rs(&s_ids, vec![bson!(1), bson!(2.5), bson!(3.0), bson!(3.125), bson!(4), bson!(6_i64)]),
        },
        Deviation {
            case: only_r("u", "d", doc! { "$derivative": { "input": "$n", "unit": "hour" }, "window": { "documents": [-1, 0] } }),
            manual: unit_rule,
            reason: "the server rounds as if it divided by the run in hours (0.5 where (2 / 7200000) * 3600000 is 0.49999999999999994)",
            expected: rs(&u_ids, vec![Bson::Null, bson!(0.49999999999999994), bson!(1.9999999999999998)]),
        },
        Deviation {
            case: only_r("u", "d", doc! { "$integral": { "input": "$n", "unit": "day" }, "window": { "documents": [-1, 1] } }),
            manual: unit_rule,
            reason: "the server's areas carry a rounding error (0.12500000000363798 for 0.125)",
            expected: rs(&u_ids, vec![bson!(0.125), bson!(0.25), bson!(0.125)]),
        },
        Deviation {
            case: series_swf("n", doc! { "$derivative": { "input": "$n" } }),
            manual: "$derivative: window bounds are required (MongoDB 5.0-8.0: \"$derivative requires explicit window bounds\")",
            reason: "the server takes the whole partition",
            expected: Expected::Error,
        },
        Deviation {
            case: series_swf("d", doc! { "$sum": "$v", "window": { "range": [-1.5, 0], "unit": "day" } }),
            manual: "$setWindowFields range with a unit (MongoDB 5.0-8.0, window_bounds.cpp): \"With 'unit', range-based bounds must be an integer\"",
            reason: "the server accepts a fractional bound",
            expected: Expected::Error,
        },
        Deviation {
            case: series_swf("d", doc! { "$sum": "$v", "window": { "documents": [-1, 0], "unit": "day" } }),
            manual: "$setWindowFields window (MongoDB 5.0-8.0, window_bounds.cpp): \"Window bounds can only specify 'unit' with range-based bounds.\"",
            reason: "the server ignores the unit",
            expected: Expected::Error,
        },
    ];
    Suite {
        name: "window_series",
        docs: series_docs(),
        cases,
        deviations,
    }
}
