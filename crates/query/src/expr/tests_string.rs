//! Tests of the string operators. Expected values follow the MongoDB manual
//! (and, where it is silent, the server's documented behaviour).

use bson::{bson, doc, Bson, Decimal128};

use super::test_support::{err, eval};

fn ok(spec: Bson) -> Option<Bson> {
    eval(spec, &doc! {"_id": 0, "s": "héllo wörld", "n": null}).unwrap()
}

fn s(text: &str) -> Option<Bson> {
    Some(Bson::String(text.to_owned()))
}

#[test]
fn concat_nulls_and_types() {
    assert_eq!(ok(bson!({"$concat": ["a", "b", "c"]})), s("abc"));
    assert_eq!(ok(bson!({"$concat": []})), s(""));
    assert_eq!(ok(bson!({"$concat": ["a", null]})), Some(Bson::Null));
    assert_eq!(ok(bson!({"$concat": ["a", "$missing"]})), Some(Bson::Null));
    // Left to right: the null comes first, so no type error.
    assert_eq!(ok(bson!({"$concat": [null, 1]})), Some(Bson::Null));
    assert_eq!(
        err(bson!({"$concat": ["a", 1]})),
        "$concat only supports strings, not int"
    );
}

#[test]
fn case_mapping_is_ascii_only() {
    assert_eq!(ok(bson!({"$toUpper": "straße é"})), s("STRAßE é"));
    assert_eq!(ok(bson!({"$toLower": "ÉCOLE ABC"})), s("École abc"));
    assert_eq!(ok(bson!({"$toLower": null})), s(""));
    assert_eq!(ok(bson!({"$toUpper": "$missing"})), s(""));
    assert_eq!(ok(bson!({"$toUpper": 1.5})), s("1.5"));
    assert_eq!(
        ok(bson!({"$toUpper": 1099511627776.0_f64})),
        s("1.09951E+12")
    );
    assert_eq!(
        ok(bson!({"$toLower": Bson::Decimal128("1E+3".parse::<Decimal128>().unwrap())})),
        s("1e+3")
    );
    assert!(err(bson!({"$toLower": true})).contains("can't convert from BSON type bool"));
    assert!(err(bson!({"$toLower": [[1]]})).contains("array"));
}

#[test]
fn strcasecmp_compares_upper_cased_ascii() {
    assert_eq!(
        ok(bson!({"$strcasecmp": ["abc", "ABC"]})),
        Some(Bson::Int32(0))
    );
    assert_eq!(
        ok(bson!({"$strcasecmp": ["a", "B"]})),
        Some(Bson::Int32(-1))
    );
    assert_eq!(
        ok(bson!({"$strcasecmp": ["b", null]})),
        Some(Bson::Int32(1))
    );
    // '_' sorts after the upper-case letters but before the lower-case ones.
    assert_eq!(ok(bson!({"$strcasecmp": ["_", "a"]})), Some(Bson::Int32(1)));
    assert_eq!(ok(bson!({"$strcasecmp": ["é", "É"]})), Some(Bson::Int32(1)));
}

#[test]
fn lengths() {
    assert_eq!(ok(bson!({"$strLenBytes": "$s"})), Some(Bson::Int32(13)));
    assert_eq!(ok(bson!({"$strLenCP": "$s"})), Some(Bson::Int32(11)));
    assert_eq!(ok(bson!({"$strLenCP": "🎉"})), Some(Bson::Int32(1)));
    assert_eq!(ok(bson!({"$strLenBytes": "🎉"})), Some(Bson::Int32(4)));
    assert_eq!(
        err(bson!({"$strLenCP": null})),
        "$strLenCP requires a string argument, found: null"
    );
    assert_eq!(
        err(bson!({"$strLenBytes": "$x"})),
        "$strLenBytes requires a string argument, found: missing"
    );
}

#[test]
fn split_keeps_empty_pieces() {
    assert_eq!(
        ok(bson!({"$split": ["a,b,,c,", ","]})),
        Some(bson!(["a", "b", "", "c", ""]))
    );
    assert_eq!(ok(bson!({"$split": ["", ","]})), Some(bson!([""])));
    assert_eq!(ok(bson!({"$split": [null, ","]})), Some(Bson::Null));
    assert_eq!(ok(bson!({"$split": ["a", "$missing"]})), Some(Bson::Null));
    assert!(err(bson!({"$split": ["a", ""]})).contains("non-empty separator"));
    assert!(err(bson!({"$split": [1, ","]})).contains("first argument"));
    assert!(err(bson!({"$split": ["a"]})).contains("takes exactly 2"));
}

