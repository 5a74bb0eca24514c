//! Tests of `$replaceRoot`/`$replaceWith`, `$sortByCount`, `$bucket`,
//! `$bucketAuto`, `$facet`, `$sample`, `$lookup`, `$unionWith` and the
//! `$sort`+`$limit` top-k. "Server:" comments give what MongoDB returns.

use bson::{bson, doc, Bson, Decimal128, Document};

use super::*;

fn run(docs: Vec<Document>, stages: Vec<Document>) -> QueryResult<Vec<Document>> {
    Pipeline::parse(&stages)?.run(docs.into_iter())
}

fn ok(docs: Vec<Document>, stages: Vec<Document>) -> Vec<Document> {
    run(docs, stages).unwrap()
}

/// The message of a pipeline refused at parse time.
fn parse_err(stages: Vec<Document>) -> String {
    match Pipeline::parse(&stages) {
        Err(e) => e.message().to_owned(),
        Ok(p) => panic!("expected an error, parsed {p:?}"),
    }
}

/// The message of a pipeline that fails while running.
fn run_err(docs: Vec<Document>, stages: Vec<Document>) -> String {
    match run(docs, stages) {
        Err(e) => e.message().to_owned(),
        Ok(out) => panic!("expected an error, got {out:?}"),
    }
}

/// Runs with foreign experiments.
fn run_with(
    docs: Vec<Document>,
    foreign: &[(&str, Vec<Document>)],
    stages: Vec<Document>,
) -> QueryResult<Vec<Document>> {
    let pipeline = Pipeline::parse(&stages)?;
    let mut env = Env::default();
    for (name, docs) in foreign {
        env.insert((*name).to_owned(), docs.clone());
    }
    pipeline.run_in(docs.into_iter(), &env)
}

fn dec(text: &str) -> Bson {
    Bson::Decimal128(text.parse::<Decimal128>().unwrap())
}

fn ids(docs: &[Document]) -> Vec<Bson> {
    docs.iter()
        .map(|d| d.get("_id").cloned().unwrap())
        .collect()
}

// --- $replaceRoot / $replaceWith -------------------------------------------

#[test]
fn replace_root_promotes_a_document() {
    let docs = vec![doc! {"_id": 1, "a": {"b": 1, "c": [1]}}];
    assert_eq!(
        ok(docs.clone(), vec![doc! {"$replaceRoot": {"newRoot": "$a"}}]),
        vec![doc! {"b": 1, "c": [1]}]
    );
    assert_eq!(
        ok(
            docs,
            vec![doc! {"$replaceWith": {"x": "$a.b", "y": "$missing"}}]
        ),
        vec![doc! {"x": 1}]
    );
}

#[test]
fn replace_root_refuses_non_documents() {
    // Server: "'newRoot' expression must evaluate to an object, but resulting
    // value was: 1. Type of resulting value: 'int'. Input document: {...}"
    let e = run_err(
        vec![doc! {"a": 1}],
        vec![doc! {"$replaceRoot": {"newRoot": "$a"}}],
    );
    assert!(e.starts_with("'newRoot' expression must evaluate to an object, but resulting value was: 1. Type of resulting value: 'int'"), "{e}");
    let e = run_err(vec![doc! {}], vec![doc! {"$replaceWith": "$a"}]);
    assert!(e.contains("MISSING") && e.contains("'missing'"), "{e}");
    let e = run_err(vec![doc! {"a": [{}]}], vec![doc! {"$replaceWith": "$a"}]);
    assert!(e.contains("'array'"), "{e}");
    assert!(parse_err(vec![doc! {"$replaceRoot": {}}]).contains("no newRoot"));
    assert!(
        parse_err(vec![doc! {"$replaceRoot": {"newRoot": "$a", "x": 1}}])
            .contains("unrecognized option")
    );
    assert!(parse_err(vec![doc! {"$replaceRoot": "$a"}]).contains("expected an object"));
    // No input, no error.
    assert!(ok(vec![], vec![doc! {"$replaceWith": "$a"}]).is_empty());
}

// --- $sortByCount ----------------------------------------------------------

#[test]
fn sort_by_count_groups_and_sorts() {
    let docs = vec![
        doc! {"t": "a"},
        doc! {"t": "b"},
        doc! {"t": "b"},
        doc! {"t": 1},
        doc! {"t": 1.0},
        doc! {"t": 1_i64},
        doc! {},
    ];
    assert_eq!(
        ok(docs, vec![doc! {"$sortByCount": "$t"}]),
        vec![
            doc! {"_id": 1, "count": 3},
            doc! {"_id": "b", "count": 2},
            doc! {"_id": "a", "count": 1},
            doc! {"_id": null, "count": 1},
        ]
    );
    assert_eq!(
        ok(
            vec![doc! {"a": 1}, doc! {"a": 2}],
            vec![doc! {"$sortByCount": {"$mod": ["$a", 2]}}]
        )
        .len(),
        2
    );
    for bad in [bson!("t"), bson!(1), bson!({"a": "$t"}), bson!({})] {
        parse_err(vec![doc! {"$sortByCount": bad}]);
    }
}

