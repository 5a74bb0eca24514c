//! `$bucketAuto`'s `granularity`: bucket boundaries rounded up or down to a
//! preferred number series (Renard R5…R80, 1-2-5, E6…E192) or to a power
//! of two.
//!
//! The arithmetic is the server's, step for step: a series is scaled by
//! repeatedly multiplying or dividing a multiplier by ten, in doubles (or
//! in exact decimals for a decimal input), so the boundaries carry the
//! same rounding artefacts (`6.300000000000001`) as the server's.

use std::cmp::Ordering;

use bson::Bson;

use crate::expr::{type_name, Dec, Num};
use crate::{QueryError, QueryResult};

/// A rounding series, or powers of two.
#[derive(Debug, Clone, Copy)]
pub(super) enum Granularity {
    /// A preferred number series, scaled so its values are integers (the
    /// server's tables: R5 is `10, 16, 25, 40, 63`).
    Series(&'static [f64]),
    /// `POWERSOF2`.
    PowersOfTwo,
}

/// Renard series (the "least rounded" variants).
const R5: &[f64] = &[10., 16., 25., 40., 63.];
const R10: &[f64] = &[100., 125., 160., 200., 250., 315., 400., 500., 630., 800.];
const R20: &[f64] = &[
    100., 112., 125., 140., 160., 180., 200., 224., 250., 280., 315., 355., 400., 450., 500., 560.,
    630., 710., 800., 900.,
];
const R40: &[f64] = &[
    100., 106., 112., 118., 125., 132., 140., 150., 160., 170., 180., 190., 200., 212., 224., 236.,
    250., 265., 280., 300., 315., 355., 375., 400., 425., 450., 475., 500., 530., 560., 600., 630.,
    670., 710., 750., 800., 850., 900., 950.,
];
const R80: &[f64] = &[
    103., 109., 115., 122., 128., 136., 145., 155., 165., 175., 185., 195., 206., 218., 230., 243.,
    258., 272., 290., 307., 325., 345., 365., 387., 412., 437., 462., 487., 515., 545., 575., 615.,
    650., 690., 730., 775., 825., 875., 925., 975.,
];
/// The 1-2-5 series.
const S125: &[f64] = &[10., 20., 50.];
/// E series.
const E6: &[f64] = &[10., 15., 22., 33., 47., 68.];
const E12: &[f64] = &[10., 12., 15., 18., 22., 27., 33., 39., 47., 56., 68., 82.];
const E24: &[f64] = &[
    10., 11., 12., 13., 15., 16., 18., 20., 22., 24., 27., 30., 33., 36., 39., 43., 47., 51., 56.,
    62., 68., 75., 82., 91.,
];
const E48: &[f64] = &[
    100., 105., 110., 115., 121., 127., 133., 140., 147., 154., 162., 169., 178., 187., 196., 205.,
    215., 226., 237., 249., 261., 274., 287., 301., 316., 332., 348., 365., 383., 402., 422., 442.,
    464., 487., 511., 536., 562., 590., 619., 649., 681., 715., 750., 787., 825., 866., 909., 953.,
];
const E96: &[f64] = &[
    100., 102., 105., 107., 110., 113., 115., 118., 121., 124., 127., 130., 133., 137., 140., 143.,
    147., 150., 154., 158., 162., 165., 169., 174., 178., 182., 187., 191., 196., 200., 205., 210.,
    215., 221., 226., 232., 237., 243., 249., 255., 261., 267., 274., 280., 287., 294., 301., 309.,
    316., 324., 332., 340., 348., 357., 365., 374., 383., 392., 402., 412., 422., 432., 442., 453.,
    464., 475., 487., 499., 511., 523., 536., 549., 562., 576., 590., 604., 619., 634., 649., 665.,
    681., 698., 715., 732., 750., 768., 787., 806., 825., 845., 866., 887., 909., 931., 953., 976.,
];
const E192: &[f64] = &[
    100., 101., 102., 104., 105., 106., 107., 109., 110., 111., 113., 114., 115., 117., 118., 120.,
    121., 123., 124., 126., 127., 129., 130., 132., 133., 135., 137., 138., 140., 142., 143., 145.,
    147., 149., 150., 152., 154., 156., 158., 160., 162., 164., 165., 167., 169., 172., 174., 176.,
    178., 180., 182., 184., 187., 189., 191., 193., 196., 198., 200., 203., 205., 208., 210., 213.,
    215., 218., 221., 223., 226., 229., 232., 234., 237., 240., 243., 246., 249., 252., 255., 258.,
    261., 264., 267., 271., 274., 277., 280., 284., 287., 291., 294., 298., 301., 305., 309., 312.,
    316., 320., 324., 328., 332., 336., 340., 344., 348., 352., 357., 361., 365., 370., 374., 379.,
    383., 388., 392., 397., 402., 407., 412., 417., 422., 427., 432., 437., 442., 448., 453., 459.,
    464., 470., 475., 481., 487., 493., 499., 505., 511., 517., 523., 530., 536., 542., 549., 556.,
    562., 569., 576., 583., 590., 597., 604., 612., 619., 626., 634., 642., 649., 657., 665., 673.,
    681., 690., 698., 706., 715., 723., 732., 741., 750., 759., 768., 777., 787., 796., 806., 816.,
    825., 835., 845., 856., 866., 876., 887., 898., 909., 920., 931., 942., 953., 965., 976., 988.,
];

/// Every granularity, by the name `$bucketAuto` takes.
static GRANULARITIES: &[(&str, Granularity)] = &[
    ("R5", Granularity::Series(R5)),
    ("R10", Granularity::Series(R10)),
    ("R20", Granularity::Series(R20)),
    ("R40", Granularity::Series(R40)),
    ("R80", Granularity::Series(R80)),
    ("1-2-5", Granularity::Series(S125)),
    ("E6", Granularity::Series(E6)),
    ("E12", Granularity::Series(E12)),
    ("E24", Granularity::Series(E24)),
    ("E48", Granularity::Series(E48)),
    ("E96", Granularity::Series(E96)),
    ("E192", Granularity::Series(E192)),
    ("POWERSOF2", Granularity::PowersOfTwo),
];

/// How many times a multiplier may be scaled by ten: enough for every
/// finite double and decimal, and a bound where the server's loop would
/// not end (subnormal doubles, whose multiplier underflows to zero).
const MAX_SCALING: usize = 7000;

/// Finds a granularity by name.
pub(super) fn lookup(name: &str) -> QueryResult<Granularity> {
    GRANULARITIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, g)| *g)
        .ok_or_else(|| QueryError::new(format!("Unknown rounding granularity '{name}'")))
}

