//! The G/T (and per-channel B) Jones solver kernel for one solution channel of one
//! interval (algorithms.md §1.3, §1.5–1.8, §1.12): calmode data conditioning, minblperant
//! antenna pruning, CASA's initial guess, the iteration ([`SolverKind`]: CASA's own
//! gradient/line-search iteration with its stopping rule, the default, or an alternating
//! per-antenna weighted least squares to the exact χ² minimum), then χ²-scaled PARAMERR, SNR
//! and the minsnr cut. Deterministic and allocation-light; no I/O.

use crate::casa_solver::{self, Samples, CASA_MAX_ITER};
use crate::not_positive;
use almacal_core::CorrType;
use ndarray::{Array1, Array2, ArrayView2};
use num_complex::Complex64;
use serde::{Deserialize, Serialize};

/// Which Jones matrix is solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JonesKind {
    /// Diagonal, one gain per receptor (npar = 2); cross-hands ignored.
    G,
    /// Scalar, one gain for all correlations (npar = 1).
    T,
    /// Bandpass: G solved per solution channel.
    B,
}

impl JonesKind {
    pub fn npar(self) -> usize {
        match self {
            JonesKind::T => 1,
            _ => 2,
        }
    }
    /// The caltable `VisCal` string.
    pub fn viscal(self) -> &'static str {
        match self {
            JonesKind::G => "G Jones",
            JonesKind::T => "T Jones",
            JonesKind::B => "B Jones",
        }
    }
}

/// `calmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CalMode {
    AmpPhase,
    Phase,
    Amp,
}

impl CalMode {
    /// `ap`, `p` or `a`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ap" | "" => Some(Self::AmpPhase),
            "p" => Some(Self::Phase),
            "a" => Some(Self::Amp),
            _ => None,
        }
    }
}

/// Which gain parameters (ANTENNA1's, ANTENNA2's) a correlation involves, or `None` when it
/// does not enter the solve (cross-hands for G/B).
pub fn corr_pars(kind: JonesKind, corrs: &[CorrType]) -> Vec<Option<(usize, usize)>> {
    corrs
        .iter()
        .map(|c| {
            let pq = match c {
                CorrType::XX | CorrType::RR | CorrType::I => (0, 0),
                CorrType::YY | CorrType::LL => (1, 1),
                CorrType::XY | CorrType::RL => (0, 1),
                CorrType::YX | CorrType::LR => (1, 0),
                _ => (0, 0),
            };
            match kind {
                JonesKind::T => Some((0, 0)),
                _ if pq.0 != pq.1 => None,
                _ => Some(pq),
            }
        })
        .collect()
}

/// Which iteration solves a channel (see `docs/solve-numerics.md` for the measured
/// differences).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SolverKind {
    /// Alternating per-antenna weighted least squares to `tol`: the exact χ² minimum.
    Exact,
    /// CASA's `VisCalSolver2` iteration ([`crate::casa_solver`]): diagonal-Hessian steps with
    /// a line search, stopping after six small fractional χ² changes (at most 50 steps). At
    /// low SNR this stops short of the exact minimum exactly where CASA does.
    #[default]
    CasaIterative,
}

/// Solver options.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SolverOptions {
    pub kind: JonesKind,
    pub calmode: CalMode,
    pub minblperant: usize,
    pub minsnr: f64,
    #[serde(default)]
    pub solver: SolverKind,
    /// [`SolverKind::Exact`] only: iteration limit (CasaIterative uses CASA's fixed 50).
    pub max_iter: usize,
    /// [`SolverKind::Exact`] only: max relative parameter change per iteration.
    pub tol: f64,
}

impl SolverOptions {
    /// CASA 6.7 gaincal defaults (minblperant 4, minsnr 3) with CASA's iteration.
    pub fn new(kind: JonesKind, calmode: CalMode) -> Self {
        Self {
            kind,
            calmode,
            minblperant: 4,
            minsnr: 3.0,
            solver: SolverKind::default(),
            max_iter: 1000,
            tol: 1e-11,
        }
    }
}

/// Outcome of one channel solve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SolveStatus {
    Converged,
    /// minblperant left no antenna (CASA: "Insufficient unflagged antennas").
    TooFewAntennas,
    /// Did not converge within `max_iter` (all parameters flagged).
    NotConverged,
}

