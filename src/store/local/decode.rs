//! Decoding stored runs from raw BSON.
//!
//! The bson crate's `Document::try_from(&RawDocument)` turns each nested
//! value into an owned `RawBson` first, which copies a nested document's
//! bytes into a new buffer at every level of nesting before decoding them:
//! a run's `params.model` is copied twice, its `metrics.loss` three times.
//! [`document`] walks the borrowed bytes instead and allocates only what the
//! decoded document holds.

use bson::error::Result;
use bson::{Bson, Document, RawArray, RawBsonRef, RawDocument};

use yamlett_query::advanced::RawDoc;

/// Decodes a whole document, with the query engine's raw walker (see
/// [`RawDoc::decode`]); malformed bytes go the slow way, which says what is
/// wrong with them.
pub(super) fn document(raw: &RawDocument) -> Result<Document> {
    match RawDoc::new(raw).decode() {
        Some(doc) => Ok(doc),
        None => checked_document(raw),
    }
}

/// Decodes a whole document with the bson crate's checked iterator.
fn checked_document(raw: &RawDocument) -> Result<Document> {
    let mut doc = Document::new();
    for element in raw {
        let (key, value) = element?;
        doc.insert(key.as_str(), value_of(value)?);
    }
    Ok(doc)
}

/// Decodes one value, recursing into documents and arrays without copying
/// their bytes first.
pub(super) fn value_of(value: RawBsonRef<'_>) -> Result<Bson> {
    Ok(match value {
        RawBsonRef::Double(d) => Bson::Double(d),
        RawBsonRef::String(s) => Bson::String(s.to_owned()),
        RawBsonRef::Document(d) => Bson::Document(document(d)?),
        RawBsonRef::Array(a) => Bson::Array(array(a)?),
        RawBsonRef::Boolean(b) => Bson::Boolean(b),
        RawBsonRef::Null => Bson::Null,
        RawBsonRef::Int32(i) => Bson::Int32(i),
        RawBsonRef::Int64(i) => Bson::Int64(i),
        RawBsonRef::DateTime(t) => Bson::DateTime(t),
        // Everything else holds no nested document but a code-with-scope,
        // whose scope is rare and small: the crate's conversion is fine.
        other => Bson::try_from(other)?,
    })
}

fn array(raw: &RawArray) -> Result<Vec<Bson>> {
    let mut items = Vec::new();
    for item in raw {
        items.push(value_of(item?)?);
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use bson::{doc, RawDocumentBuf};

    use super::*;

    fn raw(doc: &Document) -> RawDocumentBuf {
        RawDocumentBuf::try_from(doc).unwrap()
    }

    #[test]
    fn decodes_like_the_bson_crate() {
        let doc = doc! {
            "_id": "r1",
            "a": { "b": { "c": [1, 2.5, { "d": "x" }, [null, true]] }, "e": 3_i64 },
            "t": bson::DateTime::from_millis(5),
            "bin": bson::Binary { subtype: bson::spec::BinarySubtype::Generic, bytes: vec![1, 2] },
            "oid": bson::oid::ObjectId::from_bytes([7; 12]),
        };
        let raw = raw(&doc);
        assert_eq!(document(&raw).unwrap(), Document::try_from(&*raw).unwrap());
        assert_eq!(document(&raw).unwrap(), doc);
    }

    #[test]
    fn the_fast_decoder_agrees_with_the_bson_crate() {
        let doc = doc! {
            "_id": "r", "f": 0.5, "i": 3, "l": 4_i64, "t": true, "n": Bson::Null,
            "s": "h\u{e9}llo", "d": bson::DateTime::from_millis(-5),
            "dec": "1.50".parse::<bson::Decimal128>().unwrap(),
            "oid": bson::oid::ObjectId::from_bytes([7; 12]),
            "bin": bson::Binary { subtype: bson::spec::BinarySubtype::Generic, bytes: vec![1, 2] },
            "re": bson::Regex { pattern: "^a".try_into().unwrap(), options: "i".try_into().unwrap() },
            "ts": bson::Timestamp { time: 1, increment: 2 },
            "nested": { "a": [1, [2, [3, {}]], { "b": [] }], "e": {} },
            "": "empty key", "min": Bson::MinKey, "max": Bson::MaxKey,
        };
        let raw = RawDocumentBuf::try_from(&doc).unwrap();
        assert_eq!(document(&raw).unwrap(), doc);
        assert_eq!(Document::try_from(raw.as_ref()).unwrap(), doc);
        // Malformed bytes are an error, never a panic or a partial document.
        let mut bytes = raw.as_bytes().to_vec();
        let at = bytes.len() / 2;
        bytes[at] = 0xff;
        if let Ok(broken) = RawDocument::from_bytes(&bytes) {
            let _ = document(broken);
        }
    }
}
