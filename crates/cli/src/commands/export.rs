//! `yamlett export`: runs as CSV (one column per dotted key) or JSON Lines,
//! to stdout or a file.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use yamlett::bson::Document;
use yamlett_cli::{json, keys};

use crate::args::{Export, Format};
use crate::failure::Failure;
use crate::output;
use crate::Outcome;

pub fn run(uri: &str, args: &Export) -> Outcome {
    let filter = super::filter(args.filter.as_deref())?;
    let experiment = super::experiment(uri, &args.experiment)?;
    let runs = experiment.find(filter)?;
    match &args.output {
        None => {
            let mut out = output::stdout();
            write(&mut out, runs, args.format)?;
            out.flush()?;
        }
        Some(path) => to_file(path, runs, args.format)?,
    }
    Ok(())
}

/// Writes to a temporary file beside `path`, renamed over it when
/// complete: a failed export never leaves half a file under the name.
fn to_file(path: &Path, runs: Vec<Document>, format: Format) -> Outcome {
    let temporary = temporary_name(path);
    let written = File::create(&temporary)
        .map_err(|err| Failure::Failed(format!("cannot create {}: {err}", temporary.display())))
        .and_then(|file| {
            let mut out = BufWriter::with_capacity(256 * 1024, file);
            write(&mut out, runs, format)?;
            let file = out.into_inner().map_err(|err| err.into_error())?;
            file.sync_all()?;
            Ok(())
        })
        .and_then(|()| {
            fs::rename(&temporary, path)
                .map_err(|err| Failure::Failed(format!("cannot write {}: {err}", path.display())))
        });
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

fn temporary_name(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".yamlett-{}.tmp", std::process::id()));
    path.with_file_name(name)
}

fn write(out: &mut impl Write, runs: Vec<Document>, format: Format) -> Outcome {
    let bar = output::progress(runs.len() as u64, "exporting");
    match format {
        Format::Jsonl => {
            for (i, run) in runs.into_iter().enumerate() {
                writeln!(out, "{}", json::to_line(&run))?;
                tick(&bar, i);
            }
        }
        Format::Csv => {
            let mut columns = BTreeSet::new();
            for run in &runs {
                keys::collect(run, &mut columns);
            }
            let columns: Vec<String> = columns.into_iter().collect();
            let mut csv = csv::Writer::from_writer(&mut *out);
            csv.write_record(&columns)?;
            let mut row = vec![String::new(); columns.len()];
            for (i, run) in runs.into_iter().enumerate() {
                row.iter_mut().for_each(String::clear);
                for (key, value) in keys::flatten(&run) {
                    if let Ok(at) = columns.binary_search(&key) {
                        row[at] = keys::cell(value);
                    }
                }
                csv.write_record(&row)?;
                tick(&bar, i);
            }
            csv.flush()?;
        }
    }
    bar.finish_and_clear();
    Ok(())
}

/// Moves the bar every 1,000 runs: drawing is cheap, updating per run is not.
fn tick(bar: &indicatif::ProgressBar, i: usize) {
    if i % 1000 == 999 {
        bar.set_position(i as u64 + 1);
    }
}
