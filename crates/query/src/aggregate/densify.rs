//! `$densify`: documents added so that a numeric or date field takes every
//! value of a range, step by step, in each partition.
//!
//! As the server does (`document_source_densify.cpp`), the stage sorts by
//! the partition fields and then the field, and walks each partition with
//! a cursor that starts at the range's lower end and advances by `step`
//! (repeated addition, calendar arithmetic with a `unit`): before each
//! document, every cursor value below the document's is generated; a
//! document on the cursor moves it one step on. Generated documents hold
//! only the field and the partition fields. Documents whose field is null
//! or missing pass through. The range is
//! - `"full"`: from the smallest value of the field in the whole input to
//!   the largest, both included, in every partition;
//! - `"partition"`: each partition's own smallest to largest;
//! - `[lower, upper]`: lower included, upper excluded; documents outside it
//!   are kept as they are.

use std::borrow::Cow;

use bson::{Bson, DateTime, Document};

use super::fill::field_list;
use super::partition::partitions;
use super::{blocking, set_path, Docs, Env, ParseCtx, Stage};
use crate::compare::compare;
use crate::expr::{
    add_numbers, add_to_date, path_segments, type_name, Ctx, Expr, Num, TimeUnit, Zone,
};
use crate::sort::SortSpec;
use crate::{QueryError, QueryResult};

/// At most this many generated documents per stage, as the server's
/// `internalQueryMaxAllowedDensifyDocs` (default 500,000), so a tiny step
/// cannot exhaust memory.
const MAX_GENERATED: usize = 500_000;

/// Which range each partition is filled over.
#[derive(Debug)]
enum Bounds {
    /// The whole input's smallest to largest value.
    Full,
    /// Each partition's smallest to largest value.
    Partition,
    /// `[lower, upper)` (boxed: two `Bson`s are large, the stage is parsed once).
    Explicit(Box<(Bson, Bson)>),
}

/// The step between values: a positive number, or a whole number of
/// calendar units for dates.
#[derive(Debug)]
enum Step {
    /// Numbers.
    Number(Num),
    /// Dates.
    Date(i64, TimeUnit),
}

/// `$densify`.
#[derive(Debug)]
struct Densify {
    /// The field's path.
    path: Vec<String>,
    /// `"$<field>"`.
    value: Expr,
    /// The partition fields: their paths and `"$<field>"`s.
    partition_fields: Vec<(Vec<String>, Expr)>,
    /// The sort by the partition fields, then the field.
    sort: SortSpec,
    /// The step.
    step: Step,
    /// The range.
    bounds: Bounds,
}

impl Stage for Densify {
    fn apply<'a>(&'a self, input: Docs<'a>, _: &'a Env) -> Docs<'a> {
        blocking(input, move |input| self.run(input))
    }
}

impl Densify {
    /// The field's value in a document, checked against the step's kind
    /// (`None` for null and missing).
    fn value_of(&self, doc: &Document) -> QueryResult<Option<Bson>> {
        let value = self.value.eval(&Ctx::new(doc))?.map(Cow::into_owned);
        match (&value, &self.step) {
            (None | Some(Bson::Null | Bson::Undefined), _) => Ok(None),
            (Some(Bson::DateTime(_)), Step::Date(..)) => Ok(value),
            (Some(v), Step::Number(_)) if Num::of(v).is_some() => Ok(value),
            (Some(v), Step::Number(_)) => Err(QueryError::new(format!(
                "Densify field type must be numeric, found {}",
                type_name(Some(v))
            ))),
            (Some(v), Step::Date(..)) => Err(QueryError::new(format!(
                "Densify field type must be a date when 'unit' is given, found {}",
                type_name(Some(v))
            ))),
        }
    }

    /// The value one step after `current`.
    fn next(&self, current: &Bson) -> QueryResult<Bson> {
        match (&self.step, current) {
            (Step::Number(step), value) => {
                let n = Num::of(value).unwrap_or(Num::Int(0));
                Ok(add_numbers(n, *step)?.into_bson())
            }
            (Step::Date(amount, unit), Bson::DateTime(d)) => {
                let ms = add_to_date(d.timestamp_millis(), *unit, *amount, &Zone::Utc)?;
                let ms = i64::try_from(ms)
                    .map_err(|_| QueryError::new("$densify: a date step overflows"))?;
                Ok(Bson::DateTime(DateTime::from_millis(ms)))
            }
            (Step::Date(..), other) => Err(QueryError::new(format!(
                "Densify field type must be a date when 'unit' is given, found {}",
                type_name(Some(other))
            ))),
        }
    }

    /// A generated document: the partition's fields and the value.
    fn generated(&self, key: &[(usize, Bson)], value: Bson) -> Document {
        let mut doc = Document::new();
        for (i, v) in key {
            if let Some((path, _)) = self.partition_fields.get(*i) {
                set_path(&mut doc, path, v.clone());
            }
        }
        set_path(&mut doc, &self.path, value);
        doc
    }

