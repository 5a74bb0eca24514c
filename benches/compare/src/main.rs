//! Workload W1 (see `w1.py`) with yamlett and with a hand-written loop on
//! the raw mongodb driver, for the tool comparison in `benches/compare/`.
//!
//! ```text
//! yamlett-compare log   yamlett|raw|raw-same STORE DATA.json # the log phase
//! yamlett-compare query yamlett|raw STORE DATA.json [REPS]   # populate, then time the queries
//! yamlett-compare series step|batch STORE VALUES.json CAP   # workload S1 (see s1.py)
//! yamlett-compare opcounters MONGODB_URI                     # serverStatus opcounters
//! yamlett-compare drop MONGODB_URI DB...                     # drop databases
//! ```
//!
//! `STORE` is what `Run::builder().uri(..)` takes (a directory for the
//! embedded store, or `mongodb://host:port/db`); `raw` needs a MongoDB URI
//! and uses the database its path names. `DATA.json` is written by
//! `w1.py --runs N --out DATA.json`, so these loops log exactly the values
//! the Python tools log; `VALUES.json` (S1's metric values) is written by
//! `s1.py --steps N --out VALUES.json`. Every command prints one JSON
//! object on stdout, which `compare.py` reads.

use std::time::Instant;

use anyhow::{bail, Context as _};
use serde_json::{json, Value};
use yamlett::bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use yamlett::mongodb::sync::{Client, Collection};
use yamlett::{Experiment, Run};

/// The experiment (collection) the log phase writes.
const LOG_EXPERIMENT: &str = "w1";
/// The experiment (collection) the query phase populates and queries.
const QUERY_EXPERIMENT: &str = "w1_query";
/// The database the raw loop uses when the URI's path names none.
const RAW_DATABASE: &str = "raw";
/// The experiment S1 logs its one run into.
const SERIES_EXPERIMENT: &str = "s1";
/// The series S1 logs (`s1.KEY` under `metrics`).
const SERIES_KEY: &str = "metrics.loss";
/// Steps per guard of S1's `batch` mode, and between two reads of the clock
/// for the time cap (`s1.BATCH`).
const SERIES_BATCH: usize = 1000;

/// One W1 run, as `w1.py` generated it.
struct W1Run {
    /// `params.model`: 30 mixed-type hyper-parameters.
    model: Document,
    /// `data`: `n_features` and `n_observations`.
    data: Document,
    /// The 20 scalar metrics, in order.
    metrics: Vec<(String, Bson)>,
    /// The 100-step loss history.
    loss: Vec<f64>,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = match args.as_slice() {
        ["log", tool, store, data] => {
            let runs = load(data)?;
            let seconds = match *tool {
                "yamlett" => log_yamlett(store, &runs)?,
                "raw" => log_raw(&collection(store, LOG_EXPERIMENT)?, &runs)?,
                "raw-same" => log_raw_same(&collection(store, LOG_EXPERIMENT)?, &runs)?,
                other => bail!("unknown tool {other:?} (yamlett, raw or raw-same)"),
            };
            json!({ "log_seconds": seconds, "runs": runs.len(), "peak_rss_kib": peak_rss_kib() })
        }
        ["query", tool, store, data, rest @ ..] => {
            let reps = match rest {
                [] => 5,
                [reps] => reps.parse().context("REPS")?,
                _ => bail!("too many arguments"),
            };
            let runs = load(data)?;
            match *tool {
                "yamlett" => query_yamlett(store, &runs, reps)?,
                "raw" => query_raw(&collection(store, QUERY_EXPERIMENT)?, &runs, reps)?,
                other => bail!("unknown tool {other:?} (yamlett or raw)"),
            }
        }
        ["series", mode, store, values, cap] => {
            let per_guard = match *mode {
                "step" => 1,
                "batch" => SERIES_BATCH,
                other => bail!("unknown mode {other:?} (step or batch)"),
            };
            let cap = cap.parse().context("CAP (seconds)")?;
            series_yamlett(store, &load_values(values)?, cap, per_guard)?
        }
        ["opcounters", uri] => opcounters(uri)?,
        ["drop", uri, databases @ ..] => {
            let client = Client::with_uri_str(uri)?;
            for name in databases {
                client.database(name).drop().run()?;
            }
            json!({ "dropped": databases })
        }
        _ => bail!(
            "usage: yamlett-compare log|query yamlett|raw STORE DATA.json [REPS] \
             | series step|batch STORE VALUES.json CAP | opcounters URI | drop URI DB..."
        ),
    };
    println!("{out}");
    Ok(())
}

