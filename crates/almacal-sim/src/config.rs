//! Simulation parameters and the named presets (`tiny`, `tutorial`, `bench-N`).

use crate::error::{SimError, SimResult};

/// Everything that shapes a simulated observation.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    pub preset: String,
    pub seed: u64,
    /// Channels per science spw.
    pub nchan: usize,
    /// Channels per Tsys (TDM-like) spw.
    pub nchan_tsys: usize,
    /// Number of antennas, the first ones of CM01…CM12.
    pub n_antennas: usize,
    /// Science integration time (s).
    pub tint_s: f64,
    /// Integrations of the bandpass scan, each phase-calibrator scan and each target scan.
    pub bandpass_ints: usize,
    pub phase_ints: usize,
    pub target_ints: usize,
    /// Phase-calibrator/target cycles.
    pub cycles: usize,
    /// Noise scale: 1 = radiometer noise consistent with WEIGHT/SIGMA, 0 = noise-free.
    pub noise: f64,
    /// Corrupt CM05 in spw 20 over three scans.
    pub fault: bool,
    /// Put the target's line emission in its line-spw autocorrelations (and the matching
    /// correlator-normalisation suppression of its cross-correlations). `false` simulates a
    /// target without line (the renorm "no table needed" case).
    pub target_line: bool,
    /// Local sidereal time at the start (h) on 2016-04-15.
    pub lst_start_h: f64,
    /// Generator threads (0 = rayon's default). The output does not depend on it.
    pub threads: usize,
    /// Scenario degradations (flags, zero weights), applied after the data are generated.
    pub degrades: Vec<crate::degrade::Degrade>,
    /// Four correlations XX, XY, YX, YY instead of XX, YY (cross hands hold noise only).
    pub full_pol: bool,
}

/// Fixed scan overhead before the first cycle (pointing, atmosphere, bandpass setup), min.
const SETUP_MIN: f64 = 3.5;
/// Gap between scans (s).
pub const SCAN_GAP_S: f64 = 8.064;

impl SimConfig {
    /// The preset `name`: `tiny`, `tutorial` or `bench-N` (N in GB, ≥ 1).
    pub fn preset(name: &str) -> SimResult<Self> {
        let tiny = SimConfig {
            preset: "tiny".into(),
            seed: 1,
            nchan: 32,
            nchan_tsys: 16,
            n_antennas: 12,
            tint_s: 10.08,
            bandpass_ints: 6,
            phase_ints: 2,
            target_ints: 6,
            cycles: 3,
            noise: 1.0,
            fault: false,
            target_line: true,
            lst_start_h: 15.3,
            threads: 0,
            degrades: Vec::new(),
            full_pol: false,
        };
        let tutorial = SimConfig {
            preset: "tutorial".into(),
            nchan: 1024,
            nchan_tsys: 128,
            bandpass_ints: 30,
            phase_ints: 6,
            target_ints: 36,
            cycles: 5,
            ..tiny.clone()
        };
        match name {
            "tiny" => Ok(tiny),
            "tutorial" => Ok(tutorial),
            _ => {
                let gb = name
                    .strip_prefix("bench-")
                    .and_then(|n| n.parse::<f64>().ok())
                    .filter(|g| g.is_finite() && *g > 0.0 && *g <= 10_000.0)
                    .ok_or_else(|| {
                        SimError::Config(format!(
                            "unknown preset {name:?}; expected tiny, tutorial or bench-N (N in GB)"
                        ))
                    })?;
                let mut c = tutorial;
                c.preset = name.into();
                // Measured on the tutorial shape (12 antennas, 1024 channels): about 0.20 GB
                // before the first cycle and 0.23 GB per phase-calibrator/target cycle.
                c.cycles = (((gb - 0.20) / 0.23).round() as usize).max(1);
                Ok(c)
            }
        }
    }

    /// Set the number of cycles so that the track lasts about `minutes`.
    pub fn set_duration_min(&mut self, minutes: f64) -> SimResult<()> {
        if !(minutes.is_finite() && minutes > 0.0) {
            return Err(SimError::Config(format!(
                "--duration-min must be > 0, got {minutes}"
            )));
        }
        let cycle_min =
            ((self.phase_ints + self.target_ints) as f64 * self.tint_s + 2.0 * SCAN_GAP_S) / 60.0;
        let bp_min = self.bandpass_ints as f64 * self.tint_s / 60.0;
        let left = minutes - SETUP_MIN - bp_min;
        self.cycles = ((left / cycle_min).round() as usize).max(1);
        Ok(())
    }

    /// Check ranges; call after applying command-line overrides.
    pub fn validate(&self) -> SimResult<()> {
        let bad = |m: String| Err(SimError::Config(m));
        if !(2..=12).contains(&self.n_antennas) {
            return bad(format!("--antennas must be 2..12, got {}", self.n_antennas));
        }
        if !(4..=16_384).contains(&self.nchan) {
            return bad(format!("--nchan must be 4..16384, got {}", self.nchan));
        }
        if !(4..=4096).contains(&self.nchan_tsys) {
            return bad(format!(
                "Tsys channels must be 4..4096, got {}",
                self.nchan_tsys
            ));
        }
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            return bad(format!("--noise must be >= 0, got {}", self.noise));
        }
        if self.fault && self.cycles < 2 {
            return bad("--fault needs at least 2 cycles (a longer --duration-min)".into());
        }
        if self.bandpass_ints == 0 || self.phase_ints == 0 || self.target_ints == 0 {
            return bad("every scan needs at least one integration".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse() {
        assert_eq!(SimConfig::preset("tiny").unwrap().nchan, 32);
        assert_eq!(SimConfig::preset("tutorial").unwrap().nchan, 1024);
        let b = SimConfig::preset("bench-2").unwrap();
        assert!(b.cycles > SimConfig::preset("tutorial").unwrap().cycles);
        assert!(SimConfig::preset("bench-x").is_err());
        assert!(SimConfig::preset("huge").is_err());
    }

    #[test]
    fn duration_sets_cycles() {
        let mut c = SimConfig::preset("tutorial").unwrap();
        c.set_duration_min(45.0).unwrap();
        assert!((4..=6).contains(&c.cycles), "{}", c.cycles);
        assert!(c.set_duration_min(-1.0).is_err());
    }
}
