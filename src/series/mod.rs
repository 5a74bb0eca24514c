//! Metric series: a metric's value at every step of a run, kept outside the
//! run document in buckets of [`BUCKET_POINTS`] points.
//!
//! The run document keeps only a summary of each series under its key
//! (`{count, first, last, min, max, sum, step}`), so filters and sorts on a
//! metric never read the points; the points live in buckets (a companion
//! collection on MongoDB, a table on the embedded store: see the README's
//! "Metric series" section for the layout other tools read). Each bucket
//! also keeps its own first, last, lowest and highest point, so that a
//! chart's [`sample`](m4) reads bucket summaries and only the buckets at
//! the edges of its columns.
//!
//! This module holds what both stores share: the types, the order values
//! are compared in, the packed form of appended points, and M4 sampling.

mod m4;
mod packed;

use std::cmp::Ordering;

use bson::{doc, Bson, DateTime, Document};

pub(crate) use m4::sample;
pub(crate) use packed::{blob, pack, packed_appends, unblob, unpack, PackedAppend};

/// How many points a bucket holds. Bucket `b` of a series holds its points
/// number `b * BUCKET_POINTS` to `(b + 1) * BUCKET_POINTS - 1`, so where a
/// point goes follows from the series' count alone.
pub(crate) const BUCKET_POINTS: i64 = 1000;

/// The points of a metric series, in step order: `steps[i]`, `values[i]`
/// and `times[i]` (when the point was logged) describe point `i`.
///
/// ```
/// # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-series"));
/// let run = yamlett::Run::new()?;
/// for loss in [0.9, 0.5, 0.3] {
///     run.log("metrics.loss", loss)?;
/// }
/// let series = run.series("metrics.loss")?;
/// assert_eq!(series.steps, [0, 1, 2]);
/// assert_eq!(series.values, [0.9, 0.5, 0.3]);
/// assert_eq!(series.len(), 3);
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// The step of each point, increasing.
    pub steps: Vec<i64>,
    /// The value of each point (NaN and infinities included, as logged).
    pub values: Vec<f64>,
    /// When each point was logged (milliseconds, as BSON dates).
    pub times: Vec<DateTime>,
}

impl Series {
    /// How many points the series has.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether the series has no point.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Adds a point at the end.
    pub(crate) fn push(&mut self, step: i64, value: f64, time: DateTime) {
        self.steps.push(step);
        self.values.push(value);
        self.times.push(time);
    }

    /// Removes every point. Keeps the memory of a series of up to a
    /// bucket's points (a training loop refills it at every step), and
    /// frees a larger one (a guard that held many points once).
    pub(crate) fn clear(&mut self) {
        if self.steps.capacity() > BUCKET_POINTS as usize {
            *self = Series::default();
        } else {
            self.steps.clear();
            self.values.clear();
            self.times.clear();
        }
    }

    /// Point `i`.
    pub(crate) fn point(&self, i: usize) -> Point {
        Point {
            step: self.steps[i],
            value: self.values[i],
            time: self.times[i],
        }
    }

    /// Adds points `range` of `other` at the end.
    pub(crate) fn extend_from(&mut self, other: &Series, range: std::ops::Range<usize>) {
        self.steps.extend_from_slice(&other.steps[range.clone()]);
        self.values.extend_from_slice(&other.values[range.clone()]);
        self.times.extend_from_slice(&other.times[range]);
    }
}

/// One point of a series: what bucket summaries hold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Point {
    pub(crate) step: i64,
    pub(crate) value: f64,
    pub(crate) time: DateTime,
}

impl Point {
    pub(crate) fn to_bson(self) -> Bson {
        Bson::Document(doc! { "step": self.step, "value": self.value, "time": self.time })
    }

    pub(crate) fn from_bson(value: Option<&Bson>) -> Option<Point> {
        let doc = value?.as_document()?;
        Some(Point {
            step: doc.get_i64("step").ok()?,
            value: doc.get_f64("value").ok()?,
            time: doc.get_datetime("time").ok().copied()?,
        })
    }
}

/// Orders doubles as MongoDB's `$min`, `$max` and sorts do: NaN below every
/// number (and equal to itself), then the usual order.
pub(crate) fn compare(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// What a bucket's summary says: its count and its first, last, lowest and
/// highest points (the earliest of equal ones).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BucketSummary {
    pub(crate) index: i64,
    pub(crate) count: i64,
    pub(crate) first: Point,
    pub(crate) last: Point,
    pub(crate) min: Point,
    pub(crate) max: Point,
}

