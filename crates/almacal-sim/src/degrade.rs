//! Scenario degradations (issue 21): online-style flags of one antenna over chosen scans
//! (optionally one spw, one correlation, or only the first part of each scan) and unflagged
//! rows with zero WEIGHT and SIGMA. They change FLAG, WEIGHT and SIGMA only, after the data
//! are generated, so a degraded MS has the same DATA as the clean one with the same seed.
//!
//! Command-line syntax (`almacal simulate`):
//! * `--flag-antenna ANT[@SPW][/CORR]:SCANS[:FRACTION]`, e.g. `CM12:3:0.6` (CM12 flagged for
//!   the first 60 % of the integrations of scan 3), `CM04@20:all` (CM04 absent from spw 20),
//!   `CM03/YY:3` (YY only), `CM07:all` (absent for the whole track);
//! * `--zero-weight ANT:SCANS`: WEIGHT = SIGMA = 0 on ANT's baselines, rows left unflagged.
//!
//! SCANS is `all` or a list of scan numbers and ranges (`3,5~7`).

use crate::error::{SimError, SimResult};
use almacal_casa::ms_write::RowBlock;

/// One degradation.
#[derive(Debug, Clone, PartialEq)]
pub enum Degrade {
    Flag {
        antenna: String,
        /// Empty = every scan.
        scans: Vec<i32>,
        spw: Option<u32>,
        /// One parallel hand only: 0 = XX, 1 = YY.
        corr: Option<usize>,
        /// Fraction of each scan's integrations flagged, from its start (1 = all).
        fraction: f64,
    },
    ZeroWeight {
        antenna: String,
        scans: Vec<i32>,
    },
}

fn bad(spec: &str, why: &str) -> SimError {
    SimError::Config(format!("bad degradation {spec:?}: {why}"))
}

fn parse_scans(spec: &str, s: &str) -> SimResult<Vec<i32>> {
    if s.eq_ignore_ascii_case("all") {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for part in s.split(',') {
        let num = |x: &str| {
            x.trim()
                .parse::<i32>()
                .map_err(|_| bad(spec, &format!("scan {x:?} is not a number")))
        };
        match part.split_once('~') {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if b < a {
                    return Err(bad(spec, &format!("empty scan range {part:?}")));
                }
                out.extend(a..=b);
            }
            None => out.push(num(part)?),
        }
    }
    Ok(out)
}

impl Degrade {
    /// Parse a `--flag-antenna` value.
    pub fn parse_flag(spec: &str) -> SimResult<Self> {
        let mut parts = spec.split(':');
        let who = parts.next().unwrap_or("");
        let scans = parts
            .next()
            .ok_or_else(|| bad(spec, "expected ANT[@SPW][/CORR]:SCANS[:FRACTION]"))?;
        let fraction = match parts.next() {
            Some(f) => f
                .parse::<f64>()
                .ok()
                .filter(|f| *f > 0.0 && *f <= 1.0)
                .ok_or_else(|| bad(spec, "FRACTION must be in (0, 1]"))?,
            None => 1.0,
        };
        if parts.next().is_some() {
            return Err(bad(spec, "too many ':' parts"));
        }
        let (who, corr) = match who.split_once('/') {
            Some((w, c)) => {
                let corr = match c.to_ascii_uppercase().as_str() {
                    "XX" => 0,
                    "YY" => 1,
                    _ => return Err(bad(spec, "CORR must be XX or YY")),
                };
                (w, Some(corr))
            }
            None => (who, None),
        };
        let (antenna, spw) = match who.split_once('@') {
            Some((a, s)) => (
                a,
                Some(
                    s.parse::<u32>()
                        .map_err(|_| bad(spec, "SPW must be a spw id"))?,
                ),
            ),
            None => (who, None),
        };
        if antenna.is_empty() {
            return Err(bad(spec, "no antenna name"));
        }
        Ok(Degrade::Flag {
            antenna: antenna.to_string(),
            scans: parse_scans(spec, scans)?,
            spw,
            corr,
            fraction,
        })
    }

    /// Parse a `--zero-weight` value.
    pub fn parse_zero_weight(spec: &str) -> SimResult<Self> {
        let (antenna, scans) = spec
            .split_once(':')
            .ok_or_else(|| bad(spec, "expected ANT:SCANS"))?;
        if antenna.is_empty() {
            return Err(bad(spec, "no antenna name"));
        }
        Ok(Degrade::ZeroWeight {
            antenna: antenna.to_string(),
            scans: parse_scans(spec, scans)?,
        })
    }

