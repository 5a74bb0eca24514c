//! What a run handle knows of the metric series it logs to, and the points
//! waiting for the next flush.
//!
//! Logging a point touches memory only: it joins its series' pending
//! points and the series' summary. A flush then turns the pending points
//! into bucket appends (where each point goes follows from the series'
//! count: see [`crate::series::BUCKET_POINTS`]) and the summaries into
//! `$set`s of the run document; once the store took them, they become
//! what the handle knows was written.

use std::collections::{HashMap, HashSet};

use bson::{doc, Bson, DateTime, Document};

use crate::key::METADATA_FIELD;
use crate::series::{Append, BucketSummary, Series, Summary, BUCKET_POINTS};
use crate::Error;

/// The field listing a run's series keys.
pub(super) const SERIES_FIELD: &str = "series";

/// One series, as this handle knows it.
#[derive(Debug, Default)]
struct Tracked {
    /// The summary of every point, pending ones included.
    summary: Option<Summary>,
    /// The summary of the written points.
    written: Option<Summary>,
    /// The series' last bucket as written, when it is not full.
    bucket: Option<BucketSummary>,
    /// Points logged since the last flush.
    pending: Series,
    /// The summary's document from the last flush, taken back from the
    /// update once sent: the next flush rewrites its seven values in place
    /// rather than building (hashing, allocating) a new document.
    document: Option<Document>,
    /// Why this handle can no longer log to the series: another handle
    /// wrote it since this one read it (see [`SeriesLog::fence`]).
    fenced: Option<String>,
}

/// The series of one run handle.
#[derive(Debug, Default)]
pub(super) struct SeriesLog {
    series: HashMap<String, Tracked>,
    /// Keys with pending points, in the order they were first logged.
    touched: Vec<String>,
    /// Series this handle started that `_yamlett.series` does not list
    /// yet: the next flush adds them (`$addToSet`, so that the keys other
    /// handles of the run listed meanwhile stay).
    unlisted: Vec<String>,
    /// The run document when the handle opened, to check a new series key
    /// against what is stored (see [`SeriesLog::check_new`]).
    snapshot: Document,
    /// Keys stored or pushed through this handle since it opened.
    stored: HashSet<String>,
    /// The appends of the last flush, whose keys and point columns the
    /// next flush refills instead of allocating its own (a guard per
    /// training step flushes thousands of times a second).
    spare: Vec<Append>,
}

/// How many appends a flush leaves for the next one to refill: a training
/// loop's flush has one per series, and a flush of a million points does
/// not keep a thousand buckets' worth of columns allocated.
const SPARE_APPENDS: usize = 16;

/// Whether a new series key can be logged to.
pub(super) enum NewKey {
    Free,
    /// This handle stored near the key since it opened: check against the
    /// run as it is now.
    CheckDocument,
}

/// What a flush sends for the series besides the `$set`s of the run
/// document: the bucket appends; [`SeriesLog::commit`] once the store
/// took them.
#[derive(Debug, Default)]
pub(super) struct Prepared {
    pub(super) appends: Vec<Append>,
    /// Each touched series' last bucket after the flush, in the order of
    /// [`SeriesLog::touched`].
    buckets: Vec<Option<BucketSummary>>,
}

