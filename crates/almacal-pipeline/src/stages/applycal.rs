//! The `applycal` stage: applies caltables (per-field `groups`, or the stage-level
//! `gaintable`/`gainfield`/`interp`/`spwmap`/`calwt`) with `applymode` to the rows of the
//! stage's selection, and writes the result as a new MS in the same pass (the CASA
//! applycal + split(datacolumn='corrected') of the tutorial):
//! `output = { split, spw, field, intent, datacolumn = "corrected", keepflags, reindex }`,
//! `reindex` true by default as CASA's split (see `reindex`); `false` keeps the input's
//! spw ids and DDIDs (mstransform's reindex=False).
//! Rows outside the applycal selection but inside the output selection are written
//! uncalibrated (CORRECTED = DATA), as CASA's freshly created CORRECTED_DATA column is.

use std::collections::BTreeMap;

use almacal_casa::meta_read::read_meta_with_index;
use almacal_casa::selection::{empty_selection_error, Selection, SelectionParams};
use almacal_core::chunk::VisChunk;
use almacal_core::meta::MsMeta;
use almacal_recipe::{ParamValue, Params, ProductKind};
use almacal_solve::apply::{apply_chunk, ApplyMode, ChunkInfo, Outcome, Term};
use std::sync::atomic::{AtomicU64, Ordering};

use super::apply_terms::{load_term, LoadedTerm, SpwMapSpec, TableSpec};
use super::flag_commands::selection_of;
use super::flag_layers::load_layers;
use super::prep_common::{casa_err, failed, vis};
use super::vis_out::{update_vis_in_place, write_vis, ChunkOp, DataColumn, OutputSpec, WriteStats};
use crate::executor::{PartialMode, StageContext, StageError, StageExecutor, StageOutput};

/// The `applycal` task.
pub struct Applycal;

/// One set of tables for some fields.
struct Group {
    /// Data fields this group calibrates (None: every field).
    fields: Option<std::collections::BTreeSet<i32>>,
    terms: Vec<LoadedTerm>,
}

struct ApplyOp {
    groups: Vec<Group>,
    /// Rows of the applycal selection (None: all rows).
    cal_rows: Option<Vec<bool>>,
    mode: ApplyMode,
    calibrated_rows: AtomicU64,
    uncalibratable_rows: AtomicU64,
}

fn list_at(v: Option<&ParamValue>, k: usize) -> Option<&ParamValue> {
    let l = v?.as_list()?;
    // A single value applies to every table (CASA broadcasts scalars).
    if l.len() == 1 {
        l.first()
    } else {
        l.get(k)
    }
}

fn spwmap_at(v: Option<&ParamValue>, k: usize) -> SpwMapSpec {
    let Some(l) = v.and_then(ParamValue::as_list) else {
        return SpwMapSpec::Identity;
    };
    match l.get(k) {
        Some(ParamValue::Str(s)) if s == "auto" => SpwMapSpec::Auto,
        Some(ParamValue::List(ids)) if !ids.is_empty() => SpwMapSpec::Map(
            ids.iter()
                .filter_map(ParamValue::as_i64)
                .map(|i| i.max(0) as u32)
                .collect(),
        ),
        _ => SpwMapSpec::Identity,
    }
}

/// The table specs of a group (`g`), with stage-level values as defaults.
fn table_specs(
    ctx: &StageContext<'_>,
    g: &Params,
    stage: &Params,
) -> Result<Vec<TableSpec>, StageError> {
    let name = &ctx.stage.name;
    let get = |k: &str| g.get(k).or_else(|| stage.get(k));
    let tables = get("gaintable")
        .and_then(ParamValue::as_str_list)
        .unwrap_or_default();
    let mut out = Vec::new();
    for (k, t) in tables.iter().enumerate() {
        let path = ctx.caltable(t).ok_or_else(|| {
            failed(
                name,
                format!("gaintable {t:?} was not resolved to a caltable"),
            )
        })?;
        out.push(TableSpec {
            written: t.to_string(),
            path: path.to_path_buf(),
            gainfield: list_at(get("gainfield"), k)
                .and_then(ParamValue::as_str)
                .unwrap_or("")
                .to_string(),
            interp: list_at(get("interp"), k)
                .and_then(ParamValue::as_str)
                .unwrap_or("")
                .to_string(),
            spwmap: spwmap_at(get("spwmap"), k),
            calwt: list_at(get("calwt"), k)
                .and_then(ParamValue::as_bool)
                .unwrap_or(true),
        });
    }
    Ok(out)
}

