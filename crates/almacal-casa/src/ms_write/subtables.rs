//! The contents of an MS's subtables as plain owned rows ([`MsSubtables`]), and writing
//! them as casacore tables inside a new MS directory. Rows reuse `almacal-core`'s metadata
//! types where those carry everything the table needs, and add small row types otherwise.

use super::schema::{self, ColumnSpec};
use super::{WriteError, WriteResult};
use crate::table::casacore_lock;
use crate::write_table::WriteTable;
use almacal_core::corr::CorrType;
use almacal_core::meta::{Antenna, DataDesc, FlagCmdRow, Polarization, SpectralWindow};
use ndarray::Array2;
use num_complex::Complex32;
use rubbl_casatables::{CasaDataType, CasaScalarData, Table, TableCreateMode};
use std::path::Path;

/// One FIELD row (directions J2000, radians; no polynomial motion).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRow {
    pub name: String,
    pub code: String,
    pub ra_rad: f64,
    pub dec_rad: f64,
    pub source_id: i32,
    pub time_s: f64,
}

/// One SOURCE row (one per source and spectral window, as ALMA writes them).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRow {
    pub source_id: i32,
    pub name: String,
    pub spw_id: i32,
    pub ra_rad: f64,
    pub dec_rad: f64,
    pub time_s: f64,
    pub interval_s: f64,
    pub code: String,
    pub calibration_group: i32,
}

/// One OBSERVATION row.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservationRow {
    pub telescope: String,
    pub observer: String,
    pub project: String,
    pub time_range_s: [f64; 2],
    pub schedule_type: String,
    pub schedule: Vec<String>,
    pub log: Vec<String>,
    pub release_date_s: f64,
}

/// One STATE row; `obs_mode` is ALMA's comma-separated intent list.
#[derive(Debug, Clone, PartialEq)]
pub struct StateRow {
    pub obs_mode: String,
    pub sub_scan: i32,
    pub sig: bool,
    pub reference: bool,
    pub cal_k: f64,
    pub load_k: f64,
}

/// One FEED row (one feed per antenna, valid for all spws and times).
#[derive(Debug, Clone, PartialEq)]
pub struct FeedRow {
    pub antenna_id: i32,
    pub feed_id: i32,
    /// Receptor polarisation types, e.g. `["X", "Y"]`.
    pub pol_types: Vec<String>,
    pub receptor_angle_rad: Vec<f64>,
    pub time_s: f64,
    pub interval_s: f64,
}

/// One PROCESSOR row.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessorRow {
    pub kind: String,
    pub sub_type: String,
}

/// One SYSCAL row: a Tsys measurement of one antenna in one (Tsys) spw.
#[derive(Debug, Clone, PartialEq)]
pub struct SysCalRow {
    pub antenna_id: i32,
    pub feed_id: i32,
    pub spw_id: i32,
    /// Middle of the measurement (MJD s, UTC).
    pub time_s: f64,
    pub interval_s: f64,
    /// Tsys (K), `(chan, pol)`: casacore cell shape `[npol, nchan]`.
    pub tsys_cp: Array2<f32>,
    /// Receiver temperature (K), same shape; zeros when unknown.
    pub trx_cp: Array2<f32>,
    /// Sky temperature (K), same shape; zeros when unknown.
    pub tsky_cp: Array2<f32>,
    /// Calibration load temperature per pol (K).
    pub tcal: Vec<f32>,
}

/// One HISTORY row.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    pub time_s: f64,
    pub message: String,
    pub application: String,
    pub origin: String,
    pub priority: String,
    pub cli_command: Vec<String>,
    pub app_params: Vec<String>,
}

