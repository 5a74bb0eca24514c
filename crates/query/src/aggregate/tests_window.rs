//! `$setWindowFields` tests. "Server:" comments give what the test server
//! answered for the same input (see also the differential `window` suite);
//! where it contradicts the manual the comment says so.

use bson::{bson, doc, Bson, Document};

use super::*;

/// Partition `a`: t 1..5 with v 1, 2.5, missing, null, 3 (long);
/// partition `b`: ties on v; a null and a missing `p` share a partition.
fn docs() -> Vec<Document> {
    vec![
        doc! {"_id": 1, "p": "b", "t": 2, "v": 10},
        doc! {"_id": 2, "p": "a", "t": 1, "v": 1},
        doc! {"_id": 3, "p": "a", "t": 2, "v": 2.5},
        doc! {"_id": 4, "p": "a", "t": 3},
        doc! {"_id": 5, "p": "a", "t": 4, "v": null},
        doc! {"_id": 6, "p": "a", "t": 5, "v": 3_i64},
        doc! {"_id": 7, "p": "b", "t": 1, "v": 10},
        doc! {"_id": 8, "p": "b", "t": 3, "v": 20},
        doc! {"_id": 9, "t": 1, "v": 7},
        doc! {"_id": 10, "p": null, "t": 2, "v": 8},
    ]
}

fn run_on(docs: Vec<Document>, stage: Document) -> QueryResult<Vec<Document>> {
    Pipeline::parse(&[doc! {"$setWindowFields": stage}])?.run(docs.into_iter())
}

/// `(_id, r)` for every output document, in output order.
fn column(stage: Document) -> Vec<(i32, Bson)> {
    run_on(docs(), stage)
        .unwrap()
        .iter()
        .map(|d| (d.get_i32("_id").unwrap(), d.get("r").cloned().unwrap()))
        .collect()
}

/// The `r` values of partition `a` (ids 2..=6, sorted by t).
fn partition_a(output: Document) -> Vec<Bson> {
    column(doc! {"partitionBy": "$p", "sortBy": {"t": 1}, "output": {"r": output}})
        .into_iter()
        .filter(|(id, _)| (2..=6).contains(id))
        .map(|(_, r)| r)
        .collect()
}

fn over(function: Document, bounds: Bson) -> Vec<Bson> {
    let mut out = function;
    out.insert("window", doc! {"documents": bounds});
    partition_a(out)
}

fn error(stage: Document) -> String {
    match Pipeline::parse(&[doc! {"$setWindowFields": stage}]) {
        Err(e) => e.message().to_owned(),
        Ok(p) => p.run(docs().into_iter()).unwrap_err().message().to_owned(),
    }
}

#[test]
fn output_comes_partition_by_partition_in_key_order() {
    // The server sorts by the partition key, then sortBy: null (with
    // missing) before "a" before "b".
    let ids: Vec<i32> =
        column(doc! {"partitionBy": "$p", "sortBy": {"t": 1}, "output": {"r": {"$count": {}}}})
            .into_iter()
            .map(|(id, _)| id)
            .collect();
    assert_eq!(ids, vec![9, 10, 2, 3, 4, 5, 6, 7, 1, 8]);
    // Without sortBy a partition keeps the input order.
    let ids: Vec<i32> = column(doc! {"partitionBy": "$p", "output": {"r": {"$count": {}}}})
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, vec![9, 10, 2, 3, 4, 5, 6, 1, 7, 8]);
}

#[test]
fn the_default_window_is_the_whole_partition() {
    // Server: a -> sum 6.5 (double), count 5; null partition -> 15 and 2.
    let out = column(doc! {"partitionBy": "$p", "sortBy": {"t": 1}, "output": {
        "r": {"$sum": "$v"},
    }});
    assert!(out.contains(&(2, Bson::Double(6.5))));
    assert!(out.contains(&(6, Bson::Double(6.5))));
    assert!(out.contains(&(9, Bson::Int32(15))));
    assert!(out.contains(&(10, Bson::Int32(15))));
    // Unsorted too, and with no partitionBy one partition holds everything.
    let all = column(doc! {"output": {"r": {"$sum": "$t"}}});
    assert!(all.iter().all(|(_, r)| *r == Bson::Int32(24)));
}

