//! Writing through outages: the journal, the switch to it, and the replay.
//!
//! Every write (a run update or an artifact) goes through [`write`]:
//!
//! - **Online**, it is sent on a helper thread and waited for at most the
//!   flush timeout. If the server cannot be reached (no server, a dropped
//!   connection, a server shutting down or stepping down, or no reply in
//!   time), the write is appended to the journal, a warning is logged, the
//!   store goes **offline** and the caller carries on as if it had landed.
//! - **Offline**, writes go straight to the journal: no waiting at all.
//!   Meanwhile a background thread probes the server by replaying the
//!   journal, oldest first, every [`PROBE_INTERVAL`]; once the journal is
//!   empty the store is online again.
//!
//! The decision "journal or send" and every append are made under the
//! link's lock, and the replay switches back online under that lock only
//! after seeing the journal empty, so a write can never overtake an older
//! journaled write of the same run. Replaying twice is harmless: each write
//! is conditional on its writer stamp.
//!
//! A store that has never reached its server does not journal: a wrong URI
//! is an error at `Run::open`, not a journal growing in silence.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bson::spec::BinarySubtype;
use bson::{doc, Binary, Bson, Document};
use mongodb::error::ErrorKind;

use super::Shared;
use crate::store::journal::{Entry, Record};
use crate::{Error, SyncReport};

/// How long the replay thread waits between two attempts during an outage.
const PROBE_INTERVAL: Duration = Duration::from_millis(500);

/// MongoDB's duplicate key error code.
pub(super) const DUPLICATE_KEY: i32 = 11000;

/// Whether writes reach the server.
#[derive(Debug)]
pub(super) struct Link {
    state: Mutex<LinkState>,
}

#[derive(Debug)]
struct LinkState {
    /// Writes go to the journal.
    offline: bool,
    /// Some write has reached the server (here, or in an earlier process
    /// that journaled writes for this URI).
    reached: bool,
    /// The replay thread is running.
    replaying: bool,
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
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, LinkState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
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
    entry: Entry,
) -> anyhow::Result<()> {
    if shared.link.lock().offline {
        // Checked again under the lock by `journal`, which appends only if
        // still offline; otherwise fall through and send.
        if journal(shared, experiment, run_id, &entry, None)? {
            return Ok(());
        }
    }
    let outcome = if let Entry::Artifact { .. } = entry {
        // Uploads take as long as their size needs, so they are not cut
        // short by the flush timeout (the server selection timeout still
        // bounds an unreachable server).
        apply(shared, experiment, run_id, &entry)
    } else {
        let worker_shared = Arc::clone(shared);
        let (experiment, run_id, sent) = (experiment.to_owned(), run_id.to_owned(), entry.clone());
        shared
            .workers
            .run(shared.flush_timeout, move || {
                apply(&worker_shared, &experiment, &run_id, &sent)
            })
            .unwrap_or_else(|| {
                Err(Failure::Outage(format!(
                    "no reply within the flush timeout ({} ms)",
                    shared.flush_timeout.as_millis()
                )))
            })
    };
    match outcome {
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

/// Appends a write to the journal. With `outage` (the reason a send just
/// failed) the store goes offline first; without, the write is journaled
/// only if the store is still offline, and `false` says it was not.
fn journal(
    shared: &Arc<Shared>,
    experiment: &str,
    run_id: &str,
    entry: &Entry,
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
    if !link.replaying {
        link.replaying = true;
        drop(link);
        spawn_replay(shared);
    }
    Ok(true)
}

/// Starts the replay thread for a backlog found when the store opened.
pub(super) fn start_replay(shared: &Arc<Shared>) {
    let mut link = shared.link.lock();
    if !link.replaying {
        link.replaying = true;
        drop(link);
        spawn_replay(shared);
    }
}

/// The replay thread: replays the journal until it is empty, probing the
/// server every [`PROBE_INTERVAL`] while it is unreachable.
fn spawn_replay(shared: &Arc<Shared>) {
    let thread_shared = Arc::clone(shared);
    let spawned = std::thread::Builder::new()
        .name("yamlett-journal".to_owned())
        .spawn(move || loop {
            let shared = &thread_shared;
            match replay(shared) {
                Ok(Replay::Drained(report)) => {
                    if report.replayed > 0 {
                        log::info!(
                            "yamlett: the MongoDB store {} is back; {} journaled writes landed",
                            shared.location,
                            report.replayed
                        );
                    }
                    return;
                }
                Ok(Replay::StillDown(_)) => {}
                Err(err) => log::warn!("yamlett: replaying the journal failed: {err:#}"),
            }
            std::thread::sleep(PROBE_INTERVAL);
        });
    if spawned.is_err() {
        // No thread: the next `yamlett sync` or process replays instead.
        shared.link.lock().replaying = false;
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
            link.replaying = false;
            link.reached = true;
            return Ok(Replay::Drained(report));
        };
        let Record {
            seq,
            experiment,
            run_id,
            entry,
        } = record;
        match apply(shared, &experiment, &run_id, &entry) {
            Ok(()) => {
                shared.journal.remove(seq)?;
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
                report.rejected += 1;
            }
        }
    }
}

/// Replays the journal now, in the calling thread (`yamlett sync`).
pub(super) fn sync(shared: &Shared) -> anyhow::Result<SyncReport> {
    match replay(shared)? {
        Replay::Drained(report) => Ok(report),
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

/// Sends one write to the server. A conditional update that the server
/// skips because its condition says it was applied before is a success.
fn apply(shared: &Shared, experiment: &str, run_id: &str, entry: &Entry) -> Result<(), Failure> {
    match entry {
        Entry::Update {
            condition,
            update,
            upsert,
        } => apply_update(shared, experiment, run_id, condition, update, *upsert),
        Entry::Series {
            condition,
            update,
            appends,
        } => super::series::send(shared, experiment, run_id, condition, update, appends),
        Entry::Artifact {
            id,
            filename,
            bytes,
        } => upload(shared, id, filename, bytes),
    }
}

pub(super) fn apply_update(
    shared: &Shared,
    experiment: &str,
    run_id: &str,
    condition: &Document,
    update: &Document,
    upsert: bool,
) -> Result<(), Failure> {
    let runs = shared.runs(experiment);
    let mut filter = doc! { "_id": run_id };
    filter.extend(condition.clone());
    match runs.update_one(filter, update.clone()).upsert(upsert).run() {
        Ok(result) if upsert || result.matched_count > 0 => Ok(()),
        Ok(_) => {
            // Not matched: a missing run, or one the condition says was
            // written already.
            let exists = runs
                .count_documents(doc! { "_id": run_id })
                .run()
                .map_err(|err| classify(shared, err))?;
            if exists > 0 {
                Ok(())
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
        // insert it again: the write was applied before.
        Err(err) if !condition.is_empty() && code(&err) == Some(DUPLICATE_KEY) => Ok(()),
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
fn upload(shared: &Shared, id: &Bson, filename: &str, bytes: &[u8]) -> Result<(), Failure> {
    let fail = |err| classify(shared, err);
    let bucket = super::ARTIFACT_BUCKET;
    let files = shared
        .database
        .collection::<Document>(&format!("{bucket}.files"));
    if files
        .count_documents(doc! { "_id": id })
        .run()
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
        .run()
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
            .run()
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
    match files.insert_one(file).run() {
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