/// Convergence record of one channel solve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Convergence {
    pub status: SolveStatus,
    pub iterations: usize,
    pub chi2: f64,
    pub ndof: f64,
    /// Antennas removed by minblperant (that had some data).
    pub removed: Vec<usize>,
}

/// Solution of one channel: parameters indexed (antenna, par).
#[derive(Debug, Clone, PartialEq)]
pub struct ChanSolution {
    pub params: Array2<Complex64>,
    pub paramerr: Array2<f64>,
    pub snr: Array2<f64>,
    /// `true` = FLAG (not OK).
    pub flag: Array2<bool>,
    pub conv: Convergence,
}

/// Baseline-averaged input of one channel: `vis`/`weight` are (baseline, corr).
#[derive(Debug, Clone, Copy)]
pub struct ChanInput<'a> {
    pub nant: usize,
    pub ant1: &'a [usize],
    pub ant2: &'a [usize],
    pub vis: ArrayView2<'a, Complex64>,
    pub weight: ArrayView2<'a, f64>,
    pub corr_pars: &'a [Option<(usize, usize)>],
    /// Baselines the initial guess may use (empty = all).
    pub guess_baselines: &'a [bool],
}

#[derive(Clone)]
struct Sample {
    /// Baseline and correlation index in the input.
    b: usize,
    c: usize,
    i: usize,
    j: usize,
    p: usize,
    q: usize,
    v: Complex64,
    w: f64,
}

/// CASA's calmode conditioning of an averaged sample (§1.3): 'p' → V/|V| with w|V|²;
/// 'a' → |V| with w unchanged.
fn condition(calmode: CalMode, v: Complex64, w: f64) -> (Complex64, f64) {
    match calmode {
        CalMode::AmpPhase => (v, w),
        CalMode::Phase => {
            let a = v.norm();
            if a > 0.0 {
                (v / a, w * a * a)
            } else {
                (v, 0.0)
            }
        }
        CalMode::Amp => (Complex64::new(v.norm(), 0.0), w),
    }
}

/// Antennas surviving the minblperant rule (§1.8): repeatedly drop any antenna with fewer
/// than `min` baselines of positive weight.
pub fn minblperant_survivors(nant: usize, baselines: &[(usize, usize)], min: usize) -> Vec<bool> {
    let mut alive = vec![true; nant];
    let mut has = vec![false; nant * nant];
    for &(i, j) in baselines {
        if i < nant && j < nant && i != j {
            has[i * nant + j] = true;
            has[j * nant + i] = true;
        }
    }
    loop {
        let mut changed = false;
        for a in 0..nant {
            if !alive[a] {
                continue;
            }
            let n = (0..nant).filter(|&b| alive[b] && has[a * nant + b]).count();
            if n < min {
                alive[a] = false;
                changed = true;
                break; // restart the scan from antenna 0, as CASA does
            }
        }
        if !changed {
            return alive;
        }
    }
}

/// Correlations CASA's guess reads (canonical order): [0, 1] for 2-correlation data,
/// [0, 3] for 4, [0] otherwise; the guess parameter of the k-th is k (G/B).
fn guess_corrs(ncorr: usize) -> &'static [usize] {
    match ncorr {
        2 => &[0, 1],
        4 => &[0, 3],
        _ => &[0],
    }
}

