//! Tests of the date operators. Dates are written as ISO strings for
//! readability; expected values follow the MongoDB manual's examples and
//! rules (local calendar fields in the given zone, DST-aware).

use bson::{bson, doc, Bson, DateTime, Document};

use super::test_support::{err, ok};

/// A date from an ISO 8601 UTC string.
fn d(text: &str) -> Bson {
    Bson::DateTime(DateTime::parse_rfc3339_str(text).unwrap())
}

fn int(n: i32) -> Option<Bson> {
    Some(Bson::Int32(n))
}

fn s(text: &str) -> Option<Bson> {
    Some(Bson::String(text.to_owned()))
}

#[test]
fn extractors_in_utc_and_zones() {
    let date = d("2017-01-02T03:04:05.678Z");
    assert_eq!(ok(bson!({"$year": date.clone()})), int(2017));
    assert_eq!(ok(bson!({"$month": date.clone()})), int(1));
    assert_eq!(ok(bson!({"$dayOfMonth": date.clone()})), int(2));
    assert_eq!(ok(bson!({"$hour": date.clone()})), int(3));
    assert_eq!(ok(bson!({"$minute": date.clone()})), int(4));
    assert_eq!(ok(bson!({"$second": date.clone()})), int(5));
    assert_eq!(ok(bson!({"$millisecond": date.clone()})), int(678));
    assert_eq!(ok(bson!({"$dayOfYear": date.clone()})), int(2));
    assert_eq!(ok(bson!({"$dayOfWeek": date.clone()})), int(2));
    assert_eq!(ok(bson!({"$week": date.clone()})), int(1));
    assert_eq!(ok(bson!({"$isoWeek": date.clone()})), int(1));
    assert_eq!(ok(bson!({"$isoDayOfWeek": date.clone()})), int(1));
    assert_eq!(
        ok(bson!({"$isoWeekYear": date.clone()})),
        Some(Bson::Int64(2017))
    );
    // Manual: {$isoWeekYear: {date: ISODate("2017-01-02T00:00:00Z"), timezone: "-0500"}} is 2016.
    assert_eq!(
        ok(bson!({"$isoWeekYear": {"date": d("2017-01-02T00:00:00Z"), "timezone": "-0500"}})),
        Some(Bson::Int64(2016))
    );
    assert_eq!(
        ok(bson!({"$hour": {"date": date.clone(), "timezone": "America/New_York"}})),
        int(22)
    );
    assert_eq!(
        ok(bson!({"$minute": {"date": date.clone(), "timezone": "+05:30"}})),
        int(34)
    );
    assert_eq!(ok(bson!({"$year": [date.clone()]})), int(2017));
    assert_eq!(ok(bson!({"$year": null})), Some(Bson::Null));
    assert_eq!(
        ok(bson!({"$year": {"date": date.clone(), "timezone": null}})),
        Some(Bson::Null)
    );
    assert!(err(bson!({"$year": "2017-01-01"})).contains("can't convert from BSON type string"));
    assert!(
        err(bson!({"$year": {"date": date.clone(), "timezone": "Nowhere"}}))
            .contains("unrecognized time zone")
    );
    assert!(err(bson!({"$year": {"date": date.clone(), "zone": "UTC"}})).contains("zone"));
    assert!(err(bson!({"$year": [date.clone(), date]})).contains("takes exactly 1"));
    // Before 1970.
    assert_eq!(
        ok(bson!({"$year": d("1969-12-31T23:59:59.999Z")})),
        int(1969)
    );
    assert_eq!(
        ok(bson!({"$millisecond": d("1969-12-31T23:59:59.999Z")})),
        int(999)
    );
}

