//! The antenna-based fast path of applycal. Every term we apply (G/T/B Jones, Tsys, antenna
//! positions) corrects baseline (i, j), correlation (p, q) by a product `A_i[p] · conj(A_j[q])`
//! of per-antenna factors. Instead of building a correction per visibility
//! ([`super::Term::accumulate`], the reference path), [`apply_fused`] lays each term's
//! factors out once per (time, antenna) as float32 and then touches each visibility once:
//! per term, `V · A_i` then `· conj(A_j)` (two float32 complex multiplies, antenna 1 first,
//! the terms in application order), one flag OR, one weight per (row, correlation). That
//! is CASA's own sequence of roundings (`VisJones` applyRight/applyLeft per term), which
//! makes the data bit-identical to CASA's wherever the factors are (measured on the
//! reference chain: `fixtures/scenarios/research/data_bits.md`). Same results as the
//! per-term path to float32 rounding (tested below).

use super::{receptors, ApplyMode, ChunkInfo};
use almacal_core::chunk::VisChunk;
use num_complex::{Complex32, Complex64};
use std::collections::BTreeMap;

/// One term's factor for one antenna at one time, on the chunk's channels.
#[derive(Debug, Clone, PartialEq)]
pub struct AntFactor {
    /// Per receptor, one factor per data channel.
    pub gain: Vec<Vec<Complex64>>,
    /// Per receptor (indexed like `gain`): solution flags per channel; `None` when no channel
    /// is flagged.
    pub flags: Vec<Option<Vec<bool>>>,
    /// Per receptor (indexed like `gain`): the calwt weight factor.
    pub wfac: Vec<f64>,
    /// The first entry serves every receptor (T Jones, antenna positions). Otherwise a
    /// receptor beyond `gain` is left alone, as the per-term path does.
    pub shared: bool,
}

impl AntFactor {
    /// A factor that is the same for every receptor, never flagged, weight factor 1.
    pub fn shared(gain: Vec<Complex64>) -> Self {
        Self {
            gain: vec![gain],
            flags: vec![None],
            wfac: vec![1.0],
            shared: true,
        }
    }

    /// Which entry receptor `p` uses: the shared one, `p`, or none (the term has no such
    /// receptor and leaves it alone).
    fn entry(&self, p: usize) -> Option<usize> {
        if self.shared {
            (!self.gain.is_empty()).then_some(0)
        } else {
            (p < self.gain.len()).then_some(p)
        }
    }
}

/// A term's factors for every (time bits, antenna) of a chunk; `None`: the term has no
/// solution for that antenna (its baselines are flagged, §7.1).
pub type AntFactors = BTreeMap<(u64, u32), Option<AntFactor>>;

/// The (time bits, antenna) pairs of a chunk's rows, each once, in row order of first use.
pub fn antenna_keys(chunk: &VisChunk) -> Vec<(u64, u32)> {
    let mut seen = std::collections::BTreeSet::new();
    let mut keys = Vec::new();
    for k in 0..chunk.nrows() {
        let t = chunk.time_s[k].to_bits();
        for a in [chunk.ant1[k].0, chunk.ant2[k].0] {
            if seen.insert((t, a)) {
                keys.push((t, a));
            }
        }
    }
    keys
}

/// The terms' factors for one (time, antenna), each laid out like a data row
/// (channel-major, correlation fastest) for both roles of the antenna in a baseline, so
/// the row loop is a plain zip: per term t, `data[k] = (data[k] · as1[t][k]) ·
/// as2_conj[t][k]`.
struct Combined {
    /// Per term: the factor of the correlation's first receptor (antenna as ANTENNA1).
    as1: Vec<Vec<Complex32>>,
    /// Per term: the conjugated factor of the correlation's second receptor (antenna as
    /// ANTENNA2).
    as2_conj: Vec<Vec<Complex32>>,
    /// Solution flags in the same layouts (`None`: nothing flagged).
    flags1: Option<Vec<bool>>,
    flags2: Option<Vec<bool>>,
    /// Float32 weight factors of each calwt term (application order), per correlation, for
    /// each role. CASA multiplies them into the weight one term at a time, each as the
    /// product of the two antennas' factors (`VisJones::updateWt`).
    w1: Vec<Vec<f32>>,
    w2: Vec<Vec<f32>>,
    /// Some term has no solution for this antenna.
    missing: bool,
}