/// Everything an MS holds besides its main table. Subtable ids are row indices.
#[derive(Debug, Clone, Default)]
pub struct MsSubtables {
    pub antennas: Vec<Antenna>,
    pub spws: Vec<SpectralWindow>,
    pub pols: Vec<Polarization>,
    pub data_descs: Vec<DataDesc>,
    pub fields: Vec<FieldRow>,
    pub sources: Vec<SourceRow>,
    pub observations: Vec<ObservationRow>,
    pub states: Vec<StateRow>,
    pub feeds: Vec<FeedRow>,
    pub processors: Vec<ProcessorRow>,
    pub syscal: Vec<SysCalRow>,
    pub flag_cmds: Vec<FlagCmdRow>,
    pub history: Vec<HistoryRow>,
}

impl MsSubtables {
    /// Check the cross-references a main table relies on.
    pub fn validate(&self) -> WriteResult<()> {
        let bad = |msg: String| Err(WriteError::Invalid(msg));
        for dd in &self.data_descs {
            if dd.spw.idx() >= self.spws.len() {
                return bad(format!(
                    "data description {} names missing spw {}",
                    dd.id, dd.spw
                ));
            }
            if dd.pol as usize >= self.pols.len() {
                return bad(format!(
                    "data description {} names missing polarization {}",
                    dd.id, dd.pol
                ));
            }
        }
        for s in &self.syscal {
            let Some(spw) = usize::try_from(s.spw_id)
                .ok()
                .and_then(|i| self.spws.get(i))
            else {
                return bad(format!("SYSCAL row names missing spw {}", s.spw_id));
            };
            if s.tsys_cp.nrows() != spw.nchan() {
                return bad(format!(
                    "SYSCAL spectrum has {} channels but spw {} has {}",
                    s.tsys_cp.nrows(),
                    s.spw_id,
                    spw.nchan()
                ));
            }
        }
        if self.observations.is_empty() || self.processors.is_empty() {
            return bad("an MS needs at least one OBSERVATION and one PROCESSOR row".into());
        }
        Ok(())
    }
}

/// A new subtable being filled; all casacore calls hold the casacore lock.
struct Sub {
    table: WriteTable,
    name: &'static str,
}

fn err(table: &str, column: &str, e: impl std::fmt::Display) -> WriteError {
    WriteError::Casacore {
        table: table.into(),
        column: column.into(),
        msg: e.to_string(),
    }
}

impl Sub {
    fn create(
        ms: &Path,
        name: &'static str,
        spec: &[ColumnSpec],
        nrows: usize,
    ) -> WriteResult<Self> {
        let path = ms.join(name);
        let _g = casacore_lock();
        let desc = schema::table_desc(spec).map_err(|e| err(name, "", e))?;
        let table = Table::new(
            crate::table::casa_path(&path),
            desc,
            nrows,
            TableCreateMode::New,
        )
        .map_err(|e| err(name, "", e))?;
        Ok(Self {
            table: WriteTable::new(table, &path),
            name,
        })
    }

    fn scalars<T: CasaScalarData>(&mut self, column: &str, values: &[T]) -> WriteResult<()> {
        if values.is_empty() {
            return Ok(());
        }
        let _g = casacore_lock();
        self.table
            .put_column_range_scalar(column, 0, values)
            .map_err(|e| err(self.name, column, e))
    }

    fn cells<T: CasaDataType>(&mut self, column: &str, values: &[T]) -> WriteResult<()> {
        let _g = casacore_lock();
        for (r, v) in values.iter().enumerate() {
            self.table
                .put_cell(column, r as u64, v)
                .map_err(|e| err(self.name, column, e))?;
        }
        Ok(())
    }

    /// Hand the table to the main table as a subtable keyword.
    fn link(self, main: &mut Table) -> WriteResult<()> {
        let _g = casacore_lock();
        let name = self.name;
        // Flushed first (a full disk is an error here, not an abort in a destructor).
        let table = self.table.into_flushed().map_err(|e| err(name, "", e))?;
        main.put_table_keyword(name, table)
            .map_err(|e| err(name, "", e))
    }
}

fn strings<I: IntoIterator<Item = S>, S: Into<String>>(it: I) -> Vec<String> {
    it.into_iter().map(Into::into).collect()
}

