//! Reduce a workspace's products to metrics: caltable solutions (amplitude and phase, or
//! value, per antenna/spw/field/time/par[/channel]), fluxscale fluxes, flag fractions of
//! flag layers, and calibrated vector/scalar mean amplitudes of vis products per field/spw.

use super::{Kind, Metric, Metrics, RegressError};
use crate::workspace::Workspace;
use almacal_casa::caltable::{read_caltable, CalParams};
use almacal_casa::meta_read::read_meta_with_index;
use almacal_casa::reader::{ChunkReader, ReadRequest};
use almacal_casa::selection::{BaselineKind, SelectionParams};
use almacal_core::flaglayer::FlagLayer;
use almacal_recipe::{ProductKind, Recipe, Stage, VisSource};
use num_complex::Complex64;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// At most this many channels per caltable row are kept (evenly spaced).
const MAX_CHANS: usize = 128;

fn err(path: &Path, e: impl std::fmt::Display) -> RegressError {
    RegressError::Product {
        path: path.display().to_string(),
        msg: e.to_string(),
    }
}

fn put(m: &mut Metrics, name: String, kind: Kind, value: f64) {
    m.insert(name, Metric { kind, value });
}

/// Caltable solutions. Solutions are named by their index within (antenna, spw, field), so
/// sub-second differences in solution times do not rename them. Phases are reported
/// relative to the mean phasor of all antennas at the same solution (spw, field, time, par,
/// channel), which makes them independent of the reference antenna (CASA's flex mode may
/// switch it).
fn caltable_metrics(stage: &str, path: &Path, out: &mut Metrics) -> Result<(), RegressError> {
    let t = read_caltable(path).map_err(|e| err(path, e))?;
    // Common phasor per (spw, field, time, par, chan) over unflagged antennas.
    let mut common: BTreeMap<(i32, i32, u64, usize, usize), Complex64> = BTreeMap::new();
    for r in &t.rows {
        if let CalParams::Complex(a) = &r.params {
            for ((p, c), v) in a.indexed_iter() {
                if !r.flag.get((p, c)).copied().unwrap_or(true) && v.norm() > 0.0 {
                    let u = Complex64::new(f64::from(v.re), f64::from(v.im)) / f64::from(v.norm());
                    *common
                        .entry((r.spw_id, r.field_id, r.time_s.to_bits(), p, c))
                        .or_insert(Complex64::new(0.0, 0.0)) += u;
                }
            }
        }
    }
    let mut index: BTreeMap<(i32, i32, i32), usize> = BTreeMap::new();
    let mut nflag = 0usize;
    for r in &t.rows {
        let k = index.entry((r.antenna1, r.spw_id, r.field_id)).or_insert(0);
        let sol = *k;
        *k += 1;
        let ant = t
            .sub
            .antennas
            .get(r.antenna1.max(0) as usize)
            .map_or_else(|| r.antenna1.to_string(), |a| a.name.clone());
        let (npar, nchan) = r.params.shape();
        let step = nchan.div_ceil(MAX_CHANS).max(1);
        for p in 0..npar {
            for c in (0..nchan).step_by(step) {
                if r.flag.get((p, c)).copied().unwrap_or(true) {
                    nflag += 1;
                    continue;
                }
                let mut name = format!("{stage}/{ant}/spw{}/f{}/s{sol}/p{p}", r.spw_id, r.field_id);
                if nchan > 1 {
                    name.push_str(&format!("/c{c}"));
                }
                match &r.params {
                    CalParams::Complex(a) => {
                        let v = a[(p, c)];
                        let v = Complex64::new(f64::from(v.re), f64::from(v.im));
                        put(out, format!("{name}/amp"), Kind::Amp, v.norm());
                        let reference = common
                            .get(&(r.spw_id, r.field_id, r.time_s.to_bits(), p, c))
                            .copied()
                            .unwrap_or(Complex64::new(1.0, 0.0));
                        let rel = if reference.norm() > 0.0 {
                            v * reference.conj()
                        } else {
                            v
                        };
                        put(
                            out,
                            format!("{name}/phase"),
                            Kind::PhaseDeg,
                            rel.arg().to_degrees(),
                        );
                    }
                    CalParams::Float(a) => {
                        put(
                            out,
                            format!("{name}/value"),
                            Kind::Value,
                            f64::from(a[(p, c)]),
                        );
                    }
                }
            }
        }
    }
    put(
        out,
        format!("{stage}/flagged_solutions"),
        Kind::Count,
        nflag as f64,
    );
    Ok(())
}

