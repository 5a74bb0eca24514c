//! Artifacts: files beside the database, named by the SHA-256 of their bytes.
//!
//! Content addressing means no run id, key or experiment name ever becomes
//! part of a path, so nothing a caller passes can escape the directory, and
//! the location is also the checksum that [`get`] verifies. Files live under
//! `artifacts/<first two hex digits>/<hex>` so that no directory grows to
//! hundreds of thousands of entries.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use bson::{doc, Bson};
use sha2::{Digest, Sha256};

use crate::Error;

/// The directory of artifacts inside the store directory.
const ARTIFACTS_DIR: &str = "artifacts";

/// The `store` field of a location written by this store.
const STORE_TAG: &str = "local";

/// Saves `bytes` under `<dir>/artifacts/` and returns their location,
/// `{store: "local", sha256: "<hex>"}`.
///
/// The bytes go to a temporary file in the final directory, which is
/// fsynced, renamed over the final name and the directory fsynced: a reader
/// sees either no file or the complete one, and once this returns the file
/// survives a power loss. Saving the same bytes twice rewrites the same file,
/// which is harmless and repairs a damaged copy.
pub(super) fn put(dir: &Path, bytes: &[u8]) -> anyhow::Result<Bson> {
    let hex = sha256_hex(bytes);
    let path = artifact_path(dir, &hex);
    let parent = path.parent().unwrap_or(dir);
    create_dir_durably(parent)?;
    let temp = parent.join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
    let written = write_synced(&temp, bytes).and_then(|()| {
        fs::rename(&temp, &path).with_context(|| format!("renaming to {}", path.display()))
    });
    if let Err(err) = written {
        // Best effort: the temporary file is garbage either way.
        let _ = fs::remove_file(&temp);
        return Err(err);
    }
    sync_dir(parent)?;
    Ok(Bson::Document(doc! { "store": STORE_TAG, "sha256": hex }))
}

/// Reads back the artifact at `location`, checking its checksum.
pub(super) fn get(dir: &Path, location: &Bson) -> anyhow::Result<Vec<u8>> {
    let hex = parse_location(location)?;
    let path = artifact_path(dir, hex);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Err(Error::NotFound {
                what: format!("artifact {hex} (expected at {})", path.display()),
            }
            .into())
        }
        Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
    };
    if sha256_hex(&bytes) != hex {
        return Err(Error::Artifact {
            key: hex.to_owned(),
            reason: format!("checksum mismatch: {} is corrupt", path.display()),
        }
        .into());
    }
    Ok(bytes)
}

/// The digest a location written by this store names.
pub(super) fn digest(location: &Bson) -> anyhow::Result<&str> {
    parse_location(location)
}

/// Deletes the artifact file with digest `hex`, if it is there.
pub(super) fn remove(dir: &Path, hex: &str) -> anyhow::Result<()> {
    let path = artifact_path(dir, hex);
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err).with_context(|| format!("deleting {}", path.display())),
    }
}

/// A file in the artifacts directory.
pub(super) struct ArtifactFile {
    pub(super) path: PathBuf,
    /// Its digest when it is an artifact; `None` for a temporary file that
    /// an interrupted [`put`] left.
    pub(super) digest: Option<String>,
    pub(super) bytes: u64,
}

/// Every file in the artifacts directory.
pub(super) fn files(dir: &Path) -> anyhow::Result<Vec<ArtifactFile>> {
    let root = dir.join(ARTIFACTS_DIR);
    let mut found = Vec::new();
    let shards = match fs::read_dir(&root) {
        Ok(shards) => shards,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(found),
        Err(err) => return Err(err).with_context(|| format!("listing {}", root.display())),
    };
    for shard in shards {
        let shard = shard?.path();
        if !shard.is_dir() {
            continue;
        }
        for entry in fs::read_dir(&shard).with_context(|| format!("listing {}", shard.display()))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let digest = if is_sha256_hex(&name) {
                Some(name)
            } else if name.starts_with(".tmp-") {
                None
            } else {
                continue; // not ours: leave it alone
            };
            found.push(ArtifactFile {
                path: entry.path(),
                digest,
                bytes: entry.metadata().map_or(0, |m| m.len()),
            });
        }
    }
    Ok(found)
}

/// The SHA-256 hex digest a location must hold, checked strictly: the value
/// later becomes a file name, so anything but 64 lowercase hex digits is
/// refused before it gets near a path.
fn parse_location(location: &Bson) -> anyhow::Result<&str> {
    let invalid = |reason: &str| Error::Artifact {
        key: location.to_string(),
        reason: format!("invalid location: {reason}"),
    };
    let Bson::Document(fields) = location else {
        return Err(invalid("not a document").into());
    };
    match fields.get("store") {
        Some(Bson::String(tag)) if tag == STORE_TAG => {}
        _ => return Err(invalid("not saved by the local store").into()),
    }
    match fields.get("sha256") {
        Some(Bson::String(hex)) if is_sha256_hex(hex) => Ok(hex),
        _ => Err(invalid("sha256 must be 64 lowercase hexadecimal digits").into()),
    }
}

/// Whether `s` is a SHA-256 digest in lowercase hex.
fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The lowercase hex SHA-256 of `bytes`.
fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where the artifact with digest `hex` lives.
fn artifact_path(dir: &Path, hex: &str) -> PathBuf {
    dir.join(ARTIFACTS_DIR).join(&hex[..2]).join(hex)
}

/// Writes `bytes` to a new file at `path` and fsyncs it.
fn write_synced(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

/// Creates `dir` and its missing parents, fsyncing each parent whose entry
/// list changed so the new directories survive a power loss.
fn create_dir_durably(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dir_durably(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {}
        // Another thread or process created it first: fine.
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
        Err(err) => return Err(err).with_context(|| format!("creating {}", dir.display())),
    }
    match dir.parent() {
        Some(parent) => sync_dir(parent),
        None => Ok(()),
    }
}

/// Fsyncs a directory, making renames and new entries in it durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing directory {}", dir.display()))
}

/// Directories cannot be opened for fsync on this platform; NTFS journals
/// its metadata, which is the durability available there.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> anyhow::Result<()> {
    Ok(())
}
