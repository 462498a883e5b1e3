//! The injected instrument and sky: per-antenna complex gains (efficiency, per-spw factor,
//! slow amplitude drift, path-length random walk), bandpasses with bad edge channels,
//! receiver temperatures and the atmosphere (Tsys versus frequency and airmass), source
//! flux densities, and the target's line emission seen through the correlator's
//! normalisation. All parameters are drawn once from the seed; evaluation is pure.

use crate::geometry::C_M_S;
use crate::rng::{Rng, Tag};
use crate::schedule::{Schedule, FIELD_BANDPASS, FIELD_PHASE};
use crate::spws::BB_CENTRES_HZ;
use num_complex::Complex64;

/// Nominal Jy per K of the correlator normalisation (`JYPERK0`): data = G G* S / JYPERK0 / Tsys,
/// and the CASA-convention gain recorded in the truth is g = G / sqrt(JYPERK0).
pub const JY_PER_K: f64 = 100.0;
/// Reference frequency of the flux models (Hz).
pub const FLUX_REF_HZ: f64 = 340.933e9;
/// Physical temperature of the atmosphere (K).
pub const T_ATM_K: f64 = 260.0;
/// The science spw whose target autocorrelations carry line emission (baseband 0 = spw 16).
pub const LINE_BASEBAND: usize = 0;
/// (name, centre GHz, peak K, FWHM MHz) of the target's lines.
pub const LINES: [(&str, f64, f64, f64); 3] = [
    ("CO(3-2)", 345.796, 25.0, 150.0),
    ("H13CN(4-3)", 345.3397, 6.0, 90.0),
    ("SO(8_9-7_8)", 346.5285, 5.0, 80.0),
];
/// (S0 Jy, spectral index) per field.
pub const FLUXES: [(f64, f64); 3] = [(2.29, -0.585), (0.8, 0.0), (3.0, -0.3)];
/// Antenna corrupted by `--fault`, and its spw.
pub const FAULT_ANTENNA: &str = "CM05";
pub const FAULT_SPW: u32 = 20;

/// Zenith opacity at `nu_hz`: a dry term, the wing of the 325 GHz water line and a slope.
pub fn tau(nu_hz: f64) -> f64 {
    let g = nu_hz / 1e9;
    0.055 + 0.45 * 25.0 / ((g - 325.153).powi(2) + 25.0) + 0.0008 * (g - 340.0)
}

/// Flux density (Jy) of `field` at `nu_hz`.
pub fn flux_jy(field: usize, nu_hz: f64) -> f64 {
    let (s0, alpha) = FLUXES[field];
    s0 * (nu_hz / FLUX_REF_HZ).powf(alpha)
}

/// Line brightness (K) of the target at `nu_hz` (sum of Gaussians).
pub fn t_line_k(nu_hz: f64) -> f64 {
    let g = nu_hz / 1e9;
    LINES
        .iter()
        .map(|&(_, c, peak, fwhm_mhz)| {
            let sigma = fwhm_mhz * 1e-3 / (8.0 * 2f64.ln()).sqrt();
            peak * (-0.5 * ((g - c) / sigma).powi(2)).exp()
        })
        .sum()
}

/// Receiver temperature parameters of one antenna and polarisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Trx {
    pub t0_k: f64,
    pub slope_k_per_ghz: f64,
    pub ripple_k: f64,
    pub ripple_period_ghz: f64,
    pub ripple_phase: f64,
}

impl Trx {
    pub fn at(&self, nu_hz: f64) -> f64 {
        let dg = nu_hz / 1e9 - 340.0;
        self.t0_k
            + self.slope_k_per_ghz * dg
            + self.ripple_k
                * (std::f64::consts::TAU * dg / self.ripple_period_ghz + self.ripple_phase).sin()
    }
}

/// Slow amplitude drift of one antenna and polarisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    pub amp: f64,
    pub period_s: f64,
    pub phase: f64,
    /// Total fractional change over the track (linear).
    pub slope: f64,
}

/// All drawn parameters.
#[derive(Debug, Clone)]
pub struct Model {
    pub n_ant: usize,
    pub nchan: usize,
    /// [ant][pol]
    pub efficiency: Vec<[f64; 2]>,
    /// [ant][pol][baseband]
    pub amp_spw: Vec<[[f64; 4]; 2]>,
    /// [ant][pol][baseband], degrees.
    pub ph0_deg: Vec<[[f64; 4]; 2]>,
    /// [ant][pol]
    pub drift: Vec<[Drift; 2]>,
    /// Path length (m) per antenna at every integration of the schedule (global index).
    pub path_m: Vec<Vec<f64>>,
    pub track_start_s: f64,
    pub track_end_s: f64,
    /// Science bandpass per baseband: [bb][ant][pol][chan], MS channel order.
    pub bandpass: Vec<Vec<[Vec<Complex64>; 2]>>,
    /// Number of bad channels at each edge of a science window.
    pub bad_edge: usize,
    /// [ant][pol]
    pub trx: Vec<[Trx; 2]>,
}

