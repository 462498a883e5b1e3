//! The normalisation vocabulary shared by the gain and bandpass post-solve steps and
//! fluxscale: `normtype`, and casacore's median.

use serde::{Deserialize, Serialize};

/// `normtype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NormType {
    Mean,
    Median,
}

/// Median with even counts averaged (casacore `median`).
pub fn median_even_mean(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}
