//! almacal-pipeline: the engine. Owns the plan (petgraph DAG), fingerprints
//! and product digests, the workspace cache (crash-safe commits, lock), the
//! run loop with concurrent stages and events, plan/explain reasons, DOT
//! graphs, status and clean; and the [`StageExecutor`] interface through
//! which task implementations (in `stages`) plug in. Never prints.

pub mod admin;
pub mod assess;
pub mod check_data;
pub mod dag;
pub mod digest;
pub mod events;
pub mod executor;
pub mod fingerprint;
pub mod graph;
pub mod linediff;
pub mod lock;
pub mod plan;
pub mod plots;
pub mod regress;
pub mod report;
pub mod run;
pub mod stages;
pub mod statcache;
#[doc(hidden)]
pub mod testing;
pub mod workspace;

/// This build's identity (package version + a hash of the sources that decide what a
/// stage writes; see `build.rs`). Part of every stage fingerprint.
pub const BUILD_ID: &str = env!("ALMACAL_BUILD_ID");

pub use admin::{clean, status, CleanError, StageStatus};
pub use check_data::check_against_inputs;
pub use events::{Event, Observer};
pub use executor::{
    Layer, ParamProblem, StageContext, StageError, StageExecutor, StageOutput, TaskRegistry,
    VisInput,
};
pub use fingerprint::Reason;
pub use graph::dot;
pub use lock::LockError;
pub use plan::{explain, plan, PlanEntry};
pub use run::{run, RunError, RunOptions, RunReport, StageReport, Status};
