//! placeholder
pub mod prep;
