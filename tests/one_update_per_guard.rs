//! A guard costs one update command however many values it holds. Measured
//! with the server's own `serverStatus` opcounters; this is the only test in
//! its binary so no other test's writes are counted.

mod common;

use bson::doc;
use mongodb::sync::Client;
use yamlett::Run;

fn update_count(client: &Client) -> i64 {
    let status = client
        .database("admin")
        .run_command(doc! { "serverStatus": 1 })
        .run()
        .unwrap();
    let counters = status.get_document("opcounters").unwrap();
    counters
        .get_i64("update")
        .or_else(|_| counters.get_i32("update").map(i64::from))
        .unwrap()
}

#[test]
fn a_guard_sends_exactly_one_update() -> anyhow::Result<()> {
    let uri = common::mongodb_uri();
    let client = Client::with_uri_str(&uri)?;
    let run = Run::builder()
        .uri(&uri)
        .experiment(common::unique("opcount"))
        .open()?;

    let before = update_count(&client);
    {
        let _guard = run.enter();
        for i in 0..100 {
            run.store(&format!("params.p{i}"), i)?;
            run.push("metrics.loss", 1.0 / f64::from(i + 1))?;
        }
        run.store("params.model", doc! { "C": 0.1, "depth": 3 })?;
        run.store("params.model.depth", 4)?;
    }
    assert_eq!(
        update_count(&client) - before,
        1,
        "one guard, one update command"
    );

    let before = update_count(&client);
    for i in 0..20 {
        run.store(&format!("unguarded.v{i}"), i)?;
    }
    assert_eq!(
        update_count(&client) - before,
        20,
        "without a guard, one update per store"
    );

    let data = run.data()?;
    assert_eq!(
        data.get_document("params")?.get_document("model")?,
        &doc! { "C": 0.1, "depth": 4 }
    );
    assert_eq!(data.get_document("metrics")?.get_array("loss")?.len(), 100);
    Ok(())
}
