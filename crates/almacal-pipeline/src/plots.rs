//! Stage plots (`plots = [...]` in a recipe stage): once a stage has run or is found
//! cached, the plots of its products are made on one plot worker thread, beside the
//! stages still running (at a lower CPU priority), into `<workdir>/plots/<stage>/`.
//!
//! Plots are a cached product of their own, outside the stage's fingerprint: the folder
//! holds a manifest (`plots.json`) with a key over the stage's product digests, the plot
//! list and [`PLOT_FORMAT`]. A run remakes the plots only when that key changed (the
//! stage's products changed, the list changed, or almacal draws differently), so adding a
//! plot to a stage never reruns the stage. Each set is rendered into a temporary folder
//! and renamed into place (the old folder moved aside first): an interrupted run leaves
//! either the old complete set, no set, or the new complete set, and a set whose key does
//! not match is never reported. A plot failure is reported with the stage (run.json
//! `plots.error`, the CLI's table) but never fails the stage.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::Scope;
use std::time::Instant;

use almacal_plot::stageplots::{make_stage_plots, StagePlot, StageProducts};
use almacal_recipe::{PlotName, ProductKind, Recipe, Stage};
use serde::{Deserialize, Serialize};

use crate::assess::Assessor;
use crate::report::StageReport;
use crate::workspace::{write_atomic, ProductRecord, Workspace};

/// Bump when plots of the same products would look different (defaults, layout): every
/// existing plot set is remade on the next run.
pub const PLOT_FORMAT: u32 = 1;
/// The folder of all stage plots, inside the workdir.
pub const PLOTS_DIR: &str = "plots";
const MANIFEST: &str = "plots.json";

/// What a plot folder holds (`plots/<stage>/plots.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlotManifest {
    pub format: u32,
    pub stage: String,
    /// Digest over the stage's product digests, the plot list and the format.
    pub key: String,
    pub plots: Vec<PlotName>,
    /// PNGs, relative to the workdir.
    pub files: Vec<PathBuf>,
    pub wall_s: f64,
}

pub use crate::report::PlotsReport;