// ---------------------------------------------------------------- log phase

/// W1's log phase on yamlett, the way a training loop writes it: params,
/// data and metrics in one guard, then one guard per training step, so
/// every step is durable when `push` returns.
fn log_yamlett(store: &str, runs: &[W1Run]) -> anyhow::Result<f64> {
    let start = Instant::now();
    for w1 in runs {
        let run = Run::builder()
            .uri(store)
            .experiment(LOG_EXPERIMENT)
            .open()?;
        {
            let _guard = run.enter();
            run.store("params.model", &w1.model)?;
            run.store("data", &w1.data)?;
            for (name, value) in &w1.metrics {
                run.store(&format!("metrics.{name}"), value)?;
            }
        }
        for loss in &w1.loss {
            let _guard = run.enter();
            run.push("metrics.loss", loss)?;
        }
        run.finish()?;
    }
    Ok(start.elapsed().as_secs_f64())
}

/// The same commands yamlett sends on MongoDB, written by hand on the raw
/// driver: the lower bound for yamlett's MongoDB row. Per run: the upsert
/// that opens it, one `$set` of params/data/metrics, one `$push` per step
/// and the update that marks it finished (yamlett's provenance fields left
/// out).
fn log_raw(runs_collection: &Collection<Document>, runs: &[W1Run]) -> anyhow::Result<f64> {
    let start = Instant::now();
    for w1 in runs {
        let filter = doc! { "_id": ObjectId::new().to_hex() };
        let now = DateTime::now();
        runs_collection
            .update_one(
                filter.clone(),
                doc! {
                    "$setOnInsert": { "_yamlett.created_at": now },
                    "$set": { "_yamlett.status": "running", "_yamlett.last_modified_at": now },
                    "$unset": { "_yamlett.ended_at": "" },
                },
            )
            .upsert(true)
            .run()?;
        let mut set = doc! { "params.model": w1.model.clone(), "data": w1.data.clone() };
        for (name, value) in &w1.metrics {
            set.insert(format!("metrics.{name}"), value.clone());
        }
        set.insert("_yamlett.last_modified_at", DateTime::now());
        runs_collection
            .update_one(filter.clone(), doc! { "$set": set })
            .upsert(true)
            .run()?;
        for loss in &w1.loss {
            runs_collection
                .update_one(
                    filter.clone(),
                    doc! {
                        "$push": { "metrics.loss": { "$each": [*loss] } },
                        "$set": { "_yamlett.last_modified_at": DateTime::now() },
                    },
                )
                .upsert(true)
                .run()?;
        }
        let now = DateTime::now();
        runs_collection
            .update_one(
                filter,
                doc! { "$set": {
                    "_yamlett.status": "finished",
                    "_yamlett.ended_at": now,
                    "_yamlett.last_modified_at": now,
                } },
            )
            .upsert(true)
            .run()?;
    }
    Ok(start.elapsed().as_secs_f64())
}

/// The raw driver sending what yamlett sends, field for field: the loop of
/// [`log_raw`] plus yamlett's metadata, namely its provenance and
/// heartbeat fields when a run opens and the writer stamp on every update.
/// (The stamp's exactly-once condition goes only with a write sent again
/// from the journal, and a run with a fresh id is not read back after it
/// opens: neither happens in this loop.) Against yamlett's row this is the
/// library's own cost; against the `raw` row, what yamlett's metadata
/// costs the server.
fn log_raw_same(runs_collection: &Collection<Document>, runs: &[W1Run]) -> anyhow::Result<f64> {
    let provenance = provenance();
    let start = Instant::now();
    for w1 in runs {
        let id = random_hex();
        let stamp = format!("_yamlett.writers.w{}", random_hex());
        let mut writes = 0_i64;
        let mut send = |mut update: Document| -> anyhow::Result<()> {
            writes += 1;
            let mut set = update.remove("$set").and_then(|set| match set {
                Bson::Document(set) => Some(set),
                _ => None,
            });
            set.get_or_insert_with(Document::new)
                .insert(stamp.as_str(), writes);
            update.insert("$set", set.unwrap_or_default());
            runs_collection
                .update_one(doc! { "_id": &id }, update)
                .upsert(true)
                .run()?;
            Ok(())
        };
        let now = DateTime::now();
        let mut on_insert = doc! { "_yamlett.created_at": now };
        for (field, value) in &provenance {
            on_insert.insert(format!("_yamlett.{field}"), value.clone());
        }
        send(doc! {
            "$setOnInsert": on_insert,
            "$set": {
                "_yamlett.status": "running",
                "_yamlett.last_modified_at": now,
                "_yamlett.heartbeat_at": now,
                "_yamlett.heartbeat_s": 30.0,
            },
            "$unset": { "_yamlett.ended_at": "" },
        })?;
        let mut set = doc! { "params.model": w1.model.clone(), "data": w1.data.clone() };
        for (name, value) in &w1.metrics {
            set.insert(format!("metrics.{name}"), value.clone());
        }
        set.insert("_yamlett.last_modified_at", DateTime::now());
        send(doc! { "$set": set })?;
        for loss in &w1.loss {
            send(doc! {
                "$push": { "metrics.loss": { "$each": [*loss] } },
                "$set": { "_yamlett.last_modified_at": DateTime::now() },
            })?;
        }
        let now = DateTime::now();
        send(doc! { "$set": {
            "_yamlett.last_modified_at": now,
            "_yamlett.status": "finished",
            "_yamlett.ended_at": now,
        } })?;
    }
    Ok(start.elapsed().as_secs_f64())
}