/// Receptor indices (0 = X/R, 1 = Y/L) of a correlation product.
fn receptors(c: CorrType) -> (i32, i32) {
    match c {
        CorrType::XY | CorrType::RL => (0, 1),
        CorrType::YX | CorrType::LR => (1, 0),
        CorrType::YY | CorrType::LL => (1, 1),
        _ => (0, 0),
    }
}

fn dir_cell(ra: f64, dec: f64) -> Array2<f64> {
    // casacore [2, 1] = row-major (1, 2).
    Array2::from_shape_vec((1, 2), vec![ra, dec]).expect("1x2 shape")
}

/// Create and fill every subtable of `t` inside `ms`, linking each to `main`.
pub(crate) fn write_all(ms: &Path, main: &mut Table, t: &MsSubtables) -> WriteResult<()> {
    // ANTENNA
    let n = t.antennas.len();
    let mut s = Sub::create(ms, "ANTENNA", schema::ANTENNA, n)?;
    s.cells("OFFSET", &vec![vec![0.0f64; 3]; n])?;
    s.cells(
        "POSITION",
        &t.antennas
            .iter()
            .map(|a| a.position_m.to_vec())
            .collect::<Vec<_>>(),
    )?;
    s.scalars("TYPE", &vec!["GROUND-BASED".to_string(); n])?;
    s.scalars(
        "DISH_DIAMETER",
        &t.antennas
            .iter()
            .map(|a| a.dish_diameter_m)
            .collect::<Vec<_>>(),
    )?;
    s.scalars(
        "FLAG_ROW",
        &t.antennas.iter().map(|a| a.flag_row).collect::<Vec<_>>(),
    )?;
    s.scalars(
        "MOUNT",
        &strings(t.antennas.iter().map(|a| a.mount.clone())),
    )?;
    s.scalars("NAME", &strings(t.antennas.iter().map(|a| a.name.clone())))?;
    s.scalars(
        "STATION",
        &strings(t.antennas.iter().map(|a| a.station.clone())),
    )?;
    s.link(main)?;

    // DATA_DESCRIPTION
    let mut s = Sub::create(
        ms,
        "DATA_DESCRIPTION",
        schema::DATA_DESCRIPTION,
        t.data_descs.len(),
    )?;
    s.scalars(
        "FLAG_ROW",
        &t.data_descs.iter().map(|d| d.flag_row).collect::<Vec<_>>(),
    )?;
    s.scalars(
        "POLARIZATION_ID",
        &t.data_descs
            .iter()
            .map(|d| d.pol as i32)
            .collect::<Vec<_>>(),
    )?;
    s.scalars(
        "SPECTRAL_WINDOW_ID",
        &t.data_descs
            .iter()
            .map(|d| d.spw.0 as i32)
            .collect::<Vec<_>>(),
    )?;
    s.link(main)?;

    write_feed(ms, main, t)?;
    write_field(ms, main, t)?;
    write_flag_cmd(ms, main, t)?;
    write_history(ms, main, t)?;
    write_observation(ms, main, t)?;

    // POINTING: empty, as in ALMA data delivered without pointing tables.
    Sub::create(ms, "POINTING", schema::POINTING, 0)?.link(main)?;

    // POLARIZATION
    let mut s = Sub::create(ms, "POLARIZATION", schema::POLARIZATION, t.pols.len())?;
    let types: Vec<Vec<i32>> = t
        .pols
        .iter()
        .map(|p| p.corr_types.iter().map(|c| c.code()).collect())
        .collect();
    s.cells("CORR_TYPE", &types)?;
    let products: Vec<Array2<i32>> = t
        .pols
        .iter()
        .map(|p| {
            // casacore [2, ncorr]: receptor indices of each correlation.
            let n = p.corr_types.len();
            let mut a = Array2::<i32>::zeros((n, 2));
            for (k, c) in p.corr_types.iter().enumerate() {
                let (r1, r2) = receptors(*c);
                a[[k, 0]] = r1;
                a[[k, 1]] = r2;
            }
            a
        })
        .collect();
    s.cells("CORR_PRODUCT", &products)?;
    s.scalars("FLAG_ROW", &vec![false; t.pols.len()])?;
    s.scalars(
        "NUM_CORR",
        &t.pols
            .iter()
            .map(|p| p.corr_types.len() as i32)
            .collect::<Vec<_>>(),
    )?;
    s.link(main)?;

    // PROCESSOR
    let n = t.processors.len();
    let mut s = Sub::create(ms, "PROCESSOR", schema::PROCESSOR, n)?;
    s.scalars("FLAG_ROW", &vec![false; n])?;
    s.scalars("MODE_ID", &vec![-1i32; n])?;
    s.scalars(
        "TYPE",
        &strings(t.processors.iter().map(|p| p.kind.clone())),
    )?;
    s.scalars("TYPE_ID", &vec![-1i32; n])?;
    s.scalars(
        "SUB_TYPE",
        &strings(t.processors.iter().map(|p| p.sub_type.clone())),
    )?;
    s.link(main)?;

    write_spw(ms, main, t)?;

    // STATE
    let n = t.states.len();
    let mut s = Sub::create(ms, "STATE", schema::STATE, n)?;
    s.scalars("CAL", &t.states.iter().map(|x| x.cal_k).collect::<Vec<_>>())?;
    s.scalars("FLAG_ROW", &vec![false; n])?;
    s.scalars(
        "LOAD",
        &t.states.iter().map(|x| x.load_k).collect::<Vec<_>>(),
    )?;
    s.scalars(
        "OBS_MODE",
        &strings(t.states.iter().map(|x| x.obs_mode.clone())),
    )?;
    s.scalars(
        "REF",
        &t.states.iter().map(|x| x.reference).collect::<Vec<_>>(),
    )?;
    s.scalars("SIG", &t.states.iter().map(|x| x.sig).collect::<Vec<_>>())?;
    s.scalars(
        "SUB_SCAN",
        &t.states.iter().map(|x| x.sub_scan).collect::<Vec<_>>(),
    )?;
    s.link(main)?;

    write_source(ms, main, t)?;
    write_syscal(ms, main, t)?;
    Ok(())
}

