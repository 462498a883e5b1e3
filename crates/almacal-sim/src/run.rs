//! The driver: builds the [`Sim`], writes the subtables, generates integrations in parallel
//! (rayon, in time-ordered batches on a producer thread) while the calling thread appends
//! them to the MS in order, then writes the truth and antenna-position JSON files.

use crate::config::SimConfig;
use crate::error::{SimError, SimResult};
use crate::schedule::Integration;
use crate::sim::Sim;
use crate::{tables, truth, vis};
use almacal_casa::ms_write::{MainLayout, MsWriter, RowBlock};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::time::Instant;

/// What a run produced.
#[derive(Debug, Clone)]
pub struct SimReport {
    pub ms: PathBuf,
    pub truth: PathBuf,
    pub antpos: PathBuf,
    pub nrows: u64,
    /// Visibility payload written (DATA + FLAG + WEIGHT + SIGMA), bytes.
    pub payload_bytes: u64,
    /// Size of the MS directory on disk, bytes.
    pub disk_bytes: u64,
    pub seconds: f64,
}

impl SimReport {
    /// MB (10^6 bytes) of MS on disk per second of wall-clock time.
    pub fn mb_per_s(&self) -> f64 {
        self.disk_bytes as f64 / 1e6 / self.seconds.max(1e-9)
    }
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> SimError {
    SimError::Io {
        path: path.display().to_string(),
        msg: e.to_string(),
    }
}

/// `PATH.ms` → `PATH.ms.truth.json` and `PATH.antpos.json`.
pub fn sidecar_paths(ms: &Path) -> (PathBuf, PathBuf) {
    let name = ms
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.strip_suffix(".ms").unwrap_or(&name).to_string();
    (
        ms.with_file_name(format!("{name}.truth.json")),
        ms.with_file_name(format!("{stem}.antpos.json")),
    )
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Write the simulated MS at `out` (replacing an existing MS there when `overwrite`).
/// `progress` receives the fraction of integrations written.
pub fn simulate(
    cfg: SimConfig,
    out: &Path,
    overwrite: bool,
    progress: &mut dyn FnMut(f64),
) -> SimResult<SimReport> {
    let t_start = Instant::now();
    if out.exists() {
        if !(overwrite && out.join("table.dat").is_file()) {
            return Err(SimError::Config(format!(
                "{} exists; pass --overwrite to replace an existing MeasurementSet",
                out.display()
            )));
        }
        std::fs::remove_dir_all(out).map_err(|e| io_err(out, e))?;
    }
    let sim = Arc::new(Sim::new(cfg)?);
    let syscal = tables::syscal_truth(&sim);
    let subtables = tables::subtables(&sim, &syscal);
    let mut writer = MsWriter::create(out, &subtables, MainLayout::data_only(&subtables))?;

    let tasks: Vec<(usize, Integration)> = sim
        .schedule
        .scans
        .iter()
        .enumerate()
        .flat_map(|(k, s)| s.ints.iter().map(move |i| (k, *i)))
        .collect();
    let ntasks = tasks.len();
    // Batches of about 64 MB of visibilities, at least one integration.
    let per_int = sim.baselines.len() * sim.cfg.nchan * 2 * 8 * 8;
    let batch = (64_000_000 / per_int.max(1)).clamp(1, 256);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(sim.cfg.threads)
        .build()
        .map_err(|e| SimError::Thread(e.to_string()))?;
    let (tx, rx) = mpsc::sync_channel::<Vec<Vec<RowBlock>>>(2);
    let sim_p = Arc::clone(&sim);
    let producer = std::thread::spawn(move || {
        for chunk in tasks.chunks(batch) {
            let blocks: Vec<Vec<RowBlock>> = pool.install(|| {
                chunk
                    .par_iter()
                    .map(|(k, i)| vis::integration_blocks(&sim_p, &sim_p.schedule.scans[*k], i))
                    .collect()
            });
            if tx.send(blocks).is_err() {
                return;
            }
        }
    });
    let mut done = 0usize;
    let mut result = Ok(());
    for batch in rx.iter() {
        for blocks in &batch {
            for b in blocks {
                if let Err(e) = writer.append(b) {
                    result = Err(e);
                    break;
                }
            }
            done += 1;
        }
        if result.is_err() {
            break;
        }
        progress(done as f64 / ntasks.max(1) as f64);
    }
    drop(rx);
    producer
        .join()
        .map_err(|_| SimError::Thread("a generator thread panicked".into()))?;
    result?;
    let payload = writer.payload_bytes();
    let nrows = writer.finish()?;

    let (truth_path, antpos_path) = sidecar_paths(out);
    let ms_name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let t = truth::truth(&sim, &ms_name, nrows, &syscal);
    let f = std::fs::File::create(&truth_path).map_err(|e| io_err(&truth_path, e))?;
    serde_json::to_writer(std::io::BufWriter::new(f), &t).map_err(|e| io_err(&truth_path, e))?;
    let antpos_name = antpos_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let a = serde_json::to_string_pretty(&truth::antpos(&sim, &antpos_name))
        .map_err(|e| io_err(&antpos_path, e))?;
    std::fs::write(&antpos_path, a + "\n").map_err(|e| io_err(&antpos_path, e))?;

    Ok(SimReport {
        ms: out.to_path_buf(),
        truth: truth_path,
        antpos: antpos_path,
        nrows,
        payload_bytes: payload,
        disk_bytes: dir_size(out),
        seconds: t_start.elapsed().as_secs_f64(),
    })
}
