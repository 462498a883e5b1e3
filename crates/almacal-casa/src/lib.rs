//! almacal-casa: the only crate that talks to casacore (through `rubbl_casatables`).
//!
//! Owns opening MeasurementSets read-only, reading their metadata into
//! [`almacal_core::MsMeta`], resolving CASA selection syntax against it, and chunked
//! visibility reading on one I/O thread. It never does calibration numerics.
//! casacore is not thread-safe: every open table lives on exactly one thread.

pub mod bulk;
pub mod caltable;
pub mod casacore_lock;
pub mod error;
pub mod flagging;
pub mod isolate;
pub mod listobs;
pub mod memory;
pub mod meta_read;
pub mod ms_write;
pub mod prefault;
pub mod reader;
pub mod selection;
pub mod space;
pub mod table;
pub mod write_table;

pub use error::CasaError;
pub use meta_read::read_meta;