#[test]
fn substr_bytes_and_code_points() {
    assert_eq!(ok(bson!({"$substrBytes": ["$s", 0, 3]})), s("hé"));
    assert_eq!(ok(bson!({"$substrBytes": ["$s", 3, -1]})), s("llo wörld"));
    assert_eq!(ok(bson!({"$substrBytes": ["abc", 5, 2]})), s(""));
    assert_eq!(ok(bson!({"$substrBytes": [null, 0, 2]})), s(""));
    assert_eq!(ok(bson!({"$substrBytes": [12345, 1, 2.9]})), s("23"));
    assert!(err(bson!({"$substrBytes": ["é", 1, 1]})).contains("continuation byte"));
    assert!(err(bson!({"$substrBytes": ["é", 0, 1]})).contains("middle of a UTF-8"));
    assert!(err(bson!({"$substrBytes": ["abc", -1, 1]})).contains("non-negative"));
    assert!(err(bson!({"$substrBytes": ["abc", "1", 1]})).contains("numeric type"));

    assert_eq!(ok(bson!({"$substrCP": ["$s", 1, 4]})), s("éllo"));
    assert_eq!(ok(bson!({"$substrCP": ["🎉ab", 0, 2]})), s("🎉a"));
    assert_eq!(ok(bson!({"$substrCP": ["abc", 1, 100]})), s("bc"));
    assert_eq!(ok(bson!({"$substrCP": ["abc", 1.0, 1_i64]})), s("b"));
    assert_eq!(ok(bson!({"$substrCP": ["$missing", 0, 1]})), s(""));
    assert!(err(bson!({"$substrCP": ["abc", 1.5, 1]})).contains("32-bit integral"));
    assert!(err(bson!({"$substrCP": ["abc", 0, -1]})).contains("length must be a nonnegative"));
    assert!(err(bson!({"$substrCP": ["abc", -1, 1]})).contains("starting index must be"));
    assert!(err(bson!({"$substrCP": ["abc", null, 1]})).contains("numeric type"));
}

#[test]
fn index_of() {
    assert_eq!(
        ok(bson!({"$indexOfBytes": ["$s", "l"]})),
        Some(Bson::Int32(3))
    );
    assert_eq!(ok(bson!({"$indexOfCP": ["$s", "l"]})), Some(Bson::Int32(2)));
    assert_eq!(ok(bson!({"$indexOfCP": ["$s", "ö"]})), Some(Bson::Int32(7)));
    assert_eq!(
        ok(bson!({"$indexOfCP": ["$s", "l", 3]})),
        Some(Bson::Int32(3))
    );
    assert_eq!(
        ok(bson!({"$indexOfCP": ["$s", "l", 5, 9]})),
        Some(Bson::Int32(-1))
    );
    assert_eq!(
        ok(bson!({"$indexOfCP": ["abc", "", 1]})),
        Some(Bson::Int32(1))
    );
    assert_eq!(
        ok(bson!({"$indexOfCP": ["abc", "", 4]})),
        Some(Bson::Int32(-1))
    );
    assert_eq!(
        ok(bson!({"$indexOfCP": ["abc", "b", 2, 1]})),
        Some(Bson::Int32(-1))
    );
    assert_eq!(ok(bson!({"$indexOfBytes": [null, "a"]})), Some(Bson::Null));
    assert!(err(bson!({"$indexOfBytes": ["a", null]})).contains("second argument"));
    assert!(err(bson!({"$indexOfCP": [1, "a"]})).contains("first argument"));
    assert!(err(bson!({"$indexOfCP": ["a", "a", -1]})).contains("nonnegative"));
    assert!(err(bson!({"$indexOfCP": ["a", "a", 1.5]})).contains("integral"));
}

#[test]
fn trim_default_and_chars() {
    assert_eq!(
        ok(bson!({"$trim": {"input": "\u{a0}\t ab c \n\u{2003}"}})),
        s("ab c")
    );
    // U+3000 is not in the server's whitespace set.
    assert_eq!(ok(bson!({"$trim": {"input": "\u{3000}a"}})), s("\u{3000}a"));
    assert_eq!(ok(bson!({"$ltrim": {"input": "  a  "}})), s("a  "));
    assert_eq!(ok(bson!({"$rtrim": {"input": "  a  "}})), s("  a"));
    assert_eq!(
        ok(bson!({"$trim": {"input": "xyaxy", "chars": "yx"}})),
        s("a")
    );
    assert_eq!(
        ok(bson!({"$trim": {"input": "ééaé", "chars": "é"}})),
        s("a")
    );
    assert_eq!(ok(bson!({"$trim": {"input": null}})), Some(Bson::Null));
    assert_eq!(
        ok(bson!({"$trim": {"input": "a", "chars": null}})),
        Some(Bson::Null)
    );
    assert!(err(bson!({"$trim": {"input": 1}})).contains("to be a string"));
    assert!(err(bson!({"$trim": {"input": "a", "chars": 1}})).contains("'chars'"));
    assert!(err(bson!({"$trim": {"chars": "a"}})).contains("'input'"));
    assert!(err(bson!({"$trim": {"input": "a", "x": 1}})).contains("x"));
    assert!(err(bson!({"$trim": "a"})).contains("object"));
}