    /// Sorts, partitions and fills.
    fn run(&self, input: Docs<'_>) -> QueryResult<Vec<Document>> {
        let mut parts = partitions(input, |doc| {
            let mut key = Document::new();
            for (i, (_, expr)) in self.partition_fields.iter().enumerate() {
                if let Some(v) = expr.eval(&Ctx::new(doc))? {
                    key.insert(i.to_string(), v.into_owned());
                }
            }
            Ok(Bson::Document(key))
        })?;
        // The whole input's range, for "full".
        let mut lowest: Option<Bson> = None;
        let mut highest: Option<Bson> = None;
        for docs in &mut parts {
            docs.sort_by(|a, b| self.sort.compare(a, b));
            for doc in docs.iter() {
                if let Some(v) = self.value_of(doc)? {
                    if lowest.as_ref().is_none_or(|l| compare(&v, l).is_lt()) {
                        lowest = Some(v.clone());
                    }
                    if highest.as_ref().is_none_or(|h| compare(&v, h).is_gt()) {
                        highest = Some(v);
                    }
                }
            }
        }
        let mut out = Vec::new();
        let mut generated = 0usize;
        for docs in parts {
            let key: Vec<(usize, Bson)> = match docs.first() {
                Some(first) => self
                    .partition_fields
                    .iter()
                    .enumerate()
                    .filter_map(|(i, (_, expr))| {
                        expr.eval(&Ctx::new(first))
                            .map(|v| v.map(|v| (i, v.into_owned())))
                            .transpose()
                    })
                    .collect::<QueryResult<_>>()?,
                None => Vec::new(),
            };
            let values = docs
                .iter()
                .map(|doc| self.value_of(doc))
                .collect::<QueryResult<Vec<_>>>()?;
            // [start, end], end included or not.
            let range = match &self.bounds {
                Bounds::Full => lowest.clone().zip(highest.clone()).map(|r| (r, true)),
                Bounds::Partition => {
                    let known: Vec<&Bson> = values.iter().flatten().collect();
                    known
                        .first()
                        .zip(known.last())
                        .map(|(l, h)| (((*l).clone(), (*h).clone()), true))
                }
                Bounds::Explicit(range) => Some(((**range).clone(), false)),
            };
            let Some(((mut cursor, end), end_included)) = range else {
                out.extend(docs);
                continue;
            };
            let below_end = |v: &Bson| {
                let order = compare(v, &end);
                order.is_lt() || (end_included && order.is_eq())
            };
            let mut emit = |value: Bson, out: &mut Vec<Document>| -> QueryResult<()> {
                generated += 1;
                if generated > MAX_GENERATED {
                    return Err(QueryError::new(format!(
                        "Generated {MAX_GENERATED} documents in $densify, which is over the \
                         limit of {MAX_GENERATED}. Increase the \
                         'internalQueryMaxAllowedDensifyDocs' parameter to allow more generated \
                         documents"
                    )));
                }
                out.push(self.generated(&key, value));
                Ok(())
            };
            for (doc, value) in docs.into_iter().zip(values) {
                if let Some(v) = value {
                    while compare(&cursor, &v).is_lt() && below_end(&cursor) {
                        emit(cursor.clone(), &mut out)?;
                        cursor = self.next(&cursor)?;
                    }
                    if compare(&cursor, &v).is_eq() {
                        cursor = self.next(&cursor)?;
                    }
                }
                out.push(doc);
            }
            while below_end(&cursor) {
                emit(cursor.clone(), &mut out)?;
                cursor = self.next(&cursor)?;
            }
        }
        Ok(out)
    }
}

/// Parses `$densify`.
pub(super) fn parse_densify(arg: &Bson, ctx: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    let Bson::Document(spec) = arg else {
        return Err(QueryError::new(format!(
            "The $densify stage specification must be an object, found {}",
            type_name(Some(arg))
        )));
    };
    let (mut field, mut partition_fields, mut range) = (None, Vec::new(), None);
    for (name, value) in spec {
        match (name.as_str(), value) {
            ("field", Bson::String(f)) => field = Some(f.clone()),
            ("partitionByFields", v) => partition_fields = field_list(v)?,
            ("range", Bson::Document(r)) => range = Some(r),
            ("field" | "range", other) => {
                return Err(QueryError::new(format!(
                    "BSON field '$densify.{name}' is the wrong type '{}'",
                    type_name(Some(other))
                )))
            }
            (other, _) => {
                return Err(QueryError::new(format!(
                    "BSON field '$densify.{other}' is an unknown field."
                )))
            }
        }
    }
    let field = field.ok_or_else(|| {
        QueryError::new("BSON field '$densify.field' is missing but a required field")
    })?;
    let range = range.ok_or_else(|| {
        QueryError::new("BSON field '$densify.range' is missing but a required field")
    })?;
    let path = path_segments(&field)?;
    // The server compares the names as strings (`starts_with`), not paths.
    for p in &partition_fields {
        if p.starts_with(field.as_str()) {
            return Err(QueryError::new(format!(
                "partitionByFields '{p}' cannot include field '{field}' that is being densified."
            )));
        }
        if field.starts_with(p.as_str()) {
            return Err(QueryError::new(format!(
                "field '{field}' that is being densified cannot include partitionByFields '{p}'."
            )));
        }
    }
    let (step, bounds) = parse_range(range, !partition_fields.is_empty())?;
    let mut sort = Document::new();
    for p in &partition_fields {
        sort.insert(p.clone(), 1);
    }
    sort.insert(field.clone(), 1);
    Ok(Box::new(Densify {
        value: ctx.expr(&Bson::String(format!("${field}")))?,
        path,
        partition_fields: partition_fields
            .iter()
            .map(|p| Ok((path_segments(p)?, ctx.expr(&Bson::String(format!("${p}")))?)))
            .collect::<QueryResult<_>>()?,
        sort: SortSpec::parse(&sort)?,
        step,
        bounds,
    }))
}

