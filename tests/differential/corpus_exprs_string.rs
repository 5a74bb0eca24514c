//! Hand-written differential cases for the string, conversion and date
//! expression operators: suites `exprs_string`, `exprs_convert` and
//! `exprs_date`.
//!
//! Each case projects one or more expressions over the suite's documents
//! (so null and missing fields, unicode strings and every numeric type are
//! covered by the same case), or over one document when the expression is
//! meant to fail.

use bson::oid::ObjectId;
use bson::{bson, doc, Bson, DateTime, Decimal128, Document, Timestamp};

use super::{agg, Case, Deviation, Expected, Suite};

/// All suites of this file.
pub fn suites() -> Vec<Suite> {
    vec![strings(), conversions(), dates()]
}

fn dec(text: &str) -> Bson {
    Bson::Decimal128(text.parse::<Decimal128>().expect("decimal"))
}

/// A date from an RFC 3339 string.
fn date(text: &str) -> Bson {
    Bson::DateTime(DateTime::parse_rfc3339_str(text).expect("date"))
}

fn with_id(id: &str, mut d: Document) -> Document {
    let mut out = doc! { "_id": id };
    out.extend(std::mem::take(&mut d));
    out
}

/// `{$project: fields}` over every document.
fn project(fields: Document) -> Case {
    agg(vec![doc! { "$project": fields }])
}

/// `{$project: {r: expr}}` over every document.
fn p(expr: Bson) -> Case {
    project(doc! { "r": expr })
}

/// `{$project: {r: expr}}` over document `id` only (for errors).
fn on(id: &str, expr: Bson) -> Case {
    agg(vec![
        doc! { "$match": { "_id": id } },
        doc! { "$project": { "r": expr } },
    ])
}

// ---------------------------------------------------------------- strings

fn string_docs() -> Vec<Document> {
    vec![
        with_id(
            "s1",
            doc! {
                "s": "Hello World", "u": "héllo wörld 🎉", "t": "  padded\t\n",
                "csv": "a,b,,c", "n": null, "i": 42, "f": 1.5, "big": 1_099_511_627_776.0,
                "dec": dec("1.50"), "b": true, "arr": ["x"], "dt": date("2014-01-01T08:15:39.736Z"),
            },
        ),
        with_id(
            "s2",
            doc! { "s": "", "u": "ÉCOLE straße", "t": "xxabcxx", "csv": "", "i": -7, "f": -0.5 },
        ),
        with_id(
            "s3",
            doc! { "s": "abc", "u": "日本語テキスト", "t": "\u{a0}\u{2003}mid\u{3000}", "csv": ",", "i": 0 },
        ),
        with_id("s4", doc! { "x": 1 }),
    ]
}

