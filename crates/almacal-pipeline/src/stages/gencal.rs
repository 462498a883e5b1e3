//! The `gencal` stage: `caltype='tsys'` writes the `B TSYS` table from the vis's SYSCAL
//! `TSYS_SPECTRUM` (algorithms.md §5.1), `caltype='antpos'` the `KAntPos Jones` table
//! (§6.1) from a getantposalma JSON `infile` (`{"data": {name: [x, y, z]}}`, ITRF positions;
//! or `{"offsets": {name: [dx, dy, dz]}}`) and/or explicit `antenna` + `parameter` offsets.
//! Both are written exactly as CASA 6.7 writes them (rows, keywords, SPECTRAL_WINDOW).

use almacal_casa::caltable::{
    write_caltable, CalKeywords, CalParams, CalRow, CalSubtables, CalTable, ParType, CASA_VERSION,
};
use almacal_casa::read_meta;
use almacal_core::meta::MsMeta;
use almacal_recipe::{ParamValue, ProductKind};
use almacal_solve::prep::antpos::{offsets_from_positions, parse_antpos_json, AntposFile};
use almacal_solve::prep::tsys::{fix_syscal_times, tsys_solutions};
use ndarray::Array2;

use super::prep_common::{casa_err, failed, file_name, vis};
use super::solve_common::provenance;
use crate::executor::{StageContext, StageError, StageExecutor, StageOutput};

/// The `gencal` task.
pub struct Gencal;

fn keywords(ctx: &StageContext<'_>, viscal: &str) -> Result<CalKeywords, StageError> {
    Ok(CalKeywords {
        par_type: ParType::Float,
        ms_name: file_name(&vis(ctx)?.path),
        viscal: viscal.into(),
        pol_basis: "unknown".into(),
        casa_version: CASA_VERSION.into(),
    })
}

/// almahelpers' `newinterval` (s): every archive script calls fixsyscaltimes with it.
pub const FIXSYSCALTIMES_INTERVAL_S: f64 = 2.0;

/// The `B TSYS` table of a vis, and what `fixsyscaltimes` did (empty when it is off).
pub fn tsys_table(
    ctx: &StageContext<'_>,
    meta: &MsMeta,
) -> Result<(CalTable, Vec<String>), StageError> {
    let stage = &ctx.stage.name;
    let ms = &vis(ctx)?.path;
    if meta.syscal.is_empty() {
        return Err(StageError::InvalidInput(format!(
            "stage {stage}: {} has no SYSCAL rows with Tsys; gencal caltype='tsys' needs the SYSCAL subtable",
            ms.display()
        )));
    }
    let uniform = ctx
        .param("uniform")
        .and_then(ParamValue::as_bool)
        .unwrap_or(true);
    // almahelpers' fix of overlapping SYSCAL intervals, on a copy (the MS is never written).
    let fix = ctx
        .param("fixsyscaltimes")
        .and_then(ParamValue::as_bool)
        .unwrap_or(false);
    let mut syscal = std::borrow::Cow::Borrowed(&meta.syscal);
    let fixed = if fix {
        fix_syscal_times(syscal.to_mut(), FIXSYSCALTIMES_INTERVAL_S)
    } else {
        Vec::new()
    };
    let sols = tsys_solutions(&syscal, meta.antennas.len(), &meta.scans, uniform);
    let mut sub = CalSubtables::from_ms(ms, false).map_err(|e| casa_err(stage, e))?;
    let mut rows = Vec::with_capacity(sols.len());
    for s in &sols {
        let npol = s.tsys_pc.len();
        let nchan = s.tsys_pc.first().map_or(0, Vec::len);
        if let Some(spw) = sub.spws.get_mut(s.spw as usize) {
            spw.flag_row = false;
        }
        let par = Array2::from_shape_fn((npol, nchan), |(p, c)| s.tsys_pc[p][c]);
        let flag = Array2::from_shape_fn((npol, nchan), |(p, c)| s.flag_pc[p][c]);
        rows.push(CalRow {
            time_s: s.time_s,
            field_id: s.field,
            spw_id: s.spw as i32,
            antenna1: s.antenna as i32,
            antenna2: -1,
            interval_s: 0.0,
            scan: s.scan,
            obs_id: 0,
            params: CalParams::Float(par),
            paramerr: Array2::from_elem((npol, nchan), 0.1),
            flag,
            snr: Array2::from_elem((npol, nchan), 1.0),
            weight: None,
        });
    }
    sub.history = provenance(ctx).history_rows(meta.scans.first().map_or(0.0, |s| s.start_s));
    Ok((
        CalTable {
            keywords: keywords(ctx, "B TSYS")?,
            rows,
            sub,
        },
        fixed,
    ))
}

