//! The `yamlett` command as a user runs it: a whole process, start-up
//! included, on the cached benchmark stores of `benches/local_store.rs`
//! (100,000 and 10,000 runs of ~60 nested fields, in `target/tmp`; built
//! through that benchmark when missing, so there is one generator of runs).
//!
//! ```text
//! cargo bench -p yamlett-cli --bench commands
//! YAMLETT_TEST_MONGODB_URI=mongodb://… cargo bench -p yamlett-cli --bench commands   # + copy
//! ```
//!
//! Targets (issue 12): `runs` with a 3-predicate filter and `--limit 50`
//! over 100,000 runs within 300 ms; `export` of 100,000 runs to CSV within
//! 5 s; `copy` of 10,000 runs to MongoDB bound by the server (500 runs per
//! round trip), not by round trips.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::Criterion;

/// The filter of `local_store`'s find benchmark: about 4.4 % of the runs.
const THREE_PREDICATES: &str = r#"{"params.model.fit_intercept": true, "data.n_observations": {"$gte": 3000}, "metrics.f1_score": {"$gte": 0.9}}"#;

/// The cached store of `runs` runs, built by `local_store` if missing.
fn store(runs: usize) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-store-{runs}"));
    if !dir.join("bench-complete").exists() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["bench", "--bench", "local_store"])
            .env("YAMLETT_BENCH_POPULATE", runs.to_string())
            .current_dir(root)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "populating the {runs}-run store failed");
    }
    dir
}

/// Runs `yamlett ARGS` to completion, stdout discarded; panics on failure.
fn yamlett(args: &[&str]) {
    let output = Command::new(env!("CARGO_BIN_EXE_yamlett"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("yamlett runs");
    assert!(
        output.status.success(),
        "yamlett {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    if !benching {
        return; // `cargo test` builds benches; the stores take minutes to build
    }
    let big = store(100_000);
    let big = big.to_str().expect("utf-8 path");
    let mut c = Criterion::default().configure_from_args();

    let mut group = c.benchmark_group("cli_100k");
    group.sample_size(20);
    group.bench_function("runs_3_predicates_limit_50", |b| {
        b.iter(|| {
            yamlett(&[
                "--uri",
                big,
                "runs",
                "bench",
                THREE_PREDICATES,
                "--limit",
                "50",
                "--json",
            ])
        })
    });
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(60));
    let out = tempfile::tempdir().expect("temp dir");
    let csv = out.path().join("runs.csv");
    let csv = csv.to_str().expect("utf-8 path");
    group.bench_function("export_csv", |b| {
        b.iter(|| {
            yamlett(&[
                "--uri", big, "export", "bench", "--format", "csv", "--output", csv,
            ])
        })
    });
    group.finish();

    if let Ok(mongodb) = std::env::var("YAMLETT_TEST_MONGODB_URI") {
        let small = store(10_000);
        let small = small.to_str().expect("utf-8 path");
        let mut group = c.benchmark_group("cli_10k");
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(120));
        group.bench_function("copy_to_mongodb", |b| {
            b.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for i in 0..iterations {
                    // A database of its own each time: a first copy, not
                    // an idempotent no-op.
                    let database = format!("bench_copy_{}_{i}", std::process::id());
                    let target = match mongodb.split_once("/?") {
                        Some((server, options)) => format!("{server}/{database}?{options}"),
                        None => format!("{}/{database}", mongodb.trim_end_matches('/')),
                    };
                    let start = Instant::now();
                    yamlett(&["copy", "--from", small, "--to", &target, "bench"]);
                    total += start.elapsed();
                    drop_database(&target);
                }
                total
            })
        });
        group.finish();
    }
    c.final_summary();
}

/// Drops the database a copy benchmark wrote.
fn drop_database(uri: &str) {
    let client = yamlett::mongodb::sync::Client::with_uri_str(uri).expect("client");
    let name = client.default_database().expect("a database in the URI");
    name.drop().run().expect("drop");
}
