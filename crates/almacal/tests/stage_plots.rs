//! `plots = [...]` on recipe stages, through the binary on the tiny simulated tutorial
//! (recipes/alma-manual-calibration.toml):
//! - the data behind the calibrated amp-vs-uvdist plot of the final applycal+split lies
//!   flat at the injected flux of both calibrators, while the same plot of the raw and of
//!   the Tsys-only data does not (so the check can fail);
//! - plots are a cached product of their own: `--no-plots` makes none, adding or changing
//!   a stage's plots makes only the plots (the stage stays cached), a damaged plot set is
//!   remade, and an up-to-date set is reused.

use std::collections::BTreeMap;
use std::path::Path;

use almacal_plot::stageplots::{vis_views, StagePlot};
use almacal_plot::vis::VisPoint;

mod cli_common;
use cli_common::{almacal, json, tiny_setup};

const RECIPE: &str = "alma-manual-calibration.toml";
const WORK: &str = "work/alma-manual-calibration";
/// setjy of the recipe: J1924-2914's flux density, reference frequency and spectral index.
const J1924_JY: f64 = 2.2942105694549557;
const J1924_REF_HZ: f64 = 340.9333355239418e9;
const J1924_SPIX: f64 = -0.5846359878009907;
/// The recipe's stages without `plots`.
const NO_PLOTS: &[&str] = &[
    "prep",
    "initial_flags",
    "save_original_flags",
    "shadow_and_edges",
    "other_flags",
    "setjy",
];

/// A temp folder with the tiny recipe and its simulated MS (nominal noise, no fault).
fn setup() -> tempfile::TempDir {
    tiny_setup(false)
}

