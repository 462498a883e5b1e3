//! `almacal import-script SCRIPT.py [--out DIR]`: turn an archive calibration script into a
//! recipe (`DIR/<stem>.toml`) and its account (`DIR/<stem>.import.json`), and print the
//! one-screen summary. The work is almacal-import's; this module only writes the files.

use crate::exit::{ERROR, INVALID_INPUT, OK};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The script (scriptForCalibration.py, scriptForFluxCalibration.py, ...).
    pub script: PathBuf,
    /// Where to write <stem>.toml and <stem>.import.json (default: the current directory).
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
}

pub fn run(a: &ImportArgs) -> u8 {
    let imp = match almacal_import::import_file(&a.script) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return INVALID_INPUT;
        }
    };
    if let Err(e) = std::fs::create_dir_all(&a.out) {
        eprintln!("error: cannot create {}: {e}", a.out.display());
        return ERROR;
    }
    let toml_path = a.out.join(format!("{}.toml", imp.name));
    let json_path = a.out.join(format!("{}.import.json", imp.name));
    let json = match serde_json::to_string_pretty(&almacal_import::emit::account_json(&imp)) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("error: {e}");
            return ERROR;
        }
    };
    for (path, text) in [
        (&toml_path, almacal_import::emit::recipe_toml(&imp)),
        (&json_path, json + "\n"),
    ] {
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ERROR;
        }
    }
    print!("{}", almacal_import::emit::summary(&imp));
    println!("wrote {} and {}", toml_path.display(), json_path.display());
    OK
}
