//! Hand-written differential cases for the array, set, object, rounding,
//! power and variable-binding expression operators.
//!
//! Most cases evaluate one expression on one document
//! (`{$match: {_id}}` then `{$project: {_id: 0, r: <expr>}}`), so an error
//! is the case's own and not another document's; `over` runs one
//! expression on several documents to cover null, missing and wrong types.

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

/// A value taken literally (arrays and strings with `$` stay as they are).
fn lit(value: Bson) -> Bson {
    bson!({ "$literal": value })
}

/// `expr` evaluated on the document `id`, under `r`.
fn on(id: &str, expr: Bson) -> Case {
    agg(vec![
        doc! { "$match": { "_id": id } },
        doc! { "$project": { "_id": 0, "r": expr } },
    ])
}

/// `expr` evaluated on each of the documents `ids`.
fn over(ids: &[&str], expr: Bson) -> Case {
    agg(vec![
        doc! { "$match": { "_id": { "$in": ids.to_vec() } } },
        doc! { "$project": { "r": expr } },
    ])
}

/// The suite's deviations: the answer the manual gives for `case`.
fn deviation(
    case: Case,
    manual: &'static str,
    reason: &'static str,
    expected: Expected,
) -> Deviation {
    Deviation {
        case,
        manual,
        reason,
        expected,
    }
}

pub fn suites() -> Vec<Suite> {
    vec![arrays(), arith(), objects(), vars()]
}

/// Arrays of every shape, for the array, set and accumulator operators.
fn array_docs() -> Vec<Document> {
    vec![
        with_id(
            "x1",
            doc! {
                "a": [1, 2, 3],
                "b": [3, 4, 1.0],
                "e": [],
                "n": null,
                "s": "str",
                "i": 7,
                "l": 8_i64,
                "d": 2.5,
                "z": dec("1.5"),
                "nested": [[1, 2], [3], []],
                "docs": [{ "k": "x", "v": 1 }, { "k": "y", "v": [2] }],
                "o": { "x": 1, "y": { "z": 2 } },
                "mixed": [3, "a", 1.5, null, [0], { "p": 1 }, true, 2_i64, dec("2.5")],
                "falsy": [true, 0],
                "truthy": [1, "", [], f64::NAN],
                "dups": [2, 1, 2.0, 1_i64, dec("1"), "1"],
            },
        ),
        with_id("x2", doc! { "a": [], "b": [5] }),
        with_id("x3", doc! { "a": null, "b": null }),
        with_id("x4", doc! { "b": [1] }),
        with_id("x5", doc! { "a": [[1, 2], [3]], "b": [null, 2.5] }),
    ]
}

/// Documents where `a` and `b` are arrays, null or missing.
const ARRAYISH: &[&str] = &["x1", "x2", "x3", "x4", "x5"];

