//! The server's test for whole-number arguments (indexes, counts, places):
//! a value of any numeric type that holds an integer fitting the width, so
//! `2`, `2.0`, `Long(2)` and `Decimal128("2.00")` all pass and `2.5` fails.

use bson::Bson;

use super::decimal::Dec;

/// The value as an `i64` if it is a whole number in range.
pub(crate) fn integral_i64(value: &Bson) -> Option<i64> {
    match value {
        Bson::Int32(i) => Some(i64::from(*i)),
        Bson::Int64(i) => Some(*i),
        // -2^63 and 2^63 are exact doubles; every whole double between converts.
        Bson::Double(f)
            if f.fract() == 0.0 && (i64::MIN as f64..-(i64::MIN as f64)).contains(f) =>
        {
            Some(*f as i64)
        }
        Bson::Decimal128(d) => Dec::from_decimal128(d).and_then(Dec::to_i64_exact),
        _ => None,
    }
}

/// The value as an `i32` if it is a whole number in range.
pub(crate) fn integral_i32(value: &Bson) -> Option<i32> {
    integral_i64(value).and_then(|i| i32::try_from(i).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_of_every_type() {
        assert_eq!(integral_i32(&Bson::Double(2.0)), Some(2));
        assert_eq!(integral_i32(&Bson::Double(-0.0)), Some(0));
        assert_eq!(integral_i32(&Bson::Double(2.5)), None);
        assert_eq!(integral_i32(&Bson::Double(f64::NAN)), None);
        assert_eq!(integral_i32(&Bson::Int64(1 << 40)), None);
        assert_eq!(integral_i64(&Bson::Int64(1 << 40)), Some(1 << 40));
        assert_eq!(integral_i64(&Bson::Double(9.3e18)), None);
        let d = Bson::Decimal128("2.00".parse().unwrap());
        assert_eq!(integral_i32(&d), Some(2));
        assert_eq!(integral_i32(&Bson::String("2".into())), None);
    }
}
