//! What a stored run's status means now: the rule that recognises dead
//! runs, applied by readers without ever rewriting the stored status.

use std::fmt;

use bson::{Bson, DateTime, Document};

use crate::store::Store;

/// How many heartbeat intervals may pass without one before a running run
/// counts as dead: one late beat (a slow write, a busy machine, clocks a
/// little apart) is not death.
const MISSED_BEATS: f64 = 3.0;

/// A run's status as a reader should see it, from
/// [`Experiment::status`](crate::Experiment::status) or
/// [`Experiment::run_status`](crate::Experiment::run_status).
///
/// ```
/// use yamlett::RunStatus;
/// assert_eq!(RunStatus::Dead.as_str(), "dead");
/// assert_eq!(RunStatus::Running.to_string(), "running");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RunStatus {
    /// Open in a process that is alive, as far as anyone can tell.
    Running,
    /// Ended normally: `finish()`, or its last handle dropped.
    Finished,
    /// Ended by a panic inside a guard or while its last handle dropped.
    Failed,
    /// Stored as running, but its process is gone: no heartbeat for three
    /// of its intervals (`_yamlett.heartbeat_s`), or, on the embedded store,
    /// the process that opened it provably ended (its write log is
    /// unlocked). A dead run can be resumed by id like any other.
    Dead,
}

impl RunStatus {
    /// The word for it: `running`, `finished`, `failed` or `dead`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Finished => "finished",
            RunStatus::Failed => "failed",
            RunStatus::Dead => "dead",
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status of `run` (a run document read from `store`) at `now`;
/// `None` when the document carries no status yamlett knows.
pub(crate) fn status_of(run: &Document, store: &dyn Store, now: DateTime) -> Option<RunStatus> {
    let metadata = run.get_document(crate::key::METADATA_FIELD).ok()?;
    match metadata.get_str("status").ok()? {
        "finished" => Some(RunStatus::Finished),
        "failed" => Some(RunStatus::Failed),
        "running" if heartbeat_stopped(metadata, now) || store.writer_gone(run) => {
            Some(RunStatus::Dead)
        }
        "running" => Some(RunStatus::Running),
        _ => None,
    }
}

/// Whether the run's last heartbeat is older than [`MISSED_BEATS`] of its
/// intervals. A run without heartbeat fields (recorded by an older
/// yamlett) never is.
fn heartbeat_stopped(metadata: &Document, now: DateTime) -> bool {
    let Ok(last) = metadata.get_datetime("heartbeat_at") else {
        return false;
    };
    let interval_s = match metadata.get("heartbeat_s") {
        Some(Bson::Double(s)) => *s,
        Some(Bson::Int32(s)) => f64::from(*s),
        Some(Bson::Int64(s)) => *s as f64,
        _ => return false,
    };
    let silent_ms = now
        .timestamp_millis()
        .saturating_sub(last.timestamp_millis()) as f64;
    silent_ms > MISSED_BEATS * interval_s * 1000.0
}
