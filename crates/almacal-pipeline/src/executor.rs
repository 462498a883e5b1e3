//! The stage-execution interface: what a task implementation receives (its
//! resolved parameters, input vis with flag layers and models, caltable
//! paths, where to write each product) and returns; and the registry mapping
//! task names to implementations.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use almacal_recipe::{ParamValue, ProductKind, Recipe, Stage, VisSource};

/// A task implementation.
pub trait StageExecutor: Send + Sync {
    /// Bump whenever the numerics change: it is part of every fingerprint,
    /// so cached products of older versions rerun.
    fn algorithm_version(&self) -> u32;

    /// Run one stage. Write each declared product at `ctx.output(kind)`
    /// (paths inside a temporary directory; the engine renames them into the
    /// workspace after success). Never write anywhere else, never modify
    /// inputs.
    fn run(&self, ctx: &StageContext<'_>) -> Result<StageOutput, StageError>;

    /// Can this stage redo only some spectral windows when only those spws' inputs
    /// changed (see [`PartialRun`])? Default: no, it always runs whole.
    fn partial_mode(&self, _stage: &Stage) -> PartialMode {
        PartialMode::No
    }

    /// Check the stage's parameters against the metadata of the input MS it will read
    /// (`almacal check`, before anything runs), beyond the selections the engine checks
    /// for every stage ([`crate::check_data`]). Default: nothing more to check.
    fn validate(&self, _stage: &Stage, _meta: &almacal_core::meta::MsMeta) -> Vec<ParamProblem> {
        Vec::new()
    }
}

/// A problem [`StageExecutor::validate`] found: the parameter (a key of
/// [`Stage::sites`], e.g. `standard` or `groups[1].field`), what is wrong, and the fix.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamProblem {
    pub param: String,
    pub message: String,
    pub help: Option<String>,
}

/// How a stage supports partial reruns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartialMode {
    No,
    /// It reads its previous products (read-only, at their workspace paths) and writes
    /// complete new products, recomputing only the changed spws.
    Merge,
    /// It updates its previous product in place: the engine first drops the stage's
    /// record (so a crash midway means "never run", a full rerun next time), then moves
    /// the previous product to the stage's output path.
    InPlace,
}

/// A partial rerun: only `spws` changed upstream.
#[derive(Debug, Clone)]
pub struct PartialRun {
    pub spws: std::collections::BTreeSet<u32>,
    /// The previous products: workspace paths (Merge) or the output paths they were
    /// moved to (InPlace).
    pub previous: BTreeMap<ProductKind, PathBuf>,
    /// The previous run's summary.
    pub previous_summary: Option<serde_json::Value>,
}

/// A product of an upstream stage that applies to this stage's vis.
#[derive(Debug, Clone)]
pub struct Layer {
    pub stage: String,
    pub task: String,
    pub path: PathBuf,
}

/// The vis a stage reads.
#[derive(Debug, Clone)]
pub struct VisInput {
    /// The input MS or the upstream vis product. Open read-only.
    pub path: PathBuf,
    pub source: VisSource,
    /// Flag layers to OR with the base FLAG column, in declaration order.
    pub flag_layers: Vec<Layer>,
    /// setjy models (per field), in declaration order.
    pub models: Vec<Layer>,
    /// Saved flag versions (`<ms>.flagversions` directories of flagmanager
    /// `save` stages on the same vis), in declaration order.
    pub flag_versions: Vec<Layer>,
}

/// Everything a stage needs.
pub struct StageContext<'a> {
    pub recipe: &'a Recipe,
    /// Name, task, resolved params, `file_commands`, `files`.
    pub stage: &'a Stage,
    pub vis: Option<VisInput>,
    /// Every caltable reference (as the recipe wrote it) → path to read.
    pub caltables: BTreeMap<String, PathBuf>,
    /// Where each declared product must be written.
    pub outputs: BTreeMap<ProductKind, PathBuf>,
    /// A private scratch folder, removed after the stage.
    pub scratch: PathBuf,
    /// Threads this stage may use (rayon pool size hint).
    pub threads: usize,
    /// Set when the engine asks for a partial rerun ([`StageExecutor::partial_mode`]).
    pub partial: Option<PartialRun>,
    /// The stage's input fingerprint (the cache key), written into caltable HISTORY.
    pub fingerprint: String,
    pub(crate) progress: &'a (dyn Fn(u64, u64) + Sync),
}

impl StageContext<'_> {
    /// A resolved parameter (defaults applied).
    pub fn param(&self, name: &str) -> Option<&ParamValue> {
        self.stage.params.get(name)
    }
    /// A string parameter.
    pub fn param_str(&self, name: &str) -> Option<&str> {
        self.param(name).and_then(|v| v.as_str())
    }
    /// The path of a caltable reference (stage name or written path).
    pub fn caltable(&self, written: &str) -> Option<&Path> {
        self.caltables.get(written).map(PathBuf::as_path)
    }
    /// Where to write the product of `kind`.
    pub fn output(&self, kind: ProductKind) -> Result<&Path, StageError> {
        self.outputs
            .get(&kind)
            .map(PathBuf::as_path)
            .ok_or_else(|| {
                StageError::Failed(format!(
                    "stage {} does not declare {}",
                    self.stage.name,
                    kind.a_noun()
                ))
            })
    }
    /// Report progress in chunks (or any unit): `done` of `total`.
    pub fn progress(&self, done: u64, total: u64) {
        (self.progress)(done, total);
    }
}

/// What a stage returns besides its product files.
#[derive(Debug, Clone, Default)]
pub struct StageOutput {
    /// A small JSON summary recorded in run.json (e.g. QA numbers).
    pub summary: Option<serde_json::Value>,
}

/// A stage failure.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("{0}")]
    Failed(String),
    /// The data is unusable (missing columns, wrong shapes, ...).
    #[error("invalid input data: {0}")]
    InvalidInput(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl StageError {
    /// A CASA selection written in the recipe that the data cannot satisfy (an spw, field,
    /// antenna, ... the MS does not have, or a selection matching no rows). The same rule
    /// for every task: invalid input data (exit code 4), since only the data can tell.
    pub fn selection(stage: &str, e: impl std::fmt::Display) -> Self {
        StageError::InvalidInput(format!("stage {stage}: {e}"))
    }

    /// A product that cannot be written (into the workspace's temp folder): an I/O error,
    /// not a problem of the input data.
    pub fn write(stage: &str, path: &std::path::Path, e: impl std::fmt::Display) -> Self {
        StageError::Io(std::io::Error::other(format!(
            "stage {stage}: cannot write {}: {e}",
            path.display()
        )))
    }
}

/// Task name → implementation.
#[derive(Clone, Default)]
pub struct TaskRegistry {
    executors: HashMap<String, Arc<dyn StageExecutor>>,
}

impl TaskRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }
    pub fn register(&mut self, task: &str, exec: Arc<dyn StageExecutor>) {
        self.executors.insert(task.to_string(), exec);
    }
    pub fn get(&self, task: &str) -> Option<&Arc<dyn StageExecutor>> {
        self.executors.get(task)
    }
    /// The version that goes into fingerprints (0 for unimplemented tasks).
    pub fn version(&self, task: &str) -> u32 {
        self.get(task).map_or(0, |e| e.algorithm_version())
    }
}
