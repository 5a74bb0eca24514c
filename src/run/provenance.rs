//! Where and how a run was recorded: host, OS, process, command line, crate
//! version and the git state of the working directory.
//!
//! Computed once per process (the git calls cost milliseconds, and a sweep
//! opens hundreds of runs), then copied into each new run's metadata.

use std::process::Command;

use bson::{doc, Bson, Document};
use once_cell::sync::Lazy;

static PROVENANCE: Lazy<Document> = Lazy::new(collect);

/// The provenance fields, as stored under `_yamlett`.
pub(crate) fn provenance() -> &'static Document {
    &PROVENANCE
}

fn collect() -> Document {
    let mut fields = doc! {
        "host": hostname::get().map(|h| h.to_string_lossy().into_owned()).unwrap_or_default(),
        "os": format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
        "pid": i64::from(std::process::id()),
        "command": std::env::args_os().map(|a| Bson::String(a.to_string_lossy().into_owned())).collect::<Vec<_>>(),
        "yamlett_version": env!("CARGO_PKG_VERSION"),
    };
    if let Some(git) = git_state() {
        fields.insert("git", git);
    }
    fields
}

/// The commit, branch and dirty flag of the working directory's repository,
/// or `None` when there is no git or no repository: provenance is best
/// effort and never fails a run.
fn git_state() -> Option<Document> {
    let commit = git(&["rev-parse", "HEAD"])?;
    let branch = git(&["rev-parse", "--abbrev-ref", "HEAD"]).unwrap_or_default();
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty());
    let mut state = doc! { "commit": commit, "branch": branch };
    if let Some(dirty) = dirty {
        state.insert("dirty", dirty);
    }
    Some(state)
}

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}
