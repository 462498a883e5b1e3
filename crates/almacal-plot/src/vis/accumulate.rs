//! Vector averaging of visibilities into bins keyed by (field, spw, scan, time bin, baseline,
//! channel bin, correlation, flagged): weighted means of the complex value, time, uv-distance
//! and frequency. With no averaging requested every sample is its own bin.

use super::VisPoint;
use num_complex::Complex64;
use std::collections::HashMap;

/// Identifies one averaging bin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BinKey {
    pub field: u32,
    pub spw: u32,
    pub scan: i32,
    pub time_bin: i64,
    pub ant1: i32,
    pub ant2: i32,
    pub chan_bin: usize,
    pub corr: usize,
    pub flagged: bool,
}

/// Weighted sums of the samples of one bin (also used for partial sums over a chunk).
#[derive(Debug, Clone, Copy)]
pub struct BinSum {
    pub vis: Complex64,
    pub w: f64,
    pub time: f64,
    pub uvdist: f64,
    pub freq: f64,
    pub n: f64,
    pub chan_lo: usize,
    pub chan_hi: usize,
}

impl Default for BinSum {
    fn default() -> Self {
        Self {
            vis: Complex64::new(0.0, 0.0),
            w: 0.0,
            time: 0.0,
            uvdist: 0.0,
            freq: 0.0,
            n: 0.0,
            chan_lo: usize::MAX,
            chan_hi: 0,
        }
    }
}

impl BinSum {
    /// The weight a sample counts with: its own when positive and finite, else 1.
    #[inline]
    pub fn weight_of(weight: f64) -> f64 {
        if weight > 0.0 && weight.is_finite() {
            weight
        } else {
            1.0
        }
    }

    /// Add one sample (weights that are not positive and finite count as 1).
    #[inline]
    pub fn add(&mut self, s: Sample) {
        self.add_weighted(
            s.vis,
            Self::weight_of(s.weight),
            s.time_s,
            s.uvdist_m,
            s.freq_hz,
            s.chan,
        );
    }

    /// Add one sample whose weight already went through [`BinSum::weight_of`].
    #[inline]
    pub fn add_weighted(
        &mut self,
        vis: Complex64,
        w: f64,
        time_s: f64,
        uvdist_m: f64,
        freq_hz: f64,
        chan: usize,
    ) {
        self.vis += vis * w;
        self.w += w;
        self.time += time_s;
        self.uvdist += uvdist_m;
        self.freq += freq_hz;
        self.n += 1.0;
        self.chan_lo = self.chan_lo.min(chan);
        self.chan_hi = self.chan_hi.max(chan);
    }

    /// Add `n` samples of one row at once: `vis_sum` their plain sum (each weighs `w`),
    /// `freq_sum` the sum of their frequencies, `chans` their channel range.
    #[allow(clippy::too_many_arguments)]
    pub fn add_row_part(
        &mut self,
        vis_sum: Complex64,
        w: f64,
        n: f64,
        time_s: f64,
        uvdist_m: f64,
        freq_sum: f64,
        chans: (usize, usize),
    ) {
        self.vis += vis_sum * w;
        self.w += w * n;
        self.time += time_s * n;
        self.uvdist += uvdist_m * n;
        self.freq += freq_sum;
        self.n += n;
        self.chan_lo = self.chan_lo.min(chans.0);
        self.chan_hi = self.chan_hi.max(chans.1);
    }

    /// Add another partial sum.
    pub fn merge(&mut self, o: &BinSum) {
        self.vis += o.vis;
        self.w += o.w;
        self.time += o.time;
        self.uvdist += o.uvdist;
        self.freq += o.freq;
        self.n += o.n;
        self.chan_lo = self.chan_lo.min(o.chan_lo);
        self.chan_hi = self.chan_hi.max(o.chan_hi);
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0.0
    }
}

/// Accumulates samples into bins.
#[derive(Debug, Default)]
pub struct Accumulator {
    bins: HashMap<BinKey, BinSum>,
}

/// One sample to add.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub vis: Complex64,
    pub weight: f64,
    pub time_s: f64,
    pub uvdist_m: f64,
    pub freq_hz: f64,
    pub chan: usize,
}

impl Accumulator {
    pub fn add(&mut self, key: BinKey, s: Sample) {
        self.bins.entry(key).or_default().add(s);
    }

    /// Add a partial sum (empty sums are ignored).
    pub fn merge(&mut self, key: BinKey, sum: &BinSum) {
        if !sum.is_empty() {
            self.bins.entry(key).or_default().merge(sum);
        }
    }

    /// Merge all of `other`'s bins.
    pub fn absorb(&mut self, other: Accumulator) {
        for (k, sum) in other.bins {
            self.merge(k, &sum);
        }
    }

    pub fn len(&self) -> usize {
        self.bins.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bins.is_empty()
    }

    /// The averaged points, sorted by key (deterministic order).
    pub fn finish(self) -> Vec<VisPoint> {
        let mut v: Vec<(BinKey, BinSum)> = self.bins.into_iter().collect();
        v.sort_by(|a, b| {
            (
                a.0.field,
                a.0.spw,
                a.0.scan,
                a.0.time_bin,
                a.0.ant1,
                a.0.ant2,
            )
                .cmp(&(
                    b.0.field,
                    b.0.spw,
                    b.0.scan,
                    b.0.time_bin,
                    b.0.ant1,
                    b.0.ant2,
                ))
                .then(a.0.chan_bin.cmp(&b.0.chan_bin))
                .then(a.0.corr.cmp(&b.0.corr))
                .then(a.0.flagged.cmp(&b.0.flagged))
        });
        v.into_iter()
            .map(|(k, a)| {
                let mean = a.vis / a.w;
                VisPoint {
                    time_s: a.time / a.n,
                    uvdist_m: a.uvdist / a.n,
                    freq_hz: a.freq / a.n,
                    chan: (a.chan_lo, a.chan_hi),
                    amp: mean.norm(),
                    phase_deg: mean.arg().to_degrees(),
                    field: k.field,
                    spw: k.spw,
                    scan: k.scan,
                    ant1: k.ant1,
                    ant2: k.ant2,
                    corr: k.corr,
                    flagged: k.flagged,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(chan_bin: usize) -> BinKey {
        BinKey {
            field: 0,
            spw: 0,
            scan: 1,
            time_bin: 0,
            ant1: 0,
            ant2: 1,
            chan_bin,
            corr: 0,
            flagged: false,
        }
    }

    #[test]
    fn vector_average_cancels_opposite_phases() {
        let mut acc = Accumulator::default();
        for (c, v) in [(0, 1.0), (1, -1.0)] {
            acc.add(
                key(0),
                Sample {
                    vis: Complex64::new(v, 0.0),
                    weight: 1.0,
                    time_s: 10.0,
                    uvdist_m: 100.0,
                    freq_hz: 1e9 + c as f64,
                    chan: c,
                },
            );
        }
        let p = acc.finish();
        assert_eq!(p.len(), 1);
        assert!(p[0].amp < 1e-12);
        assert_eq!(p[0].chan, (0, 1));
        assert!((p[0].freq_hz - (1e9 + 0.5)).abs() < 1e-6);
    }
}
