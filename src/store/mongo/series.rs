//! Metric series on MongoDB: WHAT a flush with points sends, and the
//! reads of the bucket collection. (HOW a write is sent, with its timeout
//! and journal, is [`super::outage`]'s.)
//!
//! The buckets of experiment `E` live in the collection `_yamlett_series.E`
//! (names starting with `_yamlett` are never listed as experiments), one
//! document per bucket:
//!
//! ```text
//! { _id: { run, key, bucket }, run, key, bucket, count,
//!   first: { step, value, time }, last: {…}, min: {…}, max: {…},
//!   steps: [i64…], values: [f64…], times: [date…] }
//! ```
//!
//! with an index on `{run, key, bucket}`, so a series is one index range
//! and deleting a run's series one `deleteMany({run})`.
//!
//! A flush is one ordered `bulkWrite` command (MongoDB 8.0, wire version
//! 25): the run update, then an update per touched bucket, each applying
//! once however often it is sent (the run's by its writer stamp, a
//! bucket's by the count it expects). The run update also expects each
//! series to hold the points this handle knows of, so a second handle
//! logging to the same series gets a conflict instead of writing over
//! the first one's points; the buckets follow only an applied run update.
//! Older servers get one command per collection: the run's `update`, then
//! one `update` of every bucket.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, OnceLock, PoisonError};

use bson::{doc, Bson, DateTime, Document};
use futures_util::TryStreamExt as _;
use mongodb::error::ErrorKind;
use mongodb::options::{UpdateModifications, UpdateOneModel, WriteModel};
use mongodb::Collection;

use super::maintenance::IDS_PER_COMMAND;
use super::outage::{apply_update, classify, Applied, Failure, DUPLICATE_KEY};
use super::Shared;
use crate::series::{Append, BucketSummary, Point, Series, SeriesBucket};
use crate::store::Buckets;
use crate::Garbage;
use yamlett_query::Filter;

/// The first wire version of MongoDB 8.0, which has `bulkWrite`.
const BULK_WRITE_WIRE_VERSION: i32 = 25;

/// What the store learns once about its server and collections.
#[derive(Debug, Default)]
pub(super) struct SeriesState {
    /// Whether the server takes the client-level `bulkWrite` command.
    bulk_write: OnceLock<bool>,
    /// Bucket collections whose index exists.
    indexed: Mutex<HashSet<String>>,
}

/// What the name of every bucket collection starts with.
const COLLECTION_PREFIX: &str = "_yamlett_series.";

/// The bucket collection of `experiment`.
pub(super) fn collection_name(experiment: &str) -> String {
    format!("{COLLECTION_PREFIX}{experiment}")
}

fn buckets(shared: &Shared, experiment: &str) -> Collection<Document> {
    shared.database.collection(&collection_name(experiment))
}

