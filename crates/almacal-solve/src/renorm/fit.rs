//! Baseline fits with iterative clipping (algorithms.md §9.3 step 5).
//!
//! Each segment of a ratio spectrum R is divided by a smooth baseline f(x), x = k/n − 0.5 over
//! the segment's n channels. The baseline starts as the median of R; then for each polynomial
//! order 1 … `nfit − 1`: residuals R0 = R/f − 1, a clip threshold of 2·median|R0| over the
//! usable channels, channels with |R0| above it are set aside, and a polynomial of that order
//! is fitted by least squares to the rest. Channels whose value is exactly 1.0 were excluded
//! by the user (or the ATM mask) and never take part; they stay 1.0 in the output.

use std::ops::Range;

/// Extra clip-and-fit passes at the highest order after ACReNorm's one pass per order
/// (almacal's addition): each pass recomputes the clip threshold from a better baseline,
/// which sheds the faint line wings that the early, looser thresholds kept.
pub const REFINE_PASSES: usize = 3;

/// Median of `v` (mean of the two middle values for even lengths); 1.0 when empty.
pub fn median(v: &[f64]) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return 1.0;
    }
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}

/// A polynomial in x (coefficients in increasing order).
#[derive(Debug, Clone, PartialEq)]
pub struct Poly(pub Vec<f64>);

impl Poly {
    pub fn eval(&self, x: f64) -> f64 {
        self.0.iter().rev().fold(0.0, |acc, c| acc * x + c)
    }
}

/// Least-squares polynomial of `order` through (xs, ys); `None` if there are too few points
/// or the normal equations are singular.
pub fn polyfit(xs: &[f64], ys: &[f64], order: usize) -> Option<Poly> {
    let m = order + 1;
    if xs.len() < m {
        return None;
    }
    // Normal equations A c = b with A_jk = Σ x^(j+k), b_j = Σ y x^j.
    let mut a = vec![vec![0.0f64; m]; m];
    let mut b = vec![0.0f64; m];
    let mut pw = vec![0.0f64; 2 * m - 1];
    for (&x, &y) in xs.iter().zip(ys) {
        let mut p = 1.0;
        for (k, slot) in pw.iter_mut().enumerate() {
            *slot = p;
            if k < m {
                b[k] += y * p;
            }
            p *= x;
        }
        for (j, row) in a.iter_mut().enumerate() {
            for (k, v) in row.iter_mut().enumerate() {
                *v += pw[j + k];
            }
        }
    }
    // Gaussian elimination with partial pivoting.
    for col in 0..m {
        let piv = (col..m).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[piv][col].abs() < 1e-14 * a[0][0].abs().max(1e-300) {
            return None;
        }
        a.swap(col, piv);
        b.swap(col, piv);
        for r in col + 1..m {
            let f = a[r][col] / a[col][col];
            let (top, bottom) = a.split_at_mut(r);
            for (x, p) in bottom[0][col..].iter_mut().zip(&top[col][col..]) {
                *x -= f * p;
            }
            b[r] -= f * b[col];
        }
    }
    let mut c = vec![0.0; m];
    for r in (0..m).rev() {
        let s: f64 = (r + 1..m).map(|k| a[r][k] * c[k]).sum();
        c[r] = (b[r] - s) / a[r][r];
    }
    c.iter().all(|v| v.is_finite()).then_some(Poly(c))
}

/// The outcome of fitting one segment.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentFit {
    /// Channels (of the segment) used by the last fit.
    pub used: usize,
    /// Channels in the segment.
    pub len: usize,
}

/// Fit and divide out the baseline of `spec[range]` in place (see the module doc).
pub fn normalize_segment(spec: &mut [f64], range: Range<usize>, nfit: usize) -> SegmentFit {
    let seg = &mut spec[range];
    let n = seg.len();
    if n == 0 {
        return SegmentFit { used: 0, len: 0 };
    }
    let xs: Vec<f64> = (0..n).map(|k| k as f64 / n as f64 - 0.5).collect();
    let excluded: Vec<bool> = seg.iter().map(|&v| v == 1.0 || !v.is_finite()).collect();
    let usable: Vec<usize> = (0..n).filter(|&k| !excluded[k]).collect();
    if usable.is_empty() {
        for v in seg.iter_mut() {
            *v = 1.0;
        }
        return SegmentFit { used: 0, len: n };
    }
    let vals: Vec<f64> = usable.iter().map(|&k| seg[k]).collect();
    let mut fit = Poly(vec![median(&vals)]);
    let mut used = usable.len();
    let last = nfit.max(1) - 1;
    let passes = if last == 0 { 0 } else { last + REFINE_PASSES };
    for pass in 1..=passes {
        let order = pass.min(last);
        let r0: Vec<f64> = usable
            .iter()
            .map(|&k| seg[k] / fit.eval(xs[k]) - 1.0)
            .collect();
        let abs: Vec<f64> = r0.iter().map(|v| v.abs()).collect();
        let thresh = 2.0 * median(&abs);
        let keep: Vec<usize> = usable
            .iter()
            .zip(&abs)
            .filter(|(_, &a)| a <= thresh)
            .map(|(&k, _)| k)
            .collect();
        let kx: Vec<f64> = keep.iter().map(|&k| xs[k]).collect();
        let ky: Vec<f64> = keep.iter().map(|&k| seg[k]).collect();
        if let Some(p) = polyfit(&kx, &ky, order) {
            fit = p;
            used = keep.len();
        }
    }
    for k in 0..n {
        if excluded[k] {
            seg[k] = 1.0;
        } else {
            let f = fit.eval(xs[k]);
            seg[k] = if f.is_finite() && f != 0.0 {
                seg[k] / f
            } else {
                1.0
            };
        }
    }
    SegmentFit { used, len: n }
}

