//! Window bounds: `window: {documents: [lo, hi]}` or `{range: [lo, hi]}`
//! (with a `unit` over dates: `{range: [-7, 0], unit: "day"}`), parsed
//! with the server's rules, and resolved to the span of documents each
//! position of a sorted partition sees.

use std::cmp::Ordering;
use std::ops::Range;

use bson::{Bson, Document};

use super::SortBy;
use crate::compare::compare;
use crate::expr::{add_numbers, add_to_date, type_name, Expr, Num, TimeUnit, Zone};
use crate::{QueryError, QueryResult};

/// One end of a window.
#[derive(Debug, Clone, Copy)]
pub(super) enum Bound<T> {
    /// The partition's first (as lower) or last (as upper) document.
    Unbounded,
    /// The current document.
    Current,
    /// An offset from the current document: a position for `documents`, a
    /// value added to the current `sortBy` value for `range`.
    Offset(T),
}

/// A window.
#[derive(Debug, Clone)]
pub(super) enum Window {
    /// Positions relative to the current document.
    Documents(Bound<i64>, Bound<i64>),
    /// `sortBy` values relative to the current document's: numbers added
    /// to a number, or (with a unit) whole units added to a date.
    Range(Bound<Num>, Bound<Num>, Option<TimeUnit>),
}

/// The default window: the whole partition.
pub(super) const WHOLE: Window = Window::Documents(Bound::Unbounded, Bound::Unbounded);

/// Parses a `window` argument; `sort` is the stage's `sortBy`, which bounded
/// windows need.
pub(super) fn parse(arg: &Bson, sort: Option<&SortBy>) -> QueryResult<Window> {
    let Bson::Document(spec) = arg else {
        return Err(QueryError::new("'window' field must be an object"));
    };
    let (documents, range, unit) = (spec.get("documents"), spec.get("range"), spec.get("unit"));
    if documents.is_some() && range.is_some() {
        // Sic: the server's message names 'unit' for 'range'.
        return Err(QueryError::new(
            "Window bounds can specify either 'documents' or 'unit', not both.",
        ));
    }
    if range.is_none() && unit.is_some() {
        return Err(QueryError::new(
            "Window bounds can only specify 'unit' with range-based bounds.",
        ));
    }
    match (documents, range) {
        (Some(bounds), _) => parse_documents(spec, bounds, sort),
        (None, Some(bounds)) => parse_range(spec, bounds, unit, sort),
        (None, None) if spec.is_empty() => Ok(WHOLE),
        (None, None) => Err(QueryError::new(
            "'window' field can only contain 'documents' as the only argument or 'range' with \
             an optional 'unit' field",
        )),
    }
}

/// Parses `documents: [lo, hi]`.
fn parse_documents(spec: &Document, bounds: &Bson, sort: Option<&SortBy>) -> QueryResult<Window> {
    if spec.len() != 1 {
        return Err(QueryError::new(
            "'window' field that specifies documents cannot have other fields",
        ));
    }
    let (lo, hi) = pair("documents", bounds)?;
    let integer = |value: Bson| -> QueryResult<i64> {
        let not_integer = || QueryError::new("Numeric document-based bounds must be an integer");
        let n = Num::of(&value).ok_or_else(not_integer)?;
        let x = n.to_f64();
        if x.fract() != 0.0 || !x.is_finite() {
            return Err(not_integer());
        }
        // Any offset beyond the partition behaves alike: saturate.
        Ok(match n {
            Num::Int(i) => i64::from(i),
            Num::Long(i) => i,
            _ => x as i64,
        })
    };
    let lower = map_bound(parse_bound(lo)?, integer)?;
    let upper = map_bound(parse_bound(hi)?, integer)?;
    check_forward(lower, upper, |a, b| a <= b, |v| Bson::Int64(*v))?;
    let window = Window::Documents(lower, upper);
    if !window.is_whole() && sort.is_none() {
        return Err(QueryError::new("Document-based bounds require a sortBy"));
    }
    Ok(window)
}

