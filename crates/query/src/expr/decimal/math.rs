//! Square roots, exponentials, logarithms and powers of decimals, rounded
//! half-even to the 34 digits of decimal128.
//!
//! Exact results keep IEEE's preferred exponent where it has one
//! (`sqrt(4.00)` is `2.0`, `exp(0)` is `1`, `ln(1)` is `0`, `log10(100)`
//! is `2`); inexact ones have 34 significant digits. Powers have 34 digits
//! whenever the result is not 0 or 1, as the reference server answers.
//! Intermediate values carry [`WORK`] digits (a small arbitrary-precision
//! decimal over [`BigUint`]), so the final rounding is off only if the true
//! value lies within ~10^-60 of a rounding boundary.

use std::cmp::Ordering;
use std::sync::OnceLock;

use bson::Decimal128;

use super::{Dec, COEFF_LIMIT, MAX_EXP, MIN_EXP};
use crate::expr::bignum::BigUint;
use crate::QueryResult;

/// Significant digits carried by intermediate results.
const WORK: u32 = 72;
/// Digits of a decimal128 coefficient.
const DIGITS: u32 = 34;

/// The result of a decimal function: finite, or past decimal128's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A finite value.
    Finite(Dec),
    /// Beyond the largest decimal128, with this sign (`true` = negative).
    Infinite(bool),
    /// Not a number (a negative base to a fractional power).
    NaN,
}

/// What a decimal128 holds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Class {
    /// A finite value (a negative zero reads as zero).
    Finite(Dec),
    /// An infinity, negative when `true`.
    Infinite(bool),
    /// NaN.
    NaN,
}

/// Classifies a decimal128 by its combination field.
pub(crate) fn classify(d: &Decimal128) -> Class {
    if let Some(value) = Dec::from_decimal128(d) {
        return Class::Finite(value);
    }
    let bits = u128::from_le_bytes(d.bytes());
    if (bits >> 122) & 0b11111 == 0b11111 {
        Class::NaN
    } else {
        Class::Infinite(bits >> 127 == 1)
    }
}

/// The decimal128 with only these top-byte bits set (specials and signs).
fn special(top: u8) -> Decimal128 {
    let mut bytes = [0u8; 16];
    bytes[15] = top;
    Decimal128::from_bytes(bytes)
}

impl Outcome {
    /// The result as a decimal128.
    pub(crate) fn into_decimal128(self) -> QueryResult<Decimal128> {
        match self {
            Outcome::Finite(d) => d.to_decimal128(),
            Outcome::Infinite(neg) => Ok(special(if neg { 0xf8 } else { 0x78 })),
            Outcome::NaN => Ok(special(0x7c)),
        }
    }
}

/// A signed decimal of any precision: `(-1)^neg × mag × 10^exp`.
#[derive(Debug, Clone)]
struct Big {
    /// Whether the value is negative.
    neg: bool,
    /// The magnitude's coefficient.
    mag: BigUint,
    /// The power of ten.
    exp: i64,
}

impl Big {
    /// An exact integer.
    fn int(i: i64) -> Big {
        Big {
            neg: i < 0,
            mag: BigUint::from_u128(u128::from(i.unsigned_abs())),
            exp: 0,
        }
    }

    /// An exact decimal.
    fn of(d: Dec) -> Big {
        Big {
            neg: d.coefficient < 0,
            mag: BigUint::from_u128(d.coefficient.unsigned_abs()),
            exp: i64::from(d.exponent),
        }
    }

    /// Whether the value is zero.
    fn is_zero(&self) -> bool {
        self.mag.is_zero()
    }

    /// The power of ten of the leading digit.
    fn magnitude(&self) -> i64 {
        self.exp + i64::from(self.mag.digits()) - 1
    }

    /// The value negated.
    fn negated(mut self) -> Big {
        self.neg = !self.neg;
        self
    }

    /// Rounded half-even to at most `digits` significant digits, and
    /// whether anything non-zero was dropped.
    fn round(self, digits: u32) -> (Big, bool) {
        let n = self.mag.digits();
        let Some(drop) = n.checked_sub(digits).filter(|d| *d > 0) else {
            return (self, false);
        };
        let divisor = BigUint::pow10(drop);
        let (mut q, r) = self.mag.divmod(&divisor);
        let twice = r.mul_small(2);
        let odd = q.divmod_small(2).1 == 1;
        if twice > divisor || (twice == divisor && odd) {
            q = q.add(&BigUint::from_u128(1));
        }
        let inexact = !r.is_zero();
        (
            Big {
                neg: self.neg,
                mag: q,
                exp: self.exp + i64::from(drop),
            },
            inexact,
        )
    }

