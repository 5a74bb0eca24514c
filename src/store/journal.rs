//! The outage journal: writes the MongoDB store could not deliver, kept on
//! local disk until they can be.
//!
//! It is a small SQLite database (`journal.sqlite3` in the journal
//! directory), because SQLite already gives what a journal needs: appends
//! that are durable when they return (`synchronous = FULL`), no torn
//! entries after a crash, and several processes appending and replaying at
//! once. Entries are keyed by the store's URI *with the password
//! redacted*: no secret is ever written to disk, so replaying needs the
//! real URI again (the next process on it, or `yamlett sync`).
//!
//! Replaying in order is safe to repeat: every update carries its writer
//! stamp (see `run::Stamp`), so an entry that was applied before, by us or
//! by another process replaying the same journal, is skipped.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use bson::spec::BinarySubtype;
use bson::{doc, Binary, Bson, Document};
use rusqlite::{Connection, OpenFlags, OptionalExtension};

/// The journal's file name inside its directory.
pub(crate) const JOURNAL_FILE: &str = "journal.sqlite3";

/// `PRAGMA application_id` of a journal: "YMLJ" in ASCII.
const APPLICATION_ID: i32 = 0x594D_4C4A;

/// Entries wait in `entries`, in the order they were appended. An entry the
/// server refused on replay for a reason that retrying cannot fix moves to
/// `rejected` with the server's message: never silently dropped.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS entries (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    store      TEXT NOT NULL,  -- the URI, password redacted
    experiment TEXT NOT NULL,
    run_id     TEXT NOT NULL,
    body       BLOB NOT NULL   -- BSON, see Entry
);
CREATE INDEX IF NOT EXISTS entries_by_store ON entries (store);
CREATE TABLE IF NOT EXISTS rejected (
    seq        INTEGER PRIMARY KEY,
    store      TEXT NOT NULL,
    experiment TEXT NOT NULL,
    run_id     TEXT NOT NULL,
    body       BLOB NOT NULL,
    reason     TEXT NOT NULL
);
";

/// One write, as sent and, when the server cannot be reached, journaled.
///
/// A write being sent borrows what the run made (nothing is copied unless
/// it has to wait in the journal); one read back from the journal owns
/// its parts (`Entry<'static>`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Entry<'a> {
    /// A run update, with the condition that makes it exactly-once.
    Update {
        condition: Cow<'a, Document>,
        update: Cow<'a, Document>,
        upsert: bool,
    },
    /// A run update and the points it appends to the run's series buckets
    /// (see [`crate::series::Append`]), always an upsert.
    Series {
        condition: Cow<'a, Document>,
        update: Cow<'a, Document>,
        appends: Cow<'a, [crate::series::Append]>,
    },
    /// An artifact's bytes, to be saved under a file id chosen up front
    /// (the run document already refers to it).
    Artifact {
        id: Bson,
        filename: String,
        bytes: Cow<'a, [u8]>,
    },
}

impl Entry<'_> {
    fn to_bson(&self) -> Document {
        match self {
            Entry::Update {
                condition,
                update,
                upsert,
            } => doc! {
                "kind": "update", "condition": condition.as_ref(), "update": update.as_ref(),
                "upsert": upsert,
            },
            Entry::Series {
                condition,
                update,
                appends,
            } => {
                let mut packed = Vec::new();
                crate::series::pack(appends, &mut packed);
                doc! {
                    "kind": "series", "condition": condition.as_ref(), "update": update.as_ref(),
                    "appends": Binary { subtype: BinarySubtype::Generic, bytes: packed },
                }
            }
            Entry::Artifact {
                id,
                filename,
                bytes,
            } => doc! {
                "kind": "artifact", "id": id, "filename": filename,
                "bytes": Binary { subtype: BinarySubtype::Generic, bytes: bytes.to_vec() },
            },
        }
    }

    fn from_bson(mut body: Document) -> anyhow::Result<Entry<'static>> {
        let kind = body
            .get_str("kind")
            .context("a journal entry has no kind")?;
        match kind {
            "update" => Ok(Entry::Update {
                condition: Cow::Owned(body.get_document("condition")?.clone()),
                upsert: body.get_bool("upsert")?,
                update: match body.remove("update") {
                    Some(Bson::Document(update)) => Cow::Owned(update),
                    _ => anyhow::bail!("a journaled update has no update document"),
                },
            }),
            "series" => Ok(Entry::Series {
                condition: Cow::Owned(body.get_document("condition")?.clone()),
                update: Cow::Owned(body.get_document("update")?.clone()),
                appends: Cow::Owned(crate::series::unpack(
                    &body.get_binary_generic("appends")?.clone(),
                )?),
            }),
            "artifact" => Ok(Entry::Artifact {
                id: body
                    .get("id")
                    .cloned()
                    .context("a journaled artifact has no id")?,
                filename: body.get_str("filename")?.to_owned(),
                bytes: match body.remove("bytes") {
                    Some(Bson::Binary(binary)) => Cow::Owned(binary.bytes),
                    _ => anyhow::bail!("a journaled artifact has no bytes"),
                },
            }),
            other => anyhow::bail!("unknown journal entry kind {other:?}"),
        }
    }
}