/// Parses `range: [lo, hi]`, and `unit` for time ranges.
fn parse_range(
    spec: &Document,
    bounds: &Bson,
    unit: Option<&Bson>,
    sort: Option<&SortBy>,
) -> QueryResult<Window> {
    match unit {
        Some(unit) => {
            if spec.len() != 2 {
                return Err(QueryError::new(
                    "'window' field that specifies unit cannot have other fields besides 'range'",
                ));
            }
            if !matches!(unit, Bson::String(_)) {
                return Err(QueryError::new("'unit' must be a string"));
            }
        }
        None if spec.len() != 1 => {
            return Err(QueryError::new(
                "'window' field that specifies range cannot have other fields besides 'unit'",
            ))
        }
        None => {}
    }
    let (lo, hi) = pair("range", bounds)?;
    let number = |value: Bson| {
        let n = Num::of(&value)
            .filter(|n| unit.is_none() || n.to_f64().fract() == 0.0)
            .ok_or_else(|| {
                QueryError::new(if unit.is_some() {
                    // Units are counted whole, as $dateAdd's amount.
                    "With 'unit', range-based bounds must be an integer"
                } else {
                    "Range-based bounds expression must be a number"
                })
            })?;
        Ok(n)
    };
    let lower = map_bound(parse_bound(lo)?, number)?;
    let upper = map_bound(parse_bound(hi)?, number)?;
    check_forward(
        lower,
        upper,
        |a, b| compare(&a.into_bson(), &b.into_bson()) != Ordering::Greater,
        |v| v.into_bson(),
    )?;
    let unit = unit
        .map(|unit| TimeUnit::parse("$setWindowFields", unit))
        .transpose()?;
    match sort.map(SortBy::fields) {
        Some([(_, descending)]) => {
            if *descending {
                return Err(QueryError::new(
                    "Range-based bounds require an ascending sortBy",
                ));
            }
        }
        _ => {
            return Err(QueryError::new(
                "Range-based bounds require sortBy a single field",
            ))
        }
    }
    Ok(Window::Range(lower, upper, unit))
}

/// The two elements of a bounds array.
fn pair<'a>(kind: &str, bounds: &'a Bson) -> QueryResult<(&'a Bson, &'a Bson)> {
    match bounds {
        Bson::Array(items) if items.len() == 2 => Ok((&items[0], &items[1])),
        other => Err(QueryError::new(format!(
            "Window bounds must be a 2-element array: {kind}: {other}"
        ))),
    }
}

/// Parses one bound: `"unbounded"`, `"current"`, or a constant (which the
/// window kind then checks).
fn parse_bound(value: &Bson) -> QueryResult<Bound<Bson>> {
    match value {
        Bson::String(s) if s == "unbounded" => Ok(Bound::Unbounded),
        Bson::String(s) if s == "current" => Ok(Bound::Current),
        Bson::String(_) => Err(QueryError::new(
            "Window bounds must be 'unbounded', 'current', or a number.",
        )),
        other => {
            // A constant expression is allowed ({$add: [1, 1]}); a field
            // path evaluates to missing against no document.
            let constant = Expr::parse(other)?
                .evaluate(&Document::new())?
                .ok_or_else(|| QueryError::new("Window bounds expression must be a constant."))?;
            Ok(Bound::Offset(constant))
        }
    }
}

/// Converts a bound's offset.
fn map_bound<T>(bound: Bound<Bson>, f: impl Fn(Bson) -> QueryResult<T>) -> QueryResult<Bound<T>> {
    Ok(match bound {
        Bound::Unbounded => Bound::Unbounded,
        Bound::Current => Bound::Current,
        Bound::Offset(n) => Bound::Offset(f(n)?),
    })
}

/// Refuses `lower > upper` when both are offsets (`current` counting as 0).
fn check_forward<T: Copy + Zero>(
    lower: Bound<T>,
    upper: Bound<T>,
    less_or_equal: impl Fn(&T, &T) -> bool,
    show: impl Fn(&T) -> Bson,
) -> QueryResult<()> {
    let as_offset = |b: Bound<T>| match b {
        Bound::Current => Some(T::zero()),
        Bound::Offset(v) => Some(v),
        Bound::Unbounded => None,
    };
    if let (Some(lo), Some(hi)) = (as_offset(lower), as_offset(upper)) {
        if !less_or_equal(&lo, &hi) {
            return Err(QueryError::new(format!(
                "Lower bound must not exceed upper bound: [{}, {}]",
                show(&lo),
                show(&hi)
            )));
        }
    }
    Ok(())
}

/// The zero offset, which `current` stands for in the bounds check.
trait Zero {
    /// Zero.
    fn zero() -> Self;
}

impl Zero for i64 {
    fn zero() -> i64 {
        0
    }
}

