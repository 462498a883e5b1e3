//! Round-trip tests of the G/T solver on synthetic data with known gains, for every
//! gaintype/calmode, plus minblperant, minsnr, refant fallback (flex/strict), solnorm,
//! PARAMERR and thread-count independence.

#![allow(clippy::needless_range_loop)] // index loops mirror the (antenna, pol) math

mod common;

use almacal_core::CorrType;
use almacal_solve::gain::{corr_pars, CalMode, JonesKind, SolveStatus, SolverOptions};
use almacal_solve::postsolve::{post_solve, NormType, PostSolve};
use almacal_solve::refant::{RefantMode, RefantPlan};
use almacal_solve::solution::{solve_cell, solve_cells, CellInput, CellMeta, SolutionCell};
use common::{averaged, dphase_deg, true_gains};
use num_complex::Complex64;

const NANT: usize = 8;
const CORRS: [CorrType; 2] = [CorrType::XX, CorrType::YY];

fn meta(t: f64) -> CellMeta {
    CellMeta {
        time_s: t,
        obs: 0,
        scan: 1,
        field: 0,
        spw: 0,
    }
}

fn positions(n: usize) -> Vec<[f64; 3]> {
    (0..n).map(|a| [a as f64 * 10.0, 0.0, 0.0]).collect()
}

fn one(
    kind: JonesKind,
    calmode: CalMode,
    gains: &[Vec<Complex64>],
    sigma: f64,
    seed: u64,
) -> SolutionCell {
    let avg = averaged(gains, 1, sigma, |_, _, _| Complex64::new(1.0, 0.0), seed);
    let input = CellInput {
        meta: meta(0.0),
        avg,
        corr_pars: corr_pars(kind, &CORRS),
    };
    let opts = SolverOptions::new(kind, calmode);
    let mut cells = vec![solve_cell(&input, &opts, Some(0))];
    let post = PostSolve {
        kind,
        calmode,
        refant: Some(RefantPlan::new(vec![0], &positions(NANT), RefantMode::Flex).unwrap()),
        solnorm: None,
        fillgaps: 0,
    };
    post_solve(&mut cells, &post);
    cells.remove(0)
}

#[test]
fn g_ap_recovers_known_gains_relative_to_refant() {
    let g = true_gains(NANT, 2, 1);
    let cell = one(JonesKind::G, CalMode::AmpPhase, &g, 0.01, 7);
    assert_eq!(cell.refant, Some(0));
    for a in 0..NANT {
        for p in 0..2 {
            assert!(!cell.flag[[a, p, 0]], "ant {a} pol {p} flagged");
            let sol = cell.params[[a, p, 0]];
            let truth = g[a][p] * (g[0][p].conj() / g[0][p].norm());
            // Within 5 PARAMERR (refant's own phase is exact; its error goes to the others).
            let e = cell.paramerr[[a, p, 0]];
            assert!(e > 0.001 && e < 0.01, "paramerr {e}");
            assert!((sol - truth).norm() < 7.0 * e, "{a},{p}: {sol} vs {truth}");
            assert!((cell.snr[[a, p, 0]] - sol.norm() / e).abs() < 1e-6 * cell.snr[[a, p, 0]]);
        }
        // Refant has zero phase exactly.
        assert!(cell.params[[0, 0, 0]].im.abs() < 1e-12);
    }
    assert_eq!(cell.convergence[0].status, SolveStatus::Converged);
}

#[test]
fn g_phase_only_has_unit_amplitude() {
    let g = true_gains(NANT, 2, 2);
    let cell = one(JonesKind::G, CalMode::Phase, &g, 0.01, 8);
    for a in 0..NANT {
        for p in 0..2 {
            let sol = cell.params[[a, p, 0]];
            assert!((sol.norm() - 1.0).abs() < 1e-12);
            let truth = g[a][p] * g[0][p].conj();
            let tol = (7.0 * cell.paramerr[[a, p, 0]] / g[a][p].norm()).to_degrees();
            assert!(dphase_deg(sol, truth).abs() < tol);
        }
    }
}

#[test]
fn g_amp_only_has_zero_phase() {
    let g = true_gains(NANT, 2, 3);
    let cell = one(JonesKind::G, CalMode::Amp, &g, 0.01, 9);
    for a in 0..NANT {
        for p in 0..2 {
            let sol = cell.params[[a, p, 0]];
            assert!(sol.im.abs() < 1e-12 && sol.re > 0.0);
            // 'a' solves |V| = |g_i||g_j|: recovers the amplitudes.
            assert!(
                (sol.norm() - g[a][p].norm()).abs() < 5.0 * cell.paramerr[[a, p, 0]],
                "amp {a},{p}"
            );
        }
    }
}