    /// Rounded to the working precision.
    fn work(self) -> Big {
        self.round(WORK).0
    }

    /// The sum.
    fn add(&self, other: &Big) -> Big {
        if self.is_zero() {
            return other.clone();
        }
        if other.is_zero() {
            return self.clone();
        }
        // A term below the working precision of the other changes nothing.
        let gap = self.magnitude() - other.magnitude();
        if gap > i64::from(WORK) + 2 {
            return self.clone();
        }
        if -gap > i64::from(WORK) + 2 {
            return other.clone();
        }
        let exp = self.exp.min(other.exp);
        let scale = |b: &Big| {
            let shift = u32::try_from(b.exp - exp).unwrap_or(0);
            b.mag.mul(&BigUint::pow10(shift))
        };
        let (a, b) = (scale(self), scale(other));
        let (neg, mag) = if self.neg == other.neg {
            (self.neg, a.add(&b))
        } else if a >= b {
            (self.neg, a.sub(&b))
        } else {
            (other.neg, b.sub(&a))
        };
        Big { neg, mag, exp }.work()
    }

    /// The difference.
    fn sub(&self, other: &Big) -> Big {
        self.add(&other.clone().negated())
    }

    /// The product.
    fn mul(&self, other: &Big) -> Big {
        Big {
            neg: self.neg != other.neg,
            mag: self.mag.mul(&other.mag),
            exp: self.exp + other.exp,
        }
        .work()
    }

    /// The quotient (the divisor is not zero), to the working precision.
    fn div(&self, other: &Big) -> Big {
        let shift =
            i64::from(WORK) + 2 + i64::from(other.mag.digits()) - i64::from(self.mag.digits());
        let shift = u32::try_from(shift).unwrap_or(0);
        let (q, _) = self.mag.mul(&BigUint::pow10(shift)).divmod(&other.mag);
        Big {
            neg: self.neg != other.neg,
            mag: q,
            exp: self.exp - i64::from(shift) - other.exp,
        }
        .work()
    }

    /// Compares two values.
    fn cmp(&self, other: &Big) -> Ordering {
        let d = self.sub(other);
        if d.is_zero() {
            Ordering::Equal
        } else if d.neg {
            Ordering::Less
        } else {
            Ordering::Greater
        }
    }

    /// The nearest integer (ties to even), if it has at most 15 digits.
    fn to_i64(&self) -> Option<i64> {
        if self.magnitude() > 15 {
            return None;
        }
        let mag = match u32::try_from(self.exp) {
            Ok(up) => self.mag.mul(&BigUint::pow10(up)),
            Err(_) => {
                let down = u32::try_from(-self.exp).ok()?;
                if down > self.mag.digits() {
                    // Below 0.1: rounds to zero.
                    BigUint::zero()
                } else {
                    let divisor = BigUint::pow10(down);
                    let (q, r) = self.mag.divmod(&divisor);
                    let twice = r.mul_small(2);
                    if twice > divisor || (twice == divisor && q.divmod_small(2).1 == 1) {
                        q.add(&BigUint::from_u128(1))
                    } else {
                        q
                    }
                }
            }
        };
        let n = i64::try_from(mag.to_u128()?).ok()?;
        Some(if self.neg { -n } else { n })
    }
}

/// Zero at the smallest exponent: what a result too small for decimal128
/// rounds to.
fn underflow() -> Outcome {
    Outcome::Finite(Dec {
        coefficient: 0,
        exponent: MIN_EXP,
    })
}

/// `2·atanh(z) = ln((1+z)/(1-z))` by its series, for small |z|.
fn two_atanh(z: &Big) -> Big {
    let z2 = z.mul(z);
    let mut term = z.clone();
    let mut sum = z.clone();
    for k in 1..2000_i64 {
        term = term.mul(&z2);
        let t = term.div(&Big::int(2 * k + 1));
        if t.is_zero() || sum.magnitude() - t.magnitude() > i64::from(WORK) + 2 {
            break;
        }
        sum = sum.add(&t);
    }
    sum.add(&sum)
}

/// ln 2 = 2·atanh(1/3).
fn ln2() -> &'static Big {
    static LN2: OnceLock<Big> = OnceLock::new();
    LN2.get_or_init(|| two_atanh(&Big::int(1).div(&Big::int(3))))
}

