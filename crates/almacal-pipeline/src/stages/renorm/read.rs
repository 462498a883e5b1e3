//! What the `renorm` stage reads: time-averaged autocorrelation spectra (real part, parallel
//! hands, plain mean per antenna, flags ignored, as ACReNorm does) of the bandpass scans per
//! spw and of every target (scan, field, spw); and which antennas still have unflagged
//! cross-correlations in each target (scan, field, spw).
//!
//! Flags and autocorrelations: the tutorial flags the science spws' autocorrelations in its
//! first flagdata stage. ACReNorm never looks at autocorrelation flags, so almacal reads the
//! autocorrelation rows without any flag (neither the FLAG column nor upstream flag layers):
//! the same spectra whether renorm runs on the raw MS or on a split of it with the
//! autocorrelations flagged. Flags (FLAG column OR'ed with the upstream layers) are used only
//! on the cross-correlations, to find antennas that are fully flagged.

use almacal_casa::reader::{ChunkReader, ReadRequest};
use almacal_casa::selection::{BaselineKind, SelectionParams};
use almacal_casa::CasaError;
use almacal_core::flaglayer::FlagLayer;
use almacal_core::meta::MsMeta;
use almacal_core::CorrType;
use ndarray::Array3;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

/// Sums of autocorrelation spectra (pol, ant, chan) and row counts per antenna.
#[derive(Debug, Clone)]
pub struct AcSums {
    pub sum_pac: Array3<f64>,
    pub rows_a: Vec<u64>,
}

impl AcSums {
    fn new(npol: usize, nant: usize, nchan: usize) -> Self {
        Self {
            sum_pac: Array3::zeros((npol, nant, nchan)),
            rows_a: vec![0; nant],
        }
    }

    /// Plain mean per antenna; NaN for antennas without rows.
    pub fn mean(&self) -> Array3<f64> {
        let mut m = self.sum_pac.clone();
        for ((_, a, _), v) in m.indexed_iter_mut() {
            let n = self.rows_a[a];
            *v = if n > 0 { *v / n as f64 } else { f64::NAN };
        }
        m
    }
}

/// Key of a target spectrum: (spw, scan, field).
pub type TargetKey = (u32, i32, u32);

/// The autocorrelation averages renorm works on.
#[derive(Debug, Default)]
pub struct AcData {
    /// Per spw: all bandpass scans together.
    pub bandpass: BTreeMap<u32, AcSums>,
    pub target: BTreeMap<TargetKey, AcSums>,
    /// Per scan: distinct timestamps seen (bits of the f64 MJD seconds).
    pub scan_times: BTreeMap<i32, BTreeSet<u64>>,
    /// Parallel-hand correlation types per spw, in stored order.
    pub pols: BTreeMap<u32, Vec<CorrType>>,
    pub rows_read: u64,
}

impl AcData {
    /// Mean of the distinct timestamps of a scan (ACReNorm's caltable TIME).
    pub fn scan_time(&self, scan: i32) -> Option<f64> {
        let t = self.scan_times.get(&scan)?;
        if t.is_empty() {
            return None;
        }
        Some(t.iter().map(|&b| f64::from_bits(b)).sum::<f64>() / t.len() as f64)
    }
}

fn is_parallel(c: CorrType) -> bool {
    matches!(c, CorrType::XX | CorrType::YY | CorrType::RR | CorrType::LL)
}

