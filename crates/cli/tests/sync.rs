//! `yamlett sync` as a process: it replays, in order and once, what a
//! process that ended during a MongoDB outage left in its journal.

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use common::{assert_losses, outage_settings, stored, unique, TestServer};
use yamlett::Run;

/// The flush timeout these tests run with.
const FLUSH_TIMEOUT: Duration = Duration::from_millis(1000);

/// How long the writer's run end waits for the journal to drain (the
/// server is down then, so the test would wait this long: keep it short).
const EXIT_DRAIN: Duration = Duration::from_millis(300);

fn settings() -> std::path::PathBuf {
    outage_settings(FLUSH_TIMEOUT.as_millis() as u64)
}

fn uri(server: &TestServer) -> String {
    format!("mongodb://127.0.0.1:{}/", server.port)
}

/// One training step: a guard holding a push and a store.
fn step(run: &Run, i: i64) -> anyhow::Result<()> {
    let _guard = run.enter();
    run.push("metrics.loss", i)?;
    run.store("metrics.step", i)?;
    Ok(())
}

#[test]
fn yamlett_sync_replays_what_an_ended_process_journaled() -> anyhow::Result<()> {
    let journal = settings();
    let storage = tempfile::tempdir()?;
    let port = common::restartable_port();
    let experiment = unique("sync");
    let writer = std::process::Command::new(std::env::current_exe()?)
        .args(["journaling_writer", "--exact", "--ignored", "--nocapture"])
        .env("OUTAGE_PORT", port.to_string())
        .env("OUTAGE_STORAGE", storage.path())
        .env("OUTAGE_EXPERIMENT", &experiment)
        .env(yamlett::JOURNAL_DIR_ENV, &journal)
        .env(
            yamlett::FLUSH_TIMEOUT_ENV,
            FLUSH_TIMEOUT.as_millis().to_string(),
        )
        // The server stays down: the run's end waits this long, then warns.
        .env(yamlett::EXIT_DRAIN_ENV, EXIT_DRAIN.as_millis().to_string())
        .output()?;
    let stderr = String::from_utf8_lossy(&writer.stderr);
    assert!(writer.status.success(), "{stderr}");
    // The warning says how many writes wait, where, and how to send them.
    let warning = stderr
        .lines()
        .find(|line| line.contains("still wait in the journal"))
        .unwrap_or_else(|| panic!("no warning at the run's end: {stderr}"));
    let waiting: u64 = warning
        .split_whitespace()
        .nth(3)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{warning}"));
    assert!((1..=50).contains(&waiting), "{warning}");
    assert!(
        warning.contains(&journal.join("journal.sqlite3").display().to_string()),
        "{warning}"
    );
    assert!(
        warning.contains("yamlett sync 'mongodb://127.0.0.1:"),
        "{warning}"
    );

    let server = TestServer::start_on(port, storage.path(), &[]);
    let uri = uri(&server);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_yamlett"))
        .args(["sync", &uri])
        .env(yamlett::JOURNAL_DIR_ENV, &journal)
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // At most 49 steps and the final `finished` mark (fewer if a failed
    // flush kept its values for the next one).
    let replayed: u64 = stdout
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stdout}"));
    // Opening the store on a URI with a backlog also starts the background
    // replay, which may drain the journal before `sync` itself looks: what
    // it replayed counts too, so the number is never 0 here.
    assert!((1..=50).contains(&replayed), "{stdout}");
    let doc = stored(&uri, &experiment, "journaled");
    assert_losses(&doc, 50);
    assert_eq!(doc.get_document("_yamlett")?.get_str("status")?, "finished");

    // Replaying again finds nothing, and changes nothing.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_yamlett"))
        .args(["sync", &uri])
        .env(yamlett::JOURNAL_DIR_ENV, &journal)
        .output()?;
    assert!(String::from_utf8_lossy(&again.stdout).starts_with("0 journaled"));
    assert_losses(&stored(&uri, &experiment, "journaled"), 50);
    Ok(())
}

/// Run by `yamlett_sync_replays_what_an_ended_process_journaled` as a
/// separate process: writes 50 steps while the server is down, then exits
/// with them in the journal (after waiting `YAMLETT_EXIT_DRAIN_MS` for the
/// server, and warning).
#[test]
#[ignore]
fn journaling_writer() -> anyhow::Result<()> {
    let Ok(port) = std::env::var("OUTAGE_PORT") else {
        return Ok(());
    };
    struct Stderr;
    impl log::Log for Stderr {
        fn enabled(&self, _: &log::Metadata) -> bool {
            true
        }
        fn log(&self, record: &log::Record) {
            eprintln!("LOG {} {}", record.level(), record.args());
        }
        fn flush(&self) {}
    }
    let _ = log::set_logger(&Stderr);
    log::set_max_level(log::LevelFilter::Info);
    let storage = std::env::var("OUTAGE_STORAGE")?;
    let experiment = std::env::var("OUTAGE_EXPERIMENT")?;
    let server = TestServer::start_on(port.parse()?, std::path::Path::new(&storage), &[]);
    let run = Run::builder()
        .uri(uri(&server))
        .experiment(&experiment)
        .id("journaled")
        .open()?;
    step(&run, 0)?;
    server.stop();
    for i in 1..50 {
        step(&run, i)?;
    }
    Ok(())
}