#[test]
fn to_string_formats() {
    let date = d("2014-01-01T08:15:39.736Z");
    let fmt = |format: &str, tz: &str| {
        ok(bson!({"$dateToString": {"date": date.clone(), "format": format, "timezone": tz}}))
    };
    assert_eq!(
        fmt("%Y-%m-%d %H:%M:%S.%L", "UTC"),
        s("2014-01-01 08:15:39.736")
    );
    assert_eq!(fmt("%j %w %u %U %V %G", "UTC"), s("001 4 3 00 01 2014"));
    assert_eq!(fmt("%z %Z %%", "+04:45"), s("+0445 285 %"));
    assert_eq!(fmt("%H:%M %z", "America/New_York"), s("03:15 -0500"));
    assert_eq!(fmt("%b %B", "UTC"), s("Jan January"));
    assert_eq!(
        ok(bson!({"$dateToString": {"date": date.clone()}})),
        s("2014-01-01T08:15:39.736Z")
    );
    assert_eq!(
        ok(bson!({"$dateToString": {"date": date.clone(), "timezone": "+01:00"}})),
        s("2014-01-01T09:15:39.736")
    );
    assert_eq!(
        ok(bson!({"$dateToString": {"date": null, "onNull": "none"}})),
        s("none")
    );
    assert_eq!(
        ok(bson!({"$dateToString": {"date": "$missing"}})),
        Some(Bson::Null)
    );
    assert!(
        err(bson!({"$dateToString": {"date": date.clone(), "format": "%Q"}}))
            .contains("Invalid format character '%Q'")
    );
    assert!(
        err(bson!({"$dateToString": {"date": date.clone(), "format": "%"}})).contains("Unmatched")
    );
    assert!(err(bson!({"$dateToString": {"format": "%Y"}})).contains("'date'"));
    // Years past 9999 cannot be printed.
    let far = Bson::DateTime(DateTime::from_millis(300_000_000_000_000));
    assert!(err(bson!({"$dateToString": {"date": far}})).contains("0-9999"));
}

#[test]
fn from_string_with_and_without_format() {
    assert_eq!(
        ok(bson!({"$dateFromString": {"dateString": "2017-02-08T12:10:40.787"}})),
        Some(d("2017-02-08T12:10:40.787Z"))
    );
    assert_eq!(
        ok(bson!({"$dateFromString": {
            "dateString": "2017-02-08T12:10:40.787",
            "timezone": "America/New_York"
        }})),
        Some(d("2017-02-08T17:10:40.787Z"))
    );
    assert_eq!(
        ok(bson!({"$dateFromString": {"dateString": "15-06-2018", "format": "%d-%m-%Y"}})),
        Some(d("2018-06-15T00:00:00Z"))
    );
    assert_eq!(
        ok(bson!({"$dateFromString": {"dateString": "oops", "onError": "bad"}})),
        s("bad")
    );
    assert_eq!(
        ok(bson!({"$dateFromString": {"dateString": null, "onNull": "none"}})),
        s("none")
    );
    assert!(err(bson!({"$dateFromString": {
        "dateString": "2017-02-08T12:10:40Z",
        "timezone": "Europe/London"
    }}))
    .contains("time zone information"));
    // A bad timezone is not caught by onError.
    assert!(err(bson!({"$dateFromString": {
        "dateString": "2017-02-08",
        "timezone": "Nowhere",
        "onError": 1
    }}))
    .contains("unrecognized"));
}

#[test]
fn from_and_to_parts() {
    assert_eq!(
        ok(bson!({"$dateFromParts": {"year": 2017, "month": 14, "day": 1, "hour": 12}})),
        Some(d("2018-02-01T12:00:00Z"))
    );
    assert_eq!(
        ok(bson!({"$dateFromParts": {"year": 2017, "month": 0, "day": 1, "hour": 12}})),
        Some(d("2016-12-01T12:00:00Z"))
    );
    assert_eq!(
        ok(
            bson!({"$dateFromParts": {"isoWeekYear": 2017, "isoWeek": 6, "isoDayOfWeek": 3, "hour": 12}})
        ),
        Some(d("2017-02-08T12:00:00Z"))
    );
    assert_eq!(
        ok(bson!({"$dateFromParts": {
            "year": 2016, "month": 12, "day": 31, "hour": 23, "minute": 46, "second": 12,
            "timezone": "America/New_York"
        }})),
        Some(d("2017-01-01T04:46:12Z"))
    );
    assert_eq!(
        ok(bson!({"$dateFromParts": {"year": 2017, "day": null}})),
        Some(Bson::Null)
    );
    assert!(err(bson!({"$dateFromParts": {"year": 10000}})).contains("1 to 9999"));
    assert!(err(bson!({"$dateFromParts": {"year": 2017, "month": 1.5}})).contains("integer"));
    assert!(err(bson!({"$dateFromParts": {"year": 2017, "isoWeek": 1}})).contains("mixing"));
    assert!(err(bson!({"$dateFromParts": {"month": 1}})).contains("'year' or 'isoWeekYear'"));
    // Far out-of-range parts still carry.
    assert_eq!(
        ok(bson!({"$dateFromParts": {"year": 2017, "day": 40000}})),
        Some(d("2126-07-08T00:00:00Z"))
    );
    assert!(err(bson!({"$dateFromParts": {"year": 2017, "day": i64::MAX}})).contains("overflow"));
    assert!(err(bson!({"$dateFromParts": {
        "year": 2017, "day": i64::MAX, "hour": i64::MIN, "timezone": "Europe/Paris"
    }}))
    .contains("overflow"));
    assert_eq!(
        ok(bson!({"$dateToParts": {"date": d("2017-01-01T01:29:09.123Z"), "timezone": "-0500"}})),
        Some(bson!({
            "year": 2016, "month": 12, "day": 31, "hour": 20, "minute": 29, "second": 9,
            "millisecond": 123
        }))
    );
    assert_eq!(
        ok(bson!({"$dateToParts": {"date": d("2017-01-01T01:29:09.123Z"), "iso8601": true}})),
        Some(bson!({
            "isoWeekYear": 2016, "isoWeek": 52, "isoDayOfWeek": 7, "hour": 1, "minute": 29,
            "second": 9, "millisecond": 123
        }))
    );
    assert!(
        err(bson!({"$dateToParts": {"date": d("2017-01-01T00:00:00Z"), "iso8601": 1}}))
            .contains("bool")
    );
}

