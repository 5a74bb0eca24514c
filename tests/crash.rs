//! Crashes: a writer process killed with SIGKILL at random moments leaves an
//! embedded store that opens cleanly, holds every guard whose flush
//! returned, holds no half-applied guard, and shows no truncated artifact.
//!
//! The writer is this test binary itself, run as the ignored `crash_writer`
//! test with `YAMLETT_CRASH_STORE` set.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bson::Bson;
use yamlett::Run;

const TRIALS: u64 = 50;
const EXPERIMENT: &str = "crash";
const RUN_ID: &str = "victim";

/// The writer: guard after guard, each storing two keys and a push (and
/// every fifth an artifact), printing the step once its commit returned.
#[test]
#[ignore = "run by crash_trials as a separate process"]
fn crash_writer() -> anyhow::Result<()> {
    let Ok(dir) = std::env::var("YAMLETT_CRASH_STORE") else {
        return Ok(());
    };
    let run = Run::builder()
        .uri(dir)
        .experiment(EXPERIMENT)
        .id(RUN_ID)
        .open()?;
    for step in 0_i64.. {
        let guard = run.enter();
        run.store(&format!("a.s{step}"), step)?;
        run.push("steps", step)?;
        if step % 5 == 0 {
            run.store_artifact(&format!("artifacts.s{step}"), &vec![step; 2000])?;
        }
        run.store(&format!("b.s{step}"), step)?;
        guard.commit()?;
        drop(guard);
        println!("committed {step}");
    }
    Ok(())
}

/// A small deterministic generator, so a failing trial can be replayed.
fn delay_ms(trial: u64) -> u64 {
    let mut x = trial
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    x ^= x >> 33;
    20 + x % 400
}

#[test]
fn crash_trials() -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let mut total_committed = 0;
    for trial in 0..TRIALS {
        let dir = tempfile::tempdir()?;
        let mut child = Command::new(&exe)
            .args([
                "crash_writer",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("YAMLETT_CRASH_STORE", dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let last = Arc::new(Mutex::new(None::<i64>));
        let reader = {
            let last = Arc::clone(&last);
            let stdout = child.stdout.take().expect("piped stdout");
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Some(step) = line.strip_prefix("committed ") {
                        *last.lock().unwrap() = step.parse().ok();
                    }
                }
            })
        };
        std::thread::sleep(Duration::from_millis(delay_ms(trial)));
        child.kill()?; // SIGKILL
        child.wait()?;
        reader.join().unwrap();
        let last_committed = *last.lock().unwrap();

        let run = Run::builder()
            .uri(dir.path().to_str().unwrap())
            .experiment(EXPERIMENT)
            .id(RUN_ID)
            .open()?;
        let data = run.data()?;
        let steps: Vec<i64> = match data.get("steps") {
            Some(Bson::Array(items)) => items.iter().map(|v| v.as_i64().unwrap()).collect(),
            None => Vec::new(),
            other => panic!("trial {trial}: steps is {other:?}"),
        };
        // Every guard whose commit returned is there, in order, once.
        assert_eq!(
            steps,
            (0..steps.len() as i64).collect::<Vec<_>>(),
            "trial {trial}: steps out of order"
        );
        if let Some(last) = last_committed {
            assert!(
                steps.len() as i64 > last,
                "trial {trial}: step {last} was committed but is missing"
            );
        }
        // No half-applied guard: each step has all of its keys or none.
        for step in &steps {
            for field in ["a", "b"] {
                let value = data
                    .get_document(field)
                    .ok()
                    .and_then(|d| d.get(format!("s{step}")));
                assert_eq!(
                    value,
                    Some(&Bson::Int64(*step)),
                    "trial {trial}: {field}.s{step}"
                );
            }
            if step % 5 == 0 {
                let artifact: Vec<i64> = run.load_artifact(&format!("artifacts.s{step}"))?;
                assert_eq!(
                    artifact,
                    vec![*step; 2000],
                    "trial {trial}: artifact {step}"
                );
            }
        }
        for field in ["a", "b"] {
            let stored = data.get_document(field).map(|d| d.len()).unwrap_or(0);
            assert_eq!(
                stored,
                steps.len(),
                "trial {trial}: {field} has keys of an unfinished guard"
            );
        }
        total_committed += steps.len();
    }
    println!("{TRIALS} SIGKILL trials, {total_committed} guards recovered whole");
    Ok(())
}
