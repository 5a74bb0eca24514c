//! Dead runs: a run whose process was killed reads `dead` (heartbeat on
//! both stores, the write log's lock on the embedded one), the stored
//! status is never rewritten by readers, and the run resumes by id.
//!
//! The writers are this test binary itself, run as the ignored tests below
//! with `YAMLETT_DEAD_URI` set.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bson::doc;
use common::unique;
use yamlett::{Experiment, Run, RunStatus};

/// The heartbeat interval of the writer processes, in seconds.
const INTERVAL_S: &str = "0.2";

/// A writer: opens the run, stores a value, says so, and waits to be killed.
#[test]
#[ignore = "run by the tests below as a separate process"]
fn dead_run_writer() -> anyhow::Result<()> {
    let Ok(uri) = std::env::var("YAMLETT_DEAD_URI") else {
        return Ok(());
    };
    let run = Run::builder()
        .uri(uri)
        .experiment(std::env::var("YAMLETT_DEAD_EXPERIMENT")?)
        .id(std::env::var("YAMLETT_DEAD_RUN")?)
        .open()?;
    run.store("before_kill", 1)?;
    println!("ready");
    loop {
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Names of this process's threads.
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_owned())
        .collect()
}

/// A process with no run open has no heartbeat thread; opening one starts
/// it, and it ends with the last open run. (In a process of its own: other
/// tests of this binary open runs.)
#[test]
#[ignore = "run by heartbeat_thread_lives_only_while_a_run_is_open"]
fn heartbeat_thread_probe() -> anyhow::Result<()> {
    let Ok(uri) = std::env::var("YAMLETT_DEAD_URI") else {
        return Ok(());
    };
    let beating = || {
        thread_names()
            .iter()
            .any(|name| name.starts_with("yamlett-heart"))
    };
    let experiment = Experiment::builder().uri(&uri).name("probe").open()?;
    assert!(!beating(), "a heartbeat thread before any run");
    let first = Run::builder().uri(&uri).experiment("probe").open()?;
    let second = Run::builder().uri(&uri).experiment("probe").open()?;
    // A new thread names itself once it runs: until then it has its parent's name.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !beating() {
        assert!(
            Instant::now() < deadline,
            "no heartbeat thread while runs are open: {:?}",
            thread_names()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    first.finish()?;
    assert!(beating(), "the heartbeat stopped while a run is open");
    // Heartbeats land: after several intervals the run's is newer than its open.
    let opened = experiment.find_one(doc! { "_id": second.id() })?.unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let later = experiment.find_one(doc! { "_id": second.id() })?.unwrap();
    let at = |run: &bson::Document| {
        *run.get_document("_yamlett")
            .unwrap()
            .get_datetime("heartbeat_at")
            .unwrap()
    };
    assert!(
        at(&later) > at(&opened),
        "no heartbeat in 1 s at 0.2 s intervals"
    );
    assert_eq!(later.get_document("_yamlett")?.get_f64("heartbeat_s")?, 0.2);
    drop(second);
    let deadline = Instant::now() + Duration::from_secs(5);
    while beating() {
        assert!(
            Instant::now() < deadline,
            "the heartbeat thread outlived the last run"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    println!("probe passed");
    Ok(())
}

fn child(test: &str, uri: &str, experiment: &str, run_id: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("test binary"));
    command
        .args([
            test,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("YAMLETT_DEAD_URI", uri)
        .env("YAMLETT_DEAD_EXPERIMENT", experiment)
        .env("YAMLETT_DEAD_RUN", run_id)
        .env(yamlett::HEARTBEAT_ENV, INTERVAL_S);
    command
}

on_both_stores!(heartbeat_thread_lives_only_while_a_run_is_open, |uri| {
    let output = child("heartbeat_thread_probe", uri, "probe", "unused").output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("probe passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
});

on_both_stores!(a_killed_writer_leaves_a_dead_run_that_resumes, |uri| {
    let name = unique("dead");
    let run_id = unique("victim");
    let mut writer = child("dead_run_writer", uri, &name, &run_id)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    // The test harness prints its own lines first, and "test … ... "
    // before the test's own output.
    let ready = BufReader::new(writer.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .any(|line| line.ends_with("ready"));
    assert!(ready, "the writer did not start");
    let experiment = Experiment::builder().uri(uri).name(&name).open()?;
    assert_eq!(experiment.run_status(&run_id)?, RunStatus::Running);
    // Well past three intervals: alive because its heartbeat goes on.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(experiment.run_status(&run_id)?, RunStatus::Running);

    writer.kill()?; // SIGKILL: nothing runs in the writer after this
    writer.wait()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while experiment.run_status(&run_id)? != RunStatus::Dead {
        assert!(
            Instant::now() < deadline,
            "the killed writer's run never read dead"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let stored = experiment.find_one(doc! { "_id": &run_id })?.unwrap();
    assert_eq!(
        stored.get_document("_yamlett")?.get_str("status")?,
        "running",
        "a reader rewrote the status"
    );
    assert_eq!(experiment.status(&stored), Some(RunStatus::Dead));
    assert_eq!(
        experiment.count(doc! { "_id": &run_id, "_yamlett.status": "running" })?,
        1
    );

    // Resumed by id, like any other run.
    let resumed = Run::builder()
        .uri(uri)
        .experiment(&name)
        .id(&run_id)
        .open()?;
    assert_eq!(experiment.run_status(&run_id)?, RunStatus::Running);
    resumed.store("after_resume", 2)?;
    resumed.finish()?;
    assert_eq!(experiment.run_status(&run_id)?, RunStatus::Finished);
    let data = experiment.find_one(doc! { "_id": &run_id })?.unwrap();
    assert_eq!(data.get_i32("before_kill")?, 1);
    assert_eq!(data.get_i32("after_resume")?, 2);
    Ok(())
});

#[test]
fn a_bad_heartbeat_interval_is_a_config_error() {
    // Checked in a child: the variable is process-wide.
    let dir = common::local_store();
    let output = child("dead_run_writer", dir.path().to_str().unwrap(), "bad", "r1")
        .env(yamlett::HEARTBEAT_ENV, "soon")
        .output()
        .expect("child");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(
        format!("{stdout}{stderr}").contains("YAMLETT_HEARTBEAT_S must be a number of seconds"),
        "{stdout}\n{stderr}"
    );
}
