//! Plots and `locate` on simulated MSs (`almacal-sim`, tiny preset): antenna layout, Tsys from
//! SYSCAL against the truth file, visibility extraction on noise-free data (amplitude closure
//! of a point source, uv-distances, channel averaging), and locate finding the injected fault.

mod common;

use almacal_casa::selection::SelectionParams;
use almacal_plot::locate::{locate, LocateOptions};
use almacal_plot::plotants::{local_en, AntennaLayout};
use almacal_plot::tsys::{from_syscal, tsys_pages, TsysLayout};
use almacal_plot::vis::extract::extract;
use almacal_plot::vis::figure::vis_figure;
use almacal_plot::vis::{ColorBy, VisOptions, VisPoint, XAxis, YAxis};
use common::{render_check, sim_clean, sim_fault, truth};
use std::collections::HashMap;

#[test]
fn plotants_layout_matches_antenna_table() {
    let meta = almacal_casa::read_meta(sim_clean()).expect("meta");
    let lay = AntennaLayout::from_meta(&meta, Some("CM12"));
    assert_eq!(lay.antennas.len(), 12);
    // Distances in the plane are at most the 3-D distances, and close for a flat array.
    let en = local_en(
        &meta
            .antennas
            .iter()
            .map(|a| a.position_m)
            .collect::<Vec<_>>(),
    );
    for i in 0..12 {
        for j in (i + 1)..12 {
            let p = meta.antennas[i].position_m;
            let q = meta.antennas[j].position_m;
            let d3 = ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2)).sqrt();
            let d2 = ((en[i].0 - en[j].0).powi(2) + (en[i].1 - en[j].1).powi(2)).sqrt();
            assert!(d2 <= d3 + 1e-6 && d2 > 0.95 * d3, "{i}-{j}: {d2} vs {d3}");
        }
    }
    let fig = lay.figure();
    assert!(fig.title.contains("clean.ms") && fig.title.contains("refant CM12"));
    let refs = &fig.panels[0].series[1];
    assert_eq!(refs.point_labels, vec!["CM12".to_string()]);
    assert!(fig.panels[0].equal_aspect);
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("ants.png");
    render_check(&fig, &png);
    // The reference antenna is drawn in its own red.
    assert!(common::count_color(&png, [230, 0, 0]) > 20);
}

#[test]
fn tsys_from_syscal_matches_truth() {
    let ms = sim_clean();
    let meta = almacal_casa::read_meta(ms).expect("meta");
    let cal = from_syscal(&meta);
    let t = truth(ms);
    let entries = t["tsys"]["syscal"].as_array().expect("syscal truth");
    assert!(!entries.is_empty());
    let e = &entries[0];
    let spw = e["spw"].as_u64().unwrap() as u32;
    let scan = e["scan"].as_i64().unwrap() as i32;
    for (a, per_pol) in e["tsys"].as_array().unwrap().iter().enumerate() {
        let name = &meta.antennas[a].name;
        let row = cal
            .rows
            .iter()
            .find(|r| &r.antenna == name && r.spw == spw && r.scan == scan)
            .expect("row for antenna/spw/scan");
        for (p, chans) in per_pol.as_array().unwrap().iter().enumerate() {
            for (c, v) in chans.as_array().unwrap().iter().enumerate() {
                let want = v.as_f64().unwrap();
                assert!(
                    (row.amp[p][c] - want).abs() < 1e-3 * want,
                    "{name} p{p} c{c}"
                );
            }
        }
    }
    let figs = tsys_pages(&cal, TsysLayout::PerAntenna);
    assert_eq!(figs.len(), 4, "one page per Tsys spw");
    let dir = tempfile::tempdir().unwrap();
    render_check(&figs[0].figure, &dir.path().join("tsys.png"));
}

fn opts(field: &str, spw: &str) -> VisOptions {
    VisOptions {
        selection: SelectionParams {
            field: field.into(),
            spw: spw.into(),
            ..SelectionParams::default()
        },
        ..VisOptions::default()
    }
}

