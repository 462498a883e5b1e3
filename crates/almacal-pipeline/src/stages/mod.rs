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

use crate::executor::TaskRegistry;

/// Register every built-in task.
pub fn register_builtin(r: &mut TaskRegistry) {
    let _ = r;
}