#[test]
fn add_subtract_across_month_ends_and_dst() {
    let add = |date: Bson, unit: &str, amount: i64, tz: Option<&str>| {
        let mut spec = doc! {"startDate": date, "unit": unit, "amount": amount};
        if let Some(tz) = tz {
            spec.insert("timezone", tz);
        }
        ok(bson!({"$dateAdd": spec}))
    };
    assert_eq!(
        add(d("2020-01-31T10:00:00Z"), "month", 1, None),
        Some(d("2020-02-29T10:00:00Z"))
    );
    assert_eq!(
        add(d("2020-02-29T10:00:00Z"), "year", 1, None),
        Some(d("2021-02-28T10:00:00Z"))
    );
    assert_eq!(
        add(d("2020-03-31T10:00:00Z"), "quarter", -1, None),
        Some(d("2019-12-31T10:00:00Z"))
    );
    // A day across the spring-forward change keeps the local time of day.
    assert_eq!(
        add(
            d("2021-03-13T12:00:00Z"),
            "day",
            1,
            Some("America/New_York")
        ),
        Some(d("2021-03-14T11:00:00Z"))
    );
    // Hours are elapsed time (manual's example).
    assert_eq!(
        add(
            d("2020-11-01T05:50:02Z"),
            "hour",
            1,
            Some("America/New_York")
        ),
        Some(d("2020-11-01T06:50:02Z"))
    );
    assert_eq!(
        ok(
            bson!({"$dateSubtract": {"startDate": d("2021-03-31T00:00:00Z"), "unit": "month", "amount": 1}})
        ),
        Some(d("2021-02-28T00:00:00Z"))
    );
    assert_eq!(
        add(d("1969-12-31T23:59:59Z"), "second", 2, None),
        Some(d("1970-01-01T00:00:01Z"))
    );
    assert!(err(
        bson!({"$dateAdd": {"startDate": d("2021-01-01T00:00:00Z"), "unit": "day", "amount": 1.5}})
    )
    .contains("integer amount"));
    assert!(err(
        bson!({"$dateAdd": {"startDate": d("2021-01-01T00:00:00Z"), "unit": "days", "amount": 1}})
    )
    .contains("unknown time unit"));
    assert!(
        err(bson!({"$dateAdd": {"startDate": "2021", "unit": "day", "amount": 1}}))
            .contains("startDate")
    );
    assert!(err(bson!({"$dateAdd": {"startDate": d("2021-01-01T00:00:00Z"), "unit": "year", "amount": 1_000_000_000_i64}}))
        .contains("invalid dateAdd"));
    assert_eq!(
        ok(bson!({"$dateAdd": {"startDate": null, "unit": "day", "amount": 1}})),
        Some(Bson::Null)
    );
}

