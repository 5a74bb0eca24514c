//! Run, RunGuard and artifacts, on both stores.

mod common;

use std::collections::BTreeMap;

use bson::{doc, Bson, Document};
use common::unique;
use serde::{Deserialize, Serialize};
use yamlett::{Error, Experiment, Run};

fn open(uri: &str, experiment: &str) -> anyhow::Result<Run> {
    Run::builder().uri(uri).experiment(experiment).open()
}

/// The run document without `_yamlett`, whose timestamps move on every write.
fn user_data(run: &Run) -> Document {
    let mut data = run.data().expect("run data");
    data.remove("_yamlett");
    data
}

fn error_of(result: anyhow::Result<()>) -> Error {
    result
        .expect_err("the call should fail")
        .downcast::<Error>()
        .expect("a yamlett::Error")
}

on_both_stores!(stores_flat_and_nested_values, |uri| {
    let run = open(uri, &unique("nested"))?;
    let mut model = BTreeMap::new();
    model.insert("type", Bson::from("Logistic Regression"));
    model.insert("C", Bson::from(0.01));
    model.insert("fit_intercept", Bson::from(true));
    run.store("params.model", &model)?;
    run.store("data", doc! { "n_features": 91, "n_observations": 3500 })?;
    run.store("metrics.f1_score", 0.92)?;
    run.store("params_flat_C", 0.01)?;
    let data = user_data(&run);
    assert_eq!(data.get_str("_id")?, run.id());
    assert_eq!(
        data.get_document("params")?.get_document("model")?,
        &doc! { "C": 0.01, "fit_intercept": true, "type": "Logistic Regression" }
    );
    assert_eq!(
        data.get_document("data")?,
        &doc! { "n_features": 91, "n_observations": 3500 }
    );
    assert_eq!(data.get_document("metrics")?.get_f64("f1_score")?, 0.92);
    assert_eq!(data.get_f64("params_flat_C")?, 0.01);
    Ok(())
});

on_both_stores!(metadata_is_recorded, |uri| {
    let run = open(uri, &unique("meta"))?;
    run.store("x", 1)?;
    let data = run.data()?;
    let meta = data.get_document("_yamlett")?;
    assert_eq!(meta.get_str("status")?, "running");
    for field in ["created_at", "last_modified_at"] {
        assert!(
            meta.get_datetime(field).is_ok(),
            "{field} missing in {meta}"
        );
    }
    assert!(!meta.get_str("host")?.is_empty());
    assert!(meta.get_str("os")?.contains(std::env::consts::OS));
    assert_eq!(meta.get_i64("pid")?, i64::from(std::process::id()));
    assert!(!meta.get_array("command")?.is_empty());
    assert_eq!(meta.get_str("yamlett_version")?, env!("CARGO_PKG_VERSION"));
    assert_eq!(run.id().len(), 32, "uuid4 hex id");
    run.finish()?;
    let meta = run.data()?.get_document("_yamlett")?.clone();
    assert_eq!(meta.get_str("status")?, "finished");
    assert!(meta.get_datetime("ended_at").is_ok());
    Ok(())
});

on_both_stores!(dropping_the_last_handle_finishes_the_run, |uri| {
    let experiment = unique("drop");
    let id = {
        let run = open(uri, &experiment)?;
        let clone = run.clone();
        drop(run);
        clone.store("x", 1)?;
        clone.id().to_owned()
    };
    let found = Experiment::builder()
        .uri(uri)
        .name(&experiment)
        .open()?
        .find_one(doc! { "_id": &id })?
        .unwrap();
    assert_eq!(
        found.get_document("_yamlett")?.get_str("status")?,
        "finished"
    );
    Ok(())
});

on_both_stores!(push_appends_in_order, |uri| {
    let run = open(uri, &unique("push"))?;
    for loss in [0.9, 0.5, 0.25] {
        run.push("metrics.loss", loss)?;
    }
    assert_eq!(
        user_data(&run).get_document("metrics")?.get_array("loss")?,
        &vec![Bson::from(0.9), Bson::from(0.5), Bson::from(0.25)]
    );
    Ok(())
});

