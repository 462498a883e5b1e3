//! The resolved recipe: what the engine plans and runs. Every reference is
//! checked, every parameter has its value (defaults applied) in canonical
//! form, and dependencies are explicit.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::diag::ParamSite;
use crate::plots::PlotName;
use crate::schema::ProductKind;
use crate::value::Params;

/// A validated recipe.
#[derive(Debug, Clone)]
pub struct Recipe {
    /// `[recipe] name`, or the recipe file's stem.
    pub name: String,
    /// The recipe file as the user named it.
    pub path: PathBuf,
    /// The folder relative paths in the recipe resolve against.
    pub dir: PathBuf,
    /// The workspace (absolute or relative to the current directory, as
    /// derived from `dir`).
    pub workdir: PathBuf,
    /// Named input MeasurementSets (opened read-only).
    pub inputs: Vec<Input>,
    /// Stages in declaration order.
    pub stages: Vec<Stage>,
}

/// An `[inputs]` entry.
#[derive(Debug, Clone, Serialize)]
pub struct Input {
    pub name: String,
    /// As written in the recipe (hash this, never `path`).
    pub written: String,
    /// Resolved against the recipe folder.
    pub path: PathBuf,
}

/// Where a stage's `vis` comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum VisSource {
    Input(String),
    Stage(String),
}

/// A caltable reference: another stage's caltable or an existing path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CalRef {
    Stage { name: String },
    Path { written: String, path: PathBuf },
}

/// Why one stage depends on another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DepKind {
    /// Reads the other stage's vis.
    Vis,
    /// Applies the other stage's caltable.
    Caltable,
    /// Sees the other stage's flag layer (same vis, declared earlier).
    FlagLayer,
    /// Uses the other stage's model (same vis, declared earlier).
    Model,
    /// Reads the other stage's saved flag versions (flagmanager on the
    /// same vis, declared earlier).
    FlagVersions,
    /// Explicit `after`.
    After,
}

/// An edge of the DAG: this stage needs `stage` for `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dep {
    pub stage: String,
    pub kind: DepKind,
}

/// A referenced text file (flag commands, antenna positions): its content
/// is part of the stage's fingerprint.
#[derive(Debug, Clone, Serialize)]
pub struct TextFile {
    /// The parameter naming it (`inpfile`, `infile`).
    pub param: String,
    pub written: String,
    pub path: PathBuf,
    pub content: String,
}

/// One flag command from an `inpfile` (validated like inline commands).
#[derive(Debug, Clone, Serialize)]
pub struct FileFlagCommand {
    /// 1-based line in the file.
    pub line: usize,
    pub params: Params,
}

/// A product a stage writes, relative to the workdir.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductDecl {
    pub kind: ProductKind,
    pub rel_path: PathBuf,
}

/// A validated stage.
#[derive(Debug, Clone)]
pub struct Stage {
    pub name: String,
    pub task: String,
    /// Every parameter of the task with its resolved value (given, from
    /// `[defaults]`, or CASA's default), in canonical order. References keep
    /// the names the recipe wrote.
    pub params: Params,
    pub vis: Option<VisSource>,
    /// Caltable references of `gaintable`/`caltable` and of every applycal
    /// group, in first-seen order, without duplicates; keyed by the string
    /// the recipe wrote.
    pub caltables: Vec<(String, CalRef)>,
    pub files: Vec<TextFile>,
    /// Flag commands read from `inpfile` (flagdata only).
    pub file_commands: Vec<FileFlagCommand>,
    pub deps: Vec<Dep>,
    pub outputs: Vec<ProductDecl>,
    /// `plots = [...]`: plots made of the products after the stage succeeds. Not a
    /// parameter: not fingerprinted (adding a plot never reruns the stage).
    pub plots: Vec<PlotName>,
    /// Where each parameter was written (for errors found after loading, e.g. by
    /// `almacal check` against the data). Not fingerprinted.
    pub sites: BTreeMap<String, ParamSite>,
}

impl Recipe {
    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.name == name)
    }
    pub fn input(&self, name: &str) -> Option<&Input> {
        self.inputs.iter().find(|i| i.name == name)
    }
}

impl Stage {
    /// The declared product of `kind`, if the stage writes one.
    pub fn output(&self, kind: ProductKind) -> Option<&ProductDecl> {
        self.outputs.iter().find(|o| o.kind == kind)
    }
    /// Where parameter `key` (or a nested `name[i].key`) was written. A nested key not
    /// written in its entry falls back to the stage-level parameter of that name (applycal
    /// groups inherit them, a single flag command is written at stage level), then to
    /// the entry, then to the whole parameter.
    pub fn site(&self, key: &str) -> Option<&ParamSite> {
        self.sites.get(key).or_else(|| {
            let (entry, leaf) = key.rsplit_once('.')?;
            let param = entry.split('[').next()?;
            self.sites
                .get(leaf)
                .or_else(|| self.sites.get(entry))
                .or_else(|| self.sites.get(param))
        })
    }

    /// Upstream stage names (deduplicated, in dependency order of appearance).
    pub fn upstream(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for d in &self.deps {
            if !out.contains(&d.stage.as_str()) {
                out.push(&d.stage);
            }
        }
        out
    }
}