fn arrays() -> Suite {
    let mut cases = Vec::new();
    let x = |expr: Bson| on("x1", expr);
    // $arrayElemAt, $first, $last.
    cases.extend([
        x(bson!({ "$arrayElemAt": ["$a", 0] })),
        x(bson!({ "$arrayElemAt": ["$a", -1] })),
        x(bson!({ "$arrayElemAt": ["$a", 2.0] })),
        x(bson!({ "$arrayElemAt": ["$a", dec("1")] })),
        x(bson!({ "$arrayElemAt": ["$a", 1_i64] })),
        x(bson!({ "$arrayElemAt": ["$a", 3] })),
        x(bson!({ "$arrayElemAt": ["$a", -4] })),
        x(bson!({ "$arrayElemAt": ["$nested", 0] })),
        x(bson!({ "$arrayElemAt": ["$n", 0] })),
        x(bson!({ "$arrayElemAt": ["$nope", 0] })),
        x(bson!({ "$arrayElemAt": ["$a", null] })),
        x(bson!({ "$arrayElemAt": ["$a", "$nope"] })),
        x(bson!({ "$arrayElemAt": ["$s", 0] })),
        x(bson!({ "$arrayElemAt": ["$a", "1"] })),
        x(bson!({ "$arrayElemAt": ["$a", 1.5] })),
        x(bson!({ "$arrayElemAt": ["$a", 4_294_967_296_i64] })),
        x(bson!({ "$arrayElemAt": ["$a", f64::NAN] })),
        x(bson!({ "$arrayElemAt": ["$a"] })),
        over(ARRAYISH, bson!({ "$arrayElemAt": ["$a", 0] })),
        over(ARRAYISH, bson!({ "$arrayElemAt": ["$a", -1] })),
        x(bson!({ "$first": "$a" })),
        x(bson!({ "$last": "$a" })),
        x(bson!({ "$first": "$nested" })),
        x(bson!({ "$last": "$nested" })),
        x(bson!({ "$first": [[[1], 2]] })),
        x(bson!({ "$first": "$n" })),
        x(bson!({ "$last": "$nope" })),
        x(bson!({ "$first": "$s" })),
        x(bson!({ "$last": "$o" })),
        x(bson!({ "$first": [1, 2] })),
        over(&["x1", "x3", "x4", "x5"], bson!({ "$first": "$a" })),
        over(&["x1", "x3", "x4", "x5"], bson!({ "$last": "$a" })),
    ]);
    // $slice.
    cases.extend([
        x(bson!({ "$slice": ["$a", 2] })),
        x(bson!({ "$slice": ["$a", -2] })),
        x(bson!({ "$slice": ["$a", -10] })),
        x(bson!({ "$slice": ["$a", 10] })),
        x(bson!({ "$slice": ["$a", 0] })),
        x(bson!({ "$slice": ["$a", 1, 1] })),
        x(bson!({ "$slice": ["$a", 1, 10] })),
        x(bson!({ "$slice": ["$a", -2, 1] })),
        x(bson!({ "$slice": ["$a", -10, 2] })),
        x(bson!({ "$slice": ["$a", 10, 2] })),
        x(bson!({ "$slice": ["$a", 1_i64, 2.0] })),
        x(bson!({ "$slice": ["$mixed", 4, dec("3")] })),
        x(bson!({ "$slice": ["$n", 1] })),
        x(bson!({ "$slice": ["$nope", 1] })),
        x(bson!({ "$slice": ["$a", null] })),
        x(bson!({ "$slice": ["$a", 1, null] })),
        x(bson!({ "$slice": ["$a", 1, 0] })),
        x(bson!({ "$slice": ["$a", 1, -1] })),
        x(bson!({ "$slice": ["$s", 1] })),
        x(bson!({ "$slice": ["$a", 0.5] })),
        x(bson!({ "$slice": ["$a"] })),
        over(ARRAYISH, bson!({ "$slice": ["$a", -1] })),
    ]);
    // $in and $indexOfArray.
    cases.extend([
        x(bson!({ "$in": [2.0, "$a"] })),
        x(bson!({ "$in": [dec("3"), "$a"] })),
        x(bson!({ "$in": [2_i64, "$a"] })),
        x(bson!({ "$in": [4, "$a"] })),
        x(bson!({ "$in": [null, "$mixed"] })),
        x(bson!({ "$in": [[0], "$mixed"] })),
        x(bson!({ "$in": [{ "p": 1 }, "$mixed"] })),
        x(bson!({ "$in": [f64::NAN, [f64::NAN]] })),
        x(bson!({ "$in": ["a", "$s"] })),
        x(bson!({ "$in": [1, "$nope"] })),
        x(bson!({ "$in": [1, null] })),
        x(bson!({ "$in": [1] })),
        over(&["x1", "x2", "x5"], bson!({ "$in": [3, "$a"] })),
        x(bson!({ "$indexOfArray": ["$a", 2] })),
        x(bson!({ "$indexOfArray": ["$a", 2.0] })),
        x(bson!({ "$indexOfArray": ["$a", 9] })),
        x(bson!({ "$indexOfArray": ["$mixed", dec("2.5")] })),
        x(bson!({ "$indexOfArray": ["$mixed", null] })),
        x(bson!({ "$indexOfArray": ["$dups", 1] })),
        x(bson!({ "$indexOfArray": ["$dups", 2, 1] })),
        x(bson!({ "$indexOfArray": ["$dups", 2, 1, 2] })),
        x(bson!({ "$indexOfArray": ["$dups", 1, 2, 100] })),
        x(bson!({ "$indexOfArray": ["$dups", 1, 10] })),
        x(bson!({ "$indexOfArray": ["$dups", 1, 3, 1] })),
        x(bson!({ "$indexOfArray": ["$dups", 1, 1.0, 4_i64] })),
        x(bson!({ "$indexOfArray": ["$n", 1] })),
        x(bson!({ "$indexOfArray": ["$nope", 1] })),
        x(bson!({ "$indexOfArray": ["$s", 1] })),
        x(bson!({ "$indexOfArray": ["$a", 1, -1] })),
        x(bson!({ "$indexOfArray": ["$a", 1, 0.5] })),
        x(bson!({ "$indexOfArray": ["$a", 1, 0, -1] })),
        x(bson!({ "$indexOfArray": ["$a", 1, null] })),
        x(bson!({ "$indexOfArray": ["$a"] })),
    ]);
    // $concatArrays, $range, $reverseArray.
    cases.extend([
        x(bson!({ "$concatArrays": ["$a", "$b"] })),
        x(bson!({ "$concatArrays": ["$a", [[4]], "$e", "$nested"] })),
        x(bson!({ "$concatArrays": [] })),
        x(bson!({ "$concatArrays": ["$a"] })),
        x(bson!({ "$concatArrays": ["$a", "$n"] })),
        x(bson!({ "$concatArrays": ["$nope", "$a"] })),
        x(bson!({ "$concatArrays": ["$s", "$a"] })),
        x(bson!({ "$concatArrays": ["$a", 1] })),
        over(ARRAYISH, bson!({ "$concatArrays": ["$a", "$b"] })),
        x(bson!({ "$range": [0, 5] })),
        x(bson!({ "$range": [0, 10, 3] })),
        x(bson!({ "$range": [5, 0, -2] })),
        x(bson!({ "$range": [0, 5, -1] })),
        x(bson!({ "$range": [3, 3] })),
        x(bson!({ "$range": [-3, 3, 2] })),
        x(bson!({ "$range": ["$i", 10] })),
        x(bson!({ "$range": [1_i64, 4] })),
        x(bson!({ "$range": [0.0, 3, 1.0] })),
        x(bson!({ "$range": [dec("1"), 3] })),
        x(bson!({ "$range": [0, 5, 0] })),
        x(bson!({ "$range": [0.5, 2] })),
        x(bson!({ "$range": [0, 2.5] })),
        x(bson!({ "$range": ["a", 2] })),
        x(bson!({ "$range": [null, 2] })),
        x(bson!({ "$range": [0, "$nope"] })),
        x(bson!({ "$range": [0, 2_147_483_648_i64] })),
        x(bson!({ "$range": [0, 3, "1"] })),
        x(bson!({ "$range": [0] })),
        x(bson!({ "$reverseArray": "$a" })),
        x(bson!({ "$reverseArray": "$e" })),
        x(bson!({ "$reverseArray": "$nested" })),
        x(bson!({ "$reverseArray": "$n" })),
        x(bson!({ "$reverseArray": "$nope" })),
        x(bson!({ "$reverseArray": "$s" })),
        x(bson!({ "$reverseArray": [[1, [2, 3]]] })),
        over(ARRAYISH, bson!({ "$reverseArray": "$a" })),
    ]);
    // Sets.
    cases.extend([
        x(bson!({ "$setUnion": ["$a", "$b"] })),
        x(bson!({ "$setUnion": ["$mixed", "$a"] })),
        x(bson!({ "$setUnion": ["$dups"] })),
        x(bson!({ "$setUnion": [] })),
        x(bson!({ "$setUnion": ["$a", "$n"] })),
        x(bson!({ "$setUnion": ["$nope", "$s"] })),
        x(bson!({ "$setUnion": ["$s", "$nope"] })),
        x(bson!({ "$setUnion": [[f64::NAN, 1], [f64::NAN]] })),
        over(ARRAYISH, bson!({ "$setUnion": ["$a", "$b"] })),
        x(bson!({ "$setIntersection": ["$a", "$b"] })),
        x(bson!({ "$setIntersection": [[2], [1, 2.0, 3]] })),
        x(bson!({ "$setIntersection": ["$dups", "$mixed"] })),
        x(bson!({ "$setIntersection": ["$a"] })),
        x(bson!({ "$setIntersection": [] })),
        x(bson!({ "$setIntersection": ["$a", "$e", "$b"] })),
        x(bson!({ "$setIntersection": ["$a", null] })),
        x(bson!({ "$setIntersection": ["$a", "$s"] })),
        over(ARRAYISH, bson!({ "$setIntersection": ["$a", "$b"] })),
        x(bson!({ "$setDifference": ["$b", "$a"] })),
        x(bson!({ "$setDifference": ["$dups", [2]] })),
        x(bson!({ "$setDifference": ["$mixed", "$a"] })),
        x(bson!({ "$setDifference": ["$a", []] })),
        x(bson!({ "$setDifference": ["$a", "$n"] })),
        x(bson!({ "$setDifference": ["$nope", "$a"] })),
        x(bson!({ "$setDifference": ["$a", "$s"] })),
        x(bson!({ "$setDifference": ["$s", "$a"] })),
        x(bson!({ "$setDifference": ["$a"] })),
        over(ARRAYISH, bson!({ "$setDifference": ["$a", "$b"] })),
        x(bson!({ "$setEquals": ["$a", [3, 2, 1, 1.0]] })),
        x(bson!({ "$setEquals": ["$a", "$b"] })),
        x(bson!({ "$setEquals": ["$e", []] })),
        x(bson!({ "$setEquals": [[1, 2], [2, 1], [1.0, 2_i64]] })),
        x(bson!({ "$setEquals": [[1, 2], [2, 1], [1]] })),
        x(bson!({ "$setEquals": ["$a", "$n"] })),
        x(bson!({ "$setEquals": ["$a", "$nope"] })),
        x(bson!({ "$setEquals": ["$a"] })),
        x(bson!({ "$setIsSubset": [[1, 1.0], "$a"] })),
        x(bson!({ "$setIsSubset": ["$a", [1]] })),
        x(bson!({ "$setIsSubset": ["$e", "$e"] })),
        x(bson!({ "$setIsSubset": ["$dups", "$mixed"] })),
        x(bson!({ "$setIsSubset": ["$n", "$a"] })),
        x(bson!({ "$setIsSubset": ["$a", "$nope"] })),
        x(bson!({ "$allElementsTrue": "$a" })),
        x(bson!({ "$allElementsTrue": "$falsy" })),
        x(bson!({ "$allElementsTrue": "$truthy" })),
        x(bson!({ "$allElementsTrue": [[]] })),
        x(bson!({ "$allElementsTrue": [[null]] })),
        x(bson!({ "$allElementsTrue": "$nope" })),
        x(bson!({ "$allElementsTrue": "$s" })),
        x(bson!({ "$anyElementTrue": "$falsy" })),
        x(bson!({ "$anyElementTrue": [[null, false, 0, 0.0, dec("0")]] })),
        x(bson!({ "$anyElementTrue": "$e" })),
        x(bson!({ "$anyElementTrue": "$n" })),
        x(bson!({ "$anyElementTrue": [1, 2] })),
    ]);
    // $objectToArray, $arrayToObject.
    cases.extend([
        x(bson!({ "$objectToArray": "$o" })),
        x(bson!({ "$objectToArray": "$o.y" })),
        x(bson!({ "$objectToArray": lit(bson!({})) })),
        x(bson!({ "$objectToArray": "$n" })),
        x(bson!({ "$objectToArray": "$nope" })),
        x(bson!({ "$objectToArray": "$a" })),
        x(bson!({ "$arrayToObject": "$docs" })),
        x(bson!({ "$arrayToObject": lit(bson!([["a", 1], ["b", 2], ["a", 3]])) })),
        x(bson!({ "$arrayToObject": [[["k", "$a"]]] })),
        x(bson!({ "$arrayToObject": { "$objectToArray": "$o" } })),
        x(bson!({ "$arrayToObject": "$e" })),
        x(bson!({ "$arrayToObject": "$n" })),
        x(bson!({ "$arrayToObject": "$nope" })),
        x(bson!({ "$arrayToObject": "$s" })),
        x(bson!({ "$arrayToObject": "$a" })),
        x(bson!({ "$arrayToObject": lit(bson!([["a", 1, 2]])) })),
        x(bson!({ "$arrayToObject": lit(bson!([{ "k": "a" }])) })),
        x(bson!({ "$arrayToObject": lit(bson!([{ "k": "a", "w": 1 }])) })),
    ]);
    // $zip.
    cases.extend([
        x(bson!({ "$zip": { "inputs": ["$a", "$b"] } })),
        x(bson!({ "$zip": { "inputs": ["$a", "$nested"] } })),
        x(bson!({ "$zip": { "inputs": ["$a", ["x"]], "useLongestLength": true } })),
        x(bson!({ "$zip": { "inputs": ["$a", ["x"]], "useLongestLength": false } })),
        x(bson!({ "$zip": { "inputs": ["$a", ["x"]], "useLongestLength": true, "defaults": [0, "z"] } })),
        x(bson!({ "$zip": { "inputs": ["$a", "$e"], "useLongestLength": true, "defaults": [[1], { "q": 1 }] } })),
        x(bson!({ "$zip": { "inputs": ["$a"] } })),
        x(bson!({ "$zip": { "inputs": ["$a", "$s"] } })),
        x(bson!({ "$zip": { "inputs": [] } })),
        x(bson!({ "$zip": { "inputs": "$a" } })),
        x(bson!({ "$zip": { "inputs": ["$a"], "other": 1 } })),
        x(bson!({ "$zip": ["$a"] })),
    ]);
    // $sortArray.
    cases.extend([
        x(bson!({ "$sortArray": { "input": "$a", "sortBy": -1 } })),
        x(bson!({ "$sortArray": { "input": "$nested", "sortBy": 1 } })),
        x(bson!({ "$sortArray": { "input": "$docs", "sortBy": { "k": -1 } } })),
        x(bson!({ "$sortArray": { "input": lit(bson!([{ "a": 2, "b": 1 }, { "a": 1, "b": 2 }, { "a": 2, "b": 0 }])), "sortBy": { "a": -1, "b": 1 } } })),
        x(bson!({ "$sortArray": { "input": lit(bson!([{ "p": { "q": 3 } }, { "p": { "q": 1 } }])), "sortBy": { "p.q": 1 } } })),
        x(bson!({ "$sortArray": { "input": "$e", "sortBy": 1 } })),
        x(bson!({ "$sortArray": { "input": "$n", "sortBy": 1 } })),
        x(bson!({ "$sortArray": { "input": "$nope", "sortBy": 1 } })),
        x(bson!({ "$sortArray": { "input": "$s", "sortBy": 1 } })),
        x(bson!({ "$sortArray": { "input": "$a", "sortBy": "a" } })),
        x(bson!({ "$sortArray": { "input": "$a" } })),
        x(bson!({ "$sortArray": { "sortBy": 1 } })),
        x(bson!({ "$sortArray": { "input": "$a", "sortBy": 1, "x": 1 } })),
        x(bson!({ "$sortArray": "$a" })),
    ]);
    // $sum, $avg, $min, $max as expressions.
    cases.extend([
        x(bson!({ "$sum": "$a" })),
        x(bson!({ "$sum": ["$i", "$l"] })),
        x(bson!({ "$sum": ["$i", "$l", "$d"] })),
        x(bson!({ "$sum": ["$i", "$z"] })),
        x(bson!({ "$sum": [2_147_483_647, 1] })),
        x(bson!({ "$sum": "$nope" })),
        x(bson!({ "$sum": "$s" })),
        x(bson!({ "$sum": [] })),
        x(bson!({ "$sum": "$nested" })),
        x(bson!({ "$sum": ["$a", 10] })),
        x(bson!({ "$sum": 5 })),
        x(bson!({ "$avg": "$a" })),
        x(bson!({ "$avg": ["$i", "$l"] })),
        x(bson!({ "$avg": ["$i", "$z"] })),
        x(bson!({ "$avg": "$e" })),
        x(bson!({ "$avg": "$nope" })),
        x(bson!({ "$avg": ["a", null] })),
        x(bson!({ "$min": "$a" })),
        x(bson!({ "$min": "$mixed" })),
        x(bson!({ "$max": "$mixed" })),
        x(bson!({ "$max": "$nested" })),
        x(bson!({ "$max": ["$a", 10] })),
        x(bson!({ "$min": ["$n", "$nope"] })),
        x(bson!({ "$max": "$e" })),
        x(bson!({ "$min": [1, f64::NAN] })),
        x(bson!({ "$max": ["$s", "$i", "$o"] })),
        x(bson!({ "$min": 5 })),
        over(ARRAYISH, bson!({ "$sum": "$a" })),
        over(ARRAYISH, bson!({ "$avg": "$a" })),
        over(ARRAYISH, bson!({ "$max": "$b" })),
        over(ARRAYISH, bson!({ "$min": "$b" })),
    ]);
    // The accumulators as array expressions: $firstN & co over an array
    // (anything else is refused), $median/$percentile over an array or a
    // number.
    for expr in [
        bson!({ "$firstN": { "n": 2, "input": "$mixed" } }),
        bson!({ "$lastN": { "n": 3, "input": "$mixed" } }),
        bson!({ "$minN": { "n": 3, "input": "$mixed" } }),
        bson!({ "$maxN": { "n": 2, "input": "$a" } }),
        bson!({ "$firstN": { "n": 10, "input": "$e" } }),
        bson!({ "$lastN": { "n": "$i", "input": "$a" } }),
        bson!({ "$minN": { "n": 2.0, "input": "$b" } }),
        bson!({ "$firstN": { "n": 1, "input": "$s" } }),
        bson!({ "$firstN": { "n": 0, "input": "$a" } }),
        bson!({ "$maxN": { "n": "$s", "input": "$a" } }),
        bson!({ "$minN": { "input": "$a" } }),
        bson!({ "$lastN": { "n": 1, "input": "$a", "x": 1 } }),
        bson!({ "$median": { "input": "$mixed", "method": "approximate" } }),
        bson!({ "$median": { "input": "$d", "method": "approximate" } }),
        bson!({ "$median": { "input": "$s", "method": "approximate" } }),
        bson!({ "$median": { "input": "$e", "method": "approximate" } }),
        bson!({ "$percentile": { "input": "$b", "p": [0, 0.5, 1], "method": "approximate" } }),
        bson!({ "$percentile": { "input": ["$i", "$l", "$d", "$z"], "p": [0.25, 0.75], "method": "approximate" } }),
        bson!({ "$percentile": { "input": "$l", "p": [0.1], "method": "approximate" } }),
        bson!({ "$percentile": { "input": "$a", "p": [1.5], "method": "approximate" } }),
        bson!({ "$median": { "input": "$a" } }),
        bson!({ "$map": { "input": "$nested", "in": { "$maxN": { "n": 1, "input": "$$this" } } } }),
    ] {
        cases.push(x(expr));
    }
    for expr in [
        bson!({ "$firstN": { "n": 1, "input": { "$ifNull": ["$a", []] } } }),
        bson!({ "$median": { "input": "$a", "method": "approximate" } }),
        bson!({ "$percentile": { "input": "$b", "p": [0.5, 0.9], "method": "approximate" } }),
    ] {
        cases.push(over(ARRAYISH, expr));
    }
    let deviations = vec![
        deviation(
            on("x1", bson!({ "$arrayElemAt": ["$docs.v", 1] })),
            "Field paths: \"$docs.v\" on an array of documents is the array of their v values",
            "the server gives null for a field path through an array",
            Expected::Docs(vec![doc! { "r": [2] }]),
        ),
        deviation(
            on("x1", bson!({ "$slice": ["$a", "1"] })),
            "$slice: \"<n> Any valid expression as long as it resolves to an integer.\"",
            "the server returns null for a string count",
            Expected::Error,
        ),
        deviation(
            on("x1", bson!({ "$slice": ["$a", 0, "1"] })),
            "$slice: \"<n> Any valid expression as long as it resolves to an integer.\"",
            "the server returns null for a string count",
            Expected::Error,
        ),
        deviation(
            on("x1", bson!({ "$arrayToObject": lit(bson!([["a", 1], { "k": "b", "v": 2 }])) })),
            "$arrayToObject: \"the array must be either: An array of two-element arrays ... - OR - An array of documents that contains two fields, k and v\"",
            "the server accepts a mix of the two forms",
            Expected::Error,
        ),
        deviation(
            on("x1", bson!({ "$arrayToObject": lit(bson!([{ "k": "b", "v": 2 }, ["a", 1]])) })),
            "$arrayToObject: \"the array must be either: An array of two-element arrays ... - OR - An array of documents that contains two fields, k and v\"",
            "the server accepts a mix of the two forms",
            Expected::Error,
        ),
        deviation(
            on("x1", bson!({ "$zip": { "inputs": ["$a", "$n"] } })),
            "$zip: \"If any of the inputs arrays resolves to a value of null or refers to a missing field, $zip returns null.\"",
            "the server refuses a null input",
            Expected::Docs(vec![doc! { "r": null }]),
        ),
        deviation(
            on("x1", bson!({ "$zip": { "inputs": ["$nope", "$s"] } })),
            "$zip: \"If any of the inputs arrays resolves to a value of null or refers to a missing field, $zip returns null.\" (the inputs are evaluated in order)",
            "the server refuses a missing input",
            Expected::Docs(vec![doc! { "r": null }]),
        ),
        deviation(
            on("x1", bson!({ "$zip": { "inputs": ["$a"], "defaults": [1] } })),
            "$zip: defaults \"You must specify useLongestLength: true along with this field, or else $zip will return an error.\"",
            "the server ignores the defaults",
            Expected::Error,
        ),
        deviation(
            on("x1", bson!({ "$zip": { "inputs": ["$a"], "useLongestLength": true, "defaults": [1, 2] } })),
            "$zip: \"If specifying a non-empty defaults, you must specify a default for each input array or else $zip will return an error.\"",
            "the server ignores the extra default",
            Expected::Error,
        ),
        deviation(
            on("x1", bson!({ "$zip": { "inputs": ["$a"], "useLongestLength": 1 } })),
            "$zip: \"useLongestLength: A boolean\"",
            "the server accepts a number",
            Expected::Error,
        ),
        deviation(
            on("x1", bson!({ "$sortArray": { "input": "$mixed", "sortBy": 1 } })),
            "$sortArray: \"When sorting the whole array, the sort is lexicographic\" in the BSON comparison order (null < numbers < strings < objects < arrays < booleans)",
            "the server fails on values of different types",
            Expected::Docs(vec![doc! { "r": [null, 1.5, 2_i64, dec("2.5"), 3, "a", { "p": 1 }, [0], true] }]),
        ),
        deviation(
            on("x1", bson!({ "$sortArray": { "input": "$mixed", "sortBy": -1 } })),
            "$sortArray: \"When sorting the whole array, the sort is lexicographic\" in the BSON comparison order (null < numbers < strings < objects < arrays < booleans)",
            "the server fails on values of different types",
            Expected::Docs(vec![doc! { "r": [true, [0], { "p": 1 }, "a", 3, dec("2.5"), 2_i64, 1.5, null] }]),
        ),
        deviation(
            on("x1", bson!({ "$sortArray": { "input": "$a", "sortBy": 2 } })),
            "$sortArray: sortBy \"Its possible values are 1, -1, or a document.\"",
            "the server accepts 2",
            Expected::Error,
        ),
        deviation(
            on("x1", bson!({ "$sortArray": { "input": "$a", "sortBy": { "k": 0 } } })),
            "$sortArray: \"sort ordering refers to field-direction pairs ... where 1 indicates ascending order and -1 indicates descending order\"",
            "the server accepts 0",
            Expected::Error,
        ),
        deviation(
            on("x1", bson!({ "$first": "$e" })),
            "$first (array operator): \"If the operand resolves to an empty array [], $first does not return a value.\"",
            "the server returns null for an empty array",
            Expected::Docs(vec![doc! {}]),
        ),
        deviation(
            on("x1", bson!({ "$last": "$e" })),
            "$last (array operator): \"If the operand resolves to an empty array [], $last does not return a value.\"",
            "the server returns null for an empty array",
            Expected::Docs(vec![doc! {}]),
        ),
        deviation(
            on("x1", bson!({ "$sortArray": { "input": lit(bson!([{ "v": [0, 5] }, { "v": [2, 1] }])), "sortBy": { "v.1": 1 } } })),
            "$sortArray: \"Positional operators are not supported. A field name like \\\"values.1\\\" denotes a sub-field called \\\"1\\\" in the values array.\"",
            "the server sorts by the element at index 1",
            Expected::Docs(vec![doc! { "r": [{ "v": [0, 5] }, { "v": [2, 1] }] }]),
        ),
        deviation(
            on("x1", bson!({ "$sortArray": { "input": lit(bson!([{ "a": 2 }, 3, { "a": 1 }])), "sortBy": { "a": 1 } } })),
            "$sortArray: \"When sorting by a field, documents and scalars that do not have the specified field are sorted equally.\"; null and missing sort first",
            "the server sorts scalars after the documents that have the field",
            Expected::Docs(vec![doc! { "r": [3, { "a": 1 }, { "a": 2 }] }]),
        ),
    ];
    Suite {
        name: "exprs_array",
        docs: array_docs(),
        cases,
        deviations,
    }
}