// --- $bucket ---------------------------------------------------------------

fn bucket_docs() -> Vec<Document> {
    vec![
        doc! {"_id": 1, "v": 0},
        doc! {"_id": 2, "v": 4.5},
        doc! {"_id": 3, "v": 5_i64},
        doc! {"_id": 4, "v": 9},
        doc! {"_id": 5, "v": 10},
        doc! {"_id": 6, "v": "x"},
        doc! {"_id": 7},
        doc! {"_id": 8, "v": null},
    ]
}

#[test]
fn bucket_groups_between_boundaries() {
    let out = ok(
        bucket_docs(),
        vec![doc! {"$bucket": {"groupBy": "$v", "boundaries": [0, 5, 10], "default": "other"}}],
    );
    assert_eq!(
        out,
        vec![
            doc! {"_id": 0, "count": 2},
            doc! {"_id": 5, "count": 2},
            doc! {"_id": "other", "count": 4},
        ]
    );
    // With output: only the named fields; accumulators as in $group.
    let out = ok(
        bucket_docs(),
        vec![doc! {"$bucket": {
            "groupBy": "$v",
            "boundaries": [0, 5, 10],
            "default": -1,
            "output": {"ids": {"$push": "$_id"}, "total": {"$sum": "$v"}}
        }}],
    );
    assert_eq!(
        out,
        vec![
            doc! {"_id": -1, "ids": [5, 6, 7, 8], "total": 10},
            doc! {"_id": 0, "ids": [1, 2], "total": 4.5},
            doc! {"_id": 5, "ids": [3, 4], "total": 14_i64},
        ]
    );
}

#[test]
fn bucket_without_default_fails_outside_the_boundaries() {
    // Server: "$switch could not find a matching branch for an input, and no
    // default was specified."
    let e = run_err(
        bucket_docs(),
        vec![doc! {"$bucket": {"groupBy": "$v", "boundaries": [0, 5, 10]}}],
    );
    assert!(e.contains("could not find a matching branch"), "{e}");
    // Every value inside: fine; the empty input gives no buckets.
    assert_eq!(
        ok(
            vec![doc! {"v": 1}],
            vec![doc! {"$bucket": {"groupBy": "$v", "boundaries": [0, 5]}}]
        ),
        vec![doc! {"_id": 0, "count": 1}]
    );
    assert!(ok(
        vec![],
        vec![doc! {"$bucket": {"groupBy": "$v", "boundaries": [0, 5]}}]
    )
    .is_empty());
}

#[test]
fn bucket_boundaries_fold_constants_and_keep_their_types() {
    let out = ok(
        vec![doc! {"v": 2}, doc! {"v": 7}],
        vec![doc! {"$bucket": {"groupBy": "$v", "boundaries": [0.0, {"$add": [2, 3]}, dec("10")]}}],
    );
    assert_eq!(
        out,
        vec![doc! {"_id": 0.0, "count": 1}, doc! {"_id": 5, "count": 1}]
    );
    // Strings bucket by string order.
    let out = ok(
        vec![doc! {"s": "apple"}, doc! {"s": "m"}],
        vec![doc! {"$bucket": {"groupBy": "$s", "boundaries": ["a", "n", "z"]}}],
    );
    assert_eq!(out, vec![doc! {"_id": "a", "count": 2}]);
}

#[test]
fn bucket_specification_errors() {
    let bad: Vec<Document> = vec![
        doc! {"groupBy": "v", "boundaries": [0, 1]},
        doc! {"groupBy": 1, "boundaries": [0, 1]},
        doc! {"groupBy": "$v", "boundaries": [0]},
        doc! {"groupBy": "$v", "boundaries": 1},
        doc! {"groupBy": "$v", "boundaries": [0, "a"]},
        doc! {"groupBy": "$v", "boundaries": [5, 1]},
        doc! {"groupBy": "$v", "boundaries": [1, 1]},
        doc! {"groupBy": "$v", "boundaries": [0, "$x"]},
        doc! {"groupBy": "$v", "boundaries": [0, 5], "default": 2},
        doc! {"groupBy": "$v", "boundaries": [0, 5], "default": "$x"},
        doc! {"groupBy": "$v", "boundaries": [0, 5], "output": 1},
        doc! {"groupBy": "$v", "boundaries": [0, 5], "output": {"n": 1}},
        doc! {"groupBy": "$v", "boundaries": [0, 5], "output": {"_id": {"$sum": 1}}},
        doc! {"groupBy": "$v", "boundaries": [0, 5], "x": 1},
        doc! {"boundaries": [0, 5]},
        doc! {"groupBy": "$v"},
    ];
    for spec in bad {
        parse_err(vec![doc! {"$bucket": spec}]);
    }
    parse_err(vec![doc! {"$bucket": 1}]);
    // A default equal to the highest boundary, or of another type, is fine.
    for default in [bson!(5), bson!(-1), bson!("x"), bson!(null)] {
        Pipeline::parse(&[
            doc! {"$bucket": {"groupBy": "$v", "boundaries": [0, 5], "default": default}},
        ])
        .unwrap();
    }
}

