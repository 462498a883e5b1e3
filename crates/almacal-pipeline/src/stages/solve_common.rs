//! What `gaincal` and `bandpass` share (algorithms.md §1–2, §7): parameter reading, the
//! data path of a solve (selection + flag layers → pre-applied `gaintable`s with their
//! `gainfield`/`interp`/`spwmap` and calwt weights → division by the setjy model → weighted
//! accumulation per solution interval), the rayon-parallel solve over independent cells
//! (bit-identical for any thread count), post-solve processing, and writing the CASA
//! caltable with provenance in HISTORY. Also the loader that turns a G/T/B caltable into an
//! applicable [`JonesTerm`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use almacal_casa::caltable::{
    read_caltable, write_caltable, CalKeywords, CalParams, CalRow, CalSubtables, CalTable, ParType,
    Provenance, CASA_VERSION,
};
use almacal_casa::meta_read::read_meta_with_index;
use almacal_casa::reader::{spawn_reader, ReadRequest};
use almacal_casa::selection::{empty_selection_error, Selection, SelectionParams};
use almacal_casa::table::RoTable;
use almacal_core::flaglayer::FlagLayer;
use almacal_core::ids::DataDescId;
use almacal_core::{CorrType, MsMeta};
use almacal_recipe::{ParamValue, ProductKind};
use almacal_solve::accumulate::{corr_or_flags, Accumulator, RowIn, RowWeight};
use almacal_solve::apply::{apply_chunk, ApplyMode, ChunkInfo, Outcome, Term};
use almacal_solve::bandpass::channel_bins;
use almacal_solve::gain::{corr_pars, CalMode, JonesKind, SolverOptions};
use almacal_solve::postsolve::{post_solve, NormType, PostSolve};
use almacal_solve::refant::{RefantMode, RefantPlan};
use almacal_solve::solint::{
    bin_channels, grid_intervals, single_channel, Combine, FreqSolint, Solint, TimeSample,
    TimeSolint,
};
use almacal_solve::solution::{solve_cells, CellInput, CellMeta, SolutionCell};
use ndarray::{Array2, Axis};
use num_complex::Complex32;
use serde_json::json;

use super::apply_terms::{load_term, LoadedTerm, SpwMapSpec, TableSpec};
use super::model::{model_fc, ModelSet};
use crate::executor::{PartialMode, StageContext, StageError, StageOutput, VisInput};

// ---------------------------------------------------------------------------------------
// Parameters

/// A string parameter ("" when absent).
pub fn param_str<'a>(ctx: &'a StageContext<'_>, name: &str) -> &'a str {
    ctx.param_str(name).unwrap_or("")
}

/// A boolean parameter with a default.
pub fn param_bool(ctx: &StageContext<'_>, name: &str, default: bool) -> bool {
    ctx.param(name)
        .and_then(ParamValue::as_bool)
        .unwrap_or(default)
}

/// A number parameter with a default.
pub fn param_f64(ctx: &StageContext<'_>, name: &str, default: f64) -> f64 {
    ctx.param(name)
        .and_then(ParamValue::as_f64)
        .unwrap_or(default)
}

/// A list of numbers (a scalar reads as a one-element list).
pub fn float_list(ctx: &StageContext<'_>, name: &str) -> Vec<f64> {
    match ctx.param(name) {
        Some(ParamValue::List(l)) => l.iter().filter_map(ParamValue::as_f64).collect(),
        Some(v) => v.as_f64().into_iter().collect(),
        None => Vec::new(),
    }
}