on_both_stores!(resume_by_id_keeps_data_and_creation_time, |uri| {
    let experiment = unique("resume");
    let first = Run::builder()
        .uri(uri)
        .experiment(&experiment)
        .id("run-a")
        .open()?;
    first.store("params.lr", 0.1)?;
    first.finish()?;
    let created = first
        .data()?
        .get_document("_yamlett")?
        .get_datetime("created_at")?
        .to_owned();
    let again = Run::builder()
        .uri(uri)
        .experiment(&experiment)
        .id("run-a")
        .open()?;
    again.store("metrics.acc", 0.8)?;
    let data = again.data()?;
    assert_eq!(data.get_document("params")?.get_f64("lr")?, 0.1);
    assert_eq!(data.get_document("metrics")?.get_f64("acc")?, 0.8);
    let meta = data.get_document("_yamlett")?;
    assert_eq!(meta.get_datetime("created_at")?, &created);
    assert_eq!(meta.get_str("status")?, "running");
    assert!(meta.get("ended_at").is_none());
    Ok(())
});

on_both_stores!(guard_buffers_until_drop_and_reads_its_writes, |uri| {
    let experiment = unique("guard");
    let run = open(uri, &experiment)?;
    let other_view = Experiment::builder().uri(uri).name(&experiment).open()?;
    {
        let _guard = run.enter();
        run.store("params.lr", 0.1)?;
        run.push("loss", 1.0)?;
        run.push("loss", 0.5)?;
        // Nothing written yet: another handle does not see it ...
        let stored = other_view.find_one(doc! { "_id": run.id() })?.unwrap();
        assert!(stored.get("params").is_none() && stored.get("loss").is_none());
        // ... but the run reads its own writes.
        let data = user_data(&run);
        assert_eq!(data.get_document("params")?.get_f64("lr")?, 0.1);
        assert_eq!(data.get_array("loss")?.len(), 2);
    }
    let stored = other_view.find_one(doc! { "_id": run.id() })?.unwrap();
    assert_eq!(stored.get_document("params")?.get_f64("lr")?, 0.1);
    assert_eq!(
        stored.get_array("loss")?,
        &vec![Bson::from(1.0), Bson::from(0.5)]
    );
    Ok(())
});

on_both_stores!(nested_guards_flush_at_the_outermost, |uri| {
    let experiment = unique("nested_guards");
    let run = open(uri, &experiment)?;
    let other_view = Experiment::builder().uri(uri).name(&experiment).open()?;
    let outer = run.enter();
    {
        let _inner = run.enter();
        run.store("a", 1)?;
    }
    assert!(other_view
        .find_one(doc! { "_id": run.id(), "a": 1 })?
        .is_none());
    drop(outer);
    assert!(other_view
        .find_one(doc! { "_id": run.id(), "a": 1 })?
        .is_some());
    Ok(())
});

on_both_stores!(commit_flushes_and_keeps_the_guard_open, |uri| {
    let experiment = unique("commit");
    let run = open(uri, &experiment)?;
    let other_view = Experiment::builder().uri(uri).name(&experiment).open()?;
    let guard = run.enter();
    run.store("step", 1)?;
    guard.commit()?;
    assert_eq!(other_view.count(doc! { "_id": run.id(), "step": 1 })?, 1);
    run.store("step", 2)?;
    assert_eq!(other_view.count(doc! { "_id": run.id(), "step": 2 })?, 0);
    drop(guard);
    assert_eq!(other_view.count(doc! { "_id": run.id(), "step": 2 })?, 1);
    Ok(())
});

