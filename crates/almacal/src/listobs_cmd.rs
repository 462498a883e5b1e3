//! `almacal listobs MS [--json] [--listfile FILE]`.

use almacal_casa::listobs;
use clap::Args;
use std::path::PathBuf;

use crate::exit;

#[derive(Args)]
pub struct ListobsArgs {
    /// The MeasurementSet (opened read-only).
    pub ms: PathBuf,
    /// Print a JSON summary instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also write the output to this file.
    #[arg(long)]
    pub listfile: Option<PathBuf>,
}

pub fn run(args: &ListobsArgs) -> u8 {
    let meta = match almacal_casa::read_meta(&args.ms) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INVALID_INPUT;
        }
    };
    let text = if args.json {
        match serde_json::to_string_pretty(&listobs::summary(&meta)) {
            Ok(s) => s + "\n",
            Err(e) => {
                eprintln!("error: cannot encode JSON: {e}");
                return exit::ERROR;
            }
        }
    } else {
        listobs::render_text(&meta)
    };
    print!("{text}");
    if let Some(path) = &args.listfile {
        if let Err(e) = std::fs::write(path, &text) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return exit::ERROR;
        }
    }
    exit::OK
}