/// 32 random hex digits, like yamlett's run ids and writer names.
fn random_hex() -> String {
    let (a, b) = (ObjectId::new().to_hex(), ObjectId::new().to_hex());
    format!("{a}{}", &b[16..])
}

/// The provenance fields yamlett records under `_yamlett` (src/run/provenance.rs).
fn provenance() -> Document {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let mut fields = doc! {
        "host": host.trim(),
        "os": format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
        "pid": i64::from(std::process::id()),
        "command": std::env::args().map(Bson::String).collect::<Vec<_>>(),
        "yamlett_version": "0.1.0",
    };
    if let Some(commit) = git(&["rev-parse", "HEAD"]) {
        let branch = git(&["rev-parse", "--abbrev-ref", "HEAD"]).unwrap_or_default();
        let mut state = doc! { "commit": commit, "branch": branch };
        if let Some(status) = git(&["status", "--porcelain", "--untracked-files=no"]) {
            state.insert("dirty", !status.is_empty());
        }
        fields.insert("git", state);
    }
    fields
}

// -------------------------------------------------------------- query phase

/// The seed's 3-predicate find (`w1.FIND_FILTER`).
fn find_filter() -> Document {
    doc! {
        "params.model.fit_intercept": true,
        "data.n_observations": { "$gte": 3000 },
        "metrics.f1_score": { "$gte": 0.9 },
    }
}

/// The mean F1 by `fit_intercept` (`w1.GROUP_PIPELINE`).
fn group_pipeline() -> Vec<Document> {
    vec![
        doc! { "$group": { "_id": "$params.model.fit_intercept", "mean_f1": { "$avg": "$metrics.f1_score" } } },
        doc! { "$sort": { "_id": 1 } },
    ]
}

/// Populates with yamlett's fastest write path (one guard per run, the loss
/// stored whole), then times the find and the `$group`.
fn query_yamlett(store: &str, runs: &[W1Run], reps: usize) -> anyhow::Result<Value> {
    let start = Instant::now();
    for w1 in runs {
        let run = Run::builder()
            .uri(store)
            .experiment(QUERY_EXPERIMENT)
            .open()?;
        {
            let _guard = run.enter();
            run.store("params.model", &w1.model)?;
            run.store("data", &w1.data)?;
            for (name, value) in &w1.metrics {
                run.store(&format!("metrics.{name}"), value)?;
            }
            run.store("metrics.loss", &w1.loss)?;
        }
        run.finish()?;
    }
    let populate_seconds = start.elapsed().as_secs_f64();
    let experiment = Experiment::builder()
        .name(QUERY_EXPERIMENT)
        .uri(store)
        .open()?;
    let (find_ms, found) = time_reps(reps, || experiment.find(find_filter()))?;
    let (group_ms, groups) = time_reps(reps, || experiment.aggregate(group_pipeline()))?;
    Ok(query_result(
        populate_seconds,
        "one guard per run",
        find_ms,
        found.len(),
        group_ms,
        &groups,
    ))
}