#[test]
fn replace() {
    let r = |op: &str, input: Bson, find: Bson, rep: Bson| bson!({op: {"input": input, "find": find, "replacement": rep}});
    assert_eq!(
        ok(r("$replaceOne", bson!("a.b.c"), bson!("."), bson!("-"))),
        s("a-b.c")
    );
    assert_eq!(
        ok(r("$replaceAll", bson!("a.b.c"), bson!("."), bson!("-"))),
        s("a-b-c")
    );
    assert_eq!(
        ok(r("$replaceAll", bson!("aaa"), bson!("aa"), bson!("b"))),
        s("ba")
    );
    assert_eq!(
        ok(r("$replaceOne", bson!(null), bson!("a"), bson!("b"))),
        Some(Bson::Null)
    );
    assert_eq!(
        ok(r("$replaceAll", bson!("a"), bson!("$missing"), bson!("b"))),
        Some(Bson::Null)
    );
    // Types are checked before nulls decide.
    assert!(err(r("$replaceOne", bson!(1), bson!(null), bson!("b"))).contains("'input'"));
    assert!(err(r("$replaceAll", bson!("a"), bson!("a"), bson!(1))).contains("'replacement'"));
}

#[test]
fn regex_match_find_and_find_all() {
    let re = |op: &str, input: Bson, regex: Bson| bson!({op: {"input": input, "regex": regex}});
    assert_eq!(
        ok(re("$regexMatch", bson!("abc"), bson!("^a"))),
        Some(Bson::Boolean(true))
    );
    assert_eq!(
        ok(re("$regexMatch", bson!(null), bson!("^a"))),
        Some(Bson::Boolean(false))
    );
    assert_eq!(
        ok(re("$regexFind", bson!(null), bson!("a"))),
        Some(Bson::Null)
    );
    assert_eq!(
        ok(re("$regexFindAll", bson!("$missing"), bson!("a"))),
        Some(bson!([]))
    );
    // idx counts code points; an unmatched group is null.
    assert_eq!(
        ok(re("$regexFind", bson!("héllo"), bson!("(l+)(x)?o"))),
        Some(bson!({"match": "llo", "idx": 2, "captures": ["ll", null]}))
    );
    assert_eq!(
        ok(bson!({"$regexFind": {"input": "ABC", "regex": "b", "options": "i"}})),
        Some(bson!({"match": "B", "idx": 1, "captures": []}))
    );
    let bson_regex = Bson::RegularExpression(bson::Regex {
        pattern: "b".try_into().unwrap(),
        options: "i".try_into().unwrap(),
    });
    assert_eq!(
        ok(re("$regexMatch", bson!("ABC"), bson_regex.clone())),
        Some(Bson::Boolean(true))
    );
    assert!(
        err(bson!({"$regexMatch": {"input": "a", "regex": bson_regex, "options": "m"}}))
            .contains("both")
    );
    assert_eq!(
        ok(re("$regexFindAll", bson!("a1b22"), bson!("[0-9]+"))),
        Some(bson!([
            {"match": "1", "idx": 1, "captures": []},
            {"match": "22", "idx": 3, "captures": []},
        ]))
    );
    // Empty matches advance one code point; none is reported at the end.
    assert_eq!(
        ok(re("$regexFindAll", bson!("éa"), bson!("a*"))),
        Some(bson!([
            {"match": "", "idx": 0, "captures": []},
            {"match": "a", "idx": 1, "captures": []},
        ]))
    );
    assert_eq!(
        ok(re("$regexFindAll", bson!(""), bson!("x*"))),
        Some(bson!([{"match": "", "idx": 0, "captures": []}]))
    );
    assert!(err(re("$regexMatch", bson!(1), bson!("a"))).contains("'input'"));
    assert!(err(re("$regexMatch", bson!("a"), bson!(1))).contains("'regex'"));
    assert!(
        err(bson!({"$regexMatch": {"input": "a", "regex": "a", "options": "q"}})).contains("q")
    );
    assert!(err(bson!({"$regexMatch": {"input": "a"}})).contains("'regex'"));
}
