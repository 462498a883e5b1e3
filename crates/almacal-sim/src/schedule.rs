//! The observing schedule: scans, their intents (STATE rows), fields, observed spws and
//! integration times, shaped like the tutorial's ACA execution (pointing, atmosphere,
//! bandpass/flux, then phase-calibrator/target cycles with a mid-track atmosphere pair).

use crate::config::{SimConfig, SCAN_GAP_S};
use crate::spws::{POINTING_SPWS, SCIENCE_SPWS, TSYS_SPWS};

/// Field ids.
pub const FIELD_BANDPASS: usize = 0;
pub const FIELD_PHASE: usize = 1;
pub const FIELD_TARGET: usize = 2;

/// (name, role, RA, Dec) of the fields, J2000 (rad).
pub fn fields() -> [(&'static str, &'static str, f64, f64); 3] {
    let hms = |h: f64, m: f64, s: f64| (h + m / 60.0 + s / 3600.0) * 15f64.to_radians();
    let dms = |d: f64, m: f64, s: f64| -(d.abs() + m / 60.0 + s / 3600.0).to_radians();
    [
        (
            "J1924-2914",
            "bandpass+flux",
            hms(19.0, 24.0, 51.055956),
            dms(29.0, 14.0, 30.12106),
        ),
        (
            "J1700-2610",
            "phase",
            hms(17.0, 0.0, 53.154063),
            dms(26.0, 10.0, 51.72542),
        ),
        (
            "SgrAstar",
            "target",
            hms(17.0, 45.0, 40.038),
            dms(29.0, 0.0, 28.069),
        ),
    ]
}

/// STATE rows: (OBS_MODE, SUB_SCAN).
pub const STATES: [(&str, i32); 7] = [
    ("CALIBRATE_POINTING#ON_SOURCE", 1),
    ("CALIBRATE_ATMOSPHERE#OFF_SOURCE", 1),
    ("CALIBRATE_ATMOSPHERE#AMBIENT", 2),
    ("CALIBRATE_ATMOSPHERE#HOT", 3),
    ("CALIBRATE_BANDPASS#ON_SOURCE,CALIBRATE_FLUX#ON_SOURCE", 1),
    ("CALIBRATE_PHASE#ON_SOURCE", 1),
    ("OBSERVE_TARGET#ON_SOURCE", 1),
];

/// Atmosphere sub-scan integration time (s) and integrations per sub-scan.
pub const ATM_TINT_S: f64 = 1.152;
pub const ATM_INTS_PER_SUBSCAN: usize = 4;
/// Integrations of a pointing scan.
pub const POINTING_INTS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanKind {
    Pointing,
    Atmosphere,
    Bandpass,
    Phase,
    Target,
}

impl ScanKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanKind::Pointing => "pointing",
            ScanKind::Atmosphere => "atm",
            ScanKind::Bandpass => "bandpass",
            ScanKind::Phase => "phase",
            ScanKind::Target => "target",
        }
    }

    /// Science scans carry the science windows (and their CH_AVG partners).
    pub fn is_science(self) -> bool {
        matches!(
            self,
            ScanKind::Bandpass | ScanKind::Phase | ScanKind::Target
        )
    }
}

/// One integration (one timestamp of one scan).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Integration {
    /// Global index over the whole schedule (keys the random streams).
    pub index: usize,
    /// Centre of the integration (MJD s).
    pub time_s: f64,
    pub interval_s: f64,
    pub state: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    pub number: i32,
    pub field: usize,
    pub kind: ScanKind,
    pub ints: Vec<Integration>,
    /// Observed spw ids, ascending.
    pub spws: Vec<u32>,
}