// --- $bucketAuto -----------------------------------------------------------

fn numbers(values: &[i32]) -> Vec<Document> {
    values.iter().map(|v| doc! {"_id": *v, "v": *v}).collect()
}

#[test]
fn bucket_auto_cuts_sorted_input_evenly() {
    // Server (5 documents, 2 buckets): round(2.5) = 3 per bucket.
    let out = ok(
        numbers(&[5, 1, 4, 2, 3]),
        vec![doc! {"$bucketAuto": {"groupBy": "$v", "buckets": 2}}],
    );
    assert_eq!(
        out,
        vec![
            doc! {"_id": {"min": 1, "max": 4}, "count": 3},
            doc! {"_id": {"min": 4, "max": 5}, "count": 2},
        ]
    );
    // Equal keys stay in one bucket; fewer buckets than asked for.
    let out = ok(
        numbers(&[1, 1, 1, 1, 2]),
        vec![
            doc! {"$bucketAuto": {"groupBy": "$v", "buckets": 3, "output": {"ids": {"$push": "$_id"}}}},
        ],
    );
    assert_eq!(
        out,
        vec![
            doc! {"_id": {"min": 1, "max": 2}, "ids": [1, 1, 1, 1]},
            doc! {"_id": {"min": 2, "max": 2}, "ids": [2]},
        ]
    );
    // More buckets than documents: one document each.
    let out = ok(
        numbers(&[3, 1]),
        vec![doc! {"$bucketAuto": {"groupBy": "$v", "buckets": 5}}],
    );
    assert_eq!(
        out,
        vec![
            doc! {"_id": {"min": 1, "max": 3}, "count": 1},
            doc! {"_id": {"min": 3, "max": 3}, "count": 1},
        ]
    );
    // Missing keys are null and sort first; mixed types follow BSON order.
    let out = ok(
        vec![doc! {"v": "s"}, doc! {}, doc! {"v": 2}],
        vec![doc! {"$bucketAuto": {"groupBy": "$v", "buckets": 3}}],
    );
    assert_eq!(
        ids(&out),
        vec![
            bson!({"min": null, "max": 2}),
            bson!({"min": 2, "max": "s"}),
            bson!({"min": "s", "max": "s"}),
        ]
    );
    assert!(ok(
        vec![],
        vec![doc! {"$bucketAuto": {"groupBy": "$v", "buckets": 2}}]
    )
    .is_empty());
}

#[test]
fn bucket_auto_granularity_rounds_boundaries() {
    // Server: R5 over 1..=5 in 2 buckets: min 0.63, 4.0, max 6.300000000000001.
    let out = ok(
        numbers(&[1, 2, 3, 4, 5]),
        vec![doc! {"$bucketAuto": {"groupBy": "$v", "buckets": 2, "granularity": "R5"}}],
    );
    assert_eq!(
        ids(&out),
        vec![
            bson!({"min": 0.63, "max": 4.0}),
            bson!({"min": 4.0, "max": 6.300000000000001}),
        ]
    );
    // 1-2-5 and powers of two.
    let out = ok(
        numbers(&[1, 3, 12, 40]),
        vec![doc! {"$bucketAuto": {"groupBy": "$v", "buckets": 2, "granularity": "1-2-5"}}],
    );
    assert_eq!(
        ids(&out),
        vec![
            bson!({"min": 0.5, "max": 5.0}),
            bson!({"min": 5.0, "max": 50.0}),
        ]
    );
    let out = ok(
        numbers(&[1, 3, 12, 40]),
        vec![doc! {"$bucketAuto": {"groupBy": "$v", "buckets": 2, "granularity": "POWERSOF2"}}],
    );
    assert_eq!(
        ids(&out),
        vec![bson!({"min": 0.5, "max": 4}), bson!({"min": 4, "max": 64})]
    );
    // A first bucket of zeros ends at the next key rounded down.
    let out = ok(
        numbers(&[0, 0, 7]),
        vec![doc! {"$bucketAuto": {"groupBy": "$v", "buckets": 2, "granularity": "E6"}}],
    );
    assert_eq!(
        ids(&out),
        vec![
            bson!({"min": 0, "max": 6.800000000000001}),
            bson!({"min": 6.800000000000001, "max": 10.0}),
        ]
    );
}

#[test]
fn bucket_auto_granularity_keeps_equal_zero_keys_together() {
    // Server (8.x): keys equal to a bucket's last key join it even when the
    // rounded boundary does not exceed them (zero rounds to zero).
    let out = ok(
        numbers(&[0, 0, 0, 7]),
        vec![doc! {"$bucketAuto": {"groupBy": "$v", "buckets": 3, "granularity": "E6"}}],
    );
    assert_eq!(
        out,
        vec![
            doc! {"_id": {"min": 0, "max": 6.800000000000001}, "count": 3},
            doc! {"_id": {"min": 6.800000000000001, "max": 10.0}, "count": 1},
        ]
    );
}

