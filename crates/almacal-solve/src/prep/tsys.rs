//! gencal caltype='tsys': the `B TSYS` solutions built from the SYSCAL table
//! (algorithms.md §5.1), and the Tsys correction factors applycal uses (§5.2).

use almacal_core::meta::{ScanSummary, SysCalRow};

/// One row of a `B TSYS` table: Tsys spectra (K) of one antenna, spw and time.
#[derive(Debug, Clone, PartialEq)]
pub struct TsysSolution {
    /// Start of the Tsys measurement (SYSCAL TIME − INTERVAL/2), MJD seconds.
    pub time_s: f64,
    pub spw: u32,
    pub antenna: u32,
    pub field: i32,
    pub scan: i32,
    /// `[pol][chan]`, K.
    pub tsys_pc: Vec<Vec<f32>>,
    /// `[pol][chan]`: zero/negative/missing Tsys.
    pub flag_pc: Vec<Vec<bool>>,
}

/// The scan (and its field) whose time span contains `t`, else the nearest scan start.
fn scan_at(scans: &[ScanSummary], t: f64) -> (i32, i32) {
    const TOL_S: f64 = 1e-3;
    scans
        .iter()
        .find(|s| t >= s.start_s - TOL_S && t <= s.end_s + TOL_S)
        .or_else(|| {
            scans
                .iter()
                .min_by(|a, b| (a.start_s - t).abs().total_cmp(&(b.start_s - t).abs()))
        })
        .map_or((-1, -1), |s| (s.scan, s.field.0 as i32))
}

/// Build the Tsys solutions, ordered like CASA's table: by spw, time, antenna.
/// `uniform`: a row for every antenna at each (spw, time), absent ones flagged with Tsys 0.
pub fn tsys_solutions(
    syscal: &[SysCalRow],
    nant: usize,
    scans: &[ScanSummary],
    uniform: bool,
) -> Vec<TsysSolution> {
    use std::collections::BTreeMap;
    // (spw, time bits of the start) -> antenna -> spectrum
    let mut groups: BTreeMap<(u32, u64), BTreeMap<u32, &SysCalRow>> = BTreeMap::new();
    for r in syscal {
        let start = r.time_s - 0.5 * r.interval_s;
        groups
            .entry((r.spw.0, start.to_bits()))
            .or_default()
            .insert(r.antenna.0, r);
    }
    let mut out = Vec::new();
    for ((spw, tbits), ants) in groups {
        let t = f64::from_bits(tbits);
        let (scan, field) = scan_at(scans, t);
        let shape = ants
            .values()
            .find_map(|r| r.tsys_spectrum.as_ref())
            .map(|s| (s.len(), s.first().map_or(0, Vec::len)))
            .unwrap_or((0, 0));
        let antennas: Vec<u32> = if uniform {
            (0..nant as u32).collect()
        } else {
            ants.keys().copied().collect()
        };
        for a in antennas {
            let spectrum = ants
                .get(&a)
                .and_then(|r| r.tsys_spectrum.clone())
                .unwrap_or_else(|| vec![vec![0.0; shape.1]; shape.0]);
            let flag_pc = spectrum
                .iter()
                .map(|p| {
                    p.iter()
                        .map(|&v| v.is_nan() || v < f32::MIN_POSITIVE)
                        .collect()
                })
                .collect();
            out.push(TsysSolution {
                time_s: t,
                spw,
                antenna: a,
                field,
                scan,
                tsys_pc: spectrum,
                flag_pc,
            });
        }
    }
    // CASA orders by spw, then time (the BTreeMap order), then antenna.
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use almacal_core::ids::{AntennaId, FieldId, SpwId};

    fn row(ant: u32, spw: u32, t: f64, v: f32) -> SysCalRow {
        SysCalRow {
            antenna: AntennaId(ant),
            spw: SpwId(spw),
            time_s: t,
            interval_s: 2.0,
            tsys_spectrum: Some(vec![vec![v, v + 1.0], vec![v, 0.0]]),
        }
    }

    fn scan(n: i32, field: u32, a: f64, b: f64) -> ScanSummary {
        ScanSummary {
            scan: n,
            observation_id: 0,
            field: FieldId(field),
            start_s: a,
            end_s: b,
            nrows: 1,
            spws: vec![],
            intents: vec![],
            intervals_s: vec![],
        }
    }

    #[test]
    fn rows_per_spw_time_antenna_with_start_times_and_flags() {
        let syscal = vec![
            row(1, 9, 101.0, 50.0),
            row(0, 9, 101.0, 60.0),
            row(0, 11, 101.0, 70.0),
            row(0, 9, 201.0, 80.0),
        ];
        let scans = vec![scan(2, 0, 100.0, 110.0), scan(5, 1, 200.0, 210.0)];
        let sols = tsys_solutions(&syscal, 3, &scans, true);
        // spw 9: two times x 3 antennas; spw 11: one time x 3 antennas.
        assert_eq!(sols.len(), 9);
        let keys: Vec<(u32, f64, u32)> =
            sols.iter().map(|s| (s.spw, s.time_s, s.antenna)).collect();
        assert_eq!(keys[0], (9, 100.0, 0));
        assert_eq!(keys[3], (9, 200.0, 0));
        assert_eq!(keys[6], (11, 100.0, 0));
        assert_eq!((sols[0].scan, sols[0].field), (2, 0));
        assert_eq!((sols[3].scan, sols[3].field), (5, 1));
        assert_eq!(sols[0].tsys_pc[0], vec![60.0, 61.0]);
        // Zero Tsys is flagged; antenna 2 (absent) is all zeros and flagged.
        assert_eq!(sols[0].flag_pc[1], vec![false, true]);
        assert!(sols[2].flag_pc.iter().flatten().all(|&f| f));
        assert_eq!(tsys_solutions(&syscal, 3, &scans, false).len(), 4);
    }
}
