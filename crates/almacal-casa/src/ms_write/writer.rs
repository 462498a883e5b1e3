//! [`MsWriter`]: creates a new MeasurementSet directory (main table, column keywords,
//! tiled storage for the visibility columns, every subtable) and appends [`RowBlock`]s in
//! order. One writer lives on one thread; every casacore call holds the casacore lock.

use super::rows::RowBlock;
use super::schema::{self, ColumnSpec};
use super::subtables::{self, MsSubtables};
use super::{WriteError, WriteResult};
use crate::table::casacore_lock;
use crate::write_table::WriteTable;
use rubbl_casatables::{CasaScalarData, Table, TableCreateMode};
use std::path::{Path, PathBuf};

/// Which optional main-table columns to create, and the tiling of the visibility columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MainLayout {
    pub corrected_data: bool,
    pub model_data: bool,
    pub weight_spectrum: bool,
    /// Largest `NUM_CHAN` of any data description that will be written.
    pub max_nchan: usize,
    /// Largest `NUM_CORR` of any polarization setup that will be written.
    pub max_ncorr: usize,
    /// Rows per tile of the complex columns (FLAG uses 4× as many).
    pub tile_rows: usize,
}

impl MainLayout {
    /// DATA + FLAG only, tiles of about 256 KiB sized for the largest spw of `subtables`.
    pub fn data_only(subtables: &MsSubtables) -> Self {
        let max_nchan = subtables
            .data_descs
            .iter()
            .filter_map(|d| subtables.spws.get(d.spw.idx()))
            .map(|s| s.nchan())
            .max()
            .unwrap_or(1)
            .max(1);
        let max_ncorr = subtables
            .pols
            .iter()
            .map(|p| p.corr_types.len())
            .max()
            .unwrap_or(1)
            .max(1);
        let tile_rows = (262_144 / (max_nchan * max_ncorr * 8)).clamp(8, 1024);
        Self {
            corrected_data: false,
            model_data: false,
            weight_spectrum: false,
            max_nchan,
            max_ncorr,
            tile_rows,
        }
    }

    fn tiled_columns(&self) -> Vec<&'static ColumnSpec> {
        schema::TILED_MAIN
            .iter()
            .filter(|c| match c.name {
                "CORRECTED_DATA" => self.corrected_data,
                "MODEL_DATA" => self.model_data,
                "WEIGHT_SPECTRUM" => self.weight_spectrum,
                _ => true,
            })
            .collect()
    }
}

/// Writes one new MeasurementSet. Not `Send`: keep it on the thread that created it.
pub struct MsWriter {
    /// Flushed through a call that catches, and leaked if that fails (`write_table.rs`).
    table: WriteTable,
    path: PathBuf,
    layout: MainLayout,
    nrows: u64,
    bytes: u64,
}

fn main_err(column: &str, e: impl std::fmt::Display) -> WriteError {
    WriteError::Casacore {
        table: "main".into(),
        column: column.into(),
        msg: e.to_string(),
    }
}

