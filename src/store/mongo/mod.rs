//! The MongoDB store: runs are documents of a collection named after their
//! experiment, artifacts live in GridFS in the same database.
//!
//! Filters, updates and pipelines go to the server untouched; this module
//! translates the driver's errors into [`crate::Error`] kinds, with any
//! credential scrubbed from their text, and keeps writes through outages:
//! see [`outage`].

mod maintenance;
mod outage;
mod runtime;
mod series;

use std::borrow::Cow;
use std::fmt;
use std::future::{Future, IntoFuture as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bson::{doc, Bson, DateTime, Document, RawDocumentBuf};
use futures_util::{AsyncReadExt as _, TryStreamExt as _};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::gridfs::GridFsBucket;
use mongodb::options::{ClientOptions, GridFsBucketOptions};
use mongodb::{Client, Collection, Database};
use tokio::runtime::Runtime;

use super::journal::{Entry, Journal};
use super::{Buckets, RawVisitor, Store};
use crate::series::{Append, BucketSummary, SeriesBucket};
use crate::{Error, FindOptions};
use yamlett_query::QueryError;

/// The database used when the URI's path names none.
const DEFAULT_DATABASE: &str = "yamlett";
/// The GridFS bucket holding artifacts; experiment names may not start with
/// `_yamlett`, so its collections never pass for experiments.
const ARTIFACT_BUCKET: &str = "_yamlett_artifacts";
/// How long an operation may wait for a reachable server when the URI does
/// not say. The driver's 30 s default would stall a training loop.
const DEFAULT_SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a flush waits for the server before its write goes to the
/// journal, unless `YAMLETT_FLUSH_TIMEOUT_MS` says otherwise.
const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_secs(3);

/// The environment variable that sets the flush timeout, in milliseconds.
pub const FLUSH_TIMEOUT_ENV: &str = "YAMLETT_FLUSH_TIMEOUT_MS";

/// The environment variable naming the directory of the outage journal
/// (default: the default local store directory, `./.yamlett`).
pub const JOURNAL_DIR_ENV: &str = "YAMLETT_JOURNAL_DIR";

/// How long the end of a run waits for journaled writes to reach the
/// server, unless `YAMLETT_EXIT_DRAIN_MS` says otherwise.
const DEFAULT_EXIT_DRAIN: Duration = Duration::from_secs(10);

/// The environment variable that sets, in milliseconds, how long the end of
/// a run (`Run::finish`, or its last handle dropping) waits for writes
/// journaled during an outage to reach the server (`0`: not at all).
pub const EXIT_DRAIN_ENV: &str = "YAMLETT_EXIT_DRAIN_MS";

/// A MongoDB deployment (standalone, replica set, sharded or Atlas).
///
/// Cheap to share: the state lives behind an `Arc`, which the journal's
/// replay thread holds too.
pub(crate) struct MongoStore {
    shared: Arc<Shared>,
}

/// The store's state.
pub(crate) struct Shared {
    /// Drives the driver; operations run on the caller's thread.
    runtime: &'static Runtime,
    /// The client, for commands across collections (`bulkWrite`).
    client: Client,
    database: Database,
    /// The same database through the driver's sync API, for
    /// [`Store::collection`].
    sync_database: mongodb::sync::Database,
    bucket: GridFsBucket,
    location: String,
    secrets: Vec<String>,
    /// Writes that could not reach the server.
    journal: Journal,
    /// Whether the server is reachable, as far as writes know.
    link: outage::Link,
    /// How long a write waits for the server.
    flush_timeout: Duration,
    /// How long the end of a run waits for the journal to drain.
    exit_drain: Duration,
    /// How long an operation waits for a server to be selected.
    selection_timeout: Duration,
    /// Held while the journal is replayed.
    replay: std::sync::Mutex<()>,
    /// What replays in this process (the background thread's included)
    /// did since the last [`Store::sync`] reported it.
    replayed: outage::Tally,
    /// What the series writes learned about the server.
    series: series::SeriesState,
}

impl fmt::Debug for MongoStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MongoStore")
            .field("location", &self.shared.location)
            .finish_non_exhaustive()
    }
}

