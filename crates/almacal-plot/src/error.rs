//! Errors of plotting, locating and report writing.

use std::path::PathBuf;

/// What can go wrong while plotting or writing the report.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error(transparent)]
    Casa(#[from] almacal_casa::CasaError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("drawing failed: {0}")]
    Draw(String),
    #[error("nothing to plot: {0}")]
    Empty(String),
    #[error("invalid argument: {0}")]
    Invalid(String),
    #[error("{path}: {msg}")]
    BadInput { path: PathBuf, msg: String },
}

pub type Result<T> = std::result::Result<T, PlotError>;

/// Attach a path to an I/O error.
pub fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> PlotError + '_ {
    move |source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    }
}