/// Which way a boundary is rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// To the smallest series value above.
    Up,
    /// To the largest series value below.
    Down,
}

impl Granularity {
    /// The smallest value of the granularity strictly above `value` (zero
    /// stays zero).
    pub(super) fn round_up(self, value: &Bson) -> QueryResult<Bson> {
        self.round(value, Direction::Up)
    }

    /// The largest value of the granularity strictly below `value` (zero
    /// stays zero).
    pub(super) fn round_down(self, value: &Bson) -> QueryResult<Bson> {
        self.round(value, Direction::Down)
    }

    /// Rounds a non-negative number; zero is returned as it is.
    fn round(self, value: &Bson, direction: Direction) -> QueryResult<Bson> {
        let num = roundable(value)?;
        if num.to_f64() == 0.0 {
            return Ok(value.clone());
        }
        match (self, num) {
            (Granularity::Series(series), Num::Decimal(d)) => {
                let number = Dec::from_decimal128(&d).ok_or_else(cannot_round)?;
                let series = decimal_series(series)?;
                let rounded = match direction {
                    Direction::Up => series_up(&series, number)?,
                    Direction::Down => series_down(&series, number)?,
                };
                Ok(Bson::Decimal128(rounded.to_decimal128()?))
            }
            (Granularity::Series(series), num) => {
                let number = num.to_f64();
                let rounded = match direction {
                    Direction::Up => series_up(series, number)?,
                    Direction::Down => series_down(series, number)?,
                };
                Ok(Bson::Double(rounded))
            }
            (Granularity::PowersOfTwo, num) => power_of_two(num, direction),
        }
    }
}