impl Model {
    pub fn draw(seed: u64, n_ant: usize, nchan: usize, schedule: &Schedule) -> Self {
        let mut efficiency = Vec::with_capacity(n_ant);
        let mut amp_spw = Vec::with_capacity(n_ant);
        let mut ph0_deg = Vec::with_capacity(n_ant);
        let mut drift = Vec::with_capacity(n_ant);
        let mut trx = Vec::with_capacity(n_ant);
        let t0 = schedule.start_s();
        let t1 = schedule.end_s();
        for a in 0..n_ant {
            let mut r = Rng::new(seed, Tag::Gain, &[a as u64]);
            efficiency.push([r.range(0.95, 1.05), r.range(0.95, 1.05)]);
            let mut asp = [[0.0; 4]; 2];
            let mut ph = [[0.0; 4]; 2];
            for p in 0..2 {
                for bb in 0..4 {
                    asp[p][bb] = r.range(0.98, 1.02);
                    ph[p][bb] = r.range(-180.0, 180.0);
                }
            }
            amp_spw.push(asp);
            ph0_deg.push(ph);
            let mut d = || Drift {
                amp: r.range(0.01, 0.03),
                period_s: r.range(1200.0, 3600.0),
                phase: r.range(0.0, std::f64::consts::TAU),
                slope: r.range(-0.01, 0.01),
            };
            drift.push([d(), d()]);
            let mut rt = Rng::new(seed, Tag::Trx, &[a as u64]);
            let mut t = || Trx {
                t0_k: rt.range(50.0, 70.0),
                slope_k_per_ghz: rt.range(-1.5, 1.5),
                ripple_k: rt.range(1.0, 3.0),
                ripple_period_ghz: rt.range(0.5, 2.0),
                ripple_phase: rt.range(0.0, std::f64::consts::TAU),
            };
            trx.push([t(), t()]);
        }
        let path_m = path_walks(seed, n_ant, schedule);
        let bad_edge = (nchan / 32).max(1);
        let bandpass = (0..4)
            .map(|bb| {
                (0..n_ant)
                    .map(|a| {
                        let mut r = Rng::new(seed, Tag::Bandpass, &[bb as u64, a as u64]);
                        let x = bandpass_shape(&mut r, nchan, bad_edge);
                        let y = bandpass_shape(&mut r, nchan, bad_edge);
                        [x, y]
                    })
                    .collect()
            })
            .collect();
        Model {
            n_ant,
            nchan,
            efficiency,
            amp_spw,
            ph0_deg,
            drift,
            path_m,
            track_start_s: t0,
            track_end_s: t1.max(t0 + 1.0),
            bandpass,
            bad_edge,
            trx,
        }
    }

    /// Gain amplitude of (ant, pol, baseband) at `time_s`.
    pub fn gain_amp(&self, a: usize, p: usize, bb: usize, time_s: f64) -> f64 {
        let d = &self.drift[a][p];
        let dt = time_s - self.track_start_s;
        let frac = dt / (self.track_end_s - self.track_start_s) - 0.5;
        let drift = 1.0
            + d.amp * (std::f64::consts::TAU * dt / d.period_s + d.phase).sin()
            + d.slope * frac;
        self.efficiency[a][p] * self.amp_spw[a][p][bb] * drift
    }

    /// Gain phase (deg) of (ant, pol, baseband) at integration `index`.
    pub fn gain_phase_deg(&self, a: usize, p: usize, bb: usize, index: usize) -> f64 {
        self.ph0_deg[a][p][bb] + 360.0 * BB_CENTRES_HZ[bb] / C_M_S * self.path_m[a][index]
    }

    /// Complex antenna gain G (|G| ≈ 1) at integration `index`, `time_s`; the CASA-convention
    /// gain is G / sqrt([`JY_PER_K`]).
    pub fn gain(&self, a: usize, p: usize, bb: usize, index: usize, time_s: f64) -> Complex64 {
        Complex64::from_polar(
            self.gain_amp(a, p, bb, time_s),
            self.gain_phase_deg(a, p, bb, index).to_radians(),
        )
    }

