//! The `almacal` binary: command-line parsing and printing. Every command's work lives in
//! the library crates; this crate only wires arguments to them and maps errors to exit codes.

mod engine_cli;
mod listobs_cmd;
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Engine(cmd) => u8::try_from(engine_cli::dispatch(cmd)).unwrap_or(1),
        Command::Listobs(args) => listobs_cmd::run(&args),
        Command::Simulate(args) => simulate_cmd::run(&args),
    };
    ExitCode::from(code)
}
