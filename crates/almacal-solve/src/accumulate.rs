//! Solver input preparation: per-sample model division and weighted averaging of
//! visibilities into one value per (baseline, solution channel, correlation) for a
//! solution interval (algorithms.md §1.2–1.3), and the interval's TIME stamp as CASA 6.7
//! computes it (docs/casa-degraded-rules.md §a). Weights are whatever the caller derives
//! from SIGMA (1/σ²) times pre-apply calwt factors; this module multiplies them by |model|².
//!
//! CASA's rules reproduced here: [`corr_or_flags`] flags every correlation of a (row, channel)
//! with any correlation flagged in the MS (`corrDepFlags=False`; flags that pre-applied
//! tables add afterwards stay per correlation); autocorrelations never enter; the TIME stamp is
//! a per-baseline TIME_CENTROID mean weighted by the row weight CASA's channel-average layer
//! reports, then a mean over (spw, baseline) weighted by the summed unflagged sample weight
//! (times |V̄|² for `calmode='p'`).

use crate::not_positive;
use ndarray::{Array3, ArrayView2};
use num_complex::{Complex32, Complex64};

/// Weighted-mean, model-normalised visibilities of one solution interval.
#[derive(Debug, Clone, PartialEq)]
pub struct AveragedVis {
    pub nant: usize,
    /// Antenna indices per baseline (cross-correlations only).
    pub ant1: Vec<usize>,
    pub ant2: Vec<usize>,
    /// (baseline, solution channel, correlation).
    pub vis_bfc: Array3<Complex64>,
    /// Summed weights (0 where nothing unflagged contributed).
    pub weight_bfc: Array3<f64>,
    /// The solution TIME (s) by CASA's rule (see the module doc); the plain mean of the
    /// row times of each spw, averaged over spws, if no weight is positive.
    pub time_centroid_s: f64,
    /// Baselines the initial guess may use (empty = all): with separate groups, those of
    /// the first group only, as CASA guesses from its first data buffer.
    pub guess_baselines: Vec<bool>,
}

impl AveragedVis {
    pub fn nbl(&self) -> usize {
        self.ant1.len()
    }
    pub fn nchan(&self) -> usize {
        self.vis_bfc.shape()[1]
    }
    pub fn ncorr(&self) -> usize {
        self.vis_bfc.shape()[2]
    }
}

/// Which row weight CASA's time averaging uses for a baseline's TIME_CENTROID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowWeight {
    /// Channels are averaged into bins (G/T, bandpass `inf,Nch`): per correlation, the mean
    /// over the unflagged bins of the bin's summed unflagged weight, summed over correlations.
    BinMean,
    /// No channel averaging (bandpass per channel): the row's weight summed over
    /// correlations, whatever the flags.
    Plain,
}

/// One main-table row handed to [`Accumulator::add_row`]. `data_fc`, `flag_fc`,
/// `weight_fc` and `model_fc` are (channel, corr) (a per-correlation weight can be passed
/// as a broadcast view). `model_fc = None` means the 1 Jy point model. `chan_bin[ch]` gives
/// the solution channel of data channel `ch` (`None` = not used). `group` separates CASA's
/// data buffers within one interval (the spw with `combine='spw'`).
#[derive(Debug, Clone, Copy)]
pub struct RowIn<'a> {
    pub a1: usize,
    pub a2: usize,
    pub time_s: f64,
    pub time_centroid_s: f64,
    pub group: u32,
    pub data_fc: ArrayView2<'a, Complex32>,
    pub flag_fc: ArrayView2<'a, bool>,
    pub weight_fc: ArrayView2<'a, f32>,
    pub model_fc: Option<ArrayView2<'a, Complex32>>,
    pub chan_bin: &'a [Option<usize>],
}

