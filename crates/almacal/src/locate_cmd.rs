//! `almacal locate MS [selection] --nsigma N`: list the rows behind amplitude outliers and
//! print the flagdata commands (recipe TOML and CASA) that remove them.

use crate::plot_cmd::SelArgs;
use almacal_plot::locate::{locate, LocateOptions, LocateResult};
use almacal_plot::vis::{VisPoints, XAxis};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::time::Instant;

use crate::exit::{ERROR as EXIT_FAIL, INVALID_INPUT as EXIT_INPUT, USAGE as EXIT_USAGE};

#[derive(Clone, Copy, ValueEnum)]
pub enum LocateX {
    Uvdist,
    Time,
}

#[derive(Args)]
pub struct LocateArgs {
    pub ms: PathBuf,
    /// Outlier threshold in robust sigma (median ± N × 1.4826 MAD per field/spw/corr/channel).
    #[arg(long, default_value_t = 5.0)]
    pub nsigma: f64,
    /// x axis of the highlight plot (`--plot`).
    #[arg(long, value_enum, default_value = "uvdist")]
    pub xaxis: LocateX,
    /// Write a PNG of amplitude vs the x axis with the outliers in red.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Outlier rows to list.
    #[arg(long, default_value_t = 20)]
    pub max_rows: usize,
    #[command(flatten)]
    pub sel: SelArgs,
}

pub fn run(args: &LocateArgs) -> u8 {
    let t0 = Instant::now();
    if !(args.nsigma > 0.0 && args.nsigma.is_finite()) {
        eprintln!("error: --nsigma must be a positive number");
        return EXIT_USAGE;
    }
    let opts = match args.sel.options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let pts = match almacal_plot::vis::extract::extract(&args.ms, &opts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_INPUT;
        }
    };
    let lopts = LocateOptions {
        nsigma: args.nsigma,
        ..LocateOptions::default()
    };
    let res = locate(&pts, &lopts);
    print_result(args, &pts, &res);
    if let Some(path) = &args.plot {
        let x = match args.xaxis {
            LocateX::Uvdist => XAxis::UvDist,
            LocateX::Time => XAxis::Time,
        };
        let fig = almacal_plot::locate::highlight_figure(&pts, &res, x);
        if let Err(e) = almacal_plot::render::render(&fig, path) {
            eprintln!("error: {e}");
            return EXIT_FAIL;
        }
        println!("\nhighlight plot: {}", path.display());
    }
    eprintln!("locate took {:.0} ms", t0.elapsed().as_secs_f64() * 1e3);
    0
}

fn print_result(args: &LocateArgs, pts: &VisPoints, res: &LocateResult) {
    println!(
        "{} points, {} beyond {} sigma ({} not explained by the flag commands below)",
        res.n_points,
        res.outliers.len(),
        args.nsigma,
        res.unexplained.len()
    );
    if !res.outliers.is_empty() {
        println!(
            "\n{:>5} {:<12} {:<23} {:<13} {:>4} {:<9} {:<4} {:>10} {:>8}",
            "scan", "field", "time", "baseline", "spw", "chan", "corr", "amp", "sigma"
        );
    }
    for o in res.outliers.iter().take(args.max_rows) {
        let p = &o.point;
        let chan = if p.chan.0 == p.chan.1 {
            p.chan.0.to_string()
        } else {
            format!("{}~{}", p.chan.0, p.chan.1)
        };
        println!(
            "{:>5} {:<12} {:<23} {:<13} {:>4} {:<9} {:<4} {:>10.4} {:>8.1}",
            p.scan,
            pts.field_name(p.field),
            almacal_core::time::format_casa_timestamp(p.time_s),
            pts.baseline_name(p),
            p.spw,
            chan,
            pts.corr_names.get(p.corr).map_or("", String::as_str),
            p.amp,
            o.nsigma
        );
    }
    if res.outliers.len() > args.max_rows {
        println!("... {} more", res.outliers.len() - args.max_rows);
    }
    if res.groups.is_empty() {
        println!("\nno antenna or channel stands out: nothing to flag as a group");
        return;
    }
    println!("\nflag commands (recipe flagdata `commands`):");
    for g in &res.groups {
        println!(
            "  {}   # {} of {} points beyond {} sigma",
            g.recipe_line(),
            g.n_outliers,
            g.n_points,
            args.nsigma
        );
    }
    println!("\nCASA:");
    let vis = pts.ms.as_str();
    for g in &res.groups {
        println!("  {}", g.casa_line(vis));
    }
}
