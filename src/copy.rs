//! Copying an experiment's runs, with their artifacts, to another store:
//! the embedded store to MongoDB when a team outgrows one machine, MongoDB
//! to the embedded store to work offline.
//!
//! A copy is idempotent. Each source run is compared with the destination's
//! run of the same `_id`: a missing run is inserted, a different one
//! replaced, an equal one left alone. Artifact bytes travel only when the
//! destination does not hold the same bytes (same sha256) under the same
//! key already; their locations are rewritten for the destination store,
//! which is why an unchanged run compares equal after the first copy. A
//! run's metric series (buckets beside the run) travel with it.

use std::collections::HashMap;
use std::ops::ControlFlow;

use bson::{doc, Bson, Document};

use crate::{artifact, Error, Experiment, FindOptions};

/// How many runs one batch reads from the destination and writes to it.
const BATCH_RUNS: usize = 500;

/// What [`Experiment::copy_to`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CopyReport {
    /// Runs the destination did not have.
    pub copied: u64,
    /// Runs the destination had in another version, now replaced.
    pub updated: u64,
    /// Runs the destination already had, exactly.
    pub unchanged: u64,
    /// Artifacts whose bytes were copied.
    pub artifacts: u64,
}

impl Experiment {
    /// Copies every run of this experiment, with its artifacts, into `to`
    /// (usually the experiment of the same name in another store), and says
    /// how many runs were new, updated or already there. `progress` is
    /// called with (runs done, runs in all) after each batch.
    ///
    /// ```
    /// use yamlett::{bson::doc, Experiment, Run};
    /// let (a, b) = (tempfile::tempdir()?, tempfile::tempdir()?);
    /// let (a, b) = (a.path().to_str().unwrap(), b.path().to_str().unwrap());
    /// let run = Run::builder().uri(a).experiment("iris").open()?;
    /// run.store("metrics.f1", 0.9)?;
    /// run.store_artifact("model", &vec![0.5_f64, 1.5])?;
    /// run.finish()?;
    ///
    /// let source = Experiment::builder().uri(a).name("iris").open()?;
    /// let target = Experiment::builder().uri(b).name("iris").open()?;
    /// let first = source.copy_to(&target, |_, _| {})?;
    /// assert_eq!((first.copied, first.artifacts), (1, 1));
    /// let again = source.copy_to(&target, |_, _| {})?;
    /// assert_eq!((again.copied, again.updated, again.unchanged), (0, 0, 1));
    /// let model: Vec<f64> = target.load_artifact(run.id(), "model")?;
    /// assert_eq!(model, [0.5, 1.5]);
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    pub fn copy_to(
        &self,
        to: &Experiment,
        mut progress: impl FnMut(u64, u64),
    ) -> anyhow::Result<CopyReport> {
        // Counted first for the progress; runs are then read as a stream,
        // a batch at a time, so memory does not grow with the experiment.
        let total = self.count(doc! {})?;
        let mut report = CopyReport::default();
        let mut done = 0;
        progress(done, total);
        let mut batch = Vec::with_capacity(BATCH_RUNS);
        let mut send = |batch: &mut Vec<Document>, report: &mut CopyReport| {
            self.copy_batch(to, batch, report)?;
            done += batch.len() as u64;
            batch.clear();
            progress(done, total.max(done));
            anyhow::Ok(())
        };
        self.find_raw(doc! {}, FindOptions::new(), |run| {
            batch.push(Document::try_from(run)?);
            if batch.len() == BATCH_RUNS {
                send(&mut batch, &mut report)?;
            }
            Ok(ControlFlow::Continue(()))
        })?;
        if !batch.is_empty() {
            send(&mut batch, &mut report)?;
        }
        Ok(report)
    }

