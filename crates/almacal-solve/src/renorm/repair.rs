//! Spectrum repairs after the baseline fit (algorithms.md §9.3 steps 6 and 8): edge
//! channels set to the spectrum's median, and outlier antennas replaced by the median
//! spectrum over antennas.

use super::fit::median;

/// Set the first and last `ceil(mededge · nchan)` channels to the median of the spectrum.
pub fn fix_edges(spec: &mut [f64], mededge: f64) {
    let n = spec.len();
    if n == 0 || mededge.is_nan() || mededge <= 0.0 {
        return;
    }
    let k = ((mededge * n as f64).ceil() as usize).min(n / 2);
    let m = median(spec);
    for v in spec.iter_mut().take(k) {
        *v = m;
    }
    for v in spec.iter_mut().skip(n - k) {
        *v = m;
    }
}

/// Running median of width `w` (shrinking at the ends).
fn running_median(v: &[f64], w: usize) -> Vec<f64> {
    let h = w / 2;
    (0..v.len())
        .map(|c| median(&v[c.saturating_sub(h)..(c + h + 1).min(v.len())]))
        .collect()
}

/// The median spectrum over antennas (per channel, ignoring values exactly 1.0, i.e.
/// excluded channels and reset antennas), despiked: where it deviates from its 5-channel
/// running median by more than `0.5·max(peak − 1, 0.0025)` the running median is used.
pub fn median_spectrum(specs: &[&[f64]]) -> Vec<f64> {
    let nchan = specs.first().map_or(0, |s| s.len());
    let m: Vec<f64> = (0..nchan)
        .map(|c| {
            let v: Vec<f64> = specs.iter().map(|s| s[c]).filter(|&x| x != 1.0).collect();
            if v.is_empty() {
                1.0
            } else {
                median(&v)
            }
        })
        .collect();
    let peak = m.iter().copied().fold(1.0, f64::max);
    let tol = 0.5 * (peak - 1.0).max(0.0025);
    let rm = running_median(&m, 5);
    m.iter()
        .zip(&rm)
        .map(|(&a, &b)| if (a - b).abs() > tol { b } else { a })
        .collect()
}

/// What the outlier check did to one antenna.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutlierAction {
    None,
    /// This many channels were replaced by the median spectrum.
    Channels(usize),
    /// The whole spectrum was replaced.
    Whole,
}

/// Longest run of outlier channels, bridging gaps of at most `gap` good channels.
fn longest_run(bad: &[bool], gap: usize) -> usize {
    let (mut best, mut start, mut last_bad): (usize, Option<usize>, usize) = (0, None, 0);
    for (c, &b) in bad.iter().enumerate() {
        if !b {
            continue;
        }
        match start {
            Some(s) if c - last_bad <= gap + 1 => {
                best = best.max(c - s + 1);
            }
            _ => {
                start = Some(c);
                best = best.max(1);
            }
        }
        last_bad = c;
    }
    best
}

/// The median spectrum scaled to an antenna: `1 + k (m − 1)`, with `k` the least-squares
/// ratio of the antenna's line excess to the median's over channels where the median exceeds
/// 1.0025 (clamped to [0.25, 4]; 1 without such channels). A line's excess scales with
/// 1/Tsys of each antenna, so antennas with a lower Tsys legitimately see a stronger line.
pub fn scaled_reference(spec: &[f64], m: &[f64]) -> Vec<f64> {
    let (mut num, mut den) = (0.0, 0.0);
    for (&v, &r) in spec.iter().zip(m) {
        if r > 1.0025 && v.is_finite() {
            num += (v - 1.0) * (r - 1.0);
            den += (r - 1.0) * (r - 1.0);
        }
    }
    let k = if den > 0.0 {
        (num / den).clamp(0.25, 4.0)
    } else {
        1.0
    };
    m.iter().map(|&r| 1.0 + k * (r - 1.0)).collect()
}