fn strings() -> Suite {
    let regex = |pattern: &str, options: &str| {
        Bson::RegularExpression(bson::Regex {
            pattern: pattern.try_into().expect("pattern"),
            options: options.try_into().expect("options"),
        })
    };
    let mut cases = vec![
        // $concat: null or missing anywhere is null; other types are errors.
        p(bson!({ "$concat": ["$s", "-", "$u"] })),
        p(bson!({ "$concat": [] })),
        p(bson!({ "$concat": ["$s"] })),
        p(bson!({ "$concat": ["$s", null] })),
        p(bson!({ "$concat": [null, 1] })),
        on("s1", bson!({ "$concat": ["$s", "$i"] })),
        on("s1", bson!({ "$concat": ["$s", "$arr"] })),
        // $toLower / $toUpper: ASCII only; null and missing are "".
        project(doc! {
            "up": { "$toUpper": "$s" }, "low": { "$toLower": "$s" },
            "uup": { "$toUpper": "$u" }, "ulow": { "$toLower": "$u" },
            "n": { "$toLower": "$n" }, "m": { "$toUpper": "$missing" },
        }),
        on("s1", bson!({ "$toUpper": "$i" })),
        on("s1", bson!({ "$toUpper": "$f" })),
        on("s1", bson!({ "$toLower": "$dec" })),
        on("s1", bson!({ "$toUpper": "$dt" })),
        on("s1", bson!({ "$toLower": "$b" })),
        on("s1", bson!({ "$toUpper": "$arr" })),
        on("s1", bson!({ "$toUpper": ["a", "b"] })),
        // $strcasecmp.
        p(bson!({ "$strcasecmp": ["$s", "hello world"] })),
        p(bson!({ "$strcasecmp": ["$u", "HÉLLO WÖRLD 🎉"] })),
        p(bson!({ "$strcasecmp": ["$missing", ""] })),
        p(bson!({ "$strcasecmp": ["_", "a"] })),
        p(bson!({ "$strcasecmp": ["B", "a"] })),
        on("s1", bson!({ "$strcasecmp": ["$i", "42"] })),
        on("s1", bson!({ "$strcasecmp": ["$b", "true"] })),
        // $strLenBytes / $strLenCP: the argument must be a string.
        agg(vec![
            doc! { "$match": { "s": { "$exists": true } } },
            doc! { "$project": {
                "sb": { "$strLenBytes": "$s" }, "ub": { "$strLenBytes": "$u" },
                "sc": { "$strLenCP": "$s" }, "uc": { "$strLenCP": "$u" },
            } },
        ]),
        on("s4", bson!({ "$strLenCP": "$s" })),
        on("s1", bson!({ "$strLenBytes": "$n" })),
        on("s1", bson!({ "$strLenCP": "$i" })),
        // $split.
        p(bson!({ "$split": ["$csv", ","] })),
        p(bson!({ "$split": ["$u", " "] })),
        p(bson!({ "$split": ["$s", "l"] })),
        p(bson!({ "$split": ["a,b", "$missing"] })),
        on("s1", bson!({ "$split": ["$i", ","] })),
        on("s1", bson!({ "$split": ["$s", ""] })),
        on("s1", bson!({ "$split": ["$s", 1] })),
        on("s1", bson!({ "$split": ["$s"] })),
        // $substrBytes (and its old name $substr): byte offsets.
        project(doc! {
            "a": { "$substrBytes": ["héllo", 0, 3] },
            "b": { "$substrBytes": ["héllo", 3, -1] },
            "c": { "$substrBytes": ["abc", 5, 1] },
            "d": { "$substrBytes": [null, 0, 1] },
            "e": { "$substrBytes": [12345, 1, 2] },
            "f": { "$substrBytes": ["abcdef", 1.7, 2.2] },
            "g": { "$substr": ["abcdef", 1, 3] },
            "h": { "$substrBytes": ["$s", 0, 5] },
        }),
        on("s1", bson!({ "$substrBytes": ["é", 1, 1] })),
        on("s1", bson!({ "$substrBytes": ["é", 0, 1] })),
        on("s1", bson!({ "$substrBytes": ["abc", -1, 1] })),
        on("s1", bson!({ "$substrBytes": ["abc", "1", 1] })),
        on("s1", bson!({ "$substrBytes": ["abc", 0, null] })),
        // $substrCP: code points.
        project(doc! {
            "a": { "$substrCP": ["$u", 1, 4] },
            "b": { "$substrCP": ["🎉ab", 0, 2] },
            "c": { "$substrCP": ["abc", 1, 100] },
            "d": { "$substrCP": ["abc", 1.0, 1_i64] },
            "e": { "$substrCP": ["$missing", 0, 1] },
            "f": { "$substrCP": ["日本語", 3, 1] },
            "g": { "$substrCP": ["abc", dec("1"), dec("1")] },
            "h": { "$substrCP": [12345, 2, 2] },
        }),
        on("s1", bson!({ "$substrCP": ["abc", 1.5, 1] })),
        on("s1", bson!({ "$substrCP": ["abc", 0, -1] })),
        on("s1", bson!({ "$substrCP": ["abc", -1, 1] })),
        on("s1", bson!({ "$substrCP": ["abc", null, 1] })),
        on("s1", bson!({ "$substrCP": ["abc", "1", 1] })),
        on("s1", bson!({ "$substrCP": [true, 0, 1] })),
        // $indexOfBytes / $indexOfCP.
        project(doc! {
            "b": { "$indexOfBytes": ["$u", "l"] },
            "c": { "$indexOfCP": ["$u", "l"] },
            "bo": { "$indexOfBytes": ["$u", "ö"] },
            "co": { "$indexOfCP": ["$u", "ö"] },
            "s3": { "$indexOfCP": ["$s", "l", 3] },
            "s59": { "$indexOfCP": ["$s", "l", 5, 9] },
        }),
        project(doc! {
            "e1": { "$indexOfCP": ["abc", "", 1] },
            "e4": { "$indexOfCP": ["abc", "", 4] },
            "rev": { "$indexOfCP": ["abc", "b", 2, 1] },
            "dbl": { "$indexOfBytes": ["abc", "c", 1.0] },
            "end": { "$indexOfBytes": ["abcabc", "c", 0, 100] },
            "null": { "$indexOfBytes": [null, "a"] },
            "jp": { "$indexOfCP": ["日本語テキスト", "テ"] },
            "jpb": { "$indexOfBytes": ["日本語テキスト", "テ"] },
        }),
        on("s1", bson!({ "$indexOfBytes": ["a", null] })),
        on("s1", bson!({ "$indexOfCP": [1, "a"] })),
        on("s1", bson!({ "$indexOfCP": ["a", "a", -1] })),
        on("s1", bson!({ "$indexOfCP": ["a", "a", 1.5] })),
        on("s1", bson!({ "$indexOfBytes": ["a", "a", "1"] })),
        on("s1", bson!({ "$indexOfCP": ["a"] })),
        // $trim / $ltrim / $rtrim.
        project(doc! {
            "t": { "$trim": { "input": "$t" } },
            "l": { "$ltrim": { "input": "$t" } },
            "r": { "$rtrim": { "input": "$t" } },
            "x": { "$trim": { "input": "$t", "chars": "x" } },
            "xc": { "$rtrim": { "input": "$t", "chars": "xc" } },
        }),
        project(doc! {
            "e": { "$trim": { "input": "ééaé", "chars": "é" } },
            "nul": { "$trim": { "input": "\u{0}a\u{0}" } },
            "cn": { "$trim": { "input": "a", "chars": null } },
            "in": { "$ltrim": { "input": "$missing" } },
            "sp": { "$trim": { "input": "\u{2000}\u{200a}\u{1680}a\u{85}" } },
        }),
        project(doc! {
            "cat": { "$concat": ["$u", "→", "日本"] },
            "up": { "$toUpper": "$u" },
            "cp": { "$substrCP": ["$u", 0, { "$strLenCP": "$u" }] },
            "split": { "$split": ["日本語テキスト", "語"] },
            "idx": { "$indexOfCP": ["$u", "🎉"] },
            "rep": { "$replaceAll": { "input": "🎉🎉", "find": "🎉", "replacement": "!" } },
        }),
        on("s1", bson!({ "$trim": { "input": 1 } })),
        on("s1", bson!({ "$trim": { "input": "a", "chars": 1 } })),
        on("s1", bson!({ "$trim": { "chars": "a" } })),
        on("s1", bson!({ "$trim": { "input": "a", "foo": 1 } })),
        on("s1", bson!({ "$trim": "a" })),
        // $replaceOne / $replaceAll.
        project(doc! {
            "one": { "$replaceOne": { "input": "$s", "find": "l", "replacement": "L" } },
            "all": { "$replaceAll": { "input": "$s", "find": "l", "replacement": "L" } },
            "u": { "$replaceAll": { "input": "$u", "find": "ö", "replacement": "oe" } },
            "over": { "$replaceAll": { "input": "aaa", "find": "aa", "replacement": "b" } },
            "nf": { "$replaceOne": { "input": "abc", "find": null, "replacement": "x" } },
            "nr": { "$replaceAll": { "input": "abc", "find": "b", "replacement": "$missing" } },
            "acc": { "$replaceAll": { "input": "cafe\u{301}", "find": "café", "replacement": "X" } },
        }),
        on(
            "s1",
            bson!({ "$replaceOne": { "input": "$i", "find": "4", "replacement": "x" } }),
        ),
        on(
            "s1",
            bson!({ "$replaceAll": { "input": "a", "find": "a", "replacement": 1 } }),
        ),
        on(
            "s1",
            bson!({ "$replaceAll": { "input": "a", "find": "a" } }),
        ),
        // $regexMatch / $regexFind / $regexFindAll.
        project(doc! {
            "m": { "$regexMatch": { "input": "$s", "regex": "^h", "options": "i" } },
            "mr": { "$regexMatch": { "input": "$s", "regex": regex("o w", "") } },
            "f": { "$regexFind": { "input": "$u", "regex": "(l+)(x)?o" } },
            "fa": { "$regexFindAll": { "input": "$u", "regex": "[a-zé]+" } },
        }),
        project(doc! {
            "idx": { "$regexFind": { "input": "🎉x🎉x", "regex": "x" } },
            "all": { "$regexFindAll": { "input": "🎉x🎉x", "regex": "x" } },
            "caps": { "$regexFindAll": { "input": "a1b22", "regex": "([a-z])([0-9]+)" } },
            "empty_s": { "$regexFindAll": { "input": "", "regex": "x*" } },
            "none": { "$regexFind": { "input": "abc", "regex": "z" } },
            "nulls": { "$regexFind": { "input": null, "regex": "a" } },
            "nullm": { "$regexMatch": { "input": "$missing", "regex": "a" } },
        }),
        project(doc! {
            "m": { "$regexFindAll": { "input": "a\nb\nc", "regex": "^[a-z]$", "options": "m" } },
            "s": { "$regexMatch": { "input": "a\nb", "regex": "a.b", "options": "s" } },
            "x": { "$regexMatch": { "input": "ab", "regex": "a b # comment", "options": "x" } },
            "ri": { "$regexMatch": { "input": "ABC", "regex": regex("b", "i") } },
            "d": { "$regexFind": { "input": "x 42 y", "regex": "\\d+" } },
            "end": { "$regexMatch": { "input": "a\n", "regex": "a$" } },
        }),
        on("s1", bson!({ "$regexMatch": { "input": 1, "regex": "a" } })),
        on("s1", bson!({ "$regexMatch": { "input": "a", "regex": 1 } })),
        on(
            "s1",
            bson!({ "$regexFind": { "input": "a", "regex": "(" } }),
        ),
        on("s1", bson!({ "$regexFind": { "input": "a" } })),
        on(
            "s1",
            bson!({ "$regexFindAll": { "input": "a", "regex": "a", "flags": "i" } }),
        ),
    ];
    cases.push(on("s1", bson!({ "$regexMatch": "a" })));
    let deviations = vec![
        Deviation {
            case: on(
                "s1",
                bson!({ "$replaceOne": { "input": "$i", "find": null, "replacement": "x" } }),
            ),
            manual: "$replaceOne: \"The input, find, and replacement expressions must evaluate to a string or a null, or $replaceOne fails with an error.\"",
            reason: "the server returns null when any argument is null, before checking the others' types",
            expected: Expected::Error,
        },
        Deviation {
            case: on("s1", bson!({ "$trim": { "input": "  a  ", "chars": "" } })),
            manual: "$trim chars: the character(s) to trim; \"If unspecified, $trim removes whitespace characters\"",
            reason: "the server treats an empty chars string as unspecified and trims whitespace",
            expected: Expected::Docs(vec![doc! { "_id": "s1", "r": "  a  " }]),
        },
        Deviation {
            case: on(
                "s1",
                bson!({ "$regexFind": { "input": "a", "regex": regex("a", "i"), "options": "m" } }),
            ),
            manual: "$regexFind: \"You cannot specify options in both the regex and the options field.\"",
            reason: "the server ignores the options field when the regex carries options",
            expected: Expected::Error,
        },
        Deviation {
            case: on(
                "s1",
                bson!({ "$regexFind": { "input": "a", "regex": "a", "options": "q" } }),
            ),
            manual: "$regexFind options: the available options are i, m, x and s",
            reason: "the server ignores unknown option letters",
            expected: Expected::Error,
        },
    ];
    Suite {
        name: "exprs_string",
        docs: string_docs(),
        cases,
        deviations,
    }
}

