//! Plots of CASA-made caltables (sim_small reference: Tsys, bandpass, gains) and the renorm
//! diagnostic plot from plain arrays: image size, not blank, and the data behind the pixels.

mod common;

use almacal_plot::bandpass::bandpass_pages;
use almacal_plot::caldata::CalData;
use almacal_plot::gaintime::{gain_vs_time, GainAxis};
use almacal_plot::renorm::{renorm_pages, RenormDiagnostics, RenormSpectrum};
use almacal_plot::tsys::{tsys_pages, TsysLayout};
use common::{casa_table, render_check};

#[test]
fn gain_phase_pages_hold_every_unflagged_solution() {
    let Some(table) = casa_table("sim_small.phase_int.gcal") else {
        return;
    };
    let cal = CalData::load(&table).expect("read gcal");
    assert_eq!(cal.viscal, "G Jones");
    let figs = gain_vs_time(&cal, GainAxis::Phase, false);
    // 12 antennas, 3×3 per page.
    assert_eq!(figs.len(), 2);
    assert_eq!(figs[0].figure.panels.len(), 9);
    assert_eq!(figs[1].figure.panels.len(), 3);
    let unflagged: usize = cal
        .rows
        .iter()
        .flat_map(|r| r.flag.iter())
        .filter(|f| !f[0])
        .count();
    let plotted: usize = figs.iter().map(|f| f.figure.npoints()).sum();
    assert_eq!(plotted, unflagged);
    for f in &figs {
        for p in &f.figure.panels {
            assert_eq!(p.y_range, Some((-180.0, 180.0)));
            for s in &p.series {
                assert!(s.points.iter().all(|&(_, y)| (-180.0..=180.0).contains(&y)));
            }
        }
        assert!(f.figure.title.contains("sim_small.phase_int.gcal"));
    }
    // CM02 and CM08 are shadowed and fully flagged in CASA's table: said in the title.
    let cm02 = &figs[0].figure.panels[1];
    assert!(cm02.title.contains("CM02") && cm02.title.contains("all solutions flagged"));
    let dir = tempfile::tempdir().unwrap();
    let mut total = 0.0;
    for f in &figs {
        total += render_check(&f.figure, &dir.path().join(format!("{}.png", f.stem)));
    }
    eprintln!("gain phase: {} pages in {total:.0} ms", figs.len());
}

#[test]
fn gain_amplitude_with_flagged_points_shown() {
    let Some(table) = casa_table("sim_small.ampli_inf.gcal") else {
        return;
    };
    let cal = CalData::load(&table).expect("read gcal");
    let hidden = gain_vs_time(&cal, GainAxis::Amp, false);
    let shown = gain_vs_time(&cal, GainAxis::Amp, true);
    let n = |v: &[almacal_plot::NamedFigure]| v.iter().map(|f| f.figure.npoints()).sum::<usize>();
    let flagged_rows_pars: usize = cal
        .rows
        .iter()
        .flat_map(|r| r.flag.iter())
        .filter(|f| f.iter().all(|x| *x))
        .count();
    assert!(flagged_rows_pars > 0, "CASA's table has flagged solutions");
    assert_eq!(n(&shown), n(&hidden) + flagged_rows_pars);
    let dir = tempfile::tempdir().unwrap();
    render_check(&shown[0].figure, &dir.path().join("amp.png"));
}

#[test]
fn bandpass_pages_match_the_table() {
    let Some(table) = casa_table("sim_small.bandpass.bcal") else {
        return;
    };
    let cal = CalData::load(&table).expect("read bcal");
    assert_eq!(cal.viscal, "B Jones");
    let figs = bandpass_pages(&cal);
    // 4 spws × 2 pages of 6 antennas.
    assert_eq!(figs.len(), 8);
    let f = &figs[0];
    assert_eq!(f.figure.panels.len(), 12, "2 rows of (amp, phase) × 3");
    assert!(f.figure.title.contains("spw 16"));
    // Panel 0 = CM01 amplitude: its X series is |B| of the unflagged channels, x in GHz.
    let row = cal
        .rows
        .iter()
        .find(|r| r.antenna == "CM01" && r.spw == 16)
        .expect("CM01 spw 16");
    let amp_panel = &f.figure.panels[0];
    assert!(amp_panel.title.starts_with("CM01"));
    let pts: Vec<(f64, f64)> = amp_panel.series[0]
        .points
        .iter()
        .copied()
        .filter(|p| p.1.is_finite())
        .collect();
    let expect: Vec<(f64, f64)> = (0..row.amp[0].len())
        .filter(|&c| !row.flag[0][c])
        .map(|c| (row.freq_hz[c] * 1e-9, row.amp[0][c]))
        .collect();
    assert_eq!(pts, expect);
    assert!(pts.iter().all(|p| (300.0..400.0).contains(&p.0)), "GHz");
    // Panel 3 = CM01 phase.
    assert!(f.figure.panels[3].title.starts_with("CM01 phase"));
    let dir = tempfile::tempdir().unwrap();
    render_check(&f.figure, &dir.path().join("bp.png"));
}

