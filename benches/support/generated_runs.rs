//! The runs the benchmarks query: ~60 nested fields each, generated
//! deterministically, recorded through the public API and cached in
//! `target/tmp/bench-store-<runs>`. Shared by `benches/local_store.rs` and
//! the dashboard's `crates/cli/benches/ui.rs` (both include it with `#[path]`),
//! so both time the same stores.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use yamlett::Run;

/// The experiment every populated store holds.
pub const EXPERIMENT: &str = "bench";

/// Bumped whenever the generated runs change, so cached stores are rebuilt.
pub const LAYOUT: &str = "local_store v2 8k";

/// The file that marks a cached store as completely populated.
pub const COMPLETE: &str = "bench-complete";

// ---------------------------------------------------------------------------
// The generated runs.

/// A logistic-regression-ish configuration: 30 entries of mixed types.
#[derive(Serialize, Clone)]
pub struct ModelParams {
    c: f64,
    penalty: String,
    dual: bool,
    tol: f64,
    fit_intercept: bool,
    intercept_scaling: f64,
    class_weight: Option<String>,
    random_state: i64,
    solver: String,
    max_iter: i32,
    multi_class: String,
    verbose: i32,
    warm_start: bool,
    n_jobs: Option<i32>,
    l1_ratio: Option<f64>,
    learning_rate: f64,
    momentum: f64,
    batch_size: i32,
    epochs: i32,
    dropout: f64,
    hidden_layers: Vec<i32>,
    activation: String,
    optimizer: String,
    weight_decay: f64,
    early_stopping: bool,
    patience: i32,
    validation_fraction: f64,
    shuffle: bool,
    seed: i64,
    version: String,
}

#[derive(Serialize)]
pub struct DataFacts {
    dataset: String,
    n_observations: i32,
    n_features: i32,
    test_size: f64,
    fold: i32,
    shuffled: bool,
}

/// 20 scalar metrics and a short loss history.
#[derive(Serialize)]
pub struct Metrics {
    f1_score: f64,
    accuracy: f64,
    balanced_accuracy: f64,
    precision: f64,
    recall: f64,
    roc_auc: f64,
    average_precision: f64,
    log_loss: f64,
    brier_score: f64,
    matthews_corrcoef: f64,
    cohen_kappa: f64,
    jaccard: f64,
    hamming_loss: f64,
    zero_one_loss: f64,
    fit_time: f64,
    score_time: f64,
    train_accuracy: f64,
    train_f1_score: f64,
    val_accuracy: f64,
    val_f1_score: f64,
    loss: Vec<f64>,
}

/// splitmix64: a deterministic stream of pseudo-random numbers per run.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn pick<'a>(&mut self, choices: &[&'a str]) -> &'a str {
        choices[self.below(choices.len() as u64) as usize]
    }
}

pub fn model_params(rng: &mut Rng, i: usize) -> ModelParams {
    ModelParams {
        c: 10_f64.powf(rng.unit() * 6.0 - 3.0),
        penalty: rng.pick(&["l1", "l2", "elasticnet", "none"]).to_owned(),
        dual: rng.below(2) == 0,
        tol: 1e-4,
        fit_intercept: rng.below(2) == 0,
        intercept_scaling: 1.0,
        class_weight: (rng.below(3) == 0).then(|| "balanced".to_owned()),
        random_state: rng.below(1 << 31) as i64,
        solver: rng
            .pick(&["lbfgs", "liblinear", "newton-cg", "sag", "saga"])
            .to_owned(),
        max_iter: 100 * (1 + rng.below(10) as i32),
        multi_class: "auto".to_owned(),
        verbose: 0,
        warm_start: false,
        n_jobs: (rng.below(2) == 0).then_some(-1),
        l1_ratio: (rng.below(4) == 0).then(|| rng.unit()),
        learning_rate: rng.unit() * 0.1,
        momentum: 0.9,
        batch_size: 32 << rng.below(4),
        epochs: 10 + rng.below(90) as i32,
        dropout: rng.unit() * 0.5,
        hidden_layers: vec![128, 64, 32],
        activation: rng.pick(&["relu", "tanh", "gelu"]).to_owned(),
        optimizer: rng.pick(&["adam", "sgd", "rmsprop"]).to_owned(),
        weight_decay: rng.unit() * 1e-3,
        early_stopping: rng.below(2) == 0,
        patience: 5,
        validation_fraction: 0.1,
        shuffle: true,
        seed: i as i64,
        version: "1.4.2".to_owned(),
    }
}

