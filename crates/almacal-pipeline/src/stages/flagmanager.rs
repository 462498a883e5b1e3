//! The `flagmanager` stage: named flag versions of a vis, stored the way CASA stores them
//! (`../shared/algorithms.md` §8.4) so CASA's own flagmanager can list and restore them.
//!
//! The input MS is never written and products are immutable, so:
//! - `save` writes a product directory in CASA's layout, `FLAG_VERSION_LIST` (one line
//!   `"<name> : <comment>"` per version) and `flags.<name>` (a casacore table with `FLAG`,
//!   Bool [ncorr, nchan] per row in a TiledShapeStMan, and `FLAG_ROW`, one row per vis row),
//!   holding the flags the stage sees (base FLAG/FLAG_ROW OR upstream flag layers). The
//!   directory is `<workdir>/<vis product>.flagversions` when the vis is a stage's MS (where a
//!   CASA user looks), else `<workdir>/<stage>.flagversions`. Versions saved by earlier
//!   flagmanager stages on the same vis are copied in too, so the directory is complete.
//! - `list` reports the versions saved upstream on the same vis (JSON).
//! - `restore` writes a flag layer equal to the saved flags. Layers OR, so a restore cannot
//!   clear flags other upstream layers add: this is CASA's `merge='or'` (`replace` is
//!   accepted and behaves the same; `and` is rejected).
//! - `delete`/`rename` would mutate saved products and are rejected.

use std::path::{Path, PathBuf};

use almacal_casa::reader::{ChunkReader, ReadRequest};
use almacal_casa::table::{casacore_lock, RoTable};
use almacal_casa::write_table::WriteTable;
use almacal_core::flaglayer::FlagLayer;
use almacal_recipe::ProductKind;
use ndarray::Array2;
use rubbl_casatables::{GlueDataType, Table, TableCreateMode, TableDesc, TableDescCreateMode};

use super::flag_layers::{load_layers, write_layer};
use super::prep_common::{casa_err, failed, io_err, vis, write_json};
use crate::executor::{StageContext, StageError, StageExecutor, StageOutput};

/// The `flagmanager` task.
pub struct Flagmanager;

/// Name of the version list file inside a `.flagversions` directory.
pub const VERSION_LIST: &str = "FLAG_VERSION_LIST";

/// One saved version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub name: String,
    pub comment: String,
}

/// Parse a `FLAG_VERSION_LIST` (lines `"<name> : <comment>"`).
pub fn parse_version_list(text: &str) -> Vec<Version> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match l.split_once(" : ") {
            Some((n, c)) => Version {
                name: n.trim().to_string(),
                comment: c.trim_end().to_string(),
            },
            None => Version {
                name: l.trim().trim_end_matches(':').trim().to_string(),
                comment: String::new(),
            },
        })
        .collect()
}

fn render_version_list(v: &[Version]) -> String {
    v.iter()
        .map(|v| format!("{} : {}\n", v.name, v.comment))
        .collect()
}

