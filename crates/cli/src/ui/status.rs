//! A run's status, decided in one place.
//!
//! Today the stored `_yamlett.status` is the answer; when the library gains
//! its `RunStatus` rule (a `running` run whose process is gone is `dead`),
//! only [`run_status`] changes.

use yamlett::bson::Document;

/// The fields [`run_status`] reads: every projection the dashboard asks for
/// includes them.
pub const STATUS_FIELDS: &[&str] = &["_yamlett.status"];

/// Writes [`run_status`] into the document's `_yamlett.status`, so the page
/// shows the rule's answer rather than the stored word.
pub fn apply(run: &mut Document) {
    let status = run_status(run);
    if let Ok(meta) = run.get_document_mut("_yamlett") {
        meta.insert("status", status);
    }
}

/// The status the dashboard shows for a run document: `running`,
/// `finished`, `failed`, `dead`, or `unknown` when the run has none.
pub fn run_status(run: &Document) -> String {
    run.get_document("_yamlett")
        .ok()
        .and_then(|meta| meta.get_str("status").ok())
        .unwrap_or("unknown")
        .to_string()
}
