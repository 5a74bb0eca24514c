//! `yamlett gc`: remove what no run references any more.

use std::io::Write;
use std::time::Duration;

use yamlett::GcOptions;

use crate::args::Gc;
use crate::output;
use crate::Outcome;

pub fn run(uri: &str, args: &Gc) -> Outcome {
    super::existing_store(uri)?;
    let options = GcOptions::new()
        .dry_run(args.dry_run)
        .min_age(Duration::from_secs(args.min_age));
    let report = yamlett::gc(Some(uri), options)?;
    let mut out = output::stdout();
    let verb = if report.dry_run {
        "would remove"
    } else {
        "removed"
    };
    for garbage in &report.garbage {
        writeln!(
            out,
            "{verb} {} {} ({})",
            garbage.kind,
            garbage.name,
            output::bytes_text(garbage.bytes)
        )?;
    }
    writeln!(
        out,
        "{} {} bytes ({})",
        if report.dry_run {
            "would free"
        } else {
            "freed"
        },
        report.bytes(),
        output::bytes_text(report.bytes())
    )?;
    out.flush()?;
    Ok(())
}
