//! Unit tests. Unless a test says otherwise, each expected document or
//! error message was observed on the reference server (secantus 8.2,
//! MongoDB wire protocol) applying the same update with `update_one`.

use bson::{doc, Bson, DateTime, Document};

use super::{Update, UpdateContext};

const NOW_MS: i64 = 1_700_000_000_123;

fn ctx(is_insert: bool) -> UpdateContext {
    UpdateContext {
        is_insert,
        now: DateTime::from_millis(NOW_MS),
    }
}

/// Applies `update` to `doc` as an update of an existing document.
fn run(doc: Document, update: Document) -> Result<Document, String> {
    run_with(doc, update, false)
}

fn run_with(mut doc: Document, update: Document, is_insert: bool) -> Result<Document, String> {
    let parsed = Update::parse(&update).map_err(|e| e.message().to_string())?;
    let before = doc.clone();
    match parsed.apply(&mut doc, &ctx(is_insert)) {
        Ok(()) => Ok(doc),
        Err(e) => {
            // All-or-nothing: a failed update leaves the document untouched.
            assert_same(&doc, &before);
            Err(e.message().to_string())
        }
    }
}

/// Field order and BSON types matter, so compare the debug rendering.
fn assert_same(got: &Document, expected: &Document) {
    assert_eq!(format!("{got:?}"), format!("{expected:?}"));
}

fn ok(doc: Document, update: Document, expected: Document) {
    match run(doc, update.clone()) {
        Ok(got) => assert_same(&got, &expected),
        Err(e) => panic!("{update:?} failed: {e}"),
    }
}

fn fails(doc: Document, update: Document, message: &str) {
    match run(doc, update.clone()) {
        Ok(got) => panic!("{update:?} succeeded: {got:?}"),
        Err(e) => assert_eq!(e, message, "{update:?}"),
    }
}

fn fails_with(doc: Document, update: Document, fragment: &str) {
    match run(doc, update.clone()) {
        Ok(got) => panic!("{update:?} succeeded: {got:?}"),
        Err(e) => assert!(e.contains(fragment), "{update:?}: {e}"),
    }
}

// ---------------------------------------------------------------- parsing

#[test]
fn rejects_bad_update_documents() {
    fails_with(doc! {"_id": 1}, doc! {}, "empty");
    fails_with(
        doc! {"_id": 1},
        doc! {"a": 1},
        "Replacement-style updates are not supported",
    );
    fails_with(
        doc! {"_id": 1},
        doc! {"a": 1, "$set": {"b": 1}},
        "Replacement-style",
    );
    fails(
        doc! {"_id": 1},
        doc! {"$set": {"a": 1}, "b": 1},
        "Unknown modifier: b. Expected a valid update modifier or pipeline-style update specified as an array",
    );
    fails(
        doc! {"_id": 1},
        doc! {"$foo": {"a": 1}},
        "Unknown modifier: $foo. Expected a valid update modifier or pipeline-style update specified as an array",
    );
    // The reference server answers "internal server error" here; this is
    // the wording of MongoDB's own parser.
    fails(
        doc! {"_id": 1},
        doc! {"$set": 1},
        "Modifiers operate on fields but we found type int instead. For example: {$mod: {<field>: ...}} not {$set: 1}",
    );
}

#[test]
fn empty_operator_documents_are_no_ops() {
    ok(doc! {"_id": 1}, doc! {"$set": {}}, doc! {"_id": 1});
    ok(doc! {"_id": 1}, doc! {"$unset": {}}, doc! {"_id": 1});
}

#[test]
fn rejects_bad_paths() {
    fails(
        doc! {"_id": 1},
        doc! {"$set": {"": 1}},
        "An empty update path is not valid.",
    );
    fails(
        doc! {"_id": 1},
        doc! {"$set": {"a..b": 1}},
        "The update path 'a..b' contains an empty field name, which is not allowed.",
    );
    fails(
        doc! {"_id": 1},
        doc! {"$set": {"a.": 1}},
        "The update path 'a.' contains an empty field name, which is not allowed.",
    );
    // Positional operators need the query's match: refused by name.
    fails_with(
        doc! {"_id": 1},
        doc! {"$set": {"a.$": 1}},
        "positional operators $, $[]",
    );
    fails_with(doc! {"_id": 1}, doc! {"$inc": {"a.$[].b": 1}}, "'a.$[].b'");
    fails_with(
        doc! {"_id": 1},
        doc! {"$unset": {"a.$[x]": 1}},
        "positional",
    );
}

#[test]
fn nul_bytes_in_paths_are_refused() {
    // BSON keys cannot hold NUL, so such a field could never be stored.
    fails_with(doc! {"_id": 1}, doc! {"$set": {"a\0b": 1}}, "NUL byte");
    fails_with(
        doc! {"_id": 1, "a": 1},
        doc! {"$rename": {"a": "b\0"}},
        "NUL byte",
    );
}

#[test]
fn updates_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync + Clone + std::fmt::Debug>() {}
    shareable::<Update>();
    shareable::<UpdateContext>();
}

#[test]
fn dollar_field_names_are_plain_fields() {
    ok(
        doc! {"_id": 1},
        doc! {"$set": {"$foo": 1}},
        doc! {"_id": 1, "$foo": 1},
    );
    ok(
        doc! {"_id": 1},
        doc! {"$set": {"a.$foo": 1}},
        doc! {"_id": 1, "a": {"$foo": 1}},
    );
}

#[test]
fn detects_path_conflicts_across_operators() {
    fails(
        doc! {"_id": 1},
        doc! {"$inc": {"a": 1}, "$set": {"a.b": 1}},
        "Updating the path 'a.b' would create a conflict at 'a'",
    );
    fails(
        doc! {"_id": 1},
        doc! {"$set": {"a.b": 1}, "$unset": {"a.b": 1}},
        "Updating the path 'a.b' would create a conflict at 'a.b'",
    );
    fails(
        doc! {"_id": 1, "a": [1, 2]},
        doc! {"$set": {"a.0": 1}, "$inc": {"a": 1}},
        "Updating the path 'a' would create a conflict at 'a'",
    );
    fails(
        doc! {"_id": 1},
        doc! {"$rename": {"a": "b"}, "$set": {"b.c": 1}},
        "Updating the path 'b.c' would create a conflict at 'b'",
    );
    fails(
        doc! {"_id": 1},
        doc! {"$rename": {"a": "b"}, "$set": {"a.c": 1}},
        "Updating the path 'a.c' would create a conflict at 'a'",
    );
    fails(
        doc! {"_id": 1},
        doc! {"$set": {"a.c": 1}, "$rename": {"a": "b"}},
        "Updating the path 'a' would create a conflict at 'a'",
    );
    // A rename registers its source before its destination.
    fails(
        doc! {"_id": 1},
        doc! {"$set": {"b.c": 1, "a.c": 1}, "$rename": {"a": "b"}},
        "Updating the path 'a' would create a conflict at 'a'",
    );
    fails(
        doc! {"_id": 1},
        doc! {"$rename": {"a": "x", "b": "a"}},
        "Updating the path 'a' would create a conflict at 'a'",
    );
    fails(
        doc! {"_id": 1},
        doc! {"$rename": {"a": "x", "x": "b"}},
        "Updating the path 'x' would create a conflict at 'x'",
    );
    fails(
        doc! {"_id": 1},
        doc! {"$setOnInsert": {"a.b": 1}, "$set": {"a": 2}},
        "Updating the path 'a' would create a conflict at 'a'",
    );
    // Siblings and mere string prefixes do not conflict.
    ok(
        doc! {"_id": 1},
        doc! {"$set": {"ab": 1, "a.b": 2, "a.c": 3}},
        doc! {"_id": 1, "a": {"b": 2, "c": 3}, "ab": 1},
    );
}

#[test]
fn parse_errors_win_over_apply_errors() {
    // The reference server reports "Cannot create field 'c' in element
    // {a: 5}" here because it parses lazily; MongoDB parses first.
    fails(
        doc! {"_id": 1, "a": 5},
        doc! {"$set": {"a.c": 1}, "$inc": {"b": "x"}},
        "Cannot increment with non-numeric argument: {b: \"x\"}",
    );
}

