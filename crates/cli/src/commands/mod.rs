//! One module per command, and what they share: which store, which
//! experiment.

mod agg;
mod copy;
mod export;
mod gc;
mod ls;
mod rm;
mod runs;
mod show;
mod sync;

use std::path::Path;

use yamlett::Experiment;

use crate::args::{Cli, Command};
use crate::failure::Failure;
use crate::Outcome;

/// Runs the command the arguments name.
pub fn run(cli: Cli) -> Outcome {
    let uri = cli.uri;
    match cli.command {
        Command::Ls(args) => ls::run(&store_uri(uri), &args),
        Command::Runs(args) => runs::run(&store_uri(uri), &args),
        Command::Show(args) => show::run(&store_uri(uri), &args),
        Command::Agg(args) => agg::run(&store_uri(uri), &args),
        Command::Export(args) => export::run(&store_uri(uri), &args),
        Command::Rm(args) => rm::run(&store_uri(uri), &args),
        Command::Copy(args) => copy::run(&args),
        Command::Gc(args) => gc::run(&store_uri(uri), &args),
        Command::Sync(args) => sync::run(args.target.or(uri).as_deref()),
        Command::Ui(args) => {
            let uri = store_uri(uri);
            existing_store(&uri)?;
            crate::ui::serve(Some(&uri), &args.host, args.port)
                .map_err(|err| Failure::Failed(format!("{err:#}")))
        }
    }
}

/// `--uri`, else `YAMLETT_URI`, else `./.yamlett`: the library's choice.
fn store_uri(given: Option<String>) -> String {
    given
        .or_else(|| std::env::var(yamlett::URI_ENV).ok())
        .unwrap_or_else(|| yamlett::DEFAULT_LOCAL_DIR.to_owned())
}

/// Refuses a directory that holds no embedded store: looking at runs must
/// not create an empty store where the user mistyped a path.
fn existing_store(uri: &str) -> Result<(), Failure> {
    // The embedded store's database file (the library's `schema::DB_FILE`).
    const DB_FILE: &str = "yamlett.sqlite3";
    // Another scheme (http://…) is the library's to refuse, as bad usage.
    if uri.contains("://") || Path::new(uri.trim()).join(DB_FILE).is_file() {
        return Ok(());
    }
    Err(Failure::Failed(format!(
        "there is no yamlett store in {uri} (choose one with --uri or YAMLETT_URI)"
    )))
}

/// The experiment `name` of the store at `uri`, which must exist: a typo
/// is an error naming the experiments that do exist.
fn experiment(uri: &str, name: &str) -> Result<Experiment, Failure> {
    existing_store(uri)?;
    let experiment = Experiment::builder().uri(uri).name(name).open()?;
    let names = yamlett::experiments_in(uri)?;
    if names.iter().any(|n| n == name) {
        return Ok(experiment);
    }
    Err(Failure::Failed(if names.is_empty() {
        format!("there is no experiment {name:?}: the store holds no experiments")
    } else {
        format!(
            "there is no experiment {name:?}; the experiments are: {}",
            names.join(", ")
        )
    }))
}

/// An optional FILTER argument, `{}` when absent.
fn filter(text: Option<&str>) -> Result<yamlett::bson::Document, Failure> {
    match text {
        Some(text) => Ok(yamlett_cli::json::parse_document("FILTER", text)?),
        None => Ok(yamlett::bson::Document::new()),
    }
}
