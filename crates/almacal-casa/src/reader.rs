//! Chunked visibility reading. Selected rows are grouped by (DDID, field, scan) and cut into
//! chunks of at most `chunk_rows` rows at timestamp boundaries; each chunk carries only the
//! selected channels and correlations. The casacore table stays on one I/O thread
//! ([`spawn_reader`]); chunks cross to compute threads through a bounded channel, so memory
//! is bounded by `chunk_rows × (queue depth + 1)`, not by the MS size. For time averaging
//! (`time_bin_s`) chunks end only where no baseline's time bin continues
//! ([`bin_boundaries`]); `combine_scans` groups by (DDID, field) alone.

use crate::bulk::{BulkError, BulkTable};
use crate::error::{CasaError, Result};
use crate::meta_read::{read_meta_with_index, MainIndex};
use crate::selection::{empty_selection_error, Selection, SelectionError, SelectionParams};
use crate::table::RoTable;
use almacal_core::chunk::VisChunk;
use almacal_core::flaglayer::FlagLayer;
use almacal_core::ids::{AntennaId, DataDescId, FieldId};
use almacal_core::meta::MsMeta;
use ndarray::{Array1, Array2, Array3};
use num_complex::Complex32;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};

/// What to read.
#[derive(Debug, Clone)]
pub struct ReadRequest {
    pub ms: PathBuf,
    /// `DATA`, `CORRECTED_DATA` or `MODEL_DATA`.
    pub column: String,
    pub selection: SelectionParams,
    /// Upper bound on rows per chunk (a timestamp is never split unless it alone exceeds it).
    /// Chunks are also held to about [`CHUNK_BYTES`] of visibilities.
    pub chunk_rows: usize,
    pub with_weight_spectrum: bool,
    /// Read the data column (false: `data_rcf` is empty, for flag-only work).
    pub read_data: bool,
    /// Flag layers OR'ed into FLAG as chunks are read (upstream flag stages).
    pub flag_layers: Vec<Arc<FlagLayer>>,
    /// Keep only rows of these spectral windows (on top of `selection`): a partial rerun
    /// of a stage for the spws whose inputs changed. `None`: no restriction.
    pub only_spws: Option<std::collections::BTreeSet<u32>>,
    /// Time averaging in bins of this many seconds follows: a chunk then ends only where
    /// no baseline's bin continues ([`bin_boundaries`]), even if that exceeds
    /// `chunk_rows` / [`CHUNK_BYTES`].
    pub time_bin_s: Option<f64>,
    /// Group rows by (DDID, field) only, scans together (time averaging across scans,
    /// CASA's `combine = 'scan'`); a chunk's `scan` is then that of its first row.
    pub combine_scans: bool,
}

impl ReadRequest {
    pub fn new(ms: impl Into<PathBuf>) -> Self {
        Self {
            ms: ms.into(),
            column: "DATA".into(),
            selection: SelectionParams::default(),
            chunk_rows: 20_000,
            with_weight_spectrum: false,
            read_data: true,
            flag_layers: Vec::new(),
            only_spws: None,
            time_bin_s: None,
            combine_scans: false,
        }
    }
}

/// Visibility bytes a chunk holds at most (unless one timestamp alone is larger): buffers
/// of this size are reused from the heap (see [`crate::memory`]) instead of being mapped and
/// faulted in afresh for every chunk.
pub const CHUNK_BYTES: usize = 16_000_000;

/// Rows per chunk: `chunk_rows`, but at most [`CHUNK_BYTES`] of the widest cells (≥ 64).
fn capped_chunk_rows(meta: &MsMeta, chunk_rows: usize) -> usize {
    let (nchan, ncorr) = meta.max_cell_shape();
    chunk_rows.min((CHUNK_BYTES / (nchan * ncorr * 8)).max(64))
}