impl MsWriter {
    /// Create the MS at `path` (which must not exist) with all subtables of `subtables`.
    pub fn create(path: &Path, subtables: &MsSubtables, layout: MainLayout) -> WriteResult<Self> {
        if path.exists() {
            return Err(WriteError::Exists(path.display().to_string()));
        }
        subtables.validate()?;
        let mut table = {
            let _g = casacore_lock();
            let desc = schema::table_desc(schema::MAIN).map_err(|e| main_err("", e))?;
            let mut table = WriteTable::new(
                Table::new(
                    crate::table::casa_path(path),
                    desc,
                    0,
                    TableCreateMode::NewNoReplace,
                )
                .map_err(|e| main_err("", e))?,
                path,
            );
            for c in layout.tiled_columns() {
                let rows = if c.name == "FLAG" {
                    layout.tile_rows * 4
                } else {
                    layout.tile_rows
                };
                table
                    .add_tiled_array_column(
                        c.ty.glue(),
                        c.name,
                        None,
                        &[layout.max_nchan as u64, layout.max_ncorr as u64],
                        &[
                            rows as u64,
                            layout.max_nchan as u64,
                            layout.max_ncorr as u64,
                        ],
                        &format!("Tiled{}", tiled_dm_suffix(c.name)),
                        false,
                    )
                    .map_err(|e| main_err(c.name, e))?;
            }
            table
                .put_keyword("MS_VERSION", &2.0f32)
                .map_err(|e| main_err("", e))?;
            // Performance only: a failure here leaves the default cache.
            let _ = table.set_standard_stman_cache_size("StandardStMan", 4096);
            table
        };
        subtables::write_all(path, &mut table, subtables)?;
        Ok(Self {
            table,
            path: path.to_path_buf(),
            layout,
            nrows: 0,
            bytes: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn layout(&self) -> &MainLayout {
        &self.layout
    }

    /// Rows written so far.
    pub fn nrows(&self) -> u64 {
        self.nrows
    }

    /// Visibility payload bytes written so far ([`RowBlock::payload_bytes`]).
    pub fn payload_bytes(&self) -> u64 {
        self.bytes
    }

    fn scalars<T: CasaScalarData>(&mut self, column: &str, start: u64, v: &[T]) -> WriteResult<()> {
        self.table
            .put_column_range_scalar(column, start, v)
            .map_err(|e| main_err(column, e))
    }

    /// Append `block` after the rows already written.
    pub fn append(&mut self, block: &RowBlock) -> WriteResult<()> {
        block.validate()?;
        let (nchan, ncorr) = block.cell_shape();
        if nchan > self.layout.max_nchan || ncorr > self.layout.max_ncorr {
            return Err(WriteError::Invalid(format!(
                "cells of {nchan} channels × {ncorr} correlations exceed the layout's {} × {}",
                self.layout.max_nchan, self.layout.max_ncorr
            )));
        }
        let want = |present: bool, col: &str, on: bool| -> WriteResult<()> {
            if present && !on {
                return Err(WriteError::Invalid(format!(
                    "row block carries {col} but the MS was created without it"
                )));
            }
            if on && !present {
                return Err(WriteError::Invalid(format!(
                    "the MS has a {col} column but the row block does not fill it"
                )));
            }
            Ok(())
        };
        want(
            block.corrected_rcf.is_some(),
            "CORRECTED_DATA",
            self.layout.corrected_data,
        )?;
        want(
            block.model_rcf.is_some(),
            "MODEL_DATA",
            self.layout.model_data,
        )?;
        want(
            block.weight_spectrum_rcf.is_some(),
            "WEIGHT_SPECTRUM",
            self.layout.weight_spectrum,
        )?;
        let n = block.nrows();
        if n == 0 {
            return Ok(());
        }
        let start = self.nrows;
        let _g = casacore_lock();
        self.table.add_rows(n).map_err(|e| main_err("", e))?;
        self.scalars("TIME", start, &block.time_s)?;
        self.scalars("TIME_CENTROID", start, &block.time_centroid_s)?;
        self.scalars("INTERVAL", start, &block.interval_s)?;
        self.scalars("EXPOSURE", start, &block.exposure_s)?;
        self.scalars("ANTENNA1", start, &block.antenna1)?;
        self.scalars("ANTENNA2", start, &block.antenna2)?;
        self.scalars("FEED1", start, &block.feed1)?;
        self.scalars("FEED2", start, &block.feed2)?;
        self.scalars("DATA_DESC_ID", start, &block.data_desc_id)?;
        self.scalars("FIELD_ID", start, &block.field_id)?;
        self.scalars("SCAN_NUMBER", start, &block.scan_number)?;
        self.scalars("STATE_ID", start, &block.state_id)?;
        self.scalars("OBSERVATION_ID", start, &block.observation_id)?;
        self.scalars("ARRAY_ID", start, &block.array_id)?;
        self.scalars("PROCESSOR_ID", start, &block.processor_id)?;
        self.scalars("FLAG_ROW", start, &block.flag_row)?;
        let t = &mut *self.table;
        fn put_err(c: &'static str) -> impl Fn(rubbl_casatables::CasacoreError) -> WriteError {
            move |e| main_err(c, e)
        }
        t.put_column_range_array("UVW", start, &block.uvw_m)
            .map_err(put_err("UVW"))?;
        t.put_column_range_array("WEIGHT", start, &block.weight_rc)
            .map_err(put_err("WEIGHT"))?;
        t.put_column_range_array("SIGMA", start, &block.sigma_rc)
            .map_err(put_err("SIGMA"))?;
        t.put_column_range_array("DATA", start, &block.data_rcf)
            .map_err(put_err("DATA"))?;
        t.put_column_range_array("FLAG", start, &block.flag_rcf)
            .map_err(put_err("FLAG"))?;
        if let Some(a) = &block.corrected_rcf {
            t.put_column_range_array("CORRECTED_DATA", start, a)
                .map_err(put_err("CORRECTED_DATA"))?;
        }
        if let Some(a) = &block.model_rcf {
            t.put_column_range_array("MODEL_DATA", start, a)
                .map_err(put_err("MODEL_DATA"))?;
        }
        if let Some(a) = &block.weight_spectrum_rcf {
            t.put_column_range_array("WEIGHT_SPECTRUM", start, a)
                .map_err(put_err("WEIGHT_SPECTRUM"))?;
        }
        self.nrows += n as u64;
        self.bytes += block.payload_bytes() as u64;
        Ok(())
    }

    /// Close the MS (flushing everything to disk) and mark it as a MeasurementSet.
    /// Returns the number of rows written.
    pub fn finish(self) -> WriteResult<u64> {
        let Self {
            table, path, nrows, ..
        } = self;
        // A full disk comes back here as an error (the table is then leaked, not closed).
        table.close().map_err(|e| WriteError::Io {
            path: path.display().to_string(),
            msg: e.msg,
        })?;
        write_table_info(&path)?;
        Ok(nrows)
    }
}

fn tiled_dm_suffix(column: &str) -> &'static str {
    match column {
        "DATA" => "Data",
        "FLAG" => "Flag",
        "CORRECTED_DATA" => "Corrected",
        "MODEL_DATA" => "ModelData",
        _ => "WgtSpectrum",
    }
}

/// casacore keeps a table's type in the plain-text `table.info`; CASA expects
/// "Measurement Set" for an MS.
fn write_table_info(path: &Path) -> WriteResult<()> {
    let text = "Type = Measurement Set\nSubType = \nThis is a MeasurementSet Table holding measurements from a Telescope\n";
    std::fs::write(path.join("table.info"), text).map_err(|e| WriteError::Io {
        path: path.join("table.info").display().to_string(),
        msg: e.to_string(),
    })
}
