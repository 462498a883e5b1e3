//! almacal-solve: calibration numerics, matching CASA 6.7 (see `../shared/algorithms.md`).
//!
//! Owns solution-interval gridding ([`solint`]), solver input averaging ([`accumulate`]),
//! the G/T/B Jones solver ([`gain`], [`solution`]; CASA's iteration in [`casa_solver`]),
//! reference-antenna handling ([`refant`]),
//! post-solve processing ([`postsolve`], [`bandpass`]), setjy flux models ([`setjy`]),
//! fluxscale ([`fluxscale`]), caltable interpolation ([`interp`]) and the data-preparation
//! numerics ([`prep`]: Tsys tables, tsysspwmap, antenna-position phases, geometry).
//! Pure and deterministic: no I/O, no casacore; kernels take ndarray views and return
//! solutions with convergence records. Parallelism (rayon) only across independent cells.

pub mod accumulate;
pub mod apply;
pub mod bandpass;
pub mod casa_solver;
pub mod error;
pub mod fluxscale;
pub mod gain;
pub mod interp;
pub mod norm;
pub mod postsolve;
pub mod prep;
pub mod refant;
pub mod renorm;
pub mod setjy;
pub mod solint;
pub mod solution;

pub use error::SolveError;

/// `true` unless `x > 0` (so NaN counts as not positive).
#[inline]
pub(crate) fn not_positive(x: f64) -> bool {
    x.is_nan() || x <= 0.0
}
