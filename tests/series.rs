//! Metric series (`Run::log`), on both stores: summaries in the run
//! document, points read back whole and sampled, resuming a run, the bad
//! input rules, copying and deleting a run's series.

mod common;

use bson::doc;
use yamlett::{Error, Experiment, Run};

fn kind(err: &anyhow::Error) -> &Error {
    err.downcast_ref::<Error>()
        .unwrap_or_else(|| panic!("not a yamlett error: {err:#}"))
}

fn open(uri: &str, experiment: &str) -> anyhow::Result<Run> {
    Run::builder().uri(uri).experiment(experiment).open()
}

/// A loss curve with a NaN, infinities and a deep minimum.
fn value(step: i64) -> f64 {
    match step {
        777 => f64::NAN,
        1500 => f64::INFINITY,
        2100 => f64::NEG_INFINITY,
        1999 => -1e6,
        _ => 1.0 / (step as f64 + 1.0) + ((step * 7919) % 101) as f64 * 1e-3,
    }
}

on_both_stores!(log_in_guards_reads_back_every_point, |uri| {
    let name = common::unique("series");
    let run = open(uri, &name)?;
    for step in 0..2500_i64 {
        let _guard = run.enter();
        run.log("metrics.loss", value(step))?;
        if step % 100 == 0 {
            run.log_at("metrics.eval", step * 10, step as f64)?;
        }
    }
    let series = run.series("metrics.loss")?;
    assert_eq!(series.steps, (0..2500).collect::<Vec<_>>());
    for (step, got) in series.steps.iter().zip(&series.values) {
        let want = value(*step);
        assert!(
            got.to_bits() == want.to_bits(),
            "step {step}: {got} != {want}"
        );
    }
    assert_eq!(series.times.len(), 2500);
    let eval = Experiment::builder()
        .uri(uri)
        .name(&name)
        .open()?
        .series(run.id(), "metrics.eval")?;
    assert_eq!(eval.steps, (0..25).map(|i| i * 1000).collect::<Vec<_>>());

    // The summary lives in the run document, and queries see it.
    let data = run.data()?;
    let loss = data.get_document("metrics")?.get_document("loss")?;
    assert_eq!(loss.get_i64("count")?, 2500);
    assert_eq!(loss.get_i64("step")?, 2499);
    assert_eq!(loss.get_f64("first")?, value(0));
    assert_eq!(loss.get_f64("last")?, value(2499));
    assert!(
        loss.get_f64("min")?.is_nan(),
        "NaN sorts below every number"
    );
    assert_eq!(loss.get_f64("max")?, f64::INFINITY);
    assert!(loss.get_f64("sum")?.is_nan());
    let listed = data.get_document("_yamlett")?.get_array("series")?;
    assert_eq!(listed, &vec!["metrics.loss".into(), "metrics.eval".into()]);
    assert!(data.get_document("metrics")?.get("loss_points").is_none());
    let experiment = Experiment::builder().uri(uri).name(&name).open()?;
    assert_eq!(
        experiment.count(
            doc! { "metrics.eval.max": { "$gte": 2400.0 }, "metrics.loss.count": 2500_i64 }
        )?,
        1
    );
    assert!(!yamlett::experiments_in(uri)?
        .iter()
        .any(|e| e.contains("_yamlett")));
    Ok(())
});

on_both_stores!(sampled_series_keep_true_extremes, |uri| {
    let name = common::unique("sampled");
    let run = open(uri, &name)?;
    {
        let _guard = run.enter();
        for step in 0..20_000_i64 {
            run.log_at("loss", step * 3, value(step))?;
        }
    }
    let experiment = Experiment::builder().uri(uri).name(&name).open()?;
    let all = experiment.series(run.id(), "loss")?;
    assert_eq!(all.len(), 20_000);
    for (columns, range) in [
        (1000, None),
        (7, None),
        (13, Some(100..=40_000)),
        (5000, Some(0..=30)),
    ] {
        let chart = experiment.series_sampled(run.id(), "loss", columns, range.clone())?;
        assert!(
            chart.len() <= 4 * columns,
            "{} points for {columns} columns",
            chart.len()
        );
        assert!(chart.steps.windows(2).all(|w| w[0] < w[1]));
        let (lo, hi) = range.unwrap_or(0..=i64::MAX).into_inner();
        let inside: Vec<usize> = (0..all.len())
            .filter(|&i| all.steps[i] >= lo && all.steps[i] <= hi)
            .collect();
        // Every sampled point is a real point, and the extremes are there.
        for (step, v) in chart.steps.iter().zip(&chart.values) {
            let i = all.steps.binary_search(step).expect("a real step");
            assert_eq!(all.values[i].to_bits(), v.to_bits());
        }
        let finite_max = inside
            .iter()
            .map(|&i| all.values[i])
            .fold(f64::NEG_INFINITY, f64::max);
        assert!(
            chart.values.contains(&finite_max),
            "max {finite_max} missing"
        );
        // The lowest value as MongoDB orders them: a NaN, else the least.
        let min = inside
            .iter()
            .map(|&i| all.values[i])
            .reduce(|a, b| {
                if b.is_nan() || (!a.is_nan() && b < a) {
                    b
                } else {
                    a
                }
            })
            .unwrap();
        assert!(
            chart.values.iter().any(|v| v.to_bits() == min.to_bits()),
            "min {min} missing"
        );
        assert_eq!(chart.steps.first(), inside.first().map(|&i| &all.steps[i]));
        assert_eq!(chart.steps.last(), inside.last().map(|&i| &all.steps[i]));
    }
    Ok(())
});

