//! Runs as flat rows: every leaf of a run document under its dotted key
//! (`params.model.C`), and each value as the text of one table or CSV cell.
//!
//! Documents are walked into; everything else is a leaf. Arrays stay whole
//! (a loss history is one cell, as JSON text), and so does an empty
//! document, so that no stored key disappears from an export.

use std::collections::BTreeSet;

use yamlett::bson::{Bson, Document, RawBsonRef, RawDocument};

/// Every leaf of `doc` with its dotted key, in document order.
///
/// ```
/// use yamlett::bson::doc;
/// let run = doc! { "_id": "r1", "params": { "model": { "C": 0.5 } }, "tags": [], "empty": {} };
/// let keys: Vec<String> = yamlett_cli::keys::flatten(&run).into_iter().map(|(k, _)| k).collect();
/// assert_eq!(keys, ["_id", "params.model.C", "tags", "empty"]);
/// ```
pub fn flatten(doc: &Document) -> Vec<(String, &Bson)> {
    flatten_with(doc, &|_, _| true)
}

/// Like [`flatten`], but walks into a non-empty sub-document only where
/// `descend(dotted_key, sub_document)` says so; any other sub-document is a
/// leaf. The dashboard's column picker keeps an artifact reference as one
/// column this way, where a CSV export wants its `sha256` and `size` apart.
///
/// ```
/// use yamlett::bson::doc;
/// let run = doc! { "_id": "r1", "model": { "sha256": "ab", "size": 3 }, "params": { "C": 0.5 } };
/// let keys: Vec<String> = yamlett_cli::keys::flatten_with(&run, &|key, _| key != "model")
///     .into_iter()
///     .map(|(k, _)| k)
///     .collect();
/// assert_eq!(keys, ["_id", "model", "params.C"]);
/// ```
pub fn flatten_with<'a>(
    doc: &'a Document,
    descend: &dyn Fn(&str, &Document) -> bool,
) -> Vec<(String, &'a Bson)> {
    let mut out = Vec::new();
    walk("", doc, descend, &mut out);
    out
}

fn walk<'a>(
    prefix: &str,
    doc: &'a Document,
    descend: &dyn Fn(&str, &Document) -> bool,
    out: &mut Vec<(String, &'a Bson)>,
) {
    for (name, value) in doc {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match value {
            Bson::Document(inner) if !inner.is_empty() && descend(&key, inner) => {
                walk(&key, inner, descend, out)
            }
            _ => out.push((key, value)),
        }
    }
}

/// [`flatten`] for a run still in its BSON bytes (as
/// [`Experiment::find_raw`](yamlett::Experiment::find_raw) hands it over):
/// calls `leaf(dotted_key, value)` for every leaf, in document order,
/// without decoding the run. An export of 100,000 runs reads them this way.
///
/// ```
/// use yamlett::bson::{doc, RawDocumentBuf};
/// let run = RawDocumentBuf::try_from(&doc! { "_id": "r1", "params": { "C": 0.5 }, "empty": {} })?;
/// let mut keys = Vec::new();
/// yamlett_cli::keys::for_each_leaf(&run, &mut |key, _| {
///     keys.push(key.to_owned());
///     Ok(())
/// })?;
/// assert_eq!(keys, ["_id", "params.C", "empty"]);
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn for_each_leaf(
    run: &RawDocument,
    leaf: &mut dyn FnMut(&str, RawBsonRef<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    walk_raw(&mut String::new(), run, leaf)
}

/// Walks `doc` with `key` holding the dotted key of the current field:
/// one buffer for every key, grown and cut back as the walk goes.
fn walk_raw(
    key: &mut String,
    doc: &RawDocument,
    leaf: &mut dyn FnMut(&str, RawBsonRef<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    for element in doc {
        let (name, value) = element?;
        let parent = key.len();
        if parent > 0 {
            key.push('.');
        }
        key.push_str(name.as_str());
        match value {
            RawBsonRef::Document(inner) if !inner.is_empty() => walk_raw(key, inner, leaf)?,
            _ => leaf(key, value)?,
        }
        key.truncate(parent);
    }
    Ok(())
}

/// Adds the dotted keys of `doc`'s leaves to `keys` (sorted, no repeats):
/// the columns of a CSV export are this union over the exported runs.
pub fn collect(doc: &Document, keys: &mut BTreeSet<String>) {
    keys.extend(flatten(doc).into_iter().map(|(key, _)| key));
}

/// The value at a dotted key, walking documents only.
///
/// ```
/// use yamlett::bson::{doc, Bson};
/// let run = doc! { "metrics": { "f1": 0.9 } };
/// assert_eq!(yamlett_cli::keys::lookup(&run, "metrics.f1"), Some(&Bson::Double(0.9)));
/// assert_eq!(yamlett_cli::keys::lookup(&run, "metrics.f1.x"), None);
/// ```
pub fn lookup<'a>(doc: &'a Document, key: &str) -> Option<&'a Bson> {
    let mut segments = key.split('.');
    let mut value = doc.get(segments.next()?)?;
    for segment in segments {
        match value {
            Bson::Document(inner) => value = inner.get(segment)?,
            _ => return None,
        }
    }
    Some(value)
}

/// The text of one cell: strings as they are, numbers and booleans as in
/// JSON, dates in RFC 3339, null as an empty cell, and arrays, documents and
/// other BSON types as compact relaxed Extended JSON.
///
/// ```
/// use yamlett::bson::{doc, Bson};
/// use yamlett_cli::keys::cell;
/// assert_eq!(cell(&Bson::String("adam".into())), "adam");
/// assert_eq!(cell(&Bson::Double(0.1)), "0.1");
/// assert_eq!(cell(&Bson::Double(3.0)), "3.0");
/// assert_eq!(cell(&Bson::Int64(7)), "7");
/// assert_eq!(cell(&Bson::Null), "");
/// assert_eq!(cell(&Bson::Array(vec![1.into(), "a".into()])), r#"[1,"a"]"#);
/// assert_eq!(cell(&Bson::Document(doc! { "a": 1 })), r#"{"a":1}"#);
/// ```
pub fn cell(value: &Bson) -> String {
    match value {
        Bson::String(text) => text.clone(),
        Bson::Null => String::new(),
        Bson::Boolean(b) => b.to_string(),
        Bson::Int32(n) => n.to_string(),
        Bson::Int64(n) => n.to_string(),
        Bson::Double(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e16 => format!("{x:.1}"),
        Bson::Double(x) if x.is_nan() => "NaN".to_owned(),
        Bson::Double(x) if x.is_infinite() => {
            if *x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
        }
        Bson::Double(x) => x.to_string(),
        Bson::DateTime(at) => at
            .try_to_rfc3339_string()
            .unwrap_or_else(|_| at.timestamp_millis().to_string()),
        other => crate::json::value_text(other),
    }
}