    fn antenna(&self) -> &str {
        match self {
            Degrade::Flag { antenna, .. } | Degrade::ZeroWeight { antenna, .. } => antenna,
        }
    }

    /// The antenna must exist in the simulated array.
    pub fn check(&self, antenna_names: &[String]) -> SimResult<()> {
        if antenna_names.iter().any(|n| n == self.antenna()) {
            Ok(())
        } else {
            Err(SimError::Config(format!(
                "degradation names antenna {:?}, which the array does not have ({} antennas)",
                self.antenna(),
                antenna_names.len()
            )))
        }
    }

    /// A JSON record for the truth file.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Degrade::Flag {
                antenna,
                scans,
                spw,
                corr,
                fraction,
            } => serde_json::json!({"kind": "flag", "antenna": antenna, "scans": scans,
                "spw": spw, "corr": corr.map(|c| ["XX", "YY"][c.min(1)]), "fraction": fraction}),
            Degrade::ZeroWeight { antenna, scans } => {
                serde_json::json!({"kind": "zero_weight", "antenna": antenna, "scans": scans})
            }
        }
    }
}

/// Where a block sits: scan number, spw id, and the integration's position in its scan.
#[derive(Debug, Clone, Copy)]
pub struct BlockPlace {
    pub scan: i32,
    pub spw: u32,
    pub int_pos: usize,
    pub scan_ints: usize,
}

/// Apply `degrades` to one block. `ant_of(name)` gives an antenna index.
pub fn apply(
    degrades: &[Degrade],
    blk: &mut RowBlock,
    place: BlockPlace,
    full_pol: bool,
    ant_of: impl Fn(&str) -> Option<usize>,
) {
    for d in degrades {
        let Some(a) = ant_of(d.antenna()) else {
            continue;
        };
        let on_row = |r: usize| blk.antenna1[r] as usize == a || blk.antenna2[r] as usize == a;
        let rows: Vec<usize> = (0..blk.antenna1.len()).filter(|&r| on_row(r)).collect();
        match d {
            Degrade::Flag {
                scans,
                spw,
                corr,
                fraction,
                ..
            } => {
                if !(scans.is_empty() || scans.contains(&place.scan))
                    || spw.is_some_and(|s| s != place.spw)
                {
                    continue;
                }
                let nflag = (place.scan_ints as f64 * fraction).ceil() as usize;
                if place.int_pos >= nflag {
                    continue;
                }
                for &r in &rows {
                    let mut row = blk.flag_rcf.index_axis_mut(ndarray::Axis(0), r);
                    // XX is correlation 0; YY is the last (1 of XX,YY; 3 of XX,XY,YX,YY).
                    let col = corr.map(|c| if c == 1 && full_pol { 3 } else { c });
                    match col {
                        Some(c) if c < row.ncols() => row.column_mut(c).fill(true),
                        Some(_) => {}
                        None => row.fill(true),
                    }
                }
            }
            Degrade::ZeroWeight { scans, .. } => {
                if !(scans.is_empty() || scans.contains(&place.scan)) {
                    continue;
                }
                for &r in &rows {
                    blk.weight_rc.row_mut(r).fill(0.0);
                    blk.sigma_rc.row_mut(r).fill(0.0);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(
            Degrade::parse_flag("CM12:3:0.6").unwrap(),
            Degrade::Flag {
                antenna: "CM12".into(),
                scans: vec![3],
                spw: None,
                corr: None,
                fraction: 0.6
            }
        );
        assert_eq!(
            Degrade::parse_flag("CM04@20/yy:3,5~7").unwrap(),
            Degrade::Flag {
                antenna: "CM04".into(),
                scans: vec![3, 5, 6, 7],
                spw: Some(20),
                corr: Some(1),
                fraction: 1.0
            }
        );
        assert!(matches!(
            Degrade::parse_flag("CM07:all").unwrap(),
            Degrade::Flag { scans, .. } if scans.is_empty()
        ));
        for bad in [
            "CM12",
            "CM12:x",
            "CM12:3:0",
            "CM12:3:1.5",
            "CM12/RR:3",
            ":3",
            "CM1@x:3",
        ] {
            assert!(Degrade::parse_flag(bad).is_err(), "{bad}");
        }
        assert!(Degrade::parse_zero_weight("CM06:4").is_ok());
        assert!(Degrade::parse_zero_weight("CM06").is_err());
    }
}
