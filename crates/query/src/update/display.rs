//! Renders BSON values the way the server's error messages do
//! (`{a: [ 1, 2 ]}`, `"x"`, `5.0`, `ObjectId('…')`), so our errors read the
//! same as the server's.

use std::fmt::Write;

use bson::{Bson, Document};

/// A value as the server prints it inside error messages.
pub(crate) fn value(v: &Bson) -> String {
    let mut out = String::new();
    write_value(v, &mut out, 0);
    out
}

/// An element as the server prints it: `{name: value}`.
pub(crate) fn element(name: &str, v: &Bson) -> String {
    format!("{{{name}: {}}}", value(v))
}

/// The `_id` part of a message: `_id: 1`, or `no id` when the document has none.
pub(crate) fn id_of(doc: &Document) -> String {
    match doc.get("_id") {
        Some(id) => format!("_id: {}", value(id)),
        None => "no id".to_string(),
    }
}

/// The server's name for a value's type, as in "of non-numeric type string".
pub(crate) fn type_name(v: &Bson) -> &'static str {
    crate::expr::type_name(Some(v))
}

/// Nesting beyond this is elided, so hostile documents cannot make error
/// rendering recurse without bound.
const MAX_DEPTH: usize = 100;

/// Appends `v` at nesting `depth`.
fn write_value(v: &Bson, out: &mut String, depth: usize) {
    if depth > MAX_DEPTH {
        out.push_str("...");
        return;
    }
    match v {
        Bson::Double(f) => out.push_str(&double(*f)),
        Bson::String(s) | Bson::Symbol(s) => {
            let _ = write!(out, "\"{s}\"");
        }
        Bson::Document(d) => write_document(d, out, depth),
        Bson::Array(items) => write_array(items, out, depth),
        Bson::Binary(b) => {
            let _ = write!(out, "BinData({}, ", u8::from(b.subtype));
            for byte in &b.bytes {
                let _ = write!(out, "{byte:02X}");
            }
            out.push(')');
        }
        Bson::Undefined => out.push_str("undefined"),
        Bson::ObjectId(o) => {
            let _ = write!(out, "ObjectId('{}')", o.to_hex());
        }
        Bson::Boolean(b) => {
            let _ = write!(out, "{b}");
        }
        Bson::DateTime(d) => {
            let _ = write!(out, "new Date({})", d.timestamp_millis());
        }
        Bson::Null => out.push_str("null"),
        Bson::RegularExpression(r) => {
            let _ = write!(out, "/{}/{}", r.pattern.as_str(), r.options.as_str());
        }
        Bson::JavaScriptCode(c) => out.push_str(c),
        Bson::JavaScriptCodeWithScope(c) => out.push_str(&c.code),
        Bson::Int32(i) => {
            let _ = write!(out, "{i}");
        }
        Bson::Int64(i) => {
            let _ = write!(out, "{i}");
        }
        Bson::Timestamp(t) => {
            let _ = write!(out, "Timestamp({}, {})", t.time, t.increment);
        }
        Bson::Decimal128(d) => {
            let _ = write!(out, "{d}");
        }
        Bson::MinKey => out.push_str("MinKey"),
        Bson::MaxKey => out.push_str("MaxKey"),
        Bson::DbPointer(_) => out.push_str("DBPointer"),
    }
}

/// Appends `{a: 1, b: 2}`.
fn write_document(d: &Document, out: &mut String, depth: usize) {
    out.push('{');
    for (i, (k, v)) in d.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(k);
        out.push_str(": ");
        write_value(v, out, depth + 1);
    }
    out.push('}');
}

/// Appends `[ 1, 2 ]`, or `[]` when empty.
fn write_array(items: &[Bson], out: &mut String, depth: usize) {
    if items.is_empty() {
        out.push_str("[]");
        return;
    }
    out.push_str("[ ");
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_value(v, out, depth + 1);
    }
    out.push_str(" ]");
}

/// Doubles print like the server: `5.0`, `1.5`, `1e+20`, `1e-07`, `nan`, `inf`.
fn double(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let magnitude = f.abs();
    if magnitude != 0.0 && !(1e-4..1e16).contains(&magnitude) {
        // Rust prints `1e20` / `1e-7`; the server pads the exponent: `1e+20`, `1e-07`.
        let text = format!("{f:e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let (sign, digits) = match exponent.strip_prefix('-') {
            Some(rest) => ('-', rest),
            None => ('+', exponent),
        };
        return format!("{mantissa}e{sign}{digits:0>2}");
    }
    let text = format!("{f}");
    if text.contains('.') {
        text
    } else {
        format!("{text}.0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::{doc, oid::ObjectId};

    // Every expectation below was read off the server's error messages.
    #[test]
    fn renders_like_the_server() {
        assert_eq!(element("a", &Bson::Int32(1)), "{a: 1}");
        assert_eq!(element("a", &Bson::Int64(5)), "{a: 5}");
        assert_eq!(value(&Bson::Double(1.5)), "1.5");
        assert_eq!(value(&Bson::Double(5.0)), "5.0");
        assert_eq!(value(&Bson::Double(1e20)), "1e+20");
        assert_eq!(value(&Bson::Double(1e-7)), "1e-07");
        assert_eq!(value(&Bson::Double(f64::NAN)), "nan");
        assert_eq!(value(&Bson::Double(f64::INFINITY)), "inf");
        assert_eq!(value(&Bson::Double(-0.0)), "-0.0");
        assert_eq!(value(&Bson::String("str\"q".into())), "\"str\"q\"");
        assert_eq!(value(&Bson::Null), "null");
        assert_eq!(value(&Bson::Boolean(true)), "true");
        assert_eq!(value(&Bson::Array(vec![])), "[]");
        let nested = Bson::Array(vec![Bson::Int32(1), Bson::Array(vec![Bson::Int32(2)])]);
        assert_eq!(value(&nested), "[ 1, [ 2 ] ]");
        assert_eq!(value(&Bson::Document(doc! {"x": 1})), "{x: 1}");
        let oid = ObjectId::parse_str("5f0000000000000000000000").unwrap();
        assert_eq!(
            value(&Bson::ObjectId(oid)),
            "ObjectId('5f0000000000000000000000')"
        );
        let date = bson::DateTime::from_millis(1577836800000);
        assert_eq!(value(&Bson::DateTime(date)), "new Date(1577836800000)");
        let ts = bson::Timestamp {
            time: 1,
            increment: 2,
        };
        assert_eq!(value(&Bson::Timestamp(ts)), "Timestamp(1, 2)");
        assert_eq!(value(&Bson::MinKey), "MinKey");
        assert_eq!(id_of(&doc! {"_id": 1}), "_id: 1");
        assert_eq!(id_of(&doc! {}), "no id");
    }
}
