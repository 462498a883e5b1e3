//! Build a regression reference from another program's products (e.g. CASA's), laid out as
//! `<DIR>/<stage>.<ext>` like almacal's workspace: they are copied into a scratch workspace
//! and reduced with the same extraction `almacal regress` uses.
//!
//! `cargo run -p almacal-pipeline --example regress_reference_from_products -- \
//!     RECIPE DIR OUT.json "CASA 6.7.0-31" [PREFIX:KEY=VALUE ...]`
//! (tolerance overrides, e.g. `bandpass/:amp_rel=0.002`)

use almacal_pipeline::regress::{extract, Reference, Tolerances};
use almacal_pipeline::workspace::Workspace;
use std::path::{Path, PathBuf};

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    if from.is_dir() {
        std::fs::create_dir_all(to)?;
        for e in std::fs::read_dir(from)? {
            let e = e?;
            copy_tree(&e.path(), &to.join(e.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::copy(from, to).map(|_| ())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        return Err("usage: RECIPE DIR OUT.json MADE_BY [PREFIX:KEY=VALUE ...]".into());
    }
    let recipe = almacal_recipe::load(Path::new(&args[0]), &Default::default())
        .map_err(|e| e.to_string())?;
    let dir = PathBuf::from(&args[1]);
    let scratch = tempfile::tempdir()?;
    let ws = Workspace::new(scratch.path());
    let mut copied = 0;
    for stage in &recipe.stages {
        for (_, path) in ws.stage_products(stage) {
            let Some(name) = path.file_name() else {
                continue;
            };
            let src = dir.join(name);
            if src.exists() {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                copy_tree(&src, &path)?;
                copied += 1;
            }
        }
    }
    let metrics = extract(&recipe, &ws)?;
    let mut tolerances = Tolerances::default();
    for o in &args[4..] {
        let (prefix, kv) = o
            .split_once(':')
            .ok_or("override must be PREFIX:KEY=VALUE")?;
        let (k, v) = kv
            .split_once('=')
            .ok_or("override must be PREFIX:KEY=VALUE")?;
        tolerances
            .overrides
            .entry(prefix.to_string())
            .or_default()
            .insert(k.to_string(), v.parse()?);
    }
    let reference = Reference {
        made_by: args[3].clone(),
        recipe: recipe.name.clone(),
        tolerances,
        metrics,
    };
    std::fs::write(&args[2], serde_json::to_string_pretty(&reference)? + "\n")?;
    println!(
        "{copied} products -> {} metrics in {}",
        reference.metrics.len(),
        args[2]
    );
    Ok(())
}