#[test]
fn granularity_series_round_as_the_server() {
    let g = |name: &str| granularity::lookup(name).unwrap();
    // Server (E6): roundUp(0.8) = 1.0, roundDown(0.8) = 0.68.
    assert_eq!(g("E6").round_up(&bson!(0.8)).unwrap(), bson!(1.0));
    assert_eq!(g("E6").round_down(&bson!(0.8)).unwrap(), bson!(0.68));
    assert_eq!(g("R10").round_up(&bson!(100)).unwrap(), bson!(125.0));
    assert_eq!(g("E192").round_down(&bson!(1000)).unwrap(), bson!(988.0));
    assert_eq!(g("R80").round_up(&bson!(1)).unwrap(), bson!(1.03));
    // Zero stays as it is.
    assert_eq!(g("R5").round_up(&bson!(0_i64)).unwrap(), bson!(0_i64));
    // Decimals round in decimal, with the series' 15 significant digits.
    assert_eq!(
        g("R5").round_up(&dec("1.2")).unwrap(),
        dec("1.60000000000000")
    );
    // Powers of two: ints stay integers.
    assert_eq!(g("POWERSOF2").round_up(&bson!(8)).unwrap(), bson!(16));
    assert_eq!(g("POWERSOF2").round_down(&bson!(8)).unwrap(), bson!(4));
    assert_eq!(
        g("POWERSOF2").round_up(&bson!(1_i64 << 40)).unwrap(),
        bson!(1_i64 << 41)
    );
    assert_eq!(g("POWERSOF2").round_down(&bson!(0.3)).unwrap(), bson!(0.25));
    assert!(granularity::lookup("R7").is_err());
    for bad in [bson!(-1), bson!(f64::NAN), bson!("1"), bson!(f64::INFINITY)] {
        assert!(g("R5").round_up(&bad).is_err(), "{bad}");
    }
    // Subnormal doubles would loop forever on the server; here they fail.
    assert!(g("R5").round_down(&bson!(5e-324)).is_err());
}

#[test]
fn bucket_auto_errors() {
    // Server: non-numeric keys with a granularity are refused.
    let e = run_err(
        vec![doc! {"v": "x"}],
        vec![doc! {"$bucketAuto": {"groupBy": "$v", "buckets": 2, "granularity": "R5"}}],
    );
    assert!(e.contains("numeric boundaries only"), "{e}");
    run_err(
        vec![doc! {"v": -1}],
        vec![doc! {"$bucketAuto": {"groupBy": "$v", "buckets": 2, "granularity": "R5"}}],
    );
    run_err(
        vec![doc! {}],
        vec![doc! {"$bucketAuto": {"groupBy": "$v", "buckets": 2, "granularity": "R5"}}],
    );
    let bad: Vec<Document> = vec![
        doc! {"groupBy": "$v", "buckets": 0},
        doc! {"groupBy": "$v", "buckets": -1},
        doc! {"groupBy": "$v", "buckets": 1.5},
        doc! {"groupBy": "$v", "buckets": 3_000_000_000_i64},
        doc! {"groupBy": "$v", "buckets": "2"},
        doc! {"groupBy": "v", "buckets": 2},
        doc! {"groupBy": "$v"},
        doc! {"buckets": 2},
        doc! {"groupBy": "$v", "buckets": 2, "granularity": 5},
        doc! {"groupBy": "$v", "buckets": 2, "granularity": "R3"},
        doc! {"groupBy": "$v", "buckets": 2, "output": []},
        doc! {"groupBy": "$v", "buckets": 2, "x": 1},
    ];
    for spec in bad {
        parse_err(vec![doc! {"$bucketAuto": spec}]);
    }
    // 2.0 and 2_i64 are fine bucket counts.
    for n in [bson!(2.0), bson!(2_i64), dec("2")] {
        Pipeline::parse(&[doc! {"$bucketAuto": {"groupBy": "$v", "buckets": n}}]).unwrap();
    }
}

// --- $facet ----------------------------------------------------------------

#[test]
fn facet_runs_each_sub_pipeline_over_the_input() {
    let docs = numbers(&[1, 2, 3]);
    let out = ok(
        docs,
        vec![doc! {"$facet": {
            "n": [{"$count": "n"}],
            "all": [],
            "big": [{"$match": {"v": {"$gt": 1}}}, {"$project": {"_id": 1}}],
        }}],
    );
    assert_eq!(
        out,
        vec![doc! {
            "n": [{"n": 3}],
            "all": [{"_id": 1, "v": 1}, {"_id": 2, "v": 2}, {"_id": 3, "v": 3}],
            "big": [{"_id": 2}, {"_id": 3}],
        }]
    );
    // No input: one document of empty arrays.
    assert_eq!(
        ok(vec![], vec![doc! {"$facet": {"a": [{"$count": "n"}]}}]),
        vec![doc! {"a": []}]
    );
}