#[test]
fn t_solves_one_scalar_gain_for_both_polarizations() {
    // Same gain in both pols (T model).
    let g1 = true_gains(NANT, 1, 4);
    let g: Vec<Vec<Complex64>> = g1.iter().map(|x| vec![x[0], x[0]]).collect();
    for mode in [CalMode::AmpPhase, CalMode::Phase, CalMode::Amp] {
        let cell = one(JonesKind::T, mode, &g, 0.01, 10);
        assert_eq!(cell.npar(), 1);
        for a in 0..NANT {
            let sol = cell.params[[a, 0, 0]];
            let truth = g[a][0] * (g[0][0].conj() / g[0][0].norm());
            let e = cell.paramerr[[a, 0, 0]];
            let ph_tol = (7.0 * e / truth.norm()).to_degrees();
            match mode {
                CalMode::AmpPhase => {
                    assert!((sol - truth).norm() < 7.0 * e);
                }
                CalMode::Phase => {
                    assert!((sol.norm() - 1.0).abs() < 1e-12);
                    assert!(dphase_deg(sol, truth).abs() < ph_tol);
                }
                CalMode::Amp => {
                    assert!(sol.im.abs() < 1e-12);
                    assert!((sol.norm() - truth.norm()).abs() < 7.0 * e);
                }
            }
        }
    }
}

#[test]
fn paramerr_follows_casa_formula() {
    let g = true_gains(NANT, 2, 5);
    let avg = averaged(&g, 1, 0.05, |_, _, _| Complex64::new(1.0, 0.0), 11);
    let input = CellInput {
        meta: meta(0.0),
        avg: avg.clone(),
        corr_pars: corr_pars(JonesKind::G, &CORRS),
    };
    let cell = solve_cell(
        &input,
        &SolverOptions::new(JonesKind::G, CalMode::AmpPhase),
        Some(0),
    );
    // chi2 / (2 (nWt - nPar)) with nWt = 2*28 samples, nPar = 16.
    let mut chi2 = 0.0;
    let mut hess = [[0.0f64; 2]; NANT];
    for b in 0..avg.nbl() {
        let (i, j) = (avg.ant1[b], avg.ant2[b]);
        for p in 0..2 {
            let gi = cell.params[[i, p, 0]];
            let gj = cell.params[[j, p, 0]];
            let w = avg.weight_bfc[[b, 0, p]];
            chi2 += w * (gi * gj.conj() - avg.vis_bfc[[b, 0, p]]).norm_sqr();
            hess[i][p] += w * gj.norm_sqr();
            hess[j][p] += w * gi.norm_sqr();
        }
    }
    let k2 = chi2 / (2.0 * (56.0 - 16.0));
    for a in 0..NANT {
        for p in 0..2 {
            let expect = (2.0 * k2 / hess[a][p]).sqrt();
            assert!((cell.paramerr[[a, p, 0]] / expect - 1.0).abs() < 1e-9);
        }
    }
    assert!((cell.convergence[0].ndof - 80.0).abs() < 1e-12);
}

