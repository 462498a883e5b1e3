//! CASA's iterative Jones solver for one solution channel (algorithms.md §1.6, CASA's
//! `VisCalSolver2::solve` with the default solmode), written from its description.
//!
//! The problem is a set of weighted, model-normalised visibilities `V` (model = 1 after the
//! division of §1.2), each depending on one parameter of ANTENNA1 (`g1`) and one of ANTENNA2
//! (`g2`): the residual is `R = g1·conj(g2) − V` and `χ² = Σ w·|R|²`. Per iteration:
//!
//! * χ² at the current parameters; the convergence counter is updated from the change
//!   against the last *accepted* χ² (fractional change, evaluated in single precision as
//!   CASA does, ≤ 0.001 and |Δχ²| < 0.1·χ² → counter + 1; a rise of more than 10 % resets it,
//!   a smaller rise decrements it); converged when the counter exceeds 5.
//! * If χ² did not rise the parameters are accepted and the gradient and *diagonal* Hessian
//!   are recomputed there; otherwise the parameters revert to the last accepted set and the
//!   old gradient/Hessian are reused.
//! * Step `Δp = −grad/(2·hess)`; parameters with a zero Hessian become not-OK and stay fixed.
//! * Line search along Δp starting from the current χ²: double the step while χ² keeps
//!   falling, or halve it until χ² falls below the start value; the three equally spaced χ²
//!   values then give the parabolic step factor `s·(1.5 − (χ²₂−χ²₁)/(χ²₀−2χ²₁+χ²₂))`,
//!   applied when positive.
//! * At most [`CASA_MAX_ITER`] steps; reaching it is a failure.
//!
//! Because the stopping rule counts iterations with small *fractional* χ² changes, at low
//! signal-to-noise (χ² dominated by noise) CASA stops before the exact χ² minimum; this
//! kernel reproduces that stopping point. Deliberate deviation: a χ² of exactly zero (noiseless
//! data, where CASA reports a failure) is treated as converged.

use crate::error::{Result, SolveError};
use ndarray::{Array1, ArrayView1};
use num_complex::Complex64;

/// CASA's fixed iteration limit (`VisCalSolver2::maxIter_`).
pub const CASA_MAX_ITER: usize = 50;

/// Convergence counter threshold: converged when the counter exceeds this.
const CONVERGED_COUNT: u32 = 5;

/// The samples of one solve. Parameters are addressed by a flat index (e.g. antenna·npar+par).
#[derive(Debug, Clone, Copy)]
pub struct Samples<'a> {
    /// Index of the ANTENNA1 parameter of each sample.
    pub par1: ArrayView1<'a, usize>,
    /// Index of the ANTENNA2 parameter of each sample.
    pub par2: ArrayView1<'a, usize>,
    /// Model-normalised visibilities.
    pub vis: ArrayView1<'a, Complex64>,
    /// Weights (> 0).
    pub weight: ArrayView1<'a, f64>,
}

impl Samples<'_> {
    fn check(&self, npar: usize) -> Result<()> {
        let n = self.vis.len();
        if self.par1.len() != n || self.par2.len() != n || self.weight.len() != n {
            return Err(SolveError::Shape(format!(
                "solver samples: {} visibilities but {}/{} parameter indices and {} weights",
                n,
                self.par1.len(),
                self.par2.len(),
                self.weight.len()
            )));
        }
        if let Some(bad) = self
            .par1
            .iter()
            .chain(self.par2.iter())
            .find(|&&k| k >= npar)
        {
            return Err(SolveError::Shape(format!(
                "solver samples: parameter index {bad} out of range (npar {npar})"
            )));
        }
        Ok(())
    }
}

/// Result of [`solve`].
#[derive(Debug, Clone, PartialEq)]
pub struct IterSolution {
    pub params: Array1<Complex64>,
    /// Parameters still OK (had a non-zero Hessian).
    pub ok: Array1<bool>,
    /// χ² at `params`.
    pub chi2: f64,
    /// Diagonal Hessian at `params` (for the errors of §1.7).
    pub hess: Array1<f64>,
    /// Parameter steps taken.
    pub iterations: usize,
    /// `false` when the iteration limit was reached (CASA: failed solve).
    pub converged: bool,
}

