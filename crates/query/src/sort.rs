//! Sort specifications (`find().sort()` and the `$sort` stage).
//!
//! Each key's value in a document is reduced to one *sort key* the way the
//! server does (checked against a MongoDB 8 server, see the tests):
//!
//! - arrays fan out: the path is followed into every document element
//!   (other elements are skipped), and a leaf array contributes its elements;
//!   ascending uses the smallest candidate, descending the largest;
//! - a numeric segment indexes an array (the leaf is then not expanded);
//! - a field missing anywhere (or a path reaching nothing) counts as null;
//! - an empty leaf array sorts below null (the server uses `undefined`).
//!
//! Documents that compare equal on every key compare `Equal`; keeping their
//! input order is the caller's (stable) sort's job.

use std::cmp::Ordering;

use std::borrow::Cow;

use bson::{Bson, Document, RawDocument};

use super::compare::{compare, Number};
use super::path::{DocView, FieldPath, RawDoc, Segment, Value};
use super::{QueryError, QueryResult};

/// The key of a document with nothing at the path.
const NULL: Bson = Bson::Null;
/// The key of an empty leaf array: below null, as on the server.
const EMPTY_ARRAY: Bson = Bson::Undefined;

/// A parsed sort specification.
#[derive(Debug, Clone)]
pub struct SortSpec {
    keys: Vec<SortKey>,
}

#[derive(Debug, Clone)]
/// One key of a sort: a path and a direction.
struct SortKey {
    /// The dotted path sorted on.
    path: FieldPath,
    /// Whether the key is `-1`.
    descending: bool,
}

impl SortSpec {
    /// Parses `{field: 1 | -1, ...}`. An empty specification sorts nothing.
    pub fn parse(spec: &Document) -> QueryResult<SortSpec> {
        crate::depth::check_nesting(spec, "sort")?;
        let keys = spec
            .iter()
            .map(|(field, direction)| {
                Ok(SortKey {
                    path: parse_sort_path(field)?,
                    descending: parse_direction(field, direction)?,
                })
            })
            .collect::<QueryResult<Vec<_>>>()?;
        Ok(SortSpec { keys })
    }

