//! Applying a `B TSYS` table (algorithms.md §5.2): Tsys interpolated in time (on the K
//! values, per antenna, pooled over the selected fields) then in frequency onto the data
//! channels; data × sqrt(T_i,p T_j,q); weights × (1/⟨T_i,p⟩ · 1/⟨T_j,q⟩) with ⟨⟩ the mean of
//! the unflagged interpolated spectrum; flagged or negative Tsys flags the data.
//!
//! The spectra are float32 computed the way CASA 6.7 computes them (measured bit for bit on
//! the reference chain, `fixtures/scenarios/research/tsys_weight_bits.md`): the time
//! fraction of [`time_bracket`] (float32 registration) and a float32 `y₁ + x·(y₂ − y₁)`;
//! casacore's `InterpolateArray1D<Double, Float>` in frequency, on frequencies in GHz; the
//! mean a float32 sum in channel order over the unflagged channels divided by their count;
//! the weight factor `(float)(1.0 / mean)`.

use super::antenna::{antenna_keys, AntFactor, AntFactors};
use super::spline::Spline;
use super::{receptors, ChunkInfo, Corrections, Term};
use crate::interp::{time_bracket, TimeInterp};
use crate::prep::tsys::TsysSolution;
use almacal_core::chunk::VisChunk;
use num_complex::{Complex32, Complex64};
use std::collections::BTreeMap;

/// Frequency interpolation of a real spectrum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FreqMethod {
    Nearest,
    Linear,
    /// `nearestflag`: the values of `Nearest`; a data channel is flagged when the Tsys
    /// channel nearest to it (among all, flagged or not) is flagged.
    NearestFlag,
    /// `linearflag`: the values of `Linear`; a data channel is flagged when either Tsys
    /// channel bracketing it (among all) is flagged.
    LinearFlag,
    /// casacore's cubic spline (see [`Spline`]).
    Spline,
    /// casacore's `cubic`: the cubic polynomial through 4 neighbouring samples.
    Cubic,
}

impl FreqMethod {
    /// The frequency part of an `interp` string (`linear,spline` → Spline). A `flag`
    /// suffix on the time part changes nothing (measured with CASA 6.7 on Tsys tables,
    /// like the Jones tables); `linearflag` / `nearestflag` in frequency are their own
    /// modes; `splineflag` / `cubicflag` (not measured) are read as the plain modes.
    pub fn parse(interp: &str) -> Option<(TimeInterp, Self)> {
        let mut parts = interp.splitn(2, ',');
        let t = match parts
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "" | "linear" | "linearflag" => TimeInterp::Linear,
            "nearest" | "nearestflag" => TimeInterp::Nearest,
            _ => return None,
        };
        let f = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let f = match f.as_str() {
            "linearflag" => Self::LinearFlag,
            "nearestflag" => Self::NearestFlag,
            f => match f.trim_end_matches("flag") {
                "" | "linear" => Self::Linear,
                "nearest" => Self::Nearest,
                "spline" => Self::Spline,
                "cubic" => Self::Cubic,
                _ => return None,
            },
        };
        Some((t, f))
    }

    /// The method that computes the values, and whether the Tsys flags propagate.
    fn split_flag(self) -> (Self, bool) {
        match self {
            Self::LinearFlag => (Self::Linear, true),
            Self::NearestFlag => (Self::Nearest, true),
            m => (m, false),
        }
    }
}

/// The gainfield choice (shared with the Jones tables).
pub use super::GainField as FieldChoice;

#[derive(Debug, Clone)]
struct Sample {
    time_s: f64,
    field: i32,
    tsys_pc: Vec<Vec<f32>>,
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
                tsys_pc: s.tsys_pc.clone(),
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
    ) -> Option<Vec<(Vec<f32>, Vec<bool>)>> {
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
        let times: Vec<f64> = rows.iter().map(|s| s.time_s).collect();
        let npol = rows[0].tsys_pc.len();
        (0..npol)
            .map(|p| {
                let vals: Vec<&[f32]> = rows.iter().map(|s| s.tsys_pc[p].as_slice()).collect();
                let flags: Vec<&[bool]> = rows.iter().map(|s| s.flag_pc[p].as_slice()).collect();
                interp_spectrum(&times, &vals, &flags, t, self.time, src, freqs, self.freq)
            })
            .collect()
    }
}