/// Populates with `insert_many` of whole documents (the driver's fastest
/// path), then times the same find and `$group` through the driver.
fn query_raw(
    runs_collection: &Collection<Document>,
    runs: &[W1Run],
    reps: usize,
) -> anyhow::Result<Value> {
    let start = Instant::now();
    let now = DateTime::now();
    let documents = runs.iter().map(|w1| {
        let mut metrics: Document = w1.metrics.iter().cloned().collect();
        metrics.insert("loss", w1.loss.clone());
        doc! {
            "_id": ObjectId::new().to_hex(),
            "_yamlett": { "created_at": now, "status": "finished", "last_modified_at": now },
            "params": { "model": w1.model.clone() },
            "data": w1.data.clone(),
            "metrics": metrics,
        }
    });
    runs_collection.insert_many(documents).run()?;
    let populate_seconds = start.elapsed().as_secs_f64();
    let (find_ms, found) = time_reps(reps, || -> anyhow::Result<Vec<Document>> {
        Ok(runs_collection
            .find(find_filter())
            .run()?
            .collect::<Result<_, _>>()?)
    })?;
    let (group_ms, groups) = time_reps(reps, || -> anyhow::Result<Vec<Document>> {
        Ok(runs_collection
            .aggregate(group_pipeline())
            .run()?
            .collect::<Result<_, _>>()?)
    })?;
    Ok(query_result(
        populate_seconds,
        "insert_many",
        find_ms,
        found.len(),
        group_ms,
        &groups,
    ))
}

/// Runs `query` once to warm up, then `reps` times, timing each; returns
/// the times in ms and the last answer.
fn time_reps<T>(
    reps: usize,
    mut query: impl FnMut() -> anyhow::Result<T>,
) -> anyhow::Result<(Vec<f64>, T)> {
    let mut answer = query()?;
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let start = Instant::now();
        let latest = query()?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
        // Freeing the previous answer is not the query's time.
        answer = latest;
    }
    Ok((times, answer))
}

/// The query phase's JSON: times, the find's row count and the `$group`'s
/// means keyed `"false"`/`"true"`, for `compare.py` to check.
fn query_result(
    populate_seconds: f64,
    populate_how: &str,
    find_ms: Vec<f64>,
    find_count: usize,
    group_ms: Vec<f64>,
    groups: &[Document],
) -> Value {
    let group: serde_json::Map<String, Value> = groups
        .iter()
        .map(|g| {
            let key = match g.get("_id") {
                Some(Bson::Boolean(b)) => b.to_string(),
                other => format!("{other:?}"),
            };
            (key, json!(g.get_f64("mean_f1").ok()))
        })
        .collect();
    json!({
        "peak_rss_kib": peak_rss_kib(),
        "populate_seconds": populate_seconds,
        "populate_how": populate_how,
        "find_ms": find_ms,
        "find_count": find_count,
        "group_ms": group_ms,
        "group": group,
    })
}

// ------------------------------------------------------------- series phase

/// Workload S1 on yamlett: one run, `log_at(SERIES_KEY, step, value)` once
/// per step, with a guard per `per_guard` steps (1: every step durable when
/// its guard drops, the training-loop shape; 1,000: buffered like the tools
/// that batch), stopping at the first multiple of [`SERIES_BATCH`] steps
/// past `cap` seconds; then the whole series read back through a fresh
/// [`Experiment`] handle, as another process would. The same result as
/// `common.series_phase` on the Python side.
fn series_yamlett(
    store: &str,
    values: &[f64],
    cap: f64,
    per_guard: usize,
) -> anyhow::Result<Value> {
    let run = Run::builder()
        .uri(store)
        .experiment(SERIES_EXPERIMENT)
        .open()?;
    let rss_before = status_kib("VmRSS");
    let start = Instant::now();
    let mut logged = values.len();
    let mut guard = None;
    for (step, &value) in values.iter().enumerate() {
        if step % SERIES_BATCH == 0 && step > 0 && start.elapsed().as_secs_f64() > cap {
            logged = step;
            break;
        }
        if step % per_guard == 0 {
            // The previous guard flushes before the next one opens.
            drop(guard.take());
            guard = Some(run.enter());
        }
        run.log_at(SERIES_KEY, i64::try_from(step)?, value)?;
    }
    drop(guard);
    run.finish()?;
    let log_seconds = start.elapsed().as_secs_f64();
    let log_peak = peak_rss_kib();

    let start = Instant::now();
    let experiment = Experiment::builder()
        .name(SERIES_EXPERIMENT)
        .uri(store)
        .open()?;
    let series = experiment.series(run.id(), SERIES_KEY)?;
    let read_seconds = start.elapsed().as_secs_f64();

    let expected_steps = 0..i64::try_from(logged)?;
    let exact = series.steps.iter().copied().eq(expected_steps)
        && series
            .values
            .iter()
            .map(|v| v.to_bits())
            .eq(values[..logged].iter().map(|v| v.to_bits()));
    Ok(json!({
        "steps": logged,
        "log_seconds": log_seconds,
        "read_seconds": read_seconds,
        "rss_before_kib": rss_before,
        "log_peak_rss_kib": log_peak,
        "read": series_summary(&series.steps, &series.values),
        "exact": exact,
        "peak_rss_kib": peak_rss_kib(),
    }))
}

