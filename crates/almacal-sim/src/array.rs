//! The ACA 7 m array: CM01…CM12 on compact ACA pads (local offsets from the ALMA site
//! reference, as in CASA's public `aca.cycle10.named.cfg`, with CM11/CM12 on pads J507 and
//! N603), true ITRF positions, and the few-millimetre position errors the ANTENNA table holds.

use crate::geometry::{local_to_itrf, V3};
use crate::rng::{Rng, Tag};

/// (name, pad, east, north, up) in metres from the array reference point.
const PADS: [(&str, &str, f64, f64, f64); 12] = [
    ("CM01", "N601", -37.014, -551.932, -2.325),
    ("CM02", "N602", -49.286, -547.231, -2.315),
    ("CM03", "N604", -58.371, -591.284, -2.323),
    ("CM04", "N606", -38.887, -585.953, -2.317),
    ("CM05", "J501", -47.995, -564.859, -2.318),
    ("CM06", "J502", -55.970, -568.820, -2.322),
    ("CM07", "J506", -63.037, -574.717, -2.320),
    ("CM08", "J503", -48.845, -574.436, -2.325),
    ("CM09", "J504", -35.892, -569.621, -2.319),
    ("CM10", "J505", -65.318, -560.701, -2.320),
    ("CM11", "J507", -36.945, -560.010, -2.085),
    ("CM12", "N603", -58.145, -547.207, -2.091),
];

/// Dish diameter of the ACA 7 m antennas (m).
pub const DISH_M: f64 = 7.0;

/// One simulated antenna.
#[derive(Debug, Clone, PartialEq)]
pub struct SimAntenna {
    pub name: String,
    pub station: String,
    /// Where the antenna really is (ITRF, m); the data phases use this.
    pub itrf_true: V3,
    /// What the ANTENNA table says: true − error.
    pub itrf_in_ms: V3,
    /// true − ANTENNA-table position (m).
    pub error_m: V3,
}

/// The first `n` antennas with their position errors: N(0, 1.2 mm) per component, plus a
/// larger error on CM11 (≈ 8 mm) and CM07 (≈ 4 mm), as real antenna moves leave.
pub fn antennas(n: usize, seed: u64) -> Vec<SimAntenna> {
    PADS.iter()
        .take(n)
        .enumerate()
        .map(|(k, &(name, pad, e, nn, u))| {
            let itrf_true = local_to_itrf([e, nn, u]);
            let mut rng = Rng::new(seed, Tag::AntPos, &[k as u64]);
            let mut err = [0.0; 3];
            for x in &mut err {
                *x = 0.0012 * rng.normal();
            }
            let extra = match name {
                "CM11" => 0.008,
                "CM07" => 0.004,
                _ => 0.0,
            };
            if extra > 0.0 {
                let d = [rng.normal(), rng.normal(), rng.normal()];
                let norm = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt().max(1e-9);
                for i in 0..3 {
                    err[i] += extra * d[i] / norm;
                }
            }
            let itrf_in_ms = [
                itrf_true[0] - err[0],
                itrf_true[1] - err[1],
                itrf_true[2] - err[2],
            ];
            SimAntenna {
                name: name.into(),
                station: pad.into(),
                itrf_true,
                itrf_in_ms,
                error_m: err,
            }
        })
        .collect()
}

/// Baselines in MS order: (ant1, ant2) with ant1 ≤ ant2, autocorrelations included.
pub fn baselines(n: usize) -> Vec<(usize, usize)> {
    (0..n).flat_map(|i| (i..n).map(move |j| (i, j))).collect()
}