/// The versions of one `.flagversions` directory (empty if it has no list).
pub fn read_versions(dir: &Path) -> Result<Vec<Version>, StageError> {
    let p = dir.join(VERSION_LIST);
    match std::fs::read_to_string(&p) {
        Ok(t) => Ok(parse_version_list(&t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(io_err(&p, e)),
    }
}

/// The flags of a vis as a stage sees them, written as a CASA flag-version table at `path`.
/// Returns (flagged cells, total cells).
pub fn save_flags(
    ms: &Path,
    layers: Vec<std::sync::Arc<FlagLayer>>,
    path: &Path,
    stage: &str,
) -> Result<(u64, u64), StageError> {
    let mut req = ReadRequest::new(ms);
    req.read_data = false;
    req.flag_layers = layers;
    let reader = ChunkReader::open(&req).map_err(|e| casa_err(stage, e))?;
    let nrows = reader.meta().nrows;
    let (max_nchan, max_ncorr) = reader
        .meta()
        .spws
        .iter()
        .map(|s| s.chan_freq_hz.len())
        .max()
        .zip(reader.meta().pols.iter().map(|p| p.corr_types.len()).max())
        .unwrap_or((1, 1));
    let tile_rows = (8u64 << 20) / (max_nchan.max(1) * max_ncorr.max(1)) as u64;
    let werr = |e: &dyn std::fmt::Display| failed(stage, format!("{}: {e}", path.display()));
    let mut table = {
        let _g = casacore_lock();
        let mut desc =
            TableDesc::new("", TableDescCreateMode::TDM_SCRATCH).map_err(|e| werr(&e))?;
        desc.add_scalar_column(GlueDataType::TpBool, "FLAG_ROW", None, false, false)
            .map_err(|e| werr(&e))?;
        let mut t = WriteTable::new(
            Table::new(
                almacal_casa::table::casa_path(path),
                desc,
                0,
                TableCreateMode::NewNoReplace,
            )
            .map_err(|e| werr(&e))?,
            path,
        );
        t.add_tiled_array_column(
            GlueDataType::TpBool,
            "FLAG",
            None,
            &[max_nchan as u64, max_ncorr as u64],
            &[tile_rows.max(1), max_nchan as u64, max_ncorr as u64],
            "TiledFlag",
            false,
        )
        .map_err(|e| werr(&e))?;
        t.add_rows(nrows as usize).map_err(|e| werr(&e))?;
        t
    };
    let (mut flagged, mut total, mut seen) = (0u64, 0u64, 0u64);
    for chunk in reader {
        let chunk = chunk.map_err(|e| casa_err(stage, e))?;
        let (n, nchan, ncorr) = chunk.flag_rcf.dim();
        let _g = casacore_lock();
        let t: &mut Table = &mut table;
        for k in 0..n {
            let row = chunk.rows[k];
            let cell: Array2<bool> = chunk.flag_rcf.slice(ndarray::s![k, .., ..]).to_owned();
            flagged += cell.iter().filter(|&&f| f).count() as u64;
            total += (nchan * ncorr) as u64;
            t.put_cell("FLAG", row, &cell).map_err(|e| werr(&e))?;
            t.put_cell("FLAG_ROW", row, &chunk.flag_row[k])
                .map_err(|e| werr(&e))?;
        }
        seen += n as u64;
    }
    if seen != nrows {
        return Err(failed(
            stage,
            format!("read {seen} of the {nrows} rows of {}", ms.display()),
        ));
    }
    // A full disk comes back here as an error naming the table (which is then leaked).
    table.close().map_err(|e| werr(&e))?;
    Ok((flagged, total))
}

/// A flag version table as a flag layer over the rows of vis `ms` (cell shapes are checked
/// against the vis).
pub fn restore_layer(table: &Path, ms: &Path, stage: &str) -> Result<FlagLayer, StageError> {
    let mut req = ReadRequest::new(ms);
    req.read_data = false;
    let reader = ChunkReader::open(&req).map_err(|e| casa_err(stage, e))?;
    let nrows = reader.meta().nrows;
    let mut t = RoTable::open(table).map_err(|e| casa_err(stage, e))?;
    if t.nrows() != nrows {
        return Err(failed(
            stage,
            format!(
                "flag version {} has {} rows but the vis has {nrows}",
                table.display(),
                t.nrows()
            ),
        ));
    }
    let flag_row: Vec<bool> = t.col("FLAG_ROW").map_err(|e| casa_err(stage, e))?;
    let mut layer = FlagLayer::new(nrows);
    for chunk in reader {
        let chunk = chunk.map_err(|e| casa_err(stage, e))?;
        let (nchan, ncorr) = (chunk.chans.len(), chunk.corrs.len());
        for &r in &chunk.rows {
            if flag_row.get(r as usize).copied().unwrap_or(false) {
                layer.flag_row(r);
                continue;
            }
            let cell: Vec<bool> = t.cell_vec("FLAG", r).map_err(|e| casa_err(stage, e))?;
            if cell.len() != nchan * ncorr {
                return Err(failed(
                    stage,
                    format!(
                        "flag version {} row {r} has {} cells, the vis row {nchan} × {ncorr}",
                        table.display(),
                        cell.len()
                    ),
                ));
            }
            if cell.iter().all(|&f| f) {
                layer.flag_row(r);
                continue;
            }
            // casacore order [ncorr, nchan]: corr fastest.
            for (i, &f) in cell.iter().enumerate() {
                if f {
                    layer.flag_cells(r, nchan, ncorr, &[i / ncorr], &[i % ncorr]);
                }
            }
        }
    }
    Ok(layer)
}

/// Every upstream version of the stage's vis: (version, its `.flagversions` dir, stage).
/// Later saves of the same name override earlier ones.
fn upstream_versions(
    ctx: &StageContext<'_>,
) -> Result<Vec<(Version, PathBuf, String)>, StageError> {
    let mut out: Vec<(Version, PathBuf, String)> = Vec::new();
    for l in &vis(ctx)?.flag_versions {
        for v in read_versions(&l.path)? {
            out.retain(|(o, _, _)| o.name != v.name);
            out.push((v, l.path.clone(), l.stage.clone()));
        }
    }
    Ok(out)
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), StageError> {
    std::fs::create_dir_all(to).map_err(|e| io_err(to, e))?;
    for e in std::fs::read_dir(from).map_err(|e| io_err(from, e))? {
        let e = e.map_err(|e| io_err(from, e))?;
        let dst = to.join(e.file_name());
        if e.file_type().map_err(|x| io_err(&e.path(), x))?.is_dir() {
            copy_dir(&e.path(), &dst)?;
        } else {
            std::fs::copy(e.path(), &dst).map_err(|x| io_err(&dst, x))?;
        }
    }
    Ok(())
}

fn version_name(ctx: &StageContext<'_>) -> Result<String, StageError> {
    let name = ctx
        .param_str("versionname")
        .unwrap_or("")
        .trim()
        .to_string();
    if name.is_empty() {
        return Err(failed(&ctx.stage.name, "`versionname` is required"));
    }
    if name.contains(['/', ' ', ':']) {
        return Err(failed(
            &ctx.stage.name,
            format!("`versionname = {name:?}`: use no spaces, `/` or `:`"),
        ));
    }
    Ok(name)
}

impl StageExecutor for Flagmanager {
    fn algorithm_version(&self) -> u32 {
        1
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let stage = &ctx.stage.name;
        let v = vis(ctx)?;
        let ms = &v.path;
        let mode = ctx.param_str("mode").unwrap_or("list");
        let versions = upstream_versions(ctx)?;
        let listing = |vs: &[(Version, PathBuf, String)]| -> Vec<serde_json::Value> {
            vs.iter()
                .map(|(v, dir, st)| {
                    serde_json::json!({
                        "name": v.name,
                        "comment": v.comment,
                        "stage": st,
                        "flagversions": dir.display().to_string(),
                    })
                })
                .collect()
        };
        match mode {
            "list" => {
                let report = serde_json::json!({
                    "vis": ms.display().to_string(),
                    "versions": listing(&versions),
                });
                write_json(ctx.output(ProductKind::Report)?, &report)?;
                Ok(StageOutput {
                    summary: Some(serde_json::json!({ "versions": versions.len() })),
                })
            }
            "save" => {
                let name = version_name(ctx)?;
                let comment = ctx.param_str("comment").unwrap_or("").to_string();
                let dir = ctx.output(ProductKind::FlagVersions)?;
                std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
                let mut list: Vec<Version> = Vec::new();
                for (ver, src, _) in &versions {
                    if ver.name == name {
                        continue;
                    }
                    let t = format!("flags.{}", ver.name);
                    copy_dir(&src.join(&t), &dir.join(&t))?;
                    list.push(ver.clone());
                }
                let layers = load_layers(v, None)?;
                let (flagged, total) =
                    save_flags(ms, layers, &dir.join(format!("flags.{name}")), stage)?;
                list.push(Version {
                    name: name.clone(),
                    comment: comment.clone(),
                });
                let lp = dir.join(VERSION_LIST);
                std::fs::write(&lp, render_version_list(&list)).map_err(|e| io_err(&lp, e))?;
                let fraction = if total > 0 {
                    flagged as f64 / total as f64
                } else {
                    0.0
                };
                let report = serde_json::json!({
                    "vis": ms.display().to_string(),
                    "versionname": name,
                    "comment": comment,
                    "versions": list.iter().map(|v| &v.name).collect::<Vec<_>>(),
                    "flagged_cells": flagged,
                    "total_cells": total,
                    "flag_fraction": fraction,
                });
                write_json(ctx.output(ProductKind::Report)?, &report)?;
                Ok(StageOutput {
                    summary: Some(serde_json::json!({
                        "versionname": name, "flag_fraction": fraction
                    })),
                })
            }
            "restore" => {
                let name = version_name(ctx)?;
                if ctx.param_str("merge") == Some("and") {
                    return Err(failed(
                        stage,
                        "merge='and' would clear flags, which a flag layer cannot do; use \
                         'or' (or 'replace', which behaves as 'or')",
                    ));
                }
                let Some((_, dir, from)) = versions.iter().find(|(v, _, _)| v.name == name) else {
                    let known: Vec<&str> =
                        versions.iter().map(|(v, _, _)| v.name.as_str()).collect();
                    return Err(failed(
                        stage,
                        format!(
                            "no flag version {name:?} saved upstream on this vis (saved: {known:?}); \
                             add a flagmanager save stage on the same vis before this one"
                        ),
                    ));
                };
                let layer = restore_layer(&dir.join(format!("flags.{name}")), ms, stage)?;
                write_layer(ctx.output(ProductKind::FlagLayer)?, &layer)?;
                let report = serde_json::json!({
                    "vis": ms.display().to_string(),
                    "versionname": name,
                    "saved_by": from,
                    "rows_with_flags": layer.rows_touched(),
                    "merge": "or",
                });
                write_json(ctx.output(ProductKind::Report)?, &report)?;
                Ok(StageOutput {
                    summary: Some(serde_json::json!({ "rows_with_flags": layer.rows_touched() })),
                })
            }
            other => Err(failed(
                stage,
                format!(
                    "mode {other:?} would modify saved versions, which are immutable products; \
                     save under another `versionname` instead"
                ),
            )),
        }
    }
}
