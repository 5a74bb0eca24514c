//! Tests of `$convert` and the `$to…` shorthands, against the conversion
//! tables of the MongoDB manual.

use bson::oid::ObjectId;
use bson::{bson, Bson, DateTime};

use super::test_support::{dec, err, ok};

fn conv(input: Bson, to: Bson) -> Bson {
    bson!({"$convert": {"input": input, "to": to}})
}

#[test]
fn to_int_truncates_and_range_checks() {
    assert_eq!(ok(conv(bson!(true), bson!("int"))), Some(Bson::Int32(1)));
    assert_eq!(ok(conv(bson!(1.99999), bson!("int"))), Some(Bson::Int32(1)));
    assert_eq!(ok(conv(bson!(-1.9), bson!("int"))), Some(Bson::Int32(-1)));
    assert_eq!(ok(conv(dec("5.5000"), bson!("int"))), Some(Bson::Int32(5)));
    assert_eq!(
        ok(conv(bson!(5000_i64), bson!("int"))),
        Some(Bson::Int32(5000))
    );
    assert_eq!(ok(conv(bson!("-2"), bson!(16))), Some(Bson::Int32(-2)));
    assert!(err(conv(bson!("2.5"), bson!("int"))).contains("Failed to parse number '2.5'"));
    assert!(err(conv(dec("9223372036000.000"), bson!("int"))).contains("overflow"));
    assert!(err(conv(bson!(922_337_203_600_i64), bson!("int"))).contains("overflow"));
    assert!(err(conv(bson!(2147483648.0), bson!("int"))).contains("overflow"));
    assert!(err(conv(bson!(f64::NAN), bson!("int"))).contains("NaN"));
    assert!(err(conv(bson!("3000000000"), bson!("int"))).contains("Overflow"));
    let date = Bson::DateTime(DateTime::from_millis(5));
    assert!(err(conv(date, bson!("int"))).contains("Unsupported conversion from date to int"));
}

#[test]
fn to_long_double_decimal() {
    let date = Bson::DateTime(DateTime::from_millis(1_522_039_108_044));
    assert_eq!(
        ok(conv(date.clone(), bson!("long"))),
        Some(Bson::Int64(1_522_039_108_044))
    );
    assert_eq!(
        ok(conv(bson!(1.99999), bson!("long"))),
        Some(Bson::Int64(1))
    );
    assert!(err(conv(dec("9223372036854775808.0"), bson!("long"))).contains("overflow"));
    assert_eq!(
        ok(conv(bson!("5e10"), bson!("double"))),
        Some(Bson::Double(5e10))
    );
    assert_eq!(
        ok(conv(bson!(false), bson!("double"))),
        Some(Bson::Double(0.0))
    );
    assert_eq!(
        ok(conv(date.clone(), bson!("double"))),
        Some(Bson::Double(1_522_039_108_044.0))
    );
    assert!(err(conv(bson!("5e550"), bson!("double"))).contains("Failed to parse"));
    assert!(err(conv(dec("1E+400"), bson!("double"))).contains("overflow"));
    assert_eq!(
        ok(conv(bson!(2.5), bson!("decimal"))),
        Some(dec("2.50000000000000"))
    );
    assert_eq!(ok(conv(bson!(5), bson!("decimal"))), Some(dec("5")));
    assert_eq!(ok(conv(bson!("-5.5"), bson!("decimal"))), Some(dec("-5.5")));
    assert_eq!(ok(conv(date, bson!("decimal"))), Some(dec("1522039108044")));
    assert!(err(conv(bson!("0x6400"), bson!("decimal"))).contains("Failed to parse"));
}