/// Checks that a value can be rounded: a number, not NaN, not negative
/// (and finite, where the server would loop forever).
fn roundable(value: &Bson) -> QueryResult<Num> {
    let num = Num::of(value).ok_or_else(|| {
        QueryError::new(format!(
            "A granularity rounder can only round numeric values, but found type: {}",
            type_name(Some(value))
        ))
    })?;
    let number = num.to_f64();
    if number.is_nan() {
        return Err(QueryError::new("A granularity rounder cannot round NaN"));
    }
    if number < 0.0 {
        return Err(QueryError::new(
            "A granularity rounder can only round non-negative numbers",
        ));
    }
    if number.is_infinite() {
        return Err(cannot_round());
    }
    Ok(num)
}

/// The error for a value too far out of range to round.
fn cannot_round() -> QueryError {
    QueryError::new("A granularity rounder cannot round infinite or out-of-range numbers")
}

/// The arithmetic a series is scaled with: doubles, or exact decimals for
/// a decimal input. One algorithm serves both, so that they cannot drift.
trait Scale: Copy {
    fn one() -> Self;
    fn times(self, other: Self) -> QueryResult<Self>;
    fn ten_times(self) -> QueryResult<Self>;
    fn tenth(self) -> QueryResult<Self>;
    fn order(self, other: Self) -> QueryResult<Ordering>;
}

impl Scale for f64 {
    fn one() -> f64 {
        1.0
    }
    fn times(self, other: f64) -> QueryResult<f64> {
        Ok(self * other)
    }
    fn ten_times(self) -> QueryResult<f64> {
        Ok(self * 10.0)
    }
    fn tenth(self) -> QueryResult<f64> {
        Ok(self / 10.0)
    }
    fn order(self, other: f64) -> QueryResult<Ordering> {
        // Never NaN: `roundable` refused it, and the series are positive.
        self.partial_cmp(&other).ok_or_else(cannot_round)
    }
}

impl Scale for Dec {
    fn one() -> Dec {
        Dec::from_i64(1)
    }
    fn times(self, other: Dec) -> QueryResult<Dec> {
        self.mul(other)
    }
    fn ten_times(self) -> QueryResult<Dec> {
        self.mul(Dec::from_i64(10))
    }
    fn tenth(self) -> QueryResult<Dec> {
        self.div(Dec::from_i64(10))
    }
    fn order(self, other: Dec) -> QueryResult<Ordering> {
        let difference = self.sub(other)?;
        Ok(if difference.is_zero() {
            Ordering::Equal
        } else if difference.is_negative() {
            Ordering::Less
        } else {
            Ordering::Greater
        })
    }
}

/// Counts the decade steps of a rounding, failing past [`MAX_SCALING`].
fn step(steps: &mut usize) -> QueryResult<()> {
    *steps += 1;
    if *steps > MAX_SCALING {
        return Err(cannot_round());
    }
    Ok(())
}

/// Rounds a positive number up in a series.
fn series_up<T: Scale>(series: &[T], number: T) -> QueryResult<T> {
    let (Some(&front), Some(&back)) = (series.first(), series.last()) else {
        return Err(cannot_round());
    };
    let mut multiplier = T::one();
    let mut steps = 0;
    while number.order(back.times(multiplier)?)? != Ordering::Less {
        multiplier = multiplier.ten_times()?;
        step(&mut steps)?;
    }
    while number.order(front.times(multiplier)?)? == Ordering::Less {
        let previous_min = front.times(multiplier)?;
        multiplier = multiplier.tenth()?;
        // Between this decade's last value and the next one's first.
        if number.order(back.times(multiplier)?)? != Ordering::Less {
            return Ok(previous_min);
        }
        step(&mut steps)?;
    }
    for &s in series {
        let scaled = s.times(multiplier)?;
        if number.order(scaled)? == Ordering::Less {
            return Ok(scaled);
        }
    }
    Err(cannot_round())
}

