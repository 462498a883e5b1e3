//! The `split` and `mstransform` stages: copy a selection of a vis (with its upstream flag
//! layers applied) into a new MS with the chosen `datacolumn` as DATA, re-indexed as CASA
//! does (`reindex = true`, CASA's default and split's only behaviour; see `reindex`) or
//! keeping spw ids and DDIDs (`reindex = false`; see `vis_out`), optionally averaged in
//! time (`timebin`; mstransform: with `timeaverage = true`) and channels (split `width`,
//! mstransform `chanaverage = true` + `chanbin`) as CASA 6.7 does (see `average`).

use almacal_recipe::{ParamValue, ProductKind};

use super::flag_commands::selection_of;
use super::flag_layers::load_layers;
use super::prep_common::{failed, vis};
use super::vis_out::{write_vis, AverageSpec, DataColumn, OutputSpec};
use crate::executor::{StageContext, StageError, StageExecutor, StageOutput};

/// `split` / `mstransform`.
pub struct Split;

impl StageExecutor for Split {
    fn algorithm_version(&self) -> u32 {
        1
    }

    fn validate(
        &self,
        stage: &almacal_recipe::Stage,
        meta: &almacal_core::meta::MsMeta,
    ) -> Vec<crate::executor::ParamProblem> {
        let reindex = stage
            .params
            .get("reindex")
            .and_then(ParamValue::as_bool)
            .unwrap_or(true);
        let mut out = super::vis_out::whole_spw_problems(&stage.params, "", meta, reindex);
        if let Err((param, message)) = average_spec(&stage.task, &stage.params, meta) {
            out.push(crate::executor::ParamProblem {
                param: param.into(),
                message,
                help: None,
            });
        }
        out
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let stage = &ctx.stage.name;
        // Averaging, combining and re-indexing are refused by `check` (almacal_recipe::support).
        let input = vis(ctx)?;
        let meta = almacal_casa::read_meta(&input.path)
            .map_err(|e| super::prep_common::casa_err(stage, e))?;
        let average = average_spec(&ctx.stage.task, &ctx.stage.params, &meta)
            .map_err(|(p, e)| failed(stage, format!("{p}: {e}")))?;
        let layers = load_layers(input, None)?;
        let dc_s = ctx.param_str("datacolumn").unwrap_or("corrected");
        let datacolumn = DataColumn::parse(dc_s).ok_or_else(|| {
            failed(
                stage,
                format!("datacolumn {dc_s:?} is not supported (use data, corrected or model)"),
            )
        })?;
        let spec = OutputSpec {
            selection: selection_of(&ctx.stage.params, "selection")
                .map_err(|e| failed(stage, e))?,
            datacolumn,
            keepflags: ctx
                .param("keepflags")
                .and_then(ParamValue::as_bool)
                .unwrap_or(true),
            reindex: ctx
                .param("reindex")
                .and_then(ParamValue::as_bool)
                .unwrap_or(true),
            average,
        };
        let out = ctx.output(ProductKind::Vis)?;
        let progress = |d: u64, t: u64| ctx.progress(d, t);
        let stats = write_vis(
            stage,
            &input.path,
            layers,
            out,
            &spec,
            None,
            ctx.threads,
            &progress,
        )?;
        Ok(StageOutput {
            summary: Some(serde_json::to_value(&stats).unwrap_or_default()),
        })
    }
}

/// Seconds of a time quantity (`"30s"`, `"1.5min"`, `"0.1h"`, `"1d"`; a bare number is
/// seconds).
pub fn seconds(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(q.len());
    let (num, unit) = q.split_at(split);
    let v: f64 = num.trim().parse().ok()?;
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "min" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        _ => return None,
    };
    Some(v * scale).filter(|s| s.is_finite() && *s >= 0.0)
}

