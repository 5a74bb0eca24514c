//! Tests of the accumulators added with the parsed-spec design: `$stdDev*`,
//! `$median`/`$percentile`, the `n` family, top/bottom and `$mergeObjects`.
//! "Server:" comments give what the test server answered for the same input
//! (see also the differential `accumulators` suite).

use bson::{bson, doc, Bson, Decimal128, Document};

use super::*;

fn dec(s: &str) -> Bson {
    Bson::Decimal128(s.parse::<Decimal128>().unwrap())
}

/// Group keys `x`: 1, 2 (long), 3.0, null, missing; `y`: decimal 2.5, a
/// string, NaN; `z`: 4, 4.0 and an array.
fn docs() -> Vec<Document> {
    vec![
        doc! {"_id": "a01", "g": "x", "v": 1, "w": 10, "o": {"a": 1}},
        doc! {"_id": "a02", "g": "x", "v": 2_i64, "w": 30, "o": {"b": 2}},
        doc! {"_id": "a03", "g": "x", "v": 3.0, "w": 20, "o": {"a": 3}},
        doc! {"_id": "a04", "g": "x", "v": null, "w": 40, "o": null},
        doc! {"_id": "a05", "g": "x", "w": 50},
        doc! {"_id": "a06", "g": "y", "v": dec("2.5"), "w": 5},
        doc! {"_id": "a07", "g": "y", "v": "str", "w": 6},
        doc! {"_id": "a08", "g": "y", "v": f64::NAN, "w": 7},
        doc! {"_id": "a09", "g": "z", "v": 4, "w": 8},
        doc! {"_id": "a10", "g": "z", "v": 4.0, "w": 9},
        doc! {"_id": "a11", "g": "z", "v": [1, 2], "w": 1},
    ]
}

/// The accumulator's result for each group, by key.
fn by_group(acc: Bson) -> QueryResult<Vec<(String, Bson)>> {
    let pipeline = Pipeline::parse(&[
        doc! {"$group": {"_id": "$g", "r": acc}},
        doc! {"$sort": {"_id": 1}},
    ])?;
    Ok(pipeline
        .run(docs().into_iter())?
        .into_iter()
        .map(|d| {
            (
                d.get_str("_id").unwrap().to_owned(),
                d.get("r").cloned().unwrap(),
            )
        })
        .collect())
}

/// The result for group `key`.
fn group(acc: Bson, key: &str) -> Bson {
    by_group(acc)
        .unwrap()
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .unwrap()
}

/// The error message of a pipeline with this accumulator.
fn error(acc: Bson) -> String {
    by_group(acc).unwrap_err().message().to_owned()
}

#[test]
fn standard_deviations_are_doubles_over_the_numbers() {
    // Server: x (1, 2, 3) -> sqrt(2/3) and 1.0; y has NaN -> NaN; z (4, 4.0) -> 0.
    assert_eq!(
        group(bson!({"$stdDevPop": "$v"}), "x"),
        Bson::Double((2.0f64 / 3.0).sqrt())
    );
    assert_eq!(group(bson!({"$stdDevSamp": "$v"}), "x"), Bson::Double(1.0));
    assert!(matches!(group(bson!({"$stdDevPop": "$v"}), "y"), Bson::Double(f) if f.is_nan()));
    assert_eq!(group(bson!({"$stdDevPop": "$v"}), "z"), Bson::Double(0.0));
    // No numbers: null; a sample of one: null, a population of one: 0.
    assert_eq!(group(bson!({"$stdDevPop": "$nope"}), "x"), Bson::Null);
    let one = vec![doc! {"v": 5}];
    let run = |acc: Bson| {
        Pipeline::parse(&[doc! {"$group": {"_id": null, "r": acc}}])
            .unwrap()
            .run(one.clone().into_iter())
            .unwrap()[0]
            .get("r")
            .cloned()
            .unwrap()
    };
    assert_eq!(run(bson!({"$stdDevSamp": "$v"})), Bson::Null);
    assert_eq!(run(bson!({"$stdDevPop": "$v"})), Bson::Double(0.0));
    assert_eq!(
        error(bson!({"$stdDevPop": ["$v", "$w"]})),
        "The $stdDevPop accumulator is a unary operator"
    );
}

