//! almacal-recipe: the recipe format. Owns the TOML schema, the per-task
//! parameter tables (CASA names, types and defaults), validation that reports
//! every error with file:line:column, and the resolved [`Recipe`] the engine
//! runs. Never runs anything and never writes files.

pub mod diag;
pub mod raw;
pub mod source;
