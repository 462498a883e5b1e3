//! Built-in stage implementations: one module per CASA task (`gaincal.rs` is
//! task `gaincal`, and so on), tying `almacal-casa` (MS and caltable I/O) and
//! `almacal-solve` (numerics) together. Shared pieces: `solve_common` (what
//! gaincal and bandpass share), `prep_common` (helpers of the data-preparation
//! stages), `apply_terms` (loading caltables to apply), `vis_out` (writing a
//! vis product), `model` (the setjy model product). Every task is registered
//! in [`register_builtin`].

use std::sync::Arc;

use crate::executor::TaskRegistry;

pub mod bandpass;
pub mod delmod;
pub mod fluxscale;
pub mod gaincal;
pub mod model;
pub mod setjy;
pub mod solve_common;

pub mod apply_terms;
pub mod applycal;
pub mod average;
pub mod flag_commands;
pub mod flag_layers;
pub mod flagcal;
pub mod flagcmd;
pub mod flagdata;
pub mod flagmanager;
pub mod gencal;
pub mod listobs;
mod prep_common;
pub mod reindex;
pub mod renorm;
pub mod split;
pub mod vis_out;

impl TaskRegistry {
    /// The registry with every built-in task.
    pub fn builtin() -> Self {
        let mut r = Self::new();
        register_builtin(&mut r);
        r
    }
}

/// Register every built-in task.
pub fn register_builtin(r: &mut TaskRegistry) {
    r.register("flagdata", Arc::new(flagdata::Flagdata));
    r.register("flagcmd", Arc::new(flagcmd::Flagcmd));
    r.register("flagmanager", Arc::new(flagmanager::Flagmanager));
    r.register("gencal", Arc::new(gencal::Gencal));
    r.register("applycal", Arc::new(applycal::Applycal));
    r.register("split", Arc::new(split::Split));
    r.register("mstransform", Arc::new(split::Split));
    r.register("listobs", Arc::new(listobs::Listobs));
    r.register("renorm", Arc::new(renorm::Renorm));
    r.register("gaincal", Arc::new(gaincal::Gaincal));
    r.register("bandpass", Arc::new(bandpass::Bandpass));
    r.register("setjy", Arc::new(setjy::Setjy));
    r.register("delmod", Arc::new(delmod::Delmod));
    r.register("fluxscale", Arc::new(fluxscale::Fluxscale));
}