/// Why a plot set could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlotJobError {
    #[error("plots of stage {stage}: {source}")]
    Plot {
        stage: String,
        source: almacal_plot::PlotError,
    },
    #[error("plots of stage {stage}: the plotting code panicked")]
    Panic { stage: String },
    #[error("plots of stage {stage}: {path}: {source}")]
    Io {
        stage: String,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// `<workdir>/plots/<stage>`.
pub fn stage_plot_dir(ws: &Workspace, stage: &str) -> PathBuf {
    ws.root.join(PLOTS_DIR).join(stage)
}

/// The key of a stage's plot set.
fn plot_key(stage: &Stage, products: &[ProductRecord], refant: Option<&str>) -> String {
    let mut h = blake3::Hasher::new();
    h.update(format!("format {PLOT_FORMAT}\n").as_bytes());
    for p in &stage.plots {
        h.update(format!("plot {p}\n").as_bytes());
    }
    let mut digests: Vec<_> = products
        .iter()
        .map(|p| format!("{} {}\n", p.kind, p.digest.digest))
        .collect();
    digests.sort();
    for d in digests {
        h.update(d.as_bytes());
    }
    if stage.plots.contains(&PlotName::Ants) {
        h.update(format!("refant {}\n", refant.unwrap_or("")).as_bytes());
    }
    h.finalize().to_hex().to_string()
}

/// The manifest of `stage`'s plot set when it matches `key` and every file exists.
fn current(ws: &Workspace, stage: &str, key: &str) -> Option<PlotManifest> {
    let text = std::fs::read_to_string(stage_plot_dir(ws, stage).join(MANIFEST)).ok()?;
    let m: PlotManifest = serde_json::from_str(&text).ok()?;
    (m.format == PLOT_FORMAT
        && m.key == key
        && m.files.iter().all(|f| ws.product_path(f).is_file()))
    .then_some(m)
}

/// The reference antenna to mark: the stage's own `refant`, else the first one the recipe
/// sets on any stage (`[defaults]` included, as resolved).
fn refant(recipe: &Recipe, stage: &Stage) -> Option<String> {
    let of = |s: &Stage| {
        s.params
            .get("refant")
            .and_then(|v| v.as_str())
            .and_then(|r| r.split(',').next())
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
    };
    of(stage).or_else(|| recipe.stages.iter().find_map(of))
}

/// The almacal-plot views of a recipe plot name on `stage`.
fn views(stage: &Stage, name: PlotName) -> Vec<StagePlot> {
    let writes_vis = stage.output(ProductKind::Vis).is_some();
    match name {
        PlotName::Tsys => vec![StagePlot::Tsys],
        PlotName::Ants => vec![StagePlot::Ants],
        PlotName::Gain => vec![StagePlot::GainPhaseTime, StagePlot::GainAmpTime],
        PlotName::PhaseTime if writes_vis => vec![StagePlot::VisPhaseTime],
        PlotName::PhaseTime => vec![StagePlot::GainPhaseTime],
        PlotName::AmpTime if writes_vis => vec![StagePlot::VisAmpTime],
        PlotName::AmpTime => vec![StagePlot::GainAmpTime],
        PlotName::Bandpass => vec![StagePlot::Bandpass],
        PlotName::AmpUvdist => vec![StagePlot::VisAmpUvdist],
        PlotName::AmpFreq => vec![StagePlot::VisAmpFreq],
        PlotName::PhaseFreq => vec![StagePlot::VisPhaseFreq],
        PlotName::Renorm => vec![StagePlot::Renorm],
        PlotName::FlagCmd => vec![StagePlot::FlagCmd],
    }
}

/// One plot set to make.
struct PlotJob {
    index: usize,
    stage: String,
    plots: Vec<PlotName>,
    views: Vec<StagePlot>,
    key: String,
    caltable: Option<PathBuf>,
    vis: Option<PathBuf>,
    input_vis: Option<PathBuf>,
    report: Option<PathBuf>,
    refant: Option<String>,
}

impl PlotJob {
    /// Render into a temporary folder, write the manifest, swap the folder into place.
    fn make(&self, ws: &Workspace) -> Result<PlotManifest, PlotJobError> {
        let t0 = Instant::now();
        let io = |path: &Path| {
            let stage = self.stage.clone();
            let path = path.to_path_buf();
            move |source| PlotJobError::Io {
                stage,
                path,
                source,
            }
        };
        let tmp_root = ws.tmp_root();
        let tmp = ws
            .new_tmp_dir(&format!("{}-plots", self.stage))
            .map_err(io(&tmp_root))?;
        let staged = tmp.join("set");
        let products = StageProducts {
            caltable: self.caltable.as_deref(),
            vis: self.vis.as_deref(),
            input_vis: self.input_vis.as_deref(),
            report: self.report.as_deref(),
            refant: self.refant.as_deref(),
        };
        let made = make_stage_plots(&self.views, &products, &staged).map_err(|source| {
            let _ = std::fs::remove_dir_all(&tmp);
            PlotJobError::Plot {
                stage: self.stage.clone(),
                source,
            }
        })?;
        let dir = stage_plot_dir(ws, &self.stage);
        let rel_dir = Path::new(PLOTS_DIR).join(&self.stage);
        let manifest = PlotManifest {
            format: PLOT_FORMAT,
            stage: self.stage.clone(),
            key: self.key.clone(),
            plots: self.plots.clone(),
            files: made
                .iter()
                .filter_map(|p| p.file_name().map(|n| rel_dir.join(n)))
                .collect(),
            wall_s: t0.elapsed().as_secs_f64(),
        };
        let json = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other);
        let manifest_path = staged.join(MANIFEST);
        json.and_then(|j| write_atomic(&manifest_path, &j))
            .map_err(io(&manifest_path))?;
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        if std::fs::symlink_metadata(&dir).is_ok() {
            std::fs::rename(&dir, tmp.join("old")).map_err(io(&dir))?;
        }
        std::fs::rename(&staged, &dir).map_err(io(&dir))?;
        let _ = std::fs::remove_dir_all(&tmp);
        Ok(manifest)
    }
}

/// Lower the calling thread's CPU priority (Linux: nice 10 for this thread only), so that
/// rendering plots takes the cores the stages leave idle rather than slowing them.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid has no preconditions; setpriority on our own thread id only changes
    // this thread's nice value, and a failure (e.g. not permitted) is harmless.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        let _ = libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

/// Makes the plot sets of a run on one worker thread.
pub(crate) struct Plotter<'a> {
    a: &'a Assessor<'a>,
    enabled: bool,
    jobs: Option<mpsc::Sender<PlotJob>>,
    done: mpsc::Receiver<(usize, PlotsReport)>,
}