/// ln 10 = 3·ln 2 + ln 1.25, and ln 1.25 = 2·atanh(1/9).
fn ln10() -> &'static Big {
    static LN10: OnceLock<Big> = OnceLock::new();
    LN10.get_or_init(|| {
        ln2()
            .mul(&Big::int(3))
            .add(&two_atanh(&Big::int(1).div(&Big::int(9))))
    })
}

/// The natural logarithm of a positive value.
fn ln_big(x: &Big) -> Big {
    // x = m · 10^k with m in [1, 10), then m = r · 2^j with r in (0.75, 1.5].
    let k = x.magnitude();
    let mut m = Big {
        neg: false,
        mag: x.mag.clone(),
        exp: x.exp - k,
    };
    let half = Big {
        neg: false,
        mag: BigUint::from_u128(5),
        exp: -1,
    };
    let limit = Big {
        neg: false,
        mag: BigUint::from_u128(15),
        exp: -1,
    };
    let mut j = 0;
    while m.cmp(&limit) == Ordering::Greater {
        m = m.mul(&half);
        j += 1;
    }
    let one = Big::int(1);
    let z = m.sub(&one).div(&m.add(&one));
    two_atanh(&z)
        .add(&ln2().mul(&Big::int(j)))
        .add(&ln10().mul(&Big::int(k)))
}

/// e to a value of magnitude below 10^5 (anything larger over- or
/// underflows decimal128 anyway).
fn exp_big(x: &Big) -> Big {
    // x = k·ln 10 + r with |r| ≤ ln 10 / 2; e^r = (e^(r/2^12))^(2^12).
    let k = x.div(ln10()).to_i64().unwrap_or(0);
    let r = x.sub(&ln10().mul(&Big::int(k)));
    // 1/4096 = 0.000244140625 exactly.
    let scaled = r.mul(&Big {
        neg: false,
        mag: BigUint::from_u128(244_140_625),
        exp: -12,
    });
    let one = Big::int(1);
    let mut term = one.clone();
    let mut sum = one;
    for n in 1..200_i64 {
        term = term.mul(&scaled).div(&Big::int(n));
        if term.is_zero() || sum.magnitude() - term.magnitude() > i64::from(WORK) + 2 {
            break;
        }
        sum = sum.add(&term);
    }
    for _ in 0..12 {
        sum = sum.mul(&sum);
    }
    sum.exp += k;
    sum
}

/// Rounds to 34 digits into decimal128's range: infinite above it, and
/// rounded to the smallest exponent (possibly to zero) below it.
fn finish(x: Big, pad: bool) -> Outcome {
    let neg = x.neg;
    let (mut x, _) = x.round(DIGITS);
    if pad && !x.is_zero() {
        let digits = x.mag.digits();
        let room = i64::from(DIGITS - digits.min(DIGITS));
        let room = room.min(x.exp - i64::from(MIN_EXP)).max(0);
        x.mag = x.mag.mul(&BigUint::pow10(u32::try_from(room).unwrap_or(0)));
        x.exp -= room;
    }
    if x.magnitude() > i64::from(MAX_EXP) + i64::from(DIGITS) - 1 {
        return Outcome::Infinite(neg);
    }
    if x.exp < i64::from(MIN_EXP) {
        // Subnormal: keep the digits at or above the smallest exponent.
        let keep = x.magnitude() - i64::from(MIN_EXP) + 1;
        x = match u32::try_from(keep) {
            Ok(keep) if keep > 0 => x.round(keep).0,
            _ => Big {
                neg,
                mag: BigUint::zero(),
                exp: i64::from(MIN_EXP),
            },
        };
        if x.exp < i64::from(MIN_EXP) {
            x.exp = i64::from(MIN_EXP);
        }
    }
    // Rounding may still leave a large exponent with a short coefficient
    // (clamped by the encoder), or carry to 35 digits (re-rounded there).
    let coefficient = x.mag.to_u128().unwrap_or(0);
    if coefficient >= COEFF_LIMIT as u128 {
        return finish(x, false);
    }
    let signed = coefficient as i128;
    Outcome::Finite(Dec {
        coefficient: if neg { -signed } else { signed },
        exponent: i32::try_from(x.exp).unwrap_or(MIN_EXP),
    })
}