/// A list of strings (a scalar string reads as a one-element list).
pub fn str_list(ctx: &StageContext<'_>, name: &str) -> Vec<String> {
    match ctx.param(name) {
        Some(ParamValue::List(l)) => l
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(ParamValue::Str(s)) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// The stage's vis, or an error naming the stage.
fn fail(ctx: &StageContext<'_>, msg: impl std::fmt::Display) -> StageError {
    super::prep_common::failed(&ctx.stage.name, msg)
}

fn invalid(ctx: &StageContext<'_>, msg: impl std::fmt::Display) -> StageError {
    super::prep_common::casa_err(&ctx.stage.name, msg)
}

/// CASA selection parameters of a solve stage (`selectdata = false` selects everything).
pub fn selection_params(ctx: &StageContext<'_>) -> Result<SelectionParams, StageError> {
    if !param_str(ctx, "msselect").trim().is_empty() {
        return Err(fail(
            ctx,
            "msselect (TaQL) is not supported; use field/spw/scan/antenna/intent/timerange/uvrange",
        ));
    }
    if !param_bool(ctx, "selectdata", true) {
        return Ok(SelectionParams::default());
    }
    Ok(SelectionParams {
        field: param_str(ctx, "field").into(),
        spw: param_str(ctx, "spw").into(),
        antenna: param_str(ctx, "antenna").into(),
        scan: param_str(ctx, "scan").into(),
        intent: param_str(ctx, "intent").into(),
        timerange: param_str(ctx, "timerange").into(),
        uvrange: param_str(ctx, "uvrange").into(),
        observation: param_str(ctx, "observation").into(),
        ..Default::default()
    })
}

/// Decode the upstream flag layers of a vis (shared with flagdata/applycal).
pub fn load_flag_layers(vis: &VisInput) -> Result<Vec<Arc<FlagLayer>>, StageError> {
    super::flag_layers::load_layers(vis, None)
}

/// Antenna indices of a `refant` list: each token is an antenna NAME, else a row id.
pub fn resolve_refants(meta: &MsMeta, refant: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for tok in refant.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let by_name = meta.antennas.iter().position(|a| a.name == tok);
        let by_station = || meta.antennas.iter().position(|a| a.station == tok);
        let by_id = || {
            tok.parse::<usize>()
                .ok()
                .filter(|&i| i < meta.antennas.len())
        };
        match by_name.or_else(by_station).or_else(by_id) {
            Some(i) => out.push(i),
            None => {
                let names: Vec<&str> = meta.antennas.iter().map(|a| a.name.as_str()).collect();
                return Err(format!(
                    "refant {tok:?} is not an antenna of this MS (antennas: {})",
                    names.join(", ")
                ));
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Pre-application

/// One `spwmap` entry of a table.
fn spwmap_entry(ctx: &StageContext<'_>, k: usize, table: &str) -> Result<SpwMapSpec, StageError> {
    let Some(ParamValue::List(entries)) = ctx.param("spwmap") else {
        return Ok(SpwMapSpec::Identity);
    };
    match entries.get(k) {
        None => Ok(SpwMapSpec::Identity),
        Some(ParamValue::Str(s)) if s.is_empty() => Ok(SpwMapSpec::Identity),
        Some(ParamValue::Str(s)) if s == "auto" => Ok(SpwMapSpec::Auto),
        Some(ParamValue::List(ids)) if ids.is_empty() => Ok(SpwMapSpec::Identity),
        Some(ParamValue::List(ids)) => Ok(SpwMapSpec::Map(
            ids.iter()
                .filter_map(ParamValue::as_i64)
                .map(|i| i.max(0) as u32)
                .collect(),
        )),
        Some(other) => Err(fail(
            ctx,
            format!(
                "spwmap entry {} for {table} is not a list of spw ids",
                other.to_compact()
            ),
        )),
    }
}

/// The pre-applied `gaintable`s of a solve stage (always calwt = True, like CASA's solve
/// tasks; KAntPos never scales weights), with their calwt flags.
fn preapply_terms(ctx: &StageContext<'_>, meta: &MsMeta) -> Result<Vec<LoadedTerm>, StageError> {
    let tables = str_list(ctx, "gaintable");
    let gainfield = str_list(ctx, "gainfield");
    let interp = str_list(ctx, "interp");
    let mut out = Vec::new();
    for (k, name) in tables.iter().enumerate() {
        let path = ctx.caltable(name).ok_or_else(|| {
            fail(
                ctx,
                format!("gaintable {name:?} was not resolved to a caltable"),
            )
        })?;
        let spec = TableSpec {
            written: name.clone(),
            path: path.to_path_buf(),
            gainfield: gainfield.get(k).cloned().unwrap_or_default(),
            interp: interp.get(k).cloned().unwrap_or_default(),
            spwmap: spwmap_entry(ctx, k, name)?,
            calwt: true,
        };
        out.push(load_term(&spec, meta).map_err(|e| fail(ctx, e))?);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// The solve

/// Options of one gaincal/bandpass solve.
#[derive(Debug, Clone)]
pub struct SolveConfig {
    pub kind: JonesKind,
    pub calmode: CalMode,
    pub solint: Solint,
    pub combine: Combine,
    pub refant: String,
    pub refantmode: RefantMode,
    pub minblperant: usize,
    pub minsnr: f64,
    pub solnorm: Option<NormType>,
    pub fillgaps: usize,
}

impl SolveConfig {
    /// The options common to gaincal and bandpass, read from the stage parameters.
    pub fn from_ctx(ctx: &StageContext<'_>, kind: JonesKind) -> Result<Self, StageError> {
        let calmode = CalMode::parse(param_str(ctx, "calmode")).ok_or_else(|| {
            fail(
                ctx,
                format!("calmode {:?} is not ap, p or a", param_str(ctx, "calmode")),
            )
        })?;
        let solint_s = ctx.param_str("solint").unwrap_or("inf");
        let solint = Solint::parse(solint_s).map_err(|e| fail(ctx, e))?;
        let combine =
            Combine::parse(&str_list(ctx, "combine").join(",")).map_err(|e| fail(ctx, e))?;
        let refantmode = match param_str(ctx, "refantmode") {
            "strict" => RefantMode::Strict,
            _ => RefantMode::Flex,
        };
        let solnorm = param_bool(ctx, "solnorm", false).then(|| {
            if param_str(ctx, "normtype") == "median" {
                NormType::Median
            } else {
                NormType::Mean
            }
        });
        let minblperant = param_f64(ctx, "minblperant", 4.0);
        if minblperant < 0.0 {
            return Err(fail(ctx, "minblperant must be >= 0"));
        }
        Ok(Self {
            kind,
            calmode,
            solint,
            combine,
            refant: param_str(ctx, "refant").to_string(),
            refantmode,
            minblperant: minblperant as usize,
            minsnr: param_f64(ctx, "minsnr", 3.0),
            solnorm,
            fillgaps: param_f64(ctx, "fillgaps", 0.0).max(0.0) as usize,
        })
    }
}

type SampleKey = (u64, i32, i32, i32, u32);

/// gaincal/bandpass solve each spw independently (solution intervals, reference antenna,
/// solnorm and fillgaps are per spw) unless `combine` includes spw or a pre-applied
/// table is mapped across spws (`spwmap`); then a change upstream that touches some spws
/// reruns only those and keeps the other spws' rows of the previous table.
pub fn solve_partial_mode(stage: &almacal_recipe::Stage) -> PartialMode {
    let has_text = |v: &ParamValue, pat: &str| v.to_compact().to_ascii_lowercase().contains(pat);
    let combine_spw = stage
        .params
        .get("combine")
        .is_some_and(|v| has_text(v, "spw"));
    let spwmap = match stage.params.get("spwmap") {
        None => false,
        Some(ParamValue::List(items)) => items.iter().any(|e| match e {
            ParamValue::List(inner) => !inner.is_empty(),
            ParamValue::Str(s) => !s.trim().is_empty(),
            _ => true,
        }),
        Some(ParamValue::Str(s)) => !s.trim().is_empty(),
        Some(_) => true,
    };
    // An appending solve rewrites the earlier table's rows with its own: never partial.
    let appends = stage.params.contains_key("append_to");
    if combine_spw || spwmap || appends {
        PartialMode::No
    } else {
        PartialMode::Merge
    }
}

/// Caltable rows in almacal's canonical order (time, spw, field, scan, obs, antenna), so
/// that a partial rerun's merged table equals a whole rerun's.
fn sort_rows(rows: &mut [CalRow]) {
    rows.sort_by(|a, b| {
        a.time_s
            .total_cmp(&b.time_s)
            .then(a.spw_id.cmp(&b.spw_id))
            .then(a.field_id.cmp(&b.field_id))
            .then(a.scan.cmp(&b.scan))
            .then(a.obs_id.cmp(&b.obs_id))
            .then(a.antenna1.cmp(&b.antenna1))
    });
}

/// Run a gaincal/bandpass solve and write the caltable product.
pub fn run_solve(ctx: &StageContext<'_>, cfg: &SolveConfig) -> Result<StageOutput, StageError> {
    let vis = super::prep_common::vis(ctx)?;
    let ms = vis.path.as_path();
    let (meta, idx) = read_meta_with_index(ms)
        .map_err(|e| invalid(ctx, format!("cannot read {}: {e}", ms.display())))?;
    let sel_params = selection_params(ctx)?;
    let sel = Selection::resolve(&meta, &sel_params)
        .map_err(|e| StageError::selection(&ctx.stage.name, e))?;

    // Pass 1 (scalar columns only): the integrations and their solution intervals.
    let rows = if sel.needs_uvw() {
        let mut main = RoTable::open(ms).map_err(|e| invalid(ctx, e))?;
        sel.select_rows(&idx, |r| {
            main.cell_vec::<f64>("UVW", r as u64)
                .ok()
                .filter(|v| v.len() == 3)
                .map(|v| [v[0], v[1], v[2]])
        })
    } else {
        sel.select_rows(&idx, |_| None)
    };
    // A solve needs cross-correlations: a selection of autocorrelations only (`!*` keeps
    // them, `CM01&&&`) selects nothing it can use.
    if !rows
        .iter()
        .any(|&r| idx.ant1[r as usize] != idx.ant2[r as usize])
    {
        let cross_only = !rows.is_empty();
        return Err(StageError::selection(
            &ctx.stage.name,
            empty_selection_error(&meta, &idx, &sel_params, ms, cross_only),
        ));
    }
    let spw_of_dd = |dd: i32| -> Option<u32> {
        meta.data_desc(DataDescId(dd.max(0) as u32))
            .map(|d| d.spw.0)
    };
    let mut samples: Vec<TimeSample> = Vec::new();
    let mut sample_of: HashMap<SampleKey, usize> = HashMap::new();
    for &r in &rows {
        let r = r as usize;
        let Some(spw) = spw_of_dd(idx.dd[r]) else {
            continue;
        };
        let key = (
            idx.time_s[r].to_bits(),
            idx.obs[r],
            idx.scan[r],
            idx.field[r],
            spw,
        );
        sample_of.entry(key).or_insert_with(|| {
            samples.push(TimeSample {
                time_s: idx.time_s[r],
                obs: idx.obs[r],
                scan: idx.scan[r],
                field: idx.field[r],
                spw: spw as i32,
            });
            samples.len() - 1
        });
    }
    let intervals = grid_intervals(&samples, cfg.solint.time, cfg.combine);
    let mut interval_of = vec![usize::MAX; samples.len()];
    for (k, iv) in intervals.iter().enumerate() {
        for &s in &iv.samples {
            interval_of[s] = k;
        }
        if cfg.kind == JonesKind::B && iv.spws.len() > 1 {
            return Err(fail(ctx, "combine = \"spw\" is not supported for bandpass"));
        }
    }

    // Pre-applied tables and models.
    let terms = preapply_terms(ctx, &meta)?;
    let term_refs: Vec<(&dyn Term, bool)> =
        terms.iter().map(|t| (t.term.as_ref(), t.calwt)).collect();
    let models = ModelSet::load(&vis.models)?;

    // Channel bins per spw (selected channels → solution channels).
    struct SpwBins {
        nbins: usize,
        map: Vec<Option<usize>>,
        freq_hz: Vec<f64>,
        sol_freq_hz: Vec<f64>,
        sol_width_hz: Vec<f64>,
    }
    let mut spw_bins: BTreeMap<u32, SpwBins> = BTreeMap::new();
    let bins_for = |spw_bins: &mut BTreeMap<u32, SpwBins>, spw: u32| -> Result<(), StageError> {
        if spw_bins.contains_key(&spw) {
            return Ok(());
        }
        let w = meta
            .spws
            .get(spw as usize)
            .ok_or_else(|| invalid(ctx, format!("spw {spw} has no SPECTRAL_WINDOW row")))?;
        let chans = sel.chans_of(&meta, spw);
        let freq_hz: Vec<f64> = chans.iter().map(|&c| w.chan_freq_hz[c]).collect();
        let width_hz: Vec<f64> = chans.iter().map(|&c| w.chan_width_hz[c]).collect();
        let b = if cfg.kind == JonesKind::B {
            let (bins, map) = channel_bins(
                chans.len(),
                cfg.solint.freq,
                width_hz.first().copied().unwrap_or(0.0),
            );
            let sc = bin_channels(&freq_hz, &width_hz, &bins);
            SpwBins {
                nbins: bins.len(),
                map,
                sol_freq_hz: sc.iter().map(|s| s.freq_hz).collect(),
                sol_width_hz: sc.iter().map(|s| s.width_hz).collect(),
                freq_hz,
            }
        } else {
            let sc = single_channel(&freq_hz, &width_hz);
            SpwBins {
                nbins: 1,
                map: vec![Some(0); chans.len()],
                sol_freq_hz: vec![sc.freq_hz],
                sol_width_hz: vec![sc.width_hz],
                freq_hz,
            }
        };
        spw_bins.insert(spw, b);
        Ok(())
    };

    // Pass 2: stream the data through pre-application, model division and accumulation.
    let only_spws = ctx.partial.as_ref().map(|p| p.spws.clone());
    let any_to_read = only_spws.as_ref().is_none_or(|keep| {
        rows.iter()
            .any(|&r| spw_of_dd(idx.dd[r as usize]).is_some_and(|s| keep.contains(&s)))
    });
    let mut req = ReadRequest::new(ms);
    req.selection = sel_params.clone();
    req.flag_layers = load_flag_layers(vis)?;
    req.only_spws = only_spws.clone();
    let stream = if any_to_read {
        Some(spawn_reader(req, 2).map_err(|e| invalid(ctx, e))?)
    } else {
        None
    };
    let nant = meta.antennas.len();
    // CASA averages channels into bins (and reports a bin-mean row weight) unless the
    // bandpass is solved per channel.
    let row_weight = if cfg.kind == JonesKind::B && cfg.solint.freq == FreqSolint::PerChannel {
        RowWeight::Plain
    } else {
        RowWeight::BinMean
    };
    let mut accs: Vec<Option<Accumulator>> = (0..intervals.len()).map(|_| None).collect();
    let mut iv_corrs: Vec<Option<Vec<CorrType>>> = vec![None; intervals.len()];
    let mut uncalibratable = 0usize;
    let mut rows_done = 0u64;
    for chunk in stream.into_iter().flatten() {
        let mut chunk = chunk.map_err(|e| invalid(ctx, e))?;
        let spw = chunk.spw.0;
        bins_for(&mut spw_bins, spw)?;
        let bins = &spw_bins[&spw];
        let corrs: Vec<CorrType> = chunk
            .corrs
            .iter()
            .map(|&c| meta.corrs_of(chunk.dd)[c])
            .collect();
        let field = chunk.field.0;
        let chan_freq: Vec<f64> = bins.freq_hz.clone();
        // CASA's corrDepFlags=False on the MS flags, before pre-applied tables add their own
        // (per-correlation) flags.
        corr_or_flags(&mut chunk.flag_rcf);
        // CASA's solvers weight by 1/SIGMA² (times calwt factors), never by WEIGHT.
        for (w, s) in chunk.weight_rc.iter_mut().zip(chunk.sigma_rc.iter()) {
            *w = if *s > 0.0 { 1.0 / (s * s) } else { 0.0 };
        }
        if !term_refs.is_empty() {
            let dir = meta
                .fields
                .get(field as usize)
                .map_or((0.0, 0.0), |f| (f.ra_rad, f.dec_rad));
            let info = ChunkInfo {
                spw,
                field,
                chan_freq_hz: &chan_freq,
                corrs: &corrs,
                field_dir_rad: dir,
            };
            if apply_chunk(&term_refs, &mut chunk, &info, ApplyMode::CalFlag)
                == Outcome::Uncalibratable
            {
                uncalibratable += 1;
                continue;
            }
        }
        let model = models.get(field, spw).map(|m| {
            let all = &meta.spws[spw as usize].chan_freq_hz;
            model_fc(m, &chan_freq, all, &corrs)
        });
        let parallel: Vec<bool> = corrs.iter().map(|c| c.is_parallel()).collect();
        let nchan = chunk.chans.len();
        for r in 0..chunk.nrows() {
            let row = chunk.rows[r] as usize;
            let key = (
                chunk.time_s[r].to_bits(),
                idx.obs[row],
                chunk.scan,
                field as i32,
                spw,
            );
            let Some(&s) = sample_of.get(&key) else {
                continue;
            };
            let iv = interval_of[s];
            if iv == usize::MAX {
                continue;
            }
            let acc = accs[iv].get_or_insert_with(|| {
                Accumulator::new(nant, bins.nbins, parallel.clone())
                    .with_row_weight(row_weight)
                    .with_phase_stamp(cfg.calmode == CalMode::Phase)
                    .with_separate_groups(cfg.combine.spw)
                    .with_casa_int_stamp(cfg.solint.time == TimeSolint::Int)
            });
            if iv_corrs[iv].is_none() {
                iv_corrs[iv] = Some(corrs.clone());
            }
            let wrow = chunk.weight_rc.row(r);
            let Some(w) = wrow.broadcast((nchan, corrs.len())) else {
                continue;
            };
            acc.add_row(RowIn {
                a1: chunk.ant1[r].idx(),
                a2: chunk.ant2[r].idx(),
                time_s: chunk.time_s[r],
                time_centroid_s: idx
                    .time_centroid_s
                    .get(row)
                    .copied()
                    .unwrap_or(chunk.time_s[r]),
                group: spw,
                data_fc: chunk.data_rcf.index_axis(Axis(0), r),
                flag_fc: chunk.flag_rcf.index_axis(Axis(0), r),
                weight_fc: w,
                model_fc: model.as_ref().map(|m| m.view()),
                chan_bin: &bins.map,
            });
        }
        rows_done += chunk.nrows() as u64;
        ctx.progress(rows_done, rows.len() as u64);
    }

    // Solve every interval (in parallel; each cell's result is independent of threads).
    let mut inputs = Vec::new();
    for (k, acc) in accs.into_iter().enumerate() {
        let Some(acc) = acc else { continue };
        let avg = acc.finish();
        if avg.weight_bfc.iter().all(|w| *w <= 0.0) {
            continue;
        }
        let iv = &intervals[k];
        let spw = iv.spws.first().copied().unwrap_or(iv.spw);
        let corrs = iv_corrs[k].clone().unwrap_or_default();
        inputs.push(CellInput {
            meta: CellMeta {
                time_s: avg.time_centroid_s,
                obs: iv.obs,
                scan: iv.scan,
                field: iv.field,
                spw,
            },
            avg,
            corr_pars: corr_pars(cfg.kind, &corrs),
        });
    }
    let refants = resolve_refants(&meta, &cfg.refant).map_err(|e| fail(ctx, e))?;
    let positions: Vec<[f64; 3]> = meta.antennas.iter().map(|a| a.position_m).collect();
    let plan = if refants.is_empty() {
        None
    } else {
        Some(
            RefantPlan::new(refants.clone(), &positions, cfg.refantmode)
                .map_err(|e| fail(ctx, e))?,
        )
    };
    let mut opts = SolverOptions::new(cfg.kind, cfg.calmode);
    opts.minblperant = cfg.minblperant;
    opts.minsnr = cfg.minsnr;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(ctx.threads.max(1))
        .build()
        .map_err(|e| fail(ctx, format!("cannot start the solver threads: {e}")))?;
    let mut cells = pool.install(|| solve_cells(&inputs, &opts, refants.first().copied()));
    post_solve(
        &mut cells,
        &PostSolve {
            kind: cfg.kind,
            calmode: cfg.calmode,
            refant: plan,
            solnorm: cfg.solnorm,
            fillgaps: cfg.fillgaps,
        },
    );

    // The caltable.
    let mut sub = CalSubtables::from_ms(ms, cfg.kind != JonesKind::B).map_err(|e| {
        invalid(
            ctx,
            format!("cannot copy subtables of {}: {e}", ms.display()),
        )
    })?;
    let solved_spws: BTreeSet<i32> = cells.iter().map(|c| c.meta.spw).collect();
    for &s in &solved_spws {
        let Some(b) = spw_bins.get(&(s as u32)) else {
            continue;
        };
        if let Some(w) = sub.spws.get_mut(s as usize) {
            *w = w.solved(&b.sol_freq_hz, &b.sol_width_hz);
        }
    }
    sub.history = provenance(ctx).history_rows(now_mjd_s());
    let mut rows = cells_to_rows(&cells);
    if let (Some(keep_new), Some(p)) = (&only_spws, &ctx.partial) {
        // Partial rerun: the other spws' rows and SPECTRAL_WINDOW rows as they were.
        let prev_path = p
            .previous
            .get(&ProductKind::Caltable)
            .ok_or_else(|| fail(ctx, "partial rerun without the previous caltable"))?;
        let prev = read_caltable(prev_path).map_err(|e| {
            fail(
                ctx,
                format!("cannot read the previous {}: {e}", prev_path.display()),
            )
        })?;
        let new_spw = |s: i32| u32::try_from(s).is_ok_and(|s| keep_new.contains(&s));
        rows.extend(prev.rows.into_iter().filter(|r| !new_spw(r.spw_id)));
        for (i, w) in prev.sub.spws.into_iter().enumerate() {
            if !new_spw(i as i32) {
                if let Some(slot) = sub.spws.get_mut(i) {
                    *slot = w;
                }
            }
        }
    }
    sort_rows(&mut rows);
    let solved_spws: BTreeSet<i32> = rows.iter().map(|r| r.spw_id).collect();
    let nflag: usize = rows
        .iter()
        .map(|r| r.flag.iter().filter(|f| **f).count())
        .sum();
    let ntot: usize = rows.iter().map(|r| r.flag.len()).sum();
    if nflag == ntot {
        // An empty (or wholly flagged) caltable would flag or pass through everything it
        // is applied to: never write one.
        return Err(fail(
            ctx,
            format!(
                "no unflagged solution from {} (selection: {}): the selected data are all flagged, or have too few baselines or too low SNR (minblperant = {}, minsnr = {}); no caltable written",
                ms.display(),
                if sel_params.describe().is_empty() { "everything".to_string() } else { sel_params.describe() },
                cfg.minblperant,
                cfg.minsnr
            ),
        ));
    }
    let nintervals = rows
        .iter()
        .map(|r| (r.time_s.to_bits(), r.spw_id, r.field_id, r.scan, r.obs_id))
        .collect::<BTreeSet<_>>()
        .len();
    let mut table = CalTable {
        keywords: CalKeywords {
            par_type: ParType::Complex,
            ms_name: ms.file_name().map_or_else(
                || ms.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            viscal: cfg.kind.viscal().into(),
            pol_basis: "unknown".into(),
            casa_version: CASA_VERSION.into(),
        },
        rows,
        sub,
    };
    let appended_to = match ctx.param_str("append_to") {
        Some(name) if !name.is_empty() => {
            append_to_table(ctx, name, &mut table)?;
            Some(name.to_string())
        }
        _ => None,
    };
    let out = ctx.output(ProductKind::Caltable)?;
    write_caltable(out, &table).map_err(|e| StageError::write(&ctx.stage.name, out, e))?;
    let max_iter = cells
        .iter()
        .flat_map(|c| c.convergence.iter().map(|v| v.iterations))
        .max()
        .unwrap_or(0);
    Ok(StageOutput {
        summary: Some(json!({
            "solution_intervals": nintervals,
            "rows": table.rows.len(),
            "solutions": ntot,
            "flagged_solutions": nflag,
            "spws": solved_spws,
            "uncalibratable_chunks": uncalibratable,
            "max_iterations": max_iter,
            "appended_to": appended_to,
        })),
    })
}

/// gaincal `append_to`: CASA's `append=True` without changing the earlier table. The new
/// table holds the earlier table's rows and this solve's, in almacal's canonical order
/// (CASA re-sorts an appended table too), the earlier table's SPECTRAL_WINDOW rows where
/// this solve has none, and both histories. The two must be solutions of the same type
/// for the same MS (CASA refuses other appends).
fn append_to_table(
    ctx: &StageContext<'_>,
    name: &str,
    table: &mut CalTable,
) -> Result<(), StageError> {
    let path = ctx.caltable(name).ok_or_else(|| {
        fail(
            ctx,
            format!("append_to: caltable {name:?} is not available"),
        )
    })?;
    let earlier = read_caltable(path).map_err(|e| {
        fail(
            ctx,
            format!("append_to: cannot read {}: {e}", path.display()),
        )
    })?;
    let (a, b) = (&earlier.keywords, &table.keywords);
    if a.viscal != b.viscal || a.par_type != b.par_type {
        return Err(fail(
            ctx,
            format!(
                "append_to: {} holds {:?} solutions, this stage solves {:?}; CASA appends only solutions of the same type",
                path.display(),
                a.viscal,
                b.viscal
            ),
        ));
    }
    let base = |n: &str| {
        std::path::Path::new(n)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
    };
    if base(&a.ms_name) != base(&b.ms_name) || earlier.sub.spws.len() != table.sub.spws.len() {
        return Err(fail(
            ctx,
            format!(
                "append_to: {} was solved on {:?}, this stage on {:?}; append only solutions of the same MeasurementSet",
                path.display(),
                a.ms_name,
                b.ms_name
            ),
        ));
    }
    for (i, r) in table.rows.iter().enumerate() {
        if let Some(e) = earlier
            .rows
            .iter()
            .find(|e| e.spw_id == r.spw_id && e.params.shape() != r.params.shape())
        {
            return Err(fail(
                ctx,
                format!(
                    "append_to: spw {} has {:?} parameters in {} but {:?} here (row {i}); append solutions of the same shape",
                    r.spw_id,
                    e.params.shape(),
                    path.display(),
                    r.params.shape()
                ),
            ));
        }
    }
    for (mine, old) in table.sub.spws.iter_mut().zip(earlier.sub.spws) {
        if mine.flag_row && !old.flag_row {
            *mine = old;
        }
    }
    let mut history = earlier.sub.history;
    history.append(&mut table.sub.history);
    table.sub.history = history;
    table.rows.extend(earlier.rows);
    sort_rows(&mut table.rows);
    Ok(())
}

/// Solution cells → caltable rows (one per cell and antenna).
pub fn cells_to_rows(cells: &[SolutionCell]) -> Vec<CalRow> {
    let mut rows = Vec::new();
    for c in cells {
        let (npar, nchan) = (c.npar(), c.nchan());
        for a in 0..c.nant() {
            rows.push(CalRow {
                time_s: c.meta.time_s,
                field_id: c.meta.field,
                spw_id: c.meta.spw,
                antenna1: a as i32,
                antenna2: c.refant.map_or(-1, |r| r as i32),
                interval_s: 0.0,
                scan: c.meta.scan,
                obs_id: c.meta.obs,
                params: CalParams::Complex(Array2::from_shape_fn((npar, nchan), |(p, ch)| {
                    let z = c.params[[a, p, ch]];
                    Complex32::new(z.re as f32, z.im as f32)
                })),
                paramerr: Array2::from_shape_fn((npar, nchan), |(p, ch)| {
                    c.paramerr[[a, p, ch]] as f32
                }),
                flag: Array2::from_shape_fn((npar, nchan), |(p, ch)| c.flag[[a, p, ch]]),
                snr: Array2::from_shape_fn((npar, nchan), |(p, ch)| c.snr[[a, p, ch]] as f32),
                weight: None,
            });
        }
    }
    rows
}

/// Provenance of a stage for caltable HISTORY.
pub fn provenance(ctx: &StageContext<'_>) -> Provenance {
    Provenance {
        almacal_version: env!("CARGO_PKG_VERSION").into(),
        stage: ctx.stage.name.clone(),
        fingerprint: ctx.fingerprint.clone(),
        params: ctx
            .stage
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.to_compact()))
            .collect(),
    }
}

/// Now as MJD seconds (HISTORY TIME).
pub fn now_mjd_s() -> f64 {
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    unix + 40_587.0 * 86_400.0
}

/// Read a caltable named by a stage parameter.
pub fn read_named_caltable(
    ctx: &StageContext<'_>,
    param: &str,
) -> Result<(String, CalTable, std::path::PathBuf), StageError> {
    let name = param_str(ctx, param).to_string();
    let path: &Path = ctx.caltable(&name).ok_or_else(|| {
        fail(
            ctx,
            format!("{param} {name:?} was not resolved to a caltable"),
        )
    })?;
    let t = read_caltable(path).map_err(|e| {
        invalid(
            ctx,
            format!("cannot read {param} {name:?} ({}): {e}", path.display()),
        )
    })?;
    Ok((name, t, path.to_path_buf()))
}
