//! The `yamlett` command: look at, export, copy, delete and clean up runs
//! without writing code. `yamlett --help` lists the commands.
//!
//! Exit status: 0 success; 1 failure (store unreachable, run or experiment
//! not found, …); 2 bad usage or bad input (a FILTER that is not JSON, an
//! unknown query operator, …).

mod args;
mod commands;
mod csv_spool;
mod failure;
mod output;
mod ui;

use std::process::ExitCode;

use clap::Parser;

use failure::Failure;

fn main() -> ExitCode {
    // A bug must still end in a message, not a backtrace: the hook prints
    // one line, and the unwinding is caught below for the exit status.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("yamlett: internal error: {info}");
    }));
    let outcome = std::panic::catch_unwind(|| {
        let args = match args::Cli::try_parse() {
            Ok(args) => args,
            Err(err) => {
                // --help and --version print to stdout and succeed; usage
                // errors print to stderr with status 2.
                let _ = err.print();
                return if err.use_stderr() {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                };
            }
        };
        match commands::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(failure) => failure.report(),
        }
    });
    outcome.unwrap_or(ExitCode::FAILURE)
}

/// What every command returns.
type Outcome = Result<(), Failure>;