#[test]
fn antenna_with_too_few_baselines_is_flagged_like_casa() {
    let g = true_gains(NANT, 2, 6);
    let mut avg = averaged(&g, 1, 0.01, |_, _, _| Complex64::new(1.0, 0.0), 12);
    // Antenna 7 keeps only 3 baselines (to 0, 1, 2).
    for b in 0..avg.nbl() {
        let (i, j) = (avg.ant1[b], avg.ant2[b]);
        if (j == 7 && i > 2) || i == 7 {
            avg.weight_bfc[[b, 0, 0]] = 0.0;
            avg.weight_bfc[[b, 0, 1]] = 0.0;
        }
    }
    let input = CellInput {
        meta: meta(0.0),
        avg,
        corr_pars: corr_pars(JonesKind::G, &CORRS),
    };
    let cell = solve_cell(
        &input,
        &SolverOptions::new(JonesKind::G, CalMode::AmpPhase),
        Some(0),
    );
    for p in 0..2 {
        assert!(cell.flag[[7, p, 0]]);
        assert_eq!(cell.params[[7, p, 0]], Complex64::new(1.0, 0.0));
        assert_eq!(cell.snr[[7, p, 0]], 0.0);
        assert_eq!(cell.paramerr[[7, p, 0]], 0.0);
        assert!(!cell.flag[[6, p, 0]]);
    }
    assert_eq!(cell.convergence[0].removed, vec![7]);
    // With minblperant 3 it survives.
    let mut o = SolverOptions::new(JonesKind::G, CalMode::AmpPhase);
    o.minblperant = 3;
    let cell = solve_cell(&input, &o, Some(0));
    assert!(!cell.flag[[7, 0, 0]]);
    // Only 3 antennas in total: nothing survives minblperant 4.
    let g3 = true_gains(3, 2, 6);
    let avg3 = averaged(&g3, 1, 0.01, |_, _, _| Complex64::new(1.0, 0.0), 13);
    let in3 = CellInput {
        meta: meta(0.0),
        avg: avg3,
        corr_pars: corr_pars(JonesKind::G, &CORRS),
    };
    let c3 = solve_cell(
        &in3,
        &SolverOptions::new(JonesKind::G, CalMode::AmpPhase),
        Some(0),
    );
    assert_eq!(c3.convergence[0].status, SolveStatus::TooFewAntennas);
    assert!(c3.flag.iter().all(|&f| f));
}

#[test]
fn snr_threshold_flags_noisy_antenna_but_keeps_value() {
    let g = true_gains(NANT, 2, 14);
    let mut avg = averaged(&g, 1, 0.01, |_, _, _| Complex64::new(1.0, 0.0), 15);
    // Antenna 3's baselines: weight reduced 1e6 times -> error x1000, SNR ~ 1.
    for b in 0..avg.nbl() {
        if avg.ant1[b] == 3 || avg.ant2[b] == 3 {
            for p in 0..2 {
                avg.weight_bfc[[b, 0, p]] *= 1e-6;
            }
        }
    }
    let input = CellInput {
        meta: meta(0.0),
        avg,
        corr_pars: corr_pars(JonesKind::G, &CORRS),
    };
    let mut opts = SolverOptions::new(JonesKind::G, CalMode::AmpPhase);
    let cell = solve_cell(&input, &opts, Some(0));
    for p in 0..2 {
        let snr = cell.snr[[3, p, 0]];
        assert!(snr > 0.0 && snr < 3.0, "snr {snr}");
        assert!(cell.flag[[3, p, 0]]);
        assert_ne!(cell.params[[3, p, 0]], Complex64::new(1.0, 0.0));
        assert!(!cell.flag[[4, p, 0]]);
    }
    opts.minsnr = 0.0;
    let cell = solve_cell(&input, &opts, Some(0));
    assert!(!cell.flag[[3, 0, 0]]);
}

/// Three times; the primary refant (0) has no data at the middle time.
fn three_times_refant_gap(mode: RefantMode) -> (Vec<SolutionCell>, Vec<Vec<Vec<Complex64>>>) {
    let mut cells = Vec::new();
    let mut truths = Vec::new();
    for t in 0..3 {
        let g = true_gains(NANT, 2, 20 + t as u64);
        let mut avg = averaged(
            &g,
            1,
            0.01,
            |_, _, _| Complex64::new(1.0, 0.0),
            30 + t as u64,
        );
        if t == 1 {
            for b in 0..avg.nbl() {
                if avg.ant1[b] == 0 {
                    for p in 0..2 {
                        avg.weight_bfc[[b, 0, p]] = 0.0;
                    }
                }
            }
        }
        let input = CellInput {
            meta: meta(t as f64 * 10.0),
            avg,
            corr_pars: corr_pars(JonesKind::G, &CORRS),
        };
        cells.push(solve_cell(
            &input,
            &SolverOptions::new(JonesKind::G, CalMode::Phase),
            Some(0),
        ));
        truths.push(g);
    }
    let post = PostSolve {
        kind: JonesKind::G,
        calmode: CalMode::Phase,
        refant: Some(RefantPlan::new(vec![0, 5], &positions(NANT), mode).unwrap()),
        solnorm: None,
        fillgaps: 0,
    };
    post_solve(&mut cells, &post);
    (cells, truths)
}

