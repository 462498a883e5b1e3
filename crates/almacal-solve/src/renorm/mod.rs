//! ALMA spectral renormalization (ACReNorm, algorithms.md §9): the numerics, no I/O.
//!
//! For one target scan/field of one spw, [`renormalize`] takes the time-averaged
//! autocorrelation spectra of the target and of the bandpass calibrator (per polarisation and
//! antenna) and returns the renormalization spectra N (pol, ant, chan) that the caltable
//! stores, with the scaling statistic that decides whether the spw needs correcting:
//!
//! 1. N = AC_target / AC_bandpass ([`renormalize`]);
//! 2. excluded channels (user ranges, ATM mask from [`atm`]) set to exactly 1.0;
//! 3. segmentation ([`segments`]) and per-segment baseline fits with clipping ([`fit`]);
//!    with dynamic segments, the count is lowered by 2 (up to ⌊nseg/2⌋ times) when a
//!    segment keeps < 10 % usable channels or the antenna-median spectrum exceeds 1.005
//!    within max(10 channels, 10 MHz) of a segment border;
//! 4. edge channels set to the spectrum's median ([`repair::fix_edges`]);
//! 5. dead antennas (cross-correlations fully flagged, or excluded) reset to 1.0;
//! 6. outlier channels/antennas replaced by the median spectrum ([`repair`]);
//! 7. the scaling statistic ([`stats`]).
//!
//! Applying N works like a Tsys table (§9.4): V_ij ← V_ij·sqrt(N_i N_j), which undoes the
//! correlator's division by sqrt(TsysOn_i TsysOn_j) in the line channels.

pub mod atm;
pub mod exclude;
pub mod fit;
pub mod repair;
pub mod segments;
pub mod stats;

use fit::{median, normalize_spectrum, SegmentFit};
use ndarray::{s, Array3, ArrayView3};
use repair::OutlierAction;
use std::ops::Range;

/// Errors of the renormalization numerics (bad user input or inconsistent spectra).
#[derive(Debug, thiserror::Error)]
pub enum RenormError {
    #[error("excludechan '{expr}': {why}")]
    BadExclusion { expr: String, why: String },
    #[error("target spectra have shape {target:?} but bandpass spectra {bandpass:?}")]
    ShapeMismatch {
        target: (usize, usize, usize),
        bandpass: (usize, usize, usize),
    },
}

/// Tuning knobs (ACReNorm's defaults as the ALMA pipeline calls it).
#[derive(Debug, Clone, PartialEq)]
pub struct RenormConfig {
    /// Polynomial orders tried: 1 … nfit−1.
    pub nfit: usize,
    /// Fraction of channels per side replaced by the median.
    pub mededge: f64,
    /// Bandwidth per segment (Hz).
    pub bwthresh_hz: f64,
    pub dynamic_segments: bool,
    pub fix_outliers: bool,
}

impl Default for RenormConfig {
    fn default() -> Self {
        Self {
            nfit: 5,
            mededge: 0.01,
            bwthresh_hz: segments::BWTHRESH_HZ,
            dynamic_segments: true,
            fix_outliers: true,
        }
    }
}

/// The inputs for one (scan, field, spw).
#[derive(Debug, Clone)]
pub struct ScanSpectra<'a> {
    /// Time-averaged target autocorrelations (pol, ant, chan), real part.
    pub target_pac: ArrayView3<'a, f64>,
    /// Time-averaged bandpass-calibrator autocorrelations (pol, ant, chan).
    pub bandpass_pac: ArrayView3<'a, f64>,
    /// Excluded channel ranges `[lo, hi)`.
    pub exclude: &'a [Range<usize>],
    /// Antennas to reset to 1.0 (fully flagged cross-correlations, user-excluded).
    pub dead: &'a [bool],
    /// |channel width| (Hz).
    pub chan_width_hz: f64,
    /// Total bandwidth (Hz).
    pub bandwidth_hz: f64,
    /// Optional Tsys template (pol, ant, chan): Tsys(target)/Tsys(bandpass) from the Tsys
    /// measurements, interpolated onto the channels (see [`renormalize`]).
    pub template_pac: Option<ArrayView3<'a, f64>>,
}