/// The plan of one chunk: which rows, of which group.
#[derive(Debug, Clone)]
struct ChunkPlan {
    dd: i32,
    field: i32,
    scan: i32,
    rows: Vec<u64>,
}

/// Indices `i` of `g` (the rows of one group, in time order) where a chunk may begin
/// without splitting a time bin of `timebin_s`, bins opened per baseline as the vis
/// writer's averaging opens them (at the baseline's first time, then at its first time
/// more than 0.999·timebin after the open bin's start): timestamp boundaries at which
/// every baseline with rows on both sides starts a new bin.
pub fn bin_boundaries(time: &[f64], baseline: &[(i32, i32)], timebin_s: f64) -> Vec<usize> {
    use std::collections::HashMap;
    // Per baseline: the open bin's start time and the baseline's last time.
    let mut open: HashMap<(i32, i32), (f64, f64)> = HashMap::new();
    // A cut at T with lo < T <= hi would split a bin.
    let mut forbidden: Vec<(f64, f64)> = Vec::new();
    for (&t, b) in time.iter().zip(baseline) {
        match open.get_mut(b) {
            None => {
                open.insert(*b, (t, t));
            }
            Some((start, last)) => {
                if t - *start > 0.999 * timebin_s {
                    *start = t;
                } else if t > *last {
                    forbidden.push((*last, t));
                }
                *last = t;
            }
        }
    }
    let cand: Vec<usize> = (1..time.len())
        .filter(|&i| time[i] != time[i - 1])
        .collect();
    let mut ok = vec![true; cand.len()];
    for (lo, hi) in forbidden {
        let a = cand.partition_point(|&i| time[i] <= lo);
        let b = cand.partition_point(|&i| time[i] <= hi);
        for o in &mut ok[a..b] {
            *o = false;
        }
    }
    cand.into_iter()
        .zip(ok)
        .filter_map(|(i, o)| o.then_some(i))
        .collect()
}

/// Where the next chunk of `g` from `start` ends: about `chunk_rows` rows, at a timestamp
/// boundary, or with `cuts` (see [`bin_boundaries`]) at the last cut within that size (the
/// first cut after it when there is none).
fn chunk_end(
    idx: &MainIndex,
    g: &[u64],
    start: usize,
    chunk_rows: usize,
    cuts: Option<&[usize]>,
) -> usize {
    let mut end = start.saturating_add(chunk_rows.max(1)).min(g.len());
    if end >= g.len() {
        return g.len();
    }
    if let Some(cuts) = cuts {
        let k = cuts.partition_point(|&c| c <= end);
        let before = cuts[..k].iter().rev().find(|&&c| c > start);
        return match before {
            Some(&c) => c,
            None => cuts[k..]
                .iter()
                .find(|&&c| c > start)
                .copied()
                .unwrap_or(g.len()),
        };
    }
    // Back off to a timestamp boundary if that leaves a non-empty chunk.
    let t_end = idx.time_s[g[end] as usize];
    let mut e = end;
    while e > start && idx.time_s[g[e - 1] as usize] == t_end {
        e -= 1;
    }
    if e > start {
        end = e;
    }
    end
}

fn plan_chunks(
    idx: &MainIndex,
    rows: &[u64],
    chunk_rows: usize,
    combine_scans: bool,
    time_bin_s: Option<f64>,
) -> Vec<ChunkPlan> {
    let mut groups: BTreeMap<(i32, i32, i32), Vec<u64>> = BTreeMap::new();
    let mut order: Vec<(i32, i32, i32)> = Vec::new();
    for &r in rows {
        let i = r as usize;
        let scan = if combine_scans { i32::MIN } else { idx.scan[i] };
        let key = (idx.dd[i], idx.field[i], scan);
        let g = groups.entry(key).or_insert_with(|| {
            order.push(key);
            Vec::new()
        });
        g.push(r);
    }
    // Order groups by their first row, which follows the MS's time order.
    order.sort_by_key(|k| groups[k][0]);
    let mut out = Vec::new();
    for key in order {
        let g = &groups[&key];
        let cuts = time_bin_s.map(|tb| {
            let time: Vec<f64> = g.iter().map(|&r| idx.time_s[r as usize]).collect();
            let bl: Vec<(i32, i32)> = g
                .iter()
                .map(|&r| (idx.ant1[r as usize], idx.ant2[r as usize]))
                .collect();
            bin_boundaries(&time, &bl, tb)
        });
        let mut start = 0;
        while start < g.len() {
            let end = chunk_end(idx, g, start, chunk_rows, cuts.as_deref());
            out.push(ChunkPlan {
                dd: key.0,
                field: key.1,
                scan: idx.scan[g[start] as usize],
                rows: g[start..end].to_vec(),
            });
            start = end;
        }
    }
    out
}