#[test]
fn diff_counts_boundaries() {
    let diff = |start: &str, end: &str, unit: &str, extra: Document| {
        let mut spec = doc! {"startDate": d(start), "endDate": d(end), "unit": unit};
        spec.extend(extra);
        ok(bson!({"$dateDiff": spec}))
    };
    let long = |n: i64| Some(Bson::Int64(n));
    assert_eq!(
        diff(
            "2020-12-31T23:59:59Z",
            "2021-01-01T00:00:00Z",
            "year",
            doc! {}
        ),
        long(1)
    );
    assert_eq!(
        diff(
            "2021-01-01T00:00:00Z",
            "2020-12-31T23:59:59Z",
            "day",
            doc! {}
        ),
        long(-1)
    );
    assert_eq!(
        diff(
            "2021-03-31T00:00:00Z",
            "2021-04-01T00:00:00Z",
            "quarter",
            doc! {}
        ),
        long(1)
    );
    assert_eq!(
        diff(
            "2021-01-01T00:00:00Z",
            "2021-03-01T00:00:00Z",
            "month",
            doc! {}
        ),
        long(2)
    );
    assert_eq!(
        diff(
            "2021-01-01T00:00:00Z",
            "2021-01-01T00:00:01.5Z",
            "millisecond",
            doc! {}
        ),
        long(1500)
    );
    // 2021-01-02 is a Saturday, 2021-01-03 a Sunday.
    assert_eq!(
        diff(
            "2021-01-02T00:00:00Z",
            "2021-01-03T00:00:00Z",
            "week",
            doc! {}
        ),
        long(1)
    );
    assert_eq!(
        diff(
            "2021-01-02T00:00:00Z",
            "2021-01-03T00:00:00Z",
            "week",
            doc! {"startOfWeek": "MON"}
        ),
        long(0)
    );
    // Elapsed hours across the fall-back change are 25 in New York.
    assert_eq!(
        diff(
            "2020-10-31T04:00:00Z",
            "2020-11-01T05:00:00Z",
            "hour",
            doc! {"timezone": "America/New_York"}
        ),
        long(25)
    );
    assert_eq!(
        diff(
            "2020-10-31T04:00:00Z",
            "2020-11-01T05:00:00Z",
            "day",
            doc! {"timezone": "America/New_York"}
        ),
        long(1)
    );
    assert!(err(
        bson!({"$dateDiff": {"startDate": 1, "endDate": d("2021-01-01T00:00:00Z"), "unit": "day"}})
    )
    .contains("startDate"));
}

#[test]
fn trunc_bins() {
    let trunc = |date: &str, extra: Document| {
        let mut spec = doc! {"date": d(date)};
        spec.extend(extra);
        ok(bson!({"$dateTrunc": spec}))
    };
    assert_eq!(
        trunc("2021-03-20T11:30:05Z", doc! {"unit": "hour"}),
        Some(d("2021-03-20T11:00:00Z"))
    );
    assert_eq!(
        trunc(
            "2021-03-20T11:30:05Z",
            doc! {"unit": "minute", "binSize": 15}
        ),
        Some(d("2021-03-20T11:30:00Z"))
    );
    // Weeks start on Sunday by default; 2021-03-20 is a Saturday.
    assert_eq!(
        trunc("2021-03-20T11:30:05Z", doc! {"unit": "week"}),
        Some(d("2021-03-14T00:00:00Z"))
    );
    assert_eq!(
        trunc(
            "2021-03-20T11:30:05Z",
            doc! {"unit": "week", "startOfWeek": "saturday"}
        ),
        Some(d("2021-03-20T00:00:00Z"))
    );
    assert_eq!(
        trunc("2021-03-20T11:30:05Z", doc! {"unit": "quarter"}),
        Some(d("2021-01-01T00:00:00Z"))
    );
    assert_eq!(
        trunc("2021-03-20T11:30:05Z", doc! {"unit": "year", "binSize": 5}),
        Some(d("2020-01-01T00:00:00Z"))
    );
    assert_eq!(
        trunc(
            "2021-07-20T11:30:05Z",
            doc! {"unit": "day", "timezone": "America/New_York"}
        ),
        Some(d("2021-07-20T04:00:00Z"))
    );
    assert_eq!(
        trunc("1969-07-20T11:30:05Z", doc! {"unit": "month", "binSize": 6}),
        Some(d("1969-07-01T00:00:00Z"))
    );
    assert!(err(
        bson!({"$dateTrunc": {"date": d("2021-01-01T00:00:00Z"), "unit": "day", "binSize": 0}})
    )
    .contains("greater than 0"));
    assert_eq!(
        ok(bson!({"$dateTrunc": {"date": d("2021-01-01T00:00:00Z"), "unit": null}})),
        Some(Bson::Null)
    );
}