/// One antenna's Tsys spectrum (one polarisation) at time `t` on the data channels
/// `dst`: rows (`times` ascending, `vals[r]` / `flags[r]` on the Tsys channels `src`)
/// interpolated in time — the bracketing rows (nearest beyond the ends, or the nearest
/// row), linear on the values, a channel flagged if it is flagged in either row, whatever
/// `flag` suffix the time part has — then in frequency by [`freq_resample_casa`].
/// The time blend is CASA's float32 `y₁ + x·(y₂ − y₁)` with the float32 fraction of
/// [`time_bracket`]. `None` without rows.
#[allow(clippy::too_many_arguments)]
pub fn interp_spectrum(
    times: &[f64],
    vals: &[&[f32]],
    flags: &[&[bool]],
    t: f64,
    time: TimeInterp,
    src: &[f64],
    dst: &[f64],
    freq: FreqMethod,
) -> Option<(Vec<f32>, Vec<bool>)> {
    let (a, b, x) = time_bracket(times, t, time)?;
    // `time_bracket`'s fraction is a float32 widened to f64: narrowing it is exact.
    let x = x as f32;
    let v: Vec<f32> = if a == b {
        vals[a].to_vec()
    } else {
        vals[a]
            .iter()
            .zip(vals[b])
            .map(|(&p0, &p1)| p0 + x * (p1 - p0))
            .collect()
    };
    let f: Vec<bool> = flags[a]
        .iter()
        .zip(flags[b])
        .map(|(f0, f1)| *f0 || *f1)
        .collect();
    Some(freq_resample_casa(src, &v, &f, dst, freq))
}

/// Interpolate a real spectrum onto `dst` (flagged source channels dropped; ends held).
/// All-flagged input gives all-flagged output. Negative results are flagged and zeroed.
/// When `dst` is the source grid itself the values are copied with their flags. The `flag`
/// modes are computed as the plain ones here (no flag propagation).
pub fn freq_interp(
    src: &[f64],
    vals: &[f32],
    flags: &[bool],
    dst: &[f64],
    method: FreqMethod,
) -> (Vec<f32>, Vec<bool>) {
    if all_near(src, dst) {
        let v: Vec<f32> = vals.iter().map(|&v| v.max(0.0)).collect();
        let f = flags
            .iter()
            .zip(vals)
            .map(|(&f, &v)| f || v < 0.0)
            .collect();
        return (v, f);
    }
    resample(src, vals, flags, dst, method)
}

/// CASA's `CTPatchedInterp::resampleInFreq`, as the Tsys application uses it: like
/// [`freq_interp`], except that the values are copied only when the *unflagged* source
/// channels coincide with `dst`; otherwise flagged source channels are bridged and the
/// output is not flagged by them (measured with CASA 6.7 on a Tsys table applied to its
/// own spw with flagged channels). With `LinearFlag` / `NearestFlag` the values are the
/// same as with `Linear` / `Nearest`, and the output is also flagged by the source flags
/// (see [`flag_suffix_flags`]), on any grid, the source grid itself included.
pub fn freq_resample_casa(
    src: &[f64],
    vals: &[f32],
    flags: &[bool],
    dst: &[f64],
    method: FreqMethod,
) -> (Vec<f32>, Vec<bool>) {
    if let Some(extra) = flag_suffix_flags(src, flags, dst, method) {
        let (base, _) = method.split_flag();
        let (v, f) = freq_resample_casa(src, vals, flags, dst, base);
        let f = f.iter().zip(&extra).map(|(a, b)| *a || *b).collect();
        return (v, f);
    }
    let good_x: Vec<f64> = src
        .iter()
        .zip(flags)
        .filter(|(_, &f)| !f)
        .map(|(&x, _)| x)
        .collect();
    if !good_x.is_empty() && all_near(&good_x, dst) {
        let v = vals.iter().zip(flags).filter(|(_, &f)| !f).map(|(&v, _)| v);
        return (
            v.clone().map(|v| v.max(0.0)).collect(),
            v.map(|v| v < 0.0).collect(),
        );
    }
    resample(src, vals, flags, dst, method)
}

