//! Pipeline tests. "Server:" comments give what the reference MongoDB
//! server (8.2) returned for the same pipeline and input.

use bson::{bson, doc, Bson, Decimal128, Document};

use super::*;

fn run(docs: Vec<Document>, stages: Vec<Document>) -> QueryResult<Vec<Document>> {
    Pipeline::parse(&stages)?.run(docs.into_iter())
}

fn ok(docs: Vec<Document>, stages: Vec<Document>) -> Vec<Document> {
    run(docs, stages).unwrap()
}

fn err(stages: Vec<Document>) -> String {
    match Pipeline::parse(&stages) {
        Err(e) => e.message().to_owned(),
        Ok(p) => panic!("expected an error, parsed {p:?}"),
    }
}

fn group_docs() -> Vec<Document> {
    vec![
        doc! {"_id": 1, "g": 1, "v": 2147483647},
        doc! {"_id": 2, "g": 1, "v": 1},
        doc! {"_id": 3, "g": 1, "v": "s"},
        doc! {"_id": 4, "g": 1},
        doc! {"_id": 5, "g": 1, "v": null},
    ]
}

fn group_one(acc: Bson) -> Bson {
    let out = ok(group_docs(), vec![doc! {"$group": {"_id": "$g", "r": acc}}]);
    out[0].get("r").cloned().unwrap()
}

#[test]
fn accumulators_match_server() {
    // Server results for each accumulator over group_docs():
    assert_eq!(group_one(bson!({"$sum": "$v"})), Bson::Int64(2147483648));
    assert_eq!(group_one(bson!({"$avg": "$v"})), Bson::Double(1073741824.0));
    assert_eq!(group_one(bson!({"$min": "$v"})), Bson::Int32(1));
    assert_eq!(group_one(bson!({"$max": "$v"})), bson!("s"));
    assert_eq!(group_one(bson!({"$first": "$v"})), Bson::Int32(2147483647));
    assert_eq!(group_one(bson!({"$last": "$v"})), Bson::Null);
    assert_eq!(
        group_one(bson!({"$push": "$v"})),
        bson!([2147483647, 1, "s", null])
    );
    assert_eq!(
        group_one(bson!({"$addToSet": "$v"})),
        bson!([2147483647, 1, "s", null])
    );
    assert_eq!(group_one(bson!({"$count": {}})), Bson::Int32(5));
    assert_eq!(group_one(bson!({"$sum": 1})), Bson::Int32(5));
}

#[test]
fn accumulators_on_edge_inputs() {
    let dec = |s: &str| Bson::Decimal128(s.parse::<Decimal128>().unwrap());
    let g = |docs: Vec<Document>, acc: Bson| {
        ok(docs, vec![doc! {"$group": {"_id": null, "r": acc}}])[0]
            .get("r")
            .cloned()
            .unwrap()
    };
    // Server: $avg of 1, 2 -> 1.5; with a decimal -> Decimal128("1.5"); $sum -> Decimal128("3")
    assert_eq!(
        g(vec![doc! {"v": 1}, doc! {"v": 2}], bson!({"$avg": "$v"})),
        Bson::Double(1.5)
    );
    assert_eq!(
        g(
            vec![doc! {"v": 1}, doc! {"v": dec("2")}],
            bson!({"$avg": "$v"})
        ),
        dec("1.5")
    );
    assert_eq!(
        g(
            vec![doc! {"v": 1}, doc! {"v": dec("2")}],
            bson!({"$sum": "$v"})
        ),
        dec("3")
    );
    // Server: only strings -> $avg null, $sum 0, $min the string; $first missing -> null; $push missing -> []
    let strings = || vec![doc! {"v": "x"}];
    assert_eq!(g(strings(), bson!({"$avg": "$v"})), Bson::Null);
    assert_eq!(g(strings(), bson!({"$sum": "$v"})), Bson::Int32(0));
    assert_eq!(g(strings(), bson!({"$min": "$v"})), bson!("x"));
    assert_eq!(g(strings(), bson!({"$first": "$z"})), Bson::Null);
    assert_eq!(g(strings(), bson!({"$push": "$z"})), bson!([]));
    // int64 overflow widens to double (the reference server fails internally here).
    assert_eq!(
        g(
            vec![doc! {"v": i64::MAX}, doc! {"v": 1}],
            bson!({"$sum": "$v"})
        ),
        Bson::Double(9.223372036854776e18)
    );
    // $addToSet deduplicates across numeric widths.
    assert_eq!(
        g(
            vec![doc! {"v": 1}, doc! {"v": 1.0}, doc! {"v": 1_i64}],
            bson!({"$addToSet": "$v"})
        ),
        bson!([1])
    );
    assert_eq!(
        g(vec![doc! {"v": null}, doc! {}], bson!({"$max": "$v"})),
        Bson::Null
    );
}