#[test]
fn facet_refusals_and_errors() {
    // Server: "$facet is not allowed to be used within a $facet stage"
    assert_eq!(
        parse_err(vec![doc! {"$facet": {"a": [{"$facet": {"b": []}}]}}]),
        "$facet is not allowed to be used within a $facet stage"
    );
    // Nested through a $lookup too (the strictest constraint wins).
    parse_err(vec![doc! {"$facet": {"a": [{"$lookup": {
        "from": "f", "as": "j", "pipeline": [{"$facet": {"b": []}}]
    }}]}}]);
    for bad in [
        bson!({}),
        bson!(1),
        bson!({"a": 1}),
        bson!({"a": [1]}),
        bson!({"$a": []}),
        bson!({"a.b": []}),
        bson!({"a": [{"$bogus": 1}]}),
    ] {
        parse_err(vec![doc! {"$facet": bad}]);
    }
    // An error inside a sub-pipeline fails the whole stage.
    let e = run_err(
        vec![doc! {"a": 1}],
        vec![doc! {"$facet": {"ok": [], "bad": [{"$replaceWith": "$a"}]}}],
    );
    assert!(e.contains("newRoot"), "{e}");
}

// --- $sample ---------------------------------------------------------------

#[test]
fn sample_picks_distinct_input_documents() {
    let docs = numbers(&[1, 2, 3, 4, 5, 6, 7, 8]);
    for _ in 0..20 {
        let out = ok(docs.clone(), vec![doc! {"$sample": {"size": 3}}]);
        assert_eq!(out.len(), 3);
        let mut seen: Vec<i32> = out.iter().map(|d| d.get_i32("v").unwrap()).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 3);
        assert!(seen.iter().all(|v| (1..=8).contains(v)));
    }
    // Larger than the input: everything; zero: nothing; a fraction truncates.
    assert_eq!(
        ok(docs.clone(), vec![doc! {"$sample": {"size": 100_i64}}]).len(),
        8
    );
    assert!(ok(docs.clone(), vec![doc! {"$sample": {"size": 0}}]).is_empty());
    assert_eq!(ok(docs, vec![doc! {"$sample": {"size": 2.9}}]).len(), 2);
    // Every document is reachable.
    let mut hit = [false; 8];
    for _ in 0..200 {
        let out = ok(
            numbers(&[0, 1, 2, 3, 4, 5, 6, 7]),
            vec![doc! {"$sample": {"size": 1}}],
        );
        hit[out[0].get_i32("v").unwrap() as usize] = true;
    }
    assert!(hit.iter().all(|h| *h));
}

#[test]
fn sample_errors() {
    for bad in [
        bson!({"size": -1}),
        bson!({"size": "1"}),
        bson!({}),
        bson!({"size": 1, "x": 1}),
        bson!(5),
    ] {
        parse_err(vec![doc! {"$sample": bad}]);
    }
}

// --- $sort + $limit --------------------------------------------------------

#[test]
fn sort_then_limit_keeps_the_stable_top_k() {
    // Many ties: the earliest documents of equal keys are kept, in order.
    let docs: Vec<Document> = (0..500).map(|i| doc! {"_id": i, "k": i % 7}).collect();
    let whole = ok(docs.clone(), vec![doc! {"$sort": {"k": -1}}]);
    for k in [1_i64, 3, 64, 65, 200, 1000] {
        let top = ok(
            docs.clone(),
            vec![doc! {"$sort": {"k": -1}}, doc! {"$limit": k}],
        );
        let expected: Vec<Document> = whole.iter().take(k as usize).cloned().collect();
        assert_eq!(top, expected, "k = {k}");
    }
    // The limit is still validated.
    parse_err(vec![doc! {"$sort": {"k": 1}}, doc! {"$limit": 0}]);
    parse_err(vec![doc! {"$sort": {"k": 1}}, doc! {"$limit": -1}]);
}

#[test]
fn sort_then_limit_holds_only_about_2k_documents() {
    // Streams a large input through a top-3 without collecting it.
    let pipeline = Pipeline::parse(&[doc! {"$sort": {"k": 1}}, doc! {"$limit": 3}]).unwrap();
    let env = Env::default();
    let input = (0..100_000).rev().map(|i| Ok(doc! {"k": i}));
    let out: Vec<Document> = pipeline
        .stream(Box::new(input), &env)
        .collect::<QueryResult<_>>()
        .unwrap();
    assert_eq!(out, vec![doc! {"k": 0}, doc! {"k": 1}, doc! {"k": 2}]);
}

// --- $lookup ---------------------------------------------------------------

fn foreign_docs() -> Vec<Document> {
    vec![
        doc! {"_id": "f1", "y": 1},
        doc! {"_id": "f2", "y": null},
        doc! {"_id": "f3"},
        doc! {"_id": "f4", "y": [1, 2]},
        doc! {"_id": "f5", "y": []},
        doc! {"_id": "f6", "y": 2.0},
        doc! {"_id": "f7", "y": [[1, 2]]},
        doc! {"_id": "f8", "y": {"z": 3}},
    ]
}

