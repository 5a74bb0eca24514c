//! Deleting, summarising, copying and garbage-collecting runs through the
//! library, on both stores.

mod common;

use std::time::Duration;

use yamlett::bson::{doc, Bson};
use yamlett::{Artifact, Experiment, GcOptions, Run};

use common::unique;

fn experiment(uri: &str, name: &str) -> anyhow::Result<Experiment> {
    Experiment::builder().uri(uri).name(name).open()
}

/// `n` finished runs with `params.i` = 0..n and a model artifact each.
fn runs(uri: &str, name: &str, n: i32) -> anyhow::Result<Vec<String>> {
    (0..n)
        .map(|i| {
            let run = Run::builder().uri(uri).experiment(name).open()?;
            run.store("params.i", i)?;
            run.store_artifact("model.weights", &vec![i; 8])?;
            run.finish()?;
            Ok(run.id().to_owned())
        })
        .collect()
}

on_both_stores!(delete_removes_matching_runs_and_their_artifacts, |uri| {
    let uri = &common::own_database(uri);
    let name = unique("delete");
    let ids = runs(uri, &name, 4)?;
    let experiment = experiment(uri, &name)?;
    let kept = experiment.find_one(doc! { "_id": &ids[0] })?.unwrap();
    assert_eq!(Artifact::of_run(&kept)[0].key, "model.weights");

    // An invalid filter deletes nothing.
    let err = experiment
        .delete(doc! { "params.i": { "$bogus": 1 } })
        .unwrap_err();
    assert!(
        matches!(err.downcast_ref(), Some(yamlett::Error::InvalidQuery(_))),
        "{err:#}"
    );
    assert_eq!(experiment.count(doc! {})?, 4);

    assert_eq!(experiment.delete(doc! { "params.i": { "$gte": 2 } })?, 2);
    assert_eq!(experiment.count(doc! {})?, 2);
    assert_eq!(experiment.delete(doc! { "params.i": 99 })?, 0);
    // The deleted runs' artifacts went with them: nothing left to collect.
    let options = GcOptions::new().min_age(Duration::ZERO).dry_run(true);
    let garbage = yamlett::gc(Some(uri), options)?;
    assert!(
        garbage.garbage.iter().all(|g| g.kind != "artifact"),
        "{garbage:?}"
    );
    // The others still load.
    let weights: Vec<i32> = experiment.load_artifact(&ids[1], "model.weights")?;
    assert_eq!(weights, vec![1; 8]);
    Ok(())
});

// Two runs holding the same bytes share one file on the embedded store:
// deleting one keeps the file for the other.
on_both_stores!(delete_keeps_artifacts_other_runs_share, |uri| {
    let name = unique("shared");
    let a = Run::builder().uri(uri).experiment(&name).open()?;
    let b = Run::builder().uri(uri).experiment(&name).open()?;
    a.store_artifact("model", &"same bytes")?;
    b.store_artifact("model", &"same bytes")?;
    let experiment = experiment(uri, &name)?;
    assert_eq!(experiment.delete(doc! { "_id": a.id() })?, 1);
    let model: String = experiment.load_artifact(b.id(), "model")?;
    assert_eq!(model, "same bytes");
    Ok(())
});

on_both_stores!(summary_counts_runs_and_last_activity, |uri| {
    let name = unique("summary");
    let experiment = experiment(uri, &name)?;
    assert_eq!(experiment.summary()?.runs, 0);
    assert_eq!(experiment.summary()?.last_activity, None);
    runs(uri, &name, 3)?;
    let last = Run::builder().uri(uri).experiment(&name).open()?;
    last.store("x", 1)?;
    let summary = experiment.summary()?;
    assert_eq!(summary.runs, 4);
    let stored = experiment.find_one(doc! { "_id": last.id() })?.unwrap();
    assert_eq!(
        summary.last_activity.as_ref(),
        Some(
            stored
                .get_document("_yamlett")?
                .get_datetime("last_modified_at")?
        )
    );
    Ok(())
});

