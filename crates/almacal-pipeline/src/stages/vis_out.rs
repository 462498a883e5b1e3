//! Materialising a vis product: a new MeasurementSet written in one streaming pass,
//! read chunks (I/O thread) → per-chunk work such as applycal (rayon) → write (one thread).
//!
//! The main table is a casacore deep copy of the input's description (same columns and
//! storage managers, minus CORRECTED_DATA / MODEL_DATA / WEIGHT_SPECTRUM / SIGMA_SPECTRUM).
//! With `reindex = false` every subtable is copied unchanged (all SPECTRAL_WINDOW and
//! DATA_DESCRIPTION rows kept, so DDIDs and spw ids stay) and only whole spws are written;
//! with `reindex = true` (CASA's split) the subtables are rewritten and the main table's
//! DATA_DESC_ID / FIELD_ID / STATE_ID renumbered as [`super::reindex`] says, and a channel
//! selection within a spw writes those channels. The selected rows are written with the chosen data column as DATA, the final flags
//! (base FLAG OR upstream layers OR solution flags) and, for calibrated data,
//! SIGMA = 1/sqrt(WEIGHT) (algorithms.md §8.5). Rows are written chunk by chunk, i.e.
//! grouped by (DDID, field, scan) in time order. The input MS is only read.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};

use almacal_casa::prefault::Prefaulter;
use almacal_casa::read_meta;
use almacal_casa::reader::{spawn_reader, ReadRequest};
use almacal_casa::selection::SelectionParams;
use almacal_casa::table::{casacore_lock, RoTable};
use almacal_casa::write_table::{deep_copy_no_rows, WriteTable};
use almacal_core::chunk::VisChunk;
use almacal_core::flaglayer::FlagLayer;
use almacal_core::ids::DataDescId;
use almacal_core::meta::MsMeta;
use rayon::prelude::*;
use rubbl_casatables::{CasaScalarData, Table, TableOpenMode};

use super::average::RowTimes;
use super::prep_common::{casa_err, failed};
use super::reindex::Reindex;
use crate::executor::StageError;

/// Which column of the input becomes the output DATA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataColumn {
    Data,
    Corrected,
    Model,
}

impl DataColumn {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "data" => Self::Data,
            "" | "corrected" => Self::Corrected,
            "model" => Self::Model,
            _ => return None,
        })
    }
    fn column(self) -> &'static str {
        match self {
            Self::Data => "DATA",
            Self::Corrected => "CORRECTED_DATA",
            Self::Model => "MODEL_DATA",
        }
    }
}

/// What to write.
#[derive(Debug, Clone)]
pub struct OutputSpec {
    pub selection: SelectionParams,
    pub datacolumn: DataColumn,
    /// false: rows whose cells are all flagged are dropped (CASA `keepflags=False`).
    pub keepflags: bool,
    /// CASA's `reindex`: renumber spws, DDIDs (and fields/states when selected) from 0.
    pub reindex: bool,
    /// Time and channel averaging (split's `timebin` / `width`).
    pub average: AverageSpec,
}

/// split / mstransform averaging (see [`super::average`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AverageSpec {
    /// Time bin in seconds; 0: none.
    pub timebin_s: f64,
    /// Channels averaged per output channel, by input spw id (absent or 1: none).
    pub chanbin: BTreeMap<u32, usize>,
    /// Time bins cross scan boundaries (split `combine = 'scan'`, mstransform
    /// `timespan = 'scan'`).
    pub combine_scans: bool,
}

impl AverageSpec {
    pub fn is_none(&self) -> bool {
        self.timebin_s <= 0.0 && self.chanbin.values().all(|&w| w <= 1)
    }
    /// The channel bin of input spw `spw`.
    pub fn width(&self, spw: u32) -> usize {
        self.chanbin.get(&spw).copied().unwrap_or(1).max(1)
    }
}

/// Per-chunk work done on compute threads before writing (e.g. applycal).
pub trait ChunkOp: Sync {
    /// Transform `chunk` in place; `meta` describes the input MS.
    fn apply(&self, chunk: &mut VisChunk, meta: &MsMeta) -> Result<(), String>;
}

/// What a write did.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct WriteStats {
    pub rows_read: u64,
    pub rows_written: u64,
    pub chunks: u64,
    pub cells_flagged: u64,
    pub cells_total: u64,
    /// The same counts per spw (what a partial rerun replaces).
    #[serde(default)]
    pub per_spw: BTreeMap<u32, SpwStats>,
}

/// Output counts of one spw.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct SpwStats {
    pub rows_written: u64,
    pub cells_flagged: u64,
    pub cells_total: u64,
}

impl WriteStats {
    fn count_chunk(&mut self, c: &VisChunk, keep: &[usize]) {
        self.rows_read += c.nrows() as u64;
        self.rows_written += keep.len() as u64;
        self.chunks += 1;
        let e = self.per_spw.entry(c.spw.0).or_default();
        e.rows_written += keep.len() as u64;
        for &k in keep {
            let f = c.flag_rcf.index_axis(ndarray::Axis(0), k);
            let nf = f.iter().filter(|&&x| x).count() as u64;
            self.cells_total += f.len() as u64;
            self.cells_flagged += nf;
            e.cells_total += f.len() as u64;
            e.cells_flagged += nf;
        }
    }

    /// Totals of a partial rerun: `previous` (a whole run's stats) with the spws of
    /// `self` replaced. `rows_read`/`chunks` stay those of this partial pass.
    pub fn merged_over(mut self, previous: &WriteStats) -> WriteStats {
        let mut per = previous.per_spw.clone();
        for (s, v) in &self.per_spw {
            per.insert(*s, *v);
        }
        self.rows_written = per.values().map(|v| v.rows_written).sum();
        self.cells_total = per.values().map(|v| v.cells_total).sum();
        self.cells_flagged = per.values().map(|v| v.cells_flagged).sum();
        self.per_spw = per;
        self
    }
}

