//! Earth-orientation parameters (UT1−UTC and polar motion) from the IERS table that CASA
//! ships (`data/eop.txt`, made by `data/make_eop.py` from casadata, 2010 onward), embedded so
//! almacal reproduces casacore's terrestrial-to-celestial rotation offline.

use std::sync::OnceLock;

static TABLE: &str = include_str!("../../data/eop.txt");

/// Daily values: (MJD, UT1−UTC s, x arcsec, y arcsec).
fn table() -> &'static [(f64, f64, f64, f64)] {
    static PARSED: OnceLock<Vec<(f64, f64, f64, f64)>> = OnceLock::new();
    PARSED.get_or_init(|| {
        TABLE
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let v: Vec<f64> = l
                    .split_whitespace()
                    .filter_map(|x| x.parse().ok())
                    .collect();
                (v.len() == 4).then(|| (v[0], v[1], v[2], v[3]))
            })
            .collect()
    })
}

/// Earth orientation at one epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Eop {
    pub ut1_minus_utc_s: f64,
    pub xp_rad: f64,
    pub yp_rad: f64,
}

impl Eop {
    pub const ZERO: Eop = Eop {
        ut1_minus_utc_s: 0.0,
        xp_rad: 0.0,
        yp_rad: 0.0,
    };
}

const ARCSEC: f64 = std::f64::consts::PI / (180.0 * 3600.0);

/// EOP at `mjd_utc` (days), linearly interpolated between daily values (UT1−UTC held
/// across the day before a leap second); `None` outside the table.
pub fn eop_at(mjd_utc: f64) -> Option<Eop> {
    let t = table();
    let k = t.partition_point(|r| r.0 <= mjd_utc);
    if k == 0 || k >= t.len() {
        return None;
    }
    let (a, b) = (t[k - 1], t[k]);
    let x = (mjd_utc - a.0) / (b.0 - a.0);
    // A leap second happens at the start of day b: hold day a's value until then.
    let dut1 = if (b.1 - a.1).abs() > 0.5 {
        a.1
    } else {
        a.1 + (b.1 - a.1) * x
    };
    Some(Eop {
        ut1_minus_utc_s: dut1,
        xp_rad: (a.2 + (b.2 - a.2) * x) * ARCSEC,
        yp_rad: (a.3 + (b.3 - a.3) * x) * ARCSEC,
    })
}

/// casacore's `MeasTable::dUT1` keeps the UT1−UTC it last read from the IERS table and
/// re-reads it only when asked for an epoch more than 0.04 d (58 min) from the one it read
/// it for (process-wide state in casacore). Seen with casatools 6.7: over 0.013 d of epochs
/// converted after a first one, casacore's UT1−UTC stayed at the first epoch's value (we
/// differed by up to 2e-5 s, 1.5e-9 rad of Earth rotation, when interpolating afresh).
const DUT1_REFRESH_D: f64 = 0.04;

/// An emulation of that `MeasTable::dUT1` hold, owned by the caller (not global, so results
/// never depend on thread scheduling): it reproduces casacore only when the epochs are asked
/// for in the order CASA asks for them.
#[derive(Debug, Default)]
pub struct Dut1Hold(std::sync::Mutex<Option<(f64, f64)>>);

impl Dut1Hold {
    /// EOP at `mjd_utc` with polar motion interpolated at the epoch and UT1−UTC as casacore
    /// holds it; `None` outside the table.
    pub fn eop_at(&self, mjd_utc: f64) -> Option<Eop> {
        let mut e = eop_at(mjd_utc)?;
        let mut c = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match *c {
            Some((t, v)) if (mjd_utc - t).abs() <= DUT1_REFRESH_D => e.ut1_minus_utc_s = v,
            _ => *c = Some((mjd_utc, e.ut1_minus_utc_s)),
        }
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_from_casadata() {
        // casatools measures gives UT1−UTC = −0.1107 s on 2016-04-15 06:20 UTC.
        let e = eop_at(57_493.0 + 6.0 / 24.0 + 20.0 / 1440.0).unwrap();
        assert!((e.ut1_minus_utc_s + 0.1107).abs() < 2e-4, "{e:?}");
        assert!((e.yp_rad / ARCSEC - 0.447).abs() < 0.01);
        assert!(eop_at(40_000.0).is_none());
        // Across the 2016-12-31 leap second, UT1−UTC jumps by about +1 s, not smeared.
        let before = eop_at(57_753.9).unwrap().ut1_minus_utc_s;
        let after = eop_at(57_754.1).unwrap().ut1_minus_utc_s;
        assert!(after - before > 0.9);
    }
}
