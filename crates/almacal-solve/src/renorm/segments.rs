//! Spectral segmentation for the baseline fits (algorithms.md §9.3 step 4): how many
//! segments a spw is cut into and their channel ranges.
//!
//! Rules (almacal's statement of the ACReNorm heuristic with `bwdiv='odd'`):
//! * `nchan ≤ 128`, or a bandwidth not above `bwthresh`: one segment;
//! * otherwise at most 3 (`nchan ≤ 300`), 5 (`≤ 550`) or 7 segments; the wanted count is
//!   `ceil(BW / bwthresh)` capped at that maximum and made odd (rounded up when that stays
//!   within the maximum, else down);
//! * the count is then lowered in odd steps until it divides `nchan` or leaves a remainder of
//!   at most `edge · nchan` channels; if no odd count ≥ 3 qualifies, the fallback is the power
//!   of two `2^ceil(log2(BW / bwthresh))`, capped at the maximum.
//!
//! Segment `k` spans `[k·d, (k+1)·d)` with `d = nchan / nseg` (integer division); the last
//! segment also takes the remainder.

use std::ops::Range;

/// Default bandwidth per segment (Hz), ACReNorm's `bwthresh`.
pub const BWTHRESH_HZ: f64 = 120e6;

/// The largest number of segments allowed for `nchan` channels.
pub fn max_segments(nchan: usize) -> usize {
    match nchan {
        0..=128 => 1,
        129..=300 => 3,
        301..=550 => 5,
        _ => 7,
    }
}

/// Number of fit segments for a spw of `nchan` channels spanning `bandwidth_hz`.
pub fn n_segments(nchan: usize, bandwidth_hz: f64, bwthresh_hz: f64, edge: f64) -> usize {
    let max = max_segments(nchan);
    let bw = bandwidth_hz.abs();
    if max == 1 || bwthresh_hz.is_nan() || bwthresh_hz <= 0.0 || bw <= bwthresh_hz {
        return 1;
    }
    let ratio = bw / bwthresh_hz;
    let wanted = (ratio.ceil() as usize).clamp(1, max);
    let mut n = if wanted % 2 == 1 {
        wanted
    } else if wanted < max {
        wanted + 1
    } else {
        wanted - 1
    };
    let tol = edge * nchan as f64;
    while n >= 3 {
        let rem = nchan % n;
        if rem == 0 || rem as f64 <= tol {
            return n;
        }
        n -= 2;
    }
    let pow2 = 2usize.pow(ratio.log2().ceil().max(0.0) as u32);
    pow2.clamp(1, max)
}

/// Channel ranges of `nseg` segments over `nchan` channels (the last takes the remainder).
pub fn segment_ranges(nchan: usize, nseg: usize) -> Vec<Range<usize>> {
    let nseg = nseg.clamp(1, nchan.max(1));
    let d = nchan / nseg;
    (0..nseg)
        .map(|k| {
            let lo = k * d;
            let hi = if k + 1 == nseg { nchan } else { (k + 1) * d };
            lo..hi
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BW: f64 = 1.875e9;

    #[test]
    fn counts_for_typical_channel_numbers() {
        let got: Vec<usize> = [64, 128, 300, 1024, 3840]
            .iter()
            .map(|&n| n_segments(n, BW, BWTHRESH_HZ, 0.01))
            .collect();
        assert_eq!(got, vec![1, 1, 3, 7, 7]);
    }

    #[test]
    fn narrow_windows_get_one_segment() {
        assert_eq!(n_segments(3840, 58.6e6, BWTHRESH_HZ, 0.01), 1);
        // 250 MHz over 480 channels: ceil(2.08) = 3 segments, 480 = 3 × 160.
        assert_eq!(n_segments(480, 250e6, BWTHRESH_HZ, 0.01), 3);
    }

    #[test]
    fn falls_back_when_no_odd_count_fits() {
        // 298 channels: at most 3; 298 % 3 = 1 ≤ 2.98 channels of edge tolerance.
        assert_eq!(n_segments(298, BW, BWTHRESH_HZ, 0.01), 3);
        // Without tolerance no odd count fits: 2^ceil(log2(15.6)) = 16, capped at 3.
        assert_eq!(n_segments(298, BW, BWTHRESH_HZ, 0.0), 3);
        // 500 channels, 400 MHz: wanted ceil(3.33) = 4 → odd 5; 500 % 5 = 0.
        assert_eq!(n_segments(500, 400e6, BWTHRESH_HZ, 0.0), 5);
        // 502 channels, 300 MHz, no tolerance: wanted 3, 502 % 3 = 1 → fallback 2^2 = 4.
        assert_eq!(n_segments(502, 300e6, BWTHRESH_HZ, 0.0), 4);
    }

    #[test]
    fn ranges_cover_every_channel_once() {
        let r = segment_ranges(1024, 7);
        assert_eq!(r.len(), 7);
        assert_eq!(r[0], 0..146);
        assert_eq!(r[6], 876..1024);
        let total: usize = r.iter().map(|s| s.len()).sum();
        assert_eq!(total, 1024);
        assert_eq!(segment_ranges(64, 1), vec![0..64]);
    }
}