/// Fluxes from a CASA-shaped fluxscale dictionary (other JSON reports are skipped).
fn report_metrics(stage: &str, path: &Path, out: &mut Metrics) -> Result<(), RegressError> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(());
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Ok(());
    };
    let Some(obj) = json.as_object() else {
        return Ok(());
    };
    for (fid, f) in obj {
        if fid.parse::<u32>().is_err() {
            continue;
        }
        let Some(name) = f.get("fieldName").and_then(|v| v.as_str()) else {
            continue;
        };
        for (spw, s) in f.as_object().into_iter().flatten() {
            if spw.parse::<u32>().is_err() {
                continue;
            }
            if let Some(flux) = s
                .get("fluxd")
                .and_then(|v| v.get(0))
                .and_then(|v| v.as_f64())
            {
                if flux > 0.0 {
                    put(
                        out,
                        format!("{stage}/{name}/spw{spw}/flux"),
                        Kind::Flux,
                        flux,
                    );
                }
            }
        }
    }
    Ok(())
}

/// The MS a stage reads.
fn vis_path(recipe: &Recipe, ws: &Workspace, stage: &Stage) -> Option<PathBuf> {
    match stage.vis.as_ref()? {
        VisSource::Input(name) => recipe.input(name).map(|i| i.path.clone()),
        VisSource::Stage(s) => {
            let up = recipe.stage(s)?;
            ws.stage_products(up)
                .into_iter()
                .find(|(k, _)| *k == ProductKind::Vis)
                .map(|(_, p)| p)
        }
    }
}

fn flag_metrics(
    stage: &str,
    layer_path: &Path,
    ms: &Path,
    out: &mut Metrics,
) -> Result<(), RegressError> {
    let bytes = std::fs::read(layer_path).map_err(|e| err(layer_path, e))?;
    let layer = FlagLayer::decode(&bytes).map_err(|e| err(layer_path, e))?;
    let (meta, idx) = read_meta_with_index(ms).map_err(|e| err(ms, e))?;
    let (mut total, mut flagged) = (0u64, 0u64);
    for r in 0..idx.nrows() {
        let dd = almacal_core::ids::DataDescId(idx.dd[r].max(0) as u32);
        let nchan = meta
            .data_desc(dd)
            .and_then(|d| meta.spw(d.spw))
            .map_or(0, |s| s.nchan());
        let ncorr = meta.corrs_of(dd).len();
        total += (nchan * ncorr) as u64;
        flagged += layer.count_row(r as u64, nchan, ncorr) as u64;
    }
    if total > 0 {
        put(
            out,
            format!("{stage}/flag_fraction"),
            Kind::FlagFraction,
            flagged as f64 / total as f64,
        );
    }
    Ok(())
}

/// Vector and scalar mean amplitude of unflagged cross-correlations per field and spw.
fn vis_metrics(stage: &str, ms: &Path, out: &mut Metrics) -> Result<(), RegressError> {
    let mut req = ReadRequest::new(ms);
    req.selection = SelectionParams {
        baselines: BaselineKind::CrossOnly,
        ..Default::default()
    };
    let reader = ChunkReader::open(&req).map_err(|e| err(ms, e))?;
    let meta = reader.meta().clone();
    let mut acc: BTreeMap<(String, u32), (Complex64, f64, u64)> = BTreeMap::new();
    for chunk in reader {
        let c = chunk.map_err(|e| err(ms, e))?;
        let field = meta
            .fields
            .get(c.field.idx())
            .map_or_else(|| c.field.to_string(), |f| f.name.clone());
        let e = acc
            .entry((field, c.spw.0))
            .or_insert((Complex64::new(0.0, 0.0), 0.0, 0));
        for (v, f) in c.data_rcf.iter().zip(c.flag_rcf.iter()) {
            if !f {
                let v = Complex64::new(f64::from(v.re), f64::from(v.im));
                e.0 += v;
                e.1 += v.norm();
                e.2 += 1;
            }
        }
    }
    for ((field, spw), (sum, abs_sum, n)) in acc {
        if n > 0 {
            let n = n as f64;
            put(
                out,
                format!("{stage}/{field}/spw{spw}/vector_mean_amp"),
                Kind::MeanAmp,
                (sum / n).norm(),
            );
            put(
                out,
                format!("{stage}/{field}/spw{spw}/scalar_mean_amp"),
                Kind::MeanAmp,
                abs_sum / n,
            );
        }
    }
    Ok(())
}

/// Every metric of a recipe's current products (stages without products are skipped).
pub fn extract(recipe: &Recipe, ws: &Workspace) -> Result<Metrics, RegressError> {
    let mut out = Metrics::new();
    for stage in &recipe.stages {
        for (kind, path) in ws.stage_products(stage) {
            if !path.exists() {
                continue;
            }
            match kind {
                ProductKind::Caltable => caltable_metrics(&stage.name, &path, &mut out)?,
                ProductKind::Report => report_metrics(&stage.name, &path, &mut out)?,
                ProductKind::FlagLayer => {
                    if let Some(ms) = vis_path(recipe, ws, stage) {
                        flag_metrics(&stage.name, &path, &ms, &mut out)?;
                    }
                }
                ProductKind::Vis => vis_metrics(&stage.name, &path, &mut out)?,
                ProductKind::Model | ProductKind::Plot | ProductKind::FlagVersions => {}
            }
        }
    }
    Ok(out)
}
