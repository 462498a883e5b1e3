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

/// almahelpers' `fixsyscaltimes(vis, newinterval)` on SYSCAL rows in table order, without
/// touching the MS (fixtures/scenarios/research/fixsyscaltimes_flagcmd.md §A). Per spw,
/// rows are bucketed by the whole second of their start (TIME − INTERVAL/2); when the spw
/// has more distinct TIMEs than buckets, every bucket holding several TIMEs gets
/// TIME = its mean start + newinterval/2 and INTERVAL = newinterval. Other spws and buckets
/// are unchanged. Returns one line per spw saying what was done, as almahelpers prints.
pub fn fix_syscal_times(rows: &mut [SysCalRow], newinterval: f64) -> Vec<String> {
    use std::collections::{BTreeMap, BTreeSet};
    let spws: BTreeSet<u32> = rows.iter().map(|r| r.spw.0).collect();
    let mut said = Vec::new();
    for spw in spws {
        let idx: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].spw.0 == spw).collect();
        let start = |r: &SysCalRow| r.time_s - 0.5 * r.interval_s;
        let day0 = 86400.0 * (start(&rows[idx[0]]) / 86400.0).floor();
        let mut buckets: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for &i in &idx {
            let b = (start(&rows[i]).floor() - day0) as i64;
            buckets.entry(b).or_default().push(i);
        }
        let n_times = idx
            .iter()
            .map(|&i| rows[i].time_s.to_bits())
            .collect::<BTreeSet<_>>()
            .len();
        if n_times == buckets.len() {
            said.push(format!(
                "spw {spw}: {} Tsys measurements with {n_times} TIMEs: OK",
                buckets.len()
            ));
            continue;
        }
        let mut fixed = 0;
        for members in buckets.values() {
            let distinct = members
                .iter()
                .map(|&i| rows[i].time_s.to_bits())
                .collect::<BTreeSet<_>>()
                .len();
            if distinct < 2 {
                continue;
            }
            let starts: Vec<f64> = members.iter().map(|&i| start(&rows[i])).collect();
            let mean = numpy_sum(&starts) / starts.len() as f64;
            for &i in members {
                rows[i].time_s = mean + newinterval / 2.0;
                rows[i].interval_s = newinterval;
            }
            fixed += 1;
        }
        said.push(format!(
            "spw {spw}: {} Tsys measurements with {n_times} TIMEs: {fixed} fixed to INTERVAL {newinterval} s",
            buckets.len()
        ));
    }
    said
}

/// `numpy.sum` of a contiguous float64 array, to the last bit: the first value, plus
/// numpy's pairwise sum of the rest (eight accumulators per block of up to 128 values).
fn numpy_sum(a: &[f64]) -> f64 {
    fn pairwise(a: &[f64]) -> f64 {
        let n = a.len();
        if n < 8 {
            a.iter().fold(0.0, |s, v| s + v)
        } else if n <= 128 {
            let mut r = [0.0f64; 8];
            r.copy_from_slice(&a[..8]);
            let whole = n - n % 8;
            for block in a[8..whole].chunks_exact(8) {
                for (acc, v) in r.iter_mut().zip(block) {
                    *acc += v;
                }
            }
            let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for v in &a[whole..] {
                res += v;
            }
            res
        } else {
            let mut n2 = n / 2;
            n2 -= n2 % 8;
            pairwise(&a[..n2]) + pairwise(&a[n2..])
        }
    }
    match a.split_first() {
        Some((first, rest)) => first + pairwise(rest),
        None => 0.0,
    }
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
    // One slot per (spw, SYSCAL TIME), as CASA's gencal makes them: rows with the same
    // start but different INTERVALs are separate slots (fixtures/syscal_times).
    // (spw, TIME bits; positive doubles order as their bits) -> antenna -> row
    let mut groups: BTreeMap<(u32, u64), BTreeMap<u32, &SysCalRow>> = BTreeMap::new();
    for r in syscal {
        groups
            .entry((r.spw.0, r.time_s.to_bits()))
            .or_default()
            .entry(r.antenna.0)
            .or_insert(r);
    }
    let mut out = Vec::new();
    for ((spw, _), ants) in groups {
        // The slot's stamp: its measurement start, SYSCAL TIME − INTERVAL/2.
        let t = ants
            .values()
            .map(|r| r.time_s - 0.5 * r.interval_s)
            .fold(f64::INFINITY, f64::min);
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
    // CASA orders by spw, stamp and antenna; slots sharing a stamp (the same start with
    // another INTERVAL) interleave per antenna in SYSCAL TIME order (the stable sort keeps
    // the BTreeMap's TIME order).
    out.sort_by(|a, b| {
        a.spw
            .cmp(&b.spw)
            .then(a.time_s.total_cmp(&b.time_s))
            .then(a.antenna.cmp(&b.antenna))
    });
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

    #[test]
    fn fixsyscaltimes_merges_same_second_starts_only() {
        let r = |ant: u32, spw: u32, t: f64, iv: f64| SysCalRow {
            antenna: AntennaId(ant),
            spw: SpwId(spw),
            time_s: t,
            interval_s: iv,
            tsys_spectrum: None,
        };
        let mut rows = vec![
            // spw 9: same start 100.2, INTERVALs 4 and 10 -> one bucket, two TIMEs.
            r(0, 9, 102.2, 4.0),
            r(1, 9, 105.2, 10.0),
            // spw 9, second measurement: antenna 1 starts 0.3 s later, across a second.
            r(0, 9, 300.9, 1.0),
            r(1, 9, 301.6, 1.0),
            // spw 11: one TIME per bucket: OK, untouched.
            r(0, 11, 102.2, 4.0),
            r(1, 11, 102.2, 4.0),
        ];
        let before = rows.clone();
        let said = fix_syscal_times(&mut rows, 2.0);
        assert_eq!(rows[0].time_s, 101.2);
        assert_eq!(rows[1].time_s, 101.2);
        assert_eq!((rows[0].interval_s, rows[1].interval_s), (2.0, 2.0));
        // Buckets 300 and 301 hold one TIME each: left alone.
        let ti = |v: &[SysCalRow]| {
            v.iter()
                .map(|r| (r.time_s, r.interval_s))
                .collect::<Vec<_>>()
        };
        assert_eq!(ti(&rows[2..]), ti(&before[2..]));
        assert!(
            said[0].contains("1 fixed") && said[1].contains("OK"),
            "{said:?}"
        );
    }

    #[test]
    fn numpy_sum_pairs_like_numpy() {
        // 1e16 then sixteen ones: a plain loop loses every one (1e16 + 1 rounds to 1e16).
        let v: Vec<f64> = std::iter::once(1e16)
            .chain(std::iter::repeat_n(1.0, 16))
            .collect();
        // first + pairwise(16 ones): the eight accumulators sum the ones exactly, 16.
        assert_eq!(numpy_sum(&v), 1e16 + 16.0);
        let plain = v.iter().fold(0.0, |s, x| s + x);
        assert_ne!(plain, numpy_sum(&v));
    }
}
