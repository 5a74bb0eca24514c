//! Tests of `$redact`, `$fill` and `$densify`. "Server:" comments give what
//! MongoDB returns.

use bson::{doc, Bson, DateTime, Document};

use super::*;

fn run(docs: Vec<Document>, stages: Vec<Document>) -> QueryResult<Vec<Document>> {
    Pipeline::parse(&stages)?.run(docs.into_iter())
}

fn ok(docs: Vec<Document>, stages: Vec<Document>) -> Vec<Document> {
    run(docs, stages).unwrap()
}

fn err(docs: Vec<Document>, stages: Vec<Document>) -> String {
    match run(docs, stages) {
        Err(e) => e.message().to_owned(),
        Ok(out) => panic!("expected an error, got {out:?}"),
    }
}

fn date(ms: i64) -> Bson {
    Bson::DateTime(DateTime::from_millis(ms))
}

const DAY: i64 = 86_400_000;

// ---------------------------------------------------------------- $redact

/// The manual's example: documents tagged with access levels.
fn tagged() -> Document {
    doc! {
        "_id": 1, "level": 1,
        "a": { "level": 1, "b": 1, "c": { "level": 5, "d": 1 } },
        "e": [{ "level": 5, "f": 1 }, { "level": 1, "g": 1 }, 7, [{ "level": 5 }, { "level": 2, "h": 1 }]],
    }
}

#[test]
fn redact_descends_prunes_and_keeps_at_every_level() {
    let stage = doc! { "$redact": { "$cond": {
        "if": { "$lte": ["$level", 2] }, "then": "$$DESCEND", "else": "$$PRUNE"
    } } };
    let out = ok(vec![tagged()], vec![stage]);
    assert_eq!(
        out,
        vec![doc! {
            "_id": 1, "level": 1,
            "a": { "level": 1, "b": 1 },
            // Scalars in arrays stay; documents are decided, in nested arrays too.
            "e": [{ "level": 1, "g": 1 }, 7, [{ "level": 2, "h": 1 }]],
        }]
    );
    // $$KEEP keeps the whole document, whatever is inside it.
    let keep = doc! { "$redact": { "$cond": [{ "$eq": ["$level", 1] }, "$$KEEP", "$$PRUNE"] } };
    assert_eq!(ok(vec![tagged()], vec![keep]), vec![tagged()]);
    // A pruned top-level document is dropped.
    let prune = doc! { "$redact": "$$PRUNE" };
    assert!(ok(vec![tagged()], vec![prune]).is_empty());
}

#[test]
fn redact_reads_root_and_current() {
    // $$ROOT stays the top-level document while $$CURRENT descends.
    let stage = doc! { "$redact": { "$cond": [
        { "$or": [{ "$eq": ["$$CURRENT", "$$ROOT"] }, { "$eq": ["$$ROOT.keep", "$k"] }] },
        "$$DESCEND", "$$PRUNE"
    ] } };
    let d = doc! { "_id": 1, "keep": "x", "a": { "k": "x", "v": 1 }, "b": { "k": "y" } };
    assert_eq!(
        ok(vec![d], vec![stage]),
        vec![doc! { "_id": 1, "keep": "x", "a": { "k": "x", "v": 1 } }]
    );
}

#[test]
fn redact_refuses_anything_but_the_three_variables() {
    let e = err(vec![doc! { "_id": 1 }], vec![doc! { "$redact": 1 }]);
    assert!(e.contains("$$KEEP, $$DESCEND, and $$PRUNE"), "{e}");
    // Server: the variables are the strings "descend", "prune" and "keep".
    assert_eq!(
        ok(vec![doc! { "_id": 1 }], vec![doc! { "$redact": "keep" }]),
        vec![doc! { "_id": 1 }]
    );
    // The markers exist only inside $redact.
    let outside = Pipeline::parse(&[doc! { "$project": { "x": "$$KEEP" } }]);
    assert!(outside.is_err());
}

// ---------------------------------------------------------------- $fill

fn series() -> Vec<Document> {
    vec![
        doc! { "_id": 3, "t": 3, "g": "a", "v": null },
        doc! { "_id": 1, "t": 1, "g": "a", "v": 10 },
        doc! { "_id": 2, "t": 2, "g": "a" },
        doc! { "_id": 4, "t": 4, "g": "a", "v": 40 },
        doc! { "_id": 5, "t": 5, "g": "a" },
        doc! { "_id": 6, "t": 1, "g": "b" },
        doc! { "_id": 7, "t": 2, "g": "b", "v": 7.5 },
    ]
}

fn field(docs: &[Document], name: &str) -> Vec<Option<Bson>> {
    docs.iter().map(|d| d.get(name).cloned()).collect()
}