/// The flags a `flag`-suffixed frequency mode adds (measured with CASA 6.7, the same rule
/// as for Jones tables): on the ascending grid of *all* source channels, a destination
/// channel at f is flagged if — `linearflag` — either channel bracketing f is flagged (the
/// end channel alone beyond the ends; the channel itself on an exact match), or —
/// `nearestflag` — the nearest channel is (a tie, f midway, goes to the lower
/// frequency). `None` for the modes without the suffix.
pub fn flag_suffix_flags(
    src: &[f64],
    flags: &[bool],
    dst: &[f64],
    method: FreqMethod,
) -> Option<Vec<bool>> {
    let (base, flagged) = method.split_flag();
    if !flagged || src.is_empty() {
        return None;
    }
    let mut order: Vec<usize> = (0..src.len()).collect();
    order.sort_by(|&a, &b| src[a].total_cmp(&src[b]));
    let g: Vec<f64> = order.iter().map(|&i| src[i]).collect();
    let n = g.len();
    Some(
        dst.iter()
            .map(|&f| {
                let (lo, hi, x) = if f <= g[0] {
                    (0, 0, 0.0)
                } else if f >= g[n - 1] {
                    (n - 1, n - 1, 0.0)
                } else {
                    let k = g.partition_point(|&x| x <= f) - 1;
                    if g[k] == f {
                        (k, k, 0.0)
                    } else {
                        (k, k + 1, (f - g[k]) / (g[k + 1] - g[k]))
                    }
                };
                if base == FreqMethod::Linear {
                    flags[order[lo]] || flags[order[hi]]
                } else {
                    flags[order[if x <= 0.5 { lo } else { hi }]]
                }
            })
            .collect(),
    )
}

/// casacore `allNear(a, b, 1e-10)` on equal lengths.
fn all_near(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-10 * x.abs().max(y.abs()))
}

/// Interpolation through the unflagged samples; ends held (the nearest end in frequency).
/// As in casacore's `InterpolateArray1D<Double, Float>` (CASA passes frequencies in GHz):
/// the abscissae in double, the values float32, `linear` as `y₁ + x·(y₂ − y₁)` with the
/// float32 difference widened, each result rounded to float32.
///
/// As CASA (`CTPatchedInterp::interpolate`, CAS-11744), the method falls back on the
/// *total* number of source channels: spline/cubic → linear below 4, anything → nearest
/// below 2. The spline is casacore's, built on the unflagged samples in channel order (its
/// quirk at the second knot depends on that order, see [`Spline`]); with 2 or 3 unflagged
/// samples it is the line / natural spline, as in casacore.
fn resample(
    src: &[f64],
    vals: &[f32],
    flags: &[bool],
    dst: &[f64],
    method: FreqMethod,
) -> (Vec<f32>, Vec<bool>) {
    // Unflagged samples in channel order, frequencies in GHz.
    let good: Vec<(f64, f32)> = src
        .iter()
        .zip(vals)
        .zip(flags)
        .filter(|(_, &f)| !f)
        .map(|((&x, &y), _)| (x / 1e9, y))
        .collect();
    if good.is_empty() {
        return (vec![0.0; dst.len()], vec![true; dst.len()]);
    }
    let method = match method.split_flag().0 {
        _ if src.len() < 2 => FreqMethod::Nearest,
        FreqMethod::Spline | FreqMethod::Cubic if src.len() < 4 => FreqMethod::Linear,
        m => m,
    };
    let spline = if method == FreqMethod::Spline {
        let (cx, cy): (Vec<f64>, Vec<f32>) = good.iter().copied().unzip();
        Spline::casacore(&cx, &cy)
    } else {
        None
    };
    let mut sorted = good;
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let xs: Vec<f64> = sorted.iter().map(|g| g.0).collect();
    let ys: Vec<f32> = sorted.iter().map(|g| g.1).collect();
    let mut out = Vec::with_capacity(dst.len());
    let mut oflag = Vec::with_capacity(dst.len());
    for &f in dst {
        let f = f / 1e9;
        let v = if xs.len() == 1 || f <= xs[0] {
            ys[0]
        } else if f >= xs[xs.len() - 1] {
            ys[ys.len() - 1]
        } else {
            let k = xs.partition_point(|&x| x <= f) - 1;
            let x = (f - xs[k]) / (xs[k + 1] - xs[k]);
            let linear = (f64::from(ys[k]) + x * f64::from(ys[k + 1] - ys[k])) as f32;
            match method {
                FreqMethod::Nearest => ys[if x <= 0.5 { k } else { k + 1 }],
                FreqMethod::Linear => linear,
                FreqMethod::Spline => spline.as_ref().map_or(linear, |s| s.eval(f)),
                FreqMethod::Cubic => cubic(&xs, &ys, f) as f32,
                FreqMethod::LinearFlag | FreqMethod::NearestFlag => unreachable!(),
            }
        };
        oflag.push(v < 0.0);
        out.push(v.max(0.0));
    }
    (out, oflag)
}