impl MongoStore {
    /// Builds a client for `uri`. The driver connects lazily, so this does
    /// not wait for the server; the first operation does. Writes journaled
    /// by an earlier process for this URI are replayed in the background,
    /// and until they are, new writes join them in the journal (so that
    /// every run's writes land in the order they were made).
    pub(crate) fn connect(uri: &str, redacted: String) -> anyhow::Result<MongoStore> {
        let secrets = secrets_of(uri);
        let scrub = |text: String| scrub(text, &secrets);
        let runtime = runtime::shared().map_err(|err| Error::Store {
            store: redacted.clone(),
            message: format!("cannot start the MongoDB driver's runtime: {err}"),
        })?;
        let mut options = runtime::block_on(runtime, async { ClientOptions::parse(uri).await })
            .map_err(|err| Error::Config {
                reason: scrub(format!(
                    "cannot use the MongoDB URI {redacted}: {}",
                    describe(&err)
                )),
            })?;
        options.app_name.get_or_insert_with(|| "yamlett".to_owned());
        options
            .server_selection_timeout
            .get_or_insert(DEFAULT_SERVER_SELECTION_TIMEOUT);
        options
            .connect_timeout
            .get_or_insert(DEFAULT_SERVER_SELECTION_TIMEOUT);
        let selection_timeout = options
            .server_selection_timeout
            .unwrap_or(DEFAULT_SERVER_SELECTION_TIMEOUT);
        let database_name = options
            .default_database
            .clone()
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        // Inside the runtime, so the driver's background tasks run there.
        let entered = runtime.enter();
        let client = Client::with_options(options).map_err(|err| Error::Config {
            reason: scrub(format!(
                "cannot use the MongoDB URI {redacted}: {}",
                describe(&err)
            )),
        })?;
        drop(entered);
        let database = client.database(&database_name);
        let sync_database = mongodb::sync::Client::from(client.clone()).database(&database_name);
        let bucket = database.gridfs_bucket(
            GridFsBucketOptions::builder()
                .bucket_name(ARTIFACT_BUCKET.to_owned())
                .build(),
        );
        let journal = Journal::new(&journal_dir()?, &redacted);
        let backlog = journal.has_entries().unwrap_or(false);
        let store = MongoStore {
            shared: Arc::new(Shared {
                runtime,
                client,
                database,
                sync_database,
                bucket,
                location: redacted,
                secrets,
                journal,
                link: outage::Link::new(backlog),
                flush_timeout: flush_timeout()?,
                exit_drain: exit_drain()?,
                selection_timeout,
                replay: std::sync::Mutex::new(()),
                replayed: outage::Tally::default(),
                series: series::SeriesState::default(),
            }),
        };
        if backlog {
            outage::start_replay(&store.shared);
        }
        Ok(store)
    }
}

/// The flush timeout: `YAMLETT_FLUSH_TIMEOUT_MS`, or the default.
fn flush_timeout() -> anyhow::Result<Duration> {
    match std::env::var(FLUSH_TIMEOUT_ENV) {
        Err(_) => Ok(DEFAULT_FLUSH_TIMEOUT),
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
            _ => Err(Error::Config {
                reason: format!(
                    "{FLUSH_TIMEOUT_ENV} must be a positive number of milliseconds, not {text:?}"
                ),
            }
            .into()),
        },
    }
}

/// How long the end of a run waits for the journal to drain:
/// `YAMLETT_EXIT_DRAIN_MS`, or the default.
fn exit_drain() -> anyhow::Result<Duration> {
    match std::env::var(EXIT_DRAIN_ENV) {
        Err(_) => Ok(DEFAULT_EXIT_DRAIN),
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(ms) => Ok(Duration::from_millis(ms)),
            _ => Err(Error::Config {
                reason: format!("{EXIT_DRAIN_ENV} must be a number of milliseconds, not {text:?}"),
            }
            .into()),
        },
    }
}

/// The journal's directory, absolute (the working directory may change).
fn journal_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::var_os(JOURNAL_DIR_ENV)
        .map_or_else(|| PathBuf::from(crate::DEFAULT_LOCAL_DIR), PathBuf::from);
    std::path::absolute(&dir).map_err(|err| {
        Error::Config {
            reason: format!("cannot use the journal directory {}: {err}", dir.display()),
        }
        .into()
    })
}

impl Shared {
    fn runs(&self, experiment: &str) -> Collection<Document> {
        self.database.collection(experiment)
    }

    /// Runs a driver operation to completion on the calling thread.
    fn block_on<F>(&self, operation: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        runtime::block_on(self.runtime, operation)
    }