on_both_stores!(copy_to_the_other_store_is_idempotent, |uri| {
    // Copies between this store and a store of the other kind.
    let other_dir = common::local_store();
    let other = if uri.starts_with("mongodb://") {
        other_dir.path().to_str().unwrap().to_owned()
    } else {
        common::mongodb_uri()
    };
    let name = unique("copy");
    let ids = runs(uri, &name, 3)?;
    let source = experiment(uri, &name)?;
    let target = experiment(&other, &name)?;
    let mut calls = Vec::new();
    let first = source.copy_to(&target, |done, total| calls.push((done, total)))?;
    assert_eq!(
        (
            first.copied,
            first.updated,
            first.unchanged,
            first.artifacts
        ),
        (3, 0, 0, 3)
    );
    assert_eq!(calls, [(0, 3), (3, 3)]);
    let again = source.copy_to(&target, |_, _| {})?;
    assert_eq!(
        (
            again.copied,
            again.updated,
            again.unchanged,
            again.artifacts
        ),
        (0, 0, 3, 0)
    );

    let run = Run::builder()
        .uri(uri)
        .experiment(&name)
        .id(&ids[0])
        .open()?;
    run.store("params.i", 100)?;
    run.finish()?;
    let third = source.copy_to(&target, |_, _| {})?;
    // The artifact's bytes did not change: they are not sent again.
    assert_eq!(
        (
            third.copied,
            third.updated,
            third.unchanged,
            third.artifacts
        ),
        (0, 1, 2, 0)
    );
    let copied = target.find_one(doc! { "_id": &ids[0] })?.unwrap();
    assert_eq!(
        copied.get_document("params")?.get("i"),
        Some(&Bson::Int32(100))
    );
    let weights: Vec<i32> = target.load_artifact(&ids[2], "model.weights")?;
    assert_eq!(weights, vec![2; 8]);
    Ok(())
});

on_both_stores!(gc_removes_only_what_nothing_references, |uri| {
    // A database of its own on MongoDB: with no minimum age, gc would take
    // the artifacts other tests are writing right now.
    let uri = &common::own_database(uri);
    let name = unique("gc");
    let run = Run::builder().uri(uri).experiment(&name).open()?;
    run.store_artifact("model", &vec![1_u8; 5000])?;
    run.store_artifact("model", &vec![2_u8; 5000])?;
    run.store_artifact("other", &vec![3_u8; 10])?;
    run.finish()?;

    // Young garbage stays by default.
    assert!(yamlett::gc(Some(uri), GcOptions::new())?
        .garbage
        .iter()
        .all(|g| g.kind != "artifact"));

    let now = GcOptions::new().min_age(Duration::ZERO);
    let preview = yamlett::gc(Some(uri), now.dry_run(true))?;
    let artifacts: Vec<_> = preview
        .garbage
        .iter()
        .filter(|g| g.kind == "artifact")
        .collect();
    assert_eq!(artifacts.len(), 1, "{preview:?}");
    assert!(artifacts[0].bytes >= 5000);
    assert!(preview.dry_run);
    // A dry run removed nothing: the same garbage is found again.
    let report = yamlett::gc(Some(uri), now)?;
    assert_eq!(
        report
            .garbage
            .iter()
            .filter(|g| g.kind == "artifact")
            .collect::<Vec<_>>(),
        artifacts
    );
    assert!(report.bytes() >= 5000);
    assert!(yamlett::gc(Some(uri), now)?
        .garbage
        .iter()
        .all(|g| g.kind != "artifact"));
    let experiment = experiment(uri, &name)?;
    assert_eq!(
        experiment.load_artifact::<Vec<u8>>(run.id(), "model")?,
        vec![2_u8; 5000]
    );
    assert_eq!(
        experiment.load_artifact::<Vec<u8>>(run.id(), "other")?,
        vec![3_u8; 10]
    );
    Ok(())
});

on_both_stores!(delete_and_copy_carry_metric_series, |uri| {
    let name = unique("series");
    let run = Run::builder().uri(uri).experiment(&name).open()?;
    for step in 0..2500 {
        run.log("metrics.loss", 1.0 / f64::from(step + 1))?;
    }
    run.finish()?;
    let source = experiment(uri, &name)?;
    assert_eq!(source.series_buckets(run.id())?.len(), 3);

    // Copied with the run, to the other kind of store.
    let other_dir = common::local_store();
    let other = if uri.starts_with("mongodb://") {
        other_dir.path().to_str().unwrap().to_owned()
    } else {
        common::mongodb_uri()
    };
    let target = experiment(&other, &name)?;
    let report = source.copy_to(&target, |_, _| {})?;
    assert_eq!(report.copied, 1);
    let copied = target.series(run.id(), "metrics.loss")?;
    assert_eq!(
        copied.values,
        source.series(run.id(), "metrics.loss")?.values
    );
    assert_eq!(copied.steps.len(), 2500);

    // Deleted with the run.
    assert_eq!(source.delete(doc! { "_id": run.id() })?, 1);
    assert!(source.series_buckets(run.id())?.is_empty());
    assert_eq!(target.delete(doc! {})?, 1);
    assert!(target.series_buckets(run.id())?.is_empty());
    Ok(())
});

