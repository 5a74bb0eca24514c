//! How a command fails: a message on stderr and the exit status, 2 for bad
//! usage or input, 1 for everything else.

use std::io;
use std::process::ExitCode;

use yamlett_cli::json::UsageError;

/// A command's failure.
#[derive(Debug)]
pub enum Failure {
    /// Bad usage or bad input: exit status 2.
    Usage(String),
    /// Anything else (unreachable store, missing run): exit status 1.
    Failed(String),
    /// Stdout was closed by its reader (`yamlett runs x | head`): not an
    /// error, nothing more to say.
    Closed,
}

impl Failure {
    /// Prints the message and gives the exit status.
    pub fn report(self) -> ExitCode {
        match self {
            Failure::Usage(message) => {
                eprintln!("yamlett: {message}");
                ExitCode::from(2)
            }
            Failure::Failed(message) => {
                eprintln!("yamlett: {message}");
                ExitCode::FAILURE
            }
            Failure::Closed => ExitCode::SUCCESS,
        }
    }
}

impl From<UsageError> for Failure {
    fn from(err: UsageError) -> Failure {
        Failure::Usage(err.0)
    }
}

/// Errors from the library: the input's fault (a query the engine refuses,
/// an invalid name or URI) or not. Their messages never hold a password.
impl From<anyhow::Error> for Failure {
    fn from(err: anyhow::Error) -> Failure {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            if io.kind() == io::ErrorKind::BrokenPipe {
                return Failure::Closed;
            }
        }
        let message = format!("{err:#}");
        match err.downcast_ref::<yamlett::Error>() {
            Some(
                yamlett::Error::InvalidQuery(_)
                | yamlett::Error::InvalidKey { .. }
                | yamlett::Error::InvalidName { .. }
                | yamlett::Error::InvalidValue { .. }
                | yamlett::Error::Config { .. },
            ) => Failure::Usage(message),
            _ => Failure::Failed(message),
        }
    }
}

impl From<io::Error> for Failure {
    fn from(err: io::Error) -> Failure {
        if err.kind() == io::ErrorKind::BrokenPipe {
            Failure::Closed
        } else {
            Failure::Failed(err.to_string())
        }
    }
}

impl From<csv::Error> for Failure {
    fn from(err: csv::Error) -> Failure {
        match err.into_kind() {
            csv::ErrorKind::Io(err) => err.into(),
            other => Failure::Failed(format!("writing CSV: {other:?}")),
        }
    }
}