/// Reads chunks from an open MS on the current thread.
pub struct ChunkReader {
    main: RoTable,
    /// Bulk reads (`None` if the glue could not open the table: per-cell reads then).
    bulk: Option<BulkTable>,
    meta: MsMeta,
    idx: MainIndex,
    sel: Selection,
    plans: std::vec::IntoIter<ChunkPlan>,
    column: String,
    with_ws: bool,
    read_data: bool,
    layers: Vec<Arc<FlagLayer>>,
}

impl ChunkReader {
    /// Open the MS, resolve the selection and plan the chunks.
    pub fn open(req: &ReadRequest) -> Result<Self> {
        let (meta, idx) = read_meta_with_index(&req.ms)?;
        let mut main = RoTable::open(&req.ms)?;
        if !main.has_column(&req.column) {
            return Err(CasaError::Invalid {
                path: req.ms.display().to_string(),
                msg: format!(
                    "data column {} does not exist; columns are {}",
                    req.column,
                    meta.data_columns.join(", ")
                ),
            });
        }
        let sel = Selection::resolve(&meta, &req.selection)?;
        let rows = if sel.needs_uvw() {
            let mut err = None;
            let rows = sel.select_rows(&idx, |r| match main.cell_vec::<f64>("UVW", r as u64) {
                Ok(v) if v.len() == 3 => Some([v[0], v[1], v[2]]),
                Ok(_) => None,
                Err(e) => {
                    err.get_or_insert(e);
                    None
                }
            });
            if let Some(e) = err {
                return Err(e);
            }
            rows
        } else {
            sel.select_rows(&idx, |_| None)
        };
        if rows.is_empty() {
            return Err(CasaError::Selection(empty_selection_error(
                &meta,
                &idx,
                &req.selection,
                &req.ms,
                false,
            )));
        }
        let rows = match &req.only_spws {
            None => rows,
            Some(keep) => {
                let spw_of_dd: Vec<Option<u32>> =
                    meta.data_descs.iter().map(|d| Some(d.spw.0)).collect();
                rows.into_iter()
                    .filter(|&r| {
                        usize::try_from(idx.dd[r as usize])
                            .ok()
                            .and_then(|d| spw_of_dd.get(d).copied().flatten())
                            .is_some_and(|s| keep.contains(&s))
                    })
                    .collect()
            }
        };
        if rows.is_empty() {
            return Err(CasaError::Selection(SelectionError::new(
                "selection",
                &req.selection.describe(),
                format!("matches no rows of {}", req.ms.display()),
            )));
        }
        let chunk_rows = capped_chunk_rows(&meta, req.chunk_rows);
        let plans = plan_chunks(
            &idx,
            &rows,
            chunk_rows,
            req.combine_scans,
            req.time_bin_s.filter(|t| *t > 0.0),
        )
        .into_iter();
        let with_ws = req.with_weight_spectrum && main.has_column("WEIGHT_SPECTRUM");
        for layer in &req.flag_layers {
            if layer.nrows() != idx.nrows() as u64 {
                return Err(CasaError::Invalid {
                    path: req.ms.display().to_string(),
                    msg: format!(
                        "a flag layer made for an MS of {} rows cannot apply to this MS of {} rows",
                        layer.nrows(),
                        idx.nrows()
                    ),
                });
            }
        }
        let bulk = BulkTable::open(&req.ms).ok();
        Ok(Self {
            main,
            bulk,
            meta,
            idx,
            sel,
            plans,
            column: req.column.clone(),
            with_ws,
            read_data: req.read_data,
            layers: req.flag_layers.clone(),
        })
    }