#[test]
fn flagged_refant_falls_back_to_next_in_list_with_phase_continuity() {
    let (cells, truths) = three_times_refant_gap(RefantMode::Flex);
    assert_eq!(cells[0].refant, Some(0));
    assert_eq!(cells[1].refant, Some(5));
    // At t=2 the primary is back but was flagged at the previous time: the alternate (now
    // "last used") stays, as CASA requires both times unflagged.
    assert_eq!(cells[2].refant, Some(5));
    assert!(cells[1]
        .flag
        .slice(ndarray::s![0, .., ..])
        .iter()
        .all(|&f| f));
    // At t=1 antenna 5 holds its t=0 phase (continuity), not zero.
    for p in 0..2 {
        let held = dphase_deg(cells[1].params[[5, p, 0]], cells[0].params[[5, p, 0]]);
        assert!(held.abs() < 1e-9, "held {held}");
        // Relative phases between antennas are still the truth's.
        for a in 1..NANT {
            let got = dphase_deg(cells[1].params[[a, p, 0]], cells[1].params[[5, p, 0]]);
            let want = dphase_deg(truths[1][a][p], truths[1][5][p]);
            assert!((got - want).abs() < 1.0, "ant {a}: {got} vs {want}");
        }
        // Antenna 5 is continuous again from t=1 to t=2.
        assert!(dphase_deg(cells[2].params[[5, p, 0]], cells[1].params[[5, p, 0]]).abs() < 1e-9);
        assert!(!cells[2].flag[[0, p, 0]]);
    }
}

#[test]
fn strict_refant_flags_times_without_the_primary() {
    let (cells, _) = three_times_refant_gap(RefantMode::Strict);
    assert!(cells[1].flag.iter().all(|&f| f));
    assert_eq!(cells[1].refant, None);
    assert!(!cells[0].flag[[1, 0, 0]] && !cells[2].flag[[1, 0, 0]]);
    assert_eq!(cells[2].refant, Some(0));
    // t=2 references to t=0 (last referenced time): refant phase 0 again.
    assert!(cells[2].params[[0, 0, 0]].arg().abs() < 1e-12);
}

#[test]
fn refant_priority_orders_fallbacks_by_distance() {
    let pos = vec![
        [0.0, 0.0, 0.0],
        [100.0, 0.0, 0.0],
        [5.0, 0.0, 0.0],
        [50.0, 0.0, 0.0],
    ];
    let plan = RefantPlan::new(vec![1], &pos, RefantMode::Flex).unwrap();
    assert_eq!(plan.others, vec![3, 2, 0]);
    assert!(RefantPlan::new(vec![9], &pos, RefantMode::Flex).is_err());
}

#[test]
fn solnorm_makes_mean_power_one_per_spw() {
    let mut cells = Vec::new();
    for t in 0..3 {
        let g = true_gains(NANT, 2, 40 + t);
        let avg = averaged(&g, 1, 0.01, |_, _, _| Complex64::new(1.0, 0.0), 50 + t);
        let input = CellInput {
            meta: meta(t as f64),
            avg,
            corr_pars: corr_pars(JonesKind::G, &CORRS),
        };
        cells.push(solve_cell(
            &input,
            &SolverOptions::new(JonesKind::G, CalMode::AmpPhase),
            Some(0),
        ));
    }
    let post = PostSolve {
        kind: JonesKind::G,
        calmode: CalMode::AmpPhase,
        refant: None,
        solnorm: Some(NormType::Mean),
        fillgaps: 0,
    };
    post_solve(&mut cells, &post);
    let v: Vec<f64> = cells
        .iter()
        .flat_map(|c| c.params.iter().map(|z| z.norm_sqr()).collect::<Vec<_>>())
        .collect();
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    assert!((mean - 1.0).abs() < 1e-12, "{mean}");
    // Without refant ANTENNA2 is -1 (None).
    assert!(cells.iter().all(|c| c.refant.is_none()));
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let inputs: Vec<CellInput> = (0..6)
        .map(|t| {
            let g = true_gains(NANT, 2, 60 + t);
            let avg = averaged(&g, 1, 0.02, |_, _, _| Complex64::new(1.0, 0.0), 70 + t);
            CellInput {
                meta: meta(t as f64),
                avg,
                corr_pars: corr_pars(JonesKind::G, &CORRS),
            }
        })
        .collect();
    let opts = SolverOptions::new(JonesKind::G, CalMode::AmpPhase);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let a = one.install(|| solve_cells(&inputs, &opts, Some(0)));
    let b = two.install(|| solve_cells(&inputs, &opts, Some(0)));
    assert_eq!(a, b);
}
