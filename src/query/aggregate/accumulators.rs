//! `$group` accumulators, as a table of factories of accumulator states.

use std::collections::HashSet;

use bson::Bson;

use crate::query::compare::{compare, equality_key};
use crate::query::expr::{add_numbers, Num};
use crate::query::{QueryError, QueryResult};

/// The running state of one accumulator for one group.
pub(crate) trait Accumulator: std::fmt::Debug {
    /// Takes one document's value of the argument (`None` = missing).
    fn add(&mut self, value: Option<&bson::Bson>) -> QueryResult<()>;
    /// The group's result.
    fn finish(&mut self) -> QueryResult<Bson>;
}

/// Makes a fresh state for a new group.
pub(crate) type Factory = fn() -> Box<dyn Accumulator>;

/// How an accumulator's argument is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Argument {
    /// One expression (an array argument is refused: "unary operator").
    Unary,
    /// Only `{}` (`$count`).
    None,
}

/// Every accumulator: name, argument kind, factory.
pub(crate) static ACCUMULATORS: &[(&str, Argument, Factory)] = &[
    ("$sum", Argument::Unary, || Box::new(Sum::default())),
    ("$avg", Argument::Unary, || Box::new(Avg::default())),
    ("$min", Argument::Unary, || {
        Box::new(Extreme {
            value: None,
            keep: std::cmp::Ordering::Less,
        })
    }),
    ("$max", Argument::Unary, || {
        Box::new(Extreme {
            value: None,
            keep: std::cmp::Ordering::Greater,
        })
    }),
    ("$first", Argument::Unary, || Box::new(First(None))),
    ("$last", Argument::Unary, || Box::new(Last(Bson::Null))),
    ("$push", Argument::Unary, || Box::new(Push(Vec::new()))),
    ("$addToSet", Argument::Unary, || {
        Box::new(AddToSet::default())
    }),
    ("$count", Argument::None, || Box::new(Count(0))),
];

/// `$sum`: numbers only, widening int32 → int64 → double on overflow.
#[derive(Debug)]
struct Sum(Num);

impl Default for Sum {
    fn default() -> Self {
        Sum(Num::Int(0))
    }
}

impl Accumulator for Sum {
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()> {
        if let Some(n) = value.and_then(Num::of) {
            self.0 = add_numbers(self.0, n)?;
        }
        Ok(())
    }

    fn finish(&mut self) -> QueryResult<Bson> {
        Ok(self.0.into_bson())
    }
}

/// `$avg`: a double, or a decimal if any input was one; null without numbers.
#[derive(Debug, Default)]
struct Avg {
    /// The running sum of the numeric inputs.
    sum: Sum,
    /// How many numeric inputs there were.
    count: i64,
}

impl Accumulator for Avg {
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()> {
        if let Some(n) = value.and_then(Num::of) {
            self.sum.0 = add_numbers(self.sum.0, n)?;
            self.count += 1;
        }
        Ok(())
    }

    fn finish(&mut self) -> QueryResult<Bson> {
        if self.count == 0 {
            return Ok(Bson::Null);
        }
        match self.sum.0 {
            Num::Decimal(_) => {
                let q = self.sum.0.to_dec()?.div(Num::Long(self.count).to_dec()?)?;
                Ok(Bson::Decimal128(q.to_decimal128()?))
            }
            total => Ok(Bson::Double(total.to_f64() / self.count as f64)),
        }
    }
}

/// `$min` (`keep == Less`) and `$max` (`keep == Greater`), ignoring null and missing.
#[derive(Debug)]
struct Extreme {
    /// The best value so far.
    value: Option<Bson>,
    /// Which comparison result replaces the best value.
    keep: std::cmp::Ordering,
}

impl Accumulator for Extreme {
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()> {
        let Some(v) = value.filter(|v| !matches!(v, Bson::Null | Bson::Undefined)) else {
            return Ok(());
        };
        if self
            .value
            .as_ref()
            .is_none_or(|best| compare(v, best) == self.keep)
        {
            self.value = Some(v.clone());
        }
        Ok(())
    }

    fn finish(&mut self) -> QueryResult<Bson> {
        Ok(self.value.take().unwrap_or(Bson::Null))
    }
}

/// `$first`: the first document's value, null if it was missing.
#[derive(Debug)]
struct First(Option<Bson>);

impl Accumulator for First {
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()> {
        if self.0.is_none() {
            self.0 = Some(value.cloned().unwrap_or(Bson::Null));
        }
        Ok(())
    }

    fn finish(&mut self) -> QueryResult<Bson> {
        Ok(self.0.take().unwrap_or(Bson::Null))
    }
}

/// `$last`: the last document's value, null if it was missing.
#[derive(Debug)]
struct Last(Bson);

impl Accumulator for Last {
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()> {
        self.0 = value.cloned().unwrap_or(Bson::Null);
        Ok(())
    }

    fn finish(&mut self) -> QueryResult<Bson> {
        Ok(std::mem::replace(&mut self.0, Bson::Null))
    }
}

/// `$push`: every value, missing ones left out.
#[derive(Debug)]
struct Push(Vec<Bson>);

impl Accumulator for Push {
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()> {
        if let Some(v) = value {
            self.0.push(v.clone());
        }
        Ok(())
    }

    fn finish(&mut self) -> QueryResult<Bson> {
        Ok(Bson::Array(std::mem::take(&mut self.0)))
    }
}

/// `$addToSet`: distinct values (by MongoDB equality) in first-seen order.
#[derive(Debug, Default)]
struct AddToSet {
    /// Equality keys of the values kept.
    seen: HashSet<Vec<u8>>,
    /// The values kept, in first-seen order.
    values: Vec<Bson>,
}

impl Accumulator for AddToSet {
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()> {
        if let Some(v) = value {
            if self.seen.insert(equality_key(v)) {
                self.values.push(v.clone());
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> QueryResult<Bson> {
        Ok(Bson::Array(std::mem::take(&mut self.values)))
    }
}

/// `$count`: the number of documents, as an int32 while it fits.
#[derive(Debug)]
struct Count(i64);

impl Accumulator for Count {
    fn add(&mut self, _: Option<&Bson>) -> QueryResult<()> {
        self.0 = self.0.saturating_add(1);
        Ok(())
    }

    fn finish(&mut self) -> QueryResult<Bson> {
        Ok(i32::try_from(self.0).map_or(Bson::Int64(self.0), Bson::Int32))
    }
}

/// Finds an accumulator by name.
pub(crate) fn lookup(name: &str) -> QueryResult<(Argument, Factory)> {
    ACCUMULATORS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, arg, factory)| (*arg, *factory))
        .ok_or_else(|| QueryError::new(format!("Unrecognized expression '{name}'")))
}
