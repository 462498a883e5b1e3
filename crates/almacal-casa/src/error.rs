//! Errors of the casacore layer, always naming the table path (and column) involved.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum CasaError {
    #[error("{path}: cannot open table ({msg}); is this a CASA MeasurementSet or table?")]
    Open { path: String, msg: String },
    #[error("{path}: column {column}: {msg}")]
    Column {
        path: String,
        column: String,
        msg: String,
    },
    #[error("{path}: {msg}")]
    Invalid { path: String, msg: String },
    #[error(transparent)]
    Selection(#[from] crate::selection::SelectionError),
    #[error("the MS reader thread stopped unexpectedly: {0}")]
    ReaderThread(String),
}

pub type Result<T> = std::result::Result<T, CasaError>;