fn list(v: impl IntoIterator<Item = impl ToString>) -> String {
    v.into_iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Read and average the autocorrelations of `spws` in the bandpass and target scans.
pub fn read_autocorrs(
    ms: &Path,
    column: &str,
    meta: &MsMeta,
    spws: &[u32],
    bandpass_scans: &BTreeSet<i32>,
    target_scans: &BTreeSet<i32>,
    mut progress: impl FnMut(u64, u64),
) -> Result<AcData, CasaError> {
    let mut req = ReadRequest::new(ms);
    req.column = column.to_string();
    req.selection = SelectionParams {
        spw: list(spws),
        scan: list(bandpass_scans.union(target_scans)),
        baselines: BaselineKind::AutoOnly,
        ..Default::default()
    };
    let nant = meta.antennas.len();
    let mut out = AcData::default();
    let reader = ChunkReader::open(&req)?;
    let total = reader.remaining() as u64;
    for (done, chunk) in reader.enumerate() {
        let c = chunk?;
        let spw = c.spw.0;
        let corr_types = meta.corrs_of(c.dd);
        let par: Vec<(usize, CorrType)> = c
            .corrs
            .iter()
            .enumerate()
            .filter_map(|(j, &k)| corr_types.get(k).map(|&t| (j, t)))
            .filter(|(_, t)| is_parallel(*t))
            .collect();
        out.pols
            .entry(spw)
            .or_insert_with(|| par.iter().map(|p| p.1).collect());
        let nchan = c.chans.len();
        let sums = if bandpass_scans.contains(&c.scan) {
            out.bandpass
                .entry(spw)
                .or_insert_with(|| AcSums::new(par.len(), nant, nchan))
        } else {
            out.target
                .entry((spw, c.scan, c.field.0))
                .or_insert_with(|| AcSums::new(par.len(), nant, nchan))
        };
        let times = out.scan_times.entry(c.scan).or_default();
        for k in 0..c.nrows() {
            let a = c.ant1[k].idx();
            if a >= nant || c.ant1[k] != c.ant2[k] {
                continue;
            }
            times.insert(c.time_s[k].to_bits());
            sums.rows_a[a] += 1;
            for (pi, &(j, _)) in par.iter().enumerate() {
                for ch in 0..nchan {
                    sums.sum_pac[[pi, a, ch]] += f64::from(c.data_rcf[[k, ch, j]].re);
                }
            }
            out.rows_read += 1;
        }
        progress(done as u64 + 1, total);
    }
    Ok(out)
}

/// Per target (spw, scan, field): whether each antenna has any unflagged cross-correlation
/// (FLAG column, FLAG_ROW and the upstream flag layers). Rows are visited in MS order and
/// a row's FLAG cell is read only while one of its two antennas is not yet known to be
/// live, so a target with healthy antennas costs a few cells per (spw, scan), not a pass
/// over every cross-correlation.
pub fn cross_live(
    ms: &Path,
    meta: &MsMeta,
    spws: &[u32],
    target_scans: &BTreeSet<i32>,
    layers: &[Arc<FlagLayer>],
) -> Result<BTreeMap<TargetKey, Vec<bool>>, CasaError> {
    let params = SelectionParams {
        spw: list(spws),
        scan: list(target_scans),
        baselines: BaselineKind::CrossOnly,
        ..Default::default()
    };
    let (_, idx) = almacal_casa::meta_read::read_meta_with_index(ms)?;
    let sel = almacal_casa::selection::Selection::resolve(meta, &params)?;
    let rows = sel.select_rows(&idx, |_| None);
    let nant = meta.antennas.len();
    let mut out: BTreeMap<TargetKey, Vec<bool>> = BTreeMap::new();
    let mut main = almacal_casa::table::RoTable::open(ms)?;
    for r in rows {
        let i = r as usize;
        let Some(dd) = usize::try_from(idx.dd[i])
            .ok()
            .and_then(|d| meta.data_descs.get(d))
        else {
            continue;
        };
        let (a1, a2) = (idx.ant1[i], idx.ant2[i]);
        let (Ok(a1), Ok(a2)) = (usize::try_from(a1), usize::try_from(a2)) else {
            continue;
        };
        if a1 >= nant || a2 >= nant {
            continue;
        }
        let field = u32::try_from(idx.field[i]).unwrap_or(0);
        let live = out
            .entry((dd.spw.0, idx.scan[i], field))
            .or_insert_with(|| vec![false; nant]);
        if (live[a1] && live[a2]) || idx.flag_row[i] {
            continue;
        }
        let masks: Vec<_> = layers.iter().filter_map(|l| l.row(r)).collect();
        if masks
            .iter()
            .any(|m| matches!(m, almacal_core::flaglayer::RowMask::All))
        {
            continue;
        }
        let ncorr = meta.corrs_of(dd.id).len().max(1);
        let fcell: Vec<bool> = main.cell_vec("FLAG", r)?;
        let any_unflagged = fcell
            .iter()
            .enumerate()
            .any(|(k, &f)| !f && !masks.iter().any(|m| m.get(k / ncorr, k % ncorr)));
        if any_unflagged {
            live[a1] = true;
            live[a2] = true;
        }
    }
    Ok(out)
}
