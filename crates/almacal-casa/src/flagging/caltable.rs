//! flagdata on a calibration table (CASA's `flagdata(vis='x.ms.tsys', ...)`): the modes
//! `manual`, `unflag`, `clip` and `summary` over a [`CalTable`]'s FLAG cells
//! (row × parameter × channel), in memory. Selections use CASA's syntax, resolved against
//! the table's own ANTENNA / FIELD / SPECTRAL_WINDOW subtables and its rows' scans and
//! times; see `fixtures/scenarios/research/flagdata_caltable.md` for CASA's rules.

use std::collections::{BTreeMap, BTreeSet};

use almacal_core::ids::{AntennaId, FieldId, SpwId};
use almacal_core::meta::{
    Antenna, DataDesc, Field, MsMeta, Observation, Polarization, ScanSummary, SpectralWindow,
};

use super::{CommandReport, FlagCommand, FlagCounts, FlagMode, FlagSummary};
use crate::caltable::{CalParams, CalTable};
use crate::selection::{
    resolve_antenna, resolve_field, resolve_scan, resolve_spw, resolve_timerange, SelectionError,
    SelectionParams,
};

/// The caltable's subtables and rows as [`MsMeta`], for CASA's selection resolvers.
pub fn caltable_meta(t: &CalTable, path: &str) -> MsMeta {
    let antennas = t
        .sub
        .antennas
        .iter()
        .enumerate()
        .map(|(i, a)| Antenna {
            id: AntennaId(i as u32),
            name: a.name.clone(),
            station: a.station.clone(),
            position_m: a.position_m,
            dish_diameter_m: a.dish_diameter_m,
            mount: a.mount.clone(),
            flag_row: a.flag_row,
        })
        .collect();
    let spws: Vec<SpectralWindow> = t
        .sub
        .spws
        .iter()
        .enumerate()
        .map(|(i, s)| SpectralWindow {
            id: SpwId(i as u32),
            name: s.name.clone(),
            chan_freq_hz: s.chan_freq_hz.clone(),
            chan_width_hz: s.chan_width_hz.clone(),
            effective_bw_hz: s.effective_bw_hz.clone(),
            resolution_hz: s.resolution_hz.clone(),
            ref_freq_hz: s.ref_frequency_hz,
            total_bw_hz: s.total_bandwidth_hz,
            meas_freq_ref: s.meas_freq_ref,
            net_sideband: s.net_sideband,
            bbc_no: None,
            flag_row: s.flag_row,
        })
        .collect();
    // Only spws that have rows can be selected, as in CASA (the others are not in the
    // table's main rows).
    let used: BTreeSet<i32> = t.rows.iter().map(|r| r.spw_id).collect();
    let data_descs = used
        .iter()
        .filter(|&&s| s >= 0 && (s as usize) < spws.len())
        .enumerate()
        .map(|(i, &s)| DataDesc {
            id: almacal_core::ids::DataDescId(i as u32),
            spw: SpwId(s as u32),
            pol: 0,
            flag_row: false,
        })
        .collect();
    let fields = t
        .sub
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| Field {
            id: FieldId(i as u32),
            name: f.name.clone(),
            code: f.code.clone(),
            ra_rad: f.phase_dir.first().map_or(0.0, |d| d[0]),
            dec_rad: f.phase_dir.first().map_or(0.0, |d| d[1]),
            source_id: f.source_id,
        })
        .collect();
    let observations = t
        .sub
        .observations
        .iter()
        .enumerate()
        .map(|(i, o)| Observation {
            id: i as u32,
            telescope: o.telescope_name.clone(),
            observer: o.observer.clone(),
            project: o.project.clone(),
            time_range_s: o.time_range_s,
        })
        .collect();
    let mut scans: BTreeMap<i32, ScanSummary> = BTreeMap::new();
    for r in &t.rows {
        let s = scans.entry(r.scan).or_insert_with(|| ScanSummary {
            scan: r.scan,
            observation_id: r.obs_id,
            field: FieldId(r.field_id.max(0) as u32),
            start_s: r.time_s,
            end_s: r.time_s,
            nrows: 0,
            spws: Vec::new(),
            intents: Vec::new(),
            intervals_s: Vec::new(),
        });
        s.start_s = s.start_s.min(r.time_s);
        s.end_s = s.end_s.max(r.time_s);
        s.nrows += 1;
        if r.spw_id >= 0 && !s.spws.contains(&SpwId(r.spw_id as u32)) {
            s.spws.push(SpwId(r.spw_id as u32));
        }
    }
    MsMeta {
        path: path.to_string(),
        nrows: t.rows.len() as u64,
        antennas,
        spws,
        pols: vec![Polarization {
            id: 0,
            corr_types: Vec::new(),
        }],
        data_descs,
        fields,
        sources: Vec::new(),
        observations,
        states: Vec::new(),
        scans: scans.into_values().collect(),
        field_nrows: Vec::new(),
        syscal: Vec::new(),
        flag_cmds: Vec::new(),
        data_columns: Vec::new(),
        has_weight_spectrum: false,
    }
}

