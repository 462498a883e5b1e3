//! The MeasurementSet metadata model: everything the subtables say about an observation,
//! plus per-scan summaries of the main table. Built by `almacal-casa`, read by every stage.

use crate::corr::CorrType;
use crate::ids::{AntennaId, DataDescId, FieldId, SpwId};
use serde::Serialize;

/// One row of the ANTENNA table.
#[derive(Debug, Clone, Serialize)]
pub struct Antenna {
    pub id: AntennaId,
    pub name: String,
    pub station: String,
    /// ITRF position (m).
    pub position_m: [f64; 3],
    pub dish_diameter_m: f64,
    pub mount: String,
    pub flag_row: bool,
}

/// One row of the SPECTRAL_WINDOW table.
#[derive(Debug, Clone, Serialize)]
pub struct SpectralWindow {
    pub id: SpwId,
    pub name: String,
    /// Channel centre frequencies (Hz) in MS channel order (descending for LSB windows).
    pub chan_freq_hz: Vec<f64>,
    /// Channel widths (Hz); negative for lower-sideband ALMA windows.
    pub chan_width_hz: Vec<f64>,
    pub effective_bw_hz: Vec<f64>,
    pub resolution_hz: Vec<f64>,
    pub ref_freq_hz: f64,
    pub total_bw_hz: f64,
    /// casacore MFrequency type code (`MEAS_FREQ_REF`): 0 REST, 1 LSRK, 5 TOPO, ...
    pub meas_freq_ref: i32,
    pub net_sideband: i32,
    /// ALMA baseband number (`BBC_NO`), when the column exists.
    pub bbc_no: Option<i32>,
    pub flag_row: bool,
}

impl SpectralWindow {
    pub fn nchan(&self) -> usize {
        self.chan_freq_hz.len()
    }

    /// Centre frequency: mean of the first and last channel frequencies (Hz).
    pub fn centre_hz(&self) -> f64 {
        match (self.chan_freq_hz.first(), self.chan_freq_hz.last()) {
            (Some(a), Some(b)) => 0.5 * (a + b),
            _ => self.ref_freq_hz,
        }
    }

    /// The frame name CASA prints (`TOPO`, `LSRK`, ...).
    pub fn frame_name(&self) -> &'static str {
        match self.meas_freq_ref {
            0 => "REST",
            1 => "LSRK",
            2 => "LSRD",
            3 => "BARY",
            4 => "GEO",
            5 => "TOPO",
            6 => "GALACTO",
            7 => "LGROUP",
            8 => "CMB",
            _ => "Undefined",
        }
    }
}

/// One row of the POLARIZATION table.
#[derive(Debug, Clone, Serialize)]
pub struct Polarization {
    pub id: u32,
    pub corr_types: Vec<CorrType>,
}

/// One row of the DATA_DESCRIPTION table.
#[derive(Debug, Clone, Serialize)]
pub struct DataDesc {
    pub id: DataDescId,
    pub spw: SpwId,
    pub pol: u32,
    pub flag_row: bool,
}

/// One row of the FIELD table (direction is PHASE_DIR at its reference epoch, J2000 rad).
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    pub id: FieldId,
    pub name: String,
    pub code: String,
    pub ra_rad: f64,
    pub dec_rad: f64,
    pub source_id: i32,
}

/// One row of the SOURCE table.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    pub source_id: i32,
    pub name: String,
    pub spw_id: i32,
}

/// One row of the OBSERVATION table.
#[derive(Debug, Clone, Serialize)]
pub struct Observation {
    pub id: u32,
    pub telescope: String,
    pub observer: String,
    pub project: String,
    pub time_range_s: [f64; 2],
}

/// One row of the STATE table: ALMA's `OBS_MODE` is a comma-separated intent list such as
/// `CALIBRATE_BANDPASS#ON_SOURCE,CALIBRATE_FLUX#ON_SOURCE`.
#[derive(Debug, Clone, Serialize)]
pub struct State {
    pub id: u32,
    pub obs_mode: String,
}

