//! `yamlett rm`: delete runs, with their artifacts, after asking on a
//! terminal.

use std::io::{self, BufRead, IsTerminal, Write};

use yamlett::bson::{doc, Bson};
use yamlett::FindOptions;

use crate::args::Rm;
use crate::failure::Failure;
use crate::Outcome;

pub fn run(uri: &str, args: &Rm) -> Outcome {
    let filter = match &args.filter {
        Some(text) => yamlett_cli::json::parse_document("--filter", text)?,
        None => doc! { "_id": { "$in": &args.run_ids } },
    };
    let experiment = super::experiment(uri, &args.experiment)?;
    if args.filter.is_none() {
        // Every id must name a run: a typo deletes nothing.
        let found = experiment.find_with(
            filter.clone(),
            FindOptions::new().projection(doc! { "_id": 1 }),
        )?;
        let missing: Vec<&String> = args
            .run_ids
            .iter()
            .filter(|id| {
                !found
                    .iter()
                    .any(|run| run.get("_id") == Some(&Bson::String((*id).clone())))
            })
            .collect();
        if !missing.is_empty() {
            return Err(Failure::Failed(format!(
                "no run {} in experiment {:?}; nothing deleted",
                missing
                    .iter()
                    .map(|id| format!("{id:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                args.experiment
            )));
        }
    }
    let count = experiment.count(filter.clone())?;
    if count == 0 {
        println!("no runs match; nothing deleted");
        return Ok(());
    }
    if !args.yes
        && io::stdin().is_terminal()
        && io::stderr().is_terminal()
        && !confirm(count, &args.experiment)?
    {
        println!("nothing deleted");
        return Ok(());
    }
    let deleted = experiment.delete(filter)?;
    println!(
        "deleted {deleted} run{} from {:?}",
        plural(deleted),
        args.experiment
    );
    Ok(())
}

/// Asks on the terminal; only "y" or "yes" deletes.
fn confirm(count: u64, experiment: &str) -> Result<bool, Failure> {
    eprint!(
        "delete {count} run{} of {experiment:?}, with their artifacts? [y/N] ",
        plural(count)
    );
    io::stderr().flush()?;
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
