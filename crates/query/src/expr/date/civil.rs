//! The proleptic Gregorian calendar on 64-bit day numbers.
//!
//! BSON dates are milliseconds since 1970 over the whole `i64` range (about
//! ±292 million years), far past what date libraries cover, so the calendar
//! arithmetic is done here on day numbers (days since 1970-01-01) with the
//! classic era-based conversions, exact for every BSON date.

/// Milliseconds in a day.
pub(crate) const MS_PER_DAY: i64 = 86_400_000;

/// Whether `year` is a leap year.
pub(crate) fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// The number of days in a month (1-12) of a year.
pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of `year-month-day` (month 1-12, day 1-31).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    // Years start in March, so the leap day is the last day of a year.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y.rem_euclid(400);
    let shifted_month = i64::from((month + 9) % 12);
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The `(year, month, day)` of a day number.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The day of the week of a day number: 0 = Sunday … 6 = Saturday.
pub(crate) fn weekday(days: i64) -> u32 {
    // 1970-01-01 was a Thursday.
    (days + 4).rem_euclid(7) as u32
}

/// The ISO 8601 day of the week: 1 = Monday … 7 = Sunday.
pub(crate) fn iso_weekday(days: i64) -> u32 {
    match weekday(days) {
        0 => 7,
        d => d,
    }
}

/// The day of the year, 1-366.
pub(crate) fn day_of_year(year: i64, month: u32, day: u32) -> u32 {
    (days_from_civil(year, month, day) - days_from_civil(year, 1, 1) + 1) as u32
}

/// The ISO 8601 `(week-numbering year, week 1-53)` of a day number: week 1
/// is the Monday-to-Sunday week holding the year's first Thursday.
pub(crate) fn iso_week(days: i64) -> (i64, u32) {
    // The Thursday of this ISO week decides its year.
    let thursday = days - i64::from(iso_weekday(days)) + 4;
    let (year, _, _) = civil_from_days(thursday);
    let week = (thursday - days_from_civil(year, 1, 1)) / 7 + 1;
    (year, week as u32)
}

/// A day number from an ISO week date (week and weekday may overflow
/// their ranges; the excess carries, as the server's calendar does).
pub(crate) fn days_from_iso(iso_year: i64, week: i64, weekday: i64) -> i64 {
    // January 4th is always in week 1; its week's Monday starts week 1.
    let jan4 = days_from_civil(iso_year, 1, 4);
    let week1_monday = jan4 - i64::from(iso_weekday(jan4)) + 1;
    week1_monday + (week - 1) * 7 + (weekday - 1)
}

/// A local time broken into calendar fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    /// Days since 1970-01-01 (local).
    pub(crate) days: i64,
    /// The year.
    pub(crate) year: i64,
    /// 1-12.
    pub(crate) month: u32,
    /// 1-31.
    pub(crate) day: u32,
    /// 0-23.
    pub(crate) hour: u32,
    /// 0-59.
    pub(crate) minute: u32,
    /// 0-59.
    pub(crate) second: u32,
    /// 0-999.
    pub(crate) millisecond: u32,
}

impl Civil {
    /// Breaks local milliseconds since 1970 into fields. Callers pass a
    /// date's instant shifted by a zone offset, so `|local_ms| < 2^64`.
    pub(crate) fn from_local_ms(local_ms: i128) -> Civil {
        let day_ms = i128::from(MS_PER_DAY);
        // |local_ms| < 2^64, so the day count fits comfortably in an i64.
        let days = local_ms.div_euclid(day_ms) as i64;
        let ms_of_day = local_ms.rem_euclid(day_ms) as u32;
        let (year, month, day) = civil_from_days(days);
        Civil {
            days,
            year,
            month,
            day,
            hour: ms_of_day / 3_600_000,
            minute: ms_of_day / 60_000 % 60,
            second: ms_of_day / 1000 % 60,
            millisecond: ms_of_day % 1000,
        }
    }

    /// Milliseconds into the local day.
    pub(crate) fn ms_of_day(&self) -> i64 {
        i64::from(self.hour) * 3_600_000
            + i64::from(self.minute) * 60_000
            + i64::from(self.second) * 1000
            + i64::from(self.millisecond)
    }

    /// The day of the year, 1-366.
    pub(crate) fn day_of_year(&self) -> u32 {
        day_of_year(self.year, self.month, self.day)
    }

    /// The week of the year, 0-53, weeks starting on Sunday: days before
    /// the year's first Sunday are week 0.
    pub(crate) fn week(&self) -> u32 {
        // 0-based day of year, shifted so each Sunday starts a new week.
        (self.day_of_year() + 6 - weekday(self.days)) / 7
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_across_eras() {
        for days in [
            -1_000_000_000,
            -719_469,
            -719_468,
            -1,
            0,
            1,
            10_957,
            2_932_896,
            1_000_000_000,
        ] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(days_from_civil(1600, 2, 29)), (1600, 2, 29));
        assert_eq!(civil_from_days(days_from_civil(-1, 12, 31) + 1), (0, 1, 1));
    }

    #[test]
    fn weeks() {
        // 2016-01-01 was a Friday: ISO week 53 of 2015, US week 0.
        let d = days_from_civil(2016, 1, 1);
        assert_eq!(weekday(d), 5);
        assert_eq!(iso_week(d), (2015, 53));
        let c = Civil::from_local_ms(i128::from(d) * i128::from(MS_PER_DAY));
        assert_eq!(c.week(), 0);
        // 2016-01-03 was the first Sunday: week 1.
        let c = Civil::from_local_ms(i128::from(d + 2) * i128::from(MS_PER_DAY));
        assert_eq!(c.week(), 1);
        // 2008-12-29 (Monday) is ISO week 1 of 2009.
        assert_eq!(iso_week(days_from_civil(2008, 12, 29)), (2009, 1));
        assert_eq!(days_from_iso(2009, 1, 1), days_from_civil(2008, 12, 29));
        assert_eq!(days_from_iso(2017, 6, 3), days_from_civil(2017, 2, 8));
    }

    #[test]
    fn fields_before_1970() {
        let c = Civil::from_local_ms(-1);
        assert_eq!(
            (
                c.year,
                c.month,
                c.day,
                c.hour,
                c.minute,
                c.second,
                c.millisecond
            ),
            (1969, 12, 31, 23, 59, 59, 999)
        );
    }
}