impl Zero for Num {
    fn zero() -> Num {
        Num::Int(0)
    }
}

impl Window {
    /// Whether the window is the whole partition.
    pub(super) fn is_whole(&self) -> bool {
        matches!(self, Window::Documents(Bound::Unbounded, Bound::Unbounded))
    }

    /// The span of positions each position of an `n`-document partition
    /// sees. Range windows read `sort_values`, the documents' `sortBy`
    /// values (ascending), which must all be numbers, or all dates with a
    /// unit; documents windows never ask for them.
    pub(super) fn spans(
        &self,
        n: usize,
        sort_values: &dyn Fn() -> QueryResult<Vec<Option<Bson>>>,
    ) -> QueryResult<Vec<Range<usize>>> {
        match self {
            Window::Documents(lower, upper) => Ok((0..n)
                .map(|i| document_span(i, n, *lower, *upper))
                .collect()),
            Window::Range(lower, upper, unit) => {
                range_spans(&sort_values()?, *lower, *upper, *unit)
            }
        }
    }
}

/// The span of a documents window at position `i`.
fn document_span(i: usize, n: usize, lower: Bound<i64>, upper: Bound<i64>) -> Range<usize> {
    // Positions fit in i64; offsets saturate, then clamp to the partition.
    let at = |offset: i64| -> usize {
        let position = (i as i64).saturating_add(offset);
        usize::try_from(position.max(0)).map_or(n, |p| p.min(n))
    };
    let start = match lower {
        Bound::Unbounded => 0,
        Bound::Current => i,
        Bound::Offset(k) => at(k),
    };
    let end = match upper {
        Bound::Unbounded => n,
        Bound::Current => i + 1,
        // One past the last position, which is at most n - 1.
        Bound::Offset(k) => at(k.saturating_add(1)),
    };
    start..end.max(start)
}

/// The spans of a range window over ascending `values`: numbers, or
/// dates when the window has a unit.
fn range_spans(
    values: &[Option<Bson>],
    lower: Bound<Num>,
    upper: Bound<Num>,
    unit: Option<TimeUnit>,
) -> QueryResult<Vec<Range<usize>>> {
    let expected = if unit.is_some() { "a Date" } else { "a number" };
    let numbers = values
        .iter()
        .map(|v| {
            let key = match (v, unit) {
                (Some(Bson::DateTime(d)), Some(_)) => Some(Bson::DateTime(*d)),
                (Some(v), None) => Num::of(v).map(Num::into_bson),
                _ => None,
            };
            key.ok_or_else(|| {
                QueryError::new(format!(
                    "Invalid range: Expected the sortBy field to be {expected}, but it was {}",
                    type_name(v.as_ref())
                ))
            })
        })
        .collect::<QueryResult<Vec<Bson>>>()?;
    let n = numbers.len();
    let threshold = |base: &Bson, offset: Num| -> QueryResult<Bson> {
        match (base, unit) {
            (Bson::DateTime(d), Some(unit)) => {
                let amount = match offset {
                    Num::Int(i) => i64::from(i),
                    Num::Long(i) => i,
                    // Checked integral when parsed; saturates like any
                    // amount too large for a date.
                    other => other.to_f64() as i64,
                };
                let ms = add_to_date(d.timestamp_millis(), unit, amount, &Zone::Utc)?;
                // Past the dates BSON holds: every date is on one side.
                let clamped = i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX });
                Ok(Bson::DateTime(bson::DateTime::from_millis(clamped)))
            }
            _ => {
                let base = Num::of(base).unwrap_or(Num::Int(0));
                Ok(add_numbers(base, offset)?.into_bson())
            }
        }
    };
    numbers
        .iter()
        .enumerate()
        .map(|(i, base)| {
            // "current" is the current document itself, not its value.
            let start = match lower {
                Bound::Unbounded => 0,
                Bound::Current => i,
                Bound::Offset(d) => {
                    let t = threshold(base, d)?;
                    numbers.partition_point(|v| compare(v, &t) == Ordering::Less)
                }
            };
            let end = match upper {
                Bound::Unbounded => n,
                Bound::Current => i + 1,
                Bound::Offset(d) => {
                    let t = threshold(base, d)?;
                    numbers.partition_point(|v| compare(v, &t) != Ordering::Greater)
                }
            };
            Ok(start..end.max(start))
        })
        .collect()
}
