//! `status` and `clean`: the state of each stage in the workspace, and
//! removal of products and records (all, or one stage).

use std::path::PathBuf;

use almacal_recipe::Recipe;

use crate::executor::TaskRegistry;
use crate::lock::{LockError, WorkspaceLock};
use crate::plan::plan;
use crate::run::{RunReport, Status};
use crate::workspace::Workspace;

/// One line of `almacal status`.
#[derive(Debug, Clone)]
pub struct StageStatus {
    pub stage: String,
    pub task: String,
    /// "up to date", "out of date: ...", "never run", ...
    pub state: String,
    /// Status in the last run.json, if any.
    pub last_run: Option<Status>,
    pub products: Vec<PathBuf>,
}

/// The state of every stage.
pub fn status(recipe: &Recipe, registry: &TaskRegistry) -> Vec<StageStatus> {
    let ws = Workspace::new(&recipe.workdir);
    let last: Option<RunReport> = std::fs::read_to_string(ws.run_json())
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    plan(recipe, registry, &[])
        .into_iter()
        .map(|e| {
            let stage = recipe.stage(&e.stage);
            StageStatus {
                state: if e.error.is_some() || e.run {
                    e.describe().replacen("run: ", "out of date: ", 1)
                } else {
                    "up to date".into()
                },
                last_run: last
                    .as_ref()
                    .and_then(|l| l.stages.iter().find(|s| s.name == e.stage))
                    .map(|s| s.status),
                products: stage
                    .map(|s| ws.stage_products(s).into_iter().map(|(_, p)| p).collect())
                    .unwrap_or_default(),
                stage: e.stage,
                task: e.task,
            }
        })
        .collect()
}

/// Errors of `clean`.
#[derive(Debug, thiserror::Error)]
pub enum CleanError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("unknown stage `{0}`")]
    UnknownStage(String),
}

/// Remove the products and records of `stage`, or of the whole workspace.
pub fn clean(recipe: &Recipe, stage: Option<&str>, wait: bool) -> Result<Vec<PathBuf>, CleanError> {
    let ws = Workspace::new(&recipe.workdir);
    if !ws.root.exists() {
        return match stage {
            Some(s) if recipe.stage(s).is_none() => Err(CleanError::UnknownStage(s.to_string())),
            _ => Ok(Vec::new()),
        };
    }
    let lock = WorkspaceLock::acquire(&ws.lock_path(), wait)?;
    let mut removed = Vec::new();
    match stage {
        Some(name) => {
            let s = recipe
                .stage(name)
                .ok_or_else(|| CleanError::UnknownStage(name.to_string()))?;
            removed.extend(ws.remove_stage(s)?);
        }
        None => {
            for s in &recipe.stages {
                removed.extend(ws.remove_stage(s)?);
            }
            if ws.run_json().exists() {
                std::fs::remove_file(ws.run_json())?;
                removed.push(ws.run_json());
            }
            // The stage plots and the HTML report `almacal run` writes (reserved names).
            for dir in ["plots", "report"] {
                let d = ws.root.join(dir);
                if d.is_dir() {
                    std::fs::remove_dir_all(&d)?;
                    removed.push(d);
                }
            }
            drop(lock);
            std::fs::remove_dir_all(ws.meta_dir())?;
            // Leave the workdir itself if the user keeps other files there.
            let _ = std::fs::remove_dir(&ws.root);
        }
    }
    Ok(removed)
}
