//! The heartbeat: how a reader tells a run whose process was killed from
//! one still being written.
//!
//! A process that has runs open keeps one thread that, every interval
//! (`YAMLETT_HEARTBEAT_S`, 30 s by default), sets `_yamlett.heartbeat_at`
//! of all of them: one write per experiment on MongoDB, whatever the number
//! of runs. The thread exists only while a run is open, and ends when the
//! last one finishes. A run records the interval it was opened with
//! (`_yamlett.heartbeat_s`), so a reader judges it by the writer's setting
//! (see [`super::status`]).

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bson::DateTime;
use once_cell::sync::Lazy;

use crate::experiment::Experiment;
use crate::Error;

/// The environment variable holding the heartbeat interval, in seconds
/// (fractions allowed; default 30).
pub const HEARTBEAT_ENV: &str = "YAMLETT_HEARTBEAT_S";

/// The interval when [`HEARTBEAT_ENV`] is unset.
const DEFAULT_INTERVAL_S: f64 = 30.0;

/// The interval in seconds set by [`HEARTBEAT_ENV`], or the default.
pub(crate) fn interval_from_env() -> Result<f64, Error> {
    let Ok(text) = std::env::var(HEARTBEAT_ENV) else {
        return Ok(DEFAULT_INTERVAL_S);
    };
    match text.trim().parse::<f64>() {
        // Below a millisecond the thread would do nothing but write.
        Ok(seconds) if seconds.is_finite() && (0.001..=1e9).contains(&seconds) => Ok(seconds),
        _ => Err(Error::Config {
            reason: format!(
                "{HEARTBEAT_ENV} must be a number of seconds between 0.001 and 1e9, not {text:?}"
            ),
        }),
    }
}

/// An open run's place in the heartbeat: it beats until this is stopped
/// or dropped.
#[derive(Debug)]
pub(crate) struct Beat {
    id: u64,
}

impl Beat {
    /// Starts beating for the run `run_id` of `experiment` every
    /// `interval_s` seconds, starting the thread if none is running.
    pub(crate) fn start(experiment: &Experiment, run_id: &str, interval_s: f64) -> Beat {
        let interval = Duration::from_secs_f64(interval_s);
        let mut registry = lock();
        registry.next_id += 1;
        let id = registry.next_id;
        registry.runs.insert(
            id,
            Entry {
                experiment: experiment.clone(),
                run_id: run_id.to_owned(),
                interval,
                due: Instant::now() + interval,
            },
        );
        if !registry.thread {
            match std::thread::Builder::new()
                .name("yamlett-heartbeat".into())
                .spawn(beat)
            {
                Ok(_) => registry.thread = true,
                // The run still works; readers will only see it as dead
                // once its interval passes three times.
                Err(err) => log::warn!("yamlett: cannot start the heartbeat thread: {err}"),
            }
        }
        drop(registry);
        REGISTRY.1.notify_all();
        Beat { id }
    }

    /// Stops beating (idempotent): the run ended.
    pub(crate) fn stop(&self) {
        if lock().runs.remove(&self.id).is_some() {
            // The thread ends at once when this was the last run.
            REGISTRY.1.notify_all();
        }
    }
}

impl Drop for Beat {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The open runs of the process, and whether the thread runs.
#[derive(Default)]
struct Registry {
    next_id: u64,
    runs: BTreeMap<u64, Entry>,
    thread: bool,
}

struct Entry {
    experiment: Experiment,
    run_id: String,
    interval: Duration,
    /// When its next heartbeat is due.
    due: Instant,
}

static REGISTRY: Lazy<(Mutex<Registry>, Condvar)> = Lazy::new(Default::default);

fn lock() -> MutexGuard<'static, Registry> {
    // Every mutation is a single insert or remove: a panic cannot leave
    // the registry half-updated.
    REGISTRY.0.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The thread: sleeps until the earliest heartbeat is due, writes every due
/// one (one write per experiment), and ends when no run is open.
fn beat() {
    let mut registry = lock();
    loop {
        let Some(next) = registry.runs.values().map(|entry| entry.due).min() else {
            registry.thread = false;
            return;
        };
        let now = Instant::now();
        if next > now {
            registry = REGISTRY
                .1
                .wait_timeout(registry, next - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            continue;
        }
        let mut groups: Vec<(Experiment, Vec<String>)> = Vec::new();
        for entry in registry.runs.values_mut().filter(|entry| entry.due <= now) {
            // Missed beats (a slow write) are skipped, not sent in a burst.
            entry.due = now + entry.interval;
            match groups
                .iter_mut()
                .find(|(experiment, _)| experiment.same_as(&entry.experiment))
            {
                Some((_, ids)) => ids.push(entry.run_id.clone()),
                None => groups.push((entry.experiment.clone(), vec![entry.run_id.clone()])),
            }
        }
        // Written without the lock, so runs open and end meanwhile.
        drop(registry);
        let at = DateTime::now();
        for (experiment, ids) in groups {
            if let Err(err) = experiment.store().heartbeat(experiment.name(), &ids, at) {
                // An outage: the writes themselves report it; the next beat
                // replaces this one.
                log::debug!(
                    "yamlett: heartbeat of {} run(s) of {:?}: {err:#}",
                    ids.len(),
                    experiment.name()
                );
            }
        }
        registry = lock();
    }
}
