//! What a guard saves: N runs × 20 values, stored one write per value versus
//! one guard per run, on the store named by `YAMLETT_BENCH_URI` (default: a
//! fresh embedded store in a temp directory; a `mongodb://` URI for MongoDB).
//!
//! ```text
//! cargo bench --bench guard_cost                      # 1,000 runs, embedded store
//! YAMLETT_BENCH_URI=mongodb://127.0.0.1:27017 cargo bench --bench guard_cost
//! ```
//!
//! Under `cargo test` it runs with 10 runs, as a smoke test.

use std::time::{Duration, Instant};

use yamlett::Run;

const VALUES_PER_RUN: usize = 20;

fn log_runs(uri: &str, experiment: &str, runs: usize, guarded: bool) -> anyhow::Result<Duration> {
    let keys: Vec<String> = (0..VALUES_PER_RUN)
        .map(|i| format!("metrics.value_{i:02}"))
        .collect();
    let start = Instant::now();
    for _ in 0..runs {
        let run = Run::builder().uri(uri).experiment(experiment).open()?;
        let guard = guarded.then(|| run.enter());
        for (i, key) in keys.iter().enumerate() {
            run.store(key, i as f64 * 0.5)?;
        }
        drop(guard);
    }
    Ok(start.elapsed())
}

fn main() -> anyhow::Result<()> {
    let benching = std::env::args().any(|a| a == "--bench");
    let runs = if benching { 1_000 } else { 10 };
    let temp = tempfile::tempdir()?;
    let uri =
        std::env::var("YAMLETT_BENCH_URI").unwrap_or_else(|_| temp.path().display().to_string());
    let stamp = std::process::id();
    // Warm up the store (client, connection pool, database file).
    log_runs(&uri, &format!("guard_cost_warmup_{stamp}"), 5, true)?;
    let unguarded = log_runs(&uri, &format!("guard_cost_unguarded_{stamp}"), runs, false)?;
    let guarded = log_runs(&uri, &format!("guard_cost_guarded_{stamp}"), runs, true)?;
    let store = if uri.starts_with("mongodb") {
        "MongoDB"
    } else {
        "embedded"
    };
    println!("{runs} runs x {VALUES_PER_RUN} values on the {store} store (each run also costs one open write):");
    println!(
        "  one write per value: {:>8.1} ms",
        unguarded.as_secs_f64() * 1e3
    );
    println!(
        "  one guard per run:   {:>8.1} ms",
        guarded.as_secs_f64() * 1e3
    );
    println!(
        "  ratio:               {:>8.1}x",
        unguarded.as_secs_f64() / guarded.as_secs_f64()
    );
    Ok(())
}
