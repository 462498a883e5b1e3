//! Applying solved `G Jones`, `T Jones` and `B Jones` tables (algorithms.md §7.2–7.5):
//! per (spw, antenna) slices of all rows (flags interpolated, never skipped) restricted by
//! `gainfield`; time interpolation nearest or linear in amplitude and phase separately;
//! for B, frequency interpolation of the time-interpolated spectrum onto the data channels
//! (flagged solution channels dropped unless `...flag`); `spwmap`. The correction of
//! baseline (i, j), correlation (p, q) is 1/(J_i,p · conj(J_j,q)); a flagged solution
//! flags the data and is replaced by 1; calwt weight factors are |g|² (G, T) or the mean
//! over unflagged solution channels of |b|² (B), 1 for flagged solutions.

use super::antenna::{antenna_keys, AntFactor, AntFactors};
use super::{receptors, ChunkInfo, Corrections, Term};
use crate::gain::JonesKind;
use crate::interp::{
    blend_amp_phase_scaled, interp_freq_complex, phase_delay_scale, time_bracket, Interp,
    TimeInterp,
};
use almacal_core::chunk::VisChunk;
use num_complex::{Complex32, Complex64};
use std::collections::BTreeMap;

/// One caltable row as the interpolator needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct JonesRow {
    pub time_s: f64,
    pub field: i32,
    pub spw: u32,
    pub antenna: u32,
    /// `[par][chan]`.
    pub params: Vec<Vec<Complex64>>,
    /// `[par][chan]`, true = flagged.
    pub flags: Vec<Vec<bool>>,
}

pub use super::GainField;

#[derive(Debug, Clone)]
struct Sample {
    time_s: f64,
    field: i32,
    /// Flattened `[par][chan]`.
    vals: Vec<Complex64>,
    flags: Vec<bool>,
}

/// An interpolated solution of one antenna at one time on the data channels:
/// `[par][chan]` values and flags, plus the calwt factor per par.
/// Rows (a, b) and the interpolation fraction's bits.
type Bracket = (usize, usize, u64);

#[derive(Debug, Clone)]
struct AntSolution {
    vals: Vec<Vec<Complex64>>,
    flags: Vec<Vec<bool>>,
    wfac: Vec<f64>,
    /// 1/g per par and data channel (1 where flagged), for the correction product.
    inv: Vec<Vec<Complex32>>,
    /// Per par: is any data channel flagged? (Most are not: their flag pass is skipped.)
    any_flag: Vec<bool>,
}

impl AntSolution {
    fn with_inverse(mut self) -> Self {
        self.any_flag = self.flags.iter().map(|f| f.iter().any(|&x| x)).collect();
        self.inv = self
            .vals
            .iter()
            .zip(&self.flags)
            .map(|(v, f)| {
                v.iter()
                    .zip(f)
                    .map(|(z, fl)| {
                        // CASA's Jones are float32; it inverts them by a complex
                        // division in double (`std::complex<float>`), rounded to float.
                        let (c, d) = (f64::from(z.re as f32), f64::from(z.im as f32));
                        let den = c * c + d * d;
                        if *fl || den == 0.0 {
                            Complex32::new(1.0, 0.0)
                        } else {
                            Complex32::new((c / den) as f32, (-d / den) as f32)
                        }
                    })
                    .collect()
            })
            .collect();
        self
    }
}

/// A G/T/B Jones table ready to apply.
#[derive(Debug, Clone)]
pub struct JonesTerm {
    kind: JonesKind,
    npar: usize,
    slices: BTreeMap<(u32, u32), Vec<Sample>>,
    /// Solution-channel frequencies of each caltable spw.
    freq_hz: BTreeMap<u32, Vec<f64>>,
    spwmap: Vec<u32>,
    fields: GainField,
    interp: Interp,
}

impl JonesTerm {
    /// `freq_hz`: the caltable SPECTRAL_WINDOW channel frequencies per spw; `spwmap[i]`:
    /// the caltable spw for data spw i (a single entry maps every spw; identity beyond the
    /// list, §7.4).
    pub fn new(
        kind: JonesKind,
        rows: &[JonesRow],
        freq_hz: BTreeMap<u32, Vec<f64>>,
        spwmap: Vec<u32>,
        fields: GainField,
        interp: Interp,
    ) -> Self {
        let npar = rows.first().map_or(kind.npar(), |r| r.params.len());
        let mut slices: BTreeMap<(u32, u32), Vec<Sample>> = BTreeMap::new();
        for r in rows {
            slices.entry((r.spw, r.antenna)).or_default().push(Sample {
                time_s: r.time_s,
                field: r.field,
                vals: r.params.iter().flatten().copied().collect(),
                flags: r.flags.iter().flatten().copied().collect(),
            });
        }
        for v in slices.values_mut() {
            v.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
        }
        Self {
            kind,
            npar,
            slices,
            freq_hz,
            spwmap,
            fields,
            interp,
        }
    }

