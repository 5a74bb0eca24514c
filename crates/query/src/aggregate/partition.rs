//! Splitting a stream into partitions by a key, for the stages that work
//! per partition (`$fill`, `$densify`).

use bson::{Bson, Document};
use std::collections::HashMap;

use super::Docs;
use crate::compare::{compare, equality_key};
use crate::QueryResult;

/// The input's documents grouped by `key` (values equal as MongoDB compares
/// them share a partition), partitions in the key's sort order, documents
/// in input order within each. `key` may fail, which ends the stage.
pub(super) fn partitions(
    input: Docs<'_>,
    mut key: impl FnMut(&Document) -> QueryResult<Bson>,
) -> QueryResult<Vec<Vec<Document>>> {
    let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut parts: Vec<(Bson, Vec<Document>)> = Vec::new();
    for doc in input {
        let doc = doc?;
        let k = key(&doc)?;
        let slot = *index.entry(equality_key(&k)).or_insert_with(|| {
            parts.push((k, Vec::new()));
            parts.len() - 1
        });
        if let Some((_, docs)) = parts.get_mut(slot) {
            docs.push(doc);
        }
    }
    // Stable: partitions whose keys compare equal keep their first-seen order.
    parts.sort_by(|(a, _), (b, _)| compare(a, b));
    Ok(parts.into_iter().map(|(_, docs)| docs).collect())
}