/// The square root of a non-negative finite value, with the exponent
/// `floor(e/2)` when it is exact.
pub(crate) fn sqrt(x: Dec) -> Outcome {
    let ideal = x.exponent.div_euclid(2);
    if x.coefficient == 0 {
        return Outcome::Finite(Dec {
            coefficient: 0,
            exponent: ideal,
        });
    }
    let mut c = BigUint::from_u128(x.coefficient.unsigned_abs());
    let mut e = i64::from(x.exponent);
    if e.rem_euclid(2) == 1 {
        c = c.mul_small(10);
        e -= 1;
    }
    // Enough digits that the root has more than 34.
    let shift = (2 * (DIGITS + 2)).saturating_sub(c.digits()).div_ceil(2);
    let n = c.mul(&BigUint::pow10(2 * shift));
    let root = n.isqrt();
    let exact = root.mul(&root) == n;
    let mut big = Big {
        neg: false,
        mag: root,
        exp: e / 2 - i64::from(shift),
    };
    if exact {
        // Drop the zeros the shift added, down to the ideal exponent.
        while big.exp < i64::from(ideal) {
            let (q, r) = big.mag.divmod_small(10);
            if r != 0 {
                break;
            }
            big.mag = q;
            big.exp += 1;
        }
        return finish(big, false);
    }
    // Inexact: the root lies strictly above `root`, so a dropped exact half rounds up.
    let drop = big.mag.digits().saturating_sub(DIGITS);
    let divisor = BigUint::pow10(drop);
    let (mut q, r) = big.mag.divmod(&divisor);
    if r.mul_small(2) >= divisor {
        q = q.add(&BigUint::from_u128(1));
    }
    finish(
        Big {
            neg: false,
            mag: q,
            exp: big.exp + i64::from(drop),
        },
        false,
    )
}

/// e^x; exactly 1 for any zero.
pub(crate) fn exp(x: Dec) -> Outcome {
    if x.coefficient == 0 {
        return Outcome::Finite(Dec {
            coefficient: 1,
            exponent: 0,
        });
    }
    let big = Big::of(x);
    if big.magnitude() >= 5 {
        // |x| ≥ 10^5: e^x is past decimal128's range either way.
        return if big.neg {
            underflow()
        } else {
            Outcome::Infinite(false)
        };
    }
    finish(exp_big(&big), false)
}

/// Whether a positive value is exactly 1.
fn is_one(x: Dec) -> bool {
    Big::of(x).cmp(&Big::int(1)) == Ordering::Equal
}

/// ln x for a positive finite x; exactly 0 for 1.
pub(crate) fn ln(x: Dec) -> Outcome {
    if is_one(x) {
        return Outcome::Finite(Dec {
            coefficient: 0,
            exponent: 0,
        });
    }
    finish(ln_big(&Big::of(x)), false)
}

/// log10 x for a positive finite x; an exact integer for a power of ten.
pub(crate) fn log10(x: Dec) -> Outcome {
    let mut c = x.coefficient;
    let mut e = i64::from(x.exponent);
    while c % 10 == 0 && c != 0 {
        c /= 10;
        e += 1;
    }
    if c == 1 {
        return Outcome::Finite(Dec {
            coefficient: i128::from(e),
            exponent: 0,
        });
    }
    finish(ln_big(&Big::of(x)).div(ln10()), false)
}

/// log_base x for positive finite values (base ≠ 1): ln x / ln base.
pub(crate) fn log(x: Dec, base: Dec) -> Outcome {
    if is_one(x) {
        return Outcome::Finite(Dec {
            coefficient: 0,
            exponent: 0,
        });
    }
    finish(ln_big(&Big::of(x)).div(&ln_big(&Big::of(base))), false)
}

/// base^exponent. A zero exponent gives 1 and a zero base 0 (a negative
/// exponent of zero is refused before); a negative base needs an integer
/// exponent.
pub(crate) fn pow(base: Dec, exponent: Dec) -> Outcome {
    if exponent.coefficient == 0 {
        return Outcome::Finite(Dec {
            coefficient: 1,
            exponent: 0,
        });
    }
    if base.coefficient == 0 {
        return Outcome::Finite(Dec {
            coefficient: 0,
            exponent: 0,
        });
    }
    let integer = exponent.to_i64_exact();
    let neg = match (base.coefficient < 0, integer) {
        (false, _) => false,
        (true, Some(n)) => n % 2 != 0,
        (true, None) => return Outcome::NaN,
    };
    let magnitude = Big::of(base.abs());
    if is_one(base.abs()) {
        return Outcome::Finite(Dec {
            coefficient: if neg { -1 } else { 1 },
            exponent: 0,
        });
    }
    let value = match integer {
        // Small integer powers exactly, by squaring.
        Some(n) if n.unsigned_abs() <= 256 => {
            let mut result = Big::int(1);
            let mut square = magnitude;
            let mut left = n.unsigned_abs();
            while left > 0 {
                if left & 1 == 1 {
                    result = exact_mul(&result, &square);
                }
                square = exact_mul(&square, &square);
                left >>= 1;
            }
            if n < 0 {
                Big::int(1).div(&result)
            } else {
                result
            }
        }
        _ => {
            let y = ln_big(&magnitude).mul(&Big::of(exponent));
            if y.magnitude() >= 5 {
                return if y.neg {
                    underflow()
                } else {
                    Outcome::Infinite(neg)
                };
            }
            exp_big(&y)
        }
    };
    let value = if neg { value.negated() } else { value };
    finish(value, true)
}

