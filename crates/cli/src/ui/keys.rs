//! The dotted keys of run documents, for the column picker and the compare
//! view: `params.model.C` for `{"params": {"model": {"C": 0.01}}}`. The
//! flattening is the command line's ([`yamlett_cli::keys::flatten_with`]);
//! what the picker adds is which sub-documents are leaves and which keys
//! it hides.

use std::collections::BTreeMap;

use yamlett::bson::{Bson, Document};
use yamlett_cli::keys::flatten_with;

use super::ejson::type_name;

/// Keys under `_yamlett` that are bookkeeping, not facts about the run: one
/// entry per writer handle would flood the column picker.
const HIDDEN: &[&str] = &["_yamlett.writers"];

/// Whether a sub-document is an artifact reference (`codec`, `size`,
/// `sha256`, `location`): a leaf, like a value.
fn is_artifact(doc: &Document) -> bool {
    doc.contains_key("codec")
        && doc.contains_key("sha256")
        && doc.contains_key("size")
        && doc.contains_key("location")
}

/// The picker's leaves of `run`: artifact references and hidden keys are
/// not walked into, and hidden keys are left out.
fn picker_leaves(run: &Document) -> impl Iterator<Item = (String, &Bson)> {
    flatten_with(run, &|key, sub| !is_artifact(sub) && !HIDDEN.contains(&key))
        .into_iter()
        .filter(|(key, _)| !HIDDEN.contains(&key.as_str()))
}

/// One dotted key over a set of runs: its types and how many runs hold it.
#[derive(Debug, Default, PartialEq)]
pub struct KeyStats {
    /// The BSON type names seen, sorted (`"object"` for an artifact reference).
    pub types: Vec<&'static str>,
    /// How many runs hold the key.
    pub runs: u64,
}

/// The dotted keys of `runs`, sorted.
pub fn key_stats<'a>(runs: impl IntoIterator<Item = &'a Document>) -> BTreeMap<String, KeyStats> {
    let mut stats: BTreeMap<String, KeyStats> = BTreeMap::new();
    for run in runs {
        for (key, value) in picker_leaves(run) {
            let entry = stats.entry(key).or_default();
            entry.runs += 1;
            let name = type_name(value);
            if let Err(at) = entry.types.binary_search(&name) {
                entry.types.insert(at, name);
            }
        }
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use yamlett::bson::doc;

    #[test]
    fn leaves_are_dotted_and_counted() {
        let a = doc! { "_id": "a", "params": { "C": 0.5, "kind": "lr" }, "empty": {},
        "_yamlett": { "status": "running", "writers": { "w1": 1 } },
        "model": { "codec": "x", "size": 3, "sha256": "s", "location": {"file": "f"} } };
        let b = doc! { "_id": "b", "params": { "C": 1 } };
        let stats = key_stats([&a, &b]);
        let keys: Vec<&str> = stats.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "_id",
                "_yamlett.status",
                "empty",
                "model",
                "params.C",
                "params.kind"
            ]
        );
        assert_eq!(
            stats["params.C"],
            KeyStats {
                types: vec!["double", "int"],
                runs: 2
            }
        );
        assert_eq!(stats["params.kind"].runs, 1);
        assert_eq!(stats["model"].types, ["object"]);
    }
}
