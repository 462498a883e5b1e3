//! Helpers shared by the simulator's integration tests.
#![allow(dead_code)]

use almacal_sim::{simulate, SimConfig, SimReport};
use std::path::Path;

/// Simulate the tiny preset (with optional tweaks) into `dir/name`.
pub fn tiny(dir: &Path, name: &str, tweak: impl FnOnce(&mut SimConfig)) -> SimReport {
    let mut cfg = SimConfig::preset("tiny").expect("tiny preset");
    tweak(&mut cfg);
    simulate(cfg, &dir.join(name), false, &mut |_| {}).expect("simulate tiny")
}
