//! Experiment queries, on both stores.

mod common;

use bson::{doc, Bson, Document};
use common::unique;
use yamlett::{Error, Experiment, FindOptions, Run};

/// Ten runs shaped like the seed README's: params.model, data, metrics.
fn seed_runs(uri: &str, experiment: &str) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    for i in 0..10 {
        let run = Run::builder()
            .uri(uri)
            .experiment(experiment)
            .id(format!("run{i}"))
            .open()?;
        let _guard = run.enter();
        run.store(
            "params.model",
            doc! { "type": "Logistic Regression", "C": 0.01 * f64::from(i + 1), "fit_intercept": i % 2 == 0 },
        )?;
        run.store(
            "data",
            doc! { "n_features": 91, "n_observations": 1000 * i },
        )?;
        run.store("metrics.f1_score", 0.8 + 0.02 * f64::from(i))?;
        ids.push(run.id().to_owned());
    }
    Ok(ids)
}

fn ids(docs: &[Document]) -> Vec<&str> {
    docs.iter().map(|d| d.get_str("_id").unwrap()).collect()
}

on_both_stores!(the_seed_query_finds_the_right_runs, |uri| {
    let name = unique("seed");
    seed_runs(uri, &name)?;
    let experiment = Experiment::builder().uri(uri).name(&name).open()?;
    let found = experiment.find_with(
        doc! {
            "params.model.fit_intercept": true,
            "data.n_observations": { "$gte": 3000 },
            "metrics.f1_score": { "$gte": 0.9 },
        },
        FindOptions::new().sort(doc! { "_id": 1 }),
    )?;
    // fit_intercept: even i; n_observations >= 3000: i >= 3; f1 >= 0.9: i >= 5.
    assert_eq!(ids(&found), ["run6", "run8"]);
    assert_eq!(
        experiment.count(doc! { "params.model.fit_intercept": true })?,
        5
    );
    assert_eq!(experiment.count(doc! {})?, 10);
    let one = experiment
        .find_one(doc! { "data.n_observations": 7000 })?
        .unwrap();
    assert_eq!(one.get_str("_id")?, "run7");
    assert!(experiment
        .find_one(doc! { "data.n_observations": -1 })?
        .is_none());
    Ok(())
});

on_both_stores!(find_sorts_skips_limits_and_projects, |uri| {
    let name = unique("find_opts");
    seed_runs(uri, &name)?;
    let experiment = Experiment::builder().uri(uri).name(&name).open()?;
    let page = experiment.find_with(
        doc! {},
        FindOptions::new()
            .sort(doc! { "metrics.f1_score": -1 })
            .skip(1)
            .limit(3)
            .projection(doc! { "metrics.f1_score": 1, "_id": 1 }),
    )?;
    assert_eq!(ids(&page), ["run8", "run7", "run6"]);
    for run in &page {
        assert_eq!(run.keys().collect::<Vec<_>>(), ["_id", "metrics"]);
    }
    let without_meta = experiment.find_with(
        doc! { "_id": "run1" },
        FindOptions::new().projection(doc! { "_yamlett": 0 }),
    )?;
    assert!(without_meta[0].get("_yamlett").is_none() && without_meta[0].get("params").is_some());
    Ok(())
});

on_both_stores!(a_page_and_its_total_come_from_one_call, |uri| {
    let name = unique("find_page");
    seed_runs(uri, &name)?;
    let experiment = Experiment::builder().uri(uri).name(&name).open()?;
    let by_f1 = || doc! { "metrics.f1_score": -1 };
    let from_3000 = || doc! { "data.n_observations": { "$gte": 3000 } };
    let cases = [
        (doc! {}, FindOptions::new()),
        (
            doc! { "params.model.fit_intercept": true },
            FindOptions::new(),
        ),
        (from_3000(), FindOptions::new().skip(2).limit(3)),
        (from_3000(), FindOptions::new().limit(2)),
        (doc! {}, FindOptions::new().sort(by_f1()).skip(1).limit(2)),
        (
            from_3000(),
            FindOptions::new()
                .sort(doc! { "params.model.fit_intercept": 1, "metrics.f1_score": -1 })
                .limit(3)
                .projection(doc! { "metrics": 1 }),
        ),
        (from_3000(), FindOptions::new().sort(by_f1()).limit(50)),
        (
            from_3000(),
            FindOptions::new().sort(by_f1()).skip(20).limit(5),
        ),
        (from_3000(), FindOptions::new().sort(by_f1())),
        (
            doc! { "data.n_observations": -1 },
            FindOptions::new().sort(by_f1()).limit(5),
        ),
    ];
    for (filter, options) in cases {
        let page = experiment.find_page(filter.clone(), options.clone())?;
        let what = format!("{filter} {options:?}");
        assert_eq!(page.total, experiment.count(filter.clone())?, "{what}");
        assert_eq!(page.runs, experiment.find_with(filter, options)?, "{what}");
    }
    // run3..run9 match; fit_intercept false (odd) first, best f1 first.
    let page = experiment.find_page(
        from_3000(),
        FindOptions::new()
            .sort(doc! { "params.model.fit_intercept": 1, "metrics.f1_score": -1 })
            .skip(1)
            .limit(3),
    )?;
    assert_eq!(page.total, 7);
    assert_eq!(ids(&page.runs), ["run7", "run5", "run3"]);
    assert!(
        page.runs.iter().all(|run| run
            .get("_yamlett")
            .is_some_and(|meta| !meta.as_document().unwrap().contains_key("writers"))),
        "internal fields stay hidden"
    );
    let bad = experiment
        .find_page(doc! { "a": { "$bogus": 1 } }, FindOptions::new())
        .unwrap_err();
    assert!(
        matches!(bad.downcast_ref::<Error>(), Some(Error::InvalidQuery(_))),
        "{bad:#}"
    );
    let bad_sort = experiment
        .find_page(
            doc! {},
            FindOptions::new().sort(doc! { "a": "up" }).limit(1),
        )
        .unwrap_err();
    assert!(
        matches!(
            bad_sort.downcast_ref::<Error>(),
            Some(Error::InvalidQuery(_))
        ),
        "{bad_sort:#}"
    );
    Ok(())
});

