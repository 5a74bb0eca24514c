//! MongoDB's total order over BSON values.
//!
//! Values of different types compare by their *type bracket* first (MinKey <
//! null < numbers < strings < documents < arrays < binary < ObjectId < bool <
//! date < timestamp < regex < … < MaxKey); numbers of every width compare by
//! value, so `1_i32 == 1_i64 == 1.0`. This is the order `$sort`, `$gt` & co,
//! `$min`/`$max` and group keys all share, so it lives in one place.

use std::cmp::Ordering;

use bson::spec::ElementType;
use bson::{Bson, Decimal128, Document};

/// The canonical type bracket of a value, as the server's
/// `canonicalizeBSONType` defines it. Values in different brackets never
/// compare equal, and the bracket decides their order.
pub(crate) fn type_bracket(value: &Bson) -> i8 {
    element_type_bracket(value.element_type())
}

/// The type bracket of a BSON element type (see [`type_bracket`]); lets
/// raw values be bracketed without decoding them.
pub(crate) fn element_type_bracket(element_type: ElementType) -> i8 {
    use ElementType as T;
    match element_type {
        T::MinKey => -1,
        T::Undefined => 0,
        T::Null => 5,
        T::Double | T::Int32 | T::Int64 | T::Decimal128 => 10,
        T::String | T::Symbol => 15,
        T::EmbeddedDocument => 20,
        T::Array => 25,
        T::Binary => 30,
        T::ObjectId => 35,
        T::Boolean => 40,
        T::DateTime => 45,
        T::Timestamp => 47,
        T::RegularExpression => 50,
        T::DbPointer => 55,
        T::JavaScriptCode => 60,
        T::JavaScriptCodeWithScope => 65,
        T::MaxKey => 127,
    }
}

/// Compares two values in MongoDB's order (no collation: strings compare by
/// their UTF-8 bytes, as the server does without one).
pub(crate) fn compare(a: &Bson, b: &Bson) -> Ordering {
    type_bracket(a)
        .cmp(&type_bracket(b))
        .then_with(|| compare_same_bracket(a, b))
}

/// Equality in MongoDB's sense: same bracket and equal value, so numbers
/// of different widths are equal when their values are.
pub(crate) fn equal(a: &Bson, b: &Bson) -> bool {
    compare(a, b) == Ordering::Equal
}