/// Numbers of every type, for the rounding and power operators.
fn arith_docs() -> Vec<Document> {
    vec![
        with_id(
            "n1",
            doc! {
                "i": 7,
                "l": 8_i64,
                "d": 2.5,
                "neg": -2.5,
                "z": dec("1.5"),
                "nz": dec("-0.4"),
                "nan": f64::NAN,
                "inf": f64::INFINITY,
                "big": i64::MAX,
                "minint": i32::MIN,
                "s": "str",
                "n": null,
            },
        ),
        with_id("n2", doc! { "v": 1.25 }),
        with_id("n3", doc! { "v": -3 }),
        with_id("n4", doc! { "v": 4_i64 }),
        with_id("n5", doc! { "v": dec("-7.55") }),
        with_id("n6", doc! { "v": null }),
        with_id("n7", doc! { "v": f64::NAN }),
        with_id("n8", doc! {}),
        with_id("n9", doc! { "v": 0.5 }),
    ]
}

/// Documents whose `v` is a number of each type, null, NaN or missing.
const NUMBERS: &[&str] = &["n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9"];
/// The same without the decimal (for operators with decimal results).
const NON_DECIMAL: &[&str] = &["n2", "n3", "n4", "n6", "n7", "n8", "n9"];

fn arith() -> Suite {
    let mut cases = Vec::new();
    let x = |expr: Bson| on("n1", expr);
    // $ceil, $floor.
    for op in ["$ceil", "$floor"] {
        cases.extend([
            over(NUMBERS, bson!({ op: "$v" })),
            x(bson!({ op: 1.2 })),
            x(bson!({ op: -1.2 })),
            x(bson!({ op: -0.5 })),
            x(bson!({ op: 0.5 })),
            x(bson!({ op: "$i" })),
            x(bson!({ op: "$l" })),
            x(bson!({ op: "$neg" })),
            x(bson!({ op: "$inf" })),
            x(bson!({ op: "$nan" })),
            x(bson!({ op: "$z" })),
            x(bson!({ op: "$nz" })),
            x(bson!({ op: dec("5E+3") })),
            x(bson!({ op: dec("-1.01") })),
            x(bson!({ op: dec("0.0001") })),
            x(bson!({ op: dec("1E+40") })),
            x(bson!({ op: 1e300 })),
            x(bson!({ op: "$n" })),
            x(bson!({ op: "$nope" })),
            x(bson!({ op: "$s" })),
            x(bson!({ op: [1, 2] })),
        ]);
    }
    // $round, $trunc.
    for op in ["$round", "$trunc"] {
        cases.extend([
            over(NUMBERS, bson!({ op: "$v" })),
            over(NUMBERS, bson!({ op: ["$v", 1] })),
            over(NUMBERS, bson!({ op: ["$v", -1] })),
            x(bson!({ op: 2.5 })),
            x(bson!({ op: 3.5 })),
            x(bson!({ op: -2.5 })),
            x(bson!({ op: -0.4 })),
            x(bson!({ op: [1234.5678, 2] })),
            x(bson!({ op: [1234.5678, -2] })),
            x(bson!({ op: [1234.5678, -4] })),
            x(bson!({ op: [1234.5678, -5] })),
            x(bson!({ op: [2.675, 2] })),
            x(bson!({ op: [1.005, 2] })),
            x(bson!({ op: [0.125, 2] })),
            x(bson!({ op: [-0.125, 2] })),
            x(bson!({ op: [19.25, 1] })),
            x(bson!({ op: [1e300, 2] })),
            x(bson!({ op: [1e-300, 20] })),
            x(bson!({ op: [25, -1] })),
            x(bson!({ op: [35, -1] })),
            x(bson!({ op: [-25, -1] })),
            x(bson!({ op: ["$i", 3] })),
            x(bson!({ op: ["$l", -1] })),
            x(bson!({ op: [2_147_483_647, -1] })),
            x(bson!({ op: [1_234_567_i64, -20] })),
            x(bson!({ op: ["$big", -1] })),
            x(bson!({ op: ["$big", -2] })),
            x(bson!({ op: [dec("2.5"), 0] })),
            x(bson!({ op: [dec("1.5"), 2] })),
            x(bson!({ op: [dec("1234.5678"), -2] })),
            x(bson!({ op: [dec("-0.4"), 0] })),
            x(bson!({ op: [dec("-1.99"), 1] })),
            x(bson!({ op: [dec("0.5"), 0] })),
            x(bson!({ op: [dec("1.5"), 100] })),
            x(bson!({ op: [dec("1E+40"), 0] })),
            x(bson!({ op: ["$nan", 1] })),
            x(bson!({ op: ["$inf", 1] })),
            x(bson!({ op: [f64::NEG_INFINITY, -2] })),
            x(bson!({ op: ["$d", 1.0] })),
            x(bson!({ op: ["$d", 1_i64] })),
            x(bson!({ op: ["$d", dec("1")] })),
            x(bson!({ op: ["$d", null] })),
            x(bson!({ op: ["$d", "$nope"] })),
            x(bson!({ op: [null, "bad"] })),
            x(bson!({ op: ["$d", 101] })),
            x(bson!({ op: ["$d", -21] })),
            x(bson!({ op: ["$d", 100] })),
            x(bson!({ op: ["$d", -20] })),
            x(bson!({ op: ["$d", 1.5] })),
            x(bson!({ op: ["$d", "1"] })),
            x(bson!({ op: ["$s", 1] })),
            x(bson!({ op: [1, 2, 3] })),
            x(bson!({ op: [] })),
        ]);
    }
    // $sqrt, $exp, $ln, $log10.
    for op in ["$sqrt", "$exp", "$ln", "$log10"] {
        cases.extend([
            over(NON_DECIMAL, bson!({ op: "$v" })),
            x(bson!({ op: "$i" })),
            x(bson!({ op: "$l" })),
            x(bson!({ op: "$d" })),
            x(bson!({ op: "$big" })),
            x(bson!({ op: "$inf" })),
            x(bson!({ op: "$nan" })),
            x(bson!({ op: 1 })),
            x(bson!({ op: 100 })),
            x(bson!({ op: 0 })),
            x(bson!({ op: -1 })),
            x(bson!({ op: -0.0 })),
            x(bson!({ op: "$n" })),
            x(bson!({ op: "$nope" })),
            x(bson!({ op: "$s" })),
            x(bson!({ op: [1, 2] })),
        ]);
    }
    // Decimal results, rounded to 34 digits.
    for value in [
        "2",
        "4",
        "4.00",
        "1E+2",
        "0.04",
        "2E-7",
        "1.5",
        "0",
        "-0",
        "Infinity",
        "NaN",
        "123456789012345678901234567890.1234",
        "1E-6000",
    ] {
        cases.push(x(bson!({ "$sqrt": dec(value) })));
    }
    for value in [
        "0",
        "0.00",
        "1",
        "-1",
        "2.5",
        "100",
        "1E-20",
        "-7.55",
        "20000",
        "-20000",
        "NaN",
        "Infinity",
        "-Infinity",
        "14000",
        "-14000",
    ] {
        cases.push(x(bson!({ "$exp": dec(value) })));
    }
    for value in [
        "1",
        "1.0",
        "10",
        "0.5",
        "2.5",
        "1E+100",
        "1E-100",
        "123456.789",
        "Infinity",
        "NaN",
        "9.999999999999999999999999999999999E+6144",
    ] {
        cases.push(x(bson!({ "$ln": dec(value) })));
        cases.push(x(bson!({ "$log10": dec(value) })));
    }
    cases.extend([
        x(bson!({ "$log10": dec("100") })),
        x(bson!({ "$log10": dec("0.001") })),
        x(bson!({ "$log10": dec("1.000") })),
        x(bson!({ "$log10": dec("1E+10") })),
        x(bson!({ "$ln": dec("0") })),
        x(bson!({ "$ln": dec("-1") })),
        x(bson!({ "$log10": dec("-Infinity") })),
        x(bson!({ "$log": [dec("8"), 2] })),
        x(bson!({ "$log": [2, dec("8")] })),
        x(bson!({ "$log": [dec("1000"), 10] })),
        x(bson!({ "$log": [dec("10"), 2.5] })),
        x(bson!({ "$log": [dec("5"), dec("0.5")] })),
        x(bson!({ "$log": ["$z", "$i"] })),
        x(bson!({ "$log": [dec("0"), 10] })),
        x(bson!({ "$log": [dec("10"), dec("1")] })),
        x(bson!({ "$log": [dec("10"), dec("-2")] })),
        x(bson!({ "$pow": [dec("3"), 2] })),
        x(bson!({ "$pow": [dec("2"), -1] })),
        x(bson!({ "$pow": [dec("2"), -2] })),
        x(bson!({ "$pow": [dec("10"), -2] })),
        x(bson!({ "$pow": [dec("2"), 200] })),
        x(bson!({ "$pow": [dec("1.1"), 100] })),
        x(bson!({ "$pow": [dec("1.5"), dec("2.5")] })),
        x(bson!({ "$pow": [dec("4"), 0.5] })),
        x(bson!({ "$pow": [dec("1E+10"), 2] })),
        x(bson!({ "$pow": [dec("0.5"), 3] })),
        x(bson!({ "$pow": [dec("2"), 0] })),
        x(bson!({ "$pow": [dec("0"), 2] })),
        x(bson!({ "$pow": [dec("0"), 0.5] })),
        x(bson!({ "$pow": [dec("1"), 7] })),
        x(bson!({ "$pow": [2.5, dec("2")] })),
        x(bson!({ "$pow": [2, dec("10")] })),
        x(bson!({ "$pow": ["$z", "$d"] })),
        x(bson!({ "$pow": ["$i", "$z"] })),
        x(bson!({ "$pow": [dec("1E+5000"), 2] })),
        x(bson!({ "$pow": [dec("-8"), dec("0.5")] })),
        x(bson!({ "$pow": [dec("NaN"), 2] })),
    ]);
    cases.extend([
        x(bson!({ "$exp": 710 })),
        x(bson!({ "$exp": -1000 })),
        x(bson!({ "$sqrt": 1e-320 })),
        x(bson!({ "$ln": dec("0") })),
        x(bson!({ "$ln": dec("-1") })),
        x(bson!({ "$log10": dec("-0.5") })),
        x(bson!({ "$sqrt": dec("-1") })),
    ]);
    // $log, $pow.
    cases.extend([
        x(bson!({ "$log": [100, 10] })),
        x(bson!({ "$log": [8, 2_i64] })),
        x(bson!({ "$log": ["$d", 0.5] })),
        x(bson!({ "$log": ["$inf", 10] })),
        x(bson!({ "$log": ["$nan", 10] })),
        x(bson!({ "$log": [10, "$nan"] })),
        x(bson!({ "$log": [1, 10] })),
        x(bson!({ "$log": [null, 10] })),
        x(bson!({ "$log": [10, "$nope"] })),
        x(bson!({ "$log": ["$s", null] })),
        x(bson!({ "$log": [100, 1] })),
        x(bson!({ "$log": [100, 0] })),
        x(bson!({ "$log": [100, -2] })),
        x(bson!({ "$log": [0, 10] })),
        x(bson!({ "$log": [-1, 10] })),
        x(bson!({ "$log": ["a", 10] })),
        x(bson!({ "$log": [10, "a"] })),
        x(bson!({ "$log": [dec("-1"), 10] })),
        x(bson!({ "$log": [10] })),
        over(NON_DECIMAL, bson!({ "$log": [{ "$abs": "$v" }, 2] })),
        x(bson!({ "$pow": [2, 10] })),
        x(bson!({ "$pow": [2, 30] })),
        x(bson!({ "$pow": [2, 31] })),
        x(bson!({ "$pow": [-2, 31] })),
        x(bson!({ "$pow": [2, 62_i64] })),
        x(bson!({ "$pow": [2, 63] })),
        x(bson!({ "$pow": [-2, 63] })),
        x(bson!({ "$pow": [2, 64] })),
        x(bson!({ "$pow": [3_i64, 2] })),
        x(bson!({ "$pow": [10, 18] })),
        x(bson!({ "$pow": [10, 19] })),
        x(bson!({ "$pow": [5, -2] })),
        x(bson!({ "$pow": [-1, 1_000_001] })),
        x(bson!({ "$pow": [0, 0] })),
        x(bson!({ "$pow": [0_i64, 5] })),
        x(bson!({ "$pow": [-5, 0.5] })),
        x(bson!({ "$pow": [4, 0.5] })),
        x(bson!({ "$pow": ["$d", 2] })),
        x(bson!({ "$pow": [2, "$d"] })),
        x(bson!({ "$pow": ["$nan", 0] })),
        x(bson!({ "$pow": ["$inf", -1] })),
        x(bson!({ "$pow": [null, 2] })),
        x(bson!({ "$pow": [2, "$nope"] })),
        x(bson!({ "$pow": [0.0, -0.5] })),
        x(bson!({ "$pow": [0, -1] })),
        x(bson!({ "$pow": ["2", 2] })),
        x(bson!({ "$pow": [2, "2"] })),
        x(bson!({ "$pow": [2] })),
        over(NON_DECIMAL, bson!({ "$pow": ["$v", 3] })),
        over(NON_DECIMAL, bson!({ "$pow": [2, "$v"] })),
    ]);
    // Decimal zeros keep their sign as IEEE 754-2008 decimal128 says:
    // rounding keeps the operand's, a sum of opposite signs (rounding to
    // nearest) is +0, a product's or quotient's is the signs combined; and
    // sums too wide for 128 bits are rounded to 34 digits, not refused.
    for op in ["$round", "$trunc"] {
        cases.extend([
            x(bson!({ op: dec("-0") })),
            x(bson!({ op: [dec("-0"), 2] })),
            x(bson!({ op: [dec("-0.00"), -1] })),
            x(bson!({ op: [dec("-0E+5"), 0] })),
            x(bson!({ op: [dec("-0.04"), 1] })),
            x(bson!({ op: [dec("-0.5"), 0] })),
            x(bson!({ op: [dec("-0.0001"), 2] })),
            x(bson!({ op: [-0.0, 1] })),
        ]);
    }
    cases.extend([
        x(bson!({ "$abs": dec("-0") })),
        x(bson!({ "$abs": dec("-0.00") })),
        x(bson!({ "$abs": dec("-0E+3") })),
        x(bson!({ "$add": [dec("-0")] })),
        x(bson!({ "$add": [dec("-0"), dec("-0")] })),
        x(bson!({ "$add": [dec("-0"), dec("0")] })),
        x(bson!({ "$add": [dec("0"), dec("-0")] })),
        x(bson!({ "$add": [dec("-0.00"), dec("-0")] })),
        x(bson!({ "$add": [dec("-0"), 0] })),
        x(bson!({ "$add": [dec("1.0"), dec("-1")] })),
        x(bson!({ "$add": [dec("-1"), dec("1.00")] })),
        x(bson!({ "$add": [dec("-1"), 1] })),
        x(bson!({ "$subtract": [dec("-0"), dec("0")] })),
        x(bson!({ "$subtract": [dec("0"), dec("-0")] })),
        x(bson!({ "$subtract": [dec("-0"), dec("-0")] })),
        x(bson!({ "$subtract": [dec("-0"), 0.0] })),
        x(bson!({ "$subtract": [-0.0, dec("0")] })),
        x(bson!({ "$multiply": [dec("-0"), 5] })),
        x(bson!({ "$multiply": [dec("0"), -5] })),
        x(bson!({ "$multiply": [dec("-0"), dec("-2")] })),
        x(bson!({ "$divide": [dec("-0"), 4] })),
        x(bson!({ "$divide": [dec("0"), dec("-4")] })),
        x(bson!({ "$sum": [dec("-0"), dec("-0")] })),
        x(bson!({ "$sum": [dec("-0")] })),
        x(bson!({ "$toDecimal": -0.0 })),
        x(bson!({ "$toDecimal": 0.0 })),
        x(bson!({ "$convert": { "input": -0.0, "to": "decimal" } })),
        x(bson!({ "$toDecimal": dec("-0") })),
        x(bson!({ "$toDouble": dec("-0") })),
        x(bson!({ "$add": [dec("1E+40"), 1] })),
        x(bson!({ "$add": [1, dec("1E+40")] })),
        x(bson!({ "$add": [dec("1E+40"), dec("-1")] })),
        x(bson!({ "$add": [dec("-1E+40"), dec("0.5")] })),
        x(bson!({ "$add": [dec("1E+6000"), 1] })),
        x(bson!({ "$add": [dec("1E+6000"), dec("-1")] })),
        x(bson!({ "$add": [dec("0"), dec("1E+100")] })),
        x(bson!({ "$add": [dec("-0"), dec("1E+100")] })),
        x(bson!({ "$add": [dec("0E+100"), dec("1")] })),
        x(bson!({ "$add": [dec("1E+38"), dec("0.5")] })),
        x(bson!({ "$add": [dec("1E+38"), dec("0.5000000000000000000000000000000001")] })),
        x(bson!({ "$add": [dec("1234567890123456789012345678901235"), dec("0.500000")] })),
        x(bson!({ "$add": [dec("1234567890123456789012345678901234"), dec("0.500000")] })),
        x(bson!({ "$add": [dec("-1234567890123456789012345678901235"), dec("-0.500000")] })),
        x(bson!({ "$add": [dec("1234567890123456789012345678901234E+10"), dec("5E-30")] })),
        x(bson!({ "$add": [dec("1234567890123456789012345678901235E+10"), dec("5E+9")] })),
        x(bson!({ "$add": [dec("9.999999999999999999999999999999999E+40"), dec("5E+6")] })),
        x(bson!({ "$add": [dec("1E+40"), dec("-1E+40")] })),
        x(bson!({ "$add": [dec("1E+40"), 1.5] })),
        x(bson!({ "$sum": [dec("1E+40"), 1] })),
        x(bson!({ "$avg": [dec("1E+40"), 1] })),
        x(bson!({ "$avg": [dec("-0"), dec("-0")] })),
        x(bson!({ "$max": [dec("-0"), dec("0")] })),
        x(bson!({ "$toString": dec("-0") })),
        x(bson!({ "$toLong": dec("-0.0") })),
        x(bson!({ "$ceil": dec("-0") })),
        x(bson!({ "$floor": dec("-0.00") })),
    ]);
    let double_zero = "$toDecimal / $convert: a double becomes a decimal with 15 significant digits, but a zero stays 0 ({$toDecimal: -0.0} is Decimal128(\"-0\"), on the server too); -0 + -0 is 0 in $add, whose running total starts at 0";
    let deviations = vec![
        deviation(
            on("n1", bson!({ "$add": [dec("-0"), -0.0] })),
            double_zero,
            "the server converts a double zero to Decimal128(\"0E-14\") for arithmetic",
            Expected::Docs(vec![doc! { "r": dec("0") }]),
        ),
        deviation(
            on("n1", bson!({ "$add": [-0.0, dec("-0")] })),
            double_zero,
            "the server converts a double zero to Decimal128(\"0E-14\") for arithmetic",
            Expected::Docs(vec![doc! { "r": dec("0") }]),
        ),
        deviation(
            on("n1", bson!({ "$add": [0.0, dec("1")] })),
            double_zero,
            "the server converts a double zero to Decimal128(\"0E-14\") for arithmetic",
            Expected::Docs(vec![doc! { "r": dec("1") }]),
        ),
        deviation(
            on("n1", bson!({ "$add": [dec("1.5"), 0.0] })),
            double_zero,
            "the server converts a double zero to Decimal128(\"0E-14\") for arithmetic",
            Expected::Docs(vec![doc! { "r": dec("1.5") }]),
        ),
        deviation(
            on("n1", bson!({ "$multiply": [dec("2"), 0.0] })),
            double_zero,
            "the server converts a double zero to Decimal128(\"0E-14\") for arithmetic",
            Expected::Docs(vec![doc! { "r": dec("0") }]),
        ),
        deviation(
            on("n1", bson!({ "$multiply": [-0.0, dec("3")] })),
            double_zero,
            "the server converts a double zero to Decimal128(\"-0E-14\") for arithmetic",
            Expected::Docs(vec![doc! { "r": dec("-0") }]),
        ),
        deviation(
            on("n1", bson!({ "$subtract": [dec("1E+40"), 1] })),
            "Decimal128 is IEEE 754-2008 decimal128: 34 significant digits, results rounded half-even",
            "the server rounds a decimal difference to 28 digits",
            Expected::Docs(vec![doc! { "r": dec("1.000000000000000000000000000000000E+40") }]),
        ),
        deviation(
            on("n1", bson!({ "$subtract": [1, dec("1E+40")] })),
            "Decimal128 is IEEE 754-2008 decimal128: 34 significant digits, results rounded half-even",
            "the server rounds a decimal difference to 28 digits",
            Expected::Docs(vec![doc! { "r": dec("-1.000000000000000000000000000000000E+40") }]),
        ),
        deviation(
            on("n1", bson!({ "$trunc": [1.5, 100] })),
            "$trunc: \"If <place> resolves to a positive integer, $trunc truncates to <place> decimal places.\" (1.5 has no digit past the first place)",
            "the server's double arithmetic gives 1.5000000000000002",
            Expected::Docs(vec![doc! { "r": 1.5 }]),
        ),
        deviation(
            on("n1", bson!({ "$pow": [dec("-2"), 3] })),
            "$pow: \"Raises a number to the specified exponent and returns the result.\" (-2 cubed is -8)",
            "the server gives NaN for any negative decimal base",
            Expected::Docs(vec![doc! { "r": dec("-8.000000000000000000000000000000000") }]),
        ),
        deviation(
            on("n1", bson!({ "$pow": [dec("-2"), 2] })),
            "$pow: \"Raises a number to the specified exponent and returns the result.\" (-2 squared is 4)",
            "the server gives NaN for any negative decimal base",
            Expected::Docs(vec![doc! { "r": dec("4.000000000000000000000000000000000") }]),
        ),
        deviation(
            on("n1", bson!({ "$pow": [-1, -3] })),
            "$pow: \"The result will have the same type as the input except when it cannot be represented accurately in that type.\"",
            "the server returns the double -1.0",
            Expected::Docs(vec![doc! { "r": -1 }]),
        ),
        deviation(
            on("n1", bson!({ "$pow": [1, -3] })),
            "$pow: \"The result will have the same type as the input except when it cannot be represented accurately in that type.\"",
            "the server returns the double 1.0",
            Expected::Docs(vec![doc! { "r": 1 }]),
        ),
        deviation(
            on("n1", bson!({ "$pow": [10.0, 400] })),
            "$pow: \"If the larger type is double or decimal, the overflow result is represented as + or - infinity.\"",
            "the server fails with an internal error",
            Expected::Docs(vec![doc! { "r": f64::INFINITY }]),
        ),
        deviation(
            on("n1", bson!({ "$pow": [dec("0"), -1] })),
            "$pow: \"You cannot raise 0 to a negative exponent.\"",
            "the server returns Decimal128 Infinity for a decimal zero",
            Expected::Error,
        ),
    ];
    Suite {
        name: "exprs_arith",
        docs: arith_docs(),
        cases,
        deviations,
    }
}