/// `$lookup` by localField `x` against `foreign_docs`, the joined `_id`s.
fn joined(local: Document, spec: Document) -> Vec<Bson> {
    let out = run_with(
        vec![local],
        &[("f", foreign_docs())],
        vec![doc! {"$lookup": spec}],
    )
    .unwrap();
    out[0]
        .get_array("j")
        .unwrap()
        .iter()
        .map(|d| d.as_document().unwrap().get("_id").cloned().unwrap())
        .collect()
}

fn equality() -> Document {
    doc! {"from": "f", "localField": "x", "foreignField": "y", "as": "j"}
}

#[test]
fn lookup_equality_matches_as_a_foreign_match() {
    // Server: scalars match scalars and array elements.
    assert_eq!(
        joined(doc! {"x": 1}, equality()),
        vec![bson!("f1"), bson!("f4")]
    );
    assert_eq!(
        joined(doc! {"x": 2}, equality()),
        vec![bson!("f4"), bson!("f6")]
    );
    // Missing, null and an empty array join as null: null or missing there.
    for local in [doc! {}, doc! {"x": null}, doc! {"x": []}] {
        assert_eq!(joined(local, equality()), vec![bson!("f2"), bson!("f3")]);
    }
    // An array joins on each element (one level only).
    assert_eq!(
        joined(doc! {"x": [1, 2]}, equality()),
        vec![bson!("f1"), bson!("f4"), bson!("f6")]
    );
    assert_eq!(
        joined(doc! {"x": [[1, 2]]}, equality()),
        vec![bson!("f4"), bson!("f7")]
    );
    assert_eq!(joined(doc! {"x": {"z": 3}}, equality()), vec![bson!("f8")]);
    // Paths through arrays of documents, and numeric indexes.
    assert_eq!(
        joined(
            doc! {"a": [{"b": 1}, {"b": [2]}, 5]},
            doc! {"from": "f", "localField": "a.b", "foreignField": "y", "as": "j"}
        ),
        vec![bson!("f1"), bson!("f4"), bson!("f6")]
    );
    assert_eq!(
        joined(
            doc! {"a": [7, 1]},
            doc! {"from": "f", "localField": "a.1", "foreignField": "y", "as": "j"}
        ),
        vec![bson!("f1"), bson!("f4")]
    );
    // On the foreign side: dotted paths as in $match.
    assert_eq!(
        joined(
            doc! {"x": 3},
            doc! {"from": "f", "localField": "x", "foreignField": "y.z", "as": "j"}
        ),
        vec![bson!("f8")]
    );
}

#[test]
fn lookup_output_field_and_missing_experiment() {
    let out = run_with(
        vec![doc! {"_id": 1, "x": 1, "j": "old", "z": 0}],
        &[],
        vec![doc! {"$lookup": equality()}],
    )
    .unwrap();
    // The field keeps its place; an unknown experiment is empty.
    assert_eq!(out, vec![doc! {"_id": 1, "x": 1, "j": [], "z": 0}]);
    let out = run_with(
        vec![doc! {"_id": 1, "x": 1, "a": 5}],
        &[("f", foreign_docs())],
        vec![
            doc! {"$lookup": {"from": "f", "localField": "x", "foreignField": "y", "as": "a.b"}},
            doc! {"$project": {"a.b._id": 1}},
        ],
    )
    .unwrap();
    assert_eq!(
        out,
        vec![doc! {"_id": 1, "a": {"b": [{"_id": "f1"}, {"_id": "f4"}]}}]
    );
}

#[test]
fn lookup_let_variables_reach_the_sub_pipeline() {
    let spec = doc! {
        "from": "f",
        "let": {"want": "$x", "k": {"$add": ["$x", 1]}},
        "pipeline": [
            {"$match": {"$expr": {"$eq": ["$y", "$$want"]}}},
            {"$project": {"_id": 1, "k": "$$k"}},
        ],
        "as": "j",
    };
    let out = run_with(
        vec![doc! {"x": 1}, doc! {"x": null}, doc! {}],
        &[("f", foreign_docs())],
        vec![doc! {"$lookup": spec}],
    )
    .unwrap();
    // Server: $expr equality is exact (null is not missing, 1 is not [1, 2]).
    assert_eq!(
        out[0].get_array("j").unwrap(),
        &vec![bson!({"_id": "f1", "k": 2})]
    );
    assert_eq!(
        out[1].get_array("j").unwrap(),
        &vec![bson!({"_id": "f2", "k": null})]
    );
    // A missing `x`: `$$want` is missing (equal to a missing `y`), and
    // `$add` of a missing value is null.
    assert_eq!(
        out[2].get_array("j").unwrap(),
        &vec![bson!({"_id": "f3", "k": null})]
    );
}

