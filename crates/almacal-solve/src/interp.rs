//! Caltable interpolation as applycal does it (algorithms.md §7.2): in time (nearest or
//! linear; complex values as amplitude and phase separately with the phase unwrapped between
//! the bracketing rows; flags propagate, never skipped) and in frequency (flagged solution
//! channels dropped, nearest-end extrapolation, optional `...flag` modes, exact copy when the
//! grids coincide). Real parameters (Tsys) interpolate directly.

use crate::error::{Result, SolveError};
use num_complex::Complex64;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Time interpolation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeInterp {
    Nearest,
    Linear,
}

/// Frequency interpolation; `flag` variants propagate solution-channel flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreqInterp {
    pub linear: bool,
    pub flag: bool,
}

/// A parsed applycal `interp` entry, e.g. `'linear,linearflag'`, `'nearest'`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interp {
    pub time: TimeInterp,
    pub freq: FreqInterp,
    /// The `PD` suffix (`linearPD`, `nearestPD`): a one-channel solution's phase is scaled
    /// to the data frequency, as a delay ([`phase_delay_scale`]).
    #[serde(default)]
    pub phase_delay: bool,
}

/// CASA's phase-delay scale of a `...PD` interpolation: a non-channelised solution's phase
/// times `nu_data / nu_solution`, with `nu_data` the data's middle channel
/// (`chan_freq[nchan / 2]`) and `nu_solution` the solution's frequency (measured on
/// CASA 6.7: one ratio per spw, equal to this to 1e-8; fixtures/interp_pd).
pub fn phase_delay_scale(data_freq_hz: &[f64], solution_freq_hz: f64) -> f64 {
    match data_freq_hz.get(data_freq_hz.len() / 2) {
        Some(&f) if solution_freq_hz > 0.0 => f / solution_freq_hz,
        _ => 1.0,
    }
}

impl Interp {
    /// Parse; empty parts default to linear. `cubic`/`spline` are not supported (error).
    /// `perobs`/`perscan` suffixes on the time part are returned stripped in `per`; a `PD`
    /// before them sets `phase_delay`.
    pub fn parse(s: &str) -> Result<(Self, Vec<String>)> {
        let mut parts = s.splitn(2, ',');
        let t = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let f = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut per = Vec::new();
        let mut t = t.as_str();
        for suffix in ["perobs", "perscan"] {
            if let Some(x) = t.strip_suffix(suffix) {
                per.push(suffix.to_string());
                t = x;
            }
        }
        let phase_delay = match t.strip_suffix("pd") {
            Some(x) => {
                t = x;
                true
            }
            None => false,
        };
        let time = match t {
            // CASA accepts `...flag` on the time part too; time interpolation never skips
            // flagged solutions anyway, so it is the same (verified against CASA 6.7,
            // crates/almacal-pipeline/tests/applycal_modes.rs).
            "" | "linear" | "linearflag" => TimeInterp::Linear,
            "nearest" | "nearestflag" => TimeInterp::Nearest,
            other => {
                return Err(SolveError::Interp(format!(
                    "unsupported time interpolation '{other}' in '{s}'"
                )))
            }
        };
        let (base, flag) = match f.strip_suffix("flag") {
            Some(b) => (b, true),
            None => (f.as_str(), false),
        };
        let linear = match base {
            "" | "linear" => true,
            "nearest" => false,
            other => {
                return Err(SolveError::Interp(format!(
                    "unsupported frequency interpolation '{other}' in '{s}'"
                )))
            }
        };
        Ok((
            Self {
                time,
                freq: FreqInterp { linear, flag },
                phase_delay,
            },
            per,
        ))
    }
}

fn wrap(x: f64) -> f64 {
    let y = (x + PI).rem_euclid(2.0 * PI) - PI;
    if y == -PI {
        PI
    } else {
        y
    }
}

/// Amplitude/phase linear blend of a and b at fraction x ∈ [0,1].
pub fn blend_amp_phase(a: Complex64, b: Complex64, x: f64) -> Complex64 {
    blend_amp_phase_scaled(a, b, x, 1.0)
}