fn field_ids(
    meta: &MsMeta,
    field: &str,
) -> Result<Option<std::collections::BTreeSet<i32>>, String> {
    if field.trim().is_empty() {
        return Ok(None);
    }
    let sel = Selection::resolve(
        meta,
        &SelectionParams {
            field: field.into(),
            ..Default::default()
        },
    )
    .map_err(|e| format!("field {field:?}: {e}"))?;
    Ok(sel.fields)
}

impl ChunkOp for ApplyOp {
    fn apply(&self, c: &mut VisChunk, meta: &MsMeta) -> Result<(), String> {
        // The last group naming the field wins (CASA recomputes CORRECTED from DATA).
        let Some(g) = self.groups.iter().rev().find(|g| {
            g.fields
                .as_ref()
                .is_none_or(|f| f.contains(&(c.field.0 as i32)))
        }) else {
            return Ok(());
        };
        let sel: Vec<bool> = match &self.cal_rows {
            None => vec![true; c.nrows()],
            Some(m) => c.rows.iter().map(|&r| m[r as usize]).collect(),
        };
        let nsel = sel.iter().filter(|&&s| s).count();
        if nsel == 0 {
            return Ok(());
        }
        let spw = meta
            .spw(c.spw)
            .ok_or_else(|| format!("spw {} missing from SPECTRAL_WINDOW", c.spw.0))?;
        let freqs: Vec<f64> = c.chans.iter().map(|&k| spw.chan_freq_hz[k]).collect();
        let all_corrs = meta.corrs_of(c.dd);
        let corrs: Vec<_> = c.corrs.iter().map(|&p| all_corrs[p]).collect();
        let f = meta
            .fields
            .get(c.field.idx())
            .ok_or_else(|| format!("field {} missing from FIELD", c.field.0))?;
        let info = ChunkInfo {
            spw: c.spw.0,
            field: c.field.0,
            chan_freq_hz: &freqs,
            corrs: &corrs,
            field_dir_rad: (f.ra_rad, f.dec_rad),
        };
        let terms: Vec<(&dyn Term, bool)> =
            g.terms.iter().map(|t| (t.term.as_ref(), t.calwt)).collect();
        let outcome = if nsel == c.nrows() {
            apply_chunk(&terms, c, &info, self.mode)
        } else {
            let mut tmp = c.clone();
            let o = apply_chunk(&terms, &mut tmp, &info, self.mode);
            for (k, _) in sel.iter().enumerate().filter(|(_, s)| **s) {
                use ndarray::Axis;
                c.data_rcf
                    .index_axis_mut(Axis(0), k)
                    .assign(&tmp.data_rcf.index_axis(Axis(0), k));
                c.flag_rcf
                    .index_axis_mut(Axis(0), k)
                    .assign(&tmp.flag_rcf.index_axis(Axis(0), k));
                c.weight_rc
                    .index_axis_mut(Axis(0), k)
                    .assign(&tmp.weight_rc.index_axis(Axis(0), k));
            }
            o
        };
        let counter = match outcome {
            Outcome::Calibrated => &self.calibrated_rows,
            Outcome::Uncalibratable => &self.uncalibratable_rows,
        };
        counter.fetch_add(nsel as u64, Ordering::Relaxed);
        Ok(())
    }
}

/// The applycal selection (stage-level selection parameters).
fn stage_selection(ctx: &StageContext<'_>) -> Result<SelectionParams, StageError> {
    selection_of(&ctx.stage.params, "applycal").map_err(|e| failed(&ctx.stage.name, e))
}

impl StageExecutor for Applycal {
    fn validate(
        &self,
        stage: &almacal_recipe::Stage,
        meta: &almacal_core::meta::MsMeta,
    ) -> Vec<crate::executor::ParamProblem> {
        match stage.params.get("output").and_then(ParamValue::as_table) {
            Some(out) => {
                let reindex = out
                    .get("reindex")
                    .and_then(ParamValue::as_bool)
                    .unwrap_or(true);
                super::vis_out::whole_spw_problems(out, "output.", meta, reindex)
            }
            None => Vec::new(),
        }
    }

