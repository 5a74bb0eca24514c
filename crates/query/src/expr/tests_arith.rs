//! Tests of the rounding operators and of `$sqrt`, `$pow`, `$exp`, `$ln`,
//! `$log`, `$log10`.

use bson::{bson, doc, Bson, Decimal128};

use super::*;

fn eval(spec: Bson) -> QueryResult<Option<Bson>> {
    Expr::parse(&spec)?.evaluate(&doc! {"_id": 0})
}

fn ok(spec: Bson) -> Bson {
    eval(spec).unwrap().expect("a value")
}

fn err(spec: Bson) -> String {
    match eval(spec) {
        Err(e) => e.message().to_owned(),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

fn dec(s: &str) -> Bson {
    Bson::Decimal128(s.parse::<Decimal128>().unwrap())
}

/// The exact BSON, telling -0.0 from 0.0 and every NaN alike.
fn same(a: &Bson, b: &Bson) -> bool {
    match (a, b) {
        (Bson::Double(x), Bson::Double(y)) => {
            (x.is_nan() && y.is_nan()) || (x == y && x.is_sign_negative() == y.is_sign_negative())
        }
        _ => a == b,
    }
}

#[track_caller]
fn check(spec: Bson, expected: Bson) {
    let got = ok(spec.clone());
    assert!(
        same(&got, &expected),
        "{spec}: got {got:?}, expected {expected:?}"
    );
}

#[test]
fn ceil_and_floor_keep_the_type() {
    check(bson!({"$ceil": 1.2}), bson!(2.0));
    check(bson!({"$ceil": -1.2}), bson!(-1.0));
    check(bson!({"$ceil": -0.5}), bson!(-0.0));
    check(bson!({"$floor": -1.2}), bson!(-2.0));
    check(bson!({"$floor": 7}), bson!(7));
    check(bson!({"$floor": 7_i64}), bson!(7_i64));
    check(bson!({"$floor": f64::NAN}), bson!(f64::NAN));
    check(bson!({"$ceil": f64::INFINITY}), bson!(f64::INFINITY));
    check(bson!({"$ceil": dec("1.01")}), dec("2"));
    check(bson!({"$floor": dec("-1.01")}), dec("-2"));
    check(bson!({"$ceil": dec("-0.5")}), dec("-0"));
    check(bson!({"$ceil": dec("5E+3")}), dec("5000"));
    // Too many digits at exponent 0: IEEE quantize's NaN, as the server gives.
    check(bson!({"$floor": dec("1E+40")}), dec("NaN"));
    check(bson!({"$ceil": null}), Bson::Null);
    assert_eq!(eval(bson!({"$floor": "$x"})).unwrap(), Some(Bson::Null));
    assert_eq!(
        err(bson!({"$ceil": "1"})),
        "$ceil only supports numeric types, not string"
    );
}

#[test]
fn round_is_half_even_through_decimal() {
    check(bson!({"$round": 2.5}), bson!(2.0));
    check(bson!({"$round": 3.5}), bson!(4.0));
    check(bson!({"$round": -2.5}), bson!(-2.0));
    check(bson!({"$round": -0.4}), bson!(-0.0));
    check(bson!({"$round": [1234.5678, 2]}), bson!(1234.57));
    check(bson!({"$round": [1234.5678, -2]}), bson!(1200.0));
    check(bson!({"$round": [1234.5678, -4]}), bson!(0.0));
    // The double below 2.675 rounds down; 1.005 is below 1.005 too.
    check(bson!({"$round": [2.675, 2]}), bson!(2.67));
    check(bson!({"$round": [1.005, 2]}), bson!(1.0));
    check(bson!({"$round": [0.125, 2]}), bson!(0.12));
    check(bson!({"$round": [1.5, 100]}), bson!(1.5));
    check(bson!({"$round": [1e300, 2]}), bson!(1e300));
    check(bson!({"$round": [25, -1]}), bson!(20));
    check(bson!({"$round": [35, -1]}), bson!(40));
    check(bson!({"$round": [7, 3]}), bson!(7));
    check(
        bson!({"$round": [2_147_483_647, -1]}),
        bson!(2_147_483_650_i64),
    );
    check(
        bson!({"$round": [-2_147_483_648, -1]}),
        bson!(-2_147_483_650_i64),
    );
    check(bson!({"$round": [1_234_567_i64, -20]}), bson!(0_i64));
    check(bson!({"$round": [dec("2.5"), 0]}), dec("2"));
    check(bson!({"$round": [dec("1.5"), 2]}), dec("1.50"));
    check(bson!({"$round": [dec("1234.5678"), -2]}), dec("1.2E+3"));
    check(bson!({"$round": [dec("-0.4"), 0]}), dec("-0"));
    // Past 34 digits the value keeps as many as fit.
    check(
        bson!({"$round": [dec("1.5"), 100]}),
        dec("1.500000000000000000000000000000000"),
    );
    check(
        bson!({"$trunc": [dec("1E+40"), 0]}),
        dec("1.000000000000000000000000000000000E+40"),
    );
    check(bson!({"$round": [f64::NAN, 1]}), bson!(f64::NAN));
    check(bson!({"$round": [null, 1]}), Bson::Null);
    check(bson!({"$round": [1.5, null]}), Bson::Null);
    assert!(err(bson!({"$round": [i64::MAX, -1]})).contains("invalid conversion"));
    assert_eq!(
        err(bson!({"$round": [1, 101]})),
        "cannot apply $round with precision value 101 value must be in [-20, 100]"
    );
    assert!(err(bson!({"$round": [1, -21]})).contains("[-20, 100]"));
    assert!(err(bson!({"$round": [1, 1.5]})).contains("integral"));
    assert!(err(bson!({"$round": [1, "1"]})).contains("integral"));
    assert_eq!(
        err(bson!({"$round": ["1", 1]})),
        "$round only supports numeric types, not string"
    );
    assert!(err(bson!({"$round": [1, 2, 3]})).contains("at most 2"));
}

#[test]
fn trunc_goes_toward_zero() {
    check(bson!({"$trunc": 7.8}), bson!(7.0));
    check(bson!({"$trunc": -7.8}), bson!(-7.0));
    check(bson!({"$trunc": -0.4}), bson!(-0.0));
    check(bson!({"$trunc": [1234.5678, 2]}), bson!(1234.56));
    check(bson!({"$trunc": [1234.5678, -2]}), bson!(1200.0));
    check(bson!({"$trunc": [-29, -1]}), bson!(-20));
    check(bson!({"$trunc": [dec("-1.99"), 1]}), dec("-1.9"));
    check(
        bson!({"$trunc": [f64::NEG_INFINITY, 1]}),
        bson!(f64::NEG_INFINITY),
    );
}

#[test]
fn sqrt_exp_logs() {
    check(bson!({"$sqrt": 16}), bson!(4.0));
    check(bson!({"$sqrt": 2_i64}), bson!(2f64.sqrt()));
    check(bson!({"$sqrt": f64::NAN}), bson!(f64::NAN));
    assert_eq!(
        err(bson!({"$sqrt": -1})),
        "$sqrt's argument must be greater than or equal to 0"
    );
    check(bson!({"$exp": 0}), bson!(1.0));
    check(bson!({"$exp": 1}), bson!(std::f64::consts::E));
    check(bson!({"$ln": 1}), bson!(0.0));
    check(bson!({"$ln": f64::NAN}), bson!(f64::NAN));
    // A non-positive decimal falls back to the double path, and its error.
    assert_eq!(
        err(bson!({"$ln": dec("0")})),
        "$ln's argument must be a positive number, but is 0"
    );
    check(bson!({"$ln": dec("NaN")}), bson!(f64::NAN));
    check(bson!({"$log10": 1000}), bson!(3.0));
    assert_eq!(
        err(bson!({"$log10": -1})),
        "$log10's argument must be a positive number, but is -1"
    );
    check(bson!({"$log": [100, 10]}), bson!(2.0));
    check(bson!({"$log": [8, 2_i64]}), bson!(3.0));
    check(bson!({"$log": [null, 2]}), Bson::Null);
    assert_eq!(
        err(bson!({"$log": [100, 1]})),
        "$log's base must be a positive number not equal to 1, but is 1"
    );
    assert_eq!(
        err(bson!({"$log": [-1, 10]})),
        "$log's argument must be a positive number, but is -1"
    );
    assert_eq!(
        err(bson!({"$log": ["a", 10]})),
        "$log's argument must be numeric, not string"
    );
    assert_eq!(
        err(bson!({"$exp": "a"})),
        "$exp only supports numeric types, not string"
    );
    // Decimals give decimals, rounded to 34 digits.
    check(
        bson!({"$sqrt": dec("2")}),
        dec("1.414213562373095048801688724209698"),
    );
    check(bson!({"$sqrt": dec("-0")}), dec("-0"));
    check(bson!({"$sqrt": dec("Infinity")}), dec("Infinity"));
    assert!(err(bson!({"$sqrt": dec("-Infinity")})).contains("greater than or equal"));
    check(
        bson!({"$exp": dec("1")}),
        dec("2.718281828459045235360287471352662"),
    );
    check(bson!({"$exp": dec("-Infinity")}), dec("0"));
    check(
        bson!({"$ln": dec("10")}),
        dec("2.302585092994045684017991454684364"),
    );
    check(bson!({"$ln": dec("Infinity")}), dec("Infinity"));
    check(bson!({"$log10": dec("1E+10")}), dec("10"));
    check(
        bson!({"$log": [dec("8"), 2]}),
        dec("3.000000000000000000000000000000000"),
    );
}

#[test]
fn pow_keeps_integers_exact() {
    check(bson!({"$pow": [2, 10]}), bson!(1024));
    check(bson!({"$pow": [2, 31]}), bson!(2_147_483_648_i64));
    check(
        bson!({"$pow": [2, 62_i64]}),
        bson!(4_611_686_018_427_387_904_i64),
    );
    check(bson!({"$pow": [2, 63]}), bson!(9.223372036854776e18));
    check(bson!({"$pow": [-2, 63]}), bson!(i64::MIN));
    check(bson!({"$pow": [3_i64, 2]}), bson!(9_i64));
    check(bson!({"$pow": [5, -2]}), bson!(0.04));
    check(bson!({"$pow": [-1, -3]}), bson!(-1));
    check(bson!({"$pow": [1, -3]}), bson!(1));
    check(bson!({"$pow": [0, 0]}), bson!(1));
    check(bson!({"$pow": [0_i64, 5]}), bson!(0_i64));
    check(bson!({"$pow": [-5, 0.5]}), bson!(f64::NAN));
    check(bson!({"$pow": [4, 0.5]}), bson!(2.0));
    check(bson!({"$pow": [null, 2]}), Bson::Null);
    assert_eq!(
        err(bson!({"$pow": [0, -1]})),
        "$pow cannot take a base of 0 and a negative exponent"
    );
    assert_eq!(
        err(bson!({"$pow": [0.0, -0.5]})),
        "$pow cannot take a base of 0 and a negative exponent"
    );
    assert_eq!(
        err(bson!({"$pow": ["2", 2]})),
        "$pow's base must be numeric, not string"
    );
    assert_eq!(
        err(bson!({"$pow": [2, "2"]})),
        "$pow's exponent must be numeric, not string"
    );
    check(
        bson!({"$pow": [dec("2"), 10]}),
        dec("1024.000000000000000000000000000000"),
    );
    check(
        bson!({"$pow": [2, dec("0.5")]}),
        dec("1.414213562373095048801688724209698"),
    );
    check(bson!({"$pow": [dec("-8"), dec("0.5")]}), dec("NaN"));
    check(bson!({"$pow": [dec("7"), 0]}), dec("1"));
    assert!(err(bson!({"$pow": [dec("0"), -1]})).contains("base of 0"));
}

#[test]
fn decimal_sums_of_far_apart_exponents_are_rounded() {
    // The running total starts at 0, so even one 1E+40 needs 41 digits at
    // exponent 0: IEEE decimal128 keeps 34 (as MongoDB and the server do).
    check(
        bson!({"$add": [dec("1E+40")]}),
        dec("1.000000000000000000000000000000000E+40"),
    );
    check(
        bson!({"$add": [dec("1E+40"), 1]}),
        dec("1.000000000000000000000000000000000E+40"),
    );
    check(
        bson!({"$add": [dec("1E+6000"), dec("-1")]}),
        dec("1.000000000000000000000000000000000E+6000"),
    );
    // An exact zero has the smaller exponent: 7, of the rounded 1E+40.
    check(bson!({"$add": [dec("1E+40"), dec("-1E+40")]}), dec("0E+7"));
}