    pub fn meta(&self) -> &MsMeta {
        &self.meta
    }

    /// Read cell by cell (rubbl) instead of in bulk: the fallback path, kept selectable so
    /// tests can compare the two.
    pub fn per_cell(mut self) -> Self {
        self.bulk = None;
        self
    }

    pub fn selection(&self) -> &Selection {
        &self.sel
    }

    /// Number of chunks still to read.
    pub fn remaining(&self) -> usize {
        self.plans.len()
    }

    fn read_chunk(&mut self, plan: ChunkPlan) -> Result<VisChunk> {
        let dd = DataDescId(plan.dd.max(0) as u32);
        let spw = self
            .meta
            .data_desc(dd)
            .map(|d| d.spw)
            .ok_or_else(|| CasaError::Invalid {
                path: self.meta.path.clone(),
                msg: format!("DATA_DESC_ID {} has no DATA_DESCRIPTION row", plan.dd),
            })?;
        let chans = self.sel.chans_of(&self.meta, spw.0);
        let corrs = self.sel.corrs_of(&self.meta, dd);
        let ncorr_all = self.meta.corrs_of(dd).len();
        let nc = chans.len();
        // Whole cells selected (the common case): copy each cell as one slice.
        let whole = corrs.iter().copied().eq(0..ncorr_all)
            && chans.iter().copied().eq(0..nc)
            && self.meta.spw(spw).is_some_and(|w| w.nchan() == nc);
        let want = Wanted {
            chans: &chans,
            corrs: &corrs,
            nchan_all: self.meta.spw(spw).map_or(0, |w| w.nchan()),
            ncorr_all,
            data: self.read_data.then_some(self.column.as_str()),
            weight_spectrum: self.with_ws,
        };
        // Bulk reads; per-cell reads when the glue cannot (e.g. cells of other shapes).
        let bulk = self
            .bulk
            .as_mut()
            .and_then(|b| read_bulk(b, &plan.rows, &want).ok());
        let Cells {
            data,
            flag,
            weight,
            sigma,
            ws,
            uvw,
        } = match bulk {
            Some(c) => c,
            None => self.read_cells(&plan.rows, &chans, &corrs, ncorr_all, whole)?,
        };
        let n = plan.rows.len();
        let mut time = Array1::<f64>::zeros(n);
        let mut interval = Array1::<f64>::zeros(n);
        let (mut ant1, mut ant2, mut flag_row) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for (k, &row) in plan.rows.iter().enumerate() {
            let r = row as usize;
            time[k] = self.idx.time_s[r];
            interval[k] = self.idx.interval_s[r];
            ant1.push(AntennaId(self.idx.ant1[r].max(0) as u32));
            ant2.push(AntennaId(self.idx.ant2[r].max(0) as u32));
            flag_row.push(self.idx.flag_row[r]);
        }
        let mut chunk = VisChunk {
            dd,
            spw,
            field: FieldId(plan.field.max(0) as u32),
            scan: plan.scan,
            rows: plan.rows,
            chans,
            corrs,
            time_s: time,
            interval_s: interval,
            ant1,
            ant2,
            uvw_m: uvw,
            data_rcf: data,
            flag_rcf: flag,
            weight_rc: weight,
            sigma_rc: sigma,
            weight_spectrum_rcf: ws,
            flag_row,
        };
        // FLAG_ROW flags the whole row.
        for (k, &fr) in chunk.flag_row.iter().enumerate() {
            if fr {
                chunk
                    .flag_rcf
                    .index_axis_mut(ndarray::Axis(0), k)
                    .fill(true);
            }
        }
        for layer in &self.layers {
            layer.apply(&mut chunk);
        }
        Ok(chunk)
    }

