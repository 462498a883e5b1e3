//! Solutions of one interval × spw (a "cell"): parameters for every antenna, polarization
//! and solution channel, with PARAMERR, SNR, flags, the reference antenna used and the
//! per-channel convergence records. [`solve_cell`] runs the channel solver over a cell
//! (bandpass channels from the last down to 0, each starting from its neighbour's solution,
//! §1.5; with [`SolverKind::CasaIterative`] even a failed or flagged neighbour's, as CASA);
//! [`solve_cells`] does many cells in parallel with results independent of the thread count.

use crate::accumulate::AveragedVis;
use crate::gain::{solve_channel, ChanInput, Convergence, SolverKind, SolverOptions};
use ndarray::{s, Array3};
use num_complex::Complex64;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Row metadata CASA writes for a solution (§1.4).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CellMeta {
    /// Weighted time centroid (s, MJD seconds).
    pub time_s: f64,
    pub obs: i32,
    pub scan: i32,
    pub field: i32,
    pub spw: i32,
}

/// One solution interval of one spw.
#[derive(Debug, Clone, PartialEq)]
pub struct SolutionCell {
    pub meta: CellMeta,
    /// (antenna, par, channel).
    pub params: Array3<Complex64>,
    pub paramerr: Array3<f64>,
    pub snr: Array3<f64>,
    /// `true` = flagged.
    pub flag: Array3<bool>,
    /// Reference antenna used (caltable ANTENNA2), `None` → −1.
    pub refant: Option<usize>,
    /// One record per solution channel.
    pub convergence: Vec<Convergence>,
}

impl SolutionCell {
    pub fn nant(&self) -> usize {
        self.params.shape()[0]
    }
    pub fn npar(&self) -> usize {
        self.params.shape()[1]
    }
    pub fn nchan(&self) -> usize {
        self.params.shape()[2]
    }
}

/// Everything needed to solve one cell.
#[derive(Debug, Clone)]
pub struct CellInput {
    pub meta: CellMeta,
    pub avg: AveragedVis,
    pub corr_pars: Vec<Option<(usize, usize)>>,
}

/// Solve all solution channels of one cell.
pub fn solve_cell(
    input: &CellInput,
    opts: &SolverOptions,
    pref_ant: Option<usize>,
) -> SolutionCell {
    let nant = input.avg.nant;
    let npar = opts.kind.npar();
    let nchan = input.avg.nchan();
    let mut cell = SolutionCell {
        meta: input.meta,
        params: Array3::from_elem((nant, npar, nchan), Complex64::new(1.0, 0.0)),
        paramerr: Array3::zeros((nant, npar, nchan)),
        snr: Array3::zeros((nant, npar, nchan)),
        flag: Array3::from_elem((nant, npar, nchan), true),
        refant: None,
        convergence: Vec::with_capacity(nchan),
    };
    let mut convs = vec![None; nchan];
    let mut prev: Option<ndarray::Array2<Complex64>> = None;
    for ch in (0..nchan).rev() {
        let ci = ChanInput {
            nant,
            ant1: &input.avg.ant1,
            ant2: &input.avg.ant2,
            vis: input.avg.vis_bfc.slice(s![.., ch, ..]),
            weight: input.avg.weight_bfc.slice(s![.., ch, ..]),
            corr_pars: &input.corr_pars,
            guess_baselines: &input.avg.guess_baselines,
        };
        let sol = solve_channel(&ci, opts, pref_ant, prev.as_ref().map(|p| p.view()));
        cell.params.slice_mut(s![.., .., ch]).assign(&sol.params);
        cell.paramerr
            .slice_mut(s![.., .., ch])
            .assign(&sol.paramerr);
        cell.snr.slice_mut(s![.., .., ch]).assign(&sol.snr);
        cell.flag.slice_mut(s![.., .., ch]).assign(&sol.flag);
        // CASA keeps one parameter set across the channel loop, so each channel starts from
        // whatever the previous one left (minblperant-removed antennas at 1), good or not.
        if opts.solver == SolverKind::CasaIterative || sol.flag.iter().any(|f| !f) {
            prev = Some(sol.params.clone());
        }
        convs[ch] = Some(sol.conv);
    }
    cell.convergence = convs.into_iter().flatten().collect();
    cell
}

/// Solve independent cells in parallel (rayon); output order = input order, and each cell's
/// result does not depend on the thread count.
pub fn solve_cells(
    inputs: &[CellInput],
    opts: &SolverOptions,
    pref_ant: Option<usize>,
) -> Vec<SolutionCell> {
    inputs
        .par_iter()
        .map(|c| solve_cell(c, opts, pref_ant))
        .collect()
}