/// CASA's first guess (§1.5, `GJones::guessPar` / `TJones::guessPar` on the solver input
/// before minblperant). The guess antenna is the reference antenna if it has a usable
/// baseline, else the lowest-numbered antenna that has one. G/B: a baseline is usable when
/// all guess correlations have data; the other antenna's parameter k is V (it is ANTENNA1) or
/// conj(V) of guess correlation k. T: a baseline is usable with any data; the other antenna's
/// parameter is the sum over the guess correlations of the unit phasor V/|V| divided by
/// their number. All are then divided by sqrt(mean |V|) over the used samples, the guess
/// antenna and parameters still 0 set to sqrt(mean |V|); 0.3 everywhere if nothing was used.
/// (CASA's T guess also skips the first row of its data buffer; not reproduced, since our
/// baseline order need not match CASA's row order.)
fn initial_guess(
    kind: JonesKind,
    nant: usize,
    npar: usize,
    ncorr: usize,
    samples: &[Sample],
    pref: Option<usize>,
) -> Array2<Complex64> {
    let mut g = Array2::<Complex64>::zeros((nant, npar));
    let corrs = guess_corrs(ncorr);
    let nbl = samples.iter().map(|s| s.b + 1).max().unwrap_or(0);
    // The (baseline, guess correlation) values, when present.
    let mut vals: Vec<Option<Complex64>> = vec![None; nbl * corrs.len()];
    let mut ants: Vec<Option<(usize, usize)>> = vec![None; nbl];
    let mut any = vec![false; nbl];
    for s in samples {
        any[s.b] = true;
        ants[s.b] = Some((s.i, s.j));
        if let Some(k) = corrs.iter().position(|&c| c == s.c) {
            vals[s.b * corrs.len() + k] = Some(s.v);
        }
    }
    let usable: Vec<bool> = (0..nbl)
        .map(|b| match kind {
            JonesKind::T => any[b],
            _ => (0..corrs.len()).all(|k| vals[b * corrs.len() + k].is_some()),
        })
        .collect();
    let mut antok = vec![false; nant];
    for b in 0..nbl {
        if let (true, Some((i, j))) = (usable[b], ants[b]) {
            antok[i] = true;
            antok[j] = true;
        }
    }
    let guess_ant = match pref {
        Some(r) if r < nant && antok[r] => Some(r),
        _ => antok.iter().position(|&h| h),
    };
    let Some(ga) = guess_ant else {
        g.fill(Complex64::new(0.3, 0.0));
        return g;
    };
    let mut amp_sum = 0.0;
    let mut n_amp = 0usize;
    for b in 0..nbl {
        let (true, Some((i, j))) = (usable[b], ants[b]) else {
            continue;
        };
        if i != ga && j != ga {
            continue;
        }
        for (k, v) in (0..corrs.len()).filter_map(|k| vals[b * corrs.len() + k].map(|v| (k, v))) {
            let amp = v.norm();
            if not_positive(amp) {
                continue;
            }
            let (other, val) = if i == ga { (j, v.conj()) } else { (i, v) };
            match kind {
                JonesKind::T => g[[other, 0]] += val / amp / corrs.len() as f64,
                _ if k < npar => g[[other, k]] = val,
                _ => {}
            }
            amp_sum += amp;
            n_amp += 1;
        }
    }
    if n_amp == 0 {
        g.fill(Complex64::new(0.3, 0.0));
        return g;
    }
    let norm = (amp_sum / n_amp as f64).sqrt();
    g.mapv_inplace(|z| z / norm);
    for p in 0..npar {
        g[[ga, p]] = Complex64::new(norm, 0.0);
    }
    g.mapv_inplace(|z| {
        if z.norm_sqr() == 0.0 {
            Complex64::new(norm, 0.0)
        } else {
            z
        }
    });
    g
}