/// Normalise every segment of `spec`; returns the per-segment fit records.
pub fn normalize_spectrum(
    spec: &mut [f64],
    ranges: &[Range<usize>],
    nfit: usize,
) -> Vec<SegmentFit> {
    ranges
        .iter()
        .map(|r| normalize_segment(spec, r.clone(), nfit))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gauss(c: f64, mu: f64, sig: f64) -> f64 {
        (-0.5 * ((c - mu) / sig).powi(2)).exp()
    }

    #[test]
    fn polyfit_recovers_a_cubic() {
        let xs: Vec<f64> = (0..50).map(|k| k as f64 / 50.0 - 0.5).collect();
        let ys: Vec<f64> = xs
            .iter()
            .map(|x| 1.0 + 0.2 * x - 0.3 * x * x + 0.5 * x.powi(3))
            .collect();
        let p = polyfit(&xs, &ys, 3).unwrap();
        for (a, b) in p.0.iter().zip([1.0, 0.2, -0.3, 0.5]) {
            assert!((a - b).abs() < 1e-10, "{:?}", p.0);
        }
        assert!(polyfit(&xs[..2], &ys[..2], 3).is_none());
    }

    #[test]
    fn clipping_fit_recovers_smooth_baseline_under_a_line() {
        let n = 256;
        let base = |c: usize| {
            let x = c as f64 / n as f64 - 0.5;
            0.93 + 0.04 * x - 0.05 * x * x + 0.03 * x.powi(3)
        };
        let line = |c: usize| {
            1.0 + 0.25 * gauss(c as f64, 100.0, 6.0) + 0.05 * gauss(c as f64, 190.0, 4.0)
        };
        // Deterministic small ripple standing in for noise.
        let noise = |c: usize| 1.0 + 2e-4 * ((c as f64 * 2.39).sin());
        let mut spec: Vec<f64> = (0..n).map(|c| base(c) * line(c) * noise(c)).collect();
        let segments = std::iter::once(0..n).collect::<Vec<_>>();
        let fits = normalize_spectrum(&mut spec, &segments, 5);
        assert!(fits[0].used > n / 2 && fits[0].used < n);
        for (c, got) in spec.iter().enumerate() {
            let want = line(c);
            assert!((got - want).abs() < 2e-3, "chan {c}: {got} vs {want}");
        }
        let peak = spec.iter().copied().fold(f64::MIN, f64::max);
        assert!((peak - 1.25).abs() < 2e-3, "peak {peak}");
        // Without clipping (nfit = 1: median only) the line-free level would still be right,
        // but a plain order-4 fit through the line would not: check the clip matters.
        let mut raw: Vec<f64> = (0..n).map(|c| base(c) * line(c)).collect();
        let xs: Vec<f64> = (0..n).map(|k| k as f64 / n as f64 - 0.5).collect();
        let p = polyfit(&xs, &raw, 4).unwrap();
        for (c, v) in raw.iter_mut().enumerate() {
            *v /= p.eval(xs[c]);
        }
        let bad_peak = raw.iter().copied().fold(f64::MIN, f64::max);
        assert!((bad_peak - 1.25).abs() > 0.01, "unclipped peak {bad_peak}");
    }

    #[test]
    fn excluded_channels_stay_one_and_are_not_fitted() {
        let n = 64;
        let mut spec: Vec<f64> = (0..n).map(|c| 0.9 + 0.001 * c as f64).collect();
        for v in spec.iter_mut().take(20).skip(10) {
            *v = 1.0;
        }
        let f = normalize_segment(&mut spec, 0..n, 5);
        assert!(f.used <= 54);
        for (c, v) in spec.iter().enumerate() {
            if (10..20).contains(&c) {
                assert_eq!(*v, 1.0);
            } else {
                assert!((v - 1.0).abs() < 1e-9, "chan {c}: {v}");
            }
        }
    }
}