// ------------------------------------------------------------ conversions

fn convert_docs() -> Vec<Document> {
    let oid = ObjectId::parse_str("5ab9c3da31c2ab715d421285").expect("oid");
    vec![
        with_id(
            "c1",
            doc! {
                "i": 42, "l": 5000_i64, "bigl": 922_337_203_600_i64, "f": 1.99999, "neg": -1.9,
                "half": 2.5, "huge": 1e20, "nan": f64::NAN, "inf": f64::INFINITY,
                "dec": dec("5.5000"), "bigdec": dec("9223372036854775808.0"), "zdec": dec("0"),
                "t": true, "fa": false, "sint": "-2", "sfloat": "2.5", "sexp": "5e10",
                "shex": "0x6400", "sword": "Friday", "sempty": "", "soid": "5ab9cbfa31c2ab715d42129e",
                "sdate": "2018-03-03T12:00:00Z", "oid": oid,
                "dt": date("2018-03-27T05:04:47.890Z"), "old": date("1935-02-22T12:26:40Z"),
                "n": null, "arr": [1], "obj": { "k": 1 },
            },
        ),
        with_id(
            "c2",
            doc! { "i": 0, "f": -0.0, "dec": dec("-7.9"), "sint": "2147483648" },
        ),
        with_id("c3", doc! {}),
    ]
}

/// `$convert` of each listed field to `to`, failures and nulls labelled.
fn convert_all(to: Bson, fields: &[&str]) -> Case {
    let mut projection = Document::new();
    for field in fields {
        projection.insert(
            *field,
            doc! { "$convert": {
                "input": format!("${field}"), "to": to.clone(), "onError": "ERR", "onNull": "NULL",
            } },
        );
    }
    project(projection)
}