/// Solve one channel. `pref_ant` is the primary reference antenna (used for the initial
/// guess only; referencing happens after all intervals are solved). `start` overrides the
/// initial guess (bandpass channels start from the previous channel's solution).
pub fn solve_channel(
    input: &ChanInput<'_>,
    opts: &SolverOptions,
    pref_ant: Option<usize>,
    start: Option<ArrayView2<'_, Complex64>>,
) -> ChanSolution {
    let nant = input.nant;
    let npar = opts.kind.npar();
    let mut samples: Vec<Sample> = Vec::new();
    for b in 0..input.ant1.len() {
        let (i, j) = (input.ant1[b], input.ant2[b]);
        if i == j || i >= nant || j >= nant {
            continue;
        }
        for (c, pq) in input.corr_pars.iter().enumerate() {
            let Some((p, q)) = *pq else { continue };
            if p >= npar || q >= npar {
                continue;
            }
            let w0 = input.weight[[b, c]];
            if not_positive(w0) {
                continue;
            }
            let (v, w) = condition(opts.calmode, input.vis[[b, c]], w0);
            if w > 0.0 && v.re.is_finite() && v.im.is_finite() {
                samples.push(Sample {
                    b,
                    c,
                    i,
                    j,
                    p,
                    q,
                    v,
                    w,
                });
            }
        }
    }
    // minblperant on baselines with any positive weight.
    let bls: Vec<(usize, usize)> = samples.iter().map(|s| (s.i, s.j)).collect();
    let mut had_data = vec![false; nant];
    for &(i, j) in &bls {
        had_data[i] = true;
        had_data[j] = true;
    }
    let alive = minblperant_survivors(nant, &bls, opts.minblperant);
    let removed: Vec<usize> = (0..nant).filter(|&a| had_data[a] && !alive[a]).collect();
    // CASA guesses before verifying the baseline constraints.
    let ncorr = input.corr_pars.len();
    let guess_samples: Vec<Sample> = if input.guess_baselines.is_empty() {
        samples.clone()
    } else {
        samples
            .iter()
            .filter(|s| input.guess_baselines.get(s.b).copied().unwrap_or(false))
            .cloned()
            .collect()
    };
    let guess = || initial_guess(opts.kind, nant, npar, ncorr, &guess_samples, pref_ant);
    let first_guess = match start {
        Some(s) if s.dim() == (nant, npar) && s.iter().all(|z| z.norm_sqr() > 0.0) => None,
        _ => Some(guess()),
    };
    samples.retain(|s| alive[s.i] && alive[s.j]);

    let mut params = Array2::<Complex64>::from_elem((nant, npar), Complex64::new(1.0, 0.0));
    let mut paramerr = Array2::<f64>::zeros((nant, npar));
    let mut snr = Array2::<f64>::zeros((nant, npar));
    let mut flag = Array2::<bool>::from_elem((nant, npar), true);
    if samples.is_empty() {
        return ChanSolution {
            params,
            paramerr,
            snr,
            flag,
            conv: Convergence {
                status: SolveStatus::TooFewAntennas,
                iterations: 0,
                chi2: 0.0,
                ndof: 0.0,
                removed,
            },
        };
    }
    // Start: the previous channel's parameters (bandpass), with zero or non-finite values
    // replaced by the guess; else the guess.
    let mut g = match (start, first_guess) {
        (Some(s), fallback) if s.dim() == (nant, npar) => {
            let mut g = s.to_owned();
            if let Some(fallback) = fallback {
                for a in 0..nant {
                    for p in 0..npar {
                        if not_positive(g[[a, p]].norm_sqr()) || !g[[a, p]].re.is_finite() {
                            g[[a, p]] = fallback[[a, p]];
                        }
                    }
                }
            }
            g
        }
        (_, Some(guess)) => guess,
        (_, None) => Array2::from_elem((nant, npar), Complex64::new(1.0, 0.0)),
    };

    let (converged, iterations) = match opts.solver {
        SolverKind::Exact => solve_exact(&samples, &mut g, opts),
        SolverKind::CasaIterative => solve_casa(&samples, &mut g, &alive),
    };

    // Errors at the solution (§1.7).
    let mut chi2 = 0.0;
    let mut hess = Array2::<f64>::zeros((nant, npar));
    for s in &samples {
        let gi = g[[s.i, s.p]];
        let gj = g[[s.j, s.q]];
        let r = gi * gj.conj() - s.v;
        chi2 += s.w * r.norm_sqr();
        hess[[s.i, s.p]] += s.w * gj.norm_sqr();
        hess[[s.j, s.q]] += s.w * gi.norm_sqr();
    }
    let n_ok = hess.iter().filter(|&&h| h > 0.0).count();
    let nwt = samples.len();
    let ndof = (2.0 * (nwt as f64 - n_ok as f64)).max(1.0);
    let k2 = chi2 / ndof;
    for a in 0..nant {
        for p in 0..npar {
            if !alive[a] {
                continue; // removed: CPARAM 1, flagged, SNR 0, PARAMERR 0
            }
            params[[a, p]] = g[[a, p]];
            let h = hess[[a, p]];
            if h > 0.0 {
                let e = (2.0 * k2 / h).sqrt();
                paramerr[[a, p]] = e;
                snr[[a, p]] = if e > 0.0 {
                    g[[a, p]].norm() / e
                } else {
                    9_999_999.0
                };
                flag[[a, p]] = !(converged && snr[[a, p]] > opts.minsnr);
            }
        }
    }
    ChanSolution {
        params,
        paramerr,
        snr,
        flag,
        conv: Convergence {
            status: if converged {
                SolveStatus::Converged
            } else {
                SolveStatus::NotConverged
            },
            iterations,
            chi2,
            ndof,
            removed,
        },
    }
}

