//! CASA time conventions: the main table's `TIME` is seconds since MJD 0 (UTC).
//! Converts to and from calendar dates for listobs output and `timerange` selections.

/// Seconds per day.
pub const DAY_S: f64 = 86_400.0;
/// MJD 0 = 1858-11-17; days from 1970-01-01 to MJD 0.
const MJD0_UNIX_DAYS: i64 = -40_587;

/// A broken-down UTC calendar time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calendar {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: f64,
}

/// Julian day number of 1970-01-01.
const UNIX_EPOCH_JD: i64 = 2_440_588;

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (`time`'s calendar),
/// clamped to the years ±9999 it covers.
fn civil_from_unix_days(z: i64) -> (i64, u32, u32) {
    let lo = i64::from(time::Date::MIN.to_julian_day());
    let hi = i64::from(time::Date::MAX.to_julian_day());
    let jd = (z + UNIX_EPOCH_JD).clamp(lo, hi) as i32;
    let d = time::Date::from_julian_day(jd).unwrap_or(time::Date::MIN);
    (
        i64::from(d.year()),
        u32::from(u8::from(d.month())),
        u32::from(d.day()),
    )
}

/// (year, month 1–12, day) to days since 1970-01-01, proleptic Gregorian (`time`'s
/// calendar); a day past the month's end runs on into the next month. The year is
/// clamped to ±9999.
fn unix_days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = y.clamp(-9999, 9999) as i32;
    let month = time::Month::try_from(m.clamp(1, 12) as u8).unwrap_or(time::Month::January);
    let first = time::Date::from_calendar_date(y, month, 1).unwrap_or(time::Date::MIN);
    i64::from(first.to_julian_day()) - UNIX_EPOCH_JD + i64::from(d) - 1
}

/// MJD seconds to a calendar time.
/// Times outside about ±2.7 billion years (garbage read from a damaged table) are clamped,
/// never an overflow; NaN comes out as MJD 0.
pub fn to_calendar(mjd_s: f64) -> Calendar {
    const MAX_DAYS: f64 = 1e12;
    let mjd_s = if mjd_s.is_nan() {
        0.0
    } else {
        mjd_s.clamp(-MAX_DAYS * DAY_S, MAX_DAYS * DAY_S)
    };
    let days = (mjd_s / DAY_S).floor();
    let mut sec_of_day = mjd_s - days * DAY_S;
    let mut days = days as i64;
    if sec_of_day >= DAY_S {
        sec_of_day -= DAY_S;
        days += 1;
    }
    let (year, month, day) = civil_from_unix_days(days + MJD0_UNIX_DAYS);
    let sec_of_day = sec_of_day.clamp(0.0, DAY_S - 1e-9);
    let hour = (sec_of_day / 3600.0).floor() as u32;
    let minute = ((sec_of_day - f64::from(hour) * 3600.0) / 60.0).floor() as u32;
    let second = sec_of_day - f64::from(hour) * 3600.0 - f64::from(minute) * 60.0;
    Calendar {
        year,
        month,
        day,
        hour,
        minute,
        second,
    }
}

/// Calendar date and seconds of day to MJD seconds.
pub fn from_calendar(year: i64, month: u32, day: u32, sec_of_day: f64) -> f64 {
    let days = unix_days_from_civil(year, month, day) - MJD0_UNIX_DAYS;
    days as f64 * DAY_S + sec_of_day
}

/// Start of the UTC day containing `mjd_s`, in MJD seconds.
pub fn day_start(mjd_s: f64) -> f64 {
    (mjd_s / DAY_S).floor() * DAY_S
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `15-Apr-2016/06:20:00.0`, as CASA's listobs prints dates (tenths of a second).
pub fn format_casa_date(mjd_s: f64) -> String {
    let t = to_calendar((mjd_s * 10.0).round() / 10.0);
    format!(
        "{:02}-{}-{}/{}",
        t.day,
        MONTHS[(t.month - 1) as usize],
        t.year,
        format_hms(&t, 1)
    )
}

/// `06:20:00.0` with `decimals` digits after the second.
pub fn format_time_of_day(mjd_s: f64, decimals: usize) -> String {
    let scale = 10f64.powi(decimals as i32);
    let t = to_calendar((mjd_s * scale).round() / scale);
    format_hms(&t, decimals)
}

fn format_hms(t: &Calendar, decimals: usize) -> String {
    let width = if decimals == 0 { 2 } else { decimals + 3 };
    format!(
        "{:02}:{:02}:{:0width$.decimals$}",
        t.hour,
        t.minute,
        t.second,
        width = width,
        decimals = decimals
    )
}

/// `2016/04/15/06:22:32.157`, CASA's time syntax in flag commands and selections.
pub fn format_casa_timestamp(mjd_s: f64) -> String {
    let t = to_calendar((mjd_s * 1000.0).round() / 1000.0);
    format!(
        "{}/{:02}/{:02}/{}",
        t.year,
        t.month,
        t.day,
        format_hms(&t, 3)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_times_format_without_overflow() {
        // Values read from a damaged TIME column (found by fuzzing listobs).
        for t in [
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            1e300,
        ] {
            let s = format_casa_date(t);
            assert!(s.contains('/'), "{t}: {s}");
            let _ = format_time_of_day(t, 3);
        }
        assert_eq!(format_casa_date(f64::NAN), format_casa_date(0.0));
    }

    #[test]
    fn known_dates() {
        // MJD 57493 is 2016-04-15.
        let t = from_calendar(2016, 4, 15, 6.0 * 3600.0 + 20.0 * 60.0);
        assert_eq!(t, 57_493.0 * DAY_S + 22_800.0);
        assert_eq!(format_casa_date(t), "15-Apr-2016/06:20:00.0");
        assert_eq!(format_casa_timestamp(t + 0.157), "2016/04/15/06:20:00.157");
        // MJD 0.
        let c = to_calendar(0.0);
        assert_eq!((c.year, c.month, c.day), (1858, 11, 17));
        // Leap year and century edges round-trip.
        for &(y, m, d) in &[(2000, 2, 29), (1900, 3, 1), (2024, 12, 31), (1995, 4, 10)] {
            let s = from_calendar(y, m, d, 3661.5);
            let c = to_calendar(s);
            assert_eq!((c.year, c.month, c.day, c.hour, c.minute), (y, m, d, 1, 1));
            assert!((c.second - 1.5).abs() < 1e-6);
        }
    }

    #[test]
    fn rounding_carries_into_minutes() {
        let t = from_calendar(2016, 4, 15, 59.96);
        assert_eq!(format_time_of_day(t, 1), "00:01:00.0");
    }
}