#[test]
fn tsys_table_per_antenna_and_averaged() {
    let Some(table) = casa_table("sim_small.tsys") else {
        return;
    };
    let cal = CalData::load(&table).expect("read tsys");
    assert_eq!(cal.viscal, "B TSYS");
    let per_ant = tsys_pages(&cal, TsysLayout::PerAntenna);
    let avg = tsys_pages(&cal, TsysLayout::Averaged);
    assert_eq!(per_ant.len(), cal.spws().len());
    assert_eq!(avg.len(), cal.spws().len());
    // Coloured by scan: one series per scan with Tsys rows, Tsys in a plausible range (K).
    let p = &avg[0].figure.panels[0];
    let spw = cal.spws()[0];
    let mut scans: Vec<i32> = cal
        .rows
        .iter()
        .filter(|r| r.spw == spw)
        .map(|r| r.scan)
        .collect();
    scans.sort_unstable();
    scans.dedup();
    assert_eq!(p.series.len(), scans.len());
    for s in &p.series {
        assert!(
            s.points.iter().all(|&(_, t)| t > 20.0 && t < 2000.0),
            "{}",
            s.label
        );
    }
    // The average is the mean over antennas and pols of the table's values.
    let r0: Vec<_> = cal
        .rows
        .iter()
        .filter(|r| r.spw == spw && r.scan == scans[0])
        .collect();
    let mut sum = 0.0;
    let mut n = 0.0;
    for r in &r0 {
        for (p, f) in r.amp.iter().zip(&r.flag) {
            if !f[0] {
                sum += p[0];
                n += 1.0;
            }
        }
    }
    assert!((p.series[0].points[0].1 - sum / n).abs() < 1e-9);
    let dir = tempfile::tempdir().unwrap();
    render_check(&per_ant[0].figure, &dir.path().join("tsys.png"));
    render_check(&avg[0].figure, &dir.path().join("tsys_avg.png"));
}

#[test]
fn renorm_diagnostics_from_plain_arrays() {
    let freq: Vec<f64> = (0..64).map(|c| 345.0e9 + c as f64 * 7.8e6).collect();
    let spectra: Vec<RenormSpectrum> = (1..=4)
        .map(|a| RenormSpectrum {
            antenna: format!("CM{a:02}"),
            freq_hz: freq.clone(),
            ratio: vec![
                (0..64)
                    .map(|c| 1.0 + if (28..36).contains(&c) { 0.1 } else { 0.0 })
                    .collect(),
                vec![1.0; 64],
            ],
            baseline: vec![vec![1.0; 64]; 2],
        })
        .collect();
    let d = RenormDiagnostics {
        ms: "x.ms".into(),
        field: "SgrAstar".into(),
        spw: 16,
        threshold: 1.02,
        corr_names: vec!["XX".into(), "YY".into()],
        spectra,
    };
    let figs = renorm_pages(&d);
    assert_eq!(figs.len(), 1);
    let p = &figs[0].figure.panels[0];
    // Two correlations, their fits, the threshold × fit line at 1.02.
    assert_eq!(p.series.len(), 5);
    assert!(p.series[4].points.iter().all(|&(_, y)| y == 1.02));
    let peak = p.series[0]
        .points
        .iter()
        .map(|q| q.1)
        .fold(f64::MIN, f64::max);
    assert!((peak - 1.1).abs() < 1e-12);
    let dir = tempfile::tempdir().unwrap();
    render_check(&figs[0].figure, &dir.path().join("renorm.png"));
}