    /// Whether the specification has no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Orders two documents by the keys in turn.
    pub fn compare(&self, a: &Document, b: &Document) -> Ordering {
        for key in &self.keys {
            let order = compare(&key.extract(a), &key.extract(b));
            let order = if key.descending {
                order.reverse()
            } else {
                order
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        Ordering::Equal
    }

    /// A document's sort key values, one per key, so that documents can be
    /// ordered later without keeping them (`$topN`, `$bottomN`).
    pub fn key_values(&self, doc: &Document) -> Vec<Bson> {
        self.keys
            .iter()
            .map(|key| key.extract(doc).into_owned())
            .collect()
    }

    /// [`SortSpec::key_values`] of a stored document, read from its raw
    /// bytes: only the values at the sort's paths are decoded, so a store
    /// can rank every match and decode only those it keeps. Bytes too
    /// malformed to read sort as a missing field.
    ///
    /// ```
    /// use bson::{doc, RawDocumentBuf};
    /// use yamlett_query::Sort;
    ///
    /// let by_f1 = Sort::parse(&doc! { "metrics.f1": -1 })?;
    /// let run = doc! { "_id": "a", "metrics": { "f1": 0.8, "loss": [0.5, 0.4] } };
    /// let raw = RawDocumentBuf::try_from(&run).unwrap();
    /// assert_eq!(by_f1.raw_key_values(&raw), by_f1.key_values(&run));
    /// # Ok::<(), yamlett_query::QueryError>(())
    /// ```
    pub fn raw_key_values(&self, doc: &RawDocument) -> Vec<Bson> {
        let doc = RawDoc::new(doc);
        self.keys
            .iter()
            .map(|key| key.extract(doc).into_owned())
            .collect()
    }

    /// Orders two lists of [`SortSpec::key_values`] as [`SortSpec::compare`]
    /// orders their documents.
    pub fn compare_key_values(&self, a: &[Bson], b: &[Bson]) -> Ordering {
        for ((key, x), y) in self.keys.iter().zip(a).zip(b) {
            let order = compare(x, y);
            let order = if key.descending {
                order.reverse()
            } else {
                order
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        Ordering::Equal
    }
}

/// A sort key's path; empty and `$`-prefixed segments are refused.
fn parse_sort_path(field: &str) -> QueryResult<FieldPath> {
    if field.split('.').any(str::is_empty) {
        return Err(QueryError::new(
            "FieldPath field names may not be empty strings.",
        ));
    }
    if field.starts_with('$') {
        return Err(QueryError::new(format!(
            "FieldPath field names may not start with '$'. Consider using $getField or $setField. \
             (sort key: {field})"
        )));
    }
    FieldPath::parse(field)
}

/// 1 or -1 of any numeric type; `{$meta: ..}` sorts are not supported.
fn parse_direction(field: &str, direction: &Bson) -> QueryResult<bool> {
    match direction {
        Bson::Document(d) if d.contains_key("$meta") => Err(QueryError::new(format!(
            "$meta sort (on {field}) is not supported"
        ))),
        _ => match Number::of(direction).map(Number::as_f64) {
            Some(1.0) => Ok(false),
            Some(-1.0) => Ok(true),
            Some(_) => Err(QueryError::new(
                "$sort key ordering must be 1 (for ascending) or -1 (for descending)",
            )),
            None => Err(QueryError::new(format!(
                "Illegal key in $sort specification: {field}: {direction}"
            ))),
        },
    }
}

impl SortKey {
    /// The document's sort key for this path and direction: borrowed from a
    /// decoded document, decoded (that one value only) from a raw one.
    fn extract<'a, D: DocView<'a>>(&self, doc: D) -> Cow<'a, Bson> {
        let mut best: Option<Cow<'a, Bson>> = None;
        let mut missing = false;
        let mut consider = |candidate: Option<Cow<'a, Bson>>| match candidate {
            None => missing = true,
            Some(value) => {
                let better = best.as_deref().is_none_or(|current| {
                    let order = compare(&value, current);
                    if self.descending {
                        order == Ordering::Greater
                    } else {
                        order == Ordering::Less
                    }
                });
                if better {
                    best = Some(value);
                }
            }
        };
        let segments = self.path.segments();
        match segments.split_first() {
            Some((first, rest)) => match doc.get(&first.name) {
                Some(value) => candidates(value, rest, true, &mut consider),
                None => consider(None),
            },
            None => consider(None),
        }
        let null_wins = match best.as_deref() {
            None => true,
            Some(value) => {
                missing && {
                    let order = compare(&NULL, value);
                    if self.descending {
                        order == Ordering::Greater
                    } else {
                        order == Ordering::Less
                    }
                }
            }
        };
        match best {
            Some(value) if !null_wins => value,
            _ => Cow::Borrowed(&NULL),
        }
    }
}

/// Feeds every candidate sort value reachable from `value` along `rest` to
/// `consider` (`None` for a missing field, or for bytes too malformed to
/// decode, which sort as if absent).
fn candidates<'a, V: Value<'a>>(
    value: V,
    rest: &[Segment],
    expand: bool,
    consider: &mut impl FnMut(Option<Cow<'a, Bson>>),
) {
    let Some((next, after)) = rest.split_first() else {
        match value.elements() {
            Some(mut items) if expand => match items.next() {
                None => consider(Some(Cow::Borrowed(&EMPTY_ARRAY))),
                Some(first) => {
                    consider(first.to_bson());
                    items.for_each(|item| consider(item.to_bson()));
                }
            },
            _ => consider(value.to_bson()),
        }
        return;
    };
    if let Some(doc) = value.as_document() {
        match doc.get(&next.name) {
            Some(inner) => candidates(inner, after, true, consider),
            None => consider(None),
        }
    } else if let Some(mut items) = value.elements() {
        match next.index {
            Some(index) => {
                if let Some(item) = items.nth(index) {
                    candidates(item, after, false, consider);
                }
            }
            None => {
                for item in items.filter(|item| item.as_document().is_some()) {
                    candidates(item, rest, true, consider);
                }
            }
        }
    } else {
        consider(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;

    /// The input indexes in sorted order (a stable sort, as callers use),
    /// checking that the keys read from raw BSON order the documents
    /// exactly as the decoded documents do.
    fn order(docs: &[Document], spec: Document) -> Vec<usize> {
        let spec = SortSpec::parse(&spec).unwrap();
        let mut idx: Vec<usize> = (0..docs.len()).collect();
        idx.sort_by(|&a, &b| spec.compare(&docs[a], &docs[b]));
        let raw: Vec<Vec<Bson>> = docs
            .iter()
            .map(|doc| spec.raw_key_values(&bson::RawDocumentBuf::try_from(doc).unwrap()))
            .collect();
        let mut by_raw: Vec<usize> = (0..docs.len()).collect();
        by_raw.sort_by(|&a, &b| spec.compare_key_values(&raw[a], &raw[b]));
        assert_eq!(by_raw, idx, "raw keys order as the documents do");
        for (doc, raw) in docs.iter().zip(&raw) {
            // Compared by the sort, not `==`: NaN equals NaN there.
            let decoded = spec.key_values(doc);
            assert_eq!(
                spec.compare_key_values(&decoded, raw),
                Ordering::Equal,
                "{doc}"
            );
        }
        idx
    }

    fn mixed() -> Vec<Document> {
        vec![
            doc! {"a": [3, 1, 2]},
            doc! {"a": []},
            doc! {"a": null},
            doc! {},
            doc! {"a": 2},
            doc! {"a": [[0], 5]},
            doc! {"a": "x"},
            doc! {"a": [null, 4]},
            doc! {"a": [{"b": 1}, {"b": 9}]},
            doc! {"a": {"b": 5}},
            doc! {"a": [[]]},
        ]
    }

    #[test]
    fn arrays_sort_by_min_ascending_and_max_descending() {
        // server: [1, 2, 3, 7, 0, 4, 5, 6, 8, 9, 10]
        assert_eq!(
            order(&mixed(), doc! {"a": 1}),
            vec![1, 2, 3, 7, 0, 4, 5, 6, 8, 9, 10]
        );
        // server: [5, 10, 8, 9, 6, 7, 0, 4, 2, 3, 1]
        assert_eq!(
            order(&mixed(), doc! {"a": -1}),
            vec![5, 10, 8, 9, 6, 7, 0, 4, 2, 3, 1]
        );
    }

    #[test]
    fn dotted_paths_through_arrays() {
        // server: [0, 1, 2, 3, 4, 5, 6, 7, 10, 8, 9] and [8, 9, 0, ..., 7, 10]
        assert_eq!(
            order(&mixed(), doc! {"a.b": 1}),
            vec![0, 1, 2, 3, 4, 5, 6, 7, 10, 8, 9]
        );
        assert_eq!(
            order(&mixed(), doc! {"a.b": -1}),
            vec![8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 10]
        );
        // server: [1, 2, 3, 4, 6, 7, 9, 0, 8, 10, 5]
        assert_eq!(
            order(&mixed(), doc! {"a.0": 1}),
            vec![1, 2, 3, 4, 6, 7, 9, 0, 8, 10, 5]
        );
    }

    #[test]
    fn missing_in_some_elements_counts_as_null() {
        let docs = vec![
            doc! {"a": [1, {"b": 5}]},
            doc! {"a": [{"b": 2}, {"c": 1}]},
            doc! {"a": []},
            doc! {"a": [{"b": []}]},
            doc! {"a": {"b": []}},
            doc! {"a": [{"b": 3}]},
            doc! {"a": Bson::MinKey},
            doc! {"a": [[{"b": -1}]]},
            doc! {"a": {"b": [7, [-3]]}},
        ];
        // server (same documents, ids renumbered): empty arrays first, then
        // the null group in input order, then 3, 5, 7.
        assert_eq!(
            order(&docs, doc! {"a.b": 1}),
            vec![3, 4, 1, 2, 6, 7, 5, 0, 8]
        );
        assert_eq!(
            order(&docs, doc! {"a.b": -1}),
            vec![8, 0, 5, 1, 2, 6, 7, 3, 4]
        );
    }

    #[test]
    fn numbers_of_every_width_and_nan() {
        let docs = vec![
            doc! {"a": 2_i64},
            doc! {"a": 1.5},
            doc! {"a": f64::NAN},
            doc! {"a": 1},
            doc! {"a": Bson::Decimal128("1.25".parse().unwrap())},
            doc! {"a": f64::NEG_INFINITY},
        ];
        assert_eq!(order(&docs, doc! {"a": 1}), vec![2, 5, 3, 4, 1, 0]);
        assert_eq!(order(&docs, doc! {"a": -1_i64}), vec![0, 1, 4, 3, 5, 2]);
    }

    #[test]
    fn several_keys_and_ties() {
        let docs = vec![
            doc! {"a": 1, "b": 2},
            doc! {"a": 1, "b": 1},
            doc! {"a": 0, "b": 9},
            doc! {"a": 1, "b": 1},
        ];
        assert_eq!(order(&docs, doc! {"a": 1, "b": 1}), vec![2, 1, 3, 0]);
        assert_eq!(order(&docs, doc! {"a": -1, "b": 1}), vec![1, 3, 0, 2]);
        assert_eq!(order(&docs, doc! {}), vec![0, 1, 2, 3]);
        assert!(SortSpec::parse(&doc! {}).unwrap().is_empty());
    }

    #[test]
    fn invalid_specifications() {
        let err = |spec: Document| SortSpec::parse(&spec).unwrap_err().message().to_owned();
        // server: the same messages.
        assert_eq!(
            err(doc! {"a": 2}),
            "$sort key ordering must be 1 (for ascending) or -1 (for descending)"
        );
        assert_eq!(
            err(doc! {"a": 0}),
            "$sort key ordering must be 1 (for ascending) or -1 (for descending)"
        );
        assert_eq!(
            err(doc! {"a": "x"}),
            "Illegal key in $sort specification: a: \"x\""
        );
        assert!(err(doc! {"a": {"$meta": "textScore"}}).contains("not supported"));
        assert!(err(doc! {"a..b": 1}).contains("empty"));
        assert!(err(doc! {"$a": 1}).contains("'$'"));
        assert!(SortSpec::parse(&doc! {"a": 1.0, "b": -1_i64}).is_ok());
    }
}
