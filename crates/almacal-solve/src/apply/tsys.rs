//! Applying a `B TSYS` table (algorithms.md §5.2): Tsys interpolated in time (on the K
//! values, per antenna, pooled over the selected fields) then in frequency onto the data
//! channels; data × sqrt(T_i,p T_j,q); weights ÷ (⟨T_i,p⟩⟨T_j,q⟩) with ⟨⟩ the mean of the
//! unflagged interpolated spectrum; flagged or negative Tsys flags the data.

use super::spline::Spline;
use super::{receptors, ChunkInfo, Corrections, Term};
use crate::interp::{time_bracket, TimeInterp};
use crate::prep::tsys::TsysSolution;
use almacal_core::chunk::VisChunk;
use num_complex::Complex32;
use std::collections::BTreeMap;

/// Frequency interpolation of a real spectrum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreqMethod {
    Nearest,
    Linear,
    Spline,
}

impl FreqMethod {
    /// The frequency part of an `interp` string (`linear,spline` → Spline).
    pub fn parse(interp: &str) -> Option<(TimeInterp, Self)> {
        let mut parts = interp.splitn(2, ',');
        let t = match parts
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "" | "linear" => TimeInterp::Linear,
            "nearest" => TimeInterp::Nearest,
            _ => return None,
        };
        let f = match parts
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
            .trim_end_matches("flag")
        {
            "" | "linear" => Self::Linear,
            "nearest" => Self::Nearest,
            "spline" | "cubic" => Self::Spline,
            _ => return None,
        };
        Some((t, f))
    }
}

/// The gainfield choice (shared with the Jones tables).
pub use super::GainField as FieldChoice;

#[derive(Debug, Clone)]
struct Sample {
    time_s: f64,
    field: i32,
    tsys_pc: Vec<Vec<f64>>,
    flag_pc: Vec<Vec<bool>>,
}

/// A Tsys table ready to apply.
#[derive(Debug, Clone)]
pub struct TsysTerm {
    slices: BTreeMap<(u32, u32), Vec<Sample>>,
    tsys_freq_hz: BTreeMap<u32, Vec<f64>>,
    spwmap: Vec<u32>,
    fields: FieldChoice,
    time: TimeInterp,
    freq: FreqMethod,
}

impl TsysTerm {
    /// `tsys_freq_hz`: channel frequencies of each Tsys spw; `spwmap[i]`: the Tsys spw for
    /// data spw i (identity beyond its length, CASA §7.4).
    pub fn new(
        solutions: &[TsysSolution],
        tsys_freq_hz: BTreeMap<u32, Vec<f64>>,
        spwmap: Vec<u32>,
        fields: FieldChoice,
        time: TimeInterp,
        freq: FreqMethod,
    ) -> Self {
        let mut slices: BTreeMap<(u32, u32), Vec<Sample>> = BTreeMap::new();
        for s in solutions {
            slices.entry((s.spw, s.antenna)).or_default().push(Sample {
                time_s: s.time_s,
                field: s.field,
                tsys_pc: s
                    .tsys_pc
                    .iter()
                    .map(|p| p.iter().map(|&v| f64::from(v)).collect())
                    .collect(),
                flag_pc: s.flag_pc.clone(),
            });
        }
        for v in slices.values_mut() {
            v.sort_by(|a, b| a.time_s.total_cmp(&b.time_s));
        }
        Self {
            slices,
            tsys_freq_hz,
            spwmap,
            fields,
            time,
            freq,
        }
    }

    fn cal_spw(&self, spw: u32) -> u32 {
        if self.spwmap.len() == 1 {
            return self.spwmap[0];
        }
        self.spwmap.get(spw as usize).copied().unwrap_or(spw)
    }

