//! `yamlett runs`: the runs matching a filter, as a table on a terminal and
//! as JSON Lines for programs.

use std::collections::BTreeSet;
use std::io::Write;

use yamlett::bson::{Bson, Document};
use yamlett::FindOptions;
use yamlett_cli::{json, keys};

use crate::args::Runs;
use crate::output;
use crate::Outcome;

/// How many metric columns the table shows when `--fields` does not say.
const DEFAULT_METRIC_COLUMNS: usize = 6;

pub fn run(uri: &str, args: &Runs) -> Outcome {
    let filter = super::filter(args.filter.as_deref())?;
    let mut options = FindOptions::new();
    if let Some(sort) = &args.sort {
        options = options.sort(json::parse_document("--sort", sort)?);
    }
    if let Some(limit) = args.limit {
        options = options.limit(limit);
    }
    if let Some(skip) = args.skip {
        options = options.skip(skip);
    }
    let as_table = !args.json && output::stdout_is_terminal();
    if !args.fields.is_empty() {
        // Only what is shown is read: the table also needs the metadata.
        let mut projection = Document::new();
        for field in &args.fields {
            projection.insert(field.trim(), 1);
        }
        if as_table {
            projection.insert("_yamlett", 1);
        }
        options = options.projection(projection);
    }
    let experiment = super::experiment(uri, &args.experiment)?;
    let runs = experiment.find_with(filter, options)?;
    let mut out = output::stdout();
    if !as_table {
        for run in &runs {
            writeln!(out, "{}", json::to_line(run))?;
        }
        out.flush()?;
        return Ok(());
    }
    let columns = if args.fields.is_empty() {
        metric_columns(&runs)
    } else {
        args.fields.iter().map(|f| f.trim().to_owned()).collect()
    };
    let header = ["ID", "STATUS", "CREATED (UTC)"]
        .into_iter()
        .map(str::to_owned)
        .chain(columns.iter().cloned());
    let mut table = output::table(header);
    for run in &runs {
        let mut row = vec![
            run.get("_id").map(keys::cell).unwrap_or_default(),
            output::status_of(&experiment, run),
            output::meta_time(run, "created_at"),
        ];
        row.extend(columns.iter().map(|column| {
            keys::lookup(run, column)
                .map(keys::cell)
                .unwrap_or_default()
        }));
        table.add_row(row);
    }
    output::keep_whole(&mut table, 0);
    output::print_table(&mut out, &table)?;
    writeln!(out, "{} runs", runs.len())?;
    out.flush()?;
    Ok(())
}

/// The default columns: the scalar leaves under `metrics` (a series'
/// summary shows its last value), as many as fit.
fn metric_columns(runs: &[Document]) -> Vec<String> {
    let mut columns = BTreeSet::new();
    for run in runs {
        let Ok(metrics) = run.get_document("metrics") else {
            continue;
        };
        let series = output::series_keys(run);
        for (key, value) in keys::flatten(metrics) {
            let key = format!("metrics.{key}");
            let numeric = matches!(
                value,
                Bson::Double(_) | Bson::Int32(_) | Bson::Int64(_) | Bson::Decimal128(_)
            );
            let in_series = series.iter().find(|s| key.starts_with(&format!("{s}.")));
            match in_series {
                Some(series) if key == format!("{series}.last") => columns.insert(key),
                Some(_) => false,
                None if numeric => columns.insert(key),
                None => false,
            };
        }
    }
    columns.into_iter().take(DEFAULT_METRIC_COLUMNS).collect()
}
