//! almacal-recipe: the recipe format. Owns the TOML schema, the per-task
//! parameter tables (CASA names, types and defaults), validation that reports
//! every error with file:line:column (and "did you mean" help), and the
//! resolved [`Recipe`] the engine runs. Never runs anything and never writes
//! files.
//!
//! Entry points: [`load`] / [`load_str`] → [`Recipe`] or [`RecipeErrors`].

pub mod checks;
mod convert;
pub mod diag;
mod draft;
pub mod flagfile;
pub mod overlap;
pub mod plots;
pub mod raw;
pub mod recipe;
pub mod reference;
mod refs;
mod rules;
pub mod schema;
pub mod source;
pub mod suggest;
pub mod support;
pub mod tasks;
mod validate;
pub mod value;

pub use diag::{DiagKind, Diagnostic, ParamSite, RecipeErrors, SiteOrigin};
pub use plots::PlotName;
pub use recipe::{
    CalRef, Dep, DepKind, FileFlagCommand, Input, ProductDecl, Recipe, Stage, TextFile, VisSource,
};
pub use schema::ProductKind;
pub use validate::{load, load_str, LoadOptions};
pub use value::{canonical_json, ParamValue, Params};