on_both_stores!(a_resumed_run_logs_on_where_it_stopped, |uri| {
    let name = common::unique("resume");
    let id = common::unique("run");
    {
        let run = Run::builder().uri(uri).experiment(&name).id(&id).open()?;
        for step in 0..1234 {
            let _guard = run.enter();
            run.log("loss", step as f64)?;
        }
    }
    let run = Run::builder().uri(uri).experiment(&name).id(&id).open()?;
    run.log("loss", -1.0)?;
    assert!(matches!(
        kind(&run.log_at("loss", 1000, 0.0).unwrap_err()),
        Error::Conflict { .. }
    ));
    {
        let _guard = run.enter();
        for _ in 0..800 {
            run.log("loss", 5.0)?;
        }
    }
    let series = run.series("loss")?;
    assert_eq!(series.steps, (0..2035).collect::<Vec<_>>());
    assert_eq!(series.values[1234], -1.0);
    let summary = run.data()?.get_document("loss")?.clone();
    assert_eq!(summary.get_i64("count")?, 2035);
    assert_eq!(summary.get_f64("min")?, -1.0);
    assert_eq!(summary.get_f64("max")?, 1233.0);
    let chart = Experiment::builder()
        .uri(uri)
        .name(&name)
        .open()?
        .series_sampled(&id, "loss", 3, None)?;
    assert!(chart.values.contains(&-1.0) && chart.values.contains(&1233.0));
    Ok(())
});

on_both_stores!(
    two_handles_logging_one_series_conflict_and_lose_nothing,
    |uri| {
        // Two handles of one run (two processes resuming it, say): the second
        // to write a series it did not see change gets a conflict, and every
        // point the first one wrote stays where it was.
        let name = common::unique("two-handles");
        let id = common::unique("run");
        let first = Run::builder().uri(uri).experiment(&name).id(&id).open()?;
        let second = Run::builder().uri(uri).experiment(&name).id(&id).open()?;
        first.log("fresh", 1.0)?; // a series neither handle saw
        assert!(matches!(
            kind(&second.log("fresh", 2.0).unwrap_err()),
            Error::Conflict { .. }
        ));
        for step in 0..1200 {
            let _guard = first.enter();
            first.log("loss", step as f64)?;
        }
        let third = Run::builder().uri(uri).experiment(&name).id(&id).open()?;
        for step in 1200..1500 {
            first.log("loss", step as f64)?;
        }
        // `third` knows 1,200 points, the run has 1,500: the guard's flush
        // drops its points for the series (with a warning) and writes the rest.
        {
            let _guard = third.enter();
            third.log("loss", -7.0)?;
            third.store("marker", 1)?;
        }
        // From then on, logging there is the conflict, at the call.
        let err = third.log("loss", -8.0).unwrap_err();
        match kind(&err) {
            Error::Conflict { key, reason } => {
                assert_eq!(key, "loss");
                assert!(
                    reason.contains("1500") && reason.contains("1200"),
                    "{reason}"
                );
            }
            other => panic!("not a conflict: {other:?}"),
        }
        let experiment = Experiment::builder().uri(uri).name(&name).open()?;
        let series = experiment.series(&id, "loss")?;
        assert_eq!(series.steps, (0..1500).collect::<Vec<_>>());
        assert_eq!(
            series.values,
            (0..1500).map(|s| s as f64).collect::<Vec<_>>()
        );
        let run = experiment.find_one(doc! { "_id": &id })?.expect("the run");
        assert_eq!(run.get_document("loss")?.get_i64("count")?, 1500);
        assert_eq!(run.get_document("loss")?.get_f64("min")?, 0.0);
        assert_eq!(run.get_i32("marker")?, 1);
        assert_eq!(experiment.series(&id, "fresh")?.values, [1.0]);
        // The handle goes on with its other series.
        third.log("accuracy", 0.5)?;
        assert_eq!(experiment.series(&id, "accuracy")?.values, [0.5]);
        // So does `second`, whose point for "fresh" was refused at once.
        assert!(matches!(
            kind(&second.log("fresh", 3.0).unwrap_err()),
            Error::Conflict { .. }
        ));
        second.store("second", true)?;
        // `second` opened before the run had a series: its new series
        // joins the list the others made, and replaces none of it.
        second.log("grad_norm", 1.0)?;
        let run = experiment.find_one(doc! { "_id": &id })?.expect("the run");
        assert!(run.get_bool("second")?);
        let listed = run.get_document("_yamlett")?.get_array("series")?;
        for key in ["fresh", "loss", "accuracy", "grad_norm"] {
            assert!(
                listed.iter().any(|k| k.as_str() == Some(key)),
                "{key}: {listed:?}"
            );
        }
        // The first handle goes on as if nothing happened.
        first.log("loss", 1500.0)?;
        assert_eq!(first.series("loss")?.len(), 1501);
        drop((second, third));
        Ok(())
    }
);

