//! The `yamlett` command.
//!
//! ```text
//! yamlett sync [URI]   replay the writes journaled during a MongoDB outage
//! ```
//!
//! `URI` defaults to `YAMLETT_URI`. The journal keeps URIs without their
//! password, so give the full URI (with credentials) here.

use std::process::ExitCode;

mod ui;

const USAGE: &str = "\
usage: yamlett <command>

commands:
  sync [URI]   replay, in order, the writes that could not reach the MongoDB
               store at URI (default: $YAMLETT_URI) and wait in the journal
               ($YAMLETT_JOURNAL_DIR, default ./.yamlett)
  ui [--uri URI] [--host H] [--port P]
               serve the dashboard (default 127.0.0.1:8765; port 0 takes a free one)
  help         show this message
  version      show yamlett's version";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["sync"] => sync(None),
        ["sync", uri] => sync(Some(uri)),
        ["ui", rest @ ..] => ui_command(rest),
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

/// `yamlett ui`, parsed by hand until the clap command line (branch `cli`)
/// takes it over: the lead replaces this with a subcommand calling
/// [`ui::serve`].
fn ui_command(args: &[&str]) -> ExitCode {
    let (mut uri, mut host, mut port) = (None, "127.0.0.1", ui::DEFAULT_PORT);
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let Some(value) = args.next() else {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        };
        match *flag {
            "--uri" => uri = Some(*value),
            "--host" => host = value,
            "--port" => match value.parse() {
                Ok(p) => port = p,
                Err(_) => {
                    eprintln!("yamlett ui: --port must be a number from 0 to 65535, not {value:?}");
                    return ExitCode::from(2);
                }
            },
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    match ui::serve(uri, host, port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("yamlett ui: {err:#}");
            ExitCode::FAILURE
        }
    }
}
