//! Built-in stage implementations. Real tasks (issues 5, 6, 8) live here,
//! one module per task, tying `almacal-casa` (I/O) and `almacal-solve`
//! (numerics) together, and are registered in [`register_builtin`]:
//!
//! ```text
//! r.register("gaincal", Arc::new(gaincal::Gaincal));
//! ```
//!
//! (This crate does not depend on `almacal-casa` yet, so that the engine's
//! tests build in seconds; add the dependency together with the first real
//! stage.)

use std::sync::Arc;

use crate::executor::TaskRegistry;

pub mod bandpass;
pub mod fluxscale;
pub mod gaincal;
pub mod model;
pub mod setjy;
pub mod solve_common;

pub mod apply_terms;
pub mod applycal;
pub mod flagdata;
pub mod flagmanager;
pub mod gencal;
pub mod listobs;
mod prep_common;
pub mod renorm;
pub mod split;
pub mod vis_out;

/// Register every built-in task.
pub fn register_builtin(r: &mut TaskRegistry) {
    r.register("flagdata", Arc::new(flagdata::Flagdata));
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
    r.register("fluxscale", Arc::new(fluxscale::Fluxscale));
}
