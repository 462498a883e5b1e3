//! flagdata's modes computed as a [`FlagLayer`] over an MS, without writing the MS:
//! `manual` (any selection, `autocorr`), `shadow`, `clip`, `quack`, `flagcmd` (the FLAG_CMD
//! subtable's online flags), `unflag` (within the stage), and `summary` counts.
//! Commands run in order; each sees the flags of the upstream layers and of the earlier
//! commands of the same stage only where its mode depends on flags (clip, summary).

pub mod caltable;
mod clip;
mod flagcmd;
pub use flagcmd::{command_selection, select_flag_cmds, FlagCmdSelectError};
mod quack;
mod shadow;
mod summary;

pub use shadow::shadowed_antennas;
pub use summary::{flag_summary, FlagCounts, FlagSummary};

use crate::error::{CasaError, Result};
use crate::meta_read::{read_meta_with_index, MainIndex};
use crate::selection::{BaselineKind, Selection, SelectionParams};
use crate::table::RoTable;
use almacal_core::flaglayer::FlagLayer;
use almacal_core::meta::MsMeta;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;

/// quack's `quackmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuackMode {
    /// Flag the first `interval` seconds of each scan.
    Beg,
    /// Flag the last `interval` seconds of each scan.
    Endb,
    /// Flag all but the first `interval` seconds.
    End,
    /// Flag all but the last `interval` seconds.
    Tail,
}

/// One flagdata mode with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum FlagMode {
    Manual,
    Shadow {
        tolerance_m: f64,
    },
    Clip {
        minmax: Option<(f32, f32)>,
        clipoutside: bool,
        clipzeros: bool,
        datacolumn: String,
    },
    Quack {
        interval_s: f64,
        mode: QuackMode,
    },
    /// Apply the FLAG_CMD subtable's commands (`useapplied`: also rows already applied;
    /// `reason`: only rows with one of these REASONs, empty for any).
    FlagCmd {
        useapplied: bool,
        reason: Vec<String>,
    },
    Unflag,
}

/// One flag command: a mode, a selection, and `autocorr`.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagCommand {
    pub mode: FlagMode,
    pub selection: SelectionParams,
    /// flagdata's `autocorr=True`: only autocorrelations of the selection.
    pub autocorr: bool,
    /// Where the command came from, for reports (`recipe.toml:42`).
    pub origin: String,
}

/// What one command did.
#[derive(Debug, Clone, Serialize)]
pub struct CommandReport {
    pub origin: String,
    pub mode: String,
    pub selection: String,
    pub rows_selected: u64,
    /// Cells (row × channel × correlation) newly flagged by this command.
    pub cells_flagged: u64,
    pub note: Option<String>,
}

/// Shared context of one stage's flagging.
pub(crate) struct Ctx<'a> {
    pub ms: &'a Path,
    pub meta: &'a MsMeta,
    pub idx: &'a MainIndex,
    pub main: &'a mut RoTable,
    pub upstream: &'a [Arc<FlagLayer>],
}

impl Ctx<'_> {
    /// Full channel and correlation counts of a row.
    pub fn shape_of_row(&self, r: usize) -> (usize, usize) {
        let dd = self.idx.dd[r].max(0) as usize;
        let nchan = self
            .meta
            .data_descs
            .get(dd)
            .and_then(|d| self.meta.spw(d.spw))
            .map_or(0, |s| s.nchan());
        let ncorr = self
            .meta
            .data_descs
            .get(dd)
            .and_then(|d| self.meta.pols.get(d.pol as usize))
            .map_or(0, |p| p.corr_types.len());
        (nchan, ncorr)
    }

    pub fn spw_of_row(&self, r: usize) -> u32 {
        let dd = self.idx.dd[r].max(0) as usize;
        self.meta.data_descs.get(dd).map_or(0, |d| d.spw.0)
    }

    /// Resolve a selection and list its rows (possibly none: `compute_layer` makes that an
    /// error for the user's commands; online flags naming absent data flag nothing).
    pub fn rows(&mut self, sel: &Selection) -> Result<Vec<u64>> {
        if !sel.needs_uvw() {
            return Ok(sel.select_rows(self.idx, |_| None));
        }
        let mut err = None;
        let main = &mut *self.main;
        let rows = sel.select_rows(self.idx, |r| match main.cell_vec::<f64>("UVW", r as u64) {
            Ok(v) if v.len() == 3 => Some([v[0], v[1], v[2]]),
            Ok(_) => None,
            Err(e) => {
                err.get_or_insert(e);
                None
            }
        });
        match err {
            Some(e) => Err(e),
            None => Ok(rows),
        }
    }
}

/// Flag the selected cells of `rows` into `layer`; returns newly flagged cells.
pub(crate) fn flag_rows(
    ctx: &Ctx<'_>,
    sel: &Selection,
    rows: &[u64],
    layer: &mut FlagLayer,
) -> u64 {
    let mut added = 0u64;
    for &row in rows {
        let r = row as usize;
        let (nchan, ncorr) = ctx.shape_of_row(r);
        let chans = sel.chans_of(ctx.meta, ctx.spw_of_row(r));
        let corrs = sel.corrs_of(
            ctx.meta,
            almacal_core::ids::DataDescId(ctx.idx.dd[r].max(0) as u32),
        );
        let before = layer.count_row(row, nchan, ncorr);
        layer.flag_cells(row, nchan, ncorr, &chans, &corrs);
        added += (layer.count_row(row, nchan, ncorr) - before) as u64;
    }
    added
}