/// Deletes the run document `run_id` the way a user's own tool would,
/// leaving its series buckets behind: mongosh on MongoDB, SQL on the
/// embedded store's database file.
fn delete_behind_yamlett(uri: &str, experiment: &Experiment, run_id: &str) -> anyhow::Result<()> {
    match experiment.collection() {
        Some(runs) => {
            let deleted = runs.delete_one(doc! { "_id": run_id }).run()?;
            assert_eq!(deleted.deleted_count, 1);
        }
        None => {
            let db = rusqlite::Connection::open(std::path::Path::new(uri).join("yamlett.sqlite3"))?;
            let deleted = db.execute(
                "DELETE FROM runs WHERE experiment = ?1 AND id = ?2",
                (experiment.name(), run_id),
            )?;
            assert_eq!(deleted, 1);
        }
    }
    assert!(experiment.find_one(doc! { "_id": run_id })?.is_none());
    Ok(())
}

/// A finished run of `name` with `points` points in the series `metrics.loss`.
fn run_with_series(uri: &str, name: &str, points: i32) -> anyhow::Result<String> {
    let run = Run::builder().uri(uri).experiment(name).open()?;
    for step in 0..points {
        run.log("metrics.loss", f64::from(step))?;
    }
    run.finish()?;
    Ok(run.id().to_owned())
}

on_both_stores!(gc_removes_series_of_runs_that_are_gone, |uri| {
    // A database of its own on MongoDB: the report lists the whole store.
    let uri = &common::own_database(uri);
    let name = unique("gc_series");
    let gone = run_with_series(uri, &name, 1500)?;
    let alive = run_with_series(uri, &name, 10)?;
    // An experiment whose only run is gone is not listed as an experiment
    // any more; its buckets are still found.
    let emptied_name = unique("gc_series_emptied");
    let emptied = run_with_series(uri, &emptied_name, 5)?;
    let emptied_experiment = experiment(uri, &emptied_name)?;
    let experiment = experiment(uri, &name)?;
    delete_behind_yamlett(uri, &experiment, &gone)?;
    delete_behind_yamlett(uri, &emptied_experiment, &emptied)?;
    assert_eq!(experiment.series_buckets(&gone)?.len(), 2);

    let series_garbage = |report: &yamlett::GcReport| {
        let mut series: Vec<_> = report
            .garbage
            .iter()
            .filter(|g| g.kind == "series")
            .cloned()
            .collect();
        series.sort_by(|a, b| a.name.cmp(&b.name));
        series
    };
    let options = GcOptions::new();
    let preview = yamlett::gc(Some(uri), options.dry_run(true))?;
    let listed = series_garbage(&preview);
    assert_eq!(listed.len(), 2, "{preview:?}");
    let of_gone = listed.iter().find(|g| g.name.contains(&gone)).unwrap();
    assert!(of_gone.name.contains(&name), "{of_gone:?}");
    // 1,500 steps, values and times of 8 bytes each at least.
    assert!(of_gone.bytes >= 1500 * 24, "{of_gone:?}");
    assert!(listed.iter().any(|g| g.name.contains(&emptied)));
    // The dry run changed nothing.
    assert_eq!(experiment.series_buckets(&gone)?.len(), 2);
    assert_eq!(emptied_experiment.series_buckets(&emptied)?.len(), 1);

    let report = yamlett::gc(Some(uri), options)?;
    assert_eq!(series_garbage(&report), listed);
    assert!(experiment.series_buckets(&gone)?.is_empty());
    assert!(emptied_experiment.series_buckets(&emptied)?.is_empty());
    assert!(series_garbage(&yamlett::gc(Some(uri), options)?).is_empty());
    // The live run's series is untouched.
    let kept = experiment.series(&alive, "metrics.loss")?;
    assert_eq!(kept.values, (0..10).map(f64::from).collect::<Vec<_>>());
    Ok(())
});