#[test]
fn group_keys_and_errors() {
    // Server: _id as a document leaves missing fields out.
    let out = ok(
        vec![doc! {"v": 1}],
        vec![doc! {"$group": {"_id": {"x": "$v", "y": "$q"}}}],
    );
    assert_eq!(out, vec![doc! {"_id": {"x": 1}}]);
    // Equal numbers of different widths share a group; missing groups with null.
    let out = ok(
        vec![doc! {"k": 1}, doc! {"k": 1.0}, doc! {"k": null}, doc! {}],
        vec![doc! {"$group": {"_id": "$k", "n": {"$sum": 1}}}],
    );
    assert_eq!(
        out,
        vec![doc! {"_id": 1, "n": 2}, doc! {"_id": null, "n": 2}]
    );
    // Server: "a group specification must include an _id"
    assert_eq!(
        err(vec![doc! {"$group": {"r": {"$sum": 1}}}]),
        "a group specification must include an _id"
    );
    assert!(
        err(vec![doc! {"$group": {"_id": 1, "a.b": {"$sum": 1}}}]).contains("cannot contain '.'")
    );
    // Server: "$group accumulator for 'a' must be a single-op doc"
    assert_eq!(
        err(vec![
            doc! {"$group": {"_id": 1, "a": {"$sum": 1, "$max": 1}}}
        ]),
        "$group accumulator for 'a' must be a single-op doc"
    );
    // Server: "Unrecognized expression '$foo'"; "The field 'a' must be an accumulator object"
    assert_eq!(
        err(vec![doc! {"$group": {"_id": 1, "a": {"$foo": 1}}}]),
        "Unrecognized expression '$foo'"
    );
    assert_eq!(
        err(vec![doc! {"$group": {"_id": 1, "a": 1}}]),
        "The field 'a' must be an accumulator object"
    );
    assert_eq!(
        err(vec![doc! {"$group": {"_id": 1, "a": {"$sum": [1, 2]}}}]),
        "The $sum accumulator is a unary operator"
    );
    assert_eq!(
        err(vec![doc! {"$group": {"_id": 1, "a": {"$count": 1}}}]),
        "$count takes no arguments, i.e. $count:{}"
    );
}

fn unwind_docs() -> Vec<Document> {
    vec![
        doc! {"_id": 1, "a": [1, 2]},
        doc! {"_id": 2, "a": []},
        doc! {"_id": 3, "a": null},
        doc! {"_id": 4},
        doc! {"_id": 5, "a": 7},
    ]
}

#[test]
fn unwind_matches_server() {
    // Server:
    assert_eq!(
        ok(unwind_docs(), vec![doc! {"$unwind": "$a"}]),
        vec![
            doc! {"_id": 1, "a": 1},
            doc! {"_id": 1, "a": 2},
            doc! {"_id": 5, "a": 7}
        ]
    );
    // Server (with the index as int64, which the manual shows; the reference server gives int32):
    assert_eq!(
        ok(
            unwind_docs(),
            vec![
                doc! {"$unwind": {"path": "$a", "includeArrayIndex": "i", "preserveNullAndEmptyArrays": true}}
            ]
        ),
        vec![
            doc! {"_id": 1, "a": 1, "i": 0_i64},
            doc! {"_id": 1, "a": 2, "i": 1_i64},
            doc! {"_id": 2, "i": null},
            doc! {"_id": 3, "a": null, "i": null},
            doc! {"_id": 4, "i": null},
            doc! {"_id": 5, "a": 7, "i": null},
        ]
    );
    let nested = ok(
        vec![doc! {"x": {"b": [1, 2]}}],
        vec![doc! {"$unwind": "$x.b"}],
    );
    assert_eq!(nested, vec![doc! {"x": {"b": 1}}, doc! {"x": {"b": 2}}]);
}

