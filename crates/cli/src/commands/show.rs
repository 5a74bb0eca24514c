//! `yamlett show`: one run, as indented relaxed Extended JSON, with its
//! artifacts and series summarised.

use std::io::Write;

use yamlett::bson::{doc, Bson};
use yamlett::Artifact;
use yamlett_cli::{json, keys};

use crate::args::Show;
use crate::failure::Failure;
use crate::output;
use crate::Outcome;

pub fn run(uri: &str, args: &Show) -> Outcome {
    let experiment = super::experiment(uri, &args.experiment)?;
    let run = experiment
        .find_one(doc! { "_id": &args.run_id })?
        .ok_or_else(|| {
            Failure::Failed(format!(
                "there is no run {:?} in experiment {:?}",
                args.run_id, args.experiment
            ))
        })?;
    let mut out = output::stdout();
    writeln!(out, "{}", json::to_pretty(&run))?;
    if args.json {
        out.flush()?;
        return Ok(());
    }
    writeln!(out, "\nstatus: {}", output::status_of(&experiment, &run))?;
    let artifacts = Artifact::of_run(&run);
    if !artifacts.is_empty() {
        let mut table = output::table(["ARTIFACT", "SIZE", "CODEC", "SHA256"]);
        for artifact in &artifacts {
            table.add_row([
                artifact.key.clone(),
                output::bytes_text(artifact.size),
                artifact.codec.clone(),
                artifact.sha256.clone(),
            ]);
        }
        output::keep_whole(&mut table, 3);
        writeln!(out)?;
        output::print_table(&mut out, &table)?;
    }
    let series = output::series_keys(&run);
    if !series.is_empty() {
        let mut table = output::table(["SERIES", "COUNT", "LAST", "MIN", "MAX"]);
        for key in &series {
            let summary = keys::lookup(&run, key);
            let field = |name: &str| match summary {
                Some(Bson::Document(summary)) => {
                    summary.get(name).map(keys::cell).unwrap_or_default()
                }
                _ => String::new(),
            };
            table.add_row([
                key.clone(),
                field("count"),
                field("last"),
                field("min"),
                field("max"),
            ]);
        }
        writeln!(out)?;
        output::print_table(&mut out, &table)?;
    }
    out.flush()?;
    Ok(())
}