/// χ² = Σ w·|g1·conj(g2) − V|².
pub fn chi_square(s: &Samples<'_>, g: &[Complex64]) -> f64 {
    let mut chi2 = 0.0;
    for k in 0..s.vis.len() {
        let r = g[s.par1[k]] * g[s.par2[k]].conj() - s.vis[k];
        chi2 += s.weight[k] * r.norm_sqr();
    }
    chi2
}

/// Gradient and diagonal Hessian: for the ANTENNA1 parameter `grad += w·R·conj(∂R/∂g1)`,
/// `∂R/∂g1 = conj(g2)`; for the ANTENNA2 parameter `grad += w·(∂R/∂conj(g2))·conj(R)`,
/// `∂R/∂conj(g2) = g1`; `hess += w·|∂R|²` on both.
pub fn grad_hess(s: &Samples<'_>, g: &[Complex64], grad: &mut [Complex64], hess: &mut [f64]) {
    grad.fill(Complex64::new(0.0, 0.0));
    hess.fill(0.0);
    for k in 0..s.vis.len() {
        let (a, b) = (s.par1[k], s.par2[k]);
        let w = s.weight[k];
        let r = g[a] * g[b].conj() - s.vis[k];
        let d1 = g[b].conj();
        let d2 = g[a];
        grad[a] += r * d1.conj() * w;
        hess[a] += w * d1.norm_sqr();
        grad[b] += d2 * r.conj() * w;
        hess[b] += w * d2.norm_sqr();
    }
}

/// χ² at `base + f·step`.
fn chi2_at(
    s: &Samples<'_>,
    base: &[Complex64],
    step: &[Complex64],
    f: f64,
    buf: &mut [Complex64],
) -> f64 {
    for ((b, &p), &d) in buf.iter_mut().zip(base).zip(step) {
        *b = p + d * f;
    }
    chi_square(s, buf)
}

/// CASA's step-size optimisation: returns the factor to apply to `step` (≤ 0 = keep it).
fn line_search(s: &Samples<'_>, chi2_0: f64, base: &[Complex64], step: &[Complex64]) -> f64 {
    let mut buf = base.to_vec();
    let x0 = chi2_0;
    let mut f = 1.0;
    let mut x1 = chi2_at(s, base, step, 1.0, &mut buf);
    let mut x2;
    if x1 < x0 {
        // Improvement: keep doubling while χ² falls (points f and 2f).
        x2 = chi2_at(s, base, step, 2.0 * f, &mut buf);
        while x2 < x1 && f < 1e30 {
            f *= 2.0;
            x1 = x2;
            x2 = chi2_at(s, base, step, 2.0 * f, &mut buf);
        }
    } else {
        // Too far: halve until below the start (points f and 2f again).
        f *= 0.5;
        x2 = x1;
        x1 = chi2_at(s, base, step, f, &mut buf);
        while x1 > x0 && f > f64::MIN_POSITIVE {
            f *= 0.5;
            x2 = x1;
            x1 = chi2_at(s, base, step, f, &mut buf);
        }
    }
    let den = x0 - 2.0 * x1 + x2;
    if den.abs() > 0.0 {
        f * (1.5 - (x2 - x1) / den)
    } else {
        0.0
    }
}

