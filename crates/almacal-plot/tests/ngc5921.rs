//! Plots of the VLA NGC5921 fixture: antenna layout and amplitude vs time coloured by field.

mod common;

use almacal_plot::plotants::AntennaLayout;
use almacal_plot::vis::extract::extract;
use almacal_plot::vis::figure::vis_figure;
use almacal_plot::vis::{ColorBy, VisOptions, XAxis, YAxis};
use common::{ngc5921, render_check};

#[test]
fn ngc5921_antenna_layout() {
    let meta = almacal_casa::read_meta(&ngc5921()).expect("meta");
    let lay = AntennaLayout::from_meta(&meta, None);
    assert_eq!(lay.antennas.len(), 28);
    // The VLA's arms reach about a kilometre in its D configuration... and no further than 40 km.
    let r = lay
        .antennas
        .iter()
        .map(|a| a.east_m.hypot(a.north_m))
        .fold(0.0, f64::max);
    assert!(r > 100.0 && r < 40_000.0, "{r}");
    let dir = tempfile::tempdir().unwrap();
    render_check(&lay.figure(), &dir.path().join("ants.png"));
}

#[test]
fn ngc5921_amp_vs_time_by_field() {
    let o = VisOptions {
        avg_channel: usize::MAX,
        avg_time_s: 60.0,
        ..VisOptions::default()
    };
    let t = std::time::Instant::now();
    let v = extract(&ngc5921(), &o).expect("extract");
    eprintln!(
        "extract {} points in {:.0} ms",
        v.points.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    assert_eq!(v.corr_names, vec!["RR".to_string(), "LL".to_string()]);
    let fig = vis_figure(&v, XAxis::Time, YAxis::Amp, ColorBy::Field);
    let labels: Vec<&str> = fig.panels[0]
        .series
        .iter()
        .map(|s| s.label.as_str())
        .collect();
    assert_eq!(
        labels,
        vec!["1331+30500002_0", "1445+09900002_0", "N5921_2"]
    );
    // 1331+305 (3C286, ~15 Jy) is the brightest field in the raw data.
    let median = |i: usize| {
        let mut a: Vec<f64> = fig.panels[0].series[i].points.iter().map(|p| p.1).collect();
        a.sort_by(f64::total_cmp);
        a[a.len() / 2]
    };
    assert!(median(0) > 2.0 * median(1) && median(0) > 2.0 * median(2));
    let dir = tempfile::tempdir().unwrap();
    render_check(&fig, &dir.path().join("amp_time.png"));
    let uv = vis_figure(&v, XAxis::UvDist, YAxis::Amp, ColorBy::Field);
    render_check(&uv, &dir.path().join("amp_uv.png"));
}

/// The channel-averaged and per-channel views that drop flagged samples have their own fast
/// paths; keeping flagged samples takes the general path. Their unflagged points must agree
/// (this fixture has no flagged cells, so every point is compared).
#[test]
fn fast_averaging_paths_equal_the_general_path() {
    use almacal_casa::selection::SelectionParams;
    use almacal_plot::vis::extract::{extract_many, View};
    let view =
        |avg_channel: usize, avg_time_s: f64, avg_baselines: bool, keep_flagged: bool| View {
            fields: None,
            avg_channel,
            max_chans: 0,
            avg_time_s,
            combine_scans: avg_baselines,
            avg_baselines,
            keep_flagged,
            autos: false,
            description: String::new(),
        };
    let views = [
        view(usize::MAX, 30.0, false, false),
        view(usize::MAX, 30.0, false, true),
        view(0, f64::INFINITY, true, false),
        view(0, f64::INFINITY, true, true),
    ];
    let sel = SelectionParams::default();
    let got = extract_many(&ngc5921(), "DATA", &sel, 2000, &views).expect("extract");
    for pair in got.chunks(2) {
        let fast = &pair[0].points;
        let general: Vec<_> = pair[1].points.iter().filter(|p| !p.flagged).collect();
        assert!(fast.len() > 50, "{}", fast.len());
        assert_eq!(fast.len(), general.len());
        for (a, b) in fast.iter().zip(general) {
            assert_eq!(
                (a.field, a.spw, a.scan, a.ant1, a.ant2, a.corr),
                (b.field, b.spw, b.scan, b.ant1, b.ant2, b.corr)
            );
            assert_eq!(a.chan, b.chan);
            let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(1.0);
            assert!(
                close(a.amp, b.amp) && close(a.time_s, b.time_s),
                "{a:?} vs {b:?}"
            );
            assert!(close(a.uvdist_m, b.uvdist_m) && close(a.freq_hz, b.freq_hz));
            assert!((a.phase_deg - b.phase_deg).abs() < 1e-7, "{a:?} vs {b:?}");
        }
    }
}
