//! Every `yamlett` command as a process, on both stores: output, effects,
//! bad input and exit codes (0 success, 1 failure, 2 bad usage or input).

#[path = "../../../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::unique;
use yamlett::bson::{doc, Bson, Document};
use yamlett::{Experiment, Run};

/// The journal directory of every process these tests start, so that none
/// writes into the working directory.
fn journal_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("journal dir"))
        .path()
}

/// Runs `yamlett ARGS` with stdout a pipe (not a terminal) and no
/// `YAMLETT_URI`, in a scratch working directory.
fn yamlett(args: &[&str]) -> Output {
    let cwd = journal_dir();
    let output = Command::new(env!("CARGO_BIN_EXE_yamlett"))
        .args(args)
        .current_dir(cwd)
        .env_remove(yamlett::URI_ENV)
        .env(yamlett::JOURNAL_DIR_ENV, cwd)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("the yamlett binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked")
            && !stderr.contains("internal error")
            && !stderr.contains("RUST_BACKTRACE"),
        "yamlett {args:?} panicked: {stderr}"
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the exit status, showing the output when it differs.
fn expect(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(output),
        stderr(output)
    );
}

/// Each line of stdout as a document.
fn lines(output: &Output) -> Vec<Document> {
    stdout(output)
        .lines()
        .map(|line| {
            let value: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            match Bson::try_from(value).unwrap() {
                Bson::Document(doc) => doc,
                other => panic!("not a document: {other}"),
            }
        })
        .collect()
}

/// A document as relaxed Extended JSON: what the command prints, where
/// 32- and 64-bit integers are both JSON numbers.
fn relaxed(doc: &Document) -> serde_json::Value {
    Bson::Document(doc.clone()).into_relaxed_extjson()
}

/// Three finished runs (C = 0.1, 1, 10) with an F1 score and a model
/// artifact each; returns their ids in that order.
fn populate(uri: &str, experiment: &str) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    for (i, c) in [0.1, 1.0, 10.0].into_iter().enumerate() {
        let run = Run::builder().uri(uri).experiment(experiment).open()?;
        {
            let _guard = run.enter();
            run.store("params", doc! { "C": c, "solver": "lbfgs" })?;
            run.store("metrics.f1", 0.8 + 0.05 * i as f64)?;
            run.push("metrics.loss", 1.0)?;
        }
        run.store_artifact("model", &vec![c; 4])?;
        run.finish()?;
        ids.push(run.id().to_owned());
    }
    Ok(ids)
}

/// How many artifacts the store at `uri` holds for `run_id` of `experiment`:
/// GridFS files named after the run on MongoDB, files on the embedded store.
fn stored_artifacts(uri: &str, experiment: &str, run_id: &str, sha256: &str) -> u64 {
    if uri.starts_with("mongodb://") {
        let client = yamlett::mongodb::sync::Client::with_uri_str(uri).unwrap();
        client
            .database("yamlett")
            .collection::<Document>("_yamlett_artifacts.files")
            .count_documents(doc! { "filename": format!("{experiment}/{run_id}/model") })
            .run()
            .unwrap()
    } else {
        let path = Path::new(uri)
            .join("artifacts")
            .join(&sha256[..2])
            .join(sha256);
        u64::from(path.exists())
    }
}

on_both_stores!(ls_lists_experiments_with_counts_and_activity, |uri| {
    let experiment = unique("ls");
    populate(uri, &experiment)?;
    let output = yamlett(&["--uri", uri, "ls"]);
    expect(&output, 0);
    let line = lines(&output)
        .into_iter()
        .find(|line| line.get_str("experiment").ok() == Some(experiment.as_str()))
        .unwrap_or_else(|| panic!("{experiment} missing: {}", stdout(&output)));
    assert_eq!(line.get("runs"), Some(&Bson::Int32(3)));
    let last = line.get_datetime("last_activity")?;
    let age = yamlett::bson::DateTime::now().timestamp_millis() - last.timestamp_millis();
    assert!((0..120_000).contains(&age), "last activity {last}");
    Ok(())
});

