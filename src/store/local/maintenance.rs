//! Deleting runs, writing whole runs (a copy), and garbage collection, for
//! the embedded store.
//!
//! Each of these first folds every write log, under the writer lock, so it
//! works on the runs as every returned flush left them, and drops the
//! writer's copies of the runs it touches.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use bson::{Bson, Document, RawBsonRef, RawDocument};
use rusqlite::TransactionBehavior;

use super::schema::retry_busy;
use super::{artifacts, encode, json, series, LocalStore, MAX_DOCUMENT_SIZE};
use crate::{Error, Garbage};

impl LocalStore {
    pub(super) fn delete_runs_now(&self, experiment: &str, ids: &[Bson]) -> anyhow::Result<u64> {
        let ids: Vec<&str> = ids.iter().filter_map(Bson::as_str).collect();
        let mut writer = self.writer();
        writer.fold()?;
        let deleted = retry_busy(|| {
            let tx = writer
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut deleted = 0;
            for id in &ids {
                tx.prepare_cached(
                    "DELETE FROM runs_json WHERE seq = \
                     (SELECT seq FROM runs WHERE experiment = ?1 AND id = ?2)",
                )?
                .execute((experiment, id))?;
                deleted += tx
                    .prepare_cached("DELETE FROM runs WHERE experiment = ?1 AND id = ?2")?
                    .execute((experiment, id))? as u64;
            }
            tx.commit()?;
            Ok(deleted)
        })?;
        for id in &ids {
            writer.forget(experiment, id);
        }
        Ok(deleted)
    }

    /// Artifact files are named by their content, so another run may hold
    /// the same bytes: only digests no stored run mentions are deleted.
    pub(super) fn delete_artifacts_now(&self, locations: &[Bson]) -> anyhow::Result<()> {
        let mut candidates: HashSet<String> = locations
            .iter()
            .filter_map(|l| artifacts::digest(l).ok())
            .map(str::to_owned)
            .collect();
        if candidates.is_empty() {
            return Ok(());
        }
        self.catch_up()?;
        let still_used = self.read(|conn| {
            let mut used = HashSet::new();
            let mut stmt = conn.prepare_cached("SELECT bson FROM runs")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let bytes = row.get_ref(0)?.as_blob()?;
                if let Ok(raw) = RawDocument::from_bytes(bytes) {
                    find_digests(raw, &candidates, &mut used);
                }
            }
            Ok(used)
        })?;
        candidates.retain(|digest| !still_used.contains(digest));
        for digest in candidates {
            artifacts::remove(&self.dir, &digest)?;
        }
        Ok(())
    }

    pub(super) fn replace_runs_now(
        &self,
        experiment: &str,
        runs: &[Document],
    ) -> anyhow::Result<()> {
        let mut rows = Vec::with_capacity(runs.len());
        for run in runs {
            let id = match run.get("_id") {
                Some(Bson::String(id)) => id.clone(),
                other => {
                    return Err(Error::InvalidName {
                        name: format!("{other:?}"),
                        reason: "the embedded store keeps runs whose _id is a string".to_owned(),
                    }
                    .into())
                }
            };
            let bytes = encode::to_vec(run).map_err(|err| Error::InvalidValue {
                key: id.clone(),
                reason: err.to_string(),
            })?;
            if bytes.len() > MAX_DOCUMENT_SIZE {
                return Err(Error::DocumentTooLarge {
                    key: id,
                    size: bytes.len(),
                }
                .into());
            }
            rows.push((id, bytes, json::relaxed(run)));
        }
        let mut writer = self.writer();
        writer.fold()?;
        retry_busy(|| {
            let tx = writer
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            for (id, bytes, json) in &rows {
                let seq: i64 = tx
                    .prepare_cached(
                        "INSERT INTO runs (experiment, id, bson) VALUES (?1, ?2, ?3) \
                         ON CONFLICT (experiment, id) DO UPDATE SET bson = excluded.bson \
                         RETURNING seq",
                    )?
                    .query_row((experiment, id, bytes), |row| row.get(0))?;
                tx.prepare_cached("INSERT OR REPLACE INTO runs_json (seq, json) VALUES (?1, ?2)")?
                    .execute((seq, json))?;
            }
            tx.commit()?;
            Ok(())
        })?;
        for (id, _, _) in &rows {
            writer.forget(experiment, id);
        }
        Ok(())
    }

    pub(super) fn garbage_now(
        &self,
        referenced: &[Bson],
        min_age: Duration,
        remove: bool,
    ) -> anyhow::Result<Vec<Garbage>> {
        let referenced: HashSet<&str> = referenced
            .iter()
            .filter_map(|l| artifacts::digest(l).ok())
            .collect();
        let mut garbage = Vec::new();
        for file in artifacts::files(&self.dir)? {
            if !is_older(&file.path, min_age) {
                continue;
            }
            let kind = match &file.digest {
                Some(digest) if referenced.contains(digest.as_str()) => continue,
                Some(_) => "artifact",
                None => "temporary file",
            };
            if remove {
                remove_file(&file.path)?;
            }
            garbage.push(Garbage {
                kind,
                name: file.path.display().to_string(),
                bytes: file.bytes,
            });
        }
        garbage.extend(self.orphan_series(remove)?);
        for (path, bytes) in self.writer().sweep_unregistered(remove)? {
            garbage.push(Garbage {
                kind: "write log",
                name: path.display().to_string(),
                bytes,
            });
        }
        Ok(garbage)
    }

    /// The buckets of runs that no longer exist, after a fold, under the
    /// writer lock (see [`series::orphans`]).
    fn orphan_series(&self, remove: bool) -> anyhow::Result<Vec<Garbage>> {
        let mut writer = self.writer();
        writer.fold()?;
        retry_busy(|| {
            let tx = writer
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let garbage = series::orphans(&tx, remove)?;
            tx.commit()?;
            Ok(garbage)
        })
    }
}

/// Collects into `found` every `sha256` string of `doc` (at any depth) that
/// is one of `candidates`.
fn find_digests(doc: &RawDocument, candidates: &HashSet<String>, found: &mut HashSet<String>) {
    for element in doc {
        let Ok((key, value)) = element else { continue };
        match value {
            RawBsonRef::String(text) if key == "sha256" && candidates.contains(text) => {
                found.insert(text.to_owned());
            }
            RawBsonRef::Document(inner) => find_digests(inner, candidates, found),
            _ => {}
        }
    }
}

/// Whether the file at `path` was last written at least `min_age` ago.
fn is_older(path: &Path, min_age: Duration) -> bool {
    if min_age.is_zero() {
        return true;
    }
    fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|modified| SystemTime::now().duration_since(modified).ok())
        .is_some_and(|age| age >= min_age)
}

fn remove_file(path: &Path) -> anyhow::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(anyhow::Error::new(err).context(format!("deleting {}", path.display()))),
    }
}