/// An outlier repair that happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutlierFix {
    pub pol: usize,
    pub ant: usize,
    pub action: OutlierAction,
}

/// The renormalization of one (scan, field, spw).
#[derive(Debug, Clone)]
pub struct ScanRenorm {
    /// Renormalization spectra (pol, ant, chan).
    pub n_pac: Array3<f64>,
    /// Segments from the bandwidth rule, and after dynamic reductions.
    pub nseg_initial: usize,
    pub nseg: usize,
    /// Number of reductions by 2.
    pub seg_changes: usize,
    /// Per-correlation mean of per-antenna maxima, and their mean.
    pub nmax_p: Vec<f64>,
    pub scaling: f64,
    pub outliers: Vec<OutlierFix>,
    /// Power of the Tsys template divided out before the fits (0: none).
    pub template_power: u32,
    /// The diagnostic ratio spectra AC_target / AC_bandpass (pol, ant, chan); NaN where a
    /// channel is excluded, the ratio is not a positive number, or the antenna is dead.
    pub ratio_pac: Array3<f64>,
    /// The fitted baseline of the ratio (pol, ant, chan): the segment polynomials times
    /// the Tsys template^`template_power`, so that ratio / baseline is N before the edge
    /// and outlier repairs; NaN where the ratio is.
    pub baseline_pac: Array3<f64>,
}

/// Run steps 1–7 (see the module doc) on one scan's spectra.
pub fn renormalize(input: &ScanSpectra<'_>, cfg: &RenormConfig) -> Result<ScanRenorm, RenormError> {
    let shape = input.target_pac.dim();
    if shape != input.bandpass_pac.dim() {
        return Err(RenormError::ShapeMismatch {
            target: shape,
            bandpass: input.bandpass_pac.dim(),
        });
    }
    let (npol, nant, nchan) = shape;
    // 1–2: ratio with exclusions.
    let mut ratio = Array3::<f64>::ones(shape);
    for ((p, a, c), v) in ratio.indexed_iter_mut() {
        let (t, b) = (input.target_pac[[p, a, c]], input.bandpass_pac[[p, a, c]]);
        let r = t / b;
        *v = if r.is_finite() && r > 0.0 { r } else { 1.0 };
    }
    for r in input.exclude {
        let (lo, hi) = (r.start.min(nchan), r.end.min(nchan));
        ratio.slice_mut(s![.., .., lo..hi]).fill(1.0);
    }
    // 3: segmented fits, with dynamic reduction of the segment count; with a Tsys template,
    // the ratio divided by template^k for k = 0, 1, 2, keeping the flattest result.
    let nseg_initial =
        segments::n_segments(nchan, input.bandwidth_hz, cfg.bwthresh_hz, cfg.mededge);
    let powers: &[u32] = if input.template_pac.is_some() {
        &[0, 1, 2]
    } else {
        &[0]
    };
    let mut best: Option<(f64, u32, Array3<f64>, usize, usize)> = None;
    for &k in powers {
        let mut r = ratio.clone();
        if let (Some(t), true) = (input.template_pac, k > 0) {
            if t.dim() != shape {
                return Err(RenormError::ShapeMismatch {
                    target: shape,
                    bandpass: t.dim(),
                });
            }
            for ((p, a, c), v) in r.indexed_iter_mut() {
                let tv = t[[p, a, c]].powi(k as i32);
                if *v != 1.0 && tv.is_finite() && tv > 0.0 {
                    *v /= tv;
                }
            }
        }
        let (n, nseg, changes) = fit_segments(&r, input, cfg, nseg_initial);
        let score: f64 = (0..npol)
            .flat_map(|p| (0..nant).map(move |a| (p, a)))
            .map(|(p, a)| {
                let dev: Vec<f64> = n
                    .slice(s![p, a, ..])
                    .iter()
                    .map(|v| (v - 1.0).abs())
                    .collect();
                median(&dev)
            })
            .sum();
        if best.as_ref().is_none_or(|b| score < b.0) {
            best = Some((score, k, n, nseg, changes));
        }
    }
    let Some((_, template_power, n_pac, nseg, seg_changes)) = best else {
        return Err(RenormError::ShapeMismatch {
            target: shape,
            bandpass: input.bandpass_pac.dim(),
        });
    };
    let (ratio_pac, baseline_pac) = diagnostic_spectra(&ratio, &n_pac, input.dead);
    let mut n_pac = n_pac;
    // 4: edges.
    for p in 0..npol {
        for a in 0..nant {
            let mut spec: Vec<f64> = n_pac.slice(s![p, a, ..]).to_vec();
            repair::fix_edges(&mut spec, cfg.mededge);
            n_pac
                .slice_mut(s![p, a, ..])
                .assign(&ndarray::Array1::from(spec));
        }
    }
    // 5: dead antennas.
    for (a, &d) in input.dead.iter().enumerate().take(nant) {
        if d {
            n_pac.slice_mut(s![.., a, ..]).fill(1.0);
        }
    }
    // 6: outliers.
    let mut outliers = Vec::new();
    if cfg.fix_outliers && nant > 2 {
        for p in 0..npol {
            let specs: Vec<Vec<f64>> = (0..nant)
                .map(|a| n_pac.slice(s![p, a, ..]).to_vec())
                .collect();
            let live: Vec<usize> = (0..nant)
                .filter(|&a| !input.dead.get(a).copied().unwrap_or(false))
                .collect();
            let refs: Vec<&[f64]> = live.iter().map(|&a| specs[a].as_slice()).collect();
            let m = repair::median_spectrum(&refs);
            for &a in &live {
                let mut spec = specs[a].clone();
                let action = repair::fix_outliers(&mut spec, &m);
                if action != OutlierAction::None {
                    outliers.push(OutlierFix {
                        pol: p,
                        ant: a,
                        action,
                    });
                    n_pac
                        .slice_mut(s![p, a, ..])
                        .assign(&ndarray::Array1::from(spec));
                }
            }
        }
    }
    // 7: statistic.
    let (nmax_p, scaling) = stats::scaling_statistic(n_pac.view());
    Ok(ScanRenorm {
        n_pac,
        nseg_initial,
        nseg,
        seg_changes,
        nmax_p,
        scaling,
        outliers,
        template_power,
        ratio_pac,
        baseline_pac,
    })
}

