//! The `renorm` stage: ALMA's ACReNorm spectral renormalization of the science target
//! (algorithms.md §9, numerics in `almacal_solve::renorm`).
//!
//! For every target spw it averages the target's and the bandpass calibrator's
//! autocorrelations ([`read`]), computes the renormalization spectra per target scan and
//! field, and reports per field and spw the maximum scaling (`max_rn`), where it occurs,
//! the threshold and the segment changes (`<workdir>/<stage>.json`), and per spw the
//! diagnostic behind the renorm plot: the ratio spectra and fitted baselines of the scan/field
//! of maximum scaling (`diagnostics.<spw>`, compact, 6 significant digits). With `apply = true` it
//! also writes a `B TSYS` caltable (FPARAM = N per antenna, pol, channel; one row per antenna
//! for every scan/field of the target in each spw whose scaling exceeded `threshold`; with
//! `fill_table`, rows of 1.0 for the other spws), which applycal applies like a Tsys table:
//! V_ij × sqrt(N_i N_j), weights ÷ N_i N_j (the ALMA pipeline uses `interp='nearest,linear'`).

mod partial;
mod read;
mod template;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::time::Instant;

use almacal_casa::caltable::{
    write_caltable, CalKeywords, CalParams, CalRow, CalSubtables, CalTable, ParType, CASA_VERSION,
};
use almacal_casa::read_meta;
use almacal_casa::selection::{Selection, SelectionParams};
use almacal_core::meta::MsMeta;
use almacal_recipe::{ParamValue, ProductKind};
use almacal_solve::renorm::atm::{atm_features, Conditions};
use almacal_solve::renorm::exclude::parse_exclusions;
use almacal_solve::renorm::{renormalize, RenormConfig, ScanRenorm, ScanSpectra};
use ndarray::Array2;
use serde_json::{json, Value};

use super::prep_common::{casa_err, failed, file_name, io_err, vis};
use super::solve_common::{load_flag_layers, now_mjd_s, provenance};
use crate::executor::{PartialMode, StageContext, StageError, StageExecutor, StageOutput};

/// The `renorm` task.
pub struct Renorm;

/// Resolved parameters.
struct Params {
    apply: bool,
    threshold: f64,
    excludechan: BTreeMap<u32, String>,
    atm_auto_exclude: bool,
    spw: String,
    field: String,
    fill_table: bool,
    tsys_template: bool,
    column: &'static str,
}

impl Params {
    fn from_ctx(ctx: &StageContext<'_>) -> Result<Self, StageError> {
        let stage = &ctx.stage.name;
        let b = |n: &str, d: bool| ctx.param(n).and_then(ParamValue::as_bool).unwrap_or(d);
        let s = |n: &str| ctx.param_str(n).unwrap_or("").trim().to_string();
        let threshold = ctx
            .param("threshold")
            .and_then(ParamValue::as_f64)
            .unwrap_or(1.02);
        if !(threshold.is_finite() && threshold >= 1.0) {
            return Err(failed(
                stage,
                format!("threshold must be a number ≥ 1 (got {threshold})"),
            ));
        }
        let mut excludechan = BTreeMap::new();
        if let Some(t) = ctx.param("excludechan").and_then(ParamValue::as_table) {
            for (k, v) in t {
                let spw: u32 = k.trim().parse().map_err(|_| {
                    failed(
                        stage,
                        format!("excludechan key '{k}' must be a spw id, e.g. {{ \"16\" = \"100~200\" }}"),
                    )
                })?;
                let text = v.as_str().ok_or_else(|| {
                    failed(stage, format!("excludechan for spw {spw} must be a string"))
                })?;
                excludechan.insert(spw, text.to_string());
            }
        }
        let column = match s("datacolumn").to_ascii_lowercase().as_str() {
            "" | "data" => "DATA",
            "corrected" => "CORRECTED_DATA",
            other => {
                return Err(failed(
                    stage,
                    format!("datacolumn must be 'data' or 'corrected' (got '{other}')"),
                ))
            }
        };
        Ok(Self {
            apply: b("apply", false),
            threshold,
            excludechan,
            atm_auto_exclude: b("atm_auto_exclude", true),
            spw: s("spw"),
            field: s("field"),
            fill_table: b("fill_table", true),
            tsys_template: b("tsys_template", true),
            column,
        })
    }
}