#[test]
fn quantiles_are_the_nearest_rank_values_as_doubles() {
    let p = |ps: Bson| bson!({"$percentile": {"input": "$w", "p": ps, "method": "approximate"}});
    // x: w = 10, 30, 20, 40, 50. Server: [10.0, 20.0, 30.0, 40.0, 50.0, 50.0].
    assert_eq!(
        group(p(bson!([0, 0.25, 0.5, 0.75, 0.9, 1])), "x"),
        bson!([10.0, 20.0, 30.0, 40.0, 50.0, 50.0])
    );
    // Server: the median of 1, 2, 3.0 (null, missing skipped) is 2.0.
    assert_eq!(
        group(
            bson!({"$median": {"input": "$v", "method": "approximate"}}),
            "x"
        ),
        Bson::Double(2.0)
    );
    // y: the decimal counts as a double, NaN and the string are skipped.
    assert_eq!(
        group(
            bson!({"$median": {"input": "$v", "method": "approximate"}}),
            "y"
        ),
        Bson::Double(2.5)
    );
    // No numbers: null, or one null per p.
    assert_eq!(
        group(
            bson!({"$median": {"input": "$nope", "method": "approximate"}}),
            "x"
        ),
        Bson::Null
    );
    assert_eq!(
        group(
            bson!({"$percentile": {"input": "$nope", "p": [0.5, 0.9], "method": "approximate"}}),
            "x"
        ),
        bson!([null, null])
    );
}

#[test]
fn quantile_arguments_are_checked_like_the_server() {
    let msg = |acc: Bson| error(acc);
    assert_eq!(
        msg(bson!({"$median": {"input": "$v"}})),
        "BSON field '$median.method' is missing but a required field"
    );
    assert_eq!(
        msg(bson!({"$median": {"method": "approximate"}})),
        "BSON field '$median.input' is missing but a required field"
    );
    assert_eq!(
        msg(bson!({"$median": {"input": "$v", "method": "exact"}})),
        "Currently only 'approximate' can be used as percentile 'method'."
    );
    assert_eq!(
        msg(bson!({"$median": {"input": "$v", "method": "approximate", "p": [0.5]}})),
        "BSON field '$median.p' is an unknown field."
    );
    assert!(msg(bson!({"$median": "$v"})).starts_with("specification must be an object"));
    assert_eq!(
        msg(bson!({"$percentile": {"input": "$v", "method": "approximate"}})),
        "BSON field '$percentile.p' is missing but a required field"
    );
    for bad in [
        bson!([1.5]),
        bson!([]),
        bson!(0.5),
        bson!(["a"]),
        bson!([-0.1]),
    ] {
        assert!(
            msg(bson!({"$percentile": {"input": "$v", "p": bad.clone(), "method": "approximate"}}))
                .starts_with("The $percentile 'p' field must be an array of numbers"),
            "{bad}"
        );
    }
    assert!(
        msg(bson!({"$percentile": {"input": "$v", "p": "$ps", "method": "approximate"}}))
            .contains("constant")
    );
    // A constant expression is a constant.
    assert_eq!(
        group(
            bson!({"$percentile": {"input": "$w", "p": [{"$divide": [1, 2]}], "method": "approximate"}}),
            "x"
        ),
        bson!([30.0])
    );
}

#[test]
fn first_and_last_n_keep_null_and_missing_as_null() {
    // Server: x -> [1, 2], [null, null]; n larger than the group -> all of it.
    assert_eq!(
        group(bson!({"$firstN": {"input": "$v", "n": 2}}), "x"),
        bson!([1, 2_i64])
    );
    assert_eq!(
        group(bson!({"$lastN": {"input": "$v", "n": 2}}), "x"),
        bson!([null, null])
    );
    assert_eq!(
        group(bson!({"$firstN": {"input": "$v", "n": 10_i64}}), "x"),
        bson!([1, 2_i64, 3.0, null, null])
    );
    assert_eq!(
        group(bson!({"$lastN": {"input": "$w", "n": 2.0}}), "z"),
        bson!([9, 1])
    );
}

