//! The write log: how a flush becomes durable with one `write(2)`.
//!
//! A training loop flushes a guard per step, and a SQLite transaction costs
//! about a dozen system calls (locks on the database and its shared memory,
//! two writes per WAL frame), 15–20 µs even for a tiny row, before a byte
//! of the run is encoded. So a flush to a run that already exists appends
//! its update document to a log file instead, in one `write`, and the
//! updates are *folded* into the database later, many in one transaction
//! (see [`super::fold`]).
//!
//! Each process (each open store, in fact) appends to a log of its own,
//! `logs/<name>.log` in the store directory, so appends never contend and a
//! record is never interleaved with another process's. The owner holds an
//! exclusive `flock` on its log for as long as it lives: a log whose lock
//! can be taken belongs to a process that ended (or was killed), and
//! whoever folds next folds it and deletes it.
//!
//! A record is framed as `[u32 length][u32 crc32][payload]` (little-endian)
//! and its payload is a BSON document: the run's row (`s`), when the flush
//! happened (`t`, a monotonic clock shared by all processes, which orders
//! the updates of one run logged by several processes; `n`, the wall clock
//! for `$currentDate`), the update (`u`) and its condition (`c`). A record
//! is complete when its checksum matches: a reader stops at the first one
//! that is not, which is either still being written (its owner is alive)
//! or was torn by a crash (its owner is dead, so it is the last one, and
//! its flush never returned).
//!
//! The file starts with a header holding a generation number. The owner
//! empties its log once everything in it is folded: the fold's transaction
//! bumps the generation recorded in the database, then the file is
//! truncated and rewritten with the new header. A file whose header is
//! older than its row (a crash between the two) holds nothing unfolded.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::Context;
use bson::{Bson, DateTime, Document};

/// The directory of the logs inside the store directory.
pub(super) const LOG_DIR: &str = "logs";

/// The first 8 bytes of every log file.
const MAGIC: &[u8; 8] = b"YMLTLOG1";

/// The header: [`MAGIC`] and the generation (u64, little-endian).
pub(super) const HEADER_LEN: u64 = 16;

/// The frame before each record's payload: its length and its crc32.
const FRAME_LEN: usize = 8;

/// One logged update, as read back: the fields a fold sorts by, and the
/// payload, decoded only when the update has to be replayed.
#[derive(Debug)]
pub(super) struct Record {
    /// The run's row (`runs.seq`).
    pub(super) seq: i64,
    /// When it was logged, in nanoseconds of the system's monotonic clock.
    pub(super) ticks: i64,
    payload: Vec<u8>,
    /// Where the packed series points (`p`) are in `payload`, if anywhere:
    /// found by the one pass that reads `s` and `t`, so a fold does not
    /// scan the record again for them.
    points: Option<std::ops::Range<usize>>,
}

/// The BSON element types a record's fields have (see
/// [`super::encode::record`]).
const DOUBLE: u8 = 0x01;
const DOCUMENT: u8 = 0x03;
const BINARY: u8 = 0x05;
const DATE_TIME: u8 = 0x09;
const INT64: u8 = 0x12;

/// Where the fields of a record's payload, a BSON document, end: its
/// last byte, after checking the length it declares.
fn fields_end(payload: &[u8]) -> anyhow::Result<usize> {
    let declared = payload
        .get(..4)
        .map(|len| i32::from_le_bytes([len[0], len[1], len[2], len[3]]));
    let whole = declared.is_some_and(|len| {
        usize::try_from(len).is_ok_and(|len| len == payload.len()) && payload.last() == Some(&0)
    });
    anyhow::ensure!(whole, "a log record is not a BSON document");
    Ok(payload.len() - 1)
}

/// The top-level field of a record's payload that starts at `at`: its
/// type, key and where its value is, read without decoding anything. A
/// fold reads three fields of every record (one per training step), and a
/// generic BSON reader spent most of a fold's time on them. Only the types
/// a record holds are known; anything else is an error.
fn field_at(payload: &[u8], at: usize, end: usize) -> anyhow::Result<(u8, &[u8], Range<usize>)> {
    let kind = payload[at];
    let key_len = payload[at + 1..end]
        .iter()
        .position(|&b| b == 0)
        .context("a log record's key is not terminated")?;
    let key = &payload[at + 1..at + 1 + key_len];
    let start = at + 1 + key_len + 1;
    let length = |extra: usize| -> anyhow::Result<usize> {
        let bytes = payload
            .get(start..start + 4)
            .context("a log record is truncated")?;
        let len = i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        Ok(usize::try_from(len).context("a negative length in a log record")? + extra)
    };
    let len = match kind {
        DOUBLE | DATE_TIME | INT64 => 8,
        DOCUMENT => length(0)?,
        BINARY => length(5)?,
        other => anyhow::bail!("a log record has a field of BSON type {other:#x}"),
    };
    anyhow::ensure!(start + len <= end, "a log record is truncated");
    Ok((kind, key, start..start + len))
}

