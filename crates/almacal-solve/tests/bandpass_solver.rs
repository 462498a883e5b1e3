//! Bandpass: frequency-solint binning (incl. LSB negative widths) through the accumulator,
//! per-channel solve against a known bandpass, solnorm and fillgaps.

#![allow(clippy::needless_range_loop)] // index loops mirror the (antenna, pol) math

mod common;

use almacal_core::CorrType;
use almacal_solve::accumulate::{Accumulator, RowIn};
use almacal_solve::bandpass::{channel_bins, fill_gaps};
use almacal_solve::gain::{corr_pars, CalMode, JonesKind, SolveStatus, SolverOptions};
use almacal_solve::postsolve::{post_solve, NormType, PostSolve};
use almacal_solve::refant::{RefantMode, RefantPlan};
use almacal_solve::solint::{bin_channels, FreqSolint, Solint};
use almacal_solve::solution::{solve_cell, CellInput, CellMeta};
use common::{dphase_deg, true_gains, Rng};
use ndarray::Array2;
use num_complex::{Complex32, Complex64};

const NANT: usize = 7;
const NCHAN: usize = 16;

fn bp(a: usize, p: usize, ch: usize) -> Complex64 {
    let x = ch as f64 / NCHAN as f64;
    Complex64::from_polar(
        1.0 + 0.1 * x * (a as f64 + 1.0) / 7.0 - 0.05 * p as f64,
        0.3 * x * (a as f64 - 3.0),
    )
}

/// Rows of 4 integrations; channels 0 and 15 flagged; LSB channel widths.
fn accumulate(
    per_bin: usize,
) -> (
    almacal_solve::accumulate::AveragedVis,
    Vec<std::ops::Range<usize>>,
) {
    let g = true_gains(NANT, 2, 3);
    let (bins, map) = channel_bins(NCHAN, FreqSolint::Chans(per_bin), -15.625e6);
    let mut acc = Accumulator::new(NANT, bins.len(), vec![true, true]);
    let mut rng = Rng::new(5);
    for t in 0..4 {
        for i in 0..NANT {
            for j in i..NANT {
                let mut d = Array2::<Complex32>::zeros((NCHAN, 2));
                let mut f = Array2::from_elem((NCHAN, 2), false);
                for ch in 0..NCHAN {
                    for p in 0..2 {
                        let v = g[i][p] * bp(i, p, ch) * (g[j][p] * bp(j, p, ch)).conj()
                            + Complex64::new(rng.gauss(), rng.gauss()) * 0.02;
                        d[[ch, p]] = Complex32::new(v.re as f32, v.im as f32);
                        f[[ch, p]] = ch == 0 || ch == NCHAN - 1;
                    }
                }
                let w = Array2::from_elem((NCHAN, 2), 2500.0f32);
                acc.add_row(RowIn {
                    a1: i,
                    a2: j,
                    time_s: t as f64 * 10.0,
                    time_centroid_s: t as f64 * 10.0,
                    group: 0,
                    data_fc: d.view(),
                    flag_fc: f.view(),
                    weight_fc: w.view(),
                    model_fc: None,
                    chan_bin: &map,
                });
            }
        }
    }
    (acc.finish(), bins)
}

#[test]
fn inf_nch_binning_with_negative_widths() {
    let s = Solint::parse("inf,5ch").unwrap();
    let (bins, map) = channel_bins(NCHAN, s.freq, -15.625e6);
    assert_eq!(bins.len(), 4);
    assert_eq!(map[15], Some(3));
    let freqs: Vec<f64> = (0..NCHAN).map(|c| 100e9 - 15.625e6 * c as f64).collect();
    let widths = vec![-15.625e6; NCHAN];
    let meta = bin_channels(&freqs, &widths, &bins);
    assert!(
        meta.windows(2).all(|w| w[0].freq_hz > w[1].freq_hz),
        "descending CHAN_FREQ"
    );
    assert!(meta.iter().all(|m| m.width_hz > 0.0), "positive CHAN_WIDTH");
    assert_eq!(meta[3].width_hz, 15.625e6);
    // A Hz solint uses |width of channel 0|.
    let (b2, _) = channel_bins(NCHAN, Solint::parse("inf,47MHz").unwrap().freq, -15.625e6);
    assert_eq!(b2[0], 0..3);
}

