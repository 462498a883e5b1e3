//! Applying a `KAntPos Jones` table (algorithms.md §6.2): per row time, each antenna's
//! offset is rotated to J2000 and projected on the field's phase centre (dw), and the data
//! are multiplied by exp(−i·2π·ν·(dw_i − dw_j)/c). No flags; weights never change.

use super::antenna::{antenna_keys, AntFactor, AntFactors};
use super::{ChunkInfo, Corrections, Term};
use crate::prep::antpos::{antenna_delays_m, C_M_S};
use almacal_core::chunk::VisChunk;
use num_complex::{Complex32, Complex64};
use std::collections::BTreeMap;

/// 1/J for J = (float)cos φ + i (float)sin φ, the division in double.
fn inverse_of_f32(phase: f64) -> Complex64 {
    let c = f64::from(phase.cos() as f32);
    let d = f64::from(phase.sin() as f32);
    let den = c * c + d * d;
    Complex64::new(c / den, -d / den)
}

/// (first frequency, step) when the channels are equally spaced (to 1e-9 of the step).
fn uniform_grid(f: &[f64]) -> Option<(f64, f64)> {
    let (&f0, &f1) = (f.first()?, f.get(1)?);
    let d = f1 - f0;
    let ok = f
        .iter()
        .enumerate()
        .all(|(k, &x)| (x - (f0 + d * k as f64)).abs() <= 1e-9 * d.abs().max(1.0));
    ok.then_some((f0, d))
}

/// Antenna-position offsets ready to apply.
#[derive(Debug, Clone)]
pub struct AntposTerm {
    /// ITRF offsets (m) per antenna id.
    pub offsets_m: Vec<[f64; 3]>,
    /// The measures frame position (ITRF, m): CASA uses antenna 0.
    pub site_itrf_m: [f64; 3],
}

impl Term for AntposTerm {
    fn order(&self) -> u32 {
        0
    }

    fn covers(&self, _spw: u32) -> bool {
        true
    }

    /// 1/J per antenna, shared by the receptors, computed as CASA does
    /// (`KAntPosJones::calcAllJones`, then the Jones inverse): the delay in ns, the phase
    /// φ = 2π·dw·ν_GHz in double, J = (float)cos φ + i (float)sin φ, and 1/J by a complex
    /// division in double (`std::complex<float>` division promotes to double), whose
    /// result is rounded to float32 when applied. (Measured bit for bit against CASA's
    /// applycal given CASA's dw: `fixtures/scenarios/research/data_bits.md`.)
    fn antenna_factors(&self, chunk: &VisChunk, info: &ChunkInfo<'_>) -> Option<AntFactors> {
        let (ra, dec) = info.field_dir_rad;
        let mut delays: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
        let mut out = AntFactors::new();
        for (t, a) in antenna_keys(chunk) {
            let dw = delays.entry(t).or_insert_with(|| {
                antenna_delays_m(
                    &self.offsets_m,
                    self.site_itrf_m,
                    f64::from_bits(t),
                    ra,
                    dec,
                )
            });
            let w = dw.get(a as usize).copied().unwrap_or(0.0);
            let gain: Vec<Complex64> = if w == 0.0 {
                vec![Complex64::new(1.0, 0.0); info.chan_freq_hz.len()]
            } else {
                let dw_ns = w / C_M_S * 1.0e9;
                info.chan_freq_hz
                    .iter()
                    .map(|&nu| inverse_of_f32(2.0 * std::f64::consts::PI * dw_ns * (nu / 1e9)))
                    .collect()
            };
            out.insert((t, a), Some(AntFactor::shared(gain)));
        }
        Some(out)
    }

    fn accumulate(
        &self,
        chunk: &VisChunk,
        info: &ChunkInfo<'_>,
        _calwt: bool,
        c: &mut Corrections,
    ) {
        let (ra, dec) = info.field_dir_rad;
        let mut delays: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
        let uniform = uniform_grid(info.chan_freq_hz);
        for k in 0..chunk.nrows() {
            let t = chunk.time_s[k];
            let dw = delays
                .entry(t.to_bits())
                .or_insert_with(|| antenna_delays_m(&self.offsets_m, self.site_itrf_m, t, ra, dec));
            let (i, j) = (chunk.ant1[k].idx(), chunk.ant2[k].idx());
            let ddw = dw.get(i).copied().unwrap_or(0.0) - dw.get(j).copied().unwrap_or(0.0);
            let scale = -std::f64::consts::TAU * ddw / C_M_S;
            let mut row = c.factor_rcf.index_axis_mut(ndarray::Axis(0), k);
            match &uniform {
                // One complex exponential per row, then a phasor recurrence over channels
                // (f64: the drift over 10^4 channels is ~1e-12 rad).
                Some((nu0, dnu)) => {
                    let mut f = Complex64::from_polar(1.0, scale * nu0);
                    let step = Complex64::from_polar(1.0, scale * dnu);
                    for mut cell in row.outer_iter_mut() {
                        let f32c = Complex32::new(f.re as f32, f.im as f32);
                        cell.iter_mut().for_each(|x| *x *= f32c);
                        f *= step;
                    }
                }
                None => {
                    for (mut cell, &nu) in row.outer_iter_mut().zip(info.chan_freq_hz) {
                        let ph = scale * nu;
                        let f = Complex32::new(ph.cos() as f32, ph.sin() as f32);
                        cell.iter_mut().for_each(|x| *x *= f);
                    }
                }
            }
        }
    }
}