/// The cells a selection picks in a caltable: rows, and per row the channels and
/// parameters (CASA's "correlations" of a caltable).
#[derive(Debug, Clone, Default)]
pub struct CalCells {
    /// (row, channels, parameters) for each selected row.
    pub rows: Vec<(usize, Vec<usize>, Vec<usize>)>,
}

/// Resolve a selection on a caltable, as CASA does: field, spw (with channels), scan,
/// timerange and antenna only (CASA: "Only field-, spw-, scan-, time- and
/// antenna-selection is supported for CalTables"). `antenna` uses the baseline rules on
/// (ANTENNA1, ANTENNA2): on a gain table referenced to CM12, `antenna = "CM12"` picks every
/// antenna's solutions but CM12's own (ANTENNA1 = ANTENNA2 counts as an autocorrelation).
/// Empty parameters select everything; `correlation` is only for clip (see
/// [`flag_caltable`]). The selection picks every parameter of a row.
///
/// `autocorr` keeps the "autocorrelation" rows only: ANTENNA1 = ANTENNA2 (a gain table's
/// refant row) or ANTENNA2 = −1 (CASA takes −1 as ANTENNA1 here: on a Tsys table that is
/// every row). Channels past a row's last are clipped to it, as CASA does (with a warning).
pub fn select_cells(
    t: &CalTable,
    meta: &MsMeta,
    p: &SelectionParams,
    autocorr: bool,
) -> Result<CalCells, SelectionError> {
    for (name, expr) in [
        ("intent", &p.intent),
        ("uvrange", &p.uvrange),
        ("observation", &p.observation),
    ] {
        if !expr.trim().is_empty() {
            return Err(SelectionError::new(
                name,
                expr,
                "only field, spw, scan, timerange and antenna selections apply to a caltable (as in CASA)".to_string(),
            ));
        }
    }
    let fields = (!p.field.trim().is_empty())
        .then(|| resolve_field(meta, &p.field))
        .transpose()?;
    let scans = (!p.scan.trim().is_empty())
        .then(|| resolve_scan(meta, &p.scan))
        .transpose()?;
    let spws = (!p.spw.trim().is_empty())
        .then(|| resolve_spw(meta, &p.spw))
        .transpose()?;
    let ants = (!p.antenna.trim().is_empty())
        .then(|| resolve_antenna(meta, &p.antenna))
        .transpose()?;
    let first_time = t
        .rows
        .iter()
        .map(|r| r.time_s)
        .fold(f64::INFINITY, f64::min);
    let times = (!p.timerange.trim().is_empty())
        .then(|| {
            resolve_timerange(
                &p.timerange,
                if first_time.is_finite() {
                    first_time
                } else {
                    0.0
                },
            )
        })
        .transpose()?;
    let mut out = CalCells::default();
    for (i, r) in t.rows.iter().enumerate() {
        if fields.as_ref().is_some_and(|f| !f.contains(&r.field_id))
            || scans.as_ref().is_some_and(|s| !s.contains(&r.scan))
            || times.as_ref().is_some_and(|ts| {
                !ts.iter()
                    .any(|ts| ts.matches(r.time_s, SINGLE_TIME_WIDTH_S))
            })
            || ants
                .as_ref()
                .is_some_and(|a| !a.matches(r.antenna1, r.antenna2))
            || (autocorr && r.antenna2 >= 0 && r.antenna2 != r.antenna1)
        {
            continue;
        }
        let (npar, nchan) = r.params.shape();
        let chans = match &spws {
            None => (0..nchan).collect(),
            Some(s) => match s.get(&(r.spw_id.max(0) as u32)) {
                Some(c) => {
                    let mut c: Vec<usize> =
                        c.iter().map(|&c| c.min(nchan.saturating_sub(1))).collect();
                    c.dedup();
                    c
                }
                None => continue,
            },
        };
        out.rows.push((i, chans, (0..npar).collect()));
    }
    Ok(out)
}

