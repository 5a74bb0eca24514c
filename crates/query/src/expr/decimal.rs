//! Exact decimal128 arithmetic for the cases the expression operators need.
//!
//! The `bson` crate stores decimal128 values but does no arithmetic on them,
//! so we work on the IEEE 754-2008 BID encoding directly: a sign, a 113-bit
//! coefficient and an exponent. Sums, differences and products are computed
//! exactly in `i128` with the exponent IEEE prescribes (the smaller exponent
//! for a sum, the sum of exponents for a product), then rounded half-even to
//! the 34 digits decimal128 holds; a product too wide for `i128` (of two
//! 20-digit coefficients) or a sum of far apart exponents (`1E+40 + 1`) is
//! computed wide and rounded once. When another exact intermediate does
//! not fit in `i128`, or an operand is NaN or infinite, we refuse with
//! "decimal arithmetic not supported yet" rather than round differently
//! from the server.
//!
//! [`quantize`] rounds to a given exponent (`$round`, `$trunc`, `$ceil`,
//! `$floor`); [`math`] has square roots, exponentials, logarithms and powers.

pub(crate) mod math;
mod quantize;

use bson::Decimal128;

use super::bignum::BigUint;
use crate::{QueryError, QueryResult};

pub(crate) use quantize::Rounding;

/// The exponent bias of decimal128.
const BIAS: i32 = 6176;
/// Smallest exponent decimal128 can store.
const MIN_EXP: i32 = -6176;
/// Largest exponent decimal128 can store.
const MAX_EXP: i32 = 6111;
/// 10^34: every canonical coefficient is below it.
const COEFF_LIMIT: i128 = 10_000_000_000_000_000_000_000_000_000_000_000;

/// A finite decimal: `coefficient * 10^exponent` (the sign is the
/// coefficient's, except for a negative zero, which we do not keep).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dec {
    /// The signed coefficient, below 10^34 in magnitude once encoded.
    coefficient: i128,
    /// The power of ten.
    exponent: i32,
}

/// The error for every decimal computation we cannot do exactly.
fn unsupported() -> QueryError {
    QueryError::new("decimal arithmetic not supported yet")
}

impl Dec {
    /// Decodes a decimal128; `None` for NaN and the infinities.
    pub(crate) fn from_decimal128(d: &Decimal128) -> Option<Dec> {
        let bits = u128::from_le_bytes(d.bytes());
        let negative = bits >> 127 == 1;
        let (coefficient, biased) = if (bits >> 125) & 0b11 == 0b11 {
            if (bits >> 122) & 0b11110 == 0b11110 {
                return None;
            }
            // The large-coefficient form always exceeds 10^34: non-canonical, so zero.
            (0, (bits >> 111) & 0x3fff)
        } else {
            (bits & ((1u128 << 113) - 1), (bits >> 113) & 0x3fff)
        };
        let coefficient = if coefficient >= COEFF_LIMIT as u128 {
            0
        } else {
            coefficient as i128
        };
        Some(Dec {
            coefficient: if negative { -coefficient } else { coefficient },
            exponent: biased as i32 - BIAS,
        })
    }

    /// An integer as a decimal with exponent 0, as the server converts it.
    pub(crate) fn from_i64(i: i64) -> Dec {
        Dec {
            coefficient: i128::from(i),
            exponent: 0,
        }
    }

    /// A double as the server converts it for arithmetic: rounded to 15
    /// significant digits. Fails for NaN and the infinities.
    pub(crate) fn from_f64(f: f64) -> QueryResult<Dec> {
        Dec::from_f64_digits(f, 15)
    }

    /// A finite double correctly rounded to `digits` significant digits
    /// (at most 34); a zero loses its sign.
    pub(crate) fn from_f64_digits(f: f64, digits: usize) -> QueryResult<Dec> {
        if !f.is_finite() {
            return Err(unsupported());
        }
        if f == 0.0 {
            return Ok(Dec {
                coefficient: 0,
                exponent: 0,
            });
        }
        // "d.ddd…e±x" with `digits` significant digits.
        let fraction = digits.saturating_sub(1);
        let text = format!("{f:.fraction$e}");
        let (mantissa, exp) = text.split_once('e').ok_or_else(unsupported)?;
        let exp: i32 = exp.parse().map_err(|_| unsupported())?;
        let coefficient: i128 = mantissa
            .chars()
            .filter(|c| *c != '.')
            .collect::<String>()
            .parse()
            .map_err(|_| unsupported())?;
        Ok(Dec {
            coefficient,
            exponent: exp - i32::try_from(fraction).map_err(|_| unsupported())?,
        })
    }

