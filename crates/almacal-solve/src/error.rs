//! Errors of the numerics crate: only for malformed inputs (bad solint strings, shape
//! mismatches). Scientific outcomes (too few baselines, no convergence) are reported in
//! convergence records, never as errors.

use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum SolveError {
    #[error("solint '{0}': {1}")]
    Solint(String, String),
    #[error("combine '{0}': unknown axis '{1}' (expected scan, field, spw or obs)")]
    Combine(String, String),
    #[error("refant: {0}")]
    Refant(String),
    #[error("shape mismatch: {0}")]
    Shape(String),
    #[error("setjy: {0}")]
    Setjy(String),
    #[error("fluxscale: {0}")]
    Fluxscale(String),
    #[error("interpolation: {0}")]
    Interp(String),
}

pub type Result<T> = std::result::Result<T, SolveError>;
