//! almacal-core: the shared vocabulary of almacal.
//!
//! Owns typed ids, the MeasurementSet metadata model (antennas, spectral windows with
//! per-channel frequencies, polarizations, fields, states/intents, scans), Stokes/correlation
//! codes, CASA time conventions and the [`chunk::VisChunk`] that carries visibilities between
//! the I/O thread and the solvers. It never does I/O and never links casacore.

pub mod chunk;
pub mod cmdline;
pub mod corr;
pub mod flaglayer;
pub mod ids;
pub mod meta;
pub mod time;

pub use chunk::VisChunk;
pub use corr::CorrType;
pub use ids::{AntennaId, DataDescId, FieldId, SpwId};
pub use meta::MsMeta;
