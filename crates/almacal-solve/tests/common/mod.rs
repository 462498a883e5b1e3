//! Synthetic data for solver tests: known gains, deterministic noise.
#![allow(dead_code)]

use almacal_solve::accumulate::AveragedVis;
use ndarray::Array3;
use num_complex::Complex64;

/// A small deterministic PRNG (xorshift64*) with Gaussian draws.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    pub fn gauss(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// True gains (antenna, pol): amplitude 0.8–1.2, phase ±150°.
pub fn true_gains(nant: usize, npar: usize, seed: u64) -> Vec<Vec<Complex64>> {
    let mut r = Rng::new(seed);
    (0..nant)
        .map(|_| {
            (0..npar)
                .map(|_| Complex64::from_polar(0.8 + 0.4 * r.uniform(), (r.uniform() - 0.5) * 5.2))
                .collect()
        })
        .collect()
}

/// Baseline-averaged data for all baselines i<j, 2 corrs (XX, YY), `nchan` channels:
/// V = g_i conj(g_j) · bp(ch) + noise(σ), weight 1/σ².
pub fn averaged(
    gains: &[Vec<Complex64>],
    nchan: usize,
    sigma: f64,
    bp: impl Fn(usize, usize, usize) -> Complex64,
    seed: u64,
) -> AveragedVis {
    let nant = gains.len();
    let mut rng = Rng::new(seed);
    let mut ant1 = Vec::new();
    let mut ant2 = Vec::new();
    for i in 0..nant {
        for j in i + 1..nant {
            ant1.push(i);
            ant2.push(j);
        }
    }
    let nbl = ant1.len();
    let mut vis = Array3::<Complex64>::zeros((nbl, nchan, 2));
    let mut wt = Array3::<f64>::zeros((nbl, nchan, 2));
    for b in 0..nbl {
        let (i, j) = (ant1[b], ant2[b]);
        for ch in 0..nchan {
            for p in 0..2 {
                let gi = gains[i][p.min(gains[i].len() - 1)] * bp(i, p, ch);
                let gj = gains[j][p.min(gains[j].len() - 1)] * bp(j, p, ch);
                let n = Complex64::new(rng.gauss(), rng.gauss()) * sigma;
                vis[[b, ch, p]] = gi * gj.conj() + n;
                wt[[b, ch, p]] = if sigma > 0.0 {
                    1.0 / (sigma * sigma)
                } else {
                    1.0
                };
            }
        }
    }
    AveragedVis {
        nant,
        ant1,
        ant2,
        vis_bfc: vis,
        weight_bfc: wt,
        time_centroid_s: 0.0,
        guess_baselines: Vec::new(),
    }
}

/// Phase (deg) of a relative to b, wrapped to (−180, 180].
pub fn dphase_deg(a: Complex64, b: Complex64) -> f64 {
    (a * b.conj()).arg().to_degrees()
}