// ------------------------------------------------------ order of new fields

#[test]
fn new_fields_are_created_in_lexicographic_order() {
    // MongoDB 5.0+ applies fields in lexicographic order, so new fields
    // are appended in that order. The reference server keeps the update's
    // order for updates (a bug: it sorts for upserts, see below).
    ok(
        doc! {"_id": 1},
        doc! {"$set": {"b": 1, "a": 1}},
        doc! {"_id": 1, "a": 1, "b": 1},
    );
    ok(
        doc! {"_id": 1, "a": {"z": 1}},
        doc! {"$set": {"a.y": 1, "a.b": 2, "c.d.e": 3, "b": 4}},
        doc! {"_id": 1, "a": {"z": 1, "b": 2, "y": 1}, "b": 4, "c": {"d": {"e": 3}}},
    );
    // Across operators too.
    ok(
        doc! {"_id": 1},
        doc! {"$set": {"z": 1}, "$inc": {"m": 1}, "$push": {"a": 1}},
        doc! {"_id": 1, "a": [1], "m": 1, "z": 1},
    );
    // Numeric names in numeric order.
    ok(
        doc! {"_id": 1},
        doc! {"$set": {"x.10": 5, "x.2": 7, "x.b": 1, "x.a": 1}},
        doc! {"_id": 1, "x": {"2": 7, "10": 5, "a": 1, "b": 1}},
    );
    // Existing fields keep their place.
    ok(
        doc! {"_id": 1, "b": 1, "a": 1},
        doc! {"$set": {"c": 3, "a": 2, "b": 2}},
        doc! {"_id": 1, "b": 2, "a": 2, "c": 3},
    );
}

#[test]
fn upserts_sort_new_fields_and_apply_set_on_insert() {
    // Server (upsert): {_id: 1, a: 2, b: 1, z: 1}.
    let got = run_with(
        doc! {"_id": 1},
        doc! {"$set": {"z": 1}, "$setOnInsert": {"b": 1, "a": 2}},
        true,
    )
    .unwrap();
    assert_same(&got, &doc! {"_id": 1, "a": 2, "b": 1, "z": 1});
    // Not an insert: $setOnInsert does nothing.
    ok(
        doc! {"_id": 1, "a": 1},
        doc! {"$setOnInsert": {"b": 1}},
        doc! {"_id": 1, "a": 1},
    );
    // An upsert without _id yet may set one.
    let got = run_with(doc! {}, doc! {"$setOnInsert": {"_id": 5}}, true).unwrap();
    assert_same(&got, &doc! {"_id": 5});
    let err = run_with(doc! {"_id": 1}, doc! {"$setOnInsert": {"_id": 5}}, true).unwrap_err();
    assert_eq!(
        err,
        "Performing an update on the path '_id' would modify the immutable field '_id'"
    );
}

// --------------------------------------------------------------- $set paths

#[test]
fn set_creates_intermediate_documents_and_pads_arrays() {
    ok(
        doc! {"_id": 1, "a": [1, 2]},
        doc! {"$set": {"a.5": 1}},
        doc! {"_id": 1, "a": [1, 2, null, null, null, 1]},
    );
    ok(
        doc! {"_id": 1, "a": [1]},
        doc! {"$set": {"a.3.b": 1}},
        doc! {"_id": 1, "a": [1, null, null, {"b": 1}]},
    );
    ok(
        doc! {"_id": 1, "a": [1, {"x": 1}]},
        doc! {"$set": {"a.1.y": 1, "a.0": 9}},
        doc! {"_id": 1, "a": [9, {"x": 1, "y": 1}]},
    );
    ok(
        doc! {"_id": 1, "a": [[1]]},
        doc! {"$set": {"a.0.1": 5}},
        doc! {"_id": 1, "a": [[1, 5]]},
    );
    // A numeric segment on a document (or a missing field) is a field name.
    ok(
        doc! {"_id": 1},
        doc! {"$set": {"a.0": 1}},
        doc! {"_id": 1, "a": {"0": 1}},
    );
    ok(
        doc! {"_id": 1},
        doc! {"$set": {"a.0.b": 1}},
        doc! {"_id": 1, "a": {"0": {"b": 1}}},
    );
    ok(
        doc! {"_id": 1, "a": {"0": 1}},
        doc! {"$set": {"a.1": 1, "a.0": 2}},
        doc! {"_id": 1, "a": {"0": 2, "1": 1}},
    );
    ok(
        doc! {"_id": 1, "a": {}},
        doc! {"$set": {"a.y": 1}},
        doc! {"_id": 1, "a": {"y": 1}},
    );
    // Indexes apply in numeric order: a.2 pads before a.10.
    ok(
        doc! {"_id": 1, "a": [1]},
        doc! {"$set": {"a.1": 5, "a.10": 6, "a.2": 7}},
        doc! {"_id": 1, "a": [1, 5, 7, null, null, null, null, null, null, null, 6]},
    );
}

#[test]
fn set_refuses_to_traverse_scalars() {
    fails(
        doc! {"_id": 1, "a": 5},
        doc! {"$set": {"a.y": 1}},
        "Cannot create field 'y' in element {a: 5}",
    );
    fails(
        doc! {"_id": 1, "a": [1, 2]},
        doc! {"$set": {"a.x": 1}},
        "Cannot create field 'x' in element {a: [ 1, 2 ]}",
    );
    fails(
        doc! {"_id": 1, "a": []},
        doc! {"$set": {"a.-1": 1}},
        "Cannot create field '-1' in element {a: []}",
    );
    fails(
        doc! {"_id": 1, "a": [1]},
        doc! {"$set": {"a.+1": 5}},
        "Cannot create field '+1' in element {a: [ 1 ]}",
    );
    fails(
        doc! {"_id": 1, "a": [[1]]},
        doc! {"$set": {"a.0.x": 5}},
        "Cannot create field 'x' in element {0: [ 1 ]}",
    );
    fails(
        doc! {"_id": 1, "a": {"b": null}},
        doc! {"$set": {"a.b.c": 5}},
        "Cannot create field 'c' in element {b: null}",
    );
    fails(
        doc! {"_id": 1, "a": [null]},
        doc! {"$set": {"a.0.c": 5}},
        "Cannot create field 'c' in element {0: null}",
    );
    fails(
        doc! {"_id": 1, "a": 5},
        doc! {"$set": {"a.b": 1, "a.c": 1}},
        "Cannot create field 'b' in element {a: 5}",
    );
    fails(
        doc! {"_id": 1, "a": "s"},
        doc! {"$set": {"a.b": 1}},
        "Cannot create field 'b' in element {a: \"s\"}",
    );
    fails(
        doc! {"_id": 1, "a": [1, [2]]},
        doc! {"$set": {"a.y": 1}},
        "Cannot create field 'y' in element {a: [ 1, [ 2 ] ]}",
    );
}

#[test]
fn huge_array_indexes_are_refused() {
    // The reference server fails with "internal server error"; MongoDB
    // refuses to pad beyond 1,500,000 elements.
    fails_with(
        doc! {"_id": 1, "a": [1]},
        doc! {"$set": {"a.99999999999": 5}},
        "can't backfill",
    );
    fails_with(
        doc! {"_id": 1, "a": [1]},
        doc! {"$set": {"a.1500001": 5}},
        "can't backfill",
    );
    fails_with(
        doc! {"_id": 1, "a": [1]},
        doc! {"$set": {"a.99999999999999999999999": 5}},
        "can't backfill",
    );
}

#[test]
fn leading_zero_indexes_name_the_element() {
    ok(
        doc! {"_id": 1, "a": [1]},
        doc! {"$set": {"a.01": 5}},
        doc! {"_id": 1, "a": [1, 5]},
    );
    ok(
        doc! {"_id": 1, "a": [1]},
        doc! {"$set": {"a.00": 5}},
        doc! {"_id": 1, "a": [5]},
    );
    // Two spellings of one element: applied in order, last one wins
    // (not checked on the server).
    ok(
        doc! {"_id": 1, "a": [1, 2]},
        doc! {"$set": {"a.1": 5, "a.01": 6}},
        doc! {"_id": 1, "a": [1, 6]},
    );
}

