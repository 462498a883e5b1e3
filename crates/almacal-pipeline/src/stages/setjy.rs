//! `setjy` (algorithms.md §3): defines the flux-density model of the selected fields as a
//! model product ([`super::model`]) instead of writing MODEL_DATA. `standard = "manual"`
//! takes `fluxdensity` [I,Q,U,V], `spix` and `reffreq`; `"Perley-Butler 2017"` knows
//! 3C286, 3C48, 3C138 and 3C147 by name. The summary holds the per-spw fluxes in the shape
//! of CASA's returned dictionary.

use std::collections::BTreeMap;

use almacal_casa::meta_read::read_meta;
use almacal_casa::selection::{Selection, SelectionParams};
use almacal_recipe::ProductKind;
use almacal_solve::setjy::{parse_freq_hz, perley_butler_2017, FluxModel};
use serde_json::json;

use super::model::{mean, FieldModel, ModelProduct, MODEL_FORMAT};
use super::prep_common::vis;
use super::solve_common::{float_list, param_bool, param_str};
use crate::executor::{StageContext, StageError, StageExecutor, StageOutput};

/// The `setjy` task.
pub struct Setjy;

/// The result (CASA's dictionary) of the fluxscale stage `name`: its report, beside its
/// caltable in the workdir.
fn fluxscale_result(ctx: &StageContext<'_>, name: &str) -> Result<serde_json::Value, StageError> {
    let stage = &ctx.stage.name;
    let report = ctx
        .caltable(name)
        .and_then(|cal| cal.parent())
        .map(|dir| dir.join(ProductKind::Report.default_file_name(name)))
        .filter(|p| p.is_file())
        .ok_or_else(|| {
            StageError::Failed(format!(
                "stage {stage}: fluxscale = {name:?} must name a fluxscale stage of this recipe (its result is read from that stage's report)"
            ))
        })?;
    let text = std::fs::read_to_string(&report)?;
    serde_json::from_str(&text).map_err(|e| {
        StageError::InvalidInput(format!(
            "stage {stage}: {} is not a fluxscale result ({e}); rerun stage {name}",
            report.display()
        ))
    })
}

/// The models of field `f` from a fluxscale result: per solved spw, [fluxd, 0, 0, 0] for
/// that spw alone (the archive scripts' setjy per spw from the fluxscale log), or with
/// `fluxscale_fit` the fitted spectrum (fitFluxd at fitRefFreq, spix = spidx[1..]).
fn fluxscale_models(
    ctx: &StageContext<'_>,
    meta: &almacal_core::meta::MsMeta,
    result: &serde_json::Value,
    f: u32,
    spws: Option<&[u32]>,
    scalebychan: bool,
) -> Result<Vec<FieldModel>, StageError> {
    let stage = &ctx.stage.name;
    let name = param_str(ctx, "fluxscale");
    let fname = meta
        .fields
        .get(f as usize)
        .map(|x| x.name.clone())
        .unwrap_or_default();
    let Some(r) = result.get(f.to_string()) else {
        return Err(StageError::Failed(format!(
            "stage {stage}: fluxscale stage {name} derived no flux density for field {f} ({fname}); select one of its transfer fields with `field`"
        )));
    };
    let bad = |what: &str| {
        StageError::Failed(format!(
            "stage {stage}: fluxscale stage {name} has no {what} for field {f} ({fname})"
        ))
    };
    let wanted = |spw: u32| spws.is_none_or(|s| s.contains(&spw));
    let spw_freq = |spw: u32| {
        meta.spws
            .iter()
            .find(|w| w.id.0 == spw)
            .filter(|w| !w.chan_freq_hz.is_empty())
            .map(|w| mean(&w.chan_freq_hz))
    };
    let mut out = Vec::new();
    if param_bool(ctx, "fluxscale_fit", false) {
        let fit = r
            .get("fitFluxd")
            .and_then(|v| v.as_f64())
            .ok_or_else(|| bad("fitted spectrum"))?;
        let reffreq = r
            .get("fitRefFreq")
            .and_then(|v| v.as_f64())
            .ok_or_else(|| bad("fit reference frequency"))?;
        let spix: Vec<f64> = r
            .get("spidx")
            .and_then(|v| v.as_array())
            .map(|a| a.iter().skip(1).filter_map(|x| x.as_f64()).collect())
            .unwrap_or_default();
        let model = FluxModel::manual([fit, 0.0, 0.0, 0.0], spix, reffreq)
            .map_err(|e| StageError::Failed(format!("stage {stage}: {e}")))?;
        // CASA's setjy reports a spectral model at each spw's REF_FREQUENCY
        // (fixtures/setjy_fluxscale: within 6e-6 there, 1.5e-4 off at the mean frequency).
        let mut per_spw = BTreeMap::new();
        for w in &meta.spws {
            if spw_freq(w.id.0).is_some() && wanted(w.id.0) {
                per_spw.insert(w.id.0.to_string(), model.stokes_at(w.ref_freq_hz));
            }
        }
        out.push(FieldModel {
            field_id: f,
            field_name: fname,
            standard: "manual".into(),
            spws: spws.map(<[u32]>::to_vec),
            scalebychan,
            model,
            fluxd_per_spw: per_spw,
        });
        return Ok(out);
    }
    let obj = r.as_object().ok_or_else(|| bad("result"))?;
    for (spw, v) in obj {
        let Ok(spw) = spw.parse::<u32>() else {
            continue;
        };
        let flux = v
            .get("fluxd")
            .and_then(|x| x.get(0))
            .and_then(|x| x.as_f64())
            .unwrap_or(-1.0);
        if flux <= 0.0 || !wanted(spw) {
            continue;
        }
        let model = FluxModel::manual([flux, 0.0, 0.0, 0.0], Vec::new(), 1e9)
            .map_err(|e| StageError::Failed(format!("stage {stage}: {e}")))?;
        let mut per_spw = BTreeMap::new();
        per_spw.insert(
            spw.to_string(),
            model.stokes_at(spw_freq(spw).unwrap_or(1e9)),
        );
        out.push(FieldModel {
            field_id: f,
            field_name: fname.clone(),
            standard: "manual".into(),
            spws: Some(vec![spw]),
            scalebychan,
            model,
            fluxd_per_spw: per_spw,
        });
    }
    if out.is_empty() {
        return Err(bad("flux density in the selected spws"));
    }
    // Spw order, as the scripts' loop over the fluxscale log.
    out.sort_by_key(|m| m.spws.as_ref().and_then(|s| s.first().copied()));
    Ok(out)
}