/// Scalar columns carried from the input that chunks do not hold.
pub(crate) struct Extra {
    time_centroid: Vec<f64>,
    exposure: Vec<f64>,
    feed1: Vec<i32>,
    feed2: Vec<i32>,
    state: Vec<i32>,
    scan: Vec<i32>,
    obs: Vec<i32>,
    array: Vec<i32>,
    processor: Vec<i32>,
}

impl Extra {
    fn row_times(&self, c: &VisChunk) -> super::average::RowTimes {
        let pick = |v: &[f64]| -> Vec<f64> { c.rows.iter().map(|&r| v[r as usize]).collect() };
        super::average::RowTimes {
            time_centroid: pick(&self.time_centroid),
            exposure: pick(&self.exposure),
        }
    }
}

fn read_extra(ms: &Path) -> almacal_casa::error::Result<Extra> {
    let mut t = RoTable::open(ms)?;
    let n = t.nrows() as usize;
    let mut i32s = |name: &str| -> almacal_casa::error::Result<Vec<i32>> {
        Ok(t.col_opt::<i32>(name)?.unwrap_or_else(|| vec![0; n]))
    };
    let feed1 = i32s("FEED1")?;
    let feed2 = i32s("FEED2")?;
    let state = i32s("STATE_ID")?;
    let scan = i32s("SCAN_NUMBER")?;
    let obs = i32s("OBSERVATION_ID")?;
    let array = i32s("ARRAY_ID")?;
    let processor = i32s("PROCESSOR_ID")?;
    let time_centroid = match t.col_opt::<f64>("TIME_CENTROID")? {
        Some(v) => v,
        None => t.col::<f64>("TIME")?,
    };
    let exposure = match t.col_opt::<f64>("EXPOSURE")? {
        Some(v) => v,
        None => t.col::<f64>("INTERVAL")?,
    };
    Ok(Extra {
        time_centroid,
        exposure,
        feed1,
        feed2,
        state,
        scan,
        obs,
        array,
        processor,
    })
}

/// The output table: flushed through a call that catches before it is closed, and leaked
/// instead of closed when that fails (a full disk must not abort the process).
type OutTable = WriteTable;

fn copy_dir(src: &Path, dst: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dst)?;
    for e in std::fs::read_dir(src)? {
        let e = e?;
        let to = dst.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &to)?;
        } else {
            std::fs::copy(e.path(), &to)?;
        }
    }
    Ok(())
}

