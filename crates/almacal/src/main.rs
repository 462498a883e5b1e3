//! The `almacal` binary: command-line parsing and printing. Every command's work lives in
//! the library crates; this crate only wires arguments to them and maps errors to exit codes.

mod engine_cli;
mod exit;
mod import_cmd;
mod interrupt;
mod listobs_cmd;
mod locate_cmd;
mod plot_cmd;
mod regress_cmd;
mod simulate_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Calibrate ALMA interferometer data from a TOML recipe of CASA-like stages.
#[derive(Parser)]
#[command(name = "almacal", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    #[command(flatten)]
    Engine(engine_cli::EngineCommand),
    /// Summarize a MeasurementSet like CASA's listobs.
    Listobs(listobs_cmd::ListobsArgs),
    /// Write a simulated ALMA MeasurementSet with known corruptions and its truth file.
    Simulate(simulate_cmd::SimulateArgs),
    /// The tutorial's plots as PNGs (plotants, Tsys, gains, bandpass, visibilities).
    Plot(plot_cmd::PlotArgs),
    /// List the rows behind amplitude outliers and print flagdata commands removing them.
    Locate(locate_cmd::LocateArgs),
    /// Write the HTML run report (<workdir>/report/index.html) of a recipe or workdir.
    Report(plot_cmd::ReportArgs),
    /// Run (or reuse) a recipe and compare its products with a reference.
    Regress(regress_cmd::RegressArgs),
    /// Turn an archive scriptForCalibration.py into a recipe (+ <stem>.import.json).
    ImportScript(import_cmd::ImportArgs),
}

fn main() -> ExitCode {
    // Started as the table prober of another almacal (see almacal_casa::isolate)?
    if let Some(code) = almacal_casa::isolate::child_main() {
        return ExitCode::from(code as u8);
    }
    // A closed stdout (`almacal status R | head -1`) ends the process quietly, as SIGPIPE does
    // for other command-line tools, instead of a panic in `println!` (exit 101). The Rust
    // runtime ignores SIGPIPE by default; restore the default action.
    // SAFETY: setting a signal's disposition to SIG_DFL before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    almacal_casa::memory::keep_freed_memory();
    // Tables almacal did not check yet are first opened by a copy of this binary, so a
    // damaged one cannot crash the run.
    // /proc/self/exe still starts this binary when its file was replaced meanwhile.
    let own = std::path::PathBuf::from("/proc/self/exe");
    let exe = if own.exists() {
        Some(own)
    } else {
        std::env::current_exe().ok()
    };
    if let Some(program) = exe {
        almacal_casa::isolate::set_prober(almacal_casa::isolate::Prober {
            program,
            args: Vec::new(),
        });
    }
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Engine(cmd) => engine_cli::dispatch(cmd),
        Command::Listobs(args) => listobs_cmd::run(&args),
        Command::Simulate(args) => simulate_cmd::run(&args),
        Command::Plot(args) => plot_cmd::run(&args),
        Command::Locate(args) => locate_cmd::run(&args),
        Command::Report(args) => plot_cmd::run_report(&args),
        Command::Regress(args) => regress_cmd::cmd_regress(&args),
        Command::ImportScript(args) => import_cmd::run(&args),
    };
    ExitCode::from(code)
}