/// The TIME-stamp sums of one (baseline, group).
#[derive(Debug, Clone)]
struct Stamp {
    /// Σ row weight · TIME_CENTROID and Σ row weight over accepted rows.
    tc_num: f64,
    tc_den: f64,
    /// TIME of the first row (the centroid when no row weight is positive).
    first_time_s: f64,
    /// TIME_CENTROID of the first accepted row: the sums are offsets from it, so that
    /// rows of one time give that time bit for bit.
    first_tc_s: f64,
    has_tc: bool,
    /// Per (bin, corr): Σ w·V/M and Σ w (for the |V̄|² factor of calmode 'p').
    sum_vw: Vec<Complex64>,
    sum_w: Vec<f64>,
}

/// Accumulates rows of one solution interval. Rows may come from several chunks, scans or
/// (with `combine='spw'`) spws; baselines are indexed in order of first appearance.
#[derive(Debug, Clone)]
pub struct Accumulator {
    nant: usize,
    nbins: usize,
    ncorr: usize,
    parallel: Vec<bool>,
    row_weight: RowWeight,
    phase_stamp: bool,
    bl_index: Vec<u32>,
    separate_groups: bool,
    /// (group, a1·nant + a2) → baseline index, with separate groups.
    group_bl: std::collections::HashMap<(u32, usize), u32>,
    /// Group of each baseline (the group it was first seen in).
    bl_group: Vec<u32>,
    ant1: Vec<usize>,
    ant2: Vec<usize>,
    sum_vw: Vec<Complex64>,
    sum_w: Vec<f64>,
    stamps: Vec<Stamp>,
    /// Per baseline: (group, index into `stamps`).
    stamp_of: Vec<Vec<(u32, usize)>>,
    /// Per group: (Σ row TIME, rows) over every row, for the all-zero-weight fallback.
    group_times: Vec<(u32, f64, usize)>,
    // Per-row scratch.
    bin_w: Vec<f64>,
    bin_live: Vec<bool>,
    plain_w: Vec<f64>,
    /// CASA's `int` stamp: on/off, Σ w_row·TIME_CENTROID and Σ w_row (rows in MS order).
    int_stamp: bool,
    int_num: f64,
    int_den: f64,
}

impl Accumulator {
    /// `parallel[c]` says whether correlation c is a parallel hand (its default model is 1,
    /// cross-hands 0). The row weight defaults to [`RowWeight::BinMean`].
    pub fn new(nant: usize, nbins: usize, parallel: Vec<bool>) -> Self {
        Self {
            nant,
            nbins,
            ncorr: parallel.len(),
            parallel,
            row_weight: RowWeight::BinMean,
            phase_stamp: false,
            bl_index: vec![u32::MAX; nant * nant],
            separate_groups: false,
            group_bl: std::collections::HashMap::new(),
            bl_group: Vec::new(),
            ant1: Vec::new(),
            ant2: Vec::new(),
            sum_vw: Vec::new(),
            sum_w: Vec::new(),
            stamps: Vec::new(),
            stamp_of: Vec::new(),
            group_times: Vec::new(),
            bin_w: Vec::new(),
            bin_live: Vec::new(),
            plain_w: Vec::new(),
            int_stamp: false,
            int_num: 0.0,
            int_den: 0.0,
        }
    }

    /// The row weight rule of the TIME stamp.
    pub fn with_row_weight(mut self, rule: RowWeight) -> Self {
        self.row_weight = rule;
        self
    }

    /// `calmode='p'`: the stamp weights each sample by |V̄|² as well.
    pub fn with_phase_stamp(mut self, phase: bool) -> Self {
        self.phase_stamp = phase;
        self
    }

    /// `solint='int'` with all channels in one bin: stamp the TIME with CASA's own
    /// single-precision arithmetic, bit for bit (see [`Self::add_int_stamp`]), so that
    /// applycal's float32 exactness test treats CASA's and almacal's tables alike.
    pub fn with_casa_int_stamp(mut self, on: bool) -> Self {
        self.int_stamp = on && self.nbins == 1;
        self
    }

    /// Keep the baselines of each group (spw) apart, as CASA keeps one data buffer per spw
    /// with `combine='spw'`: the solver then sees the spws' scatter in its χ² (and so in
    /// the solution errors, SNR and `minsnr` flags), not their average.
    pub fn with_separate_groups(mut self, separate: bool) -> Self {
        self.separate_groups = separate;
        self
    }

