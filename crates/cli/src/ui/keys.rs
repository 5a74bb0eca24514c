//! The dotted keys of run documents, for the column picker and the compare
//! view: `params.model.C` for `{"params": {"model": {"C": 0.01}}}`. The
//! flattening is the command line's ([`yamlett_cli::keys::flatten_with`]);
//! what the picker adds is which sub-documents are leaves and which keys
//! it hides, and [`KeyIndex`], which keeps every run's keys between
//! requests so that a key held by one run in 100,000 is listed without
//! reading them all again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use yamlett::bson::{doc, Bson, DateTime, Document};
use yamlett::{Experiment, FindOptions};
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

/// How many runs a full read of the keys decodes at a time: bounded memory
/// (a run of the 100,000-run benchmark decodes to about 10 KB) for few
/// passes over the store.
const READ_PAGE: u64 = 5000;

/// What an experiment looked like when its keys were read: a write to any
/// run moves its last activity, and a deletion its count. One `$group`,
/// which the embedded store answers from the runs' raw bytes.
fn fingerprint(experiment: &Experiment) -> anyhow::Result<(u64, Option<DateTime>)> {
    let summary = experiment.summary()?;
    Ok((summary.runs, summary.last_activity))
}

/// Every dotted key of every run of one experiment, with its types and how
/// many runs hold it, kept up to date between requests.
///
/// Each [`KeyIndex::refresh`] costs one `$group` over the runs when nothing
/// changed. When runs were written since, only the runs whose
/// `_yamlett.last_modified_at` is at or after the last one seen are read
/// again and their keys replaced; when runs were deleted (or written
/// without that stamp), everything is read again, a page at a time.
#[derive(Debug, Default)]
pub struct KeyIndex {
    /// The [`fingerprint`] when last refreshed.
    seen: Option<(u64, Option<DateTime>)>,
    /// The (key, type) pairs met, each once; runs name them by position.
    pairs: Vec<(String, &'static str)>,
    pair_ids: HashMap<(String, &'static str), u32>,
    /// Each run's pairs, by run id (its Extended JSON text). Runs with the
    /// same keys and types share one set: most runs of an experiment do.
    runs: HashMap<String, Arc<[u32]>>,
    sets: HashSet<Arc<[u32]>>,
}

impl KeyIndex {
    /// Brings the index up to date with `experiment`.
    pub fn refresh(&mut self, experiment: &Experiment) -> anyhow::Result<()> {
        let now = fingerprint(experiment)?;
        if self.seen.as_ref() == Some(&now) {
            return Ok(());
        }
        // Read after the fingerprint: a run written in between is read now
        // and, its stamp being later than the fingerprint's, again next time.
        if let Some((_, Some(since))) = self.seen {
            let changed =
                experiment.find(doc! { "_yamlett.last_modified_at": { "$gte": since } })?;
            changed.iter().for_each(|run| self.add(run));
            if self.runs.len() as u64 == now.0 {
                self.seen = Some(now);
                return Ok(());
            }
        }
        *self = KeyIndex::default();
        let mut skip = 0;
        loop {
            let page = experiment.find_with(
                Document::new(),
                FindOptions::new().skip(skip).limit(READ_PAGE),
            )?;
            page.iter().for_each(|run| self.add(run));
            if (page.len() as u64) < READ_PAGE {
                break;
            }
            skip += READ_PAGE;
        }
        self.seen = Some(now);
        Ok(())
    }

    /// Records the keys of `run`, replacing what it held before.
    fn add(&mut self, run: &Document) {
        let id = run
            .get("_id")
            .map(|id| super::ejson::to_json(id.clone()).to_string())
            .unwrap_or_default();
        let mut set: Vec<u32> = picker_leaves(run)
            .map(|(key, value)| {
                let pair = (key, type_name(value));
                match self.pair_ids.get(&pair) {
                    Some(&at) => at,
                    None => {
                        let at = self.pairs.len() as u32;
                        self.pairs.push(pair.clone());
                        self.pair_ids.insert(pair, at);
                        at
                    }
                }
            })
            .collect();
        set.sort_unstable();
        let set: Arc<[u32]> = Arc::from(set);
        let shared = match self.sets.get(&set) {
            Some(shared) => Arc::clone(shared),
            None => {
                self.sets.insert(Arc::clone(&set));
                set
            }
        };
        if let Some(old) = self.runs.insert(id, shared) {
            // Held only here and by `sets`: no run has these keys any more.
            if Arc::strong_count(&old) == 2 {
                self.sets.remove(&old);
            }
        }
    }

    /// The dotted keys, sorted, with their types and how many runs hold
    /// each.
    pub fn stats(&self) -> BTreeMap<String, KeyStats> {
        // How many runs hold each distinct set, then each set's pairs once.
        let mut holders: HashMap<*const [u32], (&[u32], u64)> = HashMap::new();
        for set in self.runs.values() {
            holders.entry(Arc::as_ptr(set)).or_insert((set, 0)).1 += 1;
        }
        let mut stats: BTreeMap<String, KeyStats> = BTreeMap::new();
        for (set, runs) in holders.into_values() {
            for &pair in set {
                let (key, name) = &self.pairs[pair as usize];
                let entry = stats.entry(key.clone()).or_default();
                entry.runs += runs;
                if let Err(at) = entry.types.binary_search(name) {
                    entry.types.insert(at, name);
                }
            }
        }
        stats
    }
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
        let mut index = KeyIndex::default();
        index.add(&a);
        index.add(&b);
        // Written again with other keys: its old ones are forgotten.
        index.add(&doc! { "_id": "b", "params": { "C": 2 } });
        let stats = index.stats();
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
