//! Writing new MeasurementSets (MS v2) from scratch.
//!
//! Owns the table layouts ([`schema`]), the subtable contents ([`MsSubtables`]) and the
//! row-block writer ([`MsWriter`]). A producer (the simulator, `split`/`mstransform`)
//! describes the subtables once, creates the writer, then appends [`RowBlock`]s in the
//! final row order from one thread:
//!
//! ```no_run
//! # use almacal_casa::ms_write::*;
//! # fn demo(subtables: &MsSubtables, blocks: Vec<RowBlock>) -> Result<(), WriteError> {
//! let mut w = MsWriter::create("out.ms".as_ref(), subtables, MainLayout::data_only(subtables))?;
//! for b in &blocks {
//!     w.append(b)?;
//! }
//! w.finish()?;
//! # Ok(()) }
//! ```
//!
//! `DATA`, `FLAG` (and optional `CORRECTED_DATA`, `MODEL_DATA`, `WEIGHT_SPECTRUM`) use
//! TiledShapeStMan; every other column uses StandardStMan. Column keywords
//! (`QuantumUnits`, `MEASINFO`) follow what CASA 6.7 writes.

pub mod rows;
pub mod schema;
pub mod subtables;
pub mod writer;

pub use rows::RowBlock;
pub use subtables::{
    FeedRow, FieldRow, HistoryRow, MsSubtables, ObservationRow, ProcessorRow, SourceRow, StateRow,
    SysCalRow,
};
pub use writer::{MainLayout, MsWriter};

use thiserror::Error;

/// Errors while writing an MS; each names the table (and column) involved.
#[derive(Debug, Error)]
pub enum WriteError {
    #[error("{0} already exists; refusing to overwrite it")]
    Exists(String),
    #[error("invalid MS content: {0}")]
    Invalid(String),
    #[error("casacore error writing table {table}, column {column}: {msg}")]
    Casacore {
        table: String,
        column: String,
        msg: String,
    },
    #[error("{path}: {msg}")]
    Io { path: String, msg: String },
}

pub type WriteResult<T> = std::result::Result<T, WriteError>;