/// One journaled write, as read back for replay.
#[derive(Debug)]
pub(crate) struct Record {
    /// Its place in the journal.
    pub(crate) seq: i64,
    pub(crate) experiment: String,
    pub(crate) run_id: String,
    pub(crate) entry: Entry<'static>,
}

/// The journal of one store, in one directory. The database is created on
/// the first append, so a store that never has an outage leaves no file.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    /// The store's redacted URI: the key of its entries.
    store: String,
    conn: Mutex<Option<Connection>>,
}

impl Journal {
    /// The journal of `store` (its redacted URI) in `dir`.
    pub(crate) fn new(dir: &Path, store: &str) -> Journal {
        Journal {
            path: dir.join(JOURNAL_FILE),
            store: store.to_owned(),
            conn: Mutex::new(None),
        }
    }

    /// Where the journal lives, for messages.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The open connection, opening (and creating) the database if needed.
    fn conn(&self) -> anyhow::Result<MutexGuard<'_, Option<Connection>>> {
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        if conn.is_none() {
            *conn = Some(open(&self.path)?);
        }
        Ok(conn)
    }

    /// Appends an entry; durable when this returns.
    pub(crate) fn append(
        &self,
        experiment: &str,
        run_id: &str,
        entry: &Entry<'_>,
    ) -> anyhow::Result<()> {
        let body = entry.to_bson().to_vec()?;
        let guard = self.conn()?;
        let conn = guard.as_ref().context("journal connection")?;
        conn.prepare_cached(
            "INSERT INTO entries (store, experiment, run_id, body) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute((&self.store, experiment, run_id, &body))
        .with_context(|| format!("appending to the journal {}", self.path.display()))?;
        Ok(())
    }

    /// Whether entries of this store wait in the journal. A journal that
    /// does not exist yet has none (and is not created by asking).
    pub(crate) fn has_entries(&self) -> anyhow::Result<bool> {
        if !self.path.exists() {
            return Ok(false);
        }
        Ok(self.next_after(0)?.is_some())
    }

    /// The space replayed entries left free in the journal file, if any
    /// (`None` without a journal file, or with nothing to reclaim).
    pub(crate) fn free_bytes(&self) -> anyhow::Result<Option<u64>> {
        if !self.path.exists() {
            return Ok(None);
        }
        let guard = self.conn()?;
        let conn = guard.as_ref().context("journal connection")?;
        let free: i64 = conn.query_row("PRAGMA freelist_count", [], |row| row.get(0))?;
        let page: i64 = conn.query_row("PRAGMA page_size", [], |row| row.get(0))?;
        let bytes = u64::try_from(free.saturating_mul(page)).unwrap_or(0);
        Ok((bytes > 0).then_some(bytes))
    }

    /// Gives the space of replayed entries back to the file system: SQLite's
    /// `VACUUM` rewrites the file under its write lock, so appends by other
    /// processes wait for it and nothing is lost.
    pub(crate) fn vacuum(&self) -> anyhow::Result<()> {
        let guard = self.conn()?;
        let conn = guard.as_ref().context("journal connection")?;
        conn.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")
            .with_context(|| format!("compacting the journal {}", self.path.display()))
    }

    /// How many entries of this store wait.
    pub(crate) fn len(&self) -> anyhow::Result<u64> {
        if !self.path.exists() {
            return Ok(0);
        }
        let guard = self.conn()?;
        let conn = guard.as_ref().context("journal connection")?;
        let n: i64 = conn
            .prepare_cached("SELECT count(*) FROM entries WHERE store = ?1")?
            .query_row([&self.store], |row| row.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The oldest entry of this store after `seq`, if any.
    pub(crate) fn next_after(&self, seq: i64) -> anyhow::Result<Option<Record>> {
        let guard = self.conn()?;
        let conn = guard.as_ref().context("journal connection")?;
        let row: Option<(i64, String, String, Vec<u8>)> = conn
            .prepare_cached(
                "SELECT seq, experiment, run_id, body FROM entries
                 WHERE store = ?1 AND seq > ?2 ORDER BY seq LIMIT 1",
            )?
            .query_row((&self.store, seq), |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .optional()?;
        let Some((seq, experiment, run_id, body)) = row else {
            return Ok(None);
        };
        let entry = Document::from_reader(body.as_slice())
            .map_err(anyhow::Error::from)
            .and_then(Entry::from_bson)
            .with_context(|| format!("journal entry #{seq} is unreadable"))?;
        Ok(Some(Record {
            seq,
            experiment,
            run_id,
            entry,
        }))
    }

    /// Removes a replayed entry.
    pub(crate) fn remove(&self, seq: i64) -> anyhow::Result<()> {
        let guard = self.conn()?;
        let conn = guard.as_ref().context("journal connection")?;
        conn.prepare_cached("DELETE FROM entries WHERE seq = ?1")?
            .execute([seq])?;
        Ok(())
    }

    /// Moves an entry the server refused for good to `rejected`, with why.
    pub(crate) fn reject(&self, seq: i64, reason: &str) -> anyhow::Result<()> {
        let mut guard = self.conn()?;
        let conn = guard.as_mut().context("journal connection")?;
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO rejected (seq, store, experiment, run_id, body, reason)
             SELECT seq, store, experiment, run_id, body, ?2 FROM entries WHERE seq = ?1",
            (seq, reason),
        )?;
        tx.execute("DELETE FROM entries WHERE seq = ?1", [seq])?;
        tx.commit()?;
        Ok(())
    }

    /// How many entries of this store were rejected by the server.
    #[cfg(test)]
    pub(crate) fn rejected(&self) -> anyhow::Result<u64> {
        if !self.path.exists() {
            return Ok(0);
        }
        let guard = self.conn()?;
        let conn = guard.as_ref().context("journal connection")?;
        let n: i64 = conn
            .prepare_cached("SELECT count(*) FROM rejected WHERE store = ?1")?
            .query_row([&self.store], |row| row.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// Opens (creating if needed) the journal database, refusing a file that
/// is some other SQLite database.
fn open(path: &Path) -> anyhow::Result<Connection> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the journal directory {}", dir.display()))?;
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("opening the journal {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(30))?;
    let id: i32 = conn.query_row("PRAGMA application_id", [], |row| row.get(0))?;
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))?;
    if id != APPLICATION_ID && (id != 0 || tables > 0) {
        anyhow::bail!(
            "{} is not a yamlett journal; move it away, yamlett will not write to it",
            path.display()
        );
    }
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         PRAGMA application_id = {APPLICATION_ID}; {SCHEMA}"
    ))
    .with_context(|| format!("preparing the journal {}", path.display()))?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_in_order_per_store() {
        let dir = tempfile::tempdir().unwrap();
        let a = Journal::new(dir.path(), "mongodb://a");
        let b = Journal::new(dir.path(), "mongodb://b");
        assert!(!a.has_entries().unwrap());
        assert!(
            !dir.path().join(JOURNAL_FILE).exists(),
            "asking creates nothing"
        );
        let condition = doc! {"_yamlett.writers.w1": {"$not": {"$gte": 3_i64}}};
        let update = Entry::Update {
            condition: Cow::Borrowed(&condition),
            update: Cow::Owned(doc! {"$push": {"loss": 0.5}}),
            upsert: true,
        };
        let artifact = Entry::Artifact {
            id: Bson::ObjectId(bson::oid::ObjectId::new()),
            filename: "e/r/model".into(),
            bytes: Cow::Borrowed(&[1, 2, 3]),
        };
        a.append("e", "r", &update).unwrap();
        b.append("e", "other", &update).unwrap();
        a.append("e", "r", &artifact).unwrap();
        assert_eq!(a.len().unwrap(), 2);
        let first = a.next_after(0).unwrap().unwrap();
        assert_eq!((first.run_id.as_str(), &first.entry), ("r", &update));
        let second = a.next_after(first.seq).unwrap().unwrap();
        assert_eq!(second.entry, artifact);
        assert!(a.next_after(second.seq).unwrap().is_none());
        a.remove(first.seq).unwrap();
        a.reject(second.seq, "refused").unwrap();
        assert!(!a.has_entries().unwrap());
        assert_eq!(a.rejected().unwrap(), 1);
        assert_eq!(b.len().unwrap(), 1);
    }

    #[test]
    fn a_foreign_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE mine (x)")
            .unwrap();
        let journal = Journal::new(dir.path(), "mongodb://a");
        let err = journal
            .append(
                "e",
                "r",
                &Entry::Update {
                    condition: Cow::Owned(Document::new()),
                    update: Cow::Owned(doc! {"$set": {"a": 1}}),
                    upsert: true,
                },
            )
            .unwrap_err();
        assert!(
            format!("{err:#}").contains("not a yamlett journal"),
            "{err:#}"
        );
    }
}