fn combine(
    terms: &[(AntFactors, bool)],
    key: (u64, u32),
    pairs: &[(usize, usize)],
    nchan: usize,
) -> Combined {
    let nrec = pairs.iter().map(|&(p, q)| p.max(q) + 1).max().unwrap_or(1);
    let ncorr = pairs.len();
    let mut as1 = Vec::with_capacity(terms.len());
    let mut as2_conj = Vec::with_capacity(terms.len());
    let mut flags: Vec<Option<Vec<bool>>> = vec![None; nrec];
    let mut wscale: Vec<Vec<f32>> = Vec::new();
    let mut missing = false;
    for (factors, calwt) in terms {
        let Some(Some(f)) = factors.get(&key) else {
            missing = true;
            // Keep the terms aligned between the two antennas of a baseline (the row is
            // flagged anyway).
            if *calwt {
                wscale.push(vec![1.0; nrec]);
            }
            as1.push(vec![Complex32::new(1.0, 0.0); nchan * ncorr]);
            as2_conj.push(vec![Complex32::new(1.0, 0.0); nchan * ncorr]);
            continue;
        };
        if *calwt {
            wscale.push(
                (0..nrec)
                    .map(|p| f.entry(p).map_or(1.0, |e| f.wfac[e] as f32))
                    .collect(),
            );
        }
        // This term's float32 factor per receptor and channel (1 where it has none).
        let factor = |p: usize, c: usize| -> Complex32 {
            f.entry(p)
                .and_then(|e| f.gain[e].get(c))
                .map_or(Complex32::new(1.0, 0.0), |z| {
                    Complex32::new(z.re as f32, z.im as f32)
                })
        };
        let mut a1 = vec![Complex32::new(1.0, 0.0); nchan * ncorr];
        let mut a2 = vec![Complex32::new(1.0, 0.0); nchan * ncorr];
        for (pi, &(p, q)) in pairs.iter().enumerate() {
            for c in 0..nchan {
                a1[c * ncorr + pi] = factor(p, c);
                a2[c * ncorr + pi] = factor(q, c).conj();
            }
        }
        as1.push(a1);
        as2_conj.push(a2);
        for (p, slot) in flags.iter_mut().enumerate() {
            let Some(e) = f.entry(p) else { continue };
            if let Some(fl) = &f.flags[e] {
                let acc = slot.get_or_insert_with(|| vec![false; nchan]);
                for (a, b) in acc.iter_mut().zip(fl) {
                    *a |= *b;
                }
            }
        }
    }
    let flag_layout = |role: fn(&(usize, usize)) -> usize| -> Option<Vec<bool>> {
        if pairs.iter().all(|pq| flags[role(pq)].is_none()) {
            return None;
        }
        let mut v = vec![false; nchan * ncorr];
        for (pi, pq) in pairs.iter().enumerate() {
            if let Some(fl) = &flags[role(pq)] {
                for (c, &b) in fl.iter().enumerate().take(nchan) {
                    v[c * ncorr + pi] = b;
                }
            }
        }
        Some(v)
    };
    let first = |pq: &(usize, usize)| pq.0;
    let second = |pq: &(usize, usize)| pq.1;
    Combined {
        as1,
        as2_conj,
        flags1: flag_layout(first),
        flags2: flag_layout(second),
        w1: wscale
            .iter()
            .map(|w| pairs.iter().map(|&(p, _)| w[p]).collect())
            .collect(),
        w2: wscale
            .iter()
            .map(|w| pairs.iter().map(|&(_, q)| w[q]).collect())
            .collect(),
        missing,
    }
}