// ------------------------------------------------------------------ $unset

#[test]
fn unset() {
    ok(
        doc! {"_id": 1, "a": 1, "b": 2},
        doc! {"$unset": {"a": ""}},
        doc! {"_id": 1, "b": 2},
    );
    ok(
        doc! {"_id": 1, "a": 1, "b": 2},
        doc! {"$unset": {"a.b": ""}},
        doc! {"_id": 1, "a": 1, "b": 2},
    );
    ok(
        doc! {"_id": 1, "a": [1, 2]},
        doc! {"$unset": {"a.x": ""}},
        doc! {"_id": 1, "a": [1, 2]},
    );
    ok(
        doc! {"_id": 1, "a": {"b": 1}},
        doc! {"$unset": {"a.b": ""}},
        doc! {"_id": 1, "a": {}},
    );
    ok(
        doc! {"_id": 1, "a": [1, 2]},
        doc! {"$unset": {"a.0": 1}},
        doc! {"_id": 1, "a": [null, 2]},
    );
    ok(
        doc! {"_id": 1, "a": [1, 2]},
        doc! {"$unset": {"a.9": 1, "b.c": 1}},
        doc! {"_id": 1, "a": [1, 2]},
    );
    ok(
        doc! {"_id": 1, "a": [1, {"x": 1}]},
        doc! {"$unset": {"a.1.x": 1}},
        doc! {"_id": 1, "a": [1, {}]},
    );
    ok(
        doc! {"_id": 1, "a": 1, "b": 2},
        doc! {"$unset": {"a": ""}, "$set": {"c": 1}},
        doc! {"_id": 1, "b": 2, "c": 1},
    );
    ok(
        doc! {"_id": 1, "a": 5},
        doc! {"$unset": {"a.b.c": 1}},
        doc! {"_id": 1, "a": 5},
    );
}

// -------------------------------------------------------------------- _id

#[test]
fn id_is_immutable() {
    let msg = "Performing an update on the path '_id' would modify the immutable field '_id'";
    fails(doc! {"_id": 1, "a": 1}, doc! {"$set": {"_id": 2}}, msg);
    fails(
        doc! {"_id": 1, "a": 1},
        doc! {"$set": {"_id": 2, "a": 1}},
        msg,
    );
    fails(doc! {"_id": 1}, doc! {"$unset": {"_id": 1}}, msg);
    fails(doc! {"_id": 1}, doc! {"$inc": {"_id": 1}}, msg);
    fails(
        doc! {"_id": 1, "a": {"b": 1}},
        doc! {"$rename": {"a.b": "_id"}},
        msg,
    );
    fails(
        doc! {"_id": 1, "a": {"b": 1}},
        doc! {"$rename": {"_id": "x"}},
        msg,
    );
    // The server names '_id' here; MongoDB names the updated path.
    fails(
        doc! {"_id": {"x": 1}},
        doc! {"$set": {"_id.x": 2}},
        "Performing an update on the path '_id.x' would modify the immutable field '_id'",
    );
    fails(
        doc! {"_id": 1},
        doc! {"$set": {"_id.x": 1}},
        "Cannot create field 'x' in element {_id: 1}",
    );
    // Setting an equal value is fine, even of another numeric type.
    ok(
        doc! {"_id": 1, "a": [1, 2]},
        doc! {"$set": {"_id": 1}},
        doc! {"_id": 1, "a": [1, 2]},
    );
    ok(
        doc! {"_id": 1},
        doc! {"$set": {"_id": 1.0}},
        doc! {"_id": 1.0},
    );
    ok(
        doc! {"_id": 1},
        doc! {"$set": {"_id": 1_i64}},
        doc! {"_id": 1_i64},
    );
    ok(doc! {"_id": 1}, doc! {"$inc": {"_id": 0}}, doc! {"_id": 1});
    ok(
        doc! {"_id": {"x": 1}},
        doc! {"$set": {"_id.x": 1}},
        doc! {"_id": {"x": 1}},
    );
    // A rename whose source is missing changes nothing (the reference
    // server refuses any rename into _id; MongoDB finds nothing to move).
    ok(
        doc! {"_id": 1},
        doc! {"$rename": {"a": "_id"}},
        doc! {"_id": 1},
    );
}

#[test]
fn id_field_order_counts() {
    // The reference server accepts this (it compares documents as
    // unordered maps); MongoDB compares field by field, in order.
    fails(
        doc! {"_id": {"x": 1, "y": 1}},
        doc! {"$set": {"_id": {"y": 1, "x": 1}}},
        "Performing an update on the path '_id' would modify the immutable field '_id'",
    );
}

// -------------------------------------------------------------- $inc, $mul

#[test]
fn inc_promotes_and_overflows_like_the_server() {
    ok(
        doc! {"_id": 1, "a": i32::MAX},
        doc! {"$inc": {"a": 1}},
        doc! {"_id": 1, "a": 2147483648_i64},
    );
    ok(
        doc! {"_id": 1, "a": 5},
        doc! {"$inc": {"a": 1_i64}},
        doc! {"_id": 1, "a": 6_i64},
    );
    ok(
        doc! {"_id": 1, "a": 5},
        doc! {"$inc": {"a": 1.5}},
        doc! {"_id": 1, "a": 6.5},
    );
    ok(
        doc! {"_id": 1, "a": 5.5},
        doc! {"$inc": {"a": 1}},
        doc! {"_id": 1, "a": 6.5},
    );
    ok(
        doc! {"_id": 1, "a": 5},
        doc! {"$inc": {"a": -7}},
        doc! {"_id": 1, "a": -2},
    );
    ok(
        doc! {"_id": 1, "a": i64::MAX},
        doc! {"$inc": {"a": 1.0}},
        doc! {"_id": 1, "a": 9.223372036854776e18},
    );
    ok(
        doc! {"_id": 1},
        doc! {"$inc": {"a": 3_i64}},
        doc! {"_id": 1, "a": 3_i64},
    );
    ok(
        doc! {"_id": 1},
        doc! {"$inc": {"a.b": 2.5}},
        doc! {"_id": 1, "a": {"b": 2.5}},
    );
    ok(
        doc! {"_id": 1, "a": [1]},
        doc! {"$inc": {"a.2": 1}},
        doc! {"_id": 1, "a": [1, null, 1]},
    );
    fails(
        doc! {"_id": 1, "a": i64::MAX},
        doc! {"$inc": {"a": 1}},
        "Failed to apply $inc operations to current value ((NumberLong)9223372036854775807) for document {_id: 1}",
    );
    fails(
        doc! {"_id": 1, "x": {"a": 5}},
        doc! {"$inc": {"x.a": i64::MAX}},
        "Failed to apply $inc operations to current value (5) for document {_id: 1}",
    );
}

#[test]
fn inc_type_errors() {
    fails(
        doc! {"_id": 1, "a": null},
        doc! {"$inc": {"a": 1}},
        "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 'a' of non-numeric type null",
    );
    fails(
        doc! {"_id": 1, "x": {"a": "s"}},
        doc! {"$inc": {"x.a": 1}},
        "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 'a' of non-numeric type string",
    );
    fails(
        doc! {"a": "s"},
        doc! {"$inc": {"a": 1}},
        "Cannot apply $inc to a value of non-numeric type. {no id} has the field 'a' of non-numeric type string",
    );
    fails(
        doc! {"_id": 1},
        doc! {"$inc": {"a": "x"}},
        "Cannot increment with non-numeric argument: {a: \"x\"}",
    );
    fails(
        doc! {"_id": 1},
        doc! {"$inc": {"a": null}},
        "Cannot increment with non-numeric argument: {a: null}",
    );
}