impl BucketSummary {
    /// The summary of a bucket holding one point.
    pub(crate) fn new(index: i64, point: Point) -> BucketSummary {
        BucketSummary {
            index,
            count: 1,
            first: point,
            last: point,
            min: point,
            max: point,
        }
    }

    /// The summary once `point` is appended.
    pub(crate) fn add(&mut self, point: Point) {
        self.count += 1;
        self.last = point;
        if compare(point.value, self.min.value).is_lt() {
            self.min = point;
        }
        if compare(point.value, self.max.value).is_gt() {
            self.max = point;
        }
    }

    /// A summary from its parts, the points in the order stored: first,
    /// last, min, max.
    pub(crate) fn from_points(index: i64, count: i64, points: [Point; 4]) -> BucketSummary {
        let [first, last, min, max] = points;
        BucketSummary {
            index,
            count,
            first,
            last,
            min,
            max,
        }
    }

    /// The summary of the points of a bucket.
    pub(crate) fn of(index: i64, points: &Series) -> Option<BucketSummary> {
        let mut at = (0..points.len()).map(|i| points.point(i));
        let mut summary = BucketSummary::new(index, at.next()?);
        at.for_each(|point| summary.add(point));
        Some(summary)
    }
}

/// The points one flush appends to one bucket: the bucket held `start`
/// points before, and its summary is `summary` after.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Append {
    pub(crate) key: String,
    pub(crate) start: i64,
    pub(crate) summary: BucketSummary,
    pub(crate) points: Series,
}

impl Append {
    /// How many points the series held before this append.
    pub(crate) fn offset(&self) -> i64 {
        self.summary.index * BUCKET_POINTS + self.start
    }
}

/// What a flush with `appends` expects of its run: each series it logs to
/// holds, by the `count` of its summary in the run document, exactly the
/// points its first append follows (a series with none has no summary).
/// Two handles of one run (two processes resuming it, say) that log to the
/// same series would otherwise each put their points where the other's
/// are: the second handle's write must fail instead. Appends come grouped
/// by key, so the first of each key is where the key changes.
pub(crate) fn expected_counts(appends: &[Append]) -> impl Iterator<Item = (&str, i64)> {
    appends.iter().enumerate().filter_map(|(i, append)| {
        let first = i == 0 || appends[i - 1].key != append.key;
        first.then(|| (append.key.as_str(), append.offset()))
    })
}

/// [`expected_counts`] as a filter on the run document, for a store that
/// checks it where the run is (MongoDB): `{"<key>.count": n}`, or the
/// count's absence for a series with no point yet.
pub(crate) fn expected_counts_filter(appends: &[Append]) -> Document {
    let mut filter = Document::new();
    for (key, count) in expected_counts(appends) {
        let field = format!("{key}.count");
        match count {
            0 => filter.insert(field, doc! { "$exists": false }),
            _ => filter.insert(field, count),
        };
    }
    filter
}

/// Checks [`expected_counts`] against a run document: an
/// [`Error::Conflict`](crate::Error::Conflict) naming the first series that
/// another handle logged to since this one read it.
pub(crate) fn check_expected_counts(
    run: &Document,
    appends: &[Append],
) -> Result<(), crate::Error> {
    for (key, expected) in expected_counts(appends) {
        let held = match value_at(run, key)
            .and_then(Bson::as_document)
            .map(|s| s.get("count"))
        {
            None | Some(None) => Some(0),
            Some(Some(Bson::Int64(n))) => Some(*n),
            Some(Some(Bson::Int32(n))) => Some(i64::from(*n)),
            Some(Some(_)) => None,
        };
        if held != Some(expected) {
            let held = held.map_or_else(|| "no summary".to_owned(), |n| format!("{n} points"));
            return Err(crate::Error::Conflict {
                key: key.to_owned(),
                reason: format!(
                    "another handle of this run logged to the series since this one read it \
                     (the run has {held}, this handle expected {expected}): its points were not \
                     written; two handles (or processes) cannot log to one series, open the run \
                     again to go on after the other's points"
                ),
            });
        }
    }
    Ok(())
}

/// The value at a dotted path of a run document, through nested
/// documents (a series key never goes through an array).
pub(crate) fn value_at<'d>(doc: &'d Document, key: &str) -> Option<&'d Bson> {
    let mut segments = key.split('.');
    let mut value = doc.get(segments.next()?)?;
    for segment in segments {
        value = value.as_document()?.get(segment)?;
    }
    Some(value)
}

/// The summary of a whole series, as the run document keeps it under the
/// series' key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Summary {
    pub(crate) count: i64,
    pub(crate) first: f64,
    pub(crate) last: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
    pub(crate) sum: f64,
    /// The last step.
    pub(crate) step: i64,
}

