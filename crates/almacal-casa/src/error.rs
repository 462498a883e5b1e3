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
    Selection(#[from] crate::selection::error::SelectionError),
    #[error("the MS reader thread stopped unexpectedly: {0}")]
    ReaderThread(String),
}

pub type Result<T> = std::result::Result<T, CasaError>;

/// casacore's message, explained where it misleads: reading a table whose data file was cut
/// short (`table.f0`, ...) makes casacore report the file "is not writable" (it tries to
/// extend it), although the table was opened read-only.
pub fn explain_casacore(msg: &str) -> String {
    if msg.contains("is not writable") || msg.contains("FiledesIO::read") {
        let file = msg
            .split_whitespace()
            .find(|w| w.contains('/'))
            .unwrap_or("a data file");
        return format!("the table is damaged or truncated: {file} is shorter than its header says (casacore: {msg})");
    }
    msg.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_data_files_are_not_called_unwritable() {
        let m = explain_casacore("FiledesIO::write - /x/g.cal/table.f0 is not writable");
        assert!(
            m.starts_with("the table is damaged or truncated: /x/g.cal/table.f0"),
            "{m}"
        );
        assert_eq!(explain_casacore("other"), "other");
    }
}
