//! The per-scan scaling statistic (algorithms.md §9.3 step 9): for each correlation, the
//! mean over antennas of each antenna's maximum over channels (antennas whose maximum is
//! exactly 1, i.e. reset or fully excluded, do not count); the scaling value is the mean of
//! that over correlations.

use ndarray::ArrayView3;

/// `(per-correlation Nmax, scaling value)` of a renormalization spectrum (pol, ant, chan).
/// A correlation with no counting antenna is left out; none at all gives 1.0.
pub fn scaling_statistic(n_pac: ArrayView3<'_, f64>) -> (Vec<f64>, f64) {
    let (npol, nant, _) = n_pac.dim();
    let mut per_pol = Vec::with_capacity(npol);
    for p in 0..npol {
        let maxes: Vec<f64> = (0..nant)
            .map(|a| {
                n_pac
                    .slice(ndarray::s![p, a, ..])
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .fold(f64::MIN, f64::max)
            })
            .filter(|&m| m != 1.0 && m > f64::MIN)
            .collect();
        if !maxes.is_empty() {
            per_pol.push(maxes.iter().sum::<f64>() / maxes.len() as f64);
        }
    }
    let scaling = if per_pol.is_empty() {
        1.0
    } else {
        per_pol.iter().sum::<f64>() / per_pol.len() as f64
    };
    (per_pol, scaling)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array3;

    #[test]
    fn mean_of_maxima_skipping_reset_antennas() {
        let mut n = Array3::from_elem((2, 3, 8), 1.0);
        n[[0, 0, 3]] = 1.20;
        n[[0, 1, 4]] = 1.30;
        // Antenna 2 was reset to 1.0: it does not count.
        n[[1, 0, 3]] = 1.10;
        n[[1, 1, 3]] = 1.10;
        n[[1, 2, 3]] = 1.40;
        let (pp, s) = scaling_statistic(n.view());
        assert!((pp[0] - 1.25).abs() < 1e-12);
        assert!((pp[1] - 1.2).abs() < 1e-12);
        assert!((s - 1.225).abs() < 1e-12);
        let flat = Array3::from_elem((2, 3, 8), 1.0);
        assert_eq!(scaling_statistic(flat.view()).1, 1.0);
    }
}
