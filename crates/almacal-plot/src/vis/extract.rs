//! Reading and averaging visibility points from an MS (chunked, through `almacal-casa`'s
//! reader thread). Autocorrelations are skipped unless the selection asks for them.

use super::accumulate::{Accumulator, BinKey, BinSum};
use super::{VisOptions, VisPoints};
use crate::error::{PlotError, Result};
use crate::plotants::ms_display_name;
use almacal_casa::reader::{spawn_reader, ReadRequest};
use almacal_casa::selection::{BaselineKind, SelectionParams};
use almacal_core::{MsMeta, VisChunk};
use ndarray::Axis;
use num_complex::Complex64;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::Path;

/// One way of averaging the points of a read: several views share one pass over the MS.
#[derive(Debug, Clone)]
pub struct View {
    /// Only these field ids (`None`: every field read).
    pub fields: Option<Vec<u32>>,
    /// Channels averaged together (0 or 1 = none; `usize::MAX` = all selected channels).
    pub avg_channel: usize,
    /// Use at most this many evenly spaced channels of each spw (0 = all): decimation for
    /// channel-averaged views of wide spws.
    pub max_chans: usize,
    /// Averaging interval in seconds within each scan (0 = none; infinite = whole scan).
    pub avg_time_s: f64,
    /// Average over scans too (with an infinite `avg_time_s`: one point per field).
    pub combine_scans: bool,
    /// Average all baselines together.
    pub avg_baselines: bool,
    /// Keep flagged points (averaged among themselves) to draw them in grey.
    pub keep_flagged: bool,
    /// Include autocorrelations instead of cross-correlations.
    pub autos: bool,
    /// A short description of the selection and averaging, for titles.
    pub description: String,
}

impl View {
    fn of(opts: &VisOptions) -> Self {
        Self {
            fields: None,
            avg_channel: opts.avg_channel,
            max_chans: 0,
            avg_time_s: opts.avg_time_s,
            combine_scans: false,
            avg_baselines: opts.avg_baselines,
            keep_flagged: opts.keep_flagged,
            autos: opts.selection.baselines == BaselineKind::AutoOnly,
            description: describe(opts),
        }
    }
}

/// Read the points of `ms` described by `opts`.
pub fn extract(ms: &Path, opts: &VisOptions) -> Result<VisPoints> {
    let mut v = extract_many(
        ms,
        &opts.column,
        &opts.selection,
        opts.chunk_rows,
        &[View::of(opts)],
    )?;
    match v.pop() {
        Some(p) if !p.points.is_empty() => Ok(p),
        _ => Err(PlotError::Empty(format!(
            "no {} visibilities in {} for {}",
            if opts.keep_flagged { "" } else { "unflagged" },
            ms.display(),
            describe(opts)
        ))),
    }
}

/// Read `column` of the rows of `ms` in `selection` once and average them in every view;
/// one [`VisPoints`] per view, in order (a view with no points gets an empty one).
pub fn extract_many(
    ms: &Path,
    column: &str,
    selection: &SelectionParams,
    chunk_rows: usize,
    views: &[View],
) -> Result<Vec<VisPoints>> {
    let mut req = ReadRequest::new(ms);
    req.column = column.to_string();
    req.selection = selection.clone();
    req.chunk_rows = chunk_rows.max(1);
    let stream = spawn_reader(req, 2)?;
    let meta = stream.meta().clone();
    let mut accs: Vec<Accumulator> = views.iter().map(|_| Accumulator::default()).collect();
    let mut corr_names: Vec<String> = Vec::new();
    // Chunks are averaged in batches on the current rayon pool, each into its own
    // accumulators, merged in chunk order (the result does not depend on the threads).
    let batch_len = 2 * rayon::current_num_threads().max(1);
    let mut batch: Vec<(VisChunk, Vec<usize>)> = Vec::with_capacity(batch_len);
    let mut stream = stream.peekable();
    while let Some(chunk) = stream.next() {
        let chunk = chunk?;
        let ids = corr_ids(&chunk, &meta, &mut corr_names);
        batch.push((chunk, ids));
        if batch.len() < batch_len && stream.peek().is_some() {
            continue;
        }
        let parts: Vec<Vec<Accumulator>> = batch
            .par_iter()
            .map(|(chunk, ids)| {
                views
                    .iter()
                    .map(|view| {
                        let mut acc = Accumulator::default();
                        add_chunk(chunk, &meta, view, ids, &mut acc);
                        acc
                    })
                    .collect()
            })
            .collect();
        batch.clear();
        for part in parts {
            for (acc, p) in accs.iter_mut().zip(part) {
                acc.absorb(p);
            }
        }
    }
    Ok(views
        .iter()
        .zip(accs)
        .map(|(view, acc)| VisPoints {
            ms: ms_display_name(&ms.to_string_lossy()),
            column: column.to_string(),
            points: acc.finish(),
            field_names: meta.fields.iter().map(|f| f.name.clone()).collect(),
            antenna_names: meta.antennas.iter().map(|a| a.name.clone()).collect(),
            corr_names: corr_names.clone(),
            description: view.description.clone(),
        })
        .collect())
}