// The fold rules: a guard's single update gives what sequential writes
// would have given.
on_both_stores!(guard_folds_like_sequential_writes, |uri| {
    let experiment = unique("fold");
    type Writes = Box<dyn Fn(&Run) -> anyhow::Result<()>>;
    let cases: Vec<(&str, Writes)> = vec![
        (
            "merge into stored doc",
            Box::new(|r| {
                r.store("a", doc! { "x": 1 })?;
                r.store("a.y", 2)
            }),
        ),
        (
            "parent replaces child",
            Box::new(|r| {
                r.store("a.y", 2)?;
                r.store("a", 5)
            }),
        ),
        (
            "pushes keep order",
            Box::new(|r| {
                for i in 0..5 {
                    r.push("h", i)?;
                }
                Ok(())
            }),
        ),
        (
            "store then push",
            Box::new(|r| {
                r.store("h", vec![1])?;
                r.push("h", 2)
            }),
        ),
        (
            "push then store",
            Box::new(|r| {
                r.push("h", 1)?;
                r.store("h", vec![7])
            }),
        ),
        (
            "push into stored doc",
            Box::new(|r| {
                r.store("m", doc! { "loss": [1] })?;
                r.push("m.loss", 2)
            }),
        ),
        (
            "store below a push",
            Box::new(|r| {
                r.push("h", doc! { "v": 1 })?;
                r.store("h.0.v", 9)
            }),
        ),
        (
            "siblings",
            Box::new(|r| {
                r.store("a.b", 1)?;
                r.store("a.c", 2)?;
                r.store("a-b", 3)?;
                r.store("a.b", 4)
            }),
        ),
    ];
    for (name, write) in cases {
        let sequential = open(uri, &experiment)?;
        write(&sequential)?;
        let guarded = open(uri, &experiment)?;
        {
            let _guard = guarded.enter();
            write(&guarded)?;
        }
        let mut expected = user_data(&sequential);
        let mut got = user_data(&guarded);
        expected.remove("_id");
        got.remove("_id");
        // $set of several fields creates them in lexicographic order, so
        // compare field by field.
        let sorted = |d: &Document| {
            d.iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(sorted(&got), sorted(&expected), "case {name:?}");
    }
    Ok(())
});

on_both_stores!(conflicting_writes_are_refused_and_change_nothing, |uri| {
    let run = open(uri, &unique("conflict"))?;
    run.store("a", 5)?;
    let before = user_data(&run);
    assert!(matches!(
        error_of(run.store("a.b", 1)),
        Error::Conflict { .. }
    ));
    assert!(matches!(error_of(run.push("a", 1)), Error::Conflict { .. }));
    assert_eq!(user_data(&run), before);
    {
        let _guard = run.enter();
        run.store("z", 5)?;
        assert!(matches!(error_of(run.push("z", 1)), Error::Conflict { .. }));
        assert!(matches!(
            error_of(run.store("z.q", 1)),
            Error::Conflict { .. }
        ));
    }
    assert_eq!(user_data(&run).get_i32("z")?, 5);
    Ok(())
});

on_both_stores!(a_panic_in_a_guard_flushes_and_marks_failed, |uri| {
    let run = open(uri, &unique("panic"))?;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _guard = run.enter();
        run.push("loss", 0.3).unwrap();
        panic!("training diverged");
    }));
    assert!(result.is_err());
    let data = run.data()?;
    assert_eq!(data.get_array("loss")?, &vec![Bson::from(0.3)]);
    assert_eq!(data.get_document("_yamlett")?.get_str("status")?, "failed");
    Ok(())
});

on_both_stores!(threads_share_one_run_and_its_guards, |uri| {
    let run = open(uri, &unique("threads"))?;
    std::thread::scope(|scope| {
        for t in 0..8 {
            let run = &run;
            scope.spawn(move || {
                for i in 0..50 {
                    let _guard = run.enter();
                    run.store(&format!("t{t}.v{i}"), i).unwrap();
                    run.push("all", t * 1000 + i).unwrap();
                }
            });
        }
    });
    let data = user_data(&run);
    for t in 0..8 {
        assert_eq!(data.get_document(format!("t{t}"))?.len(), 50);
    }
    let mut all: Vec<i32> = data
        .get_array("all")?
        .iter()
        .map(|v| v.as_i32().unwrap())
        .collect();
    assert_eq!(all.len(), 400);
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 400);
    Ok(())
});

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Model {
    weights: Vec<f64>,
    bias: f64,
    classes: Vec<String>,
}

