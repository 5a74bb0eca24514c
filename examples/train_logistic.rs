//! Trains a hand-written logistic regression on the Iris data over a small
//! hyper-parameter grid, records every configuration as a yamlett run, then
//! queries the runs back and reloads the best model.
//!
//! ```text
//! YAMLETT_URI=mongodb://127.0.0.1:27100 cargo run --example train_logistic
//! cargo run --example train_logistic   # embedded store in ./.yamlett
//! ```
//!
//! The task is versicolor vs virginica, the two species a straight line
//! cannot separate (setosa is trivially separable from both), so the
//! hyper-parameters make a visible difference.

use anyhow::{ensure, Context};
use serde::{Deserialize, Serialize};
use yamlett::bson::{doc, Bson, DateTime};
use yamlett::{Experiment, FindOptions, Run};

/// The data ships with the repository (see `examples/data/README.md`);
/// embedding it lets the example run from any directory.
const IRIS_CSV: &str = include_str!("data/iris.csv");
const EXPERIMENT: &str = "iris-logreg";
const LEARNING_RATE: f64 = 0.5;
const EPOCHS: usize = 100;

/// The hyper-parameters, stored under `params.model` so each field is
/// queryable (`params.model.C`, `params.model.fit_intercept`, …).
#[derive(Debug, Serialize)]
struct Params {
    #[serde(rename = "type")]
    kind: &'static str,
    penalty: &'static str,
    /// Inverse regularisation strength, as scikit-learn's `C`.
    #[serde(rename = "C")]
    c: f64,
    fit_intercept: bool,
    learning_rate: f64,
    epochs: usize,
}

/// The trained model, stored as a bincode artifact. It carries the feature
/// standardisation so that whoever loads it can predict from raw features.
#[derive(Debug, Serialize, Deserialize)]
struct Model {
    mean: Vec<f64>,
    scale: Vec<f64>,
    weights: Vec<f64>,
    bias: f64,
}

impl Model {
    /// P(virginica | x) for raw (unstandardised) features.
    fn probability(&self, x: &[f64]) -> f64 {
        let z: f64 = x
            .iter()
            .zip(&self.mean)
            .zip(&self.scale)
            .zip(&self.weights)
            .map(|(((xi, m), s), w)| w * (xi - m) / s)
            .sum();
        sigmoid(z + self.bias)
    }

    fn predict(&self, x: &[f64]) -> bool {
        self.probability(x) >= 0.5
    }
}

/// Observations with their label: `true` for virginica (the positive class).
#[derive(Default)]
struct Dataset {
    x: Vec<Vec<f64>>,
    y: Vec<bool>,
}

/// Parses scikit-learn's iris.csv: a header `150,4,setosa,versicolor,virginica`
/// (row count, feature count, class names), then 4 features and a class index.
fn load_iris() -> anyhow::Result<(Dataset, usize)> {
    let mut lines = IRIS_CSV.lines();
    let header: Vec<&str> = lines.next().context("empty iris.csv")?.split(',').collect();
    let n_features: usize = header.get(1).context("short header")?.parse()?;
    let mut data = Dataset::default();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        ensure!(fields.len() == n_features + 1, "bad row {line:?}");
        let class: usize = fields[n_features].parse()?;
        if class == 0 {
            continue; // setosa: not part of this binary task
        }
        let x = fields[..n_features]
            .iter()
            .map(|v| v.parse::<f64>())
            .collect::<Result<_, _>>()?;
        data.x.push(x);
        data.y.push(class == 2);
    }
    Ok((data, n_features))
}

