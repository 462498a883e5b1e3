//! `almacal plot ants|tsys|gain|bandpass|renorm|vis ...`: the tutorial's plots as PNGs, and
//! `almacal report RECIPE|WORKDIR`: the HTML run report. Work lives in `almacal-plot`.

use almacal_casa::selection::{BaselineKind, SelectionParams};
use almacal_plot::caldata::CalData;
use almacal_plot::figure::NamedFigure;
use almacal_plot::gaintime::GainAxis;
use almacal_plot::render::{render, save_all};
use almacal_plot::tsys::TsysLayout;
use almacal_plot::vis::{ColorBy, VisOptions, XAxis, YAxis};
use clap::{Args, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::exit::{ERROR as EXIT_FAIL, INVALID_INPUT as EXIT_INPUT, USAGE as EXIT_USAGE};

#[derive(Args)]
pub struct PlotArgs {
    #[command(subcommand)]
    pub kind: PlotKind,
}

#[derive(Subcommand)]
pub enum PlotKind {
    /// Antenna positions (East/North), names, reference antenna marked.
    Ants {
        ms: PathBuf,
        #[arg(long)]
        refant: Option<String>,
        /// Output PNG (default: <MS stem>_plotants.png).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Tsys vs frequency coloured by scan, from a B TSYS caltable or an MS's SYSCAL table.
    Tsys {
        table: PathBuf,
        /// One panel of the antenna average per spw instead of one panel per antenna.
        #[arg(long)]
        average: bool,
        #[command(flatten)]
        common: CalCommon,
    },
    /// Gain amplitude or phase vs time, 3×3 antennas per page, coloured by correlation.
    Gain {
        table: PathBuf,
        #[arg(long, value_enum, default_value = "phase")]
        yaxis: GainY,
        /// Draw flagged solutions in grey instead of hiding them.
        #[arg(long)]
        show_flagged: bool,
        #[command(flatten)]
        common: CalCommon,
    },
    /// Bandpass amplitude and phase vs frequency per antenna (plotbandpass).
    Bandpass {
        table: PathBuf,
        #[command(flatten)]
        common: CalCommon,
    },
    /// Renorm ratio spectra per antenna with the fitted baseline and the threshold, from a
    /// renorm stage's report (`<workdir>/<stage>.json`, or the workdir and `--stage`).
    Renorm {
        /// The stage's report JSON, or the run's workdir.
        report: PathBuf,
        /// The renorm stage's name when REPORT is a workdir.
        #[arg(long, default_value = "renorm")]
        stage: String,
        /// Spw ids to plot, comma separated (default: all in the report).
        #[arg(long, value_delimiter = ',')]
        spw: Vec<u32>,
        /// Output directory (files `<report stem>_renorm_ratio_spw<N>_page<k>.png`).
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// Visibilities (plotms): amp/phase vs time/uvdist/freq/channel with averaging.
    Vis(Box<VisArgs>),
}

#[derive(Args)]
pub struct CalCommon {
    /// Spw ids to plot, comma separated (default: all).
    #[arg(long, value_delimiter = ',')]
    pub spw: Vec<u32>,
    /// Antenna names to plot, comma separated (default: all).
    #[arg(long, value_delimiter = ',')]
    pub antenna: Vec<String>,
    /// Output directory (files `<table stem>_<kind>_<page>.png`).
    #[arg(long, default_value = ".")]
    pub out_dir: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum GainY {
    Amp,
    Phase,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum XArg {
    Time,
    Uvdist,
    Freq,
    Channel,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum YArg {
    Amp,
    Phase,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ColorArg {
    Field,
    Spw,
    Corr,
    Scan,
    Antenna1,
}

/// CASA-style selection flags shared by `plot vis` and `locate`.
#[derive(Args, Clone, Default)]
pub struct SelArgs {
    #[arg(long, default_value = "")]
    pub field: String,
    #[arg(long, default_value = "")]
    pub spw: String,
    #[arg(long, default_value = "")]
    pub antenna: String,
    #[arg(long, default_value = "")]
    pub scan: String,
    #[arg(long, default_value = "")]
    pub intent: String,
    #[arg(long, default_value = "")]
    pub timerange: String,
    #[arg(long, default_value = "")]
    pub uvrange: String,
    #[arg(long, default_value = "")]
    pub correlation: String,
    /// Data column: DATA, CORRECTED_DATA or MODEL_DATA (case-insensitive).
    #[arg(long, default_value = "DATA")]
    pub column: String,
    /// Average N channels, or `all`.
    #[arg(long, default_value = "1")]
    pub avgchannel: String,
    /// Average in time within scans (seconds).
    #[arg(long, default_value_t = 0.0)]
    pub avgtime: f64,
    /// Average all baselines together.
    #[arg(long)]
    pub avgbaseline: bool,
}

impl SelArgs {
    /// The extraction options, or a usage error.
    pub fn options(&self) -> Result<VisOptions, String> {
        let avg_channel = match self.avgchannel.trim() {
            "all" | "ALL" => usize::MAX,
            s => s
                .parse::<usize>()
                .map_err(|_| format!("--avgchannel {s:?}: expected a channel count or `all`"))?,
        };
        if !(self.avgtime >= 0.0 && self.avgtime.is_finite()) {
            return Err(format!("--avgtime {}: expected seconds ≥ 0", self.avgtime));
        }
        let column = match self.column.to_ascii_uppercase().as_str() {
            "DATA" => "DATA",
            "CORRECTED" | "CORRECTED_DATA" => "CORRECTED_DATA",
            "MODEL" | "MODEL_DATA" => "MODEL_DATA",
            other => {
                return Err(format!(
                    "--column {other:?}: expected DATA, CORRECTED_DATA or MODEL_DATA"
                ))
            }
        };
        Ok(VisOptions {
            column: column.into(),
            selection: SelectionParams {
                field: self.field.clone(),
                spw: self.spw.clone(),
                antenna: self.antenna.clone(),
                scan: self.scan.clone(),
                intent: self.intent.clone(),
                timerange: self.timerange.clone(),
                uvrange: self.uvrange.clone(),
                correlation: self.correlation.clone(),
                observation: String::new(),
                baselines: BaselineKind::All,
            },
            avg_channel,
            avg_time_s: self.avgtime,
            avg_baselines: self.avgbaseline,
            ..VisOptions::default()
        })
    }
}

#[derive(Args)]
pub struct VisArgs {
    pub ms: PathBuf,
    #[arg(long, value_enum, default_value = "time")]
    pub xaxis: XArg,
    #[arg(long, value_enum, default_value = "amp")]
    pub yaxis: YArg,
    #[arg(long, value_enum, default_value = "field")]
    pub coloraxis: ColorArg,
    /// Draw flagged points in grey instead of hiding them.
    #[arg(long)]
    pub show_flagged: bool,
    #[command(flatten)]
    pub sel: SelArgs,
    /// Output PNG (default: <MS stem>_<y>_vs_<x>.png).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args)]
pub struct ReportArgs {
    /// A recipe (its workdir) or a workdir containing run.json.
    pub target: PathBuf,
}

fn stem(p: &Path) -> String {
    almacal_plot::plotants::ms_display_name(&p.to_string_lossy())
        .trim_end_matches(".ms")
        .to_string()
}

fn report_paths(paths: &[PathBuf], t0: Instant) -> u8 {
    for p in paths {
        println!("{}", p.display());
    }
    eprintln!(
        "{} plot(s) in {:.0} ms",
        paths.len(),
        t0.elapsed().as_secs_f64() * 1e3
    );
    0
}

fn save(figs: &[NamedFigure], common: &CalCommon, table: &Path, kind: &str, t0: Instant) -> u8 {
    if figs.is_empty() {
        eprintln!("error: nothing to plot in {}", table.display());
        return EXIT_INPUT;
    }
    match save_all(figs, &common.out_dir, &format!("{}_{kind}", stem(table))) {
        Ok(paths) => report_paths(&paths, t0),
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_FAIL
        }
    }
}

fn load_cal(table: &Path, common: &CalCommon) -> Result<CalData, u8> {
    let cal = if is_ms(table) {
        almacal_casa::read_meta(table)
            .map(|m| almacal_plot::tsys::from_syscal(&m))
            .map_err(|e| e.to_string())
    } else {
        CalData::load(table).map_err(|e| e.to_string())
    };
    match cal {
        Ok(c) => Ok(c.with_spws(&common.spw).with_antennas(&common.antenna)),
        Err(e) => {
            eprintln!("error: {e}");
            Err(EXIT_INPUT)
        }
    }
}

/// An MS has a DATA_DESCRIPTION subtable; a caltable does not.
fn is_ms(p: &Path) -> bool {
    p.join("DATA_DESCRIPTION").is_dir()
}

pub fn run(args: &PlotArgs) -> u8 {
    let t0 = Instant::now();
    match &args.kind {
        PlotKind::Ants { ms, refant, out } => {
            let meta = match almacal_casa::read_meta(ms) {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("error: {e}");
                    return EXIT_INPUT;
                }
            };
            let fig =
                almacal_plot::plotants::AntennaLayout::from_meta(&meta, refant.as_deref()).figure();
            let out = out
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("{}_plotants.png", stem(ms))));
            match render(&fig, &out) {
                Ok(()) => report_paths(&[out], t0),
                Err(e) => {
                    eprintln!("error: {e}");
                    EXIT_FAIL
                }
            }
        }
        PlotKind::Tsys {
            table,
            average,
            common,
        } => match load_cal(table, common) {
            Ok(cal) => {
                let layout = if *average {
                    TsysLayout::Averaged
                } else {
                    TsysLayout::PerAntenna
                };
                save(
                    &almacal_plot::tsys::tsys_pages(&cal, layout),
                    common,
                    table,
                    "tsys",
                    t0,
                )
            }
            Err(c) => c,
        },
        PlotKind::Gain {
            table,
            yaxis,
            show_flagged,
            common,
        } => match load_cal(table, common) {
            Ok(cal) => {
                let axis = match yaxis {
                    GainY::Amp => GainAxis::Amp,
                    GainY::Phase => GainAxis::Phase,
                };
                let figs = almacal_plot::gaintime::gain_vs_time(&cal, axis, *show_flagged);
                save(&figs, common, table, "gain", t0)
            }
            Err(c) => c,
        },
        PlotKind::Bandpass { table, common } => match load_cal(table, common) {
            Ok(cal) => save(
                &almacal_plot::bandpass::bandpass_pages(&cal),
                common,
                table,
                "bandpass",
                t0,
            ),
            Err(c) => c,
        },
        PlotKind::Renorm {
            report,
            stage,
            spw,
            out,
        } => run_renorm(report, stage, spw, out, t0),
        PlotKind::Vis(v) => run_vis(v, t0),
    }
}

fn run_renorm(report: &Path, stage: &str, spws: &[u32], out: &Path, t0: Instant) -> u8 {
    let path = if report.is_dir() {
        report.join(format!("{stage}.json"))
    } else {
        report.to_path_buf()
    };
    let value: serde_json::Value = match std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| format!("not JSON: {e}")))
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return EXIT_INPUT;
        }
    };
    let title = value
        .get("vis")
        .and_then(serde_json::Value::as_str)
        .map_or_else(
            || "renorm".to_string(),
            almacal_plot::plotants::ms_display_name,
        );
    let figs: Vec<NamedFigure> = almacal_plot::renorm::diagnostics_from_report(&value, &title)
        .iter()
        .filter(|d| spws.is_empty() || spws.contains(&d.spw))
        .flat_map(almacal_plot::renorm::renorm_pages)
        .collect();
    if figs.is_empty() {
        eprintln!(
            "error: no renorm diagnostics{} in {} (a renorm stage report written by this almacal)",
            if spws.is_empty() {
                ""
            } else {
                " for the chosen spws"
            },
            path.display()
        );
        return EXIT_INPUT;
    }
    let name = path
        .file_stem()
        .map_or_else(|| stage.to_string(), |s| s.to_string_lossy().into_owned());
    match save_all(&figs, out, &format!("{name}_renorm")) {
        Ok(paths) => report_paths(&paths, t0),
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_FAIL
        }
    }
}