impl Scan {
    pub fn t_begin(&self) -> f64 {
        self.ints
            .first()
            .map_or(0.0, |i| i.time_s - 0.5 * i.interval_s)
    }
    pub fn t_end(&self) -> f64 {
        self.ints
            .last()
            .map_or(0.0, |i| i.time_s + 0.5 * i.interval_s)
    }
    /// Intents as a sorted list (as CASA reports them).
    pub fn intents(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .ints
            .iter()
            .map(|i| STATES[i.state].0.to_string())
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// The whole schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub scans: Vec<Scan>,
    /// Scan numbers corrupted by `--fault` (empty without it).
    pub fault_scans: Vec<i32>,
}

impl Schedule {
    pub fn build(cfg: &SimConfig, start_s: f64) -> Self {
        let mut b = Builder {
            t: start_s,
            scans: Vec::new(),
            next_index: 0,
            tint: cfg.tint_s,
        };
        b.pointing(FIELD_BANDPASS);
        b.atm(FIELD_BANDPASS);
        b.science(ScanKind::Bandpass, FIELD_BANDPASS, cfg.bandpass_ints, 4);
        b.pointing(FIELD_PHASE);
        b.atm(FIELD_PHASE);
        b.science(ScanKind::Phase, FIELD_PHASE, cfg.phase_ints, 5);
        b.atm(FIELD_TARGET);
        let mid = (cfg.cycles >= 2).then(|| cfg.cycles / 2 - 1);
        let mut fault_scans = Vec::new();
        for c in 0..cfg.cycles {
            let target = b.science(ScanKind::Target, FIELD_TARGET, cfg.target_ints, 6);
            let phase = b.science(ScanKind::Phase, FIELD_PHASE, cfg.phase_ints, 5);
            if Some(c) == mid {
                fault_scans.extend([target, phase]);
                b.atm(FIELD_PHASE);
                b.atm(FIELD_TARGET);
            }
            if mid.is_some_and(|m| c == m + 1) {
                fault_scans.push(target);
            }
        }
        if !cfg.fault {
            fault_scans.clear();
        }
        Schedule {
            scans: b.scans,
            fault_scans,
        }
    }

    pub fn n_integrations(&self) -> usize {
        self.scans.iter().map(|s| s.ints.len()).sum()
    }

    pub fn start_s(&self) -> f64 {
        self.scans.first().map_or(0.0, Scan::t_begin)
    }

    pub fn end_s(&self) -> f64 {
        self.scans.last().map_or(0.0, Scan::t_end)
    }

    /// Science integrations in time order: (scan index, integration).
    pub fn science_integrations(&self) -> Vec<(usize, Integration)> {
        self.scans
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind.is_science())
            .flat_map(|(k, s)| s.ints.iter().map(move |i| (k, *i)))
            .collect()
    }
}

struct Builder {
    t: f64,
    scans: Vec<Scan>,
    next_index: usize,
    tint: f64,
}

impl Builder {
    fn push(&mut self, kind: ScanKind, field: usize, spws: Vec<u32>, ints: &[(f64, usize)]) -> i32 {
        let number = self.scans.len() as i32 + 1;
        let mut v = Vec::with_capacity(ints.len());
        for &(dt, state) in ints {
            v.push(Integration {
                index: self.next_index,
                time_s: self.t + 0.5 * dt,
                interval_s: dt,
                state,
            });
            self.next_index += 1;
            self.t += dt;
        }
        self.t += SCAN_GAP_S;
        self.scans.push(Scan {
            number,
            field,
            kind,
            ints: v,
            spws,
        });
        number
    }

    fn pointing(&mut self, field: usize) -> i32 {
        let ints = vec![(self.tint, 0); POINTING_INTS];
        self.push(ScanKind::Pointing, field, POINTING_SPWS.to_vec(), &ints)
    }

    fn atm(&mut self, field: usize) -> i32 {
        let ints: Vec<(f64, usize)> = (1..=3)
            .flat_map(|state| (0..ATM_INTS_PER_SUBSCAN).map(move |_| (ATM_TINT_S, state)))
            .collect();
        self.push(ScanKind::Atmosphere, field, TSYS_SPWS.to_vec(), &ints)
    }

    fn science(&mut self, kind: ScanKind, field: usize, n: usize, state: usize) -> i32 {
        let spws: Vec<u32> = SCIENCE_SPWS.iter().flat_map(|&s| [s, s + 1]).collect();
        let ints = vec![(self.tint, state); n];
        self.push(kind, field, spws, &ints)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tutorial_like_sequence() {
        let mut cfg = SimConfig::preset("tiny").unwrap();
        cfg.cycles = 4;
        cfg.fault = true;
        let s = Schedule::build(&cfg, 0.0);
        let kinds: Vec<&str> = s.scans.iter().map(|x| x.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "pointing", "atm", "bandpass", "pointing", "atm", "phase", "atm", "target",
                "phase", "target", "phase", "atm", "atm", "target", "phase", "target", "phase"
            ]
        );
        assert_eq!(s.fault_scans, vec![10, 11, 14]);
        // Times increase and integrations are numbered in order.
        let ints: Vec<Integration> = s.scans.iter().flat_map(|x| x.ints.clone()).collect();
        assert!(ints
            .windows(2)
            .all(|w| w[1].time_s > w[0].time_s && w[1].index == w[0].index + 1));
    }
}