/// A read-back history as `compare.py` checks it (`s1.summary`).
fn series_summary(steps: &[i64], values: &[f64]) -> Value {
    match (steps.first(), steps.last(), values.first(), values.last()) {
        (Some(first_step), Some(last_step), Some(first), Some(last)) => json!({
            "count": values.len(),
            "first": [first_step, first],
            "last": [last_step, last],
            "min": values.iter().copied().fold(f64::INFINITY, f64::min),
            "max": values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }),
        _ => json!({ "count": values.len() }),
    }
}

/// Reads S1's values, as `s1.py` wrote them, straight into a `Vec<f64>`
/// (streamed: neither the text nor a JSON tree is held, so the process's
/// peak RSS is the values' 8 bytes each, like the tools' own loops).
fn load_values(path: &str) -> anyhow::Result<Vec<f64>> {
    let file = std::fs::File::open(path).with_context(|| format!("reading {path}"))?;
    serde_json::from_reader(std::io::BufReader::new(file))
        .with_context(|| format!("parsing {path}"))
}

// ------------------------------------------------------------------ helpers

/// The raw loop's collection: `name` in the database the URI's path names.
fn collection(uri: &str, name: &str) -> anyhow::Result<Collection<Document>> {
    let client = Client::with_uri_str(uri).with_context(|| format!("connecting to {uri}"))?;
    let database = client
        .default_database()
        .unwrap_or_else(|| client.database(RAW_DATABASE));
    Ok(database.collection(name))
}

/// The server's `serverStatus.opcounters`, as JSON numbers.
fn opcounters(uri: &str) -> anyhow::Result<Value> {
    let client = Client::with_uri_str(uri)?;
    let status = client
        .database("admin")
        .run_command(doc! { "serverStatus": 1 })
        .run()?;
    let counters = status.get_document("opcounters")?;
    let counters: serde_json::Map<String, Value> = counters
        .iter()
        .map(|(name, value)| {
            let n = match value {
                Bson::Int32(n) => i64::from(*n),
                Bson::Int64(n) => *n,
                Bson::Double(n) => *n as i64,
                _ => 0,
            };
            (name.clone(), json!(n))
        })
        .collect();
    Ok(Value::Object(counters))
}

/// This process's peak resident set size (`VmHWM`), in KiB. Read here
/// rather than from the parent's `wait4`: a child's `ru_maxrss` also counts
/// the parent's pages it was forked with before `exec`.
fn peak_rss_kib() -> Option<u64> {
    status_kib("VmHWM")
}

/// A memory field of `/proc/self/status` (`VmHWM`, `VmRSS`), in KiB.
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| {
        line.strip_prefix(field)
            .is_some_and(|rest| rest.starts_with(':'))
    })?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Reads the runs `w1.py` wrote.
fn load(path: &str) -> anyhow::Result<Vec<W1Run>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let runs: Vec<Value> =
        serde_json::from_str(&text).with_context(|| format!("parsing {path}"))?;
    runs.iter()
        .map(|run| {
            let document = |v: &Value| match to_bson(v) {
                Bson::Document(d) => Ok(d),
                other => bail!("expected an object, got {other}"),
            };
            let metrics = document(&run["metrics"])?.into_iter().collect();
            let loss = run["loss"]
                .as_array()
                .context("loss")?
                .iter()
                .map(|v| v.as_f64().context("loss value"))
                .collect::<anyhow::Result<_>>()?;
            Ok(W1Run {
                model: document(&run["params"]["model"])?,
                data: document(&run["data"])?,
                metrics,
                loss,
            })
        })
        .collect()
}

/// JSON to BSON the way pymongo encodes Python values: integers as int32
/// when they fit, int64 otherwise; floats as doubles.
fn to_bson(value: &Value) -> Bson {
    match value {
        Value::Null => Bson::Null,
        Value::Bool(b) => Bson::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i32::try_from(i).map_or(Bson::Int64(i), Bson::Int32),
            None => Bson::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => Bson::String(s.clone()),
        Value::Array(items) => Bson::Array(items.iter().map(to_bson).collect()),
        Value::Object(map) => {
            Bson::Document(map.iter().map(|(k, v)| (k.clone(), to_bson(v))).collect())
        }
    }
}