    /// The per-cell reads (rubbl), for tables the bulk glue cannot read.
    fn read_cells(
        &mut self,
        rows: &[u64],
        chans: &[usize],
        corrs: &[usize],
        ncorr_all: usize,
        whole: bool,
    ) -> Result<Cells> {
        let (n, nc, np) = (rows.len(), chans.len(), corrs.len());
        let mut data = if self.read_data {
            Array3::<Complex32>::zeros((n, nc, np))
        } else {
            Array3::<Complex32>::zeros((n, 0, 0))
        };
        let mut flag = Array3::<bool>::from_elem((n, nc, np), false);
        let mut weight = Array2::<f32>::zeros((n, np));
        let mut sigma = Array2::<f32>::zeros((n, np));
        let mut ws = self.with_ws.then(|| Array3::<f32>::zeros((n, nc, np)));
        let mut uvw = Array2::<f64>::zeros((n, 3));
        for (k, &row) in rows.iter().enumerate() {
            let u = self.main.cell_vec::<f64>("UVW", row)?;
            for (j, v) in u.iter().take(3).enumerate() {
                uvw[[k, j]] = *v;
            }
            // Cells are [ncorr, nchan] with the correlation axis fastest.
            let fcell = self.main.cell_vec::<bool>("FLAG", row)?;
            let need = ncorr_all * chans.last().map_or(0, |c| c + 1);
            let bad_shape = |what: &str, len: usize| CasaError::Invalid {
                path: self.meta.path.clone(),
                msg: format!(
                    "row {row}: {what} has {len} values, expected at least {need} \
                     ({ncorr_all} correlations)"
                ),
            };
            if fcell.len() < need {
                return Err(bad_shape("FLAG", fcell.len()));
            }
            if self.read_data {
                let cell = self.main.cell_vec::<Complex32>(&self.column, row)?;
                if cell.len() < need {
                    return Err(bad_shape(&self.column, cell.len()));
                }
                let mut out = data.index_axis_mut(ndarray::Axis(0), k);
                match out.as_slice_mut() {
                    Some(dst) if whole && cell.len() == dst.len() => dst.copy_from_slice(&cell),
                    _ => {
                        for (ci, &c) in chans.iter().enumerate() {
                            for (pi, &p) in corrs.iter().enumerate() {
                                out[[ci, pi]] = cell[c * ncorr_all + p];
                            }
                        }
                    }
                }
            }
            let mut fout = flag.index_axis_mut(ndarray::Axis(0), k);
            match fout.as_slice_mut() {
                Some(dst) if whole && fcell.len() == dst.len() => dst.copy_from_slice(&fcell),
                _ => {
                    for (ci, &c) in chans.iter().enumerate() {
                        for (pi, &p) in corrs.iter().enumerate() {
                            fout[[ci, pi]] = fcell[c * ncorr_all + p];
                        }
                    }
                }
            }
            let w = self.main.cell_vec::<f32>("WEIGHT", row)?;
            let s = self.main.cell_vec::<f32>("SIGMA", row)?;
            for (pi, &p) in corrs.iter().enumerate() {
                weight[[k, pi]] = w.get(p).copied().unwrap_or(0.0);
                sigma[[k, pi]] = s.get(p).copied().unwrap_or(0.0);
            }
            if let Some(ws) = ws.as_mut() {
                let wcell = self.main.cell_vec::<f32>("WEIGHT_SPECTRUM", row)?;
                for (ci, &c) in chans.iter().enumerate() {
                    for (pi, &p) in corrs.iter().enumerate() {
                        ws[[k, ci, pi]] = wcell.get(c * ncorr_all + p).copied().unwrap_or(0.0);
                    }
                }
            }
        }
        Ok(Cells {
            data,
            flag,
            weight,
            sigma,
            ws,
            uvw,
        })
    }
}