/// `spw='20' avgtime=30s avgchannel=all` for titles.
pub fn describe(opts: &VisOptions) -> String {
    let mut parts = Vec::new();
    let sel = opts.selection.describe();
    if !sel.is_empty() {
        parts.push(sel);
    }
    match opts.avg_channel {
        0 | 1 => {}
        usize::MAX => parts.push("avgchannel=all".into()),
        n => parts.push(format!("avgchannel={n}")),
    }
    if opts.avg_time_s > 0.0 {
        parts.push(format!("avgtime={}s", opts.avg_time_s));
    }
    if opts.avg_baselines {
        parts.push("all baselines averaged".into());
    }
    parts.join(" ")
}

fn corr_index(names: &mut Vec<String>, name: String) -> usize {
    match names.iter().position(|n| *n == name) {
        Some(i) => i,
        None => {
            names.push(name);
            names.len() - 1
        }
    }
}

/// Index into the shared correlation names of each correlation of the chunk.
fn corr_ids(c: &VisChunk, meta: &MsMeta, names: &mut Vec<String>) -> Vec<usize> {
    let corr_types = meta.corrs_of(c.dd);
    c.corrs
        .iter()
        .map(|&k| {
            let name = corr_types
                .get(k)
                .map_or_else(|| k.to_string(), |t| t.name());
            corr_index(names, name)
        })
        .collect()
}

/// The accumulator key of a chunk's (time bin, baseline) cell, channel bin and correlation
/// (unflagged samples).
fn bin_key(
    c: &VisChunk,
    view: &View,
    (time_bin, ant1, ant2): (i64, i32, i32),
    chan_bin: usize,
    corr: usize,
) -> BinKey {
    BinKey {
        field: c.field.0,
        spw: c.spw.0,
        scan: if view.combine_scans { 0 } else { c.scan },
        time_bin,
        ant1,
        ant2,
        chan_bin,
        corr,
        flagged: false,
    }
}

/// Row `r`'s bin key (time bin, baseline or (−1, −1) when baselines are averaged), time and
/// uv distance; `None` when the view skips the row (autocorrelations or cross-correlations).
fn row_key(
    c: &VisChunk,
    r: usize,
    view: &View,
    scan_start: f64,
) -> Option<((i64, i32, i32), f64, f64)> {
    let (a1, a2) = (c.ant1[r].0 as i32, c.ant2[r].0 as i32);
    if (a1 == a2) != view.autos {
        return None;
    }
    let t = c.time_s[r];
    let time_bin = if view.avg_time_s.is_infinite() {
        0
    } else if view.avg_time_s > 0.0 {
        ((t - scan_start) / view.avg_time_s).floor() as i64
    } else {
        (t * 1000.0).round() as i64
    };
    let uv = c.uvw_m.row(r);
    let uvdist = (uv[0] * uv[0] + uv[1] * uv[1]).sqrt();
    let key = if view.avg_baselines {
        (time_bin, -1, -1)
    } else {
        (time_bin, a1, a2)
    };
    Some((key, t, uvdist))
}

/// One row's samples of one correlation falling in one bin: sums before weighting.
struct RowPart {
    re: f64,
    im: f64,
    freq: f64,
    n: usize,
    chan_lo: usize,
    chan_hi: usize,
}

impl Default for RowPart {
    fn default() -> Self {
        Self {
            re: 0.0,
            im: 0.0,
            freq: 0.0,
            n: 0,
            chan_lo: usize::MAX,
            chan_hi: 0,
        }
    }
}

