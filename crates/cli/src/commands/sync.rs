//! `yamlett sync`: replay the writes journaled during a MongoDB outage.

use crate::failure::Failure;
use crate::Outcome;

pub fn run(uri: Option<&str>) -> Outcome {
    let report = yamlett::sync(uri)?;
    println!(
        "{} journaled writes replayed, {} refused by the server{}",
        report.replayed,
        report.rejected,
        if report.rejected > 0 {
            " (kept in the journal's `rejected` table)"
        } else {
            ""
        }
    );
    if report.rejected > 0 {
        return Err(Failure::Failed(format!(
            "{} journaled writes were refused by the server",
            report.rejected
        )));
    }
    Ok(())
}