on_both_stores!(runs_filters_sorts_limits_and_projects, |uri| {
    let experiment = unique("runs");
    let ids = populate(uri, &experiment)?;
    // All runs, as JSON Lines (stdout is a pipe), in insertion order.
    let all = yamlett(&["--uri", uri, "runs", &experiment]);
    expect(&all, 0);
    let all = lines(&all);
    assert_eq!(
        all.iter()
            .map(|r| r.get_str("_id").unwrap())
            .collect::<Vec<_>>(),
        ids
    );
    assert_eq!(all[0].get_document("params")?.get_f64("C")?, 0.1);

    let best = yamlett(&[
        "--uri",
        uri,
        "runs",
        &experiment,
        r#"{"params.C": {"$gte": 1}, "params.solver": "lbfgs", "metrics.f1": {"$gt": 0}}"#,
        "--sort",
        r#"{"metrics.f1": -1}"#,
        "--limit",
        "1",
    ]);
    expect(&best, 0);
    let best = lines(&best);
    assert_eq!(best.len(), 1);
    assert_eq!(best[0].get_str("_id")?, ids[2]);

    let page = yamlett(&[
        "--uri",
        uri,
        "runs",
        &experiment,
        "--sort",
        r#"{"params.C": 1}"#,
        "--skip",
        "1",
        "--limit",
        "5",
        "--fields",
        "params.C,metrics.f1",
        "--json",
    ]);
    expect(&page, 0);
    let page = lines(&page);
    assert_eq!(page.len(), 2);
    assert_eq!(
        relaxed(&page[0]),
        relaxed(&doc! { "_id": &ids[1], "metrics": { "f1": 0.8 + 0.05 }, "params": { "C": 1.0 } })
    );

    let none = yamlett(&["--uri", uri, "runs", &experiment, r#"{"params.C": 42}"#]);
    expect(&none, 0);
    assert_eq!(stdout(&none), "");
    Ok(())
});

on_both_stores!(bad_input_is_exit_2_and_failures_exit_1, |uri| {
    let experiment = unique("bad");
    populate(uri, &experiment)?;

    // Not JSON: says where.
    let output = yamlett(&["--uri", uri, "runs", &experiment, "{\"a\": 1,\n  \"b\" 2}"]);
    expect(&output, 2);
    assert!(
        stderr(&output).contains("FILTER is not valid JSON"),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains("line 2, column 7"),
        "{}",
        stderr(&output)
    );
    let output = yamlett(&["--uri", uri, "runs", &experiment, "--sort", "{metrics: 1}"]);
    expect(&output, 2);
    assert!(
        stderr(&output).contains("--sort is not valid JSON"),
        "{}",
        stderr(&output)
    );
    let output = yamlett(&["--uri", uri, "runs", &experiment, "[1]"]);
    expect(&output, 2);

    // An unknown operator: the query engine's (or server's) message.
    let output = yamlett(&["--uri", uri, "runs", &experiment, r#"{"a": {"$bogus": 1}}"#]);
    expect(&output, 2);
    assert!(stderr(&output).contains("$bogus"), "{}", stderr(&output));
    let output = yamlett(&["--uri", uri, "agg", &experiment, r#"[{"$bogusStage": {}}]"#]);
    expect(&output, 2);
    assert!(
        stderr(&output).contains("$bogusStage"),
        "{}",
        stderr(&output)
    );

    // An experiment that does not exist: named, with those that do.
    let output = yamlett(&["--uri", uri, "runs", "no_such_experiment"]);
    expect(&output, 1);
    assert!(
        stderr(&output).contains("\"no_such_experiment\""),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains(&experiment), "{}", stderr(&output));

    // A run that does not exist.
    let output = yamlett(&["--uri", uri, "show", &experiment, "no-such-run"]);
    expect(&output, 1);
    assert!(
        stderr(&output).contains("no-such-run"),
        "{}",
        stderr(&output)
    );

    // Usage errors from the argument parser.
    expect(&yamlett(&["--uri", uri, "runs"]), 2);
    expect(
        &yamlett(&["--uri", uri, "runs", &experiment, "--limit", "many"]),
        2,
    );
    expect(
        &yamlett(&["--uri", uri, "export", &experiment, "--format", "xml"]),
        2,
    );
    expect(&yamlett(&["--uri", uri, "rm", &experiment]), 2);
    expect(&yamlett(&["--uri", uri, "frobnicate"]), 2);
    Ok(())
});

#[test]
fn stores_that_cannot_be_used() {
    // A scheme yamlett does not know: bad usage.
    let output = yamlett(&["--uri", "http://example.com", "ls"]);
    expect(&output, 2);
    // A directory without a store is not created by looking at it.
    let empty = tempfile::tempdir().unwrap();
    let missing = empty.path().join("nothing-here");
    let output = yamlett(&["--uri", missing.to_str().unwrap(), "ls"]);
    expect(&output, 1);
    assert!(!missing.exists());
    // An unreachable server: failure, and the password is never printed.
    let output = yamlett(&[
        "--uri",
        "mongodb://alice:hunter2secret@127.0.0.1:1/?serverSelectionTimeoutMS=300",
        "runs",
        "x",
    ]);
    expect(&output, 1);
    let all = format!("{}{}", stdout(&output), stderr(&output));
    assert!(!all.contains("hunter2secret"), "{all}");
    assert!(all.contains("alice:***@"), "{all}");
    // Help and version succeed.
    expect(&yamlett(&["--help"]), 0);
    expect(&yamlett(&["runs", "--help"]), 0);
    assert!(stdout(&yamlett(&["--version"])).starts_with("yamlett "));
}

on_both_stores!(show_prints_the_run_its_artifacts_and_json, |uri| {
    let experiment = unique("show");
    let ids = populate(uri, &experiment)?;
    let run = Experiment::builder()
        .uri(uri)
        .name(&experiment)
        .open()?
        .find_one(doc! { "_id": &ids[1] })?
        .unwrap();
    let sha256 = run.get_document("model")?.get_str("sha256")?.to_owned();

    let output = yamlett(&["--uri", uri, "show", &experiment, &ids[1]]);
    expect(&output, 0);
    let text = stdout(&output);
    assert!(text.starts_with("{\n  \"_id\": "), "{text}");
    assert!(text.contains("\"solver\": \"lbfgs\""), "{text}");
    assert!(text.contains("status: finished"), "{text}");
    assert!(
        text.contains("ARTIFACT") && text.contains(&sha256) && text.contains("bincode-2-serde"),
        "{text}"
    );
    assert!(
        !text.contains("Document(") && !text.contains("Double("),
        "Debug output: {text}"
    );

    let output = yamlett(&["--uri", uri, "show", &experiment, &ids[1], "--json"]);
    expect(&output, 0);
    let value: serde_json::Value = serde_json::from_str(&stdout(&output))?;
    assert_eq!(value, relaxed(&run));
    Ok(())
});

on_both_stores!(agg_prints_one_result_per_line, |uri| {
    let experiment = unique("agg");
    populate(uri, &experiment)?;
    let output = yamlett(&[
        "--uri",
        uri,
        "agg",
        &experiment,
        r#"[{"$group": {"_id": "$params.solver", "n": {"$sum": 1}, "best": {"$max": "$metrics.f1"}}}]"#,
    ]);
    expect(&output, 0);
    assert_eq!(
        lines(&output),
        [doc! { "_id": "lbfgs", "n": 3, "best": 0.9 }]
    );
    let output = yamlett(&["--uri", uri, "agg", &experiment, r#"{"$count": "n"}"#]);
    expect(&output, 0);
    assert_eq!(lines(&output), [doc! { "n": 3 }]);
    let output = yamlett(&["--uri", uri, "agg", &experiment, "5"]);
    expect(&output, 2);
    Ok(())
});

on_both_stores!(export_writes_csv_and_json_lines, |uri| {
    let experiment = unique("export");
    let ids = populate(uri, &experiment)?;
    // A run with keys the others lack: the columns are the union.
    let extra = Run::builder()
        .uri(uri)
        .experiment(&experiment)
        .id("extra")
        .open()?;
    extra.store("params", doc! { "C": 5, "note": "a, \"quoted\" note" })?;
    extra.finish()?;

    let output = yamlett(&[
        "--uri",
        uri,
        "export",
        &experiment,
        r#"{"params.C": {"$gte": 1}}"#,
        "--format",
        "csv",
    ]);
    expect(&output, 0);
    let mut reader = csv::Reader::from_reader(output.stdout.as_slice());
    let header: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    let mut sorted = header.clone();
    sorted.sort();
    assert_eq!(header, sorted, "columns are sorted");
    for key in [
        "_id",
        "_yamlett.status",
        "metrics.f1",
        "metrics.loss",
        "model.sha256",
        "params.C",
        "params.note",
        "params.solver",
    ] {
        assert!(
            header.contains(&key.to_owned()),
            "{key} missing from {header:?}"
        );
    }
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>()?;
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[0][column("_id")], ids[1].as_str());
    assert_eq!(&rows[0][column("params.C")], "1.0");
    assert_eq!(&rows[0][column("metrics.loss")], "[1.0]");
    assert_eq!(&rows[0][column("params.note")], "");
    assert_eq!(&rows[2][column("_id")], "extra");
    assert_eq!(&rows[2][column("params.C")], "5");
    assert_eq!(&rows[2][column("params.note")], "a, \"quoted\" note");
    assert_eq!(&rows[2][column("metrics.f1")], "");

    let dir = tempfile::tempdir()?;
    let file = dir.path().join("runs.jsonl");
    let output = yamlett(&[
        "--uri",
        uri,
        "export",
        &experiment,
        "--format",
        "jsonl",
        "--output",
        file.to_str().unwrap(),
    ]);
    expect(&output, 0);
    assert_eq!(stdout(&output), "");
    let exported: Vec<serde_json::Value> = std::fs::read_to_string(&file)?
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let stored = Experiment::builder()
        .uri(uri)
        .name(&experiment)
        .open()?
        .find(doc! {})?;
    assert_eq!(exported, stored.iter().map(relaxed).collect::<Vec<_>>());
    assert_eq!(
        std::fs::read_dir(dir.path())?.count(),
        1,
        "no temporary file left"
    );

    // Bad filter: nothing written.
    let bad = dir.path().join("bad.csv");
    let output = yamlett(&[
        "--uri",
        uri,
        "export",
        &experiment,
        "{",
        "--format",
        "csv",
        "--output",
        bad.to_str().unwrap(),
    ]);
    expect(&output, 2);
    assert!(!bad.exists());
    Ok(())
});

// Export streams its runs (one pass, rows spooled until the header is
// known): its output must be, byte for byte, what writing `find`'s
// decoded runs gives, over more runs than one MongoDB cursor batch and
// with keys that appear late, values CSV must quote, and every kind of
// leaf.
on_both_stores!(export_streams_exactly_what_find_gives, |uri| {
    use yamlett_cli::{json, keys};
    let experiment = unique("export_exact");
    for i in 0..230_i32 {
        let run = Run::builder()
            .uri(uri)
            .experiment(&experiment)
            .id(format!("r{i:03}"))
            .open()?;
        let _guard = run.enter();
        run.store("params.C", f64::from(i) / 8.0)?;
        run.store("params.n", i)?;
        if i % 3 == 0 {
            run.store("params.note", format!("line {i},\n\"quoted\""))?;
        }
        if i % 7 == 0 {
            run.store("metrics.loss", vec![1.0, 0.5, f64::from(i)])?;
            run.store("empty", doc! {})?;
        }
        if i == 200 {
            // A key first seen late: its column still comes in sorted order.
            run.store("aaa.late", true)?;
            run.store("metrics.nan", f64::NAN)?;
            run.store("metrics.inf", f64::NEG_INFINITY)?;
            run.store(
                "when",
                yamlett::bson::DateTime::from_millis(1_700_000_000_123),
            )?;
            run.store("nothing", Bson::Null)?;
            run.store("big", 9_007_199_254_740_993_i64)?;
        }
    }
    let runs = Experiment::builder()
        .uri(uri)
        .name(&experiment)
        .open()?
        .find(doc! {})?;

    let mut columns = std::collections::BTreeSet::new();
    for run in &runs {
        keys::collect(run, &mut columns);
    }
    let columns: Vec<String> = columns.into_iter().collect();
    let mut expected = csv::Writer::from_writer(Vec::new());
    expected.write_record(&columns)?;
    for run in &runs {
        let mut row = vec![String::new(); columns.len()];
        for (key, value) in keys::flatten(run) {
            row[columns.binary_search(&key).unwrap()] = keys::cell(value);
        }
        expected.write_record(&row)?;
    }
    let expected = expected.into_inner()?;
    let output = yamlett(&["--uri", uri, "export", &experiment, "--format", "csv"]);
    expect(&output, 0);
    assert!(columns.iter().any(|c| c == "aaa.late"), "{columns:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&expected)
    );

    let expected: String = runs.iter().map(|run| json::to_line(run) + "\n").collect();
    let output = yamlett(&["--uri", uri, "export", &experiment, "--format", "jsonl"]);
    expect(&output, 0);
    assert_eq!(stdout(&output), expected);
    Ok(())
});

on_both_stores!(rm_deletes_runs_with_their_artifacts, |uri| {
    let experiment = unique("rm");
    let ids = populate(uri, &experiment)?;
    let handle = Experiment::builder().uri(uri).name(&experiment).open()?;
    let sha = |id: &str| -> String {
        handle
            .find_one(doc! { "_id": id })
            .unwrap()
            .unwrap()
            .get_document("model")
            .unwrap()
            .get_str("sha256")
            .unwrap()
            .to_owned()
    };
    let shas: Vec<String> = ids.iter().map(|id| sha(id)).collect();
    for (id, sha) in ids.iter().zip(&shas) {
        assert_eq!(stored_artifacts(uri, &experiment, id, sha), 1);
    }

    // An id that does not exist: nothing is deleted.
    let output = yamlett(&["--uri", uri, "rm", &experiment, &ids[0], "nope", "--yes"]);
    expect(&output, 1);
    assert!(stderr(&output).contains("\"nope\""), "{}", stderr(&output));
    assert_eq!(handle.count(doc! {})?, 3);

    // By id.
    let output = yamlett(&["--uri", uri, "rm", &experiment, &ids[0], "--yes"]);
    expect(&output, 0);
    assert!(
        stdout(&output).starts_with("deleted 1 run "),
        "{}",
        stdout(&output)
    );
    assert_eq!(handle.count(doc! {})?, 2);
    assert_eq!(stored_artifacts(uri, &experiment, &ids[0], &shas[0]), 0);
    assert_eq!(stored_artifacts(uri, &experiment, &ids[1], &shas[1]), 1);

    // By filter (stdin is not a terminal: no question asked).
    let output = yamlett(&[
        "--uri",
        uri,
        "rm",
        &experiment,
        "--filter",
        r#"{"params.C": {"$gt": 5}}"#,
    ]);
    expect(&output, 0);
    assert!(
        stdout(&output).starts_with("deleted 1 run "),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        handle
            .find(doc! {})?
            .iter()
            .map(|r| r.get_str("_id").unwrap().to_owned())
            .collect::<Vec<_>>(),
        [ids[1].clone()]
    );
    assert_eq!(stored_artifacts(uri, &experiment, &ids[2], &shas[2]), 0);

    // A filter matching nothing, and a bad one.
    let output = yamlett(&[
        "--uri",
        uri,
        "rm",
        &experiment,
        "--filter",
        r#"{"params.C": 99}"#,
    ]);
    expect(&output, 0);
    assert!(stdout(&output).contains("nothing deleted"));
    let output = yamlett(&[
        "--uri",
        uri,
        "rm",
        &experiment,
        "--filter",
        r#"{"$where": "1"}"#,
        "--yes",
    ]);
    expect(&output, 2);
    assert_eq!(handle.count(doc! {})?, 1);
    Ok(())
});

on_both_stores!(gc_removes_unreferenced_artifacts_only, |uri| {
    let uri = &common::own_database(uri);
    let experiment = unique("gc");
    let run = Run::builder().uri(uri).experiment(&experiment).open()?;
    run.store_artifact("model", &vec![1_u64; 1000])?;
    run.store_artifact("model", &vec![2_u64; 1000])?; // the first is garbage now
    run.finish()?;

    // Young garbage is kept by default.
    let output = yamlett(&["--uri", uri, "gc", "--dry-run"]);
    expect(&output, 0);
    assert!(
        !stdout(&output).contains("would remove artifact"),
        "{}",
        stdout(&output)
    );

    let output = yamlett(&["--uri", uri, "gc", "--dry-run", "--min-age", "0"]);
    expect(&output, 0);
    let text = stdout(&output);
    assert!(text.contains("would remove artifact"), "{text}");
    assert!(
        text.lines().last().unwrap().starts_with("would free "),
        "{text}"
    );

    let output = yamlett(&["--uri", uri, "gc", "--min-age", "0"]);
    expect(&output, 0);
    let text = stdout(&output);
    assert!(text.contains("removed artifact"), "{text}");
    let freed: u64 = text
        .lines()
        .last()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()?;
    assert!(freed >= 1000, "{text}");

    let output = yamlett(&["--uri", uri, "gc", "--min-age", "0"]);
    expect(&output, 0);
    assert!(
        !stdout(&output).contains("removed artifact"),
        "{}",
        stdout(&output)
    );
    let model: Vec<u64> = Experiment::builder()
        .uri(uri)
        .name(&experiment)
        .open()?
        .load_artifact(run.id(), "model")?;
    assert_eq!(model, vec![2_u64; 1000]);
    Ok(())
});

/// Copies between an embedded store and MongoDB, both ways, twice.
#[test]
fn copy_is_idempotent_both_ways_with_artifacts() -> anyhow::Result<()> {
    let mongodb = common::mongodb_uri();
    let local = common::local_store();
    let local = local.path().to_str().unwrap();
    let experiment = unique("copy");
    let ids = populate(local, &experiment)?;

    let output = yamlett(&["copy", "--from", local, "--to", &mongodb, &experiment]);
    expect(&output, 0);
    assert!(
        stdout(&output).starts_with("copied 3, updated 0, unchanged 0"),
        "{}",
        stdout(&output)
    );
    let output = yamlett(&["copy", "--from", local, "--to", &mongodb, &experiment]);
    expect(&output, 0);
    assert!(
        stdout(&output).starts_with("copied 0, updated 0, unchanged 3"),
        "{}",
        stdout(&output)
    );

    // A run that changed at the source is updated; its artifact comes along.
    let run = Run::builder()
        .uri(local)
        .experiment(&experiment)
        .id(&ids[1])
        .open()?;
    run.store("metrics.f1", 0.99)?;
    run.store_artifact("model", &vec![7.0_f64; 4])?;
    run.finish()?;
    let output = yamlett(&["copy", "--from", local, "--to", &mongodb, &experiment]);
    expect(&output, 0);
    assert!(
        stdout(&output).starts_with("copied 0, updated 1, unchanged 2"),
        "{}",
        stdout(&output)
    );

    let source = Experiment::builder().uri(local).name(&experiment).open()?;
    let target = Experiment::builder()
        .uri(&mongodb)
        .name(&experiment)
        .open()?;
    assert_eq!(target.count(doc! {})?, 3);
    let copied = target.find_one(doc! { "_id": &ids[1] })?.unwrap();
    assert_eq!(copied.get_document("metrics")?.get_f64("f1")?, 0.99);
    let model: Vec<f64> = target.load_artifact(&ids[1], "model")?;
    assert_eq!(model, vec![7.0; 4]);
    assert_eq!(
        stored_artifacts(&mongodb, &experiment, &ids[1], ""),
        2,
        "one upload per version"
    );

    // And back, into a fresh embedded store: everything equal but where the
    // artifacts live.
    let offline = common::local_store();
    let offline = offline.path().to_str().unwrap();
    let output = yamlett(&["copy", "--from", &mongodb, "--to", offline, &experiment]);
    expect(&output, 0);
    assert!(
        stdout(&output).starts_with("copied 3, updated 0, unchanged 0"),
        "{}",
        stdout(&output)
    );
    let output = yamlett(&["copy", "--from", &mongodb, "--to", offline, &experiment]);
    expect(&output, 0);
    assert!(
        stdout(&output).starts_with("copied 0, updated 0, unchanged 3"),
        "{}",
        stdout(&output)
    );
    let back = Experiment::builder()
        .uri(offline)
        .name(&experiment)
        .open()?;
    for id in &ids {
        let mut original = source.find_one(doc! { "_id": id })?.unwrap();
        let mut returned = back.find_one(doc! { "_id": id })?.unwrap();
        original.get_document_mut("model")?.remove("location");
        returned.get_document_mut("model")?.remove("location");
        assert_eq!(original, returned);
        let a: Vec<f64> = source.load_artifact(id, "model")?;
        let b: Vec<f64> = back.load_artifact(id, "model")?;
        assert_eq!(a, b);
    }

    // Bad input.
    let output = yamlett(&[
        "copy",
        "--from",
        local,
        "--to",
        offline,
        "no_such_experiment",
    ]);
    expect(&output, 1);
    assert!(stderr(&output).contains(&experiment), "{}", stderr(&output));
    expect(&yamlett(&["copy", "--from", local]), 2);
    Ok(())
}

on_both_stores!(show_summarises_series_and_rm_deletes_them, |uri| {
    let experiment = unique("series");
    let run = Run::builder().uri(uri).experiment(&experiment).open()?;
    for (step, loss) in [0.9, 0.4, 0.7].into_iter().enumerate() {
        let _guard = run.enter();
        run.log("metrics.loss", loss)?;
        run.store("metrics.step", step as i64)?;
    }
    run.finish()?;
    let output = yamlett(&["--uri", uri, "show", &experiment, run.id()]);
    expect(&output, 0);
    let text = stdout(&output);
    let row = text
        .lines()
        .find(|line| line.trim_start().starts_with("metrics.loss "))
        .unwrap_or_else(|| panic!("no series row: {text}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells, ["metrics.loss", "3", "0.7", "0.4", "0.9"], "{text}");

    let output = yamlett(&["--uri", uri, "rm", &experiment, run.id(), "--yes"]);
    expect(&output, 0);
    let handle = Experiment::builder().uri(uri).name(&experiment).open()?;
    assert!(handle.series_buckets(run.id())?.is_empty());
    Ok(())
});
