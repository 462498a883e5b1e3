//! Every exit code of `almacal`, and the one place where errors become exit codes. The table
//! in README.md ("Exit codes") and docs/recipes.md says the same.

use almacal_pipeline::{CleanError, LockError, RunError, RunReport, Status};

/// Success.
pub const OK: u8 = 0;
/// Internal error: a bug, or the workspace / an output file cannot be written.
pub const ERROR: u8 = 1;
/// Command-line usage: unknown option or stage name in an option, bad option value, or a
/// confirmation (`clean --yes`) that was not given.
pub const USAGE: u8 = 2;
/// The recipe is invalid: TOML syntax, schema, values, references, cycles, outputs.
pub const INVALID_RECIPE: u8 = 3;
/// The input data is missing or unusable: a MeasurementSet, caltable or file that does not
/// exist, is damaged or of the wrong kind, or a selection written in the recipe that the data
/// cannot satisfy (an spw, field, antenna... the MS does not have, a selection matching no
/// rows), for every task alike.
pub const INVALID_INPUT: u8 = 4;
/// A stage failed for another reason (its dependants were skipped).
pub const STAGE_FAILED: u8 = 5;
/// Another run holds the workspace lock (and `--wait` was not given).
pub const LOCKED: u8 = 6;
/// `regress`: a metric is out of tolerance.
pub const REGRESSED: u8 = 7;
/// Interrupted by Ctrl-C (SIGINT), 128 + 2 as shells report it.
pub const INTERRUPTED: u8 = 130;

/// The exit code of an error that stopped a run before its stages ran.
pub fn of_run_error(e: &RunError) -> u8 {
    match e {
        RunError::Lock(LockError::Held { .. }) => LOCKED,
        RunError::UnknownStage(_) => USAGE,
        RunError::Lock(LockError::Io(_)) | RunError::Io(_) => ERROR,
    }
}

/// The exit code of a finished run: a workspace I/O failure (1) before unusable input data
/// (4) before any other stage failure (5).
pub fn of_report(r: &RunReport) -> u8 {
    let failed = |s: &&almacal_pipeline::StageReport| s.status == Status::Failed;
    if r.ok() {
        OK
    } else if r.stages.iter().filter(failed).any(|s| s.io_error) {
        ERROR
    } else if r
        .stages
        .iter()
        .any(|s| s.status == Status::Failed && s.invalid_input)
    {
        INVALID_INPUT
    } else {
        STAGE_FAILED
    }
}

/// The exit code of a failed `clean`.
pub fn of_clean_error(e: &CleanError) -> u8 {
    match e {
        CleanError::Lock(LockError::Held { .. }) => LOCKED,
        CleanError::UnknownStage(_) => USAGE,
        CleanError::Lock(LockError::Io(_)) | CleanError::Io(_) => ERROR,
    }
}

/// The exit code of a recipe that did not load.
pub fn of_load_error(e: &almacal_recipe::RecipeErrors) -> u8 {
    if e.only_input_data() {
        INVALID_INPUT
    } else {
        INVALID_RECIPE
    }
}