    /// A finite double as the server's `Decimal128(double, kRoundTo34Digits)`
    /// makes it (the Intel library's `binary64_to_bid128`): the exact value
    /// with as few digits as that takes (2.5 is `25E-1`, 4.0 is `4E0`) when
    /// they fit in 34, else rounded to 34 significant digits. A zero loses
    /// its sign.
    pub(crate) fn from_f64_exact(f: f64) -> QueryResult<Dec> {
        if !f.is_finite() {
            return Err(unsupported());
        }
        if f == 0.0 {
            return Ok(Dec {
                coefficient: 0,
                exponent: 0,
            });
        }
        // f = ±mantissa × 2^power, with an odd mantissa.
        let bits = f.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let fraction = bits & ((1u64 << 52) - 1);
        let (mut mantissa, mut power) = if biased == 0 {
            (fraction, -1074)
        } else {
            (fraction | (1u64 << 52), biased - 1075)
        };
        let zeros = mantissa.trailing_zeros();
        mantissa >>= zeros;
        power += zeros as i32;
        // m × 2^p = m × 2^p (p ≥ 0), or m × 5^-p × 10^p (p < 0).
        let (multiplier, exponent) = if power >= 0 {
            (
                u32::try_from(power).ok().and_then(|p| 2i128.checked_pow(p)),
                0,
            )
        } else {
            (
                u32::try_from(-power)
                    .ok()
                    .and_then(|p| 5i128.checked_pow(p)),
                power,
            )
        };
        let coefficient = multiplier.and_then(|m| m.checked_mul(i128::from(mantissa)));
        match coefficient {
            Some(c) if c < COEFF_LIMIT => Ok(Dec {
                coefficient: if f < 0.0 { -c } else { c },
                exponent,
            }),
            _ => Dec::from_f64_digits(f, 34),
        }
    }

    /// Rounds half-even to at most 34 digits, as IEEE decimal128 does.
    fn rounded(self) -> Dec {
        let Dec {
            coefficient,
            exponent,
        } = self;
        let digits = coefficient
            .unsigned_abs()
            .checked_ilog10()
            .map_or(1, |d| d + 1);
        let Some(drop) = digits.checked_sub(34).filter(|d| *d > 0) else {
            return self;
        };
        // drop <= 5 because |coefficient| < 2^127 < 10^39.
        let divisor = 10i128.pow(drop);
        let (mut q, r) = (coefficient / divisor, (coefficient % divisor).abs());
        let twice = r * 2;
        if twice > divisor || (twice == divisor && q % 2 != 0) {
            q += coefficient.signum();
        }
        let exponent = exponent + drop as i32;
        // Rounding up may carry into a 35th digit (99…9 -> 100…0).
        if q.unsigned_abs() >= COEFF_LIMIT as u128 {
            Dec {
                coefficient: q / 10,
                exponent: exponent + 1,
            }
        } else {
            Dec {
                coefficient: q,
                exponent,
            }
        }
    }

    /// Encodes as decimal128 (rounded to 34 digits), failing when the
    /// exponent is out of range.
    pub(crate) fn to_decimal128(self) -> QueryResult<Decimal128> {
        let Dec {
            mut coefficient,
            mut exponent,
        } = self.rounded();
        // Too small an exponent: drop trailing zeros if that is exact.
        while exponent < MIN_EXP && coefficient % 10 == 0 && coefficient != 0 {
            coefficient /= 10;
            exponent += 1;
        }
        // Too large an exponent: pad the coefficient ("clamping"), exact too.
        while exponent > MAX_EXP && coefficient.unsigned_abs() * 10 < COEFF_LIMIT as u128 {
            coefficient *= 10;
            exponent -= 1;
        }
        if coefficient.unsigned_abs() >= COEFF_LIMIT as u128
            || !(MIN_EXP..=MAX_EXP).contains(&exponent)
        {
            return Err(unsupported());
        }
        let sign = u128::from(coefficient < 0) << 127;
        let biased = ((exponent + BIAS) as u128) << 113;
        let bits = sign | biased | coefficient.unsigned_abs();
        Ok(Decimal128::from_bytes(bits.to_le_bytes()))
    }

    /// Both coefficients scaled to the smaller exponent.
    fn aligned(self, other: Dec) -> QueryResult<(i128, i128, i32)> {
        let exponent = self.exponent.min(other.exponent);
        let scale = |d: Dec| -> QueryResult<i128> {
            let shift = u32::try_from(d.exponent - exponent).map_err(|_| unsupported())?;
            10i128
                .checked_pow(shift)
                .and_then(|p| d.coefficient.checked_mul(p))
                .ok_or_else(unsupported)
        };
        Ok((scale(self)?, scale(other)?, exponent))
    }

