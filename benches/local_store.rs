//! The embedded store under load: `find` and `$group` over 1k–100k runs of
//! ~60 nested fields, a guard's flush, `store` into an open guard, opening a
//! store, and the peak RSS of a selective `find` over 100k runs.
//!
//! ```text
//! cargo bench --bench local_store                 # everything
//! cargo bench --bench local_store -- find         # one group (criterion filter)
//! ```
//!
//! The populated stores are built once, through the public API (one guard,
//! so one write, per run), and cached in `target/tmp/bench-store-<runs>`:
//! delete a directory to rebuild it. Under `cargo test` every benchmark runs
//! once on a fresh 50-run store, as a smoke test.
//!
//! The peak RSS is measured in a child process (this binary again, with
//! `YAMLETT_BENCH_RSS_CHILD` set) that opens the already-populated store,
//! runs the find and prints its `VmHWM`, so that populating the store does
//! not count.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput};
use yamlett::bson::{doc, Document};
use yamlett::{Experiment, Run};

#[path = "support/generated_runs.rs"]
mod generated_runs;
use generated_runs::{model_params, populated_store, record_run, Rng, EXPERIMENT};

/// Set in the child process that measures the peak RSS of a find.
const RSS_CHILD_ENV: &str = "YAMLETT_BENCH_RSS_CHILD";

/// Set in the child process that creates stores for the open benchmark.
const CREATE_CHILD_ENV: &str = "YAMLETT_BENCH_CREATE_STORES";

/// `<runs>,<runs>,…`: only builds (or finds) the cached stores of those
/// sizes, then exits: the command line's benchmark (crates/cli/benches)
/// runs on them, so there is one generator of benchmark runs.
const POPULATE_ENV: &str = "YAMLETT_BENCH_POPULATE";

/// `find|group:<runs>:<iterations>`: instead of benchmarking, runs one query
/// in a loop on the cached store and prints its times (for profilers).
const LOOP_ENV: &str = "YAMLETT_BENCH_LOOP";

/// The seed's filter: about 4.4 % of the generated runs match it.
fn three_predicates() -> Document {
    doc! {
        "params.model.fit_intercept": true,
        "data.n_observations": { "$gte": 3000 },
        "metrics.f1_score": { "$gte": 0.9 },
    }
}

/// Matches one run in 1,000 (`data.fold` is the run's index modulo 1,000),
/// spread evenly over the whole experiment: 100 of 100,000.
fn one_in_a_thousand() -> Document {
    doc! { "data.fold": 0 }
}

fn group_pipeline() -> Vec<Document> {
    vec![doc! {
        "$group": {
            "_id": "$params.model.fit_intercept",
            "avg_f1": { "$avg": "$metrics.f1_score" },
        }
    }]
}

// ---------------------------------------------------------------------------
// Benchmarks.

fn bench_find(c: &mut Criterion, stores: &[(usize, PathBuf)]) {
    let mut group = c.benchmark_group("find_3_predicates");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    for (runs, dir) in stores {
        let experiment = open_experiment(dir);
        let matches = experiment.find(three_predicates()).unwrap().len();
        eprintln!("find_3_predicates/{runs}: {matches} matches");
        group.throughput(Throughput::Elements(*runs as u64));
        // Timed until `find` returns its documents; freeing them afterwards
        // is the caller's (and is reported on its own by the query loop).
        group.bench_with_input(BenchmarkId::from_parameter(runs), &experiment, |b, e| {
            b.iter_custom(|iterations| {
                let mut timed = Duration::ZERO;
                for _ in 0..iterations {
                    let start = Instant::now();
                    let found = e.find(three_predicates()).unwrap();
                    timed += start.elapsed();
                    drop(black_box(found));
                }
                timed
            })
        });
    }
    group.finish();
}

fn bench_group(c: &mut Criterion, stores: &[(usize, PathBuf)]) {
    let mut group = c.benchmark_group("group_avg_f1_by_fit_intercept");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    for (runs, dir) in stores {
        let experiment = open_experiment(dir);
        let groups = experiment.aggregate(group_pipeline()).unwrap();
        assert_eq!(groups.len(), 2, "{groups:?}");
        group.throughput(Throughput::Elements(*runs as u64));
        group.bench_with_input(BenchmarkId::from_parameter(runs), &experiment, |b, e| {
            b.iter(|| e.aggregate(group_pipeline()).unwrap())
        });
    }
    group.finish();
}

