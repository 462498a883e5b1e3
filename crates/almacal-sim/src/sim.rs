//! [`Sim`]: one fully specified simulated observation (config, array, spws, schedule,
//! drawn model, data descriptions, online flags), shared read-only by the generator threads.

use crate::array::{antennas, baselines, SimAntenna};
use crate::config::SimConfig;
use crate::error::SimResult;
use crate::geometry::{self, V3};
use crate::model::{Model, FAULT_ANTENNA};
use crate::schedule::{fields, ScanKind, Schedule};
use crate::spws::{spectral_windows, SimSpw, SpwRole};
use almacal_core::time::{format_casa_timestamp, from_calendar};

/// Observation date (UTC) of the simulated execution block.
pub const DATE: (i64, u32, u32) = (2016, 4, 15);

/// One online flag command (FLAG_CMD row).
#[derive(Debug, Clone, PartialEq)]
pub struct OnlineFlag {
    pub antenna: String,
    pub reason: String,
    pub t_begin: f64,
    pub t_end: f64,
}

impl OnlineFlag {
    /// The flag command in CASA's flagdata syntax, as ALMA writes them.
    pub fn command(&self) -> String {
        format!(
            "antenna='{}&&*' timerange='{}~{}'",
            self.antenna,
            format_casa_timestamp(self.t_begin),
            format_casa_timestamp(self.t_end)
        )
    }
}

/// Everything needed to generate the data, computed once.
#[derive(Debug, Clone)]
pub struct Sim {
    pub cfg: SimConfig,
    pub antennas: Vec<SimAntenna>,
    pub baselines: Vec<(usize, usize)>,
    pub spws: Vec<SimSpw>,
    /// DDID of each spw (`None` for never-observed spws).
    pub ddid_of_spw: Vec<Option<usize>>,
    /// Spw id of each DDID.
    pub spw_of_ddid: Vec<usize>,
    pub schedule: Schedule,
    pub model: Model,
    pub online_flags: Vec<OnlineFlag>,
    /// Index of the faulty antenna (when `--fault` and it exists).
    pub fault_antenna: Option<usize>,
}

impl Sim {
    pub fn new(cfg: SimConfig) -> SimResult<Self> {
        cfg.validate()?;
        let antennas = antennas(cfg.n_antennas, cfg.seed);
        let names: Vec<String> = antennas.iter().map(|a| a.name.clone()).collect();
        for d in &cfg.degrades {
            d.check(&names)?;
        }
        let spws = spectral_windows(cfg.nchan, cfg.nchan_tsys);
        let mut ddid_of_spw = vec![None; spws.len()];
        let mut spw_of_ddid = Vec::new();
        for (i, s) in spws.iter().enumerate() {
            if s.role != SpwRole::Unobserved {
                ddid_of_spw[i] = Some(spw_of_ddid.len());
                spw_of_ddid.push(i);
            }
        }
        let day = from_calendar(DATE.0, DATE.1, DATE.2, 0.0);
        let start = geometry::time_of_lst(day, cfg.lst_start_h);
        // Start on a whole millisecond, like correlator timestamps.
        let start = (start * 1000.0).round() / 1000.0;
        let schedule = Schedule::build(&cfg, start);
        let model = Model::draw(cfg.seed, cfg.n_antennas, cfg.nchan, &schedule);
        let online_flags = online_flags(&schedule, &antennas);
        let fault_antenna = if cfg.fault {
            antennas.iter().position(|a| a.name == FAULT_ANTENNA)
        } else {
            None
        };
        Ok(Sim {
            baselines: baselines(cfg.n_antennas),
            cfg,
            antennas,
            spws,
            ddid_of_spw,
            spw_of_ddid,
            schedule,
            model,
            online_flags,
            fault_antenna,
        })
    }

    /// ANTENNA-table positions.
    pub fn positions_in_ms(&self) -> Vec<V3> {
        self.antennas.iter().map(|a| a.itrf_in_ms).collect()
    }

    /// J2000 direction (ra, dec) of a field.
    pub fn field_dir(&self, field: usize) -> (f64, f64) {
        let f = fields()[field];
        (f.2, f.3)
    }

    /// Elevation (deg) of `field` at `time_s`.
    pub fn elevation_deg(&self, field: usize, time_s: f64) -> f64 {
        let (ra, dec) = self.field_dir(field);
        let ax = geometry::uvw_axes_itrf(ra, dec, time_s);
        geometry::elevation_rad(&ax[2]).to_degrees()
    }
}

/// ALMA-like online flags: CM03 for 60 s of the second target scan, CM08 for the first
/// phase-calibrator scan, CM10 for two integrations of the bandpass scan.
fn online_flags(schedule: &Schedule, antennas: &[SimAntenna]) -> Vec<OnlineFlag> {
    let has = |n: &str| antennas.iter().any(|a| a.name == n);
    let of_kind = |k: ScanKind| schedule.scans.iter().filter(move |s| s.kind == k);
    let mut out = Vec::new();
    if let (true, Some(s)) = (has("CM03"), of_kind(ScanKind::Target).nth(1)) {
        let b = s
            .ints
            .get(2)
            .or(s.ints.first())
            .map_or(s.t_begin(), |i| i.time_s - 0.5 * i.interval_s);
        out.push(OnlineFlag {
            antenna: "CM03".into(),
            reason: "ACD_motor_speed_error".into(),
            t_begin: b,
            t_end: (b + 60.48).min(s.t_end()),
        });
    }
    if let (true, Some(s)) = (has("CM08"), of_kind(ScanKind::Phase).next()) {
        out.push(OnlineFlag {
            antenna: "CM08".into(),
            reason: "FocusError".into(),
            t_begin: s.t_begin(),
            t_end: s.t_end(),
        });
    }
    if let (true, Some(s)) = (has("CM10"), of_kind(ScanKind::Bandpass).next()) {
        let k = s.ints.len().saturating_sub(2).min(3);
        let i0 = s.ints[k];
        let i1 = s.ints[(k + 1).min(s.ints.len() - 1)];
        out.push(OnlineFlag {
            antenna: "CM10".into(),
            reason: "Antenna_not_on_source".into(),
            t_begin: i0.time_s - 0.5 * i0.interval_s,
            t_end: i1.time_s + 0.5 * i1.interval_s,
        });
    }
    out
}
