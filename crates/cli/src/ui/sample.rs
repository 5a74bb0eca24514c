//! M4 sampling of a metric history kept as a list inside the run document
//! (`run.push`), so those histories chart like series: the first, last,
//! minimum and maximum point of each of `columns` equal step ranges. A list
//! is bounded by the 16 MiB document, so sampling it here is cheap; series
//! stored outside the document are sampled by the library
//! (`Experiment::series_sampled`).

use std::ops::RangeInclusive;

/// Points of a chart: steps and their values, in step order.
#[derive(Debug, Default, PartialEq)]
pub struct Points {
    /// The steps (the list index for a pushed list).
    pub steps: Vec<i64>,
    /// The values; NaN is kept (a chart shows it as a gap).
    pub values: Vec<f64>,
}

/// The M4 sample of `values` (at steps 0, 1, …) within `steps`.
pub fn m4(values: &[f64], columns: usize, steps: Option<RangeInclusive<i64>>) -> Points {
    let last = values.len() as i64 - 1;
    let (from, to) = match steps {
        Some(range) => ((*range.start()).max(0), (*range.end()).min(last)),
        None => (0, last),
    };
    let mut points = Points::default();
    if from > to {
        return points;
    }
    let span = (to - from + 1) as u64;
    let columns = (columns.max(1) as u64).min(span);
    for column in 0..columns {
        // Column `c` holds steps [from + c*span/columns, from + (c+1)*span/columns).
        let start = from + (column * span / columns) as i64;
        let end = from + ((column + 1) * span / columns) as i64 - 1;
        if start > end {
            continue;
        }
        let mut picked = vec![start, end];
        let (mut min_at, mut max_at) = (None::<i64>, None::<i64>);
        for step in start..=end {
            let v = values[step as usize];
            if v.is_nan() {
                // A NaN anywhere in the column must reach the chart as a gap.
                picked.push(step);
                continue;
            }
            if min_at.is_none_or(|m| v < values[m as usize]) {
                min_at = Some(step);
            }
            if max_at.is_none_or(|m| v > values[m as usize]) {
                max_at = Some(step);
            }
        }
        picked.extend(min_at);
        picked.extend(max_at);
        picked.sort_unstable();
        picked.dedup();
        // At most one NaN per column is enough to flag the gap.
        let mut seen_nan = false;
        for step in picked {
            let v = values[step as usize];
            if v.is_nan() {
                if seen_nan {
                    continue;
                }
                seen_nan = true;
            }
            points.steps.push(step);
            points.values.push(v);
        }
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_extremes_and_ends() {
        let mut values: Vec<f64> = (0..1000).map(|i| i as f64 * 0.001).collect();
        values[517] = 50.0; // a spike random sampling would hide
        values[803] = -3.0;
        let p = m4(&values, 10, None);
        assert!(p.values.contains(&50.0) && p.values.contains(&-3.0));
        assert_eq!(p.steps.first(), Some(&0));
        assert_eq!(p.steps.last(), Some(&999));
        assert!(p.steps.len() <= 40, "{}", p.steps.len());
        assert!(p.steps.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn nan_reaches_the_chart_and_ranges_clip() {
        let mut values = vec![1.0; 100];
        values[40] = f64::NAN;
        let p = m4(&values, 5, Some(30..=49));
        assert_eq!(p.steps.first(), Some(&30));
        assert_eq!(p.steps.last(), Some(&49));
        assert!(p.values.iter().any(|v| v.is_nan()));
        assert_eq!(m4(&values, 5, Some(200..=300)), Points::default());
        assert_eq!(m4(&[], 5, None), Points::default());
        // Fewer points than columns: every point.
        assert_eq!(m4(&[1.0, 2.0, 3.0], 10, None).steps, [0, 1, 2]);
    }
}