pub fn data_facts(rng: &mut Rng, i: usize) -> DataFacts {
    DataFacts {
        dataset: rng
            .pick(&["iris", "adult", "covertype", "higgs"])
            .to_owned(),
        n_observations: 500 + rng.below(4_500) as i32,
        n_features: 4 + rng.below(50) as i32,
        test_size: 0.2,
        fold: (i % 1_000) as i32,
        shuffled: true,
    }
}

pub fn metrics(rng: &mut Rng) -> Metrics {
    let f1 = 0.5 + 0.5 * rng.unit();
    let mut u = || rng.unit();
    let loss = (0..8).map(|step| 1.0 / (step as f64 + 1.5)).collect();
    Metrics {
        f1_score: f1,
        accuracy: u(),
        balanced_accuracy: u(),
        precision: u(),
        recall: u(),
        roc_auc: u(),
        average_precision: u(),
        log_loss: u(),
        brier_score: u(),
        matthews_corrcoef: u(),
        cohen_kappa: u(),
        jaccard: u(),
        hamming_loss: u(),
        zero_one_loss: u(),
        fit_time: u() * 10.0,
        score_time: u(),
        train_accuracy: u(),
        train_f1_score: u(),
        val_accuracy: u(),
        val_f1_score: u(),
        loss,
    }
}

/// Records run `i` through the public API: open (one write), then one guard
/// whose flush also marks the run finished (one more write).
pub fn record_run(uri: &str, i: usize) -> anyhow::Result<()> {
    let mut rng = Rng(i as u64);
    let run = Run::builder()
        .uri(uri)
        .experiment(EXPERIMENT)
        .id(format!("run-{i:06}"))
        .open()?;
    let _guard = run.enter();
    run.store("params.model", model_params(&mut rng, i))?;
    run.store("data", data_facts(&mut rng, i))?;
    run.store("metrics", metrics(&mut rng))?;
    // Writes the buffer and the `finished` status as one update; the guard
    // and the run then have nothing left to write.
    run.finish()
}

/// A store holding `runs` runs: cached under `target/tmp` when benchmarking,
/// a fresh temporary directory otherwise (kept alive by the returned guard).
pub fn populated_store(
    runs: usize,
    cached: bool,
) -> anyhow::Result<(PathBuf, Option<tempfile::TempDir>)> {
    let (dir, temp) = if cached {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-store-{runs}"));
        let marker = dir.join(COMPLETE);
        let wanted = format!("{LAYOUT} {runs}\n");
        if std::fs::read_to_string(&marker).ok().as_deref() == Some(wanted.as_str()) {
            return Ok((dir, None));
        }
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        (dir, None)
    } else {
        let temp = tempfile::tempdir()?;
        (temp.path().join(format!("store-{runs}")), Some(temp))
    };
    let uri = dir.display().to_string();
    let start = Instant::now();
    for i in 0..runs {
        record_run(&uri, i)?;
        if (i + 1) % 10_000 == 0 {
            eprintln!(
                "  populating {}: {} runs, {:.0} s",
                dir.display(),
                i + 1,
                start.elapsed().as_secs_f64()
            );
        }
    }
    eprintln!(
        "populated {} with {runs} runs in {:.1} s",
        dir.display(),
        start.elapsed().as_secs_f64()
    );
    if cached {
        std::fs::write(dir.join(COMPLETE), format!("{LAYOUT} {runs}\n"))?;
    }
    Ok((dir, temp))
}
