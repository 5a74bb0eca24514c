//! Decoding stored runs from raw BSON, whole or only the fields a query
//! reads.
//!
//! The bson crate's `Document::try_from(&RawDocument)` turns each nested
//! value into an owned `RawBson` first, which copies a nested document's
//! bytes into a new buffer at every level of nesting before decoding them:
//! a run's `params.model` is copied twice, its `metrics.loss` three times.
//! [`document`] walks the borrowed bytes instead and allocates only what the
//! decoded document holds.
//!
//! [`Fields`] is the set of field paths a pipeline stage reads; decoding
//! with it keeps only those (and everything below them), so a `$group` over
//! 100,000 runs does not build 100,000 full documents.

use bson::error::Result;
use bson::{Bson, Document, RawArray, RawBsonRef, RawDocument};

use std::ops::ControlFlow;

use crate::query::path::{RawDoc, Value as _};

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

/// A set of dotted field paths, as a tree: a node either needs its whole
/// value or only some of its fields.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Fields {
    whole: bool,
    children: Vec<(String, Fields)>,
}

impl Fields {
    /// The fields a `$group` stage's specification reads, or `None` when it
    /// may read the whole document (`$$ROOT`, `$$CURRENT`, `$getField`, …)
    /// or uses anything this analysis does not understand.
    ///
    /// Every field path in an aggregation expression is a string starting
    /// with a single `$`; collecting every such string, wherever it appears
    /// in the specification, can only find more paths than are evaluated
    /// (inside `$literal`, say), never fewer, and decoding more fields than
    /// needed changes nothing.
    pub(super) fn of_group(spec: &Bson) -> Option<Fields> {
        let mut fields = Fields::default();
        collect(spec, &mut fields).then_some(fields)
    }

    fn add(&mut self, path: &str) {
        let mut node = self;
        for segment in path.split('.') {
            if node.whole {
                return;
            }
            let at = match node.children.iter().position(|(name, _)| name == segment) {
                Some(at) => at,
                None => {
                    node.children.push((segment.to_owned(), Fields::default()));
                    node.children.len() - 1
                }
            };
            node = &mut node.children[at].1;
        }
        node.whole = true;
        node.children.clear();
    }

    fn child(&self, name: &str) -> Option<&Fields> {
        self.children
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, fields)| fields)
    }

    /// Decodes the fields of `raw` this set names, in the document's order.
    /// A value on a path that is not a document (an array, a scalar) is
    /// decoded whole, so any path evaluated on the result finds exactly what
    /// it would find on the whole document.
    ///
    /// The walk stops once every named field has been found: a stored run
    /// was encoded from a `Document`, so no field name occurs twice in it.
    pub(super) fn decode(&self, raw: &RawDocument) -> Result<Document> {
        match self.decode_fast(RawDoc::new(raw)) {
            Some(doc) => Ok(doc),
            // Malformed bytes: the checked walk says what is wrong.
            None => self.decode_checked(raw),
        }
    }

    /// [`Fields::decode`] with the engine's raw walker: keys are compared
    /// as bytes, and only the fields kept are checked and copied.
    fn decode_fast(&self, raw: RawDoc<'_>) -> Option<Document> {
        let mut doc = Document::new();
        let mut missing = self.children.len();
        raw.each_field(|key, value| {
            if missing == 0 {
                return Some(ControlFlow::Break(()));
            }
            let Some(needed) = self
                .children
                .iter()
                .find(|(name, _)| name.as_bytes() == key)
                .map(|(_, fields)| fields)
            else {
                return Some(ControlFlow::Continue(()));
            };
            missing -= 1;
            let value = match value.as_document() {
                Some(d) if !needed.whole => Bson::Document(needed.decode_fast(d)?),
                _ => value.decode()?,
            };
            doc.insert(std::str::from_utf8(key).ok()?.to_owned(), value);
            Some(ControlFlow::Continue(()))
        })?;
        Some(doc)
    }

    /// [`Fields::decode`] with the bson crate's checked iterator.
    fn decode_checked(&self, raw: &RawDocument) -> Result<Document> {
        let mut doc = Document::new();
        let mut missing = self.children.len();
        for element in raw {
            if missing == 0 {
                break;
            }
            let (key, value) = element?;
            let Some(needed) = self.child(key.as_str()) else {
                continue;
            };
            missing -= 1;
            let value = match value {
                RawBsonRef::Document(d) if !needed.whole => {
                    Bson::Document(needed.decode_checked(d)?)
                }
                other => value_of(other)?,
            };
            doc.insert(key.as_str(), value);
        }
        Ok(doc)
    }
}

/// Adds the field paths in `value` to `fields`; false if `value` may read
/// fields no path names.
fn collect(value: &Bson, fields: &mut Fields) -> bool {
    match value {
        Bson::String(s) => match s.strip_prefix('$') {
            None => true,
            Some(variable) if variable.starts_with('$') => {
                // `$$ROOT` and `$$CURRENT` are the document itself; other
                // variables are bound by `$let`, `$map`, … to values of
                // expressions whose paths are collected where they appear,
                // or are system values such as `$$NOW`.
                let name = variable[1..].split('.').next().unwrap_or_default();
                !matches!(name, "ROOT" | "CURRENT")
            }
            Some(path) => {
                if path.is_empty() || path.split('.').any(str::is_empty) {
                    return false;
                }
                fields.add(path);
                true
            }
        },
        Bson::Document(doc) => doc.iter().all(|(key, value)| {
            // These read fields named by plain strings, not by paths.
            !matches!(key.as_str(), "$getField" | "$setField" | "$unsetField")
                && collect(value, fields)
        }),
        Bson::Array(items) => items.iter().all(|item| collect(item, fields)),
        _ => true,
    }
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
    fn group_fields_keep_only_their_paths() {
        let spec = doc! {
            "_id": "$params.model.fit_intercept",
            "avg": { "$avg": "$metrics.f1_score" },
            "n": { "$sum": 1 },
            "arr": { "$push": "$loss.0" },
        };
        let fields = Fields::of_group(&Bson::Document(spec)).unwrap();
        let doc = doc! {
            "_id": "r1",
            "params": { "model": { "C": 1.0, "fit_intercept": true }, "x": 1 },
            "metrics": { "f1_score": 0.9, "acc": 0.8 },
            "loss": [1.0, { "0": 2.0 }],
            "data": { "n": 3 },
        };
        assert_eq!(
            fields.decode(&raw(&doc)).unwrap(),
            doc! {
                "params": { "model": { "fit_intercept": true } },
                "metrics": { "f1_score": 0.9 },
                "loss": [1.0, { "0": 2.0 }],
            }
        );
    }

    #[test]
    fn a_prefix_path_keeps_the_whole_value() {
        let spec = doc! { "_id": "$a", "x": { "$first": "$a.b" }, "y": { "$first": "$c.d" } };
        let fields = Fields::of_group(&Bson::Document(spec)).unwrap();
        let doc = doc! { "a": { "b": 1, "z": 2 }, "c": 5, "e": 1 };
        assert_eq!(
            fields.decode(&raw(&doc)).unwrap(),
            doc! { "a": { "b": 1, "z": 2 }, "c": 5 }
        );
    }

    #[test]
    fn whole_document_readers_are_not_pruned() {
        for spec in [
            doc! { "_id": null, "all": { "$push": "$$ROOT" } },
            doc! { "_id": "$$CURRENT.a" },
            doc! { "_id": { "$getField": "a.b" } },
        ] {
            assert_eq!(Fields::of_group(&Bson::Document(spec)), None);
        }
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
