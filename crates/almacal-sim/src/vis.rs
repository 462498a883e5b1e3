//! Visibility generation for one integration: every observed data description's rows
//! (baselines in MS order, autocorrelations included) as [`RowBlock`]s. Pure function of
//! the [`Sim`] and the integration, so any thread can compute any integration.
//!
//! Cross-correlations follow the shared data model
//! `V_ij = G_i G_j* B_i B_j* e^{-2πiν/c (dX_j − dX_i)·ŝ} S(ν) / JYPERK0 / sqrt(TsysOn_i TsysOn_j)`,
//! computed as `Z_i Z_j*` with the per-antenna factor
//! `Z_a = G_a B_a e^{2πiν dX_a·ŝ/c} sqrt(S / JYPERK0) / sqrt(TsysOn_a)` (g = G/sqrt(JYPERK0)). Autocorrelations are
//! `|B_a|² TsysOn_a / <Tsys_a>_ν`. Noise per real/imaginary part is
//! `noise / sqrt(2 |Δν| t)`, the SIGMA written to the MS.

use crate::degrade::{self, BlockPlace};
use crate::geometry::{self, dot, sub, C_M_S};
use crate::model::{airmass, flux_jy, t_line_k, FAULT_SPW, JY_PER_K, LINE_BASEBAND};
use crate::rng::{Rng, Tag};
use crate::schedule::{Integration, Scan, ScanKind, FIELD_TARGET};
use crate::sim::Sim;
use crate::spws::SpwRole;
use almacal_casa::ms_write::RowBlock;
use ndarray::Array2;
use num_complex::{Complex32, Complex64};

/// Per-antenna spectra of one spw at one integration.
struct AntSpectra {
    /// Z[a][p][c]
    z: Vec<[Vec<Complex64>; 2]>,
    /// Autocorrelation spectra [a][p][c].
    ac: Vec<[Vec<f64>; 2]>,
}

/// Radiometer SIGMA for a channel width and integration time.
pub fn sigma(chan_width_hz: f64, interval_s: f64) -> f64 {
    1.0 / (2.0 * chan_width_hz.abs() * interval_s).sqrt()
}

/// TsysOn (K) of antenna `a`, pol `p` at `nu` for this scan: Tsys, plus the line on the
/// target in the line window.
pub fn tsys_on(sim: &Sim, a: usize, p: usize, nu: f64, am: f64, line: bool) -> f64 {
    let t = sim.model.tsys_k(a, p, nu, am);
    if line {
        t + t_line_k(nu)
    } else {
        t
    }
}

fn spectra(
    sim: &Sim,
    scan: &Scan,
    int: &Integration,
    spw: usize,
    s_itrf: &[f64; 3],
    am: f64,
) -> AntSpectra {
    let w = &sim.spws[spw];
    let bb = w.baseband.unwrap_or(0);
    let science = w.role == SpwRole::Science;
    let line = sim.cfg.target_line && science && bb == LINE_BASEBAND && scan.field == FIELD_TARGET;
    let freqs = &w.spw.chan_freq_hz;
    let nchan = freqs.len();
    let sqrt_s: Vec<f64> = freqs
        .iter()
        .map(|&nu| (flux_jy(scan.field, nu) / JY_PER_K).sqrt())
        .collect();
    let mut z = Vec::with_capacity(sim.antennas.len());
    let mut ac = Vec::with_capacity(sim.antennas.len());
    for (a, ant) in sim.antennas.iter().enumerate() {
        let dw = dot(&ant.error_m, s_itrf);
        let mut za: [Vec<Complex64>; 2] = [Vec::with_capacity(nchan), Vec::with_capacity(nchan)];
        let mut aa: [Vec<f64>; 2] = [Vec::with_capacity(nchan), Vec::with_capacity(nchan)];
        for p in 0..2 {
            let g = sim.model.gain(a, p, bb, int.index, int.time_s);
            let tsys: Vec<f64> = freqs
                .iter()
                .map(|&nu| sim.model.tsys_k(a, p, nu, am))
                .collect();
            let mean_tsys = tsys.iter().sum::<f64>() / nchan as f64;
            for (c, &nu) in freqs.iter().enumerate() {
                let b = if science {
                    sim.model.bandpass[bb][a][p][c]
                } else {
                    Complex64::new(1.0, 0.0)
                };
                let t_on = if line {
                    tsys[c] + t_line_k(nu)
                } else {
                    tsys[c]
                };
                let ph = Complex64::from_polar(1.0, std::f64::consts::TAU * nu * dw / C_M_S);
                za[p].push(g * b * ph * (sqrt_s[c] / t_on.sqrt()));
                aa[p].push(b.norm_sqr() * t_on / mean_tsys);
            }
        }
        z.push(za);
        ac.push(aa);
    }
    AntSpectra { z, ac }
}

