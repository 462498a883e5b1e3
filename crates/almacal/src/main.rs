//! The `almacal` binary: command-line parsing and printing. Every command's work lives in
//! the library crates; this crate only wires arguments to them and maps errors to exit codes.

mod listobs_cmd;

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
    /// Summarize a MeasurementSet like CASA's listobs.
    Listobs(listobs_cmd::ListobsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Listobs(args) => listobs_cmd::run(&args),
    };
    ExitCode::from(code)
}
