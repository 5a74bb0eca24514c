//! How things look: tables on a terminal, lines for pipes, run status and
//! times, progress bars.

use std::io::{self, BufWriter, IsTerminal, StdoutLock, Write};

use comfy_table::{presets, Cell, ColumnConstraint, ContentArrangement, Table};
use indicatif::{ProgressBar, ProgressStyle};
use yamlett::bson::{DateTime, Document};
use yamlett::Experiment;

/// Whether stdout is a terminal (a person reads it) rather than a pipe or
/// a file (a program does).
pub fn stdout_is_terminal() -> bool {
    io::stdout().is_terminal()
}

/// Buffered stdout; a closed pipe surfaces as `BrokenPipe` from `write`,
/// which the commands turn into a quiet exit.
pub fn stdout() -> BufWriter<StdoutLock<'static>> {
    BufWriter::with_capacity(64 * 1024, io::stdout().lock())
}

/// The status a run is shown with: the library's rule, so a `running` run
/// whose process is gone shows `dead`. Every status displayed goes through
/// here.
pub fn status_of(experiment: &Experiment, run: &Document) -> String {
    experiment
        .status(run)
        .map_or_else(String::new, |status| status.as_str().to_owned())
}

/// A time as people read it in a table: UTC, to the second.
pub fn time_text(at: DateTime) -> String {
    at.try_to_rfc3339_string()
        .map(|text| {
            let text = text.replacen('T', " ", 1);
            match text.find('.') {
                Some(dot) => text[..dot].to_owned(),
                None => text.trim_end_matches('Z').to_owned(),
            }
        })
        .unwrap_or_else(|_| at.timestamp_millis().to_string())
}

/// The time at `_yamlett.<field>`, as [`time_text`], or empty.
pub fn meta_time(run: &Document, field: &str) -> String {
    run.get_document("_yamlett")
        .ok()
        .and_then(|meta| meta.get_datetime(field).ok())
        .map(|at| time_text(*at))
        .unwrap_or_default()
}

/// A table that fits the terminal's width.
pub fn table(header: impl IntoIterator<Item = impl Into<String>>) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_HORIZONTAL_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.into_iter().map(|h| Cell::new(h.into())));
    // A terminal that reports no usable width (a serial console, `script`)
    // would squeeze every column to one character: let lines run long.
    if table.width().is_none_or(|width| width < 40) {
        table.set_content_arrangement(ContentArrangement::Disabled);
    }
    table
}

/// Keeps column `index` (an id, a digest) on one line: other columns wrap
/// first, because a wrapped id cannot be copied.
pub fn keep_whole(table: &mut Table, index: usize) {
    if let Some(column) = table.column_mut(index) {
        column.set_constraint(ColumnConstraint::ContentWidth);
    }
}

/// Prints a table, followed by a newline.
pub fn print_table(out: &mut impl Write, table: &Table) -> io::Result<()> {
    writeln!(out, "{table}")
}

/// A progress bar on stderr, drawn only when stderr is a terminal.
pub fn progress(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg} {wide_bar} {pos}/{len} ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(what.to_owned());
    bar
}

/// Bytes as people read them.
pub fn bytes_text(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The keys of a run's metric series (`_yamlett.series`): each holds a
/// summary document (`count`, `first`, `last`, `min`, `max`, `sum`, `step`)
/// rather than a stored value.
pub fn series_keys(run: &Document) -> Vec<String> {
    run.get_document("_yamlett")
        .ok()
        .and_then(|meta| meta.get_array("series").ok())
        .map(|keys| {
            keys.iter()
                .filter_map(|key| key.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
