//! The README tour: store a run's information flat and nested, query runs
//! with MongoDB's query language, aggregate them, keep a model as an
//! artifact.
//!
//! Runs on the embedded store in `./.yamlett` with no server and no setup:
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Set `YAMLETT_URI=mongodb://localhost:27017` to run it on MongoDB instead.

use serde::{Deserialize, Serialize};
use yamlett::bson::doc;
use yamlett::{Experiment, Run};

/// A model's parameters, as a training script would have them.
#[derive(Serialize)]
struct LogisticRegression {
    r#type: &'static str,
    pypath: &'static str,
    #[serde(rename = "C")]
    c: f64,
    fit_intercept: bool,
}

/// The trained model, kept as an artifact.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Weights {
    coefficients: Vec<f64>,
    intercept: f64,
}

fn main() -> anyhow::Result<()> {
    // A few runs of the default experiment, "runs".
    for (i, (c, fit_intercept)) in [(0.01, true), (0.1, true), (1.0, false), (0.1, false)]
        .into_iter()
        .enumerate()
    {
        let run = Run::new()?;

        // The flat way, MLflow-style: one scalar per key, your own naming scheme.
        run.store("params_model_C", c)?;

        // The nested way: whole structures under dotted keys. One guard,
        // one write, however many values are stored inside it.
        {
            let _guard = run.enter();
            let model = LogisticRegression {
                r#type: "Logistic Regression",
                pypath: "sklearn.linear_model.LogisticRegression",
                c,
                fit_intercept,
            };
            run.store("params.model", &model)?;
            run.store(
                "data",
                doc! { "n_features": 91, "n_observations": 2500 + 500 * i as i32 },
            )?;
        }

        // Training: a metric history, one value per epoch.
        for epoch in 0..5 {
            let _guard = run.enter();
            run.push("metrics.loss", 1.0 / (epoch as f64 + 1.0 + c))?;
        }

        {
            let _guard = run.enter();
            run.store("metrics.f1_score", 0.86 + 0.02 * i as f64)?;
            run.store_artifact(
                "model",
                &Weights {
                    coefficients: vec![0.5 * c, -1.0, 2.0],
                    intercept: if fit_intercept { 0.3 } else { 0.0 },
                },
            )?;
        }
        run.finish()?;
        if i == 0 {
            println!("A run, as stored:\n{:#}\n", run.data()?);
        }
    }

    // Query the runs with MongoDB's query language.
    let experiment = Experiment::new("runs")?;
    let good = experiment.find(doc! {
        "params.model.fit_intercept": true,
        "data.n_observations": { "$gte": 3000 },
        "metrics.f1_score": { "$gte": 0.85 },
    })?;
    println!(
        "Runs with an intercept, >= 3000 observations and F1 >= 0.85: {}",
        good.len()
    );
    for run in &good {
        println!(
            "  {} C={}",
            run.get_str("_id")?,
            run.get_document("params")?
                .get_document("model")?
                .get_f64("C")?
        );
    }

    let by_intercept = experiment.aggregate([
        doc! { "$group": {
            "_id": "$params.model.fit_intercept",
            "mean_f1": { "$avg": "$metrics.f1_score" },
            "runs": { "$sum": 1 },
        } },
        doc! { "$sort": { "_id": 1 } },
    ])?;
    println!("\nMean F1 by fit_intercept:");
    for group in &by_intercept {
        println!("  {group}");
    }

    // Artifacts come back typed.
    if let Some(best) = good.first() {
        let run = Run::builder().id(best.get_str("_id")?).open()?;
        let weights: Weights = run.load_artifact("model")?;
        println!("\nModel of run {}: {weights:?}", run.id());
    }
    println!("\nExperiments in this store: {:?}", yamlett::experiments()?);
    println!("\nNow look at them from the command line: cargo run --bin yamlett -- runs runs");
    Ok(())
}
