//! Encoding a run document to BSON bytes, for every flush.
//!
//! The bson crate's `Document::to_vec` goes through its generic raw-value
//! writer and was a fifth of a flush's instructions. This writes the common
//! types directly into one buffer (document lengths patched in afterwards)
//! and hands the rare ones to the crate, so the bytes are exactly the
//! crate's.

use bson::{Bson, Document};

/// Why a document cannot be encoded.
#[derive(Debug)]
pub(super) struct EncodeError(String);

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EncodeError {}

/// The BSON bytes of `doc`.
pub(super) fn to_vec(doc: &Document) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(1024);
    document(doc, &mut out)?;
    Ok(out)
}

/// Appends to `out` the payload of a write-log record (see
/// [`super::log`]): `{s: seq, t: ticks, n: now, u: update, c: condition}`,
/// and `p`, the series points packed into a binary, when there are any;
/// written from borrowed parts so that a flush copies nothing first.
#[allow(clippy::too_many_arguments)]
pub(super) fn record(
    seq: i64,
    ticks: i64,
    now: bson::DateTime,
    update: &Document,
    condition: &Document,
    appends: &[crate::series::Append],
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let start = begin(out);
    header(bson::spec::ElementType::Int64 as u8, "s", out)?.extend_from_slice(&seq.to_le_bytes());
    header(bson::spec::ElementType::Int64 as u8, "t", out)?.extend_from_slice(&ticks.to_le_bytes());
    header(bson::spec::ElementType::DateTime as u8, "n", out)?
        .extend_from_slice(&now.timestamp_millis().to_le_bytes());
    header(bson::spec::ElementType::EmbeddedDocument as u8, "u", out)?;
    document(update, out)?;
    header(bson::spec::ElementType::EmbeddedDocument as u8, "c", out)?;
    document(condition, out)?;
    if !appends.is_empty() {
        header(bson::spec::ElementType::Binary as u8, "p", out)?;
        let at = out.len();
        out.extend_from_slice(&[0; 4]);
        out.push(0); // generic subtype
        crate::series::pack(appends, out);
        let len = i32::try_from(out.len() - at - 5)
            .map_err(|_| EncodeError("a binary is larger than 2 GiB".to_owned()))?;
        out[at..at + 4].copy_from_slice(&len.to_le_bytes());
    }
    end(start, out)
}

fn document(doc: &Document, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let start = begin(out);
    for (key, value) in doc {
        element(key, value, out)?;
    }
    end(start, out)
}

fn array(items: &[Bson], out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let start = begin(out);
    let mut index = itoa_buffer();
    for (i, item) in items.iter().enumerate() {
        element(index.format(i), item, out)?;
    }
    end(start, out)
}

/// Reserves the length prefix of a document; returns where it starts.
fn begin(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    start
}

/// Writes the terminating NUL and patches the length prefix.
fn end(start: usize, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    out.push(0);
    let len = i32::try_from(out.len() - start)
        .map_err(|_| EncodeError("a document is larger than 2 GiB".to_owned()))?;
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    Ok(())
}

fn cstring(text: &str, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    if text.as_bytes().contains(&0) {
        return Err(EncodeError(format!(
            "a field name cannot contain a NUL byte: {text:?}"
        )));
    }
    out.extend_from_slice(text.as_bytes());
    out.push(0);
    Ok(())
}

fn element(key: &str, value: &Bson, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let kind = value.element_type() as u8;
    match value {
        Bson::Double(x) => header(kind, key, out)?.extend_from_slice(&x.to_le_bytes()),
        Bson::String(s) => {
            header(kind, key, out)?;
            let len = i32::try_from(s.len() + 1)
                .map_err(|_| EncodeError("a string is larger than 2 GiB".to_owned()))?;
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(s.as_bytes());
            out.push(0);
        }
        Bson::Document(d) => {
            header(kind, key, out)?;
            document(d, out)?;
        }
        Bson::Array(items) => {
            header(kind, key, out)?;
            array(items, out)?;
        }
        Bson::Boolean(b) => header(kind, key, out)?.push(u8::from(*b)),
        Bson::Null => {
            header(kind, key, out)?;
        }
        Bson::Int32(i) => header(kind, key, out)?.extend_from_slice(&i.to_le_bytes()),
        Bson::Int64(i) => header(kind, key, out)?.extend_from_slice(&i.to_le_bytes()),
        Bson::DateTime(t) => {
            header(kind, key, out)?.extend_from_slice(&t.timestamp_millis().to_le_bytes())
        }
        // Ids, binaries, decimals, regexes, timestamps, code, …: the
        // crate's own encoding of a one-field document, copied in.
        other => {
            let mut single = Document::new();
            single.insert(key, other.clone());
            let bytes = single
                .to_vec()
                .map_err(|err| EncodeError(err.to_string()))?;
            // Between the length prefix and the terminating NUL.
            out.extend_from_slice(&bytes[4..bytes.len() - 1]);
        }
    }
    Ok(())
}

