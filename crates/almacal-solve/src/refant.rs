//! Reference antenna handling after all intervals are solved (algorithms.md §1.10):
//! the candidate priority list (primary, last used, user alternates, then all other
//! antennas by distance from the last user-listed one), flex/strict selection per spw in
//! time order, phase referencing with continuity across refant changes, and flagging of
//! times with no usable reference.

use crate::error::{Result, SolveError};
use crate::not_positive;
use crate::solution::SolutionCell;
use num_complex::Complex64;
use serde::{Deserialize, Serialize};

/// `refantmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefantMode {
    Flex,
    Strict,
}

/// A resolved reference-antenna plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefantPlan {
    /// User-listed antennas, primary first.
    pub user: Vec<usize>,
    /// Every other antenna, nearest to the last user-listed antenna first.
    pub others: Vec<usize>,
    pub mode: RefantMode,
}

impl RefantPlan {
    /// `user` = antenna indices of the `refant` list; `positions_m` = ITRF positions of all
    /// antennas (for the distance ordering of the automatic fallbacks).
    pub fn new(user: Vec<usize>, positions_m: &[[f64; 3]], mode: RefantMode) -> Result<Self> {
        let nant = positions_m.len();
        if user.is_empty() {
            return Err(SolveError::Refant("empty refant list".into()));
        }
        if let Some(bad) = user.iter().find(|&&a| a >= nant) {
            return Err(SolveError::Refant(format!(
                "antenna index {bad} out of range"
            )));
        }
        let last = positions_m[*user.last().unwrap_or(&0)];
        let mut others: Vec<usize> = (0..nant).filter(|a| !user.contains(a)).collect();
        let dist = |a: usize| {
            let p = positions_m[a];
            ((p[0] - last[0]).powi(2) + (p[1] - last[1]).powi(2) + (p[2] - last[2]).powi(2)).sqrt()
        };
        others.sort_by(|&a, &b| dist(a).total_cmp(&dist(b)).then(a.cmp(&b)));
        Ok(Self { user, others, mode })
    }

    pub fn primary(&self) -> usize {
        self.user[0]
    }

    fn candidates(&self, last_used: usize) -> Vec<usize> {
        if self.mode == RefantMode::Strict {
            return vec![self.user[0]];
        }
        let mut c = vec![self.user[0], last_used];
        c.extend(self.user.iter().skip(1));
        c.extend(&self.others);
        c
    }
}

fn phasor(z: Complex64, flagged: bool) -> Complex64 {
    let a = z.norm();
    if flagged || not_positive(a) || !a.is_finite() {
        Complex64::new(1.0, 0.0)
    } else {
        z / a
    }
}

/// Reference the cells of **one spw**, given in time order (§1.10; CASA's
/// `SolvableVisJones::applyRefAnt`). One refant per solution (not per channel): the first
/// candidate with at least one unflagged channel in every live polarization both at the
/// previous referenced time and at this time. Its per-channel unit phasor is removed from
/// every antenna, divided by its own already-referenced phasor at the previous time (phase
/// continuity); channels where the refant is flagged use phasor 1 (they are not
/// re-referenced). Times where no candidate qualifies are flagged entirely and do not become
/// the "previous" time. Sets `refant` (ANTENNA2) of each referenced cell.
pub fn apply_refant(cells: &mut [&mut SolutionCell], plan: &RefantPlan) {
    let Some(first) = cells.first() else { return };
    let (nant, npar, nchan) = (first.nant(), first.npar(), first.nchan());
    // A polarization with no unflagged solution anywhere in the spw is "dead".
    let live: Vec<bool> = (0..npar)
        .map(|p| {
            cells.iter().any(|c| {
                c.npar() == npar
                    && (0..c.nant()).any(|a| (0..c.nchan()).any(|ch| !c.flag[[a, p, ch]]))
            })
        })
        .collect();
    let usable = |c: &SolutionCell, a: usize| {
        (0..npar).all(|p| !live[p] || (0..nchan).any(|ch| !c.flag[[a, p, ch]]))
    };
    let mut last_used = plan.primary();
    let mut prev: Option<usize> = None;
    for t in 0..cells.len() {
        if cells[t].nant() != nant || cells[t].npar() != npar || cells[t].nchan() != nchan {
            continue;
        }
        let choice = plan
            .candidates(last_used)
            .into_iter()
            .filter(|&a| a < nant)
            .find(|&a| usable(cells[t], a) && prev.is_none_or(|k| usable(cells[k], a)));
        let Some(r) = choice else {
            cells[t].flag.fill(true);
            cells[t].refant = None;
            continue;
        };
        let mut rot = vec![Complex64::new(1.0, 0.0); npar * nchan];
        for p in 0..npar {
            for ch in 0..nchan {
                let mut z = phasor(cells[t].params[[r, p, ch]], cells[t].flag[[r, p, ch]]);
                if let Some(k) = prev {
                    z /= phasor(cells[k].params[[r, p, ch]], cells[k].flag[[r, p, ch]]);
                }
                rot[p * nchan + ch] = z;
            }
        }
        let c = &mut *cells[t];
        for a in 0..nant {
            for p in 0..npar {
                for ch in 0..nchan {
                    c.params[[a, p, ch]] /= rot[p * nchan + ch];
                }
            }
        }
        c.refant = Some(r);
        last_used = r;
        prev = Some(t);
    }
}
