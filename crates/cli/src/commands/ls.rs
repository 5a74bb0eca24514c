//! `yamlett ls`: the experiments, their number of runs, their last activity.

use std::io::Write;

use yamlett::bson::{doc, Bson};
use yamlett::Experiment;

use crate::args::Ls;
use crate::output;
use crate::Outcome;

pub fn run(uri: &str, args: &Ls) -> Outcome {
    super::existing_store(uri)?;
    let mut rows = Vec::new();
    for name in yamlett::experiments_in(uri)? {
        let summary = Experiment::builder()
            .uri(uri)
            .name(&name)
            .open()?
            .summary()?;
        rows.push((name, summary));
    }
    let mut out = output::stdout();
    if args.json || !output::stdout_is_terminal() {
        for (name, summary) in &rows {
            let line = doc! {
                "experiment": name,
                "runs": i64::try_from(summary.runs).unwrap_or(i64::MAX),
                "last_activity": summary.last_activity.map_or(Bson::Null, Bson::DateTime),
            };
            writeln!(out, "{}", yamlett_cli::json::to_line(&line))?;
        }
    } else if rows.is_empty() {
        writeln!(out, "no experiments yet")?;
    } else {
        let mut table = output::table(["EXPERIMENT", "RUNS", "LAST ACTIVITY (UTC)"]);
        for (name, summary) in &rows {
            table.add_row([
                name.clone(),
                summary.runs.to_string(),
                summary
                    .last_activity
                    .map(output::time_text)
                    .unwrap_or_default(),
            ]);
        }
        output::print_table(&mut out, &table)?;
    }
    out.flush()?;
    Ok(())
}
