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

/// Reference the cells of **one spw**, given in time order (§1.10). Per channel, the first
/// candidate unflagged in all live polarizations at both the previous referenced time and
/// this time is used; its phase is removed from every antenna, divided by its own
/// already-referenced phase at the previous time (phase continuity). Times where no
/// candidate qualifies are flagged entirely. Sets `refant` (ANTENNA2) of each cell.
pub fn apply_refant(cells: &mut [&mut SolutionCell], plan: &RefantPlan) {
    let Some(first) = cells.first() else { return };
    let (nant, npar, nchan) = (first.nant(), first.npar(), first.nchan());
    // A polarization with no unflagged solution anywhere in the spw is "dead".
    let live: Vec<bool> = (0..npar)
        .map(|p| {
            p == 0
                || cells.iter().any(|c| {
                    (0..nant).any(|a| (0..nchan).any(|ch| c.flag.get((a, p, ch)) == Some(&false)))
                })
        })
        .collect();
    let mut last_used = vec![plan.primary(); nchan];
    let mut prev: Vec<Option<usize>> = vec![None; nchan];
    for t in 0..cells.len() {
        if cells[t].nant() != nant || cells[t].npar() != npar || cells[t].nchan() != nchan {
            continue;
        }
        let mut chosen_any: Vec<usize> = Vec::new();
        for ch in 0..nchan {
            let pt = prev[ch];
            let ok_at =
                |c: &SolutionCell, a: usize| (0..npar).all(|p| !live[p] || !c.flag[[a, p, ch]]);
            let choice = plan
                .candidates(last_used[ch])
                .into_iter()
                .filter(|&a| a < nant)
                .find(|&a| ok_at(cells[t], a) && pt.is_none_or(|k| ok_at(cells[k], a)));
            match choice {
                Some(r) => {
                    let mut rot = vec![Complex64::new(1.0, 0.0); npar];
                    for (p, rp) in rot.iter_mut().enumerate() {
                        let cur = cells[t].params[[r, p, ch]];
                        let mut z = phasor(cur, cells[t].flag[[r, p, ch]]);
                        if let Some(k) = pt {
                            z /= phasor(cells[k].params[[r, p, ch]], cells[k].flag[[r, p, ch]]);
                        }
                        *rp = z;
                    }
                    let c = &mut *cells[t];
                    for a in 0..nant {
                        for (p, rp) in rot.iter().enumerate() {
                            c.params[[a, p, ch]] /= *rp;
                        }
                    }
                    last_used[ch] = r;
                    prev[ch] = Some(t);
                    chosen_any.push(r);
                }
                None => {
                    let c = &mut *cells[t];
                    for a in 0..nant {
                        for p in 0..npar {
                            c.flag[[a, p, ch]] = true;
                        }
                    }
                }
            }
        }
        // ANTENNA2: the refant used for most channels (first such on ties).
        cells[t].refant = chosen_any.iter().copied().max_by_key(|&r| {
            (
                chosen_any.iter().filter(|&&x| x == r).count(),
                std::cmp::Reverse(chosen_any.iter().position(|&x| x == r)),
            )
        });
    }
}