/// [`blend_amp_phase`] with the blended phase — `arg a` plus the wrapped step to `arg b`,
/// itself not wrapped again — times `phase_scale` (a `...PD` interpolation's
/// [`phase_delay_scale`]; CASA 6.7 scales after the time interpolation, fixtures/interp_pd).
pub fn blend_amp_phase_scaled(a: Complex64, b: Complex64, x: f64, phase_scale: f64) -> Complex64 {
    let (ra, pa) = (a.norm(), a.arg());
    let rb = b.norm();
    let dp = wrap(b.arg() - pa);
    Complex64::from_polar(ra + (rb - ra) * x, (pa + dp * x) * phase_scale)
}

/// Which rows and weights a data time `t` uses: (k, k+1, fraction) or a single row (k, k,
/// 0). `times` are the rows of one interpolation slice, ascending.
///
/// CASA's `CTTimeInterp1` registration (docs/casa-degraded-rules.md §c): times are held as
/// float32 offsets from `floor(t_first − 1 s)` of the slice, and the data time is converted
/// the same way. Outside the range, or with one row, the end row is used. A float32-equal
/// time is exact (that row alone). Otherwise `nearest` takes the strictly nearer neighbour
/// in float32 (a tie goes to the earlier), and `linear` the bracketing pair with the
/// fraction computed in float32. Flagged rows are never skipped.
pub fn time_bracket(times: &[f64], t: f64, mode: TimeInterp) -> Option<(usize, usize, f64)> {
    let n = times.len();
    if n == 0 {
        return None;
    }
    if n == 1 {
        return Some((0, 0, 0.0));
    }
    let t_ref = (times[0] - 1.0).floor();
    let rel = |x: f64| (x - t_ref) as f32;
    let ft = rel(t);
    if ft < rel(times[0]) {
        return Some((0, 0, 0.0));
    }
    if ft > rel(times[n - 1]) {
        return Some((n - 1, n - 1, 0.0));
    }
    let i = times.partition_point(|&x| rel(x) < ft);
    if i < n && rel(times[i]) == ft {
        return Some((i, i, 0.0));
    }
    let mut k = i.saturating_sub(1);
    match mode {
        TimeInterp::Nearest => {
            if k != n - 1 && (rel(times[k + 1]) - ft) < (ft - rel(times[k])) {
                k += 1;
            }
            Some((k, k, 0.0))
        }
        TimeInterp::Linear => {
            if k == n - 1 {
                k -= 1;
            }
            let (a, b) = (rel(times[k]), rel(times[k + 1]));
            let x = if b > a { (ft - a) / (b - a) } else { 0.0 };
            Some((k, k + 1, f64::from(x)))
        }
    }
}

/// Time interpolation of one slice's rows with a blend for the parameter type.
fn interp_time<T: Copy>(
    times: &[f64],
    values: &[Vec<T>],
    flags: &[Vec<bool>],
    t: f64,
    mode: TimeInterp,
    blend: impl Fn(T, T, f64) -> T,
) -> Option<(Vec<T>, Vec<bool>)> {
    let (a, b, x) = time_bracket(times, t, mode)?;
    let v = values[a]
        .iter()
        .zip(&values[b])
        .map(|(&p, &q)| if a == b { p } else { blend(p, q, x) })
        .collect();
    let f = flags[a]
        .iter()
        .zip(&flags[b])
        .map(|(p, q)| *p || *q)
        .collect();
    Some((v, f))
}

/// Interpolate complex solutions in time. `values[r]`/`flags[r]` are the parameters of row
/// r (all rows of one spw/antenna slice, sorted by `times`). Output flags are the OR of the
/// rows used.
pub fn interp_time_complex(
    times: &[f64],
    values: &[Vec<Complex64>],
    flags: &[Vec<bool>],
    t: f64,
    mode: TimeInterp,
) -> Option<(Vec<Complex64>, Vec<bool>)> {
    interp_time(times, values, flags, t, mode, blend_amp_phase)
}

/// Interpolate real parameters (e.g. Tsys) in time.
pub fn interp_time_real(
    times: &[f64],
    values: &[Vec<f64>],
    flags: &[Vec<bool>],
    t: f64,
    mode: TimeInterp,
) -> Option<(Vec<f64>, Vec<bool>)> {
    interp_time(times, values, flags, t, mode, |p, q, x| p + (q - p) * x)
}