#[test]
fn running_totals_and_best_so_far() {
    // Server: [1, 3.5, 3.5, 3.5, 6.5] and the running max [1, 2.5, 2.5, 2.5, 3].
    let running = bson!(["unbounded", "current"]);
    assert_eq!(
        over(doc! {"$sum": "$v"}, running.clone()),
        vec![bson!(1), bson!(3.5), bson!(3.5), bson!(3.5), bson!(6.5)]
    );
    assert_eq!(
        over(doc! {"$max": "$v"}, running.clone()),
        vec![bson!(1), bson!(2.5), bson!(2.5), bson!(2.5), bson!(3_i64)]
    );
    assert_eq!(
        over(doc! {"$push": "$t"}, running.clone()),
        vec![
            bson!([1]),
            bson!([1, 2]),
            bson!([1, 2, 3]),
            bson!([1, 2, 3, 4]),
            bson!([1, 2, 3, 4, 5])
        ]
    );
    // Up to the previous document: the first window is empty.
    assert_eq!(
        over(doc! {"$sum": "$v"}, bson!(["unbounded", -1])),
        vec![bson!(0), bson!(1), bson!(3.5), bson!(3.5), bson!(3.5)]
    );
}

#[test]
fn moving_windows() {
    // Server: the moving average over [-2, 0] skips null and missing.
    assert_eq!(
        over(doc! {"$avg": "$v"}, bson!([-2, 0])),
        vec![bson!(1.0), bson!(1.75), bson!(1.75), bson!(2.5), bson!(3.0)]
    );
    assert_eq!(
        over(doc! {"$min": "$v"}, bson!([-1, 1])),
        vec![bson!(1), bson!(1), bson!(2.5), bson!(3_i64), bson!(3_i64)]
    );
    assert_eq!(
        over(doc! {"$push": "$t"}, bson!(["current", "unbounded"])),
        vec![
            bson!([1, 2, 3, 4, 5]),
            bson!([2, 3, 4, 5]),
            bson!([3, 4, 5]),
            bson!([4, 5]),
            bson!([5])
        ]
    );
    assert_eq!(
        over(doc! {"$first": "$v"}, bson!([1, 2])),
        vec![bson!(2.5), Bson::Null, Bson::Null, bson!(3_i64), Bson::Null]
    );
}

#[test]
fn empty_windows_have_the_operators_identity_or_null() {
    // Manual: $count and $sum give 0, $push and $addToSet [], the others null.
    let empty = bson!([10, 20]);
    assert_eq!(over(doc! {"$sum": "$v"}, empty.clone())[0], bson!(0));
    assert_eq!(over(doc! {"$count": {}}, empty.clone())[0], bson!(0));
    assert_eq!(over(doc! {"$push": "$v"}, empty.clone())[0], bson!([]));
    assert_eq!(over(doc! {"$addToSet": "$v"}, empty.clone())[0], bson!([]));
    for function in [
        doc! {"$avg": "$v"},
        doc! {"$max": "$v"},
        doc! {"$first": "$v"},
        doc! {"$stdDevPop": "$v"},
        doc! {"$firstN": {"input": "$v", "n": 2}},
        doc! {"$median": {"input": "$v", "method": "approximate"}},
        doc! {"$top": {"sortBy": {"t": 1}, "output": "$v"}},
    ] {
        assert_eq!(
            over(function.clone(), empty.clone())[0],
            Bson::Null,
            "{function}"
        );
    }
}

#[test]
fn new_accumulators_run_in_windows() {
    let running = bson!(["unbounded", "current"]);
    assert_eq!(
        over(doc! {"$stdDevPop": "$t"}, running.clone())[1],
        Bson::Double(0.5)
    );
    assert_eq!(
        over(doc! {"$minN": {"input": "$v", "n": 2}}, bson!([-1, 1])),
        vec![
            bson!([1, 2.5]),
            bson!([1, 2.5]),
            bson!([2.5]),
            bson!([3_i64]),
            bson!([3_i64])
        ]
    );
    assert_eq!(
        over(
            doc! {"$topN": {"n": 1, "sortBy": {"t": -1}, "output": "$_id"}},
            running
        ),
        vec![bson!([2]), bson!([3]), bson!([4]), bson!([5]), bson!([6])]
    );
    // n is evaluated against no document: a field is missing there.
    assert!(error(
        doc! {"sortBy": {"t": 1}, "output": {"r": {"$firstN": {"input": "$v", "n": "$t"}}}}
    )
    .starts_with("Value for 'n' must be of integral type"));
    assert_eq!(
        error(doc! {"sortBy": {"t": 1}, "output": {"r": {"$mergeObjects": "$v"}}}),
        "Unrecognized window function, $mergeObjects"
    );
}

