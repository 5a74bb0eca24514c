//! Sums as MongoDB computes them for `$sum` and `$avg` (the accumulators,
//! the expressions and the window functions alike).
//!
//! The server (`accumulator_sum.cpp`, `accumulator_avg.cpp`,
//! `util/summation.h`) keeps two totals: every int, long and double goes
//! into one double-double sum (a rounded sum plus the error it dropped,
//! which keeps long sums exact and double sums correctly rounded far more
//! often than adding doubles does), every decimal into a decimal total. The
//! result type is the widest input type; a decimal result adds the
//! double-double total, converted to a decimal once with up to 34 digits,
//! to the decimal total at the end. So `$sum` of `2L`, `Decimal128("1.5")`
//! and `0.5` is `Decimal128("4.0")`: 2.5 converts exactly, it is not
//! rounded to 15 digits as `$add` converts a double.

use bson::{Bson, Decimal128};

use super::arith::{add_numbers, Num};
use super::decimal::math::Outcome;
use super::decimal::Dec;
use crate::QueryResult;

/// The decimal128 0E0 (biased exponent 6176, coefficient 0).
fn decimal_zero() -> Decimal128 {
    Decimal128::from_bytes((6176u128 << 113).to_le_bytes())
}

/// An unevaluated sum of two doubles: `sum` is the nearest double to the
/// total, `addend` what it lacks (the server's `DoubleDoubleSummation`).
#[derive(Debug, Clone, Copy, Default)]
struct DoubleDouble {
    /// The total rounded to a double.
    sum: f64,
    /// The rounding error of `sum`.
    addend: f64,
    /// A plain sum, the answer once `sum` is NaN (an infinity plus an
    /// error term makes NaN where the plain sum is infinite).
    special: f64,
}

/// `a + b` as the rounded sum and its exact error, for `|b| <= |a|`
/// (Dekker's Fast2Sum).
fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// `a + b` as the rounded sum and its exact error (Knuth's 2Sum).
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let a_prime = s - b;
    let b_prime = s - a_prime;
    (s, (a - a_prime) + (b - b_prime))
}

impl DoubleDouble {
    /// Adds a double.
    fn add_double(&mut self, x: f64) {
        self.special += x;
        let (x, addend) = fast_two_sum(x, self.addend);
        self.addend = addend;
        let (sum, x) = two_sum(self.sum, x);
        self.sum = sum;
        self.addend += x;
    }

    /// Adds an integer exactly: split into two halves that are doubles.
    fn add_long(&mut self, x: i64) {
        let high = x / (1 << 32) * (1 << 32);
        self.add_double((x - high) as f64);
        self.add_double(high as f64);
    }

    /// The nearest double to the total.
    fn double(&self) -> f64 {
        if self.sum.is_nan() {
            self.special
        } else {
            self.sum
        }
    }

    /// The total as an int64, when only integers went in and it fits.
    fn long(&self) -> Option<i64> {
        if !self.sum.is_finite() || self.sum.abs() >= 2f64.powi(100) {
            return None;
        }
        // Integers in, so both parts are integers and the sum is exact.
        i64::try_from(self.sum as i128 + self.addend as i128).ok()
    }

    /// The total as a decimal: each part converted exactly (34 digits at
    /// most) and the two added, as `getDecimal` does.
    fn decimal(&self) -> QueryResult<Outcome> {
        if !self.sum.is_finite() {
            let x = self.special;
            return Ok(if x.is_nan() {
                Outcome::NaN
            } else {
                Outcome::Infinite(x < 0.0)
            });
        }
        let sum = Dec::from_f64_exact(self.sum)?;
        let addend = Dec::from_f64_exact(self.addend)?;
        Ok(Outcome::Finite(sum.add(addend)?))
    }
}

/// The widest numeric type among the inputs, which decides the result's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
enum Width {
    #[default]
    Int,
    Long,
    Double,
    Decimal,
}

/// A running `$sum`/`$avg`: the two totals, the widest type seen and how
/// many numbers went in.
#[derive(Debug, Clone, Default)]
pub(crate) struct Summation {
    /// The widest input type.
    width: Width,
    /// Ints, longs and doubles.
    non_decimal: DoubleDouble,
    /// Decimals (a decimal, once one went in).
    decimal: Option<Num>,
    /// How many numbers were added.
    count: i64,
}

impl Summation {
    /// Adds a value; anything but a number is ignored.
    pub(crate) fn add(&mut self, value: &Bson) -> QueryResult<()> {
        let width = match value {
            Bson::Int32(i) => {
                self.non_decimal.add_double(f64::from(*i));
                Width::Int
            }
            Bson::Int64(i) => {
                self.non_decimal.add_long(*i);
                Width::Long
            }
            Bson::Double(f) => {
                self.non_decimal.add_double(*f);
                Width::Double
            }
            Bson::Decimal128(d) => {
                self.decimal = Some(match self.decimal {
                    None => Num::Decimal(*d),
                    Some(total) => add_numbers(total, Num::Decimal(*d))?,
                });
                Width::Decimal
            }
            _ => return Ok(()),
        };
        self.width = self.width.max(width);
        self.count += 1;
        Ok(())
    }

