//! The `flagdata` stage, and the on-disk flag-layer product. A stage's commands (inline
//! `commands`, an `inpfile` of CASA flag commands, or one command as top-level parameters)
//! run in order on the read-only vis (almacal-casa `compute_layer`); the product is one
//! file holding `FlagLayer::encode()` (`<workdir>/<stage>.flags`). Later stages reading the
//! same vis OR it into FLAG: [`load_layers`] turns a stage's `VisInput.flag_layers` into the
//! `ReadRequest.flag_layers` they need. `summary` commands report counts (per antenna, spw,
//! field, scan) of the flags in force at that point.

use std::path::Path;
use std::sync::Arc;

use almacal_casa::flagging::{compute_layer, flag_summary, FlagCommand, FlagMode, QuackMode};
use almacal_casa::selection::SelectionParams;
use almacal_core::flaglayer::FlagLayer;
use almacal_recipe::{ParamValue, Params, ProductKind};

use super::prep_common::{casa_err, failed, io_err, write_json};
use crate::executor::{StageContext, StageError, StageExecutor, StageOutput, VisInput};

/// The `flagdata` task.
pub struct Flagdata;

/// Write a flag layer product (a file with the layer's compact encoding).
pub fn write_layer(path: &Path, layer: &FlagLayer) -> Result<(), StageError> {
    std::fs::write(path, layer.encode()).map_err(|e| io_err(path, e))
}

/// Read one flag-layer product.
pub fn read_layer(path: &Path) -> Result<FlagLayer, StageError> {
    let bytes = std::fs::read(path).map_err(|e| io_err(path, e))?;
    FlagLayer::decode(&bytes).map_err(|e| {
        StageError::InvalidInput(format!(
            "flag layer {} is not readable ({e}); run `almacal clean` on the stage that wrote it",
            path.display()
        ))
    })
}

type LayerCache = Vec<(
    std::path::PathBuf,
    u64,
    std::time::SystemTime,
    Arc<FlagLayer>,
)>;

/// Decoded layers by path, size and mtime: every stage downstream of a flag stage reads
/// the same layer files.
static LAYER_CACHE: std::sync::Mutex<LayerCache> = std::sync::Mutex::new(Vec::new());
const LAYER_CACHE_LEN: usize = 16;

/// [`read_layer`], shared: decoded once per process while the file is unchanged.
pub fn read_layer_shared(path: &Path) -> Result<Arc<FlagLayer>, StageError> {
    let md = std::fs::metadata(path).map_err(|e| io_err(path, e))?;
    let key = (md.len(), md.modified().map_err(|e| io_err(path, e))?);
    {
        let cache = LAYER_CACHE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hit) = cache
            .iter()
            .find(|(p, n, t, _)| p == path && (*n, *t) == key)
        {
            return Ok(hit.3.clone());
        }
    }
    let layer = Arc::new(read_layer(path)?);
    let mut cache = LAYER_CACHE.lock().unwrap_or_else(|p| p.into_inner());
    cache.retain(|(p, _, _, _)| p != path);
    if cache.len() >= LAYER_CACHE_LEN {
        cache.remove(0);
    }
    cache.push((path.to_path_buf(), key.0, key.1, layer.clone()));
    Ok(layer)
}

/// The upstream flag layers of a vis, in declaration order, ready for `ReadRequest`.
/// Layers must have been computed on this very vis (same row count).
pub fn load_layers(vis: &VisInput, nrows: Option<u64>) -> Result<Vec<Arc<FlagLayer>>, StageError> {
    let mut out = Vec::with_capacity(vis.flag_layers.len());
    for l in &vis.flag_layers {
        let layer = read_layer_shared(&l.path)?;
        if let Some(n) = nrows {
            if layer.nrows() != n {
                return Err(StageError::InvalidInput(format!(
                    "flag layer of stage {} covers {} rows but {} has {n}; rerun that stage",
                    l.stage,
                    layer.nrows(),
                    vis.path.display()
                )));
            }
        }
        out.push(layer);
    }
    Ok(out)
}

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
