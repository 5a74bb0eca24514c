//! `Experiment::find_raw`: runs one at a time as BSON bytes, on both
//! stores, giving exactly what `find_with` gives.

mod common;

use std::ops::ControlFlow;

use bson::{doc, Document};
use common::unique;
use yamlett::{Error, Experiment, FindOptions, Run};

/// More runs than the MongoDB server's first cursor batch (101), so the
/// cursor is read over several round trips.
const RUNS: usize = 250;

fn seed_runs(uri: &str, experiment: &str) -> anyhow::Result<Experiment> {
    for i in 0..RUNS {
        let run = Run::builder()
            .uri(uri)
            .experiment(experiment)
            .id(format!("run{i:03}"))
            .open()?;
        let _guard = run.enter();
        run.store("params.C", 0.01 * i as f64)?;
        run.store("params.fit_intercept", i % 2 == 0)?;
        run.store("metrics.f1_score", (i % 50) as f64 / 50.0)?;
        run.store("tags", vec!["a", "b"])?;
    }
    Experiment::builder().uri(uri).name(experiment).open()
}

/// Every run `find_raw` hands over, decoded.
fn all_raw(
    experiment: &Experiment,
    filter: Document,
    options: FindOptions,
) -> anyhow::Result<Vec<Document>> {
    let mut runs = Vec::new();
    experiment.find_raw(filter, options, |run| {
        runs.push(Document::try_from(run)?);
        Ok(ControlFlow::Continue(()))
    })?;
    Ok(runs)
}

on_both_stores!(find_raw_gives_what_find_with_gives, |uri| {
    let experiment = seed_runs(uri, &unique("find_raw_same"))?;
    let cases = [
        (doc! {}, FindOptions::new()),
        (
            doc! { "params.fit_intercept": true, "metrics.f1_score": { "$gte": 0.5 } },
            FindOptions::new(),
        ),
        (doc! {}, FindOptions::new().skip(7).limit(120)),
        (
            doc! { "params.fit_intercept": false },
            FindOptions::new().projection(doc! { "params.C": 1 }),
        ),
        (
            doc! {},
            FindOptions::new()
                .sort(doc! { "metrics.f1_score": -1, "_id": 1 })
                .skip(3)
                .limit(20),
        ),
        (doc! {}, FindOptions::new().sort(doc! { "params.C": -1 })),
    ];
    for (filter, options) in cases {
        let expected = experiment.find_with(filter.clone(), options.clone())?;
        assert!(!expected.is_empty(), "{filter} {options:?}");
        let streamed = all_raw(&experiment, filter.clone(), options.clone())?;
        assert_eq!(streamed, expected, "{filter} {options:?}");
    }
    // The writers' stamps stay hidden, as from `find`.
    let run = all_raw(&experiment, doc! { "_id": "run000" }, FindOptions::new())?;
    let meta = run[0].get_document("_yamlett")?;
    assert!(meta.contains_key("status"), "{meta}");
    assert!(!meta.contains_key("writers"), "{meta}");
    Ok(())
});

on_both_stores!(find_raw_stops_when_told_and_on_errors, |uri| {
    let experiment = seed_runs(uri, &unique("find_raw_stop"))?;
    let mut seen = Vec::new();
    experiment.find_raw(doc! {}, FindOptions::new(), |run| {
        seen.push(run.get_str("_id")?.to_owned());
        Ok(if seen.len() == 130 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        })
    })?;
    let first: Vec<String> = experiment
        .find_with(doc! {}, FindOptions::new().limit(130))?
        .iter()
        .map(|run| run.get_str("_id").unwrap().to_owned())
        .collect();
    assert_eq!(seen, first);

    // An error from the visitor ends the read and comes back as it was.
    let mut visits = 0;
    let err = experiment
        .find_raw(doc! {}, FindOptions::new(), |_| {
            visits += 1;
            if visits == 5 {
                return Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "closed").into());
            }
            Ok(ControlFlow::Continue(()))
        })
        .unwrap_err();
    assert_eq!(visits, 5);
    let io = err
        .downcast_ref::<std::io::Error>()
        .expect("the visitor's error");
    assert_eq!(io.kind(), std::io::ErrorKind::BrokenPipe);

    // The store is usable afterwards (the cursor or connection was let go).
    assert_eq!(experiment.count(doc! {})?, RUNS as u64);
    Ok(())
});

on_both_stores!(find_raw_visitors_may_call_yamlett, |uri| {
    let experiment = seed_runs(uri, &unique("find_raw_nested"))?;
    let mut checked = 0;
    experiment.find_raw(
        doc! { "params.C": { "$lt": 0.05 } },
        FindOptions::new(),
        |run| {
            let id = run.get_str("_id")?;
            // A second read while the first is open: another connection on
            // the embedded store, another round trip on MongoDB.
            let again = experiment.find_one(doc! { "_id": id })?.expect("the run");
            assert_eq!(Document::try_from(run)?, again);
            checked += 1;
            Ok(ControlFlow::Continue(()))
        },
    )?;
    assert_eq!(checked, 5);
    Ok(())
});

on_both_stores!(find_raw_refuses_bad_queries_before_visiting, |uri| {
    let experiment = seed_runs(uri, &unique("find_raw_bad"))?;
    let mut visits = 0;
    for (filter, options) in [
        (doc! { "a": { "$bogus": 1 } }, FindOptions::new()),
        (doc! {}, FindOptions::new().sort(doc! { "a": 2 })),
        (
            doc! {},
            FindOptions::new().projection(doc! { "a": 1, "b": 0 }),
        ),
    ] {
        let err = experiment
            .find_raw(filter.clone(), options, |_| {
                visits += 1;
                Ok(ControlFlow::Continue(()))
            })
            .unwrap_err();
        assert!(
            matches!(err.downcast_ref::<Error>(), Some(Error::InvalidQuery(_))),
            "{filter}: {err:#}"
        );
    }
    assert_eq!(visits, 0);
    Ok(())
});