/// ITRF offsets (m) per MS antenna from the stage's `infile` and/or `antenna`+`parameter`.
pub fn antpos_offsets(
    ctx: &StageContext<'_>,
    meta: &MsMeta,
) -> Result<(Vec<[f64; 3]>, Vec<String>), StageError> {
    let stage = &ctx.stage.name;
    let names: Vec<String> = meta.antennas.iter().map(|a| a.name.clone()).collect();
    let old: Vec<[f64; 3]> = meta.antennas.iter().map(|a| a.position_m).collect();
    let mut offsets = vec![[0.0; 3]; names.len()];
    let mut unknown = Vec::new();
    let mut given = false;
    if let Some(file) = ctx.stage.files.iter().find(|f| f.param == "infile") {
        given = true;
        let bad = |m: String| failed(stage, format!("infile {}: {m}", file.written));
        match parse_antpos_json(&file.content).map_err(bad)? {
            AntposFile::Positions(p) => {
                let (o, u) = offsets_from_positions(&names, &old, &p);
                for (name, x) in names.iter().zip(&o) {
                    if p.iter().any(|(n, _)| n == name) {
                        check_offset(name, x).map_err(bad)?;
                    }
                }
                for (acc, x) in offsets.iter_mut().zip(o) {
                    for k in 0..3 {
                        acc[k] += x[k];
                    }
                }
                unknown.extend(u);
            }
            AntposFile::Offsets(d) => {
                for (name, x) in d {
                    check_offset(&name, &x).map_err(bad)?;
                    match names.iter().position(|n| *n == name) {
                        Some(k) => (0..3).for_each(|j| offsets[k][j] += x[j]),
                        None => unknown.push(name),
                    }
                }
            }
        }
    }
    let params: Vec<f64> = ctx
        .param("parameter")
        .and_then(ParamValue::as_list)
        .map(|l| l.iter().filter_map(ParamValue::as_f64).collect())
        .unwrap_or_default();
    if !params.is_empty() {
        given = true;
        let ants: Vec<&str> = ctx
            .param_str("antenna")
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if ants.is_empty() && params.len() == 3 {
            for o in offsets.iter_mut() {
                (0..3).for_each(|j| o[j] += params[j]);
            }
        } else if params.len() != 3 * ants.len() {
            return Err(failed(
                stage,
                format!(
                    "`parameter` has {} values but `antenna` names {} antennas: give 3 offsets (x, y, z in m) per antenna",
                    params.len(),
                    ants.len()
                ),
            ));
        } else {
            let mut seen = Vec::new();
            for (i, a) in ants.iter().enumerate() {
                let k = names
                    .iter()
                    .position(|n| n == a)
                    .or_else(|| a.parse::<usize>().ok().filter(|&k| k < names.len()))
                    .ok_or_else(|| failed(stage, format!("antenna {a:?} is not in the MS")))?;
                // A repeated antenna keeps its first offsets, as CASA's gencal does
                // (fixtures/caltable_flags: 'CM07,CM03,CM07' gives CM07 the first triple).
                if seen.contains(&k) {
                    continue;
                }
                seen.push(k);
                (0..3).for_each(|j| offsets[k][j] += params[3 * i + j]);
            }
        }
    }
    for (name, x) in names.iter().zip(&offsets) {
        check_offset(name, x).map_err(|m| {
            failed(
                stage,
                format!("`antenna`/`parameter` (with infile, if any): {m}"),
            )
        })?;
    }
    if !given {
        return Err(failed(
            stage,
            "caltype='antpos' needs `infile` (antenna-position JSON) or `antenna` + `parameter`; almacal does not query online databases",
        ));
    }
    Ok((offsets, unknown))
}