impl<'a> Plotter<'a> {
    /// Start the worker inside `scope` (`enabled = false`: `--no-plots`, nothing is made).
    pub(crate) fn start<'scope>(
        scope: &'scope Scope<'scope, '_>,
        a: &'a Assessor<'a>,
        enabled: bool,
    ) -> Self
    where
        'a: 'scope,
    {
        let (jobs, rx) = mpsc::channel::<PlotJob>();
        let (tx, done) = mpsc::channel();
        if enabled {
            let ws = &a.ws;
            scope.spawn(move || {
                lower_priority();
                // Figures render in parallel (almacal_plot::render::save_all) on this pool,
                // whose threads are lowered too; without it they would take rayon's global
                // pool at normal priority, beside the stages.
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(std::thread::available_parallelism().map_or(1, |n| n.get()))
                    .thread_name(|i| format!("almacal-plot-{i}"))
                    .start_handler(|_| lower_priority())
                    .build()
                    .ok();
                for job in rx {
                    let t0 = Instant::now();
                    let make = || match &pool {
                        Some(p) => p.install(|| job.make(ws)),
                        None => job.make(ws),
                    };
                    let made = std::panic::catch_unwind(std::panic::AssertUnwindSafe(make))
                        .unwrap_or_else(|_| {
                            Err(PlotJobError::Panic {
                                stage: job.stage.clone(),
                            })
                        });
                    let report = match made {
                        Ok(m) => PlotsReport {
                            files: m.files,
                            status: "made".into(),
                            wall_s: m.wall_s,
                            error: None,
                        },
                        Err(e) => PlotsReport {
                            files: Vec::new(),
                            status: "failed".into(),
                            wall_s: t0.elapsed().as_secs_f64(),
                            error: Some(e.to_string()),
                        },
                    };
                    let _ = tx.send((job.index, report));
                }
            });
        }
        Self {
            a,
            enabled,
            jobs: Some(jobs),
            done,
        }
    }

    /// Stage `index` ran or is cached with `products`: note its up-to-date plots in
    /// `report`, or queue them.
    pub(crate) fn stage_done(
        &self,
        index: usize,
        stage: &Stage,
        products: &[ProductRecord],
        report: &mut StageReport,
    ) {
        if stage.plots.is_empty() {
            return;
        }
        let ws = &self.a.ws;
        let refant = refant(self.a.recipe, stage);
        let key = plot_key(stage, products, refant.as_deref());
        if let Some(m) = current(ws, &stage.name, &key) {
            report.plots = Some(PlotsReport {
                files: m.files,
                status: "cached".into(),
                wall_s: 0.0,
                error: None,
            });
            return;
        }
        if !self.enabled {
            report.plots = Some(PlotsReport {
                status: "disabled".into(),
                ..PlotsReport::default()
            });
            return;
        }
        let path_of = |kind: ProductKind| {
            products
                .iter()
                .find(|p| p.kind == kind)
                .map(|p| ws.product_path(&p.rel_path))
        };
        let job = PlotJob {
            index,
            stage: stage.name.clone(),
            plots: stage.plots.clone(),
            views: stage.plots.iter().flat_map(|&p| views(stage, p)).collect(),
            key,
            caltable: path_of(ProductKind::Caltable),
            vis: path_of(ProductKind::Vis),
            input_vis: crate::assess::vis_input(self.a, stage).map(|v| v.path),
            report: path_of(ProductKind::Report),
            refant,
        };
        if let Some(tx) = &self.jobs {
            let _ = tx.send(job);
        }
    }

    /// Wait for the queued plot sets and put their results into the stage reports.
    pub(crate) fn finish(mut self, reports: &mut BTreeMap<usize, StageReport>) {
        self.jobs = None;
        for (i, r) in self.done.iter() {
            if let Some(rep) = reports.get_mut(&i) {
                rep.plots = Some(r);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::ProductDigest;
    use almacal_recipe::{load_str, LoadOptions};

    fn recipe(plots_g: &str) -> Recipe {
        let text = format!(
            "[inputs]\nraw = \"raw.ms\"\n[stage.a]\ntask = \"applycal\"\nvis = \"raw\"\ngaintable = []\nplots = [\"phase_time\", \"amp_uvdist\"]\n[stage.g]\ntask = \"gaincal\"\nvis = \"a\"\nrefant = \"CM12,CM03\"\nplots = {plots_g}\n"
        );
        let opts = LoadOptions {
            skip_input_checks: true,
            ..LoadOptions::default()
        };
        load_str(Path::new("r.toml"), text, &opts).expect("recipe")
    }

    fn product(kind: ProductKind, digest: &str) -> ProductRecord {
        ProductRecord {
            kind,
            rel_path: PathBuf::from("x"),
            digest: ProductDigest {
                digest: digest.into(),
                files: Vec::new(),
                spws: None,
            },
        }
    }

    #[test]
    fn plot_names_map_to_the_product_they_show() {
        let r = recipe("[\"phase_time\", \"gain\"]");
        let (a, g) = (r.stage("a").expect("a"), r.stage("g").expect("g"));
        assert_eq!(views(a, PlotName::PhaseTime), [StagePlot::VisPhaseTime]);
        assert_eq!(views(g, PlotName::PhaseTime), [StagePlot::GainPhaseTime]);
        assert_eq!(
            views(g, PlotName::Gain),
            [StagePlot::GainPhaseTime, StagePlot::GainAmpTime]
        );
        // The first antenna of the stage's refant list, else the recipe's first.
        assert_eq!(refant(&r, g).as_deref(), Some("CM12"));
        assert_eq!(refant(&r, a).as_deref(), Some("CM12"));
    }

    #[test]
    fn the_plot_key_follows_products_and_plot_list_only() {
        let r1 = recipe("[\"phase_time\"]");
        let r2 = recipe("[\"gain\"]");
        let (g1, g2) = (r1.stage("g").expect("g"), r2.stage("g").expect("g"));
        let p = [product(ProductKind::Caltable, "d1")];
        let k = plot_key(g1, &p, None);
        assert_eq!(k, plot_key(g1, &p, None));
        assert_eq!(
            k,
            plot_key(g1, &p, Some("CM01")),
            "no ants plot: refant ignored"
        );
        assert_ne!(k, plot_key(g2, &p, None), "plot list changed");
        assert_ne!(
            k,
            plot_key(g1, &[product(ProductKind::Caltable, "d2")], None),
            "product changed"
        );
    }
}