/// Compares two documents the way the server compares embedded objects:
/// element by element, each by type bracket, then field name, then value; a
/// prefix sorts first.
pub(crate) fn compare_documents(a: &Document, b: &Document) -> Ordering {
    let mut left = a.iter();
    let mut right = b.iter();
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some((lk, lv)), Some((rk, rv))) => {
                let order = type_bracket(lv)
                    .cmp(&type_bracket(rv))
                    .then_with(|| lk.as_bytes().cmp(rk.as_bytes()))
                    .then_with(|| compare_same_bracket(lv, rv));
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// Arrays compare like documents whose field names are ignored.
fn compare_arrays(a: &[Bson], b: &[Bson]) -> Ordering {
    for (l, r) in a.iter().zip(b) {
        let order = compare(l, r);
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

fn compare_same_bracket(a: &Bson, b: &Bson) -> Ordering {
    use Bson::*;
    match (a, b) {
        (String(x) | Symbol(x), String(y) | Symbol(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Document(x), Document(y)) => compare_documents(x, y),
        (Array(x), Array(y)) => compare_arrays(x, y),
        (Binary(x), Binary(y)) => x
            .bytes
            .len()
            .cmp(&y.bytes.len())
            .then_with(|| u8::from(x.subtype).cmp(&u8::from(y.subtype)))
            .then_with(|| x.bytes.cmp(&y.bytes)),
        (ObjectId(x), ObjectId(y)) => x.bytes().cmp(&y.bytes()),
        (Boolean(x), Boolean(y)) => x.cmp(y),
        (DateTime(x), DateTime(y)) => x.timestamp_millis().cmp(&y.timestamp_millis()),
        (Timestamp(x), Timestamp(y)) => (x.time, x.increment).cmp(&(y.time, y.increment)),
        (RegularExpression(x), RegularExpression(y)) => x
            .pattern
            .as_str()
            .as_bytes()
            .cmp(y.pattern.as_str().as_bytes())
            .then_with(|| x.options.as_str().cmp(y.options.as_str())),
        (DbPointer(_), DbPointer(_)) => {
            // The driver keeps DbPointer opaque; its byte encoding orders the
            // same way the server does (namespace length, namespace, id).
            raw_bytes(a).cmp(&raw_bytes(b))
        }
        (JavaScriptCode(x), JavaScriptCode(y)) => x.cmp(y),
        (JavaScriptCodeWithScope(x), JavaScriptCodeWithScope(y)) => x
            .code
            .cmp(&y.code)
            .then_with(|| compare_documents(&x.scope, &y.scope)),
        _ => match (Number::of(a), Number::of(b)) {
            (Some(x), Some(y)) => x.cmp(y),
            // MinKey, MaxKey, null and undefined: one value per bracket.
            _ => Ordering::Equal,
        },
    }
}

fn raw_bytes(value: &Bson) -> Vec<u8> {
    let mut doc = Document::new();
    doc.insert("v", value.clone());
    doc.to_vec().unwrap_or_default()
}

/// A BSON number of any width, for exact cross-width comparison and
/// arithmetic decisions.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Number {
    /// int32 or int64.
    Int(i64),
    /// A double (or a decimal128, compared through its nearest double).
    Float(f64),
}

impl Number {
    /// The number held by `value`, if it is one.
    pub(crate) fn of(value: &Bson) -> Option<Number> {
        match value {
            Bson::Int32(i) => Some(Number::Int(i64::from(*i))),
            Bson::Int64(i) => Some(Number::Int(*i)),
            Bson::Double(f) => Some(Number::Float(*f)),
            Bson::Decimal128(d) => Some(Number::Float(decimal_to_f64(d))),
            _ => None,
        }
    }

    /// The value as a double (lossy for int64 beyond 2^53).
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    /// MongoDB's numeric order: exact between integers and doubles, and NaN
    /// below every other number but equal to itself.
    pub(crate) fn cmp(self, other: Number) -> Ordering {
        match (self, other) {
            (Number::Int(x), Number::Int(y)) => x.cmp(&y),
            (Number::Int(x), Number::Float(y)) => compare_int_float(x, y),
            (Number::Float(x), Number::Int(y)) => compare_int_float(y, x).reverse(),
            (Number::Float(x), Number::Float(y)) => compare_floats(x, y),
        }
    }
}

fn compare_floats(x: f64, y: f64) -> Ordering {
    match (x.is_nan(), y.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        // Neither is NaN, so partial_cmp is total here; -0.0 == 0.0 as on the server.
        (false, false) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
    }
}

/// Compares an integer with a double without rounding the integer.
fn compare_int_float(i: i64, f: f64) -> Ordering {
    if f.is_nan() {
        return Ordering::Greater;
    }
    // 2^63 as a double; every i64 is below it and at or above -2^63.
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    if f >= TWO_POW_63 {
        return Ordering::Less;
    }
    if f < -TWO_POW_63 {
        return Ordering::Greater;
    }
    let whole = f.trunc();
    // In range, so the cast is exact.
    match i.cmp(&(whole as i64)) {
        Ordering::Equal => {
            let frac = f - whole;
            if frac > 0.0 {
                Ordering::Less
            } else if frac < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }
        other => other,
    }
}

/// The nearest double to a decimal128 (NaN and the infinities included).
pub(crate) fn decimal_to_f64(d: &Decimal128) -> f64 {
    let text = d.to_string();
    match text.as_str() {
        "NaN" | "-NaN" => f64::NAN,
        "Infinity" => f64::INFINITY,
        "-Infinity" => f64::NEG_INFINITY,
        _ => text.parse().unwrap_or(f64::NAN),
    }
}

/// A byte key that is equal for two values exactly when [`equal`] says they
/// are, so values can be grouped or deduplicated with a hash map (`$group`
/// keys, `$addToSet`). Numbers of every width that are equal share a key.
pub(crate) fn equality_key(value: &Bson) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    write_equality_key(value, &mut out);
    out
}

/// Appends [`equality_key`]'s bytes for `value` to `out`.
pub(crate) fn write_equality_key(value: &Bson, out: &mut Vec<u8>) {
    out.push(type_bracket(value) as u8);
    match value {
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_) => {
            match Number::of(value) {
                Some(Number::Int(i)) => write_number_key(i as f64, Some(i), out),
                Some(Number::Float(f)) => {
                    let as_int = (f.fract() == 0.0
                        && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0)
                            .contains(&f))
                    .then_some(f as i64);
                    write_number_key(f, as_int, out)
                }
                None => {}
            }
        }
        Bson::String(s) | Bson::Symbol(s) | Bson::JavaScriptCode(s) => write_str(s, out),
        Bson::Document(d) => {
            for (k, v) in d {
                write_str(k, out);
                write_equality_key(v, out);
            }
            out.push(0xff);
        }
        Bson::Array(items) => {
            for v in items {
                write_equality_key(v, out);
            }
            out.push(0xff);
        }
        Bson::Binary(b) => {
            out.push(u8::from(b.subtype));
            out.extend_from_slice(&(b.bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(&b.bytes);
        }
        Bson::ObjectId(o) => out.extend_from_slice(&o.bytes()),
        Bson::Boolean(b) => out.push(u8::from(*b)),
        Bson::DateTime(d) => out.extend_from_slice(&d.timestamp_millis().to_le_bytes()),
        Bson::Timestamp(t) => {
            out.extend_from_slice(&t.time.to_le_bytes());
            out.extend_from_slice(&t.increment.to_le_bytes());
        }
        Bson::RegularExpression(r) => {
            write_str(r.pattern.as_str(), out);
            write_str(r.options.as_str(), out);
        }
        Bson::JavaScriptCodeWithScope(c) => {
            write_str(&c.code, out);
            write_equality_key(&Bson::Document(c.scope.clone()), out);
        }
        Bson::DbPointer(_) => out.extend_from_slice(&raw_bytes(value)),
        Bson::Null | Bson::Undefined | Bson::MinKey | Bson::MaxKey => {}
    }
}

fn write_number_key(f: f64, as_int: Option<i64>, out: &mut Vec<u8>) {
    match as_int {
        Some(i) => {
            out.push(0);
            out.extend_from_slice(&i.to_le_bytes());
        }
        None if f.is_nan() => out.push(1),
        None => {
            out.push(2);
            // -0.0 is integral and so never reaches here.
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
    }
}

fn write_str(s: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::{doc, Bson};

    #[test]
    fn numbers_compare_across_widths() {
        assert!(equal(&Bson::Int32(1), &Bson::Double(1.0)));
        assert!(equal(&Bson::Int64(1), &Bson::Int32(1)));
        assert_eq!(
            compare(
                &Bson::Int64(i64::MAX),
                &Bson::Double(9_223_372_036_854_775_808.0)
            ),
            Ordering::Less
        );
        assert_eq!(compare(&Bson::Int32(2), &Bson::Double(2.5)), Ordering::Less);
        assert_eq!(
            compare(&Bson::Int32(-2), &Bson::Double(-2.5)),
            Ordering::Greater
        );
        let dec: Decimal128 = "2.5".parse().unwrap();
        assert!(equal(&Bson::Decimal128(dec), &Bson::Double(2.5)));
    }

    #[test]
    fn nan_is_below_every_number_and_equal_to_itself() {
        assert_eq!(
            compare(&Bson::Double(f64::NAN), &Bson::Double(f64::NEG_INFINITY)),
            Ordering::Less
        );
        assert!(equal(&Bson::Double(f64::NAN), &Bson::Double(f64::NAN)));
        assert_eq!(
            compare(&Bson::Double(f64::NAN), &Bson::Null),
            Ordering::Greater
        );
    }

    #[test]
    fn brackets_order_types() {
        let ordered = [
            Bson::MinKey,
            Bson::Null,
            Bson::Int32(5),
            Bson::String("a".into()),
            Bson::Document(doc! {}),
            Bson::Array(vec![]),
            Bson::Boolean(false),
            Bson::DateTime(bson::DateTime::from_millis(0)),
            Bson::MaxKey,
        ];
        for pair in ordered.windows(2) {
            assert_eq!(compare(&pair[0], &pair[1]), Ordering::Less, "{pair:?}");
        }
    }

    #[test]
    fn documents_compare_by_field_name_and_order() {
        let a = Bson::Document(doc! {"a": 1, "b": 2});
        let b = Bson::Document(doc! {"b": 2, "a": 1});
        assert!(!equal(&a, &b));
        assert!(equal(&a, &Bson::Document(doc! {"a": 1.0, "b": 2_i64})));
        assert_eq!(compare(&Bson::Document(doc! {"a": 1}), &a), Ordering::Less);
    }

    #[test]
    fn equality_keys_agree_with_equal() {
        let values = [
            Bson::Int32(1),
            Bson::Int64(1),
            Bson::Double(1.0),
            Bson::Double(1.5),
            Bson::Double(f64::NAN),
            Bson::Double(-0.0),
            Bson::Int32(0),
            Bson::String("1".into()),
            Bson::Null,
            Bson::Document(doc! {"a": 1}),
            Bson::Document(doc! {"a": 1.0}),
            Bson::Array(vec![Bson::Int32(1)]),
        ];
        for a in &values {
            for b in &values {
                assert_eq!(
                    equality_key(a) == equality_key(b),
                    equal(a, b),
                    "{a:?} vs {b:?}"
                );
            }
        }
    }
}
