//! The `timerange` selection: `T1~T2`, `<T`, `>T`, `T` (the integration containing T),
//! `T+dT`; times as `YYYY/MM/DD/hh:mm:ss.sss` or `hh:mm:ss` (on the MS's first day), and
//! durations as `hh:mm:ss` or seconds.

use super::error::SelectionError;
use super::ids::split_commas;
use almacal_core::time::{day_start, from_calendar};

/// One selected time interval (MJD seconds, inclusive), or an instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeSel {
    /// `T1~T2`, inclusive.
    Range(f64, f64),
    /// `<T`, strictly before.
    Below(f64),
    /// `>T`, strictly after.
    Above(f64),
    /// Rows whose integration contains this instant.
    At(f64),
}

impl TimeSel {
    pub fn matches(&self, time_s: f64, interval_s: f64) -> bool {
        // Exact comparisons on the row's TIME (CASA drops a row 0.2 ms before the range).
        match *self {
            Self::Range(a, b) => time_s >= a && time_s <= b,
            Self::Below(b) => time_s < b,
            Self::Above(a) => time_s > a,
            Self::At(t) => (time_s - t).abs() <= 0.5 * interval_s,
        }
    }
}

fn parse_hms(s: &str) -> Option<f64> {
    parse_clock(s, false)
}

/// The seconds of a time as casacore's MSTimeGram keeps them: whole seconds plus whole
/// milliseconds, each truncated toward zero in double arithmetic ("32.157" is 32 s and
/// 156 ms; fixtures/scenarios/research/fixsyscaltimes_flagcmd.md §B.5).
fn casa_seconds(s: f64) -> f64 {
    let whole = s.trunc();
    whole + ((s - whole) * 1000.0).trunc() / 1000.0
}

/// `hh:mm:ss.s`, `mm:ss` or `s`; `time`: the seconds field of a time of day, kept to the
/// millisecond as CASA keeps it (durations are not truncated).
fn parse_clock(s: &str, time: bool) -> Option<f64> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let mut total = 0.0;
    let last = parts.len() - 1;
    for (i, p) in parts.iter().enumerate() {
        let mut v: f64 = p.trim().parse().ok()?;
        if time && i == last && parts.len() == 3 {
            v = casa_seconds(v);
        }
        total += v * [3600.0, 60.0, 1.0][i];
    }
    Some(total)
}

/// Parse a CASA time: `YYYY/MM/DD[/hh:mm:ss.s]` or `hh:mm:ss.s` on `day0_s`'s day.
fn parse_time(s: &str, day0_s: f64) -> Option<f64> {
    let fields: Vec<&str> = s.trim().split('/').collect();
    match fields.len() {
        1 => parse_clock(fields[0], true).map(|t| day0_s + t),
        3 | 4 => {
            let y: i64 = fields[0].parse().ok()?;
            let m: u32 = fields[1].parse().ok()?;
            let d: u32 = fields[2].parse().ok()?;
            if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
                return None;
            }
            let sod = if fields.len() == 4 {
                parse_clock(fields[3], true)?
            } else {
                0.0
            };
            Some(from_calendar(y, m, d, sod))
        }
        _ => None,
    }
}

/// Resolve a `timerange` expression; `first_time_s` anchors times given without a date.
pub fn resolve_timerange(expr: &str, first_time_s: f64) -> Result<Vec<TimeSel>, SelectionError> {
    let day0 = day_start(first_time_s);
    let bad = |tok: &str| {
        SelectionError::new(
            "timerange",
            expr,
            format!("'{tok}' is not a CASA time (use YYYY/MM/DD/hh:mm:ss or hh:mm:ss)"),
        )
    };
    let mut out = Vec::new();
    for tok in split_commas(expr) {
        let sel = if let Some(rest) = tok.strip_prefix('<') {
            TimeSel::Below(parse_time(rest, day0).ok_or_else(|| bad(rest))?)
        } else if let Some(rest) = tok.strip_prefix('>') {
            TimeSel::Above(parse_time(rest, day0).ok_or_else(|| bad(rest))?)
        } else if let Some((a, b)) = tok.split_once('~') {
            let t0 = parse_time(a, day0).ok_or_else(|| bad(a))?;
            // An end time without a date is on the start time's day.
            let t1 = parse_time(b, day_start(t0)).ok_or_else(|| bad(b))?;
            if t1 < t0 {
                return Err(SelectionError::new(
                    "timerange",
                    expr,
                    format!("'{tok}' ends before it starts"),
                ));
            }
            TimeSel::Range(t0, t1)
        } else if let Some((a, d)) = tok.split_once('+') {
            let t0 = parse_time(a, day0).ok_or_else(|| bad(a))?;
            let dt = parse_hms(d).ok_or_else(|| bad(d))?;
            TimeSel::Range(t0, t0 + dt)
        } else {
            TimeSel::At(parse_time(tok, day0).ok_or_else(|| bad(tok))?)
        };
        out.push(sel);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let day0 = from_calendar(2016, 4, 15, 0.0);
        let r = resolve_timerange(
            "2016/04/15/06:22:32.157~2016/04/15/06:23:32.637",
            day0 + 10.0,
        )
        .unwrap();
        // CASA keeps whole milliseconds, truncated: .157 is 156 ms, .637 stays 637 ms.
        assert_eq!(
            r,
            vec![TimeSel::Range(
                day0 + (22_952.0 + 0.156),
                day0 + (23_012.0 + 0.637)
            )]
        );
        assert_eq!(casa_seconds(11.805), 11.804);
        assert_eq!(casa_seconds(52.509), 52.509);
        assert_eq!(casa_seconds(12.0001), 12.0);
        let r = resolve_timerange("06:00:00~06:30", day0 + 5.0).unwrap();
        assert_eq!(r, vec![TimeSel::Range(day0 + 21_600.0, day0 + 23_400.0)]);
        let r = resolve_timerange(">06:00:00", day0).unwrap();
        assert!(r[0].matches(day0 + 21_601.0, 1.0) && !r[0].matches(day0 + 21_500.0, 1.0));
        let r = resolve_timerange("06:00:00+00:01:00", day0).unwrap();
        assert_eq!(r, vec![TimeSel::Range(day0 + 21_600.0, day0 + 21_660.0)]);
        assert!(resolve_timerange("yesterday", day0).is_err());
        assert!(resolve_timerange("07:00~06:00", day0).is_err());
    }
}
