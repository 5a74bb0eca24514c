//! Garbage collection: removing what no run needs any more.
//!
//! Deleting runs ([`Experiment::delete`](crate::Experiment::delete)) takes
//! their artifacts along, but some things outlive every reference: the old
//! bytes of an artifact key stored twice, the half-written files of an
//! interrupted write, the write log of a process that died before
//! registering it, the space the outage journal kept after its entries were
//! replayed, the metric series of a run deleted by another tool. [`gc`]
//! finds them, says what they are and how big, and removes them unless
//! asked for a dry run.
//!
//! Which artifacts are referenced is read from the run documents of every
//! experiment; the store then lists what it holds and keeps every referenced
//! artifact. An artifact saved by a run whose reference is still buffered
//! in an open guard is not referenced yet: [`GcOptions::min_age`] (a day by
//! default) keeps everything younger than that.

use std::time::Duration;

use crate::location::Location;
use crate::{artifact, store, FindOptions};

/// How long [`gc`] keeps unreferenced things by default: a reference may
/// still be buffered in a guard that a long training step holds open.
pub const DEFAULT_GC_MIN_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// What [`gc`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct GcOptions {
    dry_run: bool,
    min_age: Duration,
}

impl Default for GcOptions {
    fn default() -> GcOptions {
        GcOptions {
            dry_run: false,
            min_age: DEFAULT_GC_MIN_AGE,
        }
    }
}

impl GcOptions {
    /// Remove garbage older than [`DEFAULT_GC_MIN_AGE`].
    pub fn new() -> GcOptions {
        GcOptions::default()
    }

    /// Only list what would be removed.
    pub fn dry_run(mut self, dry_run: bool) -> GcOptions {
        self.dry_run = dry_run;
        self
    }

    /// Keep unreferenced things younger than `min_age`.
    pub fn min_age(mut self, min_age: Duration) -> GcOptions {
        self.min_age = min_age;
        self
    }
}

/// One thing [`gc`] removed (or would remove, in a dry run).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Garbage {
    /// What it is: `artifact`, `temporary file`, `write log`,
    /// `orphan chunks`, `journal space`, `series` (the buckets of a run
    /// that no longer exists).
    pub kind: &'static str,
    /// Which one: a file path, or a GridFS file id.
    pub name: String,
    /// The bytes it takes.
    pub bytes: u64,
}

/// What [`gc`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GcReport {
    /// Everything removed, or that would be in a dry run.
    pub garbage: Vec<Garbage>,
    /// Whether this was a dry run (nothing was removed).
    pub dry_run: bool,
}

impl GcReport {
    /// The bytes freed (or that would be).
    pub fn bytes(&self) -> u64 {
        self.garbage.iter().map(|g| g.bytes).sum()
    }
}

/// Removes what nothing references any more from the store at `uri` (or
/// `YAMLETT_URI`), and returns what it removed.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let uri = dir.path().to_str().unwrap();
/// let run = yamlett::Run::builder().uri(uri).experiment("doc-gc").open()?;
/// run.store_artifact("model", &vec![1_u8; 100])?;
/// run.store_artifact("model", &vec![2_u8; 100])?; // the first bytes are garbage now
/// run.finish()?;
///
/// let options = yamlett::GcOptions::new().min_age(std::time::Duration::ZERO);
/// let preview = yamlett::gc(Some(uri), options.dry_run(true))?;
/// assert_eq!(preview.garbage.len(), 1);
/// let report = yamlett::gc(Some(uri), options)?;
/// assert_eq!(report.garbage, preview.garbage);
/// assert!(yamlett::gc(Some(uri), options)?.garbage.is_empty());
/// let model: Vec<u8> = yamlett::Experiment::builder().uri(uri).name("doc-gc").open()?
///     .load_artifact(run.id(), "model")?;
/// assert_eq!(model, vec![2_u8; 100]);
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn gc(uri: Option<&str>, options: GcOptions) -> anyhow::Result<GcReport> {
    let location = match uri {
        Some(uri) => Location::parse(uri)?,
        None => Location::from_env()?,
    };
    let store = store::open(&location)?;
    let mut referenced = Vec::new();
    for experiment in store.experiments()? {
        for run in store.find(&experiment, &bson::Document::new(), &FindOptions::default())? {
            referenced.extend(artifact::locations(&run));
        }
    }
    let garbage = store.garbage(&referenced, options.min_age, !options.dry_run)?;
    Ok(GcReport {
        garbage,
        dry_run: options.dry_run,
    })
}