impl RowPart {
    #[inline]
    fn add(&mut self, v: num_complex::Complex32, freq: f64, chan: usize) {
        self.re += f64::from(v.re);
        self.im += f64::from(v.im);
        self.freq += freq;
        self.n += 1;
        self.chan_lo = self.chan_lo.min(chan);
        self.chan_hi = self.chan_hi.max(chan);
    }
}

/// Average one chunk into `acc`. Samples are first summed into dense per-chunk cells keyed
/// by (time bin, baseline) — one hash lookup per row, not per sample — then merged.
fn add_chunk(c: &VisChunk, meta: &MsMeta, view: &View, corr_ids: &[usize], acc: &mut Accumulator) {
    if let Some(f) = &view.fields {
        if !f.contains(&c.field.0) {
            return;
        }
    }
    let freqs = meta
        .spw(c.spw)
        .map(|s| s.chan_freq_hz.as_slice())
        .unwrap_or(&[]);
    let scan_start = meta
        .scans
        .iter()
        .find(|s| s.scan == c.scan && s.field == c.field)
        .map_or(0.0, |s| s.start_s);
    let nc = c.chans.len();
    let step = if view.max_chans > 0 && nc > view.max_chans {
        nc.div_ceil(view.max_chans)
    } else {
        1
    };
    let used: Vec<usize> = (0..nc).step_by(step).collect();
    // Channel bin of each used channel, and a dense slot per distinct bin.
    let bin_of = |ci: usize| match view.avg_channel {
        0 | 1 => c.chans[ci],
        usize::MAX => 0,
        n => ci / n,
    };
    let mut slot_bins: Vec<usize> = Vec::new();
    let slots: Vec<usize> = used
        .iter()
        .map(|&ci| {
            let b = bin_of(ci);
            match slot_bins.iter().rposition(|&x| x == b) {
                Some(i) => i,
                None => {
                    slot_bins.push(b);
                    slot_bins.len() - 1
                }
            }
        })
        .collect();
    let used_freqs: Vec<f64> = used
        .iter()
        .map(|&ci| freqs.get(c.chans[ci]).copied().unwrap_or(f64::NAN))
        .collect();
    let np = corr_ids.len();
    if slot_bins.len() == used.len() && !view.keep_flagged {
        let chan_of_slot: Vec<usize> = used.iter().map(|&ci| c.chans[ci]).collect();
        add_chunk_per_channel(
            c,
            view,
            scan_start,
            (&used, &used_freqs, &chan_of_slot),
            &slot_bins,
            corr_ids,
            acc,
        );
        return;
    }
    let ncell = slot_bins.len() * np * 2;
    let mut cells: HashMap<(i64, i32, i32), Vec<BinSum>> = HashMap::new();
    for r in 0..c.nrows() {
        let Some((key, t, uvdist)) = row_key(c, r, view, scan_start) else {
            continue;
        };
        let row_cells = cells
            .entry(key)
            .or_insert_with(|| vec![BinSum::default(); ncell]);
        let row_flagged = c.flag_row[r];
        let (Some(data), Some(flags)) = (
            c.data_rcf.index_axis(Axis(0), r).to_slice(),
            c.flag_rcf.index_axis(Axis(0), r).to_slice(),
        ) else {
            continue;
        };
        if data.len() < nc * np || flags.len() < nc * np {
            continue;
        }
        let weights: Vec<f64> = (0..np)
            .map(|k| BinSum::weight_of(f64::from(c.weight_rc[[r, k]])))
            .collect();
        if slot_bins.len() == 1 {
            // Every used channel in one bin (channel-averaged views): sum the row first,
            // then add once per (correlation, flagged).
            for (k, &w) in weights.iter().enumerate() {
                let mut part = [RowPart::default(), RowPart::default()];
                for (&ci, &freq) in used.iter().zip(&used_freqs) {
                    let flagged = row_flagged || flags[ci * np + k];
                    if flagged && !view.keep_flagged {
                        continue;
                    }
                    let v = data[ci * np + k];
                    part[usize::from(flagged)].add(v, freq, c.chans[ci]);
                }
                for (f, p) in part.iter().enumerate() {
                    if p.n > 0 {
                        row_cells[k * 2 + f].add_row_part(
                            Complex64::new(p.re, p.im),
                            w,
                            p.n as f64,
                            t,
                            uvdist,
                            p.freq,
                            (p.chan_lo, p.chan_hi),
                        );
                    }
                }
            }
            continue;
        }
        for ((&ci, &slot), &freq) in used.iter().zip(&slots).zip(&used_freqs) {
            let chan = c.chans[ci];
            let base = ci * np;
            for (k, &w) in weights.iter().enumerate() {
                let flagged = row_flagged || flags[base + k];
                if flagged && !view.keep_flagged {
                    continue;
                }
                let v = data[base + k];
                row_cells[(slot * np + k) * 2 + usize::from(flagged)].add_weighted(
                    Complex64::new(f64::from(v.re), f64::from(v.im)),
                    w,
                    t,
                    uvdist,
                    freq,
                    chan,
                );
            }
        }
    }
    for ((time_bin, ant1, ant2), sums) in cells {
        for (i, sum) in sums.iter().enumerate() {
            let (slot, rest) = (i / (np * 2), i % (np * 2));
            let key = bin_key(
                c,
                view,
                (time_bin, ant1, ant2),
                slot_bins[slot],
                corr_ids[rest / 2],
            );
            acc.merge(
                BinKey {
                    flagged: rest % 2 == 1,
                    ..key
                },
                sum,
            );
        }
    }
}

