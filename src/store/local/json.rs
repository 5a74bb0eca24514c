//! Relaxed Extended JSON text of a run document.
//!
//! The bson crate's `into_relaxed_extjson` builds a `serde_json::Value` tree
//! (a map per document, a string per key) that is then printed: a third of
//! a flush's instructions went there. This walks the document and prints
//! as it goes, producing the same text byte for byte (numbers and strings
//! go through serde_json's own printer; the rare BSON types through the
//! bson crate's conversion). It walks the decoded document, not the BSON
//! bytes: reading raw BSON checks every key's UTF-8 again, which cost more
//! than the printing.

use bson::{Bson, Document};

/// The relaxed Extended JSON text of a document.
pub(super) fn relaxed(doc: &Document) -> String {
    let mut out = Vec::with_capacity(4096);
    document(doc, &mut out);
    // Only valid UTF-8 is ever written: keys and strings are Rust strings,
    // the rest comes from serde_json.
    String::from_utf8(out)
        .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned())
}

fn document(doc: &Document, out: &mut Vec<u8>) {
    out.push(b'{');
    for (i, (key, value)) in doc.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(key, out);
        out.push(b':');
        value_of(value, out);
    }
    out.push(b'}');
}

fn value_of(value: &Bson, out: &mut Vec<u8>) {
    match value {
        Bson::Double(x) if x.is_finite() => number(x, out),
        Bson::String(s) => string(s, out),
        Bson::Document(d) => document(d, out),
        Bson::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                value_of(item, out);
            }
            out.push(b']');
        }
        Bson::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Bson::Null => out.extend_from_slice(b"null"),
        Bson::Int32(i) => number(i, out),
        Bson::Int64(i) => number(i, out),
        // NaN, infinities, dates, ids, binaries, decimals, …: the bson
        // crate's own conversion, so the text stays exactly the same.
        other => {
            // Writing into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, &other.clone().into_relaxed_extjson());
        }
    }
}

fn number<T: serde::Serialize>(value: &T, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

fn string(s: &str, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;

    fn same_as_bson(doc: bson::Document) {
        let ours = relaxed(&doc);
        let theirs = Bson::Document(doc).into_relaxed_extjson().to_string();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn the_text_is_the_bson_crates_byte_for_byte() {
        same_as_bson(doc! {
            "_id": "r\"1\n\u{e9}",
            "f": 0.9, "one": 1.0, "big": 1e300, "tiny": -5e-324, "negzero": -0.0,
            "nan": f64::NAN, "inf": f64::NEG_INFINITY,
            "i": 3, "l": i64::MIN, "t": true, "n": Bson::Null,
            "nested": { "a": [1, "x", { "b": [] }, []], "empty": {} },
            "date": bson::DateTime::from_millis(1_700_000_000_123),
            "old": bson::DateTime::from_millis(-1),
            "oid": bson::oid::ObjectId::from_bytes([1; 12]),
            "dec": "1.50".parse::<bson::Decimal128>().unwrap(),
            "bin": bson::Binary { subtype: bson::spec::BinarySubtype::Generic, bytes: vec![0, 255] },
            "re": bson::Regex { pattern: "^a".try_into().unwrap(), options: "mi".try_into().unwrap() },
            "ts": bson::Timestamp { time: 1, increment: 2 },
        });
    }

    proptest::proptest! {
        #[test]
        fn any_numbers_and_strings_print_alike(
            x in proptest::num::f64::ANY, i in proptest::num::i64::ANY, s in ".{0,12}",
        ) {
            same_as_bson(doc! { "x": x, "i": i, "s": s.clone(), "a": [x, s] });
        }
    }
}