on_both_stores!(bad_series_input_is_a_typed_error_changing_nothing, |uri| {
    let name = common::unique("bad");
    let run = open(uri, &name)?;
    run.store("params.lr", 0.1)?;
    run.store("metrics", doc! { "f1": 0.9 })?;
    run.log("metrics.loss", 1.0)?;
    let before = run.data()?;
    let conflict = |result: anyhow::Result<()>| match kind(&result.unwrap_err()) {
        Error::Conflict { .. } => {}
        other => panic!("not a conflict: {other:?}"),
    };
    conflict(run.log("params.lr", 1.0)); // a stored value
    conflict(run.log("params.lr.x", 1.0)); // inside a stored number
    conflict(run.log("metrics.f1", 1.0));
    conflict(run.log("metrics.loss.x", 1.0)); // inside a series
    conflict(run.log("metrics", 1.0)); // around a series
    conflict(run.store("metrics.loss", 2.0)); // a series key
    conflict(run.push("metrics.loss", 2.0));
    conflict(run.store("metrics", doc! {}));
    conflict(run.store("metrics.loss.count", 3));
    conflict(run.log_at("metrics.loss", 0, 1.0)); // steps must increase
    {
        let _guard = run.enter();
        run.store("later", 1)?;
        conflict(run.log("later", 1.0)); // a buffered value
    }
    assert!(matches!(
        kind(&run.log("a..b", 1.0).unwrap_err()),
        Error::InvalidKey { .. }
    ));
    assert!(matches!(
        kind(&run.log("_yamlett.x", 1.0).unwrap_err()),
        Error::InvalidKey { .. }
    ));
    let mut after = run.data()?;
    after.remove("later");
    let strip = |mut doc: bson::Document| {
        doc.get_document_mut("_yamlett")
            .unwrap()
            .remove("last_modified_at");
        doc.get_document_mut("_yamlett").unwrap().remove("writers");
        doc
    };
    assert_eq!(strip(after), strip(before));
    assert_eq!(run.series("metrics.loss")?.values, [1.0]);
    let experiment = Experiment::builder().uri(uri).name(&name).open()?;
    assert!(matches!(
        kind(&run.series("metrics.f1").unwrap_err()),
        Error::NotFound { .. }
    ));
    assert!(matches!(
        kind(&experiment.series(run.id(), "nope").unwrap_err()),
        Error::NotFound { .. }
    ));
    assert!(matches!(
        kind(&experiment.series("no-such-run", "loss").unwrap_err()),
        Error::NotFound { .. }
    ));
    assert!(matches!(
        kind(
            &experiment
                .series_sampled(run.id(), "metrics.loss", 0, None)
                .unwrap_err()
        ),
        Error::InvalidValue { .. }
    ));
    Ok(())
});