fn conversions() -> Suite {
    let numeric = [
        "i", "l", "bigl", "f", "neg", "half", "huge", "nan", "inf", "dec", "bigdec", "zdec", "t",
        "fa", "n", "missing",
    ];
    let strings = [
        "sint", "sfloat", "sexp", "shex", "sword", "sempty", "soid", "sdate",
    ];
    let others = ["oid", "arr", "obj"];
    let mut cases = Vec::new();
    for to in [
        bson!("double"),
        bson!("int"),
        bson!("long"),
        bson!("decimal"),
        bson!("bool"),
        bson!("string"),
        bson!("date"),
        bson!("objectId"),
    ] {
        cases.push(convert_all(to.clone(), &numeric));
        cases.push(convert_all(to.clone(), &strings));
        cases.push(convert_all(to.clone(), &others));
        // Dates to string are a known server deviation.
        if to != bson!("string") {
            cases.push(convert_all(to, &["dt", "old"]));
        }
    }
    cases.extend([
        // Numeric type codes for `to`.
        convert_all(bson!(1), &["i", "sexp"]),
        convert_all(bson!(16), &["f", "sint"]),
        convert_all(bson!(18_i64), &["dt", "t"]),
        convert_all(bson!(8.0), &["i", "sempty"]),
        // The shorthands: null and missing are null; failures are errors.
        project(doc! {
            "d": { "$toDouble": "$i" }, "i": { "$toInt": "$f" }, "l": { "$toLong": "$dt" },
            "dec": { "$toDecimal": "$half" }, "b": { "$toBool": "$sempty" },
            "s": { "$toString": "$dec" }, "dt": { "$toDate": "$l" },
            "o": { "$toObjectId": "$soid" }, "n": { "$toInt": "$n" }, "m": { "$toDate": "$missing" },
        }),
        on("c1", bson!({ "$toInt": "$sfloat" })),
        on("c1", bson!({ "$toInt": "$bigl" })),
        on("c1", bson!({ "$toLong": "$bigdec" })),
        on("c1", bson!({ "$toDouble": "$shex" })),
        on("c1", bson!({ "$toDate": "$sword" })),
        on("c1", bson!({ "$toDate": "$i" })),
        on("c1", bson!({ "$toObjectId": "$sint" })),
        on("c1", bson!({ "$toString": "$arr" })),
        on("c1", bson!({ "$toString": "$dt" })),
        on("c1", bson!({ "$toInt": "$nan" })),
        on("c2", bson!({ "$toInt": "$sint" })),
        project(doc! {
            "dexp": { "$toDecimal": "1.5e3" },
            "dneg": { "$toDecimal": "-0.000" },
            "lmax": { "$convert": { "input": "9223372036854775808", "to": "long", "onError": "ERR" } },
            "lmin": { "$toLong": "-9223372036854775808" },
            "imin": { "$toInt": -2147483648.9 },
            "dnan": { "$convert": { "input": dec("NaN"), "to": "int", "onError": "ERR" } },
            "ohex": { "$toObjectId": "5AB9C3DA31C2AB715D421285" },
            "obad": { "$convert": { "input": "zzzzzzzzzzzzzzzzzzzzzzzz", "to": "objectId", "onError": "ERR" } },
            "bdt": { "$toBool": date("1970-01-01T00:00:00Z") },
            "ddt": { "$toDecimal": date("1969-12-31T23:59:59.999Z") },
            "sdec": { "$toString": dec("-1.50E+10") },
            "sl": { "$toString": i64::MIN },
        }),
        // $toString of doubles: shortest round-trip text.
        project(doc! {
            "a": { "$toString": 0.1 }, "b": { "$toString": 1e15 }, "c": { "$toString": 1e16 },
            "d": { "$toString": 1.5e-5 }, "e": { "$toString": -123.456 }, "f": { "$toString": 3.0 },
            "g": { "$toString": "$f" }, "h": { "$toString": "$huge" },
        }),
        // onNull and onError are expressions, evaluated only when needed.
        project(doc! {
            "n": { "$convert": { "input": "$n", "to": "int", "onNull": { "$concat": ["a", "b"] } } },
            "m": { "$convert": { "input": "$missing", "to": "int" } },
            "e": { "$convert": { "input": "$sword", "to": "int", "onError": "$i" } },
            "ok": { "$convert": { "input": "$sint", "to": "int", "onError": { "$toInt": "x" } } },
        }),
        // A bad `to` is an error even with onError.
        on("c1", bson!({ "$convert": { "input": 1, "to": "integer", "onError": 0 } })),
        on("c1", bson!({ "$convert": { "input": 1, "to": 3.5, "onError": 0 } })),
        on("c1", bson!({ "$convert": { "input": 1, "to": 99, "onError": 0 } })),
        on("c1", bson!({ "$convert": { "input": 1 } })),
        on("c1", bson!({ "$convert": { "to": "int" } })),
        on("c1", bson!({ "$convert": { "input": 1, "to": "int", "extra": 1 } })),
        on("c1", bson!({ "$convert": { "input": "$sword", "to": "int" } })),
    ]);
    let deviations = vec![
        Deviation {
            case: on("c1", bson!({ "$convert": { "input": "$dt", "to": "string" } })),
            manual: "$convert to string: { input: ISODate(\"2018-03-27T16:58:51.538Z\"), to: \"string\" } gives \"2018-03-27T16:58:51.538Z\"",
            reason: "the server prints Python's isoformat (microseconds, no Z)",
            expected: Expected::Docs(vec![doc! { "_id": "c1", "r": "2018-03-27T05:04:47.890Z" }]),
        },
        Deviation {
            case: on("c1", bson!({ "$convert": { "input": "$i", "to": "array", "onError": "ERR" } })),
            manual: "$convert onError: \"The value to return on encountering an error during conversion, including unsupported type conversions.\"",
            reason: "the server refuses a valid type name it has no conversion to instead of returning onError",
            expected: Expected::Docs(vec![doc! { "_id": "c1", "r": "ERR" }]),
        },
        Deviation {
            case: on("c1", bson!({ "$convert": { "input": 1, "to": true } })),
            manual: "$convert to: \"any valid expression that resolves to one of the following numeric or string identifiers\"",
            reason: "the server reads the boolean true as the type code 1 (double)",
            expected: Expected::Error,
        },
    ];
    Suite {
        name: "exprs_convert",
        docs: convert_docs(),
        cases,
        deviations,
    }
}

// ------------------------------------------------------------------ dates

fn date_docs() -> Vec<Document> {
    let oid = ObjectId::parse_str("5ab9c3da31c2ab715d421285").expect("oid");
    vec![
        with_id("d01", doc! { "d": date("2014-01-01T08:15:39.736Z") }),
        with_id("d02", doc! { "d": date("1969-07-20T20:17:40.123Z") }),
        with_id("d03", doc! { "d": date("2020-02-29T23:59:59.999Z") }),
        // New York's spring-forward change: 01:59:59 EST, then 03:00 EDT.
        with_id("d04", doc! { "d": date("2021-03-14T06:59:59Z") }),
        with_id("d05", doc! { "d": date("2021-03-14T07:00:00Z") }),
        // The fall-back change: 01:30 EDT, then 01:30 EST.
        with_id("d06", doc! { "d": date("2021-11-07T05:30:00Z") }),
        with_id("d07", doc! { "d": date("2021-11-07T06:30:00Z") }),
        // ISO week edges: a Friday in week 53 of 2015, a Monday in week 1 of 2009.
        with_id("d08", doc! { "d": date("2016-01-01T00:00:00Z") }),
        with_id("d09", doc! { "d": date("2008-12-29T12:00:00Z") }),
        with_id("d10", doc! { "d": date("2010-01-03T23:00:00Z") }),
        with_id("d11", doc! { "d": date("1900-03-01T00:00:00Z") }),
        with_id("d12", doc! { "d": date("1600-12-31T23:59:59Z") }),
        with_id("d13", doc! { "d": null }),
        with_id("d14", doc! { "x": 1 }),
        with_id("d15", doc! { "d": oid }),
        with_id(
            "d16",
            doc! { "d": Timestamp { time: 1_500_000_000, increment: 7 } },
        ),
        with_id("d17", doc! { "d": date("2021-07-01T12:00:00Z") }),
    ]
}

