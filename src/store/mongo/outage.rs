//! Writing through outages: the journal, the switch to it, and the replay.
//!
//! Every write (a run update or an artifact) goes through [`write`]:
//!
//! - **Online**, it is sent on the caller's thread ([`send`]) and waited
//!   for at most the flush timeout. If the server cannot be reached (no
//!   server, a dropped connection, a server shutting down or stepping down,
//!   or no reply in time), the write is appended to the journal, a warning
//!   is logged, the store goes **offline** and the caller carries on as if
//!   it had landed.
//! - **Offline**, writes go straight to the journal: no waiting at all.
//!   Meanwhile a background thread replays the journal, oldest first; while
//!   the server is away each attempt waits in the driver's server selection
//!   (which notices a returning server within half a second) for at most
//!   the flush timeout, then again after [`PROBE_INTERVAL`]. Once the
//!   journal is empty the store is online again.
//! - **Reads** ([`catch_up`]) and **the end of a run** ([`drain`]) do not
//!   wait for the background thread's pace: a query replays the journal
//!   first (read your own writes), and a run's end waits a bounded time for
//!   the journal to empty, so a process that ends normally leaves nothing
//!   behind, or says loudly what it left and how to send it.
//!
//! The decision "journal or send" and every append are made under the
//! link's lock, and the replay switches back online under that lock only
//! after seeing the journal empty, so a write can never overtake an older
//! journaled write of the same run. Replaying twice is harmless: each write
//! is conditional on its writer stamp.
//!
//! A store that has never reached its server does not journal: a wrong URI
//! is an error at `Run::open`, not a journal growing in silence.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bson::spec::BinarySubtype;
use bson::{doc, Binary, Bson, Document};
use mongodb::error::ErrorKind;

use super::Shared;
use crate::store::journal::{Entry, Record};
use crate::{Error, SyncReport};

/// How long the replay thread rests between two attempts during an outage
/// (each attempt itself waits up to the flush timeout for the server).
const PROBE_INTERVAL: Duration = Duration::from_millis(500);

/// MongoDB's duplicate key error code.
pub(super) const DUPLICATE_KEY: i32 = 11000;

/// Whether writes reach the server.
#[derive(Debug)]
pub(super) struct Link {
    state: Mutex<LinkState>,
    /// Signalled when the store comes back online, and to make the replay
    /// thread try again now rather than after its rest.
    changed: Condvar,
}

#[derive(Debug)]
struct LinkState {
    /// Writes go to the journal.
    offline: bool,
    /// Some write has reached the server (here, or in an earlier process
    /// that journaled writes for this URI).
    reached: bool,
    /// The replay thread is running. Only that thread clears it.
    replaying: bool,
    /// Someone waits for the journal: the replay thread skips its rest.
    hurry: bool,
}