#[test]
fn lookup_nested_variables_and_concise_form() {
    // The inner pipeline sees the outer let variables too.
    let spec = doc! {
        "from": "f",
        "let": {"a": "$x"},
        "pipeline": [
            {"$match": {"_id": "f1"}},
            {"$lookup": {
                "from": "f",
                "let": {"b": "$y"},
                "pipeline": [
                    {"$match": {"$expr": {"$and": [
                        {"$eq": ["$y", {"$add": ["$$a", "$$b"]}]},
                    ]}}},
                    {"$project": {"_id": 1}},
                ],
                "as": "inner",
            }},
            {"$project": {"inner": 1}},
        ],
        "as": "j",
    };
    let out = run_with(
        vec![doc! {"x": 1}],
        &[("f", foreign_docs())],
        vec![doc! {"$lookup": spec}],
    )
    .unwrap();
    assert_eq!(
        out[0].get_array("j").unwrap(),
        &vec![bson!({"_id": "f1", "inner": [{"_id": "f6"}]})]
    );
    // localField/foreignField and a pipeline: the equality, then the pipeline.
    let spec = doc! {
        "from": "f", "localField": "x", "foreignField": "y",
        "let": {"v": "$x"},
        "pipeline": [{"$project": {"_id": 1, "v": "$$v"}}],
        "as": "j",
    };
    let out = run_with(
        vec![doc! {"x": 2}],
        &[("f", foreign_docs())],
        vec![doc! {"$lookup": spec}],
    )
    .unwrap();
    assert_eq!(
        out[0].get_array("j").unwrap(),
        &vec![bson!({"_id": "f4", "v": 2}), bson!({"_id": "f6", "v": 2})]
    );
}

#[test]
fn lookup_let_variables_reach_accumulators_and_windows() {
    // Accumulator arguments (and `n`), `$bucket`/`$bucketAuto` outputs and
    // window functions inside the sub-pipeline read the `let` variables.
    let foreign = vec![
        doc! {"_id": 1, "y": 1},
        doc! {"_id": 2, "y": 2},
        doc! {"_id": 3, "y": 3},
    ];
    let lookup = |pipeline: Vec<Document>| {
        let spec = doc! {
            "from": "f",
            "let": {"v": "$x", "k": "$n"},
            "pipeline": pipeline,
            "as": "j",
        };
        let out = run_with(
            vec![
                doc! {"_id": "a", "x": 2, "n": 2},
                doc! {"_id": "b", "x": 10, "n": 1},
            ],
            &[("f", foreign.clone())],
            vec![doc! {"$lookup": spec}],
        )
        .unwrap();
        out.iter()
            .map(|d| d.get("j").cloned().unwrap())
            .collect::<Vec<_>>()
    };
    let group = doc! {"$group": {
        "_id": null,
        "s": {"$sum": "$$v"},
        "t": {"$sum": {"$multiply": ["$y", "$$v"]}},
        "top": {"$firstN": {"n": "$$k", "input": "$y"}},
    }};
    assert_eq!(
        lookup(vec![group]),
        vec![
            bson!([{"_id": null, "s": 6, "t": 12, "top": [1, 2]}]),
            bson!([{"_id": null, "s": 30, "t": 60, "top": [1]}]),
        ]
    );
    let bucket = doc! {"$bucket": {
        "groupBy": "$y", "boundaries": [0, 2, 10], "output": {"s": {"$sum": "$$v"}},
    }};
    assert_eq!(
        lookup(vec![bucket]),
        vec![
            bson!([{"_id": 0, "s": 2}, {"_id": 2, "s": 4}]),
            bson!([{"_id": 0, "s": 10}, {"_id": 2, "s": 20}]),
        ]
    );
    let bucket_auto = doc! {"$bucketAuto": {
        "groupBy": "$y", "buckets": 1,
        "output": {"s": {"$sum": "$$v"}, "m": {"$maxN": {"n": "$$k", "input": "$y"}}},
    }};
    assert_eq!(
        lookup(vec![bucket_auto]),
        vec![
            bson!([{"_id": {"min": 1, "max": 3}, "s": 6, "m": [3, 2]}]),
            bson!([{"_id": {"min": 1, "max": 3}, "s": 30, "m": [3]}]),
        ]
    );
    let window = doc! {"$setWindowFields": {
        "partitionBy": "$$v",
        "sortBy": {"y": 1},
        "output": {
            "run": {"$sum": "$$v", "window": {"documents": ["unbounded", "current"]}},
            "next": {"$shift": {"output": {"$add": ["$y", "$$v"]}, "by": 1}},
        },
    }};
    assert_eq!(
        lookup(vec![
            window,
            doc! {"$project": {"_id": 0, "run": 1, "next": 1}}
        ]),
        vec![
            bson!([{"run": 2, "next": 4}, {"run": 4, "next": 5}, {"run": 6, "next": null}]),
            bson!([{"run": 10, "next": 12}, {"run": 20, "next": 13}, {"run": 30, "next": null}]),
        ]
    );
    // Outside a $lookup the variable is undefined, as on the server.
    assert_eq!(
        parse_err(vec![doc! {"$group": {"_id": null, "s": {"$sum": "$$v"}}}]),
        "Use of undefined variable: v"
    );
}

#[test]
fn lookup_reports_its_experiments() {
    let pipeline = Pipeline::parse(&[
        doc! {"$lookup": {"from": "a", "as": "x", "pipeline": [{"$unionWith": "b"}]}},
        doc! {"$facet": {"f": [{"$unionWith": {"coll": "c", "pipeline": [
            {"$lookup": {"from": "d", "localField": "p", "foreignField": "q", "as": "r"}}
        ]}}]}},
    ])
    .unwrap();
    let names: Vec<String> = pipeline.foreign().into_iter().collect();
    assert_eq!(names, vec!["a", "b", "c", "d"]);
}