    /// The exact sum, or when aligning the operands overflows `i128`
    /// (`1E+40 + 1`) the sum rounded half-even to 34 digits, computed wide.
    pub(crate) fn add(self, other: Dec) -> QueryResult<Dec> {
        if let Ok((a, b, exponent)) = self.aligned(other) {
            if let Some(coefficient) = a.checked_add(b) {
                return Ok(Dec {
                    coefficient,
                    exponent,
                });
            }
        }
        self.add_wide(other)
    }

    /// [`Dec::add`] of operands whose exponents lie far apart.
    fn add_wide(self, other: Dec) -> QueryResult<Dec> {
        let exponent = self.exponent.min(other.exponent);
        // A zero adds nothing, but the result's exponent is still the
        // smaller one as far as 34 digits allow (0 + 1E+100 is
        // 1.000…000E+100, with 34 digits).
        if self.coefficient == 0 {
            return Ok(other.widened_towards(exponent));
        }
        if other.coefficient == 0 {
            return Ok(self.widened_towards(exponent));
        }
        let (high, low) = if self.exponent >= other.exponent {
            (self, other)
        } else {
            (other, self)
        };
        // Shifted 70 places or more, `high` has at least 70 digits and the
        // result is rounded by at least 35 of them, while `low` (below
        // 10^34) sits wholly below half a unit of the last digit kept:
        // only its sign matters, so it is replaced by a sticky ±1 that
        // rounds the same way (and needs no 10^6000 for 1E+6000 + 1).
        let gap = i64::from(high.exponent) - i64::from(low.exponent);
        let (shift, low_coefficient) = match u32::try_from(gap) {
            Ok(shift) if shift < 70 => (shift, low.coefficient),
            _ => (70, low.coefficient.signum()),
        };
        let high_magnitude =
            BigUint::from_u128(high.coefficient.unsigned_abs()).mul(&BigUint::pow10(shift));
        let low_magnitude = BigUint::from_u128(low_coefficient.unsigned_abs());
        let (magnitude, negative) = if (high.coefficient < 0) == (low_coefficient < 0) {
            (high_magnitude.add(&low_magnitude), high.coefficient < 0)
        } else if high_magnitude >= low_magnitude {
            (high_magnitude.sub(&low_magnitude), high.coefficient < 0)
        } else {
            (low_magnitude.sub(&high_magnitude), low_coefficient < 0)
        };
        let shift = i32::try_from(shift).map_err(|_| unsupported())?;
        rounded_wide(&magnitude, negative, high.exponent - shift)
    }

    /// The exact difference.
    pub(crate) fn sub(self, other: Dec) -> QueryResult<Dec> {
        self.add(Dec {
            coefficient: -other.coefficient,
            exponent: other.exponent,
        })
    }

    /// The exact product, or when it does not fit in `i128` (two long
    /// coefficients, e.g. 0.5000000000 times a 34-digit square root) the
    /// product rounded half-even to 34 digits, computed wide.
    pub(crate) fn mul(self, other: Dec) -> QueryResult<Dec> {
        let exponent = self.exponent + other.exponent;
        if let Some(coefficient) = self.coefficient.checked_mul(other.coefficient) {
            return Ok(Dec {
                coefficient,
                exponent,
            });
        }
        // More than 38 digits, since it overflowed: some are dropped.
        let product = BigUint::from_u128(self.coefficient.unsigned_abs())
            .mul(&BigUint::from_u128(other.coefficient.unsigned_abs()));
        let negative = (self.coefficient < 0) != (other.coefficient < 0);
        rounded_wide(&product, negative, exponent)
    }

    /// The quotient: exact with the exponent closest to the ideal
    /// `a.exp - b.exp` when it fits in 34 digits, as IEEE prescribes, else
    /// carried to 36 digits for [`Dec::to_decimal128`] to round (with a
    /// sticky last digit so that ties round correctly).
    pub(crate) fn div(self, other: Dec) -> QueryResult<Dec> {
        if other.coefficient == 0 {
            return Err(unsupported());
        }
        let mut exponent = self.exponent - other.exponent;
        let mut quotient = self.coefficient / other.coefficient;
        let mut remainder = self.coefficient % other.coefficient;
        // 10^35: once the quotient has 36 digits, more would only be rounded away.
        let enough = COEFF_LIMIT * 10;
        while remainder != 0 && quotient.unsigned_abs() < enough as u128 {
            quotient = quotient.checked_mul(10).ok_or_else(unsupported)?;
            remainder = remainder.checked_mul(10).ok_or_else(unsupported)?;
            quotient += remainder / other.coefficient;
            remainder %= other.coefficient;
            exponent -= 1;
        }
        if remainder != 0 && quotient % 10 == 0 {
            // A non-zero tail beyond the last digit kept: the value is past
            // any tie, so nudge the (to be rounded away) last digit.
            quotient += quotient.signum();
        }
        Ok(Dec {
            coefficient: quotient,
            exponent,
        })
    }