/// Writes an element's type byte and key.
fn header<'o>(kind: u8, key: &str, out: &'o mut Vec<u8>) -> Result<&'o mut Vec<u8>, EncodeError> {
    out.push(kind);
    cstring(key, out)?;
    Ok(out)
}

/// Array keys "0", "1", … written without the formatting machinery (a
/// tenth of an encode went to `fmt::write` for them).
struct Index {
    digits: [u8; 20],
}

fn itoa_buffer() -> Index {
    Index { digits: [0; 20] }
}

impl Index {
    fn format(&mut self, mut i: usize) -> &str {
        let mut at = self.digits.len();
        loop {
            at -= 1;
            self.digits[at] = b'0' + (i % 10) as u8;
            i /= 10;
            if i == 0 {
                break;
            }
        }
        // ASCII digits only.
        std::str::from_utf8(&self.digits[at..]).unwrap_or("0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;

    #[test]
    fn the_bytes_are_the_bson_crates() {
        let doc = doc! {
            "_id": "r", "f": 0.5, "nan": f64::NAN, "i": 3, "l": 4_i64, "t": true,
            "n": Bson::Null, "s": "h\u{e9}llo", "d": bson::DateTime::from_millis(-5),
            "dec": "1.50".parse::<bson::Decimal128>().unwrap(),
            "oid": bson::oid::ObjectId::from_bytes([7; 12]),
            "bin": bson::Binary { subtype: bson::spec::BinarySubtype::Generic, bytes: vec![1, 2] },
            "re": bson::Regex { pattern: "^a".try_into().unwrap(), options: "i".try_into().unwrap() },
            "ts": bson::Timestamp { time: 1, increment: 2 },
            "nested": { "a": (0..12).map(Bson::Int32).collect::<Vec<_>>(), "e": {}, "x": [[], [{}]] },
            "": "empty key", "min": Bson::MinKey, "max": Bson::MaxKey,
        };
        assert_eq!(to_vec(&doc).unwrap(), doc.to_vec().unwrap());
    }

    #[test]
    fn a_log_record_is_the_document_of_its_parts() {
        let now = bson::DateTime::from_millis(1_700_000_000_000);
        let update = doc! { "$push": { "loss": 0.5 }, "$set": { "w.a": 3_i64 } };
        let condition = doc! { "w.a": { "$not": { "$gte": 3_i64 } } };
        let mut out = vec![9];
        record(7, 42, now, &update, &condition, &[], &mut out).unwrap();
        let expected = doc! { "s": 7_i64, "t": 42_i64, "n": now, "u": update, "c": condition };
        assert_eq!(out[1..], expected.to_vec().unwrap()[..]);
    }

    #[test]
    fn a_nul_in_a_field_name_is_an_error() {
        let mut doc = Document::new();
        doc.insert("a\0b", 1);
        assert!(to_vec(&doc).is_err());
        assert!(doc.to_vec().is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_scalars_encode_alike(
            x in proptest::num::f64::ANY, i in proptest::num::i64::ANY, s in ".{0,12}",
            k in "[a-z]{0,4}",
        ) {
            let doc = doc! { k.clone(): x, "i": i, "s": s.clone(), "a": [x, s, { "k": i }] };
            proptest::prop_assert_eq!(to_vec(&doc).unwrap(), doc.to_vec().unwrap());
        }
    }
}