on_both_stores!(group_averages_by_a_nested_param, |uri| {
    let name = unique("group");
    seed_runs(uri, &name)?;
    let experiment = Experiment::builder().uri(uri).name(&name).open()?;
    let groups = experiment.aggregate([
        doc! { "$group": { "_id": "$params.model.fit_intercept", "avg_f1": { "$avg": "$metrics.f1_score" }, "n": { "$sum": 1 } } },
        doc! { "$sort": { "_id": 1 } },
    ])?;
    assert_eq!(groups.len(), 2);
    assert!(!groups[0].get_bool("_id")?);
    assert_eq!(groups[0].get_i32("n")?, 5);
    // odd i: 1,3,5,7,9 -> 0.8 + 0.02 * 5 = 0.90 on average.
    assert!((groups[0].get_f64("avg_f1")? - 0.90).abs() < 1e-9);
    assert!((groups[1].get_f64("avg_f1")? - 0.88).abs() < 1e-9);
    Ok(())
});

on_both_stores!(invalid_queries_are_typed_errors, |uri| {
    let name = unique("invalid");
    seed_runs(uri, &name)?;
    let experiment = Experiment::builder().uri(uri).name(&name).open()?;
    let bad_filter = experiment.find(doc! { "a": { "$bogus": 1 } }).unwrap_err();
    assert!(
        matches!(
            bad_filter.downcast_ref::<Error>(),
            Some(Error::InvalidQuery(_))
        ),
        "{bad_filter:#}"
    );
    let bad_stage = experiment.aggregate([doc! { "$bogus": {} }]).unwrap_err();
    assert!(
        matches!(
            bad_stage.downcast_ref::<Error>(),
            Some(Error::InvalidQuery(_))
        ),
        "{bad_stage:#}"
    );
    let no_id = experiment
        .aggregate([doc! { "$group": { "n": { "$sum": 1 } } }])
        .unwrap_err();
    assert!(
        matches!(no_id.downcast_ref::<Error>(), Some(Error::InvalidQuery(_))),
        "{no_id:#}"
    );
    // Nothing changed.
    assert_eq!(experiment.count(doc! {})?, 10);
    Ok(())
});

on_both_stores!(
    experiments_are_listed_and_collection_matches_the_store,
    |uri| {
        let name = unique("listed");
        Run::builder().uri(uri).experiment(&name).open()?;
        assert!(yamlett::experiments_in(uri)?.contains(&name));
        let experiment = Experiment::builder().uri(uri).name(&name).open()?;
        let is_mongodb = uri.starts_with("mongodb");
        assert_eq!(experiment.collection().is_some(), is_mongodb);
        if let Some(collection) = experiment.collection() {
            assert_eq!(collection.count_documents(doc! {}).run()?, 1);
        }
        let stored: Vec<Bson> = experiment
            .find(doc! {})?
            .into_iter()
            .map(|d| d.get("_id").cloned().unwrap())
            .collect();
        assert_eq!(stored.len(), 1);
        Ok(())
    }
);

on_both_stores!(
    an_artifact_loads_from_the_experiment_without_reopening_the_run,
    |uri| {
        let name = unique("artifacts");
        let run = Run::builder().uri(uri).experiment(&name).open()?;
        run.store_artifact("model.weights", &vec![0.25_f64, -4.0])?;
        run.finish()?;
        let finished = |experiment: &Experiment| -> anyhow::Result<Document> {
            Ok(experiment
                .find_one(doc! { "_id": run.id() })?
                .expect("the run")
                .get_document("_yamlett")?
                .clone())
        };
        let experiment = Experiment::builder().uri(uri).name(&name).open()?;
        let before = finished(&experiment)?;

        let weights: Vec<f64> = experiment.load_artifact(run.id(), "model.weights")?;
        assert_eq!(weights, [0.25, -4.0]);
        // Reading changed nothing: still finished, same end time.
        assert_eq!(finished(&experiment)?, before);
        assert_eq!(before.get_str("status")?, "finished");

        let missing = experiment
            .load_artifact::<Vec<f64>>("no-such-run", "model.weights")
            .unwrap_err();
        assert!(
            matches!(
                missing.downcast_ref::<Error>(),
                Some(Error::NotFound { .. })
            ),
            "{missing:#}"
        );
        let wrong_type = experiment
            .load_artifact::<String>(run.id(), "model.weights")
            .unwrap_err();
        assert!(
            matches!(
                wrong_type.downcast_ref::<Error>(),
                Some(Error::Artifact { .. })
            ),
            "{wrong_type:#}"
        );
        let bad_key = experiment
            .load_artifact::<Vec<f64>>(run.id(), "model..weights")
            .unwrap_err();
        assert!(bad_key.downcast_ref::<Error>().is_some(), "{bad_key:#}");
        Ok(())
    }
);