    /// The decimal total: the decimals' total plus the others' converted once.
    fn decimal_total(&self) -> QueryResult<Num> {
        let converted = Num::Decimal(self.non_decimal.decimal()?.into_decimal128()?);
        // The server's decimal total starts at Decimal128(), 0E0.
        let total = self.decimal.unwrap_or_else(|| Num::Decimal(decimal_zero()));
        add_numbers(total, converted)
    }

    /// The sum: an int if only ints went in and it fits, else a long if it
    /// fits and no double or decimal went in, else a double, or a decimal
    /// if any decimal went in. 0 (an int) without numbers.
    pub(crate) fn sum(&self) -> QueryResult<Bson> {
        let long = || self.non_decimal.long();
        Ok(match self.width {
            Width::Int => match long() {
                Some(n) => i32::try_from(n).map_or(Bson::Int64(n), Bson::Int32),
                None => Bson::Double(self.non_decimal.double()),
            },
            Width::Long => long().map_or(Bson::Double(self.non_decimal.double()), Bson::Int64),
            Width::Double => Bson::Double(self.non_decimal.double()),
            Width::Decimal => self.decimal_total()?.into_bson(),
        })
    }

    /// The mean: a double, or a decimal if any decimal went in; null
    /// without numbers.
    pub(crate) fn mean(&self) -> QueryResult<Bson> {
        if self.count == 0 {
            return Ok(Bson::Null);
        }
        if self.width == Width::Decimal {
            let quotient = self
                .decimal_total()?
                .to_dec()?
                .div(Dec::from_i64(self.count))?;
            return Ok(Bson::Decimal128(quotient.to_decimal128()?));
        }
        Ok(Bson::Double(self.non_decimal.double() / self.count as f64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Bson {
        Bson::Decimal128(text.parse().expect("decimal"))
    }

    fn sum_of(values: &[Bson]) -> Summation {
        let mut s = Summation::default();
        for v in values {
            s.add(v).expect("adds");
        }
        s
    }

    #[test]
    fn a_decimal_sum_converts_the_other_numbers_once_and_exactly() {
        let s = sum_of(&[Bson::Int64(2), dec("1.5"), Bson::Double(0.5)]);
        assert_eq!(s.sum().unwrap(), dec("4.0"));
        let mean = sum_of(&[Bson::Double(0.5), dec("1.5")]).mean().unwrap();
        assert_eq!(mean, dec("1.0"));
        // 0.1 is not 0.1 as a double: 34 digits of it are kept.
        let s = sum_of(&[Bson::Double(0.1), dec("0")]);
        assert_eq!(
            s.sum().unwrap(),
            dec("0.1000000000000000055511151231257827")
        );
    }

    #[test]
    fn doubles_are_summed_with_the_error_kept() {
        let s = sum_of(&[Bson::Double(0.1), Bson::Double(0.2), Bson::Double(0.3)]);
        // Plain double adds give 0.6000000000000001.
        assert_eq!(s.sum().unwrap(), Bson::Double(0.6));
        let s = sum_of(&vec![Bson::Double(0.1); 10]);
        // Plain double adds give 0.9999999999999999.
        assert_eq!(s.sum().unwrap(), Bson::Double(1.0));
    }

    #[test]
    fn integer_sums_keep_the_narrowest_type_that_holds_them() {
        let s = sum_of(&[Bson::Int32(i32::MAX), Bson::Int32(1), Bson::Int32(-1)]);
        assert_eq!(s.sum().unwrap(), Bson::Int32(i32::MAX));
        let s = sum_of(&[Bson::Int32(i32::MAX), Bson::Int32(1)]);
        assert_eq!(s.sum().unwrap(), Bson::Int64(1 << 31));
        let s = sum_of(&[Bson::Int64(i64::MAX), Bson::Int64(1), Bson::Int64(-1)]);
        assert_eq!(s.sum().unwrap(), Bson::Int64(i64::MAX));
        let s = sum_of(&[Bson::Int64(i64::MAX), Bson::Int64(1)]);
        assert_eq!(s.sum().unwrap(), Bson::Double(2f64.powi(63)));
        assert_eq!(Summation::default().sum().unwrap(), Bson::Int32(0));
        assert_eq!(Summation::default().mean().unwrap(), Bson::Null);
    }

    #[test]
    fn infinities_and_nan_come_through() {
        let s = sum_of(&[Bson::Double(f64::INFINITY), Bson::Double(1.0)]);
        assert_eq!(s.sum().unwrap(), Bson::Double(f64::INFINITY));
        let s = sum_of(&[Bson::Double(f64::NAN), Bson::Int32(1)]);
        assert!(matches!(s.sum().unwrap(), Bson::Double(x) if x.is_nan()));
    }
}
