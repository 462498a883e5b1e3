//! almacal-sim: simulated ALMA ACA Band 7 MeasurementSets with known corruptions.
//!
//! Owns the physics and bookkeeping of the simulation: the array (CM01…CM12 on ACA pads,
//! with antenna-position errors), the spectral windows, the observing schedule and its
//! intents, the injected gains, bandpasses, Tsys, line emission, noise, online flags and
//! the optional fault, and the truth file that records all of them. Writing the MS goes
//! through `almacal_casa::ms_write`; this crate never calls casacore itself.
//!
//! Output is deterministic: every random draw comes from a stream keyed by the seed and
//! the quantity's indices, so the bytes do not depend on the number of threads.

pub mod array;
pub mod config;
pub mod degrade;
pub mod error;
pub mod geometry;
pub mod model;
pub mod rng;
pub mod run;
pub mod schedule;
pub mod sim;
pub mod spws;
pub mod tables;
pub mod truth;
pub mod vis;

pub use config::SimConfig;
pub use error::{SimError, SimResult};
pub use run::{sidecar_paths, simulate, SimReport};
pub use sim::Sim;