#[test]
fn unwind_errors_match_server() {
    let cases = [
        (bson!("a"), "path option to $unwind stage should be prefixed with a '$': a"),
        (bson!({"path": "a"}), "path option to $unwind stage should be prefixed with a '$': a"),
        (bson!({"path": "$a", "x": 1}), "unrecognized option to $unwind stage: x"),
        (
            bson!({"path": "$a", "includeArrayIndex": "$i"}),
            "includeArrayIndex option to $unwind stage should not be prefixed with a '$': $i",
        ),
        (
            bson!({"path": "$a", "includeArrayIndex": 1}),
            "expected a non-empty string for the includeArrayIndex  option to $unwind stage, got int",
        ),
        (
            bson!({"path": "$a", "preserveNullAndEmptyArrays": 1}),
            "expected a boolean for the preserveNullAndEmptyArrays option to $unwind stage, got int",
        ),
        (bson!({}), "no path specified to $unwind stage"),
        (bson!(5), "expected either a string or an object as specification for $unwind stage, got int"),
    ];
    for (spec, message) in cases {
        assert_eq!(err(vec![doc! {"$unwind": spec}]), message);
    }
}

#[test]
fn limit_skip_count_match_server() {
    assert_eq!(err(vec![doc! {"$limit": 0}]), "the limit must be positive");
    assert_eq!(
        err(vec![doc! {"$limit": -1}]),
        "invalid argument to $limit stage: Expected a non-negative number in: $limit: -1"
    );
    assert_eq!(
        err(vec![doc! {"$skip": 1.5}]),
        "invalid argument to $skip stage: Expected an integer: $skip: 1.5"
    );
    assert_eq!(
        err(vec![doc! {"$skip": "x"}]),
        "invalid argument to $skip stage: Expected a number in: $skip: \"x\""
    );
    assert_eq!(
        err(vec![doc! {"$limit": null}]),
        "invalid argument to $limit stage: Expected a number in: $limit: null"
    );
    assert_eq!(ok(unwind_docs(), vec![doc! {"$limit": 2.0}]).len(), 2);
    assert_eq!(
        ok(
            unwind_docs(),
            vec![doc! {"$skip": 3}, doc! {"$limit": i64::MAX}]
        )
        .len(),
        2
    );
    assert_eq!(ok(unwind_docs(), vec![doc! {"$skip": i64::MAX}]).len(), 0);
    assert_eq!(
        ok(unwind_docs(), vec![doc! {"$count": "ok"}]),
        vec![doc! {"ok": 5}]
    );
    assert!(ok(vec![], vec![doc! {"$count": "ok"}]).is_empty());
    assert_eq!(
        err(vec![doc! {"$count": ""}]),
        "the count field must be a non-empty string"
    );
    assert_eq!(
        err(vec![doc! {"$count": "$x"}]),
        "the count field cannot be a $-prefixed path"
    );
    assert_eq!(
        err(vec![doc! {"$count": "a.b"}]),
        "the count field cannot contain '.'"
    );
}

fn project_doc() -> Vec<Document> {
    vec![doc! {"_id": 1, "a": {"b": 1, "c": 2}, "x": 5, "arr": [{"b": 1, "c": 2}, {"c": 3}, 4]}]
}

fn project(spec: Document) -> QueryResult<Vec<Document>> {
    run(project_doc(), vec![doc! {"$project": spec}])
}