/// The diagnostic ratio (NaN where excluded, i.e. exactly 1.0 after step 2, or for dead
/// antennas) and its fitted baseline ratio / N from the fitted N of step 3.
fn diagnostic_spectra(
    ratio: &Array3<f64>,
    n_fit: &Array3<f64>,
    dead: &[bool],
) -> (Array3<f64>, Array3<f64>) {
    let mut r = ratio.clone();
    let mut base = Array3::<f64>::from_elem(ratio.dim(), f64::NAN);
    for ((p, a, c), v) in r.indexed_iter_mut() {
        let n = n_fit[[p, a, c]];
        if *v == 1.0 || dead.get(a).copied().unwrap_or(false) || !(n.is_finite() && n > 0.0) {
            *v = f64::NAN;
        } else {
            base[[p, a, c]] = *v / n;
        }
    }
    (r, base)
}

/// Step 3 on a ratio cube: fits per segment, lowering the segment count by 2 while a segment
/// is nearly all clipped or the antenna-median spectrum is high near a border.
fn fit_segments(
    ratio: &Array3<f64>,
    input: &ScanSpectra<'_>,
    cfg: &RenormConfig,
    nseg_initial: usize,
) -> (Array3<f64>, usize, usize) {
    let (npol, nant, nchan) = ratio.dim();
    let mut nseg = nseg_initial;
    let mut seg_changes = 0;
    let border_half = 10usize.max(if input.chan_width_hz > 0.0 {
        (10e6 / input.chan_width_hz).ceil() as usize
    } else {
        0
    });
    loop {
        let ranges = segments::segment_ranges(nchan, nseg);
        let mut n = ratio.clone();
        let mut sparse = false;
        for p in 0..npol {
            for a in 0..nant {
                let mut spec: Vec<f64> = n.slice(s![p, a, ..]).to_vec();
                let fits = normalize_spectrum(&mut spec, &ranges, cfg.nfit);
                sparse |= fits.iter().any(|f: &SegmentFit| {
                    f.len > 0 && f.used > 0 && (f.used as f64) < 0.1 * f.len as f64
                });
                n.slice_mut(s![p, a, ..])
                    .assign(&ndarray::Array1::from(spec));
            }
        }
        let reduce = cfg.dynamic_segments
            && nseg > 1
            && seg_changes < nseg_initial / 2
            && (sparse || border_excess(&n, &ranges, border_half));
        if !reduce {
            return (n, nseg, seg_changes);
        }
        nseg = nseg.saturating_sub(2).max(1);
        seg_changes += 1;
    }
}