/// What a chunk reads of each row.
struct Wanted<'a> {
    chans: &'a [usize],
    corrs: &'a [usize],
    nchan_all: usize,
    ncorr_all: usize,
    /// The visibility column, if read.
    data: Option<&'a str>,
    weight_spectrum: bool,
}

/// A chunk's cell arrays, (row, chan, corr) / (row, corr) / (row, 3).
struct Cells {
    data: Array3<Complex32>,
    flag: Array3<bool>,
    weight: Array2<f32>,
    sigma: Array2<f32>,
    ws: Option<Array3<f32>>,
    uvw: Array2<f64>,
}

/// Keep the selected channels and correlations of full cells (`full`: rows of
/// `nchan_all × ncorr_all`, correlation fastest).
fn pick<T: Copy + Default>(full: Vec<T>, n: usize, w: &Wanted<'_>) -> Array3<T> {
    let (nc, np) = (w.chans.len(), w.corrs.len());
    if w.chans.iter().copied().eq(0..w.nchan_all) && w.corrs.iter().copied().eq(0..w.ncorr_all) {
        if let Ok(a) = Array3::from_shape_vec((n, nc, np), full) {
            return a;
        }
        return Array3::from_elem((n, nc, np), T::default());
    }
    let cell = w.nchan_all * w.ncorr_all;
    Array3::from_shape_fn((n, nc, np), |(k, ci, pi)| {
        full[k * cell + w.chans[ci] * w.ncorr_all + w.corrs[pi]]
    })
}

/// Read a chunk's cells with one bulk call per column.
fn read_bulk(
    b: &mut BulkTable,
    rows: &[u64],
    w: &Wanted<'_>,
) -> std::result::Result<Cells, BulkError> {
    let n = rows.len();
    let cell = w.nchan_all * w.ncorr_all;
    let per_corr = |full: Vec<f32>| {
        Array2::from_shape_fn((n, w.corrs.len()), |(k, pi)| {
            full[k * w.ncorr_all + w.corrs[pi]]
        })
    };
    let data = match w.data {
        Some(col) => pick(b.cells::<Complex32>(col, rows, cell)?, n, w),
        None => Array3::zeros((n, 0, 0)),
    };
    let flag = pick(b.cells::<bool>("FLAG", rows, cell)?, n, w);
    let weight = per_corr(b.cells::<f32>("WEIGHT", rows, w.ncorr_all)?);
    let sigma = per_corr(b.cells::<f32>("SIGMA", rows, w.ncorr_all)?);
    let ws = if w.weight_spectrum {
        Some(pick(b.cells::<f32>("WEIGHT_SPECTRUM", rows, cell)?, n, w))
    } else {
        None
    };
    let uvw =
        Array2::from_shape_vec((n, 3), b.cells::<f64>("UVW", rows, 3)?).map_err(|e| BulkError {
            path: Default::default(),
            column: "UVW".into(),
            msg: e.to_string(),
        })?;
    Ok(Cells {
        data,
        flag,
        weight,
        sigma,
        ws,
        uvw,
    })
}

impl Iterator for ChunkReader {
    type Item = Result<VisChunk>;

    fn next(&mut self) -> Option<Self::Item> {
        let plan = self.plans.next()?;
        Some(self.read_chunk(plan))
    }
}