#[test]
fn mul() {
    ok(
        doc! {"_id": 1, "a": i32::MAX},
        doc! {"$mul": {"a": 2}},
        doc! {"_id": 1, "a": 4294967294_i64},
    );
    ok(
        doc! {"_id": 1, "a": 5},
        doc! {"$mul": {"a": 1.0}},
        doc! {"_id": 1, "a": 5.0},
    );
    ok(
        doc! {"_id": 1, "a": 5},
        doc! {"$mul": {"a": 3}},
        doc! {"_id": 1, "a": 15},
    );
    ok(
        doc! {"_id": 1},
        doc! {"$mul": {"a": 3_i64}},
        doc! {"_id": 1, "a": 0_i64},
    );
    ok(
        doc! {"_id": 1},
        doc! {"$mul": {"a": 3.0}},
        doc! {"_id": 1, "a": 0.0},
    );
    ok(
        doc! {"_id": 1},
        doc! {"$mul": {"a": 3}},
        doc! {"_id": 1, "a": 0},
    );
    fails(
        doc! {"_id": 1, "a": 1_i64 << 62},
        doc! {"$mul": {"a": 4}},
        "Failed to apply $mul operations to current value ((NumberLong)4611686018427387904) for document {_id: 1}",
    );
    fails(
        doc! {"_id": 1, "a": "x"},
        doc! {"$mul": {"a": 1}},
        "Cannot apply $mul to a value of non-numeric type. {_id: 1} has the field 'a' of non-numeric type string",
    );
    fails(
        doc! {"_id": 1},
        doc! {"$mul": {"a": "x"}},
        "Cannot multiply with non-numeric argument: {a: \"x\"}",
    );
}

#[test]
fn decimal_arithmetic_is_refused_by_name() {
    // The server computes these (2.5, 3.0); we have no decimal arithmetic.
    let dec: bson::Decimal128 = "1.5".parse().unwrap();
    fails_with(
        doc! {"_id": 1, "a": dec},
        doc! {"$inc": {"a": 1}},
        "$inc on decimal128",
    );
    fails_with(
        doc! {"_id": 1, "a": 2},
        doc! {"$mul": {"a": dec}},
        "$mul on decimal128",
    );
    fails_with(
        doc! {"_id": 1},
        doc! {"$mul": {"a": dec}},
        "$mul on decimal128",
    );
    // Storing the operand needs no arithmetic.
    ok(
        doc! {"_id": 1},
        doc! {"$inc": {"a": dec}},
        doc! {"_id": 1, "a": dec},
    );
}

// -------------------------------------------------------------- $min, $max

#[test]
fn min_max() {
    ok(
        doc! {"_id": 1, "a": 5},
        doc! {"$min": {"a": 3}},
        doc! {"_id": 1, "a": 3},
    );
    ok(
        doc! {"_id": 1, "a": 5},
        doc! {"$min": {"a": 5.0}},
        doc! {"_id": 1, "a": 5},
    );
    ok(
        doc! {"_id": 1, "a": 5},
        doc! {"$max": {"a": 5.0}},
        doc! {"_id": 1, "a": 5},
    );
    ok(
        doc! {"_id": 1, "a": 5},
        doc! {"$max": {"a": 7_i64}},
        doc! {"_id": 1, "a": 7_i64},
    );
    // Across types, by the shared order (numbers < strings; null lowest).
    ok(
        doc! {"_id": 1, "a": 5},
        doc! {"$min": {"a": "x"}},
        doc! {"_id": 1, "a": 5},
    );
    ok(
        doc! {"_id": 1, "a": 5},
        doc! {"$max": {"a": "x"}},
        doc! {"_id": 1, "a": "x"},
    );
    ok(
        doc! {"_id": 1, "a": 5},
        doc! {"$min": {"a": null}},
        doc! {"_id": 1, "a": null},
    );
    ok(
        doc! {"_id": 1, "a": null},
        doc! {"$max": {"a": 3}},
        doc! {"_id": 1, "a": 3},
    );
    ok(
        doc! {"_id": 1, "a": 1},
        doc! {"$min": {"a": {"$x": 1}}},
        doc! {"_id": 1, "a": 1},
    );
    ok(
        doc! {"_id": 1},
        doc! {"$min": {"a": 3}},
        doc! {"_id": 1, "a": 3},
    );
    ok(
        doc! {"_id": 1, "a": [1]},
        doc! {"$min": {"a.2": 1}},
        doc! {"_id": 1, "a": [1, null, 1]},
    );
}

// ----------------------------------------------------------- $currentDate

#[test]
fn current_date() {
    let now = Bson::DateTime(DateTime::from_millis(NOW_MS));
    let ts = Bson::Timestamp(bson::Timestamp {
        time: 1_700_000_000,
        increment: 0,
    });
    ok(
        doc! {"_id": 1},
        doc! {"$currentDate": {"a": true}},
        doc! {"_id": 1, "a": now.clone()},
    );
    ok(
        doc! {"_id": 1},
        doc! {"$currentDate": {"a": false}},
        doc! {"_id": 1, "a": now.clone()},
    );
    ok(
        doc! {"_id": 1},
        doc! {"$currentDate": {"a": {"$type": "date"}}},
        doc! {"_id": 1, "a": now.clone()},
    );
    ok(
        doc! {"_id": 1, "a": 1},
        doc! {"$currentDate": {"a": {"$type": "timestamp"}}},
        doc! {"_id": 1, "a": ts},
    );
    let type_required = "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}";
    fails(
        doc! {"_id": 1},
        doc! {"$currentDate": {"a": {"$type": "x"}}},
        type_required,
    );
    fails(
        doc! {"_id": 1},
        doc! {"$currentDate": {"a": {}}},
        type_required,
    );
    fails(
        doc! {"_id": 1},
        doc! {"$currentDate": {"a": 1}},
        "int is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).",
    );
    fails(
        doc! {"_id": 1},
        doc! {"$currentDate": {"a": {"$type": "date", "x": 1}}},
        "Unrecognized $currentDate option: x",
    );
}

// ------------------------------------------------------------------ $push

#[test]
fn push_values() {
    ok(
        doc! {"_id": 1},
        doc! {"$push": {"a": 1}},
        doc! {"_id": 1, "a": [1]},
    );
    ok(
        doc! {"_id": 1, "a": [1]},
        doc! {"$push": {"a": [2, 3]}},
        doc! {"_id": 1, "a": [1, [2, 3]]},
    );
    ok(
        doc! {"_id": 1, "a": [1]},
        doc! {"$push": {"a": {"$each": [2, 3]}}},
        doc! {"_id": 1, "a": [1, 2, 3]},
    );
    ok(
        doc! {"_id": 1, "a": [1]},
        doc! {"$push": {"a.2": 1}},
        doc! {"_id": 1, "a": [1, null, [1]]},
    );
    // Without $each, a modifier-looking document is a value.
    ok(
        doc! {"_id": 1, "a": [3, 1, 2]},
        doc! {"$push": {"a": {"$slice": 1}}},
        doc! {"_id": 1, "a": [3, 1, 2, {"$slice": 1}]},
    );
    fails(
        doc! {"_id": 1, "a": 5},
        doc! {"$push": {"a": 1}},
        "The field 'a' must be an array but is of type int in document {_id: 1}",
    );
    fails(
        doc! {"_id": 1, "x": {"a": 5}},
        doc! {"$push": {"x.a": 1}},
        "The field 'x.a' must be an array but is of type int in document {_id: 1}",
    );
    fails(
        doc! {"_id": 1, "a": null},
        doc! {"$push": {"a": 1}},
        "The field 'a' must be an array but is of type null in document {_id: 1}",
    );
}