#[test]
fn per_channel_solve_recovers_bandpass_and_solnorm_normalizes() {
    let (avg, _) = accumulate(1);
    let kind = JonesKind::B;
    let input = CellInput {
        meta: CellMeta {
            time_s: avg.time_centroid_s,
            obs: 0,
            scan: 1,
            field: 0,
            spw: 0,
        },
        corr_pars: corr_pars(kind, &[CorrType::XX, CorrType::YY]),
        avg,
    };
    let mut cells = vec![solve_cell(
        &input,
        &SolverOptions::new(kind, CalMode::AmpPhase),
        Some(0),
    )];
    assert_eq!(cells[0].convergence.len(), NCHAN);
    // Edge channels have no data: too few antennas, flagged.
    assert_eq!(cells[0].convergence[0].status, SolveStatus::TooFewAntennas);
    assert!(cells[0].flag[[2, 0, 0]] && cells[0].flag[[2, 1, NCHAN - 1]]);
    let plan = RefantPlan::new(
        vec![0],
        &(0..NANT).map(|a| [a as f64, 0.0, 0.0]).collect::<Vec<_>>(),
        RefantMode::Flex,
    )
    .unwrap();
    post_solve(
        &mut cells,
        &PostSolve {
            kind,
            calmode: CalMode::AmpPhase,
            refant: Some(plan),
            solnorm: Some(NormType::Mean),
            fillgaps: 0,
        },
    );
    let c = &cells[0];
    assert_eq!(c.refant, Some(0));
    for a in 0..NANT {
        for p in 0..2 {
            let good: Vec<Complex64> = (1..NCHAN - 1).map(|ch| c.params[[a, p, ch]]).collect();
            let mean_pow = good.iter().map(|z| z.norm_sqr()).sum::<f64>() / good.len() as f64;
            assert!((mean_pow - 1.0).abs() < 1e-9, "{mean_pow}");
            let vm: Complex64 = good.iter().map(|z| z / z.norm()).sum();
            assert!(vm.arg().abs() < 1e-9);
            // Shape against the truth (normalised the same way), within noise.
            let truth: Vec<Complex64> = (1..NCHAN - 1)
                .map(|ch| bp(a, p, ch) * bp(0, p, ch).conj() / bp(0, p, ch).norm())
                .collect();
            let tp = (truth.iter().map(|z| z.norm_sqr()).sum::<f64>() / truth.len() as f64).sqrt();
            let tv: Complex64 = truth.iter().map(|z| z / z.norm()).sum();
            for (k, (s, t)) in good.iter().zip(&truth).enumerate() {
                let t = t / (tp * tv / tv.norm());
                assert!(
                    (s.norm() / t.norm() - 1.0).abs() < 0.03,
                    "amp ant {a} ch {k}"
                );
                assert!(
                    dphase_deg(*s, t).abs() < 1.5,
                    "phase ant {a} ch {k}: {}",
                    dphase_deg(*s, t)
                );
            }
        }
    }
}

#[test]
fn binned_solve_has_one_solution_per_bin_and_flags_empty_last_bin() {
    // 16 channels in bins of 5: last bin = channel 15 only, which is flagged -> flagged.
    let (avg, bins) = accumulate(5);
    assert_eq!(bins.len(), 4);
    let input = CellInput {
        meta: CellMeta {
            time_s: 0.0,
            obs: 0,
            scan: 1,
            field: 0,
            spw: 0,
        },
        corr_pars: corr_pars(JonesKind::B, &[CorrType::XX, CorrType::YY]),
        avg,
    };
    let c = solve_cell(
        &input,
        &SolverOptions::new(JonesKind::B, CalMode::AmpPhase),
        Some(0),
    );
    assert_eq!(c.nchan(), 4);
    assert!(c.flag.slice(ndarray::s![.., .., 3]).iter().all(|&f| f));
    assert!(c.flag.slice(ndarray::s![.., .., 0..3]).iter().all(|&f| !f));
}

#[test]
fn fillgaps_interpolates_short_interior_gaps_only() {
    let (avg, _) = accumulate(1);
    let input = CellInput {
        meta: CellMeta {
            time_s: 0.0,
            obs: 0,
            scan: 1,
            field: 0,
            spw: 0,
        },
        corr_pars: corr_pars(JonesKind::B, &[CorrType::XX, CorrType::YY]),
        avg,
    };
    let mut c = solve_cell(
        &input,
        &SolverOptions::new(JonesKind::B, CalMode::AmpPhase),
        Some(0),
    );
    // Flag channels 5,6 (gap 2) and 9..12 (gap 3) of antenna 1 pol 0.
    for ch in [5, 6, 9, 10, 11] {
        c.flag[[1, 0, ch]] = true;
    }
    c.params[[1, 0, 4]] = Complex64::from_polar(1.0, 0.0);
    c.params[[1, 0, 7]] = Complex64::from_polar(1.3, 0.3);
    fill_gaps(&mut c, 2);
    assert!(!c.flag[[1, 0, 5]] && !c.flag[[1, 0, 6]]);
    assert!((c.params[[1, 0, 5]].norm() - 1.1).abs() < 1e-12);
    assert!((c.params[[1, 0, 6]].arg() - 0.2).abs() < 1e-12);
    assert!(
        c.flag[[1, 0, 9]] && c.flag[[1, 0, 11]],
        "gap of 3 > fillgaps stays flagged"
    );
    assert!(c.flag[[1, 0, 0]], "edge gaps are never filled");
}
