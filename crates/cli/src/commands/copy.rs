//! `yamlett copy`: runs, with their artifacts, from one store to another;
//! idempotent, batched, with a progress bar and a summary line.

use yamlett::{CopyReport, Experiment};

use crate::args::Copy;
use crate::failure::Failure;
use crate::output;
use crate::Outcome;

pub fn run(args: &Copy) -> Outcome {
    super::existing_store(&args.from)?;
    let available = yamlett::experiments_in(&args.from)?;
    let names = if args.experiments.is_empty() {
        available.clone()
    } else {
        for name in &args.experiments {
            if !available.contains(name) {
                return Err(Failure::Failed(format!(
                    "there is no experiment {name:?} in the source store; its experiments are: {}",
                    available.join(", ")
                )));
            }
        }
        args.experiments.clone()
    };
    let mut pairs = Vec::new();
    let mut total = 0;
    for name in &names {
        let from = Experiment::builder().uri(&args.from).name(name).open()?;
        let to = Experiment::builder().uri(&args.to).name(name).open()?;
        total += from.count(yamlett::bson::Document::new())?;
        pairs.push((from, to));
    }
    let bar = output::progress(total, "copying");
    let mut sum = CopyReport::default();
    let mut before = 0;
    for (from, to) in &pairs {
        let report = from.copy_to(to, |done, _| bar.set_position(before + done))?;
        before += report.copied + report.updated + report.unchanged;
        sum.copied += report.copied;
        sum.updated += report.updated;
        sum.unchanged += report.unchanged;
        sum.artifacts += report.artifacts;
    }
    bar.finish_and_clear();
    println!(
        "copied {}, updated {}, unchanged {} ({} experiment{}, {} artifact{} transferred)",
        sum.copied,
        sum.updated,
        sum.unchanged,
        names.len(),
        if names.len() == 1 { "" } else { "s" },
        sum.artifacts,
        if sum.artifacts == 1 { "" } else { "s" },
    );
    Ok(())
}