/// Create `out` with the input's main-table description and full copies of its subtables
/// (re-indexed as `plan` says, channel axes averaged as `widths` says: output spw → bin).
fn create_output(
    ms: &Path,
    out: &Path,
    plan: Option<&Reindex>,
    widths: &BTreeMap<i32, usize>,
) -> Result<OutTable, String> {
    if out.exists() {
        return Err(format!("{} already exists", out.display()));
    }
    if out.to_str().is_none() {
        return Err(format!("{} is not valid UTF-8", out.display()));
    }
    deep_copy_no_rows(ms, out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    // Subtables: replace the empty copies with the input's (all rows, unchanged).
    for e in std::fs::read_dir(ms).map_err(|e| format!("{}: {e}", ms.display()))? {
        let e = e.map_err(|e| format!("{}: {e}", ms.display()))?;
        let p = e.path();
        if p.is_dir() && p.join("table.dat").is_file() {
            let dst = out.join(e.file_name());
            if dst.exists() {
                std::fs::remove_dir_all(&dst).map_err(|e| format!("{}: {e}", dst.display()))?;
            }
            copy_dir(&p, &dst)
                .map_err(|e| format!("copying {} to {}: {e}", p.display(), dst.display()))?;
        }
    }
    if let Some(r) = plan {
        super::reindex::rewrite_subtables(ms, out, r)?;
    }
    if !widths.is_empty() {
        average_spectral_windows(out, widths)?;
    }
    let _g = casacore_lock();
    let mut t = WriteTable::new(
        Table::open(
            almacal_casa::table::casa_path(out),
            TableOpenMode::ReadWrite,
        )
        .map_err(|e| format!("cannot open {} for writing: {e}", out.display()))?,
        out,
    );
    let cols = t.column_names().map_err(|e| e.to_string())?;
    for c in [
        "CORRECTED_DATA",
        "MODEL_DATA",
        "WEIGHT_SPECTRUM",
        "SIGMA_SPECTRUM",
    ] {
        if cols.iter().any(|x| x == c) {
            t.remove_column(c)
                .map_err(|e| format!("{}: removing {c}: {e}", out.display()))?;
        }
    }
    Ok(t)
}

fn put_scalars<T: CasaScalarData>(
    t: &mut Table,
    col: &str,
    start: u64,
    v: &[T],
) -> Result<(), String> {
    t.put_column_range_scalar(col, start, v)
        .map_err(|e| format!("writing {col}: {e}"))
}

/// Old → new main-table ids of a re-indexed output (empty maps: ids kept).
#[derive(Default)]
struct OutIds {
    dd: Option<BTreeMap<i32, i32>>,
    field: Option<BTreeMap<i32, i32>>,
    state: Option<BTreeMap<i32, i32>>,
}

impl OutIds {
    fn of(plan: Option<&Reindex>) -> Self {
        match plan {
            None => Self::default(),
            Some(r) => Self {
                dd: Some(r.dd_map()),
                field: r.field_map(),
                state: r.state_map(),
            },
        }
    }
    /// A selected row's id is always in the map; anything else (negative) stays.
    fn map(m: &Option<BTreeMap<i32, i32>>, v: i32) -> i32 {
        m.as_ref().and_then(|m| m.get(&v).copied()).unwrap_or(v)
    }
}

/// Append the rows of `c` (only those in `keep`) to the output.
#[allow(clippy::too_many_arguments)]
fn write_chunk(
    out: &mut OutTable,
    c: &VisChunk,
    keep: &[usize],
    extra: &Extra,
    start: u64,
    ids: &OutIds,
    times: Option<&super::average::RowTimes>,
    averaged: bool,
) -> Result<(), String> {
    use ndarray::Axis;
    let n = keep.len();
    if n == 0 {
        return Ok(());
    }
    let rows: Vec<usize> = keep.iter().map(|&k| c.rows[k] as usize).collect();
    let pick_f = |v: &[f64]| -> Vec<f64> { rows.iter().map(|&r| v[r]).collect() };
    let pick_i = |v: &[i32]| -> Vec<i32> { rows.iter().map(|&r| v[r]).collect() };
    let all = keep.len() == c.nrows();
    let picked = (!all).then(|| {
        (
            c.data_rcf.select(Axis(0), keep),
            c.flag_rcf.select(Axis(0), keep),
        )
    });
    let (data, flag) = match &picked {
        Some((d, f)) => (d.view(), f.view()),
        None => (c.data_rcf.view(), c.flag_rcf.view()),
    };
    let weight = c.weight_rc.select(Axis(0), keep);
    let sigma = c.sigma_rc.select(Axis(0), keep);
    let uvw = c.uvw_m.select(Axis(0), keep);
    // CASA's averaging keeps FLAG_ROW as it was (channels) or writes false (time); it is
    // not raised for rows whose cells are all flagged.
    let flag_row: Vec<bool> = keep
        .iter()
        .enumerate()
        .map(|(i, &k)| {
            c.flag_row[k] || (!averaged && flag.index_axis(Axis(0), i).iter().all(|&f| f))
        })
        .collect();
    let _g = casacore_lock();
    let t: &mut Table = out;
    t.add_rows(n).map_err(|e| format!("adding rows: {e}"))?;
    let time: Vec<f64> = keep.iter().map(|&k| c.time_s[k]).collect();
    let interval: Vec<f64> = keep.iter().map(|&k| c.interval_s[k]).collect();
    put_scalars(t, "TIME", start, &time)?;
    // Time-averaged rows carry their own TIME_CENTROID and EXPOSURE.
    let (tc, exposure) = match times {
        Some(rt) => (
            keep.iter().map(|&k| rt.time_centroid[k]).collect(),
            keep.iter().map(|&k| rt.exposure[k]).collect(),
        ),
        None => (pick_f(&extra.time_centroid), pick_f(&extra.exposure)),
    };
    put_scalars(t, "TIME_CENTROID", start, &tc)?;
    put_scalars(t, "INTERVAL", start, &interval)?;
    put_scalars(t, "EXPOSURE", start, &exposure)?;
    let a1: Vec<i32> = keep.iter().map(|&k| c.ant1[k].0 as i32).collect();
    let a2: Vec<i32> = keep.iter().map(|&k| c.ant2[k].0 as i32).collect();
    put_scalars(t, "ANTENNA1", start, &a1)?;
    put_scalars(t, "ANTENNA2", start, &a2)?;
    put_scalars(t, "FEED1", start, &pick_i(&extra.feed1))?;
    put_scalars(t, "FEED2", start, &pick_i(&extra.feed2))?;
    let dd = OutIds::map(&ids.dd, c.dd.0 as i32);
    let field = OutIds::map(&ids.field, c.field.0 as i32);
    let state: Vec<i32> = pick_i(&extra.state)
        .into_iter()
        .map(|s| OutIds::map(&ids.state, s))
        .collect();
    put_scalars(t, "DATA_DESC_ID", start, &vec![dd; n])?;
    put_scalars(t, "FIELD_ID", start, &vec![field; n])?;
    // Per row: a chunk of time bins across scans holds several.
    put_scalars(t, "SCAN_NUMBER", start, &pick_i(&extra.scan))?;
    put_scalars(t, "STATE_ID", start, &state)?;
    put_scalars(t, "OBSERVATION_ID", start, &pick_i(&extra.obs))?;
    put_scalars(t, "ARRAY_ID", start, &pick_i(&extra.array))?;
    put_scalars(t, "PROCESSOR_ID", start, &pick_i(&extra.processor))?;
    put_scalars(t, "FLAG_ROW", start, &flag_row)?;
    let arr = |r: Result<(), rubbl_casatables::CasacoreError>, col: &str| {
        r.map_err(|e| format!("writing {col}: {e}"))
    };
    arr(t.put_column_range_array("UVW", start, &uvw), "UVW")?;
    arr(t.put_column_range_array("WEIGHT", start, &weight), "WEIGHT")?;
    arr(t.put_column_range_array("SIGMA", start, &sigma), "SIGMA")?;
    arr(t.put_column_range_array("DATA", start, &data), "DATA")?;
    arr(t.put_column_range_array("FLAG", start, &flag), "FLAG")?;
    Ok(())
}

/// Write the selected rows of `ms` (with `layers` OR'ed into FLAG), transformed by `op`,
/// as a new MS at `out`. With an `op` the input's DATA is read and its result written
/// (applycal: the corrected data); without, the `datacolumn` is copied.
#[allow(clippy::too_many_arguments)]
pub fn write_vis(
    stage: &str,
    ms: &Path,
    layers: Vec<Arc<FlagLayer>>,
    out: &Path,
    spec: &OutputSpec,
    op: Option<&dyn ChunkOp>,
    threads: usize,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<WriteStats, StageError> {
    let meta = read_meta(ms).map_err(|e| casa_err(stage, e))?;
    let plan = spec
        .reindex
        .then(|| super::reindex::plan(&meta, &spec.selection))
        .transpose()
        .map_err(|e| failed(stage, e))?;
    let averaging = !spec.average.is_none();
    if averaging {
        averaging_problems(ms).map_err(|e| failed(stage, e))?;
    }
    let mut req = ReadRequest::new(ms);
    req.selection = spec.selection.clone();
    req.flag_layers = layers;
    req.column = if op.is_some() {
        "DATA".into()
    } else {
        spec.datacolumn.column().into()
    };
    // Time bins never straddle two chunks.
    req.time_bin_s = (spec.average.timebin_s > 0.0).then_some(spec.average.timebin_s);
    req.combine_scans = spec.average.timebin_s > 0.0 && spec.average.combine_scans;
    let calibrated = op.is_some() || spec.datacolumn == DataColumn::Corrected;
    let extra = Arc::new(read_extra(ms).map_err(|e| casa_err(stage, e))?);
    let stream = spawn_reader(req, 2).map_err(|e| casa_err(stage, e))?;
    let total_rows = meta_rows(ms);
    // Every selected row is written when flagged rows are kept: the visibility file will
    // reach rows × cell bytes, which the prefaulter may prepare ahead of casacore.
    let partial = plan.as_ref().is_some_and(Reindex::has_channel_selection);
    // The output spw of each input spw, for its channel averaging.
    let out_widths: BTreeMap<i32, usize> = if spec.average.chanbin.is_empty() {
        BTreeMap::new()
    } else {
        match &plan {
            Some(r) => r
                .spws
                .iter()
                .enumerate()
                .map(|(i, (old, _))| (i as i32, spec.average.width(*old)))
                .collect(),
            None => spec
                .average
                .chanbin
                .iter()
                .map(|(&s, &w)| (s as i32, w))
                .collect(),
        }
    };
    let cell_bytes = (spec.keepflags && !partial && !averaging)
        .then(|| uniform_cell_bytes(&meta, stream.planned_rows()))
        .flatten();
    // The visibilities, flags and weights of the rows to write, checked against the free
    // space up front: a full disk is then a clear failure, not a half-written table.
    if let Some((bytes, rows)) = uniform_cell_bytes(&meta, stream.planned_rows()) {
        let need = rows * (bytes + bytes / 8 + 64) + almacal_casa::space::RESERVE_BYTES;
        let dir = out.parent().unwrap_or(out);
        almacal_casa::space::ensure_free(dir, need, &format!("writing {}", out.display()))
            .map_err(|e| failed(stage, e.to_string()))?;
    }
    let (tx, rx) = mpsc::sync_channel::<Finished>(2);
    let ms_w: PathBuf = ms.to_path_buf();
    let out_w: PathBuf = out.to_path_buf();
    let plan_w = plan.clone();
    let extra_w = Arc::clone(&extra);
    let writer = std::thread::Builder::new()
        .name("almacal-ms-writer".into())
        .spawn(move || -> Result<u64, String> {
            let extra = extra_w;
            let mut t = create_output(&ms_w, &out_w, plan_w.as_ref(), &out_widths)?;
            let ids = OutIds::of(plan_w.as_ref());
            let mut n = 0u64;
            let mut prefault = None;
            for (k, (c, keep, times)) in rx.into_iter().enumerate() {
                write_chunk(
                    &mut t,
                    &c,
                    &keep,
                    &extra,
                    n,
                    &ids,
                    times.as_ref(),
                    averaging,
                )?;
                n += keep.len() as u64;
                // The file is recognised within the first chunks, or left alone.
                if let (true, Some((bytes, rows))) = (prefault.is_none() && k < 4, cell_bytes) {
                    prefault = Prefaulter::start(&out_w, n * bytes, rows * bytes);
                }
            }
            // A full disk comes back here as an error naming the table.
            t.close().map_err(|e| e.to_string())?;
            drop(prefault);
            Ok(n)
        })
        .map_err(|e| failed(stage, format!("cannot start the writer thread: {e}")))?;

    let avg = averaging.then(|| (&spec.average, extra.as_ref()));
    let computed = compute_stream(
        stage,
        stream,
        threads,
        &meta,
        (op, calibrated, spec.keepflags, partial),
        avg,
        total_rows,
        progress,
        |f| Ok(tx.send(f).is_ok()),
    );
    drop(tx);
    let written = writer
        .join()
        .map_err(|_| failed(stage, "the MS writer thread panicked"))?;
    let stats = computed?;
    let n = written.map_err(|e| failed(stage, format!("writing {}: {e}", out.display())))?;
    if n != stats.rows_written {
        return Err(failed(
            stage,
            format!("wrote {n} rows but prepared {}", stats.rows_written),
        ));
    }
    // casacore keeps the type in table.info; deep copies keep the input's, but make sure.
    Ok(stats)
}

/// The compute half of a streaming pass, shared by [`write_vis`] and
/// [`update_vis_in_place`]: take chunks from the reader in batches, finish them on a pool
/// of `threads` ([`finish_chunk`] with `(op, calibrated, keepflags)`), count them, and hand
/// each with its kept rows to `sink`, which forwards it to the writer thread (`Ok(false)`:
/// the writer has stopped, whose error the caller reports).
#[allow(clippy::too_many_arguments)]
fn compute_stream(
    stage: &str,
    stream: almacal_casa::reader::ChunkStream,
    threads: usize,
    meta: &MsMeta,
    (op, calibrated, keepflags, channels): (Option<&dyn ChunkOp>, bool, bool, bool),
    avg: Option<(&AverageSpec, &Extra)>,
    total_rows: u64,
    progress: &(dyn Fn(u64, u64) + Sync),
    mut sink: impl FnMut(Finished) -> Result<bool, StageError>,
) -> Result<WriteStats, StageError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| failed(stage, format!("cannot start threads: {e}")))?;
    let mut stats = WriteStats::default();
    let batch_len = threads.max(1) * 2;
    let mut batch: Vec<VisChunk> = Vec::with_capacity(batch_len);
    let mut stream = stream.peekable();
    while let Some(item) = stream.next() {
        batch.push(item.map_err(|e| casa_err(stage, e))?);
        if batch.len() < batch_len && stream.peek().is_some() {
            continue;
        }
        let results: Vec<Result<Prepared, String>> = pool.install(|| {
            batch
                .par_iter_mut()
                .map(|c| {
                    let nin = c.nrows();
                    let (keep, times) =
                        finish_chunk(c, meta, op, calibrated, (keepflags, channels), avg)?;
                    Ok((keep, times, nin))
                })
                .collect()
        });
        for (c, r) in batch.drain(..).zip(results) {
            let (keep, times, nin) = r.map_err(|e| failed(stage, e))?;
            stats.count_chunk(&c, &keep);
            // Averaged chunks hold fewer rows than were read.
            stats.rows_read = stats.rows_read + nin as u64 - c.nrows() as u64;
            if !sink((c, keep, times))? {
                return Ok(stats);
            }
        }
        progress(stats.rows_read, total_rows);
    }
    Ok(stats)
}