/// The width a single-time `timerange` (`T`) gives a caltable row: CASA ignores INTERVAL
/// on caltables and selects a solution when T is within 0.05 s of its TIME (selected at
/// 0.050 s, not at 0.055 s; `fixtures/scenarios/research/flagdata_caltable.md`).
const SINGLE_TIME_WIDTH_S: f64 = 0.1;

/// Which values a caltable clip tests: CASA's `datacolumn` and the expression of its
/// `correlation` (`[ABS_|REAL_|ARG_](ALL|SolN)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClipValue {
    /// FPARAM as stored (signed), or CPARAM's amplitude.
    Param,
    /// CPARAM's real part.
    Real,
    /// CPARAM's phase (rad).
    Arg,
    Snr,
}

/// Parse a caltable clip's `datacolumn` and `correlation` into what to test and which
/// parameters (None = all). FPARAM tables take FPARAM, complex ones CPARAM; SNR either.
/// CASA refuses DATA (its default) and PARAMERR on a caltable.
fn clip_spec(
    datacolumn: &str,
    correlation: &str,
    complex: bool,
    npar: usize,
) -> Result<(ClipValue, Option<usize>), String> {
    let own = if complex { "cparam" } else { "fparam" };
    let column = match datacolumn.to_ascii_uppercase().as_str() {
        "CPARAM" if complex => ClipValue::Param,
        "FPARAM" if !complex => ClipValue::Param,
        "SNR" => ClipValue::Snr,
        other => {
            return Err(format!(
                "clip on this caltable needs datacolumn = \"{own}\" or \"snr\" (CASA refuses {:?} here)",
                other.to_ascii_lowercase()
            ))
        }
    };
    let expr = correlation.trim().to_ascii_uppercase();
    let (op, pol) = match expr.split_once('_') {
        Some((op, pol)) => (op, pol),
        None => ("", expr.as_str()),
    };
    let value = match (op, column) {
        ("" | "ABS", v) => v,
        ("REAL", ClipValue::Param) if complex => ClipValue::Real,
        ("ARG", ClipValue::Param) if complex => ClipValue::Arg,
        _ => {
            return Err(format!(
                "clip correlation {correlation:?} is not available on this caltable (use Sol1, Sol2, ALL, or ABS_/REAL_/ARG_ with CPARAM)"
            ))
        }
    };
    let par = match pol {
        "" | "ALL" => None,
        p if p.starts_with("SOL") => match p[3..].parse::<usize>() {
            Ok(n) if n >= 1 && n <= npar => Some(n - 1),
            _ => {
                return Err(format!(
                    "clip correlation {correlation:?}: this caltable has Sol1..Sol{npar}"
                ))
            }
        },
        _ => {
            return Err(format!(
                "clip correlation {correlation:?}: a caltable's correlations are Sol1, Sol2, ... (or ALL)"
            ))
        }
    };
    Ok((value, par))
}

