//! The `flagcmd` stage: CASA's flagcmd task. The commands come from the vis's FLAG_CMD
//! table (`inpmode = "table"`: rows chosen by `tablerows`, `useapplied` and `reason` as
//! CASA chooses them, almacal-casa `select_flag_cmds`) or from a text file
//! (`inpmode = "list"`, lines filtered by their `reason=`). Each COMMAND string is read as
//! a line of a flag-command file, so any flagdata mode in it is honoured.
//! - `action = "apply"`: the commands run on the read-only vis, as flagdata's do; the
//!   product is a flag layer (FLAG_CMD's APPLIED column is not written: the input MS is
//!   never modified).
//! - `action = "list"`: the report lists the selected commands (row, reason, applied,
//!   command), as CASA's log does.
//! - `action = "plot"`: the report holds one bar per (antenna, time range) of each command,
//!   which the stage's `flagcmd` plot draws.

use almacal_casa::flagging::{compute_layer, select_flag_cmds, FlagCommand};
use almacal_casa::read_meta;
use almacal_casa::selection::{Selection, TimeSel};
use almacal_core::flaglayer::FlagLayer;
use almacal_core::meta::MsMeta;
use almacal_recipe::flagfile::parse_flag_file;
use almacal_recipe::source::SourceFile;
use almacal_recipe::{ParamValue, Params, ProductKind};
use serde_json::{json, Value};

use super::flag_commands::{selection_of, step_of, Step};
use super::flag_layers::{load_layers, write_layer};
use super::prep_common::{casa_err, failed, write_json};
use crate::executor::{StageContext, StageError, StageExecutor, StageOutput};

/// The `flagcmd` task.
pub struct Flagcmd;

/// One selected command: where it came from, its reason and APPLIED value (table rows),
/// and its parameters.
struct Selected {
    origin: String,
    row: Option<usize>,
    reason: String,
    applied: Option<bool>,
    command: String,
    params: Params,
}