    /// Runs a driver operation on the calling thread for at most
    /// `deadline`; `None` if it did not finish in time.
    fn block_on_within<F>(&self, deadline: Duration, operation: F) -> Option<F::Output>
    where
        F: Future + Send,
        F::Output: Send,
    {
        runtime::block_on_within(self.runtime, deadline, operation)
    }

    /// Turns a driver error into the matching [`Error`] kind.
    fn error(&self, err: mongodb::error::Error) -> anyhow::Error {
        let message = scrub(describe(&err), &self.secrets);
        let store = self.location.clone();
        let code = match err.kind.as_ref() {
            ErrorKind::Command(command) => Some(command.code),
            ErrorKind::Write(WriteFailure::WriteError(write)) => Some(write.code),
            _ => None,
        };
        let kind = match (err.kind.as_ref(), code) {
            (
                ErrorKind::ServerSelection { .. }
                | ErrorKind::Io(_)
                | ErrorKind::ConnectionPoolCleared { .. }
                | ErrorKind::DnsResolve { .. }
                | ErrorKind::Shutdown,
                _,
            ) => Error::Unreachable {
                store,
                reason: message,
            },
            (ErrorKind::Authentication { .. }, _) | (_, Some(13 | 18)) => Error::Authentication {
                store,
                reason: message,
            },
            (_, Some(code)) if is_server_state_code(code) => Error::Unreachable {
                store,
                reason: message,
            },
            (_, Some(10334 | 17419 | 17420)) => Error::DocumentTooLarge {
                key: String::new(),
                size: 0,
            },
            (_, Some(_)) => Error::InvalidQuery(QueryError::new(message)),
            _ => Error::Store { store, message },
        };
        anyhow::Error::new(kind)
    }
}

/// Codes the server answers with while it, not the request, is the problem
/// (stepping down, shutting down, timed out): the write may succeed later.
fn is_server_state_code(code: i32) -> bool {
    matches!(
        code,
        6 | 7 | 50 | 89 | 91 | 189 | 262 | 9001 | 10107 | 11600 | 11602 | 13435 | 13436
    )
}

/// The driver's message for an error, without its debug noise.
fn describe(err: &mongodb::error::Error) -> String {
    match err.kind.as_ref() {
        ErrorKind::Command(command) => command.message.clone(),
        ErrorKind::Write(WriteFailure::WriteError(write)) => write.message.clone(),
        ErrorKind::Authentication { message, .. } => message.clone(),
        _ => err.to_string(),
    }
}