    /// The remainder of truncated division, with the dividend's sign and the
    /// smaller exponent.
    pub(crate) fn rem(self, other: Dec) -> QueryResult<Dec> {
        let (a, b, exponent) = self.aligned(other)?;
        Ok(Dec {
            coefficient: a.checked_rem(b).ok_or_else(unsupported)?,
            exponent,
        })
    }

    /// Whether the value is zero.
    pub(crate) fn is_zero(self) -> bool {
        self.coefficient == 0
    }

    /// Whether the value is below zero.
    pub(crate) fn is_negative(self) -> bool {
        self.coefficient < 0
    }

    /// The absolute value.
    pub(crate) fn abs(self) -> Dec {
        Dec {
            coefficient: self.coefficient.abs(),
            exponent: self.exponent,
        }
    }
}

/// `±magnitude * 10^exponent` rounded half-even to 34 digits: the exact
/// result of a sum or product too wide for `i128`.
fn rounded_wide(magnitude: &BigUint, negative: bool, exponent: i32) -> QueryResult<Dec> {
    let drop = magnitude.digits().saturating_sub(34);
    let divisor = BigUint::pow10(drop);
    let (quotient, remainder) = magnitude.divmod(&divisor);
    let mut q = quotient.to_u128().ok_or_else(unsupported)?;
    let twice = remainder.add(&remainder);
    if twice > divisor || (twice == divisor && q % 2 != 0) {
        q += 1;
    }
    let mut exponent = exponent + i32::try_from(drop).map_err(|_| unsupported())?;
    // Rounding up may carry into a 35th digit (99…9 -> 100…0).
    if q >= COEFF_LIMIT as u128 {
        q /= 10;
        exponent += 1;
    }
    let magnitude = i128::try_from(q).map_err(|_| unsupported())?;
    Ok(Dec {
        coefficient: if negative { -magnitude } else { magnitude },
        exponent,
    })
}

/// Integer views of a decimal, for the conversions (`$toInt`, `$toLong`,
/// `$toDate`) and integral arguments (`$dateAdd`'s `amount`, …).
impl Dec {
    /// Whether the value has no fractional part.
    pub(crate) fn is_integer(self) -> bool {
        if self.exponent >= 0 || self.coefficient == 0 {
            return true;
        }
        match 10i128.checked_pow(self.exponent.unsigned_abs()) {
            Some(scale) => self.coefficient % scale == 0,
            // A non-zero coefficient is below 10^39, so it has a fraction.
            None => false,
        }
    }

