//! Post-solve processing over a whole solved table, in CASA's order (algorithms.md §1.9):
//! reference antenna → calmode enforcement on the solutions → solnorm → (bandpass) fillgaps.
//! G/T solnorm is one amplitude factor per spw (§1.11); bandpass solnorm is per
//! antenna/pol/time over channels (§2.2, in [`crate::bandpass`]).

use crate::bandpass::{bandpass_normalize, fill_gaps};
use crate::gain::{CalMode, JonesKind};
use crate::not_positive;
use crate::refant::{apply_refant, RefantPlan};
use crate::solution::SolutionCell;
use num_complex::Complex64;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use crate::norm::{median_even_mean, NormType};

/// Post-solve options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostSolve {
    pub kind: JonesKind,
    pub calmode: CalMode,
    pub refant: Option<RefantPlan>,
    pub solnorm: Option<NormType>,
    /// Bandpass `fillgaps` (0 = off).
    pub fillgaps: usize,
}

/// Divide every unflagged solution by its amplitude ('p') or unit phasor ('a') (§1.9).
pub fn enforce_calmode(cell: &mut SolutionCell, calmode: CalMode) {
    if calmode == CalMode::AmpPhase {
        return;
    }
    for (z, &f) in cell.params.iter_mut().zip(cell.flag.iter()) {
        if f {
            continue;
        }
        let a = z.norm();
        if not_positive(a) {
            continue;
        }
        match calmode {
            CalMode::Phase => *z /= a,
            CalMode::Amp => *z = Complex64::new(a, 0.0),
            CalMode::AmpPhase => {}
        }
    }
}

/// G/T solnorm: per spw, divide all solutions (flagged too) by sqrt(mean |g|²) (or the
/// median) over unflagged solutions; needs ≥ 2 of them (§1.11).
pub fn gain_normalize(cells: &mut [SolutionCell], norm: NormType) {
    let mut by_spw: BTreeMap<i32, Vec<f64>> = BTreeMap::new();
    for c in cells.iter() {
        let e = by_spw.entry(c.meta.spw).or_default();
        for (z, &f) in c.params.iter().zip(c.flag.iter()) {
            if !f {
                e.push(z.norm_sqr());
            }
        }
    }
    let factors: BTreeMap<i32, f64> = by_spw
        .into_iter()
        .filter_map(|(spw, mut v)| {
            if v.len() < 2 {
                return None;
            }
            let m = match norm {
                NormType::Mean => v.iter().sum::<f64>() / v.len() as f64,
                NormType::Median => median_even_mean(&mut v)?,
            };
            (m > 0.0).then(|| (spw, m.sqrt()))
        })
        .collect();
    for c in cells.iter_mut() {
        if let Some(f) = factors.get(&c.meta.spw) {
            c.params.mapv_inplace(|z| z / *f);
        }
    }
}

/// Run the whole post-solve sequence on a solved table (cells of any spws, any order).
pub fn post_solve(cells: &mut [SolutionCell], opts: &PostSolve) {
    if let Some(plan) = &opts.refant {
        let mut spws: Vec<i32> = cells.iter().map(|c| c.meta.spw).collect();
        spws.sort_unstable();
        spws.dedup();
        for spw in spws {
            let mut group: Vec<&mut SolutionCell> =
                cells.iter_mut().filter(|c| c.meta.spw == spw).collect();
            group.sort_by(|a, b| a.meta.time_s.total_cmp(&b.meta.time_s));
            apply_refant(&mut group, plan);
        }
    }
    for c in cells.iter_mut() {
        enforce_calmode(c, opts.calmode);
    }
    if let Some(norm) = opts.solnorm {
        if opts.kind == JonesKind::B {
            for c in cells.iter_mut() {
                bandpass_normalize(c, norm);
            }
        } else {
            gain_normalize(cells, norm);
        }
    }
    if opts.kind == JonesKind::B && opts.fillgaps > 0 {
        for c in cells.iter_mut() {
            fill_gaps(c, opts.fillgaps);
        }
    }
}
