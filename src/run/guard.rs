//! The RAII scope that batches a run's writes.

use std::fmt;

use super::Run;

/// A buffering scope on a [`Run`], from [`Run::enter`].
///
/// While any guard on the run is alive, `store` and `push` only buffer.
/// When the last one drops, the buffer is written as one update; errors at
/// that point are logged, so call [`commit`](RunGuard::commit) where you
/// want to handle them.
///
/// ```
/// # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-guard"));
/// let run = yamlett::Run::new()?;
/// for epoch in 0..3 {
///     let guard = run.enter();
///     run.push("loss", 1.0 / (epoch as f64 + 1.0))?;
///     run.store("epoch", epoch)?;
///     guard.commit()?; // one update per epoch, errors surfaced
/// }
/// # Ok::<(), anyhow::Error>(())
/// ```
#[must_use = "dropping the guard at once flushes at once; bind it: `let _guard = run.enter();`"]
pub struct RunGuard<'r> {
    run: &'r Run,
}

impl<'r> RunGuard<'r> {
    pub(super) fn new(run: &'r Run) -> Self {
        RunGuard { run }
    }

    /// Writes everything buffered so far as one update now, returning any
    /// error; the guard stays open and keeps buffering. On error nothing is
    /// lost: the values stay buffered for the next flush.
    pub fn commit(&self) -> anyhow::Result<()> {
        let mut state = self.run.lock();
        self.run.inner.flush(&mut state, None)
    }

    /// The run this guard buffers for.
    pub fn run(&self) -> &'r Run {
        self.run
    }
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        self.run.exit_guard();
    }
}

impl fmt::Debug for RunGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunGuard")
            .field("run", &self.run.id())
            .finish()
    }
}