impl Summary {
    /// The summary of a series of one point.
    pub(crate) fn new(step: i64, value: f64) -> Summary {
        Summary {
            count: 1,
            first: value,
            last: value,
            min: value,
            max: value,
            sum: value,
            step,
        }
    }

    /// The summary once a point is appended.
    pub(crate) fn add(&mut self, step: i64, value: f64) {
        self.count += 1;
        self.last = value;
        self.step = step;
        self.sum += value;
        if compare(value, self.min).is_lt() {
            self.min = value;
        }
        if compare(value, self.max).is_gt() {
            self.max = value;
        }
    }

    /// The summary as the run document holds it.
    pub(crate) fn to_document(self) -> Document {
        let mut document = Document::new();
        self.write_to(&mut document);
        document
    }

    /// Writes the summary's fields into `document` (a summary's document,
    /// reused: its values change in place, in their order).
    pub(crate) fn write_to(self, document: &mut Document) {
        let fields: [(&str, Bson); 7] = [
            ("count", self.count.into()),
            ("first", self.first.into()),
            ("last", self.last.into()),
            ("min", self.min.into()),
            ("max", self.max.into()),
            ("sum", self.sum.into()),
            ("step", self.step.into()),
        ];
        // The document a flush reuses has these fields in this order:
        // overwritten in place, without hashing a key.
        if document
            .keys()
            .map(String::as_str)
            .eq(fields.iter().map(|(f, _)| *f))
        {
            for ((_, slot), (_, value)) in document.iter_mut().zip(fields) {
                *slot = value;
            }
            return;
        }
        for (field, value) in fields {
            match document.get_mut(field) {
                Some(slot) => *slot = value,
                None => {
                    document.insert(field, value);
                }
            }
        }
    }

    /// Reads a summary back from a run document; `None` if `value` is not one.
    pub(crate) fn from_bson(value: Option<&Bson>) -> Option<Summary> {
        let doc = value?.as_document()?;
        Some(Summary {
            count: doc.get_i64("count").ok()?,
            first: doc.get_f64("first").ok()?,
            last: doc.get_f64("last").ok()?,
            min: doc.get_f64("min").ok()?,
            max: doc.get_f64("max").ok()?,
            sum: doc.get_f64("sum").ok()?,
            step: doc.get_i64("step").ok()?,
        })
    }
}

/// One bucket of a run's series, whole: what [`Experiment::series_buckets`]
/// reads and [`Experiment::put_series_buckets`] writes, to copy a run's
/// series from one store to another.
///
/// [`Experiment::series_buckets`]: crate::Experiment::series_buckets
/// [`Experiment::put_series_buckets`]: crate::Experiment::put_series_buckets
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesBucket {
    /// The series' key in the run document.
    pub key: String,
    /// The bucket's number in its series: it holds the series' points
    /// number `index * 1000` to `index * 1000 + 999`.
    pub index: i64,
    /// Its points, in step order.
    pub points: Series,
}

/// Checks that a bucket's points can be stored: steps increasing, columns
/// of equal length, at most [`BUCKET_POINTS`] points.
pub(crate) fn check_bucket(bucket: &SeriesBucket) -> Result<BucketSummary, crate::Error> {
    let points = &bucket.points;
    let invalid = |reason: &str| crate::Error::InvalidValue {
        key: bucket.key.clone(),
        reason: format!("bucket {}: {reason}", bucket.index),
    };
    if points.steps.len() != points.values.len() || points.steps.len() != points.times.len() {
        return Err(invalid("steps, values and times differ in length"));
    }
    if points.len() as i64 > BUCKET_POINTS {
        return Err(invalid("more than 1000 points"));
    }
    if bucket.index < 0 {
        return Err(invalid("a negative bucket number"));
    }
    if points.steps.windows(2).any(|w| w[0] >= w[1]) {
        return Err(invalid("steps must increase"));
    }
    BucketSummary::of(bucket.index, points).ok_or_else(|| invalid("no point"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_is_the_smallest_value_as_in_mongodb() {
        let mut summary = Summary::new(0, 1.0);
        summary.add(1, f64::NAN);
        summary.add(2, f64::INFINITY);
        summary.add(3, f64::NEG_INFINITY);
        assert!(summary.min.is_nan());
        assert_eq!(summary.max, f64::INFINITY);
        assert!(summary.sum.is_nan());
        assert_eq!(
            (summary.count, summary.step, summary.last),
            (4, 3, f64::NEG_INFINITY)
        );
    }
}