/// What averaging cannot do yet, checked before writing: CASA averages with
/// WEIGHT_SPECTRUM when the MS has it, which this writer does not read.
fn averaging_problems(ms: &Path) -> Result<(), String> {
    let t = RoTable::open(ms).map_err(|e| e.to_string())?;
    if t.has_column("WEIGHT_SPECTRUM") {
        return Err(format!(
            "averaging (timebin / width) an MS with WEIGHT_SPECTRUM ({}) is not implemented",
            ms.display()
        ));
    }
    Ok(())
}

/// Average the channel axes of the output's SPECTRAL_WINDOW rows: `widths` maps an output
/// spw id to its channel bin (see [`super::average`]).
fn average_spectral_windows(out: &Path, widths: &BTreeMap<i32, usize>) -> Result<(), String> {
    use super::average::average_spw_axis;
    let p = out.join("SPECTRAL_WINDOW");
    let _g = casacore_lock();
    let mut t = WriteTable::new(
        Table::open(almacal_casa::table::casa_path(&p), TableOpenMode::ReadWrite)
            .map_err(|e| format!("cannot open {}: {e}", p.display()))?,
        &p,
    );
    {
        let tt: &mut Table = &mut t;
        let n = tt.n_rows();
        for (&spw, &w) in widths {
            let Ok(row) = u64::try_from(spw) else {
                continue;
            };
            if w <= 1 || row >= n {
                continue;
            }
            let freq_in: Vec<f64> = tt
                .get_cell_as_vec("CHAN_FREQ", row)
                .map_err(|e| format!("reading CHAN_FREQ: {e}"))?;
            let width_in: Vec<f64> = tt
                .get_cell_as_vec("CHAN_WIDTH", row)
                .map_err(|e| format!("reading CHAN_WIDTH: {e}"))?;
            let (reference, total) = super::average::averaged_ref_and_total(&freq_in, &width_in, w);
            let mut avg = |col: &str, mean: bool| -> Result<Vec<f64>, String> {
                let v: Vec<f64> = tt
                    .get_cell_as_vec(col, row)
                    .map_err(|e| format!("reading {col}: {e}"))?;
                let a = average_spw_axis(&v, w, mean);
                tt.put_cell(col, row, &a)
                    .map_err(|e| format!("writing {col}: {e}"))?;
                Ok(a)
            };
            let freq = avg("CHAN_FREQ", true)?;
            avg("CHAN_WIDTH", false)?;
            avg("EFFECTIVE_BW", false)?;
            avg("RESOLUTION", false)?;
            let nchan = freq.len() as i32;
            tt.put_cell("NUM_CHAN", row, &nchan)
                .map_err(|e| format!("writing NUM_CHAN: {e}"))?;
            tt.put_cell("TOTAL_BANDWIDTH", row, &total)
                .map_err(|e| format!("writing TOTAL_BANDWIDTH: {e}"))?;
            if reference.is_finite() {
                tt.put_cell("REF_FREQUENCY", row, &reference)
                    .map_err(|e| format!("writing REF_FREQUENCY: {e}"))?;
            }
        }
    }
    t.close().map_err(|e| e.to_string())
}