#[test]
fn project_matches_server() {
    // Server results:
    assert_eq!(
        project(doc! {"a.b": 1}).unwrap(),
        vec![doc! {"_id": 1, "a": {"b": 1}}]
    );
    assert_eq!(
        project(doc! {"a": {"b": 1}}).unwrap(),
        vec![doc! {"_id": 1, "a": {"b": 1}}]
    );
    assert_eq!(
        project(doc! {"x": 0}).unwrap(),
        vec![doc! {"_id": 1, "a": {"b": 1, "c": 2}, "arr": [{"b": 1, "c": 2}, {"c": 3}, 4]}]
    );
    assert_eq!(
        project(doc! {"_id": 0, "x": 1}).unwrap(),
        vec![doc! {"x": 5}]
    );
    assert_eq!(
        project(doc! {"y": "$x"}).unwrap(),
        vec![doc! {"_id": 1, "y": 5}]
    );
    assert_eq!(
        project(doc! {"arr.b": 1}).unwrap(),
        vec![doc! {"_id": 1, "arr": [{"b": 1}, {}]}]
    );
    assert_eq!(
        project(doc! {"x": true, "z": 1}).unwrap(),
        vec![doc! {"_id": 1, "x": 5}]
    );
    assert_eq!(
        project(doc! {"x": "lit"}).unwrap(),
        vec![doc! {"_id": 1, "x": "lit"}]
    );
    assert_eq!(
        project(doc! {"y": {"$literal": 1}}).unwrap(),
        vec![doc! {"_id": 1, "y": 1}]
    );
    assert_eq!(
        project(doc! {"y": null}).unwrap(),
        vec![doc! {"_id": 1, "y": null}]
    );
    assert_eq!(
        project(doc! {"a": {"b": "$x", "d": 1}}).unwrap(),
        vec![doc! {"_id": 1, "a": {"b": 5}}]
    );
    assert_eq!(project(doc! {"_id": "$x"}).unwrap(), vec![doc! {"_id": 5}]);
    assert_eq!(
        project(doc! {"x": 1, "_id": "$x"}).unwrap(),
        vec![doc! {"_id": 5, "x": 5}]
    );
    assert_eq!(
        project(doc! {"y": "$x", "x": 1}).unwrap(),
        vec![doc! {"_id": 1, "x": 5, "y": 5}]
    );
    assert_eq!(
        project(doc! {"r": "$missing"}).unwrap(),
        vec![doc! {"_id": 1}]
    );
}

#[test]
fn project_follows_the_manual_where_the_server_differs() {
    // Non-zero numbers include (the reference server took 2 as a literal).
    assert_eq!(
        project(doc! {"x": 2}).unwrap(),
        vec![doc! {"_id": 1, "x": 5}]
    );
    // Exclusion through arrays of documents.
    assert_eq!(
        project(doc! {"arr.b": 0, "a": 0, "x": 0}).unwrap(),
        vec![doc! {"_id": 1, "arr": [{"c": 2}, {"c": 3}, 4]}]
    );
    // Sub-projections apply to every document of an array.
    assert_eq!(
        project(doc! {"arr": {"b": 1}}).unwrap(),
        vec![doc! {"_id": 1, "arr": [{"b": 1}, {}]}]
    );
    assert_eq!(
        project(doc! {"arr": {"d": "$x"}}).unwrap(),
        vec![doc! {"_id": 1, "arr": [{"d": 5}, {"d": 5}, {"d": 5}]}]
    );
}

#[test]
fn project_errors() {
    let mix = "$project cannot mix inclusion and exclusion (other than excluding _id)";
    // Server:
    assert_eq!(project(doc! {"x": 1, "y": 0}).unwrap_err().message(), mix);
    assert_eq!(
        project(doc! {"x": 0, "y": "$x"}).unwrap_err().message(),
        mix
    );
    assert_eq!(
        project(doc! {}).unwrap_err().message(),
        "projection specification must have at least one field"
    );
    assert_eq!(project(doc! {"_id": 1, "x": 0}).unwrap().len(), 1);
    // The manual's rules where the server accepts silently:
    assert!(project(doc! {"a.b": 1, "a": 1})
        .unwrap_err()
        .message()
        .starts_with("Path collision"));
    assert!(project(doc! {"$x": 1}).is_err());
    assert!(project(doc! {"a": {}})
        .unwrap_err()
        .message()
        .starts_with("An empty sub-projection"));
}

