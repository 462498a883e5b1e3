//! The subtables of the simulated MS ([`MsSubtables`]): antennas (with erroneous
//! positions), feeds, spws, polarization, data descriptions, fields, sources, states,
//! observation, processor, SYSCAL (Tsys spectra at every atmosphere scan) and FLAG_CMD.

use crate::geometry;
use crate::model::airmass;
use crate::schedule::{fields, ScanKind, STATES};
use crate::sim::Sim;
use crate::spws::SpwRole;
use almacal_casa::ms_write::*;
use almacal_core::corr::CorrType;
use almacal_core::ids::{AntennaId, DataDescId, SpwId};
use almacal_core::meta::{Antenna, DataDesc, FlagCmdRow, Polarization};
use ndarray::Array2;

/// One SYSCAL measurement, kept for the truth file.
#[derive(Debug, Clone)]
pub struct SyscalTruth {
    pub scan: i32,
    pub field: usize,
    pub time_s: f64,
    pub interval_s: f64,
    pub spw: usize,
    pub elevation_deg: f64,
    /// [ant][pol][chan] (K)
    pub tsys: Vec<[Vec<f64>; 2]>,
}

/// Tsys spectra of every (atmosphere scan, Tsys spw): measured at the scan's middle.
pub fn syscal_truth(sim: &Sim) -> Vec<SyscalTruth> {
    let mut out = Vec::new();
    for scan in sim
        .schedule
        .scans
        .iter()
        .filter(|s| s.kind == ScanKind::Atmosphere)
    {
        let t_mid = 0.5 * (scan.t_begin() + scan.t_end());
        let el = sim.elevation_deg(scan.field, t_mid);
        let am = airmass(el.to_radians());
        for &spw in &scan.spws {
            let w = &sim.spws[spw as usize];
            let tsys = (0..sim.antennas.len())
                .map(|a| {
                    let f = |p| {
                        w.spw
                            .chan_freq_hz
                            .iter()
                            .map(|&nu| sim.model.tsys_k(a, p, nu, am))
                            .collect()
                    };
                    [f(0), f(1)]
                })
                .collect();
            out.push(SyscalTruth {
                scan: scan.number,
                field: scan.field,
                time_s: t_mid,
                interval_s: scan.t_end() - scan.t_begin(),
                spw: spw as usize,
                elevation_deg: el,
                tsys,
            });
        }
    }
    out
}

