//! Flag commands as flagdata and flagcmd stages write them (inline `commands`, the lines of
//! an `inpfile`, one command as top-level parameters, FLAG_CMD strings): their parameters
//! turned into almacal-casa [`FlagCommand`]s, or summary requests ([`Step`]).

use almacal_casa::flagging::{FlagCommand, FlagMode, QuackMode};
use almacal_casa::selection::SelectionParams;
use almacal_recipe::{ParamValue, Params};

use super::prep_common::failed;
use crate::executor::{StageContext, StageError};

fn s<'a>(p: &'a Params, key: &str) -> &'a str {
    p.get(key).and_then(ParamValue::as_str).unwrap_or("")
}

fn b(p: &Params, key: &str, default: bool) -> bool {
    p.get(key).and_then(ParamValue::as_bool).unwrap_or(default)
}

fn f(p: &Params, key: &str, default: f64) -> f64 {
    p.get(key).and_then(ParamValue::as_f64).unwrap_or(default)
}

/// A command of the recipe: a flag command, or a summary request.
#[derive(Debug, Clone)]
pub enum Step {
    Flag(FlagCommand),
    Summary {
        selection: SelectionParams,
        origin: String,
    },
}

/// The selection parameters of one command.
pub fn selection_of(p: &Params, origin: &str) -> Result<SelectionParams, String> {
    for k in ["array", "feed"] {
        let v = s(p, k);
        if !v.is_empty() && v != "0" && v != "*" {
            return Err(format!(
                "{origin}: `{k}` selection is not supported (ALMA data have one array and feed); remove it"
            ));
        }
    }
    Ok(SelectionParams {
        field: s(p, "field").into(),
        spw: s(p, "spw").into(),
        antenna: s(p, "antenna").into(),
        scan: s(p, "scan").into(),
        intent: s(p, "intent").into(),
        timerange: s(p, "timerange").into(),
        uvrange: s(p, "uvrange").into(),
        correlation: s(p, "correlation").into(),
        observation: s(p, "observation").into(),
        ..Default::default()
    })
}

/// Turn one command's parameters into a [`Step`].
pub fn step_of(p: &Params, origin: String) -> Result<Step, String> {
    let selection = selection_of(p, &origin)?;
    let mode = match s(p, "mode") {
        "" | "manual" => FlagMode::Manual,
        "summary" => return Ok(Step::Summary { selection, origin }),
        "unflag" => FlagMode::Unflag,
        "shadow" => FlagMode::Shadow {
            tolerance_m: f(p, "tolerance", 0.0),
        },
        "quack" => FlagMode::Quack {
            interval_s: f(p, "quackinterval", 1.0),
            mode: match s(p, "quackmode") {
                "" | "beg" => QuackMode::Beg,
                "endb" => QuackMode::Endb,
                "end" => QuackMode::End,
                "tail" => QuackMode::Tail,
                other => return Err(format!("{origin}: unknown quackmode {other:?}")),
            },
        },
        "clip" => {
            let mm: Vec<f64> = p
                .get("clipminmax")
                .and_then(ParamValue::as_list)
                .map(|l| l.iter().filter_map(ParamValue::as_f64).collect())
                .unwrap_or_default();
            let minmax = match mm.as_slice() {
                [] => None,
                [lo, hi] => Some((*lo as f32, *hi as f32)),
                _ => {
                    return Err(format!(
                        "{origin}: clipminmax needs two values [min, max], got {}",
                        mm.len()
                    ))
                }
            };
            let dc = match s(p, "datacolumn") {
                "" | "data" => "DATA",
                "corrected" => "CORRECTED_DATA",
                "model" => "MODEL_DATA",
                "fparam" => "FPARAM",
                "cparam" => "CPARAM",
                "snr" => "SNR",
                "paramerr" => "PARAMERR",
                other => {
                    return Err(format!(
                        "{origin}: clip on datacolumn {other:?} is not supported (use data, corrected or model; fparam, cparam, snr or paramerr on a caltable)"
                    ))
                }
            };
            FlagMode::Clip {
                minmax,
                clipoutside: b(p, "clipoutside", true),
                clipzeros: b(p, "clipzeros", false),
                datacolumn: dc.into(),
            }
        }
        "flagcmd" | "table" => FlagMode::FlagCmd {
            useapplied: b(p, "useapplied", false),
            reason: match s(p, "reason") {
                "" | "any" => Vec::new(),
                r => vec![r.to_string()],
            },
        },
        other => {
            return Err(format!(
                "{origin}: mode {other:?} is not implemented yet (available: manual, clip, quack, shadow, unflag, summary, flagcmd/table)"
            ))
        }
    };
    Ok(Step::Flag(FlagCommand {
        mode,
        selection,
        autocorr: b(p, "autocorr", false),
        origin,
    }))
}

/// Every command of a flagdata stage, in order: inline `commands`, then the `inpfile`'s,
/// or the top-level parameters as one command when neither is given.
pub fn steps(ctx: &StageContext<'_>) -> Result<Vec<Step>, StageError> {
    let stage = &ctx.stage.name;
    let mut out = Vec::new();
    let bad = |e: String| failed(stage, e);
    if let Some(cmds) = ctx.param("commands").and_then(ParamValue::as_list) {
        for (i, c) in cmds.iter().enumerate() {
            let t = c.as_table().ok_or_else(|| {
                failed(
                    stage,
                    format!("commands[{i}] is not a table of flag parameters"),
                )
            })?;
            out.push(step_of(t, format!("commands[{i}]")).map_err(bad)?);
        }
    }
    let file = ctx
        .stage
        .files
        .iter()
        .find(|f| f.param == "inpfile")
        .map(|f| f.written.clone())
        .unwrap_or_else(|| "inpfile".into());
    for c in &ctx.stage.file_commands {
        out.push(step_of(&c.params, format!("{file}:{}", c.line)).map_err(bad)?);
    }
    if out.is_empty()
        && ctx.param("commands").is_none()
        && !ctx.stage.files.iter().any(|f| f.param == "inpfile")
    {
        out.push(step_of(&ctx.stage.params, "parameters".into()).map_err(bad)?);
    }
    Ok(out)
}