/// casacore `InterpolateArray1D` method `cubic` (`polynomialInterpolation`, order 3): the
/// polynomial through 4 samples of the ascending grid `xs` around `f`: with w the first
/// sample ≥ f, samples w−2 … w+1, or the first / last four at the edges (w ≤ 1 / w ≥ n−1).
/// (For a descending grid casacore picks the same four samples.) With fewer than 4
/// unflagged samples casacore reads past its arrays; we use the polynomial through all
/// of them instead.
fn cubic(xs: &[f64], ys: &[f32], f: f64) -> f64 {
    let n = xs.len();
    let (lo, len) = if n < 4 {
        (0, n)
    } else {
        let w = xs.partition_point(|&x| x < f);
        let lo = if w > 1 && w < n - 1 {
            w - 2
        } else if w <= 1 {
            0
        } else {
            n - 4
        };
        (lo, 4)
    };
    let (px, py) = (&xs[lo..lo + len], &ys[lo..lo + len]);
    (0..len)
        .map(|i| {
            let l: f64 = (0..len)
                .filter(|&j| j != i)
                .map(|j| (f - px[j]) / (px[i] - px[j]))
                .product();
            l * f64::from(py[i])
        })
        .sum()
}

/// CASA's Tsys weight scale of one receptor (`StandardTsys::calcWtScale`): `(float)(1.0 /
/// mean)`, the mean of the unflagged channels of the interpolated spectrum as casacore
/// takes it of a masked float array (a float32 sum in channel order, divided by the count
/// as float32). 0 when nothing is unflagged or the mean is not positive.
pub fn weight_scale(spectrum: &[f32], flags: &[bool]) -> f32 {
    let (sum, n) = spectrum
        .iter()
        .zip(flags)
        .filter(|(_, &f)| !f)
        .fold((0.0f32, 0u32), |(s, n), (&x, _)| (s + x, n + 1));
    if n == 0 {
        return 0.0;
    }
    let mean = sum / n as f32;
    if mean > 0.0 {
        (1.0 / f64::from(mean)) as f32
    } else {
        0.0
    }
}

impl Term for TsysTerm {
    fn order(&self) -> u32 {
        10
    }

    fn covers(&self, spw: u32) -> bool {
        let c = self.cal_spw(spw);
        self.slices.keys().any(|(s, _)| *s == c)
    }

    /// sqrt(T) per receptor and channel (0 for a negative value: such channels are flagged),
    /// weight factor 1/⟨T⟩ (0 when ⟨T⟩ ≤ 0).
    fn antenna_factors(&self, chunk: &VisChunk, info: &ChunkInfo<'_>) -> Option<AntFactors> {
        let mut out = AntFactors::new();
        for (t, a) in antenna_keys(chunk) {
            let spec = self.spectrum(
                info.spw,
                info.field,
                a,
                f64::from_bits(t),
                info.chan_freq_hz,
            );
            let f = spec.map(|s| {
                let mut f = AntFactor {
                    gain: Vec::with_capacity(s.len()),
                    flags: Vec::with_capacity(s.len()),
                    wfac: Vec::with_capacity(s.len()),
                    shared: false,
                };
                for (v, fl) in s {
                    f.wfac.push(f64::from(weight_scale(&v, &fl)));
                    f.gain.push(
                        v.iter()
                            .map(|&x| Complex64::new(f64::from(x.max(0.0)).sqrt(), 0.0))
                            .collect(),
                    );
                    f.flags.push(fl.iter().any(|&b| b).then_some(fl));
                }
                f
            });
            out.insert((t, a), f);
        }
        Some(out)
    }

