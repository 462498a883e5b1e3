//! The `split` and `mstransform` stages: copy a selection of a vis (with its upstream flag
//! layers applied) into a new MS with the chosen `datacolumn` as DATA, keeping spw ids and
//! DDIDs (`reindex = false`; see `vis_out`). Averaging and re-indexing are not implemented
//! and are refused with a message rather than ignored.

use almacal_recipe::{ParamValue, ProductKind};

use super::flagdata::{load_layers, selection_of};
use super::prep_common::{failed, vis};
use super::vis_out::{write_vis, DataColumn, OutputSpec};
use crate::executor::{StageContext, StageError, StageExecutor, StageOutput};

/// `split` / `mstransform`.
pub struct Split;

fn refuse_non_default(ctx: &StageContext<'_>) -> Result<(), StageError> {
    let stage = &ctx.stage.name;
    let p = |k: &str| ctx.param(k);
    if p("reindex").and_then(ParamValue::as_bool) == Some(true) {
        return Err(failed(
            stage,
            "reindex = true is not supported yet; set reindex = false (spw ids and DDIDs kept, as the tutorial does)",
        ));
    }
    for k in ["chanaverage", "timeaverage"] {
        if p(k).and_then(ParamValue::as_bool) == Some(true) {
            return Err(failed(stage, format!("{k} = true is not supported yet")));
        }
    }
    for k in ["width", "chanbin"] {
        if let Some(l) = p(k).and_then(ParamValue::as_list) {
            if l.iter().any(|v| v.as_i64().is_some_and(|w| w > 1)) {
                return Err(failed(
                    stage,
                    format!("channel averaging ({k}) is not supported yet"),
                ));
            }
        }
    }
    if let Some(t) = p("timebin").and_then(ParamValue::as_str) {
        if !matches!(t.trim(), "" | "0s" | "0") {
            return Err(failed(
                stage,
                "time averaging (timebin) is not supported yet",
            ));
        }
    }
    if let Some(c) = p("combine").and_then(ParamValue::as_str_list) {
        if c.iter().any(|s| !s.is_empty()) {
            return Err(failed(stage, "combine is not supported yet"));
        }
    }
    Ok(())
}

impl StageExecutor for Split {
    fn algorithm_version(&self) -> u32 {
        1
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let stage = &ctx.stage.name;
        refuse_non_default(ctx)?;
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
