//! Value grammars checked at load time: `solint`, quantities such as
//! `reffreq = "340.93GHz"`, and `interp` specifications.

/// Check a CASA `solint`: `int`, `inf`, or a time (`30s`, `2min`, `0.5h`),
/// optionally (when `freq` is allowed, as in bandpass) followed by a comma
/// and a frequency interval in channels (`20ch`) or Hz (`7.8MHz`).
pub fn check_solint(s: &str, freq: bool) -> Result<(), String> {
    let expected = if freq {
        "expected \"int\", \"inf\" or a time like \"30s\" or \"2min\", optionally followed by a frequency interval like \",20ch\" or \",7.8MHz\""
    } else {
        "expected \"int\", \"inf\" or a time like \"30s\" or \"2min\""
    };
    let (time, fpart) = match s.split_once(',') {
        Some((t, f)) => (t.trim(), Some(f.trim())),
        None => (s.trim(), None),
    };
    let time_ok = time == "int" || time == "inf" || quantity_ok(time, TIME_UNITS);
    if !time_ok {
        return Err(format!("invalid solint {s:?}: {expected}"));
    }
    match fpart {
        None => Ok(()),
        Some(_) if !freq => Err(format!(
            "invalid solint {s:?}: this task takes no frequency interval; {expected}"
        )),
        Some(f) => {
            let ch_ok = f
                .strip_suffix("ch")
                .is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n > 0));
            if ch_ok || quantity_ok(f, FREQ_UNITS) {
                Ok(())
            } else {
                Err(format!(
                    "invalid frequency interval {f:?} in solint {s:?}: expected channels like \"20ch\" or a frequency like \"7.8MHz\""
                ))
            }
        }
    }
}

/// Time units accepted in quantities.
pub const TIME_UNITS: &[&str] = &["s", "min", "h", "d"];
/// Frequency units accepted in quantities.
pub const FREQ_UNITS: &[&str] = &["Hz", "kHz", "MHz", "GHz"];

/// `<positive number><unit>` with one of `units`.
pub fn quantity_ok(s: &str, units: &[&str]) -> bool {
    quantity_value(s, units).is_some_and(|v| v > 0.0)
}

/// A quantity parameter's value: positive, or zero for a time parameter (`timebin =
/// "0s"`, no averaging, is CASA's default).
pub fn param_quantity_ok(s: &str, units: &[&str]) -> bool {
    quantity_value(s, units).is_some_and(|v| v > 0.0 || (v == 0.0 && units == TIME_UNITS))
}

/// The finite number of `<number><unit>` with one of `units`.
pub(crate) fn quantity_value(s: &str, units: &[&str]) -> Option<f64> {
    let split = s
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    if !units.contains(&unit.trim()) {
        return None;
    }
    num.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Time-axis interpolation names CASA accepts.
pub const INTERP_TIME: &[&str] = &[
    "nearest",
    "linear",
    "cubic",
    "spline",
    "nearestflag",
    "linearflag",
    "linearPD",
    "nearestPD",
    "linearperobs",
    "linearPDperobs",
    "nearestperobs",
];
/// Frequency-axis interpolation names CASA accepts.
pub const INTERP_FREQ: &[&str] = &[
    "nearest",
    "linear",
    "cubic",
    "spline",
    "nearestflag",
    "linearflag",
];

/// Check one `interp` entry: `time` or `time,freq` (empty means default).
pub fn check_interp(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    let (t, f) = match s.split_once(',') {
        Some((t, f)) => (t.trim(), Some(f.trim())),
        None => (s.trim(), None),
    };
    if !INTERP_TIME.contains(&t) {
        return Err(format!(
            "invalid interp {s:?}: unknown time interpolation {t:?} (expected one of {})",
            INTERP_TIME.join(", ")
        ));
    }
    if let Some(f) = f {
        if !INTERP_FREQ.contains(&f) {
            return Err(format!(
                "invalid interp {s:?}: unknown frequency interpolation {f:?} (expected one of {})",
                INTERP_FREQ.join(", ")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solint_grammar() {
        for ok in ["int", "inf", "30s", "2min", "0.5h", "10.08s"] {
            assert!(check_solint(ok, false).is_ok(), "{ok}");
        }
        for ok in ["inf,20ch", "inf,7.8MHz", "60s,2ch", "int"] {
            assert!(check_solint(ok, true).is_ok(), "{ok}");
        }
        for bad in [
            "fast",
            "",
            "30",
            "-2s",
            "inf,",
            "inf,0ch",
            "inf,20",
            "2 parsecs",
        ] {
            assert!(check_solint(bad, true).is_err(), "{bad}");
        }
        let e = check_solint("inf,20ch", false).expect_err("gaincal has no freq part");
        assert!(e.contains("no frequency interval"), "{e}");
    }

    #[test]
    fn quantities_and_interp() {
        assert!(quantity_ok("340.9333355239418GHz", FREQ_UNITS));
        assert!(quantity_ok("1e9Hz", FREQ_UNITS));
        assert!(!quantity_ok("340.9 parsec", FREQ_UNITS));
        assert!(!quantity_ok("GHz", FREQ_UNITS));
        assert!(param_quantity_ok("0s", TIME_UNITS) && !quantity_ok("0s", TIME_UNITS));
        assert!(!param_quantity_ok("0GHz", FREQ_UNITS));
        assert!(check_interp("linear,linear").is_ok());
        assert!(check_interp("nearest").is_ok());
        assert!(check_interp("linear,linearflag").is_ok());
        assert!(check_interp("lienar").is_err());
        assert!(check_interp("linear,cubicc").is_err());
    }
}