fn write_feed(ms: &Path, main: &mut Table, t: &MsSubtables) -> WriteResult<()> {
    let f = &t.feeds;
    let n = f.len();
    let mut s = Sub::create(ms, "FEED", schema::FEED, n)?;
    s.cells("POSITION", &vec![vec![0.0f64; 3]; n])?;
    let offsets: Vec<Array2<f64>> = f
        .iter()
        .map(|r| Array2::zeros((r.pol_types.len(), 2)))
        .collect();
    s.cells("BEAM_OFFSET", &offsets)?;
    s.cells(
        "POLARIZATION_TYPE",
        &f.iter().map(|r| r.pol_types.clone()).collect::<Vec<_>>(),
    )?;
    let resp: Vec<Array2<Complex32>> = f
        .iter()
        .map(|r| {
            let n = r.pol_types.len();
            Array2::from_shape_fn((n, n), |(i, j)| {
                Complex32::new(if i == j { 1.0 } else { 0.0 }, 0.0)
            })
        })
        .collect();
    s.cells("POL_RESPONSE", &resp)?;
    s.cells(
        "RECEPTOR_ANGLE",
        &f.iter()
            .map(|r| r.receptor_angle_rad.clone())
            .collect::<Vec<_>>(),
    )?;
    s.scalars(
        "ANTENNA_ID",
        &f.iter().map(|r| r.antenna_id).collect::<Vec<_>>(),
    )?;
    s.scalars("BEAM_ID", &vec![-1i32; n])?;
    s.scalars("FEED_ID", &f.iter().map(|r| r.feed_id).collect::<Vec<_>>())?;
    s.scalars(
        "INTERVAL",
        &f.iter().map(|r| r.interval_s).collect::<Vec<_>>(),
    )?;
    s.scalars(
        "NUM_RECEPTORS",
        &f.iter()
            .map(|r| r.pol_types.len() as i32)
            .collect::<Vec<_>>(),
    )?;
    s.scalars("SPECTRAL_WINDOW_ID", &vec![-1i32; n])?;
    s.scalars("TIME", &f.iter().map(|r| r.time_s).collect::<Vec<_>>())?;
    s.link(main)
}

