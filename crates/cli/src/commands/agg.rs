//! `yamlett agg`: an aggregation pipeline, one result document per line.

use std::io::Write;

use yamlett_cli::json;

use crate::args::Agg;
use crate::output;
use crate::Outcome;

pub fn run(uri: &str, args: &Agg) -> Outcome {
    let pipeline = json::parse_pipeline("PIPELINE", &args.pipeline)?;
    let experiment = super::experiment(uri, &args.experiment)?;
    let results = experiment.aggregate(pipeline)?;
    let mut out = output::stdout();
    for result in &results {
        writeln!(out, "{}", json::to_line(result))?;
    }
    out.flush()?;
    Ok(())
}