#[test]
fn add_fields_and_unset() {
    let input = || vec![doc! {"_id": 1, "a": {"c": 1}, "x": 2, "arr": [{"c": 1}, 2, [{"c": 3}]]}];
    // Server: {$addFields: {a: {b: 5}}} replaces a.
    assert_eq!(
        ok(input(), vec![doc! {"$addFields": {"a": {"b": 5}}}])[0].get("a"),
        Some(&bson!({"b": 5}))
    );
    // Server: $$REMOVE removes; _id is set in place.
    assert_eq!(
        ok(
            input(),
            vec![doc! {"$set": {"a": "$$REMOVE", "_id": "$x", "arr": 0}}]
        ),
        vec![doc! {"_id": 2, "x": 2, "arr": 0}]
    );
    // Nested paths create documents, and set on each element of arrays.
    assert_eq!(
        ok(
            input(),
            vec![doc! {"$addFields": {"arr.b": 5, "n.m": 1, "a.d": "$x"}}]
        ),
        vec![doc! {
            "_id": 1, "a": {"c": 1, "d": 2}, "x": 2,
            "arr": [{"c": 1, "b": 5}, {"b": 5}, [{"c": 3, "b": 5}]], "n": {"m": 1}
        }]
    );
    // Server: $unset
    assert_eq!(
        ok(input(), vec![doc! {"$unset": ["a.c", "_id", "arr"]}]),
        vec![doc! {"a": {}, "x": 2}]
    );
    assert_eq!(ok(input(), vec![doc! {"$unset": "x"}])[0].get("x"), None);
    assert_eq!(
        err(vec![doc! {"$unset": []}]),
        "$unset specification must be a string or an array with at least one field"
    );
    assert_eq!(
        err(vec![doc! {"$unset": 5}]),
        "$unset specification must be a string or an array"
    );
    assert_eq!(
        err(vec![doc! {"$unset": [5]}]),
        "$unset specification must be a string or an array containing only string values"
    );
}

#[test]
fn pipeline_level_behaviour() {
    // Server:
    assert_eq!(
        err(vec![doc! {"$foo": 1}]),
        "Unrecognized pipeline stage name: '$foo'"
    );
    assert_eq!(
        err(vec![doc! {"$match": {}, "$limit": 1}]),
        "A pipeline stage specification object must contain exactly one field."
    );
    assert_eq!(
        err(vec![doc! {"$sort": 1}]),
        "the $sort key specification must be an object"
    );
    let p = Pipeline::parse(&[doc! {"$match": {"a": 1}}, doc! {"$limit": 1}]).unwrap();
    assert!(p.leading_filter().is_some());
    let p = Pipeline::parse(&[doc! {"$limit": 1}, doc! {"$match": {"a": 1}}]).unwrap();
    assert!(p.leading_filter().is_none());
}

#[test]
fn match_sort_group_pipeline() {
    let docs = vec![
        doc! {"_id": 1, "k": "b", "n": 3},
        doc! {"_id": 2, "k": "a", "n": 1},
        doc! {"_id": 3, "k": "b", "n": 1},
        doc! {"_id": 4, "k": "a", "n": 7},
    ];
    let out = ok(
        docs.clone(),
        vec![
            doc! {"$match": {"n": {"$gte": 1, "$lt": 7}}},
            doc! {"$group": {"_id": "$k", "total": {"$sum": "$n"}, "ids": {"$push": "$_id"}}},
            doc! {"$sort": {"_id": 1}},
        ],
    );
    assert_eq!(
        out,
        vec![
            doc! {"_id": "a", "total": 1, "ids": [2]},
            doc! {"_id": "b", "total": 4, "ids": [1, 3]}
        ]
    );
    // $sort is stable: equal keys keep their input order.
    let out = ok(
        docs,
        vec![doc! {"$sort": {"n": 1}}, doc! {"$project": {"_id": 1}}],
    );
    assert_eq!(
        out,
        vec![
            doc! {"_id": 2},
            doc! {"_id": 3},
            doc! {"_id": 1},
            doc! {"_id": 4}
        ]
    );
}