/// Replace outlier channels of `spec` by the antenna's scaled median spectrum
/// `r = scaled_reference(spec, m)` (almacal's refinement of ACReNorm, which uses `m` itself):
/// a channel is an outlier if `1 + |spec/r − 1|` exceeds `max(1.0025, max of r within ±10
/// channels)`. If more than 10 % of the channels, or a run of more than 10 (gaps of up to 2
/// bridged), are outliers, the whole spectrum becomes `r`.
pub fn fix_outliers(spec: &mut [f64], m: &[f64]) -> OutlierAction {
    let n = spec.len().min(m.len());
    if n == 0 {
        return OutlierAction::None;
    }
    let r = scaled_reference(&spec[..n], &m[..n]);
    let bad: Vec<bool> = (0..n)
        .map(|c| {
            let lo = c.saturating_sub(10);
            let hi = (c + 10).min(n);
            let local = r[lo..hi].iter().copied().fold(1.0025, f64::max);
            let q = if r[c] != 0.0 { spec[c] / r[c] } else { 1.0 };
            1.0 + (q - 1.0).abs() > local
        })
        .collect();
    let count = bad.iter().filter(|&&b| b).count();
    if count == 0 {
        return OutlierAction::None;
    }
    if count as f64 > 0.1 * n as f64 || longest_run(&bad, 2) > 10 {
        spec[..n].copy_from_slice(&r);
        return OutlierAction::Whole;
    }
    for c in 0..n {
        if bad[c] {
            spec[c] = r[c];
        }
    }
    OutlierAction::Channels(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_take_the_median() {
        let mut s: Vec<f64> = (0..200).map(|c| 1.0 + 0.001 * c as f64).collect();
        s[0] = 0.2;
        s[199] = 5.0;
        fix_edges(&mut s, 0.01);
        // ceil(0.01 × 200) = 2 channels per side.
        let m = 1.0 + 0.001 * 99.5;
        for c in [0, 1, 198, 199] {
            assert!((s[c] - m).abs() < 1e-12, "chan {c}: {}", s[c]);
        }
        assert!((s[2] - 1.002).abs() < 1e-12);
        let mut t = vec![2.0, 1.0, 1.0, 1.0, 1.0];
        fix_edges(&mut t, 0.01);
        assert_eq!(t, vec![1.0; 5]);
    }

    #[test]
    fn outlier_antenna_is_replaced_by_the_median_spectrum() {
        let line = |c: usize| 1.0 + 0.2 * (-0.5 * ((c as f64 - 40.0) / 3.0).powi(2)).exp();
        let good: Vec<Vec<f64>> = (0..7)
            .map(|a| {
                (0..128)
                    .map(|c| line(c) * (1.0 + 1e-4 * a as f64))
                    .collect()
            })
            .collect();
        // A broken antenna: a 3 % step over half the band.
        let mut broken: Vec<f64> = (0..128)
            .map(|c| line(c) * if c > 64 { 1.03 } else { 1.0 })
            .collect();
        let mut refs: Vec<&[f64]> = good.iter().map(|s| s.as_slice()).collect();
        refs.push(&broken);
        let m = median_spectrum(&refs);
        assert!((m[40] - 1.2003).abs() < 1e-3, "{}", m[40]);
        let action = fix_outliers(&mut broken, &m);
        assert_eq!(action, OutlierAction::Whole);
        // Its line matches the median's (k ≈ 1), so it becomes (nearly) the median.
        assert!(broken.iter().zip(&m).all(|(a, b)| (a - b).abs() < 1e-3));
        // A good antenna is untouched.
        let mut g = good[3].clone();
        assert_eq!(fix_outliers(&mut g, &m), OutlierAction::None);
        assert_eq!(g, good[3]);
        // A single spike far from the line is patched channel-wise.
        let mut spiky = good[1].clone();
        spiky[100] = 1.05;
        assert_eq!(fix_outliers(&mut spiky, &m), OutlierAction::Channels(1));
        assert!((spiky[100] - m[100]).abs() < 1e-3);
        // An antenna with half the Tsys sees the line twice as strong: not an outlier.
        let mut strong: Vec<f64> = m.iter().map(|v| 1.0 + 2.0 * (v - 1.0)).collect();
        let before = strong.clone();
        assert_eq!(fix_outliers(&mut strong, &m), OutlierAction::None);
        assert_eq!(strong, before);
    }

    #[test]
    fn median_spectrum_ignores_reset_values_and_despikes() {
        let a = vec![1.01, 1.01, 1.01, 1.01, 1.01, 1.01, 1.01];
        let b = vec![1.0; 7];
        let mut c = a.clone();
        c[3] = 1.5;
        let mut d = a.clone();
        d[3] = 1.5;
        let m = median_spectrum(&[&a, &b, &c, &d]);
        // Channel 3: median of {1.01, 1.5, 1.5} = 1.5, a spike against its neighbours: the
        // 5-channel running median (1.01) replaces it only if 0.49 > 0.5·0.5 → yes.
        assert!((m[3] - 1.01).abs() < 1e-12, "{m:?}");
        assert!((m[0] - 1.01).abs() < 1e-12);
    }

    #[test]
    fn runs_bridge_small_gaps() {
        let mut bad = vec![false; 40];
        for c in [5, 6, 8, 9, 11, 12, 14, 15, 17, 18] {
            bad[c] = true;
        }
        assert_eq!(longest_run(&bad, 2), 14);
        assert_eq!(longest_run(&bad, 0), 2);
    }
}