#[test]
fn push_position() {
    let base = || doc! {"_id": 1, "a": [1, 2, 3]};
    let push = |position: Bson| doc! {"$push": {"a": {"$each": [7, 8], "$position": position}}};
    ok(
        base(),
        push(Bson::Int32(1)),
        doc! {"_id": 1, "a": [1, 7, 8, 2, 3]},
    );
    ok(
        base(),
        push(Bson::Int32(-1)),
        doc! {"_id": 1, "a": [1, 2, 7, 8, 3]},
    );
    ok(
        base(),
        push(Bson::Int32(-10)),
        doc! {"_id": 1, "a": [7, 8, 1, 2, 3]},
    );
    ok(
        base(),
        push(Bson::Int32(10)),
        doc! {"_id": 1, "a": [1, 2, 3, 7, 8]},
    );
    ok(
        base(),
        push(Bson::Int64(0)),
        doc! {"_id": 1, "a": [7, 8, 1, 2, 3]},
    );
    let not_integer = "The value for $position must be an integer value, not of type: double";
    fails(base(), push(Bson::Double(1.5)), not_integer);
    fails(base(), push(Bson::Double(1.0)), not_integer);
    fails(
        base(),
        push(Bson::String("x".into())),
        "The value for $position must be an integer value, not of type: string",
    );
}

#[test]
fn push_slice() {
    let base = || doc! {"_id": 1, "a": [1, 2, 3]};
    let push = |slice: Bson| doc! {"$push": {"a": {"$each": [7, 8], "$slice": slice}}};
    ok(base(), push(Bson::Int32(2)), doc! {"_id": 1, "a": [1, 2]});
    ok(base(), push(Bson::Int32(-2)), doc! {"_id": 1, "a": [7, 8]});
    ok(base(), push(Bson::Int32(0)), doc! {"_id": 1, "a": []});
    ok(
        base(),
        push(Bson::Int64(-100)),
        doc! {"_id": 1, "a": [1, 2, 3, 7, 8]},
    );
    ok(
        base(),
        doc! {"$push": {"a": {"$each": [], "$slice": -1}}},
        doc! {"_id": 1, "a": [3]},
    );
    ok(
        doc! {"_id": 1},
        doc! {"$push": {"a": {"$each": [1, 2], "$slice": -1}}},
        doc! {"_id": 1, "a": [2]},
    );
    let not_integer = "The value for $slice must be an integer value but was given type: double";
    fails(base(), push(Bson::Double(1.5)), not_integer);
    fails(base(), push(Bson::Double(2.0)), not_integer);
}

#[test]
fn push_sort() {
    ok(
        doc! {"_id": 1, "a": [3, 1, 2]},
        doc! {"$push": {"a": {"$each": [0, 8], "$sort": 1}}},
        doc! {"_id": 1, "a": [0, 1, 2, 3, 8]},
    );
    ok(
        doc! {"_id": 1, "a": [3, 1, 2]},
        doc! {"$push": {"a": {"$each": [0, 8], "$sort": -1, "$slice": 3}}},
        doc! {"_id": 1, "a": [8, 3, 2]},
    );
    // Modifier order in the operand does not matter.
    ok(
        doc! {"_id": 1, "a": [3, 1, 2]},
        doc! {"$push": {"a": {"$slice": 3, "$each": [0, 8], "$sort": -1.0}}},
        doc! {"_id": 1, "a": [8, 3, 2]},
    );
    // Sorting happens after inserting at the position.
    ok(
        doc! {"_id": 1, "a": [3, 1, 2]},
        doc! {"$push": {"a": {"$each": [1], "$position": 1, "$sort": 1}}},
        doc! {"_id": 1, "a": [1, 1, 2, 3]},
    );
    ok(
        doc! {"_id": 1, "a": [{"s": 3}, {"s": 1}]},
        doc! {"$push": {"a": {"$each": [{"s": 2}], "$sort": {"s": 1}}}},
        doc! {"_id": 1, "a": [{"s": 1}, {"s": 2}, {"s": 3}]},
    );
    ok(
        doc! {"_id": 1, "a": [{"a": {"b": 2}}, {"a": {"b": 1}}]},
        doc! {"$push": {"a": {"$each": [], "$sort": {"a.b": 1}}}},
        doc! {"_id": 1, "a": [{"a": {"b": 1}}, {"a": {"b": 2}}]},
    );
    // Whole-value sort across types uses the shared order.
    ok(
        doc! {"_id": 1, "a": [{"s": 3}, {"s": 1}, 5]},
        doc! {"$push": {"a": {"$each": [{"s": 2}], "$sort": 1}}},
        doc! {"_id": 1, "a": [5, {"s": 1}, {"s": 2}, {"s": 3}]},
    );
    // By a field, MongoDB sorts a non-document as the document {"": value},
    // which lacks the field (null): first ascending, last descending. The
    // reference server does the opposite ([{s: 1}, {s: 3}, 5] and
    // [5, {s: 3}, {s: 2}, {s: 1}]).
    ok(
        doc! {"_id": 1, "a": [{"s": 3}, 5, {"s": 1}]},
        doc! {"$push": {"a": {"$each": [], "$sort": {"s": 1}}}},
        doc! {"_id": 1, "a": [5, {"s": 1}, {"s": 3}]},
    );
    ok(
        doc! {"_id": 1, "a": [{"s": 3}, {"s": 1}, 5]},
        doc! {"$push": {"a": {"$each": [{"s": 2}], "$sort": {"s": -1}}}},
        doc! {"_id": 1, "a": [{"s": 3}, {"s": 2}, {"s": 1}, 5]},
    );
}

#[test]
fn push_modifier_errors() {
    let a = || doc! {"_id": 1, "a": [3, 1, 2]};
    fails(
        a(),
        doc! {"$push": {"a": {"$each": 2}}},
        "The argument to $each in $push must be an array but it was of type: int",
    );
    fails(
        a(),
        doc! {"$push": {"a": {"$each": [0], "$sort": 2}}},
        "The $sort element value must be either 1 or -1",
    );
    fails(
        a(),
        doc! {"$push": {"a": {"$each": [0], "$sort": {"a": 0}}}},
        "The $sort element value must be either 1 or -1",
    );
    fails(
        a(),
        doc! {"$push": {"a": {"$each": [0], "$foo": 1}}},
        "Unrecognized $push modifier: '$foo'",
    );
    fails(
        a(),
        doc! {"$push": {"a": {"$each": [1], "x": 1}}},
        "Unrecognized $push modifier: 'x'",
    );
    fails(
        a(),
        doc! {"$push": {"a": {"x": 1, "$each": [1]}}},
        "Unrecognized $push modifier: 'x'",
    );
    // The reference server accepts these three (and ignores the bad
    // pattern); MongoDB's pattern check refuses them.
    fails(
        a(),
        doc! {"$push": {"a": {"$each": [0], "$sort": {}}}},
        "The $sort pattern is empty when it should be a set of fields.",
    );
    fails(
        a(),
        doc! {"$push": {"a": {"$each": [0], "$sort": {"": 1}}}},
        "The $sort field cannot be empty",
    );
    fails(
        a(),
        doc! {"$push": {"a": {"$each": [0], "$sort": {"a.": 1}}}},
        "The $sort field is a dotted field but has an empty part: a.",
    );
    fails_with(
        a(),
        doc! {"$push": {"a": {"$each": [0], "$sort": "x"}}},
        "The $sort is invalid",
    );
}

// --------------------------------------------------------------- $addToSet