/// Sends a run update and its bucket appends: one command where the server
/// allows it.
///
/// The run update goes first and carries the counts the series must hold
/// (see [`crate::series::expected_counts`]); the bucket appends follow it
/// in an ordered `bulkWrite`, so they are written only if it applied.
pub(super) async fn send(
    shared: &Shared,
    experiment: &str,
    run_id: &str,
    condition: &Document,
    update: &Document,
    appends: &[Append],
) -> Result<(), Failure> {
    ensure_index(shared, experiment).await?;
    let mut expected = condition.clone();
    expected.extend(crate::series::expected_counts_filter(appends));
    if !supports_bulk_write(shared).await? {
        return match apply_update(shared, experiment, run_id, &expected, update, true).await? {
            Applied::Now => update_buckets(shared, experiment, run_id, appends).await,
            Applied::NotNow => not_applied(shared, experiment, run_id, condition, appends).await,
        };
    }
    let mut filter = doc! { "_id": run_id };
    filter.extend(expected);
    let runs = shared.runs(experiment).namespace();
    let series = buckets(shared, experiment).namespace();
    let mut models = vec![WriteModel::UpdateOne(
        UpdateOneModel::builder()
            .namespace(runs)
            .filter(filter)
            .update(UpdateModifications::Document(update.clone()))
            .upsert(true)
            .build(),
    )];
    for append in appends {
        let (filter, update) = bucket_update(run_id, append);
        models.push(WriteModel::UpdateOne(
            UpdateOneModel::builder()
                .namespace(series.clone())
                .filter(filter)
                .update(UpdateModifications::Document(update))
                .upsert(true)
                .build(),
        ));
    }
    let err = match shared.client.bulk_write(models).ordered(true).await {
        Ok(_) => return Ok(()),
        Err(err) => err,
    };
    // Ordered: the first write error stopped the writes after it. Every
    // write is conditional, and a duplicate key means an upsert found its
    // document not meeting the condition.
    let stopped_at = match err.kind.as_ref() {
        ErrorKind::BulkWrite(bulk) if bulk.write_concern_errors.is_empty() => bulk
            .write_errors
            .iter()
            .find(|(_, write)| write.code == DUPLICATE_KEY)
            .filter(|_| bulk.write_errors.len() == 1)
            .map(|(at, _)| *at),
        _ => None,
    };
    match stopped_at {
        Some(0) => not_applied(shared, experiment, run_id, condition, appends).await,
        // The run update applied, and a bucket held the points of its
        // append already (a write sent again): the rest, each once.
        Some(at) => update_buckets(shared, experiment, run_id, &appends[at - 1..]).await,
        None => Err(classify(shared, err)),
    }
}

/// The run update of a flush with points found its run but did not apply.
/// Either it was applied before (its writer stamp says so), and the bucket
/// appends are sent again, each applying once, in case some were not; or
/// another handle logged to one of its series: an
/// [`Error::Conflict`](crate::Error::Conflict), with nothing written.
async fn not_applied(
    shared: &Shared,
    experiment: &str,
    run_id: &str,
    condition: &Document,
    appends: &[Append],
) -> Result<(), Failure> {
    let run = shared
        .runs(experiment)
        .find_one(doc! { "_id": run_id })
        .await
        .map_err(|err| classify(shared, err))?
        .unwrap_or_default();
    let stamp_allows = Filter::parse(condition)
        .and_then(|stamp| stamp.matches(&run))
        .map_err(|err| Failure::Refused(crate::Error::InvalidQuery(err).into()))?;
    if !stamp_allows {
        return update_buckets(shared, experiment, run_id, appends).await;
    }
    crate::series::check_expected_counts(&run, appends)
        .map_err(|conflict| Failure::Refused(conflict.into()))?;
    // The run changed back between the write and this read: the write did
    // not apply, and the caller keeps its points for the next flush.
    Err(Failure::Refused(
        crate::Error::Conflict {
            key: appends.first().map(|a| a.key.clone()).unwrap_or_default(),
            reason: "the run changed while its series points were written; nothing was written"
                .to_owned(),
        }
        .into(),
    ))
}

/// The fallback for servers before 8.0: every bucket update in one
/// `update` command.
async fn update_buckets(
    shared: &Shared,
    experiment: &str,
    run_id: &str,
    appends: &[Append],
) -> Result<(), Failure> {
    if appends.is_empty() {
        return Ok(());
    }
    let updates: Vec<Document> = appends
        .iter()
        .map(|append| {
            let (q, u) = bucket_update(run_id, append);
            doc! { "q": q, "u": u, "upsert": true }
        })
        .collect();
    let reply = shared
        .database
        .run_command(doc! {
            "update": collection_name(experiment),
            "updates": updates,
            "ordered": false,
        })
        .await
        .map_err(|err| classify(shared, err))?;
    let refused = reply.get_array("writeErrors").ok().and_then(|errors| {
        errors.iter().find_map(|error| {
            let error = error.as_document()?;
            let code = error.get_i32("code").unwrap_or_default();
            (code != DUPLICATE_KEY).then(|| error.get_str("errmsg").unwrap_or("").to_owned())
        })
    });
    match refused {
        None => Ok(()),
        Some(message) => Err(Failure::Refused(
            crate::Error::Store {
                store: shared.location.clone(),
                message: super::scrub(message, &shared.secrets),
            }
            .into(),
        )),
    }
}

