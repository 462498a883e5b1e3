//! The plots of one stage's products (a recipe's `plots = [...]`), made by the engine
//! once the stage has succeeded: caltable views (Tsys, gains, bandpass, renorm scaling and
//! ratio spectra),
//! the antenna layout, and visibility views of a written MS with fixed, plotms-like
//! averaging. All visibility views of one MS come from a single read ([`vis_views`]).
//!
//! Visibility defaults (the tutorial's "checking the calibration": start with the
//! calibrators, whose expected look is known): only the calibrators are read (fields with a
//! `CALIBRATE*` intent; every field when no intent says so — plot the target with
//! `almacal plot vis`). Amplitude and phase vs time and amplitude vs uv-distance are
//! channel-averaged per spw and averaged in [`VIS_AVG_TIME_S`] bins per baseline, coloured
//! by field; amplitude / phase vs frequency are averaged over the whole observation and all
//! baselines. Channel averages use at most [`VIS_MAX_CHANS`] evenly spaced channels per spw
//! (decimation that keeps the plots cheap on wide spws; points stay unbiased averages of
//! the spw).

use crate::bandpass::bandpass_pages;
use crate::caldata::CalData;
use crate::error::{PlotError, Result};
use crate::figure::NamedFigure;
use crate::gaintime::{gain_vs_time, GainAxis};
use crate::plotants::{ms_display_name, AntennaLayout};
use crate::render::save_all;
use crate::renorm::{diagnostics_from_report, max_scaling_figure, renorm_pages, scaling_pages};
use crate::tsys::{tsys_pages, TsysLayout};
use crate::vis::extract::{extract_many, View};
use crate::vis::figure::vis_figure;
use crate::vis::{ColorBy, VisPoints, XAxis, YAxis};
use almacal_casa::selection::SelectionParams;
use almacal_core::MsMeta;
use std::path::{Path, PathBuf};

/// Time bin (s) of the channel-averaged visibility views.
pub const VIS_AVG_TIME_S: f64 = 30.0;
/// At most this many channels per spw enter a channel average.
pub const VIS_MAX_CHANS: usize = 1024;
/// Rows per read chunk of the visibility views (the reader also holds chunks to about
/// 16 MB of visibilities).
const CHUNK_ROWS: usize = 20_000;

/// One plot of a stage's products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StagePlot {
    /// Tsys spectra of a `B TSYS` caltable, per antenna, coloured by scan.
    Tsys,
    /// The antenna layout of the vis the stage read.
    Ants,
    /// Gain phase vs time per antenna.
    GainPhaseTime,
    /// Gain amplitude vs time per antenna.
    GainAmpTime,
    /// Bandpass amplitude and phase per antenna.
    Bandpass,
    /// Visibility amplitude vs uv-distance (calibrators).
    VisAmpUvdist,
    /// Visibility amplitude vs time (calibrators).
    VisAmpTime,
    /// Visibility phase vs time (calibrators).
    VisPhaseTime,
    /// Visibility amplitude vs frequency (calibrators, time- and baseline-averaged).
    VisAmpFreq,
    /// Visibility phase vs frequency (calibrators, time- and baseline-averaged).
    VisPhaseFreq,
    /// Renorm scaling spectra (caltable), maximum scaling per scan and, per spw, the
    /// ratio spectra with their fitted baselines (report).
    Renorm,
    /// Flag commands per antenna vs time, coloured by reason (a flagcmd report).
    FlagCmd,
}

impl StagePlot {
    /// File-name prefix of the plot's PNGs.
    pub fn stem(self) -> &'static str {
        match self {
            StagePlot::Tsys => "tsys",
            StagePlot::Ants => "ants",
            StagePlot::GainPhaseTime | StagePlot::VisPhaseTime => "phase_time",
            StagePlot::GainAmpTime | StagePlot::VisAmpTime => "amp_time",
            StagePlot::Bandpass => "bandpass",
            StagePlot::VisAmpUvdist => "amp_uvdist",
            StagePlot::VisAmpFreq => "amp_freq",
            StagePlot::VisPhaseFreq => "phase_freq",
            StagePlot::Renorm => "renorm",
            StagePlot::FlagCmd => "flagcmd",
        }
    }

    fn is_vis(self) -> bool {
        matches!(
            self,
            StagePlot::VisAmpUvdist
                | StagePlot::VisAmpTime
                | StagePlot::VisPhaseTime
                | StagePlot::VisAmpFreq
                | StagePlot::VisPhaseFreq
        )
    }
}

/// Where a stage's products are.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageProducts<'a> {
    /// The stage's caltable.
    pub caltable: Option<&'a Path>,
    /// The MeasurementSet the stage wrote.
    pub vis: Option<&'a Path>,
    /// The MeasurementSet the stage read.
    pub input_vis: Option<&'a Path>,
    /// The stage's JSON report.
    pub report: Option<&'a Path>,
    /// Reference antenna to mark on the antenna layout.
    pub refant: Option<&'a str>,
}