#[test]
fn project_id_only() {
    assert_eq!(project(doc! {"_id": 1}).unwrap(), vec![doc! {"_id": 1}]);
    assert_eq!(project(doc! {"_id": 0}).unwrap()[0].get("_id"), None);
    assert_eq!(project(doc! {"_id": 0}).unwrap()[0].len(), 3);
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    /// Small values that exercise the stages' argument checks.
    fn value() -> impl Strategy<Value = Bson> {
        let leaf = prop_oneof![
            Just(Bson::Null),
            any::<bool>().prop_map(Bson::Boolean),
            prop_oneof![Just(0), Just(1), Just(-1), any::<i32>()].prop_map(Bson::Int32),
            prop_oneof![Just(i64::MAX), Just(i64::MIN)].prop_map(Bson::Int64),
            prop_oneof![Just(0.5), Just(f64::NAN), Just(1e300)].prop_map(Bson::Double),
            prop_oneof![
                Just("$a"),
                Just("$a.b"),
                Just("a"),
                Just("a.b"),
                Just("$"),
                Just("_id")
            ]
            .prop_map(|s| Bson::String(s.to_owned())),
        ];
        leaf.prop_recursive(3, 24, 3, |inner| {
            let keys = vec![
                "a",
                "a.b",
                "_id",
                "path",
                "$sum",
                "$add",
                "b",
                "preserveNullAndEmptyArrays",
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Bson::Array),
                prop::collection::vec((prop::sample::select(keys), inner), 0..3).prop_map(|kv| {
                    Bson::Document(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn never_panics(
            stages in prop::collection::vec((prop::sample::select(STAGES.iter().map(|(n, _)| *n).collect::<Vec<_>>()), value()), 1..4),
            docs in prop::collection::vec((value(), value()), 0..4),
        ) {
            let stages: Vec<Document> = stages.into_iter().map(|(n, v)| doc! {n: v}).collect();
            let docs = docs.into_iter().map(|(a, b)| doc! {"a": a, "b": b}).collect::<Vec<_>>();
            if let Ok(p) = Pipeline::parse(&stages) {
                let _ = p.run(docs.into_iter());
            }
        }
    }
}

#[test]
fn compiled_pipelines_can_be_shared_across_threads() {
    fn shareable<T: Send + Sync + std::fmt::Debug>() {}
    shareable::<Pipeline>();
}

/// Streaming stages pull documents one at a time: a `$limit` after a
/// `$match` and `$project` stops reading the input as soon as it is full,
/// and a `$skip` never swallows an error.
#[test]
fn stages_stream_their_input() {
    let pulled = std::cell::Cell::new(0);
    let input = (0..1000).map(|i| {
        pulled.set(pulled.get() + 1);
        doc! {"_id": i, "even": i % 2 == 0}
    });
    let pipeline = Pipeline::parse(&[
        doc! {"$match": {"even": true}},
        doc! {"$project": {"even": 0}},
        doc! {"$limit": 3},
    ])
    .unwrap();
    let out = pipeline.run(input).unwrap();
    assert_eq!(out, vec![doc! {"_id": 0}, doc! {"_id": 2}, doc! {"_id": 4}]);
    assert_eq!(pulled.get(), 5);

    let failing = vec![doc! {"a": "x"}, doc! {"a": 1}];
    let err = Pipeline::parse(&[
        doc! {"$project": {"b": {"$add": ["$a", 1]}}},
        doc! {"$skip": 5},
    ])
    .unwrap()
    .run(failing.into_iter())
    .unwrap_err();
    assert!(err.message().contains("$add"), "{err}");
}

/// A constant expression is evaluated when the pipeline is compiled, as
/// the server folds constants: its error fails the query even over no
/// documents. A constant error the evaluation would never reach (an
/// untaken `$cond` branch) is not one (the server agrees).
#[test]
fn constant_expressions_fold_at_parse() {
    let err = Pipeline::parse(&[doc! {"$project": {"x": {"$add": ["a", 1]}}}]).unwrap_err();
    assert!(err.message().contains("$add"), "{err}");
    let lazy = Pipeline::parse(&[doc! {"$project": {
        "_id": 0, "x": {"$cond": [false, {"$add": ["a", 1]}, 1]},
    }}])
    .unwrap();
    assert_eq!(
        lazy.run(vec![doc! {"_id": 1}].into_iter()).unwrap(),
        vec![doc! {"x": 1}]
    );
}

/// Runs `stages` (which start with a `$group`) both ways: through the
/// pipeline over decoded documents, and with the documents fed in raw BSON
/// to the `$group` as a store feeds them. Debug strings are compared so
/// that NaN equals NaN.
fn fed_raw(docs: &[Document], stages: Vec<Document>) -> (String, String) {
    let pipeline = Pipeline::parse(&stages).unwrap();
    let decoded = pipeline.run(docs.iter().cloned());
    let env = Env::default();
    let mut feed = pipeline.leading_group(&env).expect("a leading $group");
    let raw = docs
        .iter()
        .try_for_each(|doc| feed.add_raw(&bson::RawDocumentBuf::try_from(doc).unwrap()))
        .and_then(|()| feed.finish())
        .and_then(|groups| pipeline.run_after_first(groups.into_iter(), &env));
    (format!("{decoded:?}"), format!("{raw:?}"))
}

#[test]
fn a_group_fed_raw_documents_agrees_with_the_pipeline() {
    let docs = vec![
        doc! {"_id": 1, "g": 1, "a": {"b": {"c": 2.5}}, "s": "x"},
        doc! {"_id": 2, "g": 1.0, "a": [{"b": 1}, {"b": [2, {"c": 3}]}, 7, [{"b": 4}]]},
        doc! {"_id": 3, "g": 1_i64, "a": {"b": [{"c": 1}, {"c": [5]}, {"d": 1}]}},
        doc! {"_id": 4, "g": null, "a": 5, "s": null},
        doc! {"_id": 5, "a": {"b": null}, "n": f64::NAN},
        doc! {"_id": 6, "g": {"k": [1, 2]}, "a": {"b": {"c": [[1], {"c": 2}]}}, "n": 3},
        doc! {"_id": 7, "g": {"k": [1.0, 2_i64]}, "a": {}, "s": "y"},
    ];
    let specs = [
        doc! {"_id": "$g", "n": {"$sum": 1}, "c": {"$push": "$a.b.c"}},
        doc! {"_id": "$a.b", "first": {"$first": "$a"}, "avg": {"$avg": "$n"}},
        doc! {"_id": null, "all": {"$push": "$$ROOT"}, "ids": {"$addToSet": "$_id"}},
        doc! {"_id": "$$CURRENT.s", "top": {"$top": {"sortBy": {"a.b": -1, "_id": 1}, "output": "$_id"}}},
        doc! {"_id": {"g": "$g", "s": "$s"}, "max": {"$max": "$a.b.c"}, "min": {"$min": "$n"}},
        doc! {"_id": {"$type": "$a"}, "x": {"$push": {"$let": {"vars": {"r": "$$ROOT"}, "in": "$$r.a.b"}}}},
        doc! {"_id": {"$size": {"$ifNull": [{"$objectToArray": "$$ROOT"}, []]}}, "n": {"$count": {}}},
    ];
    for spec in specs {
        let stages = vec![doc! {"$group": spec.clone()}, doc! {"$sort": {"_id": 1}}];
        let (decoded, raw) = fed_raw(&docs, stages);
        assert!(decoded.starts_with("Ok("), "{spec}: {decoded}");
        assert_eq!(decoded, raw, "{spec}");
    }
    // Errors are the same too.
    let stages = vec![doc! {"$group": {"_id": {"$add": ["$s", 1]}}}];
    let (decoded, raw) = fed_raw(&docs, stages);
    assert!(decoded.starts_with("Err("), "{decoded}");
    assert_eq!(decoded, raw);
}

#[test]
fn only_a_leading_group_takes_raw_documents() {
    let env = Env::default();
    let group = Pipeline::parse(&[doc! {"$group": {"_id": "$g"}}]).unwrap();
    assert!(group.leading_group(&env).is_some());
    let later = Pipeline::parse(&[doc! {"$limit": 1}, doc! {"$group": {"_id": "$g"}}]).unwrap();
    assert!(later.leading_group(&env).is_none());
}