/// Alternating weighted least squares: g_a,p = Σ w V g_b / Σ w |g_b|² (ANTENNA1 side),
/// Σ w conj(V) g_b / Σ w |g_b|² (ANTENNA2 side); every other step averaged with the previous
/// iterate for stability. Returns (converged, iterations).
fn solve_exact(
    samples: &[Sample],
    g: &mut Array2<Complex64>,
    opts: &SolverOptions,
) -> (bool, usize) {
    let (nant, npar) = g.dim();
    let mut num = Array2::<Complex64>::zeros((nant, npar));
    let mut den = Array2::<f64>::zeros((nant, npar));
    let mut iterations = 0;
    for it in 0..opts.max_iter {
        iterations = it + 1;
        num.fill(Complex64::new(0.0, 0.0));
        den.fill(0.0);
        for s in samples {
            let gi = g[[s.i, s.p]];
            let gj = g[[s.j, s.q]];
            num[[s.i, s.p]] += s.v * gj * s.w;
            den[[s.i, s.p]] += s.w * gj.norm_sqr();
            num[[s.j, s.q]] += s.v.conj() * gi * s.w;
            den[[s.j, s.q]] += s.w * gi.norm_sqr();
        }
        let mut maxrel: f64 = 0.0;
        for a in 0..nant {
            for p in 0..npar {
                if den[[a, p]] > 0.0 {
                    let mut new = num[[a, p]] / den[[a, p]];
                    if it % 2 == 1 {
                        new = (new + g[[a, p]]) * 0.5;
                    }
                    let scale = new.norm().max(1e-300);
                    maxrel = maxrel.max((new - g[[a, p]]).norm() / scale);
                    g[[a, p]] = new;
                }
            }
        }
        if it > 0 && maxrel < opts.tol {
            return (true, iterations);
        }
    }
    (false, iterations)
}

