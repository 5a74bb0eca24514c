//! The command line, as clap reads it. The spelling of every command and
//! option is fixed: scripts and other tools depend on it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Look at, export, copy, delete and clean up tracked runs, on the embedded
/// store or MongoDB, with MongoDB's query language.
///
/// FILTER, SORT and PIPELINE are written as relaxed Extended JSON, e.g.
/// '{"metrics.f1_score": {"$gte": 0.9}}'.
#[derive(Debug, Parser)]
#[command(name = "yamlett", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// The store: a mongodb:// or mongodb+srv:// URI, or the directory of an
    /// embedded store [default: $YAMLETT_URI, else ./.yamlett]
    #[arg(long, global = true, value_name = "URI")]
    pub uri: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the experiments, with their number of runs and last activity
    Ls(Ls),
    /// List the runs of an experiment matching a filter
    Runs(Runs),
    /// Show one run: its document, artifacts and series
    Show(Show),
    /// Run an aggregation pipeline; one result document per line
    Agg(Agg),
    /// Export runs as CSV (one column per dotted key) or JSON Lines
    Export(Export),
    /// Delete runs, with their artifacts
    Rm(Rm),
    /// Copy runs, with their artifacts, from one store to another
    Copy(Copy),
    /// Remove what no run references any more and print the bytes freed
    Gc(Gc),
    /// Replay the writes journaled during a MongoDB outage
    Sync(Sync),
    /// Serve a read-only dashboard of the store in the browser
    Ui(Ui),
}

/// `yamlett ls`
#[derive(Debug, Args)]
pub struct Ls {
    /// One experiment per line as JSON, even on a terminal
    #[arg(long)]
    pub json: bool,
}

/// `yamlett runs`
#[derive(Debug, Args)]
pub struct Runs {
    /// The experiment
    pub experiment: String,
    /// Which runs, as a MongoDB filter [default: all]
    pub filter: Option<String>,
    /// Sort order, e.g. '{"metrics.f1_score": -1}'
    #[arg(long, value_name = "SORT")]
    pub sort: Option<String>,
    /// Show at most N runs
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Skip the first N matching runs
    #[arg(long, value_name = "N")]
    pub skip: Option<u64>,
    /// The dotted keys to show [default: the runs' metrics]
    #[arg(long, value_name = "K1,K2,…", value_delimiter = ',')]
    pub fields: Vec<String>,
    /// One run per line as relaxed Extended JSON, even on a terminal
    #[arg(long)]
    pub json: bool,
}

/// `yamlett show`
#[derive(Debug, Args)]
pub struct Show {
    /// The experiment
    pub experiment: String,
    /// The run's id
    pub run_id: String,
    /// Print the run document alone
    #[arg(long)]
    pub json: bool,
}

/// `yamlett agg`
#[derive(Debug, Args)]
pub struct Agg {
    /// The experiment
    pub experiment: String,
    /// The pipeline, a JSON array of stages
    pub pipeline: String,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One row per run, one column per dotted key
    Csv,
    /// One run per line as relaxed Extended JSON
    Jsonl,
}

/// `yamlett export`
#[derive(Debug, Args)]
pub struct Export {
    /// The experiment
    pub experiment: String,
    /// Which runs, as a MongoDB filter [default: all]
    pub filter: Option<String>,
    /// The output format
    #[arg(long, value_enum)]
    pub format: Format,
    /// Write to FILE instead of stdout
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `yamlett rm`
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["run_ids", "filter"]))]
pub struct Rm {
    /// The experiment
    pub experiment: String,
    /// The ids of the runs to delete
    #[arg(value_name = "RUN_ID")]
    pub run_ids: Vec<String>,
    /// Delete the runs matching this filter instead
    #[arg(long, value_name = "FILTER")]
    pub filter: Option<String>,
    /// Do not ask for confirmation
    #[arg(long, short)]
    pub yes: bool,
}

/// `yamlett copy`
#[derive(Debug, Args)]
pub struct Copy {
    /// The store to copy from
    #[arg(long, value_name = "URI")]
    pub from: String,
    /// The store to copy to
    #[arg(long, value_name = "URI")]
    pub to: String,
    /// The experiments to copy [default: all]
    #[arg(value_name = "EXPERIMENT")]
    pub experiments: Vec<String>,
}

/// `yamlett gc`
#[derive(Debug, Args)]
pub struct Gc {
    /// Only say what would be removed
    #[arg(long)]
    pub dry_run: bool,
    /// Keep unreferenced things younger than this many seconds: an artifact
    /// whose reference is still buffered in an open guard is one
    #[arg(long, value_name = "SECONDS", default_value_t = yamlett::DEFAULT_GC_MIN_AGE.as_secs())]
    pub min_age: u64,
}

/// `yamlett sync`
#[derive(Debug, Args)]
pub struct Sync {
    /// The MongoDB URI, with its password (the journal keeps URIs without
    /// it) [default: --uri, else $YAMLETT_URI]
    #[arg(value_name = "URI")]
    pub target: Option<String>,
}

/// `yamlett ui`
#[derive(Debug, Args)]
pub struct Ui {
    /// The address to listen on; anything but a loopback address makes the
    /// runs readable from that network
    #[arg(long, value_name = "H", default_value = "127.0.0.1")]
    pub host: String,
    /// The port to listen on (0: a free one)
    #[arg(long, value_name = "P", default_value_t = crate::ui::DEFAULT_PORT)]
    pub port: u16,
}