#[test]
fn noise_free_point_source_has_unit_closure_amplitudes() {
    let ms = sim_clean();
    let v = extract(ms, &opts("0", "16")).expect("extract");
    let meta = almacal_casa::read_meta(ms).expect("meta");
    assert!(v
        .points
        .iter()
        .all(|p| p.field == 0 && p.spw == 16 && p.ant1 != p.ant2));
    // uv-distance is a projection of the baseline.
    for p in &v.points {
        let a = meta.antennas[p.ant1 as usize].position_m;
        let b = meta.antennas[p.ant2 as usize].position_m;
        let d = ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt();
        assert!(
            p.uvdist_m > 0.0 && p.uvdist_m <= d + 1e-3,
            "{} vs {d}",
            p.uvdist_m
        );
    }
    // Antenna-based corruptions only: |V01||V23| / (|V02||V13|) = 1 for a point source.
    let mut by: HashMap<(i64, usize, usize, i32, i32), f64> = HashMap::new();
    for p in &v.points {
        by.insert(
            ((p.time_s * 1e3) as i64, p.chan.0, p.corr, p.ant1, p.ant2),
            p.amp,
        );
    }
    let mut checked = 0;
    for p in v.points.iter().filter(|p| p.ant1 == 0 && p.ant2 == 1) {
        let k = |a, b| {
            by.get(&((p.time_s * 1e3) as i64, p.chan.0, p.corr, a, b))
                .copied()
        };
        if let (Some(v01), Some(v23), Some(v02), Some(v13)) =
            (Some(p.amp), k(2, 3), k(0, 2), k(1, 3))
        {
            let closure = v01 * v23 / (v02 * v13);
            assert!(
                (closure - 1.0).abs() < 1e-3,
                "closure {closure} at chan {}",
                p.chan.0
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} closure quadruples");
}

#[test]
fn channel_average_is_the_vector_mean() {
    let ms = sim_clean();
    let all = extract(ms, &opts("0", "16")).expect("extract");
    let mut o = opts("0", "16");
    o.avg_channel = usize::MAX;
    let avg = extract(ms, &o).expect("extract avg");
    let nchan = 32;
    assert_eq!(all.points.len(), avg.points.len() * nchan);
    let p: &VisPoint = &avg.points[0];
    assert_eq!(p.chan, (0, nchan - 1));
    let (mut re, mut im, mut n) = (0.0, 0.0, 0);
    for q in all.points.iter().filter(|q| {
        (q.time_s - p.time_s).abs() < 1e-3
            && q.ant1 == p.ant1
            && q.ant2 == p.ant2
            && q.corr == p.corr
    }) {
        re += q.amp * q.phase_deg.to_radians().cos();
        im += q.amp * q.phase_deg.to_radians().sin();
        n += 1;
    }
    assert_eq!(n, nchan);
    let mean = (re / nchan as f64).hypot(im / nchan as f64);
    assert!(
        (p.amp - mean).abs() < 1e-6 * mean.max(1e-12),
        "{} vs {mean}",
        p.amp
    );
    // avgtime over a whole scan plus all baselines: one point per (scan, chan bin, corr).
    o.avg_time_s = 1e5;
    o.avg_baselines = true;
    let one = extract(ms, &o).expect("extract scan avg");
    let scans = meta_scans_of_field(ms, 0);
    assert_eq!(one.points.len(), scans * 2);
    assert!(one.points.iter().all(|p| p.ant1 == -1));
}

fn meta_scans_of_field(ms: &std::path::Path, field: u32) -> usize {
    let meta = almacal_casa::read_meta(ms).expect("meta");
    meta.scans
        .iter()
        .filter(|s| s.field.0 == field && s.spws.iter().any(|w| w.0 == 16))
        .count()
}

#[test]
fn visibility_figures_colour_by_field_and_grey_flagged() {
    let ms = sim_clean();
    let mut o = opts("", "16");
    o.avg_channel = usize::MAX;
    let mut v = extract(ms, &o).expect("extract");
    let fig = vis_figure(&v, XAxis::Time, YAxis::Amp, ColorBy::Field);
    let names: Vec<&str> = fig.panels[0]
        .series
        .iter()
        .map(|s| s.label.as_str())
        .collect();
    assert_eq!(names, vec!["J1924-2914", "J1700-2610", "SgrAstar"]);
    assert_eq!(fig.npoints(), v.points.len());
    assert!(fig.panels[0].y_label.contains("uncalibrated"));
    let dir = tempfile::tempdir().unwrap();
    let mut ms_total = render_check(&fig, &dir.path().join("amp_time.png"));
    // Flagged points go to a grey series drawn first.
    for p in v.points.iter_mut().take(10) {
        p.flagged = true;
    }
    let fig = vis_figure(&v, XAxis::UvDist, YAxis::Amp, ColorBy::Field);
    assert_eq!(fig.panels[0].series[0].label, "flagged");
    assert_eq!(fig.panels[0].series[0].points.len(), 10);
    assert!(fig.panels[0].x_label.contains("(m)"));
    ms_total += render_check(&fig, &dir.path().join("amp_uvdist.png"));
    for (x, y) in [
        (XAxis::Freq, YAxis::Amp),
        (XAxis::Freq, YAxis::Phase),
        (XAxis::Time, YAxis::Phase),
    ] {
        let f = vis_figure(&v, x, y, ColorBy::Corr);
        ms_total += render_check(&f, &dir.path().join(format!("{x:?}_{y:?}.png")));
    }
    eprintln!("5 visibility plots rendered in {ms_total:.0} ms");
}

#[test]
fn locate_finds_the_injected_fault_and_its_command_removes_it() {
    let ms = sim_fault();
    let t = truth(ms);
    let fault = &t["fault"];
    let ant = fault["antenna"].as_str().unwrap();
    let spw = fault["spw"].as_u64().unwrap() as u32;
    let scans: Vec<i32> = fault["scans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_i64().unwrap() as i32)
        .collect();
    let v = extract(ms, &VisOptions::default()).expect("extract");
    let res = locate(&v, &LocateOptions::default());
    let g = res
        .groups
        .iter()
        .find(|g| g.spws.contains(&spw))
        .expect("a flag command for the fault spw");
    assert_eq!(g.antenna, ant);
    assert_eq!(g.scans, scans);
    assert!(
        res.groups.iter().all(|g| g.antenna == ant),
        "{:?}",
        res.groups
    );
    let line = g.recipe_line();
    assert!(
        line.contains(&format!("antenna = \"{ant}\""))
            && line.contains(&format!("spw = \"{spw}\""))
    );
    // Apply every printed command to the points: nothing is left to blame.
    let ant_id = v.antenna_names.iter().position(|n| n == ant).unwrap() as i32;
    let mut kept = v.clone();
    kept.points.retain(|p| {
        !res.groups.iter().any(|g| {
            (p.ant1 == ant_id || p.ant2 == ant_id)
                && g.spws.contains(&p.spw)
                && g.scans.contains(&p.scan)
        })
    });
    let after = locate(&kept, &LocateOptions::default());
    assert!(after.groups.is_empty(), "{:?}", after.groups);
    assert!(
        after.outliers.len() * 20 < res.outliers.len(),
        "{} left of {}",
        after.outliers.len(),
        res.outliers.len()
    );
    // Control: a spw without the fault gives no command.
    let clean_spw = extract(ms, &opts("", "16")).expect("extract spw 16");
    assert!(locate(&clean_spw, &LocateOptions::default())
        .groups
        .is_empty());
    let fig = almacal_plot::locate::highlight_figure(&v, &res, XAxis::UvDist);
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("locate.png");
    render_check(&fig, &png);
    assert!(
        common::count_color(&png, [230, 0, 0]) > 100,
        "outliers drawn in red"
    );
}
