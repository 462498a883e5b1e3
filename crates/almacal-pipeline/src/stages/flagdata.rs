//! The `flagdata` stage: a stage's commands ([`super::flag_commands`]) run in order on the
//! read-only vis (almacal-casa `compute_layer`); the product is a flag layer
//! ([`super::flag_layers`]). `summary` commands report counts (per antenna, spw, field,
//! scan) of the flags in force at that point. A flagdata stage on a caltable is
//! [`super::flagcal`].

use std::sync::Arc;

use almacal_casa::flagging::{compute_layer, flag_summary, FlagCommand, FlagMode};
use almacal_core::flaglayer::FlagLayer;
use almacal_recipe::ProductKind;

use super::flag_commands::{steps, Step};
use super::flag_layers::{load_layers, write_layer};
use super::prep_common::{casa_err, failed, write_json};
use crate::executor::{StageContext, StageError, StageExecutor, StageOutput};

/// The `flagdata` task.
pub struct Flagdata;

impl StageExecutor for Flagdata {
    fn algorithm_version(&self) -> u32 {
        // 2: CASA's clip semantics (clipzeros below float32 epsilon, ABS_ expressions).
        2
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let stage = &ctx.stage.name;
        if let Some(table) = super::flagcal::flagged_table(ctx) {
            return super::flagcal::run(ctx, table);
        }
        let vis = ctx
            .vis
            .as_ref()
            .ok_or_else(|| failed(stage, "flagdata needs `vis`"))?;
        let ms = &vis.path;
        let upstream = load_layers(vis, None)?;
        let steps = steps(ctx)?;
        for st in &steps {
            if let Step::Flag(FlagCommand {
                mode: FlagMode::Clip { datacolumn, .. },
                origin,
                ..
            }) = st
            {
                if ["FPARAM", "CPARAM", "SNR", "PARAMERR"].contains(&datacolumn.as_str()) {
                    return Err(failed(
                        stage,
                        format!("{origin}: datacolumn {:?} is a caltable column, but `vis` is a MeasurementSet (use data, corrected or model)", datacolumn.to_ascii_lowercase()),
                    ));
                }
            }
        }
        // Commands between summaries run together; each segment sees the earlier ones.
        let mut layer: Option<FlagLayer> = None;
        let mut reports = Vec::new();
        let mut summaries = Vec::new();
        let mut pending: Vec<FlagCommand> = Vec::new();
        let flush = |pending: &mut Vec<FlagCommand>,
                     layer: &mut Option<FlagLayer>,
                     reports: &mut Vec<serde_json::Value>|
         -> Result<(), StageError> {
            if pending.is_empty() {
                return Ok(());
            }
            let mut up = upstream.clone();
            if let Some(l) = layer.as_ref() {
                up.push(Arc::new(l.clone()));
            }
            let (seg, rep) = compute_layer(ms, pending, &up).map_err(|e| casa_err(stage, e))?;
            match layer {
                Some(l) => l.merge(&seg),
                None => *layer = Some(seg),
            }
            for r in rep {
                reports.push(serde_json::to_value(r).unwrap_or_default());
            }
            pending.clear();
            Ok(())
        };
        for step in steps {
            match step {
                Step::Flag(c) => pending.push(c),
                Step::Summary { selection, origin } => {
                    flush(&mut pending, &mut layer, &mut reports)?;
                    let mut all = upstream.clone();
                    if let Some(l) = layer.as_ref() {
                        all.push(Arc::new(l.clone()));
                    }
                    let sum = flag_summary(ms, &all, &selection).map_err(|e| casa_err(stage, e))?;
                    summaries.push(serde_json::json!({
                        "origin": origin,
                        "selection": selection.describe(),
                        "summary": serde_json::to_value(&sum).unwrap_or_default(),
                    }));
                }
            }
        }
        flush(&mut pending, &mut layer, &mut reports)?;
        let total_cells: u64 = reports
            .iter()
            .filter_map(|r| r["cells_flagged"].as_u64())
            .sum();
        if let Ok(path) = ctx.output(ProductKind::FlagLayer) {
            let l = match layer {
                Some(l) => l,
                None => {
                    let nrows = almacal_casa::table::RoTable::open(ms)
                        .map_err(|e| casa_err(stage, e))?
                        .nrows();
                    FlagLayer::new(nrows)
                }
            };
            write_layer(path, &l)?;
        }
        let report = serde_json::json!({
            "vis": ms.display().to_string(),
            "commands": reports,
            "summaries": summaries,
            "cells_flagged": total_cells,
        });
        write_json(ctx.output(ProductKind::Report)?, &report)?;
        Ok(StageOutput {
            summary: Some(serde_json::json!({ "cells_flagged": total_cells })),
        })
    }
}
