//! `gaincal` (algorithms.md §1): G (per-receptor) and T (scalar) complex gains with calmode
//! ap/p/a, CASA's solution intervals, combine, refant (flex/strict), minblperant, minsnr and
//! solnorm, on the selected data with pre-applied gaintables and the setjy models; writes a
//! `G Jones` / `T Jones` caltable. The work is in [`super::solve_common`].

use almacal_solve::gain::JonesKind;

use super::solve_common::{param_str, run_solve, solve_partial_mode, SolveConfig};
use crate::executor::{PartialMode, StageContext, StageError, StageExecutor, StageOutput};

/// The `gaincal` task.
pub struct Gaincal;

impl StageExecutor for Gaincal {
    fn algorithm_version(&self) -> u32 {
        // 2: CASA's solver iteration (casa_solver.rs) is the default.
        2
    }

    fn partial_mode(&self, stage: &almacal_recipe::Stage) -> PartialMode {
        solve_partial_mode(stage)
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let kind = match param_str(ctx, "gaintype") {
            "G" | "" => JonesKind::G,
            "T" => JonesKind::T,
            other => {
                return Err(StageError::Failed(format!(
                    "stage {}: gaintype {other:?} is not implemented (G and T are)",
                    ctx.stage.name
                )))
            }
        };
        // preavg > 0 and solmode are refused by `check` (almacal_recipe::support), as is
        // every value this stage does not implement.
        let cfg = SolveConfig::from_ctx(ctx, kind)?;
        run_solve(ctx, &cfg)
    }
}