/// Which scans, fields and spws take part.
struct Plan {
    bandpass_scans: BTreeSet<i32>,
    target_scans: BTreeSet<i32>,
    fields: BTreeSet<u32>,
    spws: Vec<u32>,
}

fn has_intent(intents: &[String], pat: &str) -> bool {
    intents.iter().any(|i| i.contains(pat))
}

fn plan(stage: &str, meta: &MsMeta, p: &Params) -> Result<Plan, StageError> {
    let bandpass_scans: BTreeSet<i32> = meta
        .scans
        .iter()
        .filter(|s| has_intent(&s.intents, "CALIBRATE_BANDPASS"))
        .map(|s| s.scan)
        .collect();
    let sel = Selection::resolve(
        meta,
        &SelectionParams {
            spw: p.spw.clone(),
            field: p.field.clone(),
            ..Default::default()
        },
    )
    .map_err(|e| StageError::selection(stage, e))?;
    let target: Vec<_> = meta
        .scans
        .iter()
        .filter(|s| has_intent(&s.intents, "OBSERVE_TARGET"))
        .filter(|s| {
            sel.fields
                .as_ref()
                .is_none_or(|f| f.contains(&(s.field.0 as i32)))
        })
        .collect();
    if bandpass_scans.is_empty() {
        return Err(failed(
            stage,
            "the vis has no CALIBRATE_BANDPASS scan; renorm divides the target's autocorrelations by the bandpass calibrator's",
        ));
    }
    if target.is_empty() {
        return Err(failed(
            stage,
            format!("field='{}' selects no OBSERVE_TARGET scan in the vis; renorm corrects science targets only", p.field),
        ));
    }
    let in_bp: BTreeSet<u32> = meta
        .scans
        .iter()
        .filter(|s| bandpass_scans.contains(&s.scan))
        .flat_map(|s| s.spws.iter().map(|w| w.0))
        .collect();
    let mut spws: BTreeSet<u32> = BTreeSet::new();
    for s in &target {
        for w in &s.spws {
            let Some(spw) = meta.spw(*w) else { continue };
            let name = spw.name.to_ascii_uppercase();
            let science = spw.nchan() > 4 && !name.contains("CH_AVG") && !name.contains("WVR");
            let chosen = sel.spw_chans.as_ref().is_none_or(|m| m.contains_key(&w.0));
            if science && chosen && in_bp.contains(&w.0) {
                spws.insert(w.0);
            }
        }
    }
    if spws.is_empty() {
        return Err(failed(
            stage,
            format!("spw='{}' selects no spectral spw observed on both the target and the bandpass calibrator", p.spw),
        ));
    }
    Ok(Plan {
        bandpass_scans,
        target_scans: target.iter().map(|s| s.scan).collect(),
        fields: target.iter().map(|s| s.field.0).collect(),
        spws: spws.into_iter().collect(),
    })
}

/// One computed (spw, scan, field).
struct Computed {
    spw: u32,
    scan: i32,
    field: u32,
    result: ScanRenorm,
}

fn exclusions(
    stage: &str,
    meta: &MsMeta,
    p: &Params,
    spw: u32,
) -> Result<(Vec<Range<usize>>, Value), StageError> {
    let w = meta
        .spw(almacal_core::SpwId(spw))
        .ok_or_else(|| failed(stage, format!("spw {spw} is not in the vis")))?;
    let mut ranges = Vec::new();
    if let Some(expr) = p.excludechan.get(&spw) {
        ranges.extend(
            parse_exclusions(expr, &w.chan_freq_hz)
                .map_err(|e| failed(stage, format!("spw {spw}: {e}")))?,
        );
    }
    let mut atm = Vec::new();
    if p.atm_auto_exclude {
        for f in atm_features(&w.chan_freq_hz, &Conditions::default()) {
            atm.push(json!({
                "species": format!("{:?}", f.line.species),
                "centre_ghz": f.line.centre_ghz,
                "depth": f.depth,
                "chans": [f.chans.start, f.chans.end],
            }));
            ranges.push(f.chans);
        }
    }
    Ok((ranges, Value::Array(atm)))
}

impl StageExecutor for Renorm {
    /// 2: the report holds the ratio-spectrum `diagnostics` per spw.
    fn algorithm_version(&self) -> u32 {
        2
    }