fn run_vis(v: &VisArgs, t0: Instant) -> u8 {
    let mut opts = match v.sel.options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    opts.keep_flagged = v.show_flagged;
    let x = match v.xaxis {
        XArg::Time => XAxis::Time,
        XArg::Uvdist => XAxis::UvDist,
        XArg::Freq => XAxis::Freq,
        XArg::Channel => XAxis::Channel,
    };
    let y = match v.yaxis {
        YArg::Amp => YAxis::Amp,
        YArg::Phase => YAxis::Phase,
    };
    let by = match v.coloraxis {
        ColorArg::Field => ColorBy::Field,
        ColorArg::Spw => ColorBy::Spw,
        ColorArg::Corr => ColorBy::Corr,
        ColorArg::Scan => ColorBy::Scan,
        ColorArg::Antenna1 => ColorBy::Antenna1,
    };
    let pts = match almacal_plot::vis::extract::extract(&v.ms, &opts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_INPUT;
        }
    };
    let t_read = t0.elapsed();
    let fig = almacal_plot::vis::figure::vis_figure(&pts, x, y, by);
    let yname = match y {
        YAxis::Amp => "amp",
        YAxis::Phase => "phase",
    };
    let xname = match x {
        XAxis::Time => "time",
        XAxis::UvDist => "uvdist",
        XAxis::Freq => "freq",
        XAxis::Channel => "channel",
    };
    let out = v
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}_{yname}_vs_{xname}.png", stem(&v.ms))));
    match render(&fig, &out) {
        Ok(()) => {
            eprintln!(
                "{} points; read {:.0} ms",
                pts.points.len(),
                t_read.as_secs_f64() * 1e3
            );
            report_paths(&[out], t0)
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_FAIL
        }
    }
}

/// `almacal report RECIPE|WORKDIR`.
pub fn run_report(args: &ReportArgs) -> u8 {
    let workdir = if args.target.is_file() {
        match almacal_recipe::load(&args.target, &almacal_recipe::LoadOptions::default()) {
            Ok(r) => r.workdir,
            Err(e) => {
                eprintln!("{e}");
                return crate::exit::of_load_error(&e);
            }
        }
    } else {
        args.target.clone()
    };
    match almacal_plot::write_report(&workdir) {
        Ok(p) => {
            println!("{}", p.display());
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_FAIL
        }
    }
}
