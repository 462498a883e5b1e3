//! Built-in atmospheric-line exclusion (`atm_auto_exclude`), without CASA's `atmosphere`
//! tool or the internet.
//!
//! ACReNorm models the transmission across each spw with CASA's ATM model, finds features
//! (peak height ≥ 0.01), fits Lorentzians and excludes ±1.3 γ around each centre. almacal
//! replaces the model by a small catalogue of the strong H2O, O2 and O3 lines that fall in
//! ALMA bands 1–10 ([`CATALOGUE`]). Each line has a Lorentzian half width γ₀ at the reference
//! pressure and a zenith peak opacity τ₀ (per mm of PWV for water). Under the observing
//! conditions ([`Conditions`]) a line is a feature of a spw when its centre lies inside the
//! spw (a line centred outside only tilts the spectrum, which the baseline fit absorbs) and
//! its transmission dip `1 − exp(−τ₀·A·(PWV))` reaches 0.01. Its exclusion is centre ± 1.3 γ
//! with γ = γ₀·P/P₀ for tropospheric species (H2O, O2); stratospheric O3 keeps γ₀.
//! See `docs/renorm.md` for how this differs from CASA.

use std::ops::Range;

/// Species of a catalogued line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Species {
    H2O,
    O2,
    O3,
}

/// One catalogued atmospheric line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AtmLine {
    pub species: Species,
    pub centre_ghz: f64,
    /// Lorentzian half width at half maximum at the reference pressure (MHz).
    pub hwhm_mhz: f64,
    /// Zenith peak opacity above the continuum (per mm PWV for H2O).
    pub tau0: f64,
}

const fn line(species: Species, centre_ghz: f64, hwhm_mhz: f64, tau0: f64) -> AtmLine {
    AtmLine {
        species,
        centre_ghz,
        hwhm_mhz,
        tau0,
    }
}

/// Reference pressure of the catalogue widths (hPa, the ALMA site).
pub const P0_HPA: f64 = 555.0;

/// The catalogue: strong lines in (or at the edges of) ALMA bands. Widths and opacities are
/// order-of-magnitude values for the Chajnantor site, good enough to place an exclusion
/// window, not to model the transmission.
pub const CATALOGUE: &[AtmLine] = &[
    // Water vapour (tropospheric, pressure broadened).
    line(Species::H2O, 183.310, 1300.0, 4.0),
    line(Species::H2O, 325.153, 1300.0, 1.5),
    line(Species::H2O, 380.197, 1300.0, 5.0),
    line(Species::H2O, 448.001, 1300.0, 3.0),
    line(Species::H2O, 474.689, 1300.0, 0.6),
    line(Species::H2O, 556.936, 1300.0, 50.0),
    line(Species::H2O, 620.701, 1300.0, 2.0),
    line(Species::H2O, 752.033, 1300.0, 40.0),
    line(Species::H2O, 916.172, 1300.0, 3.0),
    line(Species::H2O, 970.315, 1300.0, 3.0),
    line(Species::H2O, 987.927, 1300.0, 20.0),
    // Molecular oxygen (well mixed, pressure broadened).
    line(Species::O2, 118.750, 900.0, 3.0),
    line(Species::O2, 368.498, 900.0, 1.0),
    line(Species::O2, 424.763, 900.0, 8.0),
    line(Species::O2, 487.249, 900.0, 2.0),
    line(Species::O2, 715.393, 900.0, 2.0),
    line(Species::O2, 773.840, 900.0, 5.0),
    line(Species::O2, 834.146, 900.0, 3.0),
    // Ozone (stratospheric: narrow, width independent of the ground pressure).
    line(Species::O3, 93.955, 2.0, 0.03),
    line(Species::O3, 101.737, 2.0, 0.05),
    line(Species::O3, 103.878, 2.0, 0.03),
    line(Species::O3, 110.836, 2.0, 0.08),
    line(Species::O3, 231.281, 2.0, 0.05),
    line(Species::O3, 242.319, 2.0, 0.08),
    line(Species::O3, 243.454, 2.0, 0.05),
    line(Species::O3, 244.158, 2.0, 0.05),
    line(Species::O3, 258.202, 2.0, 0.05),
    line(Species::O3, 282.837, 2.0, 0.05),
    line(Species::O3, 290.975, 2.0, 0.05),
    line(Species::O3, 293.171, 2.0, 0.08),
    line(Species::O3, 293.548, 2.0, 0.05),
    line(Species::O3, 303.165, 2.0, 0.05),
];

/// Observing conditions that scale the catalogue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conditions {
    pub pwv_mm: f64,
    pub pressure_hpa: f64,
    pub airmass: f64,
}

