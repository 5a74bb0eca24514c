//! Concurrent writers: 8 processes × 4 threads, each storing 500 values in
//! guards into its own run and pushing to shared keys of one run, all in
//! one experiment — on both stores. Every value must be there, and no
//! error may reach a caller.
//!
//! The writer processes are this test binary, run as the ignored
//! `concurrent_writer` test with `YAMLETT_CONCURRENT_URI` set.

mod common;

use std::process::{Command, Stdio};

use bson::doc;
use yamlett::{Experiment, Run};

const PROCESSES: usize = 8;
const THREADS: usize = 4;
/// Values per thread on the embedded store. The MongoDB test server (a
/// Python reimplementation, whose update cost grows with the document: the
/// shared run ends with 16,000 log entries) takes 12.5 minutes for this
/// many, so the MongoDB variant runs [`VALUES_ON_TEST_SERVER`] per thread
/// unless `YAMLETT_CONCURRENT_MONGODB_VALUES` asks for more. At 500 on the
/// test server its updates outlast the flush timeout, writers journal, and
/// the `yamlett::sync` below lands the rest: every value, once, in order.
const VALUES: i64 = 500;
const VALUES_ON_TEST_SERVER: i64 = 20;
const SHARED_RUN: &str = "shared";

#[test]
#[ignore = "run by the concurrency tests as a separate process"]
fn concurrent_writer() -> anyhow::Result<()> {
    let (Ok(uri), Ok(experiment), Ok(process), Ok(values)) = (
        std::env::var("YAMLETT_CONCURRENT_URI"),
        std::env::var("YAMLETT_CONCURRENT_EXPERIMENT"),
        std::env::var("YAMLETT_CONCURRENT_PROCESS"),
        std::env::var("YAMLETT_CONCURRENT_VALUES"),
    ) else {
        return Ok(());
    };
    let values: i64 = values.parse()?;
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let writers: Vec<_> = (0..THREADS)
            .map(|thread| {
                let (uri, experiment, process) = (&uri, &experiment, &process);
                scope.spawn(move || -> anyhow::Result<()> {
                    let own = Run::builder()
                        .uri(uri)
                        .experiment(experiment)
                        .id(format!("p{process}_t{thread}"))
                        .open()?;
                    let shared = Run::builder()
                        .uri(uri)
                        .experiment(experiment)
                        .id(SHARED_RUN)
                        .open()?;
                    for i in 0..values {
                        {
                            let guard = own.enter();
                            own.store(&format!("values.v{i}"), i)?;
                            guard.commit()?;
                        }
                        let guard = shared.enter();
                        shared.push("log", format!("p{process}_t{thread}_{i}"))?;
                        shared.push(&format!("by_process.p{process}"), i)?;
                        guard.commit()?;
                    }
                    Ok(())
                })
            })
            .collect();
        for writer in writers {
            writer.join().expect("writer thread panicked")?;
        }
        Ok(())
    })
}

fn run_writers(uri: &str, values: i64) -> anyhow::Result<()> {
    // Writers inherit the journal directory: on a server slower than the
    // flush timeout, some writes wait there when a writer exits.
    common::outage_settings(3000);
    let experiment = common::unique("concurrent");
    let exe = std::env::current_exe()?;
    let children: Vec<_> = (0..PROCESSES)
        .map(|process| {
            Command::new(&exe)
                .args([
                    "concurrent_writer",
                    "--exact",
                    "--ignored",
                    "--test-threads=1",
                ])
                .env("YAMLETT_CONCURRENT_URI", uri)
                .env("YAMLETT_CONCURRENT_EXPERIMENT", &experiment)
                .env("YAMLETT_CONCURRENT_PROCESS", process.to_string())
                .env("YAMLETT_CONCURRENT_VALUES", values.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
        })
        .collect::<Result<_, _>>()?;
    for child in children {
        let output = child.wait_with_output()?;
        assert!(
            output.status.success(),
            "a writer failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    // What a slow server left in the journal lands now (on the embedded
    // store there is no journal: nothing to do).
    yamlett::sync(Some(uri))?;
    let runs = Experiment::builder().uri(uri).name(&experiment).open()?;
    assert_eq!(runs.count(doc! {})?, (PROCESSES * THREADS + 1) as u64);
    for run in runs.find(doc! { "_id": { "$ne": SHARED_RUN } })? {
        let stored = run.get_document("values")?;
        assert_eq!(stored.len() as i64, values, "run {}", run.get_str("_id")?);
        for i in 0..values {
            assert_eq!(stored.get_i64(format!("v{i}"))?, i);
        }
    }
    let shared = runs
        .find_one(doc! { "_id": SHARED_RUN })?
        .expect("the shared run");
    let mut log: Vec<&str> = shared
        .get_array("log")?
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let total = PROCESSES * THREADS * values as usize;
    assert_eq!(log.len(), total);
    log.sort_unstable();
    log.dedup();
    assert_eq!(log.len(), total, "duplicated pushes");
    // Each process's pushes keep their per-thread order.
    for process in 0..PROCESSES {
        let pushed = shared
            .get_document("by_process")?
            .get_array(format!("p{process}"))?;
        assert_eq!(pushed.len(), THREADS * values as usize);
    }
    Ok(())
}

#[test]
fn eight_processes_of_four_threads_on_the_embedded_store() -> anyhow::Result<()> {
    let dir = common::local_store();
    run_writers(dir.path().to_str().unwrap(), VALUES)
}

#[test]
fn eight_processes_of_four_threads_on_mongodb() -> anyhow::Result<()> {
    let values = match std::env::var("YAMLETT_CONCURRENT_MONGODB_VALUES") {
        Ok(n) => n.parse()?,
        Err(_) => VALUES_ON_TEST_SERVER,
    };
    run_writers(&common::mongodb_uri(), values)
}
