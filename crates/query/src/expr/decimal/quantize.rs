//! Rounding a decimal to a given exponent (IEEE 754 `quantize`), which
//! `$round`, `$trunc`, `$ceil` and `$floor` are built on, and the exact
//! conversions around it: doubles to 34 digits, decimals to integers and
//! back to doubles.

use super::{Dec, COEFF_LIMIT};
use crate::QueryResult;

/// Which way [`Dec::quantize`] rounds a value that falls between two steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rounding {
    /// To the nearest step, ties to the even one (`$round`).
    HalfEven,
    /// Towards zero (`$trunc`).
    TowardZero,
    /// Towards +∞ (`$ceil`).
    Ceiling,
    /// Towards −∞ (`$floor`).
    Floor,
}

/// 10^n, when it fits in an `i128` (n ≤ 38).
fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

impl Dec {
    /// The value rounded to a multiple of `10^exponent`, with exactly that
    /// exponent (so `1.5` quantized to `-2` is `1.50`). `None` when the
    /// result would need more than the 34 digits decimal128 holds (IEEE's
    /// "invalid operation").
    pub(crate) fn quantize(self, exponent: i32, mode: Rounding) -> Option<Dec> {
        let Dec {
            coefficient,
            exponent: own,
        } = self;
        if own >= exponent {
            // Exact: append zeros to the coefficient, if there is room.
            if coefficient == 0 {
                return Some(Dec {
                    coefficient: 0,
                    exponent,
                });
            }
            let shift = u32::try_from(own - exponent).ok()?;
            let scaled = pow10(shift).and_then(|p| coefficient.checked_mul(p))?;
            return (scaled.unsigned_abs() < COEFF_LIMIT as u128).then_some(Dec {
                coefficient: scaled,
                exponent,
            });
        }
        let shift = u32::try_from(exponent - own).ok()?;
        // Past 10^38 the whole coefficient (< 10^34) is a remainder below half a step.
        let (quotient, remainder, divisor) = match pow10(shift) {
            Some(d) => (coefficient / d, coefficient % d, Some(d)),
            None => (0, coefficient, None),
        };
        let away = match mode {
            Rounding::TowardZero => false,
            Rounding::Ceiling => remainder > 0,
            Rounding::Floor => remainder < 0,
            Rounding::HalfEven => match divisor {
                None => false,
                Some(d) => {
                    let r = remainder.abs();
                    // Compare r with d - r rather than 2r with d: 2r may overflow.
                    match r.cmp(&(d - r)) {
                        std::cmp::Ordering::Greater => true,
                        std::cmp::Ordering::Equal => quotient % 2 != 0,
                        std::cmp::Ordering::Less => false,
                    }
                }
            },
        };
        let quotient = if away {
            // The direction of "away" is the remainder's sign.
            quotient + remainder.signum()
        } else {
            quotient
        };
        Some(Dec {
            coefficient: quotient,
            exponent,
        })
    }

    /// The same value with its exponent lowered towards `exponent` as far
    /// as 34 digits allow: what a quantize that overflows can keep.
    pub(crate) fn widened_towards(self, exponent: i32) -> Dec {
        let Dec {
            mut coefficient,
            exponent: mut own,
        } = self;
        while own > exponent && coefficient.unsigned_abs() * 10 < COEFF_LIMIT as u128 {
            coefficient *= 10;
            own -= 1;
        }
        Dec {
            coefficient,
            exponent: own,
        }
    }

    /// The value as an `i64`, when it is an integer in range.
    pub(crate) fn to_i64_exact(self) -> Option<i64> {
        let Dec {
            coefficient,
            exponent,
        } = self;
        if coefficient == 0 {
            return Some(0);
        }
        let value = if exponent >= 0 {
            pow10(u32::try_from(exponent).ok()?).and_then(|p| coefficient.checked_mul(p))?
        } else {
            let divisor = pow10(exponent.unsigned_abs())?;
            if coefficient % divisor != 0 {
                return None;
            }
            coefficient / divisor
        };
        i64::try_from(value).ok()
    }

    /// A finite double converted exactly enough for rounding: to 34
    /// significant digits, as the server converts doubles for `$round` and
    /// `$trunc` (a negative zero loses its sign here).
    pub(crate) fn from_f64_34(f: f64) -> QueryResult<Dec> {
        Dec::from_f64_digits(f, 34)
    }

    /// The nearest double (a zero result is +0.0; callers restore the sign).
    pub(crate) fn to_f64(self) -> f64 {
        format!("{}e{}", self.coefficient, self.exponent)
            .parse()
            .unwrap_or(f64::NAN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Dec {
        Dec::from_decimal128(&s.parse().unwrap()).unwrap()
    }

    fn text(d: Option<Dec>) -> String {
        d.unwrap().to_decimal128().unwrap().to_string()
    }

    #[test]
    fn quantize_rounds_in_each_mode() {
        assert_eq!(text(dec("2.5").quantize(0, Rounding::HalfEven)), "2");
        assert_eq!(text(dec("3.5").quantize(0, Rounding::HalfEven)), "4");
        assert_eq!(text(dec("-2.5").quantize(0, Rounding::HalfEven)), "-2");
        assert_eq!(text(dec("2.51").quantize(0, Rounding::HalfEven)), "3");
        assert_eq!(text(dec("-2.7").quantize(0, Rounding::TowardZero)), "-2");
        assert_eq!(text(dec("-2.1").quantize(0, Rounding::Floor)), "-3");
        assert_eq!(text(dec("2.1").quantize(0, Rounding::Ceiling)), "3");
        assert_eq!(text(dec("-2.1").quantize(0, Rounding::Ceiling)), "-2");
        // The exponent is the target's, even when digits are appended.
        assert_eq!(text(dec("1.5").quantize(-2, Rounding::HalfEven)), "1.50");
        assert_eq!(
            text(dec("1234.5678").quantize(2, Rounding::HalfEven)),
            "1.2E+3"
        );
        assert_eq!(text(dec("5E+3").quantize(0, Rounding::Ceiling)), "5000");
        // Far below the step: only the direction matters.
        assert_eq!(text(dec("1E-50").quantize(0, Rounding::Ceiling)), "1");
        assert_eq!(text(dec("1E-50").quantize(0, Rounding::HalfEven)), "0");
    }

    #[test]
    fn quantize_refuses_more_than_34_digits() {
        assert!(dec("1E+40").quantize(0, Rounding::Floor).is_none());
        assert!(dec("1.5").quantize(-100, Rounding::HalfEven).is_none());
        assert!(dec("0").quantize(-100, Rounding::HalfEven).is_some());
        assert_eq!(
            text(Some(dec("1.5").widened_towards(-100))),
            "1.500000000000000000000000000000000"
        );
        assert_eq!(
            text(Some(dec("1E+40").widened_towards(0))),
            "1.000000000000000000000000000000000E+40"
        );
        assert_eq!(text(Some(dec("2.50").widened_towards(1))), "2.50");
    }

    #[test]
    fn conversions() {
        assert_eq!(dec("12.000").to_i64_exact(), Some(12));
        assert_eq!(dec("12.5").to_i64_exact(), None);
        assert_eq!(dec("1E+30").to_i64_exact(), None);
        // 2.675 is 2.67499999999999982236431605997495353221893310546875 in binary.
        let d = Dec::from_f64_34(2.675).unwrap();
        assert_eq!(text(d.quantize(-2, Rounding::HalfEven)), "2.67");
        assert_eq!(d.to_f64(), 2.675);
        assert_eq!(Dec::from_f64_34(0.1).unwrap().to_f64(), 0.1);
    }
}