#[test]
fn add_to_set() {
    ok(
        doc! {"_id": 1},
        doc! {"$addToSet": {"a": 1}},
        doc! {"_id": 1, "a": [1]},
    );
    ok(
        doc! {"_id": 1, "a": [1, 2]},
        doc! {"$addToSet": {"a": 1.0}},
        doc! {"_id": 1, "a": [1, 2]},
    );
    ok(
        doc! {"_id": 1, "a": [1, 2]},
        doc! {"$addToSet": {"a": 3}},
        doc! {"_id": 1, "a": [1, 2, 3]},
    );
    ok(
        doc! {"_id": 1, "a": [1, 2]},
        doc! {"$addToSet": {"a": [1]}},
        doc! {"_id": 1, "a": [1, 2, [1]]},
    );
    ok(
        doc! {"_id": 1, "a": [1, 2]},
        doc! {"$addToSet": {"a": {"$each": [2, 3, 3, 4]}}},
        doc! {"_id": 1, "a": [1, 2, 3, 4]},
    );
    ok(
        doc! {"_id": 1},
        doc! {"$addToSet": {"a": {"$each": [2, 2.0, 1]}}},
        doc! {"_id": 1, "a": [2, 1]},
    );
    // Document equality depends on field order.
    ok(
        doc! {"_id": 1, "a": [{"x": 1, "y": 2}]},
        doc! {"$addToSet": {"a": {"$each": [{"y": 2, "x": 1}, {"x": 1, "y": 2}]}}},
        doc! {"_id": 1, "a": [{"x": 1, "y": 2}, {"y": 2, "x": 1}]},
    );
    // $each must come first; otherwise the document is the value (server
    // takes $each anywhere; this follows MongoDB).
    ok(
        doc! {"_id": 1, "a": [1]},
        doc! {"$addToSet": {"a": {"$x": 1}}},
        doc! {"_id": 1, "a": [1, {"$x": 1}]},
    );
    fails(
        doc! {"_id": 1, "a": 1},
        doc! {"$addToSet": {"a": 1}},
        "Cannot apply $addToSet to non-array field. Field named 'a' has non-array type int",
    );
    fails(
        doc! {"_id": 1, "x": {"a": 5}},
        doc! {"$addToSet": {"x.a": 1}},
        "Cannot apply $addToSet to non-array field. Field named 'x.a' has non-array type int",
    );
    fails(
        doc! {"_id": 1, "a": [1]},
        doc! {"$addToSet": {"a": {"$each": 1}}},
        "The argument to $each in $addToSet must be an array but it was of type int",
    );
    fails_with(
        doc! {"_id": 1, "a": [1]},
        doc! {"$addToSet": {"a": {"$each": [2], "$slice": 1}}},
        "Found unexpected fields after $each in $addToSet",
    );
}

// -------------------------------------------------------------------- $pop

#[test]
fn pop() {
    ok(
        doc! {"_id": 1, "a": [1, 2, 3]},
        doc! {"$pop": {"a": 1}},
        doc! {"_id": 1, "a": [1, 2]},
    );
    ok(
        doc! {"_id": 1, "a": [1, 2, 3]},
        doc! {"$pop": {"a": -1}},
        doc! {"_id": 1, "a": [2, 3]},
    );
    ok(
        doc! {"_id": 1, "a": [1, 2, 3]},
        doc! {"$pop": {"a": 1.0}},
        doc! {"_id": 1, "a": [1, 2]},
    );
    ok(
        doc! {"_id": 1, "a": [1, 2, 3]},
        doc! {"$pop": {"a": -1.0}},
        doc! {"_id": 1, "a": [2, 3]},
    );
    ok(
        doc! {"_id": 1, "a": []},
        doc! {"$pop": {"a": 1}},
        doc! {"_id": 1, "a": []},
    );
    ok(doc! {"_id": 1}, doc! {"$pop": {"a": 1}}, doc! {"_id": 1});
    ok(
        doc! {"_id": 1, "a": 5},
        doc! {"$pop": {"a.b.c": 1}},
        doc! {"_id": 1, "a": 5},
    );
    ok(
        doc! {"_id": 1, "a": [[1, 2]]},
        doc! {"$pop": {"a.0": 1}},
        doc! {"_id": 1, "a": [[1]]},
    );
    fails(
        doc! {"_id": 1, "a": [1]},
        doc! {"$pop": {"a": 2}},
        "$pop expects 1 or -1, found: 2",
    );
    fails(
        doc! {"_id": 1, "a": [1]},
        doc! {"$pop": {"a": 0}},
        "$pop expects 1 or -1, found: 0",
    );
    fails(
        doc! {"_id": 1, "a": [1]},
        doc! {"$pop": {"a": 3_i64}},
        "$pop expects 1 or -1, found: 3",
    );
    fails(
        doc! {"_id": 1, "a": [1]},
        doc! {"$pop": {"a": "x"}},
        "Expected a number in: a: \"x\"",
    );
    fails(
        doc! {"_id": 1, "a": [1]},
        doc! {"$pop": {"a": 2.5}},
        "Expected an integer: a: 2.5",
    );
    fails(
        doc! {"_id": 1, "a": 5},
        doc! {"$pop": {"a": 1}},
        "Path 'a' contains an element of non-array type 'int'",
    );
    fails(
        doc! {"_id": 1, "x": {"a": 5}},
        doc! {"$pop": {"x.a": 1}},
        "Path 'x.a' contains an element of non-array type 'int'",
    );
}

// ---------------------------------------------------------- $pull, $pullAll

#[test]
fn pull() {
    ok(
        doc! {"_id": 1, "a": [1, 2, 3, 2]},
        doc! {"$pull": {"a": 2}},
        doc! {"_id": 1, "a": [1, 3]},
    );
    ok(
        doc! {"_id": 1, "a": [1, 2, 3, 2, 5, 9]},
        doc! {"$pull": {"a": {"$gte": 2, "$lt": 5}}},
        doc! {"_id": 1, "a": [1, 5, 9]},
    );
    ok(
        doc! {"_id": 1, "a": [{"s": 1}, {"s": 8}]},
        doc! {"$pull": {"a": {"s": 8}}},
        doc! {"_id": 1, "a": [{"s": 1}]},
    );
    ok(
        doc! {"_id": 1, "a": [{"s": 1, "t": 2}, {"s": 8}]},
        doc! {"$pull": {"a": {"s": 1}}},
        doc! {"_id": 1, "a": [{"s": 8}]},
    );
    ok(
        doc! {"_id": 1, "a": [[1, 2], [3]]},
        doc! {"$pull": {"a": [3]}},
        doc! {"_id": 1, "a": [[1, 2]]},
    );
    ok(doc! {"_id": 1}, doc! {"$pull": {"a": 1}}, doc! {"_id": 1});
    ok(
        doc! {"_id": 1, "a": 5},
        doc! {"$pull": {"a.b.c": 1}},
        doc! {"_id": 1, "a": 5},
    );
    fails(
        doc! {"_id": 1, "a": 5},
        doc! {"$pull": {"a": 1}},
        "Cannot apply $pull to a non-array value",
    );
    fails(
        doc! {"_id": 1, "a": [1, 2]},
        doc! {"$pull": {"a": {"$foo": 1}}},
        "unknown operator: $foo",
    );
}

#[test]
fn pull_all() {
    ok(
        doc! {"_id": 1, "a": [1, 2, 1.0]},
        doc! {"$pullAll": {"a": [1, 5]}},
        doc! {"_id": 1, "a": [2]},
    );
    ok(
        doc! {"_id": 1},
        doc! {"$pullAll": {"a": [1]}},
        doc! {"_id": 1},
    );
    let many: Vec<Bson> = (0..20).map(Bson::Int32).collect();
    ok(
        doc! {"_id": 1, "a": [1, 25, 2.0, 30, "x"]},
        doc! {"$pullAll": {"a": many}},
        doc! {"_id": 1, "a": [25, 30, "x"]},
    );
    // The reference server removes {y: 2, x: 1} here (unordered document
    // comparison); MongoDB's equality is field order sensitive.
    ok(
        doc! {"_id": 1, "a": [{"x": 1, "y": 2}]},
        doc! {"$pullAll": {"a": [{"y": 2, "x": 1}]}},
        doc! {"_id": 1, "a": [{"x": 1, "y": 2}]},
    );
    fails(
        doc! {"_id": 1, "a": [1, 2]},
        doc! {"$pullAll": {"a": 1}},
        "$pullAll requires an array argument",
    );
    fails(
        doc! {"_id": 1, "a": 5},
        doc! {"$pullAll": {"a": [1]}},
        "Cannot apply $pull to a non-array value",
    );
}

// ----------------------------------------------------------------- $rename