/// Parses `range: {step, unit, bounds}`.
fn parse_range(range: &Document, partitioned: bool) -> QueryResult<(Step, Bounds)> {
    let (mut step, mut unit, mut bounds) = (None, None, None);
    for (name, value) in range {
        match name.as_str() {
            "step" => step = Some(value),
            "unit" => unit = Some(TimeUnit::parse("$densify", value)?),
            "bounds" => bounds = Some(value),
            other => {
                return Err(QueryError::new(format!(
                    "BSON field '$densify.range.{other}' is an unknown field."
                )))
            }
        }
    }
    let step = step.ok_or_else(|| {
        QueryError::new("BSON field '$densify.range.step' is missing but a required field")
    })?;
    let positive = Num::of(step).filter(|n| compare(&n.into_bson(), &Bson::Int32(0)).is_gt());
    let Some(number) = positive else {
        return Err(QueryError::new(
            "the step parameter in a range statement must be a strictly positive numeric value",
        ));
    };
    let step = match unit {
        None => Step::Number(number),
        Some(unit) => {
            let whole = match number {
                Num::Int(i) => Some(i64::from(i)),
                Num::Long(i) => Some(i),
                Num::Double(f) if f.fract() == 0.0 && f < 9.2e18 => Some(f as i64),
                Num::Double(_) => None,
                Num::Decimal(_) => number
                    .to_dec()
                    .ok()
                    .and_then(|d| d.is_integer().then(|| d.trunc_to_i64()).flatten()),
            };
            let amount = whole.ok_or_else(|| {
                QueryError::new(
                    "The step parameter in a range statement must be a whole number when \
                     densifying a date range",
                )
            })?;
            Step::Date(amount, unit)
        }
    };
    let bounds =
        match bounds {
            Some(Bson::String(s)) if s == "full" => Bounds::Full,
            Some(Bson::String(s)) if s == "partition" => {
                if !partitioned {
                    return Err(QueryError::new(
                        "One cannot specify the bounds as 'partition' without specifying a \
                     non-empty array of partitionByFields. You may have meant to specify 'full' \
                     bounds.",
                    ));
                }
                Bounds::Partition
            }
            Some(Bson::Array(items)) => parse_explicit(items, &step)?,
            Some(_) => return Err(QueryError::new(
                "the bounds in a range statement must be the string 'full', 'partition', or an \
                 ascending array of two numbers or two dates",
            )),
            None => {
                return Err(QueryError::new(
                    "BSON field '$densify.range.bounds' is missing but a required field",
                ))
            }
        };
    Ok((step, bounds))
}

/// `bounds: [lower, upper]`: two numbers (no unit) or two dates (a unit),
/// ascending.
fn parse_explicit(items: &[Bson], step: &Step) -> QueryResult<Bounds> {
    let bad = || {
        QueryError::new(
            "the bounds in a range statement must be the string 'full', 'partition', or an \
             ascending array of two numbers or two dates",
        )
    };
    let [lower, upper] = items else {
        return Err(bad());
    };
    let fits = |b: &Bson| match step {
        Step::Number(_) => Num::of(b).is_some(),
        Step::Date(..) => matches!(b, Bson::DateTime(_)),
    };
    if !fits(lower) || !fits(upper) {
        return Err(match step {
            Step::Number(_) => {
                QueryError::new("Explicit bounds must be numeric when no 'unit' is given")
            }
            Step::Date(..) => {
                QueryError::new("Explicit bounds must be dates when a 'unit' is given")
            }
        });
    }
    if compare(lower, upper).is_gt() {
        return Err(QueryError::new(
            "Lower bound must not be greater than upper bound",
        ));
    }
    Ok(Bounds::Explicit(Box::new((lower.clone(), upper.clone()))))
}