    /// The index of baseline (a1, a2) — of this group's own when groups are kept apart —
    /// adding it on first sight.
    fn baseline(&mut self, a1: usize, a2: usize, group: u32) -> usize {
        let k = a1 * self.nant + a2;
        let known = if self.separate_groups {
            self.group_bl.get(&(group, k)).copied()
        } else {
            Some(self.bl_index[k]).filter(|&b| b != u32::MAX)
        };
        if let Some(b) = known {
            return b as usize;
        }
        let b = self.ant1.len() as u32;
        if self.separate_groups {
            self.group_bl.insert((group, k), b);
        } else {
            self.bl_index[k] = b;
        }
        self.bl_group.push(group);
        self.ant1.push(a1);
        self.ant2.push(a2);
        let n = self.nbins * self.ncorr;
        self.sum_vw
            .extend(std::iter::repeat_n(Complex64::new(0.0, 0.0), n));
        self.sum_w.extend(std::iter::repeat_n(0.0, n));
        b as usize
    }

    fn stamp(&mut self, baseline: usize, group: u32, time_s: f64) -> usize {
        if self.stamp_of.len() <= baseline {
            self.stamp_of.resize(baseline + 1, Vec::new());
        }
        if let Some(&(_, k)) = self.stamp_of[baseline].iter().find(|(g, _)| *g == group) {
            return k;
        }
        self.stamp_of[baseline].push((group, self.stamps.len()));
        let n = self.nbins * self.ncorr;
        self.stamps.push(Stamp {
            tc_num: 0.0,
            tc_den: 0.0,
            first_time_s: time_s,
            first_tc_s: 0.0,
            has_tc: false,
            sum_vw: vec![Complex64::new(0.0, 0.0); n],
            sum_w: vec![0.0; n],
        });
        self.stamps.len() - 1
    }

    /// Add one row. Autocorrelations and out-of-range antennas are ignored; flagged samples
    /// and samples with weight ≤ 0 or |model| = 0 do not contribute. (CASA's
    /// correlation-OR of the MS flags is the caller's, before pre-application:
    /// [`corr_or_flags`].)
    pub fn add_row(&mut self, row: RowIn<'_>) {
        match self.group_times.iter_mut().find(|g| g.0 == row.group) {
            Some(g) => {
                g.1 += row.time_s;
                g.2 += 1;
            }
            None => self.group_times.push((row.group, row.time_s, 1)),
        }
        let (a1, a2) = (row.a1, row.a2);
        if a1 == a2 || a1 >= self.nant || a2 >= self.nant {
            return;
        }
        if self.int_stamp {
            self.add_int_stamp(&row);
        }
        let b = self.baseline(a1, a2, row.group);
        let st = self.stamp(b, row.group, row.time_s);
        let nchan = row.data_fc.nrows().min(row.chan_bin.len());
        let ncorr = self.ncorr.min(row.data_fc.ncols());
        let nb = self.nbins;
        self.bin_w.clear();
        self.bin_w.resize(nb * ncorr, 0.0);
        self.bin_live.clear();
        self.bin_live.resize(nb * ncorr, false);
        self.plain_w.clear();
        self.plain_w.resize(ncorr, 0.0);
        for ch in 0..nchan {
            for (c, pw) in self.plain_w.iter_mut().enumerate() {
                *pw += f64::from(row.weight_fc[[ch, c]]);
            }
            let Some(bin) = row.chan_bin[ch] else {
                continue;
            };
            if bin >= nb {
                continue;
            }
            for c in 0..ncorr {
                if row.flag_fc[[ch, c]] {
                    continue;
                }
                self.bin_live[bin * ncorr + c] = true;
                let w = f64::from(row.weight_fc[[ch, c]]);
                if not_positive(w) {
                    continue;
                }
                let m = match &row.model_fc {
                    Some(m) => {
                        let z = m[[ch, c]];
                        Complex64::new(f64::from(z.re), f64::from(z.im))
                    }
                    None => {
                        if self.parallel[c] {
                            Complex64::new(1.0, 0.0)
                        } else {
                            Complex64::new(0.0, 0.0)
                        }
                    }
                };
                let m2 = m.norm_sqr();
                if not_positive(m2) {
                    continue;
                }
                let d = row.data_fc[[ch, c]];
                let v = Complex64::new(f64::from(d.re), f64::from(d.im)) / m;
                let wm = w * m2;
                let k = (b * nb + bin) * self.ncorr + c;
                self.sum_vw[k] += v * wm;
                self.sum_w[k] += wm;
                let ks = bin * self.ncorr + c;
                let s = &mut self.stamps[st];
                s.sum_vw[ks] += v * wm;
                s.sum_w[ks] += wm;
                self.bin_w[bin * ncorr + c] += wm;
            }
        }
        if !self.bin_live.iter().any(|&l| l) {
            // A row with nothing unflagged does not enter the time average.
            return;
        }
        let rw = match self.row_weight {
            RowWeight::Plain => self.plain_w.iter().sum::<f64>() / nchan.max(1) as f64,
            RowWeight::BinMean => {
                let mut tot = 0.0;
                for c in 0..ncorr {
                    let (mut sum, mut live) = (0.0, 0usize);
                    for f in 0..nb {
                        if self.bin_live[f * ncorr + c] {
                            sum += self.bin_w[f * ncorr + c];
                            live += 1;
                        }
                    }
                    if live > 0 {
                        tot += sum / live as f64;
                    }
                }
                tot
            }
        };
        let s = &mut self.stamps[st];
        if !s.has_tc {
            s.has_tc = true;
            s.first_tc_s = row.time_centroid_s;
        }
        s.tc_num += rw * (row.time_centroid_s - s.first_tc_s);
        s.tc_den += rw;
    }