impl Default for Conditions {
    /// Typical ALMA conditions when the MS records none: 1 mm PWV, 555 hPa, airmass 1.5.
    fn default() -> Self {
        Self {
            pwv_mm: 1.0,
            pressure_hpa: P0_HPA,
            airmass: 1.5,
        }
    }
}

/// A catalogued line that affects a spw, with its exclusion.
#[derive(Debug, Clone, PartialEq)]
pub struct AtmFeature {
    pub line: AtmLine,
    /// Transmission dip depth under the conditions.
    pub depth: f64,
    /// Excluded frequency interval (Hz).
    pub lo_hz: f64,
    pub hi_hz: f64,
    /// Excluded channels `[lo, hi)`.
    pub chans: Range<usize>,
}

impl AtmLine {
    /// Peak opacity along the line of sight under `c`.
    pub fn tau(&self, c: &Conditions) -> f64 {
        let col = if self.species == Species::H2O {
            c.pwv_mm
        } else {
            1.0
        };
        self.tau0 * c.airmass * col
    }

    /// Half width (Hz) under `c`.
    pub fn hwhm_hz(&self, c: &Conditions) -> f64 {
        let scale = match self.species {
            Species::O3 => 1.0,
            _ => c.pressure_hpa / P0_HPA,
        };
        self.hwhm_mhz * 1e6 * scale
    }
}

/// The catalogued lines centred inside a spw with `freqs_hz` (any order) whose dip reaches
/// 0.01, and the channels within ±1.3 γ of each.
pub fn atm_features(freqs_hz: &[f64], c: &Conditions) -> Vec<AtmFeature> {
    let Some(fmin) = freqs_hz.iter().copied().reduce(f64::min) else {
        return Vec::new();
    };
    let fmax = freqs_hz.iter().copied().fold(fmin, f64::max);
    CATALOGUE
        .iter()
        .filter_map(|l| {
            let f0 = l.centre_ghz * 1e9;
            if f0 < fmin || f0 > fmax {
                return None;
            }
            let depth = 1.0 - (-l.tau(c)).exp();
            if depth < 0.01 {
                return None;
            }
            let half = 1.3 * l.hwhm_hz(c);
            let (lo_hz, hi_hz) = (f0 - half, f0 + half);
            let inside: Vec<usize> = freqs_hz
                .iter()
                .enumerate()
                .filter(|(_, &f)| f >= lo_hz && f <= hi_hz)
                .map(|(k, _)| k)
                .collect();
            let (&a, &b) = (inside.first()?, inside.last()?);
            Some(AtmFeature {
                line: *l,
                depth,
                lo_hz,
                hi_hz,
                chans: a..b + 1,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(start_ghz: f64, step_mhz: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|k| start_ghz * 1e9 + step_mhz * 1e6 * k as f64)
            .collect()
    }

    #[test]
    fn ozone_line_in_band6_is_excluded_narrowly() {
        let f = grid(242.0, 0.5, 1920); // 242.0 – 242.96 GHz
        let feats = atm_features(&f, &Conditions::default());
        assert_eq!(feats.len(), 1);
        let ft = &feats[0];
        assert_eq!(ft.line.species, Species::O3);
        // ±1.3 × 2 MHz around 242.319 GHz on a 0.5 MHz grid: channels 633 … 643.
        assert_eq!(ft.chans, 633..644);
        // Same on a descending (LSB) grid: the channels mirror.
        let d: Vec<f64> = f.iter().rev().copied().collect();
        let fd = atm_features(&d, &Conditions::default());
        assert_eq!(fd[0].chans, 1919 - 643..1919 - 633 + 1);
    }

    #[test]
    fn water_width_scales_with_pressure_and_pwv_sets_detection() {
        let f = grid(320.0, 10.0, 1000); // 320 – 330 GHz
        let dry = Conditions {
            pwv_mm: 0.001,
            ..Conditions::default()
        };
        assert!(atm_features(&f, &dry).is_empty());
        let wet = Conditions::default();
        let w1 = atm_features(&f, &wet)[0].chans.len();
        let low_p = Conditions {
            pressure_hpa: P0_HPA / 2.0,
            ..wet
        };
        let w2 = atm_features(&f, &low_p)[0].chans.len();
        assert!((w1 as f64 / w2 as f64 - 2.0).abs() < 0.05, "{w1} vs {w2}");
    }

    #[test]
    fn the_reference_science_windows_have_no_catalogued_feature() {
        for centre in [345.996, 347.871, 333.996, 335.871] {
            let f = grid(centre - 0.9375, 29.3, 64);
            assert!(
                atm_features(&f, &Conditions::default()).is_empty(),
                "{centre}"
            );
        }
    }
}