fn bench_guard(c: &mut Criterion) {
    let temp = tempfile::tempdir().unwrap();
    let uri = temp.path().join("guard").display().to_string();
    let run = Run::builder()
        .uri(&uri)
        .experiment("guard")
        .id("existing")
        .open()
        .unwrap();
    let keys: Vec<String> = (0..100).map(|i| format!("metrics.value_{i:03}")).collect();
    let mut group = c.benchmark_group("guard");
    bench_flush(&mut group, "flush_100_values", &run, &keys);
    // The same on MongoDB, when a server is given (the test server is a
    // Python reimplementation: this measures it more than yamlett).
    if let Ok(mongodb) = std::env::var("YAMLETT_TEST_MONGODB_URI") {
        let remote = Run::builder()
            .uri(&mongodb)
            .experiment("bench_guard")
            .open()
            .unwrap();
        bench_flush(&mut group, "flush_100_values_mongodb", &remote, &keys);
    }

    // `store` into an open guard, which only buffers; the one flush at the
    // end of each benchmark happens outside the timing.
    const KEY: &str = "metrics.validation_f1_avg";
    assert_eq!(KEY.len(), 25);
    {
        let _guard = run.enter();
        group.bench_function("store_f64_25_char_key", |b| {
            b.iter(|| run.store(black_box(KEY), black_box(0.93_f64)).unwrap())
        });
        let params = model_params(&mut Rng(7), 7);
        group.bench_function("store_struct_30_fields", |b| {
            b.iter(|| {
                run.store(black_box("params.model"), black_box(&params))
                    .unwrap()
            })
        });
    }
    group.finish();
}

fn bench_open(c: &mut Criterion) {
    let temp = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("open");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let mut serial = 0_u64;
    let mut fresh_dir = |kind: &str| {
        serial += 1;
        temp.path().join(format!("{kind}-{serial}"))
    };

    // Every store is opened once per process and then cached, so each
    // iteration opens a directory this process has not seen.

    // A new directory: creates the database, the schema, and switches to WAL.
    group.bench_function("experiment_new_store", |b| {
        b.iter_custom(|iters| {
            let dirs: Vec<String> = (0..iters)
                .map(|_| fresh_dir("new").display().to_string())
                .collect();
            let start = Instant::now();
            for dir in &dirs {
                black_box(
                    Experiment::builder()
                        .uri(dir)
                        .name(EXPERIMENT)
                        .open()
                        .unwrap(),
                );
            }
            start.elapsed()
        })
    });

    // An existing store, created by another process: what a program that
    // logs to its usual store pays on its first call.
    group.bench_function("experiment_existing_store", |b| {
        b.iter_custom(|iters| {
            let dirs: Vec<PathBuf> = (0..iters).map(|_| fresh_dir("existing")).collect();
            create_stores_in_child(&dirs);
            let start = Instant::now();
            for dir in &dirs {
                let uri = dir.display().to_string();
                black_box(
                    Experiment::builder()
                        .uri(uri)
                        .name(EXPERIMENT)
                        .open()
                        .unwrap(),
                );
            }
            start.elapsed()
        })
    });

    // `Run::builder().open()` on a new directory: the store's creation plus
    // the run's first write (an upserting transaction, fsynced).
    group.bench_function("run_new_store", |b| {
        b.iter_custom(|iters| {
            let dirs: Vec<String> = (0..iters)
                .map(|_| fresh_dir("run").display().to_string())
                .collect();
            let start = Instant::now();
            for dir in &dirs {
                black_box(
                    Run::builder()
                        .uri(dir)
                        .experiment(EXPERIMENT)
                        .open()
                        .unwrap(),
                );
            }
            start.elapsed()
        })
    });
    group.finish();
}

fn open_experiment(dir: &Path) -> Experiment {
    Experiment::builder()
        .uri(dir.display().to_string())
        .name(EXPERIMENT)
        .open()
        .unwrap()
}

// ---------------------------------------------------------------------------
// Child processes.

/// Creates a store with one run in each of `dirs`, in another process.
fn create_stores_in_child(dirs: &[PathBuf]) {
    let list = std::env::join_paths(dirs).unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .env(CREATE_CHILD_ENV, list)
        .status()
        .unwrap();
    assert!(status.success());
}

fn create_child(list: &std::ffi::OsStr) -> anyhow::Result<()> {
    for dir in std::env::split_paths(list) {
        record_run(&dir.display().to_string(), 0)?;
    }
    Ok(())
}

/// The peak resident set size of this process so far, in KiB.
fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// In the child: opens the store `dir`, runs the find named by `which`, and
/// prints `<matches> <VmHWM before, KiB> <VmHWM after, KiB> <elapsed, ms>`.
fn rss_child(spec: &str) -> anyhow::Result<()> {
    let (which, dir) = spec.split_once(':').expect("which:dir");
    let filter = match which {
        "one_in_a_thousand" => one_in_a_thousand(),
        "three_predicates" => three_predicates(),
        "none" => doc! { "_id": "no such run" },
        other => panic!("unknown filter {other}"),
    };
    let before = vm_hwm_kib();
    let experiment = open_experiment(Path::new(dir));
    let start = Instant::now();
    let found = experiment.find(filter)?;
    let elapsed = start.elapsed();
    println!(
        "{} {before} {} {:.1}",
        found.len(),
        vm_hwm_kib(),
        elapsed.as_secs_f64() * 1e3
    );
    Ok(())
}