    /// One row's share of CASA 6.7's `solint='int'` stamp, in CASA's own precision
    /// (`SDBList::aggregateTimeCentroid` after `ChannelAverageTVI` and, for calmode 'p',
    /// `SolveDataBuffer::enforceAPonData`; reproduced bit for bit on 576 CASA solutions, see
    /// docs/solve-numerics.md): per correlation, in channel order and float32, the sum W of
    /// the unflagged weights (× |M|²) and the sums of w·Re and w·Im of the model-divided data;
    /// in 'p' mode W ×= |(ΣwRe/W, ΣwIm/W)|²; the row weight is the float32 sum of the W over
    /// correlations; TIME = Σ w_row·TIME_CENTROID / Σ w_row in double, rows in MS order.
    fn add_int_stamp(&mut self, row: &RowIn<'_>) {
        let nchan = row.data_fc.nrows().min(row.chan_bin.len());
        let ncorr = self.ncorr.min(row.data_fc.ncols());
        // With a single channel CASA averages nothing: the visibility is the sample itself,
        // not (w·V)/w (scenario full_pol_one_channel: 32 of 32 stamps this way, 22 the other).
        let single = row.chan_bin[..nchan].iter().filter(|b| b.is_some()).count() == 1;
        let mut w_row = 0.0f32;
        for c in 0..ncorr {
            let mut direct: Option<Complex32> = None;
            let (mut wc, mut sre, mut sim) = (0.0f32, 0.0f32, 0.0f32);
            for ch in 0..nchan {
                if row.chan_bin[ch].is_none() || row.flag_fc[[ch, c]] {
                    continue;
                }
                let w = row.weight_fc[[ch, c]];
                if w.is_nan() || w <= 0.0 {
                    continue;
                }
                let d = row.data_fc[[ch, c]];
                let (w, d) = match &row.model_fc {
                    Some(m) => {
                        let z = m[[ch, c]];
                        let m2 = z.norm_sqr();
                        if m2.is_nan() || m2 <= 0.0 {
                            continue;
                        }
                        (w * m2, d / z)
                    }
                    None if self.parallel[c] => (w, d),
                    // Cross hands against the default (unpolarised) model: left out
                    // (keeping their weight matches 2 of 32 CASA stamps, leaving them out 32).
                    None => continue,
                };
                wc += w;
                sre += w * d.re;
                sim += w * d.im;
                if single {
                    direct = Some(d);
                }
            }
            if self.phase_stamp && wc > 0.0 {
                let (vre, vim) = match direct {
                    Some(d) => (d.re, d.im),
                    None => (sre / wc, sim / wc),
                };
                let a = f64::from(vre).hypot(f64::from(vim)) as f32;
                if a > 0.0 {
                    wc *= a * a;
                }
            }
            w_row += wc;
        }
        self.int_num += f64::from(w_row) * row.time_centroid_s;
        self.int_den += f64::from(w_row);
    }