#[test]
fn to_bool_string_object_id_date() {
    for (input, expected) in [
        (bson!(0), false),
        (bson!(0.0), false),
        (dec("0"), false),
        (bson!(f64::NAN), true),
        (bson!(""), true),
        (bson!("false"), true),
        (bson!([[]]), true),
        (bson!({}), true),
    ] {
        assert_eq!(ok(bson!({"$toBool": input})), Some(Bson::Boolean(expected)));
    }
    assert_eq!(
        ok(bson!({"$toString": 2.5})),
        Some(Bson::String("2.5".into()))
    );
    assert_eq!(
        ok(bson!({"$toString": 1e20})),
        Some(Bson::String("1e+20".into()))
    );
    assert_eq!(
        ok(bson!({"$toString": true})),
        Some(Bson::String("true".into()))
    );
    assert_eq!(
        ok(bson!({"$toString": dec("1.50")})),
        Some(Bson::String("1.50".into()))
    );
    let oid = ObjectId::parse_str("5ab9c3da31c2ab715d421285").unwrap();
    assert_eq!(
        ok(bson!({"$toString": oid})),
        Some(Bson::String("5ab9c3da31c2ab715d421285".into()))
    );
    assert_eq!(
        ok(bson!({"$toString": Bson::DateTime(DateTime::from_millis(1_522_169_931_538))})),
        Some(Bson::String("2018-03-27T16:58:51.538Z".into()))
    );
    assert!(err(bson!({"$toString": [[1]]})).contains("Unsupported conversion from array"));
    assert_eq!(
        ok(bson!({"$toObjectId": "5ab9c3da31c2ab715d421285"})),
        Some(Bson::ObjectId(oid))
    );
    assert!(err(bson!({"$toObjectId": "5ab9c3da31c2ab715d42128"})).contains("expected 24"));
    assert_eq!(
        ok(bson!({"$toDate": 120_000_000_000.5})),
        Some(Bson::DateTime(DateTime::from_millis(120_000_000_000)))
    );
    assert_eq!(
        ok(bson!({"$toDate": -1_100_000_000_000_i64})),
        Some(Bson::DateTime(DateTime::from_millis(-1_100_000_000_000)))
    );
    assert_eq!(
        ok(bson!({"$toDate": "2018-03-20 11:00:06 +0500"})),
        Some(Bson::DateTime(DateTime::from_millis(1_521_525_606_000)))
    );
    assert_eq!(
        ok(bson!({"$toDate": oid})),
        Some(Bson::DateTime(DateTime::from_millis(1_522_123_738_000)))
    );
    assert!(err(bson!({"$toDate": 5})).contains("from int to date"));
    assert!(err(bson!({"$toDate": "Friday"})).contains("Friday"));
}

#[test]
fn convert_null_error_and_target_rules() {
    assert_eq!(ok(bson!({"$toInt": null})), Some(Bson::Null));
    assert_eq!(ok(bson!({"$toInt": "$missing"})), Some(Bson::Null));
    assert_eq!(
        ok(bson!({"$convert": {"input": null, "to": "int", "onNull": "none"}})),
        Some(Bson::String("none".into()))
    );
    assert_eq!(
        ok(bson!({"$convert": {"input": "x", "to": "int", "onError": -1}})),
        Some(Bson::Int32(-1))
    );
    // onError is only evaluated when the conversion fails.
    assert_eq!(
        ok(bson!({"$convert": {"input": "7", "to": "int", "onError": {"$toInt": "x"}}})),
        Some(Bson::Int32(7))
    );
    assert_eq!(
        ok(bson!({"$convert": {"input": [1], "to": "array", "onError": "no"}})),
        Some(Bson::String("no".into()))
    );
    // A bad target is not a conversion failure: onError does not catch it.
    assert!(
        err(bson!({"$convert": {"input": 1, "to": "integer", "onError": 0}}))
            .contains("Unknown type name")
    );
    assert!(err(bson!({"$convert": {"input": 1, "to": 3.5}})).contains("not an integer"));
    assert!(err(bson!({"$convert": {"input": 1, "to": 99}})).contains("99"));
    assert!(err(bson!({"$convert": {"input": 1, "to": true}})).contains("string or number"));
    assert!(err(bson!({"$convert": {"input": 1}})).contains("'to'"));
    assert!(err(bson!({"$convert": {"to": "int"}})).contains("'input'"));
    assert!(err(bson!({"$convert": {"input": 1, "to": "int", "x": 1}})).contains("x"));
    assert_eq!(
        ok(bson!({"$convert": {"input": 1, "to": null}})),
        Some(Bson::Null)
    );
    assert_eq!(
        ok(bson!({"$convert": {"input": 1, "to": 1}})),
        Some(Bson::Double(1.0))
    );
}
