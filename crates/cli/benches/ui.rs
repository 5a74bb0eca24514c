//! The dashboard against issue 13's targets, over HTTP to a real
//! `yamlett ui` process and in headless Chromium:
//!
//! - the runs table's first page (3-predicate filter, sort by a metric, 50
//!   rows) over 100,000 runs: ≤ 100 ms answered by the server (criterion,
//!   HTTP round trip included), ≤ 300 ms drawn after opening the page
//!   (median of 10 page loads, `performance.now()` when the rows are in);
//! - a 10,000,000-point series sampled to 1,000 columns: ≤ 50 ms;
//! - the page's script and styles: < 100 KB.
//!
//! ```text
//! cargo bench -p yamlett-cli --bench ui
//! ```
//!
//! The 100,000-run store is `benches/local_store.rs`'s, cached in
//! `target/tmp/bench-store-100000`; the series store in
//! `target/tmp/ui-bench-series-10m`. Under `cargo test` the benchmark runs
//! once over small stores.

use std::path::Path;
use std::time::Duration;

use criterion::Criterion;
use yamlett::Run;

#[path = "../../../benches/support/generated_runs.rs"]
mod generated_runs;
#[path = "../tests/ui_support/mod.rs"]
mod ui_support;

use ui_support::{q, Dashboard};

const FILTER: &str = r#"{"params.model.fit_intercept": true, "data.n_observations": {"$gte": 3000}, "metrics.f1_score": {"$gte": 0.9}}"#;
const SORT: &str = r#"{"metrics.f1_score": -1}"#;

fn series_store(points: usize) -> anyhow::Result<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("ui-bench-series-{points}"));
    let marker = dir.join("ui-bench-complete");
    if marker.exists() {
        return Ok(dir);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let run = Run::builder()
        .uri(dir.display().to_string())
        .experiment("series")
        .id("long")
        .open()?;
    for chunk in 0..points.div_ceil(100_000) {
        let _guard = run.enter();
        for i in chunk * 100_000..((chunk + 1) * 100_000).min(points) {
            run.log(
                "loss",
                (i as f64 * 1e-4).sin() + if i == points / 3 { -10.0 } else { 0.0 },
            )?;
        }
    }
    run.finish()?;
    std::fs::write(marker, "")?;
    Ok(dir)
}

fn main() -> anyhow::Result<()> {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let (runs, points) = if benchmarking {
        (100_000, 10_000_000)
    } else {
        (200, 20_000)
    };
    let (store, _temp) = generated_runs::populated_store(runs, benchmarking)?;
    let series = series_store(points)?;
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));

    let ui = Dashboard::start(store.to_str().expect("utf-8 path"));
    let page = format!(
        "/api/runs?experiment={}&filter={}&sort={}&limit=50",
        generated_runs::EXPERIMENT,
        q(FILTER),
        q(SORT)
    );
    let first = ui.get(&page);
    assert_eq!(first.status, 200, "{}", first.body);
    c.bench_function(&format!("ui/runs_first_page/{runs}"), |b| {
        b.iter(|| ui.get(&page))
    });

    let sui = Dashboard::start(series.to_str().expect("utf-8 path"));
    let sampled = "/api/series?experiment=series&id=long&key=loss&columns=1000";
    let answer = sui.get(sampled);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let values: serde_json::Value = serde_json::from_str(&answer.body)?;
    let lowest = values["values"]
        .as_array()
        .expect("values")
        .iter()
        .filter_map(|v| v.as_f64())
        .fold(f64::INFINITY, f64::min);
    assert!(lowest < -8.0, "the spike is in the sample: {lowest}");
    c.bench_function(&format!("ui/series_sampled_1000/{points}"), |b| {
        b.iter(|| sui.get(sampled))
    });

    // Drawn in the browser: from navigation start to the rows in the table.
    let profile = tempfile::tempdir()?;
    let browser = ui_support::browser(&profile);
    let tab = browser.new_tab()?;
    let url = ui.url(&format!(
        "/experiments/{}?filter={}&sort=metrics.f1_score:-1",
        generated_runs::EXPERIMENT,
        q(FILTER)
    ));
    let mut drawn = Vec::new();
    for _ in 0..if benchmarking { 10 } else { 1 } {
        tab.navigate_to(&url)?.wait_until_navigated()?;
        tab.wait_for_element("#runs tbody tr")?;
        let at = tab.evaluate("window.yamlettTimings.rows", false)?.value;
        drawn.push(
            at.and_then(|v| v.as_f64())
                .expect("the page records when its rows are in"),
        );
    }
    drawn.sort_by(f64::total_cmp);
    println!(
        "ui/runs_first_page_drawn/{runs}: median {:.0} ms (min {:.0}, max {:.0}, {} page loads)",
        drawn[drawn.len() / 2],
        drawn[0],
        drawn[drawn.len() - 1],
        drawn.len()
    );

    let assets: usize = [
        "/",
        "/assets/app.js",
        "/assets/chart.js",
        "/assets/style.css",
    ]
    .iter()
    .map(|path| ui.get(path).body.len())
    .sum();
    println!("ui/assets: {assets} bytes (page, script and styles)");
    c.final_summary();
    Ok(())
}