impl State {
    /// The individual intents of this state.
    pub fn intents(&self) -> Vec<String> {
        self.obs_mode
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// One row of the SYSCAL table (Tsys measurements), when present.
#[derive(Debug, Clone, Serialize)]
pub struct SysCalRow {
    pub antenna: AntennaId,
    pub spw: SpwId,
    pub time_s: f64,
    pub interval_s: f64,
    /// `[pol][chan]` when TSYS_SPECTRUM exists.
    pub tsys_spectrum: Option<Vec<Vec<f32>>>,
}

/// One row of the FLAG_CMD table (online flags).
#[derive(Debug, Clone, Serialize)]
pub struct FlagCmdRow {
    pub time_s: f64,
    pub interval_s: f64,
    pub kind: String,
    pub reason: String,
    pub level: i32,
    pub severity: i32,
    pub applied: bool,
    pub command: String,
}

/// Summary of one scan of the main table (for listobs, scan/intent selection).
#[derive(Debug, Clone, Serialize)]
pub struct ScanSummary {
    pub scan: i32,
    pub observation_id: i32,
    pub field: FieldId,
    pub start_s: f64,
    pub end_s: f64,
    pub nrows: u64,
    /// Spw ids (not DDIDs) with rows in this scan, ascending.
    pub spws: Vec<SpwId>,
    /// Union of the intents of the STATE ids in this scan, sorted (as CASA reports them).
    pub intents: Vec<String>,
    /// Distinct INTERVAL values (s), ascending.
    pub intervals_s: Vec<f64>,
}

/// Everything almacal knows about an MS without reading visibilities.
#[derive(Debug, Clone, Serialize)]
pub struct MsMeta {
    pub path: String,
    pub nrows: u64,
    pub antennas: Vec<Antenna>,
    pub spws: Vec<SpectralWindow>,
    pub pols: Vec<Polarization>,
    pub data_descs: Vec<DataDesc>,
    pub fields: Vec<Field>,
    pub sources: Vec<Source>,
    pub observations: Vec<Observation>,
    pub states: Vec<State>,
    pub scans: Vec<ScanSummary>,
    /// Rows per field id (index = field id).
    pub field_nrows: Vec<u64>,
    pub syscal: Vec<SysCalRow>,
    pub flag_cmds: Vec<FlagCmdRow>,
    /// Data columns present in the main table (DATA, CORRECTED_DATA, MODEL_DATA, FLOAT_DATA).
    pub data_columns: Vec<String>,
    pub has_weight_spectrum: bool,
}

impl MsMeta {
    /// The widest visibility cell: (largest NUM_CHAN, largest NUM_CORR), each at least 1.
    pub fn max_cell_shape(&self) -> (usize, usize) {
        let nchan = self
            .spws
            .iter()
            .map(|s| s.nchan())
            .max()
            .unwrap_or(1)
            .max(1);
        let ncorr = self
            .pols
            .iter()
            .map(|p| p.corr_types.len())
            .max()
            .unwrap_or(1)
            .max(1);
        (nchan, ncorr)
    }

    pub fn antenna_by_name(&self, name: &str) -> Option<&Antenna> {
        self.antennas.iter().find(|a| a.name == name)
    }

    pub fn spw(&self, id: SpwId) -> Option<&SpectralWindow> {
        self.spws.get(id.idx())
    }

    pub fn data_desc(&self, id: DataDescId) -> Option<&DataDesc> {
        self.data_descs.get(id.idx())
    }

    /// The correlation types of a data description.
    pub fn corrs_of(&self, dd: DataDescId) -> &[CorrType] {
        self.data_desc(dd)
            .and_then(|d| self.pols.get(d.pol as usize))
            .map(|p| p.corr_types.as_slice())
            .unwrap_or(&[])
    }

    /// The DDIDs whose spw is `spw`.
    pub fn ddids_of_spw(&self, spw: SpwId) -> Vec<DataDescId> {
        self.data_descs
            .iter()
            .filter(|d| d.spw == spw)
            .map(|d| d.id)
            .collect()
    }

    /// Start and end of the data (s), from the scan summaries.
    pub fn time_span_s(&self) -> Option<(f64, f64)> {
        let start = self.scans.iter().map(|s| s.start_s).reduce(f64::min)?;
        let end = self.scans.iter().map(|s| s.end_s).reduce(f64::max)?;
        Some((start, end))
    }

    /// Ids of spws that have at least one data row.
    pub fn observed_spws(&self) -> Vec<SpwId> {
        let mut v: Vec<SpwId> = self.scans.iter().flat_map(|s| s.spws.clone()).collect();
        v.sort();
        v.dedup();
        v
    }
}