/// (DATA cell bytes, rows) when every planned row has the same cell shape (whole spws are
/// written).
fn uniform_cell_bytes(
    meta: &MsMeta,
    planned: &std::collections::BTreeMap<i32, u64>,
) -> Option<(u64, u64)> {
    let mut shape = None;
    let mut rows = 0;
    for (&dd, &n) in planned {
        let d = meta.data_desc(DataDescId(u32::try_from(dd).ok()?))?;
        let s = (meta.spw(d.spw)?.nchan(), meta.corrs_of(d.id).len());
        if *shape.get_or_insert(s) != s {
            return None;
        }
        rows += n;
    }
    let (nchan, ncorr) = shape?;
    Some(((nchan * ncorr * 8) as u64, rows))
}

fn meta_rows(ms: &Path) -> u64 {
    RoTable::open(ms).map(|t| t.nrows()).unwrap_or(0)
}

/// The last guard before visibilities are written: a NaN/inf visibility, or a visibility
/// whose weight is NaN/inf, is flagged (such a weight becomes 0), so no non-finite value is
/// ever written unflagged (a huge antenna offset or a broken solution cannot leak NaN into
/// a calibrated MS). Returns the number of cells newly flagged.
pub fn flag_nonfinite(c: &mut VisChunk) -> u64 {
    let mut n = 0;
    let (nrow, nchan, ncorr) = c.data_rcf.dim();
    for r in 0..nrow {
        for p in 0..ncorr {
            let w = c.weight_rc.get([r, p]).copied().unwrap_or(1.0);
            let bad_w = !w.is_finite();
            if bad_w {
                if let Some(x) = c.weight_rc.get_mut([r, p]) {
                    *x = 0.0;
                }
            }
            for ch in 0..nchan {
                let v = c.data_rcf[[r, ch, p]];
                let ws_bad = c
                    .weight_spectrum_rcf
                    .as_ref()
                    .and_then(|a| a.get([r, ch, p]))
                    .is_some_and(|x| !x.is_finite());
                if (bad_w || ws_bad || !v.re.is_finite() || !v.im.is_finite())
                    && !c.flag_rcf[[r, ch, p]]
                {
                    c.flag_rcf[[r, ch, p]] = true;
                    n += 1;
                }
                if ws_bad {
                    if let Some(x) = c
                        .weight_spectrum_rcf
                        .as_mut()
                        .and_then(|a| a.get_mut([r, ch, p]))
                    {
                        *x = 0.0;
                    }
                }
            }
        }
    }
    n
}