#[test]
fn fill_value_keeps_the_order_and_fills_null_and_missing() {
    let out = ok(
        series(),
        vec![doc! { "$fill": { "output": { "v": { "value": 0 } } } }],
    );
    let ids: Vec<_> = out.iter().map(|d| d.get_i32("_id").unwrap()).collect();
    assert_eq!(ids, [3, 1, 2, 4, 5, 6, 7]);
    let v = field(&out, "v");
    assert_eq!(v[0], Some(Bson::Int32(0)));
    assert_eq!(v[2], Some(Bson::Int32(0)));
    assert_eq!(v[1], Some(Bson::Int32(10)));
    // The value is an expression of the document.
    let out = ok(
        series(),
        vec![doc! { "$fill": { "output": { "v": { "value": { "$multiply": ["$t", 100] } } } } }],
    );
    assert_eq!(field(&out, "v")[0], Some(Bson::Int32(300)));
}

#[test]
fn fill_locf_carries_the_last_value_in_each_partition() {
    let out = ok(
        series(),
        vec![
            doc! { "$fill": { "sortBy": { "t": 1 }, "partitionBy": "$g", "output": { "v": { "method": "locf" } } } },
        ],
    );
    // Partitions in key order, each sorted by t.
    let ids: Vec<_> = out.iter().map(|d| d.get_i32("_id").unwrap()).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(
        field(&out, "v"),
        [10, 10, 10, 40, 40]
            .map(|n| Some(Bson::Int32(n)))
            .into_iter()
            .chain([None, Some(Bson::Double(7.5))])
            .collect::<Vec<_>>()
    );
}

#[test]
fn fill_linear_interpolates_between_neighbours() {
    let out = ok(
        series(),
        vec![
            doc! { "$fill": { "sortBy": { "t": 1 }, "partitionByFields": ["g"], "output": { "v": { "method": "linear" } } } },
        ],
    );
    assert_eq!(
        field(&out, "v"),
        vec![
            Some(Bson::Int32(10)),
            Some(Bson::Double(20.0)),
            Some(Bson::Double(30.0)),
            Some(Bson::Int32(40)),
            // After the last value, and before the first: left as they are.
            None,
            None,
            Some(Bson::Double(7.5)),
        ]
    );
    // Dates on the sortBy axis.
    let docs = vec![
        doc! { "_id": 1, "t": date(0), "v": 0 },
        doc! { "_id": 2, "t": date(DAY) },
        doc! { "_id": 3, "t": date(4 * DAY), "v": 8 },
    ];
    let out = ok(
        docs,
        vec![doc! { "$fill": { "sortBy": { "t": 1 }, "output": { "v": { "method": "linear" } } } }],
    );
    assert_eq!(field(&out, "v")[1], Some(Bson::Double(2.0)));
}

#[test]
fn fill_refuses_bad_specifications() {
    let parse = |spec: Document| {
        Pipeline::parse(&[doc! { "$fill": spec }])
            .map(|_| ())
            .unwrap_err()
            .message()
            .to_owned()
    };
    assert!(parse(doc! { "output": {} }).contains("at least one element"));
    assert!(parse(doc! { "output": { "v": { "method": "spline" } } }).contains("locf or linear"));
    assert!(parse(
        doc! { "sortBy": { "t": 1 }, "output": { "v": { "method": "locf", "value": 1 } } }
    )
    .contains("not both"));
    assert!(parse(doc! { "output": { "v": { "method": "locf" } } }).contains("sortBy"));
    assert!(parse(
        doc! { "sortBy": { "t": 1, "u": 1 }, "output": { "v": { "method": "linear" } } }
    )
    .contains("exactly one field"));
    assert!(parse(doc! { "sortBy": { "t": 1 }, "partitionBy": "$g", "partitionByFields": ["g"], "output": { "v": { "value": 1 } } })
        .contains("Maximum one of"));
    assert!(
        parse(doc! { "output": { "v": { "value": 1 } }, "bogus": 1 }).contains("unknown field")
    );
    // Linear fill of a non-number.
    let e = err(
        vec![
            doc! { "t": 1, "v": "x" },
            doc! { "t": 2 },
            doc! { "t": 3, "v": 1 },
        ],
        vec![doc! { "$fill": { "sortBy": { "t": 1 }, "output": { "v": { "method": "linear" } } } }],
    );
    assert!(e.contains("numeric"), "{e}");
}

// ---------------------------------------------------------------- $densify

fn values(docs: &[Document], name: &str) -> Vec<Bson> {
    docs.iter()
        .map(|d| d.get(name).cloned().unwrap_or(Bson::Null))
        .collect()
}

