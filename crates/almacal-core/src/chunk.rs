//! [`VisChunk`]: an owned block of main-table rows of one data description, with only the
//! selected channels and correlations, as it travels from the I/O thread to compute threads.

use crate::ids::{AntennaId, DataDescId, FieldId, SpwId};
use ndarray::{Array1, Array2, Array3};
use num_complex::Complex32;

/// Rows of one (spw, field, scan) group, ordered as in the MS.
///
/// Array names carry their axis order: `_rcf` = (row, channel, correlation).
#[derive(Debug, Clone)]
pub struct VisChunk {
    pub dd: DataDescId,
    pub spw: SpwId,
    pub field: FieldId,
    pub scan: i32,
    /// Main-table row numbers of the rows in this chunk.
    pub rows: Vec<u64>,
    /// Selected channel indices (into the spw's channels), ascending.
    pub chans: Vec<usize>,
    /// Selected correlation indices (into the data description's correlations).
    pub corrs: Vec<usize>,
    pub time_s: Array1<f64>,
    pub interval_s: Array1<f64>,
    pub ant1: Vec<AntennaId>,
    pub ant2: Vec<AntennaId>,
    /// (row, 3) in metres.
    pub uvw_m: Array2<f64>,
    pub data_rcf: Array3<Complex32>,
    pub flag_rcf: Array3<bool>,
    /// (row, corr).
    pub weight_rc: Array2<f32>,
    pub sigma_rc: Array2<f32>,
    pub weight_spectrum_rcf: Option<Array3<f32>>,
    pub flag_row: Vec<bool>,
}

impl VisChunk {
    pub fn nrows(&self) -> usize {
        self.rows.len()
    }

    /// Bytes of visibility payload (data + flags + weights) held by this chunk.
    pub fn payload_bytes(&self) -> usize {
        self.data_rcf.len() * 8
            + self.flag_rcf.len()
            + self.weight_rc.len() * 4
            + self.sigma_rc.len() * 4
            + self.weight_spectrum_rcf.as_ref().map_or(0, |w| w.len() * 4)
    }
}
