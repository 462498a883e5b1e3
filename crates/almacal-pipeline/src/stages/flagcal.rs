//! flagdata on a calibration table (`vis` names a caltable stage or a CASA caltable): the
//! stage reads the table, runs its commands in order on the solutions' FLAG cells
//! (almacal-casa `flagging::caltable`), and writes a new caltable, the input's with those
//! flags; the input table is never changed. `summary` commands report the flags in force
//! at that point.

use almacal_casa::caltable::{read_caltable, write_caltable, CalTable};
use almacal_casa::flagging::caltable::{caltable_summary, flag_caltable};
use almacal_casa::flagging::FlagCommand;
use almacal_recipe::ProductKind;

use super::flag_commands::{steps, Step};
use super::prep_common::{casa_err, failed, write_json};
use super::solve_common::{now_mjd_s, provenance};
use crate::executor::{StageContext, StageError, StageOutput};

/// The caltable a flagdata stage flags, if its `vis` is one (the recipe put it first in
/// the stage's caltables and gave it no vis).
pub fn flagged_table<'a>(ctx: &'a StageContext<'_>) -> Option<&'a str> {
    if ctx.stage.vis.is_some() {
        return None;
    }
    ctx.stage.caltables.first().map(|(w, _)| w.as_str())
}

/// Run a flagdata stage on the caltable `written`.
pub fn run(ctx: &StageContext<'_>, written: &str) -> Result<StageOutput, StageError> {
    let stage = &ctx.stage.name;
    let path = ctx
        .caltable(written)
        .ok_or_else(|| failed(stage, format!("caltable {written:?} is not available")))?;
    let mut table: CalTable = read_caltable(path).map_err(|e| casa_err(stage, e))?;
    let shown = path.display().to_string();
    let mut reports = Vec::new();
    let mut summaries = Vec::new();
    let mut pending: Vec<FlagCommand> = Vec::new();
    let flush = |pending: &mut Vec<FlagCommand>,
                 table: &mut CalTable,
                 reports: &mut Vec<serde_json::Value>|
     -> Result<(), StageError> {
        let reps = flag_caltable(table, &shown, pending).map_err(|e| failed(stage, e))?;
        reports.extend(
            reps.into_iter()
                .map(|r| serde_json::to_value(r).unwrap_or_default()),
        );
        pending.clear();
        Ok(())
    };
    for step in steps(ctx)? {
        match step {
            Step::Flag(c) => pending.push(c),
            Step::Summary { selection, origin } => {
                flush(&mut pending, &mut table, &mut reports)?;
                let sum = caltable_summary(&table, &shown, &selection)
                    .map_err(|e| failed(stage, format!("{origin}: {e}")))?;
                summaries.push(serde_json::json!({
                    "origin": origin,
                    "selection": selection.describe(),
                    "summary": serde_json::to_value(&sum).unwrap_or_default(),
                }));
            }
        }
    }
    flush(&mut pending, &mut table, &mut reports)?;
    let total: u64 = reports
        .iter()
        .filter_map(|r| r["cells_flagged"].as_u64())
        .sum();
    if let Ok(out) = ctx.output(ProductKind::Caltable) {
        table
            .sub
            .history
            .extend(provenance(ctx).history_rows(now_mjd_s()));
        write_caltable(out, &table).map_err(|e| StageError::write(stage, out, e))?;
    }
    let report = serde_json::json!({
        "caltable": shown,
        "commands": reports,
        "summaries": summaries,
        "cells_flagged": total,
    });
    write_json(ctx.output(ProductKind::Report)?, &report)?;
    Ok(StageOutput {
        summary: Some(serde_json::json!({ "cells_flagged": total })),
    })
}