    fn accumulate(&self, chunk: &VisChunk, info: &ChunkInfo<'_>, calwt: bool, c: &mut Corrections) {
        let freqs = info.chan_freq_hz;
        // Per (time, antenna): interpolated spectra and their unflagged means.
        type Spec = Option<(Vec<(Vec<f32>, Vec<bool>)>, Vec<f32>)>;
        let mut cache: BTreeMap<(u64, u32), Spec> = BTreeMap::new();
        let mut get = |t: f64, a: u32| -> Spec {
            cache
                .entry((t.to_bits(), a))
                .or_insert_with(|| {
                    self.spectrum(info.spw, info.field, a, t, freqs).map(|s| {
                        let scales = s.iter().map(|(v, f)| weight_scale(v, f)).collect();
                        (s, scales)
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
                    let f = (f64::from(vi[ci]) * f64::from(vj[ci])).sqrt() as f32;
                    c.factor_rcf[[k, ci, pi]] *= Complex32::new(f, 0.0);
                    if fi[ci] || fj[ci] {
                        c.flag_rcf[[k, ci, pi]] = true;
                    }
                }
                if calwt {
                    c.wscale_rc[[k, pi]] *= mi[p] * mj[q];
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
            Some((TimeInterp::Linear, FreqMethod::LinearFlag))
        );
        assert_eq!(
            FreqMethod::parse("linear,cubic"),
            Some((TimeInterp::Linear, FreqMethod::Cubic))
        );
        assert!(FreqMethod::parse("bogus").is_none());
    }

    /// float32 results: within a few float32 roundings of the exact value.
    fn close(a: &[f32], b: &[f64]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (f64::from(*x) - y).abs() < 1e-6 * y.abs().max(1.0))
    }

    /// The spline is casacore's on the unflagged channels in channel order. Source
    /// 0, 0.5, 1, 2, 3 with the channel at 0.5 flagged leaves knots 0,1,2,3 with values
    /// 10,10,11,10: the example of `spline.rs` (0,0,1,0) plus 10, where casacore's second
    /// derivative at knot 1 is 1.5 (natural spline: 2.4), so mid-interval values are
    /// 10 − 1.5/16 = 9.90625, 10 + 0.5 + 2.1/16 = 10.63125, 10 + 0.5 + 3.6/16 = 10.725.
    /// The flagged channel is bridged, not flagged (no `flag` suffix).
    #[test]
    fn spline_is_casacores_on_unflagged_channels() {
        let (v, f) = freq_resample_casa(
            &[0.0, 0.5, 1.0, 2.0, 3.0],
            &[10.0, 999.0, 10.0, 11.0, 10.0],
            &[false, true, false, false, false],
            &[-1.0, 0.5, 1.5, 2.5, 4.0],
            FreqMethod::Spline,
        );
        assert!(close(&v, &[10.0, 9.90625, 10.63125, 10.725, 10.0]), "{v:?}");
        assert!(f.iter().all(|&x| !x));
        // LSB: knots 3,2,1,0 (values 10,11,10,10): knot 1 is x = 2, whose second
        // derivative stays −3 (natural −3.6); at 1.5: 10.5 − (−3 + 2.4)/16 = 10.5375,
        // at 2.5: 10.5 + 3/16 = 10.6875, at 0.5 the natural value 10 − 2.4/16 = 9.85.
        let (v, _) = freq_resample_casa(
            &[3.0, 2.0, 1.0, 0.0],
            &[10.0, 11.0, 10.0, 10.0],
            &[false; 4],
            &[0.5, 1.5, 2.5],
            FreqMethod::Spline,
        );
        assert!(close(&v, &[9.85, 10.5375, 10.6875]), "{v:?}");
        // Fewer than 4 caltable channels: linear (CAS-11744), by the total channel count.
        let (v, _) = freq_resample_casa(
            &[0.0, 1.0, 2.0],
            &[0.0, 1.0, 0.0],
            &[false; 3],
            &[0.5],
            FreqMethod::Spline,
        );
        assert!(close(&v, &[0.5]), "{v:?}");
        // 4 channels of which 3 unflagged: casacore's spline through 3 knots, i.e. the
        // natural spline: x 0,1,2, y 0,1,0 → M₁ = −3 → at 0.5: 0.5 + 3/16 = 0.6875.
        let (v, _) = freq_resample_casa(
            &[0.0, 1.0, 2.0, 3.0],
            &[0.0, 1.0, 0.0, 7.0],
            &[false, false, false, true],
            &[0.5],
            FreqMethod::Spline,
        );
        assert!(close(&v, &[0.6875]), "{v:?}");
    }

    /// casacore's `cubic`: the cubic through 4 samples chosen from w = the first sample
    /// ≥ f: w−2 … w+1 inside, the first / last four at the edges. Samples at 0…4 with
    /// values 10,10,10,10,11: at 1.5 (w = 2) the samples 0…3 → 10 (a window w−1 … w+2
    /// would give 10 + (0.5·−0.5·−1.5)/6 = 10.0625); at 2.5 (w = 3) the samples 1…4 → 10 +
    /// ℓ₄(2.5) = 10 + (1.5·0.5·−0.5)/(3·2·1) = 9.9375; at 3.5 (w = 4 = n−1) the last four →
    /// 10 + (2.5·1.5·0.5)/6 = 10.3125.
    #[test]
    fn cubic_is_casacores_four_point_polynomial() {
        let (v, _) = freq_resample_casa(
            &[0.0, 1.0, 2.0, 3.0, 4.0],
            &[10.0, 10.0, 10.0, 10.0, 11.0],
            &[false; 5],
            &[0.5, 1.5, 2.5, 3.5],
            FreqMethod::Cubic,
        );
        assert!(close(&v, &[10.0, 10.0, 9.9375, 10.3125]), "{v:?}");
    }

    /// Same grid: CASA copies only when the unflagged channels coincide with the data
    /// channels; with a flagged Tsys channel it interpolates across it and flags nothing.
    /// `freq_interp` (used elsewhere) keeps the source flags on its own grid.
    #[test]
    fn same_grid_with_flagged_channels() {
        let src = [1.0, 2.0, 3.0, 4.0];
        let vals = [10.0, 99.0, 30.0, 40.0];
        let flags = [false, true, false, false];
        let (v, f) = freq_resample_casa(&src, &vals, &flags, &src, FreqMethod::Linear);
        assert!(close(&v, &[10.0, 20.0, 30.0, 40.0]), "{v:?}");
        assert!(f.iter().all(|&x| !x));
        let (v, f) = freq_resample_casa(&src, &vals, &[false; 4], &src, FreqMethod::Spline);
        assert_eq!(v, vals.to_vec());
        assert!(f.iter().all(|&x| !x));
        let (_, f) = freq_interp(&src, &vals, &flags, &src, FreqMethod::Linear);
        assert_eq!(f, flags.to_vec());
    }

    #[test]
    fn parses_flag_suffixes() {
        use FreqMethod::*;
        let p = |s| FreqMethod::parse(s).unwrap();
        assert_eq!(p("linear,linearflag"), (TimeInterp::Linear, LinearFlag));
        assert_eq!(p("nearest,nearestflag"), (TimeInterp::Nearest, NearestFlag));
        assert_eq!(p("linearflag,linear"), (TimeInterp::Linear, Linear));
        assert_eq!(p("nearestflag,nearest"), (TimeInterp::Nearest, Nearest));
        assert_eq!(
            p("LinearFlag, LinearFlag"),
            (TimeInterp::Linear, LinearFlag)
        );
        assert_eq!(p("linear,splineflag"), (TimeInterp::Linear, Spline));
        assert!(FreqMethod::parse("cubicflag,linear").is_none());
    }

    /// `linearflag`: values as `linear` (the flagged channel 2 bridged: 20 → 40 between
    /// channels 1 and 3), flagged where a bracketing channel (of all five) is flagged.
    /// `nearestflag`: values from the nearest unflagged channel, flagged where the nearest
    /// channel of all is flagged (a tie goes to the lower frequency).
    #[test]
    fn flag_suffix_propagates_source_flags() {
        let src = [0.0, 1.0, 2.0, 3.0, 4.0];
        let vals = [10.0, 20.0, 99.0, 40.0, 50.0];
        let fl = [false, false, true, false, false];
        let dst = [-1.0, 0.5, 1.5, 2.5, 3.5, 5.0];
        let (v, f) = freq_resample_casa(&src, &vals, &fl, &dst, FreqMethod::LinearFlag);
        assert!(close(&v, &[10.0, 15.0, 25.0, 35.0, 45.0, 50.0]), "{v:?}");
        assert_eq!(f, [false, false, true, true, false, false]);
        // Without the suffix: same values, nothing flagged.
        let (v0, f0) = freq_resample_casa(&src, &vals, &fl, &dst, FreqMethod::Linear);
        assert_eq!(v0, v);
        assert!(f0.iter().all(|&x| !x));
        // An edge channel flagged: the channels beyond it and up to channel 1.
        let e = [true, false, false, false, false];
        let (_, f) = freq_resample_casa(&src, &vals, &e, &dst, FreqMethod::LinearFlag);
        assert_eq!(f, [true, true, false, false, false, false]);
        // nearestflag.
        let dst = [1.4, 1.6, 2.5, 2.6];
        let (v, f) = freq_resample_casa(&src, &vals, &fl, &dst, FreqMethod::NearestFlag);
        assert!(close(&v, &[20.0, 20.0, 40.0, 40.0]), "{v:?}");
        assert_eq!(f, [false, true, true, false]);
        // LSB (descending) grid, channel 1 (at 3) flagged: by frequency, not index.
        let (_, f) = freq_resample_casa(
            &[4.0, 3.0, 2.0, 1.0, 0.0],
            &vals,
            &[false, true, false, false, false],
            &[3.5, 2.5, 1.5],
            FreqMethod::LinearFlag,
        );
        assert_eq!(f, [true, true, false]);
        // The source grid itself: bridged values, the flagged channel flagged.
        let (v, f) = freq_resample_casa(&src, &vals, &fl, &src, FreqMethod::LinearFlag);
        assert!(close(&v, &[10.0, 20.0, 30.0, 40.0, 50.0]), "{v:?}");
        assert_eq!(f, fl);
        let (_, f) = freq_resample_casa(&src, &vals, &fl, &src, FreqMethod::NearestFlag);
        assert_eq!(f, fl);
    }

    /// Time then frequency. Rows at 0 s ([10, 12, 14], unflagged) and 10 s ([20, 30, 40],
    /// channel 1 flagged). Linear at 5 s: [15, 21, 27] with channel 1 flagged (OR of the
    /// rows) and bridged: at 0.5 → 15 + 12/4 = 18, at 1.5 → 15 + 12·3/4 = 24; flagged
    /// only with `linearflag` in frequency, whatever the time part. Nearest at 2 s: the
    /// first row alone (11, 13, unflagged); at 8 s the second (25, 35; flagged with the
    /// suffix).
    #[test]
    fn time_then_frequency_with_flag_suffixes() {
        let times = [0.0, 10.0];
        let r0 = [10.0, 12.0, 14.0];
        let r1 = [20.0, 30.0, 40.0];
        let f0 = [false; 3];
        let f1 = [false, true, false];
        let (vals, flags): ([&[f32]; 2], [&[bool]; 2]) = ([&r0, &r1], [&f0, &f1]);
        let src = [0.0, 1.0, 2.0];
        let dst = [0.5, 1.5];
        let run = |interp: &str, t: f64| {
            let (ti, fm) = FreqMethod::parse(interp).unwrap();
            interp_spectrum(&times, &vals, &flags, t, ti, &src, &dst, fm).unwrap()
        };
        for interp in ["linear,linear", "linearflag,linear"] {
            let (v, f) = run(interp, 5.0);
            assert!(close(&v, &[18.0, 24.0]), "{v:?}");
            assert_eq!(f, [false, false]);
        }
        for interp in ["linear,linearflag", "linearflag,linearflag"] {
            let (v, f) = run(interp, 5.0);
            assert!(close(&v, &[18.0, 24.0]), "{v:?}");
            assert_eq!(f, [true, true]);
        }
        let (v, f) = run("nearestflag,linearflag", 2.0);
        assert!(close(&v, &[11.0, 13.0]), "{v:?}");
        assert_eq!(f, [false, false]);
        let (v, f) = run("nearestflag,linearflag", 8.0);
        assert!(close(&v, &[25.0, 35.0]), "{v:?}");
        assert_eq!(f, [true, true]);
        // A whole row flagged: every channel, any mode, while that row is used.
        let fa = [true; 3];
        let flags: [&[bool]; 2] = [&f0, &fa];
        let (_, f) = interp_spectrum(
            &times,
            &vals,
            &flags,
            5.0,
            TimeInterp::Linear,
            &src,
            &dst,
            FreqMethod::Linear,
        )
        .unwrap();
        assert_eq!(f, [true, true]);
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