#[test]
fn densify_numbers_over_the_full_range() {
    let docs = vec![
        doc! { "_id": 1, "x": 1 },
        doc! { "_id": 2, "x": 4 },
        doc! { "_id": 3, "x": 8 },
        doc! { "_id": 4 },
    ];
    let out = ok(
        docs,
        vec![doc! { "$densify": { "field": "x", "range": { "step": 2, "bounds": "full" } } }],
    );
    // Missing first (the sort), then the grid 1, 3, 5, 7 around 4 and 8.
    assert_eq!(
        values(&out, "x"),
        [
            Bson::Null,
            1.into(),
            3.into(),
            4.into(),
            5.into(),
            7.into(),
            8.into()
        ]
    );
    // Generated documents hold the field only.
    assert_eq!(out[2], doc! { "x": 3 });
    assert_eq!(out[0], doc! { "_id": 4 });
}

#[test]
fn densify_explicit_bounds_include_the_lower_and_exclude_the_upper() {
    let docs = vec![doc! { "_id": 1, "x": 0.5 }, doc! { "_id": 2, "x": 12 }];
    let out = ok(
        docs,
        vec![doc! { "$densify": { "field": "x", "range": { "step": 2.5, "bounds": [0, 10] } } }],
    );
    assert_eq!(
        values(&out, "x"),
        [
            Bson::Int32(0),
            Bson::Double(0.5),
            Bson::Double(2.5),
            Bson::Double(5.0),
            Bson::Double(7.5),
            Bson::Int32(12)
        ]
    );
}

#[test]
fn densify_partitions_and_dates() {
    let docs = vec![
        doc! { "_id": 1, "g": "a", "t": date(0) },
        doc! { "_id": 2, "g": "a", "t": date(3 * DAY) },
        doc! { "_id": 3, "g": "b", "t": date(2 * DAY) },
    ];
    let out = ok(
        docs.clone(),
        vec![
            doc! { "$densify": { "field": "t", "partitionByFields": ["g"], "range": { "step": 1, "unit": "day", "bounds": "partition" } } },
        ],
    );
    assert_eq!(
        out,
        vec![
            doc! { "_id": 1, "g": "a", "t": date(0) },
            doc! { "g": "a", "t": date(DAY) },
            doc! { "g": "a", "t": date(2 * DAY) },
            doc! { "_id": 2, "g": "a", "t": date(3 * DAY) },
            doc! { "_id": 3, "g": "b", "t": date(2 * DAY) },
        ]
    );
    let full = ok(
        docs,
        vec![
            doc! { "$densify": { "field": "t", "partitionByFields": ["g"], "range": { "step": 1, "unit": "day", "bounds": "full" } } },
        ],
    );
    let b: Vec<_> = full
        .iter()
        .filter(|d| d.get_str("g").ok() == Some("b"))
        .map(|d| d.get("t").cloned().unwrap())
        .collect();
    assert_eq!(b, [date(0), date(DAY), date(2 * DAY), date(3 * DAY)]);
    // Calendar months, stepped one after another as the server does.
    let jan31 = 2_592_000_000_i64; // 1970-01-31
    let out = ok(
        vec![doc! { "t": date(jan31) }],
        vec![
            doc! { "$densify": { "field": "t", "range": { "step": 1, "unit": "month", "bounds": [date(jan31), date(jan31 + 50 * DAY)] } } },
        ],
    );
    assert_eq!(values(&out, "t"), [date(jan31), date(jan31 + 28 * DAY)]);
}

#[test]
fn densify_refuses_bad_input() {
    let parse = |spec: Document| {
        Pipeline::parse(&[doc! { "$densify": spec }])
            .map(|_| ())
            .unwrap_err()
            .message()
            .to_owned()
    };
    assert!(
        parse(doc! { "field": "x", "range": { "step": 0, "bounds": "full" } })
            .contains("strictly positive")
    );
    assert!(
        parse(doc! { "field": "x", "range": { "step": 1, "bounds": "partition" } })
            .contains("partitionByFields")
    );
    assert!(
        parse(doc! { "field": "x", "range": { "step": 1, "bounds": [5, 1] } })
            .contains("Lower bound")
    );
    assert!(parse(
        doc! { "field": "x", "range": { "step": 1.5, "unit": "day", "bounds": "full" } }
    )
    .contains("whole number"));
    assert!(parse(
        doc! { "field": "x", "partitionByFields": ["x"], "range": { "step": 1, "bounds": "full" } }
    )
    .contains("cannot include"));
    assert!(parse(doc! { "range": { "step": 1, "bounds": "full" } }).contains("field"));
    let e = err(
        vec![doc! { "x": "str" }],
        vec![doc! { "$densify": { "field": "x", "range": { "step": 1, "bounds": "full" } } }],
    );
    assert!(e.contains("numeric"), "{e}");
    // A tiny step cannot generate without end.
    let e = err(
        vec![doc! { "x": 0 }, doc! { "x": 1 }],
        vec![doc! { "$densify": { "field": "x", "range": { "step": 1e-9, "bounds": "full" } } }],
    );
    assert!(e.contains("over the limit"), "{e}");
}