fn grids_coincide(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-10 * x.abs().max(y.abs()))
}

/// Registration of `f` on an ascending grid `g`: (lo, hi, fraction), clamped at the ends.
fn register(g: &[f64], f: f64) -> (usize, usize, f64) {
    let n = g.len();
    if f <= g[0] {
        return (0, 0, 0.0);
    }
    if f >= g[n - 1] {
        return (n - 1, n - 1, 0.0);
    }
    let k = g.partition_point(|&x| x <= f) - 1;
    if g[k] == f {
        return (k, k, 0.0);
    }
    (k, k + 1, (f - g[k]) / (g[k + 1] - g[k]))
}

fn freq_core<T: Copy>(
    src_freq: &[f64],
    vals: &[T],
    flags: &[bool],
    dst_freq: &[f64],
    mode: FreqInterp,
    blend: impl Fn(T, T, f64) -> T,
) -> Option<(Vec<T>, Vec<bool>)> {
    if src_freq.is_empty() || flags.iter().all(|&f| f) {
        return None;
    }
    // CASA compares the *unflagged* solution grid with the data grid: only a table without
    // flagged channels is copied as it is (`CTPatchedInterp::resampleInFreq`).
    if !flags.iter().any(|&f| f) && grids_coincide(src_freq, dst_freq) {
        return Some((vals.to_vec(), vec![false; vals.len()]));
    }
    // Ascending order of the full and of the unflagged grids.
    let mut order: Vec<usize> = (0..src_freq.len()).collect();
    order.sort_by(|&a, &b| src_freq[a].total_cmp(&src_freq[b]));
    let good: Vec<usize> = order.iter().copied().filter(|&i| !flags[i]).collect();
    let gfreq: Vec<f64> = good.iter().map(|&i| src_freq[i]).collect();
    let afreq: Vec<f64> = order.iter().map(|&i| src_freq[i]).collect();
    let mut out = Vec::with_capacity(dst_freq.len());
    let mut oflag = Vec::with_capacity(dst_freq.len());
    for &f in dst_freq {
        let (lo, hi, x) = register(&gfreq, f);
        let v = if !mode.linear {
            let j = if x <= 0.5 { lo } else { hi };
            vals[good[j]]
        } else if lo == hi {
            vals[good[lo]]
        } else {
            blend(vals[good[lo]], vals[good[hi]], x)
        };
        out.push(v);
        oflag.push(mode.flag && flag_registration(&order, &afreq, flags, f, mode.linear));
    }
    Some((out, oflag))
}

/// The `...flag` frequency rule: a data channel at a solution channel's frequency takes
/// that channel's flag; between two, `linear` flags it if either is flagged and `nearest`
/// takes the nearer one's; beyond the ends, the end channel's flag. (Checked against CASA
/// 6.7: `fixtures/scenarios/research/exp_finterp.py` for grids that do not coincide, scenario
/// `applycal_flagged_neighbours` for grids that do; `resampleFlagsInFreq` in the LibRA sources
/// would register an exact match to the channel before it, which CASA 6.7 does not do.)
/// `order` sorts the solution channels by frequency; `afreq` are their sorted frequencies.
fn flag_registration(order: &[usize], afreq: &[f64], flags: &[bool], f: f64, linear: bool) -> bool {
    let (a, b, y) = register(afreq, f);
    if linear {
        flags[order[a]] || flags[order[b]]
    } else {
        flags[order[if y <= 0.5 { a } else { b }]]
    }
}

/// Interpolate a complex spectrum (one antenna/par, time-interpolated) onto data channel
/// frequencies. `None` when every solution channel is flagged (caller flags the data).
pub fn interp_freq_complex(
    src_freq: &[f64],
    vals: &[Complex64],
    flags: &[bool],
    dst_freq: &[f64],
    mode: FreqInterp,
) -> Option<(Vec<Complex64>, Vec<bool>)> {
    freq_core(src_freq, vals, flags, dst_freq, mode, blend_amp_phase)
}