fn write_field(ms: &Path, main: &mut Table, t: &MsSubtables) -> WriteResult<()> {
    let f = &t.fields;
    let mut s = Sub::create(ms, "FIELD", schema::FIELD, f.len())?;
    let dirs: Vec<Array2<f64>> = f.iter().map(|r| dir_cell(r.ra_rad, r.dec_rad)).collect();
    s.cells("DELAY_DIR", &dirs)?;
    s.cells("PHASE_DIR", &dirs)?;
    s.cells("REFERENCE_DIR", &dirs)?;
    s.scalars("CODE", &strings(f.iter().map(|r| r.code.clone())))?;
    s.scalars("FLAG_ROW", &vec![false; f.len()])?;
    s.scalars("NAME", &strings(f.iter().map(|r| r.name.clone())))?;
    s.scalars("NUM_POLY", &vec![0i32; f.len()])?;
    s.scalars(
        "SOURCE_ID",
        &f.iter().map(|r| r.source_id).collect::<Vec<_>>(),
    )?;
    s.scalars("TIME", &f.iter().map(|r| r.time_s).collect::<Vec<_>>())?;
    s.link(main)
}

fn write_flag_cmd(ms: &Path, main: &mut Table, t: &MsSubtables) -> WriteResult<()> {
    let f = &t.flag_cmds;
    let mut s = Sub::create(ms, "FLAG_CMD", schema::FLAG_CMD, f.len())?;
    s.scalars("APPLIED", &f.iter().map(|r| r.applied).collect::<Vec<_>>())?;
    s.scalars("COMMAND", &strings(f.iter().map(|r| r.command.clone())))?;
    s.scalars(
        "INTERVAL",
        &f.iter().map(|r| r.interval_s).collect::<Vec<_>>(),
    )?;
    s.scalars("LEVEL", &f.iter().map(|r| r.level).collect::<Vec<_>>())?;
    s.scalars("REASON", &strings(f.iter().map(|r| r.reason.clone())))?;
    s.scalars(
        "SEVERITY",
        &f.iter().map(|r| r.severity).collect::<Vec<_>>(),
    )?;
    s.scalars("TIME", &f.iter().map(|r| r.time_s).collect::<Vec<_>>())?;
    s.scalars("TYPE", &strings(f.iter().map(|r| r.kind.clone())))?;
    s.link(main)
}

fn write_history(ms: &Path, main: &mut Table, t: &MsSubtables) -> WriteResult<()> {
    let h = &t.history;
    let mut s = Sub::create(ms, "HISTORY", schema::HISTORY, h.len())?;
    s.cells(
        "APP_PARAMS",
        &h.iter().map(|r| r.app_params.clone()).collect::<Vec<_>>(),
    )?;
    s.cells(
        "CLI_COMMAND",
        &h.iter().map(|r| r.cli_command.clone()).collect::<Vec<_>>(),
    )?;
    s.scalars(
        "APPLICATION",
        &strings(h.iter().map(|r| r.application.clone())),
    )?;
    s.scalars("MESSAGE", &strings(h.iter().map(|r| r.message.clone())))?;
    s.scalars("OBJECT_ID", &vec![0i32; h.len()])?;
    s.scalars("OBSERVATION_ID", &vec![0i32; h.len()])?;
    s.scalars("ORIGIN", &strings(h.iter().map(|r| r.origin.clone())))?;
    s.scalars("PRIORITY", &strings(h.iter().map(|r| r.priority.clone())))?;
    s.scalars("TIME", &h.iter().map(|r| r.time_s).collect::<Vec<_>>())?;
    s.link(main)
}