/// The conditional upsert that appends `append` to its bucket: it applies
/// only to a bucket holding exactly the points the append follows (none:
/// the bucket is created).
fn bucket_update(run_id: &str, append: &Append) -> (Document, Document) {
    let summary = &append.summary;
    let id = doc! { "run": run_id, "key": &append.key, "bucket": summary.index };
    let points = &append.points;
    let filter = doc! { "_id": id, "count": append.start };
    let update = doc! {
        "$setOnInsert": {
            "run": run_id,
            "key": &append.key,
            "bucket": summary.index,
            "first": summary.first.to_bson(),
        },
        "$set": {
            "last": summary.last.to_bson(),
            "min": summary.min.to_bson(),
            "max": summary.max.to_bson(),
        },
        "$inc": { "count": points.len() as i64 },
        "$push": {
            "steps": { "$each": points.steps.iter().map(|&s| Bson::Int64(s)).collect::<Vec<_>>() },
            "values": { "$each": points.values.iter().map(|&v| Bson::Double(v)).collect::<Vec<_>>() },
            "times": { "$each": points.times.iter().map(|&t| Bson::DateTime(t)).collect::<Vec<_>>() },
        },
    };
    (filter, update)
}

/// A whole bucket, as [`super::Store::put_series_buckets`] writes it.
fn bucket_document(run_id: &str, bucket: &SeriesBucket, summary: &BucketSummary) -> Document {
    let points = &bucket.points;
    doc! {
        "_id": { "run": run_id, "key": &bucket.key, "bucket": bucket.index },
        "run": run_id,
        "key": &bucket.key,
        "bucket": bucket.index,
        "count": points.len() as i64,
        "first": summary.first.to_bson(),
        "last": summary.last.to_bson(),
        "min": summary.min.to_bson(),
        "max": summary.max.to_bson(),
        "steps": points.steps.iter().map(|&s| Bson::Int64(s)).collect::<Vec<_>>(),
        "values": points.values.iter().map(|&v| Bson::Double(v)).collect::<Vec<_>>(),
        "times": points.times.iter().map(|&t| Bson::DateTime(t)).collect::<Vec<_>>(),
    }
}

/// Creates the bucket collection's index, once per process.
async fn ensure_index(shared: &Shared, experiment: &str) -> Result<(), Failure> {
    let name = collection_name(experiment);
    let state = &shared.series;
    if state
        .indexed
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .contains(&name)
    {
        return Ok(());
    }
    buckets(shared, experiment)
        .create_index(
            mongodb::IndexModel::builder()
                .keys(doc! { "run": 1, "key": 1, "bucket": 1 })
                .build(),
        )
        .await
        .map_err(|err| classify(shared, err))?;
    state
        .indexed
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(name);
    Ok(())
}

/// Whether the server has `bulkWrite`, asked once.
async fn supports_bulk_write(shared: &Shared) -> Result<bool, Failure> {
    if let Some(&known) = shared.series.bulk_write.get() {
        return Ok(known);
    }
    let hello = shared
        .database
        .run_command(doc! { "hello": 1 })
        .await
        .map_err(|err| classify(shared, err))?;
    let wire = match hello.get("maxWireVersion") {
        Some(Bson::Int32(v)) => *v,
        Some(Bson::Int64(v)) => i32::try_from(*v).unwrap_or(i32::MAX),
        _ => 0,
    };
    Ok(*shared
        .series
        .bulk_write
        .get_or_init(|| wire >= BULK_WRITE_WIRE_VERSION))
}

