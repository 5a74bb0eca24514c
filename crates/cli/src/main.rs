//! The `yamlett` command.
//!
//! ```text
//! yamlett sync [URI]   replay the writes journaled during a MongoDB outage
//! ```
//!
//! `URI` defaults to `YAMLETT_URI`. The journal keeps URIs without their
//! password, so give the full URI (with credentials) here.

use std::process::ExitCode;

const USAGE: &str = "\
usage: yamlett <command>

commands:
  sync [URI]   replay, in order, the writes that could not reach the MongoDB
               store at URI (default: $YAMLETT_URI) and wait in the journal
               ($YAMLETT_JOURNAL_DIR, default ./.yamlett)
  help         show this message
  version      show yamlett's version";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["sync"] => sync(None),
        ["sync", uri] => sync(Some(uri)),
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        ["version" | "--version" | "-V"] => {
            println!("yamlett {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn sync(uri: Option<&str>) -> ExitCode {
    match yamlett::sync(uri) {
        Ok(report) => {
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
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(err) => {
            eprintln!("yamlett sync: {err:#}");
            ExitCode::FAILURE
        }
    }
}