/// Rounds a positive number down in a series.
fn series_down<T: Scale>(series: &[T], number: T) -> QueryResult<T> {
    let (Some(&front), Some(&back)) = (series.first(), series.last()) else {
        return Err(cannot_round());
    };
    let mut multiplier = T::one();
    let mut steps = 0;
    while number.order(front.times(multiplier)?)? != Ordering::Greater {
        multiplier = multiplier.tenth()?;
        step(&mut steps)?;
    }
    while number.order(back.times(multiplier)?)? == Ordering::Greater {
        let previous_max = back.times(multiplier)?;
        multiplier = multiplier.ten_times()?;
        // Between the previous decade's last value and this one's first.
        if number.order(front.times(multiplier)?)? != Ordering::Greater {
            return Ok(previous_max);
        }
        step(&mut steps)?;
    }
    let mut below = None;
    for &s in series {
        let scaled = s.times(multiplier)?;
        if scaled.order(number)? != Ordering::Less {
            break;
        }
        below = Some(scaled);
    }
    below.ok_or_else(cannot_round)
}

/// A series in decimals, each value converted from its double with 15
/// significant digits as the server converts it.
fn decimal_series(series: &[f64]) -> QueryResult<Vec<Dec>> {
    series.iter().map(|s| Dec::from_f64(*s)).collect()
}

/// `POWERSOF2`: the power of two above (below) the number, as `$pow` of
/// the integer 2 computes it (an int, long or double; a decimal for a
/// decimal input).
fn power_of_two(num: Num, direction: Direction) -> QueryResult<Bson> {
    let log2 = |x: f64| match direction {
        Direction::Up => x.log2().floor() + 1.0,
        Direction::Down => x.log2().ceil() - 1.0,
    };
    match num {
        Num::Int(_) | Num::Long(_) => {
            let number = match num {
                Num::Int(i) => i64::from(i),
                Num::Long(i) => i,
                _ => 0,
            };
            let leading = i64::from(number.leading_zeros());
            let exponent = match direction {
                Direction::Up => 64 - leading,
                // An exact power of two rounds down to the one below.
                Direction::Down if number.count_ones() == 1 => 62 - leading,
                Direction::Down => 63 - leading,
            };
            Ok(pow2(exponent))
        }
        // In range: log2 of a finite positive double is within ±1075.
        Num::Double(f) => Ok(pow2(log2(f) as i64)),
        Num::Decimal(d) => {
            let exponent = log2(crate::compare::decimal_to_f64(&d)) as i64;
            Ok(Bson::Decimal128(pow2_decimal(exponent)?.to_decimal128()?))
        }
    }
}

/// `{$pow: [2, exponent]}` with an integer exponent: an int while it fits,
/// then a long, then a double (a double for negative exponents too).
fn pow2(exponent: i64) -> Bson {
    match exponent {
        0..=30 => Bson::Int32(1 << exponent),
        31..=62 => Bson::Int64(1 << exponent),
        _ => Bson::Double(2f64.powf(exponent as f64)),
    }
}

/// Two to an integer power, exactly, as a decimal.
fn pow2_decimal(exponent: i64) -> QueryResult<Dec> {
    let magnitude = u32::try_from(exponent.unsigned_abs()).map_err(|_| cannot_round())?;
    if exponent >= 0 {
        let power = 2i64.checked_pow(magnitude).ok_or_else(cannot_round)?;
        Ok(Dec::from_i64(power))
    } else {
        // 2^-n = 5^n / 10^n.
        let five = 5i64.checked_pow(magnitude).ok_or_else(cannot_round)?;
        let ten = 10i64.checked_pow(magnitude).ok_or_else(cannot_round)?;
        Dec::from_i64(five).div(Dec::from_i64(ten))
    }
}
