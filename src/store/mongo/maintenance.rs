//! Deleting runs, writing whole runs (a copy), and garbage collection, on
//! MongoDB. These are commands a person runs, not a training loop's
//! writes: they go to the server at once, and an unreachable server is an
//! error rather than a journal entry.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use bson::{doc, Bson, Document};
use futures_util::TryStreamExt as _;

use super::{Shared, ARTIFACT_BUCKET};
use crate::{Error, Garbage};

/// How many ids one `delete` command names.
pub(super) const IDS_PER_COMMAND: usize = 10_000;

/// The most bytes of run documents one `update` command carries: the
/// command itself must stay under MongoDB's 16 MiB limit.
const BYTES_PER_COMMAND: usize = 8 << 20;

impl Shared {
    /// One of the GridFS artifact bucket's two collections.
    fn artifact_collection(&self, which: &str) -> mongodb::Collection<Document> {
        self.database
            .collection(&format!("{ARTIFACT_BUCKET}.{which}"))
    }

    pub(super) fn delete_runs(&self, experiment: &str, ids: &[Bson]) -> anyhow::Result<u64> {
        let mut deleted = 0;
        for chunk in ids.chunks(IDS_PER_COMMAND) {
            let runs = self.runs(experiment);
            deleted += self
                .block_on(async { runs.delete_many(doc! { "_id": { "$in": chunk } }).await })
                .map_err(|err| self.error(err))?
                .deleted_count;
        }
        Ok(deleted)
    }

    /// GridFS file ids are chosen per upload, so no other run shares them.
    pub(super) fn delete_artifacts(&self, locations: &[Bson]) -> anyhow::Result<()> {
        let ids: Vec<Bson> = locations.iter().filter_map(gridfs_id).collect();
        for chunk in ids.chunks(IDS_PER_COMMAND) {
            self.delete_files(chunk)?;
        }
        Ok(())
    }

    /// Deletes GridFS files: the files documents first, so that a reader
    /// never finds a file with chunks missing.
    fn delete_files(&self, ids: &[Bson]) -> anyhow::Result<()> {
        let files = self.artifact_collection("files");
        let chunks = self.artifact_collection("chunks");
        self.block_on(async {
            files.delete_many(doc! { "_id": { "$in": ids } }).await?;
            chunks
                .delete_many(doc! { "files_id": { "$in": ids } })
                .await
        })
        .map_err(|err| self.error(err))?;
        Ok(())
    }

    /// One `update` command of upserting replacements per batch of up to
    /// [`BYTES_PER_COMMAND`]: a round trip per batch, not per run, on any
    /// server version.
    pub(super) fn replace_runs(&self, experiment: &str, runs: &[Document]) -> anyhow::Result<()> {
        let mut batch = Vec::new();
        let mut bytes = 0;
        for run in runs {
            let id = run.get("_id").cloned().ok_or_else(|| Error::InvalidName {
                name: String::new(),
                reason: "a run document to write has no _id".to_owned(),
            })?;
            let size = run.to_vec().map_or(0, |b| b.len());
            if !batch.is_empty() && bytes + size > BYTES_PER_COMMAND {
                self.send_updates(experiment, std::mem::take(&mut batch))?;
                bytes = 0;
            }
            bytes += size;
            batch.push(doc! { "q": { "_id": id }, "u": run, "upsert": true });
        }
        if !batch.is_empty() {
            self.send_updates(experiment, batch)?;
        }
        Ok(())
    }

    fn send_updates(&self, experiment: &str, updates: Vec<Document>) -> anyhow::Result<()> {
        let command = doc! { "update": experiment, "updates": updates, "ordered": true };
        let reply = self
            .block_on(async { self.database.run_command(command).await })
            .map_err(|err| self.error(err))?;
        if let Ok(errors) = reply.get_array("writeErrors") {
            if let Some(Bson::Document(first)) = errors.first() {
                return Err(Error::Store {
                    store: self.location.clone(),
                    message: format!(
                        "the server refused to write a run: {}",
                        first.get_str("errmsg").unwrap_or("no message")
                    ),
                }
                .into());
            }
        }
        Ok(())
    }