fn clip_value(row: &crate::caltable::CalRow, what: ClipValue, k: usize, c: usize) -> f32 {
    match (&row.params, what) {
        (_, ClipValue::Snr) => row.snr[[k, c]],
        (CalParams::Float(a), _) => a[[k, c]],
        (CalParams::Complex(a), ClipValue::Real) => a[[k, c]].re,
        (CalParams::Complex(a), ClipValue::Arg) => a[[k, c]].arg(),
        (CalParams::Complex(a), ClipValue::Param) => a[[k, c]].norm(),
    }
}

/// Apply flag commands to a caltable in order: manual, unflag and clip (see
/// [`clip_spec`]); other modes are refused. A selection that matches nothing is an error
/// (CASA raises too). CASA ignores a manual command with a `correlation` (it warns and
/// flags nothing): almacal refuses it.
pub fn flag_caltable(
    t: &mut CalTable,
    path: &str,
    cmds: &[FlagCommand],
) -> Result<Vec<CommandReport>, CalFlagError> {
    let meta = caltable_meta(t, path);
    let complex = matches!(
        t.rows.first().map(|r| &r.params),
        Some(CalParams::Complex(_))
    );
    let mut reports = Vec::new();
    for cmd in cmds {
        let origin = &cmd.origin;
        let mode_err = |msg: String| CalFlagError::Mode {
            origin: origin.clone(),
            msg,
        };
        let corr = cmd.selection.correlation.trim();
        let (mode, clip) = match &cmd.mode {
            FlagMode::Manual | FlagMode::Unflag if !corr.is_empty() => {
                return Err(mode_err(format!(
                    "correlation = {corr:?}: on a caltable CASA selects correlations only in clip mode (elsewhere it ignores the command); remove it"
                )))
            }
            FlagMode::Manual => ("manual", None),
            FlagMode::Unflag => ("unflag", None),
            FlagMode::Clip {
                minmax,
                clipoutside,
                clipzeros,
                datacolumn,
            } => {
                let npar = t.rows.first().map_or(0, |r| r.params.shape().0);
                let (value, par) = clip_spec(datacolumn, corr, complex, npar).map_err(mode_err)?;
                ("clip", Some((value, par, *minmax, *clipoutside, *clipzeros)))
            }
            other => {
                return Err(mode_err(format!(
                    "mode {} is not available on a caltable in almacal (use manual, clip, unflag or summary)",
                    mode_name(other)
                )))
            }
        };
        // The clip's correlation picks parameters itself; the selection has none.
        let mut sel = cmd.selection.clone();
        sel.correlation.clear();
        let cells =
            select_cells(t, &meta, &sel, cmd.autocorr).map_err(|e| CalFlagError::Selection {
                origin: origin.clone(),
                source: e,
            })?;
        if cells.rows.is_empty() {
            return Err(CalFlagError::Empty {
                origin: origin.clone(),
                selection: cmd.selection.describe(),
            });
        }
        let mut changed = 0u64;
        for (i, chans, pars) in &cells.rows {
            let row = &mut t.rows[*i];
            for &k in pars {
                if clip.is_some_and(|c| c.1.is_some_and(|p| p != k)) {
                    continue;
                }
                for &c in chans {
                    let want = match clip {
                        None => mode == "manual",
                        Some((value, _, minmax, outside, zeros)) => {
                            row.flag[[k, c]]
                                || clip_hits(clip_value(row, value, k, c), minmax, outside, zeros)
                        }
                    };
                    if row.flag[[k, c]] != want {
                        row.flag[[k, c]] = want;
                        changed += 1;
                    }
                }
            }
        }
        let unflag = mode == "unflag";
        reports.push(CommandReport {
            origin: origin.clone(),
            mode: mode.into(),
            selection: cmd.selection.describe(),
            rows_selected: cells.rows.len() as u64,
            cells_flagged: if unflag { 0 } else { changed },
            note: unflag.then(|| format!("{changed} cells unflagged")),
        });
    }
    Ok(reports)
}