    /// Copies one batch of runs: one read of the destination's versions,
    /// one write of those that differ, and their series.
    fn copy_batch(
        &self,
        to: &Experiment,
        batch: &[Document],
        report: &mut CopyReport,
    ) -> anyhow::Result<()> {
        let ids: Vec<Bson> = batch.iter().filter_map(|r| r.get("_id").cloned()).collect();
        let existing: HashMap<String, Document> = to
            .find_with(doc! { "_id": { "$in": ids } }, FindOptions::new())?
            .into_iter()
            .filter_map(|run| Some((id_key(run.get("_id")?), run)))
            .collect();
        let mut writes = Vec::new();
        // Runs whose series must be replaced: the source's or the
        // destination's version has some.
        let mut with_series = Vec::new();
        for run in batch {
            let Some(id) = run.get("_id") else { continue };
            let current = existing.get(&id_key(id));
            let copy = self.translate(to, run, current, report)?;
            match current {
                None => report.copied += 1,
                Some(current) if *current == copy => {
                    report.unchanged += 1;
                    continue;
                }
                Some(_) => report.updated += 1,
            }
            if has_series(&copy) || current.is_some_and(has_series) {
                with_series.push(writes.len());
            }
            writes.push(copy);
        }
        if !writes.is_empty() {
            to.store().replace_runs(to.name(), &writes)?;
            for &at in &with_series {
                self.copy_series(to, &writes[at])?;
            }
        }
        Ok(())
    }

    /// `run` as the destination should hold it: every artifact reference
    /// points into the destination store, whose bytes are copied unless
    /// `current` (the destination's version) has the same bytes there.
    fn translate(
        &self,
        to: &Experiment,
        run: &Document,
        current: Option<&Document>,
        report: &mut CopyReport,
    ) -> anyhow::Result<Document> {
        let mut copy = run.clone();
        let run_id = match run.get("_id") {
            Some(Bson::String(id)) => id.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        for (key, reference) in artifact::references(run) {
            let sha256 = reference.get_str("sha256").unwrap_or_default();
            let kept = current
                .and_then(|current| yamlett_query::advanced::get_path(current, &key))
                .and_then(|value| match value {
                    Bson::Document(theirs) if theirs.get_str("sha256").ok() == Some(sha256) => {
                        theirs.get("location").cloned()
                    }
                    _ => None,
                });
            let location = match kept {
                Some(location) => location,
                None => {
                    let source = reference.get("location").cloned().unwrap_or(Bson::Null);
                    let bytes = self.store().get_artifact(&source)?;
                    if artifact::sha256_hex(&bytes) != sha256 {
                        return Err(Error::Artifact {
                            key: key.clone(),
                            reason: format!(
                                "run {run_id:?}: the stored bytes do not match their sha256"
                            ),
                        }
                        .into());
                    }
                    report.artifacts += 1;
                    to.store().put_artifact(to.name(), &run_id, &key, &bytes)?
                }
            };
            set_location(&mut copy, &key, location);
        }
        Ok(copy)
    }
}

impl Experiment {
    /// Copies the metric series of a run that was just written to `to`:
    /// its buckets replace the destination's. The run document's series
    /// summaries change with every point logged, so a run whose document is
    /// unchanged has unchanged series and is never sent here.
    fn copy_series(&self, to: &Experiment, run: &Document) -> anyhow::Result<()> {
        let Some(Bson::String(run_id)) = run.get("_id") else {
            return Ok(());
        };
        to.store().delete_series(to.name(), run_id)?;
        if !has_series(run) {
            return Ok(());
        }
        let buckets =
            self.store()
                .series_buckets(self.name(), run_id, None, crate::store::Buckets::All)?;
        to.store().put_series_buckets(to.name(), run_id, &buckets)
    }
}

/// Whether `run` lists metric series (`_yamlett.series`): a run without
/// has no buckets, so copying it costs no series round trips.
fn has_series(run: &Document) -> bool {
    run.get_document("_yamlett")
        .ok()
        .and_then(|meta| meta.get_array("series").ok())
        .is_some_and(|keys| !keys.is_empty())
}

/// A run id as a map key (ids are strings in practice, but need not be).
fn id_key(id: &Bson) -> String {
    match id {
        Bson::String(id) => id.clone(),
        other => format!("{other:?}"),
    }
}

/// Replaces the `location` of the reference at the dotted `key`.
fn set_location(doc: &mut Document, key: &str, location: Bson) {
    let mut current = doc;
    for segment in key.split('.') {
        match current.get_mut(segment) {
            Some(Bson::Document(inner)) => current = inner,
            _ => return,
        }
    }
    current.insert("location", location);
}