/// Largest antenna-position correction accepted, in m: real corrections are at most a few
/// cm (a re-surveyed pad a few m); anything this large is a unit or file error.
pub const MAX_ANTPOS_OFFSET_M: f64 = 1000.0;

/// An offset must be finite and physically plausible (`|offset| < 1 km`).
fn check_offset(antenna: &str, x: &[f64; 3]) -> Result<(), String> {
    let norm = (x[0] * x[0] + x[1] * x[1] + x[2] * x[2]).sqrt();
    if x.iter().all(|v| v.is_finite()) && norm < MAX_ANTPOS_OFFSET_M {
        Ok(())
    } else {
        Err(format!(
            "antenna {antenna}: position offset [{}, {}, {}] m is not plausible (must be finite and shorter than {MAX_ANTPOS_OFFSET_M} m)",
            x[0], x[1], x[2]
        ))
    }
}

/// The `KAntPos Jones` table of a vis.
pub fn antpos_table(
    ctx: &StageContext<'_>,
    meta: &MsMeta,
) -> Result<(CalTable, Vec<String>), StageError> {
    let stage = &ctx.stage.name;
    let ms = &vis(ctx)?.path;
    let (offsets, unknown) = antpos_offsets(ctx, meta)?;
    let mut sub = CalSubtables::from_ms(ms, true).map_err(|e| casa_err(stage, e))?;
    if let Some(s0) = sub.spws.first_mut() {
        s0.flag_row = false;
    }
    let rows = offsets
        .iter()
        .enumerate()
        .map(|(a, o)| CalRow {
            time_s: 0.0,
            field_id: -1,
            spw_id: 0,
            antenna1: a as i32,
            antenna2: -1,
            interval_s: 0.0,
            scan: -1,
            obs_id: 0,
            params: CalParams::Float(Array2::from_shape_fn((3, 1), |(k, _)| o[k] as f32)),
            paramerr: Array2::zeros((3, 1)),
            flag: Array2::from_elem((3, 1), false),
            snr: Array2::from_elem((3, 1), 1.0),
            weight: None,
        })
        .collect();
    sub.history = provenance(ctx).history_rows(meta.scans.first().map_or(0.0, |s| s.start_s));
    Ok((
        CalTable {
            keywords: keywords(ctx, "KAntPos Jones")?,
            rows,
            sub,
        },
        unknown,
    ))
}

impl StageExecutor for Gencal {
    fn algorithm_version(&self) -> u32 {
        // 2: one Tsys slot per SYSCAL TIME (not per start), rows ordered as CASA's.
        2
    }

    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError> {
        let stage = &ctx.stage.name;
        let ms = &vis(ctx)?.path;
        let meta = read_meta(ms).map_err(|e| casa_err(stage, e))?;
        let out = ctx.output(ProductKind::Caltable)?;
        let caltype = ctx.param_str("caltype").unwrap_or("");
        let (table, summary) = match caltype {
            "tsys" => {
                let (t, fixed) = tsys_table(ctx, &meta)?;
                let n = t.rows.len();
                let mut s = serde_json::json!({ "caltype": "tsys", "rows": n });
                if !fixed.is_empty() {
                    s["fixsyscaltimes"] = serde_json::json!(fixed);
                }
                (t, s)
            }
            "antpos" => {
                let (t, unknown) = antpos_table(ctx, &meta)?;
                let max_mm = t
                    .rows
                    .iter()
                    .filter_map(|r| match &r.params {
                        CalParams::Float(a) => Some(a.iter().map(|v| v * v).sum::<f32>().sqrt()),
                        CalParams::Complex(_) => None,
                    })
                    .fold(0.0f32, f32::max)
                    * 1e3;
                (
                    t,
                    serde_json::json!({
                        "caltype": "antpos",
                        "max_offset_mm": max_mm,
                        "antennas_not_in_ms": unknown,
                    }),
                )
            }
            other => {
                return Err(failed(
                    stage,
                    format!("caltype {other:?} is not implemented yet (available: tsys, antpos)"),
                ))
            }
        };
        write_caltable(out, &table).map_err(|e| StageError::write(stage, out, e))?;
        Ok(StageOutput {
            summary: Some(summary),
        })
    }
}
