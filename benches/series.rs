//! Metric series on the embedded store (issue 11's targets):
//!
//! - a training loop logging 10,000,000 points into one run, one guard per
//!   step: the time of each million (the last within 1.3x the first), the
//!   cost per point (target 5 µs) and the process's peak RSS (64 MiB);
//! - criterion: `log` into an open guard (100 ns), reading 1,000,000 points
//!   (100 ms), `series_sampled` of the 10,000,000 points to 1,000 columns
//!   (50 ms).
//!
//! ```text
//! cargo bench --bench series
//! YAMLETT_BENCH_SERIES_POINTS=1000000 cargo bench --bench series   # a shorter loop
//! YAMLETT_BENCH_LOOP=series:200000 cargo bench --bench series      # the loop alone, for profilers
//! ```
//!
//! Under `cargo test` it logs 20,000 points, as a smoke test.

use std::time::{Duration, Instant};

use criterion::Criterion;
use yamlett::{Experiment, Run};

/// The peak resident set size of this process so far, in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// The training loop: a guard per step, one point per step.
fn training_loop(run: &Run, points: i64) -> anyhow::Result<Vec<Duration>> {
    let chunk = (points / 10).max(1);
    let mut chunks = Vec::new();
    let mut start = Instant::now();
    for step in 0..points {
        {
            let _guard = run.enter();
            run.log("metrics.loss", 1.0 / (step as f64 + 1.0))?;
        }
        if (step + 1) % chunk == 0 {
            chunks.push(start.elapsed());
            start = Instant::now();
        }
    }
    Ok(chunks)
}

/// `series:<points>`: only the training loop, then exit (for profilers).
const LOOP_ENV: &str = "YAMLETT_BENCH_LOOP";

fn main() -> anyhow::Result<()> {
    if let Some(points) = std::env::var(LOOP_ENV)
        .ok()
        .and_then(|spec| spec.strip_prefix("series:").map(str::to_owned))
    {
        let temp = tempfile::tempdir()?;
        let uri = temp.path().display().to_string();
        let run = Run::builder().uri(&uri).experiment("bench").open()?;
        let points: i64 = points.parse()?;
        let total: Duration = training_loop(&run, points)?.iter().sum();
        println!(
            "{points} points: {:.2} µs per point",
            total.as_secs_f64() * 1e6 / points as f64
        );
        run.finish()?;
        return Ok(());
    }
    let benching = std::env::args().any(|a| a == "--bench");
    let points: i64 = match std::env::var("YAMLETT_BENCH_SERIES_POINTS") {
        Ok(n) => n.parse()?,
        Err(_) if benching => 10_000_000,
        Err(_) => 20_000,
    };
    let temp = tempfile::tempdir()?;
    let uri = temp.path().display().to_string();

    let run = Run::builder().uri(&uri).experiment("bench").open()?;
    let chunks = training_loop(&run, points)?;
    let total: Duration = chunks.iter().sum();
    let first = chunks[0].as_secs_f64();
    let last = chunks[chunks.len() - 1].as_secs_f64();
    println!("{points} points, one guard per step, embedded store:");
    for (i, chunk) in chunks.iter().enumerate() {
        println!("  tenth {:>2}: {:>7.3} s", i + 1, chunk.as_secs_f64());
    }
    println!(
        "  last tenth / first tenth: {:.2}x (target <= 1.3x)",
        last / first
    );
    println!(
        "  per point: {:.2} µs (target <= 5 µs)",
        total.as_secs_f64() * 1e6 / points as f64
    );
    println!(
        "  peak RSS after the loop: {:.1} MiB (target <= 64 MiB)",
        peak_rss_mib()
    );
    run.finish()?;

    // A run of 1,000,000 points to read back (logged in bulk: its timing
    // is not the point).
    let read_points = points.min(1_000_000);
    let reader = Run::builder().uri(&uri).experiment("bench").open()?;
    for block in 0..read_points / 1000 {
        let _guard = reader.enter();
        for i in 0..1000 {
            reader.log("metrics.loss", (block * 1000 + i) as f64)?;
        }
    }
    reader.finish()?;
    let experiment = Experiment::builder().uri(&uri).name("bench").open()?;

    let mut criterion = Criterion::default().configure_from_args().sample_size(10);
    let mut group = criterion.benchmark_group("series");
    group.bench_function(format!("read {read_points} points"), |b| {
        b.iter(|| {
            let series = experiment.series(reader.id(), "metrics.loss").unwrap();
            assert_eq!(series.len() as i64, read_points);
            series
        })
    });
    group.bench_function(
        format!("series_sampled of {points} points to 1000 columns"),
        |b| {
            b.iter(|| {
                let chart = experiment
                    .series_sampled(run.id(), "metrics.loss", 1000, None)
                    .unwrap();
                assert!(chart.values.contains(&1.0)); // the true maximum
                chart
            })
        },
    );
    let open = Run::builder().uri(&uri).experiment("bench").open()?;
    let guard = open.enter();
    // Timed in chunks of 100,000 points, each written out untimed by
    // `commit`: criterion runs tens of millions of iterations, and a guard
    // buffering them all took gigabytes of memory.
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(1));
    group.bench_function("log into an open guard", |b| {
        b.iter_custom(|iterations| {
            let mut timed = Duration::ZERO;
            let mut left = iterations;
            while left > 0 {
                let chunk = left.min(100_000);
                let start = Instant::now();
                for _ in 0..chunk {
                    open.log("metrics.loss", 0.5).unwrap();
                }
                timed += start.elapsed();
                guard.commit().unwrap();
                left -= chunk;
            }
            timed
        })
    });
    group.finish();
    drop(guard);
    criterion.final_summary();
    Ok(())
}