/// Documents for the object operators, with awkward field names.
fn object_docs() -> Vec<Document> {
    vec![
        with_id(
            "o1",
            doc! {
                "o": { "x": 1, "y": { "z": 2 } },
                "p": { "x": 2, "w": null },
                "n": null,
                "s": "str",
                "docs": [{ "a": 1 }, { "b": 2 }, { "a": 3 }],
            },
        ),
        with_id("o2", doc! { "o": { "x": "two" }, "p": null }),
        with_id("o3", doc! { "o": null, "p": { "q": 1 } }),
        with_id("o4", doc! { "p": { "x": [1] } }),
    ]
}

/// The object documents.
const OBJECTS: &[&str] = &["o1", "o2", "o3", "o4"];

/// A document with field names only `$getField`/`$setField` can reach
/// (the stores refuse to store them).
fn odd_names() -> Bson {
    lit(bson!({ "x": 1, "a.b": 5, "$d": 6 }))
}

fn objects() -> Suite {
    let mut cases = Vec::new();
    let x = |expr: Bson| on("o1", expr);
    cases.extend([
        x(bson!({ "$mergeObjects": ["$o", "$p"] })),
        x(bson!({ "$mergeObjects": ["$p", "$o"] })),
        x(bson!({ "$mergeObjects": ["$o", { "x": "$$REMOVE", "new": [1] }] })),
        x(bson!({ "$mergeObjects": ["$o", null, "$nope", "$n"] })),
        x(bson!({ "$mergeObjects": "$docs" })),
        x(bson!({ "$mergeObjects": ["$docs"] })),
        x(bson!({ "$mergeObjects": "$o" })),
        x(bson!({ "$mergeObjects": [] })),
        x(bson!({ "$mergeObjects": ["$n"] })),
        x(bson!({ "$mergeObjects": ["$o", "$s"] })),
        x(bson!({ "$mergeObjects": [{ "a": 1 }, 5] })),
        over(OBJECTS, bson!({ "$mergeObjects": ["$o", "$p"] })),
        x(bson!({ "$getField": "s" })),
        x(bson!({ "$getField": "nope" })),
        x(bson!({ "$getField": { "$literal": "s" } })),
        x(bson!({ "$getField": { "field": "a.b", "input": odd_names() } })),
        x(bson!({ "$getField": { "field": { "$literal": "$d" }, "input": odd_names() } })),
        x(bson!({ "$getField": { "field": "y", "input": "$o" } })),
        x(bson!({ "$getField": { "field": "zz", "input": "$o" } })),
        x(bson!({ "$getField": { "field": "x", "input": "$n" } })),
        x(bson!({ "$getField": { "field": "x", "input": { "$mergeObjects": ["$o", { "x": 9 }] } } })),
        x(bson!({ "$getField": { "field": "x", "input": { "$getField": { "field": "y", "input": "$o" } } } })),
        x(bson!({ "$getField": { "field": 1, "input": "$o" } })),
        x(bson!({ "$getField": { "input": "$o" } })),
        x(bson!({ "$getField": { "field": "x", "input": "$o", "other": 1 } })),
        over(OBJECTS, bson!({ "$getField": { "field": "x", "input": "$p" } })),
        x(bson!({ "$setField": { "field": "x", "input": "$o", "value": 10 } })),
        x(bson!({ "$setField": { "field": "new", "input": "$o", "value": "$p" } })),
        x(bson!({ "$setField": { "field": "a.b", "input": odd_names(), "value": "$$REMOVE" } })),
        x(bson!({ "$setField": { "field": { "$literal": "$d" }, "input": odd_names(), "value": [] } })),
        x(bson!({ "$setField": { "field": "a.b", "input": "$o", "value": 1 } })),
        x(bson!({ "$setField": { "field": "x", "input": "$o", "value": "$nope" } })),
        x(bson!({ "$setField": { "field": "x", "input": "$n", "value": 1 } })),
        x(bson!({ "$setField": { "field": "x", "input": "$nope", "value": 1 } })),
        x(bson!({ "$setField": { "field": "x", "input": lit(bson!({})), "value": 1 } })),
        x(bson!({ "$setField": { "field": "x", "input": "$s", "value": 1 } })),
        x(bson!({ "$setField": { "field": 1, "input": "$o", "value": 1 } })),
        x(bson!({ "$setField": { "field": "x", "input": "$o" } })),
        x(bson!({ "$setField": { "field": "x", "value": 1 } })),
        x(bson!({ "$setField": { "field": "x", "input": "$o", "value": 1, "other": 1 } })),
        over(OBJECTS, bson!({ "$setField": { "field": "x", "input": "$p", "value": "$o" } })),
        x(bson!({ "$unsetField": { "field": "x" } })),
        x(bson!({ "$unsetField": { "field": "x", "input": "$o", "value": 1 } })),
    ]);
    let deviations = vec![
        deviation(
            on("o1", bson!({ "$mergeObjects": ["$docs", "$o"] })),
            "$mergeObjects: { $mergeObjects: [ <document1>, <document2>, ... ] } \"The documents can be any valid expression that resolves to a document.\"",
            "the server merges the elements of an array argument among several",
            Expected::Error,
        ),
        deviation(
            on("o1", bson!({ "$setField": { "field": "$s", "input": "$o", "value": 1 } })),
            "$setField: \"If field resolves to anything other than a string constant, $setField returns an error.\"",
            "the server takes the field name from the path's value",
            Expected::Error,
        ),
        deviation(
            on("o1", bson!({ "$unsetField": { "field": "x", "input": "$o" } })),
            "$unsetField: \"Removes a specified field in a document.\"",
            "the server does not know $unsetField",
            Expected::Docs(vec![doc! { "r": { "y": { "z": 2 } } }]),
        ),
        deviation(
            on("o1", bson!({ "$unsetField": { "field": "a.b", "input": odd_names() } })),
            "$unsetField: \"You can use $unsetField to remove fields with names that contain periods (.) or that start with dollar signs ($).\"",
            "the server does not know $unsetField",
            Expected::Docs(vec![doc! { "r": { "x": 1, "$d": 6 } }]),
        ),
        deviation(
            on("o1", bson!({ "$unsetField": { "field": { "$literal": "$d" }, "input": odd_names() } })),
            "$unsetField: \"You can use $unsetField to remove fields with names that contain periods (.) or that start with dollar signs ($).\"",
            "the server does not know $unsetField",
            Expected::Docs(vec![doc! { "r": { "x": 1, "a.b": 5 } }]),
        ),
        deviation(
            on("o1", bson!({ "$unsetField": { "field": "nope", "input": "$o" } })),
            "$unsetField: \"Removes a specified field in a document.\"",
            "the server does not know $unsetField",
            Expected::Docs(vec![doc! { "r": { "x": 1, "y": { "z": 2 } } }]),
        ),
        deviation(
            on("o1", bson!({ "$unsetField": { "field": "x", "input": "$n" } })),
            "$unsetField: \"If input evaluates to missing, undefined, or null, $unsetField returns null and does not update input.\"",
            "the server does not know $unsetField",
            Expected::Docs(vec![doc! { "r": null }]),
        ),
        deviation(
            on("o1", bson!({ "$getField": { "field": "s" } })),
            "$getField: \"input ... Default: $$CURRENT\"",
            "the server requires 'input' in the document form",
            Expected::Docs(vec![doc! { "r": "str" }]),
        ),
        deviation(
            on("o1", bson!({ "$getField": { "field": "x", "input": "$nope" } })),
            "$getField: \"If input evaluates to missing, undefined, or null, $getField returns null.\"",
            "the server returns missing for a missing input",
            Expected::Docs(vec![doc! { "r": null }]),
        ),
        deviation(
            on("o1", bson!({ "$getField": { "field": "x", "input": "$s" } })),
            "$getField: \"If input evaluates to anything other than an object, missing, undefined, or null, $getField returns an error.\"",
            "the server returns null",
            Expected::Error,
        ),
    ];
    Suite {
        name: "exprs_object",
        docs: object_docs(),
        cases,
        deviations,
    }
}

