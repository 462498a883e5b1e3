//! Small helpers shared by the data-preparation stages (flagdata, gencal, applycal, split,
//! flagmanager, listobs): error constructors that name the stage and what to fix, JSON
//! report writing, and reading the vis a stage needs.

use std::path::Path;

use crate::executor::{StageContext, StageError, VisInput};

/// A stage failure naming the stage.
pub fn failed(stage: &str, msg: impl std::fmt::Display) -> StageError {
    StageError::Failed(format!("stage {stage}: {msg}"))
}

/// An invalid-input failure (unreadable MS/table) naming the stage.
pub fn casa_err(stage: &str, e: impl std::fmt::Display) -> StageError {
    StageError::InvalidInput(format!("stage {stage}: {e}"))
}

/// An I/O error naming the path.
pub fn io_err(path: &Path, e: impl std::fmt::Display) -> StageError {
    StageError::Io(std::io::Error::other(format!("{}: {e}", path.display())))
}

/// Write a pretty JSON report.
pub fn write_json(path: &Path, v: &serde_json::Value) -> Result<(), StageError> {
    let text = serde_json::to_string_pretty(v).map_err(|e| io_err(path, e))?;
    std::fs::write(path, text + "\n").map_err(|e| io_err(path, e))
}

/// The stage's vis, or a failure saying it needs one.
pub fn vis<'a>(ctx: &'a StageContext<'_>) -> Result<&'a VisInput, StageError> {
    ctx.vis
        .as_ref()
        .ok_or_else(|| failed(&ctx.stage.name, format!("{} needs `vis`", ctx.stage.task)))
}

/// The file name of a path as CASA records it in caltable `MSName`.
pub fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}