#[test]
fn lookup_specification_errors() {
    let bad: Vec<Bson> = vec![
        bson!(1),
        bson!({"localField": "x", "foreignField": "y", "as": "j"}),
        bson!({"from": 1, "localField": "x", "foreignField": "y", "as": "j"}),
        bson!({"from": "f", "localField": "x", "foreignField": "y"}),
        bson!({"from": "f", "localField": "x", "as": "j"}),
        bson!({"from": "f", "as": "j"}),
        bson!({"from": "f", "localField": "x", "foreignField": "y", "as": "j", "let": {"a": 1}}),
        bson!({"from": "f", "localField": 1, "foreignField": "y", "as": "j"}),
        bson!({"from": "f", "localField": "x", "foreignField": "y", "as": "$j"}),
        bson!({"from": "f", "localField": "x", "foreignField": "y", "as": "j", "x": 1}),
        bson!({"from": "f", "as": "j", "pipeline": {}}),
        bson!({"from": "f", "as": "j", "pipeline": [1]}),
        bson!({"from": "f", "as": "j", "pipeline": [{"$bogus": 1}]}),
        bson!({"from": "f", "as": "j", "let": 1, "pipeline": []}),
        bson!({"from": "f", "as": "j", "let": {"A": 1}, "pipeline": []}),
        bson!({"from": "f", "as": "j", "let": {"a-b": 1}, "pipeline": []}),
        bson!({"from": "f", "as": "j", "let": {"": 1}, "pipeline": []}),
        // An undefined variable in the sub-pipeline.
        bson!({"from": "f", "as": "j", "pipeline": [{"$match": {"$expr": "$$nope"}}]}),
        // let expressions do not see their own variables.
        bson!({"from": "f", "as": "j", "let": {"a": 1, "b": "$$a"}, "pipeline": []}),
    ];
    for spec in bad {
        let message = parse_err(vec![doc! {"$lookup": spec.clone()}]);
        assert!(!message.is_empty(), "{spec}");
    }
    // Variables stay inside their $lookup.
    parse_err(vec![
        doc! {"$lookup": {"from": "f", "as": "j", "let": {"a": 1}, "pipeline": []}},
        doc! {"$match": {"$expr": "$$a"}},
    ]);
    // Sub-pipelines may not nest without bound.
    let mut stage = doc! {"$lookup": {"from": "f", "as": "j", "pipeline": []}};
    for _ in 0..30 {
        stage = doc! {"$lookup": {"from": "f", "as": "j", "pipeline": [stage]}};
    }
    assert!(parse_err(vec![stage]).contains("nested sub-pipelines"));
}

// --- $unionWith ------------------------------------------------------------

#[test]
fn union_with_appends_the_other_experiment() {
    let out = run_with(
        vec![doc! {"_id": 1}],
        &[(
            "f",
            vec![doc! {"_id": "a", "y": 1}, doc! {"_id": "b", "y": 2}],
        )],
        vec![doc! {"$unionWith": "f"}],
    )
    .unwrap();
    assert_eq!(ids(&out), vec![bson!(1), bson!("a"), bson!("b")]);
    let out = run_with(
        vec![doc! {"_id": 1}],
        &[("f", vec![doc! {"_id": "a", "y": 1}, doc! {"_id": "b", "y": 2}])],
        vec![
            doc! {"$unionWith": {"coll": "f", "pipeline": [{"$match": {"y": 2}}, {"$set": {"u": true}}]}},
            doc! {"$unionWith": {"coll": "nothing"}},
        ],
    )
    .unwrap();
    assert_eq!(
        out,
        vec![doc! {"_id": 1}, doc! {"_id": "b", "y": 2, "u": true}]
    );
    for bad in [
        bson!(1),
        bson!({}),
        bson!({"pipeline": []}),
        bson!({"coll": 1}),
        bson!({"coll": "f", "x": 1}),
        bson!({"coll": "f", "pipeline": [{"$bogus": 1}]}),
        bson!({"coll": "f", "pipeline": 1}),
    ] {
        parse_err(vec![doc! {"$unionWith": bad}]);
    }
}

#[test]
fn union_with_inside_lookup_sees_the_let_variables() {
    let out = run_with(
        vec![doc! {"x": 5}],
        &[
            ("f", vec![doc! {"_id": "a"}]),
            ("g", vec![doc! {"_id": "b"}]),
        ],
        vec![doc! {"$lookup": {
            "from": "f",
            "let": {"v": "$x"},
            "pipeline": [
                {"$unionWith": {"coll": "g", "pipeline": [{"$set": {"v": "$$v"}}]}},
            ],
            "as": "j",
        }}],
    )
    .unwrap();
    assert_eq!(
        out[0].get_array("j").unwrap(),
        &vec![bson!({"_id": "a"}), bson!({"_id": "b", "v": 5})]
    );
}
