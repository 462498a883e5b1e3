//! The G/T (and per-channel B) Jones solver kernel for one solution channel of one
//! interval (algorithms.md §1.3, §1.5–1.8, §1.12): calmode data conditioning, minblperant
//! antenna pruning, CASA's initial guess, an alternating per-antenna weighted least-squares
//! iteration to tight tolerance, then χ²-scaled PARAMERR, SNR and the minsnr cut.
//! Deterministic and allocation-light; no I/O.

use crate::not_positive;
use almacal_core::CorrType;
use ndarray::{Array2, ArrayView2};
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

/// Solver options.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SolverOptions {
    pub kind: JonesKind,
    pub calmode: CalMode,
    pub minblperant: usize,
    pub minsnr: f64,
    pub max_iter: usize,
    /// Convergence: max relative parameter change per iteration.
    pub tol: f64,
}

impl SolverOptions {
    /// CASA 6.7 gaincal defaults (minblperant 4, minsnr 3).
    pub fn new(kind: JonesKind, calmode: CalMode) -> Self {
        Self {
            kind,
            calmode,
            minblperant: 4,
            minsnr: 3.0,
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
}

struct Sample {
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

fn initial_guess(
    kind: JonesKind,
    nant: usize,
    npar: usize,
    samples: &[Sample],
    pref: Option<usize>,
    has_data: &[bool],
) -> Array2<Complex64> {
    let mut g = Array2::<Complex64>::zeros((nant, npar));
    let guess_ant = match pref {
        Some(r) if r < nant && has_data[r] => Some(r),
        _ => has_data.iter().position(|&h| h),
    };
    let Some(ga) = guess_ant else {
        g.fill(Complex64::new(0.3, 0.0));
        return g;
    };
    let mut amp_sum = 0.0;
    let mut n_amp = 0usize;
    let mut tsum = vec![Complex64::new(0.0, 0.0); nant];
    let mut tn = vec![0usize; nant];
    for s in samples {
        let (other, val) = if s.i == ga {
            (s.j, s.v.conj())
        } else if s.j == ga {
            (s.i, s.v)
        } else {
            continue;
        };
        amp_sum += s.v.norm();
        n_amp += 1;
        match kind {
            JonesKind::T => {
                tsum[other] += val;
                tn[other] += 1;
            }
            _ => {
                let par = if s.i == ga { s.q } else { s.p };
                g[[other, par]] = val;
            }
        }
    }
    if kind == JonesKind::T {
        for a in 0..nant {
            if tn[a] > 0 {
                g[[a, 0]] = tsum[a] / tn[a] as f64;
            }
        }
    }
    if n_amp == 0 {
        g.fill(Complex64::new(0.3, 0.0));
        return g;
    }
    let norm = (amp_sum / n_amp as f64).sqrt();
    if norm > 0.0 {
        g.mapv_inplace(|z| z / norm);
    }
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
    input: &ChanInput,
    opts: &SolverOptions,
    pref_ant: Option<usize>,
    start: Option<ArrayView2<Complex64>>,
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
                samples.push(Sample { i, j, p, q, v, w });
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
    let has_data: Vec<bool> = alive.iter().zip(&had_data).map(|(a, h)| *a && *h).collect();
    let mut g = match start {
        Some(s) if s.dim() == (nant, npar) => {
            let mut g = s.to_owned();
            let fallback = initial_guess(opts.kind, nant, npar, &samples, pref_ant, &has_data);
            for a in 0..nant {
                for p in 0..npar {
                    if not_positive(g[[a, p]].norm_sqr()) || !g[[a, p]].re.is_finite() {
                        g[[a, p]] = fallback[[a, p]];
                    }
                }
            }
            g
        }
        _ => initial_guess(opts.kind, nant, npar, &samples, pref_ant, &has_data),
    };

    // Alternating weighted least squares: g_a,p = Σ w V g_b / Σ w |g_b|² (ANTENNA1 side),
    // Σ w conj(V) g_b / Σ w |g_b|² (ANTENNA2 side); every other step averaged with the
    // previous iterate for stability.
    let mut num = Array2::<Complex64>::zeros((nant, npar));
    let mut den = Array2::<f64>::zeros((nant, npar));
    let mut converged = false;
    let mut iterations = 0;
    for it in 0..opts.max_iter {
        iterations = it + 1;
        num.fill(Complex64::new(0.0, 0.0));
        den.fill(0.0);
        for s in &samples {
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
            converged = true;
            break;
        }
    }

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
