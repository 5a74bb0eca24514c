//! Disagreements found by the generated pipelines
//! (`generate_pipelines.rs`), kept as fixed cases: the `regressions_pipelines`
//! suite. Each names the seed (`YAMLETT_DIFF_SEED`) that found it. All of
//! them were the test server's: our engine gives the manual's answer, and
//! the generator no longer produces the construct (see its header).

use bson::{bson, doc, Bson, Document};

use super::generate::dec;
use super::{agg, Case, Deviation, Expected, Suite};

fn with_id(id: &str, mut d: Document) -> Document {
    let mut out = doc! { "_id": id };
    out.extend(std::mem::take(&mut d));
    out
}

/// `expr` evaluated on document `id`, as field `r`.
fn on(id: &str, expr: Bson) -> Case {
    agg(vec![
        doc! { "$match": { "_id": id } },
        doc! { "$project": { "r": expr } },
    ])
}

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

pub fn suite() -> Suite {
    let docs = vec![
        with_id("p0", doc! { "a": [1, 2], "b": "x" }),
        with_id("p1", doc! { "a": {}, "b": null }),
        with_id("p2", doc! { "a": [] }),
        with_id("p3", doc! {}),
    ];
    // The generator's workarounds, which both stores answer alike.
    let cases = vec![
        agg(vec![
            doc! { "$unwind": { "path": "$a", "includeArrayIndex": "i" } },
            doc! { "$addFields": { "i": { "$toInt": "$i" } } },
        ]),
        agg(vec![
            doc! { "$setWindowFields": { "partitionBy": { "$type": "$a" }, "sortBy": { "_id": 1 }, "output": { "n": { "$sum": 1 } } } },
        ]),
        agg(vec![
            doc! { "$group": { "_id": [{ "$type": "$a" }, "$a"], "n": { "$sum": 1 } } },
        ]),
        on(
            "p0",
            bson!({ "$setDifference": [{ "$ifNull": ["$b", []] }, { "$ifNull": [null, []] }] }),
        ),
        on("p3", bson!({ "$type": "$b" })),
        // Seed 18eb9364ea9728d1 found the server reversing the one-element
        // argument list [$a] instead of $a (the manual: "keep the outer
        // array that designates the argument list"); it answers as the
        // manual says now, so the case is compared again.
        on("p0", bson!({ "$reverseArray": ["$a"] })),
        agg(vec![
            doc! { "$sort": { "_id": 1 } },
            doc! { "$limit": 1 },
            doc! { "$project": { "r": { "$size": "$a" } } },
        ])
        .ordered(),
    ];
    let type_manual = "$type: \"If the argument is a field that is missing in the input document, $type returns the string \\\"missing\\\"\"; $cond and $ifNull pass a missing result on unchanged";
    let deviations = vec![
        deviation(
            // 18eb93742c2de1a6
            on("p0", bson!({ "$indexOfArray": [["y", 0, 2.5], false] })),
            "Comparison/Sort Order: booleans and numbers are different types, so false is not equal to 0",
            "the server finds false at the index of 0",
            Expected::Docs(vec![doc! { "_id": "p0", "r": -1 }]),
        ),
        deviation(
            // 18eb924fac6a3232
            agg(vec![
                doc! { "$match": { "_id": "p0" } },
                doc! { "$unwind": { "path": "$a", "includeArrayIndex": "i" } },
            ]),
            "$unwind: includeArrayIndex holds the array index of the element (the manual's example shows NumberLong(0))",
            "the server gives an int index",
            Expected::Docs(vec![
                doc! { "_id": "p0", "a": 1, "b": "x", "i": 0_i64 },
                doc! { "_id": "p0", "a": 2, "b": "x", "i": 1_i64 },
            ]),
        ),
        deviation(
            // 18eb924fac6a3232
            agg(vec![doc! { "$setWindowFields": { "partitionBy": "$a", "sortBy": { "_id": 1 }, "output": { "n": { "$sum": 1 } } } }]),
            "$setWindowFields: \"$setWindowFields raises an error if the partitionBy expression ever evaluates to an array\" (SERVER-53702)",
            "the server partitions by the array",
            Expected::Error,
        ),
        deviation(
            // 18eb924fac6a3232
            on("p0", bson!({ "$setDifference": ["$b", null] })),
            "$setDifference (like the other set operators, per MongoDB): a null or missing argument gives null before the arguments' types are checked",
            "the server fails on the string first",
            Expected::Docs(vec![doc! { "_id": "p0", "r": null }]),
        ),
        deviation(
            // 18eb924fac6a3232
            on("p2", bson!({ "$map": { "input": { "$arrayElemAt": ["$a", 0] }, "in": "$$this" } })),
            "$arrayElemAt: an index past the end gives no value; $map of a missing input is null",
            "the server takes the missing value for an object and fails",
            Expected::Docs(vec![doc! { "_id": "p2", "r": null }]),
        ),
        deviation(
            // 18eb92818cf67a64
            on("p2", bson!({ "$arrayElemAt": [{ "$arrayElemAt": ["$a", 1] }, 0] })),
            "$arrayElemAt: an index past the end gives no value; \"if the array expression resolves to null or a missing field, $arrayElemAt returns null\"",
            "the server takes the missing value for an object and fails",
            Expected::Docs(vec![doc! { "_id": "p2", "r": null }]),
        ),
        deviation(
            // 18eb924fac6a3232
            agg(vec![doc! { "$group": { "_id": null, "s": { "$sum": [] } } }]),
            "$group accumulators take one expression: MongoDB refuses an array operand (\"The $sum accumulator is a unary operator\")",
            "the server accepts the array",
            Expected::Error,
        ),
        deviation(
            // 18eb924fac6a3232
            agg(vec![doc! { "$group": { "_id": null, "f": { "$first": 1 } } }]),
            "$first (accumulator): \"Returns the value that results from applying an expression to the first document in a group\"",
            "the server folds the constant as the $first array operator and fails",
            Expected::Docs(vec![doc! { "_id": null, "f": 1 }]),
        ),
        deviation(
            // 18eb9265e0196317
            agg(vec![
                doc! { "$match": { "_id": { "$in": ["p1", "p2"] } } },
                doc! { "$group": { "_id": "$a", "n": { "$sum": 1 } } },
            ]),
            "$group: documents are grouped by equal _id values; an object and an array are different BSON types, never equal",
            "the server groups {} and [] together",
            Expected::Docs(vec![doc! { "_id": {}, "n": 1 }, doc! { "_id": [], "n": 1 }]),
        ),
        deviation(
            // 18eb9265e0196317
            agg(vec![doc! { "$bucket": { "groupBy": "$b", "boundaries": [0, 1], "default": "other", "output": { "n": { "$count": {} } } } }]),
            "$count (accumulator): available in $bucket, $bucketAuto, $group and $setWindowFields",
            "the server's $bucket does not know $count",
            Expected::Docs(vec![doc! { "_id": "other", "n": 4 }]),
        ),
        deviation(
            // 18eb9265e0196317
            agg(vec![doc! { "$bucket": { "groupBy": ["$b"], "boundaries": [0, 1], "default": "other" } }]),
            "$bucket groupBy: an expression to group by, a $-prefixed field path or an expression object (MongoDB: \"The $bucket 'groupBy' field must be defined as a $-prefixed path or an expression\")",
            "the server accepts an array literal",
            Expected::Error,
        ),
        deviation(
            // 18eb92723e044bfb, 18eb92a7fa11dd27
            on("p3", bson!({ "$type": { "$cond": [true, "$b", 1] } })),
            type_manual,
            "the server answers \"null\" for a computed missing value",
            Expected::Docs(vec![doc! { "_id": "p3", "r": "missing" }]),
        ),
        deviation(
            // 18eb92723e044bfb
            on("p3", bson!({ "$type": { "$ifNull": [null, "$b"] } })),
            type_manual,
            "the server answers \"null\" for a computed missing value",
            Expected::Docs(vec![doc! { "_id": "p3", "r": "missing" }]),
        ),
        deviation(
            // 18eb927e76d00be3
            on("p3", bson!({ "$in": ["$a", { "$literal": [null] }] })),
            "aggregation comparison: a missing field is not null ({$eq: [\"$missing\", null]} is false), so $in does not find it in [null]",
            "the server finds the missing value equal to null",
            Expected::Docs(vec![doc! { "_id": "p3", "r": false }]),
        ),
        deviation(
            // 18eb92818cf67a64
            agg(vec![
                doc! { "$sort": { "_id": 1 } },
                doc! { "$group": { "_id": null, "f": { "$first": { "$size": "$a" } } } },
            ]),
            "$group evaluates each accumulator's expression on every document of the group, so an error on any document fails the query (MongoDB 8.0: the classic engine's group processor evaluates every accumulator's argument for each document before calling process, and SBE computes the arguments of its hash aggregation per row alike)",
            "the server only evaluates $first's expression on the first document",
            Expected::Error,
        ),
        deviation(
            // 18eb92c34b8acf95
            agg(vec![
                doc! { "$sort": { "_id": 1 } },
                doc! { "$project": { "r": { "$size": "$a" } } },
                doc! { "$limit": 1 },
            ])
            .ordered(),
            "Aggregation pipeline optimization: \"$project/$unset/$addFields/$set + $skip/$limit Sequence Optimization\": the $limit moves before the projection, which never sees the dropped documents",
            "the server projects every document and fails on p1",
            Expected::Docs(vec![doc! { "_id": "p0", "r": 2 }]),
        ),
        deviation(
            // 18eb92e06b86080d
            // The server refuses it in $project, not in $bucket.
            agg(vec![doc! { "$bucket": { "groupBy": { "$first": ["$b", "$a"] }, "boundaries": [0, 1], "default": "other" } }]),
            "$first (array operator) takes one argument: MongoDB: \"Expression $first takes exactly 1 arguments. 2 were passed in.\"",
            "the server accepts two in $bucket's groupBy",
            Expected::Error,
        ),
        deviation(
            // 18eb92e9cf493095
            // No document reaches it: a parse error all the same.
            agg(vec![
                doc! { "$match": { "_id": "nope" } },
                doc! { "$bucket": { "groupBy": "$b", "boundaries": [0, 1], "default": "other", "output": { "s": { "$sum": { "$last": [] } } } } },
            ]),
            "$last (array operator) takes one argument: MongoDB: \"Expression $last takes exactly 1 arguments. 0 were passed in.\"",
            "the server accepts none in $bucket's output when no document reaches it",
            Expected::Error,
        ),
        deviation(
            // 100
            on("p0", bson!({ "$subtract": [{ "$divide": [dec("1"), dec("3")] }, 1] })),
            "Decimal128 is IEEE 754 decimal128: 34 significant digits ($divide of 1 by 3 gives 0.3333333333333333333333333333333333, and the difference with 1 is exact in 34 digits)",
            "the server rounds a decimal difference to 28 digits",
            Expected::Docs(vec![doc! { "_id": "p0", "r": dec("-0.6666666666666666666666666666666667") }]),
        ),
        deviation(
            // f00
            on("p0", bson!({ "$indexOfArray": [[0, dec("2")], 2] })),
            "Comparison/Sort Order: numbers of different types compare by value, so 2 equals Decimal128(\"2\") ($in finds it on both stores)",
            "the server's $indexOfArray does not find the int among decimals",
            Expected::Docs(vec![doc! { "_id": "p0", "r": 1 }]),
        ),
        deviation(
            // 200
            on("p0", bson!({ "$convert": { "input": { "$divide": [2, 3] }, "to": "string" } })),
            "$toString: \"Converts a value to a string ... has the following syntax: { $convert: { input: <expression>, to: \"string\" } }\": both print the double alike. The answer is MongoDB 8.0's: its performFormatDouble prints the shortest digits that read back as the same double (fmt::format(\"{}\")); servers whose conversion streamed the double through StringBuilder's \"%g\" printed six significant digits",
            "the server's $convert prints six digits (0.666667), as the older servers did, its $toString all (0.6666666666666666)",
            Expected::Docs(vec![doc! { "_id": "p0", "r": "0.6666666666666666" }]),
        ),
    ];
    Suite {
        name: "regressions_pipelines",
        docs,
        cases,
        deviations,
    }
}