#[test]
fn min_and_max_n_skip_null_and_keep_order() {
    // Server: x -> minN [1, 2], maxN [3.0, 2, 1]; y (mixed types) in BSON order.
    assert_eq!(
        group(bson!({"$minN": {"input": "$v", "n": 2}}), "x"),
        bson!([1, 2_i64])
    );
    assert_eq!(
        group(bson!({"$maxN": {"input": "$v", "n": 10}}), "x"),
        bson!([3.0, 2_i64, 1])
    );
    assert!(matches!(
        group(bson!({"$minN": {"input": "$v", "n": 10}}), "y").as_array().map(Vec::as_slice),
        Some([Bson::Double(nan), Bson::Decimal128(_), Bson::String(_)]) if nan.is_nan()
    ));
    // Equal values: minN keeps insertion order, maxN lists the latest first
    // (the server walks its multiset backwards).
    assert_eq!(
        group(bson!({"$minN": {"input": "$v", "n": 2}}), "z"),
        bson!([4, 4.0])
    );
    assert_eq!(
        group(bson!({"$maxN": {"input": "$v", "n": 3}}), "z"),
        bson!([[1, 2], 4.0, 4])
    );
    // Full, a tie does not replace the kept value: the first stays.
    assert_eq!(
        group(bson!({"$minN": {"input": "$v", "n": 1}}), "z"),
        bson!([4])
    );
    assert_eq!(
        group(bson!({"$maxN": {"input": "$w", "n": 1}}), "z"),
        bson!([9])
    );
    assert_eq!(
        group(bson!({"$minN": {"input": "$nope", "n": 1}}), "z"),
        bson!([])
    );
}

#[test]
fn n_is_validated_per_group_and_may_use_the_group_key() {
    for (n, message) in [
        (bson!(0), "'n' must be greater than 0, found 0"),
        (bson!(-2_i64), "'n' must be greater than 0, found -2"),
        (
            bson!(1.5),
            "Value for 'n' must be of integral type, but found 1.5",
        ),
        (
            bson!("2"),
            "Value for 'n' must be of integral type, but found \"2\"",
        ),
    ] {
        assert_eq!(error(bson!({"$firstN": {"input": "$v", "n": n}})), message);
    }
    assert_eq!(
        error(bson!({"$maxN": {"input": "$v"}})),
        "Missing value for 'n'"
    );
    assert_eq!(
        error(bson!({"$maxN": {"n": 1}})),
        "Missing value for 'input'"
    );
    assert_eq!(
        error(bson!({"$maxN": {"n": 1, "input": "$v", "k": 1}})),
        "Unknown argument for 'n' operator: k"
    );
    assert!(error(bson!({"$lastN": [1]})).starts_with("specification must be an object"));
    // n is evaluated against {_id: <group key>}.
    let n = bson!({"$cond": [{"$eq": ["$_id", "x"]}, 1, 3]});
    assert_eq!(
        group(bson!({"$firstN": {"input": "$w", "n": n.clone()}}), "x"),
        bson!([10])
    );
    assert_eq!(
        group(bson!({"$firstN": {"input": "$w", "n": n}}), "y"),
        bson!([5, 6, 7])
    );
}