/// Measures, each in a fresh child process, the peak RSS of finds over the
/// store `dir` of `runs` runs.
fn report_peak_rss(runs: usize, dir: &Path) -> anyhow::Result<()> {
    println!("peak RSS (VmHWM) of one find over {runs} runs, each in a fresh process:");
    for which in ["none", "one_in_a_thousand", "three_predicates"] {
        let output = Command::new(std::env::current_exe()?)
            .env(RSS_CHILD_ENV, format!("{which}:{}", dir.display()))
            .output()?;
        anyhow::ensure!(
            output.status.success(),
            "child failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let line = String::from_utf8(output.stdout)?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [matches, before, after, ms] = fields[..] else {
            anyhow::bail!("unexpected child output {line:?}");
        };
        let mib = |kib: &str| kib.parse::<f64>().unwrap_or(0.0) / 1024.0;
        println!(
            "  {which:<18} {matches:>6} matches  VmHWM {:>6.1} MiB (at start {:.1} MiB)  find {ms} ms",
            mib(after),
            mib(before)
        );
    }
    Ok(())
}

/// Runs one query in a loop on a cached store (see [`LOOP_ENV`]) and prints
/// the minimum and median times.
fn query_loop(spec: &str) -> anyhow::Result<()> {
    if let Some(steps) = spec.strip_prefix("steps:") {
        return step_loop(steps.parse()?);
    }
    let mut parts = spec.split(':');
    let (Some(which), Some(runs), Some(iters)) = (parts.next(), parts.next(), parts.next()) else {
        anyhow::bail!("{LOOP_ENV} must be find|group:<runs>:<iterations> or steps:<n>");
    };
    let (dir, _temp) = populated_store(runs.parse()?, true)?;
    let experiment = open_experiment(&dir);
    let mut times = Vec::new();
    let mut drops = Vec::new();
    let mut results = 0;
    for _ in 0..iters.parse::<usize>()? {
        let start = Instant::now();
        let found = match which {
            "find" => experiment.find(three_predicates())?,
            "group" => experiment.aggregate(group_pipeline())?,
            other => anyhow::bail!("unknown query {other}"),
        };
        times.push(start.elapsed().as_secs_f64() * 1e3);
        results = found.len();
        let start = Instant::now();
        drop(found);
        drops.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    drops.sort_by(f64::total_cmp);
    println!(
        "{which} over {runs} runs: {results} results, min {:.2} ms, median {:.2} ms \
         (then freeing the results: median {:.2} ms)",
        times[0],
        times[times.len() / 2],
        drops[drops.len() / 2]
    );
    Ok(())
}

/// The flush of a guard holding one store of each of `keys`: the stores
/// happen in the untimed setup, the drop (one update) is timed.
fn bench_flush(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    run: &Run,
    keys: &[String],
) {
    let mut round = 0_u32;
    group.bench_function(name, |b| {
        b.iter_batched(
            || {
                round += 1;
                let guard = run.enter();
                for (i, key) in keys.iter().enumerate() {
                    run.store(key, f64::from(round) + i as f64 * 0.5).unwrap();
                }
                guard
            },
            drop,
            BatchSize::PerIteration,
        )
    });
}

/// A training loop's logging, for profilers: `steps` guards, each holding
/// one push of a loss value (a durable write per step), 100 steps per run
/// (a new run, with W1's params and data, every 100 steps).
fn step_loop(steps: usize) -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let uri = temp.path().display().to_string();
    let mut rng = Rng(11);
    let mut run = None;
    let mut times = Vec::with_capacity(steps);
    for i in 0..steps {
        if i % 100 == 0 {
            let fresh = Run::builder().uri(&uri).experiment("steps").open()?;
            {
                let _guard = fresh.enter();
                fresh.store("params.model", model_params(&mut rng, i))?;
                fresh.store("data.n_observations", i as i64)?;
            }
            run = Some(fresh);
        }
        let Some(run) = &run else { unreachable!() };
        let start = Instant::now();
        {
            let _guard = run.enter();
            run.push("metrics.loss", 1.0 / (i as f64 + 1.0))?;
        }
        times.push(start.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{steps} guarded steps: min {:.1} µs, median {:.1} µs",
        times[0],
        times[times.len() / 2]
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    if let Ok(spec) = std::env::var(RSS_CHILD_ENV) {
        return rss_child(&spec);
    }
    if let Some(list) = std::env::var_os(CREATE_CHILD_ENV) {
        return create_child(&list);
    }
    if let Ok(spec) = std::env::var(LOOP_ENV) {
        return query_loop(&spec);
    }
    if let Ok(list) = std::env::var(POPULATE_ENV) {
        for runs in list.split(',') {
            populated_store(runs.trim().parse()?, true)?;
        }
        return Ok(());
    }
    let benching = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if benching {
        &[1_000, 5_000, 10_000, 100_000]
    } else {
        &[50]
    };
    let mut temps = Vec::new();
    let mut stores = Vec::new();
    for &runs in sizes {
        let (dir, temp) = populated_store(runs, benching)?;
        temps.extend(temp);
        stores.push((runs, dir));
    }

    let mut c = Criterion::default().configure_from_args();
    bench_find(&mut c, &stores);
    bench_group(&mut c, &stores);
    bench_guard(&mut c);
    bench_open(&mut c);
    c.final_summary();

    if let Some((runs, dir)) = stores.last() {
        report_peak_rss(*runs, dir)?;
    }
    Ok(())
}
