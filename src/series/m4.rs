//! M4 sampling (Jugel et al., VLDB 2014): for each of `columns` equal step
//! ranges, the first, last, lowest and highest point. A line chart drawn
//! from these four points per pixel column is the chart of every point,
//! so the true extremes are always in the result.
//!
//! Buckets that fall inside one column contribute their summaries; only
//! the buckets that straddle a column edge (or the edge of the requested
//! range) have their points read.

use std::ops::RangeInclusive;

use super::{compare, BucketSummary, Point, Series};

/// The first, last, lowest and highest point seen in one column.
#[derive(Clone, Copy)]
struct Column {
    first: Point,
    last: Point,
    min: Point,
    max: Point,
}

impl Column {
    fn merge(slot: &mut Option<Column>, first: Point, last: Point, min: Point, max: Point) {
        let Some(column) = slot else {
            *slot = Some(Column {
                first,
                last,
                min,
                max,
            });
            return;
        };
        if first.step < column.first.step {
            column.first = first;
        }
        if last.step > column.last.step {
            column.last = last;
        }
        // Of equal values, the earlier point stays, as in a bucket summary.
        let earlier = |a: Point, b: Point| a.step < b.step;
        match compare(min.value, column.min.value) {
            std::cmp::Ordering::Less => column.min = min,
            std::cmp::Ordering::Equal if earlier(min, column.min) => column.min = min,
            _ => {}
        }
        match compare(max.value, column.max.value) {
            std::cmp::Ordering::Greater => column.max = max,
            std::cmp::Ordering::Equal if earlier(max, column.max) => column.max = max,
            _ => {}
        }
    }
}

/// Samples a series to at most four points per column.
///
/// `buckets` are the summaries of the series' buckets in order; `steps`
/// limits the result (default: the whole series); `load` reads the points
/// of the given buckets, returned in any order with their index.
pub(crate) fn sample(
    buckets: &[BucketSummary],
    columns: usize,
    steps: Option<RangeInclusive<i64>>,
    load: impl FnOnce(&[i64]) -> anyhow::Result<Vec<(i64, Series)>>,
) -> anyhow::Result<Series> {
    let (Some(first), Some(last)) = (buckets.first(), buckets.last()) else {
        return Ok(Series::default());
    };
    let (lo, hi) = match &steps {
        Some(range) => (*range.start(), *range.end()),
        None => (first.first.step, last.last.step),
    };
    if lo > hi || columns == 0 {
        return Ok(Series::default());
    }
    let width = i128::from(hi) - i128::from(lo) + 1;
    let columns_i = columns as i128;
    let column_of = |step: i64| ((i128::from(step) - i128::from(lo)) * columns_i / width) as usize;

    let mut slots: Vec<Option<Column>> = vec![None; columns];
    let mut edges = Vec::new();
    for bucket in buckets {
        if bucket.last.step < lo || bucket.first.step > hi {
            continue;
        }
        let inside = bucket.first.step >= lo && bucket.last.step <= hi;
        if inside && column_of(bucket.first.step) == column_of(bucket.last.step) {
            Column::merge(
                &mut slots[column_of(bucket.first.step)],
                bucket.first,
                bucket.last,
                bucket.min,
                bucket.max,
            );
        } else {
            edges.push(bucket.index);
        }
    }
    if !edges.is_empty() {
        for (_, points) in load(&edges)? {
            for i in 0..points.len() {
                let point = points.point(i);
                if point.step < lo || point.step > hi {
                    continue;
                }
                Column::merge(
                    &mut slots[column_of(point.step)],
                    point,
                    point,
                    point,
                    point,
                );
            }
        }
    }

    let mut out = Series::default();
    for column in slots.into_iter().flatten() {
        let mut four = [column.first, column.min, column.max, column.last];
        four.sort_by_key(|p| p.step);
        let mut previous = None;
        for point in four {
            if previous != Some(point.step) {
                out.push(point.step, point.value, point.time);
                previous = Some(point.step);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::BUCKET_POINTS;
    use bson::DateTime;

    fn buckets_of(points: &Series) -> Vec<(BucketSummary, Series)> {
        let size = BUCKET_POINTS as usize;
        (0..points.len().div_ceil(size))
            .map(|b| {
                let mut bucket = Series::default();
                bucket.extend_from(points, b * size..((b + 1) * size).min(points.len()));
                (BucketSummary::of(b as i64, &bucket).unwrap(), bucket)
            })
            .collect()
    }

    /// The plain M4 of every point, to compare with.
    fn naive(points: &Series, columns: usize, lo: i64, hi: i64) -> Vec<i64> {
        let width = (hi - lo + 1) as i128;
        let mut out = Vec::new();
        for c in 0..columns {
            let idx: Vec<usize> = (0..points.len())
                .filter(|&i| {
                    let s = points.steps[i];
                    s >= lo && s <= hi && ((s - lo) as i128 * columns as i128 / width) as usize == c
                })
                .collect();
            if idx.is_empty() {
                continue;
            }
            let min = idx
                .iter()
                .copied()
                .min_by(|&a, &b| compare(points.values[a], points.values[b]).then(a.cmp(&b)))
                .unwrap();
            let max = idx
                .iter()
                .copied()
                .max_by(|&a, &b| compare(points.values[a], points.values[b]).then(b.cmp(&a)))
                .unwrap();
            let mut steps: Vec<i64> = [idx[0], min, max, *idx.last().unwrap()]
                .iter()
                .map(|&i| points.steps[i])
                .collect();
            steps.sort();
            steps.dedup();
            out.extend(steps);
        }
        out
    }

    #[test]
    fn summaries_and_edges_give_the_plain_m4() {
        let mut points = Series::default();
        let mut step = 0;
        for i in 0..10_500 {
            step += 1 + (i % 3);
            let value = ((i * 7919) % 1009) as f64 - if i == 4321 { 1e9 } else { 0.0 };
            points.push(step, value, DateTime::from_millis(i));
        }
        points.values[777] = f64::NAN;
        let stored = buckets_of(&points);
        let summaries: Vec<BucketSummary> = stored.iter().map(|(s, _)| *s).collect();
        for (columns, range) in [
            (7, None),
            (1000, None),
            (3, Some(100..=5000)),
            (50_000, Some(0..=30)),
        ] {
            let (lo, hi) = range
                .clone()
                .unwrap_or((points.steps[0])..=*points.steps.last().unwrap())
                .into_inner();
            let sampled = sample(&summaries, columns, range, |wanted| {
                Ok(stored
                    .iter()
                    .filter(|(s, _)| wanted.contains(&s.index))
                    .map(|(s, p)| (s.index, p.clone()))
                    .collect())
            })
            .unwrap();
            assert_eq!(
                sampled.steps,
                naive(&points, columns, lo, hi),
                "{columns} columns"
            );
            assert!(sampled.len() <= 4 * columns);
        }
    }
}