impl StageExecutor for Setjy {
    /// `standard = "Perley-Butler 2017"` knows four sources: every selected field must be
    /// one of them.
    fn validate(
        &self,
        stage: &almacal_recipe::Stage,
        meta: &almacal_core::meta::MsMeta,
    ) -> Vec<crate::executor::ParamProblem> {
        let get = |k: &str| {
            stage
                .params
                .get(k)
                .and_then(almacal_recipe::ParamValue::as_str)
                .unwrap_or("")
        };
        if get("standard") != "Perley-Butler 2017" {
            return Vec::new();
        }
        let sel = SelectionParams {
            field: get("field").to_string(),
            ..Default::default()
        };
        // A field selection that does not resolve is reported by the engine.
        let Ok(sel) = Selection::resolve(meta, &sel) else {
            return Vec::new();
        };
        let fields: Vec<usize> = match &sel.fields {
            Some(f) => f.iter().map(|&x| x as usize).collect(),
            None => (0..meta.fields.len()).collect(),
        };
        let bad: Vec<String> = fields
            .into_iter()
            .filter_map(|f| {
                let name = &meta.fields.get(f)?.name;
                perley_butler_2017(name)
                    .is_none()
                    .then(|| format!("{f} ({name})"))
            })
            .collect();
        if bad.is_empty() {
            return Vec::new();
        }
        vec![crate::executor::ParamProblem {
            param: "field".into(),
            message: format!(
                "standard \"Perley-Butler 2017\" knows 3C286, 3C48, 3C138 and 3C147, not field {}",
                bad.join(", ")
            ),
            help: Some(
                "select the flux calibrator with `field`, or use standard = \"manual\" with fluxdensity".into(),
            ),
        }]
    }

