//! A small unsigned big integer, just enough for the decimal functions
//! (`$sqrt`, `$exp`, `$ln`, `$log`, `$log10`, `$pow` on decimals) to work
//! with 60-odd significant digits. Little-endian base-2^32 limbs, always
//! trimmed (no high zero limbs), schoolbook algorithms: the numbers stay
//! around 250 bits, where nothing cleverer pays.

use std::cmp::Ordering;

/// An unsigned integer of any size.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct BigUint {
    /// Base-2^32 digits, least significant first, no trailing zeros.
    limbs: Vec<u32>,
}

impl BigUint {
    /// Zero.
    pub(crate) fn zero() -> BigUint {
        BigUint::default()
    }

    /// From a `u128`.
    pub(crate) fn from_u128(mut n: u128) -> BigUint {
        let mut limbs = Vec::new();
        while n != 0 {
            limbs.push(n as u32);
            n >>= 32;
        }
        BigUint { limbs }
    }

    /// 10^n.
    pub(crate) fn pow10(n: u32) -> BigUint {
        let mut out = BigUint::from_u128(1);
        let mut left = n;
        while left >= 9 {
            out = out.mul_small(1_000_000_000);
            left -= 9;
        }
        out.mul_small(10u32.pow(left))
    }

    /// Drops high zero limbs.
    fn trimmed(mut self) -> BigUint {
        while self.limbs.last() == Some(&0) {
            self.limbs.pop();
        }
        self
    }

    /// Whether this is zero.
    pub(crate) fn is_zero(&self) -> bool {
        self.limbs.is_empty()
    }

    /// The value, if it fits in a `u128`.
    pub(crate) fn to_u128(&self) -> Option<u128> {
        if self.limbs.len() > 4 {
            return None;
        }
        Some(
            self.limbs
                .iter()
                .rev()
                .fold(0u128, |acc, &l| (acc << 32) | u128::from(l)),
        )
    }

    /// The sum.
    pub(crate) fn add(&self, other: &BigUint) -> BigUint {
        let (long, short) = if self.limbs.len() >= other.limbs.len() {
            (self, other)
        } else {
            (other, self)
        };
        let mut out = Vec::with_capacity(long.limbs.len() + 1);
        let mut carry = 0u64;
        for (i, &l) in long.limbs.iter().enumerate() {
            let s = u64::from(l) + u64::from(short.limbs.get(i).copied().unwrap_or(0)) + carry;
            out.push(s as u32);
            carry = s >> 32;
        }
        if carry != 0 {
            out.push(carry as u32);
        }
        BigUint { limbs: out }
    }

    /// The difference `self - other`, saturating at zero.
    pub(crate) fn sub(&self, other: &BigUint) -> BigUint {
        if self.cmp(other) != Ordering::Greater {
            return BigUint::zero();
        }
        let mut out = Vec::with_capacity(self.limbs.len());
        let mut borrow = 0i64;
        for (i, &l) in self.limbs.iter().enumerate() {
            let mut d = i64::from(l) - i64::from(other.limbs.get(i).copied().unwrap_or(0)) - borrow;
            borrow = i64::from(d < 0);
            if d < 0 {
                d += 1 << 32;
            }
            out.push(d as u32);
        }
        BigUint { limbs: out }.trimmed()
    }

    /// The product.
    pub(crate) fn mul(&self, other: &BigUint) -> BigUint {
        if self.is_zero() || other.is_zero() {
            return BigUint::zero();
        }
        let mut out = vec![0u32; self.limbs.len() + other.limbs.len()];
        for (i, &a) in self.limbs.iter().enumerate() {
            let mut carry = 0u64;
            for (j, &b) in other.limbs.iter().enumerate() {
                let slot = &mut out[i + j];
                let t = u64::from(a) * u64::from(b) + u64::from(*slot) + carry;
                *slot = t as u32;
                carry = t >> 32;
            }
            out[i + other.limbs.len()] = carry as u32;
        }
        BigUint { limbs: out }.trimmed()
    }

    /// The product with a small factor.
    pub(crate) fn mul_small(&self, factor: u32) -> BigUint {
        let mut out = Vec::with_capacity(self.limbs.len() + 1);
        let mut carry = 0u64;
        for &l in &self.limbs {
            let t = u64::from(l) * u64::from(factor) + carry;
            out.push(t as u32);
            carry = t >> 32;
        }
        if carry != 0 {
            out.push(carry as u32);
        }
        BigUint { limbs: out }.trimmed()
    }

    /// Quotient and remainder by a small non-zero divisor.
    pub(crate) fn divmod_small(&self, divisor: u32) -> (BigUint, u32) {
        let divisor = u64::from(divisor.max(1));
        let mut out = vec![0u32; self.limbs.len()];
        let mut rem = 0u64;
        for (i, &l) in self.limbs.iter().enumerate().rev() {
            let cur = (rem << 32) | u64::from(l);
            out[i] = (cur / divisor) as u32;
            rem = cur % divisor;
        }
        (BigUint { limbs: out }.trimmed(), rem as u32)
    }