    fn algorithm_version(&self) -> u32 {
        // 2: casacore's Tsys spline/cubic rules and baseline geometry.
        2
    }

    /// Every table applied to a spw's rows comes from the same spw (no `spwmap`; Tsys
    /// with `spwmap = "auto"` maps across spws), and every row is kept (`keepflags`):
    /// then a change upstream that touches some spws rewrites only their rows, in place.
    fn partial_mode(&self, stage: &almacal_recipe::Stage) -> PartialMode {
        let p = &stage.params;
        let Some(out) = p.get("output").and_then(ParamValue::as_table) else {
            return PartialMode::No;
        };
        if out.get("keepflags").and_then(ParamValue::as_bool) == Some(false) {
            return PartialMode::No;
        }
        let mapped = |params: &Params| {
            params
                .get("spwmap")
                .and_then(ParamValue::as_list)
                .is_some_and(|l| {
                    l.iter().any(|e| match e {
                        ParamValue::List(ids) => !ids.is_empty(),
                        ParamValue::Str(s) => !s.trim().is_empty(),
                        _ => true,
                    })
                })
        };
        let groups_mapped = p
            .get("groups")
            .and_then(ParamValue::as_list)
            .is_some_and(|gs| gs.iter().filter_map(ParamValue::as_table).any(mapped));
        if mapped(p) || groups_mapped {
            PartialMode::No
        } else {
            PartialMode::InPlace
        }
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let stage = &ctx.stage.name;
        let input = vis(ctx)?;
        let ms = &input.path;
        let (meta, idx) = read_meta_with_index(ms).map_err(|e| casa_err(stage, e))?;
        let layers = load_layers(input, Some(idx.nrows() as u64))?;
        let mode_s = ctx.param_str("applymode").unwrap_or("");
        let mode = ApplyMode::parse(mode_s).ok_or_else(|| {
            failed(
                stage,
                format!("applymode {mode_s:?} is not supported (use calflag, calflagstrict, calonly, flagonly or trial)"),
            )
        })?;
        // Tables, per group.
        let empty = Params::new();
        let group_params: Vec<&Params> = match ctx.param("groups").and_then(ParamValue::as_list) {
            Some(gs) if !gs.is_empty() => gs.iter().filter_map(ParamValue::as_table).collect(),
            _ => vec![&empty],
        };
        let mut groups = Vec::new();
        let mut report_groups = Vec::new();
        for g in group_params {
            let specs = table_specs(ctx, g, &ctx.stage.params)?;
            let field = g.get("field").and_then(ParamValue::as_str).unwrap_or("");
            let fields = field_ids(&meta, field).map_err(|e| failed(stage, e))?;
            let mut terms = Vec::new();
            for s in &specs {
                let t = load_term(s, &meta)
                    .map_err(|e| StageError::InvalidInput(format!("stage {stage}: {e}")))?;
                report_groups.push(serde_json::json!({
                    "field": field,
                    "table": s.written,
                    "viscal": t.viscal,
                    "gainfield": s.gainfield,
                    "interp": s.interp,
                    "spwmap": t.spwmap,
                    "calwt": t.calwt,
                }));
                terms.push(t);
            }
            groups.push(Group { fields, terms });
        }
        // Rows to calibrate.
        let sel_p = stage_selection(ctx)?;
        let cal_rows = if sel_p == SelectionParams::default() {
            None
        } else {
            let sel =
                Selection::resolve(&meta, &sel_p).map_err(|e| StageError::selection(stage, e))?;
            if sel.needs_uvw() {
                return Err(failed(
                    stage,
                    "uvrange selection in applycal is not supported yet; remove it",
                ));
            }
            let rows = sel.select_rows(&idx, |_| None);
            if rows.is_empty() {
                return Err(failed(
                    stage,
                    empty_selection_error(&meta, &idx, &sel_p, ms, false),
                ));
            }
            let mut mask = vec![false; idx.nrows()];
            for r in rows {
                mask[r as usize] = true;
            }
            Some(mask)
        };
        let op = ApplyOp {
            groups,
            cal_rows,
            mode,
            calibrated_rows: AtomicU64::new(0),
            uncalibratable_rows: AtomicU64::new(0),
        };
        // Output.
        let out_p: BTreeMap<String, ParamValue> = ctx
            .param("output")
            .and_then(ParamValue::as_table)
            .cloned()
            .unwrap_or_default();
        let os = |k: &str| out_p.get(k).and_then(ParamValue::as_str).unwrap_or("");
        let dc = DataColumn::parse(os("datacolumn")).unwrap_or(DataColumn::Corrected);
        if dc != DataColumn::Corrected {
            return Err(failed(
                stage,
                "applycal writes the corrected data: output.datacolumn must be \"corrected\"",
            ));
        }
        let spec = OutputSpec {
            selection: SelectionParams {
                spw: os("spw").into(),
                field: os("field").into(),
                intent: os("intent").into(),
                ..Default::default()
            },
            datacolumn: dc,
            keepflags: out_p
                .get("keepflags")
                .and_then(ParamValue::as_bool)
                .unwrap_or(true),
            // CASA split's behaviour unless the recipe says `reindex = false`.
            reindex: out_p
                .get("reindex")
                .and_then(ParamValue::as_bool)
                .unwrap_or(true),
            average: Default::default(),
        };
        let out = ctx.output(ProductKind::Vis)?;
        let progress = |d: u64, t: u64| ctx.progress(d, t);
        let mut partial_stats = None;
        if let Some(p) = &ctx.partial {
            // Partial rerun: the previous output was moved to `out`; update its rows of
            // the changed spws, or rewrite it whole if the rows no longer match.
            if out.exists() {
                partial_stats = update_vis_in_place(
                    stage,
                    ms,
                    layers.clone(),
                    out,
                    &spec,
                    Some(&op),
                    &p.spws,
                    ctx.threads,
                    &progress,
                )?;
                if partial_stats.is_none() {
                    std::fs::remove_dir_all(out)?;
                }
            }
        }
        let stats = match partial_stats {
            Some(st) => {
                let previous: WriteStats = ctx
                    .partial
                    .as_ref()
                    .and_then(|p| p.previous_summary.as_ref())
                    .and_then(|s| s.get("output"))
                    .and_then(|o| serde_json::from_value(o.clone()).ok())
                    .unwrap_or_default();
                st.merged_over(&previous)
            }
            None => write_vis(
                stage,
                ms,
                layers,
                out,
                &spec,
                Some(&op),
                ctx.threads,
                &progress,
            )?,
        };
        let calibrated = op.calibrated_rows.load(Ordering::Relaxed);
        let uncalibratable = op.uncalibratable_rows.load(Ordering::Relaxed);
        // A whole run in which no selected row found a solution in its tables (their
        // spws do not match the data's, e.g. a VLA table on ALMA data) would write the data
        // through uncalibrated: an error unless the recipe says that is intended.
        let allow = ctx
            .param("allow_uncalibrated")
            .and_then(ParamValue::as_bool)
            .unwrap_or(false);
        if ctx.partial.is_none() && calibrated == 0 && uncalibratable > 0 && !allow {
            let tables: std::collections::BTreeSet<&str> = report_groups
                .iter()
                .filter_map(|t| t.get("table").and_then(|v| v.as_str()))
                .collect();
            let tables: Vec<&str> = tables.into_iter().collect();
            return Err(failed(
                stage,
                format!(
                    "none of the {uncalibratable} selected rows of {} has a solution in {}: their spws are not in the table(s) (a caltable of another MS?); set allow_uncalibrated = true to write such rows uncalibrated",
                    ms.display(),
                    if tables.is_empty() { "the gaintables".to_string() } else { tables.join(", ") }
                ),
            ));
        }
        Ok(StageOutput {
            summary: Some(serde_json::json!({
                "tables": report_groups,
                "applymode": mode_s,
                "rows_calibrated": op.calibrated_rows.load(Ordering::Relaxed),
                "rows_uncalibratable": op.uncalibratable_rows.load(Ordering::Relaxed),
                "output": stats,
            })),
        })
    }
}
