//! Applying a `KAntPos Jones` table (algorithms.md §6.2): per row time, each antenna's
//! offset is rotated to J2000 and projected on the field's phase centre (dw), and the data
//! are multiplied by exp(−i·2π·ν·(dw_i − dw_j)/c). No flags; weights never change.

use super::{ChunkInfo, Corrections, Term};
use crate::prep::antpos::{antenna_delays_m, C_M_S};
use almacal_core::chunk::VisChunk;
use num_complex::Complex32;
use std::collections::BTreeMap;

/// Antenna-position offsets ready to apply.
#[derive(Debug, Clone)]
pub struct AntposTerm {
    /// ITRF offsets (m) per antenna id.
    pub offsets_m: Vec<[f64; 3]>,
    /// The measures frame position (ITRF, m): CASA uses antenna 0.
    pub site_itrf_m: [f64; 3],
}

impl Term for AntposTerm {
    fn order(&self) -> u32 {
        0
    }

    fn covers(&self, _spw: u32) -> bool {
        true
    }

    fn accumulate(&self, chunk: &VisChunk, info: &ChunkInfo, _calwt: bool, c: &mut Corrections) {
        let (ra, dec) = info.field_dir_rad;
        let mut delays: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
        for k in 0..chunk.nrows() {
            let t = chunk.time_s[k];
            let dw = delays
                .entry(t.to_bits())
                .or_insert_with(|| antenna_delays_m(&self.offsets_m, self.site_itrf_m, t, ra, dec));
            let (i, j) = (chunk.ant1[k].idx(), chunk.ant2[k].idx());
            let ddw = dw.get(i).copied().unwrap_or(0.0) - dw.get(j).copied().unwrap_or(0.0);
            for (ci, &nu) in info.chan_freq_hz.iter().enumerate() {
                let ph = -std::f64::consts::TAU * nu * ddw / C_M_S;
                let f = Complex32::new(ph.cos() as f32, ph.sin() as f32);
                for pi in 0..info.corrs.len() {
                    c.factor_rcf[[k, ci, pi]] *= f;
                }
            }
        }
    }
}