#[test]
fn rename() {
    ok(
        doc! {"_id": 1, "a": 1, "b": 2},
        doc! {"$rename": {"a": "c"}},
        doc! {"_id": 1, "b": 2, "c": 1},
    );
    ok(
        doc! {"_id": 1, "a": 1, "b": 2},
        doc! {"$rename": {"a": "b"}},
        doc! {"_id": 1, "b": 1},
    );
    ok(
        doc! {"_id": 1, "b": 2, "x": 0, "a": 1},
        doc! {"$rename": {"a": "b"}},
        doc! {"_id": 1, "b": 1, "x": 0},
    );
    ok(
        doc! {"_id": 1, "a": 1, "b": 2},
        doc! {"$rename": {"x": "b"}},
        doc! {"_id": 1, "a": 1, "b": 2},
    );
    ok(
        doc! {"_id": 1, "a": 1, "b": 2},
        doc! {"$rename": {"a": "c.d.e"}},
        doc! {"_id": 1, "b": 2, "c": {"d": {"e": 1}}},
    );
    ok(
        doc! {"_id": 1, "a": {"b": 1, "c": 2}},
        doc! {"$rename": {"a.b": "a.z"}},
        doc! {"_id": 1, "a": {"c": 2, "z": 1}},
    );
    ok(
        doc! {"_id": 1, "a": {"b": 1, "c": 2}},
        doc! {"$rename": {"a.b": "d"}},
        doc! {"_id": 1, "a": {"c": 2}, "d": 1},
    );
    ok(
        doc! {"_id": 1, "a": {"b": 1}},
        doc! {"$rename": {"a": "$x"}},
        doc! {"_id": 1, "$x": {"b": 1}},
    );
    ok(
        doc! {"_id": 1, "a": {"b": 1, "c": 2}},
        doc! {"$rename": {"a": "z", "c": "y"}},
        doc! {"_id": 1, "z": {"b": 1, "c": 2}},
    );
    ok(
        doc! {"_id": 1, "a": {"y": {"q": 1}}, "b": 1},
        doc! {"$rename": {"a.y.q": "a.z"}},
        doc! {"_id": 1, "a": {"y": {}, "z": 1}, "b": 1},
    );
    ok(
        doc! {"_id": 1, "a": {"y": {"q": 1}}, "b": 1},
        doc! {"$rename": {"b": "a.y.z"}},
        doc! {"_id": 1, "a": {"y": {"q": 1, "z": 1}}},
    );
    // Missing source: nothing happens, not even the destination checks.
    ok(
        doc! {"_id": 1, "a": [5], "b": 1},
        doc! {"$rename": {"z": "a.0"}},
        doc! {"_id": 1, "a": [5], "b": 1},
    );
    ok(
        doc! {"_id": 1, "a": [5]},
        doc! {"$rename": {"a.5": "c"}},
        doc! {"_id": 1, "a": [5]},
    );
}

#[test]
fn rename_parse_errors() {
    let d = || doc! {"_id": 1, "a": 1};
    fails(
        d(),
        doc! {"$rename": {"a": 1}},
        "The 'to' field for $rename must be a string: a: 1",
    );
    fails(
        d(),
        doc! {"$rename": {"a": "a"}},
        "The source and target field for $rename must differ: a: \"a\"",
    );
    fails(
        d(),
        doc! {"$rename": {"a": "a.b"}},
        "The source and target field for $rename must not be on the same path: a: \"a.b\"",
    );
    fails(
        d(),
        doc! {"$rename": {"a.b": "a"}},
        "The source and target field for $rename must not be on the same path: a.b: \"a\"",
    );
    fails(
        d(),
        doc! {"$rename": {"a": ""}},
        "An empty update path is not valid.",
    );
    fails(
        d(),
        doc! {"$rename": {"a": "x.$"}},
        "The destination field for $rename may not be dynamic: x.$",
    );
    fails(
        d(),
        doc! {"$rename": {"a.$": "x"}},
        "The source field for $rename may not be dynamic: a.$",
    );
    fails(
        d(),
        doc! {"$rename": {"a": "x..y"}},
        "The update path 'x..y' contains an empty field name, which is not allowed.",
    );
    // Not on the same path, merely a common string prefix.
    ok(d(), doc! {"$rename": {"a": "ab"}}, doc! {"_id": 1, "ab": 1});
}

#[test]
fn rename_through_arrays_fails() {
    fails(
        doc! {"_id": 1, "a": [{"x": 1}], "b": 2},
        doc! {"$rename": {"a.0.x": "c"}},
        "The source field cannot be an array element, 'a.0.x' in doc with _id: 1 has an array field called 'a'",
    );
    fails(
        doc! {"_id": 1, "a": [5]},
        doc! {"$rename": {"a.0": "c"}},
        "The source field cannot be an array element, 'a.0' in doc with _id: 1 has an array field called 'a'",
    );
    fails(
        doc! {"_id": 1, "a": [{"x": 1}], "b": 2},
        doc! {"$rename": {"a.x": "c"}},
        "cannot use the part (a of a.x) to traverse the element ({a: [ {x: 1} ]})",
    );
    fails(
        doc! {"_id": 1, "a": 5},
        doc! {"$rename": {"a.b": "c"}},
        "cannot use the part (a of a.b) to traverse the element ({a: 5})",
    );
    fails(
        doc! {"_id": 1, "a": 5},
        doc! {"$rename": {"a.b.c": "c"}},
        "cannot use the part (a of a.b.c) to traverse the element ({a: 5})",
    );
    fails(
        doc! {"_id": 1, "a": [5], "b": 1},
        doc! {"$rename": {"b": "a.0"}},
        "The destination field cannot be an array element, 'a.0' in doc with _id: 1 has an array field called 'a'",
    );
    fails(
        doc! {"_id": 1, "a": [5], "b": 1},
        doc! {"$rename": {"b": "a.5"}},
        "The destination field cannot be an array element, 'a.5' in doc with _id: 1 has an array field called 'a'",
    );
    fails(
        doc! {"_id": 1, "a": [5], "b": 1},
        doc! {"$rename": {"b": "a.0.x"}},
        "The destination field cannot be an array element, 'a.0.x' in doc with _id: 1 has an array field called 'a'",
    );
    fails(
        doc! {"_id": 1, "a": {"x": [5]}, "b": 1},
        doc! {"$rename": {"b": "a.x.5"}},
        "The destination field cannot be an array element, 'a.x.5' in doc with _id: 1 has an array field called 'x'",
    );
    fails(
        doc! {"_id": 1, "a": [5], "b": 1},
        doc! {"$rename": {"b": "a.x"}},
        "Cannot create field 'x' in element {a: [ 5 ]}",
    );
    fails(
        doc! {"_id": 1, "a": 1, "b": 2},
        doc! {"$rename": {"a": "b.x"}},
        "Cannot create field 'x' in element {b: 2}",
    );
    fails(
        doc! {"_id": 1, "a": {"y": 1}, "b": 1},
        doc! {"$rename": {"a": "b.c"}},
        "Cannot create field 'c' in element {b: 1}",
    );
}

// -------------------------------------------------------- all-or-nothing

#[test]
fn failed_updates_leave_the_document_unchanged() {
    // `run` asserts the document is unchanged whenever apply fails; these
    // fail on an operation applied after others succeeded.
    fails_with(
        doc! {"_id": 1, "a": 1, "z": "s"},
        doc! {"$set": {"a": 2, "b.c": 1}, "$inc": {"z": 1}},
        "non-numeric",
    );
    fails_with(
        doc! {"_id": 1, "a": [1], "z": 5},
        doc! {"$push": {"a": 2}, "$rename": {"q": "r"}, "$pop": {"z": 1}},
        "non-array",
    );
    fails_with(
        doc! {"_id": 1, "a": [1], "b": 1},
        doc! {"$set": {"a.01": 1, "b.x": 2}},
        "Cannot create field",
    );
}

#[test]
fn a_parsed_update_applies_to_many_documents() {
    let update = Update::parse(&doc! {"$inc": {"n": 1}, "$push": {"log": "x"}}).unwrap();
    let c = ctx(false);
    let mut first = doc! {"_id": 1};
    let mut second = doc! {"_id": 2, "n": 41, "log": ["a"]};
    update.apply(&mut first, &c).unwrap();
    update.apply(&mut second, &c).unwrap();
    assert_same(&first, &doc! {"_id": 1, "log": ["x"], "n": 1});
    assert_same(&second, &doc! {"_id": 2, "n": 42, "log": ["a", "x"]});
}

