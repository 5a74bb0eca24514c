//! The operators that replace a single value: `$set`, `$setOnInsert`,
//! `$inc`, `$mul`, `$min`, `$max` and `$currentDate`.

use std::cmp::Ordering;

use bson::{Bson, DateTime, Document, Timestamp};

use super::display;
use crate::compare::{compare, Number};
use crate::{QueryError, QueryResult};

/// `$inc` or `$mul`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arith {
    /// `$inc`: addition.
    Add,
    /// `$mul`: multiplication.
    Mul,
}

impl Arith {
    /// The operator's name, for messages.
    fn operator(self) -> &'static str {
        match self {
            Arith::Add => "$inc",
            Arith::Mul => "$mul",
        }
    }

    /// Validates the operand of `$inc` / `$mul` at parse time.
    pub(crate) fn parse_operand(self, field: &str, operand: &Bson) -> QueryResult<Bson> {
        if Number::of(operand).is_some() {
            return Ok(operand.clone());
        }
        let verb = match self {
            Arith::Add => "increment",
            Arith::Mul => "multiply",
        };
        Err(QueryError::new(format!(
            "Cannot {verb} with non-numeric argument: {}",
            display::element(field, operand)
        )))
    }

    /// `old <op> operand` with the server's type rules: int32 results that
    /// overflow widen to int64, int64 overflow is an error (`None`), and any
    /// double makes the result a double.
    fn combine(self, old: &Bson, operand: &Bson) -> Result<Bson, ArithFailure> {
        if matches!(old, Bson::Decimal128(_)) || matches!(operand, Bson::Decimal128(_)) {
            return Err(ArithFailure::Decimal);
        }
        let (Some(x), Some(y)) = (Number::of(old), Number::of(operand)) else {
            return Err(ArithFailure::NotNumeric);
        };
        match (x, y) {
            (Number::Int(a), Number::Int(b)) => {
                let result = match self {
                    Arith::Add => a.checked_add(b),
                    Arith::Mul => a.checked_mul(b),
                }
                .ok_or(ArithFailure::Overflow)?;
                let both_int32 = matches!(old, Bson::Int32(_)) && matches!(operand, Bson::Int32(_));
                Ok(match i32::try_from(result) {
                    Ok(small) if both_int32 => Bson::Int32(small),
                    _ => Bson::Int64(result),
                })
            }
            _ => Ok(Bson::Double(match self {
                Arith::Add => x.as_f64() + y.as_f64(),
                Arith::Mul => x.as_f64() * y.as_f64(),
            })),
        }
    }

    /// The result for an existing value, `None` if it cannot be computed
    /// (which [`Arith::apply_to`] has already reported).
    pub(crate) fn result(self, old: &Bson, operand: &Bson) -> Option<Bson> {
        self.combine(old, operand).ok()
    }

    /// The result for an existing value, or the server's error.
    pub(crate) fn apply_to(
        self,
        old: &Bson,
        operand: &Bson,
        field: &str,
        doc: &Document,
    ) -> QueryResult<Bson> {
        self.combine(old, operand).map_err(|failure| match failure {
            ArithFailure::NotNumeric => QueryError::new(format!(
                "Cannot apply {} to a value of non-numeric type. {{{}}} has the field '{field}' of non-numeric type {}",
                self.operator(),
                display::id_of(doc),
                display::type_name(old)
            )),
            ArithFailure::Overflow => {
                let current = match old {
                    Bson::Int64(i) => format!("(NumberLong){i}"),
                    other => display::value(other),
                };
                QueryError::new(format!(
                    "Failed to apply {} operations to current value ({current}) for document {{{}}}",
                    self.operator(),
                    display::id_of(doc)
                ))
            }
            ArithFailure::Decimal => self.decimal_unsupported(),
        })
    }

    /// The value a missing field gets: the operand for `$inc`, and for
    /// `$mul` the operand times int32 zero (so 0 of the operand's type).
    pub(crate) fn value_for_missing(self, operand: &Bson) -> QueryResult<Bson> {
        match self {
            Arith::Add => Ok(operand.clone()),
            Arith::Mul => self
                .combine(operand, &Bson::Int32(0))
                .map_err(|_| self.decimal_unsupported()),
        }
    }

    /// We have no decimal128 arithmetic: refuse it by name.
    fn decimal_unsupported(self) -> QueryError {
        QueryError::new(format!(
            "{} on decimal128 values is not supported by the embedded query engine",
            self.operator()
        ))
    }
}

/// Why `$inc` / `$mul` could not combine two values.
enum ArithFailure {
    /// The existing value is not a number.
    NotNumeric,
    /// The int64 result overflowed.
    Overflow,
    /// A decimal128 is involved.
    Decimal,
}

/// `$min` keeps the smaller value, `$max` the larger, in MongoDB's order.
pub(crate) fn replaces(keep: Ordering, candidate: &Bson, old: &Bson) -> bool {
    compare(candidate, old) == keep
}

/// The type `$currentDate` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateKind {
    /// A BSON date.
    Date,
    /// A BSON timestamp.
    Timestamp,
}

impl DateKind {
    /// Parses the operand of `$currentDate`: a boolean (either value means
    /// a date, as on the server) or `{$type: "date" | "timestamp"}`.
    pub(crate) fn parse(operand: &Bson) -> QueryResult<DateKind> {
        let type_required = || {
            QueryError::new(
                "The '$type' string field is required to be 'date' or 'timestamp': \
                 {$currentDate: {field : {$type: 'date'}}}",
            )
        };
        match operand {
            Bson::Boolean(_) => Ok(DateKind::Date),
            Bson::Document(spec) => {
                if let Some(key) = spec.keys().find(|k| k.as_str() != "$type") {
                    return Err(QueryError::new(format!(
                        "Unrecognized $currentDate option: {key}"
                    )));
                }
                match spec.get("$type") {
                    Some(Bson::String(s)) if s == "date" => Ok(DateKind::Date),
                    Some(Bson::String(s)) if s == "timestamp" => Ok(DateKind::Timestamp),
                    _ => Err(type_required()),
                }
            }
            other => Err(QueryError::new(format!(
                "{} is not valid type for $currentDate. Please use a boolean ('true') or a $type \
                 expression ({{$type: 'timestamp/date'}}).",
                display::type_name(other)
            ))),
        }
    }

    /// The value written at `now`. Timestamps take the whole seconds with
    /// increment 0, as the reference server writes them.
    pub(crate) fn value(self, now: DateTime) -> Bson {
        match self {
            DateKind::Date => Bson::DateTime(now),
            DateKind::Timestamp => {
                let seconds = now.timestamp_millis().div_euclid(1000);
                Bson::Timestamp(Timestamp {
                    time: u32::try_from(seconds.max(0)).unwrap_or(u32::MAX),
                    increment: 0,
                })
            }
        }
    }
}