    /// Tsys spectra of one antenna at `t` on `freqs`: `[pol]` of (values, flags).
    fn spectrum(
        &self,
        spw: u32,
        field: u32,
        ant: u32,
        t: f64,
        freqs: &[f64],
    ) -> Option<Vec<(Vec<f64>, Vec<bool>)>> {
        let cspw = self.cal_spw(spw);
        let rows: Vec<&Sample> = self
            .slices
            .get(&(cspw, ant))?
            .iter()
            .filter(|s| self.fields.allows(field, s.field))
            .collect();
        if rows.is_empty() {
            return None;
        }
        let src = self.tsys_freq_hz.get(&cspw)?;
        // Time: bracketing rows (nearest beyond the ends), linear on the K values.
        let times: Vec<f64> = rows.iter().map(|s| s.time_s).collect();
        let (a, b, x) = time_bracket(&times, t, self.time)?;
        let npol = rows[a].tsys_pc.len();
        Some(
            (0..npol)
                .map(|p| {
                    let va = &rows[a].tsys_pc[p];
                    let vb = &rows[b].tsys_pc[p];
                    let vals: Vec<f64> = va
                        .iter()
                        .zip(vb)
                        .map(|(p0, p1)| p0 + (p1 - p0) * x)
                        .collect();
                    let flags: Vec<bool> = rows[a].flag_pc[p]
                        .iter()
                        .zip(&rows[b].flag_pc[p])
                        .map(|(f0, f1)| *f0 || *f1)
                        .collect();
                    freq_interp(src, &vals, &flags, freqs, self.freq)
                })
                .collect(),
        )
    }
}

/// Interpolate a real spectrum onto `dst` (flagged source channels dropped; ends held).
/// All-flagged input gives all-flagged output. Negative results are flagged and zeroed.
pub fn freq_interp(
    src: &[f64],
    vals: &[f64],
    flags: &[bool],
    dst: &[f64],
    method: FreqMethod,
) -> (Vec<f64>, Vec<bool>) {
    let same_grid = src.len() == dst.len()
        && src
            .iter()
            .zip(dst)
            .all(|(a, b)| (a - b).abs() <= 1e-10 * a.abs().max(b.abs()));
    if same_grid {
        let v: Vec<f64> = vals.iter().map(|&v| v.max(0.0)).collect();
        let f = flags
            .iter()
            .zip(vals)
            .map(|(&f, &v)| f || v < 0.0)
            .collect();
        return (v, f);
    }
    let mut good: Vec<(f64, f64)> = src
        .iter()
        .zip(vals)
        .zip(flags)
        .filter(|(_, &f)| !f)
        .map(|((&x, &y), _)| (x, y))
        .collect();
    if good.is_empty() {
        return (vec![0.0; dst.len()], vec![true; dst.len()]);
    }
    good.sort_by(|a, b| a.0.total_cmp(&b.0));
    let xs: Vec<f64> = good.iter().map(|g| g.0).collect();
    let ys: Vec<f64> = good.iter().map(|g| g.1).collect();
    let method = match method {
        FreqMethod::Spline if xs.len() < 4 => FreqMethod::Linear,
        m => m,
    };
    let spline = (method == FreqMethod::Spline)
        .then(|| Spline::new(&xs, &ys))
        .flatten();
    let mut out = Vec::with_capacity(dst.len());
    let mut oflag = Vec::with_capacity(dst.len());
    for &f in dst {
        let v = if xs.len() == 1 || f <= xs[0] {
            ys[0]
        } else if f >= xs[xs.len() - 1] {
            ys[ys.len() - 1]
        } else {
            let k = xs.partition_point(|&x| x <= f) - 1;
            let x = (f - xs[k]) / (xs[k + 1] - xs[k]);
            match method {
                FreqMethod::Nearest => ys[if x <= 0.5 { k } else { k + 1 }],
                FreqMethod::Linear => ys[k] + (ys[k + 1] - ys[k]) * x,
                FreqMethod::Spline => spline
                    .as_ref()
                    .map_or(ys[k] + (ys[k + 1] - ys[k]) * x, |s| s.eval(f)),
            }
        };
        oflag.push(v < 0.0);
        out.push(v.max(0.0));
    }
    (out, oflag)
}

impl Term for TsysTerm {
    fn order(&self) -> u32 {
        10
    }