fn write_observation(ms: &Path, main: &mut Table, t: &MsSubtables) -> WriteResult<()> {
    let o = &t.observations;
    let mut s = Sub::create(ms, "OBSERVATION", schema::OBSERVATION, o.len())?;
    s.cells(
        "TIME_RANGE",
        &o.iter()
            .map(|r| r.time_range_s.to_vec())
            .collect::<Vec<_>>(),
    )?;
    s.cells("LOG", &o.iter().map(|r| r.log.clone()).collect::<Vec<_>>())?;
    s.cells(
        "SCHEDULE",
        &o.iter().map(|r| r.schedule.clone()).collect::<Vec<_>>(),
    )?;
    s.scalars("FLAG_ROW", &vec![false; o.len()])?;
    s.scalars("OBSERVER", &strings(o.iter().map(|r| r.observer.clone())))?;
    s.scalars("PROJECT", &strings(o.iter().map(|r| r.project.clone())))?;
    s.scalars(
        "RELEASE_DATE",
        &o.iter().map(|r| r.release_date_s).collect::<Vec<_>>(),
    )?;
    s.scalars(
        "SCHEDULE_TYPE",
        &strings(o.iter().map(|r| r.schedule_type.clone())),
    )?;
    s.scalars(
        "TELESCOPE_NAME",
        &strings(o.iter().map(|r| r.telescope.clone())),
    )?;
    s.link(main)
}

fn write_spw(ms: &Path, main: &mut Table, t: &MsSubtables) -> WriteResult<()> {
    let w = &t.spws;
    let mut s = Sub::create(ms, "SPECTRAL_WINDOW", schema::SPECTRAL_WINDOW, w.len())?;
    s.scalars(
        "MEAS_FREQ_REF",
        &w.iter().map(|r| r.meas_freq_ref).collect::<Vec<_>>(),
    )?;
    s.cells(
        "CHAN_FREQ",
        &w.iter().map(|r| r.chan_freq_hz.clone()).collect::<Vec<_>>(),
    )?;
    s.scalars(
        "REF_FREQUENCY",
        &w.iter().map(|r| r.ref_freq_hz).collect::<Vec<_>>(),
    )?;
    s.cells(
        "CHAN_WIDTH",
        &w.iter()
            .map(|r| r.chan_width_hz.clone())
            .collect::<Vec<_>>(),
    )?;
    s.cells(
        "EFFECTIVE_BW",
        &w.iter()
            .map(|r| r.effective_bw_hz.clone())
            .collect::<Vec<_>>(),
    )?;
    s.cells(
        "RESOLUTION",
        &w.iter()
            .map(|r| r.resolution_hz.clone())
            .collect::<Vec<_>>(),
    )?;
    s.scalars(
        "FLAG_ROW",
        &w.iter().map(|r| r.flag_row).collect::<Vec<_>>(),
    )?;
    s.scalars("FREQ_GROUP", &vec![0i32; w.len()])?;
    s.scalars("FREQ_GROUP_NAME", &vec![String::new(); w.len()])?;
    s.scalars("IF_CONV_CHAIN", &vec![0i32; w.len()])?;
    s.scalars("NAME", &strings(w.iter().map(|r| r.name.clone())))?;
    s.scalars(
        "NET_SIDEBAND",
        &w.iter().map(|r| r.net_sideband).collect::<Vec<_>>(),
    )?;
    s.scalars(
        "NUM_CHAN",
        &w.iter().map(|r| r.nchan() as i32).collect::<Vec<_>>(),
    )?;
    s.scalars(
        "TOTAL_BANDWIDTH",
        &w.iter().map(|r| r.total_bw_hz).collect::<Vec<_>>(),
    )?;
    s.scalars(
        "BBC_NO",
        &w.iter().map(|r| r.bbc_no.unwrap_or(-1)).collect::<Vec<_>>(),
    )?;
    s.link(main)
}