/// CASA's iteration ([`casa_solver::solve`]) on the (antenna, par) parameters; antennas not
/// surviving minblperant are held fixed. Returns (converged, iterations).
fn solve_casa(samples: &[Sample], g: &mut Array2<Complex64>, alive: &[bool]) -> (bool, usize) {
    let (nant, npar) = g.dim();
    let par1: Array1<usize> = samples.iter().map(|s| s.i * npar + s.p).collect();
    let par2: Array1<usize> = samples.iter().map(|s| s.j * npar + s.q).collect();
    let vis: Array1<Complex64> = samples.iter().map(|s| s.v).collect();
    let weight: Array1<f64> = samples.iter().map(|s| s.w).collect();
    let start: Array1<Complex64> = g.iter().copied().collect();
    let ok: Array1<bool> = (0..nant * npar).map(|k| alive[k / npar]).collect();
    let problem = Samples {
        par1: par1.view(),
        par2: par2.view(),
        vis: vis.view(),
        weight: weight.view(),
    };
    match casa_solver::solve(&problem, start.view(), ok.view(), CASA_MAX_ITER) {
        Ok(sol) => {
            for (dst, src) in g.iter_mut().zip(sol.params.iter()) {
                *dst = *src;
            }
            (sol.converged, sol.iterations)
        }
        // Unreachable: the problem is built consistently above.
        Err(_) => (false, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(b: usize, c: usize, i: usize, j: usize, p: usize, v: Complex64) -> Sample {
        Sample {
            b,
            c,
            i,
            j,
            p,
            q: p,
            v,
            w: 1.0,
        }
    }

    #[test]
    fn t_guess_uses_unit_phasors_scaled_by_the_mean_amplitude() {
        // Guess antenna 1 (the refant): baselines 0-1, 1-2 with two correlations each.
        let v01 = Complex64::from_polar(4.0, 0.5);
        let v12 = Complex64::from_polar(2.0, -0.25);
        let s = vec![
            sample(0, 0, 0, 1, 0, v01),
            sample(0, 1, 0, 1, 0, v01),
            sample(1, 0, 1, 2, 0, v12),
            sample(1, 1, 1, 2, 0, v12),
            sample(2, 0, 0, 2, 0, Complex64::new(9.0, 0.0)),
        ];
        let g = initial_guess(JonesKind::T, 4, 1, 2, &s, Some(1));
        let a = (3.0f64).sqrt(); // sqrt(mean |V|) over the four samples with antenna 1
        assert!((g[[1, 0]] - Complex64::new(a, 0.0)).norm() < 1e-12);
        // ANTENNA1 of 0-1 gets V/|V|, ANTENNA2 of 1-2 gets conj(V)/|V|, both / sqrt(mean).
        assert!((g[[0, 0]] - Complex64::from_polar(1.0 / a, 0.5)).norm() < 1e-12);
        assert!((g[[2, 0]] - Complex64::from_polar(1.0 / a, 0.25)).norm() < 1e-12);
        // No baseline to the guess antenna: sqrt(mean).
        assert!((g[[3, 0]] - Complex64::new(a, 0.0)).norm() < 1e-12);
    }

    #[test]
    fn g_guess_skips_baselines_missing_a_correlation_and_falls_back_without_refant_data() {
        let v = Complex64::from_polar(4.0, 0.3);
        let s = vec![
            // 0-1: both correlations.
            sample(0, 0, 0, 1, 0, v),
            sample(0, 1, 0, 1, 1, v * 2.0),
            // 0-2: correlation 1 missing -> not usable.
            sample(1, 0, 0, 2, 0, v),
        ];
        // Refant 2 has no usable baseline: the guess antenna is 0.
        let g = initial_guess(JonesKind::G, 3, 2, 2, &s, Some(2));
        let a = (6.0f64).sqrt(); // mean of |V| = 4 and 8
        assert!((g[[0, 0]] - Complex64::new(a, 0.0)).norm() < 1e-12);
        assert!((g[[1, 0]] - v.conj() / a).norm() < 1e-12);
        assert!((g[[1, 1]] - v.conj() * 2.0 / a).norm() < 1e-12);
        assert!((g[[2, 0]] - Complex64::new(a, 0.0)).norm() < 1e-12);
        // Nothing usable at all: 0.3 everywhere.
        let g = initial_guess(JonesKind::G, 3, 2, 2, &s[2..], None);
        assert!(g.iter().all(|z| *z == Complex64::new(0.3, 0.0)));
    }

    #[test]
    fn both_solvers_agree_within_the_noise_and_casa_stops_within_its_limit() {
        // 8 antennas, two correlations, known gains, deterministic noise (σ = 0.01).
        let nant = 8;
        let truth: Vec<[Complex64; 2]> = (0..nant)
            .map(|a| {
                let x = a as f64;
                [
                    Complex64::from_polar(1.0 + 0.05 * x, 0.3 * x - 1.0),
                    Complex64::from_polar(0.9 + 0.03 * x, -0.2 * x + 0.5),
                ]
            })
            .collect();
        let (mut a1, mut a2) = (vec![], vec![]);
        for i in 0..nant {
            for j in i + 1..nant {
                a1.push(i);
                a2.push(j);
            }
        }
        let mut state = 12345u64;
        let mut noise = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.0346
        };
        let vis = Array2::from_shape_fn((a1.len(), 2), |(b, p)| {
            truth[a1[b]][p] * truth[a2[b]][p].conj() + Complex64::new(noise(), noise())
        });
        let weight = Array2::from_elem((a1.len(), 2), 1.0);
        let cp = corr_pars(JonesKind::G, &[CorrType::XX, CorrType::YY]);
        let input = ChanInput {
            nant,
            ant1: &a1,
            ant2: &a2,
            vis: vis.view(),
            weight: weight.view(),
            corr_pars: &cp,
            guess_baselines: &[],
        };
        let mut sols = Vec::new();
        for solver in [SolverKind::Exact, SolverKind::CasaIterative] {
            let mut o = SolverOptions::new(JonesKind::G, CalMode::AmpPhase);
            o.solver = solver;
            let sol = solve_channel(&input, &o, Some(0), None);
            assert_eq!(sol.conv.status, SolveStatus::Converged, "{solver:?}");
            assert!(sol.flag.iter().all(|f| !f));
            if solver == SolverKind::CasaIterative {
                assert!(sol.conv.iterations <= CASA_MAX_ITER);
            }
            // Truth (referenced to antenna 0) within the noise.
            for (a, t) in truth.iter().enumerate() {
                for (p, tp) in t.iter().enumerate() {
                    let r = sol.params[[0, p]] / truth[0][p];
                    let z = sol.params[[a, p]] / (r / r.norm());
                    assert!((z - tp).norm() < 0.02, "{solver:?} {a} {p}");
                }
            }
            sols.push(sol);
        }
        for (x, y) in sols[0].params.iter().zip(sols[1].params.iter()) {
            assert!((x - y).norm() < 1e-3, "{x} vs {y}");
        }
        assert!(sols[1].conv.chi2 >= sols[0].conv.chi2 * (1.0 - 1e-9));
    }
}