on_both_stores!(artifacts_round_trip_typed, |uri| {
    let run = open(uri, &unique("artifact"))?;
    let model = Model {
        weights: vec![0.5, -1.5, 2.25],
        bias: 0.1,
        classes: vec!["setosa".into(), "versicolor".into()],
    };
    run.store_artifact("model", &model)?;
    assert_eq!(run.load_artifact::<Model>("model")?, model);
    let reference = run.data()?.get_document("model")?.clone();
    assert_eq!(reference.get_str("codec")?, "bincode-2-serde");
    assert_eq!(reference.get_str("sha256")?.len(), 64);
    assert!(reference.get_i64("size")? > 0);
    // Loading as another type is a typed error, not garbage.
    let err = run.load_artifact::<Vec<String>>("model").unwrap_err();
    assert!(
        matches!(err.downcast_ref::<Error>(), Some(Error::Artifact { .. })),
        "{err:#}"
    );
    let err = run.load_artifact::<Model>("missing").unwrap_err();
    assert!(
        matches!(err.downcast_ref::<Error>(), Some(Error::NotFound { .. })),
        "{err:#}"
    );
    run.store("plain", 1)?;
    let err = run.load_artifact::<Model>("plain").unwrap_err();
    assert!(
        matches!(err.downcast_ref::<Error>(), Some(Error::Artifact { .. })),
        "{err:#}"
    );
    Ok(())
});

on_both_stores!(artifacts_over_16_mib, |uri| {
    let run = open(uri, &unique("big_artifact"))?;
    let weights: Vec<f32> = (0..5_000_000).map(|i| i as f32 * 0.5).collect(); // ~20 MB
    run.store_artifact("weights", &weights)?;
    let loaded: Vec<f32> = run.load_artifact("weights")?;
    assert_eq!(loaded, weights);
    Ok(())
});

on_both_stores!(bad_input_is_refused_and_changes_nothing, |uri| {
    let run = open(uri, &unique("bad_input"))?;
    run.store("kept", 1)?;
    let before = user_data(&run);
    for key in [
        "",
        "a..b",
        ".a",
        "a.",
        "$set",
        "a.$x",
        "a\0b",
        "_id",
        "_yamlett",
        "_yamlett.status",
    ] {
        assert!(
            matches!(error_of(run.store(key, 1)), Error::InvalidKey { .. }),
            "store {key:?}"
        );
        assert!(
            matches!(error_of(run.push(key, 1)), Error::InvalidKey { .. }),
            "push {key:?}"
        );
        assert!(
            matches!(
                error_of(run.store_artifact(key, &1)),
                Error::InvalidKey { .. }
            ),
            "artifact {key:?}"
        );
    }
    assert!(matches!(
        error_of(run.store("big", u64::MAX)),
        Error::InvalidValue { .. }
    ));
    let mut by_tuple = BTreeMap::new();
    by_tuple.insert((1, 2), "x");
    assert!(matches!(
        error_of(run.store("tuple_keys", &by_tuple)),
        Error::InvalidValue { .. }
    ));
    let mut state_dict = BTreeMap::new();
    state_dict.insert("layer.1.weight", 0.5);
    match error_of(run.store("state", &state_dict)) {
        Error::InvalidValue { key, .. } => assert_eq!(key, "state.layer.1.weight"),
        other => panic!("{other:?}"),
    }
    // A document past 16 MiB names the key and keeps what was stored.
    let huge = "x".repeat(17 * 1024 * 1024);
    match error_of(run.store("huge", &huge)) {
        Error::DocumentTooLarge { key, .. } => assert_eq!(key, "huge"),
        other => panic!("{other:?}"),
    }
    {
        let guard = run.enter();
        run.store("huge", &huge)?;
        assert!(matches!(
            error_of(guard.commit()),
            Error::DocumentTooLarge { .. }
        ));
        // Not lost either: still buffered. Replace it with something that fits.
        run.store("huge", "small")?;
    }
    let mut after = user_data(&run);
    assert_eq!(after.remove("huge"), Some(Bson::from("small")));
    assert_eq!(after, before);
    for name in ["", "a$b", "system.users", "nul\0"] {
        let err = Run::builder().uri(uri).experiment(name).open().unwrap_err();
        assert!(
            matches!(err.downcast_ref::<Error>(), Some(Error::InvalidName { .. })),
            "{name:?}"
        );
    }
    let err = Run::builder().uri(uri).id("").open().unwrap_err();
    assert!(matches!(
        err.downcast_ref::<Error>(),
        Some(Error::InvalidName { .. })
    ));
    Ok(())
});