/// Whether the antenna-median spectrum of any polarisation exceeds 1.005 within `half`
/// channels of an interior segment border.
fn border_excess(n_pac: &Array3<f64>, ranges: &[Range<usize>], half: usize) -> bool {
    let (npol, nant, nchan) = n_pac.dim();
    for p in 0..npol {
        let med: Vec<f64> = (0..nchan)
            .map(|c| {
                let v: Vec<f64> = (0..nant).map(|a| n_pac[[p, a, c]]).collect();
                median(&v)
            })
            .collect();
        for r in ranges.iter().skip(1) {
            let b = r.start;
            let lo = b.saturating_sub(half);
            let hi = (b + half).min(nchan);
            if med[lo..hi].iter().any(|&v| v > 1.005) {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gauss(c: f64, mu: f64, sig: f64) -> f64 {
        (-0.5 * ((c - mu) / sig).powi(2)).exp()
    }

    /// Synthetic AC spectra: antenna-dependent bandpass shape common to both, a smooth
    /// ratio baseline, and a line of depth `amp` in the target at channel `mu`.
    fn synth(
        nchan: usize,
        nant: usize,
        amp: f64,
        mu: f64,
        sig: f64,
    ) -> (Array3<f64>, Array3<f64>, Array3<f64>) {
        let mut t = Array3::zeros((2, nant, nchan));
        let mut b = Array3::zeros((2, nant, nchan));
        let mut truth = Array3::zeros((2, nant, nchan));
        for p in 0..2 {
            for a in 0..nant {
                for c in 0..nchan {
                    let x = c as f64 / nchan as f64 - 0.5;
                    let bp = 1.0 + 0.1 * (x * 7.0 + a as f64).sin();
                    let base = 1.02 + 0.03 * x - 0.02 * x * x;
                    let f = 1.0 + amp * (1.0 + 0.02 * a as f64) * gauss(c as f64, mu, sig);
                    truth[[p, a, c]] = f;
                    b[[p, a, c]] = bp;
                    t[[p, a, c]] = bp * base * f;
                }
            }
        }
        (t, b, truth)
    }

    fn run(t: &Array3<f64>, b: &Array3<f64>, nchan: usize) -> ScanRenorm {
        let nant = t.dim().1;
        let dead = vec![false; nant];
        let input = ScanSpectra {
            target_pac: t.view(),
            bandpass_pac: b.view(),
            exclude: &[],
            dead: &dead,
            chan_width_hz: 1.875e9 / nchan as f64,
            bandwidth_hz: 1.875e9,
            template_pac: None,
        };
        renormalize(&input, &RenormConfig::default()).unwrap()
    }

    #[test]
    fn recovers_line_factor_and_statistic() {
        // 1024 channels → 7 segments of 146; the line sits inside segment 3 (438..584).
        let (t, b, truth) = synth(1024, 6, 0.25, 511.0, 8.0);
        let r = run(&t, &b, 1024);
        assert_eq!((r.nseg_initial, r.nseg, r.seg_changes), (7, 7, 0));
        let worst = (0..2)
            .flat_map(|p| (0..6).flat_map(move |a| (0..1024).map(move |c| (p, a, c))))
            .map(|(p, a, c)| (r.n_pac[[p, a, c]] - truth[[p, a, c]]).abs())
            .fold(0.0, f64::max);
        assert!(worst < 2e-3, "worst {worst}");
        let want = 1.0 + 0.25 * (0..6).map(|a| 1.0 + 0.02 * a as f64).sum::<f64>() / 6.0;
        assert!((r.scaling - want).abs() < 2e-3, "{} vs {want}", r.scaling);
        assert!(r.outliers.is_empty(), "{:?}", r.outliers);
    }

    #[test]
    fn diagnostics_hold_the_ratio_and_its_fitted_baseline() {
        let (t, b, truth) = synth(256, 4, 0.25, 128.0, 6.0);
        let exclude = std::iter::once(10..20).collect::<Vec<_>>();
        let dead = [false, false, false, true];
        let input = ScanSpectra {
            target_pac: t.view(),
            bandpass_pac: b.view(),
            exclude: &exclude,
            dead: &dead,
            chan_width_hz: 1e6,
            bandwidth_hz: 256e6,
            template_pac: None,
        };
        let r = renormalize(&input, &RenormConfig::default()).unwrap();
        for c in 30..226 {
            let x = c as f64 / 256.0 - 0.5;
            let base = 1.02 + 0.03 * x - 0.02 * x * x;
            // The ratio is the plain quotient; the baseline follows the smooth part.
            assert!((r.ratio_pac[[0, 1, c]] - t[[0, 1, c]] / b[[0, 1, c]]).abs() < 1e-12);
            assert!(
                (r.baseline_pac[[0, 1, c]] / base - 1.0).abs() < 2e-3,
                "chan {c}"
            );
            let n = r.ratio_pac[[1, 2, c]] / r.baseline_pac[[1, 2, c]];
            assert!((n - truth[[1, 2, c]]).abs() < 2e-3, "chan {c}: {n}");
        }
        assert!(r
            .ratio_pac
            .slice(s![.., 0, 10..20])
            .iter()
            .all(|v| v.is_nan()));
        assert!(r
            .baseline_pac
            .slice(s![.., 3, ..])
            .iter()
            .all(|v| v.is_nan()));
    }

    #[test]
    fn a_line_on_a_segment_border_reduces_the_segment_count() {
        let (t, b, truth) = synth(1024, 6, 0.25, 438.0, 8.0);
        let r = run(&t, &b, 1024);
        assert!(r.seg_changes >= 1 && r.nseg < 7, "nseg {}", r.nseg);
        let worst = |n: &Array3<f64>| {
            (400..480)
                .map(|c| (n[[0, 2, c]] - truth[[0, 2, c]]).abs())
                .fold(0.0, f64::max)
        };
        let peak_err = worst(&r.n_pac);
        assert!(peak_err < 3e-3, "{peak_err}");
        // Without dynamic segments the count stays (noise-free data are fitted either way).
        let dead = vec![false; 6];
        let input = ScanSpectra {
            target_pac: t.view(),
            bandpass_pac: b.view(),
            exclude: &[],
            dead: &dead,
            chan_width_hz: 1.875e9 / 1024.0,
            bandwidth_hz: 1.875e9,
            template_pac: None,
        };
        let cfg = RenormConfig {
            dynamic_segments: false,
            ..RenormConfig::default()
        };
        let fixed = renormalize(&input, &cfg).unwrap();
        assert_eq!(fixed.nseg, 7);
        let fixed_err = worst(&fixed.n_pac);
        assert!(fixed_err < 3e-3, "{fixed_err}");
    }

    #[test]
    fn a_tsys_template_removes_ripple_the_polynomial_cannot_follow() {
        let (nchan, nant) = (128, 4);
        let (mut t, b, truth) = synth(nchan, nant, 0.25, 64.0, 6.0);
        // Receiver ripple in the Tsys ratio: 0.5 % with a 24-channel period.
        let ripple = |c: usize| 1.0 + 0.005 * (c as f64 * std::f64::consts::TAU / 24.0).sin();
        let mut tpl = Array3::<f64>::ones((2, nant, nchan));
        for ((p, a, c), v) in t.indexed_iter_mut() {
            *v *= ripple(c);
            tpl[[p, a, c]] = ripple(c);
        }
        let dead = vec![false; nant];
        let mk = |template| ScanSpectra {
            target_pac: t.view(),
            bandpass_pac: b.view(),
            exclude: &[],
            dead: &dead,
            chan_width_hz: 1e6,
            bandwidth_hz: 128e6,
            template_pac: template,
        };
        let err = |r: &ScanRenorm| {
            (3..nchan - 3)
                .map(|c| (r.n_pac[[0, 1, c]] - truth[[0, 1, c]]).abs())
                .fold(0.0, f64::max)
        };
        let plain = renormalize(&mk(None), &RenormConfig::default()).unwrap();
        let with = renormalize(&mk(Some(tpl.view())), &RenormConfig::default()).unwrap();
        assert_eq!(plain.template_power, 0);
        assert_eq!(with.template_power, 1);
        assert!(err(&plain) > 3e-3, "plain {}", err(&plain));
        assert!(err(&with) < 1e-3, "with template {}", err(&with));
    }

    #[test]
    fn no_line_means_no_scaling() {
        let (t, b, _) = synth(128, 4, 0.0, 60.0, 5.0);
        let input = ScanSpectra {
            target_pac: t.view(),
            bandpass_pac: b.view(),
            exclude: &[],
            dead: &[false; 4],
            chan_width_hz: 1e6,
            bandwidth_hz: 128e6,
            template_pac: None,
        };
        let r = renormalize(&input, &RenormConfig::default()).unwrap();
        assert_eq!(r.nseg, 1);
        assert!((r.scaling - 1.0).abs() < 1e-3, "{}", r.scaling);
        assert!(r.scaling < 1.02);
    }

    #[test]
    fn exclusions_and_dead_antennas_reset_to_one() {
        let (t, b, _) = synth(256, 4, 0.3, 100.0, 5.0);
        let exclude = std::iter::once(80..120).collect::<Vec<_>>();
        let input = ScanSpectra {
            target_pac: t.view(),
            bandpass_pac: b.view(),
            exclude: &exclude,
            dead: &[false, false, true, false],
            chan_width_hz: 1e6,
            bandwidth_hz: 100e6,
            template_pac: None,
        };
        let r = renormalize(&input, &RenormConfig::default()).unwrap();
        assert!(r.n_pac.slice(s![.., 2, ..]).iter().all(|&v| v == 1.0));
        assert!(r.n_pac.slice(s![.., .., 80..120]).iter().all(|&v| v == 1.0));
        assert!(r.scaling < 1.01, "{}", r.scaling);
    }

    #[test]
    fn outlier_antenna_is_repaired_in_the_driver() {
        let (mut t, b, truth) = synth(128, 7, 0.2, 50.0, 4.0);
        // Antenna 4 polarisation 1: a 5 % bump over 40 channels away from the line.
        for c in 80..120 {
            t[[1, 4, c]] *= 1.0 + 0.05 * gauss(c as f64, 100.0, 8.0);
        }
        let input = ScanSpectra {
            target_pac: t.view(),
            bandpass_pac: b.view(),
            exclude: &[],
            dead: &[false; 7],
            chan_width_hz: 1e6,
            bandwidth_hz: 128e6,
            template_pac: None,
        };
        let r = renormalize(&input, &RenormConfig::default()).unwrap();
        assert!(
            r.outliers.iter().any(|o| o.pol == 1 && o.ant == 4),
            "{:?}",
            r.outliers
        );
        // The repaired spectrum is close to the other antennas' (the median), not the bump.
        assert!((r.n_pac[[1, 4, 100]] - truth[[1, 3, 100]]).abs() < 5e-3);
    }

    #[test]
    fn shape_mismatch_is_an_error() {
        let a = Array3::<f64>::ones((2, 3, 10));
        let b = Array3::<f64>::ones((2, 4, 10));
        let input = ScanSpectra {
            target_pac: a.view(),
            bandpass_pac: b.view(),
            exclude: &[],
            dead: &[],
            chan_width_hz: 1.0,
            bandwidth_hz: 10.0,
            template_pac: None,
        };
        assert!(renormalize(&input, &RenormConfig::default()).is_err());
    }
}