/// A product kept to the working precision only once it outgrows it
/// (small integer powers stay exact while they fit).
fn exact_mul(a: &Big, b: &Big) -> Big {
    Big {
        neg: a.neg != b.neg,
        mag: a.mag.mul(&b.mag),
        exp: a.exp + b.exp,
    }
    .round(WORK * 2)
    .0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Dec {
        Dec::from_decimal128(&s.parse().unwrap()).unwrap()
    }

    fn text(o: Outcome) -> String {
        match o {
            Outcome::Finite(d) => d.to_decimal128().unwrap().to_string(),
            Outcome::Infinite(neg) => if neg { "-Infinity" } else { "Infinity" }.to_owned(),
            Outcome::NaN => "NaN".to_owned(),
        }
    }

    #[test]
    fn square_roots() {
        assert_eq!(text(sqrt(dec("2"))), "1.414213562373095048801688724209698");
        assert_eq!(text(sqrt(dec("4"))), "2");
        assert_eq!(text(sqrt(dec("4.00"))), "2.0");
        assert_eq!(text(sqrt(dec("1E+2"))), "1E+1");
        assert_eq!(text(sqrt(dec("0.04"))), "0.2");
        assert_eq!(
            text(sqrt(dec("2E-7"))),
            "0.0004472135954999579392818347337462552"
        );
    }

    #[test]
    fn exponentials_and_logarithms() {
        assert_eq!(text(exp(dec("1"))), "2.718281828459045235360287471352662");
        assert_eq!(text(exp(dec("-1"))), "0.3678794411714423215955237701614609");
        assert_eq!(text(exp(dec("0.00"))), "1");
        assert_eq!(text(exp(dec("20000"))), "Infinity");
        assert_eq!(text(exp(dec("-20000"))), "0E-6176");
        assert_eq!(text(ln(dec("10"))), "2.302585092994045684017991454684364");
        assert_eq!(text(ln(dec("1.0"))), "0");
        assert_eq!(
            text(log10(dec("2"))),
            "0.3010299956639811952137388947244930"
        );
        assert_eq!(text(log10(dec("100"))), "2");
        assert_eq!(text(log10(dec("0.001"))), "-3");
        assert_eq!(
            text(log(dec("8"), dec("2"))),
            "3.000000000000000000000000000000000"
        );
        assert_eq!(
            text(log(dec("2"), dec("8"))),
            "0.3333333333333333333333333333333333"
        );
    }

    #[test]
    fn powers_have_34_digits() {
        assert_eq!(
            text(pow(dec("3"), dec("2"))),
            "9.000000000000000000000000000000000"
        );
        assert_eq!(
            text(pow(dec("2"), dec("-1"))),
            "0.5000000000000000000000000000000000"
        );
        assert_eq!(
            text(pow(dec("2"), dec("200"))),
            "1.606938044258990275541962092341163E+60"
        );
        assert_eq!(
            text(pow(dec("1.1"), dec("100"))),
            "13780.61233982227018411833717208964"
        );
        assert_eq!(
            text(pow(dec("1.5"), dec("2.5"))),
            "2.755675960631075360471944584044128"
        );
        assert_eq!(
            text(pow(dec("4"), dec("0.5"))),
            "2.000000000000000000000000000000000"
        );
        assert_eq!(
            text(pow(dec("1E+10"), dec("2"))),
            "100000000000000000000.0000000000000"
        );
        assert_eq!(text(pow(dec("2"), dec("0"))), "1");
        assert_eq!(text(pow(dec("0"), dec("2"))), "0");
        assert_eq!(
            text(pow(dec("-2"), dec("3"))),
            "-8.000000000000000000000000000000000"
        );
        assert_eq!(text(pow(dec("-2"), dec("0.5"))), "NaN");
        assert_eq!(text(pow(dec("1E+5000"), dec("2"))), "Infinity");
    }
}