/// The bucket summaries of a series, without their points.
pub(super) fn summaries(
    shared: &Shared,
    experiment: &str,
    run_id: &str,
    key: &str,
) -> anyhow::Result<Vec<BucketSummary>> {
    let collection = buckets(shared, experiment);
    let found: Vec<Document> = shared
        .block_on(async {
            collection
                .find(doc! { "run": run_id, "key": key })
                .projection(doc! { "steps": 0, "values": 0, "times": 0 })
                .sort(doc! { "bucket": 1 })
                .await?
                .try_collect()
                .await
        })
        .map_err(|err| shared.error(err))?;
    let mut out = Vec::new();
    for found in found {
        let corrupt = || anyhow::anyhow!("a series bucket of run {run_id:?} is corrupt");
        let point = |field: &str| Point::from_bson(found.get(field)).ok_or_else(corrupt);
        out.push(BucketSummary {
            index: found.get_i64("bucket").map_err(|_| corrupt())?,
            count: found.get_i64("count").map_err(|_| corrupt())?,
            first: point("first")?,
            last: point("last")?,
            min: point("min")?,
            max: point("max")?,
        });
    }
    Ok(out)
}

/// Whole buckets of a run's series, ordered by key and index.
pub(super) fn read(
    shared: &Shared,
    experiment: &str,
    run_id: &str,
    key: Option<&str>,
    which: &Buckets<'_>,
) -> anyhow::Result<Vec<SeriesBucket>> {
    let mut filter = doc! { "run": run_id };
    if let Some(key) = key {
        filter.insert("key", key);
    }
    match which {
        Buckets::All => {}
        Buckets::Indexes(indexes) => {
            filter.insert("bucket", doc! { "$in": indexes.to_vec() });
        }
    }
    let collection = buckets(shared, experiment);
    let found: Vec<Document> = shared
        .block_on(async {
            collection
                .find(filter)
                .projection(doc! { "key": 1, "bucket": 1, "steps": 1, "values": 1, "times": 1 })
                .sort(doc! { "key": 1, "bucket": 1 })
                .await?
                .try_collect()
                .await
        })
        .map_err(|err| shared.error(err))?;
    let mut out = Vec::new();
    for found in found {
        out.push(parse_bucket(&found).ok_or_else(|| {
            anyhow::anyhow!("a series bucket of run {run_id:?} is corrupt: {found}")
        })?);
    }
    Ok(out)
}

fn parse_bucket(found: &Document) -> Option<SeriesBucket> {
    let column = |field: &str| found.get_array(field).ok();
    let steps = column("steps")?
        .iter()
        .map(|s| match s {
            Bson::Int64(s) => Some(*s),
            Bson::Int32(s) => Some(i64::from(*s)),
            _ => None,
        })
        .collect::<Option<Vec<i64>>>()?;
    let values = column("values")?
        .iter()
        .map(Bson::as_f64)
        .collect::<Option<Vec<f64>>>()?;
    let times = column("times")?
        .iter()
        .map(|t| t.as_datetime().copied())
        .collect::<Option<Vec<DateTime>>>()?;
    Some(SeriesBucket {
        key: found.get_str("key").ok()?.to_owned(),
        index: found.get_i64("bucket").ok()?,
        points: Series {
            steps,
            values,
            times,
        },
    })
}

/// Writes whole buckets, replacing those with the same id.
pub(super) fn put(
    shared: &Shared,
    experiment: &str,
    run_id: &str,
    put: &[(SeriesBucket, BucketSummary)],
) -> anyhow::Result<()> {
    shared
        .block_on(ensure_index(shared, experiment))
        .map_err(|failure| match failure {
            Failure::Outage(reason) => crate::Error::Unreachable {
                store: shared.location.clone(),
                reason,
            }
            .into(),
            Failure::Refused(err) => err,
        })?;
    let collection = buckets(shared, experiment);
    shared
        .block_on(async {
            for (bucket, summary) in put {
                let document = bucket_document(run_id, bucket, summary);
                collection
                    .replace_one(doc! { "_id": document.get("_id").cloned() }, document)
                    .upsert(true)
                    .await?;
            }
            Ok(())
        })
        .map_err(|err| shared.error(err))
}

