//! The async runtime that drives the MongoDB driver for yamlett, and the
//! `block_on` that runs a driver operation on the caller's thread, with or
//! without a deadline.
//!
//! The driver has no socket timeout (`socketTimeoutMS` and `timeoutMS` are
//! not supported by the Rust driver 3.x), and a server that stops
//! answering keeps a connection open without replying. Its sync API blocks
//! on its own runtime with no way to stop waiting, so a flush used to hand
//! its call to a helper thread and wait for the reply at most the flush
//! timeout: two thread hand-offs per write. Here the caller's thread polls
//! the driver's async operation itself, under a tokio timer, exactly as the
//! sync API polls it without one: a write costs what the raw driver's
//! costs, and stops waiting at its deadline.
//!
//! An operation cut short by its deadline is dropped: the driver closes the
//! connection it was using rather than reuse it (a connection returned
//! while a command runs is discarded), and whether the server applied the
//! write is settled by its writer stamp (see `run::Stamp`) when the
//! journaled copy is replayed.

use std::future::Future;
use std::time::Duration;

use once_cell::sync::OnceCell;
use tokio::runtime::{Handle, Runtime};

/// The runtime every MongoDB store of the process shares: the driver's
/// background tasks (server monitors, connection pools) run on its worker
/// threads; operations run on the caller's thread in [`block_on`].
static RUNTIME: OnceCell<Runtime> = OnceCell::new();

/// The shared runtime, started on first use.
pub(super) fn shared() -> std::io::Result<&'static Runtime> {
    RUNTIME.get_or_try_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("yamlett-mongodb")
            .build()
    })
}

/// Runs `operation` to completion on the calling thread.
pub(super) fn block_on<F>(runtime: &Runtime, operation: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    on_a_blocking_thread(|| runtime.block_on(operation))
}

/// Runs `operation` on the calling thread for at most `deadline`; `None`
/// if it did not finish in time (it is then dropped).
pub(super) fn block_on_within<F>(
    runtime: &Runtime,
    deadline: Duration,
    operation: F,
) -> Option<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    on_a_blocking_thread(|| {
        // The timer is made inside the runtime (it needs its clock).
        runtime
            .block_on(async { tokio::time::timeout(deadline, operation).await })
            .ok()
    })
}

/// Runs `call` here, unless this thread is inside an async runtime (a
/// caller's own tokio task), where blocking on another runtime would
/// panic: then on a scoped thread of its own, so yamlett stays usable,
/// if slower, from async code.
fn on_a_blocking_thread<T: Send>(call: impl FnOnce() -> T + Send) -> T {
    if Handle::try_current().is_err() {
        return call();
    }
    std::thread::scope(|scope| match scope.spawn(call).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn operations_finish_or_are_dropped_at_their_deadline() {
        let runtime = shared().unwrap();
        assert_eq!(block_on(runtime, async { 2 + 2 }), 4);
        let start = Instant::now();
        let slow = block_on_within(runtime, Duration::from_millis(50), async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            1
        });
        assert_eq!(slow, None);
        assert!(start.elapsed() < Duration::from_secs(4));
        let fast = block_on_within(runtime, Duration::from_secs(5), async { 7 });
        assert_eq!(fast, Some(7));
    }

    #[test]
    fn callers_inside_an_async_runtime_are_served_too() {
        let runtime = shared().unwrap();
        let theirs = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert_eq!(theirs.block_on(async { block_on(runtime, async { 5 }) }), 5);
    }
}