    /// The value truncated toward zero, if that fits in an `i64`.
    pub(crate) fn trunc_to_i64(self) -> Option<i64> {
        if self.coefficient == 0 {
            return Some(0);
        }
        let value = if self.exponent >= 0 {
            let scale = 10i128.checked_pow(u32::try_from(self.exponent).ok()?)?;
            self.coefficient.checked_mul(scale)?
        } else {
            // |coefficient| < 2^127 < 10^39: past 38 places nothing is left.
            match 10i128.checked_pow(self.exponent.unsigned_abs()) {
                Some(scale) => self.coefficient / scale,
                None => 0,
            }
        };
        i64::try_from(value).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Dec {
        Dec::from_decimal128(&s.parse().unwrap()).unwrap()
    }

    fn text(d: Dec) -> String {
        d.to_decimal128().unwrap().to_string()
    }

    #[test]
    fn round_trips() {
        for s in [
            "1.1",
            "-2.50",
            "0",
            "1E+10",
            "123456789012345678901234567890.1234",
        ] {
            assert_eq!(text(dec(s)), s.parse::<Decimal128>().unwrap().to_string());
        }
    }

    #[test]
    fn exact_arithmetic_matches_server() {
        // Server: {$add: [1, Decimal128("1.1")]} -> Decimal128("2.1")
        assert_eq!(text(Dec::from_i64(1).add(dec("1.1")).unwrap()), "2.1");
        // Server: {$add: [0.1, Decimal128("1")]} -> Decimal128("1.100000000000000")
        assert_eq!(
            text(Dec::from_f64(0.1).unwrap().add(dec("1")).unwrap()),
            "1.100000000000000"
        );
        // Server: {$multiply: [Decimal128("1.5"), Decimal128("2.0")]} -> Decimal128("3.00")
        assert_eq!(text(dec("1.5").mul(dec("2.0")).unwrap()), "3.00");
        // Server: $avg of 1 and Decimal128("2") -> Decimal128("1.5")
        assert_eq!(text(dec("3").div(Dec::from_i64(2)).unwrap()), "1.5");
        assert_eq!(text(dec("5").sub(dec("7.25")).unwrap()), "-2.25");
    }

    #[test]
    fn unrepresentable_intermediates_are_refused() {
        assert!(dec("1").div(dec("0")).is_err());
        assert!(Dec::from_decimal128(&"NaN".parse().unwrap()).is_none());
    }

    #[test]
    fn wide_sums_round_once_to_34_digits() {
        // IEEE 754 decimal128 (and the server): the exact sum, rounded half-even.
        let sum = |a: &str, b: &str| text(dec(a).add(dec(b)).unwrap());
        assert_eq!(sum("1E+40", "1"), "1.000000000000000000000000000000000E+40");
        assert_eq!(
            sum("1E+40", "-1"),
            "1.000000000000000000000000000000000E+40"
        );
        assert_eq!(
            text(dec("1").sub(dec("1E+40")).unwrap()),
            "-1.000000000000000000000000000000000E+40"
        );
        // Far apart: the small operand is less than half a unit of the
        // last digit, either way.
        assert_eq!(
            sum("1E+6000", "-1"),
            "1.000000000000000000000000000000000E+6000"
        );
        assert_eq!(
            sum("9999999999999999999999999999999995E+100", "1E-6000"),
            "9.999999999999999999999999999999995E+133"
        );
        assert_eq!(
            sum("9999999999999999999999999999999995E+100", "-1E-6000"),
            "9.999999999999999999999999999999995E+133"
        );
        // Ties go to the even digit.
        assert_eq!(
            sum("1234567890123456789012345678901235", "0.500000"),
            "1234567890123456789012345678901236"
        );
        assert_eq!(
            sum("1234567890123456789012345678901234", "0.500000"),
            "1234567890123456789012345678901234"
        );
        // With a zero, the other operand at the smaller exponent, as far
        // as 34 digits go.
        assert_eq!(
            sum("0", "1E+100"),
            "1.000000000000000000000000000000000E+100"
        );
        assert_eq!(sum("0E+100", "1"), "1");
        assert_eq!(
            sum("1.000000000000000000000000000000000E+40", "-1E+40"),
            "0E+7"
        );
    }

    #[test]
    fn wide_products_round_once_to_34_digits() {
        // The exact product has 41 digits (Python decimal, 34 digits half-even, agrees).
        assert_eq!(
            text(
                dec("123456789012345678901")
                    .mul(dec("123456789012345678901"))
                    .unwrap()
            ),
            "1.524157875323883675043743356552660E+40"
        );
    }

    #[test]
    fn results_round_half_even_to_34_digits() {
        // Server: 1/3 and 2/3 as decimals.
        assert_eq!(
            text(dec("1").div(dec("3")).unwrap()),
            "0.3333333333333333333333333333333333"
        );
        assert_eq!(
            text(dec("2").div(dec("3")).unwrap()),
            "0.6666666666666666666666666666666667"
        );
        assert_eq!(
            text(dec("-2").div(dec("3")).unwrap()),
            "-0.6666666666666666666666666666666667"
        );
        assert_eq!(
            text(
                dec("9999999999999999999999999999999999")
                    .add(dec("0.5"))
                    .unwrap()
            ),
            "1.000000000000000000000000000000000E+34"
        );
        let big = "1234567890123456789012345678901234";
        assert_eq!(text(dec(big).add(dec("0.5")).unwrap()), big);
        assert_eq!(
            text(
                dec("1234567890123456789012345678901235")
                    .add(dec("0.5"))
                    .unwrap()
            ),
            "1234567890123456789012345678901236"
        );
        // Just past a tie rounds up.
        assert_eq!(
            text(dec(big).add(dec("0.51")).unwrap()),
            "1234567890123456789012345678901235"
        );
        // Server: {$mod: [Decimal128("7"), 2]} -> Decimal128("1")
        assert_eq!(text(dec("7").rem(Dec::from_i64(2)).unwrap()), "1");
        assert_eq!(text(dec("-7.5").rem(Dec::from_i64(2)).unwrap()), "-1.5");
    }
}
