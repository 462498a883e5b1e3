//! `almacal regress RECIPE --reference FILE.json [--update] [--junit FILE.xml]`: run (or
//! reuse) a recipe, reduce its products to metrics and compare them with a reference.

use crate::engine_cli::{run_recipe, with_recipe, EXIT_ERROR, EXIT_INVALID_INPUT, EXIT_OK};
use almacal_pipeline::regress::{compare, extract, junit_xml, Reference};
use almacal_pipeline::workspace::Workspace;
use std::path::PathBuf;

use crate::exit::REGRESSED as EXIT_REGRESSED;

#[derive(clap::Args, Debug)]
pub struct RegressArgs {
    /// The recipe (TOML).
    pub recipe: PathBuf,
    /// The reference metrics (JSON).
    #[arg(long)]
    pub reference: PathBuf,
    /// Write the current metrics as the new reference (keeping its tolerances).
    #[arg(long)]
    pub update: bool,
    /// Also write JUnit XML here.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Compare the cached products only; do not run stages.
    #[arg(long)]
    pub no_run: bool,
    /// Number of stages to run at once.
    #[arg(long)]
    pub jobs: Option<usize>,
}

pub fn cmd_regress(a: &RegressArgs) -> u8 {
    with_recipe(&a.recipe, |recipe, reg| {
        if !a.no_run {
            let code = run_recipe(recipe, reg, a.jobs);
            if code != EXIT_OK {
                return code;
            }
        }
        let ws = Workspace::new(&recipe.workdir);
        let metrics = match extract(recipe, &ws) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_INVALID_INPUT;
            }
        };
        let existing: Option<Reference> = std::fs::read_to_string(&a.reference)
            .ok()
            .map(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
            .transpose()
            .unwrap_or_else(|e| {
                eprintln!("error: {}: {e}", a.reference.display());
                None
            });
        if a.update {
            let reference = Reference {
                made_by: format!("almacal {}", env!("CARGO_PKG_VERSION")),
                recipe: recipe.name.clone(),
                tolerances: existing.map(|r| r.tolerances).unwrap_or_default(),
                metrics,
            };
            let text = match serde_json::to_string_pretty(&reference) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: {e}");
                    return EXIT_ERROR;
                }
            };
            if let Err(e) = std::fs::write(&a.reference, text + "\n") {
                eprintln!("error: cannot write {}: {e}", a.reference.display());
                return EXIT_ERROR;
            }
            println!(
                "wrote {} metrics to {}",
                reference.metrics.len(),
                a.reference.display()
            );
            return EXIT_OK;
        }
        let Some(reference) = existing else {
            eprintln!(
                "error: cannot read the reference {} (make one with --update)",
                a.reference.display()
            );
            return EXIT_INVALID_INPUT;
        };
        let c = compare(&reference, &metrics);
        print!("{}", c.report(25));
        if let Some(path) = &a.junit {
            let xml = junit_xml(&recipe.name, &reference, &c);
            if let Err(e) = std::fs::write(path, xml) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return EXIT_ERROR;
            }
        }
        if c.passed() {
            println!(
                "regress: OK against {} ({})",
                a.reference.display(),
                reference.made_by
            );
            EXIT_OK
        } else {
            println!("regress: REGRESSED against {}", a.reference.display());
            EXIT_REGRESSED
        }
    })
}
