//! `bandpass` with `bandtype = "B"` (algorithms.md §2): per-channel (or per frequency bin,
//! `inf,20ch` / `inf,7.8MHz`) G solves on the selected data with pre-applied gaintables,
//! refant, solnorm (vector-mean phase, rms amplitude per antenna/pol), fillgaps; writes a
//! `B Jones` caltable. The work is in [`super::solve_common`].

use almacal_solve::gain::JonesKind;

use super::solve_common::{param_str, run_solve, solve_partial_mode, SolveConfig};
use crate::executor::{PartialMode, StageContext, StageError, StageExecutor, StageOutput};

/// The `bandpass` task.
pub struct Bandpass;

impl StageExecutor for Bandpass {
    fn algorithm_version(&self) -> u32 {
        // 2: CASA's solver iteration (casa_solver.rs) is the default.
        2
    }

    fn partial_mode(&self, stage: &almacal_recipe::Stage) -> PartialMode {
        solve_partial_mode(stage)
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let bandtype = param_str(ctx, "bandtype");
        if !(bandtype.is_empty() || bandtype == "B") {
            return Err(StageError::Failed(format!(
                "stage {}: bandtype {bandtype:?} is not implemented; use \"B\"",
                ctx.stage.name
            )));
        }
        let cfg = SolveConfig::from_ctx(ctx, JonesKind::B)?;
        run_solve(ctx, &cfg)
    }
}