    /// Everything renorm computes is per spw (see [`partial`]).
    fn partial_mode(&self, _stage: &almacal_recipe::Stage) -> PartialMode {
        PartialMode::Merge
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let start = Instant::now();
        let stage = ctx.stage.name.as_str();
        let v = vis(ctx)?;
        let p = Params::from_ctx(ctx)?;
        let meta = read_meta(&v.path).map_err(|e| casa_err(stage, e))?;
        if !meta.data_columns.iter().any(|c| c == p.column) {
            return Err(StageError::InvalidInput(format!(
                "stage {stage}: {} has no {} column (datacolumn); it has {}",
                v.path.display(),
                p.column,
                meta.data_columns.join(", ")
            )));
        }
        let mut plan = plan(stage, &meta, &p)?;
        // A partial rerun recomputes the changed spws and keeps the others' results.
        let previous = match &ctx.partial {
            Some(pr) => {
                let prev = partial::read_previous(
                    pr.previous.get(&ProductKind::Caltable).map(|x| x.as_path()),
                    pr.previous.get(&ProductKind::Report).ok_or_else(|| {
                        failed(stage, "partial rerun without the previous report")
                    })?,
                )
                .map_err(|e| failed(stage, e))?;
                plan.spws.retain(|s| pr.spws.contains(s));
                Some((prev, pr.spws.clone()))
            }
            None => None,
        };
        if plan.spws.is_empty() {
            if let Some((prev, _)) = previous {
                // None of this stage's spws changed: the previous products stand.
                return keep_previous(ctx, prev);
            }
        }
        let ac = read::read_autocorrs(
            &v.path,
            p.column,
            &meta,
            &plan.spws,
            &plan.bandpass_scans,
            &plan.target_scans,
            |d, t| ctx.progress(d, t),
        )
        .map_err(|e| casa_err(stage, e))?;
        let mut notes = Vec::new();
        let layers = load_flag_layers(v)?;
        let live = read::cross_live(&v.path, &meta, &plan.spws, &plan.target_scans, &layers)
            .map_err(|e| casa_err(stage, e))?;
        let t_read = start.elapsed().as_secs_f64();

        let templates = if p.tsys_template {
            template::TsysTemplates::new(&meta, &plan.bandpass_scans)
        } else {
            None
        };
        if p.tsys_template && templates.is_none() {
            notes.push("no SYSCAL Tsys spectra: fits without a Tsys template".to_string());
        }
        let cfg = RenormConfig::default();
        let nant = meta.antennas.len();
        let mut computed = Vec::new();
        let mut atm_report = serde_json::Map::new();
        for &spw in &plan.spws {
            let (excl, atm) = exclusions(stage, &meta, &p, spw)?;
            atm_report.insert(spw.to_string(), atm);
            let Some(bp) = ac.bandpass.get(&spw) else {
                notes.push(format!("spw {spw}: no bandpass autocorrelations; skipped"));
                continue;
            };
            let bp_mean = bp.mean();
            let w = &meta.spws[spw as usize];
            let chan_width_hz = w.chan_width_hz.first().map_or(0.0, |x| x.abs());
            let bandwidth_hz = w.chan_width_hz.iter().map(|x| x.abs()).sum::<f64>();
            for (&(kspw, scan, field), sums) in ac
                .target
                .range((spw, i32::MIN, 0)..=(spw, i32::MAX, u32::MAX))
            {
                debug_assert_eq!(kspw, spw);
                let tmean = sums.mean();
                let dead: Vec<bool> = (0..nant)
                    .map(|a| {
                        sums.rows_a[a] == 0
                            || live
                                .get(&(spw, scan, field))
                                .is_none_or(|l| !l.get(a).copied().unwrap_or(false))
                    })
                    .collect();
                let tpl = templates.as_ref().and_then(|t| {
                    t.template(&meta, spw, field, ac.scan_time(scan)?, &plan.bandpass_scans)
                });
                let input = ScanSpectra {
                    template_pac: tpl.as_ref().map(|t| t.view()),
                    target_pac: tmean.view(),
                    bandpass_pac: bp_mean.view(),
                    exclude: &excl,
                    dead: &dead,
                    chan_width_hz,
                    bandwidth_hz,
                };
                let result = renormalize(&input, &cfg).map_err(|e| failed(stage, e))?;
                computed.push(Computed {
                    spw,
                    scan,
                    field,
                    result,
                });
            }
        }
        let t_compute = start.elapsed().as_secs_f64() - t_read;

        // Statistics per (field name, spw), and which spws need correcting.
        let new_marked: BTreeSet<u32> = computed
            .iter()
            .filter(|c| c.result.scaling > p.threshold)
            .map(|c| c.spw)
            .collect();
        let marked = match &previous {
            Some((prev, redone)) => partial::merge_marked(&prev.report, &new_marked, redone),
            None => new_marked,
        };
        let mut fields_json = serde_json::Map::new();
        let mut max_all = 1.0f64;
        for &f in &plan.fields {
            let fname = meta
                .fields
                .get(f as usize)
                .map_or_else(|| f.to_string(), |x| x.name.clone());
            let entry = fields_json
                .entry(fname.clone())
                .or_insert_with(|| Value::Object(Default::default()));
            for &spw in &plan.spws {
                let rows: Vec<&Computed> = computed
                    .iter()
                    .filter(|c| {
                        c.spw == spw
                            && meta.fields.get(c.field as usize).map(|x| &x.name) == Some(&fname)
                    })
                    .collect();
                let Some(best) = rows
                    .iter()
                    .max_by(|a, b| a.result.scaling.total_cmp(&b.result.scaling))
                else {
                    continue;
                };
                max_all = max_all.max(best.result.scaling);
                let scans: serde_json::Map<String, Value> = rows
                    .iter()
                    .map(|c| {
                        (
                            format!("{}:{}", c.scan, c.field),
                            json!({
                                "scan": c.scan,
                                "field": c.field,
                                "scaling": c.result.scaling,
                                "nmax_per_corr": c.result.nmax_p,
                                "nseg": c.result.nseg,
                                "tsys_template_power": c.result.template_power,
                                "outliers_fixed": c.result.outliers.len(),
                            }),
                        )
                    })
                    .collect();
                if let Some(o) = entry.as_object_mut() {
                    o.insert(
                        spw.to_string(),
                        json!({
                            "max_rn": best.result.scaling,
                            "max_rn_field": best.field,
                            "max_rn_scan": best.scan,
                            "threshold": p.threshold,
                            "needs_correction": marked.contains(&spw),
                            "seg_change": rows.iter().any(|c| c.result.seg_changes > 0),
                            "nseg_initial": best.result.nseg_initial,
                            "nseg": best.result.nseg,
                            "scans": scans,
                        }),
                    );
                }
            }
        }
        let mut diagnostics: serde_json::Map<String, Value> = plan
            .spws
            .iter()
            .filter_map(|&spw| {
                let best = computed
                    .iter()
                    .filter(|c| c.spw == spw)
                    .max_by(|a, b| a.result.scaling.total_cmp(&b.result.scaling))?;
                Some((
                    spw.to_string(),
                    diagnostic_json(&meta, &ac, best, p.threshold),
                ))
            })
            .collect();
        if let Some((prev, redone)) = &previous {
            // Filled in below from the merged per-spw entries.
            let mut part = json!({
                "stats": fields_json,
                "atm_exclusions": atm_report,
                "notes": notes,
                "diagnostics": diagnostics,
            });
            max_all = partial::merge_report(&mut part, &prev.report, redone);
            fields_json = part["stats"].as_object().cloned().unwrap_or_default();
            atm_report = part["atm_exclusions"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            diagnostics = part["diagnostics"].as_object().cloned().unwrap_or_default();
            notes = part["notes"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
        }
        let table_needed = !marked.is_empty();
        let mut report = json!({
            "vis": v.path.display().to_string(),
            "datacolumn": p.column,
            "threshold": p.threshold,
            "apply": p.apply,
            "table_needed": table_needed,
            "max_scaling": max_all,
            "message": if table_needed {
                format!("maximum scaling {max_all:.4} > {}: a renormalization table is needed (set apply = true)", p.threshold)
            } else {
                format!("maximum scaling {max_all:.4} ≤ {}: no renormalization needed", p.threshold)
            },
            "marked_spws": marked.iter().collect::<Vec<_>>(),
            "stats": fields_json,
            "atm_exclusions": atm_report,
            "diagnostics": diagnostics,
            "excludechan": p.excludechan.iter().map(|(k, v)| (k.to_string(), Value::from(v.clone()))).collect::<serde_json::Map<_, _>>(),
            "autocorrelation_flags": "ignored (ACReNorm averages autocorrelations without flags); cross-correlation flags incl. upstream layers decide fully flagged antennas",
            "notes": notes,
        });
        // What this pass read and how long it took belong to the run, not to the product:
        // a partial rerun must write the same report as a whole one (bit for bit).
        let mut summary = json!({
            "max_scaling": max_all,
            "table_needed": table_needed,
            "marked_spws": marked.iter().collect::<Vec<_>>(),
            "rows_read": ac.rows_read,
            "timing_s": { "read": t_read, "compute": t_compute },
        });
        if p.apply {
            let mut table = caltable(ctx, &meta, &plan, &ac, &computed, &marked, p.fill_table)?;
            if let Some((prev, redone)) = previous {
                table.rows = partial::merge_rows(prev.rows, table.rows, &redone);
            }
            let nrows = table.rows.len();
            let out = ctx.output(ProductKind::Caltable)?;
            write_caltable(out, &table).map_err(|e| StageError::write(stage, out, e))?;
            report["caltable_rows"] = nrows.into();
            summary["caltable_rows"] = nrows.into();
        }
        summary["timing_s"]["total"] = start.elapsed().as_secs_f64().into();
        write_report(ctx.output(ProductKind::Report)?, &report)?;
        Ok(StageOutput {
            summary: Some(summary),
        })
    }
}

/// Write the report as indented JSON, except `diagnostics`, whose spectra stay on one line
/// (indenting every channel value would make the file several times larger).
fn write_report(path: &std::path::Path, report: &Value) -> Result<(), StageError> {
    const MARK: &str = "@@almacal-renorm-diagnostics@@";
    let mut outer = report.clone();
    let diag = match outer.get_mut("diagnostics") {
        Some(d) => std::mem::replace(d, Value::from(MARK)),
        None => Value::Null,
    };
    let pretty = serde_json::to_string_pretty(&outer).map_err(|e| io_err(path, e))?;
    let compact = serde_json::to_string(&diag).map_err(|e| io_err(path, e))?;
    let text = pretty.replacen(&format!("\"{MARK}\""), &compact, 1);
    std::fs::write(path, text + "\n").map_err(|e| io_err(path, e))
}

/// `x` rounded to [`DIAG_DIGITS`] significant digits (NaN stays NaN: `null` in JSON).
fn round_sig(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    format!("{x:.*e}", DIAG_DIGITS - 1).parse().unwrap_or(x)
}

/// Significant digits of the diagnostic spectra in the report.
const DIAG_DIGITS: usize = 6;

/// The diagnostic of one spw (its scan/field of maximum scaling) for the report's
/// `diagnostics.<spw>`: per antenna and correlation the ratio spectrum and its fitted
/// baseline (`null` where excluded or flagged), with the channel frequencies and threshold.
fn diagnostic_json(meta: &MsMeta, ac: &read::AcData, best: &Computed, threshold: f64) -> Value {
    let r = &best.result;
    let (npol, nant, nchan) = r.ratio_pac.dim();
    let cube = |a: &ndarray::Array3<f64>| -> Vec<Vec<Vec<f64>>> {
        (0..nant)
            .map(|ant| {
                (0..npol)
                    .map(|p| (0..nchan).map(|c| round_sig(a[[p, ant, c]])).collect())
                    .collect()
            })
            .collect()
    };
    let corr_names: Vec<String> = ac
        .pols
        .get(&best.spw)
        .map(|v| v.iter().map(|c| c.name()).collect())
        .unwrap_or_else(|| (0..npol).map(|p| format!("corr {p}")).collect());
    json!({
        "field": meta.fields.get(best.field as usize).map_or_else(|| best.field.to_string(), |f| f.name.clone()),
        "field_id": best.field,
        "scan": best.scan,
        "scaling": r.scaling,
        "threshold": threshold,
        "tsys_template_power": r.template_power,
        "corr_names": corr_names,
        "antennas": (0..nant).map(|a| meta.antennas.get(a).map_or_else(|| a.to_string(), |x| x.name.clone())).collect::<Vec<_>>(),
        "freq_hz": meta.spws.get(best.spw as usize).map(|w| w.chan_freq_hz.clone()).unwrap_or_default(),
        "ratio": cube(&r.ratio_pac),
        "baseline": cube(&r.baseline_pac),
    })
}

/// Rewrite the previous products unchanged (a partial rerun that touches none of the
/// stage's spws).
fn keep_previous(
    ctx: &StageContext<'_>,
    prev: partial::Previous,
) -> Result<StageOutput, StageError> {
    let stage = &ctx.stage.name;
    if let Some(old) = ctx
        .partial
        .as_ref()
        .and_then(|p| p.previous.get(&ProductKind::Caltable))
    {
        let mut t = almacal_casa::caltable::read_caltable(old).map_err(|e| casa_err(stage, e))?;
        t.rows = prev.rows;
        let out = ctx.output(ProductKind::Caltable)?;
        write_caltable(out, &t).map_err(|e| StageError::write(stage, out, e))?;
    }
    write_report(ctx.output(ProductKind::Report)?, &prev.report)?;
    Ok(StageOutput {
        summary: ctx
            .partial
            .as_ref()
            .and_then(|p| p.previous_summary.clone()),
    })
}

/// The `B TSYS` table: N for marked spws, 1.0 rows for the rest with `fill_table`.
fn caltable(
    ctx: &StageContext<'_>,
    meta: &MsMeta,
    plan: &Plan,
    ac: &read::AcData,
    computed: &[Computed],
    marked: &BTreeSet<u32>,
    fill_table: bool,
) -> Result<CalTable, StageError> {
    let stage = &ctx.stage.name;
    let v = vis(ctx)?;
    let mut sub = CalSubtables::from_ms(&v.path, false).map_err(|e| casa_err(stage, e))?;
    for w in &mut sub.spws {
        w.flag_row = false;
    }
    let by_key: BTreeMap<(u32, i32, u32), &ScanRenorm> = computed
        .iter()
        .map(|c| ((c.spw, c.scan, c.field), &c.result))
        .collect();
    let nant = meta.antennas.len();
    let mut rows = Vec::new();
    for &(spw, scan, field) in ac.target.keys() {
        if !plan.spws.contains(&spw) {
            continue;
        }
        let is_marked = marked.contains(&spw);
        if !is_marked && !fill_table {
            continue;
        }
        let nchan = meta.spws[spw as usize].nchan();
        let time_s = ac.scan_time(scan).unwrap_or(0.0);
        let n = by_key.get(&(spw, scan, field)).filter(|_| is_marked);
        for a in 0..nant {
            let par = Array2::from_shape_fn((2, nchan), |(pp, c)| match n {
                Some(r) if pp < r.n_pac.dim().0 => r.n_pac[[pp, a, c]] as f32,
                _ => 1.0,
            });
            rows.push(CalRow {
                time_s,
                field_id: field as i32,
                spw_id: spw as i32,
                antenna1: a as i32,
                antenna2: -1,
                interval_s: 0.0,
                scan,
                obs_id: 0,
                params: CalParams::Float(par),
                paramerr: Array2::from_elem((2, nchan), 0.1),
                flag: Array2::from_elem((2, nchan), false),
                snr: Array2::from_elem((2, nchan), 1.0),
                weight: Some(Array2::from_elem((2, nchan), 1.0)),
            });
        }
    }
    sub.history = provenance(ctx).history_rows(now_mjd_s());
    Ok(CalTable {
        keywords: CalKeywords {
            par_type: ParType::Float,
            ms_name: file_name(&v.path),
            viscal: "B TSYS".into(),
            pol_basis: "unknown".into(),
            casa_version: CASA_VERSION.into(),
        },
        rows,
        sub,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_keeps_diagnostic_spectra_on_one_line_and_rounds_them() {
        assert_eq!(round_sig(1.234_567_89), 1.234_57);
        assert_eq!(round_sig(0.000_123_456_78), 0.000_123_457);
        assert!(round_sig(f64::NAN).is_nan());
        let report = json!({
            "threshold": 1.02,
            "diagnostics": {"16": {"ratio": [[[1.5, round_sig(f64::NAN), 1.25]]]}},
        });
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("renorm.json");
        write_report(&path, &report).expect("write");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains("[[[1.5,null,1.25]]]"), "{text}");
        assert!(text.contains("\n  \"threshold\": 1.02"), "{text}");
        let back: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(back["diagnostics"]["16"]["ratio"][0][0][1], Value::Null);
        assert_eq!(back["threshold"], json!(1.02));
    }
}