/// What a compute thread made of a chunk: the rows to keep, the time-averaged rows'
/// TIME_CENTROID / EXPOSURE, and how many rows it held before averaging.
type Prepared = (Vec<usize>, Option<RowTimes>, usize);

/// A finished chunk on its way to the writer: the chunk, the rows to write and, for a
/// time-averaged chunk, its TIME_CENTROID / EXPOSURE.
type Finished = (VisChunk, Vec<usize>, Option<RowTimes>);

/// Compute-thread work on one chunk: the op, SIGMA, averaging (`avg`: time, then
/// channels, as CASA's mstransform), and which rows to keep.
fn finish_chunk(
    c: &mut VisChunk,
    meta: &MsMeta,
    op: Option<&dyn ChunkOp>,
    calibrated: bool,
    (keepflags, channels): (bool, bool),
    avg: Option<(&AverageSpec, &Extra)>,
) -> Result<(Vec<usize>, Option<RowTimes>), String> {
    let nchan_all = meta.spw(c.spw).map_or(0, |s| s.nchan());
    let ncorr_all = meta.corrs_of(c.dd).len();
    // A re-indexed output writes a channel selection as a new spw.
    if (c.chans.len() != nchan_all && !channels) || c.corrs.len() != ncorr_all {
        return Err(format!(
            "channel or correlation selection in the output (spw {} keeps {} of {} channels, {} of {} correlations) is not supported yet: select whole spws",
            c.spw.0,
            c.chans.len(),
            nchan_all,
            c.corrs.len(),
            ncorr_all
        ));
    }
    if let Some(op) = op {
        op.apply(c, meta)?;
    }
    flag_nonfinite(c);
    if calibrated {
        for (s, w) in c.sigma_rc.iter_mut().zip(c.weight_rc.iter()) {
            *s = if *w > 0.0 { 1.0 / w.sqrt() } else { 0.0 };
        }
    }
    let mut times = None;
    if let Some((a, extra)) = avg {
        // keepflags = false: CASA drops the fully flagged rows, then averages.
        if !keepflags {
            let unflagged: Vec<usize> = (0..c.nrows())
                .filter(|&k| {
                    !(c.flag_row[k]
                        || c.flag_rcf
                            .index_axis(ndarray::Axis(0), k)
                            .iter()
                            .all(|&f| f))
                })
                .collect();
            if unflagged.len() != c.nrows() {
                *c = super::average::select_rows(c, &unflagged);
            }
        }
        if a.timebin_s > 0.0 {
            let (out, t) = super::average::average_time(c, &extra.row_times(c), a.timebin_s);
            *c = out;
            times = Some(t);
        }
        let w = a.width(c.spw.0);
        if w > 1 {
            super::average::average_channels(c, w);
        }
    }
    let keep = (0..c.nrows())
        .filter(|&k| {
            keepflags
                || !(c.flag_row[k]
                    || c.flag_rcf
                        .index_axis(ndarray::Axis(0), k)
                        .iter()
                        .all(|&f| f))
        })
        .collect();
    Ok((keep, times))
}

/// Row key shared by an input row and the output row written from it.
type RowKey = (u64, u32, u32, u32);