#[test]
fn top_and_bottom_follow_sort_by() {
    // Server: x by w -> top 1 (w 10), bottom missing -> null (w 50).
    assert_eq!(
        group(bson!({"$top": {"sortBy": {"w": 1}, "output": "$v"}}), "x"),
        Bson::Int32(1)
    );
    assert_eq!(
        group(
            bson!({"$bottom": {"sortBy": {"w": 1}, "output": "$v"}}),
            "x"
        ),
        Bson::Null
    );
    assert_eq!(
        group(
            bson!({"$topN": {"n": 2, "sortBy": {"w": 1}, "output": "$_id"}}),
            "x"
        ),
        bson!(["a01", "a03"])
    );
    assert_eq!(
        group(
            bson!({"$bottomN": {"n": 2, "sortBy": {"w": 1}, "output": "$_id"}}),
            "x"
        ),
        bson!(["a04", "a05"])
    );
    assert_eq!(
        group(
            bson!({"$topN": {"n": 10, "sortBy": {"w": -1}, "output": "$w"}}),
            "y"
        ),
        bson!([7, 6, 5])
    );
    // Null and missing sort alike, before the numbers; arrays by their
    // smallest element ascending, largest descending (as $sort).
    assert_eq!(
        group(
            bson!({"$topN": {"n": 3, "sortBy": {"v": 1, "w": 1}, "output": "$_id"}}),
            "x"
        ),
        bson!(["a04", "a05", "a01"])
    );
    assert_eq!(
        group(
            bson!({"$topN": {"n": 3, "sortBy": {"v": 1}, "output": "$_id"}}),
            "z"
        ),
        bson!(["a11", "a09", "a10"])
    );
    assert_eq!(
        group(
            bson!({"$bottomN": {"n": 3, "sortBy": {"v": -1, "w": -1}, "output": "$_id"}}),
            "z"
        ),
        bson!(["a10", "a09", "a11"])
    );
}

#[test]
fn ties_keep_the_first_seen_at_both_ends() {
    // The manual's $bottom example: of two tied players, the first is returned.
    let tied = bson!({"sortBy": {"g": 1}, "output": "$_id"});
    assert_eq!(group(bson!({"$top": tied.clone()}), "z"), bson!("a09"));
    assert_eq!(group(bson!({"$bottom": tied}), "z"), bson!("a09"));
    assert_eq!(
        group(
            bson!({"$bottomN": {"n": 2, "sortBy": {"g": 1}, "output": "$_id"}}),
            "z"
        ),
        bson!(["a09", "a10"])
    );
}

#[test]
fn top_and_bottom_arguments_are_checked() {
    assert_eq!(
        error(bson!({"$topN": {"sortBy": {"w": 1}, "output": "$v"}})),
        "Missing value for 'n'"
    );
    assert_eq!(
        error(bson!({"$top": {"n": 1, "sortBy": {"w": 1}, "output": "$v"}})),
        "Unknown argument to $top 'n'"
    );
    assert_eq!(
        error(bson!({"$bottom": {"sortBy": {"w": 1}}})),
        "Missing value for 'output'"
    );
    assert_eq!(
        error(bson!({"$bottomN": {"n": 1, "output": "$v"}})),
        "Missing value for 'sortBy'"
    );
    assert_eq!(
        error(bson!({"$topN": {"n": 0, "sortBy": {"w": 1}, "output": "$v"}})),
        "'n' must be greater than 0, found 0"
    );
    assert!(error(bson!({"$top": {"sortBy": {"w": 2}, "output": "$v"}})).contains("$sort key"));
}

#[test]
fn merge_objects_merges_in_order() {
    // Server: x -> {a: 3, b: 2} (a keeps its first position); non-documents fail.
    assert_eq!(
        group(bson!({"$mergeObjects": "$o"}), "x"),
        bson!({"a": 3, "b": 2})
    );
    assert_eq!(group(bson!({"$mergeObjects": "$o"}), "y"), bson!({}));
    assert_eq!(
        error(bson!({"$mergeObjects": "$v"})),
        "$mergeObjects requires object inputs, but input 1 is of type int"
    );
}

#[test]
fn states_answer_without_being_consumed() {
    // A window asks a state after every document: the answer must not
    // empty it (the $group path takes the value out with finish instead).
    let spec = accumulators::parse("$push", &bson!("$v"), &ParseCtx::default()).unwrap();
    let empty = Document::new();
    let mut state = spec.start(&crate::expr::Ctx::new(&empty)).unwrap();
    state.add(Some(&Bson::Int32(1))).unwrap();
    assert_eq!(state.result().unwrap(), bson!([1]));
    state.add(Some(&Bson::Int32(2))).unwrap();
    assert_eq!(state.result().unwrap(), bson!([1, 2]));
    assert_eq!(state.finish().unwrap(), bson!([1, 2]));
    assert_eq!(spec.empty_window(), bson!([]));
}