/// All subtable contents of the simulated MS.
pub fn subtables(sim: &Sim, syscal: &[SyscalTruth]) -> MsSubtables {
    let t0 = sim.schedule.start_s();
    let t1 = sim.schedule.end_s();
    let mid = 0.5 * (t0 + t1);
    let antennas = sim
        .antennas
        .iter()
        .enumerate()
        .map(|(k, a)| Antenna {
            id: AntennaId(k as u32),
            name: a.name.clone(),
            station: a.station.clone(),
            position_m: a.itrf_in_ms,
            dish_diameter_m: crate::array::DISH_M,
            mount: "ALT-AZ".into(),
            flag_row: false,
        })
        .collect();
    let feeds = (0..sim.antennas.len())
        .map(|k| FeedRow {
            antenna_id: k as i32,
            feed_id: 0,
            pol_types: vec!["X".into(), "Y".into()],
            receptor_angle_rad: vec![-std::f64::consts::FRAC_PI_4, std::f64::consts::FRAC_PI_4],
            time_s: mid,
            interval_s: 1e30,
        })
        .collect();
    let data_descs = sim
        .spw_of_ddid
        .iter()
        .enumerate()
        .map(|(dd, &spw)| DataDesc {
            id: DataDescId(dd as u32),
            spw: SpwId(spw as u32),
            pol: 0,
            flag_row: false,
        })
        .collect();
    let fields_rows: Vec<FieldRow> = fields()
        .iter()
        .enumerate()
        .map(|(k, f)| FieldRow {
            name: f.0.into(),
            code: "none".into(),
            ra_rad: f.2,
            dec_rad: f.3,
            source_id: k as i32,
            time_s: t0,
        })
        .collect();
    let mut sources = Vec::new();
    for (k, f) in fields().iter().enumerate() {
        for (spw, w) in sim.spws.iter().enumerate() {
            if w.role != SpwRole::Unobserved {
                sources.push(SourceRow {
                    source_id: k as i32,
                    name: f.0.into(),
                    spw_id: spw as i32,
                    ra_rad: f.2,
                    dec_rad: f.3,
                    time_s: mid,
                    interval_s: t1 - t0,
                    code: "none".into(),
                    calibration_group: 0,
                });
            }
        }
    }
    let states = STATES
        .iter()
        .map(|&(mode, sub)| StateRow {
            obs_mode: mode.into(),
            sub_scan: sub,
            sig: true,
            reference: false,
            cal_k: 0.0,
            load_k: 0.0,
        })
        .collect();
    let syscal_rows = syscal
        .iter()
        .flat_map(|s| {
            s.tsys.iter().enumerate().map(move |(a, t)| {
                let nchan = t[0].len();
                let tsys_cp = Array2::from_shape_fn((nchan, 2), |(c, p)| t[p][c] as f32);
                let am = airmass(s.elevation_deg.to_radians());
                let nu = &sim.spws[s.spw].spw.chan_freq_hz;
                let trx_cp = Array2::from_shape_fn((nchan, 2), |(c, p)| {
                    sim.model.trx[a][p].at(nu[c]) as f32
                });
                let tsky_cp = Array2::from_shape_fn((nchan, 2), |(c, _)| {
                    (crate::model::T_ATM_K * (1.0 - (-crate::model::tau(nu[c]) * am).exp())) as f32
                });
                SysCalRow {
                    antenna_id: a as i32,
                    feed_id: 0,
                    spw_id: s.spw as i32,
                    time_s: s.time_s,
                    interval_s: s.interval_s,
                    tsys_cp,
                    trx_cp,
                    tsky_cp,
                    tcal: vec![100.0, 100.0],
                }
            })
        })
        .collect();
    let flag_cmds = sim
        .online_flags
        .iter()
        .map(|f| FlagCmdRow {
            time_s: 0.5 * (f.t_begin + f.t_end),
            interval_s: f.t_end - f.t_begin,
            kind: "FLAG".into(),
            reason: f.reason.clone(),
            level: 0,
            severity: 0,
            applied: false,
            command: f.command(),
        })
        .collect();
    let cfg = &sim.cfg;
    MsSubtables {
        antennas,
        spws: sim.spws.iter().map(|s| s.spw.clone()).collect(),
        pols: vec![Polarization {
            id: 0,
            corr_types: if cfg.full_pol {
                vec![CorrType::XX, CorrType::XY, CorrType::YX, CorrType::YY]
            } else {
                vec![CorrType::XX, CorrType::YY]
            },
        }],
        data_descs,
        fields: fields_rows,
        sources,
        observations: vec![ObservationRow {
            telescope: "ALMA".into(),
            observer: "almacal-sim".into(),
            project: format!("uid://A002/Xsim/X{}", cfg.seed),
            time_range_s: [t0, t1],
            schedule_type: "ALMA".into(),
            schedule: vec!["SchedulingBlock uid://A002/Xsim/Xsb".into()],
            log: vec![format!(
                "simulated by almacal simulate --preset {}",
                cfg.preset
            )],
            release_date_s: t0,
        }],
        states,
        feeds,
        processors: vec![ProcessorRow {
            kind: "CORRELATOR".into(),
            sub_type: "ALMA_ACA".into(),
        }],
        syscal: syscal_rows,
        flag_cmds,
        history: vec![HistoryRow {
            time_s: t0,
            message: format!(
                "almacal simulate --preset {} --seed {} --nchan {} --antennas {}{}",
                cfg.preset,
                cfg.seed,
                cfg.nchan,
                cfg.n_antennas,
                if cfg.fault { " --fault" } else { "" }
            ),
            application: "almacal".into(),
            origin: "almacal-sim".into(),
            priority: "NORMAL".into(),
            cli_command: vec![],
            app_params: vec![],
        }],
    }
}

/// Elevation (deg) of a scan's field at the scan's middle.
pub fn scan_elevation_deg(sim: &Sim, scan: &crate::schedule::Scan) -> f64 {
    sim.elevation_deg(scan.field, 0.5 * (scan.t_begin() + scan.t_end()))
}

/// Per scan, per antenna: integrations in which the antenna is geometrically shadowed.
pub fn shadowing(sim: &Sim) -> Vec<(i32, Vec<usize>)> {
    let pos: Vec<geometry::V3> = sim.antennas.iter().map(|a| a.itrf_true).collect();
    let dish = vec![crate::array::DISH_M; pos.len()];
    sim.schedule
        .scans
        .iter()
        .map(|s| {
            let mut counts = vec![0usize; pos.len()];
            for i in &s.ints {
                let (ra, dec) = sim.field_dir(s.field);
                let ax = geometry::uvw_axes_itrf(ra, dec, i.time_s);
                for (k, sh) in geometry::shadowed(&pos, &dish, &ax).into_iter().enumerate() {
                    counts[k] += usize::from(sh);
                }
            }
            (s.number, counts)
        })
        .collect()
}
