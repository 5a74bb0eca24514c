//! Replaying, on demand, the writes journaled during a MongoDB outage.
//!
//! When a write cannot reach the MongoDB server, yamlett appends it to a
//! journal on local disk (`journal.sqlite3` in `YAMLETT_JOURNAL_DIR`,
//! default `./.yamlett`) and the training loop goes on. The journal is
//! replayed in the background as soon as the server is back, and by the
//! next process that opens the same URI; [`sync`] (and the `yamlett sync`
//! command) replays it right away, for instance after a job that ended
//! during an outage.

use crate::location::Location;

/// What a replay of the journal did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncReport {
    /// Journaled writes that landed (or had landed already: each write is
    /// applied exactly once, however often it is replayed), counting those
    /// this process's background replay landed since the store was opened
    /// or last synced.
    pub replayed: u64,
    /// Journaled writes the server refused for good. They are moved to the
    /// journal's `rejected` table with the server's message, never dropped.
    pub rejected: u64,
    /// Writes still waiting because the server became unreachable again.
    pub waiting: u64,
}

/// Replays the journal of the MongoDB store at `uri` (or `YAMLETT_URI`),
/// in order, and returns what it did. The journal holds the URI without its
/// password, so the real URI must be given again here.
///
/// An unreachable server is an [`Error::Unreachable`](crate::Error::Unreachable)
/// and leaves the journal as it was; the embedded store has no journal, so
/// syncing it does nothing.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let report = yamlett::sync(Some(dir.path().to_str().unwrap()))?;
/// assert_eq!(report.replayed, 0);
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn sync(uri: Option<&str>) -> anyhow::Result<SyncReport> {
    let location = match uri {
        Some(uri) => Location::parse(uri)?,
        None => Location::from_env()?,
    };
    crate::store::open(&location)?.sync()
}

/// Waits until every write this process has made reached its store, at
/// most `YAMLETT_EXIT_DRAIN_MS` (default 10 s) per MongoDB store: the call
/// for a process that ends without dropping its runs, for instance by
/// `std::process::exit`, or with a [`Run`](crate::Run) kept in a `static`.
///
/// A run's end (`Run::finish`, or its last handle dropping) does the same
/// for its store. Writes reach the server when they return unless the
/// server was unreachable; those wait in the journal (see [`sync`]) and
/// this sends them. If the server does not take them in time, the
/// [`Error::Unreachable`](crate::Error::Unreachable) says how many writes
/// wait, in which journal, and the `yamlett sync` command that sends them
/// later. The embedded store has nothing to wait for: its writes are
/// durable when they return.
///
/// Values buffered in a guard that is still open are not writes yet: they
/// go out when the guard drops or commits. Runs left open stay `running`,
/// and read as `dead` once their heartbeat stops
/// ([`RunStatus`](crate::RunStatus)); call [`Run::finish`](crate::Run::finish)
/// on those that are done.
///
/// ```
/// # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-flush"));
/// use once_cell::sync::Lazy;
/// use yamlett::Run;
///
/// static RUN: Lazy<Run> = Lazy::new(|| Run::new().expect("a run"));
///
/// RUN.store("metrics.f1_score", 0.92)?;
/// RUN.finish()?;
/// yamlett::flush()?; // then std::process::exit(0) loses nothing
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn flush() -> anyhow::Result<()> {
    let mut first_error = None;
    // Every store gets its wait, whatever the others' outcome.
    for store in crate::store::opened() {
        if let Err(err) = store.drain() {
            first_error.get_or_insert(err);
        }
    }
    first_error.map_or(Ok(()), Err)
}
