//! The content of `<workdir>/run.json`: what a run did with each stage (status, reason,
//! products, plots). Written by [`crate::run`], read by the CLI, `status`, the report.

use std::path::PathBuf;

use almacal_recipe::ProductKind;
use serde::{Deserialize, Serialize};

/// Final status of a stage in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ran,
    Cached,
    Failed,
    Skipped,
}

/// One product in run.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProductReport {
    pub kind: ProductKind,
    pub path: PathBuf,
}

/// One stage in run.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageReport {
    pub name: String,
    pub task: String,
    pub status: Status,
    /// Why it ran, was cached, was skipped; or the error.
    pub reason: String,
    pub wall_s: f64,
    pub products: Vec<ProductReport>,
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// The products are identical to the previous run's (early cutoff).
    #[serde(default)]
    pub unchanged: bool,
    /// Set for failures caused by unusable input data.
    #[serde(default)]
    pub invalid_input: bool,
    /// Set for failures to read or write the workspace (a product, a record, a temp folder).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub io_error: bool,
    #[serde(default)]
    pub summary: Option<serde_json::Value>,
    /// The stage's `plots = [...]` (made by `crate::plots`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plots: Option<PlotsReport>,
}

/// The content of run.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    pub recipe: String,
    pub almacal_version: String,
    pub wall_s: f64,
    pub stages: Vec<StageReport>,
}

impl RunReport {
    pub fn count(&self, s: Status) -> usize {
        self.stages.iter().filter(|r| r.status == s).count()
    }
    pub fn ok(&self) -> bool {
        self.count(Status::Failed) == 0
    }
}

/// The plots of one stage in run.json.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PlotsReport {
    /// PNGs, relative to the workdir (empty when not made).
    #[serde(default)]
    pub files: Vec<PathBuf>,
    /// `made` (this run), `cached` (up to date), `failed`, or `disabled` (`--no-plots`
    /// and none up to date).
    pub status: String,
    #[serde(default)]
    pub wall_s: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