/// stage → (status, plots status, plot files) from run.json.
fn plot_status(dir: &Path) -> BTreeMap<String, (String, String, Vec<String>)> {
    let run = json(&dir.join(WORK).join("run.json"));
    run["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| {
            let files = s["plots"]["files"]
                .as_array()
                .map(|f| {
                    f.iter()
                        .map(|x| x.as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .unwrap_or_default();
            (
                s["name"].as_str().unwrap_or_default().to_string(),
                (
                    s["status"].as_str().unwrap_or_default().to_string(),
                    s["plots"]["status"].as_str().unwrap_or("").to_string(),
                    files,
                ),
            )
        })
        .collect()
}

/// Width and height of a PNG from its IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).expect("png");
    assert_eq!(
        &b[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    let be = |o: usize| u32::from_be_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    (be(16), be(20))
}

/// Per (field name, spw): (median amplitude / expected flux, fitted change of amplitude
/// across the uv range / expected flux, its standard error, number of points).
fn flatness(
    pts: &[VisPoint],
    field_names: &[String],
    expected: &dyn Fn(&str, u32, f64) -> Option<f64>,
) -> BTreeMap<(String, u32), (f64, f64, f64, usize)> {
    let mut groups: BTreeMap<(String, u32), Vec<(f64, f64)>> = BTreeMap::new();
    for p in pts.iter().filter(|p| !p.flagged) {
        let name = field_names[p.field as usize].clone();
        let Some(want) = expected(&name, p.spw, p.freq_hz) else {
            continue;
        };
        groups
            .entry((name, p.spw))
            .or_default()
            .push((p.uvdist_m, p.amp / want));
    }
    groups
        .into_iter()
        .map(|(k, xy)| {
            let n = xy.len() as f64;
            let mut ys: Vec<f64> = xy.iter().map(|p| p.1).collect();
            ys.sort_by(f64::total_cmp);
            let median = ys[ys.len() / 2];
            let (mx, my) = (
                xy.iter().map(|p| p.0).sum::<f64>() / n,
                xy.iter().map(|p| p.1).sum::<f64>() / n,
            );
            let sxx: f64 = xy.iter().map(|p| (p.0 - mx).powi(2)).sum();
            let sxy: f64 = xy.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
            let slope = sxy / sxx;
            let resid: f64 = xy
                .iter()
                .map(|p| (p.1 - my - slope * (p.0 - mx)).powi(2))
                .sum::<f64>()
                / (n - 2.0);
            let se = (resid / sxx).sqrt();
            let span = xy.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max)
                - xy.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
            (k, (median, slope * span, se * span, xy.len()))
        })
        .collect()
}

#[test]
fn calibrated_amp_vs_uvdist_of_the_calibrators_is_flat_at_the_injected_flux() {
    let tmp = setup();
    let dir = tmp.path();
    let (code, out) = almacal(&["run", RECIPE, "--no-progress"], dir);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("plots apply: 5 made"), "{out}");

    // The plot itself: listed in run.json, a PNG of the figure's size.
    let status = plot_status(dir);
    let (_, st, files) = &status["apply"];
    assert_eq!(st, "made");
    let uvdist = files
        .iter()
        .find(|f| f.ends_with("amp_uvdist.png"))
        .expect("amp_uvdist in run.json");
    assert_eq!(uvdist, "plots/apply/amp_uvdist.png");
    assert_eq!(png_size(&dir.join(WORK).join(uvdist)), (1000, 750));

    renorm_ratio_plots(dir, &status["renorm"]);

    // The data behind it.
    let truth = json(&dir.join("data/sim_tiny.ms.truth.json"));
    let expected = |field: &str, spw: u32, freq_hz: f64| -> Option<f64> {
        match field {
            "J1924-2914" => Some(J1924_JY * (freq_hz / J1924_REF_HZ).powf(J1924_SPIX)),
            "J1700-2610" => truth["per_spw_flux_jy"][spw.to_string()]["J1700-2610"].as_f64(),
            _ => None,
        }
    };
    let behind = |ms: &Path| {
        let data = vis_views(ms, &[StagePlot::VisAmpUvdist]).expect("vis views");
        let (kind, v) = &data.plots[0];
        assert_eq!(*kind, StagePlot::VisAmpUvdist);
        let science: Vec<VisPoint> = v
            .points
            .iter()
            .filter(|p| [16, 18, 20, 22].contains(&p.spw))
            .cloned()
            .collect();
        flatness(&science, &v.field_names, &expected)
    };
    let cal = behind(&dir.join(WORK).join("sim_tiny.ms.split.cal"));
    assert_eq!(cal.len(), 8, "2 calibrators x 4 spws: {cal:?}");
    for ((field, spw), (median, change, se, n)) in &cal {
        eprintln!(
            "calibrated {field} spw {spw}: median/expected {median:.4}, change over uv range {change:+.4} ± {se:.4} ({n} points)"
        );
        assert!(*n >= 100, "{field} spw {spw}: only {n} points");
        // Tolerances: the median within 2 % of the injected flux; the fitted linear change
        // of amplitude across the uv range within 3 % of the flux and 4 standard errors
        // of zero (a resolved source or a residual baseline-dependent error would slope).
        assert!(
            (median - 1.0).abs() < 0.02,
            "{field} spw {spw}: median amplitude {median:.4} x expected"
        );
        assert!(
            change.abs() < 0.03 && change.abs() < 4.0 * se,
            "{field} spw {spw}: amplitude changes by {change:+.4} ± {se:.4} across the uv range"
        );
    }

    // The same plot before calibration is not at the injected flux: raw data (correlation
    // coefficients) and Tsys-calibrated data (no bandpass, gains or flux scale).
    for (label, ms) in [
        ("raw", dir.join("data/sim_tiny.ms")),
        ("Tsys only", dir.join(WORK).join("sim_tiny.ms.split")),
    ] {
        let g = behind(&ms);
        assert_eq!(g.len(), 8, "{label}: {g:?}");
        for ((field, spw), (median, change, se, _)) in &g {
            eprintln!(
                "{label} {field} spw {spw}: median/expected {median:.4}, change {change:+.4} ± {se:.4}"
            );
            assert!(
                (median - 1.0).abs() > 0.1,
                "{label} {field} spw {spw}: already at the injected flux ({median:.4})"
            );
        }
    }
}

/// Per spw of a renorm report's diagnostics: the mean over antennas and correlations of
/// the peak ratio / fitted baseline (the scaling the plot shows against the threshold).
fn diag_peaks(report: &serde_json::Value) -> BTreeMap<String, f64> {
    let cube = |v: &serde_json::Value| -> Vec<Vec<f64>> {
        v.as_array()
            .expect("antennas")
            .iter()
            .flat_map(|a| a.as_array().expect("corrs").iter())
            .map(|c| {
                c.as_array()
                    .expect("chans")
                    .iter()
                    .map(|x| x.as_f64().unwrap_or(f64::NAN))
                    .collect()
            })
            .collect()
    };
    report["diagnostics"]
        .as_object()
        .expect("diagnostics in the renorm report")
        .iter()
        .map(|(spw, d)| {
            let peaks: Vec<f64> = cube(&d["ratio"])
                .iter()
                .zip(cube(&d["baseline"]))
                .map(|(r, b)| {
                    r.iter()
                        .zip(&b)
                        .map(|(r, b)| r / b)
                        .filter(|x| x.is_finite())
                        .fold(f64::NAN, f64::max)
                })
                .filter(|x| x.is_finite())
                .collect();
            assert!(!peaks.is_empty(), "spw {spw}: no live spectrum");
            (spw.clone(), peaks.iter().sum::<f64>() / peaks.len() as f64)
        })
        .collect()
}

/// The renorm stage's ratio-spectrum pages (one set per target spw, as `almacal plot
/// renorm` draws them from the report) and the data behind them: the simulated CO line
/// lifts spw 16's ratio above threshold × baseline by about the injected renormalization
/// (tiny preset: max_rn 1.247), the line-free spws stay within the threshold.
fn renorm_ratio_plots(dir: &Path, status: &(String, String, Vec<String>)) {
    let work = dir.join(WORK);
    let (_, st, files) = status;
    assert_eq!(st, "made");
    let ratio: Vec<&String> = files.iter().filter(|f| f.contains("_ratio_")).collect();
    for spw in [16, 18, 20, 22] {
        let f = format!("plots/renorm/renorm_ratio_spw{spw}_page1.png");
        assert!(ratio.contains(&&f), "{f} not in {files:?}");
    }
    for f in &ratio {
        // The same grid of antennas as the caltable's scaling page of that spw and page.
        let (w, h) = png_size(&work.join(f));
        assert_eq!(
            (w, h),
            png_size(&work.join(f.replace("_ratio_", "_"))),
            "{f}"
        );
        if f.ends_with("_page1.png") {
            assert_eq!((w, h), (1380, 1070), "{f}: a 3x3 page");
        }
        let len = std::fs::metadata(work.join(f)).expect("png").len();
        assert!(len > 10_000, "{f}: {len} bytes, an empty figure?");
    }
    let report = json(&work.join("renorm.json"));
    let th = report["threshold"].as_f64().expect("threshold");
    let peaks = diag_peaks(&report);
    eprintln!("renorm diagnostics: mean peak ratio/baseline per spw {peaks:?}");
    assert_eq!(peaks.len(), 4, "{peaks:?}");
    assert!(
        peaks["16"] > th && (peaks["16"] - 1.247).abs() < 0.03,
        "spw 16: {}",
        peaks["16"]
    );
    for spw in ["18", "20", "22"] {
        assert!(peaks[spw] < th, "spw {spw}: {}", peaks[spw]);
    }

    // The same pages from the command line, from the workdir.
    let out = dir.join("renorm_cli");
    let (code, text) = almacal(
        &[
            "plot",
            "renorm",
            work.to_str().expect("utf-8 path"),
            "--out",
            out.to_str().expect("utf-8 path"),
        ],
        dir,
    );
    assert_eq!(code, 0, "{text}");
    let mut made: Vec<String> = std::fs::read_dir(&out)
        .expect("cli out")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    made.sort();
    let mut want: Vec<String> = ratio
        .iter()
        .map(|f| f.replace("plots/renorm/renorm_", "renorm_renorm_"))
        .collect();
    want.sort();
    assert_eq!(made, want);
}

#[test]
fn plots_are_a_cached_product_of_their_own() {
    let tmp = setup();
    let dir = tmp.path();
    let work = dir.join(WORK);

    // --no-plots: every stage runs, no plot is made.
    let (code, out) = almacal(&["run", RECIPE, "--no-progress", "--no-plots"], dir);
    assert_eq!(code, 0, "{out}");
    let st = plot_status(dir);
    assert!(st.values().all(|(s, _, _)| s == "ran"), "{st:?}");
    assert_eq!(st["tsys"].1, "disabled");
    assert!(st["setjy"].1.is_empty(), "no plots asked: {st:?}");
    assert!(!work.join("plots").exists());
    assert!(!work.join("report").exists(), "--no-plots writes no report");

    // Plots enabled: every stage stays cached, only the plots are made.
    let (code, out) = almacal(&["run", RECIPE, "--no-progress"], dir);
    assert_eq!(code, 0, "{out}");
    let st = plot_status(dir);
    for (name, (status, plots, files)) in &st {
        assert_eq!(status, "cached", "{name}: {out}");
        if NO_PLOTS.contains(&name.as_str()) {
            assert!(plots.is_empty(), "{name}");
            continue;
        }
        assert_eq!(plots, "made", "{name}");
        assert!(!files.is_empty(), "{name}");
        for f in files {
            let (w, h) = png_size(&work.join(f));
            assert!(w >= 800 && h >= 300, "{f}: {w}x{h}");
        }
    }
    assert_eq!(st["tsys"].2.len(), 4, "one Tsys page per spw");
    // Every run that makes something writes the HTML report.
    assert!(out.contains("report: "), "{out}");
    assert!(work.join("report/index.html").is_file());
    let manifest = json(&work.join("plots/apply/plots.json"));
    assert_eq!(manifest["plots"][0], "amp_uvdist");

    // Changing a stage's plots remakes only that stage's plots; the stage stays cached.
    let recipe = dir.join(RECIPE);
    let text = std::fs::read_to_string(&recipe).expect("recipe");
    let changed = text.replacen(
        "task = \"fluxscale\"\nplots = [\"amp_time\"]",
        "task = \"fluxscale\"\nplots = [\"gain\"]",
        1,
    );
    assert_ne!(changed, text, "the recipe's flux_inf plots moved");
    std::fs::write(&recipe, changed).expect("write recipe");
    // A damaged set (a PNG gone, e.g. removed by hand) is remade too.
    std::fs::remove_file(work.join("plots/bandpass/bandpass_spw16_page1.png")).expect("rm");
    let (code, out) = almacal(&["run", RECIPE, "--no-progress"], dir);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 ran, 16 cached"), "{out}");
    let st = plot_status(dir);
    for (name, (_, plots, files)) in &st {
        match name.as_str() {
            "flux_inf" => {
                assert_eq!(plots, "made");
                assert_eq!(files.len(), 4, "phase and amp pages: {files:?}");
            }
            "bandpass" => assert_eq!(plots, "made"),
            _ if !plots.is_empty() => assert_eq!(plots, "cached", "{name}"),
            _ => {}
        }
    }
    assert!(work
        .join("plots/bandpass/bandpass_spw16_page1.png")
        .is_file());

    // The report shows the stage plots as thumbnails.
    let (code, out) = almacal(&["report", RECIPE], dir);
    assert_eq!(code, 0, "{out}");
    let html = std::fs::read_to_string(work.join("report/index.html")).expect("report");
    assert!(
        html.contains("../plots/apply/amp_uvdist.png"),
        "report without the stage plots"
    );
    // A no-op run keeps the report.
    let (code, out) = almacal(&["run", RECIPE, "--no-progress"], dir);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("(unchanged)"), "{out}");
}