fn mode_name(m: &FlagMode) -> &'static str {
    match m {
        FlagMode::Manual => "manual",
        FlagMode::Unflag => "unflag",
        FlagMode::Clip { .. } => "clip",
        FlagMode::Shadow { .. } => "shadow",
        FlagMode::Quack { .. } => "quack",
        FlagMode::FlagCmd { .. } => "flagcmd",
    }
}

/// CASA's clip test on one value: outside [min, max] (bounds kept), or inside them with
/// `clipoutside = false`; NaN and ±inf always; with `clipzeros`, values below float32
/// epsilon (1.19e-7, so every negative value too, as CASA does).
fn clip_hits(v: f32, minmax: Option<(f32, f32)>, clipoutside: bool, clipzeros: bool) -> bool {
    if !v.is_finite() {
        return true;
    }
    if clipzeros && v < f32::EPSILON {
        return true;
    }
    match minmax {
        None => false,
        Some((lo, hi)) => {
            let inside = v >= lo && v <= hi;
            if clipoutside {
                !inside
            } else {
                inside
            }
        }
    }
}

/// flagdata mode='summary' on a caltable: flagged and total cells per antenna (ANTENNA1),
/// spw, field, scan and parameter ("correlation").
pub fn caltable_summary(
    t: &CalTable,
    path: &str,
    sel: &SelectionParams,
) -> Result<FlagSummary, SelectionError> {
    if !sel.correlation.trim().is_empty() {
        return Err(SelectionError::new(
            "correlation",
            &sel.correlation,
            "a caltable summary counts every parameter (Sol1, Sol2, ...); remove correlation"
                .to_string(),
        ));
    }
    let meta = caltable_meta(t, path);
    let cells = select_cells(t, &meta, sel, false)?;
    let mut s = FlagSummary::default();
    let name_of = |v: &[String], i: i32| {
        v.get(i.max(0) as usize)
            .cloned()
            .unwrap_or_else(|| i.to_string())
    };
    let ant_names: Vec<String> = t.sub.antennas.iter().map(|a| a.name.clone()).collect();
    let field_names: Vec<String> = t.sub.fields.iter().map(|f| f.name.clone()).collect();
    for (i, chans, pars) in &cells.rows {
        let r = &t.rows[*i];
        for &k in pars {
            let mut n = FlagCounts::default();
            for &c in chans {
                n.total += 1;
                n.flagged += u64::from(r.flag[[k, c]]);
            }
            let add = |m: &mut BTreeMap<String, FlagCounts>, key: String| {
                let e = m.entry(key).or_default();
                e.flagged += n.flagged;
                e.total += n.total;
            };
            // As for baselines: a row counts for both its antennas (once if they are equal).
            add(&mut s.antenna, name_of(&ant_names, r.antenna1));
            if r.antenna2 >= 0 && r.antenna2 != r.antenna1 {
                add(&mut s.antenna, name_of(&ant_names, r.antenna2));
            }
            add(&mut s.spw, r.spw_id.to_string());
            add(&mut s.field, name_of(&field_names, r.field_id));
            add(&mut s.scan, r.scan.to_string());
            add(&mut s.correlation, format!("Sol{}", k + 1));
            s.flagged += n.flagged;
            s.total += n.total;
        }
    }
    Ok(s)
}

/// Why flagging a caltable failed.
#[derive(Debug, thiserror::Error)]
pub enum CalFlagError {
    #[error("{origin}: {source}")]
    Selection {
        origin: String,
        #[source]
        source: SelectionError,
    },
    #[error("{origin}: the selection ({selection}) matches no solution of the caltable")]
    Empty { origin: String, selection: String },
    #[error("{origin}: {msg}")]
    Mode { origin: String, msg: String },
}
