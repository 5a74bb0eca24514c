//! `$bucketAuto`: documents sorted by a key and cut into a given number
//! of buckets of about equal size, each `{_id: {min, max}, <output>}`.
//!
//! The cutting follows the server: each bucket takes
//! `round(documents / buckets)` documents (at least one), then every
//! following document with the same key (so equal keys never straddle a
//! boundary), and its `max` is the next bucket's first key; the last bucket
//! takes everything left. With a `granularity`, boundaries are rounded to
//! the series instead (see [`super::granularity`]).

use std::cmp::Ordering;

use bson::{doc, Bson, Document};

use super::accumulators::Accumulator;
use super::bucket::is_group_by_expression;
use super::granularity::{self, Granularity};
use super::group::{self, Field};
use super::{blocking, Docs, Env, ParseCtx, Stage};
use crate::compare::{compare, equal};
use crate::expr::{type_name, Expr, Num};
use crate::{QueryError, QueryResult};

/// `$bucketAuto`.
#[derive(Debug)]
struct BucketAuto {
    /// The key documents are sorted and cut by.
    group_by: Expr,
    /// How many buckets at most (positive).
    buckets: u32,
    /// The series boundaries are rounded to, if any.
    granularity: Option<Granularity>,
    /// The accumulated output fields.
    fields: Vec<Field>,
}

/// A bucket being filled.
struct Open {
    /// The lower boundary.
    min: Bson,
    /// The key of the last document added, then the upper boundary.
    max: Bson,
    /// One accumulator state per output field.
    states: Vec<Box<dyn Accumulator>>,
}

impl Stage for BucketAuto {
    fn apply<'a>(&'a self, input: Docs<'a>, env: &'a Env) -> Docs<'a> {
        blocking(input, move |input| self.run(input, env))
    }
}

impl BucketAuto {
    /// Sorts the input by key and cuts it into buckets.
    fn run(&self, input: Docs<'_>, env: &Env) -> QueryResult<Vec<Document>> {
        let mut entries = Vec::new();
        for doc in input {
            let doc = doc?;
            let key = self.key(&doc, env)?;
            entries.push((key, doc));
        }
        // Stable, so documents with equal keys stay in input order.
        entries.sort_by(|a, b| compare(&a.0, &b.0));
        let per_bucket = ((entries.len() as f64) / f64::from(self.buckets))
            .round()
            .max(1.0) as usize;
        let mut sorted = entries.into_iter().peekable();
        let mut out = Vec::new();
        let mut previous_max: Option<Bson> = None;
        for number in 1..=self.buckets {
            let Some((key, doc)) = sorted.next() else {
                break;
            };
            let min = match (self.granularity, previous_max.take()) {
                (Some(_), Some(max)) => max,
                (Some(g), None) => g.round_down(&key)?,
                (None, _) => key.clone(),
            };
            let mut bucket = Open {
                min,
                max: Bson::Null,
                states: group::start(&self.fields, env)?,
            };
            self.add(&mut bucket, key, &doc, env)?;
            let last = number == self.buckets;
            let mut taken = 1;
            while taken < per_bucket || last {
                let Some((key, doc)) = sorted.next() else {
                    break;
                };
                self.add(&mut bucket, key, &doc, env)?;
                taken += 1;
            }
            self.close(&mut bucket, &mut sorted, env)?;
            previous_max = Some(bucket.max.clone());
            let mut result = doc! {"_id": {"min": bucket.min, "max": bucket.max}};
            group::finish(&self.fields, &mut bucket.states, &mut result)?;
            out.push(result);
        }
        Ok(out)
    }

    /// The sort key of a document: a missing value is null, as in
    /// `$group`; with a granularity it must be a non-negative number.
    fn key(&self, doc: &Document, env: &Env) -> QueryResult<Bson> {
        let value = self.group_by.eval(&env.ctx(doc))?.map(|v| v.into_owned());
        if self.granularity.is_some() {
            let number = value.as_ref().and_then(Num::of).ok_or_else(|| {
                QueryError::new(format!(
                    "$bucketAuto can specify a 'granularity' with numeric boundaries only, but \
                     found a value with type: {}",
                    type_name(value.as_ref())
                ))
            })?;
            let number = number.to_f64();
            if number.is_nan() {
                return Err(QueryError::new(
                    "$bucketAuto can specify a 'granularity' with numeric boundaries only, but \
                     found a NaN",
                ));
            }
            if number < 0.0 {
                return Err(QueryError::new(
                    "$bucketAuto can specify a 'granularity' with non-negative numbers only, but \
                     found a negative number",
                ));
            }
        }
        Ok(value.unwrap_or(Bson::Null))
    }

