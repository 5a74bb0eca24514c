//! Tests of the variable-binding forms (`$let`, `$map`, `$filter`,
//! `$reduce`), `$switch`, `$$REMOVE` and the field operators.

use bson::{bson, doc, Bson, Document};

use super::*;

fn sample() -> Document {
    doc! {
        "_id": 0,
        "a": [1, 2, 3],
        "o": {"x": 1, "a.b": 5, "$d": 6},
        "s": "str",
        "docs": [{"v": 1}, {"v": 2}],
    }
}

fn eval(spec: Bson) -> QueryResult<Option<Bson>> {
    Expr::parse(&spec)?.evaluate(&sample())
}

fn ok(spec: Bson) -> Option<Bson> {
    eval(spec).unwrap()
}

fn err(spec: Bson) -> String {
    match eval(spec) {
        Err(e) => e.message().to_owned(),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

#[test]
fn let_binds_in_the_outer_scope() {
    assert_eq!(
        ok(
            bson!({"$let": {"vars": {"x": 2, "y": "$a"}, "in": {"$concatArrays": [["$$x"], "$$y"]}}})
        ),
        Some(bson!([2, 1, 2, 3]))
    );
    // Inner bindings shadow outer ones; `vars` cannot see its siblings.
    assert_eq!(
        ok(
            bson!({"$let": {"vars": {"x": 1}, "in": {"$let": {"vars": {"x": 2, "y": "$$x"}, "in": ["$$x", "$$y"]}}}})
        ),
        Some(bson!([2, 1]))
    );
    // A missing variable stays missing.
    assert_eq!(
        ok(bson!({"$let": {"vars": {"x": "$nope"}, "in": "$$x"}})),
        None
    );
    // Rebinding CURRENT moves every "$field" path.
    assert_eq!(
        ok(bson!({"$let": {"vars": {"CURRENT": "$o"}, "in": ["$x", "$$CURRENT.x", "$$ROOT.s"]}})),
        Some(bson!([1, 1, "str"]))
    );
    assert_eq!(
        err(bson!({"$let": {"vars": {"Bad": 1}, "in": 1}})),
        "'Bad' starts with an invalid character for a user variable name"
    );
    assert_eq!(
        err(bson!({"$let": {"vars": {"a-b": 1}, "in": 1}})),
        "'a-b' contains an invalid character for a variable name: '-'"
    );
    assert_eq!(
        err(bson!({"$let": {"vars": {"x": "$$x"}, "in": 1}})),
        "Use of undefined variable: x"
    );
    assert_eq!(
        err(bson!({"$let": {"vars": {}, "in": 1, "out": 2}})),
        "Unrecognized parameter to $let: out"
    );
    assert_eq!(
        err(bson!({"$let": {"in": 1}})),
        "Missing 'vars' parameter to $let"
    );
    assert_eq!(
        err(bson!({"$let": [1]})),
        "$let only supports an object as its argument"
    );
    // Variables do not leak out of their form.
    assert_eq!(
        err(bson!([{"$let": {"vars": {"x": 1}, "in": "$$x"}}, "$$x"])),
        "Use of undefined variable: x"
    );
    assert_eq!(
        err(bson!("$$1x")),
        "'1x' starts with an invalid character for a variable name"
    );
}

#[test]
fn map() {
    assert_eq!(
        ok(bson!({"$map": {"input": "$a", "in": {"$multiply": ["$$this", 10]}}})),
        Some(bson!([10, 20, 30]))
    );
    assert_eq!(
        ok(bson!({"$map": {"input": "$docs", "as": "d", "in": "$$d.v"}})),
        Some(bson!([1, 2]))
    );
    // Missing results become null; nested maps see both variables.
    assert_eq!(
        ok(bson!({"$map": {"input": [1, 2], "in": "$$REMOVE"}})),
        Some(bson!([null, null]))
    );
    assert_eq!(
        ok(
            bson!({"$map": {"input": [1, 2], "as": "x", "in": {"$map": {"input": [10], "in": {"$add": ["$$x", "$$this"]}}}}})
        ),
        Some(bson!([[11], [12]]))
    );
    // The input may be computed (its elements are then moved, not cloned).
    assert_eq!(
        ok(bson!({"$map": {"input": {"$range": [0, 3]}, "in": {"$add": ["$$this", 1]}}})),
        Some(bson!([1, 2, 3]))
    );
    assert_eq!(
        ok(bson!({"$map": {"input": "$nope", "in": 1}})),
        Some(Bson::Null)
    );
    assert_eq!(
        err(bson!({"$map": {"input": "$s", "in": 1}})),
        "input to $map must be an array not string"
    );
    assert_eq!(
        err(bson!({"$map": {"input": "$a"}})),
        "Missing 'in' parameter to $map"
    );
    assert!(err(bson!({"$map": {"input": "$a", "as": "X", "in": 1}})).contains("invalid character"));
    assert!(err(bson!({"$map": {"input": "$a", "as": 1, "in": 1}})).contains("empty variable"));
}

#[test]
fn filter() {
    assert_eq!(
        ok(bson!({"$filter": {"input": "$a", "cond": {"$gte": ["$$this", 2]}}})),
        Some(bson!([2, 3]))
    );
    assert_eq!(
        ok(bson!({"$filter": {"input": "$a", "as": "n", "cond": {"$ne": ["$$n", 2]}, "limit": 1}})),
        Some(bson!([1]))
    );
    assert_eq!(
        ok(bson!({"$filter": {"input": "$a", "cond": true, "limit": 2.0}})),
        Some(bson!([1, 2]))
    );
    assert_eq!(
        ok(bson!({"$filter": {"input": "$a", "cond": true, "limit": null}})),
        Some(bson!([1, 2, 3]))
    );
    assert_eq!(
        ok(bson!({"$filter": {"input": {"$range": [0, 5]}, "cond": {"$mod": ["$$this", 2]}}})),
        Some(bson!([1, 3]))
    );
    // An empty input is returned before the limit is looked at.
    assert_eq!(
        ok(bson!({"$filter": {"input": [], "cond": true, "limit": 0}})),
        Some(bson!([]))
    );
    assert_eq!(
        err(bson!({"$filter": {"input": "$a", "cond": true, "limit": 0}})),
        "$filter: limit must be greater than 0: 0"
    );
    assert!(
        err(bson!({"$filter": {"input": "$a", "cond": true, "limit": 1.5}})).contains("integral")
    );
    assert!(
        err(bson!({"$filter": {"input": "$a", "cond": true, "limit": "x"}})).contains("integral")
    );
    assert_eq!(
        ok(bson!({"$filter": {"input": null, "cond": true}})),
        Some(Bson::Null)
    );
    assert_eq!(
        err(bson!({"$filter": {"input": "$s", "cond": true}})),
        "input to $filter must be an array not string"
    );
    assert_eq!(
        err(bson!({"$filter": {"input": "$a"}})),
        "Missing 'cond' parameter to $filter"
    );
    // The limit cannot see the element variable.
    assert_eq!(
        err(bson!({"$filter": {"input": "$a", "cond": true, "limit": "$$this"}})),
        "Use of undefined variable: this"
    );
}

#[test]
fn reduce() {
    assert_eq!(
        ok(
            bson!({"$reduce": {"input": "$a", "initialValue": 0, "in": {"$add": ["$$value", "$$this"]}}})
        ),
        Some(bson!(6))
    );
    assert_eq!(
        ok(
            bson!({"$reduce": {"input": [[1], [2, 3]], "initialValue": [], "in": {"$concatArrays": ["$$value", "$$this"]}}})
        ),
        Some(bson!([1, 2, 3]))
    );
    assert_eq!(
        ok(bson!({"$reduce": {"input": [], "initialValue": "start", "in": 1}})),
        Some(bson!("start"))
    );
    assert_eq!(
        ok(bson!({"$reduce": {"input": "$nope", "initialValue": 0, "in": 1}})),
        Some(Bson::Null)
    );
    assert!(
        err(bson!({"$reduce": {"input": "$s", "initialValue": 0, "in": 1}}))
            .contains("be an array")
    );
    assert!(err(bson!({"$reduce": {"input": "$a", "in": 1}})).contains("'initialValue'"));
    assert!(
        err(bson!({"$reduce": {"input": "$a", "initialValue": 0, "in": 1, "x": 1}}))
            .contains("unknown")
    );
    // $$this and $$value exist only inside `in`.
    assert!(
        err(bson!({"$reduce": {"input": "$a", "initialValue": "$$value", "in": 1}}))
            .contains("undefined")
    );
}

#[test]
fn switch() {
    let spec = |x: Bson| {
        bson!({"$switch": {
            "branches": [
                {"case": {"$lt": [x.clone(), 0]}, "then": "negative"},
                {"case": {"$eq": [x, 0]}, "then": "zero"},
            ],
            "default": "positive",
        }})
    };
    assert_eq!(ok(spec(bson!(-1))), Some(bson!("negative")));
    assert_eq!(ok(spec(bson!(0))), Some(bson!("zero")));
    assert_eq!(ok(spec(bson!(5))), Some(bson!("positive")));
    assert_eq!(
        ok(bson!({"$switch": {"branches": [{"case": "$a", "then": "$$REMOVE"}]}})),
        None
    );
    assert_eq!(
        err(bson!({"$switch": {"branches": [{"case": false, "then": 1}]}})),
        "$switch could not find a matching branch for an input, and no default was specified."
    );
    assert!(err(bson!({"$switch": {"branches": []}})).contains("at least one branch"));
    assert!(err(bson!({"$switch": {"default": 1}})).contains("at least one branch"));
    assert!(err(bson!({"$switch": {"branches": [{"case": true}]}})).contains("'then'"));
    assert!(err(bson!({"$switch": {"branches": [1]}})).contains("to be an object"));
    assert!(err(bson!({"$switch": {"branches": {"case": true, "then": 1}}})).contains("an array"));
    assert!(err(bson!({"$switch": 1})).contains("requires an object"));
}

#[test]
fn remove_is_missing_everywhere() {
    assert_eq!(ok(bson!("$$REMOVE")), None);
    assert_eq!(ok(bson!("$$REMOVE.x")), None);
    assert_eq!(ok(bson!(["$$REMOVE"])), Some(bson!([null])));
    assert_eq!(ok(bson!({"x": "$$REMOVE", "y": 1})), Some(bson!({"y": 1})));
    assert_eq!(ok(bson!({"$cond": [true, "$$REMOVE", 1]})), None);
}

#[test]
fn get_field() {
    assert_eq!(ok(bson!({"$getField": "s"})), Some(bson!("str")));
    assert_eq!(
        ok(bson!({"$getField": {"field": "a.b", "input": "$o"}})),
        Some(bson!(5))
    );
    assert_eq!(
        ok(bson!({"$getField": {"field": {"$literal": "$d"}, "input": "$o"}})),
        Some(bson!(6))
    );
    assert_eq!(
        ok(bson!({"$getField": {"$literal": "s"}})),
        Some(bson!("str"))
    );
    // `input` defaults to $$CURRENT.
    assert_eq!(ok(bson!({"$getField": {"field": "s"}})), Some(bson!("str")));
    assert_eq!(
        ok(bson!({"$getField": {"field": "zz", "input": "$o"}})),
        None
    );
    assert_eq!(
        ok(bson!({"$getField": {"field": "x", "input": "$nope"}})),
        Some(Bson::Null)
    );
    assert_eq!(
        ok(bson!({"$getField": {"field": "x", "input": {"$mergeObjects": ["$o", {"x": 9}]}}})),
        Some(bson!(9))
    );
    assert_eq!(
        err(bson!({"$getField": {"field": "x", "input": "$s"}})),
        "$getField requires 'input' to evaluate to type Object, but got string"
    );
    assert_eq!(
        err(bson!({"$getField": {"field": 1, "input": "$o"}})),
        "$getField requires 'field' to evaluate to type String, but got int"
    );
    assert!(err(bson!({"$getField": {"input": "$o"}})).contains("'field'"));
    assert!(err(bson!({"$getField": {"field": "x", "other": 1}})).contains("unknown"));
}

#[test]
fn set_and_unset_field() {
    assert_eq!(
        ok(bson!({"$setField": {"field": "x", "input": "$o", "value": 10}})),
        Some(bson!({"x": 10, "a.b": 5, "$d": 6}))
    );
    assert_eq!(
        ok(bson!({"$setField": {"field": {"$literal": "$new"}, "input": {}, "value": "$a"}})),
        Some(bson!({"$new": [1, 2, 3]}))
    );
    assert_eq!(
        ok(bson!({"$setField": {"field": "a.b", "input": "$o", "value": "$$REMOVE"}})),
        Some(bson!({"x": 1, "$d": 6}))
    );
    assert_eq!(
        ok(bson!({"$unsetField": {"field": "x", "input": "$o"}})),
        Some(bson!({"a.b": 5, "$d": 6}))
    );
    assert_eq!(
        ok(bson!({"$unsetField": {"field": "x", "input": null}})),
        Some(Bson::Null)
    );
    assert!(
        err(bson!({"$setField": {"field": "$s", "input": {}, "value": 1}})).contains("constant")
    );
    assert!(
        err(bson!({"$setField": {"field": 1, "input": {}, "value": 1}})).contains("type String")
    );
    assert!(err(bson!({"$setField": {"field": "x", "input": {}}})).contains("'value'"));
    assert!(
        err(bson!({"$setField": {"field": "x", "input": 1, "value": 1}})).contains("type Object")
    );
    assert!(
        err(bson!({"$unsetField": {"field": "x", "input": {}, "value": 1}})).contains("unknown")
    );
}
