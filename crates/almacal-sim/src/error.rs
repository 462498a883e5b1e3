//! Errors of the simulator.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum SimError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Write(#[from] almacal_casa::ms_write::WriteError),
    #[error("{path}: {msg}")]
    Io { path: String, msg: String },
    #[error("generator thread failed: {0}")]
    Thread(String),
}

pub type SimResult<T> = std::result::Result<T, SimError>;