/// The averaging a split (`task` "split") or mstransform stage asks for: split's
/// `timebin` / `width`, mstransform's `timebin` with `timeaverage` and `chanbin` with
/// `chanaverage` (CASA ignores them otherwise). A width list gives one bin per selected
/// spw in the order the `spw` selection lists them (one value: every spw). Errors name
/// the parameter.
pub fn average_spec(
    task: &str,
    p: &almacal_recipe::Params,
    meta: &almacal_core::meta::MsMeta,
) -> Result<AverageSpec, (&'static str, String)> {
    let on = |k: &str| p.get(k).and_then(ParamValue::as_bool).unwrap_or(false);
    let ms_t = task == "mstransform";
    let mut spec = AverageSpec::default();
    if !ms_t || on("timeaverage") {
        // split's `combine`, mstransform's `timespan`: "scan" and/or "state" (ALMA's
        // sub-scans are crossed anyway).
        let key = if ms_t { "timespan" } else { "combine" };
        let items: Vec<String> = match p.get(key) {
            Some(ParamValue::Str(s)) => vec![s.clone()],
            Some(ParamValue::List(l)) => l
                .iter()
                .filter_map(ParamValue::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        let mut states = false;
        for item in items.iter().flat_map(|s| s.split(',')) {
            match item.trim().to_ascii_lowercase().as_str() {
                "" => {}
                "state" => states = true,
                "scan" => spec.combine_scans = true,
                other => {
                    return Err((
                        if ms_t { "timespan" } else { "combine" },
                        format!("{other:?} is not implemented (\"scan\", \"state\")"),
                    ))
                }
            }
        }
        let tb = p
            .get("timebin")
            .and_then(ParamValue::as_str)
            .unwrap_or("0s");
        spec.timebin_s = if tb.trim().is_empty() {
            0.0
        } else {
            seconds(tb).ok_or(("timebin", format!("cannot read time {tb:?}")))?
        };
        // CASA crosses state boundaries only for ALMA data; elsewhere it keeps them, which
        // is not implemented: refused unless there is one state or they are combined.
        let alma = meta
            .observations
            .iter()
            .all(|o| o.telescope.trim().eq_ignore_ascii_case("ALMA"));
        if spec.timebin_s > 0.0 && !alma && !states && meta.states.len() > 1 {
            return Err((
                "timebin",
                "time averaging within the STATE boundaries of non-ALMA data (CASA's default there) is not implemented".into(),
            ));
        }
    }
    let wkey = if ms_t { "chanbin" } else { "width" };
    if ms_t && !on("chanaverage") {
        return Ok(spec);
    }
    let widths: Vec<i64> = match p.get(wkey) {
        None => vec![1],
        Some(ParamValue::List(l)) => l.iter().filter_map(ParamValue::as_i64).collect(),
        Some(v) => v.as_i64().into_iter().collect(),
    };
    if widths.iter().any(|&w| w < 1) {
        return Err((wkey, "channel bins must be at least 1".into()));
    }
    if widths.iter().all(|&w| w == 1) {
        return Ok(spec);
    }
    let sel = almacal_casa::selection::SelectionParams {
        spw: p
            .get("spw")
            .and_then(ParamValue::as_str)
            .unwrap_or("")
            .into(),
        ..Default::default()
    };
    let plan = super::reindex::plan(meta, &sel).map_err(|e| ("spw", e))?;
    let spws: Vec<u32> = plan.spws.iter().map(|s| s.0).collect();
    if widths.len() != 1 && widths.len() != spws.len() {
        return Err((
            wkey,
            format!(
                "{} channel bins for {} selected spws: give one, or one per spw",
                widths.len(),
                spws.len()
            ),
        ));
    }
    for (i, spw) in spws.iter().enumerate() {
        let w = widths[if widths.len() == 1 { 0 } else { i }];
        spec.chanbin.insert(*spw, w as usize);
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::seconds;

    #[test]
    fn time_quantities_in_seconds() {
        assert_eq!(seconds("30s"), Some(30.0));
        assert_eq!(seconds("1.5min"), Some(90.0));
        assert_eq!(seconds("0.5h"), Some(1800.0));
        assert_eq!(seconds("12"), Some(12.0));
        assert_eq!(seconds("3 parsecs"), None);
    }
}
