//! The packed form of appended points, in the embedded store's write log
//! and the MongoDB store's outage journal: a flush's points cost a few
//! `memcpy`s to log instead of a BSON array element (and its index key)
//! each.
//!
//! An append is, little-endian: the key's length (u32) and UTF-8 bytes; the
//! bucket's index, count before the append, and the summary after it (count,
//! then first, last, min, max as step i64, value f64, time i64); the number of points
//! `n` (u32); then `n` steps (i64), `n` values (f64) and `n` times (i64
//! milliseconds). Appends follow each other.

use anyhow::Context as _;
use bson::DateTime;

use super::{Append, BucketSummary, Point, Series};

/// Appends the packed form of `appends` to `out`.
pub(crate) fn pack(appends: &[Append], out: &mut Vec<u8>) {
    for append in appends {
        let points = &append.points;
        out.extend_from_slice(&(append.key.len() as u32).to_le_bytes());
        out.extend_from_slice(append.key.as_bytes());
        let summary = &append.summary;
        for number in [summary.index, append.start, summary.count] {
            out.extend_from_slice(&number.to_le_bytes());
        }
        for point in [summary.first, summary.last, summary.min, summary.max] {
            out.extend_from_slice(&point.step.to_le_bytes());
            out.extend_from_slice(&point.value.to_le_bytes());
            out.extend_from_slice(&point.time.timestamp_millis().to_le_bytes());
        }
        out.extend_from_slice(&(points.len() as u32).to_le_bytes());
        points
            .steps
            .iter()
            .for_each(|s| out.extend_from_slice(&s.to_le_bytes()));
        points
            .values
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
        points
            .times
            .iter()
            .for_each(|t| out.extend_from_slice(&t.timestamp_millis().to_le_bytes()));
    }
}

/// One append as [`pack`] wrote it, read in place: what a fold needs to
/// extend a bucket, with nothing allocated (a fold reads every record of a
/// training loop, one point each, mostly).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PackedAppend<'b> {
    pub(crate) key: &'b str,
    /// The bucket's point count before the append.
    pub(crate) start: i64,
    /// The bucket's summary after the append.
    pub(crate) summary: BucketSummary,
    steps: &'b [u8],
    values: &'b [u8],
    times: &'b [u8],
}

impl<'b> PackedAppend<'b> {
    /// How many points the append carries.
    pub(crate) fn len(&self) -> usize {
        self.steps.len() / 8
    }

    /// Appends its points from number `skip` on to `series`.
    pub(crate) fn extend(&self, series: &mut Series, skip: usize) {
        let from = skip.min(self.len()) * 8;
        let column = |bytes: &'b [u8]| bytes[from..].chunks_exact(8).map(eight);
        series
            .steps
            .extend(column(self.steps).map(i64::from_le_bytes));
        series
            .values
            .extend(column(self.values).map(f64::from_le_bytes));
        series
            .times
            .extend(column(self.times).map(|b| DateTime::from_millis(i64::from_le_bytes(b))));
    }

    /// The append, owned.
    pub(crate) fn to_append(self) -> Append {
        let mut points = Series::default();
        self.extend(&mut points, 0);
        Append {
            key: self.key.to_owned(),
            start: self.start,
            summary: self.summary,
            points,
        }
    }
}

fn eight(chunk: &[u8]) -> [u8; 8] {
    let mut eight = [0; 8];
    eight.copy_from_slice(chunk);
    eight
}

/// Reads back what [`pack`] wrote, in place.
pub(crate) fn packed_appends(
    mut bytes: &[u8],
) -> impl Iterator<Item = anyhow::Result<PackedAppend<'_>>> {
    std::iter::from_fn(move || {
        if bytes.is_empty() {
            return None;
        }
        let next = read_one(&mut bytes);
        if next.is_err() {
            bytes = &[]; // nothing can be read after a truncated append
        }
        Some(next)
    })
}

fn read_one<'b>(bytes: &mut &'b [u8]) -> anyhow::Result<PackedAppend<'b>> {
    let key_len = u32::from_le_bytes(take(bytes)?) as usize;
    let key = std::str::from_utf8(take_slice(bytes, key_len)?)
        .context("a packed series key is not UTF-8")?;
    let index = i64::from_le_bytes(take(bytes)?);
    let start = i64::from_le_bytes(take(bytes)?);
    let count = i64::from_le_bytes(take(bytes)?);
    let mut points = [Point {
        step: 0,
        value: 0.0,
        time: DateTime::from_millis(0),
    }; 4];
    for point in &mut points {
        point.step = i64::from_le_bytes(take(bytes)?);
        point.value = f64::from_le_bytes(take(bytes)?);
        point.time = DateTime::from_millis(i64::from_le_bytes(take(bytes)?));
    }
    let n = u32::from_le_bytes(take(bytes)?) as usize;
    // Each column whole, checked for length once.
    let mut column = || take_slice(bytes, n.saturating_mul(8));
    let (steps, values, times) = (column()?, column()?, column()?);
    Ok(PackedAppend {
        key,
        start,
        summary: BucketSummary::from_points(index, count, points),
        steps,
        values,
        times,
    })
}

/// Reads back what [`pack`] wrote, owned.
pub(crate) fn unpack(bytes: &[u8]) -> anyhow::Result<Vec<Append>> {
    packed_appends(bytes)
        .map(|append| append.map(PackedAppend::to_append))
        .collect()
}

fn take<const N: usize>(bytes: &mut &[u8]) -> anyhow::Result<[u8; N]> {
    let slice = take_slice(bytes, N)?;
    let mut out = [0; N];
    out.copy_from_slice(slice);
    Ok(out)
}

fn take_slice<'b>(bytes: &mut &'b [u8], n: usize) -> anyhow::Result<&'b [u8]> {
    anyhow::ensure!(bytes.len() >= n, "packed series points are truncated");
    let (head, rest) = bytes.split_at(n);
    *bytes = rest;
    Ok(head)
}

/// Packs little-endian numbers into a blob: the embedded store's columns.
pub(crate) fn blob<T: Copy>(items: &[T], bytes: impl Fn(T) -> [u8; 8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(items.len() * 8);
    for &item in items {
        out.extend_from_slice(&bytes(item));
    }
    out
}

/// Reads a blob of little-endian 8-byte numbers.
pub(crate) fn unblob<T>(bytes: &[u8], read: impl Fn([u8; 8]) -> T) -> Vec<T> {
    bytes
        .chunks_exact(8)
        .map(|chunk| read(eight(chunk)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_round_trip() {
        let mut points = Series::default();
        points.push(7, f64::NAN, DateTime::from_millis(5));
        points.push(8, -1.5, DateTime::from_millis(6));
        let append = Append {
            key: "metrics.loss".into(),
            start: 3,
            summary: BucketSummary::of(2, &points).unwrap(),
            points,
        };
        let mut bytes = Vec::new();
        pack(&[append.clone(), append.clone()], &mut bytes);
        let back = unpack(&bytes).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].key, append.key);
        assert_eq!(back[1].points.steps, [7, 8]);
        assert!(back[1].points.values[0].is_nan());
        assert!(unpack(&bytes[..bytes.len() - 1]).is_err());
    }
}