/// Deletes a run's buckets: one `delete` on the index.
pub(super) fn delete(shared: &Shared, experiment: &str, run_id: &str) -> anyhow::Result<()> {
    let collection = buckets(shared, experiment);
    shared
        .block_on(async { collection.delete_many(doc! { "run": run_id }).await })
        .map_err(|err| shared.error(err))?;
    Ok(())
}

/// The buckets of runs that no longer exist (deleted by mongosh or another
/// tool, which leaves the buckets behind), one [`Garbage`] per run, in
/// every experiment's bucket collection, even one whose runs are all gone;
/// with `remove`, deleted.
///
/// The buckets are listed before the runs: a flush writes the run before
/// its buckets, so a run being created concurrently is always seen.
pub(super) fn orphans(shared: &Shared, remove: bool) -> anyhow::Result<Vec<Garbage>> {
    let names = shared
        .block_on(async { shared.database.list_collection_names().await })
        .map_err(|err| shared.error(err))?;
    let mut garbage = Vec::new();
    for name in names {
        let Some(experiment) = name.strip_prefix(COLLECTION_PREFIX) else {
            continue;
        };
        let sizes = bucket_bytes_by_run(shared, experiment)?;
        let ids: Vec<&String> = sizes.keys().collect();
        let mut alive = HashSet::new();
        let runs = shared.runs(experiment);
        for chunk in ids.chunks(IDS_PER_COMMAND) {
            let found: Vec<Document> = shared
                .block_on(async {
                    runs.find(doc! { "_id": { "$in": chunk } })
                        .projection(doc! { "_id": 1 })
                        .await?
                        .try_collect()
                        .await
                })
                .map_err(|err| shared.error(err))?;
            alive.extend(
                found
                    .iter()
                    .filter_map(|run| run.get_str("_id").ok().map(str::to_owned)),
            );
        }
        let gone: Vec<&String> = ids.into_iter().filter(|id| !alive.contains(*id)).collect();
        if remove {
            let collection = buckets(shared, experiment);
            for chunk in gone.chunks(IDS_PER_COMMAND) {
                shared
                    .block_on(async {
                        collection
                            .delete_many(doc! { "run": { "$in": chunk } })
                            .await
                    })
                    .map_err(|err| shared.error(err))?;
            }
        }
        garbage.extend(gone.into_iter().map(|run| Garbage {
            kind: "series",
            name: format!("series of run {run} in experiment {experiment}"),
            bytes: sizes[run],
        }));
    }
    Ok(garbage)
}

/// The run ids holding buckets in `experiment`, with the bytes of their
/// buckets, summed by the server.
fn bucket_bytes_by_run(shared: &Shared, experiment: &str) -> anyhow::Result<BTreeMap<String, u64>> {
    let collection = buckets(shared, experiment);
    let pipeline = [doc! {
        "$group": { "_id": "$run", "bytes": { "$sum": { "$bsonSize": "$$ROOT" } } }
    }];
    let groups: Vec<Document> = shared
        .block_on(async { collection.aggregate(pipeline).await?.try_collect().await })
        .map_err(|err| shared.error(err))?;
    Ok(groups
        .into_iter()
        .filter_map(|group| {
            let run = group.get_str("_id").ok()?.to_owned();
            let bytes = match group.get("bytes") {
                Some(Bson::Int32(n)) => u64::try_from(*n).unwrap_or(0),
                Some(Bson::Int64(n)) => u64::try_from(*n).unwrap_or(0),
                _ => 0,
            };
            Some((run, bytes))
        })
        .collect())
}