fn write_source(ms: &Path, main: &mut Table, t: &MsSubtables) -> WriteResult<()> {
    let r = &t.sources;
    let mut s = Sub::create(ms, "SOURCE", schema::SOURCE, r.len())?;
    s.cells(
        "DIRECTION",
        &r.iter()
            .map(|x| vec![x.ra_rad, x.dec_rad])
            .collect::<Vec<_>>(),
    )?;
    s.cells("PROPER_MOTION", &vec![vec![0.0f64; 2]; r.len()])?;
    s.scalars(
        "CALIBRATION_GROUP",
        &r.iter().map(|x| x.calibration_group).collect::<Vec<_>>(),
    )?;
    s.scalars("CODE", &strings(r.iter().map(|x| x.code.clone())))?;
    s.scalars(
        "INTERVAL",
        &r.iter().map(|x| x.interval_s).collect::<Vec<_>>(),
    )?;
    s.scalars("NAME", &strings(r.iter().map(|x| x.name.clone())))?;
    s.scalars("NUM_LINES", &vec![0i32; r.len()])?;
    s.scalars(
        "SOURCE_ID",
        &r.iter().map(|x| x.source_id).collect::<Vec<_>>(),
    )?;
    s.scalars(
        "SPECTRAL_WINDOW_ID",
        &r.iter().map(|x| x.spw_id).collect::<Vec<_>>(),
    )?;
    s.scalars("TIME", &r.iter().map(|x| x.time_s).collect::<Vec<_>>())?;
    s.link(main)
}

fn write_syscal(ms: &Path, main: &mut Table, t: &MsSubtables) -> WriteResult<()> {
    let r = &t.syscal;
    let mut s = Sub::create(ms, "SYSCAL", schema::SYSCAL, r.len())?;
    s.scalars(
        "ANTENNA_ID",
        &r.iter().map(|x| x.antenna_id).collect::<Vec<_>>(),
    )?;
    s.scalars("FEED_ID", &r.iter().map(|x| x.feed_id).collect::<Vec<_>>())?;
    s.scalars(
        "INTERVAL",
        &r.iter().map(|x| x.interval_s).collect::<Vec<_>>(),
    )?;
    s.scalars(
        "SPECTRAL_WINDOW_ID",
        &r.iter().map(|x| x.spw_id).collect::<Vec<_>>(),
    )?;
    s.scalars("TIME", &r.iter().map(|x| x.time_s).collect::<Vec<_>>())?;
    s.cells(
        "TSYS_SPECTRUM",
        &r.iter().map(|x| x.tsys_cp.clone()).collect::<Vec<_>>(),
    )?;
    let mean = |a: &Array2<f32>| -> Vec<f32> {
        a.columns()
            .into_iter()
            .map(|c| c.iter().sum::<f32>() / c.len().max(1) as f32)
            .collect()
    };
    s.cells(
        "TSYS",
        &r.iter().map(|x| mean(&x.tsys_cp)).collect::<Vec<_>>(),
    )?;
    s.cells(
        "TRX_SPECTRUM",
        &r.iter().map(|x| x.trx_cp.clone()).collect::<Vec<_>>(),
    )?;
    s.cells(
        "TSKY_SPECTRUM",
        &r.iter().map(|x| x.tsky_cp.clone()).collect::<Vec<_>>(),
    )?;
    let tcal_spec: Vec<Array2<f32>> = r
        .iter()
        .map(|x| {
            let (nc, np) = x.tsys_cp.dim();
            Array2::from_shape_fn((nc, np), |(_, p)| x.tcal.get(p).copied().unwrap_or(0.0))
        })
        .collect();
    s.cells("TCAL_SPECTRUM", &tcal_spec)?;
    s.cells(
        "TCAL",
        &r.iter().map(|x| x.tcal.clone()).collect::<Vec<_>>(),
    )?;
    s.scalars("TSYS_SPECTRUM_FLAG", &vec![false; r.len()])?;
    s.scalars("TSYS_FLAG", &vec![false; r.len()])?;
    s.link(main)
}
