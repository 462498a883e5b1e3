//! [`RowBlock`]: an owned block of consecutive main-table rows that share one cell shape
//! (one data description), as a producer hands them to [`super::MsWriter`].

use super::{WriteError, WriteResult};
use ndarray::{Array2, Array3};
use num_complex::Complex32;

/// Consecutive main-table rows with the same `(nchan, ncorr)` cell shape.
///
/// Per-row scalars are plain vectors; array names carry their axis order
/// (`_rcf` = row, channel, correlation; `_rc` = row, correlation), matching
/// [`almacal_core::VisChunk`]. casacore stores the cells as `[ncorr, nchan]`.
#[derive(Debug, Clone, Default)]
pub struct RowBlock {
    pub time_s: Vec<f64>,
    pub time_centroid_s: Vec<f64>,
    pub interval_s: Vec<f64>,
    pub exposure_s: Vec<f64>,
    pub antenna1: Vec<i32>,
    pub antenna2: Vec<i32>,
    pub feed1: Vec<i32>,
    pub feed2: Vec<i32>,
    pub data_desc_id: Vec<i32>,
    pub field_id: Vec<i32>,
    pub scan_number: Vec<i32>,
    pub state_id: Vec<i32>,
    pub observation_id: Vec<i32>,
    pub array_id: Vec<i32>,
    pub processor_id: Vec<i32>,
    pub flag_row: Vec<bool>,
    /// (row, 3), metres.
    pub uvw_m: Array2<f64>,
    pub weight_rc: Array2<f32>,
    pub sigma_rc: Array2<f32>,
    pub data_rcf: Array3<Complex32>,
    pub flag_rcf: Array3<bool>,
    /// Written only when the MS was created with the column ([`super::MainLayout`]).
    pub corrected_rcf: Option<Array3<Complex32>>,
    pub model_rcf: Option<Array3<Complex32>>,
    pub weight_spectrum_rcf: Option<Array3<f32>>,
}

impl RowBlock {
    /// A block of `nrows` rows with `nchan × ncorr` cells, all zero / false / id 0.
    pub fn zeros(nrows: usize, nchan: usize, ncorr: usize) -> Self {
        Self {
            time_s: vec![0.0; nrows],
            time_centroid_s: vec![0.0; nrows],
            interval_s: vec![0.0; nrows],
            exposure_s: vec![0.0; nrows],
            antenna1: vec![0; nrows],
            antenna2: vec![0; nrows],
            feed1: vec![0; nrows],
            feed2: vec![0; nrows],
            data_desc_id: vec![0; nrows],
            field_id: vec![0; nrows],
            scan_number: vec![0; nrows],
            state_id: vec![0; nrows],
            observation_id: vec![0; nrows],
            array_id: vec![0; nrows],
            processor_id: vec![0; nrows],
            flag_row: vec![false; nrows],
            uvw_m: Array2::zeros((nrows, 3)),
            weight_rc: Array2::ones((nrows, ncorr)),
            sigma_rc: Array2::ones((nrows, ncorr)),
            data_rcf: Array3::zeros((nrows, nchan, ncorr)),
            flag_rcf: Array3::from_elem((nrows, nchan, ncorr), false),
            corrected_rcf: None,
            model_rcf: None,
            weight_spectrum_rcf: None,
        }
    }

    pub fn nrows(&self) -> usize {
        self.time_s.len()
    }

    /// `(nchan, ncorr)` of the cells.
    pub fn cell_shape(&self) -> (usize, usize) {
        let (_, c, p) = self.data_rcf.dim();
        (c, p)
    }

    /// Bytes of DATA + FLAG + WEIGHT + SIGMA payload (for throughput reports).
    pub fn payload_bytes(&self) -> usize {
        self.data_rcf.len() * 8 + self.flag_rcf.len() + self.weight_rc.len() * 8
    }

    /// Check that every column has `nrows` rows and the cells agree on their shape.
    pub fn validate(&self) -> WriteResult<()> {
        let n = self.nrows();
        let (nchan, ncorr) = self.cell_shape();
        let scalars: [(&str, usize); 16] = [
            ("TIME_CENTROID", self.time_centroid_s.len()),
            ("INTERVAL", self.interval_s.len()),
            ("EXPOSURE", self.exposure_s.len()),
            ("ANTENNA1", self.antenna1.len()),
            ("ANTENNA2", self.antenna2.len()),
            ("FEED1", self.feed1.len()),
            ("FEED2", self.feed2.len()),
            ("DATA_DESC_ID", self.data_desc_id.len()),
            ("FIELD_ID", self.field_id.len()),
            ("SCAN_NUMBER", self.scan_number.len()),
            ("STATE_ID", self.state_id.len()),
            ("OBSERVATION_ID", self.observation_id.len()),
            ("ARRAY_ID", self.array_id.len()),
            ("PROCESSOR_ID", self.processor_id.len()),
            ("FLAG_ROW", self.flag_row.len()),
            ("UVW", self.uvw_m.nrows()),
        ];
        for (name, len) in scalars {
            if len != n {
                return Err(WriteError::Invalid(format!(
                    "row block column {name} has {len} rows, TIME has {n}"
                )));
            }
        }
        if self.uvw_m.ncols() != 3 {
            return Err(WriteError::Invalid("UVW must have 3 columns".into()));
        }
        let rc_ok = |a: &Array2<f32>| a.dim() == (n, ncorr);
        if !rc_ok(&self.weight_rc) || !rc_ok(&self.sigma_rc) {
            return Err(WriteError::Invalid(format!(
                "WEIGHT/SIGMA must be ({n}, {ncorr})"
            )));
        }
        let shape = (n, nchan, ncorr);
        let bad3 = self.flag_rcf.dim() != shape
            || self
                .corrected_rcf
                .as_ref()
                .is_some_and(|a| a.dim() != shape)
            || self.model_rcf.as_ref().is_some_and(|a| a.dim() != shape)
            || self
                .weight_spectrum_rcf
                .as_ref()
                .is_some_and(|a| a.dim() != shape);
        if bad3 {
            return Err(WriteError::Invalid(format!(
                "FLAG and the other data columns must match DATA's shape {shape:?}"
            )));
        }
        if nchan == 0 || ncorr == 0 {
            return Err(WriteError::Invalid(
                "cells must have at least one channel and one correlation".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeros_block_is_valid_and_sized() {
        let b = RowBlock::zeros(3, 8, 2);
        b.validate().unwrap();
        assert_eq!(b.nrows(), 3);
        assert_eq!(b.cell_shape(), (8, 2));
        assert_eq!(b.payload_bytes(), 3 * 8 * 2 * 8 + 3 * 8 * 2 + 3 * 2 * 8);
    }

    #[test]
    fn inconsistent_blocks_are_rejected() {
        let mut b = RowBlock::zeros(3, 8, 2);
        b.antenna2.pop();
        assert!(b.validate().is_err());
        let mut b = RowBlock::zeros(3, 8, 2);
        b.flag_rcf = Array3::from_elem((3, 4, 2), false);
        assert!(b.validate().is_err());
        let mut b = RowBlock::zeros(3, 8, 2);
        b.weight_rc = Array2::ones((3, 1));
        assert!(b.validate().is_err());
        let mut b = RowBlock::zeros(3, 8, 2);
        b.model_rcf = Some(Array3::zeros((3, 8, 1)));
        assert!(b.validate().is_err());
        assert!(RowBlock::zeros(2, 0, 2).validate().is_err());
    }
}
