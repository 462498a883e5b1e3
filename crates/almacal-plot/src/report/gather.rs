//! Collects what the report shows: run.json (read leniently, so this crate does not depend on
//! the engine), resolved parameters from `.almacal/records/<stage>.json`, QA metrics and plots
//! of each caltable product, the flux-scale table and flag counts.

use crate::caldata::CalData;
use crate::error::{PlotError, Result};
use crate::figure::NamedFigure;
use crate::qa::{self, FluxRow, QaMetric};
use crate::render::save_all;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Deserialize)]
struct RunJson {
    #[serde(default)]
    recipe: String,
    #[serde(default)]
    almacal_version: String,
    #[serde(default)]
    wall_s: f64,
    #[serde(default)]
    stages: Vec<StageJson>,
}

#[derive(Debug, Deserialize)]
struct StageJson {
    name: String,
    #[serde(default)]
    task: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    wall_s: f64,
    #[serde(default)]
    products: Vec<ProductJson>,
    #[serde(default)]
    summary: Option<Value>,
    /// The stage's `plots = [...]` as the run reported them.
    #[serde(default)]
    plots: Option<StagePlotsJson>,
}

#[derive(Debug, Deserialize)]
struct StagePlotsJson {
    #[serde(default)]
    files: Vec<PathBuf>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ProductJson {
    kind: String,
    path: PathBuf,
}

/// A plot shown in the report: path relative to `report/`.
#[derive(Debug, Clone)]
pub struct Plot {
    pub href: String,
    pub caption: String,
}

/// One stage's section.
#[derive(Debug, Clone)]
pub struct StageInfo {
    pub name: String,
    pub task: String,
    pub status: String,
    pub reason: String,
    pub wall_s: f64,
    /// (kind, path relative to the workdir).
    pub products: Vec<(String, String)>,
    pub params: Option<Value>,
    pub summary: Option<Value>,
    pub metrics: Vec<QaMetric>,
    /// The stage score: the lowest metric score (0 for failures), `None` when not scored.
    pub score: Option<f64>,
    pub plots: Vec<Plot>,
    /// Flag counts (flagged cells, total cells when known).
    pub flags: Option<(f64, Option<f64>)>,
    pub notes: Vec<String>,
}

/// Everything the page needs.
#[derive(Debug, Clone)]
pub struct ReportData {
    pub recipe: String,
    pub almacal_version: String,
    pub wall_s: f64,
    pub stages: Vec<StageInfo>,
    pub flux: Vec<FluxRow>,
    /// Time spent making plots (s).
    pub plot_s: f64,
}

fn read_json(path: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// Figures for a caltable, by its VisCal.
fn caltable_figures(cal: &CalData) -> Vec<(String, Vec<NamedFigure>)> {
    use crate::gaintime::{gain_vs_time, GainAxis};
    let v = cal.viscal.to_ascii_uppercase();
    if v.starts_with("B TSYS") {
        vec![(
            "Tsys".into(),
            crate::tsys::tsys_pages(cal, crate::tsys::TsysLayout::PerAntenna),
        )]
    } else if v.starts_with("B") {
        vec![("bandpass".into(), crate::bandpass::bandpass_pages(cal))]
    } else if v.starts_with("G") || v.starts_with("T") {
        vec![
            ("phase".into(), gain_vs_time(cal, GainAxis::Phase, false)),
            ("amp".into(), gain_vs_time(cal, GainAxis::Amp, false)),
        ]
    } else {
        Vec::new()
    }
}

fn stage_info(workdir: &Path, plots_dir: &Path, s: StageJson) -> StageInfo {
    let mut info = StageInfo {
        params: read_json(
            &workdir
                .join(".almacal/records")
                .join(format!("{}.json", s.name)),
        )
        .and_then(|r| r.get("components")?.get("params").cloned()),
        name: s.name,
        task: s.task,
        status: s.status,
        reason: s.reason,
        wall_s: s.wall_s,
        products: s
            .products
            .iter()
            .map(|p| (p.kind.clone(), p.path.to_string_lossy().into_owned()))
            .collect(),
        summary: s.summary,
        metrics: Vec::new(),
        score: None,
        plots: Vec::new(),
        flags: None,
        notes: Vec::new(),
    };
    if let Some(m) = info.summary.as_ref().and_then(qa::from_summary) {
        info.metrics.push(m);
    }
    // The stage's own plots (`plots = [...]`, made by the run) replace the report's
    // caltable figures.
    let stage_plots = s.plots.as_ref().map_or(&[][..], |p| p.files.as_slice());
    for f in stage_plots.iter().filter(|f| workdir.join(f).is_file()) {
        info.plots.push(Plot {
            href: format!("../{}", f.to_string_lossy()),
            caption: format!(
                "{} ({})",
                f.file_stem()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                info.name
            ),
        });
    }
    if let Some(e) = s.plots.as_ref().and_then(|p| p.error.as_ref()) {
        info.notes.push(format!("plots: {e}"));
    }
    let own_plots = !info.plots.is_empty();
    for p in &s.products {
        let path = workdir.join(&p.path);
        match p.kind.as_str() {
            "caltable" if path.is_dir() => match CalData::load(&path) {
                Ok(cal) => {
                    info.metrics.push(qa::flagged_solutions(&cal));
                    if cal.viscal.to_ascii_uppercase().starts_with("B JONES") {
                        info.metrics.extend(qa::bandpass_phase_rms(&cal));
                    }
                    let figures = if own_plots {
                        Vec::new()
                    } else {
                        caltable_figures(&cal)
                    };
                    for (what, figs) in figures {
                        let prefix = format!("{}_{what}", info.name);
                        match save_all(&figs, plots_dir, &prefix) {
                            Ok(paths) => {
                                info.plots
                                    .extend(paths.iter().zip(&figs).map(|(path, f)| Plot {
                                        href: format!(
                                            "plots/{}",
                                            path.file_name().map_or_else(String::new, |n| {
                                                n.to_string_lossy().into_owned()
                                            })
                                        ),
                                        caption: f.figure.title.clone(),
                                    }))
                            }
                            Err(e) => info
                                .notes
                                .push(format!("plots of {}: {e}", p.path.display())),
                        }
                    }
                }
                Err(e) => info
                    .notes
                    .push(format!("cannot read {}: {e}", p.path.display())),
            },
            "plot" => info.plots.push(Plot {
                href: format!("../{}", p.path.to_string_lossy()),
                caption: format!("{} ({})", p.path.display(), info.name),
            }),
            _ => {}
        }
    }
    if info.task == "fluxscale" {
        let rows = info.summary.as_ref().map(qa::flux_rows).unwrap_or_default();
        info.metrics.extend(qa::flux_scatter(&rows));
    }
    info.flags = flag_counts(info.summary.as_ref());
    info.score = match info.status.as_str() {
        "failed" => Some(0.0),
        _ => info.metrics.iter().map(|m| m.score).reduce(f64::min),
    };
    info
}

/// `cells_flagged` (flagdata) or `output.cells_flagged / cells_total` (applycal, split).
fn flag_counts(summary: Option<&Value>) -> Option<(f64, Option<f64>)> {
    let s = summary?;
    let from = |v: &Value| {
        v.get("cells_flagged")
            .and_then(Value::as_f64)
            .map(|f| (f, v.get("cells_total").and_then(Value::as_f64)))
    };
    from(s).or_else(|| s.get("output").and_then(from))
}

/// Read run.json and everything it points at; plots are written into `plots_dir`.
pub fn gather(workdir: &Path, plots_dir: &Path) -> Result<ReportData> {
    let path = workdir.join("run.json");
    let text = std::fs::read_to_string(&path).map_err(crate::error::io_err(&path))?;
    let run: RunJson = serde_json::from_str(&text).map_err(|e| PlotError::BadInput {
        path: path.clone(),
        msg: e.to_string(),
    })?;
    let t0 = Instant::now();
    let stages: Vec<StageInfo> = run
        .stages
        .into_iter()
        .map(|s| stage_info(workdir, plots_dir, s))
        .collect();
    let plot_s = t0.elapsed().as_secs_f64();
    let flux = stages
        .iter()
        .filter(|s| s.task == "fluxscale")
        .filter_map(|s| s.summary.as_ref())
        .flat_map(qa::flux_rows)
        .collect();
    Ok(ReportData {
        recipe: run.recipe,
        almacal_version: run.almacal_version,
        wall_s: run.wall_s,
        stages,
        flux,
        plot_s,
    })
}