/// Interpolate a real spectrum (Tsys) onto data channel frequencies.
pub fn interp_freq_real(
    src_freq: &[f64],
    vals: &[f64],
    flags: &[bool],
    dst_freq: &[f64],
    mode: FreqInterp,
) -> Option<(Vec<f64>, Vec<bool>)> {
    freq_core(src_freq, vals, flags, dst_freq, mode, |a, b, x| {
        a + (b - a) * x
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(amp: f64, deg: f64) -> Complex64 {
        Complex64::from_polar(amp, deg.to_radians())
    }

    #[test]
    fn phase_delay_suffix_and_scale() {
        let (i, per) = Interp::parse("linearPDperobs").unwrap();
        assert!(i.phase_delay && i.time == TimeInterp::Linear);
        assert_eq!(per, vec!["perobs"]);
        let (i, _) = Interp::parse("nearestPD").unwrap();
        assert!(i.phase_delay && i.time == TimeInterp::Nearest);
        assert!(!Interp::parse("linear").unwrap().0.phase_delay);
        // The middle channel (index n/2) over the solution frequency.
        assert_eq!(phase_delay_scale(&[1.0, 2.0, 3.0, 4.0], 2.0), 1.5);
        assert_eq!(phase_delay_scale(&[], 2.0), 1.0);
        // The blended phase is not wrapped before scaling: from 170 deg to -170 deg (a
        // +20 deg step) halfway is 180 deg, scaled by 0.5 to 90 deg (not -90).
        let z = blend_amp_phase_scaled(c(1.0, 170.0), c(1.0, -170.0), 0.5, 0.5);
        assert!(
            (z.arg().to_degrees() - 90.0).abs() < 1e-9,
            "{}",
            z.arg().to_degrees()
        );
    }

    #[test]
    fn parses_interp_strings() {
        let (i, _) = Interp::parse("linear,linearflag").unwrap();
        assert_eq!(i.time, TimeInterp::Linear);
        assert!(i.freq.linear && i.freq.flag);
        let (i, per) = Interp::parse("nearestperscan").unwrap();
        assert_eq!(i.time, TimeInterp::Nearest);
        assert_eq!(per, vec!["perscan"]);
        assert!(Interp::parse("cubic").is_err());
        assert!(Interp::parse("linear,bogus").is_err());
    }

    #[test]
    fn time_linear_in_amp_and_phase_with_unwrap_and_flags() {
        let times = [0.0, 10.0, 20.0];
        let vals = vec![vec![c(1.0, 170.0)], vec![c(2.0, -170.0)], vec![c(3.0, 0.0)]];
        let flags = vec![vec![false], vec![false], vec![true]];
        let (v, f) = interp_time_complex(&times, &vals, &flags, 5.0, TimeInterp::Linear).unwrap();
        assert!((v[0].norm() - 1.5).abs() < 1e-12);
        assert!((v[0].arg().to_degrees().abs() - 180.0).abs() < 1e-9);
        assert!(!f[0]);
        // Between an unflagged and a flagged row: flagged (not skipped).
        let (_, f) = interp_time_complex(&times, &vals, &flags, 15.0, TimeInterp::Linear).unwrap();
        assert!(f[0]);
        // Nearest picks the closer row; ties go to the earlier.
        let (v, f) = interp_time_complex(&times, &vals, &flags, 14.0, TimeInterp::Nearest).unwrap();
        assert!((v[0].norm() - 2.0).abs() < 1e-12 && !f[0]);
        let (v, _) = interp_time_complex(&times, &vals, &flags, 5.0, TimeInterp::Nearest).unwrap();
        assert!((v[0].norm() - 1.0).abs() < 1e-12);
        // Outside the range: nearest end value.
        let (v, _) =
            interp_time_complex(&times, &vals, &flags, -100.0, TimeInterp::Linear).unwrap();
        assert!((v[0].norm() - 1.0).abs() < 1e-12);
        let (r, _) = interp_time_real(
            &times,
            &[vec![100.0], vec![200.0], vec![0.0]],
            &flags,
            2.5,
            TimeInterp::Linear,
        )
        .unwrap();
        assert!((r[0] - 125.0).abs() < 1e-12);
    }

    #[test]
    fn time_registration_is_float32_relative_to_the_slice_start() {
        // MJD-seconds solution times 100.8 s apart; the middle one is flagged.
        let t0 = 5_000_000_000.25;
        let times = [t0, t0 + 100.8, t0 + 201.6];
        let flags = vec![vec![false], vec![true], vec![false]];
        let vals = vec![vec![c(1.0, 0.0)]; 3];
        // 3 µs after the middle row (offset ≈ 102 s, float32 ulp ≈ 8 µs): exact, that row.
        assert_eq!(
            time_bracket(&times, t0 + 100.8 + 3e-6, TimeInterp::Linear),
            Some((1, 1, 0.0))
        );
        // 2 µs after the first row (offset 1.25 s, ulp ≈ 0.1 µs): not exact, so linear with
        // the flagged neighbour → flagged.
        let (a, b, x) = time_bracket(&times, t0 + 2e-6, TimeInterp::Linear).unwrap();
        assert_eq!((a, b), (0, 1));
        assert!(x > 0.0 && x < 1e-6);
        let (_, f) =
            interp_time_complex(&times, &vals, &flags, t0 + 2e-6, TimeInterp::Linear).unwrap();
        assert!(f[0]);
        // Nearest: the first row, unflagged.
        let (_, f) =
            interp_time_complex(&times, &vals, &flags, t0 + 2e-6, TimeInterp::Nearest).unwrap();
        assert!(!f[0]);
        // Exactly midway: a float32 tie goes to the earlier row.
        assert_eq!(
            time_bracket(&[0.0, 10.0], 5.0, TimeInterp::Nearest),
            Some((0, 0, 0.0))
        );
        // 2 µs before the first row is before the range: the first row, as if exact.
        assert_eq!(
            time_bracket(&times, t0 - 2e-6, TimeInterp::Linear),
            Some((0, 0, 0.0))
        );
    }

    #[test]
    fn freq_drops_flagged_channels_and_extrapolates_nearest() {
        // Descending (LSB) solution grid with its middle channel flagged.
        let src = [4.0, 3.0, 2.0, 1.0];
        let vals = [c(4.0, 40.0), c(3.0, 999.0), c(2.0, 20.0), c(1.0, 10.0)];
        let flags = [false, true, false, false];
        let dst = [0.5, 3.0, 4.5];
        let lin = FreqInterp {
            linear: true,
            flag: false,
        };
        let (v, f) = interp_freq_complex(&src, &vals, &flags, &dst, lin).unwrap();
        assert!((v[0].norm() - 1.0).abs() < 1e-12);
        assert!((v[1].norm() - 3.0).abs() < 1e-12 && (v[1].arg().to_degrees() - 30.0).abs() < 1e-9);
        assert!((v[2].norm() - 4.0).abs() < 1e-12);
        assert!(f.iter().all(|x| !x));
        let lf = FreqInterp {
            linear: true,
            flag: true,
        };
        let (_, f) = interp_freq_complex(&src, &vals, &flags, &[2.5, 1.5], lf).unwrap();
        assert_eq!(f, vec![true, false]);
        // Coinciding grids: CASA copies only a table without flagged channels. With one,
        // plain linear interpolates across it and flags nothing ...
        let (v, f) = interp_freq_complex(&src, &vals, &flags, &src, lin).unwrap();
        assert!((v[1].norm() - 3.0).abs() < 1e-12 && (v[1].arg().to_degrees() - 30.0).abs() < 1e-9);
        assert!(f.iter().all(|x| !x));
        // ... and linearflag / nearestflag give each coinciding channel its own flag.
        let (_, f) = interp_freq_complex(&src, &vals, &flags, &src, lf).unwrap();
        assert_eq!(f, vec![false, true, false, false]);
        let nf = FreqInterp {
            linear: false,
            flag: true,
        };
        let (_, f) = interp_freq_complex(&src, &vals, &flags, &src, nf).unwrap();
        assert_eq!(f, vec![false, true, false, false]);
        let clean = [false; 4];
        let (v, f) = interp_freq_complex(&src, &vals, &clean, &src, lf).unwrap();
        assert_eq!(v, vals.to_vec());
        assert!(f.iter().all(|x| !x));
        assert!(interp_freq_real(&[1.0], &[5.0], &[true], &[1.0], lin).is_none());
    }
}