#[test]
fn ranks_share_ties_and_null_ties_with_missing() {
    let ranks = |sort: Document| {
        let out = run_on(
            docs(),
            doc! {"partitionBy": "$p", "sortBy": sort, "output": {
                "rank": {"$rank": {}}, "dense": {"$denseRank": {}}, "n": {"$documentNumber": {}},
            }},
        )
        .unwrap();
        out.iter()
            .map(|d| {
                (
                    d.get_i32("_id").unwrap(),
                    d.get_i32("rank").unwrap(),
                    d.get_i32("dense").unwrap(),
                    d.get_i32("n").unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    // Partition a by v: missing (4) and null (5) tie first (manual's example).
    let by_v = ranks(doc! {"v": 1});
    assert_eq!(
        &by_v[2..7],
        &[
            (4, 1, 1, 1),
            (5, 1, 1, 2),
            (2, 3, 2, 3),
            (3, 4, 3, 4),
            (6, 5, 4, 5)
        ]
    );
    // Partition b by v descending: 20, then the two 10s tied.
    assert_eq!(&by_v[7..], &[(1, 1, 1, 1), (7, 1, 1, 2), (8, 3, 2, 3)]);
    assert_eq!(
        &ranks(doc! {"v": -1})[7..],
        &[(8, 1, 1, 1), (1, 2, 2, 2), (7, 2, 2, 3)]
    );
}

#[test]
fn rank_errors_match_the_server() {
    assert_eq!(
        error(doc! {"output": {"r": {"$rank": {}}}}),
        "$rank must be specified with a top level sortBy expression with exactly one element"
    );
    assert_eq!(
        error(doc! {"sortBy": {"t": 1, "v": 1}, "output": {"r": {"$denseRank": {}}}}),
        "$denseRank must be specified with a top level sortBy expression with exactly one element"
    );
    assert_eq!(
        error(doc! {"sortBy": {"t": 1}, "output": {"r": {"$rank": 1}}}),
        "$rank must be specified with '{}' as the value"
    );
    assert_eq!(
        error(
            doc! {"sortBy": {"t": 1}, "output": {"r": {"$rank": {}, "window": {"documents": [0, 1]}}}}
        ),
        "Rank style window functions take no other arguments"
    );
}

#[test]
fn shift_reads_another_document_or_the_default() {
    let shift = |arg: Document| partition_a(doc! {"$shift": arg});
    assert_eq!(
        shift(doc! {"output": "$t", "by": 1}),
        vec![bson!(2), bson!(3), bson!(4), bson!(5), Bson::Null]
    );
    assert_eq!(
        shift(doc! {"output": "$t", "by": -2, "default": "none"}),
        vec![bson!("none"), bson!("none"), bson!(1), bson!(2), bson!(3)]
    );
    // A missing value in the other document is null.
    assert_eq!(shift(doc! {"output": "$v", "by": 1})[1], Bson::Null);
    assert_eq!(
        shift(doc! {"output": "$t", "by": 1_i64, "default": {"$add": [1, 2]}})[4],
        bson!(3)
    );
    assert_eq!(shift(doc! {"output": "$t", "by": 2.0})[0], bson!(3));
    let err = |arg: Document| error(doc! {"sortBy": {"t": 1}, "output": {"r": {"$shift": arg}}});
    assert!(err(doc! {"output": "$v", "by": 1.5}).contains("must be an integer"));
    assert_eq!(
        err(doc! {"output": "$v"}),
        "$shift requires 'by' as an integer value."
    );
    assert_eq!(
        err(doc! {"by": 1}),
        "$shift requires an 'output' expression."
    );
    assert_eq!(
        err(doc! {"output": "$v", "by": 1, "default": "$t"}),
        "'$shift:default' expression must yield a constant value."
    );
    assert_eq!(
        error(doc! {"output": {"r": {"$shift": {"output": "$v", "by": 1}}}}),
        "'$shift' requires a sortBy"
    );
    assert_eq!(
        error(
            doc! {"sortBy": {"t": 1}, "output": {"r": {"$shift": {"output": "$v", "by": 1}, "window": {}}}}
        ),
        "$shift does not accept a 'window' field"
    );
}

#[test]
fn range_windows_over_a_numeric_sort_by() {
    let range = |bounds: Bson| partition_a(doc! {"$push": "$t", "window": {"range": bounds}});
    assert_eq!(
        range(bson!([-1, 0])),
        vec![
            bson!([1]),
            bson!([1, 2]),
            bson!([2, 3]),
            bson!([3, 4]),
            bson!([4, 5])
        ]
    );
    assert_eq!(
        range(bson!([0.5, 2])),
        vec![
            bson!([2, 3]),
            bson!([3, 4]),
            bson!([4, 5]),
            bson!([5]),
            bson!([])
        ]
    );
    // "current" is the current document, not every document of its value.
    let ties = vec![
        doc! {"_id": 1, "t": 1},
        doc! {"_id": 2, "t": 1},
        doc! {"_id": 3, "t": 2},
    ];
    let out = run_on(
        ties,
        doc! {"sortBy": {"t": 1}, "output": {"r": {"$push": "$_id", "window": {"range": ["unbounded", "current"]}}}},
    )
    .unwrap();
    let got: Vec<Bson> = out.iter().map(|d| d.get("r").cloned().unwrap()).collect();
    assert_eq!(got, vec![bson!([1]), bson!([1, 2]), bson!([1, 2, 3])]);
    // Every sortBy value must be a number (here null and missing are not).
    assert_eq!(
        error(
            doc! {"sortBy": {"v": 1}, "output": {"r": {"$sum": 1, "window": {"range": [-1, 0]}}}}
        ),
        "Invalid range: Expected the sortBy field to be a number, but it was missing"
    );
    assert_eq!(
        error(
            doc! {"sortBy": {"t": -1}, "output": {"r": {"$sum": 1, "window": {"range": [-1, 0]}}}}
        ),
        "Range-based bounds require an ascending sortBy"
    );
    assert_eq!(
        error(
            doc! {"sortBy": {"t": 1, "v": 1}, "output": {"r": {"$sum": 1, "window": {"range": [-1, 0]}}}}
        ),
        "Range-based bounds require sortBy a single field"
    );
    // A unit needs dates in the sortBy field.
    assert_eq!(
        error(
            doc! {"sortBy": {"t": 1}, "output": {"r": {"$sum": 1, "window": {"range": [-1, 0], "unit": "day"}}}}
        ),
        "Invalid range: Expected the sortBy field to be a Date, but it was int"
    );
}

#[test]
fn window_bounds_errors_match_the_server() {
    let bounds = |window: Document| {
        error(doc! {"sortBy": {"t": 1}, "output": {"r": {"$sum": "$v", "window": window}}})
    };
    assert_eq!(
        bounds(doc! {"documents": [1, -1]}),
        "Lower bound must not exceed upper bound: [1, -1]"
    );
    assert_eq!(
        bounds(doc! {"documents": ["current", -1]}),
        "Lower bound must not exceed upper bound: [0, -1]"
    );
    assert_eq!(
        bounds(doc! {"documents": [0.5, 1]}),
        "Numeric document-based bounds must be an integer"
    );
    assert_eq!(
        bounds(doc! {"documents": ["unbounded", "later"]}),
        "Window bounds must be 'unbounded', 'current', or a number."
    );
    assert!(bounds(doc! {"documents": [1]}).starts_with("Window bounds must be a 2-element array"));
    assert_eq!(
        bounds(doc! {"documents": [0, 1], "range": [0, 1]}),
        "Window bounds can specify either 'documents' or 'unit', not both."
    );
    assert_eq!(
        bounds(doc! {"documents": [0, 1], "x": 1}),
        "'window' field that specifies documents cannot have other fields"
    );
    assert_eq!(
        bounds(doc! {"x": 1}),
        "'window' field can only contain 'documents' as the only argument or 'range' with an \
         optional 'unit' field"
    );
    // Bounded windows need a sortBy; the whole partition does not.
    assert_eq!(
        error(
            doc! {"output": {"r": {"$sum": "$v", "window": {"documents": ["unbounded", "current"]}}}}
        ),
        "Document-based bounds require a sortBy"
    );
    assert!(run_on(
        docs(),
        doc! {"output": {"r": {"$sum": "$v", "window": {"documents": ["unbounded", "unbounded"]}}}}
    )
    .is_ok());
    // Constant expressions are bounds too.
    assert_eq!(
        over(doc! {"$count": {}}, bson!([{"$subtract": [0, 1]}, 0]))[1],
        bson!(2)
    );
}

#[test]
fn stage_errors_match_the_server() {
    assert_eq!(
        error(doc! {"sortBy": {"t": 1}, "output": {"r": {"$bogus": 1}}}),
        "Unrecognized window function, $bogus"
    );
    assert_eq!(
        error(doc! {"sortBy": {"t": 1}, "output": {"r": {"sum": 1}}}),
        "Expected a $-prefixed window function, sum"
    );
    assert_eq!(
        error(doc! {"sortBy": {"t": 1}, "output": {"r": {"$sum": 1, "extra": 1}}}),
        "Window function found an unknown argument: extra"
    );
    assert_eq!(
        error(doc! {"sortBy": {"t": 1}, "output": {"r": {"$sum": 1, "$avg": 1}}}),
        "Cannot specify two functions in window function spec"
    );
    assert_eq!(
        error(doc! {"sortBy": {"t": 1}, "output": {"r": 1}}),
        "The field 'r' must be an object"
    );
    assert_eq!(
        error(doc! {"sortBy": {"t": 1}, "output": {"r": {"$sum": 1}, "r.s": {"$sum": 1}}}),
        "$setWindowFields 'output' specification contains two conflicting paths"
    );
    assert!(
        error(doc! {"sortBy": {"t": 1}, "output": {"r": {"$minMaxScalar": {"input": "$v"}}}})
            .contains("not supported")
    );
    assert_eq!(
        error(doc! {"sortBy": {"t": 1}}),
        "BSON field '$setWindowFields.output' is missing but a required field"
    );
    assert_eq!(
        error(doc! {"output": {}, "partition": "$p"}),
        "BSON field '$setWindowFields.partition' is an unknown field."
    );
    assert_eq!(
        error(doc! {"partitionBy": ["$p"], "output": {"r": {"$sum": 1}}}),
        "An expression used to partition cannot evaluate to value of type array"
    );
    match Pipeline::parse(&[doc! {"$setWindowFields": 1}]) {
        Err(e) => assert_eq!(
            e.message(),
            "the $setWindowFields stage specification must be an object, found int"
        ),
        Ok(_) => panic!("accepted"),
    }
}

#[test]
fn outputs_may_be_dotted_and_may_replace_fields() {
    let out = run_on(
        vec![doc! {"_id": 1, "t": 1, "v": 5, "o": {"keep": true}}],
        doc! {"sortBy": {"t": 1}, "output": {
            "o.sum": {"$sum": "$v"},
            "v": {"$push": "$v"},
        }},
    )
    .unwrap();
    assert_eq!(
        out,
        vec![doc! {"_id": 1, "t": 1, "v": [5], "o": {"keep": true, "sum": 5}}]
    );
}

#[test]
fn long_partitions_stay_linear_for_growing_windows() {
    // 20,000 documents: a quadratic running sum would take seconds; the
    // growing window adds each input once.
    let docs: Vec<Document> = (0..20_000)
        .map(|i| doc! {"_id": i, "t": i, "v": 1})
        .collect();
    let out = run_on(
        docs,
        doc! {"sortBy": {"t": 1}, "output": {
            "sum": {"$sum": "$v", "window": {"documents": ["unbounded", "current"]}},
            "best": {"$max": "$t", "window": {"documents": ["unbounded", "current"]}},
            "avg": {"$avg": "$v", "window": {"documents": [-2, 0]}},
        }},
    )
    .unwrap();
    let last = out.last().unwrap();
    assert_eq!(last.get("sum"), Some(&Bson::Int32(20_000)));
    assert_eq!(last.get("best"), Some(&Bson::Int32(19_999)));
    assert_eq!(last.get("avg"), Some(&Bson::Double(1.0)));
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    /// Values for bounds, `n`, inputs and sort keys: extremes of every type.
    fn value() -> impl Strategy<Value = Bson> {
        prop_oneof![
            Just(Bson::Null),
            Just(Bson::String("unbounded".into())),
            Just(Bson::String("current".into())),
            Just(Bson::String("$a".into())),
            prop_oneof![Just(0), Just(1), Just(-1), Just(i32::MAX), Just(i32::MIN)]
                .prop_map(Bson::Int32),
            prop_oneof![Just(i64::MAX), Just(i64::MIN), Just(3)].prop_map(Bson::Int64),
            prop_oneof![Just(0.5), Just(f64::NAN), Just(1e300), Just(-1e300)]
                .prop_map(Bson::Double),
            Just(Bson::Decimal128("-1E+6000".parse().unwrap())),
            Just(bson!([1, "x"])),
        ]
    }

    /// One output field's window function, with an optional window.
    fn function() -> impl Strategy<Value = Document> {
        let name = prop::sample::select(vec![
            "$sum",
            "$avg",
            "$max",
            "$push",
            "$stdDevPop",
            "$median",
            "$firstN",
            "$maxN",
            "$topN",
            "$bottom",
            "$rank",
            "$denseRank",
            "$documentNumber",
            "$shift",
            "$count",
        ]);
        let window = prop_oneof![
            Just(None),
            (value(), value()).prop_map(|(lo, hi)| Some(doc! {"documents": [lo, hi]})),
            (value(), value()).prop_map(|(lo, hi)| Some(doc! {"range": [lo, hi]})),
        ];
        (name, value(), window).prop_map(|(name, v, window)| {
            let arg = match name {
                "$rank" | "$denseRank" | "$documentNumber" | "$count" => bson!({}),
                "$median" => bson!({"input": "$a", "method": "approximate"}),
                "$firstN" | "$maxN" => bson!({"input": "$a", "n": v}),
                "$topN" => bson!({"n": v, "sortBy": {"b": 1}, "output": "$a"}),
                "$bottom" => bson!({"sortBy": {"a": -1}, "output": "$b"}),
                "$shift" => bson!({"output": "$a", "by": v, "default": 0}),
                _ => bson!("$a"),
            };
            let mut out = doc! {name: arg};
            if let Some(window) = window {
                out.insert("window", window);
            }
            out
        })
    }

    proptest! {
        #[test]
        fn never_panics(
            functions in prop::collection::vec(function(), 1..3),
            sort in prop_oneof![Just(None), Just(Some(doc! {"a": 1})), Just(Some(doc! {"a": -1, "b": 1}))],
            docs in prop::collection::vec((value(), value()), 0..6),
        ) {
            let mut spec = doc! {"partitionBy": "$b"};
            if let Some(sort) = sort {
                spec.insert("sortBy", sort);
            }
            let output: Document = functions
                .into_iter()
                .enumerate()
                .map(|(i, f)| (format!("f{i}"), Bson::Document(f)))
                .collect();
            spec.insert("output", output);
            let docs = docs.into_iter().map(|(a, b)| doc! {"a": a, "b": b}).collect::<Vec<_>>();
            let _ = run_on(docs, spec);
        }
    }
}

/// Days since 2024-01-01 as dates, `v` numbers with gaps: the series suite.
fn series() -> Vec<Document> {
    let day = |d: f64| {
        Bson::DateTime(bson::DateTime::from_millis(
            (1_704_067_200_000.0 + d * 86_400_000.0) as i64,
        ))
    };
    vec![
        doc! {"_id": 1, "t": 0, "d": day(0.0), "v": 1},
        doc! {"_id": 2, "t": 1, "d": day(1.0), "v": 2.5},
        doc! {"_id": 3, "t": 3, "d": day(3.0)},
        doc! {"_id": 4, "t": 4, "d": day(3.5), "v": null},
        doc! {"_id": 5, "t": 7, "d": day(7.0), "v": 4},
    ]
}

/// The `r` of each series document for one output, sorted by `sort`.
fn series_column(sort: &str, output: Document) -> QueryResult<Vec<Bson>> {
    let stage = doc! {"sortBy": {sort: 1}, "output": {"r": output}};
    Ok(run_on(series(), stage)?
        .iter()
        .map(|d| d.get("r").cloned().unwrap_or(Bson::Null))
        .collect())
}

#[test]
fn range_windows_with_a_unit_count_calendar_units_on_dates() {
    let ids =
        |window: Document| series_column("d", doc! {"$push": "$_id", "window": window}).unwrap();
    // Server: the same, including 3.5 days falling in [-1, 0] day of day 4? no: of day 3.5.
    assert_eq!(
        ids(doc! {"range": [-1, 0], "unit": "day"}),
        vec![
            bson!([1]),
            bson!([1, 2]),
            bson!([3]),
            bson!([3, 4]),
            bson!([5])
        ]
    );
    assert_eq!(
        ids(doc! {"range": [-36, 0], "unit": "hour"}),
        vec![
            bson!([1]),
            bson!([1, 2]),
            bson!([3]),
            bson!([3, 4]),
            bson!([5])
        ]
    );
    assert_eq!(
        ids(doc! {"range": ["unbounded", -1], "unit": "week"}),
        vec![bson!([]), bson!([]), bson!([]), bson!([]), bson!([1])]
    );
    assert_eq!(
        ids(doc! {"range": [0, 1], "unit": "month"}),
        vec![
            bson!([1, 2, 3, 4, 5]),
            bson!([2, 3, 4, 5]),
            bson!([3, 4, 5]),
            bson!([4, 5]),
            bson!([5])
        ]
    );
    let message = |window: Document| {
        series_column("d", doc! {"$sum": 1, "window": window})
            .unwrap_err()
            .message()
            .to_owned()
    };
    assert_eq!(
        message(doc! {"range": [-1.5, 0], "unit": "day"}),
        "With 'unit', range-based bounds must be an integer"
    );
    assert_eq!(
        message(doc! {"range": [-1, 0], "unit": 1}),
        "'unit' must be a string"
    );
    assert!(
        message(doc! {"range": [-1, 0], "unit": "days"}).contains("unknown time unit value: days")
    );
    // Dates without a unit are not numbers.
    assert_eq!(
        message(doc! {"range": [-1, 0]}),
        "Invalid range: Expected the sortBy field to be a number, but it was date"
    );
}

#[test]
fn first_and_last_read_only_the_window_ends() {
    // $size fails on every document but the last: $last over [0, 1] reads
    // only each window's last document, which has an array from id 4 on.
    let mut docs = series();
    docs[4].insert("a", bson!([1, 2]));
    docs[3].insert("a", bson!([1]));
    let stage = doc! {"sortBy": {"t": 1}, "output": {"r": {"$last": {"$size": "$a"}, "window": {"documents": [1, 1]}}}};
    assert!(run_on(docs.clone(), stage).is_err()); // id 1's window ends at id 2, no array
    let stage = doc! {"sortBy": {"t": 1}, "output": {"r": {"$first": {"$size": "$a"}, "window": {"documents": [3, 4]}}}};
    let out = run_on(docs, stage).unwrap();
    let r: Vec<_> = out.iter().map(|d| d.get("r").cloned().unwrap()).collect();
    assert_eq!(
        r,
        vec![bson!(1), bson!(2), Bson::Null, Bson::Null, Bson::Null]
    );
    // Missing at the end is null; the default window is the partition.
    assert_eq!(
        series_column("t", doc! {"$last": "$v", "window": {"documents": [0, 2]}}).unwrap(),
        vec![Bson::Null, bson!(null), bson!(4), bson!(4), bson!(4)]
    );
    assert_eq!(
        series_column("t", doc! {"$first": "$v"}).unwrap(),
        vec![bson!(1); 5]
    );
}

#[test]
fn locf_and_linear_fill_fill_the_gaps() {
    assert_eq!(
        series_column("t", doc! {"$locf": "$v"}).unwrap(),
        vec![bson!(1), bson!(2.5), bson!(2.5), bson!(2.5), bson!(4)]
    );
    // Between (1, 2.5) and (7, 4): 2.5 + (x - 1) * 1.5 / 6.
    assert_eq!(
        series_column("t", doc! {"$linearFill": "$v"}).unwrap(),
        vec![bson!(1), bson!(2.5), bson!(3.0), bson!(3.25), bson!(4)]
    );
    // Over dates the run is in milliseconds; the shape is the same.
    assert_eq!(
        series_column("d", doc! {"$linearFill": "$v"}).unwrap(),
        vec![bson!(1), bson!(2.5), bson!(3.0), bson!(3.125), bson!(4)]
    );
    let message = |output: Document| series_column("t", output).unwrap_err().message().to_owned();
    assert!(message(doc! {"$locf": "$v", "window": {"documents": [-1, 0]}}).contains("'window'"));
    assert!(message(doc! {"$linearFill": "$_id", "x": 1}).contains("unexpected argument: x"));
    let stage = doc! {"output": {"r": {"$linearFill": "$v"}}};
    assert!(run_on(series(), stage).is_err());
}

#[test]
fn exp_moving_avg_weights_each_number_alpha() {
    // alpha = 2 / (N + 1) = 0.5 for N = 3; non-numbers keep the average.
    assert_eq!(
        series_column("t", doc! {"$expMovingAvg": {"input": "$v", "N": 3}}).unwrap(),
        vec![
            bson!(1.0),
            bson!(1.75),
            bson!(1.75),
            bson!(1.75),
            bson!(2.875)
        ]
    );
    assert_eq!(
        series_column("t", doc! {"$expMovingAvg": {"input": "$v", "alpha": 0.25}}).unwrap(),
        vec![
            bson!(1.0),
            bson!(1.375),
            bson!(1.375),
            bson!(1.375),
            bson!(2.03125)
        ]
    );
    // A decimal input makes the result decimal.
    let out = run_on(
        vec![doc! {"_id": 1, "t": 1, "v": 1}, doc! {"_id": 2, "t": 2, "v": Bson::Decimal128("2".parse().unwrap())}],
        doc! {"sortBy": {"t": 1}, "output": {"r": {"$expMovingAvg": {"input": "$v", "alpha": 0.5}}}},
    )
    .unwrap();
    match out[1].get("r") {
        Some(Bson::Decimal128(d)) => assert_eq!(crate::compare::decimal_to_f64(d), 1.5),
        other => panic!("{other:?}"),
    }
    let message = |arg: Bson| {
        series_column("t", doc! {"$expMovingAvg": arg})
            .unwrap_err()
            .message()
            .to_owned()
    };
    assert!(message(bson!({"input": "$v", "N": 0})).contains("greater than zero"));
    assert!(message(bson!({"input": "$v", "N": 1.5})).contains("must be an integer"));
    assert!(message(bson!({"input": "$v", "alpha": 1})).contains("between 0 and 1"));
    assert!(message(bson!({"input": "$v"})).contains("exactly two fields"));
    assert!(message(bson!({"input": "$v", "N": 2, "alpha": 0.5})).contains("exactly two fields"));
    let stage = doc! {"output": {"r": {"$expMovingAvg": {"input": "$v", "N": 2}}}};
    assert!(run_on(series(), stage).is_err());
}

#[test]
fn derivative_and_integral_over_numbers_and_dates() {
    let ids = |output: Document, sort: &str| series_column(sort, output).unwrap();
    // (id - previous id) / (t - previous t); the first window has one document.
    assert_eq!(
        ids(
            doc! {"$derivative": {"input": "$_id"}, "window": {"documents": [-1, 0]}},
            "t"
        ),
        vec![
            Bson::Null,
            bson!(1.0),
            bson!(0.5),
            bson!(1.0),
            bson!(1.0 / 3.0)
        ]
    );
    // Per day over dates.
    assert_eq!(
        ids(
            doc! {"$derivative": {"input": "$_id", "unit": "day"}, "window": {"documents": [-1, 0]}},
            "d"
        ),
        vec![
            Bson::Null,
            bson!(1.0),
            bson!(0.5),
            bson!(2.0),
            bson!(1.0 / 3.5)
        ]
    );
    // Trapezoids of the ids: running total.
    assert_eq!(
        ids(
            doc! {"$integral": {"input": "$_id"}, "window": {"documents": ["unbounded", "current"]}},
            "t"
        ),
        vec![bson!(0.0), bson!(1.5), bson!(6.5), bson!(10.0), bson!(23.5)]
    );
    assert_eq!(
        ids(
            doc! {"$integral": {"input": "$_id", "unit": "day"}, "window": {"documents": ["unbounded", "current"]}},
            "d"
        ),
        vec![bson!(0.0), bson!(1.5), bson!(6.5), bson!(8.25), bson!(24.0)]
    );
    let message = |output: Document, sort: &str| {
        series_column(sort, output)
            .unwrap_err()
            .message()
            .to_owned()
    };
    assert_eq!(
        message(doc! {"$derivative": {"input": "$_id"}}, "t"),
        "$derivative requires explicit window bounds"
    );
    assert_eq!(
        message(
            doc! {"$derivative": {"input": "$_id"}, "window": {"documents": [-1, 0]}},
            "d"
        ),
        "$derivative where the sortBy is a Date requires an 'unit'"
    );
    assert_eq!(
        message(
            doc! {"$derivative": {"input": "$_id", "unit": "day"}, "window": {"documents": [-1, 0]}},
            "t"
        ),
        "$derivative with 'unit' expects the sortBy field to be a Date"
    );
    assert!(message(
        doc! {"$derivative": {"input": "$_id", "unit": "month"}, "window": {"documents": [-1, 0]}},
        "d"
    )
    .contains("'week' or smaller"));
    assert_eq!(
        message(
            doc! {"$derivative": {"input": "$v"}, "window": {"documents": [-1, 0]}},
            "t"
        ),
        "$derivative input must not be null or missing"
    );
    assert!(message(doc! {"$integral": {"input": "$v"}}, "t").contains("must be numeric"));
}

#[test]
fn covariances_of_numeric_pairs() {
    let cov = |name: &str, window: Bson| {
        let mut output = doc! {name: ["$t", "$_id"]};
        output.insert("window", doc! {"documents": window});
        series_column("t", output).unwrap()
    };
    // t = 0, 1, 3, 4, 7 and id = 1..5: means 3 and 3, sum of products 17.
    assert_eq!(
        cov("$covariancePop", bson!(["unbounded", "unbounded"]))[0],
        bson!(3.4)
    );
    assert_eq!(
        cov("$covarianceSamp", bson!(["unbounded", "unbounded"]))[0],
        bson!(4.25)
    );
    // One pair: the population covariance is 0, the sample one null.
    assert_eq!(cov("$covariancePop", bson!([0, 0]))[0], bson!(0.0));
    assert_eq!(cov("$covarianceSamp", bson!([0, 0]))[0], Bson::Null);
    // Pairs with a non-number are skipped.
    let out = series_column("t", doc! {"$covariancePop": ["$v", "$_id"]}).unwrap();
    // v = 1, 2.5, 4 at ids 1, 2, 5: means 2.5 and 8/3.
    let expected = ((1.0 - 2.5) * (1.0 - 8.0 / 3.0) + 0.0 + (4.0 - 2.5) * (5.0 - 8.0 / 3.0)) / 3.0;
    match &out[0] {
        Bson::Double(x) => assert!((x - expected).abs() < 1e-12, "{x}"),
        other => panic!("{other}"),
    }
}