    /// The weighted means and CASA's TIME stamp.
    pub fn finish(self) -> AveragedVis {
        let nbl = self.ant1.len();
        let mut vis = Array3::<Complex64>::zeros((nbl, self.nbins, self.ncorr));
        let mut wt = Array3::<f64>::zeros((nbl, self.nbins, self.ncorr));
        for b in 0..nbl {
            for f in 0..self.nbins {
                for c in 0..self.ncorr {
                    let k = (b * self.nbins + f) * self.ncorr + c;
                    if self.sum_w[k] > 0.0 {
                        vis[[b, f, c]] = self.sum_vw[k] / self.sum_w[k];
                        wt[[b, f, c]] = self.sum_w[k];
                    }
                }
            }
        }
        // Offsets from the first baseline's centroid: one common time comes out bit-exact
        // (CASA's own sum lands a few ulp off it; see docs/solve-numerics.md).
        let (mut num, mut den) = (0.0, 0.0);
        let mut t0: Option<f64> = None;
        for s in &self.stamps {
            let wb: f64 = if self.phase_stamp {
                s.sum_vw
                    .iter()
                    .zip(&s.sum_w)
                    .filter(|(_, w)| **w > 0.0)
                    .map(|(v, w)| (v / *w).norm_sqr() * w)
                    .sum()
            } else {
                s.sum_w.iter().sum()
            };
            if not_positive(wb) || !wb.is_finite() {
                continue;
            }
            let tc = if s.tc_den > 0.0 {
                s.first_tc_s + s.tc_num / s.tc_den
            } else {
                s.first_time_s
            };
            let t0 = *t0.get_or_insert(tc);
            num += wb * (tc - t0);
            den += wb;
        }
        let t = if self.int_stamp && self.int_den > 0.0 {
            self.int_num / self.int_den
        } else if let (true, Some(t0)) = (den > 0.0, t0) {
            t0 + num / den
        } else if !self.group_times.is_empty() {
            self.group_times
                .iter()
                .map(|g| g.1 / g.2 as f64)
                .sum::<f64>()
                / self.group_times.len() as f64
        } else {
            0.0
        };
        let guess_baselines = match (self.separate_groups, self.group_times.first()) {
            (true, Some(&(g0, _, _))) => self.bl_group.iter().map(|&g| g == g0).collect(),
            _ => Vec::new(),
        };
        AveragedVis {
            nant: self.nant,
            ant1: self.ant1,
            ant2: self.ant2,
            vis_bfc: vis,
            weight_bfc: wt,
            time_centroid_s: t,
            guess_baselines,
        }
    }
}

/// CASA's `corrDepFlags=False` on the flags read from the MS (before any pre-applied table):
/// a (row, channel) with one correlation flagged is flagged in all. `flag_rcf` is
/// (row, channel, correlation).
pub fn corr_or_flags(flag_rcf: &mut ndarray::Array3<bool>) {
    for mut lane in flag_rcf.lanes_mut(ndarray::Axis(2)) {
        if lane.iter().any(|&f| f) {
            lane.fill(true);
        }
    }
}