    pub(super) fn garbage(
        &self,
        referenced: &[Bson],
        min_age: Duration,
        remove: bool,
    ) -> anyhow::Result<Vec<Garbage>> {
        let referenced: HashSet<String> = referenced
            .iter()
            .filter_map(gridfs_id)
            .map(|id| id.to_string())
            .collect();
        let cutoff = SystemTime::now()
            .checked_sub(min_age)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let cutoff = bson::DateTime::from_system_time(cutoff);
        let files = self.artifact_collection("files");
        let files: Vec<Document> = self
            .block_on(async {
                files
                    .find(doc! {})
                    .projection(doc! { "_id": 1, "length": 1, "uploadDate": 1 })
                    .await?
                    .try_collect()
                    .await
            })
            .map_err(|err| self.error(err))?;
        let mut garbage = Vec::new();
        let mut doomed = Vec::new();
        let mut known = HashSet::new();
        for file in files {
            let Some(id) = file.get("_id").cloned() else {
                continue;
            };
            known.insert(id.to_string());
            let young = file.get_datetime("uploadDate").is_ok_and(|at| *at > cutoff);
            if young || referenced.contains(&id.to_string()) {
                continue;
            }
            garbage.push(Garbage {
                kind: "artifact",
                name: format!("GridFS file {id}"),
                bytes: match file.get("length") {
                    Some(Bson::Int64(n)) => u64::try_from(*n).unwrap_or(0),
                    Some(Bson::Int32(n)) => u64::try_from(*n).unwrap_or(0),
                    _ => 0,
                },
            });
            doomed.push(id);
        }
        // Chunks without a files document: an upload that never finished
        // (GridFS writes the files document last). Its id says its age.
        let chunks = self.artifact_collection("chunks");
        let chunk_owners = self
            .block_on(async { chunks.distinct("files_id", doc! {}).await })
            .map_err(|err| self.error(err))?;
        for id in chunk_owners {
            if known.contains(&id.to_string()) {
                continue;
            }
            let old = match &id {
                Bson::ObjectId(oid) => oid.timestamp() <= cutoff,
                _ => true,
            };
            if !old {
                continue;
            }
            garbage.push(Garbage {
                kind: "orphan chunks",
                name: format!("GridFS chunks of {id}"),
                bytes: self.chunk_bytes(&id)?,
            });
            doomed.push(id);
        }
        if remove {
            for chunk in doomed.chunks(IDS_PER_COMMAND) {
                self.delete_files(chunk)?;
            }
        }
        garbage.extend(super::series::orphans(self, remove)?);
        if let Some(bytes) = self.journal.free_bytes()? {
            if remove {
                self.journal.vacuum()?;
            }
            garbage.push(Garbage {
                kind: "journal space",
                name: self.journal.path().display().to_string(),
                bytes,
            });
        }
        Ok(garbage)
    }

    /// The bytes of the chunks of one (unfinished) GridFS file.
    fn chunk_bytes(&self, id: &Bson) -> anyhow::Result<u64> {
        let chunks = self.artifact_collection("chunks");
        let chunks: Vec<Document> = self
            .block_on(async {
                chunks
                    .find(doc! { "files_id": id.clone() })
                    .await?
                    .try_collect()
                    .await
            })
            .map_err(|err| self.error(err))?;
        let mut bytes = 0;
        for chunk in chunks {
            if let Ok(data) = chunk.get_binary_generic("data") {
                bytes += data.len() as u64;
            }
        }
        Ok(bytes)
    }
}

/// The GridFS file id of a location written by this store.
fn gridfs_id(location: &Bson) -> Option<Bson> {
    match location {
        Bson::Document(doc) if doc.get_str("store").ok() == Some("gridfs") => {
            doc.get("id").cloned()
        }
        _ => None,
    }
}