    /// System temperature (K) of (ant, pol) at `nu_hz` and `airmass`.
    pub fn tsys_k(&self, a: usize, p: usize, nu_hz: f64, airmass: f64) -> f64 {
        let ta = tau(nu_hz) * airmass;
        let e = ta.exp();
        (self.trx[a][p].at(nu_hz) + T_ATM_K * (1.0 - (-ta).exp()) + 2.7) * e
    }
}

/// Airmass for an elevation (rad), with the elevation floored at 5°.
pub fn airmass(elevation_rad: f64) -> f64 {
    1.0 / elevation_rad.max(5f64.to_radians()).sin()
}

/// Per-antenna path length at every integration: a random walk of about 6 µm per 10 s plus
/// a 25 µm sinusoid with a 15–40 min period.
fn path_walks(seed: u64, n_ant: usize, schedule: &Schedule) -> Vec<Vec<f64>> {
    let times: Vec<f64> = schedule
        .scans
        .iter()
        .flat_map(|s| s.ints.iter().map(|i| i.time_s))
        .collect();
    let t0 = times.first().copied().unwrap_or(0.0);
    (0..n_ant)
        .map(|a| {
            let mut r = Rng::new(seed, Tag::PathWalk, &[a as u64]);
            let period = r.range(900.0, 2400.0);
            let phase = r.range(0.0, std::f64::consts::TAU);
            let mut walk = 0.0;
            let mut prev = t0;
            times
                .iter()
                .map(|&t| {
                    walk += 6e-6 * ((t - prev).max(0.0) / 10.0).sqrt() * r.normal();
                    prev = t;
                    walk + 25e-6 * (std::f64::consts::TAU * (t - t0) / period + phase).sin()
                })
                .collect()
        })
        .collect()
}

/// One polarisation's bandpass: amplitude slope, curvature and ripple; phase slope,
/// curvature and ripple; the outer `bad_edge` channels at 0.25 amplitude, random phase.
fn bandpass_shape(r: &mut Rng, nchan: usize, bad_edge: usize) -> Vec<Complex64> {
    let a1 = r.range(-0.03, 0.03);
    let a2 = r.range(-0.03, 0.03);
    let ar = r.range(0.01, 0.03);
    let an = r.range(3.0, 8.0);
    let aphi = r.range(0.0, std::f64::consts::TAU);
    let p1 = r.range(-10.0, 10.0);
    let p2 = r.range(-5.0, 5.0);
    let pr = r.range(1.0, 3.0);
    let pn = r.range(3.0, 8.0);
    let pphi = r.range(0.0, std::f64::consts::TAU);
    let denom = (nchan.max(2) - 1) as f64;
    (0..nchan)
        .map(|k| {
            let x = 2.0 * k as f64 / denom - 1.0;
            let u = 0.5 * (x + 1.0) * std::f64::consts::TAU;
            let mut amp = 1.0 + a1 * x + a2 * (x * x - 1.0 / 3.0) + ar * (an * u + aphi).sin();
            let mut ph = p1 * x + p2 * (x * x - 1.0 / 3.0) + pr * (pn * u + pphi).sin();
            if k < bad_edge || k >= nchan - bad_edge {
                amp *= 0.25;
                ph = r.range(-180.0, 180.0);
            }
            Complex64::from_polar(amp, ph.to_radians())
        })
        .collect()
}

/// Roles of the fields, for documentation in the truth file.
pub fn field_role_note(field: usize) -> &'static str {
    match field {
        FIELD_BANDPASS => "given to the pipeline via setjy manual",
        FIELD_PHASE => "NOT given to the pipeline; fluxscale must recover it",
        _ => "point source at phase centre; line emission seen only through the autocorrelations",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsb_windows_have_higher_tsys() {
        let trx = Trx {
            t0_k: 60.0,
            slope_k_per_ghz: 0.0,
            ripple_k: 0.0,
            ripple_period_ghz: 1.0,
            ripple_phase: 0.0,
        };
        let m = |nu: f64| {
            (trx.at(nu) + T_ATM_K * (1.0 - (-tau(nu) * 1.2).exp()) + 2.7) * (tau(nu) * 1.2).exp()
        };
        assert!(m(333.996e9) > m(345.996e9) + 10.0);
        assert!((80.0..130.0).contains(&m(345.996e9)));
    }

    #[test]
    fn co_line_peaks_at_25k() {
        assert!((t_line_k(345.796e9) - 25.0).abs() < 0.1);
        assert!(t_line_k(347.871e9) < 1e-3);
    }
}