/// Update `out` — a product [`write_vis`] wrote earlier from the same `ms` and `spec`, with
/// every row kept (`keepflags`) — in place for the rows of `spws` only: read them with the
/// current `layers`, run `op`, and overwrite DATA, FLAG, FLAG_ROW, WEIGHT and SIGMA of the
/// matching output rows (matched on TIME, ANTENNA1, ANTENNA2, DATA_DESC_ID). Returns
/// `Ok(None)` without writing anything when the rows do not match one to one (the caller
/// then rewrites the whole product).
#[allow(clippy::too_many_arguments)]
pub fn update_vis_in_place(
    stage: &str,
    ms: &Path,
    layers: Vec<Arc<FlagLayer>>,
    out: &Path,
    spec: &OutputSpec,
    op: Option<&dyn ChunkOp>,
    spws: &BTreeSet<u32>,
    threads: usize,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Option<WriteStats>, StageError> {
    // A re-indexed or averaged output's rows differ from the input's: rewritten whole.
    if !spec.keepflags || spec.reindex || !spec.average.is_none() {
        return Ok(None);
    }
    let (meta, idx) =
        almacal_casa::meta_read::read_meta_with_index(ms).map_err(|e| casa_err(stage, e))?;
    let dd_in: BTreeSet<u32> = meta
        .data_descs
        .iter()
        .filter(|d| spws.contains(&d.spw.0))
        .map(|d| d.id.0)
        .collect();
    // The input rows this pass will read, as keys.
    let sel = almacal_casa::selection::Selection::resolve(&meta, &spec.selection)
        .map_err(|e| StageError::selection(stage, e))?;
    if sel.needs_uvw() {
        return Ok(None);
    }
    let key_of = |r: usize| -> Option<RowKey> {
        Some((
            idx.time_s[r].to_bits(),
            u32::try_from(idx.ant1[r]).ok()?,
            u32::try_from(idx.ant2[r]).ok()?,
            u32::try_from(idx.dd[r]).ok()?,
        ))
    };
    let mut want: Vec<RowKey> = Vec::new();
    for r in sel.select_rows(&idx, |_| None) {
        let r = r as usize;
        if u32::try_from(idx.dd[r]).is_ok_and(|d| dd_in.contains(&d)) {
            match key_of(r) {
                Some(k) => want.push(k),
                None => return Ok(None),
            }
        }
    }
    // The output rows of those DDIDs.
    let out_map: HashMap<RowKey, u64> = {
        let (_, oidx) =
            almacal_casa::meta_read::read_meta_with_index(out).map_err(|e| casa_err(stage, e))?;
        let mut m = HashMap::new();
        for r in 0..oidx.nrows() {
            let Ok(dd) = u32::try_from(oidx.dd[r]) else {
                continue;
            };
            if !dd_in.contains(&dd) {
                continue;
            }
            let (Ok(a1), Ok(a2)) = (u32::try_from(oidx.ant1[r]), u32::try_from(oidx.ant2[r]))
            else {
                continue;
            };
            if m.insert((oidx.time_s[r].to_bits(), a1, a2, dd), r as u64)
                .is_some()
            {
                return Ok(None);
            }
        }
        m
    };
    if want.len() != out_map.len() || want.iter().any(|k| !out_map.contains_key(k)) {
        return Ok(None);
    }
    if want.is_empty() {
        // Nothing of these spws is in the output: nothing to update.
        return Ok(Some(WriteStats::default()));
    }

    let mut req = ReadRequest::new(ms);
    req.selection = spec.selection.clone();
    req.flag_layers = layers;
    req.only_spws = Some(spws.clone());
    req.column = if op.is_some() {
        "DATA".into()
    } else {
        spec.datacolumn.column().into()
    };
    let calibrated = op.is_some() || spec.datacolumn == DataColumn::Corrected;
    let stream = spawn_reader(req, 2).map_err(|e| casa_err(stage, e))?;
    let total_rows = want.len() as u64;
    let (tx, rx) = mpsc::sync_channel::<(VisChunk, Vec<u64>)>(2);
    let out_w: PathBuf = out.to_path_buf();
    let writer = std::thread::Builder::new()
        .name("almacal-ms-updater".into())
        .spawn(move || -> Result<u64, String> {
            let mut t = {
                let _g = casacore_lock();
                WriteTable::new(
                    Table::open(
                        almacal_casa::table::casa_path(&out_w),
                        TableOpenMode::ReadWrite,
                    )
                    .map_err(|e| format!("cannot open {}: {e}", out_w.display()))?,
                    &out_w,
                )
            };
            let mut n = 0u64;
            for (c, out_rows) in rx {
                update_chunk(&mut t, &c, &out_rows)?;
                n += out_rows.len() as u64;
            }
            t.close().map_err(|e| e.to_string())?;
            Ok(n)
        })
        .map_err(|e| failed(stage, format!("cannot start the writer thread: {e}")))?;

    let computed = compute_stream(
        stage,
        stream,
        threads,
        &meta,
        (op, calibrated, true, false),
        None,
        total_rows,
        progress,
        |(c, _keep, _)| {
            let rows = (0..c.nrows())
                .map(|k| {
                    let key = (c.time_s[k].to_bits(), c.ant1[k].0, c.ant2[k].0, c.dd.0);
                    out_map.get(&key).copied().ok_or_else(|| {
                        failed(
                            stage,
                            "an input row has no output row to update (the output changed)",
                        )
                    })
                })
                .collect::<Result<Vec<u64>, StageError>>()?;
            Ok(tx.send((c, rows)).is_ok())
        },
    );
    drop(tx);
    let written = writer
        .join()
        .map_err(|_| failed(stage, "the MS writer thread panicked"))?;
    let stats = computed?;
    let n = written.map_err(|e| failed(stage, format!("updating {}: {e}", out.display())))?;
    if n != total_rows {
        return Err(failed(
            stage,
            format!("updated {n} rows of the {total_rows} expected"),
        ));
    }
    Ok(Some(stats))
}

/// Overwrite the data of the output rows `out_rows` (one per chunk row) with `c`.
fn update_chunk(out: &mut OutTable, c: &VisChunk, out_rows: &[u64]) -> Result<(), String> {
    use ndarray::{s, Axis};
    let flag_row: Vec<bool> = (0..c.nrows())
        .map(|k| c.flag_row[k] || c.flag_rcf.index_axis(Axis(0), k).iter().all(|&f| f))
        .collect();
    let _g = casacore_lock();
    let t: &mut Table = out;
    let mut k0 = 0;
    while k0 < out_rows.len() {
        // A run of consecutive output rows.
        let mut k1 = k0 + 1;
        while k1 < out_rows.len() && out_rows[k1] == out_rows[k1 - 1] + 1 {
            k1 += 1;
        }
        let start = out_rows[k0];
        let arr = |r: Result<(), rubbl_casatables::CasacoreError>, col: &str| {
            r.map_err(|e| format!("writing {col}: {e}"))
        };
        arr(
            t.put_column_range_array(
                "DATA",
                start,
                &c.data_rcf.slice(s![k0..k1, .., ..]).to_owned(),
            ),
            "DATA",
        )?;
        arr(
            t.put_column_range_array(
                "FLAG",
                start,
                &c.flag_rcf.slice(s![k0..k1, .., ..]).to_owned(),
            ),
            "FLAG",
        )?;
        arr(
            t.put_column_range_array(
                "WEIGHT",
                start,
                &c.weight_rc.slice(s![k0..k1, ..]).to_owned(),
            ),
            "WEIGHT",
        )?;
        arr(
            t.put_column_range_array("SIGMA", start, &c.sigma_rc.slice(s![k0..k1, ..]).to_owned()),
            "SIGMA",
        )?;
        put_scalars(t, "FLAG_ROW", start, &flag_row[k0..k1])?;
        k0 = k1;
    }
    Ok(())
}

/// `almacal check`: a written MS keeps all correlations and, without `reindex`, whole
/// spws (what [`write_vis`] supports); a re-indexed one's plan must be possible. `p` holds
/// the output's selection (`spw`, `correlation`); problems are keyed `{prefix}spw` /
/// `{prefix}correlation`.
pub fn whole_spw_problems(
    p: &almacal_recipe::Params,
    prefix: &str,
    meta: &MsMeta,
    reindex: bool,
) -> Vec<crate::executor::ParamProblem> {
    use almacal_casa::selection::Selection;
    use almacal_recipe::ParamValue;
    let get = |k: &str| {
        p.get(k)
            .and_then(ParamValue::as_str)
            .unwrap_or("")
            .to_string()
    };
    let sel = SelectionParams {
        spw: get("spw"),
        correlation: get("correlation"),
        ..Default::default()
    };
    // A selection that does not resolve is reported by the engine's selection check.
    let Ok(s) = Selection::resolve(meta, &sel) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if reindex {
        if let Err(e) = super::reindex::plan(meta, &sel) {
            out.push(crate::executor::ParamProblem {
                param: format!("{prefix}spw"),
                message: e,
                help: Some("select channel ranges without a step (e.g. spw = \"16:4~59\")".into()),
            });
        }
    }
    if let (Some(chans), false) = (&s.spw_chans, reindex) {
        let partial: Vec<String> = chans
            .iter()
            .filter_map(|(&spw, c)| {
                let n = meta.spw(almacal_core::ids::SpwId(spw))?.nchan();
                (!c.is_empty() && c.len() < n)
                    .then(|| format!("spw {spw} keeps {} of {n}", c.len()))
            })
            .collect();
        if !partial.is_empty() {
            out.push(crate::executor::ParamProblem {
                param: format!("{prefix}spw"),
                message: format!(
                    "a channel selection in an MS written without re-indexing (reindex = false) is not implemented ({} channels)",
                    partial.join(", ")
                ),
                help: Some("select whole spws (e.g. spw = \"16,18\"), or write a re-indexed MS (reindex = true), which keeps selected channels as a new spw".into()),
            });
        }
    }
    if s.corrs.is_some()
        && meta
            .data_descs
            .iter()
            .any(|d| s.corrs_of(meta, d.id).len() < meta.corrs_of(d.id).len())
    {
        out.push(crate::executor::ParamProblem {
            param: format!("{prefix}correlation"),
            message: "a correlation selection in a written MS is not implemented yet".into(),
            help: Some("remove `correlation` (all correlations are written)".into()),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use almacal_core::ids::{AntennaId, FieldId, SpwId};
    use ndarray::{Array1, Array2, Array3};
    use num_complex::Complex32;

    fn chunk() -> VisChunk {
        VisChunk {
            dd: DataDescId(0),
            spw: SpwId(0),
            field: FieldId(0),
            scan: 1,
            rows: vec![0, 1],
            chans: vec![0, 1, 2],
            corrs: vec![0, 1],
            time_s: Array1::zeros(2),
            interval_s: Array1::ones(2),
            ant1: vec![AntennaId(0), AntennaId(0)],
            ant2: vec![AntennaId(1), AntennaId(2)],
            uvw_m: Array2::zeros((2, 3)),
            data_rcf: Array3::from_elem((2, 3, 2), Complex32::new(1.0, 0.0)),
            flag_rcf: Array3::from_elem((2, 3, 2), false),
            weight_rc: Array2::ones((2, 2)),
            sigma_rc: Array2::ones((2, 2)),
            weight_spectrum_rcf: None,
            flag_row: vec![false, false],
        }
    }

    #[test]
    fn nonfinite_visibilities_and_weights_are_flagged_before_writing() {
        let mut c = chunk();
        c.data_rcf[[0, 1, 0]] = Complex32::new(f32::NAN, 0.0);
        c.data_rcf[[0, 2, 1]] = Complex32::new(0.0, f32::INFINITY);
        // Already flagged: not counted again.
        c.data_rcf[[1, 0, 0]] = Complex32::new(f32::NAN, f32::NAN);
        c.flag_rcf[[1, 0, 0]] = true;
        // A NaN weight flags its whole (row, correlation) and becomes 0.
        c.weight_rc[[1, 1]] = f32::NAN;
        let n = flag_nonfinite(&mut c);
        assert_eq!(n, 2 + 3, "newly flagged cells");
        assert!(c.flag_rcf[[0, 1, 0]] && c.flag_rcf[[0, 2, 1]]);
        assert!((0..3).all(|ch| c.flag_rcf[[1, ch, 1]]));
        assert_eq!(c.weight_rc[[1, 1]], 0.0);
        // Every finite, unflagged cell stays as it was.
        assert!(!c.flag_rcf[[0, 0, 0]] && !c.flag_rcf[[1, 2, 0]]);
        for ((r, ch, p), v) in c.data_rcf.indexed_iter() {
            assert!(
                c.flag_rcf[[r, ch, p]] || (v.re.is_finite() && v.im.is_finite()),
                "unflagged non-finite at {r},{ch},{p}"
            );
        }
    }
}