impl Link {
    /// The link of a new store; `backlog` if the journal already holds
    /// writes for it, which then must land before any new one.
    pub(super) fn new(backlog: bool) -> Link {
        Link {
            state: Mutex::new(LinkState {
                offline: backlog,
                reached: backlog,
                replaying: false,
                hurry: false,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, LinkState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits on [`Link::changed`] for at most `timeout`.
    fn wait<'a>(
        &self,
        state: MutexGuard<'a, LinkState>,
        timeout: Duration,
    ) -> MutexGuard<'a, LinkState> {
        match self.changed.wait_timeout(state, timeout) {
            Ok((state, _)) => state,
            Err(poisoned) => poisoned.into_inner().0,
        }
    }
}

/// Why a write did not land.
pub(super) enum Failure {
    /// The server could not be reached (or did not answer in time).
    Outage(String),
    /// The server refused the write, or something else went wrong: the
    /// caller gets the error.
    Refused(anyhow::Error),
}

/// Sends a write, or journals it when the server cannot be reached.
pub(super) fn write(
    shared: &Arc<Shared>,
    experiment: &str,
    run_id: &str,
    entry: Entry<'_>,
) -> anyhow::Result<()> {
    if shared.link.lock().offline {
        // Checked again under the lock by `journal`, which appends only if
        // still offline; otherwise fall through and send.
        if journal(shared, experiment, run_id, &entry, None)? {
            return Ok(());
        }
    }
    match send(shared, experiment, run_id, &first_attempt(&entry)) {
        Ok(()) => {
            shared.link.lock().reached = true;
            Ok(())
        }
        Err(Failure::Outage(reason)) if shared.link.lock().reached => {
            journal(shared, experiment, run_id, &entry, Some(&reason))?;
            Ok(())
        }
        Err(Failure::Outage(reason)) => Err(Error::Unreachable {
            store: shared.location.clone(),
            reason,
        }
        .into()),
        Err(Failure::Refused(err)) => Err(err),
    }
}

/// A write as its first attempt sends it: without its exactly-once
/// condition. A writer stamp's number is new when a write is first sent,
/// so the condition cannot fail then: it only matters for a copy sent
/// again from the journal, which keeps it. Left out, it saves the server a
/// filter beyond `_id` on every write (about a tenth of an update's cost on
/// the test server).
fn first_attempt<'e>(entry: &'e Entry<'_>) -> Entry<'e> {
    match entry {
        Entry::Update { update, upsert, .. } => Entry::Update {
            condition: Cow::Owned(Document::new()),
            update: Cow::Borrowed(update.as_ref()),
            upsert: *upsert,
        },
        Entry::Series {
            update, appends, ..
        } => Entry::Series {
            condition: Cow::Owned(Document::new()),
            update: Cow::Borrowed(update.as_ref()),
            appends: Cow::Borrowed(appends.as_ref()),
        },
        Entry::Artifact {
            id,
            filename,
            bytes,
        } => Entry::Artifact {
            id: id.clone(),
            filename: filename.clone(),
            bytes: Cow::Borrowed(bytes.as_ref()),
        },
    }
}

/// Sends one journalable write now, on the calling thread, and says
/// whether it landed, could not reach the server, or was refused: the one
/// seam every write and every replay goes through, whatever the driver
/// operation behind the entry ([`apply`]).
///
/// A run update waits at most the flush timeout, then counts as an outage
/// (the operation is dropped; if the server applies it anyway, its writer
/// stamp makes the journaled copy a no-op). An artifact takes as long as
/// its size needs (the server selection timeout still bounds an
/// unreachable server).
fn send(shared: &Shared, experiment: &str, run_id: &str, entry: &Entry<'_>) -> Result<(), Failure> {
    let operation = apply(shared, experiment, run_id, entry);
    if let Entry::Artifact { .. } = entry {
        return shared.block_on(operation);
    }
    shared
        .block_on_within(shared.flush_timeout, operation)
        .unwrap_or_else(|| {
            Err(Failure::Outage(format!(
                "no reply within the flush timeout ({} ms)",
                shared.flush_timeout.as_millis()
            )))
        })
}

/// Appends a write to the journal. With `outage` (the reason a send just
/// failed) the store goes offline first; without, the write is journaled
/// only if the store is still offline, and `false` says it was not.
fn journal(
    shared: &Arc<Shared>,
    experiment: &str,
    run_id: &str,
    entry: &Entry<'_>,
    outage: Option<&str>,
) -> anyhow::Result<bool> {
    let mut link = shared.link.lock();
    match outage {
        None if !link.offline => return Ok(false),
        None => {}
        Some(reason) => {
            if !link.offline {
                log::warn!(
                    "yamlett: the MongoDB store {} is unreachable ({reason}); writes go to the \
                     journal {} until it is back, then land in order",
                    shared.location,
                    shared.journal.path().display()
                );
            }
            link.offline = true;
        }
    }
    shared
        .journal
        .append(experiment, run_id, entry)
        .map_err(|err| {
            // Neither the server nor the disk took the write: say so loudly.
            log::error!(
                "yamlett: run {run_id:?} of {experiment:?}: the store {} is unreachable and \
                 the journal cannot be written: {err:#}",
                shared.location
            );
            err
        })?;
    start_replay_locked(shared, link);
    Ok(true)
}

/// Starts the replay thread for a backlog found when the store opened.
pub(super) fn start_replay(shared: &Arc<Shared>) {
    start_replay_locked(shared, shared.link.lock());
}

/// Starts the replay thread unless it runs.
fn start_replay_locked(shared: &Arc<Shared>, mut link: MutexGuard<'_, LinkState>) {
    if link.replaying {
        return;
    }
    link.replaying = true;
    drop(link);
    spawn_replay(shared);
}

/// The replay thread: replays the journal until it is empty, trying again
/// every [`PROBE_INTERVAL`] (or at once when hurried) while the server is
/// unreachable.
fn spawn_replay(shared: &Arc<Shared>) {
    let thread_shared = Arc::clone(shared);
    let spawned = std::thread::Builder::new()
        .name("yamlett-journal".to_owned())
        .spawn(move || replay_until_drained(&thread_shared));
    if spawned.is_err() {
        // No thread: the next query, run end, `yamlett sync` or process
        // replays instead.
        shared.link.lock().replaying = false;
    }
}

fn replay_until_drained(shared: &Shared) {
    loop {
        match replay(shared) {
            Ok(Replay::Drained(report)) => {
                if report.replayed > 0 {
                    log::info!(
                        "yamlett: the MongoDB store {} is back; {} journaled writes landed",
                        shared.location,
                        report.replayed
                    );
                }
            }
            Ok(Replay::StillDown(_)) => {}
            Err(err) => log::warn!("yamlett: replaying the journal failed: {err:#}"),
        }
        let mut link = shared.link.lock();
        if !link.offline {
            // Drained, and no new outage began since: done. (One that
            // began sees `replaying` and leaves its entries to this loop.)
            link.replaying = false;
            return;
        }
        if !link.hurry {
            link = shared.link.wait(link, PROBE_INTERVAL);
        }
        link.hurry = false;
    }
}

/// Counts what replays landed or had refused, whichever thread ran them,
/// so that `yamlett sync` reports the writes that the background replay
/// (started when the store opened) landed before it got the journal.
#[derive(Debug, Default)]
pub(super) struct Tally {
    replayed: AtomicU64,
    rejected: AtomicU64,
}

impl Tally {
    /// The counts since the last call, which starts them again from zero.
    fn take(&self) -> (u64, u64) {
        (
            self.replayed.swap(0, Ordering::Relaxed),
            self.rejected.swap(0, Ordering::Relaxed),
        )
    }
}

/// How a replay ended.
enum Replay {
    /// The journal is empty and the store online.
    Drained(SyncReport),
    /// The server went away again; the rest waits.
    StillDown(SyncReport),
}

/// Replays the journal, oldest entry first, until it is empty (then the
/// store is online) or the server is unreachable.
fn replay(shared: &Shared) -> anyhow::Result<Replay> {
    // One replay at a time in this process (replays by other processes
    // are harmless, only wasted work).
    let _replaying = shared.replay.lock().unwrap_or_else(PoisonError::into_inner);
    let mut report = SyncReport::default();
    loop {
        let Some(record) = shared.journal.next_after(0)? else {
            // Only under the lock is "empty" final: an append may be
            // waiting for it right now, and must then be replayed too.
            let mut link = shared.link.lock();
            if shared.journal.has_entries()? {
                continue;
            }
            link.offline = false;
            link.reached = true;
            shared.link.changed.notify_all();
            return Ok(Replay::Drained(report));
        };
        let Record {
            seq,
            experiment,
            run_id,
            entry,
        } = record;
        match send(shared, &experiment, &run_id, &entry) {
            Ok(()) => {
                shared.journal.remove(seq)?;
                shared.replayed.replayed.fetch_add(1, Ordering::Relaxed);
                report.replayed += 1;
            }
            Err(Failure::Outage(_)) => {
                report.waiting = shared.journal.len()?;
                return Ok(Replay::StillDown(report));
            }
            Err(Failure::Refused(err)) => {
                let reason = format!("{err:#}");
                log::error!(
                    "yamlett: the server refused journaled write #{seq} to run {run_id:?} of \
                     {experiment:?}: {reason}; it is kept in the journal's `rejected` table"
                );
                shared.journal.reject(seq, &reason)?;
                shared.replayed.rejected.fetch_add(1, Ordering::Relaxed);
                report.rejected += 1;
            }
        }
    }
}

/// Replays the journal now, in the calling thread (`yamlett sync`), and
/// reports every write this process replayed since the last sync: a
/// background replay may have drained the journal first.
pub(super) fn sync(shared: &Shared) -> anyhow::Result<SyncReport> {
    match replay(shared)? {
        Replay::Drained(_) => {
            let (replayed, rejected) = shared.replayed.take();
            Ok(SyncReport {
                replayed,
                rejected,
                waiting: 0,
            })
        }
        Replay::StillDown(report) => Err(Error::Unreachable {
            store: shared.location.clone(),
            reason: format!(
                "{} writes replayed, {} still wait in the journal {}",
                report.replayed,
                report.waiting,
                shared.journal.path().display()
            ),
        }
        .into()),
    }
}

/// Before a query: replays, in the calling thread, whatever waits in the
/// journal, so the query sees every write this process made (as the
/// embedded store folds its log before a query). Nothing to do online.
/// Waits for the server as long as a query would (the server selection
/// timeout); a server that does not answer by then is
/// [`Error::Unreachable`]: the query could not have been answered either.
pub(super) fn catch_up(shared: &Shared) -> anyhow::Result<()> {
    if !shared.link.lock().offline {
        return Ok(());
    }
    let deadline = Instant::now() + shared.selection_timeout;
    loop {
        match replay(shared)? {
            Replay::Drained(_) => return Ok(()),
            Replay::StillDown(_) if Instant::now() < deadline => {
                // Each attempt waited for the server; this only keeps an
                // error that comes back at once from spinning.
                std::thread::sleep(PROBE_INTERVAL / 5);
            }
            Replay::StillDown(report) => return Err(still_down(shared, &report)),
        }
    }
}

fn still_down(shared: &Shared, report: &SyncReport) -> anyhow::Error {
    Error::Unreachable {
        store: shared.location.clone(),
        reason: format!(
            "{} writes wait in the journal {} and the server does not take them",
            report.waiting,
            shared.journal.path().display()
        ),
    }
    .into()
}

/// At the end of a run, or on [`crate::flush`]: waits at most `wait` for
/// the journal to reach the server (the replay thread does the sending,
/// hurried). If it does not, the error says how many writes wait, where,
/// and the command that sends them.
pub(super) fn drain(shared: &Arc<Shared>, wait: Duration) -> Result<(), String> {
    let deadline = Instant::now() + wait;
    let mut link = shared.link.lock();
    if !link.offline {
        return Ok(());
    }
    link.hurry = true;
    shared.link.changed.notify_all();
    if !link.replaying {
        start_replay_locked(shared, link);
        link = shared.link.lock();
    }
    while link.offline {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        link = shared.link.wait(link, left);
    }
    if !link.offline {
        return Ok(());
    }
    drop(link);
    let waiting = shared.journal.len().map_or_else(
        |err| format!("an unknown number of ({err:#})"),
        |n| n.to_string(),
    );
    let dir = shared
        .journal
        .path()
        .parent()
        .map_or_else(String::new, |dir| dir.display().to_string());
    Err(format!(
        "{waiting} writes to the MongoDB store {} still wait in the journal {}: the server did \
         not take them within {} ms ({}). They land when a process opens this store with the \
         same journal directory, or send them now with: {}='{dir}' yamlett sync '{}' (with \
         the password, if the URI has one)",
        shared.location,
        shared.journal.path().display(),
        wait.as_millis(),
        super::EXIT_DRAIN_ENV,
        super::JOURNAL_DIR_ENV,
        shared.location,
    ))
}

/// Sends one write to the server. A conditional update that the server
/// skips because its condition says it was applied before is a success.
async fn apply(
    shared: &Shared,
    experiment: &str,
    run_id: &str,
    entry: &Entry<'_>,
) -> Result<(), Failure> {
    match entry {
        Entry::Update {
            condition,
            update,
            upsert,
        } => apply_update(shared, experiment, run_id, condition, update, *upsert)
            .await
            .map(drop),
        Entry::Series {
            condition,
            update,
            appends,
        } => super::series::send(shared, experiment, run_id, condition, update, appends).await,
        Entry::Artifact {
            id,
            filename,
            bytes,
        } => upload(shared, id, filename, bytes).await,
    }
}

/// Whether a conditional update applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Applied {
    Now,
    /// The run exists but does not meet the condition: for a writer stamp,
    /// the write was applied before.
    NotNow,
}

/// Applies a run update if the run meets `condition` (creating a missing
/// run with `upsert`).
pub(super) async fn apply_update(
    shared: &Shared,
    experiment: &str,
    run_id: &str,
    condition: &Document,
    update: &Document,
    upsert: bool,
) -> Result<Applied, Failure> {
    let runs = shared.runs(experiment);
    let mut filter = doc! { "_id": run_id };
    filter.extend(condition.clone());
    match runs.update_one(filter, update.clone()).upsert(upsert).await {
        Ok(result) if upsert || result.matched_count > 0 => Ok(Applied::Now),
        Ok(_) => {
            // Not matched: a missing run, or one the condition says was
            // written already.
            let exists = runs
                .count_documents(doc! { "_id": run_id })
                .await
                .map_err(|err| classify(shared, err))?;
            if exists > 0 {
                Ok(Applied::NotNow)
            } else {
                Err(Failure::Refused(
                    Error::NotFound {
                        what: format!("run {run_id:?} in experiment {experiment:?}"),
                    }
                    .into(),
                ))
            }
        }
        // The run exists but fails the condition, so the upsert tried to
        // insert it again.
        Err(err) if !condition.is_empty() && code(&err) == Some(DUPLICATE_KEY) => {
            Ok(Applied::NotNow)
        }
        Err(err) => Err(classify(shared, err)),
    }
}

/// Saves an artifact under its chosen id, in the GridFS layout (chunks
/// first, the files document last, so a file is visible only whole).
///
/// Written by hand rather than through the driver's upload stream because
/// it must be idempotent: the same journal may be replayed by several
/// threads or processes at once, and an interrupted upload may be retried.
/// Every chunk is an upsert of identical bytes, and the files document an
/// insert whose duplicate means another replay finished first.
async fn upload(shared: &Shared, id: &Bson, filename: &str, bytes: &[u8]) -> Result<(), Failure> {
    let fail = |err| classify(shared, err);
    let bucket = super::ARTIFACT_BUCKET;
    let files = shared
        .database
        .collection::<Document>(&format!("{bucket}.files"));
    if files
        .count_documents(doc! { "_id": id })
        .await
        .map_err(fail)?
        > 0
    {
        return Ok(());
    }
    let chunks = shared
        .database
        .collection::<Document>(&format!("{bucket}.chunks"));
    // The index GridFS readers and writers rely on (the driver creates the
    // same one): one chunk per (file, n), found in order.
    chunks
        .create_index(
            mongodb::IndexModel::builder()
                .keys(doc! { "files_id": 1, "n": 1 })
                .options(
                    mongodb::options::IndexOptions::builder()
                        .unique(true)
                        .build(),
                )
                .build(),
        )
        .await
        .map_err(fail)?;
    for (n, data) in bytes.chunks(GRIDFS_CHUNK_SIZE).enumerate() {
        let n = i32::try_from(n).unwrap_or(i32::MAX);
        let chunk = doc! {
            "files_id": id.clone(),
            "n": n,
            "data": Binary { subtype: BinarySubtype::Generic, bytes: data.to_vec() },
        };
        match chunks
            .replace_one(doc! { "files_id": id.clone(), "n": n }, chunk)
            .upsert(true)
            .await
        {
            Ok(_) => {}
            // A concurrent replay inserted the same chunk first.
            Err(err) if code(&err) == Some(DUPLICATE_KEY) => {}
            Err(err) => return Err(fail(err)),
        }
    }
    let file = doc! {
        "_id": id.clone(),
        "length": i64::try_from(bytes.len()).unwrap_or(i64::MAX),
        "chunkSize": GRIDFS_CHUNK_SIZE as i32,
        "uploadDate": bson::DateTime::now(),
        "filename": filename,
        "metadata": Bson::Null,
    };
    match files.insert_one(file).await {
        Ok(_) => Ok(()),
        Err(err) if code(&err) == Some(DUPLICATE_KEY) => Ok(()),
        Err(err) => Err(fail(err)),
    }
}

/// GridFS's default chunk size, 255 KiB.
const GRIDFS_CHUNK_SIZE: usize = 255 * 1024;

/// The server's error code, if the error carries one.
fn code(err: &mongodb::error::Error) -> Option<i32> {
    match err.kind.as_ref() {
        ErrorKind::Command(command) => Some(command.code),
        ErrorKind::Write(mongodb::error::WriteFailure::WriteError(write)) => Some(write.code),
        _ => None,
    }
}

/// An outage, or a refusal with the matching [`Error`] kind.
pub(super) fn classify(shared: &Shared, err: mongodb::error::Error) -> Failure {
    let is_outage = matches!(
        err.kind.as_ref(),
        ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. }
    ) || code(&err).is_some_and(super::is_server_state_code);
    if is_outage {
        Failure::Outage(super::scrub(super::describe(&err), &shared.secrets))
    } else {
        Failure::Refused(shared.error(err))
    }
}
