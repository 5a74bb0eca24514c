//! A guard flush with series points is one command on MongoDB: the run
//! update and every touched bucket travel in one `bulkWrite`. Measured with
//! the server's own `serverStatus` opcounters; this is the only test in its
//! binary so no other test's writes are counted.

mod common;

use bson::{doc, Document};
use mongodb::sync::Client;
use yamlett::Run;

/// Every operation the server counted, of any kind.
fn operations(client: &Client) -> (i64, Document) {
    let status = client
        .database("admin")
        .run_command(doc! { "serverStatus": 1 })
        .run()
        .unwrap();
    let counters = status.get_document("opcounters").unwrap().clone();
    let total = counters
        .values()
        .filter_map(|v| v.as_i64().or_else(|| v.as_i32().map(i64::from)))
        .sum();
    (total, counters)
}

#[test]
fn a_guard_flush_with_points_is_one_command() -> anyhow::Result<()> {
    // The drivers' monitoring `hello`s count as commands too: none during
    // the test.
    let base = common::mongodb_uri();
    let separator = if base.contains('?') { '&' } else { '?' };
    let uri = format!("{base}{separator}heartbeatFrequencyMS=600000");
    let client = Client::with_uri_str(&uri)?;
    let run = Run::builder()
        .uri(&uri)
        .experiment(common::unique("series_ops"))
        .open()?;
    // The first flush also creates the bucket index and asks the server
    // for its wire version, once per process.
    run.log("warmup", 0.0)?;

    // Each `serverStatus` counts itself once.
    let (before, counters) = operations(&client);
    for step in 0..1500 {
        let _guard = run.enter();
        run.log("metrics.loss", 1.0 / f64::from(step + 1))?;
        run.log("metrics.accuracy", f64::from(step) / 1500.0)?;
        run.store("progress.step", step)?;
    }
    let (after, counters_after) = operations(&client);
    assert_eq!(
        after - before - 1,
        1500,
        "one command per guard flush: {counters} -> {counters_after}"
    );
    assert_eq!(
        counters.get("update"),
        counters_after.get("update"),
        "the points travel in the bulkWrite, not in update commands"
    );
    assert_eq!(run.series("metrics.loss")?.len(), 1500);
    assert_eq!(run.series("metrics.accuracy")?.len(), 1500);
    Ok(())
}