on_both_stores!(
    a_run_series_copies_to_another_experiment_and_deletes,
    |uri| {
        let name = common::unique("copy");
        let run = open(uri, &name)?;
        {
            let _guard = run.enter();
            for step in 0..2300 {
                run.log("a", step as f64)?;
                run.log("b.c", -(step as f64))?;
            }
        }
        let source = Experiment::builder().uri(uri).name(&name).open()?;
        let buckets = source.series_buckets(run.id())?;
        let shape: Vec<(&str, i64, usize)> = buckets
            .iter()
            .map(|b| (b.key.as_str(), b.index, b.points.len()))
            .collect();
        assert_eq!(
            shape,
            [
                ("a", 0, 1000),
                ("a", 1, 1000),
                ("a", 2, 300),
                ("b.c", 0, 1000),
                ("b.c", 1, 1000),
                ("b.c", 2, 300)
            ]
        );
        let target = Experiment::builder()
            .uri(uri)
            .name(common::unique("copy_to"))
            .open()?;
        target.put_series_buckets(run.id(), &buckets)?;
        assert_eq!(target.series_buckets(run.id())?, buckets);
        let mut bad = buckets[0].clone();
        bad.points.steps.swap(0, 1);
        assert!(matches!(
            kind(&target.put_series_buckets("x", &[bad]).unwrap_err()),
            Error::InvalidValue { .. }
        ));
        assert!(target.series_buckets("x")?.is_empty());

        let other = open(uri, &name)?;
        other.log("a", 1.0)?;
        source.delete_series(run.id())?;
        assert!(source.series_buckets(run.id())?.is_empty());
        assert_eq!(
            source.series_buckets(other.id())?.len(),
            1,
            "other runs keep theirs"
        );
        Ok(())
    }
);

on_both_stores!(push_past_16_mib_names_log, |uri| {
    let run = open(uri, &common::unique("toolarge"))?;
    let chunk = vec![0.5_f64; 200_000];
    let mut result = Ok(());
    for _ in 0..20 {
        result = run.push("history", &chunk);
        if result.is_err() {
            break;
        }
    }
    let err = result.unwrap_err();
    assert!(
        matches!(kind(&err), Error::DocumentTooLarge { .. }),
        "{err:#}"
    );
    assert!(format!("{err}").contains("`log`"), "{err}");
    Ok(())
});

/// The same points logged through both stores give the same summaries,
/// reads and samples, compared exactly (times aside: each store's points
/// were logged at their own moment).
#[test]
fn both_stores_give_the_same_answers() -> anyhow::Result<()> {
    let mongodb = common::mongodb_uri();
    let dir = common::local_store();
    let local = dir.path().to_str().unwrap().to_owned();
    let name = common::unique("differential");
    let id = common::unique("run");
    let mut answers = Vec::new();
    for uri in [&mongodb, &local] {
        let run = Run::builder().uri(uri).experiment(&name).id(&id).open()?;
        {
            let _guard = run.enter();
            for step in 0..4321_i64 {
                run.log_at("m.loss", step * 2 + 1, value(step))?;
                if step % 7 == 0 {
                    run.log("m.rare", -value(step))?;
                }
            }
        }
        run.finish()?;
        let experiment = Experiment::builder().uri(uri).name(&name).open()?;
        let mut doc = experiment.find_one(doc! { "_id": &id })?.unwrap();
        let meta = doc.remove("_yamlett").unwrap();
        let listed = meta.as_document().unwrap().get("series").cloned();
        let mut samples = Vec::new();
        for (columns, range) in [
            (1, None),
            (100, None),
            (9, Some(51..=4000)),
            (3000, Some(-5..=7)),
        ] {
            for key in ["m.loss", "m.rare"] {
                let s = experiment.series_sampled(&id, key, columns, range.clone())?;
                samples.push((
                    s.steps,
                    s.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                ));
            }
        }
        let whole = experiment.series(&id, "m.loss")?;
        let bits: Vec<u64> = whole.values.iter().map(|v| v.to_bits()).collect();
        let sorted = experiment.find_with(
            doc! { "m.loss.count": { "$gt": 0_i64 } },
            yamlett::FindOptions::new()
                .sort(doc! { "m.rare.max": -1 })
                .projection(doc! { "m": 1 }),
        )?;
        answers.push((
            format!("{doc:?}"),
            listed,
            samples,
            whole.steps,
            bits,
            format!("{sorted:?}"),
        ));
    }
    let (local_answer, mongodb_answer) = (answers.pop().unwrap(), answers.pop().unwrap());
    assert_eq!(mongodb_answer, local_answer);
    Ok(())
}
