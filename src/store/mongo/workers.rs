//! Helper threads that run blocking driver calls, so that the caller can
//! stop waiting after a deadline.
//!
//! The Rust driver has no socket timeout, and a call can block far longer
//! than a training loop should wait: a server that stops answering keeps a
//! connection open without replying. A flush therefore hands its call to
//! an idle helper thread and waits for the reply at most the flush
//! timeout. A call that outlives the deadline keeps running on its thread;
//! whatever it does is harmless, because every write is conditional on its
//! writer stamp (see `run::Stamp`).

use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// A call handed to a helper thread.
type Job = Box<dyn FnOnce() + Send>;

/// How many helper threads may exist at once. Only calls stuck past their
/// deadline keep a thread busy for long; past this many, a flush does not
/// wait at all and its write goes straight to the journal.
const MAX_THREADS: usize = 32;

/// A pool of helper threads, grown on demand and kept idle between calls.
#[derive(Debug, Default)]
pub(super) struct Workers {
    /// The idle threads, each reached through its job channel.
    idle: Arc<Mutex<Vec<Sender<Job>>>>,
    /// How many threads exist.
    threads: Mutex<usize>,
}

impl Workers {
    /// Runs `call` on a helper thread and returns its result, or `None` if
    /// it has not finished within `timeout` (or no thread could run it).
    pub(super) fn run<T: Send + 'static>(
        &self,
        timeout: Duration,
        call: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (reply, result) = mpsc::sync_channel(1);
        let job: Job = Box::new(move || {
            // The caller may have stopped waiting; then the result goes.
            let _ = reply.send(call());
        });
        self.dispatch(job)?;
        result.recv_timeout(timeout).ok()
    }

    /// Hands `job` to an idle thread, or to a new one.
    fn dispatch(&self, mut job: Job) -> Option<()> {
        loop {
            let idle = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let Some(thread) = idle else { break };
            match thread.send(job) {
                Ok(()) => return Some(()),
                // That thread is gone (it cannot be, but then try another).
                Err(mpsc::SendError(back)) => job = back,
            }
        }
        let mut threads = self.threads.lock().unwrap_or_else(PoisonError::into_inner);
        if *threads >= MAX_THREADS {
            return None;
        }
        let (sender, jobs) = mpsc::channel::<Job>();
        // The thread keeps a sender to itself, to rejoin the idle list
        // after each job; so its channel never closes and it never exits.
        let itself = sender.clone();
        let idle = Arc::clone(&self.idle);
        std::thread::Builder::new()
            .name("yamlett-mongodb".to_owned())
            .spawn(move || {
                for job in jobs.iter() {
                    job();
                    idle.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(itself.clone());
                }
            })
            .ok()?;
        *threads += 1;
        sender.send(job).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn results_come_back_and_slow_calls_are_abandoned() {
        let workers = Workers::default();
        assert_eq!(workers.run(Duration::from_secs(5), || 2 + 2), Some(4));
        let start = Instant::now();
        let slow = workers.run(Duration::from_millis(50), || {
            std::thread::sleep(Duration::from_millis(500));
            1
        });
        assert_eq!(slow, None);
        assert!(start.elapsed() < Duration::from_millis(400));
        // Another call does not wait for the stuck one.
        assert_eq!(workers.run(Duration::from_secs(5), || 7), Some(7));
    }
}