/// A deterministic, stratified split: every third observation of each class
/// goes to the test set, so both sets keep the 50/50 class balance and every
/// run sees the same split without needing a random seed.
fn split(data: &Dataset) -> (Dataset, Dataset) {
    let (mut train, mut test) = (Dataset::default(), Dataset::default());
    let mut seen = [0usize; 2];
    for (x, &y) in data.x.iter().zip(&data.y) {
        let k = &mut seen[usize::from(y)];
        let target = if *k % 3 == 0 { &mut test } else { &mut train };
        target.x.push(x.clone());
        target.y.push(y);
        *k += 1;
    }
    (train, test)
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Batch gradient descent on mean log-loss + ||w||² / (2·C·n): scikit-learn's
/// objective divided by n, so `C` means the same thing there and here. The
/// bias is never penalised. Each epoch's loss is logged to the run's `metrics.loss`
/// series: the points live beside the run, the run keeps their summary.
fn train(params: &Params, train: &Dataset, run: &Run) -> anyhow::Result<Model> {
    let (n, d) = (train.x.len() as f64, train.x[0].len());
    // Standardise with training statistics only, so the test set stays unseen;
    // on standardised features one learning rate suits every weight.
    let mean: Vec<f64> = (0..d)
        .map(|j| train.x.iter().map(|x| x[j]).sum::<f64>() / n)
        .collect();
    let scale: Vec<f64> = (0..d)
        .map(|j| {
            let var = train
                .x
                .iter()
                .map(|x| (x[j] - mean[j]).powi(2))
                .sum::<f64>()
                / n;
            var.sqrt().max(1e-12)
        })
        .collect();
    // Zero weights, not random ones: the problem is convex, so this is a fine
    // start and keeps the runs reproducible.
    let mut model = Model {
        mean,
        scale,
        weights: vec![0.0; d],
        bias: 0.0,
    };
    let l2 = 1.0 / (params.c * n);
    for _ in 0..params.epochs {
        let (mut grad_w, mut grad_b, mut loss) = (vec![0.0; d], 0.0, 0.0);
        for (x, &y) in train.x.iter().zip(&train.y) {
            let p = model.probability(x);
            let target = f64::from(u8::from(y));
            // Clamped so a confident mistake costs a large but finite loss.
            let p_clamped = p.clamp(1e-15, 1.0 - 1e-15);
            loss -= target * p_clamped.ln() + (1.0 - target) * (1.0 - p_clamped).ln();
            for j in 0..d {
                grad_w[j] += (p - target) * (x[j] - model.mean[j]) / model.scale[j];
            }
            grad_b += p - target;
        }
        let penalty: f64 = model.weights.iter().map(|w| w * w).sum::<f64>() * l2 / 2.0;
        for (w, g) in model.weights.iter_mut().zip(&grad_w) {
            *w -= LEARNING_RATE * (g / n + l2 * *w);
        }
        if params.fit_intercept {
            model.bias -= LEARNING_RATE * grad_b / n;
        }
        // One guard per epoch: everything stored inside it reaches the store
        // as a single update, and commit() surfaces a failed write here
        // instead of in a log line when the guard drops.
        let guard = run.enter();
        run.log("metrics.loss", loss / n + penalty)?;
        guard.commit()?;
    }
    Ok(model)
}

/// Accuracy, precision, recall and F1 with virginica as the positive class.
#[derive(Debug)]
struct Metrics {
    accuracy: f64,
    precision: f64,
    recall: f64,
    f1_score: f64,
}

fn evaluate(model: &Model, data: &Dataset) -> Metrics {
    let (mut tp, mut fp, mut fn_, mut tn) = (0.0, 0.0, 0.0, 0.0);
    for (x, &y) in data.x.iter().zip(&data.y) {
        match (model.predict(x), y) {
            (true, true) => tp += 1.0,
            (true, false) => fp += 1.0,
            (false, true) => fn_ += 1.0,
            (false, false) => tn += 1.0,
        }
    }
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let (precision, recall) = (ratio(tp, tp + fp), ratio(tp, tp + fn_));
    Metrics {
        accuracy: (tp + tn) / data.y.len() as f64,
        precision,
        recall,
        f1_score: ratio(2.0 * precision * recall, precision + recall),
    }
}

/// A `$sum` count: MongoDB returns an int32, but a store may widen it.
fn count(value: &Bson) -> i64 {
    value
        .as_i64()
        .or(value.as_i32().map(i64::from))
        .unwrap_or(0)
}

fn main() -> anyhow::Result<()> {
    let (data, n_features) = load_iris()?;
    let (train_set, test_set) = split(&data);
    // Earlier invocations' runs stay in the store; tagging this invocation's
    // runs lets the queries below look at them alone.
    let session = DateTime::now().try_to_rfc3339_string()?;

    println!("Training {EXPERIMENT}: versicolor vs virginica, session {session}");
    for c in [0.01, 0.1, 1.0] {
        for fit_intercept in [true, false] {
            let params = Params {
                kind: "LogisticRegression",
                penalty: "l2",
                c,
                fit_intercept,
                learning_rate: LEARNING_RATE,
                epochs: EPOCHS,
            };
            let run = Run::builder().experiment(EXPERIMENT).open()?;
            run.store("session", &session)?;
            run.store("params.model", &params)?;
            run.store("data.n_features", n_features)?;
            // The observations the task uses: the 100 non-setosa flowers.
            run.store("data.n_observations", data.y.len())?;
            run.store("data.n_train", train_set.y.len())?;
            run.store("data.n_test", test_set.y.len())?;

            let model = train(&params, &train_set, &run)?;
            let metrics = evaluate(&model, &test_set);
            {
                // One key each, not `store("metrics", &metrics)`: that would
                // replace the whole `metrics` document, loss series included (and is refused).
                // The guard still sends the four as one update.
                let guard = run.enter();
                run.store("metrics.accuracy", metrics.accuracy)?;
                run.store("metrics.precision", metrics.precision)?;
                run.store("metrics.recall", metrics.recall)?;
                run.store("metrics.f1_score", metrics.f1_score)?;
                guard.commit()?;
            }
            run.store_artifact("model", &model)?;
            run.finish()?;
            println!(
                "  run {}  C={c:<5?} fit_intercept={fit_intercept:<5}  accuracy={:.3}  f1={:.3}",
                run.id(),
                metrics.accuracy,
                metrics.f1_score
            );
        }
    }
    query_back(&session, &test_set)
}

/// Reads the runs back as any later program could: by query, not from the
/// values still in memory.
fn query_back(session: &str, test_set: &Dataset) -> anyhow::Result<()> {
    let experiment = Experiment::new(EXPERIMENT)?;

    // Which intercept-fitting configurations reached F1 >= 0.9?
    let good = experiment.find(doc! {
        "session": session,
        "params.model.fit_intercept": true,
        "metrics.f1_score": { "$gte": 0.9 },
    })?;
    println!(
        "\nRuns with fit_intercept=true and f1_score >= 0.9: {}",
        good.len()
    );
    for run in &good {
        let c = run
            .get_document("params")?
            .get_document("model")?
            .get_f64("C")?;
        println!("  {}  C={c:?}", run.get_str("_id")?);
    }

    // Mean F1 per C across both intercept settings, computed by the store.
    let by_c = experiment.aggregate([
        doc! { "$match": { "session": session } },
        doc! { "$group": {
            "_id": "$params.model.C",
            "mean_f1": { "$avg": "$metrics.f1_score" },
            "runs": { "$sum": 1 },
        } },
        doc! { "$sort": { "_id": 1 } },
    ])?;
    println!("\nMean test F1 by C:");
    for group in &by_c {
        println!(
            "  C={:<5?} mean_f1={:.3}  ({} runs)",
            group.get_f64("_id")?,
            group.get_f64("mean_f1")?,
            group.get("runs").map_or(0, count)
        );
    }

    // The best run, then its model: reopening a run by id is how another
    // program gets at its artifacts. (Reopening marks it running again, so
    // finish() marks it finished once more.)
    let best = experiment
        .find_with(
            doc! { "session": session },
            FindOptions::new()
                .sort(doc! { "metrics.f1_score": -1, "metrics.accuracy": -1 })
                .limit(1),
        )?
        .pop()
        .context("no runs found")?;
    let best_id = best.get_str("_id")?;
    let recorded = best.get_document("metrics")?.get_f64("accuracy")?;
    let best_run = Run::builder().experiment(EXPERIMENT).id(best_id).open()?;
    let model: Model = best_run.load_artifact("model")?;
    best_run.finish()?;
    // Same data, same weights, same arithmetic: the score must match exactly.
    let reloaded = evaluate(&model, test_set);
    ensure!(
        reloaded.accuracy == recorded,
        "reloaded model scores {} but the run recorded {recorded}",
        reloaded.accuracy
    );
    println!(
        "\nBest run {best_id}: its reloaded model scores accuracy {:.3} on the {} test flowers, as recorded (chance: 0.5)",
        reloaded.accuracy,
        test_set.y.len()
    );
    println!("  weights={:.3?} bias={:.3}", model.weights, model.bias);
    // The loss curve, whole and as a chart would sample it.
    let experiment = Experiment::new(EXPERIMENT)?;
    let losses = experiment.series(best_id, "metrics.loss")?;
    let chart = experiment.series_sampled(best_id, "metrics.loss", 10, None)?;
    let summary = best.get_document("metrics")?.get_document("loss")?;
    println!(
        "  loss: {} epochs, {:.4} -> {:.4} (min {:.4}); a 10-column chart needs {} of the points",
        losses.len(),
        summary.get_f64("first")?,
        summary.get_f64("last")?,
        summary.get_f64("min")?,
        chart.len()
    );
    Ok(())
}