impl SeriesLog {
    /// The series listed in a run document (`_yamlett.series`), with the
    /// summaries found under their keys; `last_bucket` reads the last
    /// bucket of a series whose last bucket is not full.
    pub(super) fn from_document(
        snapshot: Document,
        mut last_bucket: impl FnMut(&str) -> anyhow::Result<Option<BucketSummary>>,
    ) -> anyhow::Result<SeriesLog> {
        let mut log = SeriesLog::default();
        let listed: Vec<String> = snapshot
            .get_document(METADATA_FIELD)
            .ok()
            .and_then(|meta| meta.get_array(SERIES_FIELD).ok())
            .map(|keys| {
                keys.iter()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        for key in listed {
            let summary = Summary::from_bson(crate::series::value_at(&snapshot, &key));
            let bucket = match summary {
                Some(s) if s.count % BUCKET_POINTS != 0 => last_bucket(&key)?,
                _ => None,
            };
            log.series.insert(
                key,
                Tracked {
                    summary,
                    written: summary,
                    bucket,
                    pending: Series::default(),
                    document: None,
                    fenced: None,
                },
            );
        }
        log.snapshot = snapshot;
        Ok(log)
    }

    /// Whether anything waits for a flush.
    pub(super) fn is_empty(&self) -> bool {
        self.touched.is_empty() && self.unlisted.is_empty()
    }

    /// The first key with pending points, to name in an error.
    pub(super) fn first_key(&self) -> Option<&str> {
        self.touched.first().map(String::as_str)
    }

    /// Whether `key` is a series this handle knows.
    pub(super) fn knows(&self, key: &str) -> bool {
        self.series.contains_key(key)
    }

    /// Logs a point at `step` (default: the next one). `Ok(false)`, with
    /// nothing changed, when `key` is not a series of this handle yet (see
    /// [`SeriesLog::start`]): one map lookup on the hot path, not two.
    pub(super) fn log(&mut self, key: &str, step: Option<i64>, value: f64) -> Result<bool, Error> {
        let Some(tracked) = self.series.get_mut(key) else {
            return Ok(false);
        };
        if let Some(reason) = &tracked.fenced {
            return Err(Error::Conflict {
                key: key.to_owned(),
                reason: reason.clone(),
            });
        }
        let step = match (step, &tracked.summary) {
            (None, None) => 0,
            (None, Some(summary)) => {
                summary.step.checked_add(1).ok_or_else(|| Error::Conflict {
                    key: key.to_owned(),
                    reason: "the last step is i64::MAX: no step follows it".to_owned(),
                })?
            }
            (Some(step), Some(summary)) if step <= summary.step => {
                return Err(Error::Conflict {
                    key: key.to_owned(),
                    reason: format!(
                        "steps must increase: step {step} comes after step {}",
                        summary.step
                    ),
                })
            }
            (Some(step), _) => step,
        };
        match &mut tracked.summary {
            Some(summary) => summary.add(step, value),
            None => tracked.summary = Some(Summary::new(step, value)),
        }
        if tracked.pending.is_empty() {
            self.touched.push(key.to_owned());
        }
        tracked.pending.push(step, value, DateTime::now());
        Ok(true)
    }

    /// Checks that `key` can become a new series of this run: not inside,
    /// around or at another series, and holding no stored value.
    pub(super) fn check_new(&self, key: &str) -> Result<NewKey, Error> {
        if let Some(other) = self.series.keys().find(|other| nested(other, key)) {
            return Err(Error::Conflict {
                key: key.to_owned(),
                reason: format!("{other:?} is a metric series: a series cannot nest in another"),
            });
        }
        check_document(&self.snapshot, key)?;
        if self
            .stored
            .iter()
            .any(|stored| stored == key || nested(stored, key))
        {
            return Ok(NewKey::CheckDocument);
        }
        Ok(NewKey::Free)
    }

    /// Makes `key` a series of this run (checked with [`SeriesLog::check_new`]).
    pub(super) fn start(&mut self, key: &str) {
        self.series.insert(key.to_owned(), Tracked::default());
        self.unlisted.push(key.to_owned());
    }

    /// Refuses a `store` or `push` at, above or below a series, and
    /// remembers the key for later checks of new series.
    pub(super) fn check_stored(&mut self, key: &str) -> Result<(), Error> {
        if !self.series.is_empty() {
            if let Some(series) = self
                .series
                .keys()
                .find(|series| *series == key || nested(series, key))
            {
                return Err(Error::Conflict {
                    key: key.to_owned(),
                    reason: format!(
                        "{series:?} is a metric series: write its points with `log`, and other values under other keys"
                    ),
                });
            }
        }
        if !self.stored.contains(key) {
            self.stored.insert(key.to_owned());
        }
        Ok(())
    }

    /// What the next flush sends, without changing anything yet: the
    /// summaries and the new series' listing go into the run `update`.
    pub(super) fn prepare(&mut self, update: &mut Document) -> Prepared {
        let mut prepared = Prepared {
            appends: std::mem::take(&mut self.spare),
            ..Prepared::default()
        };
        let mut used = 0;
        for key in &self.touched {
            let Some(tracked) = self.series.get_mut(key) else {
                prepared.buckets.push(None);
                continue;
            };
            if let Some(summary) = tracked.summary {
                let document = match tracked.document.take() {
                    Some(mut document) => {
                        summary.write_to(&mut document);
                        document
                    }
                    None => summary.to_document(),
                };
                super::buffer::set_of(update).insert(key.clone(), document);
            }
            let mut count = tracked.written.map_or(0, |s| s.count);
            let mut bucket = tracked.bucket;
            let points = &tracked.pending;
            let mut from = 0;
            while from < points.len() {
                let in_bucket = (BUCKET_POINTS - count % BUCKET_POINTS) as usize;
                let to = (from + in_bucket).min(points.len());
                let index = count / BUCKET_POINTS;
                let start = count % BUCKET_POINTS;
                // A bucket is continued from its summary, or opened by its
                // first point.
                let (mut summary, first_new) =
                    match bucket.filter(|b| b.index == index && start > 0) {
                        Some(summary) => (summary, from),
                        None => (BucketSummary::new(index, points.point(from)), from + 1),
                    };
                for i in first_new..to {
                    summary.add(points.point(i));
                }
                let append = match prepared.appends.get_mut(used) {
                    Some(spare) => spare,
                    None => {
                        prepared.appends.push(Append {
                            key: String::new(),
                            start,
                            summary,
                            points: Series::default(),
                        });
                        &mut prepared.appends[used]
                    }
                };
                used += 1;
                append.key.clear();
                append.key.push_str(key);
                append.start = start;
                append.summary = summary;
                append.points.clear();
                append.points.extend_from(points, from..to);
                count += (to - from) as i64;
                bucket = Some(summary);
                from = to;
            }
            let open = bucket.filter(|_| count % BUCKET_POINTS != 0);
            prepared.buckets.push(open);
        }
        prepared.appends.truncate(used);
        if !self.unlisted.is_empty() {
            let keys: Vec<Bson> = self.unlisted.iter().cloned().map(Bson::String).collect();
            update.insert(
                "$addToSet",
                doc! { format!("{METADATA_FIELD}.{SERIES_FIELD}"): { "$each": keys } },
            );
        }
        prepared
    }

    /// Records that the store took `prepared`, sent as `update`, and takes
    /// the summaries' documents back from it for the next flush.
    pub(super) fn commit(&mut self, prepared: Prepared, update: &mut Document) {
        let mut set = match update.get_mut("$set") {
            Some(Bson::Document(set)) => Some(set),
            _ => None,
        };
        for (key, bucket) in self.touched.iter().zip(prepared.buckets) {
            if let Some(tracked) = self.series.get_mut(key) {
                if let Some(Bson::Document(document)) = set.as_mut().and_then(|s| s.remove(key)) {
                    tracked.document = Some(document);
                }
                tracked.written = tracked.summary;
                tracked.bucket = bucket;
                tracked.pending.clear();
            }
        }
        self.touched.clear();
        self.unlisted.clear();
        self.spare = prepared.appends;
        self.spare.truncate(SPARE_APPENDS);
    }

    /// Gives up the series `key` after the store refused this handle's
    /// points for it (another handle wrote it since this one read it,
    /// or the run no longer holds it where it was): the points waiting for
    /// it are dropped, so that the rest of the flush can be written, and
    /// every later `log` to it is the same conflict, at the call. False,
    /// with nothing changed, if `key` had no points waiting.
    pub(super) fn fence(&mut self, key: &str, reason: &str) -> bool {
        let Some(tracked) = self.series.get_mut(key) else {
            return false;
        };
        if tracked.pending.is_empty() {
            return false;
        }
        tracked.pending.clear();
        tracked.summary = tracked.written;
        tracked.fenced = Some(reason.to_owned());
        self.touched.retain(|touched| touched != key);
        true
    }

    /// The points of `key` not written yet.
    pub(super) fn pending(&self, key: &str) -> Option<&Series> {
        self.series.get(key).map(|t| &t.pending)
    }
}

/// Whether one key lies strictly inside the other (`a.b` in `a`).
fn nested(a: &str, b: &str) -> bool {
    let inside = |outer: &str, inner: &str| {
        inner.len() > outer.len()
            && inner.starts_with(outer)
            && inner.as_bytes()[outer.len()] == b'.'
    };
    inside(a, b) || inside(b, a)
}

/// Refuses a series key where `doc` holds a value: at the key, or a
/// non-document on the way to it.
pub(super) fn check_document(doc: &Document, key: &str) -> Result<(), Error> {
    let mut current = doc;
    let segments: Vec<&str> = key.split('.').collect();
    for (i, segment) in segments.iter().enumerate() {
        let Some(value) = current.get(*segment) else {
            return Ok(());
        };
        let path = segments[..=i].join(".");
        if i + 1 == segments.len() {
            return Err(Error::Conflict {
                key: key.to_owned(),
                reason: "the run holds a stored value there: a series needs a key of its own"
                    .to_owned(),
            });
        }
        match value {
            Bson::Document(inner) => current = inner,
            other => {
                return Err(Error::Conflict {
                    key: key.to_owned(),
                    reason: format!(
                        "{path:?} holds a stored {}, not a document",
                        yamlett_query::advanced::type_name(Some(other))
                    ),
                })
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_points_split_at_bucket_edges_and_resume() {
        let mut log = SeriesLog::default();
        log.check_new("loss").unwrap();
        log.start("loss");
        for i in 0..1500 {
            assert!(log.log("loss", None, f64::from(i)).unwrap());
        }
        let prepared = log.prepare(&mut Document::new());
        let shape: Vec<(i64, i64, usize)> = prepared
            .appends
            .iter()
            .map(|a| (a.summary.index, a.start, a.points.len()))
            .collect();
        assert_eq!(shape, [(0, 0, 1000), (1, 0, 500)]);
        let first = prepared.appends[1].summary.first;
        assert_eq!((first.step, first.value), (1000, 1000.0));
        log.commit(prepared, &mut Document::new());
        log.log("loss", Some(2000), -1.0).unwrap();
        let prepared = log.prepare(&mut Document::new());
        assert_eq!(prepared.appends.len(), 1);
        let append = &prepared.appends[0];
        assert_eq!((append.start, append.summary.count), (500, 501));
        assert_eq!(append.summary.first.step, 1000);
        let min = append.summary.min;
        assert_eq!((min.step, min.value), (2000, -1.0));
        assert!(log.log("loss", Some(2000), 0.0).is_err());
    }

    #[test]
    fn keys_around_series_and_stored_values_conflict() {
        let snapshot = doc! { "a": 1, "m": { "f1": 0.9 } };
        let mut log = SeriesLog::from_document(snapshot, |_| Ok(None)).unwrap();
        assert!(log.check_new("a").is_err());
        assert!(log.check_new("a.b").is_err());
        assert!(log.check_new("m.f1").is_err());
        assert!(matches!(log.check_new("m.loss"), Ok(NewKey::Free)));
        log.start("m.loss");
        assert!(log.check_new("m.loss.x").is_err());
        assert!(log.check_new("m").is_err());
        assert!(log.check_stored("m.loss").is_err());
        assert!(log.check_stored("m").is_err());
        assert!(log.check_stored("m.loss.count").is_err());
        log.check_stored("m.acc").unwrap();
        assert!(matches!(log.check_new("m.acc"), Ok(NewKey::CheckDocument)));
    }
}
