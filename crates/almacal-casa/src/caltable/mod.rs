//! CASA NewCalTable calibration tables (`G Jones`, `T Jones`, `B Jones`, `B TSYS`,
//! `KAntPos Jones`): the in-memory model ([`CalTable`]), writing exactly CASA 6.7's schema
//! (algorithms.md §10: 13 main columns, keywords, table info, ANTENNA / FIELD /
//! SPECTRAL_WINDOW / OBSERVATION / HISTORY subtables) and reading CASA's or our own tables.
//! Parameter cells are held as `[npar, nchan]` (casatools order). All casacore calls hold
//! [`crate::table::casacore_lock`]. No calibration numerics here.

mod read;
mod schema;
mod subtables;
mod write;

pub use read::read_caltable;
pub use subtables::{CalAntenna, CalField, CalObservation, CalSpw, CalSubtables, HistoryRow};
pub use write::write_caltable;

use ndarray::Array2;
use num_complex::Complex32;

/// `ParType` keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParType {
    /// CPARAM (G, T, B Jones).
    Complex,
    /// FPARAM (B TSYS, KAntPos Jones).
    Float,
}

impl ParType {
    pub fn keyword(self) -> &'static str {
        match self {
            ParType::Complex => "Complex",
            ParType::Float => "Float",
        }
    }
}

/// The solution parameters of one row, `[npar, nchan]`.
#[derive(Debug, Clone, PartialEq)]
pub enum CalParams {
    Complex(Array2<Complex32>),
    Float(Array2<f32>),
}

impl CalParams {
    pub fn shape(&self) -> (usize, usize) {
        match self {
            CalParams::Complex(a) => a.dim(),
            CalParams::Float(a) => a.dim(),
        }
    }
    pub fn par_type(&self) -> ParType {
        match self {
            CalParams::Complex(_) => ParType::Complex,
            CalParams::Float(_) => ParType::Float,
        }
    }
}

/// One main-table row.
#[derive(Debug, Clone, PartialEq)]
pub struct CalRow {
    pub time_s: f64,
    pub field_id: i32,
    pub spw_id: i32,
    pub antenna1: i32,
    /// Reference antenna used, or −1.
    pub antenna2: i32,
    pub interval_s: f64,
    pub scan: i32,
    pub obs_id: i32,
    pub params: CalParams,
    pub paramerr: Array2<f32>,
    pub flag: Array2<bool>,
    pub snr: Array2<f32>,
    /// CASA solvers never write WEIGHT (cells undefined); renorm writes 1.0.
    pub weight: Option<Array2<f32>>,
}

/// Table keywords other than the subtable links.
#[derive(Debug, Clone, PartialEq)]
pub struct CalKeywords {
    pub par_type: ParType,
    /// MS path as given to the task.
    pub ms_name: String,
    /// `VisCal`: 'G Jones', 'T Jones', 'B Jones', 'B TSYS', 'KAntPos Jones'.
    pub viscal: String,
    /// 'unknown', 'linear' or 'circular'.
    pub pol_basis: String,
    pub casa_version: String,
}

/// The CASA version string we declare (the version whose conventions we follow).
pub const CASA_VERSION: &str = "6.7.0-31";

/// A whole calibration table.
#[derive(Debug, Clone, PartialEq)]
pub struct CalTable {
    pub keywords: CalKeywords,
    pub rows: Vec<CalRow>,
    pub sub: CalSubtables,
}

/// Provenance recorded in HISTORY by almacal.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Provenance {
    pub almacal_version: String,
    pub stage: String,
    pub fingerprint: String,
    /// Resolved parameters as (name, value in CASA syntax).
    pub params: Vec<(String, String)>,
}

impl Provenance {
    /// HISTORY rows for this provenance (one message row; parameters in APP_PARAMS).
    pub fn history_rows(&self, time_s: f64) -> Vec<HistoryRow> {
        vec![HistoryRow {
            time_s,
            observation_id: -1,
            message: format!(
                "almacal {} stage '{}' fingerprint {}",
                self.almacal_version, self.stage, self.fingerprint
            ),
            priority: "NORMAL".into(),
            origin: format!("almacal::{}", self.stage),
            object_id: 0,
            application: "almacal".into(),
            cli_command: vec![format!("almacal run (stage {})", self.stage)],
            app_params: self
                .params
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
        }]
    }
}