    /// The number of significant bits.
    fn bits(&self) -> u64 {
        match self.limbs.last() {
            None => 0,
            Some(&top) => (self.limbs.len() as u64 - 1) * 32 + u64::from(32 - top.leading_zeros()),
        }
    }

    /// Bit `i` (0 = least significant).
    fn bit(&self, i: u64) -> bool {
        let limb = usize::try_from(i / 32).unwrap_or(usize::MAX);
        self.limbs
            .get(limb)
            .is_some_and(|l| (l >> (i % 32)) & 1 == 1)
    }

    /// Doubles in place and adds `bit`.
    fn shl1_or(&mut self, bit: bool) {
        let mut carry = u32::from(bit);
        for l in &mut self.limbs {
            let next = *l >> 31;
            *l = (*l << 1) | carry;
            carry = next;
        }
        if carry != 0 {
            self.limbs.push(carry);
        }
    }

    /// Quotient and remainder (binary long division; the divisor is not zero).
    pub(crate) fn divmod(&self, divisor: &BigUint) -> (BigUint, BigUint) {
        if divisor.is_zero() {
            return (BigUint::zero(), BigUint::zero());
        }
        if let [d] = divisor.limbs.as_slice() {
            let (q, r) = self.divmod_small(*d);
            return (q, BigUint::from_u128(u128::from(r)));
        }
        let mut quotient = vec![0u32; self.limbs.len()];
        let mut rem = BigUint::zero();
        for i in (0..self.bits()).rev() {
            rem.shl1_or(self.bit(i));
            if rem.cmp(divisor) != Ordering::Less {
                rem = rem.sub(divisor);
                if let Some(q) = quotient.get_mut(usize::try_from(i / 32).unwrap_or(usize::MAX)) {
                    *q |= 1 << (i % 32);
                }
            }
        }
        (BigUint { limbs: quotient }.trimmed(), rem)
    }

    /// The integer square root (floor).
    pub(crate) fn isqrt(&self) -> BigUint {
        if self.is_zero() {
            return BigUint::zero();
        }
        // Newton's method from a power of two above the root, decreasing.
        let mut x = BigUint::from_u128(1);
        for _ in 0..self.bits().div_ceil(2) {
            x.shl1_or(false);
        }
        loop {
            let (q, _) = self.divmod(&x);
            let (next, _) = x.add(&q).divmod_small(2);
            if next.cmp(&x) != Ordering::Less {
                return x;
            }
            x = next;
        }
    }

    /// The number of decimal digits (1 for zero).
    pub(crate) fn digits(&self) -> u32 {
        let mut n = 1;
        let mut rest = self.clone();
        while rest.cmp(&BigUint::from_u128(1_000_000_000)) != Ordering::Less {
            rest = rest.divmod_small(1_000_000_000).0;
            n += 9;
        }
        while rest.cmp(&BigUint::from_u128(10)) != Ordering::Less {
            rest = rest.divmod_small(10).0;
            n += 1;
        }
        n
    }
}

impl PartialOrd for BigUint {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for BigUint {
    fn cmp(&self, other: &Self) -> Ordering {
        self.limbs
            .len()
            .cmp(&other.limbs.len())
            .then_with(|| self.limbs.iter().rev().cmp(other.limbs.iter().rev()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn big(n: u128) -> BigUint {
        BigUint::from_u128(n)
    }

    #[test]
    fn arithmetic_matches_u128() {
        let a = 123_456_789_012_345_678_901_234_567_u128;
        let b = 987_654_321_098_765_u128;
        assert_eq!(big(a).add(&big(b)).to_u128(), Some(a + b));
        assert_eq!(big(a).sub(&big(b)).to_u128(), Some(a - b));
        assert_eq!(big(b).sub(&big(a)), BigUint::zero());
        assert_eq!(big(b).mul(&big(b)).to_u128(), Some(b * b));
        let (q, r) = big(a).divmod(&big(b));
        assert_eq!((q.to_u128(), r.to_u128()), (Some(a / b), Some(a % b)));
        assert_eq!(big(a).divmod_small(7).1, (a % 7) as u32);
        assert_eq!(big(1 << 100).isqrt().to_u128(), Some(1 << 50));
        assert_eq!(big(99).isqrt().to_u128(), Some(9));
        assert_eq!(BigUint::pow10(30).to_u128(), Some(10u128.pow(30)));
        assert_eq!(BigUint::pow10(30).digits(), 31);
        assert_eq!(big(0).digits(), 1);
        assert!(BigUint::pow10(50) > BigUint::pow10(49));
        assert_eq!(BigUint::pow10(40).to_u128(), None);
    }
}