#[test]
fn send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Run>();
    check::<Experiment>();
    check::<yamlett::RunGuard<'static>>();
}

/// Flips one byte of every stored copy of an artifact: the file on the
/// embedded store, the GridFS chunk on MongoDB.
fn corrupt_artifact(uri: &str, run: &Run, key: &str) -> anyhow::Result<()> {
    let reference = run.data()?.get_document(key)?.clone();
    if let Some(collection) = run.experiment().collection() {
        let chunks = mongodb::sync::Client::with_uri_str(uri)?
            .database(collection.namespace().db.as_str())
            .collection::<Document>("_yamlett_artifacts.chunks");
        let file_id = reference
            .get_document("location")?
            .get("id")
            .cloned()
            .unwrap();
        let chunk = chunks
            .find_one(doc! { "files_id": &file_id, "n": 0 })
            .run()?
            .unwrap();
        let mut data = chunk.get_binary_generic("data")?.clone();
        data[0] ^= 0xff;
        let data = bson::Binary {
            subtype: bson::spec::BinarySubtype::Generic,
            bytes: data,
        };
        chunks
            .update_one(
                doc! { "_id": chunk.get("_id").unwrap() },
                doc! { "$set": { "data": data } },
            )
            .run()?;
    } else {
        let sha = reference.get_str("sha256")?;
        let mut found = 0;
        let mut dirs = vec![std::path::PathBuf::from(uri).join("artifacts")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir)? {
                let path = entry?.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.file_name().and_then(|n| n.to_str()) == Some(sha) {
                    let mut bytes = std::fs::read(&path)?;
                    bytes[0] ^= 0xff;
                    std::fs::write(&path, bytes)?;
                    found += 1;
                }
            }
        }
        assert_eq!(found, 1, "artifact file for {sha}");
    }
    Ok(())
}

on_both_stores!(a_corrupted_artifact_is_a_checksum_error, |uri| {
    let run = open(uri, &unique("corrupt"))?;
    run.store_artifact("model", &vec![1.0_f64; 1000])?;
    corrupt_artifact(uri, &run, "model")?;
    let err = run.load_artifact::<Vec<f64>>("model").unwrap_err();
    match err.downcast_ref::<Error>() {
        Some(Error::Artifact { key, reason }) => {
            assert_eq!(key, "model");
            assert!(reason.contains("checksum"), "{reason}");
        }
        other => panic!("expected a checksum error, got {other:?}: {err:#}"),
    }
    Ok(())
});

on_both_stores!(writer_stamps_work_but_stay_out_of_what_users_read, |uri| {
    let name = unique("writers");
    let run = Run::builder().uri(uri).experiment(&name).open()?;
    run.store("x", 1)?;
    let experiment = Experiment::builder().uri(uri).name(&name).open()?;
    // Stored, and filters still see it ...
    assert_eq!(
        experiment.count(doc! { "_yamlett.writers": { "$exists": true } })?,
        1
    );
    // ... but no document handed to a user shows it.
    let shown = [
        run.data()?,
        experiment.find_one(doc! { "_id": run.id() })?.unwrap(),
        experiment.find(doc! {})?.pop().unwrap(),
        experiment
            .find_with(
                doc! {},
                yamlett::FindOptions::new().projection(doc! { "_yamlett": 1 }),
            )?
            .pop()
            .unwrap(),
    ];
    for document in shown {
        let metadata = document.get_document("_yamlett")?;
        assert!(metadata.contains_key("status"), "{document}");
        assert!(!metadata.contains_key("writers"), "{document}");
    }
    Ok(())
});