/// All blocks of one integration of `scan`, in DDID order.
pub fn integration_blocks(sim: &Sim, scan: &Scan, int: &Integration) -> Vec<RowBlock> {
    let (ra, dec) = sim.field_dir(scan.field);
    let axes = geometry::uvw_axes_itrf(ra, dec, int.time_s);
    let s_itrf = axes[2];
    let am = airmass(geometry::elevation_rad(&s_itrf));
    let pos = sim.positions_in_ms();
    let nbl = sim.baselines.len();
    let mut uvw = Array2::<f64>::zeros((nbl, 3));
    for (r, &(i, j)) in sim.baselines.iter().enumerate() {
        let b = sub(&pos[j], &pos[i]);
        for k in 0..3 {
            uvw[[r, k]] = dot(&b, &axes[k]);
        }
    }
    let faulty = scan.kind != ScanKind::Pointing && sim.schedule.fault_scans.contains(&scan.number);
    let mut out: Vec<RowBlock> = Vec::with_capacity(scan.spws.len());
    // (receptor of antenna 1, receptor of antenna 2) of each correlation.
    let pairs: &[(usize, usize)] = if sim.cfg.full_pol {
        &[(0, 0), (0, 1), (1, 0), (1, 1)]
    } else {
        &[(0, 0), (1, 1)]
    };
    for &spw_id in &scan.spws {
        let spw = spw_id as usize;
        let w = &sim.spws[spw];
        let Some(dd) = sim.ddid_of_spw[spw] else {
            continue;
        };
        let nchan = w.spw.nchan();
        let mut blk = RowBlock::zeros(nbl, nchan, pairs.len());
        fill_scalars(&mut blk, scan, int, dd, sim);
        blk.uvw_m.assign(&uvw);
        let sig = sigma(w.spw.chan_width_hz[0], int.interval_s);
        blk.sigma_rc.fill(sig as f32);
        blk.weight_rc.fill((1.0 / (sig * sig)) as f32);
        if w.role == SpwRole::ChAvg {
            // The science window of the same baseband was generated just before.
            if let Some(sci) = out.last() {
                channel_average(&mut blk, sci);
            }
            out.push(blk);
            continue;
        }
        let sp = spectra(sim, scan, int, spw, &s_itrf, am);
        let noise = sim.cfg.noise * sig;
        let mut rng = Rng::new(sim.cfg.seed, Tag::Noise, &[int.index as u64, spw as u64]);
        let mut frng = Rng::new(sim.cfg.seed, Tag::Fault, &[int.index as u64]);
        let fault_here = faulty && spw_id == FAULT_SPW;
        for (r, &(i, j)) in sim.baselines.iter().enumerate() {
            let fault_row = fault_here
                && sim
                    .fault_antenna
                    .is_some_and(|f| i != j && (f == i || f == j));
            for c in 0..nchan {
                for (k, &(p, q)) in pairs.iter().enumerate() {
                    // The sources are unpolarised and the feeds do not leak: cross hands
                    // hold noise only.
                    let mut v = if p != q {
                        Complex64::new(0.0, 0.0)
                    } else if i == j {
                        Complex64::new(sp.ac[i][p][c], 0.0)
                    } else {
                        sp.z[i][p][c] * sp.z[j][p][c].conj()
                    };
                    if noise > 0.0 {
                        let re = rng.normal() * noise;
                        let im = if i == j && p == q {
                            0.0
                        } else {
                            rng.normal() * noise
                        };
                        v += Complex64::new(re, im);
                    }
                    if fault_row {
                        v *= Complex64::from_polar(
                            frng.range(0.0, 6.0),
                            frng.range(-std::f64::consts::PI, std::f64::consts::PI),
                        );
                    }
                    blk.data_rcf[[r, c, k]] = Complex32::new(v.re as f32, v.im as f32);
                }
            }
        }
        out.push(blk);
    }
    if !sim.cfg.degrades.is_empty() {
        let int_pos = scan
            .ints
            .iter()
            .position(|i| i.index == int.index)
            .unwrap_or(0);
        for blk in &mut out {
            let Some(&dd) = blk.data_desc_id.first() else {
                continue;
            };
            let Some(&spw) = sim.spw_of_ddid.get(dd.max(0) as usize) else {
                continue;
            };
            let place = BlockPlace {
                scan: scan.number,
                spw: spw as u32,
                int_pos,
                scan_ints: scan.ints.len(),
            };
            degrade::apply(&sim.cfg.degrades, blk, place, sim.cfg.full_pol, |n| {
                sim.antennas.iter().position(|a| a.name == n)
            });
        }
    }
    out
}

fn fill_scalars(blk: &mut RowBlock, scan: &Scan, int: &Integration, dd: usize, sim: &Sim) {
    for (r, &(i, j)) in sim.baselines.iter().enumerate() {
        blk.time_s[r] = int.time_s;
        blk.time_centroid_s[r] = int.time_s;
        blk.interval_s[r] = int.interval_s;
        blk.exposure_s[r] = int.interval_s;
        blk.antenna1[r] = i as i32;
        blk.antenna2[r] = j as i32;
        blk.data_desc_id[r] = dd as i32;
        blk.field_id[r] = scan.field as i32;
        blk.scan_number[r] = scan.number;
        blk.state_id[r] = int.state as i32;
    }
}

/// CH_AVG window: mean of the central 90 % of the science channels.
fn channel_average(blk: &mut RowBlock, sci: &RowBlock) {
    let (_, nchan, ncorr) = sci.data_rcf.dim();
    let lo = nchan / 20;
    let hi = (nchan - nchan / 20).max(lo + 1);
    for r in 0..blk.nrows() {
        for p in 0..ncorr {
            let mut acc = Complex64::new(0.0, 0.0);
            for c in lo..hi {
                let v = sci.data_rcf[[r, c, p]];
                acc += Complex64::new(v.re as f64, v.im as f64);
            }
            acc /= (hi - lo) as f64;
            blk.data_rcf[[r, 0, p]] = Complex32::new(acc.re as f32, acc.im as f32);
        }
    }
}