/// A record's update, ready to replay.
pub(super) struct Logged {
    /// The wall clock at the flush, for `$currentDate`.
    pub(super) now: DateTime,
    pub(super) update: Document,
    /// The condition the run must match for the update to apply.
    pub(super) condition: Document,
}

impl Record {
    /// Reads the sort fields of a payload.
    fn from_payload(payload: &[u8]) -> anyhow::Result<Record> {
        let (mut seq, mut ticks, mut points) = (None, None, None);
        let (mut at, end) = (4, fields_end(payload)?);
        while at < end {
            let (kind, key, value) = field_at(payload, at, end)?;
            let number = || {
                payload[value.clone()]
                    .try_into()
                    .map(i64::from_le_bytes)
                    .ok()
            };
            match (kind, key) {
                (INT64, b"s") => seq = number(),
                (INT64, b"t") => ticks = number(),
                // The bytes after the binary's length and subtype.
                (BINARY, b"p") => points = Some(value.start + 5..value.end),
                _ => {}
            }
            at = value.end;
        }
        Ok(Record {
            seq: seq.context("a log record has no run (s)")?,
            ticks: ticks.context("a log record has no clock (t)")?,
            payload: payload.to_vec(),
            points,
        })
    }

    /// The series points the record carries (see [`crate::series::pack`]).
    pub(super) fn appends(&self) -> anyhow::Result<Vec<crate::series::Append>> {
        crate::series::unpack(self.packed())
    }

    /// The series points the record carries, packed (empty if none).
    pub(super) fn packed(&self) -> &[u8] {
        self.points
            .as_ref()
            .map_or(&[], |range| &self.payload[range.clone()])
    }

    /// Decodes the update.
    pub(super) fn decode(&self) -> anyhow::Result<Logged> {
        let raw = bson::RawDocument::from_bytes(&self.payload)?;
        let mut doc = super::decode::document(raw)?;
        doc.remove("p");
        let mut field = |key: &str| {
            doc.remove(key)
                .with_context(|| format!("a log record has no {key:?}"))
        };
        match (field("n")?, field("u")?, field("c")?) {
            (Bson::DateTime(now), Bson::Document(update), Bson::Document(condition)) => {
                Ok(Logged {
                    now,
                    update,
                    condition,
                })
            }
            _ => anyhow::bail!("a log record has fields of the wrong types"),
        }
    }
}

/// Frames the record of an update and its series points into `out`
/// (emptied first), ready to append: the fields of [`Record`], borrowed.
/// The writer passes the same buffer at every flush, so a flush allocates
/// nothing here once the buffer has grown to a record's size.
pub(super) fn frame(
    seq: i64,
    ticks: i64,
    now: DateTime,
    update: &Document,
    condition: &Document,
    appends: &[crate::series::Append],
    out: &mut Vec<u8>,
) -> anyhow::Result<()> {
    // The payload is written after the frame, whose length and checksum
    // are patched in once it is known.
    out.clear();
    out.extend_from_slice(&[0; FRAME_LEN]);
    super::encode::record(seq, ticks, now, update, condition, appends, out)?;
    let payload = &out[FRAME_LEN..];
    let len = u32::try_from(payload.len()).context("a log record is larger than 4 GiB")?;
    let crc = crc32fast::hash(payload);
    out[..4].copy_from_slice(&len.to_le_bytes());
    out[4..FRAME_LEN].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// The current time on the monotonic clock every process of the machine
/// shares (`CLOCK_MONOTONIC`), in nanoseconds: it orders the records of one
/// run that several processes logged, and it never goes back when the wall
/// clock is adjusted.
pub(super) fn ticks() -> i64 {
    #[cfg(unix)]
    {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid timespec for the call to write into.
        if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) } == 0 {
            // time_t and c_long are 32 bits on some targets.
            #[allow(clippy::useless_conversion)]
            return i64::from(now.tv_sec)
                .saturating_mul(1_000_000_000)
                .saturating_add(i64::from(now.tv_nsec));
        }
    }
    // Elsewhere (or should the call fail) the wall clock, which only
    // matters for runs written by several processes at once.
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// The path of the log called `name` in the store `dir`.
pub(super) fn path(dir: &Path, name: &str) -> PathBuf {
    dir.join(LOG_DIR).join(format!("{name}.log"))
}

/// This process's own log, open for appending and locked.
pub(super) struct OwnLog {
    /// Its name (the row in `logs`).
    pub(super) name: String,
    file: File,
    /// The file's length: everything appended so far.
    pub(super) len: u64,
}