/// Sums of the unflagged samples of one (time bin, baseline) per (channel slot, correlation),
/// one array per quantity (the per-channel views' hot loop).
struct Dense {
    re: Vec<f64>,
    im: Vec<f64>,
    w: Vec<f64>,
    n: Vec<f64>,
    time: Vec<f64>,
    uvdist: Vec<f64>,
}

impl Dense {
    fn new(len: usize) -> Self {
        Self {
            re: vec![0.0; len],
            im: vec![0.0; len],
            w: vec![0.0; len],
            n: vec![0.0; len],
            time: vec![0.0; len],
            uvdist: vec![0.0; len],
        }
    }
}

/// [`add_chunk`] for views with one channel per bin that drop flagged samples (amplitude and
/// phase vs frequency): the same sums, kept per quantity so the per-sample work is six adds;
/// each bin's frequency and channel are its channel's.
#[allow(clippy::too_many_arguments)]
fn add_chunk_per_channel(
    c: &VisChunk,
    view: &View,
    scan_start: f64,
    (used, used_freqs, chan_of_slot): (&[usize], &[f64], &[usize]),
    slot_bins: &[usize],
    corr_ids: &[usize],
    acc: &mut Accumulator,
) {
    let np = corr_ids.len();
    let ncell = used.len() * np;
    let mut cells: HashMap<(i64, i32, i32), Dense> = HashMap::new();
    for r in 0..c.nrows() {
        if c.flag_row[r] {
            continue;
        }
        let Some((key, t, uvdist)) = row_key(c, r, view, scan_start) else {
            continue;
        };
        let (Some(data), Some(flags)) = (
            c.data_rcf.index_axis(Axis(0), r).to_slice(),
            c.flag_rcf.index_axis(Axis(0), r).to_slice(),
        ) else {
            continue;
        };
        let d = cells.entry(key).or_insert_with(|| Dense::new(ncell));
        for k in 0..np {
            let w = BinSum::weight_of(f64::from(c.weight_rc[[r, k]]));
            for (slot, &ci) in used.iter().enumerate() {
                let i = ci * np + k;
                let (Some(&f), Some(v)) = (flags.get(i), data.get(i)) else {
                    continue;
                };
                if f {
                    continue;
                }
                let j = slot * np + k;
                d.re[j] += f64::from(v.re) * w;
                d.im[j] += f64::from(v.im) * w;
                d.w[j] += w;
                d.n[j] += 1.0;
                d.time[j] += t;
                d.uvdist[j] += uvdist;
            }
        }
    }
    for ((time_bin, ant1, ant2), d) in cells {
        for j in 0..ncell {
            if d.n[j] == 0.0 {
                continue;
            }
            let (slot, k) = (j / np, j % np);
            let sum = BinSum {
                vis: Complex64::new(d.re[j], d.im[j]),
                w: d.w[j],
                time: d.time[j],
                uvdist: d.uvdist[j],
                freq: used_freqs[slot] * d.n[j],
                n: d.n[j],
                chan_lo: chan_of_slot[slot],
                chan_hi: chan_of_slot[slot],
            };
            let key = bin_key(
                c,
                view,
                (time_bin, ant1, ant2),
                slot_bins[slot],
                corr_ids[k],
            );
            acc.merge(key, &sum);
        }
    }
}