#[test]
fn deep_documents_do_not_overflow_the_stack() {
    let mut deep = Bson::Int32(1);
    for _ in 0..5000 {
        deep = Bson::Document(doc! {"a": deep});
    }
    let path = vec!["a"; 4000].join(".");
    let mut update = Document::new();
    update.insert("$set", doc! {path.clone(): 2});
    let parsed = Update::parse(&update).unwrap();
    let mut d = doc! {"_id": 1, "x": deep};
    parsed.apply(&mut d, &ctx(false)).unwrap();
    let mut inc = Document::new();
    inc.insert("$inc", doc! {format!("x.{path}"): "bad"});
    assert!(Update::parse(&inc).is_err());
}

// --------------------------------------------------------------- the hot path

/// The yamlett update: many nested `$set`s, a `$push` with `$each`, and a
/// `$setOnInsert`, applied to an existing run. (Its speed is measured by the
/// benchmarks, not here.)
#[test]
fn yamlett_update_applies_as_one() {
    let mut doc = Document::new();
    doc.insert("_id", "run-1");
    let mut params = Document::new();
    for i in 0..20 {
        params.insert(format!("p{i}"), doc! {"lr": 0.1, "depth": i, "name": "x"});
    }
    doc.insert("params", params);
    doc.insert(
        "loss",
        (0..100)
            .map(|i| Bson::Double(f64::from(i)))
            .collect::<Vec<_>>(),
    );
    let mut set = Document::new();
    for i in 0..100 {
        set.insert(format!("params.model.k{i}"), 0.1);
    }
    let update = doc! {
        "$set": set,
        "$push": {"loss": {"$each": [1.0, 2.0, 3.0]}},
        "$setOnInsert": {"created": "now"},
    };
    let c = ctx(false);
    let mut d = doc.clone();
    Update::parse(&update).unwrap().apply(&mut d, &c).unwrap();
    let model = d
        .get_document("params")
        .unwrap()
        .get_document("model")
        .unwrap();
    assert_eq!(model.len(), 100);
    assert_eq!(model.keys().next().map(String::as_str), Some("k0"));
    assert_eq!(model.keys().nth(1).map(String::as_str), Some("k1"));
    assert_eq!(d.get_array("loss").unwrap().len(), 103);
    assert!(d.get("created").is_none());
}

// ---------------------------------------------------------------- reparse

/// `reparse` of `second` into the parse of `first` behaves exactly as a
/// parse of `second`: the same result on each document, the same error;
/// after an error the first update is intact.
fn reparses_like_a_parse(first: Document, second: Document, docs: &[Document]) {
    let mut reparsed = Update::parse(&first).expect("the first update parses");
    let apply = |update: &Update, doc: &Document| {
        let mut doc = doc.clone();
        update
            .apply(&mut doc, &ctx(false))
            .map(|()| format!("{doc:?}"))
            .map_err(|e| e.message().to_string())
    };
    match (reparsed.reparse(&second), Update::parse(&second)) {
        (Ok(()), Ok(parsed)) => {
            for doc in docs {
                assert_eq!(
                    apply(&reparsed, doc),
                    apply(&parsed, doc),
                    "{second:?} on {doc:?}"
                );
            }
        }
        (Err(got), Err(expected)) => {
            assert_eq!(got.message(), expected.message(), "{second:?}");
            let first = Update::parse(&first).unwrap();
            for doc in docs {
                assert_eq!(
                    apply(&reparsed, doc),
                    apply(&first, doc),
                    "{second:?} on {doc:?}"
                );
            }
        }
        (got, expected) => panic!("{second:?}: reparse {got:?}, parse {expected:?}"),
    }
}

#[test]
fn reparse_is_a_parse() {
    let docs = [
        doc! { "_id": 1 },
        doc! { "_id": 1, "s": { "count": 3_i64, "min": 0.5, "k": "x" }, "n": 2, "l": [1] },
        doc! { "_id": 1, "s": 4, "n": "text", "l": 5, "w": { "a": 9 } },
    ];
    let summary = |count: i64, min: f64| doc! { "count": count, "min": min, "k": "y" };
    let first = doc! {
        "$set": { "s": summary(1, 0.1), "w.a": 1_i64, "t": DateTime::from_millis(5) },
        "$inc": { "n": 1 },
        "$push": { "l": { "$each": [1, 2], "$slice": -3 } },
        "$min": { "m": 3 },
    };
    let cases = [
        // The same shape: values change, kept in order.
        doc! {
            "$set": { "s": summary(2, -1.0), "w.a": 2_i64, "t": DateTime::from_millis(6) },
            "$inc": { "n": 2.5 },
            "$push": { "l": { "$each": [3], "$slice": -2 } },
            "$min": { "m": "z" },
        },
        // Values of other structures at the same paths.
        doc! {
            "$set": { "s": { "min": 1, "count": 2 }, "w.a": [1, { "b": 2 }], "t": "now" },
            "$inc": { "n": -1_i64 },
            "$push": { "l": 7 },
            "$min": { "m": { "a": 1 } },
        },
        // A bad operand, in the middle: the error parse gives.
        doc! {
            "$set": { "s": 1, "w.a": 1, "t": 1 },
            "$inc": { "n": "x" },
            "$push": { "l": { "$each": 3 } },
            "$min": { "m": 3 },
        },
        // Other shapes: fields in another order, missing, added, renamed.
        doc! {
            "$set": { "w.a": 1, "s": 1, "t": 1 },
            "$inc": { "n": 1 }, "$push": { "l": 1 }, "$min": { "m": 3 },
        },
        doc! { "$set": { "s": 1, "w.a": 1 }, "$inc": { "n": 1 }, "$push": { "l": 1 }, "$min": { "m": 3 } },
        doc! {
            "$set": { "s": 1, "w.a": 1, "t": 1, "w": 1 },
            "$inc": { "n": 1 }, "$push": { "l": 1 }, "$min": { "m": 3 },
        },
        doc! { "$set": { "s": 1, "w.a": 1, "t": 1 }, "$inc": { "n": 1 }, "$push": { "l": 1 }, "$max": { "m": 3 } },
        doc! { "$set": { "s": 1, "w.a": 1, "t": 1 }, "$inc": { "n": 1 }, "$push": { "l": 1 }, "$bogus": { "m": 3 } },
        doc! { "$set": { "s": 1, "w.a": 1, "t": 1 }, "$inc": { "n": 1 }, "$push": { "l": 1 }, "$min": 3 },
        doc! { "$rename": { "n": "r" } },
        doc! {},
    ];
    for second in cases {
        reparses_like_a_parse(first.clone(), second, &docs);
    }
    // From an update with a rename, which always parses whole.
    reparses_like_a_parse(
        doc! { "$rename": { "n": "r" } },
        doc! { "$rename": { "n": "q" } },
        &docs,
    );
    reparses_like_a_parse(
        doc! { "$set": { "_id": 1 } },
        doc! { "$set": { "_id": 2 } },
        &docs,
    );
}

#[test]
fn set_reuses_the_structure_it_replaces() {
    // The value set is equal, whatever the old value's structure was.
    let update =
        Update::parse(&doc! { "$set": { "a": { "x": "long text", "y": [1, 2] } } }).unwrap();
    for old in [
        Bson::Document(doc! { "x": "t", "y": [3, 4] }),
        Bson::Document(doc! { "y": [3, 4], "x": "t" }),
        Bson::Document(doc! { "x": 1, "y": [3] }),
        Bson::Int32(1),
    ] {
        let mut doc = doc! { "a": old };
        update.apply(&mut doc, &ctx(false)).unwrap();
        assert_same(&doc, &doc! { "a": { "x": "long text", "y": [1, 2] } });
    }
}