fn strings(v: Option<&ParamValue>) -> Vec<String> {
    v.and_then(ParamValue::as_list)
        .map(|l| {
            l.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The FLAG_CMD rows of `meta` this stage selects, parsed as flag-file lines.
fn from_table(
    ctx: &StageContext<'_>,
    meta: &MsMeta,
    ms: &str,
) -> Result<Vec<Selected>, StageError> {
    let stage = &ctx.stage.name;
    let tablerows: Vec<i64> = ctx
        .param("tablerows")
        .and_then(ParamValue::as_list)
        .map(|l| l.iter().filter_map(ParamValue::as_i64).collect())
        .unwrap_or_default();
    let useapplied = ctx
        .param("useapplied")
        .and_then(ParamValue::as_bool)
        .unwrap_or(false);
    let reason = strings(ctx.param("reason"));
    let rows = select_flag_cmds(&meta.flag_cmds, &tablerows, useapplied, &reason)
        .map_err(|e| failed(stage, format!("{ms}/FLAG_CMD: {e}")))?;
    // One line per selected row, so a diagnostic's line names the row.
    let text: String = rows
        .iter()
        .map(|&i| format!("{}\n", meta.flag_cmds[i].command.replace(['\n', '\r'], " ")))
        .collect();
    let src = SourceFile::new(format!("{ms}/FLAG_CMD"), text);
    let mut diags = Vec::new();
    let parsed = parse_flag_file(&src, &mut diags);
    if let Some(d) = diags.first() {
        let row = rows.get(d.pos.line.saturating_sub(1)).copied().unwrap_or(0);
        return Err(failed(
            stage,
            format!(
                "{ms}/FLAG_CMD row {row}: COMMAND {:?}: {}",
                meta.flag_cmds[row].command, d.message
            ),
        ));
    }
    Ok(parsed
        .into_iter()
        .map(|c| {
            let i = rows[c.line - 1];
            let r = &meta.flag_cmds[i];
            Selected {
                origin: format!("FLAG_CMD row {i}"),
                row: Some(i),
                reason: r.reason.clone(),
                applied: Some(r.applied),
                command: r.command.clone(),
                params: c.params,
            }
        })
        .collect())
}

/// The lines of the stage's `inpfile` whose `reason=` is one of `reason` (all for "any").
fn from_list(ctx: &StageContext<'_>) -> Result<Vec<Selected>, StageError> {
    let stage = &ctx.stage.name;
    let reason = strings(ctx.param("reason"));
    let any = reason.is_empty() || reason.iter().all(|r| r == "any");
    let file = ctx
        .stage
        .files
        .iter()
        .find(|f| f.param == "inpfile")
        .ok_or_else(|| failed(stage, "inpmode = \"list\" needs `inpfile`"))?;
    let lines: Vec<&str> = file.content.lines().collect();
    let out: Vec<Selected> = ctx
        .stage
        .file_commands
        .iter()
        .filter_map(|c| {
            let r = c
                .params
                .get("reason")
                .and_then(ParamValue::as_str)
                .unwrap_or("")
                .to_string();
            (any || reason.contains(&r)).then(|| Selected {
                origin: format!("{}:{}", file.written, c.line),
                row: None,
                reason: r,
                applied: None,
                command: lines
                    .get(c.line - 1)
                    .map(|l| l.trim().to_string())
                    .unwrap_or_default(),
                params: c.params.clone(),
            })
        })
        .collect();
    if out.is_empty() {
        return Err(failed(
            stage,
            format!(
                "{}: no flag commands selected (reason {:?})",
                file.written, reason
            ),
        ));
    }
    Ok(out)
}

/// The bars of one command for the plot: per antenna named in its `antenna`, each time
/// range of its `timerange` (the whole observation when it has none), clipped to it.
fn bars(meta: &MsMeta, c: &Selected) -> Vec<Value> {
    let (Some(t0), Some(t1)) = (
        meta.scans.iter().map(|s| s.start_s).reduce(f64::min),
        meta.scans.iter().map(|s| s.end_s).reduce(f64::max),
    ) else {
        return Vec::new();
    };
    let Ok(p) = selection_of(&c.params, &c.origin) else {
        return Vec::new();
    };
    let times = match Selection::resolve(meta, &p) {
        Ok(sel) if !sel.times.is_empty() => sel
            .times
            .iter()
            .map(|t| match *t {
                TimeSel::Range(a, b) => (a, b),
                TimeSel::Below(b) => (t0, b),
                TimeSel::Above(a) => (a, t1),
                TimeSel::At(t) => (t, t),
            })
            .collect(),
        Ok(_) => vec![(t0, t1)],
        Err(_) => return Vec::new(),
    };
    let names: Vec<String> = if p.antenna.trim().is_empty() {
        vec!["all".to_string()]
    } else {
        p.antenna
            .split([',', ';'])
            .filter_map(|a| a.split('&').next())
            .map(|a| a.trim().trim_start_matches('!').to_string())
            .filter(|a| !a.is_empty())
            .collect()
    };
    let mut out = Vec::new();
    for n in &names {
        for &(a, b) in &times {
            let (a, b) = (a.max(t0), b.min(t1));
            if a <= b {
                out.push(json!({ "antenna": n, "reason": c.reason, "start_s": a, "end_s": b }));
            }
        }
    }
    out
}

impl StageExecutor for Flagcmd {
    fn algorithm_version(&self) -> u32 {
        1
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let stage = &ctx.stage.name;
        let vis = ctx
            .vis
            .as_ref()
            .ok_or_else(|| failed(stage, "flagcmd needs `vis`"))?;
        let ms = &vis.path;
        let shown = ms.display().to_string();
        let meta = read_meta(ms).map_err(|e| casa_err(stage, e))?;
        let selected = match ctx.param_str("inpmode").unwrap_or("table") {
            "table" => from_table(ctx, &meta, &shown)?,
            "list" => from_list(ctx)?,
            other => {
                return Err(failed(
                    stage,
                    format!("inpmode {other:?} is not implemented (use table or list)"),
                ))
            }
        };
        let listed: Vec<Value> = selected
            .iter()
            .map(|c| {
                json!({
                    "origin": c.origin,
                    "row": c.row,
                    "reason": c.reason,
                    "applied": c.applied,
                    "command": c.command,
                })
            })
            .collect();
        let action = ctx.param_str("action").unwrap_or("apply");
        let mut report = json!({ "vis": shown, "action": action, "commands": listed });
        let mut summary = json!({ "commands": selected.len() });
        match action {
            "apply" => {
                let mut cmds: Vec<FlagCommand> = Vec::new();
                for c in &selected {
                    match step_of(&c.params, c.origin.clone()).map_err(|e| failed(stage, e))? {
                        Step::Flag(f) => cmds.push(f),
                        Step::Summary { origin, .. } => {
                            return Err(failed(
                                stage,
                                format!("{origin}: mode 'summary' cannot be applied; use a flagdata stage with mode = \"summary\""),
                            ))
                        }
                    }
                }
                let upstream = load_layers(vis, None)?;
                let (layer, reps): (FlagLayer, _) =
                    compute_layer(ms, &cmds, &upstream).map_err(|e| casa_err(stage, e))?;
                let cells: u64 = reps.iter().map(|r| r.cells_flagged).sum();
                write_layer(ctx.output(ProductKind::FlagLayer)?, &layer)?;
                report["flagged"] = serde_json::to_value(&reps).unwrap_or_default();
                report["cells_flagged"] = json!(cells);
                summary["cells_flagged"] = json!(cells);
            }
            "list" => {}
            "plot" => {
                let b: Vec<Value> = selected.iter().flat_map(|c| bars(&meta, c)).collect();
                report["bars"] = Value::Array(b);
            }
            other => {
                return Err(failed(
                    stage,
                    format!("action {other:?} is not implemented (use apply, list or plot)"),
                ))
            }
        }
        write_json(ctx.output(ProductKind::Report)?, &report)?;
        Ok(StageOutput {
            summary: Some(summary),
        })
    }
}