    fn cal_spw(&self, spw: u32) -> u32 {
        if self.spwmap.len() == 1 {
            return self.spwmap[0];
        }
        self.spwmap.get(spw as usize).copied().unwrap_or(spw)
    }

    /// The rows of antenna `ant` usable for data field `field` (gainfield), by time.
    fn rows_for(&self, spw: u32, field: u32, ant: u32) -> Vec<&Sample> {
        let cspw = self.cal_spw(spw);
        self.slices
            .get(&(cspw, ant))
            .map(|v| {
                v.iter()
                    .filter(|s| self.fields.allows(field, s.field))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Which rows time `t` uses: (a, b, fraction), by CASA's float32 registration
    /// ([`time_bracket`]) over this slice's rows.
    fn bracket(&self, rows: &[&Sample], t: f64) -> Option<(usize, usize, f64)> {
        let times: Vec<f64> = rows.iter().map(|s| s.time_s).collect();
        time_bracket(&times, t, self.interp.time)
    }

    /// The solution interpolated between rows `a` and `b` (fraction `x`), on `freqs`.
    fn evaluate(
        &self,
        spw: u32,
        rows: &[&Sample],
        (a, b, x): (usize, usize, f64),
        freqs: &[f64],
    ) -> AntSolution {
        let (ra, rb) = (rows[a], rows[b]);
        let cspw = self.cal_spw(spw);
        let src = self.freq_hz.get(&cspw);
        // `...PD` on a one-channel table: the time-interpolated (unwrapped) phase scaled to
        // the data frequency.
        let scale = if self.interp.phase_delay && ra.vals.len() <= self.npar.max(1) {
            phase_delay_scale(freqs, src.and_then(|f| f.first()).copied().unwrap_or(0.0))
        } else {
            1.0
        };
        let v: Vec<Complex64> = if a == b && scale == 1.0 {
            ra.vals.clone()
        } else {
            ra.vals
                .iter()
                .zip(&rb.vals)
                .map(|(&p, &q)| blend_amp_phase_scaled(p, q, x, scale))
                .collect()
        };
        let f: Vec<bool> = ra
            .flags
            .iter()
            .zip(&rb.flags)
            .map(|(p, q)| *p || *q)
            .collect();
        let nchan_sol = v.len() / self.npar.max(1);
        let mut out = AntSolution {
            vals: Vec::with_capacity(self.npar),
            flags: Vec::with_capacity(self.npar),
            wfac: Vec::with_capacity(self.npar),
            inv: Vec::new(),
            any_flag: Vec::new(),
        };
        for p in 0..self.npar {
            let pv = &v[p * nchan_sol..(p + 1) * nchan_sol];
            let pf = &f[p * nchan_sol..(p + 1) * nchan_sol];
            // Weight factor: |g|² (G, T) or the unflagged-channel mean of |b|² (B).
            let (s, n) = pv
                .iter()
                .zip(pf)
                .filter(|(_, fl)| !**fl)
                .fold((0.0, 0usize), |(s, n), (z, _)| (s + z.norm_sqr(), n + 1));
            out.wfac.push(if n > 0 { s / n as f64 } else { 1.0 });
            if nchan_sol <= 1 {
                let z = pv.first().copied().unwrap_or(Complex64::new(1.0, 0.0));
                let fl = pf.first().copied().unwrap_or(true);
                out.vals.push(vec![z; freqs.len()]);
                out.flags.push(vec![fl; freqs.len()]);
                continue;
            }
            let interp = src.and_then(|src| {
                if src.len() != nchan_sol {
                    return None;
                }
                interp_freq_complex(src, pv, pf, freqs, self.interp.freq)
            });
            match interp {
                Some((zv, zf)) => {
                    out.vals.push(zv);
                    out.flags.push(zf);
                }
                None => {
                    // Every solution channel flagged (or no frequency axis): flag the data.
                    out.vals.push(vec![Complex64::new(1.0, 0.0); freqs.len()]);
                    out.flags.push(vec![true; freqs.len()]);
                }
            }
        }
        out.with_inverse()
    }

    /// The antenna factor of an interpolated solution: 1/g per receptor (1 where flagged),
    /// one shared receptor for T.
    fn factor_of(&self, s: &AntSolution) -> AntFactor {
        let npar = match self.kind {
            JonesKind::T => s.inv.len().min(1),
            _ => s.inv.len(),
        };
        AntFactor {
            gain: s.inv[..npar]
                .iter()
                .map(|v| {
                    v.iter()
                        .map(|z| Complex64::new(z.re as f64, z.im as f64))
                        .collect()
                })
                .collect(),
            flags: (0..npar)
                .map(|p| s.any_flag[p].then(|| s.flags[p].clone()))
                .collect(),
            wfac: s.wfac[..npar].to_vec(),
            shared: self.kind == JonesKind::T,
        }
    }

    /// The time interpolation in use.
    pub fn time_interp(&self) -> TimeInterp {
        self.interp.time
    }
}

impl Term for JonesTerm {
    fn order(&self) -> u32 {
        match self.kind {
            JonesKind::B => 20,
            JonesKind::G => 30,
            JonesKind::T => 40,
        }
    }

    fn covers(&self, spw: u32) -> bool {
        let c = self.cal_spw(spw);
        self.slices.keys().any(|(s, _)| *s == c)
    }

    fn antenna_factors(&self, chunk: &VisChunk, info: &ChunkInfo<'_>) -> Option<AntFactors> {
        let mut rows: BTreeMap<u32, Vec<&Sample>> = BTreeMap::new();
        let mut sols: BTreeMap<(u32, usize, usize, u64), AntFactor> = BTreeMap::new();
        let mut out = AntFactors::new();
        for (t, a) in antenna_keys(chunk) {
            let r = rows
                .entry(a)
                .or_insert_with(|| self.rows_for(info.spw, info.field, a));
            let f = self.bracket(r, f64::from_bits(t)).map(|(i, j, x)| {
                sols.entry((a, i, j, x.to_bits()))
                    .or_insert_with(|| {
                        let s = self.evaluate(info.spw, r, (i, j, x), info.chan_freq_hz);
                        self.factor_of(&s)
                    })
                    .clone()
            });
            out.insert((t, a), f);
        }
        Some(out)
    }

    fn accumulate(&self, chunk: &VisChunk, info: &ChunkInfo<'_>, calwt: bool, c: &mut Corrections) {
        let freqs = info.chan_freq_hz;
        // Rows per antenna for this chunk's spw and field, then solutions cached by the rows
        // and fraction they interpolate (a time-constant bandpass is evaluated once).
        let mut rows: BTreeMap<u32, Vec<&Sample>> = BTreeMap::new();
        let mut brackets: BTreeMap<(u64, u32), Option<Bracket>> = BTreeMap::new();
        let mut sols: BTreeMap<(u32, usize, usize, u64), AntSolution> = BTreeMap::new();
        let mut key_of = |t: f64, a: u32| -> Option<(u32, usize, usize, u64)> {
            let r = rows
                .entry(a)
                .or_insert_with(|| self.rows_for(info.spw, info.field, a));
            let br = (*brackets
                .entry((t.to_bits(), a))
                .or_insert_with(|| self.bracket(r, t).map(|(a, b, x)| (a, b, x.to_bits()))))?;
            let key = (a, br.0, br.1, br.2);
            sols.entry(key).or_insert_with(|| {
                self.evaluate(info.spw, r, (br.0, br.1, f64::from_bits(br.2)), freqs)
            });
            Some(key)
        };
        let keys: Vec<(Option<_>, Option<_>)> = (0..chunk.nrows())
            .map(|k| {
                let t = chunk.time_s[k];
                (key_of(t, chunk.ant1[k].0), key_of(t, chunk.ant2[k].0))
            })
            .collect();
        for (k, (ki, kj)) in keys.into_iter().enumerate() {
            let (Some(si), Some(sj)) =
                (ki.and_then(|x| sols.get(&x)), kj.and_then(|x| sols.get(&x)))
            else {
                // No solutions for an antenna of this baseline: flag it (§7.1).
                c.flag_rcf.index_axis_mut(ndarray::Axis(0), k).fill(true);
                continue;
            };
            let ncorr = info.corrs.len();
            let mut frow = c.factor_rcf.index_axis_mut(ndarray::Axis(0), k);
            let mut grow = c.flag_rcf.index_axis_mut(ndarray::Axis(0), k);
            for (pi, &corr) in info.corrs.iter().enumerate() {
                let (p, q) = match self.kind {
                    JonesKind::T => (0, 0),
                    _ => receptors(corr),
                };
                let (Some(ii), Some(ij)) = (si.inv.get(p), sj.inv.get(q)) else {
                    continue;
                };
                let (fi, fj) = (&si.flags[p], &sj.flags[q]);
                let n = freqs.len().min(ii.len()).min(ij.len());
                let flagged = si.any_flag.get(p).copied().unwrap_or(true)
                    || sj.any_flag.get(q).copied().unwrap_or(true);
                // Rows of (chan, corr) are contiguous with the correlation fastest.
                match (frow.as_slice_mut(), grow.as_slice_mut()) {
                    (Some(fs), Some(gs)) => {
                        for ((f, a), b) in fs[pi..]
                            .iter_mut()
                            .step_by(ncorr)
                            .zip(&ii[..n])
                            .zip(&ij[..n])
                        {
                            *f *= a * b.conj();
                        }
                        if flagged {
                            for ((g, a), b) in gs[pi..]
                                .iter_mut()
                                .step_by(ncorr)
                                .zip(&fi[..n])
                                .zip(&fj[..n])
                            {
                                *g |= *a || *b;
                            }
                        }
                    }
                    _ => {
                        for ci in 0..n {
                            frow[[ci, pi]] *= ii[ci] * ij[ci].conj();
                            if fi[ci] || fj[ci] {
                                grow[[ci, pi]] = true;
                            }
                        }
                    }
                }
                if calwt {
                    // Flagged solutions (all channels flagged) have factor 1.
                    c.wscale_rc[[k, pi]] *= (si.wfac[p] * sj.wfac[q]) as f32;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::FreqInterp;
    use almacal_core::ids::{AntennaId, DataDescId, FieldId, SpwId};
    use almacal_core::CorrType;
    use ndarray::{Array1, Array2, Array3};

    fn chunk(times: &[f64], nchan: usize) -> VisChunk {
        let n = times.len();
        VisChunk {
            dd: DataDescId(0),
            spw: SpwId(0),
            field: FieldId(0),
            scan: 1,
            rows: (0..n as u64).collect(),
            chans: (0..nchan).collect(),
            corrs: vec![0, 1],
            time_s: Array1::from(times.to_vec()),
            interval_s: Array1::from_elem(n, 1.0),
            ant1: vec![AntennaId(0); n],
            ant2: vec![AntennaId(1); n],
            uvw_m: Array2::zeros((n, 3)),
            data_rcf: Array3::from_elem((n, nchan, 2), Complex32::new(1.0, 0.0)),
            flag_rcf: Array3::from_elem((n, nchan, 2), false),
            weight_rc: Array2::from_elem((n, 2), 1.0),
            sigma_rc: Array2::from_elem((n, 2), 1.0),
            weight_spectrum_rcf: None,
            flag_row: vec![false; n],
        }
    }

    fn g(amp: f64, deg: f64) -> Complex64 {
        Complex64::from_polar(amp, deg.to_radians())
    }

    fn lin() -> Interp {
        Interp {
            time: TimeInterp::Linear,
            freq: FreqInterp {
                linear: true,
                flag: false,
            },
            phase_delay: false,
        }
    }

    #[test]
    fn g_table_linear_in_time_with_flags_and_weights() {
        let row = |t: f64, ant: u32, z: Complex64, fl: bool| JonesRow {
            time_s: t,
            field: 0,
            spw: 0,
            antenna: ant,
            params: vec![vec![z], vec![z * 2.0]],
            flags: vec![vec![fl], vec![false]],
        };
        let rows = vec![
            row(0.0, 0, g(1.0, 0.0), false),
            row(10.0, 0, g(3.0, 20.0), false),
            row(0.0, 1, g(2.0, 10.0), false),
            row(10.0, 1, g(2.0, 10.0), true),
        ];
        let term = JonesTerm::new(
            JonesKind::G,
            &rows,
            BTreeMap::new(),
            vec![],
            GainField::All,
            lin(),
        );
        assert!(term.covers(0) && !term.covers(1));
        let ch = chunk(&[5.0, 0.0], 1);
        let freqs = [1e11];
        let corrs = [CorrType::XX, CorrType::YY];
        let info = ChunkInfo {
            spw: 0,
            field: 0,
            chan_freq_hz: &freqs,
            corrs: &corrs,
            field_dir_rad: (0.0, 0.0),
        };
        let mut c = Corrections::identity(2, 1, 2);
        term.accumulate(&ch, &info, true, &mut c);
        // t=5: ant0 par0 = 2∠10°, ant1 par0 flagged (between a good and a flagged row) → 1.
        let f = c.factor_rcf[[0, 0, 0]];
        assert!((f.norm() - 0.5).abs() < 1e-6, "{f}");
        assert!((f.arg().to_degrees() + 10.0).abs() < 1e-4);
        assert!(c.flag_rcf[[0, 0, 0]]);
        assert!((c.wscale_rc[[0, 0]] - 4.0).abs() < 1e-5);
        // YY: ant0 par1 = 4∠10°, ant1 par1 = 4∠10° (unflagged): 1/(|g|²) phase 0.
        let f = c.factor_rcf[[0, 0, 1]];
        assert!((f.norm() - 1.0 / 16.0).abs() < 1e-6 && f.arg().abs() < 1e-5);
        assert!(!c.flag_rcf[[0, 0, 1]]);
        assert!((c.wscale_rc[[0, 1]] - 256.0).abs() < 1e-2);
        // t=0 exactly: row 0 of both, unflagged.
        assert!(!c.flag_rcf[[1, 0, 0]]);
        let f = c.factor_rcf[[1, 0, 0]];
        assert!((f.norm() - 0.5).abs() < 1e-6 && (f.arg().to_degrees() - 10.0).abs() < 1e-4);
    }

    #[test]
    fn b_table_frequency_interpolation_and_mean_weight() {
        // Two solution channels at 1 and 3 Hz; data channels at 1, 2, 3.
        let rows: Vec<JonesRow> = (0..2)
            .map(|a| JonesRow {
                time_s: 0.0,
                field: 0,
                spw: 0,
                antenna: a,
                params: vec![vec![g(1.0, 0.0), g(3.0, 40.0)]; 2],
                flags: vec![vec![false, false]; 2],
            })
            .collect();
        let mut fq = BTreeMap::new();
        fq.insert(0u32, vec![1.0, 3.0]);
        let term = JonesTerm::new(JonesKind::B, &rows, fq, vec![0], GainField::All, lin());
        let ch = chunk(&[100.0], 3);
        let freqs = [1.0, 2.0, 3.0];
        let corrs = [CorrType::XX, CorrType::YY];
        let info = ChunkInfo {
            spw: 7,
            field: 0,
            chan_freq_hz: &freqs,
            corrs: &corrs,
            field_dir_rad: (0.0, 0.0),
        };
        assert!(term.covers(7), "single-entry spwmap maps every spw");
        let mut c = Corrections::identity(1, 3, 2);
        term.accumulate(&ch, &info, true, &mut c);
        // Middle channel: b = 2∠20° for both antennas → 1/|b|² = 1/4, phase 0.
        let f = c.factor_rcf[[0, 1, 0]];
        assert!((f.norm() - 0.25).abs() < 1e-6 && f.arg().abs() < 1e-5);
        // Weight factor: mean |b|² = (1 + 9)/2 = 5 per antenna → 25.
        assert!((c.wscale_rc[[0, 0]] - 25.0).abs() < 1e-4);
        assert!(c.flag_rcf.iter().all(|f| !f));
    }

    #[test]
    fn missing_antenna_and_gainfield_selection_flag_data() {
        let rows = vec![JonesRow {
            time_s: 0.0,
            field: 3,
            spw: 0,
            antenna: 0,
            params: vec![vec![g(1.0, 0.0)]],
            flags: vec![vec![false]],
        }];
        let term = JonesTerm::new(
            JonesKind::T,
            &rows,
            BTreeMap::new(),
            vec![],
            GainField::Ids([3].into_iter().collect()),
            lin(),
        );
        let ch = chunk(&[0.0], 1);
        let freqs = [1.0];
        let corrs = [CorrType::XX, CorrType::YY];
        let info = ChunkInfo {
            spw: 0,
            field: 0,
            chan_freq_hz: &freqs,
            corrs: &corrs,
            field_dir_rad: (0.0, 0.0),
        };
        let mut c = Corrections::identity(1, 1, 2);
        term.accumulate(&ch, &info, false, &mut c);
        assert!(c.flag_rcf.iter().all(|f| *f), "antenna 1 has no solutions");
    }
}
