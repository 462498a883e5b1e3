//! `fluxscale` (algorithms.md §4): reads a G/T amplitude table, bootstraps the flux density
//! of the transfer fields from the reference fields (median gain-amplitude ratio squared,
//! CASA's error and spectral fit), writes the rescaled table (transfer rows divided by the
//! ratio; VisCal unchanged) and `<stage>.json` with the dictionary CASA's fluxscale returns.

use std::collections::BTreeSet;

use almacal_casa::caltable::{write_caltable, CalParams};
use almacal_casa::meta_read::read_meta;
use almacal_casa::selection::{Selection, SelectionParams};
use almacal_core::MsMeta;
use almacal_recipe::{ParamValue, ProductKind};
use almacal_solve::fluxscale::{fluxscale, FluxSpw, FluxscaleParams, GainAmpRow};
use num_complex::Complex32;

use super::prep_common::vis;
use super::solve_common::{
    now_mjd_s, param_bool, param_f64, param_str, provenance, read_named_caltable, resolve_refants,
};
use crate::executor::{StageContext, StageError, StageExecutor, StageOutput};

/// The `fluxscale` task.
pub struct Fluxscale;

fn fields_of(ctx: &StageContext<'_>, meta: &MsMeta, param: &str) -> Result<Vec<i32>, StageError> {
    let expr = param_str(ctx, param);
    if expr.trim().is_empty() {
        return Ok(Vec::new());
    }
    let sel = Selection::resolve(
        meta,
        &SelectionParams {
            field: expr.into(),
            ..Default::default()
        },
    )
    .map_err(|e| StageError::selection(&ctx.stage.name, format!("{param}: {e}")))?;
    Ok(sel
        .fields
        .map(|f| f.into_iter().collect())
        .unwrap_or_default())
}

impl StageExecutor for Fluxscale {
    fn algorithm_version(&self) -> u32 {
        1
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let name = &ctx.stage.name;
        let fail = |m: String| StageError::Failed(format!("stage {name}: {m}"));
        if param_bool(ctx, "incremental", false) {
            return Err(fail("incremental = true is not implemented".into()));
        }
        if !param_str(ctx, "timerange").trim().is_empty() {
            return Err(fail(
                "timerange selection is not implemented for fluxscale".into(),
            ));
        }
        let vis = vis(ctx)?;
        let meta = read_meta(&vis.path).map_err(|e| {
            StageError::InvalidInput(format!(
                "stage {name}: cannot read {}: {e}",
                vis.path.display()
            ))
        })?;
        let (tname, mut table, _) = read_named_caltable(ctx, "caltable")?;
        if !matches!(table.keywords.viscal.as_str(), "G Jones" | "T Jones") {
            return Err(fail(format!(
                "caltable {tname:?} is a {:?} table; fluxscale needs a G or T Jones amplitude table",
                table.keywords.viscal
            )));
        }
        let reference = fields_of(ctx, &meta, "reference")?;
        if reference.is_empty() {
            return Err(fail("reference selects no field".into()));
        }
        let transfer = fields_of(ctx, &meta, "transfer")?;
        let refspwmap: Vec<i32> = match ctx.param("refspwmap") {
            Some(ParamValue::List(l)) => l
                .iter()
                .filter_map(ParamValue::as_i64)
                .map(|v| v as i32)
                .collect(),
            _ => Vec::new(),
        };
        let refspwmap = if refspwmap == [-1] {
            Vec::new()
        } else {
            refspwmap
        };
        let antennas: Option<BTreeSet<i32>> = {
            let a = param_str(ctx, "antenna");
            if a.trim().is_empty() {
                None
            } else {
                Some(
                    resolve_refants(&meta, a)
                        .map_err(|e| fail(format!("antenna: {e}")))?
                        .into_iter()
                        .map(|i| i as i32)
                        .collect(),
                )
            }
        };
        let scans: Option<BTreeSet<i32>> = {
            let s = param_str(ctx, "scan");
            if s.trim().is_empty() {
                None
            } else {
                Selection::resolve(
                    &meta,
                    &SelectionParams {
                        scan: s.into(),
                        ..Default::default()
                    },
                )
                .map_err(|e| StageError::selection(&ctx.stage.name, format!("scan: {e}")))?
                .scans
            }
        };
        let mut rows = Vec::new();
        for r in &table.rows {
            if antennas.as_ref().is_some_and(|a| !a.contains(&r.antenna1))
                || scans.as_ref().is_some_and(|s| !s.contains(&r.scan))
            {
                continue;
            }
            let CalParams::Complex(p) = &r.params else {
                return Err(fail(format!("caltable {tname:?} has no CPARAM")));
            };
            let npar = p.nrows();
            rows.push(GainAmpRow {
                field: r.field_id,
                spw: r.spw_id,
                antenna: r.antenna1.max(0) as usize,
                time_s: r.time_s,
                amp: (0..npar).map(|k| f64::from(p[[k, 0]].norm())).collect(),
                flag: (0..npar).map(|k| r.flag[[k, 0]]).collect(),
            });
        }
        if rows.is_empty() && !table.rows.is_empty() {
            let given: Vec<String> = ["antenna", "scan"]
                .iter()
                .filter(|k| !param_str(ctx, k).trim().is_empty())
                .map(|k| format!("{k}='{}'", param_str(ctx, k)))
                .collect();
            return Err(fail(format!(
                "{} selects no data in caltable {tname:?}",
                given.join(" ")
            )));
        }
        let spws: Vec<FluxSpw> = table
            .sub
            .spws
            .iter()
            .enumerate()
            .map(|(i, s)| FluxSpw {
                id: i as i32,
                name: s.name.clone(),
                freq_hz: s
                    .chan_freq_hz
                    .get(s.chan_freq_hz.len() / 2)
                    .copied()
                    .unwrap_or(0.0),
            })
            .collect();
        let field_names: Vec<String> = table.sub.fields.iter().map(|f| f.name.clone()).collect();
        let params = FluxscaleParams {
            reference,
            transfer,
            refspwmap,
            gainthreshold: param_f64(ctx, "gainthreshold", -1.0),
            fitorder: param_f64(ctx, "fitorder", 1.0).max(0.0) as usize,
        };
        let result =
            fluxscale(&rows, &spws, &field_names, &params).map_err(|e| fail(e.to_string()))?;
        for r in table.rows.iter_mut() {
            let Some(d) = result.divisor(r.field_id, r.spw_id) else {
                continue;
            };
            if d > 0.0 {
                if let CalParams::Complex(p) = &mut r.params {
                    p.mapv_inplace(|z| z / Complex32::new(d as f32, 0.0));
                }
            }
        }
        table
            .sub
            .history
            .extend(provenance(ctx).history_rows(now_mjd_s()));
        let out = ctx.output(ProductKind::Caltable)?;
        write_caltable(out, &table).map_err(|e| StageError::write(name, out, e))?;
        let dict = result.to_casa_dict();
        let text = serde_json::to_string_pretty(&dict).map_err(|e| fail(e.to_string()))?;
        std::fs::write(ctx.output(ProductKind::Report)?, text)?;
        Ok(StageOutput {
            summary: Some(dict),
        })
    }
}