/// The zones most date cases are run in: none, fixed offsets in every
/// spelling, and Olson zones on both hemispheres.
const ZONES: [(&str, &str); 8] = [
    ("ny", "America/New_York"),
    ("lon", "Europe/London"),
    ("syd", "Australia/Sydney"),
    ("kol", "Asia/Kolkata"),
    ("p0530", "+05:30"),
    ("m0800", "-0800"),
    ("utc", "UTC"),
    ("gmt", "GMT"),
];

/// `{op: "$d"}` and `{op: {date: "$d", timezone}}` for every zone.
fn extract(op: &str) -> Case {
    let mut fields = doc! { "plain": { op: "$d" } };
    for (name, zone) in ZONES {
        fields.insert(name, doc! { op: { "date": "$d", "timezone": zone } });
    }
    // Dates only: the timestamp and ObjectId documents are separate cases.
    agg(vec![
        doc! { "$match": { "_id": { "$nin": ["d15", "d16"] } } },
        doc! { "$project": fields },
    ])
}

/// `$dateToString` with `format` in every zone, over the dates (not the
/// ObjectId and timestamp documents) except `skip`.
fn format_in_zones(format: &str, skip: &[&str]) -> Case {
    let mut fields = doc! { "plain": { "$dateToString": { "date": "$d", "format": format } } };
    for (name, zone) in ZONES {
        fields.insert(
            name,
            doc! { "$dateToString": { "date": "$d", "format": format, "timezone": zone } },
        );
    }
    let mut excluded = vec!["d15", "d16"];
    excluded.extend_from_slice(skip);
    agg(vec![
        doc! { "$match": { "_id": { "$nin": excluded } } },
        doc! { "$project": fields },
    ])
}

/// `{$project: fields}` over the documents holding dates (not the ObjectId
/// and timestamp ones, which the test server refuses in date arithmetic).
fn project_dates(fields: Document) -> Case {
    agg(vec![
        doc! { "$match": { "_id": { "$nin": ["d15", "d16"] } } },
        doc! { "$project": fields },
    ])
}