    /// Adds one document to a bucket.
    fn add(&self, bucket: &mut Open, key: Bson, doc: &Document, env: &Env) -> QueryResult<()> {
        bucket.max = key;
        group::accumulate(&self.fields, &mut bucket.states, &env.ctx(doc))
    }

    /// Sets a full bucket's upper boundary, first taking in the following
    /// documents that belong with it: those with its last key, and with a
    /// granularity those below its rounded-up boundary.
    fn close(
        &self,
        bucket: &mut Open,
        sorted: &mut std::iter::Peekable<impl Iterator<Item = (Bson, Document)>>,
        env: &Env,
    ) -> QueryResult<()> {
        match self.granularity {
            Some(g) => {
                let boundary = g.round_up(&bucket.max)?;
                // Keys below the rounded boundary, and keys equal to the
                // last one (a boundary of zero rounds to itself).
                while let Some((key, doc)) = sorted.next_if(|(key, _)| {
                    compare(&boundary, key) == Ordering::Greater || equal(key, &bucket.max)
                }) {
                    self.add(bucket, key, &doc, env)?;
                }
                // A boundary of zero (all keys zero) would make this bucket
                // empty-ended: the next key rounded down closes it instead.
                let zero = Num::of(&boundary).is_some_and(|n| n.to_f64() == 0.0);
                bucket.max = match sorted.peek() {
                    Some((next, _)) if zero => g.round_down(next)?,
                    _ => boundary,
                };
            }
            None => {
                while let Some((key, doc)) = sorted.next_if(|(key, _)| equal(key, &bucket.max)) {
                    self.add(bucket, key, &doc, env)?;
                }
                if let Some((next, _)) = sorted.peek() {
                    bucket.max = next.clone();
                }
            }
        }
        Ok(())
    }
}

/// Reads `buckets`: a number representable as a 32-bit integer, positive.
fn parse_buckets(value: &Bson) -> QueryResult<u32> {
    let num = Num::of(value).ok_or_else(|| {
        QueryError::new(format!(
            "The $bucketAuto 'buckets' field must be a numeric value, but found type: {}",
            type_name(Some(value))
        ))
    })?;
    let number = num.to_f64();
    let integral = match num {
        Num::Int(i) => Some(i),
        Num::Long(i) => i32::try_from(i).ok(),
        Num::Double(_) | Num::Decimal(_) => (number.fract() == 0.0
            && number >= f64::from(i32::MIN)
            && number <= f64::from(i32::MAX))
        .then_some(number as i32),
    };
    let n = integral.ok_or_else(|| {
        QueryError::new(format!(
            "The $bucketAuto 'buckets' field must be representable as a 32-bit integer, but \
             found {number}"
        ))
    })?;
    u32::try_from(n).ok().filter(|n| *n > 0).ok_or_else(|| {
        QueryError::new(format!(
            "The $bucketAuto 'buckets' field must be greater than 0, but found: {n}"
        ))
    })
}

/// Parses `$bucketAuto`.
pub(super) fn parse_bucket_auto(arg: &Bson, ctx: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    let Bson::Document(spec) = arg else {
        return Err(QueryError::new(format!(
            "The argument to $bucketAuto must be an object, but found type: {}",
            type_name(Some(arg))
        )));
    };
    let mut group_by = None;
    let mut buckets = None;
    let mut granularity = None;
    let mut output: Option<&Document> = None;
    for (key, value) in spec {
        match key.as_str() {
            "groupBy" => {
                if !is_group_by_expression(value) {
                    return Err(QueryError::new(format!(
                        "The $bucketAuto 'groupBy' field must be defined as a $-prefixed path or \
                         an expression object, but found: {value}"
                    )));
                }
                group_by = Some(ctx.expr(value)?);
            }
            "buckets" => buckets = Some(parse_buckets(value)?),
            "output" => match value {
                Bson::Document(d) => output = Some(d),
                other => {
                    return Err(QueryError::new(format!(
                        "The $bucketAuto 'output' field must be an object, but found type: {}",
                        type_name(Some(other))
                    )))
                }
            },
            "granularity" => match value {
                Bson::String(name) => granularity = Some(granularity::lookup(name)?),
                other => {
                    return Err(QueryError::new(format!(
                        "The $bucketAuto 'granularity' field must be a string, but found type: {}",
                        type_name(Some(other))
                    )))
                }
            },
            _ => {
                return Err(QueryError::new(format!(
                    "Unrecognized option to $bucketAuto: {key}"
                )))
            }
        }
    }
    let (Some(group_by), Some(buckets)) = (group_by, buckets) else {
        return Err(QueryError::new(
            "$bucketAuto requires 'groupBy' and 'buckets' to be specified",
        ));
    };
    Ok(Box::new(BucketAuto {
        group_by,
        buckets,
        granularity,
        fields: group::parse_output(output, ctx)?,
    }))
}