/// The password of a URI, raw and percent-decoded, so it can be removed
/// from any text that might echo it back.
fn secrets_of(uri: &str) -> Vec<String> {
    let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let Some((user_info, _)) = authority.rsplit_once('@') else {
        return Vec::new();
    };
    let Some((_, password)) = user_info.split_once(':') else {
        return Vec::new();
    };
    let mut secrets = vec![password.to_owned()];
    if let Some(decoded) = percent_decode(password) {
        secrets.push(decoded);
    }
    secrets.retain(|s| !s.is_empty());
    secrets
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Removes every occurrence of a secret from `text`.
fn scrub(mut text: String, secrets: &[String]) -> String {
    for secret in secrets {
        if text.contains(secret.as_str()) {
            text = text.replace(secret.as_str(), "***");
        }
    }
    text
}

impl Store for MongoStore {
    /// One `update` of every listed run of the experiment. Sent straight to
    /// the server, never journaled: a heartbeat lost in an outage is
    /// replaced by the next one.
    fn heartbeat(&self, experiment: &str, run_ids: &[String], at: DateTime) -> anyhow::Result<()> {
        let shared = &self.shared;
        let runs = shared.runs(experiment);
        shared
            .block_on(async {
                runs.update_many(
                    doc! { "_id": { "$in": run_ids }, "_yamlett.status": "running" },
                    doc! { "$set": { crate::store::HEARTBEAT_AT_FIELD: at } },
                )
                .await
            })
            .map(drop)
            .map_err(|err| shared.error(err))
    }

    fn update_run(
        &self,
        experiment: &str,
        run_id: &str,
        condition: &Document,
        update: &Document,
        upsert: bool,
    ) -> anyhow::Result<()> {
        outage::write(
            &self.shared,
            experiment,
            run_id,
            Entry::Update {
                condition: Cow::Borrowed(condition),
                update: Cow::Borrowed(update),
                upsert,
            },
        )
    }

    fn update_run_with_series(
        &self,
        experiment: &str,
        run_id: &str,
        condition: &Document,
        update: &Document,
        appends: &[Append],
    ) -> anyhow::Result<()> {
        outage::write(
            &self.shared,
            experiment,
            run_id,
            Entry::Series {
                condition: Cow::Borrowed(condition),
                update: Cow::Borrowed(update),
                appends: Cow::Borrowed(appends),
            },
        )
    }

    fn series_summaries(
        &self,
        experiment: &str,
        run_id: &str,
        key: &str,
    ) -> anyhow::Result<Vec<BucketSummary>> {
        // Read this process's own points, as a query reads its own writes.
        outage::catch_up(&self.shared)?;
        series::summaries(&self.shared, experiment, run_id, key)
    }

    fn series_buckets(
        &self,
        experiment: &str,
        run_id: &str,
        key: Option<&str>,
        which: Buckets<'_>,
    ) -> anyhow::Result<Vec<SeriesBucket>> {
        outage::catch_up(&self.shared)?;
        series::read(&self.shared, experiment, run_id, key, &which)
    }

    fn put_series_buckets(
        &self,
        experiment: &str,
        run_id: &str,
        buckets: &[SeriesBucket],
    ) -> anyhow::Result<()> {
        let checked = buckets
            .iter()
            .map(|bucket| Ok((bucket.clone(), crate::series::check_bucket(bucket)?)))
            .collect::<Result<Vec<_>, Error>>()?;
        series::put(&self.shared, experiment, run_id, &checked)
    }

    fn delete_series(&self, experiment: &str, run_id: &str) -> anyhow::Result<()> {
        series::delete(&self.shared, experiment, run_id)
    }

    fn find(
        &self,
        experiment: &str,
        filter: &Document,
        options: &FindOptions,
    ) -> anyhow::Result<Vec<Document>> {
        let shared = &self.shared;
        outage::catch_up(shared)?;
        let runs = shared.runs(experiment);
        let find = runs
            .find(filter.clone())
            .with_options(driver_find_options(options));
        shared
            .block_on(async { find.await?.try_collect().await })
            .map_err(|err| shared.error(err))
    }

    fn find_raw(
        &self,
        experiment: &str,
        filter: &Document,
        options: &FindOptions,
        visit: &mut RawVisitor<'_>,
    ) -> anyhow::Result<()> {
        let shared = &self.shared;
        outage::catch_up(shared)?;
        let runs = shared.runs(experiment).clone_with_type::<RawDocumentBuf>();
        let find = runs
            .find(filter.clone())
            .with_options(driver_find_options(options));
        let mut cursor = shared
            .block_on(find.into_future())
            .map_err(|err| shared.error(err))?;
        // One batch per round trip; `visit` runs outside the runtime, so it
        // may itself call yamlett.
        let mut walk = || -> anyhow::Result<()> {
            while shared
                .block_on(cursor.advance())
                .map_err(|err| shared.error(err))?
            {
                if visit(cursor.current())?.is_break() {
                    break;
                }
            }
            Ok(())
        };
        let walked = walk();
        // Dropping a live cursor sends `killCursors` from a task: on this
        // store's runtime, where its connections live.
        shared.block_on(async move { drop(cursor) });
        walked
    }

    fn count(&self, experiment: &str, filter: &Document) -> anyhow::Result<u64> {
        let shared = &self.shared;
        outage::catch_up(shared)?;
        let runs = shared.runs(experiment);
        shared
            .block_on(async { runs.count_documents(filter.clone()).await })
            .map_err(|err| shared.error(err))
    }

    fn aggregate(&self, experiment: &str, pipeline: &[Document]) -> anyhow::Result<Vec<Document>> {
        let shared = &self.shared;
        outage::catch_up(shared)?;
        let runs = shared.runs(experiment);
        shared
            .block_on(async { runs.aggregate(pipeline.to_vec()).await?.try_collect().await })
            .map_err(|err| shared.error(err))
    }

    fn experiments(&self) -> anyhow::Result<Vec<String>> {
        let shared = &self.shared;
        outage::catch_up(shared)?;
        let mut names: Vec<String> = shared
            .block_on(async { shared.database.list_collection_names().await })
            .map_err(|err| shared.error(err))?
            .into_iter()
            .filter(|name| !name.starts_with("_yamlett") && !name.starts_with("system."))
            .collect();
        names.sort();
        Ok(names)
    }

    /// The file id is chosen here, so the run can refer to the artifact
    /// even when its bytes have to wait in the journal.
    fn put_artifact(
        &self,
        experiment: &str,
        run_id: &str,
        key: &str,
        bytes: &[u8],
    ) -> anyhow::Result<Bson> {
        let id = Bson::ObjectId(bson::oid::ObjectId::new());
        outage::write(
            &self.shared,
            experiment,
            run_id,
            Entry::Artifact {
                id: id.clone(),
                filename: format!("{experiment}/{run_id}/{key}"),
                bytes: Cow::Borrowed(bytes),
            },
        )?;
        Ok(Bson::Document(doc! { "store": "gridfs", "id": id }))
    }

    fn get_artifact(&self, location: &Bson) -> anyhow::Result<Vec<u8>> {
        let shared = &self.shared;
        let id = match location {
            Bson::Document(doc) if doc.get_str("store").ok() == Some("gridfs") => {
                doc.get("id").cloned()
            }
            _ => None,
        }
        .ok_or_else(|| Error::Artifact {
            key: String::new(),
            reason: format!("not a GridFS artifact location: {location}"),
        })?;
        let mut bytes = Vec::new();
        let download = shared.block_on(async {
            let mut stream = shared.bucket.open_download_stream(id.clone()).await?;
            Ok::<_, mongodb::error::Error>(stream.read_to_end(&mut bytes).await)
        });
        download
            .map_err(|err| match err.kind.as_ref() {
                ErrorKind::GridFs(_) => Error::NotFound {
                    what: format!("artifact file {id}"),
                }
                .into(),
                _ => shared.error(err),
            })?
            .with_context(|| format!("reading artifact file {id} from {}", shared.location))?;
        Ok(bytes)
    }

    fn delete_runs(&self, experiment: &str, ids: &[Bson]) -> anyhow::Result<u64> {
        self.shared.delete_runs(experiment, ids)
    }

    fn delete_artifacts(&self, locations: &[Bson]) -> anyhow::Result<()> {
        self.shared.delete_artifacts(locations)
    }

    fn replace_runs(&self, experiment: &str, runs: &[Document]) -> anyhow::Result<()> {
        self.shared.replace_runs(experiment, runs)
    }

    fn garbage(
        &self,
        referenced: &[Bson],
        min_age: Duration,
        remove: bool,
    ) -> anyhow::Result<Vec<crate::Garbage>> {
        self.shared.garbage(referenced, min_age, remove)
    }

    fn collection(&self, experiment: &str) -> Option<mongodb::sync::Collection<Document>> {
        Some(self.shared.sync_database.collection(experiment))
    }

    fn location(&self) -> &str {
        &self.shared.location
    }

    /// The end of a run waits, at most `YAMLETT_EXIT_DRAIN_MS`, for the
    /// journal to reach the server: a process that ends normally leaves
    /// nothing behind on a disk that may be gone an hour later.
    fn settle(&self, _experiment: &str, _run_id: &str) -> anyhow::Result<()> {
        if let Err(waiting) = outage::drain(&self.shared, self.shared.exit_drain) {
            log::warn!("yamlett: {waiting}");
        }
        Ok(())
    }

    /// Waits, at most `YAMLETT_EXIT_DRAIN_MS`, for the journal to reach
    /// the server.
    fn drain(&self) -> anyhow::Result<()> {
        outage::drain(&self.shared, self.shared.exit_drain).map_err(|reason| {
            Error::Unreachable {
                store: self.shared.location.clone(),
                reason,
            }
            .into()
        })
    }

    fn sync(&self) -> anyhow::Result<crate::SyncReport> {
        outage::sync(&self.shared)
    }
}

/// yamlett's find options as the driver takes them.
fn driver_find_options(options: &FindOptions) -> mongodb::options::FindOptions {
    mongodb::options::FindOptions::builder()
        .sort(options.sort.clone())
        .skip(options.skip)
        // The driver reads a negative limit as "one batch"; clamp instead.
        .limit(options.limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
        .projection(options.projection.clone())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_found_raw_and_decoded() {
        assert_eq!(
            secrets_of("mongodb://u:p%40ss@h/db"),
            vec!["p%40ss", "p@ss"]
        );
        assert!(secrets_of("mongodb://h/db").is_empty());
        assert_eq!(
            scrub("bad p@ss!".into(), &secrets_of("mongodb://u:p%40ss@h")),
            "bad ***!"
        );
    }
}