/// Documents for the binding forms.
fn vars_docs() -> Vec<Document> {
    vec![
        with_id(
            "v1",
            doc! {
                "a": [1, 2, 3, 4],
                "words": ["a", "bb", "ccc"],
                "docs": [{ "q": 2, "p": 1.5 }, { "q": 1, "p": 10 }, { "q": 5 }],
                "nested": [[1, 2], [], [3]],
                "o": { "x": 1, "y": [1, 2] },
                "s": "str",
                "n": null,
                "t": 5,
            },
        ),
        with_id("v2", doc! { "a": [], "t": -1 }),
        with_id("v3", doc! { "a": null, "t": 0 }),
        with_id("v4", doc! { "t": "x" }),
        with_id("v5", doc! { "a": [null, 0, false, "", [], {}], "t": null }),
    ]
}

/// The binding-form documents where `a` is an array, null or missing.
const BOUND: &[&str] = &["v1", "v2", "v3", "v4", "v5"];

fn vars() -> Suite {
    let mut cases = Vec::new();
    let x = |expr: Bson| on("v1", expr);
    // $let.
    cases.extend([
        x(bson!({ "$let": { "vars": { "x": 2, "y": "$a" }, "in": { "$concatArrays": [["$$x"], "$$y"] } } })),
        x(bson!({ "$let": { "vars": { "x": 1 }, "in": { "$let": { "vars": { "x": 2, "y": "$$x" }, "in": ["$$x", "$$y"] } } } })),
        x(bson!({ "$let": { "vars": { "x": "$nope" }, "in": "$$x" } })),
        x(bson!({ "$let": { "vars": { "doc": "$o" }, "in": "$$doc.y" } })),
        x(bson!({ "$let": { "vars": {}, "in": "$t" } })),
        x(bson!({ "$let": { "vars": { "é": 1, "x_1": 2 }, "in": { "$add": ["$$é", "$$x_1"] } } })),
        x(bson!({ "$let": { "vars": { "x": "$$x" }, "in": 1 } })),
        x(bson!({ "$let": { "vars": { "x": 1 }, "in": "$$y" } })),
        x(bson!({ "$let": { "vars": { "x": 1 } } })),
        x(bson!({ "$let": { "in": 1 } })),
        x(bson!({ "$let": { "vars": { "x": 1 }, "in": 1, "out": 1 } })),
        x(bson!({ "$let": { "vars": 1, "in": 1 } })),
        x(bson!({ "$let": [1] })),
        x(bson!([{ "$let": { "vars": { "x": 1 }, "in": "$$x" } }, "$$x"])),
        x(bson!("$$1x")),
        over(BOUND, bson!({ "$let": { "vars": { "v": "$t" }, "in": { "$ifNull": ["$$v", "none"] } } })),
    ]);
    // $map.
    cases.extend([
        x(bson!({ "$map": { "input": "$a", "in": { "$multiply": ["$$this", 10] } } })),
        x(bson!({ "$map": { "input": "$docs", "as": "d", "in": "$$d.q" } })),
        x(bson!({ "$map": { "input": "$docs", "as": "d", "in": "$$d.p" } })),
        x(bson!({ "$map": { "input": "$a", "in": "$$REMOVE" } })),
        x(bson!({ "$map": { "input": "$nested", "as": "xs", "in": { "$map": { "input": "$$xs", "in": { "$add": ["$$this", "$t"] } } } } })),
        x(bson!({ "$map": { "input": "$a", "as": "x", "in": { "$map": { "input": [10, 20], "in": { "$add": ["$$x", "$$this"] } } } } })),
        x(bson!({ "$map": { "input": { "$range": [0, 3] }, "in": { "$add": ["$$this", 1] } } })),
        x(bson!({ "$map": { "input": "$words", "as": "w", "in": { "w": "$$w", "i": { "$indexOfArray": ["$words", "$$w"] } } } })),
        x(bson!({ "$map": { "input": "$a", "as": "this", "in": "$$this" } })),
        x(bson!({ "$map": { "input": "$s", "in": 1 } })),
        x(bson!({ "$map": { "input": "$a" } })),
        x(bson!({ "$map": { "in": 1 } })),
        x(bson!({ "$map": { "input": "$a", "in": 1, "as": "x", "other": 1 } })),
        x(bson!({ "$map": { "input": "$a", "as": "x", "in": "$$this" } })),
        x(bson!({ "$map": [1] })),
        over(BOUND, bson!({ "$map": { "input": "$a", "in": { "$type": "$$this" } } })),
    ]);
    // $filter.
    cases.extend([
        x(bson!({ "$filter": { "input": "$a", "cond": { "$gte": ["$$this", 2] } } })),
        x(bson!({ "$filter": { "input": "$a", "as": "n", "cond": { "$ne": ["$$n", 2] }, "limit": 1 } })),
        x(bson!({ "$filter": { "input": "$a", "cond": true, "limit": null } })),
        x(bson!({ "$filter": { "input": "$a", "cond": true, "limit": "$nope" } })),
        x(bson!({ "$filter": { "input": "$a", "cond": true, "limit": 100 } })),
        x(bson!({ "$filter": { "input": "$docs", "as": "d", "cond": { "$gt": ["$$d.q", 1] } } })),
        x(bson!({ "$filter": { "input": "$docs", "as": "d", "cond": "$$d.p" } })),
        x(bson!({ "$filter": { "input": { "$range": [0, 6] }, "cond": { "$mod": ["$$this", 2] } } })),
        x(bson!({ "$filter": { "input": "$nested", "as": "xs", "cond": { "$size": "$$xs" } } })),
        x(bson!({ "$filter": { "input": [], "cond": true } })),
        x(bson!({ "$filter": { "input": "$n", "cond": true } })),
        x(bson!({ "$filter": { "input": "$s", "cond": true } })),
        x(bson!({ "$filter": { "input": "$a" } })),
        x(bson!({ "$filter": { "cond": true } })),
        x(bson!({ "$filter": { "input": "$a", "cond": true, "other": 1 } })),
        x(bson!({ "$filter": 1 })),
        over(BOUND, bson!({ "$filter": { "input": "$a", "cond": "$$this" } })),
    ]);
    // $reduce.
    cases.extend([
        x(bson!({ "$reduce": { "input": "$a", "initialValue": 0, "in": { "$add": ["$$value", "$$this"] } } })),
        x(bson!({ "$reduce": { "input": "$a", "initialValue": 1, "in": { "$multiply": ["$$value", "$$this"] } } })),
        x(bson!({ "$reduce": { "input": "$words", "initialValue": [], "in": { "$concatArrays": [["$$this"], "$$value"] } } })),
        x(bson!({ "$reduce": { "input": "$nested", "initialValue": [], "in": { "$concatArrays": ["$$value", "$$this"] } } })),
        x(bson!({ "$reduce": { "input": "$a", "initialValue": { "sum": 0, "n": 0 }, "in": { "sum": { "$add": ["$$value.sum", "$$this"] }, "n": { "$add": ["$$value.n", 1] } } } })),
        x(bson!({ "$reduce": { "input": "$docs", "initialValue": 0, "in": { "$max": ["$$value", "$$this.q"] } } })),
        x(bson!({ "$reduce": { "input": [], "initialValue": "start", "in": 1 } })),
        x(bson!({ "$reduce": { "input": "$a", "initialValue": 0, "in": { "$reduce": { "input": [1, 1], "initialValue": "$$value", "in": { "$add": ["$$value", "$$this"] } } } } })),
        x(bson!({ "$reduce": { "input": "$n", "initialValue": 0, "in": 1 } })),
        x(bson!({ "$reduce": { "input": "$s", "initialValue": 0, "in": 1 } })),
        x(bson!({ "$reduce": { "input": "$a", "in": 1 } })),
        x(bson!({ "$reduce": { "input": "$a", "initialValue": 0 } })),
        x(bson!({ "$reduce": { "initialValue": 0, "in": 1 } })),
        x(bson!({ "$reduce": { "input": "$a", "initialValue": 0, "in": 1, "as": "x" } })),
        x(bson!({ "$reduce": { "input": "$a", "initialValue": "$$value", "in": 1 } })),
        x(bson!({ "$reduce": [1] })),
        over(BOUND, bson!({ "$reduce": { "input": "$a", "initialValue": 0, "in": { "$add": ["$$value", 1] } } })),
    ]);
    // $switch.
    let sign = bson!({ "$switch": {
        "branches": [
            { "case": { "$lt": ["$t", 0] }, "then": "negative" },
            { "case": { "$eq": ["$t", 0] }, "then": "zero" },
            { "case": { "$isNumber": "$t" }, "then": "positive" },
        ],
        "default": "not a number",
    } });
    cases.extend([
        over(BOUND, sign),
        x(bson!({ "$switch": { "branches": [{ "case": "$a", "then": "$$REMOVE" }] } })),
        x(bson!({ "$switch": { "branches": [{ "case": "$n", "then": 1 }, { "case": "$s", "then": 2 }] } })),
        x(bson!({ "$switch": { "branches": [{ "case": 0, "then": 1 }], "default": "$nope" } })),
        x(bson!({ "$switch": { "branches": [{ "case": false, "then": 1 }] } })),
        x(bson!({ "$switch": { "branches": [] } })),
        x(bson!({ "$switch": { "default": 1 } })),
        x(bson!({ "$switch": { "branches": [{ "case": true }] } })),
        x(bson!({ "$switch": { "branches": [{ "then": 1 }] } })),
        x(bson!({ "$switch": { "branches": [1] } })),
        x(bson!({ "$switch": { "branches": { "case": true, "then": 1 } } })),
        x(bson!({ "$switch": { "branches": [{ "case": true, "then": 1 }], "other": 1 } })),
        x(bson!({ "$switch": 1 })),
        over(BOUND, bson!({ "$switch": { "branches": [{ "case": { "$gt": ["$t", 0] }, "then": "$t" }] } })),
    ]);
    // $$REMOVE.
    cases.extend([
        x(bson!("$$REMOVE")),
        x(bson!(["$$REMOVE", 1])),
        x(bson!({ "k": "$$REMOVE", "m": "$t" })),
        x(bson!({ "$cond": [{ "$isArray": "$a" }, "$$REMOVE", "$a"] })),
        x(bson!({ "$ifNull": ["$nope", "$$REMOVE"] })),
        agg(vec![doc! { "$addFields": { "t": "$$REMOVE", "u": { "$cond": [{ "$gt": ["$t", 0] }, "$$REMOVE", "$t"] } } }]),
    ]);
    let deviations = vec![
        deviation(
            on("v1", bson!({ "$let": { "vars": { "CURRENT": "$o" }, "in": ["$x", "$$CURRENT.y"] } })),
            "Variables in Aggregation Expressions: \"$<field>\" is equivalent to \"$$CURRENT.<field>\"; $let: \"If you modify the values of externally defined variables in the vars block, the new values take effect only in the in expression\"",
            "the server ignores a rebound CURRENT",
            Expected::Docs(vec![doc! { "r": [1, [1, 2]] }]),
        ),
        deviation(
            on("v1", bson!({ "$let": { "vars": { "x": "$nope" }, "in": ["$$x"] } })),
            "$project: \"If the array specification includes fields that are non-existent in a document, the operation substitutes null as the value for that field.\"",
            "the server fails with an internal error",
            Expected::Docs(vec![doc! { "r": [null] }]),
        ),
        deviation(
            on("v1", bson!({ "$let": { "vars": { "ds": "$docs" }, "in": "$$ds.q" } })),
            "Variables: \"$$<variable>.<field>\" reads a field of the variable like a field path, so through an array of documents it is the array of their values",
            "the server gives null for a variable path through an array",
            Expected::Docs(vec![doc! { "r": [2, 1, 5] }]),
        ),
        deviation(
            on("v1", bson!({ "$let": { "vars": { "a-b": 1 }, "in": 1 } })),
            "Variables in Aggregation Expressions: \"User variable names can contain the ascii characters [_a-zA-Z0-9] and any non-ascii character.\"",
            "the server accepts a '-' in a variable name",
            Expected::Error,
        ),
        deviation(
            on("v1", bson!({ "$let": { "vars": { "": 1 }, "in": 1 } })),
            "Variables in Aggregation Expressions: \"User variable names must begin with a lowercase ascii letter [a-z] or a non-ascii character.\"",
            "the server accepts an empty variable name",
            Expected::Error,
        ),
        deviation(
            on("v1", bson!({ "$map": { "input": "$a", "as": "X", "in": 1 } })),
            "Variables in Aggregation Expressions: \"User variable names must begin with a lowercase ascii letter [a-z] or a non-ascii character.\"",
            "the server accepts a capitalised variable name",
            Expected::Error,
        ),
        deviation(
            on("v1", bson!({ "$map": { "input": "$a", "as": 1, "in": 1 } })),
            "$map: \"as: Optional. A name for the variable\" (a string naming a user variable)",
            "the server accepts a number",
            Expected::Error,
        ),
        deviation(
            on("v1", bson!({ "$filter": { "input": "$a", "as": "X", "cond": true } })),
            "Variables in Aggregation Expressions: \"User variable names must begin with a lowercase ascii letter [a-z] or a non-ascii character.\"",
            "the server accepts a capitalised variable name",
            Expected::Error,
        ),
        deviation(
            on("v1", bson!({ "$switch": { "branches": [{ "case": true, "then": 1, "else": 2 }] } })),
            "$switch: \"The objects in the branches array must contain only a case field and a then field.\"",
            "the server ignores the extra field",
            Expected::Error,
        ),
        deviation(
            on("v1", bson!({ "$let": { "vars": { "Bad": 1 }, "in": 1 } })),
            "Variables in Aggregation Expressions: \"User variable names must begin with a lowercase ascii letter [a-z] or a non-ascii character.\"",
            "the server accepts a capitalised variable name",
            Expected::Error,
        ),
        deviation(
            on("v1", bson!({ "$filter": { "input": "$a", "cond": true, "limit": 2.0 } })),
            "$filter: \"limit: A number expression that restricts the number of matching array elements that $filter returns.\"",
            "the server ignores a double limit",
            Expected::Docs(vec![doc! { "r": [1, 2] }]),
        ),
        deviation(
            on("v1", bson!({ "$filter": { "input": "$a", "cond": true, "limit": 0 } })),
            "$filter: \"You cannot specify a limit less than 1.\"",
            "the server ignores the limit",
            Expected::Error,
        ),
        deviation(
            on("v1", bson!({ "$filter": { "input": "$a", "cond": true, "limit": -1 } })),
            "$filter: \"You cannot specify a limit less than 1.\"",
            "the server treats a negative limit as 1",
            Expected::Error,
        ),
        deviation(
            on("v1", bson!({ "$filter": { "input": "$a", "cond": true, "limit": "x" } })),
            "$filter: \"limit: A number expression\"",
            "the server ignores a string limit",
            Expected::Error,
        ),
    ];
    Suite {
        name: "exprs_vars",
        docs: vars_docs(),
        cases,
        deviations,
    }
}
