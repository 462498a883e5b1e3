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
        let text = serde_json::to_string_pretty(&product)
            .map_err(|e| StageError::Failed(format!("stage {name}: {e}")))?;
        std::fs::write(ctx.output(ProductKind::Model)?, text)?;
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
