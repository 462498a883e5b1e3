//! Solver input preparation: per-sample model division and weighted averaging of
//! visibilities into one value per (baseline, solution channel, correlation) for a
//! solution interval (algorithms.md §1.2–1.3). Weights are whatever the caller derives from
//! SIGMA (1/σ²) times pre-apply calwt factors; this module multiplies them by |model|².

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
    /// Weight-weighted mean time (s); plain mean of row times if all weights are zero.
    pub time_centroid_s: f64,
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

/// Accumulates rows of one solution interval. Rows may come from several chunks, scans or
/// (with `combine='spw'`) spws; baselines are indexed in order of first appearance.
#[derive(Debug, Clone)]
pub struct Accumulator {
    nant: usize,
    nbins: usize,
    ncorr: usize,
    parallel: Vec<bool>,
    bl_index: Vec<u32>,
    ant1: Vec<usize>,
    ant2: Vec<usize>,
    sum_vw: Vec<Complex64>,
    sum_w: Vec<f64>,
    time_wsum: f64,
    wsum: f64,
    time_sum: f64,
    nrows: usize,
}

impl Accumulator {
    /// `parallel[c]` says whether correlation c is a parallel hand (its default model is 1,
    /// cross-hands 0).
    pub fn new(nant: usize, nbins: usize, parallel: Vec<bool>) -> Self {
        Self {
            nant,
            nbins,
            ncorr: parallel.len(),
            parallel,
            bl_index: vec![u32::MAX; nant * nant],
            ant1: Vec::new(),
            ant2: Vec::new(),
            sum_vw: Vec::new(),
            sum_w: Vec::new(),
            time_wsum: 0.0,
            wsum: 0.0,
            time_sum: 0.0,
            nrows: 0,
        }
    }

    fn baseline(&mut self, a1: usize, a2: usize) -> usize {
        let k = a1 * self.nant + a2;
        if self.bl_index[k] == u32::MAX {
            self.bl_index[k] = self.ant1.len() as u32;
            self.ant1.push(a1);
            self.ant2.push(a2);
            let n = self.nbins * self.ncorr;
            self.sum_vw
                .extend(std::iter::repeat_n(Complex64::new(0.0, 0.0), n));
            self.sum_w.extend(std::iter::repeat_n(0.0, n));
        }
        self.bl_index[k] as usize
    }

    /// Add one row. `data_fc`, `flag_fc`, `weight_fc` and `model_fc` are (channel, corr)
    /// (a per-correlation weight can be passed as a broadcast view). `model_fc = None`
    /// means the 1 Jy point model. `chan_bin[ch]` gives the solution channel of data
    /// channel `ch` (`None` = not used). Autocorrelations and out-of-range antennas are
    /// ignored. Samples that are flagged, have weight ≤ 0 or |model| = 0 do not contribute.
    #[allow(clippy::too_many_arguments)]
    pub fn add_row(
        &mut self,
        a1: usize,
        a2: usize,
        time_s: f64,
        data_fc: ArrayView2<Complex32>,
        flag_fc: ArrayView2<bool>,
        weight_fc: ArrayView2<f32>,
        model_fc: Option<ArrayView2<Complex32>>,
        chan_bin: &[Option<usize>],
    ) {
        self.nrows += 1;
        self.time_sum += time_s;
        if a1 == a2 || a1 >= self.nant || a2 >= self.nant {
            return;
        }
        let b = self.baseline(a1, a2);
        let nchan = data_fc.nrows().min(chan_bin.len());
        let mut roww = 0.0;
        for ch in 0..nchan {
            let Some(bin) = chan_bin[ch] else { continue };
            if bin >= self.nbins {
                continue;
            }
            for c in 0..self.ncorr.min(data_fc.ncols()) {
                if flag_fc[[ch, c]] {
                    continue;
                }
                let w = f64::from(weight_fc[[ch, c]]);
                if not_positive(w) {
                    continue;
                }
                let m = match &model_fc {
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
                let d = data_fc[[ch, c]];
                let v = Complex64::new(f64::from(d.re), f64::from(d.im)) / m;
                let wm = w * m2;
                let k = (b * self.nbins + bin) * self.ncorr + c;
                self.sum_vw[k] += v * wm;
                self.sum_w[k] += wm;
                roww += wm;
            }
        }
        self.time_wsum += roww * time_s;
        self.wsum += roww;
    }

    /// The weighted means.
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
        let t = if self.wsum > 0.0 {
            self.time_wsum / self.wsum
        } else if self.nrows > 0 {
            self.time_sum / self.nrows as f64
        } else {
            0.0
        };
        AveragedVis {
            nant: self.nant,
            ant1: self.ant1,
            ant2: self.ant2,
            vis_bfc: vis,
            weight_bfc: wt,
            time_centroid_s: t,
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
    use ndarray::Array2;

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
        acc.add_row(
            0,
            1,
            10.0,
            data.view(),
            flags.view(),
            w.view(),
            Some(model.view()),
            &bins,
        );
        // A flagged row contributes no weight, and autocorrelations are ignored.
        let allf = Array2::from_elem((2, 2), true);
        acc.add_row(
            0,
            1,
            20.0,
            data.view(),
            allf.view(),
            w.view(),
            Some(model.view()),
            &bins,
        );
        acc.add_row(1, 1, 30.0, data.view(), flags.view(), w.view(), None, &bins);
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
        acc.add_row(
            0,
            1,
            1.0,
            data.view(),
            flags.view(),
            w.view(),
            None,
            &[Some(0)],
        );
        let avg = acc.finish();
        assert_eq!(avg.weight_bfc[[0, 0, 1]], 0.0);
        assert_eq!(avg.weight_bfc[[0, 0, 0]], 4.0);
        assert_eq!(weights_from_sigma(&[0.5, 0.0, -1.0]), vec![4.0, 0.0, 0.0]);
    }
}
