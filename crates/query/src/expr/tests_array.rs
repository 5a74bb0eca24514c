//! Tests of the array, set, object and accumulator-expression operators.
//! Expected values follow the MongoDB manual and the server's behaviour.

use bson::{bson, doc, Bson, Document};

use super::test_support::{dec, eval};

fn sample() -> Document {
    doc! {
        "_id": 0,
        "a": [1, 2, 3],
        "e": [],
        "n": null,
        "s": "str",
        "docs": [{"k": "x", "v": 1}, {"k": "y", "v": 2}],
        "o": {"x": 1, "y": {"z": 2}},
    }
}

fn ok(spec: Bson) -> Option<Bson> {
    eval(spec, &sample()).unwrap()
}

fn err(spec: Bson) -> String {
    match eval(spec, &sample()) {
        Err(e) => e.message().to_owned(),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

#[test]
fn array_elem_at_first_last() {
    assert_eq!(ok(bson!({"$arrayElemAt": ["$a", 0]})), Some(bson!(1)));
    assert_eq!(ok(bson!({"$arrayElemAt": ["$a", -1]})), Some(bson!(3)));
    assert_eq!(ok(bson!({"$arrayElemAt": ["$a", 2.0]})), Some(bson!(3)));
    assert_eq!(
        ok(bson!({"$arrayElemAt": ["$a", dec("1")]})),
        Some(bson!(2))
    );
    // Out of range either way: missing.
    assert_eq!(ok(bson!({"$arrayElemAt": ["$a", 3]})), None);
    assert_eq!(ok(bson!({"$arrayElemAt": ["$a", -4]})), None);
    assert_eq!(ok(bson!({"$arrayElemAt": ["$x", 0]})), Some(Bson::Null));
    assert_eq!(ok(bson!({"$arrayElemAt": ["$a", null]})), Some(Bson::Null));
    assert_eq!(
        err(bson!({"$arrayElemAt": ["$s", 0]})),
        "$arrayElemAt's first argument must be an array, but is string"
    );
    assert_eq!(
        err(bson!({"$arrayElemAt": ["$a", "1"]})),
        "$arrayElemAt's second argument must be a numeric value, but is string"
    );
    assert!(err(bson!({"$arrayElemAt": ["$a", 1.5]})).contains("32-bit integer"));
    assert!(err(bson!({"$arrayElemAt": ["$a", 4_294_967_296_i64]})).contains("32-bit"));
    assert_eq!(ok(bson!({"$first": "$a"})), Some(bson!(1)));
    assert_eq!(ok(bson!({"$last": "$a"})), Some(bson!(3)));
    assert_eq!(ok(bson!({"$first": "$e"})), None);
    assert_eq!(ok(bson!({"$last": "$x"})), Some(Bson::Null));
    assert_eq!(ok(bson!({"$first": [[[1], 2]]})), Some(bson!([1])));
    assert_eq!(
        err(bson!({"$last": "$s"})),
        "$last's argument must be an array, but is string"
    );
    assert_eq!(
        err(bson!({"$first": [1, 2]})),
        "Expression $first takes exactly 1 arguments. 2 were passed in."
    );
}

#[test]
fn slice() {
    assert_eq!(ok(bson!({"$slice": ["$a", 2]})), Some(bson!([1, 2])));
    assert_eq!(ok(bson!({"$slice": ["$a", -2]})), Some(bson!([2, 3])));
    assert_eq!(ok(bson!({"$slice": ["$a", -10]})), Some(bson!([1, 2, 3])));
    assert_eq!(ok(bson!({"$slice": ["$a", 0]})), Some(bson!([])));
    assert_eq!(ok(bson!({"$slice": ["$a", 1, 1]})), Some(bson!([2])));
    assert_eq!(ok(bson!({"$slice": ["$a", -2, 5]})), Some(bson!([2, 3])));
    assert_eq!(ok(bson!({"$slice": ["$a", 10, 5]})), Some(bson!([])));
    assert_eq!(ok(bson!({"$slice": ["$a", -10, 1]})), Some(bson!([1])));
    assert_eq!(ok(bson!({"$slice": ["$x", 1]})), Some(Bson::Null));
    assert_eq!(ok(bson!({"$slice": ["$a", 1, null]})), Some(Bson::Null));
    assert_eq!(
        err(bson!({"$slice": ["$a", 1, 0]})),
        "Third argument to $slice must be positive: 0"
    );
    assert!(err(bson!({"$slice": ["$s", 1]})).starts_with("First argument to $slice"));
    assert!(err(bson!({"$slice": ["$a", "1"]})).starts_with("Second argument to $slice"));
    assert!(err(bson!({"$slice": ["$a", 0.5]})).contains("32-bit"));
    assert!(err(bson!({"$slice": ["$a"]})).contains("at least 2 arguments"));
}

#[test]
fn in_and_index_of_array() {
    assert_eq!(ok(bson!({"$in": [2.0, "$a"]})), Some(bson!(true)));
    assert_eq!(ok(bson!({"$in": [dec("3"), "$a"]})), Some(bson!(true)));
    assert_eq!(ok(bson!({"$in": [4, "$a"]})), Some(bson!(false)));
    assert_eq!(ok(bson!({"$in": [null, [null]]})), Some(bson!(true)));
    // Missing is not null.
    assert_eq!(ok(bson!({"$in": ["$x", [null]]})), Some(bson!(false)));
    assert_eq!(ok(bson!({"$in": [[1], [[1], 2]]})), Some(bson!(true)));
    assert_eq!(
        err(bson!({"$in": [1, "$x"]})),
        "$in requires an array as a second argument, found: missing"
    );
    assert_eq!(ok(bson!({"$indexOfArray": ["$a", 2]})), Some(bson!(1)));
    assert_eq!(ok(bson!({"$indexOfArray": ["$a", 9]})), Some(bson!(-1)));
    assert_eq!(
        ok(bson!({"$indexOfArray": [[1, 2, 1, 2], 2, 2]})),
        Some(bson!(3))
    );
    assert_eq!(
        ok(bson!({"$indexOfArray": [[1, 2, 1, 2], 2, 2, 3]})),
        Some(bson!(-1))
    );
    assert_eq!(
        ok(bson!({"$indexOfArray": [[1, 2], 2, 5, 1]})),
        Some(bson!(-1))
    );
    assert_eq!(ok(bson!({"$indexOfArray": ["$x", 2]})), Some(Bson::Null));
    assert!(err(bson!({"$indexOfArray": ["$a", 2, -1]})).contains("nonnegative"));
    assert!(err(bson!({"$indexOfArray": ["$a", 2, null]})).contains("integral"));
    assert!(err(bson!({"$indexOfArray": ["$s", 2]})).contains("as a first argument"));
}

#[test]
fn concat_range_reverse() {
    assert_eq!(
        ok(bson!({"$concatArrays": ["$a", [[4]], "$e"]})),
        Some(bson!([1, 2, 3, [4]]))
    );
    assert_eq!(ok(bson!({"$concatArrays": []})), Some(bson!([])));
    assert_eq!(ok(bson!({"$concatArrays": ["$a", "$x"]})), Some(Bson::Null));
    assert_eq!(
        err(bson!({"$concatArrays": ["$s", null]})),
        "$concatArrays only supports arrays, not string"
    );
    assert_eq!(ok(bson!({"$range": [0, 3]})), Some(bson!([0, 1, 2])));
    assert_eq!(ok(bson!({"$range": [5, 0, -2]})), Some(bson!([5, 3, 1])));
    assert_eq!(ok(bson!({"$range": [0, 5, -1]})), Some(bson!([])));
    assert_eq!(
        ok(bson!({"$range": [2_147_483_640, 2_147_483_647, 5]})),
        Some(bson!([2_147_483_640, 2_147_483_645]))
    );
    assert_eq!(
        err(bson!({"$range": [0, 5, 0]})),
        "$range requires a non-zero step value"
    );
    assert!(err(bson!({"$range": [0, 10_000_000]})).contains("too much memory"));
    assert!(err(bson!({"$range": [null, 2]})).contains("numeric starting value"));
    assert!(err(bson!({"$range": [0.5, 2]})).contains("32-bit integer"));
    assert_eq!(ok(bson!({"$reverseArray": "$a"})), Some(bson!([3, 2, 1])));
    assert_eq!(ok(bson!({"$reverseArray": "$n"})), Some(Bson::Null));
    assert!(err(bson!({"$reverseArray": "$s"})).contains("must be an array"));
}

#[test]
fn sets_are_sorted_and_distinct() {
    assert_eq!(
        ok(bson!({"$setUnion": [[3, 1, 1.0], [2, "a", 1_i64]]})),
        Some(bson!([1, 2, 3, "a"]))
    );
    assert_eq!(ok(bson!({"$setUnion": []})), Some(bson!([])));
    assert_eq!(ok(bson!({"$setUnion": ["$a", null]})), Some(Bson::Null));
    // The smaller set's representatives survive.
    assert_eq!(
        ok(bson!({"$setIntersection": [[1, 2, 3], [2.0]]})),
        Some(bson!([2.0]))
    );
    assert_eq!(
        ok(bson!({"$setIntersection": [[2], [1, 2.0, 3]]})),
        Some(bson!([2]))
    );
    assert_eq!(ok(bson!({"$setIntersection": []})), Some(bson!([])));
    assert_eq!(
        ok(bson!({"$setDifference": [[3, 1, 2, 3, 1.0], [2]]})),
        Some(bson!([3, 1]))
    );
    assert_eq!(ok(bson!({"$setDifference": ["$x", [2]]})), Some(Bson::Null));
    assert!(err(bson!({"$setDifference": [[1], "$s"]})).contains("Second argument"));
    assert_eq!(
        ok(bson!({"$setEquals": [[1, 2], [2, 1, 1.0], [2.0, 1]]})),
        Some(bson!(true))
    );
    assert_eq!(ok(bson!({"$setEquals": [[1], [1, 2]]})), Some(bson!(false)));
    assert!(err(bson!({"$setEquals": [[1], null]})).contains("must be arrays"));
    assert!(err(bson!({"$setEquals": [[1]]})).contains("at least 2"));
    assert_eq!(
        ok(bson!({"$setIsSubset": [[1, 1.0], [1, 2]]})),
        Some(bson!(true))
    );
    assert_eq!(ok(bson!({"$setIsSubset": [[], []]})), Some(bson!(true)));
    assert!(err(bson!({"$setIsSubset": [null, []]})).contains("First argument"));
    // NaN equals NaN (Bson's own == does not, so compare the text).
    assert_eq!(
        format!(
            "{:?}",
            ok(bson!({"$setUnion": [[f64::NAN, 1], [f64::NAN]]}))
        ),
        format!("{:?}", Some(bson!([f64::NAN, 1])))
    );
}

#[test]
fn truth_of_elements() {
    assert_eq!(
        ok(bson!({"$allElementsTrue": [[1, "", []]]})),
        Some(bson!(true))
    );
    assert_eq!(
        ok(bson!({"$allElementsTrue": [[1, 0]]})),
        Some(bson!(false))
    );
    assert_eq!(ok(bson!({"$allElementsTrue": [[]]})), Some(bson!(true)));
    assert_eq!(ok(bson!({"$anyElementTrue": [[]]})), Some(bson!(false)));
    assert_eq!(
        ok(bson!({"$anyElementTrue": [[null, false, 0.0, f64::NAN]]})),
        Some(bson!(true))
    );
    assert_eq!(
        err(bson!({"$anyElementTrue": "$x"})),
        "$anyElementTrue's argument must be an array, but is missing"
    );
}

#[test]
fn objects_and_arrays_convert() {
    assert_eq!(
        ok(bson!({"$objectToArray": "$o"})),
        Some(bson!([{"k": "x", "v": 1}, {"k": "y", "v": {"z": 2}}]))
    );
    assert_eq!(ok(bson!({"$objectToArray": "$x"})), Some(Bson::Null));
    assert!(err(bson!({"$objectToArray": "$a"})).contains("document input"));
    assert_eq!(
        ok(bson!({"$arrayToObject": "$docs"})),
        Some(bson!({"x": 1, "y": 2}))
    );
    assert_eq!(
        ok(bson!({"$arrayToObject": [[["a", 1], ["b", 2], ["a", 3]]]})),
        Some(bson!({"a": 3, "b": 2}))
    );
    assert_eq!(
        ok(bson!({"$arrayToObject": {"$literal": [["a.b", 1], ["$c", 2]]}})),
        Some(bson!({"a.b": 1, "$c": 2}))
    );
    assert_eq!(ok(bson!({"$arrayToObject": "$e"})), Some(bson!({})));
    assert!(
        err(bson!({"$arrayToObject": [[["a", 1], {"k": "b", "v": 2}]]}))
            .contains("consistent input format")
    );
    assert!(err(bson!({"$arrayToObject": [[["a", 1, 2]]]})).contains("size 2"));
    assert!(err(bson!({"$arrayToObject": [[[1, 2]]]})).contains("type string"));
    assert!(err(bson!({"$arrayToObject": [[{"k": "a"}]]})).contains("number of keys"));
    assert!(err(bson!({"$arrayToObject": [[{"k": "a", "w": 1}]]})).contains("Missing"));
    assert!(err(bson!({"$arrayToObject": [[1]]})).contains("Unrecognised input type"));
    assert!(err(bson!({"$arrayToObject": [[["a\0b", 1]]]})).contains("null byte"));
}

#[test]
fn merge_objects() {
    assert_eq!(
        ok(bson!({"$mergeObjects": [{"a": 1, "b": 2}, null, {"a": 3, "c": 4}, "$x"]})),
        Some(bson!({"a": 3, "b": 2, "c": 4}))
    );
    // A single array argument merges its elements.
    assert_eq!(
        ok(bson!({"$mergeObjects": "$docs"})),
        Some(bson!({"k": "y", "v": 2}))
    );
    assert_eq!(ok(bson!({"$mergeObjects": []})), Some(bson!({})));
    assert_eq!(
        err(bson!({"$mergeObjects": [{"a": 1}, 5]})),
        "$mergeObjects requires object inputs, but input 5 is of type int"
    );
}

#[test]
fn accumulators_as_expressions() {
    assert_eq!(ok(bson!({"$sum": "$a"})), Some(bson!(6)));
    assert_eq!(ok(bson!({"$sum": [1, 2_i64, "x"]})), Some(bson!(3_i64)));
    assert_eq!(ok(bson!({"$sum": [[1, 2], 3]})), Some(bson!(3)));
    assert_eq!(ok(bson!({"$sum": "$x"})), Some(bson!(0)));
    assert_eq!(
        ok(bson!({"$sum": [2_147_483_647, 1]})),
        Some(bson!(2_147_483_648_i64))
    );
    assert_eq!(ok(bson!({"$avg": "$a"})), Some(bson!(2.0)));
    assert_eq!(ok(bson!({"$avg": [1, dec("2")]})), Some(dec("1.5")));
    assert_eq!(ok(bson!({"$avg": "$e"})), Some(Bson::Null));
    assert_eq!(ok(bson!({"$avg": ["a", null]})), Some(Bson::Null));
    assert_eq!(ok(bson!({"$min": "$a"})), Some(bson!(1)));
    assert_eq!(ok(bson!({"$max": [1, "a", null, [0]]})), Some(bson!([0])));
    assert_eq!(ok(bson!({"$max": [[1, [5]]]})), Some(bson!([5])));
    assert_eq!(ok(bson!({"$min": [null, "$x"]})), Some(Bson::Null));
    assert_eq!(ok(bson!({"$min": 5})), Some(bson!(5)));
    // NaN sorts below every other number.
    assert!(matches!(ok(bson!({"$min": [1, f64::NAN]})), Some(Bson::Double(f)) if f.is_nan()));
}

#[test]
fn sort_array() {
    assert_eq!(
        ok(bson!({"$sortArray": {"input": [3, "a", 1.5, null, [0]], "sortBy": 1}})),
        Some(bson!([null, 1.5, 3, "a", [0]]))
    );
    assert_eq!(
        ok(bson!({"$sortArray": {"input": "$a", "sortBy": -1}})),
        Some(bson!([3, 2, 1]))
    );
    assert_eq!(
        ok(bson!({"$sortArray": {"input": "$docs", "sortBy": {"v": -1}}})),
        Some(bson!([{"k": "y", "v": 2}, {"k": "x", "v": 1}]))
    );
    // Scalars and documents without the field sort as null, stably.
    assert_eq!(
        ok(bson!({"$sortArray": {"input": [{"a": 2}, 3, {"a": 1}, {}], "sortBy": {"a": 1}}})),
        Some(bson!([3, {}, {"a": 1}, {"a": 2}]))
    );
    // No positional paths: "v.1" is a field named "1".
    assert_eq!(
        ok(bson!({"$sortArray": {"input": [{"v": [0, 5]}, {"v": [2, 1]}], "sortBy": {"v.1": 1}}})),
        Some(bson!([{"v": [0, 5]}, {"v": [2, 1]}]))
    );
    assert_eq!(
        ok(bson!({"$sortArray": {"input": "$x", "sortBy": 1}})),
        Some(Bson::Null)
    );
    assert!(err(bson!({"$sortArray": {"input": "$s", "sortBy": 1}})).contains("must be an array"));
    err(bson!({"$sortArray": {"input": "$a", "sortBy": 2}}));
    assert!(err(bson!({"$sortArray": {"input": "$a"}})).contains("'sortBy'"));
    assert!(err(bson!({"$sortArray": {"input": "$a", "sortBy": 1, "x": 1}})).contains("unknown"));
    assert!(err(bson!({"$sortArray": {"input": "$a", "sortBy": {}}})).contains("empty"));
}

#[test]
fn zip() {
    assert_eq!(
        ok(bson!({"$zip": {"inputs": ["$a", ["x", "y"]]}})),
        Some(bson!([[1, "x"], [2, "y"]]))
    );
    assert_eq!(
        ok(bson!({"$zip": {"inputs": ["$a", ["x"]], "useLongestLength": true}})),
        Some(bson!([[1, "x"], [2, null], [3, null]]))
    );
    assert_eq!(
        ok(
            bson!({"$zip": {"inputs": ["$a", ["x"]], "useLongestLength": true, "defaults": [0, {"$add": [1, 1]}]}})
        ),
        Some(bson!([[1, "x"], [2, 2], [3, 2]]))
    );
    assert_eq!(
        ok(bson!({"$zip": {"inputs": ["$a", "$x"]}})),
        Some(Bson::Null)
    );
    assert!(err(bson!({"$zip": {"inputs": ["$a", "$s"]}})).contains("non-array"));
    assert!(err(bson!({"$zip": {"inputs": []}})).contains("at least one input"));
    assert!(err(bson!({"$zip": {"inputs": ["$a"], "defaults": [1]}})).contains("useLongestLength"));
    assert!(
        err(bson!({"$zip": {"inputs": ["$a"], "useLongestLength": true, "defaults": [1, 2]}}))
            .contains("same length")
    );
    assert!(err(bson!({"$zip": {"inputs": ["$a"], "useLongestLength": 1}})).contains("bool"));
    assert!(err(bson!({"$zip": {"inputs": "$a"}})).contains("array of expressions"));
}

#[test]
fn n_family_as_array_expressions() {
    let d = doc! {"m": [3, null, 1, "x", 2, 1.0], "k": 2, "n": null};
    let run = |spec: Bson| eval(spec, &d);
    // firstN/lastN keep null; minN/maxN skip it and order by the BSON order.
    assert_eq!(
        run(bson!({"$firstN": {"n": 3, "input": "$m"}})).unwrap(),
        Some(bson!([3, null, 1]))
    );
    assert_eq!(
        run(bson!({"$lastN": {"n": "$k", "input": "$m"}})).unwrap(),
        Some(bson!([2, 1.0]))
    );
    assert_eq!(
        run(bson!({"$minN": {"n": 2, "input": "$m"}})).unwrap(),
        Some(bson!([1, 1.0]))
    );
    assert_eq!(
        run(bson!({"$maxN": {"n": 2, "input": "$m"}})).unwrap(),
        Some(bson!(["x", 3]))
    );
    assert_eq!(
        run(bson!({"$maxN": {"n": 10, "input": []}})).unwrap(),
        Some(bson!([]))
    );
    // $$this inside $map reaches the argument's expressions.
    assert_eq!(
        run(bson!({"$map": {"input": [[5, 6, 7]], "in": {"$lastN": {"n": 1, "input": "$$this"}}}}))
            .unwrap(),
        Some(bson!([[7]]))
    );
    let message = |spec: Bson| run(spec).unwrap_err().message().to_owned();
    // The input must be an array: null and missing too.
    for input in [bson!("$n"), bson!("$nope"), bson!(5)] {
        assert_eq!(
            message(bson!({"$firstN": {"n": 1, "input": input}})),
            "Input must be an array"
        );
    }
    // n is checked first, with the accumulator's messages.
    assert_eq!(
        message(bson!({"$minN": {"n": 0, "input": "$n"}})),
        "'n' must be greater than 0, found 0"
    );
    assert!(message(bson!({"$maxN": {"n": "2", "input": "$m"}})).starts_with("Value for 'n'"));
    assert_eq!(
        message(bson!({"$maxN": {"input": "$m"}})),
        "Missing value for 'n'"
    );
    assert_eq!(
        message(bson!({"$maxN": {"n": 1, "input": "$m", "x": 1}})),
        "Unknown argument for 'n' operator: x"
    );
}

#[test]
fn median_and_percentile_as_expressions() {
    let d = doc! {"m": [4, null, 1, "x", 3.5, 2_i64, f64::NAN], "e": [], "one": 7, "nan": f64::NAN};
    let run = |spec: Bson| eval(spec, &d).unwrap();
    let median = |input: Bson| run(bson!({"$median": {"input": input, "method": "approximate"}}));
    // Nearest rank over the numbers (NaN and non-numbers skipped), as doubles.
    assert_eq!(median(bson!("$m")), Some(bson!(2.0)));
    assert_eq!(
        run(
            bson!({"$percentile": {"input": "$m", "p": [0, 0.5, 0.75, 1], "method": "approximate"}})
        ),
        Some(bson!([1.0, 2.0, 3.5, 4.0]))
    );
    // A number is every percentile of itself, NaN included.
    assert_eq!(median(bson!("$one")), Some(bson!(7.0)));
    assert!(matches!(median(bson!("$nan")), Some(Bson::Double(x)) if x.is_nan()));
    assert_eq!(
        run(bson!({"$percentile": {"input": "$one", "p": [0.1, 0.9], "method": "approximate"}})),
        Some(bson!([7.0, 7.0]))
    );
    // No numbers: null (an array of nulls for $percentile).
    for input in [bson!("$e"), bson!("$nope"), bson!("str"), bson!(null)] {
        assert_eq!(median(input.clone()), Some(Bson::Null));
        assert_eq!(
            run(bson!({"$percentile": {"input": input, "p": [0.5, 1], "method": "approximate"}})),
            Some(bson!([null, null]))
        );
    }
    // An array literal of expressions.
    assert_eq!(median(bson!(["$one", 1, 10])), Some(bson!(7.0)));
    // The accumulators' parse errors.
    let message = |spec: Bson| eval(spec, &d).unwrap_err().message().to_owned();
    assert_eq!(
        message(bson!({"$median": {"input": "$m"}})),
        "BSON field '$median.method' is missing but a required field"
    );
    assert_eq!(
        message(bson!({"$percentile": {"input": "$m", "p": [2], "method": "approximate"}})),
        "The $percentile 'p' field must be an array of numbers from [0.0, 1.0], but found: 2"
    );
}