    fn algorithm_version(&self) -> u32 {
        1
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let name = &ctx.stage.name;
        let vis = vis(ctx)?;
        let meta = read_meta(&vis.path).map_err(|e| {
            StageError::InvalidInput(format!(
                "stage {name}: cannot read {}: {e}",
                vis.path.display()
            ))
        })?;
        let sel_params = SelectionParams {
            field: param_str(ctx, "field").to_string(),
            spw: param_str(ctx, "spw").to_string(),
            ..Default::default()
        };
        let sel =
            Selection::resolve(&meta, &sel_params).map_err(|e| StageError::selection(name, e))?;
        // A field/spw combination that was never observed selects nothing: an error, as
        // in every task (docs/selection.md).
        if sel.fields.is_some() || sel.spw_chans.is_some() {
            let (_, idx) =
                almacal_casa::meta_read::read_meta_with_index(&vis.path).map_err(|e| {
                    StageError::InvalidInput(format!(
                        "stage {name}: cannot read {}: {e}",
                        vis.path.display()
                    ))
                })?;
            if !(0..idx.nrows()).any(|r| sel.row_matches(&idx, r)) {
                let e = almacal_casa::selection::empty_selection_error(
                    &meta,
                    &idx,
                    &sel_params,
                    &vis.path,
                    false,
                );
                return Err(StageError::selection(name, e));
            }
        }
        let fields: Vec<u32> = match &sel.fields {
            Some(f) => f.iter().map(|&x| x as u32).collect(),
            None => (0..meta.fields.len() as u32).collect(),
        };
        let spws: Option<Vec<u32>> = sel.spw_chans.as_ref().map(|m| m.keys().copied().collect());
        let standard = param_str(ctx, "standard").to_string();
        let scalebychan = param_bool(ctx, "scalebychan", true);
        let mut out = Vec::new();
        let from_fluxscale = param_str(ctx, "fluxscale").to_string();
        if !from_fluxscale.is_empty() {
            let result = fluxscale_result(ctx, &from_fluxscale)?;
            for &f in &fields {
                out.extend(fluxscale_models(
                    ctx,
                    &meta,
                    &result,
                    f,
                    spws.as_deref(),
                    scalebychan,
                )?);
            }
        }
        let fields = if from_fluxscale.is_empty() {
            fields
        } else {
            Vec::new()
        };
        for f in fields {
            let fname = meta
                .fields
                .get(f as usize)
                .map(|x| x.name.clone())
                .unwrap_or_default();
            let model = if standard.eq_ignore_ascii_case("manual") {
                let fd = float_list(ctx, "fluxdensity");
                if fd.is_empty() || fd[0] < 0.0 {
                    return Err(StageError::Failed(format!(
                        "stage {name}: standard = \"manual\" needs fluxdensity = [I, Q, U, V] (Jy)"
                    )));
                }
                let mut s = [0.0; 4];
                for (k, v) in fd.iter().take(4).enumerate() {
                    s[k] = *v;
                }
                let spix = float_list(ctx, "spix");
                let reffreq = parse_freq_hz(param_str(ctx, "reffreq"))
                    .map_err(|e| StageError::Failed(format!("stage {name}: reffreq: {e}")))?;
                FluxModel::manual(s, spix, reffreq)
                    .map_err(|e| StageError::Failed(format!("stage {name}: {e}")))?
            } else if standard == "Perley-Butler 2017" {
                let coeffs = perley_butler_2017(&fname).ok_or_else(|| {
                    StageError::Failed(format!(
                        "stage {name}: field {f} ({fname}) is not a Perley-Butler 2017 source \
                         (3C286, 3C48, 3C138, 3C147); select the flux calibrator with `field`, \
                         or use standard = \"manual\""
                    ))
                })?;
                let fd = float_list(ctx, "fluxdensity");
                if fd.first().is_some_and(|v| *v >= 0.0) {
                    return Err(StageError::Failed(format!(
                        "stage {name}: fluxdensity is only used with standard = \"manual\""
                    )));
                }
                FluxModel::Polynomial { coeffs }
            } else {
                return Err(StageError::Failed(format!(
                    "stage {name}: standard {standard:?} is not implemented; use \"manual\" or \
                     \"Perley-Butler 2017\""
                )));
            };
            let mut per_spw = BTreeMap::new();
            for w in &meta.spws {
                let id = w.id.0;
                if spws.as_ref().is_some_and(|s| !s.contains(&id)) || w.chan_freq_hz.is_empty() {
                    continue;
                }
                per_spw.insert(id.to_string(), model.stokes_at(mean(&w.chan_freq_hz)));
            }
            out.push(FieldModel {
                field_id: f,
                field_name: fname,
                standard: standard.clone(),
                spws: spws.clone(),
                scalebychan,
                model,
                fluxd_per_spw: per_spw,
            });
        }
        let product = ModelProduct {
            format: MODEL_FORMAT.into(),
            fields: out,
        };
        product.write(ctx.output(ProductKind::Model)?, name)?;
        // CASA's returned dictionary shape.
        let mut dict = serde_json::Map::new();
        for m in &product.fields {
            let mut f = serde_json::Map::new();
            for (spw, s) in &m.fluxd_per_spw {
                f.insert(spw.clone(), json!({ "fluxd": s }));
            }
            f.insert("fieldName".into(), json!(m.field_name));
            dict.insert(m.field_id.to_string(), serde_json::Value::Object(f));
        }
        dict.insert(
            "format".into(),
            json!("{field Id: {spw Id: {fluxd: [I,Q,U,V] in Jy}, 'fieldName':field name }}"),
        );
        Ok(StageOutput {
            summary: Some(serde_json::Value::Object(dict)),
        })
    }
}
