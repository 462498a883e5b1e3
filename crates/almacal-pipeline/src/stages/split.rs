//! The `split` and `mstransform` stages: copy a selection of a vis (with its upstream flag
//! layers applied) into a new MS with the chosen `datacolumn` as DATA, re-indexed as CASA
//! does (`reindex = true`, CASA's default and split's only behaviour; see `reindex`) or
//! keeping spw ids and DDIDs (`reindex = false`; see `vis_out`). Averaging is not
//! implemented and is refused with a message rather than ignored.

use almacal_recipe::{ParamValue, ProductKind};

use super::flag_commands::selection_of;
use super::flag_layers::load_layers;
use super::prep_common::{failed, vis};
use super::vis_out::{write_vis, DataColumn, OutputSpec};
use crate::executor::{StageContext, StageError, StageExecutor, StageOutput};

/// `split` / `mstransform`.
pub struct Split;

impl StageExecutor for Split {
    fn algorithm_version(&self) -> u32 {
        1
    }

    fn validate(
        &self,
        stage: &almacal_recipe::Stage,
        meta: &almacal_core::meta::MsMeta,
    ) -> Vec<crate::executor::ParamProblem> {
        let reindex = stage
            .params
            .get("reindex")
            .and_then(ParamValue::as_bool)
            .unwrap_or(true);
        super::vis_out::whole_spw_problems(&stage.params, "", meta, reindex)
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let stage = &ctx.stage.name;
        // Averaging, combining and re-indexing are refused by `check` (almacal_recipe::support).
        let input = vis(ctx)?;
        let layers = load_layers(input, None)?;
        let dc_s = ctx.param_str("datacolumn").unwrap_or("corrected");
        let datacolumn = DataColumn::parse(dc_s).ok_or_else(|| {
            failed(
                stage,
                format!("datacolumn {dc_s:?} is not supported (use data, corrected or model)"),
            )
        })?;
        let spec = OutputSpec {
            selection: selection_of(&ctx.stage.params, "selection")
                .map_err(|e| failed(stage, e))?,
            datacolumn,
            keepflags: ctx
                .param("keepflags")
                .and_then(ParamValue::as_bool)
                .unwrap_or(true),
            reindex: ctx
                .param("reindex")
                .and_then(ParamValue::as_bool)
                .unwrap_or(true),
        };
        let out = ctx.output(ProductKind::Vis)?;
        let progress = |d: u64, t: u64| ctx.progress(d, t);
        let stats = write_vis(
            stage,
            &input.path,
            layers,
            out,
            &spec,
            None,
            ctx.threads,
            &progress,
        )?;
        Ok(StageOutput {
            summary: Some(serde_json::to_value(&stats).unwrap_or_default()),
        })
    }
}
