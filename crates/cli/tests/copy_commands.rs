//! `yamlett copy` to MongoDB sends commands per batch of runs (500), not
//! per run: counted with the server's own `serverStatus` opcounters, on a
//! server of this test's own so that no other test's commands count.

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::process::Command;

use yamlett::bson::doc;
use yamlett::mongodb::sync::Client;
use yamlett::{Experiment, Run};

/// Three batches and a part.
const RUNS: usize = 1_600;

/// Every operation the server has counted so far.
fn operations(client: &Client) -> i64 {
    let status = client
        .database("admin")
        .run_command(doc! { "serverStatus": 1 })
        .run()
        .expect("serverStatus");
    let counters = status.get_document("opcounters").expect("opcounters");
    ["insert", "query", "update", "delete", "getmore", "command"]
        .into_iter()
        .map(|name| {
            counters
                .get_i64(name)
                .or_else(|_| counters.get_i32(name).map(i64::from))
                .unwrap_or_else(|_| panic!("opcounters.{name} in {counters}"))
        })
        .sum()
}

/// What one `yamlett copy` costs the server, in operations.
fn copy(client: &Client, from: &str, to: &str, journal: &std::path::Path) -> (i64, String) {
    let before = operations(client);
    let output = Command::new(env!("CARGO_BIN_EXE_yamlett"))
        .args(["copy", "--from", from, "--to", to, "copy_commands"])
        .env_remove(yamlett::URI_ENV)
        .env(yamlett::JOURNAL_DIR_ENV, journal)
        .output()
        .expect("the yamlett binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The second serverStatus is one command more.
    let sent = operations(client) - before - 1;
    (sent, String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn copy_sends_commands_per_batch_not_per_run() -> anyhow::Result<()> {
    let storage = tempfile::tempdir()?;
    let server = common::TestServer::start(storage.path(), &[]);
    let mongodb = format!(
        "mongodb://127.0.0.1:{}/copy_commands?retryWrites=false",
        server.port
    );
    let local = common::local_store();
    let local = local.path().to_str().unwrap();
    for i in 0..RUNS {
        let run = Run::builder()
            .uri(local)
            .experiment("copy_commands")
            .id(format!("run-{i:05}"))
            .open()?;
        let _guard = run.enter();
        run.store("params", doc! { "C": i as f64, "solver": "lbfgs" })?;
        run.store("metrics.f1", 0.5)?;
        run.finish()?;
    }
    let client = Client::with_uri_str(&mongodb)?;
    let journal = tempfile::tempdir()?;

    let (first, summary) = copy(&client, local, &mongodb, journal.path());
    assert!(
        summary.starts_with(&format!("copied {RUNS}, updated 0, unchanged 0")),
        "{summary}"
    );
    // Per batch: one find of the destination's versions (and its getMores),
    // one update; plus the connection's handshakes and the experiment list.
    // One command per run would be 1,600 and more.
    assert!(
        first <= 30,
        "the first copy sent {first} operations for {RUNS} runs"
    );
    let (again, summary) = copy(&client, local, &mongodb, journal.path());
    assert!(
        summary.starts_with(&format!("copied 0, updated 0, unchanged {RUNS}")),
        "{summary}"
    );
    assert!(
        again <= 30,
        "the second copy sent {again} operations for {RUNS} runs"
    );
    eprintln!("operations: first copy {first}, second copy {again}, for {RUNS} runs");

    let target = Experiment::builder()
        .uri(&mongodb)
        .name("copy_commands")
        .open()?;
    assert_eq!(target.count(doc! {})?, RUNS as u64);
    server.stop();
    Ok(())
}
