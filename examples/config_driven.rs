//! Configuration-driven experiments: the whole config struct is stored as
//! one nested document, so every field is queryable by its path.
//!
//! ```text
//! cargo run --example config_driven
//! ```

use serde::{Deserialize, Serialize};
use yamlett::bson::doc;
use yamlett::{Experiment, FindOptions, Run};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Config {
    model: ModelConfig,
    optimizer: OptimizerConfig,
    data: DataConfig,
    seed: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ModelConfig {
    layers: Vec<u32>,
    dropout: f64,
    activation: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct OptimizerConfig {
    name: String,
    learning_rate: f64,
    weight_decay: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct DataConfig {
    dataset: String,
    batch_size: u32,
    augment: bool,
}

fn main() -> anyhow::Result<()> {
    let experiment_name = "config-sweep";
    let base = Config {
        model: ModelConfig {
            layers: vec![64, 32],
            dropout: 0.1,
            activation: "relu".into(),
        },
        optimizer: OptimizerConfig {
            name: "adam".into(),
            learning_rate: 1e-3,
            weight_decay: 0.0,
        },
        data: DataConfig {
            dataset: "mnist".into(),
            batch_size: 64,
            augment: false,
        },
        seed: 0,
    };

    // A small sweep: each run stores its config whole, in one write.
    for (i, lr) in [1e-2, 1e-3, 1e-4].into_iter().enumerate() {
        for augment in [false, true] {
            let mut config = base.clone();
            config.optimizer.learning_rate = lr;
            config.data.augment = augment;
            config.seed = i as u32;

            let run = Run::builder().experiment(experiment_name).open()?;
            let _guard = run.enter();
            run.store("config", &config)?;
            // A stand-in for training: the score depends on the config.
            let accuracy = 0.9 - (lr.log10() + 3.0).abs() * 0.05 + if augment { 0.02 } else { 0.0 };
            run.store("metrics.accuracy", accuracy)?;
        }
    }

    // Every config field is a query path.
    let experiment = Experiment::new(experiment_name)?;
    let best = experiment.find_with(
        doc! { "config.data.augment": true, "config.model.layers": 64 },
        FindOptions::new()
            .sort(doc! { "metrics.accuracy": -1 })
            .limit(1)
            .projection(doc! { "config.optimizer": 1, "metrics": 1 }),
    )?;
    for run in &best {
        println!("Best augmented run: {run}");
    }

    // Read a stored config back into the struct.
    if let Some(best) = experiment.find_one(doc! { "config.data.augment": true })? {
        let config: Config =
            yamlett::bson::deserialize_from_document(best.get_document("config")?.clone())?;
        println!("Its config, typed again: {config:?}");
    }
    let per_rate = experiment.aggregate([
        doc! { "$group": { "_id": "$config.optimizer.learning_rate", "n": { "$sum": 1 } } },
        doc! { "$sort": { "_id": 1 } },
    ])?;
    for group in per_rate {
        println!("Runs per learning rate: {group}");
    }
    Ok(())
}