    fn covers(&self, spw: u32) -> bool {
        let c = self.cal_spw(spw);
        self.slices.keys().any(|(s, _)| *s == c)
    }

    fn accumulate(&self, chunk: &VisChunk, info: &ChunkInfo, calwt: bool, c: &mut Corrections) {
        let freqs = info.chan_freq_hz;
        // Per (time, antenna): interpolated spectra and their unflagged means.
        type Spec = Option<(Vec<(Vec<f64>, Vec<bool>)>, Vec<f64>)>;
        let mut cache: BTreeMap<(u64, u32), Spec> = BTreeMap::new();
        let mut get = |t: f64, a: u32| -> Spec {
            cache
                .entry((t.to_bits(), a))
                .or_insert_with(|| {
                    self.spectrum(info.spw, info.field, a, t, freqs).map(|s| {
                        let means = s
                            .iter()
                            .map(|(v, f)| {
                                let (sum, n) = v
                                    .iter()
                                    .zip(f)
                                    .filter(|(_, &fl)| !fl)
                                    .fold((0.0, 0usize), |(s, n), (x, _)| (s + x, n + 1));
                                if n == 0 {
                                    0.0
                                } else {
                                    sum / n as f64
                                }
                            })
                            .collect();
                        (s, means)
                    })
                })
                .clone()
        };
        for k in 0..chunk.nrows() {
            let t = chunk.time_s[k];
            let (si, sj) = (get(t, chunk.ant1[k].0), get(t, chunk.ant2[k].0));
            let (Some((ti, mi)), Some((tj, mj))) = (si, sj) else {
                // No Tsys for an antenna of this baseline: flag it (§7.1).
                c.flag_rcf.index_axis_mut(ndarray::Axis(0), k).fill(true);
                continue;
            };
            for (pi, &corr) in info.corrs.iter().enumerate() {
                let (p, q) = receptors(corr);
                let (Some((vi, fi)), Some((vj, fj))) = (ti.get(p), tj.get(q)) else {
                    continue;
                };
                for ci in 0..freqs.len() {
                    let f = (vi[ci] * vj[ci]).sqrt() as f32;
                    c.factor_rcf[[k, ci, pi]] *= Complex32::new(f, 0.0);
                    if fi[ci] || fj[ci] {
                        c.flag_rcf[[k, ci, pi]] = true;
                    }
                }
                if calwt {
                    let d = mi[p] * mj[q];
                    c.wscale_rc[[k, pi]] *= if d > 0.0 { (1.0 / d) as f32 } else { 0.0 };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_interp() {
        assert_eq!(
            FreqMethod::parse("linear,spline"),
            Some((TimeInterp::Linear, FreqMethod::Spline))
        );
        assert_eq!(
            FreqMethod::parse("nearest"),
            Some((TimeInterp::Nearest, FreqMethod::Linear))
        );
        assert_eq!(
            FreqMethod::parse("linear,linearflag"),
            Some((TimeInterp::Linear, FreqMethod::Linear))
        );
        assert!(FreqMethod::parse("bogus").is_none());
    }

    #[test]
    fn freq_interp_drops_flags_and_holds_ends() {
        let src = [1.0, 2.0, 3.0, 4.0];
        let vals = [10.0, 99.0, 30.0, 40.0];
        let flags = [false, true, false, false];
        let (v, f) = freq_interp(
            &src,
            &vals,
            &flags,
            &[0.5, 2.0, 3.5, 5.0],
            FreqMethod::Linear,
        );
        assert_eq!(v, vec![10.0, 20.0, 35.0, 40.0]);
        assert!(f.iter().all(|&x| !x));
        let (_, f) = freq_interp(&src, &vals, &[true; 4], &[2.0], FreqMethod::Linear);
        assert_eq!(f, vec![true]);
        // Descending source grids (LSB) work the same.
        let (v, _) = freq_interp(
            &[4.0, 3.0, 2.0, 1.0],
            &[40.0, 30.0, 20.0, 10.0],
            &[false; 4],
            &[2.5],
            FreqMethod::Linear,
        );
        assert_eq!(v, vec![25.0]);
    }
}