fn need<'a>(what: Option<&'a Path>, plot: StagePlot, noun: &str) -> Result<&'a Path> {
    what.ok_or_else(|| {
        PlotError::Invalid(format!(
            "plot {} needs {noun}, which the stage does not write",
            plot.stem()
        ))
    })
}

/// Render `plots` of a stage's products into `out_dir` (created); returns the PNG paths in
/// plot order. Files are named `<plot>[_<page>].png`.
pub fn make_stage_plots(
    plots: &[StagePlot],
    p: &StageProducts<'_>,
    out_dir: &Path,
) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut cal: Option<CalData> = None;
    let mut load_cal = |plot: StagePlot| -> Result<CalData> {
        if let Some(c) = &cal {
            return Ok(c.clone());
        }
        let c = CalData::load(need(p.caltable, plot, "a caltable")?)?;
        cal = Some(c.clone());
        Ok(c)
    };
    let vis_plots: Vec<StagePlot> = plots.iter().copied().filter(|k| k.is_vis()).collect();
    let mut vis_figs = if vis_plots.is_empty() {
        Vec::new()
    } else {
        let ms = need(p.vis, vis_plots[0], "a MeasurementSet")?;
        vis_figures(ms, &vis_plots)?
    };
    for &plot in plots {
        let figs: Vec<NamedFigure> = match plot {
            StagePlot::Tsys => tsys_pages(&load_cal(plot)?, TsysLayout::PerAntenna),
            StagePlot::GainPhaseTime => gain_vs_time(&load_cal(plot)?, GainAxis::Phase, false),
            StagePlot::GainAmpTime => gain_vs_time(&load_cal(plot)?, GainAxis::Amp, false),
            StagePlot::Bandpass => bandpass_pages(&load_cal(plot)?),
            StagePlot::Ants => {
                let meta = almacal_casa::read_meta(need(p.input_vis, plot, "an input MS")?)?;
                vec![NamedFigure {
                    stem: String::new(),
                    figure: AntennaLayout::from_meta(&meta, p.refant).figure(),
                }]
            }
            StagePlot::Renorm => renorm_figures(p, plot, &mut load_cal)?,
            StagePlot::FlagCmd => {
                let path = need(p.report, plot, "a report")?;
                let report = read_report(path)?;
                let title = format!(
                    "flag commands of {}",
                    report
                        .get("vis")
                        .and_then(|v| v.as_str())
                        .map(ms_display_name)
                        .unwrap_or_default()
                );
                crate::flagcmd::flagcmd_figure(&report, &title)
                    .map(|figure| NamedFigure {
                        stem: String::new(),
                        figure,
                    })
                    .into_iter()
                    .collect()
            }
            _ => match vis_figs.iter().position(|(k, _)| *k == plot) {
                Some(i) => vec![vis_figs.swap_remove(i).1],
                None => Vec::new(),
            },
        };
        if figs.is_empty() {
            return Err(PlotError::Empty(format!(
                "plot {}: no data in the stage's products",
                plot.stem()
            )));
        }
        out.extend(save_pages(&figs, out_dir, plot.stem())?);
    }
    Ok(out)
}

/// `<stem>.png` for a single unnamed figure, else `<stem>_<page stem>.png`.
fn save_pages(figs: &[NamedFigure], dir: &Path, stem: &str) -> Result<Vec<PathBuf>> {
    if let [one] = figs {
        if one.stem.is_empty() {
            std::fs::create_dir_all(dir).map_err(crate::error::io_err(dir))?;
            let path = dir.join(format!("{stem}.png"));
            crate::render::render(&one.figure, &path)?;
            return Ok(vec![path]);
        }
    }
    save_all(figs, dir, stem)
}

fn renorm_figures(
    p: &StageProducts<'_>,
    plot: StagePlot,
    load_cal: &mut impl FnMut(StagePlot) -> Result<CalData>,
) -> Result<Vec<NamedFigure>> {
    let path = need(p.report, plot, "a report")?;
    let report = read_report(path)?;
    let threshold = report
        .get("threshold")
        .and_then(serde_json::Value::as_f64)
        .ok_or_else(|| PlotError::BadInput {
            path: path.to_path_buf(),
            msg: "no `threshold` in the renorm report".into(),
        })?;
    let title = report
        .get("vis")
        .and_then(serde_json::Value::as_str)
        .map_or_else(|| "renorm".to_string(), ms_display_name);
    let mut figs: Vec<NamedFigure> = max_scaling_figure(&report, &title)
        .map(|figure| NamedFigure {
            stem: "max".into(),
            figure,
        })
        .into_iter()
        .collect();
    if p.caltable.is_some() {
        figs.extend(scaling_pages(&load_cal(plot)?, threshold));
    }
    for d in diagnostics_from_report(&report, &title) {
        figs.extend(renorm_pages(&d));
    }
    Ok(figs)
}

/// Calibrator field ids: fields observed with a `CALIBRATE*` intent (every field when no
/// scan has such an intent).
pub fn calibrator_fields(meta: &MsMeta) -> Vec<u32> {
    let mut cal: Vec<u32> = meta
        .scans
        .iter()
        .filter(|s| {
            s.intents
                .iter()
                .any(|i| i.to_ascii_uppercase().contains("CALIBRATE"))
        })
        .map(|s| s.field.0)
        .collect();
    if cal.is_empty() {
        cal = meta.fields.iter().map(|f| f.id.0).collect();
    }
    cal.sort_unstable();
    cal.dedup();
    cal
}

