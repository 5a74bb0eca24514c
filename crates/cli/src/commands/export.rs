//! `yamlett export`: runs as CSV (one column per dotted key) or JSON Lines,
//! to stdout or a file.
//!
//! Runs are streamed from the store one at a time
//! ([`Experiment::find_raw`]), so memory does not grow with their number:
//! JSON Lines are written as the runs come, and CSV rows go through a
//! spool file until the header (every key) is known (see [`CsvSpool`]).

use std::fs::{self, File};
use std::io::{BufWriter, IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use yamlett::bson::Document;
use yamlett::{Experiment, FindOptions};
use yamlett_cli::json;

use crate::args::{Export, Format};
use crate::csv_spool::CsvSpool;
use crate::failure::Failure;
use crate::output;
use crate::Outcome;

pub fn run(uri: &str, args: &Export) -> Outcome {
    let filter = super::filter(args.filter.as_deref())?;
    let experiment = super::experiment(uri, &args.experiment)?;
    match &args.output {
        None => {
            let mut out = output::stdout();
            write(
                &mut out,
                &experiment,
                filter,
                args.format,
                &std::env::temp_dir(),
            )?;
            out.flush()?;
        }
        Some(path) => to_file(path, &experiment, filter, args.format)?,
    }
    Ok(())
}

/// Writes to a temporary file beside `path`, renamed over it when
/// complete: a failed export never leaves half a file under the name.
fn to_file(path: &Path, experiment: &Experiment, filter: Document, format: Format) -> Outcome {
    let temporary = temporary_name(path);
    // The CSV spool goes beside the output too: where there is room for it.
    let directory = match temporary.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let written = File::create(&temporary)
        .map_err(|err| Failure::Failed(format!("cannot create {}: {err}", temporary.display())))
        .and_then(|file| {
            let mut out = BufWriter::with_capacity(256 * 1024, file);
            write(&mut out, experiment, filter, format, &directory)?;
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

/// Writes the runs matching `filter` to `out`; a CSV spools its rows in
/// `spool_dir` first.
fn write(
    out: &mut impl Write,
    experiment: &Experiment,
    filter: Document,
    format: Format,
    spool_dir: &Path,
) -> Outcome {
    let bar = progress(experiment, &filter)?;
    let mut done: u64 = 0;
    match format {
        Format::Jsonl => {
            experiment.find_raw(filter, FindOptions::new(), |run| {
                writeln!(out, "{}", json::to_line(&Document::try_from(run)?))?;
                tick(&bar, &mut done);
                Ok(ControlFlow::Continue(()))
            })?;
        }
        Format::Csv => {
            let mut table = CsvSpool::new(spool_dir)?;
            experiment.find_raw(filter, FindOptions::new(), |run| {
                table.push(run)?;
                tick(&bar, &mut done);
                Ok(ControlFlow::Continue(()))
            })?;
            bar.set_message("writing CSV");
            table.write_csv(&mut *out)?;
        }
    }
    bar.finish_and_clear();
    Ok(())
}

/// A progress bar when someone watches stderr: counting the runs first
/// costs a scan, worth it only then.
fn progress(experiment: &Experiment, filter: &Document) -> Result<ProgressBar, Failure> {
    if !std::io::stderr().is_terminal() {
        return Ok(ProgressBar::hidden());
    }
    let total = experiment.count(filter.clone())?;
    Ok(output::progress(total, "exporting"))
}

/// Moves the bar every 1,000 runs: drawing is cheap, updating per run is not.
fn tick(bar: &ProgressBar, done: &mut u64) {
    *done += 1;
    if done.is_multiple_of(1000) {
        bar.set_position(*done);
    }
}