/// A stream of chunks produced by a dedicated I/O thread.
pub struct ChunkStream {
    meta: MsMeta,
    planned: BTreeMap<i32, u64>,
    rx: mpsc::Receiver<Result<VisChunk>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl ChunkStream {
    pub fn meta(&self) -> &MsMeta {
        &self.meta
    }

    /// Rows the stream will deliver, per DATA_DESC_ID.
    pub fn planned_rows(&self) -> &BTreeMap<i32, u64> {
        &self.planned
    }
}

impl Iterator for ChunkStream {
    type Item = Result<VisChunk>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.rx.recv() {
            Ok(item) => Some(item),
            Err(_) => {
                if let Some(h) = self.handle.take() {
                    if h.join().is_err() {
                        return Some(Err(CasaError::ReaderThread(
                            "reader thread panicked".into(),
                        )));
                    }
                }
                None
            }
        }
    }
}

/// Start an I/O thread that opens the MS and sends chunks through a queue of `depth`.
/// Errors in opening or selection are returned here, before any chunk.
pub fn spawn_reader(req: ReadRequest, depth: usize) -> Result<ChunkStream> {
    let (meta_tx, meta_rx) = mpsc::sync_channel::<Result<(MsMeta, BTreeMap<i32, u64>)>>(1);
    let (tx, rx) = mpsc::sync_channel::<Result<VisChunk>>(depth.max(1));
    let handle = std::thread::Builder::new()
        .name("almacal-ms-reader".into())
        .spawn(move || {
            let mut reader = match ChunkReader::open(&req) {
                Ok(r) => r,
                Err(e) => {
                    let _ = meta_tx.send(Err(e));
                    return;
                }
            };
            let mut planned = BTreeMap::new();
            for p in reader.plans.as_slice() {
                *planned.entry(p.dd).or_insert(0) += p.rows.len() as u64;
            }
            if meta_tx.send(Ok((reader.meta().clone(), planned))).is_err() {
                return;
            }
            for chunk in reader.by_ref() {
                let stop = chunk.is_err();
                if tx.send(chunk).is_err() || stop {
                    return;
                }
            }
        })
        .map_err(|e| CasaError::ReaderThread(e.to_string()))?;
    let (meta, planned) = meta_rx
        .recv()
        .map_err(|_| CasaError::ReaderThread("reader thread ended before opening".into()))??;
    Ok(ChunkStream {
        meta,
        planned,
        rx,
        handle: Some(handle),
    })
}

/// Convenience: count the rows a selection gives on an MS.
pub fn count_selected_rows(ms: &Path, p: &SelectionParams) -> Result<(u64, Selection, MsMeta)> {
    let mut req = ReadRequest::new(ms);
    req.selection = p.clone();
    let reader = ChunkReader::open(&req)?;
    let n = reader
        .plans
        .as_slice()
        .iter()
        .map(|c| c.rows.len() as u64)
        .sum();
    let sel = reader.sel.clone();
    let meta = reader.meta.clone();
    Ok((n, sel, meta))
}

#[cfg(test)]
mod bin_tests {
    use super::bin_boundaries;

    #[test]
    fn chunks_end_only_where_no_time_bin_continues() {
        // Two baselines every 10 s from 0 to 50; bins of 30 s: starts at 0 and 30.
        let mut time = Vec::new();
        let mut bl = Vec::new();
        for k in 0..6 {
            for b in [(0, 1), (0, 2)] {
                time.push(10.0 * k as f64);
                bl.push(b);
            }
        }
        assert_eq!(bin_boundaries(&time, &bl, 30.0), vec![6]);
        // Baseline (0, 2) starts at 10 s: its bins start at 10 and 40, (0, 1)'s at 0 and
        // 30, so no time is a common boundary.
        let keep: Vec<usize> = (0..time.len()).filter(|&i| i != 1).collect();
        let t2: Vec<f64> = keep.iter().map(|&i| time[i]).collect();
        let b2: Vec<(i32, i32)> = keep.iter().map(|&i| bl[i]).collect();
        assert!(bin_boundaries(&t2, &b2, 30.0).is_empty());
        // Without a bin every timestamp is a boundary.
        assert_eq!(bin_boundaries(&time, &bl, 5.0), vec![2, 4, 6, 8, 10]);
    }
}