/// The selection a command works on: `autocorr` restricts it to autocorrelations, and a
/// clip's `correlation` expression (`ABS_ALL`, `ABS_XX`) becomes a correlation list. Like
/// CASA's flagdata, clip ignores `autocorr` (a parameter of the other modes): it examines
/// the cross-correlations too.
fn effective_params(cmd: &FlagCommand) -> Result<SelectionParams> {
    let mut p = cmd.selection.clone();
    let clip = matches!(cmd.mode, FlagMode::Clip { .. });
    if cmd.autocorr && !clip {
        p.baselines = BaselineKind::AutoOnly;
    }
    if clip {
        p.correlation = clip::clip_correlations(&p.correlation)?;
    }
    Ok(p)
}

/// The command's selection; an error names where the command was written (`flags.txt:3`,
/// `commands[0]`).
fn resolve(meta: &MsMeta, cmd: &FlagCommand) -> Result<Selection> {
    Selection::resolve(meta, &effective_params(cmd)?).map_err(|e| CasaError::Invalid {
        path: cmd.origin.clone(),
        msg: e.to_string(),
    })
}

/// Run `commands` on the MS at `ms` (read-only), on top of the `upstream` layers.
/// Returns the stage's layer and a report per command.
pub fn compute_layer(
    ms: &Path,
    commands: &[FlagCommand],
    upstream: &[Arc<FlagLayer>],
) -> Result<(FlagLayer, Vec<CommandReport>)> {
    let (meta, idx) = read_meta_with_index(ms)?;
    let mut main = RoTable::open(ms)?;
    let mut layer = FlagLayer::new(idx.nrows() as u64);
    let mut reports = Vec::new();
    let mut ctx = Ctx {
        ms,
        meta: &meta,
        idx: &idx,
        main: &mut main,
        upstream,
    };
    for cmd in commands {
        let sel = resolve(ctx.meta, cmd)?;
        let rows = ctx.rows(&sel)?;
        // A command whose selection matches nothing is almost always a typo (docs/selection.md):
        // an error, except for the online flags (their selections come from FLAG_CMD).
        if rows.is_empty() && !matches!(cmd.mode, FlagMode::FlagCmd { .. }) {
            let mut e = crate::selection::empty_selection_error(
                ctx.meta,
                ctx.idx,
                &effective_params(cmd)?,
                ms,
                false,
            );
            e.msg = format!("{} (flag command at {})", e.msg, cmd.origin);
            return Err(e.into());
        }
        let mut note = None;
        let added = match &cmd.mode {
            FlagMode::Manual => flag_rows(&ctx, &sel, &rows, &mut layer),
            FlagMode::Unflag => {
                let mut cleared = FlagLayer::new(layer.nrows());
                flag_rows(&ctx, &sel, &rows, &mut cleared);
                layer.subtract(&cleared);
                0
            }
            FlagMode::Shadow { tolerance_m } => {
                shadow::flag_shadow(&mut ctx, &sel, &rows, *tolerance_m, &mut layer)?
            }
            FlagMode::Quack { interval_s, mode } => {
                quack::flag_quack(&ctx, &sel, &rows, *interval_s, *mode, &mut layer)
            }
            FlagMode::FlagCmd { useapplied, reason } => {
                let (n, used) = flagcmd::flag_online(&mut ctx, *useapplied, reason, &mut layer)?;
                note = Some(format!("{used} FLAG_CMD rows applied"));
                n
            }
            FlagMode::Clip {
                minmax,
                clipoutside,
                clipzeros,
                datacolumn,
            } => clip::flag_clip(
                &ctx,
                &effective_params(cmd)?,
                clip::ClipParams {
                    minmax: *minmax,
                    clipoutside: *clipoutside,
                    clipzeros: *clipzeros,
                    datacolumn,
                },
                &layer,
            )
            .map(|extra| {
                let before = count_all(&layer, &ctx);
                layer.merge(&extra);
                count_all(&layer, &ctx) - before
            })?,
        };
        if cmd.autocorr && matches!(cmd.mode, FlagMode::Clip { .. }) {
            note = Some("autocorr is ignored by clip (as in CASA): all baselines examined".into());
        }
        reports.push(CommandReport {
            origin: cmd.origin.clone(),
            mode: mode_name(&cmd.mode).into(),
            selection: cmd.selection.describe(),
            rows_selected: rows.len() as u64,
            cells_flagged: added,
            note,
        });
    }
    Ok((layer, reports))
}

fn count_all(layer: &FlagLayer, ctx: &Ctx<'_>) -> u64 {
    (0..ctx.idx.nrows())
        .map(|r| {
            let (c, p) = ctx.shape_of_row(r);
            layer.count_row(r as u64, c, p) as u64
        })
        .sum()
}

pub fn mode_name(m: &FlagMode) -> &'static str {
    match m {
        FlagMode::Manual => "manual",
        FlagMode::Shadow { .. } => "shadow",
        FlagMode::Clip { .. } => "clip",
        FlagMode::Quack { .. } => "quack",
        FlagMode::FlagCmd { .. } => "flagcmd",
        FlagMode::Unflag => "unflag",
    }
}
