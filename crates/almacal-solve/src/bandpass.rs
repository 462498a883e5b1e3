//! Bandpass specifics (algorithms.md §2): the data-channel → solution-channel map for
//! frequency solints, solnorm per antenna/pol/time over channels (vector-mean phase and
//! rms amplitude), and fillgaps (linear amplitude/phase interpolation across short runs of
//! flagged channels). The per-channel solve itself is [`crate::solution::solve_cell`].

use crate::norm::{median_even_mean, NormType};
use crate::not_positive;
use crate::solint::{chans_per_bin, freq_bins, FreqSolint};
use crate::solution::SolutionCell;
use num_complex::Complex64;
use std::f64::consts::PI;
use std::ops::Range;

/// Bins of the selected channels and, for each selected channel, its bin.
pub fn channel_bins(
    nchan: usize,
    freq: FreqSolint,
    chan_width0_hz: f64,
) -> (Vec<Range<usize>>, Vec<Option<usize>>) {
    let bins = freq_bins(nchan, chans_per_bin(freq, chan_width0_hz));
    let mut map = vec![None; nchan];
    for (b, r) in bins.iter().enumerate() {
        for m in &mut map[r.clone()] {
            *m = Some(b);
        }
    }
    (bins, map)
}

/// B solnorm (§2.2): for each antenna and polarization, over unflagged channels (≥ 2),
/// divide all channels by sqrt(mean |b|²)·exp(i·arg Σ b/|b|) (or the median amplitude).
pub fn bandpass_normalize(cell: &mut SolutionCell, norm: NormType) {
    let (nant, npar, nchan) = (cell.nant(), cell.npar(), cell.nchan());
    for a in 0..nant {
        for p in 0..npar {
            let mut ph = Complex64::new(0.0, 0.0);
            let mut amps = Vec::new();
            for ch in 0..nchan {
                if cell.flag[[a, p, ch]] {
                    continue;
                }
                let z = cell.params[[a, p, ch]];
                let n = z.norm();
                if n > 0.0 {
                    ph += z / n;
                }
                amps.push(z.norm_sqr());
            }
            if amps.len() < 2 {
                continue;
            }
            let a2 = match norm {
                NormType::Mean => amps.iter().sum::<f64>() / amps.len() as f64,
                NormType::Median => median_even_mean(&mut amps).unwrap_or(0.0),
            };
            if not_positive(a2) {
                continue;
            }
            let phase = if ph.norm() > 0.0 {
                ph / ph.norm()
            } else {
                Complex64::new(1.0, 0.0)
            };
            let f = phase * a2.sqrt();
            for ch in 0..nchan {
                cell.params[[a, p, ch]] /= f;
            }
        }
    }
}

fn wrap(x: f64) -> f64 {
    let mut y = (x + PI).rem_euclid(2.0 * PI) - PI;
    if y == -PI {
        y = PI;
    }
    y
}

/// fillgaps (§2.5): runs of ≤ `maxgap` flagged channels bounded by unflagged channels on
/// both sides get linearly interpolated amplitude and phase and become unflagged.
pub fn fill_gaps(cell: &mut SolutionCell, maxgap: usize) {
    let (nant, npar, nchan) = (cell.nant(), cell.npar(), cell.nchan());
    for a in 0..nant {
        for p in 0..npar {
            let mut ch = 0;
            while ch < nchan {
                if !cell.flag[[a, p, ch]] {
                    ch += 1;
                    continue;
                }
                let start = ch;
                while ch < nchan && cell.flag[[a, p, ch]] {
                    ch += 1;
                }
                let end = ch; // exclusive
                if start == 0 || end == nchan || end - start > maxgap {
                    continue;
                }
                let lo = cell.params[[a, p, start - 1]];
                let hi = cell.params[[a, p, end]];
                let (alo, ahi) = (lo.norm(), hi.norm());
                let plo = lo.arg();
                let dph = wrap(hi.arg() - plo);
                let span = (end - start + 1) as f64;
                for k in start..end {
                    let x = (k - start + 1) as f64 / span;
                    let amp = alo + (ahi - alo) * x;
                    cell.params[[a, p, k]] = Complex64::from_polar(amp, plo + dph * x);
                    cell.flag[[a, p, k]] = false;
                }
            }
        }
    }
}