/// The points behind the visibility plots of one MS, one entry per plot asked (in order).
#[derive(Debug, Clone)]
pub struct StageVisData {
    pub plots: Vec<(StagePlot, VisPoints)>,
}

/// Read `ms` once and average its visibilities for each visibility plot in `plots` (the
/// data behind [`make_stage_plots`]'s visibility figures). Reads `CORRECTED_DATA` when the
/// MS has it, else `DATA`.
pub fn vis_views(ms: &Path, plots: &[StagePlot]) -> Result<StageVisData> {
    let meta = almacal_casa::read_meta(ms)?;
    let column = if meta.data_columns.iter().any(|c| c == "CORRECTED_DATA") {
        "CORRECTED_DATA"
    } else {
        "DATA"
    };
    let cals = calibrator_fields(&meta);
    let names: Vec<String> = cals
        .iter()
        .map(|&f| {
            meta.fields
                .get(f as usize)
                .map_or_else(|| f.to_string(), |x| x.name.clone())
        })
        .collect();
    let cal_txt = format!("calibrators {}", names.join(", "));
    let chan_avg = format!("avgchannel=all (≤{VIS_MAX_CHANS} ch/spw) avgtime={VIS_AVG_TIME_S}s");
    // View 0: channel-averaged, per baseline, 30 s bins; view 1: per channel, averaged
    // over the whole observation and all baselines.
    let mut views = Vec::new();
    let time_view = plots.iter().any(|k| {
        matches!(
            k,
            StagePlot::VisAmpTime | StagePlot::VisPhaseTime | StagePlot::VisAmpUvdist
        )
    });
    let freq_view = plots
        .iter()
        .any(|k| matches!(k, StagePlot::VisAmpFreq | StagePlot::VisPhaseFreq));
    if time_view {
        views.push(View {
            fields: None,
            avg_channel: usize::MAX,
            max_chans: VIS_MAX_CHANS,
            avg_time_s: VIS_AVG_TIME_S,
            combine_scans: false,
            avg_baselines: false,
            keep_flagged: false,
            autos: false,
            description: format!("{cal_txt}, {chan_avg}"),
        });
    }
    if freq_view {
        views.push(View {
            fields: None,
            avg_channel: 0,
            max_chans: 0,
            avg_time_s: f64::INFINITY,
            combine_scans: true,
            avg_baselines: true,
            keep_flagged: false,
            autos: false,
            description: format!("{cal_txt}, all times and baselines averaged"),
        });
    }
    let selection = SelectionParams {
        field: cals
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(","),
        ..SelectionParams::default()
    };
    let mut got = extract_many(ms, column, &selection, CHUNK_ROWS, &views)?.into_iter();
    let time_pts = if time_view { got.next() } else { None };
    let freq_pts = if freq_view { got.next() } else { None };
    let mut out = Vec::new();
    for &k in plots {
        let pts = match k {
            StagePlot::VisAmpTime | StagePlot::VisPhaseTime | StagePlot::VisAmpUvdist => {
                time_pts.clone()
            }
            StagePlot::VisAmpFreq | StagePlot::VisPhaseFreq => freq_pts.clone(),
            _ => None,
        };
        if let Some(p) = pts {
            out.push((k, p));
        }
    }
    Ok(StageVisData { plots: out })
}

/// The figures of the visibility plots (one per plot, unnamed).
fn vis_figures(ms: &Path, plots: &[StagePlot]) -> Result<Vec<(StagePlot, NamedFigure)>> {
    let data = vis_views(ms, plots)?;
    Ok(data
        .plots
        .iter()
        .filter(|(_, v)| !v.points.is_empty())
        .map(|(k, v)| {
            let (x, y) = match k {
                StagePlot::VisAmpUvdist => (XAxis::UvDist, YAxis::Amp),
                StagePlot::VisPhaseTime => (XAxis::Time, YAxis::Phase),
                StagePlot::VisAmpFreq => (XAxis::Freq, YAxis::Amp),
                StagePlot::VisPhaseFreq => (XAxis::Freq, YAxis::Phase),
                _ => (XAxis::Time, YAxis::Amp),
            };
            let mut figure = vis_figure(v, x, y, ColorBy::Field);
            // A stage's written MS holds what the stage applied in DATA: not "uncalibrated".
            if y == YAxis::Amp {
                for p in &mut figure.panels {
                    p.y_label = "Amplitude".into();
                }
            }
            (
                *k,
                NamedFigure {
                    stem: String::new(),
                    figure,
                },
            )
        })
        .collect())
}

/// A stage's JSON report.
fn read_report(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(crate::error::io_err(path))?;
    serde_json::from_str(&text).map_err(|e| PlotError::BadInput {
        path: path.to_path_buf(),
        msg: e.to_string(),
    })
}