/// Per-correlation solver weights from SIGMA: 1/σ², 0 where σ ≤ 0 (§1.3).
pub fn weights_from_sigma(sigma: &[f32]) -> Vec<f32> {
    sigma
        .iter()
        .map(|&s| if s > 0.0 { 1.0 / (s * s) } else { 0.0 })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, Array3};

    fn row<'a>(
        a: (usize, usize),
        t: (f64, f64),
        d: &'a Array2<Complex32>,
        f: &'a Array2<bool>,
        w: &'a Array2<f32>,
        m: Option<&'a Array2<Complex32>>,
        bins: &'a [Option<usize>],
    ) -> RowIn<'a> {
        RowIn {
            a1: a.0,
            a2: a.1,
            time_s: t.0,
            time_centroid_s: t.1,
            group: 0,
            data_fc: d.view(),
            flag_fc: f.view(),
            weight_fc: w.view(),
            model_fc: m.map(|m| m.view()),
            chan_bin: bins,
        }
    }

    #[test]
    fn divides_by_model_before_averaging_with_model_weights() {
        let mut acc = Accumulator::new(3, 1, vec![true, true]);
        let bins = vec![Some(0), Some(0)];
        // Two channels with model 1 and 2 Jy; data = 2*model -> ratio 2 in both.
        let model = Array2::from_shape_vec(
            (2, 2),
            vec![
                Complex32::new(1.0, 0.0),
                Complex32::new(1.0, 0.0),
                Complex32::new(2.0, 0.0),
                Complex32::new(2.0, 0.0),
            ],
        )
        .unwrap();
        let data = model.mapv(|m| m * 2.0);
        let flags = Array2::from_elem((2, 2), false);
        let w = Array2::from_elem((2, 2), 1.0f32);
        acc.add_row(row(
            (0, 1),
            (10.0, 10.0),
            &data,
            &flags,
            &w,
            Some(&model),
            &bins,
        ));
        // A flagged row contributes no weight, and autocorrelations are ignored.
        let allf = Array2::from_elem((2, 2), true);
        acc.add_row(row(
            (0, 1),
            (20.0, 20.0),
            &data,
            &allf,
            &w,
            Some(&model),
            &bins,
        ));
        acc.add_row(row((1, 1), (30.0, 30.0), &data, &flags, &w, None, &bins));
        let avg = acc.finish();
        assert_eq!(avg.nbl(), 1);
        assert!((avg.vis_bfc[[0, 0, 0]].re - 2.0).abs() < 1e-12);
        // weight = sum of w*|M|^2 = 1 + 4.
        assert!((avg.weight_bfc[[0, 0, 1]] - 5.0).abs() < 1e-12);
        assert!((avg.time_centroid_s - 10.0).abs() < 1e-12);
    }

    #[test]
    fn default_model_zero_cross_hands_and_sigma_weights() {
        let mut acc = Accumulator::new(2, 1, vec![true, false]);
        let data = Array2::from_elem((1, 2), Complex32::new(0.5, 0.5));
        let flags = Array2::from_elem((1, 2), false);
        let w = Array2::from_elem((1, 2), 4.0f32);
        acc.add_row(row((0, 1), (1.0, 1.0), &data, &flags, &w, None, &[Some(0)]));
        let avg = acc.finish();
        assert_eq!(avg.weight_bfc[[0, 0, 1]], 0.0);
        assert_eq!(avg.weight_bfc[[0, 0, 0]], 4.0);
        assert_eq!(weights_from_sigma(&[0.5, 0.0, -1.0]), vec![4.0, 0.0, 0.0]);
    }

    #[test]
    fn one_flagged_correlation_flags_the_channel_in_all() {
        let mut f = Array3::from_elem((2, 3, 2), false);
        f[[0, 1, 1]] = true;
        f[[1, 2, 0]] = true;
        corr_or_flags(&mut f);
        assert_eq!(f.iter().filter(|&&x| x).count(), 4);
        assert!(f[[0, 1, 0]] && f[[1, 2, 1]] && !f[[0, 0, 0]]);
        // The accumulator itself keeps per-correlation flags (those added by pre-applied
        // tables): channel 0 with YY flagged still gives XX weight.
        let mut acc = Accumulator::new(2, 1, vec![true, true]);
        let data = Array2::from_elem((2, 2), Complex32::new(1.0, 0.0));
        let mut flags = Array2::from_elem((2, 2), false);
        flags[[0, 1]] = true;
        let w = Array2::from_elem((2, 2), 1.0f32);
        acc.add_row(row(
            (0, 1),
            (0.0, 0.0),
            &data,
            &flags,
            &w,
            None,
            &[Some(0), Some(0)],
        ));
        let avg = acc.finish();
        assert_eq!(avg.weight_bfc[[0, 0, 0]], 2.0);
        assert_eq!(avg.weight_bfc[[0, 0, 1]], 1.0);
    }

    #[test]
    fn stamp_uses_time_centroid_and_mean_over_live_bins() {
        // One baseline, 4 channels in 2 bins, 2 correlations, weight 1 per sample.
        // Row 1 (centroid 0): bin 1 flagged → row weight Σ_corr mean(2) = 4, samples 4.
        // Row 2 (centroid 10): both bins → row weight 4, samples 8.
        // CASA: TC = (4·0 + 4·10)/8 = 5 (a sample-weighted mean would give 6.67).
        let mut acc = Accumulator::new(2, 2, vec![true, true]);
        let bins = [Some(0), Some(0), Some(1), Some(1)];
        let data = Array2::from_elem((4, 2), Complex32::new(1.0, 0.0));
        let w = Array2::from_elem((4, 2), 1.0f32);
        let mut f1 = Array2::from_elem((4, 2), false);
        f1.slice_mut(ndarray::s![2..4, ..]).fill(true);
        let f2 = Array2::from_elem((4, 2), false);
        // TIME differs from TIME_CENTROID: the centroid is what counts.
        acc.add_row(row((0, 1), (100.0, 0.0), &data, &f1, &w, None, &bins));
        acc.add_row(row((0, 1), (100.0, 10.0), &data, &f2, &w, None, &bins));
        let avg = acc.finish();
        assert!(
            (avg.time_centroid_s - 5.0).abs() < 1e-12,
            "{}",
            avg.time_centroid_s
        );
        // Plain row weight (no channel averaging): both rows weigh 2 → also 5 here, but a
        // row with only flagged channels is left out of the centroid.
        let mut acc = Accumulator::new(2, 4, vec![true, true]).with_row_weight(RowWeight::Plain);
        let per_chan = [Some(0), Some(1), Some(2), Some(3)];
        let allf = Array2::from_elem((4, 2), true);
        acc.add_row(row((0, 1), (0.0, 0.0), &data, &allf, &w, None, &per_chan));
        acc.add_row(row((0, 1), (0.0, 10.0), &data, &f1, &w, None, &per_chan));
        acc.add_row(row((0, 1), (0.0, 20.0), &data, &f2, &w, None, &per_chan));
        assert!((acc.finish().time_centroid_s - 15.0).abs() < 1e-12);
    }

    #[test]
    fn baselines_weighted_by_summed_weight_and_amplitude_in_phase_mode() {
        // Baseline (0,1): |V| = 2 at centroid 0; baseline (0,2): |V| = 1 at centroid 30.
        let build = |phase: bool| {
            let mut acc = Accumulator::new(3, 1, vec![true, true]).with_phase_stamp(phase);
            let f = Array2::from_elem((1, 2), false);
            let w = Array2::from_elem((1, 2), 1.0f32);
            let d2 = Array2::from_elem((1, 2), Complex32::new(0.0, 2.0));
            let d1 = Array2::from_elem((1, 2), Complex32::new(1.0, 0.0));
            acc.add_row(row((0, 1), (0.0, 0.0), &d2, &f, &w, None, &[Some(0)]));
            acc.add_row(row((0, 2), (30.0, 30.0), &d1, &f, &w, None, &[Some(0)]));
            acc.finish().time_centroid_s
        };
        assert!((build(false) - 15.0).abs() < 1e-12);
        // W = 2·1·4 = 8 and 2·1·1 = 2 → (0·8 + 30·2)/10 = 6.
        assert!((build(true) - 6.0).abs() < 1e-12);
    }
}