/// Run CASA's iteration from `start` (one value per parameter); `ok[k] = false` parameters
/// are held fixed. `max_iter` is [`CASA_MAX_ITER`] for CASA's behaviour.
pub fn solve(
    s: &Samples<'_>,
    start: ArrayView1<'_, Complex64>,
    ok: ArrayView1<'_, bool>,
    max_iter: usize,
) -> Result<IterSolution> {
    let npar = start.len();
    if ok.len() != npar {
        return Err(SolveError::Shape(format!(
            "solver: {npar} start values but {} OK flags",
            ok.len()
        )));
    }
    s.check(npar)?;
    let mut g: Vec<Complex64> = start.to_vec();
    let mut ok: Vec<bool> = ok.to_vec();
    let mut last_par = g.clone();
    let mut grad = vec![Complex64::new(0.0, 0.0); npar];
    let mut hess = vec![0.0; npar];
    let mut step = vec![Complex64::new(0.0, 0.0); npar];
    let mut last_chi2 = f64::MAX;
    let mut count: u32 = 0;
    let mut iter = 0usize;
    let finish = |g: Vec<Complex64>, ok: Vec<bool>, chi2: f64, iterations, converged| {
        let mut grad = vec![Complex64::new(0.0, 0.0); g.len()];
        let mut hess = vec![0.0; g.len()];
        grad_hess(s, &g, &mut grad, &mut hess);
        IterSolution {
            params: Array1::from(g),
            ok: Array1::from(ok),
            chi2,
            hess: Array1::from(hess),
            iterations,
            converged,
        }
    };
    loop {
        let chi2 = chi_square(s, &g);
        if !chi2.is_finite() {
            return Ok(finish(g, ok, chi2, iter, false));
        }
        if chi2 == 0.0 {
            return Ok(finish(g, ok, chi2, iter, true));
        }
        let d = chi2 - last_chi2;
        // CASA keeps the fractional change in single precision.
        let frac = (d / chi2) as f32;
        if frac <= 0.001 {
            if d.abs() < 0.1 * chi2 {
                count += 1;
            }
            if count > CONVERGED_COUNT {
                return Ok(finish(g, ok, chi2, iter, true));
            }
        } else if d.abs() > 0.1 * chi2 {
            count = 0;
        } else {
            count = count.saturating_sub(1);
        }
        if d <= 0.0 {
            last_chi2 = chi2;
            grad_hess(s, &g, &mut grad, &mut hess);
        } else {
            g.copy_from_slice(&last_par);
        }
        for k in 0..npar {
            if ok[k] && hess[k] != 0.0 {
                step[k] = -grad[k] / hess[k] / 2.0;
            } else {
                step[k] = Complex64::new(0.0, 0.0);
                ok[k] = false;
            }
        }
        last_par.copy_from_slice(&g);
        let f = line_search(s, chi2, &last_par, &step);
        let f = if f > 0.0 { f } else { 1.0 };
        for k in 0..npar {
            if ok[k] {
                g[k] = last_par[k] + step[k] * f;
            }
        }
        if iter >= max_iter {
            let chi2 = chi_square(s, &g);
            return Ok(finish(g, ok, chi2, iter + 1, false));
        }
        iter += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;

    /// Deterministic pseudo-random numbers in [−0.5, 0.5).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 11) as f64) / ((1u64 << 53) as f64) - 0.5
        }
    }

    struct Problem {
        p1: Array1<usize>,
        p2: Array1<usize>,
        vis: Array1<Complex64>,
        w: Array1<f64>,
        truth: Vec<Complex64>,
    }

    impl Problem {
        fn samples(&self) -> Samples<'_> {
            Samples {
                par1: self.p1.view(),
                par2: self.p2.view(),
                vis: self.vis.view(),
                weight: self.w.view(),
            }
        }
    }

    /// All baselines of `nant` antennas, one parameter each, gains `truth`, noise `sigma`.
    fn problem(nant: usize, sigma: f64, seed: u64) -> Problem {
        let mut rng = Lcg(seed);
        let truth: Vec<Complex64> = (0..nant)
            .map(|a| {
                Complex64::from_polar(1.0 + 0.3 * rng.next(), 2.0 * rng.next() + 0.1 * a as f64)
            })
            .collect();
        let (mut p1, mut p2, mut vis, mut w) = (vec![], vec![], vec![], vec![]);
        for i in 0..nant {
            for j in i + 1..nant {
                let n = Complex64::new(rng.next(), rng.next()) * (sigma * 12f64.sqrt());
                p1.push(i);
                p2.push(j);
                vis.push(truth[i] * truth[j].conj() + n);
                w.push(1.0 + 0.5 * rng.next());
            }
        }
        Problem {
            p1: p1.into(),
            p2: p2.into(),
            vis: vis.into(),
            w: w.into(),
            truth,
        }
    }

    /// The exact χ² minimum by alternating least squares (reference for the tests).
    fn exact(p: &Problem, start: &[Complex64]) -> Vec<Complex64> {
        let mut g = start.to_vec();
        for it in 0..20_000 {
            let mut num = vec![Complex64::new(0.0, 0.0); g.len()];
            let mut den = vec![0.0; g.len()];
            for k in 0..p.vis.len() {
                let (a, b, v, w) = (p.p1[k], p.p2[k], p.vis[k], p.w[k]);
                num[a] += v * g[b] * w;
                den[a] += w * g[b].norm_sqr();
                num[b] += v.conj() * g[a] * w;
                den[b] += w * g[a].norm_sqr();
            }
            for a in 0..g.len() {
                let new = num[a] / den[a];
                g[a] = if it % 2 == 1 { (new + g[a]) * 0.5 } else { new };
            }
        }
        g
    }

    /// Phase-referenced to parameter 0.
    fn referenced(g: &[Complex64]) -> Vec<Complex64> {
        let r = g[0] / g[0].norm();
        g.iter().map(|z| z / r).collect()
    }

    #[test]
    fn recovers_known_gains_near_the_chi2_minimum() {
        let p = problem(10, 0.01, 7);
        let start = vec![Complex64::new(1.0, 0.0); 10];
        let ok = Array1::from_elem(10, true);
        let sol = solve(
            &p.samples(),
            Array1::from(start.clone()).view(),
            ok.view(),
            CASA_MAX_ITER,
        )
        .expect("shapes");
        assert!(sol.converged, "{sol:?}");
        assert!(sol.iterations < CASA_MAX_ITER);
        assert!(sol.ok.iter().all(|&o| o));
        let ours = referenced(sol.params.as_slice().expect("contiguous"));
        let truth = referenced(&p.truth);
        let best = referenced(&exact(&p, &start));
        for a in 0..10 {
            // Truth within the noise (σ = 0.01 per baseline, 9 baselines per antenna).
            assert!((ours[a] - truth[a]).norm() < 0.02, "antenna {a}");
            // The χ² minimum to well within the noise (CASA stops on small χ² changes).
            assert!((ours[a] - best[a]).norm() < 1e-3, "antenna {a}");
        }
        let chi2_best = chi_square(&p.samples(), &exact(&p, &start));
        assert!(sol.chi2 >= chi2_best * (1.0 - 1e-12));
        assert!(sol.chi2 < chi2_best * 1.001, "{} vs {chi2_best}", sol.chi2);
    }

    #[test]
    fn stops_early_at_low_snr_like_casa() {
        // Noise comparable to the signal: χ² is noise dominated, its fractional changes are
        // small from the start, so the six-count rule stops well before the exact minimum.
        let p = problem(12, 0.5, 3);
        let start = p.truth.iter().map(|z| z * 1.05).collect::<Vec<_>>();
        let ok = Array1::from_elem(12, true);
        let sol = solve(
            &p.samples(),
            Array1::from(start.clone()).view(),
            ok.view(),
            CASA_MAX_ITER,
        )
        .expect("shapes");
        assert!(sol.converged);
        assert!(sol.iterations <= 10, "{}", sol.iterations);
        let best = exact(&p, &start);
        let chi2_best = chi_square(&p.samples(), &best);
        assert!(sol.chi2 > chi2_best, "not at the exact minimum");
        assert!(sol.chi2 < chi2_best * 1.001);
    }

    #[test]
    fn at_the_minimum_converges_after_six_counted_iterations() {
        let p = problem(6, 0.05, 11);
        let start = vec![Complex64::new(1.0, 0.0); 6];
        let best = exact(&p, &start);
        let ok = Array1::from_elem(6, true);
        let sol = solve(
            &p.samples(),
            Array1::from(best.clone()).view(),
            ok.view(),
            CASA_MAX_ITER,
        )
        .expect("shapes");
        // Iteration 0 cannot count (no previous χ²); iterations 1..=6 each count once.
        assert!(sol.converged);
        assert_eq!(sol.iterations, 6);
        for (z, b) in sol.params.iter().zip(&best) {
            assert!((z - b).norm() < 1e-9);
        }
    }

    #[test]
    fn one_free_parameter_is_solved_exactly_by_the_parabolic_step() {
        // χ² is exactly quadratic in a single free parameter: the half Gauss-Newton step,
        // doubled once by the line search and refined by the parabola, lands on the minimum
        // Σ w·V·g₂ / Σ w·|g₂|² in the first iteration.
        let p = problem(5, 0.1, 5);
        let mut ok = Array1::from_elem(5, false);
        ok[2] = true;
        let start: Vec<Complex64> = p.truth.clone();
        let mut s0 = start.clone();
        s0[2] = Complex64::new(0.5, -0.5);
        // max_iter 0: return right after the first step.
        let sol =
            solve(&p.samples(), Array1::from(s0.clone()).view(), ok.view(), 0).expect("shapes");
        assert_eq!(sol.iterations, 1);
        let (mut num, mut den) = (Complex64::new(0.0, 0.0), 0.0);
        for k in 0..p.vis.len() {
            let (a, b, v, w) = (p.p1[k], p.p2[k], p.vis[k], p.w[k]);
            if a == 2 {
                num += v * s0[b] * w;
                den += w * s0[b].norm_sqr();
            } else if b == 2 {
                num += v.conj() * s0[a] * w;
                den += w * s0[a].norm_sqr();
            }
        }
        assert!(
            (sol.params[2] - num / den).norm() < 1e-12,
            "{:?}",
            sol.params[2]
        );
        for a in [0, 1, 3, 4] {
            assert_eq!(sol.params[a], s0[a], "fixed parameter moved");
        }
    }

    #[test]
    fn iteration_limit_is_a_failure() {
        let p = problem(8, 0.01, 9);
        let start = vec![Complex64::new(1.0, 0.0); 8];
        let ok = Array1::from_elem(8, true);
        let sol = solve(&p.samples(), Array1::from(start).view(), ok.view(), 2).expect("shapes");
        assert!(!sol.converged);
        assert_eq!(sol.iterations, 3);
    }

    #[test]
    fn zero_hessian_parameters_become_not_ok_and_stay_fixed() {
        let p = problem(5, 0.01, 13);
        // Parameter 5 has no samples.
        let mut start = vec![Complex64::new(1.0, 0.0); 6];
        start[5] = Complex64::new(0.7, 0.1);
        let ok = Array1::from_elem(6, true);
        let sol = solve(
            &p.samples(),
            Array1::from(start).view(),
            ok.view(),
            CASA_MAX_ITER,
        )
        .expect("shapes");
        assert!(sol.converged);
        assert!(!sol.ok[5]);
        assert_eq!(sol.params[5], Complex64::new(0.7, 0.1));
        assert_eq!(sol.hess[5], 0.0);
    }

    #[test]
    fn shape_errors_are_reported() {
        let p = problem(4, 0.01, 1);
        let ok = Array1::from_elem(3, true);
        let start = Array1::from_elem(3, Complex64::new(1.0, 0.0));
        assert!(matches!(
            solve(&p.samples(), start.view(), ok.view(), CASA_MAX_ITER),
            Err(SolveError::Shape(_))
        ));
        let ok4 = Array1::from_elem(4, true);
        assert!(matches!(
            solve(&p.samples(), start.view(), ok4.view(), CASA_MAX_ITER),
            Err(SolveError::Shape(_))
        ));
    }
}