/// Apply the terms' antenna factors (in application order, each with its calwt) to `chunk`,
/// as [`super::apply_chunk`] does for a calibratable chunk.
pub fn apply_fused(
    terms: &[(AntFactors, bool)],
    chunk: &mut VisChunk,
    info: &ChunkInfo<'_>,
    mode: ApplyMode,
) {
    let (n, nchan, ncorr) = chunk.flag_rcf.dim();
    let pairs: Vec<(usize, usize)> = info.corrs.iter().map(|&c| receptors(c)).collect();
    if pairs.len() != ncorr {
        return;
    }
    let keys = antenna_keys(chunk);
    let slot: BTreeMap<(u64, u32), usize> = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let combined: Vec<Combined> = keys
        .iter()
        .map(|&k| combine(terms, k, &pairs, nchan))
        .collect();
    let any_calwt = terms.iter().any(|(_, w)| *w);
    let (write_data, write_flags) = mode.writes();
    let has_data = chunk.data_rcf.dim() == (n, nchan, ncorr);
    for k in 0..n {
        let t = chunk.time_s[k].to_bits();
        let (Some(&si), Some(&sj)) = (
            slot.get(&(t, chunk.ant1[k].0)),
            slot.get(&(t, chunk.ant2[k].0)),
        ) else {
            continue;
        };
        let (ci, cj) = (&combined[si], &combined[sj]);
        if write_data && has_data {
            let mut row = chunk.data_rcf.index_axis_mut(ndarray::Axis(0), k);
            for (a1, a2) in ci.as1.iter().zip(&cj.as2_conj) {
                if let Some(d) = row.as_slice_mut() {
                    for ((x, a), b) in d.iter_mut().zip(a1).zip(a2) {
                        *x = (*x * a) * b;
                    }
                } else {
                    for (idx, x) in row.iter_mut().enumerate() {
                        *x = (*x * a1[idx]) * a2[idx];
                    }
                }
            }
        }
        if write_data && any_calwt {
            for pi in 0..ncorr {
                // CASA resets the weight to 1/SIGMA² first (float32), then scales it.
                let s = chunk.sigma_rc[[k, pi]];
                let mut w = if s > 0.0 { 1.0 / (s * s) } else { 0.0 };
                for (a, b) in ci.w1.iter().zip(&cj.w2) {
                    w *= a[pi] * b[pi];
                }
                chunk.weight_rc[[k, pi]] = w;
            }
        }
        if write_flags {
            let mut frow = chunk.flag_rcf.index_axis_mut(ndarray::Axis(0), k);
            if ci.missing || cj.missing {
                frow.fill(true);
                continue;
            }
            for fl in [&ci.flags1, &cj.flags2].into_iter().flatten() {
                for (x, &b) in frow.iter_mut().zip(fl) {
                    *x |= b;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::antpos::AntposTerm;
    use super::super::jones::{JonesRow, JonesTerm};
    use super::super::tsys::{FreqMethod, TsysTerm};
    use super::super::{apply_per_term, GainField, Term};
    use super::*;
    use crate::gain::JonesKind;
    use crate::interp::{FreqInterp, Interp, TimeInterp};
    use crate::prep::tsys::TsysSolution;
    use almacal_core::ids::{AntennaId, DataDescId, FieldId, SpwId};
    use almacal_core::CorrType;
    use ndarray::{Array1, Array2, Array3};

    const NANT: u32 = 4;
    const NCHAN: usize = 16;

    fn freqs() -> Vec<f64> {
        (0..NCHAN).map(|c| 100e9 + 1e6 * c as f64).collect()
    }

    /// Every baseline at three times (one between the solutions, one beyond), varied data.
    fn chunk() -> VisChunk {
        let mut ant1 = Vec::new();
        let mut ant2 = Vec::new();
        let mut times = Vec::new();
        for &t in &[5_000_000_000.0, 5_000_000_030.0, 5_000_000_090.0] {
            for i in 0..NANT {
                for j in i + 1..NANT {
                    ant1.push(AntennaId(i));
                    ant2.push(AntennaId(j));
                    times.push(t);
                }
            }
        }
        let n = times.len();
        VisChunk {
            dd: DataDescId(0),
            spw: SpwId(0),
            field: FieldId(0),
            scan: 1,
            rows: (0..n as u64).collect(),
            chans: (0..NCHAN).collect(),
            corrs: vec![0, 1],
            time_s: Array1::from(times),
            interval_s: Array1::from_elem(n, 1.0),
            ant1,
            ant2,
            uvw_m: Array2::zeros((n, 3)),
            data_rcf: Array3::from_shape_fn((n, NCHAN, 2), |(k, c, p)| {
                Complex32::from_polar(1.0 + 0.1 * p as f32, 0.01 * (k * 7 + c * 3) as f32)
            }),
            flag_rcf: Array3::from_shape_fn((n, NCHAN, 2), |(k, c, _)| k == 2 && c == 5),
            weight_rc: Array2::from_elem((n, 2), 1.0),
            sigma_rc: Array2::from_shape_fn((n, 2), |(k, p)| 0.5 + 0.01 * (k + p) as f32),
            weight_spectrum_rcf: None,
            flag_row: vec![false; n],
        }
    }

    fn lin(flag: bool) -> Interp {
        Interp {
            time: TimeInterp::Linear,
            freq: FreqInterp { linear: true, flag },
            phase_delay: false,
        }
    }

    fn jones(kind: JonesKind, nchan_sol: usize, missing_ant: Option<u32>) -> JonesTerm {
        let mut rows = Vec::new();
        for (ti, t) in [5_000_000_000.0, 5_000_000_060.0].into_iter().enumerate() {
            for a in (0..NANT).filter(|a| Some(*a) != missing_ant) {
                let npar = if kind == JonesKind::T { 1 } else { 2 };
                let z = |p: usize, c: usize| {
                    let x = (ti + 1) as f64 * (a as f64 + 1.0) + p as f64 + 0.1 * c as f64;
                    Complex64::from_polar(0.5 + 0.1 * x, 0.3 * x)
                };
                rows.push(JonesRow {
                    time_s: t,
                    field: 0,
                    spw: 0,
                    antenna: a,
                    params: (0..npar)
                        .map(|p| (0..nchan_sol).map(|c| z(p, c)).collect())
                        .collect(),
                    flags: (0..npar)
                        .map(|p| (0..nchan_sol).map(|c| a == 2 && p == 1 && c == 1).collect())
                        .collect(),
                });
            }
        }
        let mut fq = BTreeMap::new();
        let f = freqs();
        fq.insert(
            0u32,
            (0..nchan_sol)
                .map(|c| f[c * (NCHAN - 1) / (nchan_sol.max(2) - 1)])
                .collect(),
        );
        JonesTerm::new(
            kind,
            &rows,
            fq,
            vec![],
            GainField::All,
            lin(kind == JonesKind::B),
        )
    }

    fn tsys() -> TsysTerm {
        let f = freqs();
        let sols: Vec<TsysSolution> = (0..NANT)
            .flat_map(|a| {
                [4_999_999_990.0, 5_000_000_070.0]
                    .into_iter()
                    .map(move |t| TsysSolution {
                        time_s: t,
                        spw: 0,
                        antenna: a,
                        field: 0,
                        scan: 1,
                        tsys_pc: (0..2)
                            .map(|p| (0..4).map(|c| 80.0 + (a * 10 + p * 3 + c) as f32).collect())
                            .collect(),
                        flag_pc: (0..2)
                            .map(|p| (0..4).map(|c| a == 1 && p == 0 && c == 3).collect())
                            .collect(),
                    })
            })
            .collect();
        let mut fq = BTreeMap::new();
        fq.insert(0u32, vec![f[0], f[5], f[10], f[15]]);
        TsysTerm::new(
            &sols,
            fq,
            vec![],
            GainField::All,
            TimeInterp::Linear,
            FreqMethod::Linear,
        )
    }

    fn antpos() -> AntposTerm {
        AntposTerm {
            offsets_m: (0..NANT)
                .map(|a| [0.001 * a as f64, -0.002, 0.0005 * a as f64])
                .collect(),
            site_itrf_m: [2225142.18, -5440307.37, -2481029.85],
        }
    }

    const CORRS: [CorrType; 2] = [CorrType::XX, CorrType::YY];

    fn info(f: &[f64]) -> ChunkInfo<'_> {
        ChunkInfo {
            spw: 0,
            field: 0,
            chan_freq_hz: f,
            corrs: &CORRS,
            field_dir_rad: (4.5, -0.4),
        }
    }

    /// The fused path gives the per-term path's flags, and its data and weights wherever the
    /// data stay unflagged (a baseline whose antenna lacks a solution is flagged; there the
    /// fused path still applies the other antenna's factor, as CASA applies 1 for the
    /// missing one).
    fn check(terms: &[(&dyn Term, bool)], mode: ApplyMode) {
        let f = freqs();
        let info = info(&f);
        let mut a = chunk();
        let mut b = chunk();
        let order: Vec<&(&dyn Term, bool)> = terms.iter().collect();
        apply_per_term(&order, &mut a, &info, mode);
        assert_eq!(
            super::super::apply_chunk(terms, &mut b, &info, mode),
            super::super::Outcome::Calibrated
        );
        assert_eq!(a.flag_rcf, b.flag_rcf);
        for ((x, y), &fl) in a
            .data_rcf
            .iter()
            .zip(b.data_rcf.iter())
            .zip(a.flag_rcf.iter())
        {
            assert!(
                fl || (x - y).norm() <= 2e-6 * x.norm().max(1e-3),
                "{x} vs {y}"
            );
        }
        for (k, (x, y)) in a.weight_rc.iter().zip(b.weight_rc.iter()).enumerate() {
            let row_flagged = a
                .flag_rcf
                .index_axis(ndarray::Axis(0), k / 2)
                .iter()
                .all(|&f| f);
            assert!(
                row_flagged || (x - y).abs() <= 2e-6 * x.abs().max(1e-6),
                "{x} vs {y}"
            );
        }
        assert!(a.flag_rcf.iter().any(|&f| f) && a.flag_rcf.iter().any(|&f| !f));
    }

    #[test]
    fn fused_equals_per_term_prep_terms() {
        let (t, p) = (tsys(), antpos());
        check(&[(&p, false), (&t, true)], ApplyMode::CalFlag);
    }

    #[test]
    fn fused_equals_per_term_solve_terms() {
        let (b, g, tt) = (
            jones(JonesKind::B, 4, None),
            jones(JonesKind::G, 1, None),
            jones(JonesKind::T, 1, None),
        );
        check(&[(&g, true), (&b, true), (&tt, false)], ApplyMode::CalFlag);
        check(&[(&g, true), (&b, false)], ApplyMode::CalOnly);
        check(&[(&g, true), (&b, false), (&tt, true)], ApplyMode::FlagOnly);
    }

    #[test]
    fn fused_flags_baselines_of_an_antenna_without_solutions() {
        let (g, t) = (jones(JonesKind::G, 1, Some(3)), tsys());
        check(&[(&g, true), (&t, true)], ApplyMode::CalFlag);
        let f = freqs();
        let info = info(&f);
        let mut c = chunk();
        super::super::apply_chunk(&[(&g, true)], &mut c, &info, ApplyMode::CalFlag);
        for k in 0..c.nrows() {
            let has3 = c.ant1[k].0 == 3 || c.ant2[k].0 == 3;
            if has3 {
                assert!(c
                    .flag_rcf
                    .index_axis(ndarray::Axis(0), k)
                    .iter()
                    .all(|&f| f));
            }
        }
    }
}
