//! A run's status, decided in one place: the library's rule
//! ([`Experiment::status`]), so a `running` run whose process is gone reads
//! `dead` here as in `yamlett runs`.

use yamlett::bson::Document;
use yamlett::Experiment;

/// The fields the status rule reads (the stored status, the heartbeat and
/// its interval, the writer's log on the embedded store): every projection
/// the dashboard asks for includes them.
pub const STATUS_FIELDS: &[&str] = &[
    "_yamlett.status",
    "_yamlett.heartbeat_at",
    "_yamlett.heartbeat_s",
    "_yamlett.write_log",
];

/// Writes [`run_status`] into the document's `_yamlett.status`, so the page
/// shows the rule's answer rather than the stored word.
pub fn apply(experiment: &Experiment, run: &mut Document) {
    let status = run_status(experiment, run);
    if let Ok(meta) = run.get_document_mut("_yamlett") {
        meta.insert("status", status);
    }
}

/// The status the dashboard shows for a run document: `running`,
/// `finished`, `failed`, `dead`, or `unknown` when the run has none.
pub fn run_status(experiment: &Experiment, run: &Document) -> String {
    experiment
        .status(run)
        .map_or("unknown", |status| status.as_str())
        .to_string()
}