fn dates() -> Suite {
    let mut cases = Vec::new();
    for op in [
        "$year",
        "$month",
        "$dayOfMonth",
        "$hour",
        "$minute",
        "$second",
        "$millisecond",
        "$dayOfYear",
        "$dayOfWeek",
        "$week",
        "$isoWeek",
        "$isoDayOfWeek",
    ] {
        cases.push(extract(op));
    }
    cases.extend([
        // Timestamps and ObjectIds stand for their seconds.
        agg(vec![
            doc! { "$match": { "_id": { "$in": ["d15", "d16"] } } },
            doc! { "$project": {
                "y": { "$year": "$d" }, "h": { "$hour": { "date": "$d", "timezone": "+0300" } },
                "ms": { "$millisecond": "$d" }, "s": { "$dateToString": { "date": "$d" } },
            } },
        ]),
        on("d01", bson!({ "$year": ["$d"] })),
        on("d01", bson!({ "$year": "2014-01-01" })),
        on("d01", bson!({ "$year": 2014 })),
        on("d01", bson!({ "$year": ["$d", "$d"] })),
        on("d01", bson!({ "$year": { "date": "$d", "timezone": "Mars/Base" } })),
        on("d01", bson!({ "$year": { "date": "$d", "timezone": "america/new_york" } })),
        on("d01", bson!({ "$year": { "date": "$d", "timezone": 5 } })),
        on("d01", bson!({ "$year": { "date": "$d", "zone": "UTC" } })),
        on("d01", bson!({ "$year": { "timezone": "UTC" } })),
        // $dateToString.
        format_in_zones("%Y-%m-%d %H:%M:%S.%L", &[]),
        format_in_zones("%j %w %u %U %V %G", &[]),
        // 1600 is in local mean time, whose offsets have seconds (New
        // York's is -4:56:02); see the report on rounding them.
        format_in_zones("%z %Z %% %d/%m %b %B", &["d12"]),
        p(bson!({ "$dateToString": { "date": "$d" } })),
        project(doc! {
            "off": { "$dateToString": { "date": "$d", "timezone": "+00:00" } },
        }),
        on("d01", bson!({ "$dateToString": { "date": "$d", "format": "%Q" } })),
        on("d01", bson!({ "$dateToString": { "date": "$d", "format": "50%" } })),
        on("d01", bson!({ "$dateToString": { "date": "$d", "format": 5 } })),
        on("d01", bson!({ "$dateToString": { "format": "%Y" } })),
        on("d01", bson!({ "$dateToString": { "date": "$d", "bogus": 1 } })),
        on("d01", bson!({ "$dateToString": { "date": "2014", "format": "%Y" } })),
        // $dateFromString.
        project(doc! {
            "iso": { "$dateFromString": { "dateString": "2017-02-08T12:10:40.787Z" } },
            "local": { "$dateFromString": { "dateString": "2017-02-08T12:10:40.787" } },
            "day": { "$dateFromString": { "dateString": "2017-02-08" } },
            "off": { "$dateFromString": { "dateString": "2017-02-08T12:10:40+05:30" } },
            "off2": { "$dateFromString": { "dateString": "2018-03-20 11:00:06 +0500" } },
            "old": { "$dateFromString": { "dateString": "1960-02-29T23:59:59.5Z" } },
            "slash": { "$dateFromString": { "dateString": "2017/02/08" } },
        }),
        project(doc! {
            "ny": { "$dateFromString": {
                "dateString": "2017-07-04T12:00:00", "timezone": "America/New_York" } },
            "gap": { "$dateFromString": {
                "dateString": "2021-03-14T02:30:00", "timezone": "America/New_York" } },
            "fold": { "$dateFromString": {
                "dateString": "2021-11-07T01:30:00", "timezone": "America/New_York" } },
            "fixed": { "$dateFromString": { "dateString": "2017-07-04T12:00:00", "timezone": "-0800" } },
        }),
        project(doc! {
            "dmy": { "$dateFromString": { "dateString": "15-06-2018", "format": "%d-%m-%Y" } },
            "hm": { "$dateFromString": {
                "dateString": "2018/06/15 07:05:09.123", "format": "%Y/%m/%d %H:%M:%S.%L" } },
            "z": { "$dateFromString": { "dateString": "2018-06-15 +0530", "format": "%Y-%m-%d %z" } },
            "pct": { "$dateFromString": { "dateString": "2018%06%15", "format": "%Y%%%m%%%d" } },
        }),
        project(doc! {
            "err": { "$dateFromString": { "dateString": "not a date", "onError": "bad" } },
            "num": { "$dateFromString": { "dateString": 5, "onError": "bad" } },
            "fmt": { "$dateFromString": {
                "dateString": "2018-06-15", "format": "%d/%m/%Y", "onError": "bad" } },
            "inv": { "$dateFromString": { "dateString": "2018-02-30", "onError": "bad" } },
            "null": { "$dateFromString": { "dateString": null, "onNull": "none" } },
            "miss": { "$dateFromString": { "dateString": "$missing" } },
            "tzn": { "$dateFromString": { "dateString": "2018-06-15", "timezone": null } },
        }),
        project(doc! {
            "iso": { "$dateFromString": { "dateString": "2018-W24-5", "format": "%G-W%V-%u" } },
            "mins": { "$dateFromString": { "dateString": "2018-06-15 12:00 -300", "format": "%Y-%m-%d %H:%M %Z" } },
            "utcz": { "$dateFromString": { "dateString": "2018-06-15T12:00:00.5+0000" } },
            "short": { "$dateFromString": { "dateString": "2018-6-5", "format": "%Y-%m-%d" } },
            "round": { "$dateFromString": { "dateString": { "$dateToString": { "date": "$d", "format": "%Y-%m-%dT%H:%M:%S.%L" } }, "format": "%Y-%m-%dT%H:%M:%S.%L" } },
        }),
        on("d01", bson!({ "$dateFromString": { "dateString": "2018-06-15T00:00:00Z", "timezone": "Europe/London" } })),
        on("d01", bson!({ "$dateFromString": { "dateString": "2018-06-15", "timezone": "Nowhere", "onError": 1 } })),
        on("d01", bson!({ "$dateFromString": { "dateString": "2018-06-15", "format": "%Q", "onError": 1 } })),
        on("d01", bson!({ "$dateFromString": { "dateString": "2018-06-15", "format": 7 } })),
        on("d01", bson!({ "$dateFromString": { "dateString": "nope" } })),
        on("d01", bson!({ "$dateFromString": { "format": "%Y" } })),
        // $dateFromParts: out-of-range parts carry.
        project(doc! {
            "a": { "$dateFromParts": { "year": 2017, "month": 14, "day": 1, "hour": 12 } },
            "b": { "$dateFromParts": { "year": 2017, "month": 0, "day": 1, "hour": 12 } },
            "c": { "$dateFromParts": { "year": 2017, "month": 2, "day": 30, "hour": 25, "minute": -1 } },
            "d": { "$dateFromParts": { "year": 2016, "month": 12, "day": 31, "hour": 23,
                   "minute": 46, "second": 12, "timezone": "America/New_York" } },
            "e": { "$dateFromParts": { "year": 1960, "millisecond": 1500 } },
            "f": { "$dateFromParts": { "year": 2017.0, "month": 3_i64, "day": dec("4") } },
        }),
        project(doc! {
            "iso": { "$dateFromParts": { "isoWeekYear": 2017, "isoWeek": 6, "isoDayOfWeek": 3, "hour": 12 } },
            "iso1": { "$dateFromParts": { "isoWeekYear": 2009 } },
            "iso53": { "$dateFromParts": { "isoWeekYear": 2015, "isoWeek": 53, "isoDayOfWeek": 7 } },
            "gap": { "$dateFromParts": { "year": 2021, "month": 3, "day": 14, "hour": 2, "minute": 30,
                     "timezone": "America/New_York" } },
            "off": { "$dateFromParts": { "year": 2021, "month": 1, "day": 1, "timezone": "+05:30" } },
            "nul": { "$dateFromParts": { "year": 2021, "day": null } },
        }),
        on("d01", bson!({ "$dateFromParts": { "year": 10000 } })),
        on("d01", bson!({ "$dateFromParts": { "year": 0 } })),
        on("d01", bson!({ "$dateFromParts": { "year": 2017, "month": 1.5 } })),
        on("d01", bson!({ "$dateFromParts": { "year": 2017, "month": "1" } })),
        on("d01", bson!({ "$dateFromParts": { "year": 2017, "isoWeek": 1 } })),
        on("d01", bson!({ "$dateFromParts": { "month": 1 } })),
        on("d01", bson!({ "$dateFromParts": { "year": 2017, "day": 40000 } })),
        on("d01", bson!({ "$dateFromParts": { "year": 2017, "bogus": 1 } })),
        // $dateToParts.
        project(doc! {
            "utc": { "$dateToParts": { "date": "$d" } },
            "ny": { "$dateToParts": { "date": "$d", "timezone": "America/New_York" } },
            "iso": { "$dateToParts": { "date": "$d", "iso8601": true } },
            "isosyd": { "$dateToParts": { "date": "$d", "timezone": "Australia/Sydney", "iso8601": true } },
            "f": { "$dateToParts": { "date": "$d", "iso8601": false } },
        }),
        on("d01", bson!({ "$dateToParts": { "date": 1 } })),
        on("d01", bson!({ "$dateToParts": { "timezone": "UTC" } })),
        // $dateAdd / $dateSubtract.
        project_dates(doc! {
            "day": { "$dateAdd": { "startDate": "$d", "unit": "day", "amount": 1 } },
            "dayny": { "$dateAdd": { "startDate": "$d", "unit": "day", "amount": 1, "timezone": "America/New_York" } },
            "hourny": { "$dateAdd": { "startDate": "$d", "unit": "hour", "amount": 1, "timezone": "America/New_York" } },
            "month": { "$dateAdd": { "startDate": "$d", "unit": "month", "amount": 1 } },
            "year": { "$dateAdd": { "startDate": "$d", "unit": "year", "amount": -1 } },
            "q": { "$dateAdd": { "startDate": "$d", "unit": "quarter", "amount": 3 } },
            "w": { "$dateSubtract": { "startDate": "$d", "unit": "week", "amount": 2 } },
            "ms": { "$dateSubtract": { "startDate": "$d", "unit": "millisecond", "amount": 1500 } },
            "msyd": { "$dateAdd": { "startDate": "$d", "unit": "month", "amount": 5, "timezone": "Australia/Sydney" } },
        }),
        project(doc! {
            "eom": { "$dateAdd": { "startDate": date("2021-01-31T10:00:00Z"), "unit": "month", "amount": 1 } },
            "leap": { "$dateAdd": { "startDate": date("2020-02-29T10:00:00Z"), "unit": "year", "amount": 4 } },
            "leap1": { "$dateAdd": { "startDate": date("2020-02-29T10:00:00Z"), "unit": "year", "amount": 1 } },
            "sub": { "$dateSubtract": { "startDate": date("2021-03-31T00:00:00Z"), "unit": "month", "amount": 1 } },
            "n1": { "$dateAdd": { "startDate": null, "unit": "day", "amount": 1 } },
            "n2": { "$dateAdd": { "startDate": date("2021-03-31T00:00:00Z"), "unit": "day", "amount": "$missing" } },
            "dbl": { "$dateAdd": { "startDate": date("2021-03-31T00:00:00Z"), "unit": "minute", "amount": 90.0 } },
        }),
        project_dates(doc! {
            "foldday": { "$dateAdd": { "startDate": "$d", "unit": "day", "amount": -1, "timezone": "America/New_York" } },
            "gapmonth": { "$dateSubtract": { "startDate": "$d", "unit": "month", "amount": 8, "timezone": "America/New_York" } },
            "lonweek": { "$dateAdd": { "startDate": "$d", "unit": "week", "amount": 30, "timezone": "Europe/London" } },
            "kolmin": { "$dateAdd": { "startDate": "$d", "unit": "minute", "amount": 30, "timezone": "Asia/Kolkata" } },
            "offyear": { "$dateAdd": { "startDate": "$d", "unit": "year", "amount": 1, "timezone": "-0800" } },
        }),
        on("d01", bson!({ "$dateAdd": { "startDate": "$d", "unit": "day", "amount": 1.5 } })),
        on("d01", bson!({ "$dateAdd": { "startDate": "$d", "unit": "days", "amount": 1 } })),
        on("d01", bson!({ "$dateAdd": { "startDate": "$d", "unit": 1, "amount": 1 } })),
        on("d01", bson!({ "$dateAdd": { "startDate": "2021-01-01", "unit": "day", "amount": 1 } })),
        on("d01", bson!({ "$dateAdd": { "startDate": "$d", "unit": "year", "amount": 1_000_000_000_i64 } })),
        on("d01", bson!({ "$dateAdd": { "startDate": "$d", "unit": "day" } })),
        on("d01", bson!({ "$dateSubtract": { "startDate": "$d", "unit": "day", "amount": true } })),
        // $dateDiff.
        project_dates(doc! {
            "y": { "$dateDiff": { "startDate": "$d", "endDate": date("2021-07-01T00:00:00Z"), "unit": "year" } },
            "q": { "$dateDiff": { "startDate": "$d", "endDate": date("2021-07-01T00:00:00Z"), "unit": "quarter" } },
            "mo": { "$dateDiff": { "startDate": "$d", "endDate": date("2021-07-01T00:00:00Z"), "unit": "month" } },
            "w": { "$dateDiff": { "startDate": "$d", "endDate": date("2021-07-01T00:00:00Z"), "unit": "week" } },
            "wm": { "$dateDiff": { "startDate": "$d", "endDate": date("2021-07-01T00:00:00Z"), "unit": "week", "startOfWeek": "mon" } },
            "d": { "$dateDiff": { "startDate": "$d", "endDate": date("2021-07-01T00:00:00Z"), "unit": "day" } },
            "h": { "$dateDiff": { "startDate": "$d", "endDate": date("2021-07-01T00:00:00Z"), "unit": "hour" } },
            "mi": { "$dateDiff": { "startDate": "$d", "endDate": date("2021-07-01T00:00:00Z"), "unit": "minute" } },
            "s": { "$dateDiff": { "startDate": "$d", "endDate": date("2021-07-01T00:00:00Z"), "unit": "second" } },
            "ms": { "$dateDiff": { "startDate": "$d", "endDate": date("2021-07-01T00:00:00Z"), "unit": "millisecond" } },
        }),
        project_dates(doc! {
            "dny": { "$dateDiff": { "startDate": date("2021-11-06T04:00:00Z"), "endDate": "$d", "unit": "day", "timezone": "America/New_York" } },
            "hny": { "$dateDiff": { "startDate": date("2021-11-06T04:00:00Z"), "endDate": "$d", "unit": "hour", "timezone": "America/New_York" } },
            "hkol": { "$dateDiff": { "startDate": date("2021-11-06T04:00:00Z"), "endDate": "$d", "unit": "hour", "timezone": "Asia/Kolkata" } },
            "wsun": { "$dateDiff": { "startDate": date("2021-01-02T00:00:00Z"), "endDate": "$d", "unit": "week", "startOfWeek": "SUNDAY" } },
            "rev": { "$dateDiff": { "startDate": "$d", "endDate": date("1970-01-01T00:00:00Z"), "unit": "day" } },
        }),
        on("d01", bson!({ "$dateDiff": { "startDate": 1, "endDate": "$d", "unit": "day" } })),
        on("d01", bson!({ "$dateDiff": { "startDate": "$d", "endDate": "$d", "unit": "fortnight" } })),
        on("d01", bson!({ "$dateDiff": { "startDate": "$d", "endDate": "$d", "unit": "week", "startOfWeek": "someday" } })),
        on("d01", bson!({ "$dateDiff": { "startDate": "$d", "endDate": "$d" } })),
        // $dateTrunc.
        project_dates(doc! {
            "y": { "$dateTrunc": { "date": "$d", "unit": "year" } },
            "y5": { "$dateTrunc": { "date": "$d", "unit": "year", "binSize": 5 } },
            "q": { "$dateTrunc": { "date": "$d", "unit": "quarter" } },
            "mo": { "$dateTrunc": { "date": "$d", "unit": "month", "binSize": 6 } },
            "w": { "$dateTrunc": { "date": "$d", "unit": "week" } },
            "wm": { "$dateTrunc": { "date": "$d", "unit": "week", "startOfWeek": "Monday" } },
            "d": { "$dateTrunc": { "date": "$d", "unit": "day", "binSize": 3 } },
            "h": { "$dateTrunc": { "date": "$d", "unit": "hour", "binSize": 5 } },
            "mi": { "$dateTrunc": { "date": "$d", "unit": "minute", "binSize": 15 } },
            "s": { "$dateTrunc": { "date": "$d", "unit": "second" } },
            "ms": { "$dateTrunc": { "date": "$d", "unit": "millisecond", "binSize": 100 } },
        }),
        project_dates(doc! {
            "dny": { "$dateTrunc": { "date": "$d", "unit": "day", "timezone": "America/New_York" } },
            "hkol": { "$dateTrunc": { "date": "$d", "unit": "hour", "timezone": "Asia/Kolkata" } },
            "hoff": { "$dateTrunc": { "date": "$d", "unit": "hour", "timezone": "+05:30" } },
            "msyd": { "$dateTrunc": { "date": "$d", "unit": "month", "timezone": "Australia/Sydney" } },
            "wlon": { "$dateTrunc": { "date": "$d", "unit": "week", "timezone": "Europe/London" } },
        }),
        project_dates(doc! {
            "qsyd": { "$dateTrunc": { "date": "$d", "unit": "quarter", "timezone": "Australia/Sydney" } },
            "ysyd": { "$dateTrunc": { "date": "$d", "unit": "year", "binSize": 2, "timezone": "Australia/Sydney" } },
            "wny": { "$dateTrunc": { "date": "$d", "unit": "week", "binSize": 2, "timezone": "America/New_York", "startOfWeek": "wed" } },
            "hny": { "$dateTrunc": { "date": "$d", "unit": "hour", "binSize": 3, "timezone": "America/New_York" } },
            "dlong": { "$dateTrunc": { "date": "$d", "unit": "day", "binSize": 10_i64 } },
        }),
        on("d01", bson!({ "$dateTrunc": { "date": "$d", "unit": "day", "binSize": 0 } })),
        on("d01", bson!({ "$dateTrunc": { "date": "$d", "unit": "day", "binSize": 1.5 } })),
        on("d01", bson!({ "$dateTrunc": { "date": "$d", "unit": "decade" } })),
        on("d01", bson!({ "$dateTrunc": { "date": "x", "unit": "day" } })),
        on("d01", bson!({ "$dateTrunc": { "unit": "day" } })),
    ]);
    Suite {
        name: "exprs_date",
        docs: date_docs(),
        cases,
        deviations: date_deviations(),
    }
}

