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
        let preavg = ctx.param("preavg").and_then(|v| v.as_f64()).unwrap_or(-1.0);
        if preavg > 0.0 {
            return Err(StageError::Failed(format!(
                "stage {}: preavg > 0 is not implemented; leave it at -1 (the whole solint)",
                ctx.stage.name
            )));
        }
        if !param_str(ctx, "solmode").is_empty() {
            return Err(StageError::Failed(format!(
                "stage {}: solmode {:?} is not implemented; use \"\"",
                ctx.stage.name,
                param_str(ctx, "solmode")
            )));
        }
        let cfg = SolveConfig::from_ctx(ctx, kind)?;
        run_solve(ctx, &cfg)
    }
}