impl OwnLog {
    /// Creates a new log in `dir` and locks it. It is created under a
    /// temporary name and renamed once locked, so that no other process
    /// ever sees it unlocked (and takes it for the log of a dead process).
    /// With `sync`, the file and its directory entry are on disk on return.
    pub(super) fn create(dir: &Path, generation: u64, sync: bool) -> anyhow::Result<OwnLog> {
        let logs = dir.join(LOG_DIR);
        fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
        let name = uuid::Uuid::new_v4().simple().to_string();
        let temporary = logs.join(format!("{name}.new"));
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .open(&temporary)
            .with_context(|| format!("creating {}", temporary.display()))?;
        file.try_lock()
            .with_context(|| format!("locking {}", temporary.display()))?;
        file.write_all(&header(generation))?;
        if sync {
            file.sync_all()?;
        }
        fs::rename(&temporary, path(dir, &name))
            .with_context(|| format!("renaming {}", temporary.display()))?;
        if sync {
            File::open(&logs)?.sync_all()?;
        }
        Ok(OwnLog {
            name,
            file,
            len: HEADER_LEN,
        })
    }

    /// Appends framed records in one `write`; with `sync`, waits until
    /// they are on disk.
    pub(super) fn append(&mut self, framed: &[u8], sync: bool) -> io::Result<()> {
        self.file.write_all(framed)?;
        self.len += framed.len() as u64;
        if sync {
            self.file.sync_data()?;
        }
        Ok(())
    }

    /// The records from `offset` on (see [`read_from`]).
    pub(super) fn read_from(&mut self, offset: u64) -> anyhow::Result<(Vec<Record>, u64)> {
        read_from(&mut self.file, offset)
    }

    /// Empties the log, now that everything in it is folded and the
    /// database says `generation`.
    pub(super) fn restart(&mut self, generation: u64) -> io::Result<()> {
        self.file.set_len(0)?;
        // Appending, so the header lands at the new end: offset 0.
        self.file.write_all(&header(generation))?;
        self.len = HEADER_LEN;
        Ok(())
    }
}

/// A log's header.
fn header(generation: u64) -> [u8; HEADER_LEN as usize] {
    let mut out = [0; HEADER_LEN as usize];
    out[..8].copy_from_slice(MAGIC);
    out[8..].copy_from_slice(&generation.to_le_bytes());
    out
}

/// The generation in a log file's header; `None` when the file is too
/// short to have one (being restarted) or is not a log.
pub(super) fn generation(file: &mut File) -> io::Result<Option<u64>> {
    let mut bytes = [0; HEADER_LEN as usize];
    file.seek(SeekFrom::Start(0))?;
    match file.read_exact(&mut bytes) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(err) => return Err(err),
    }
    if &bytes[..8] != MAGIC {
        return Ok(None);
    }
    let mut generation = [0; 8];
    generation.copy_from_slice(&bytes[8..]);
    Ok(Some(u64::from_le_bytes(generation)))
}

/// The complete records of `file` from `offset` on, and the offset after
/// the last of them.
pub(super) fn read_from(file: &mut File, offset: u64) -> anyhow::Result<(Vec<Record>, u64)> {
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(offset))?;
    file.read_to_end(&mut bytes)?;
    let mut records = Vec::new();
    let mut at = 0_usize;
    while let Some(frame) = bytes.get(at..at + FRAME_LEN) {
        let len = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
        let crc = u32::from_le_bytes([frame[4], frame[5], frame[6], frame[7]]);
        let Some(payload) = bytes.get(at + FRAME_LEN..at + FRAME_LEN + len) else {
            break; // still being written, or torn
        };
        if crc32fast::hash(payload) != crc {
            break;
        }
        match Record::from_payload(payload) {
            Ok(record) => records.push(record),
            Err(err) => {
                // Its checksum matched, so it was written like this: a bug,
                // not a crash. Stop here rather than fail every fold (and
                // so every query) of the store; nothing after it is lost,
                // it stays in the file.
                log::error!(
                    "yamlett: the write log record at offset {} is unreadable: {err:#}",
                    offset + at as u64
                );
                break;
            }
        }
        at += FRAME_LEN + len;
    }
    Ok((records, offset + at as u64))
}

/// Opens another process's log for reading, and tells whether its owner
/// is gone (its lock could be taken; it is then held until the file is
/// closed). `None` when the file does not exist.
pub(super) fn open_other(path: &Path) -> anyhow::Result<Option<(File, bool)>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err).with_context(|| format!("opening {}", path.display())),
    };
    let orphaned = match file.try_lock() {
        Ok(()) => true,
        Err(fs::TryLockError::WouldBlock) => false,
        Err(fs::TryLockError::Error(err)) => {
            return Err(err).with_context(|| format!("locking {}", path.display()))
        }
    };
    Ok(Some((file, orphaned)))
}