/// Where the test server contradicts the manual on dates.
fn date_deviations() -> Vec<Deviation> {
    vec![
        Deviation {
            case: on("d01", bson!({ "$hour": { "date": "$d", "timezone": "+03" } })),
            manual: "timezone: a UTC offset in the form +/-[hh]:[mm], +/-[hh][mm], or +/-[hh], e.g. \"+03\"",
            reason: "the server only reads four-digit offsets",
            expected: Expected::Docs(vec![doc! { "_id": "d01", "r": 11 }]),
        },
        Deviation {
            case: on("d01", bson!({ "$dateToString": { "date": "$d", "timezone": "$tz" } })),
            manual: "$dateToString timezone: <tzExpression> must be a valid expression that resolves to a string",
            reason: "the server reads the timezone literally instead of evaluating it (\"$tz\" is missing here: null)",
            expected: Expected::Docs(vec![doc! { "_id": "d01", "r": null }]),
        },
        Deviation {
            case: on(
                "d01",
                bson!({ "$dateFromString": { "dateString": "2018-060", "format": "%Y-%j" } }),
            ),
            manual: "$dateFromString format %j: Day of year (3 digits, zero padded), 001-366",
            reason: "the server (like its date library) counts %j from 000 when parsing",
            expected: Expected::Docs(vec![doc! { "_id": "d01", "r": date("2018-03-01T00:00:00Z") }]),
        },
        Deviation {
            case: on("d15", bson!({ "$dateAdd": { "startDate": "$d", "unit": "hour", "amount": 1 } })),
            manual: "$dateAdd startDate: any expression that resolves to a Date, a Timestamp, or an ObjectID",
            reason: "the server only accepts a date",
            expected: Expected::Docs(vec![doc! { "_id": "d15", "r": date("2018-03-27T05:08:58Z") }]),
        },
        Deviation {
            case: on("d16", bson!({ "$dateTrunc": { "date": "$d", "unit": "day" } })),
            manual: "$dateTrunc date: any expression that resolves to a Date, a Timestamp, or an ObjectID",
            reason: "the server only accepts a date",
            expected: Expected::Docs(vec![doc! { "_id": "d16", "r": date("2017-07-14T00:00:00Z") }]),
        },
        Deviation {
            case: on(
                "d15",
                bson!({ "$dateDiff": { "startDate": "$d", "endDate": date("2018-03-28T00:00:00Z"), "unit": "day" } }),
            ),
            manual: "$dateDiff startDate: any expression that resolves to a Date, a Timestamp, or an ObjectID",
            reason: "the server only accepts dates",
            expected: Expected::Docs(vec![doc! { "_id": "d15", "r": 1_i64 }]),
        },
        Deviation {
            case: on(
                "d13",
                bson!({ "$dateToString": { "date": "$d", "format": "%Y", "onNull": "none" } }),
            ),
            manual: "$dateToString onNull: the value to return if the date is null or missing",
            reason: "the server ignores onNull",
            expected: Expected::Docs(vec![doc! { "_id": "d13", "r": "none" }]),
        },
        Deviation {
            case: on(
                "d01",
                bson!({ "$dateToString": { "date": "$d", "timezone": "America/New_York" } }),
            ),
            manual: "$dateToString format: if unspecified and the timezone is a non UTC timezone, $dateToString uses \"%Y-%m-%dT%H:%M:%S.%L\" as the default format",
            reason: "the server always appends Z, though the time is not UTC",
            expected: Expected::Docs(vec![doc! { "_id": "d01", "r": "2014-01-01T03:15:39.736" }]),
        },
        Deviation {
            case: on(
                "d01",
                bson!({ "$dateSubtract": { "startDate": "$d", "unit": "second", "amount": dec("5") } }),
            ),
            manual: "$dateSubtract amount: can also resolve to an integral decimal or a double if that value can be converted to a long without loss of precision",
            reason: "the server refuses a whole decimal",
            expected: Expected::Docs(vec![doc! { "_id": "d01", "r": date("2014-01-01T08:15:34.736Z") }]),
        },
        Deviation {
            case: on("d01", bson!({ "$dateTrunc": { "date": "$d", "unit": null } })),
            manual: "$dateTrunc returns null if any of the input fields except startOfWeek is missing or set to null",
            reason: "the server refuses a null unit",
            expected: Expected::Docs(vec![doc! { "_id": "d01", "r": null }]),
        },
        Deviation {
            case: on("d08", bson!({ "$isoWeekYear": "$d" })),
            manual: "$isoWeekYear: Returns the year number in ISO 8601 format (the manual does not name the type)",
            reason: "the server returns an int; MongoDB's $isoWeekYear returns its date library's 64-bit ISO year as a long",
            expected: Expected::Docs(vec![doc! { "_id": "d08", "r": 2015_i64 }]),
        },
    ]
}
